#!/bin/sh
# Stops every peer whose pid file is in the given run folder (only those: never by name).
RUN_DIR=${1:?run folder}
for pidf in "$RUN_DIR"/*.pid; do
  [ -f "$pidf" ] || continue
  case $pidf in *.danted.pid) continue ;; esac
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null || true
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidf"
done
