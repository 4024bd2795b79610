#!/usr/bin/env bash
# The benchmarks: starts Dante (-N 1, peers/dante/sockd-noauth.conf) and SocksDeck's NIO echo
# target on free loopback ports, runs socksdeck-bench (release build) against them, writes the
# table to Benchmarks/results.md, and stops what it started. Needs scripts/setup.sh first.
# Usage: scripts/bench.sh [--runs N] [--associations N] [--datagrams N]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product socksdeck-bench >/dev/null
swift build -c release --product socksdeck >/dev/null
bin=$(swift build -c release --show-bin-path)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
DANTE_PORT=$(free_port); ECHO_PORT=$(free_port); RELAY_PORT=$(free_port)
RUN_DIR=$(mktemp -d /tmp/socksdeck-bench-XXXXXX); export RUN_DIR
trap 'sh peers/stop.sh "$RUN_DIR"' EXIT
sh peers/start-dante.sh noauth "$DANTE_PORT" >/dev/null
# The echo target must not be the bottleneck: SocksDeck's NIO one, beside a relay.
nohup "$bin/socksdeck" serve --listen "127.0.0.1:$RELAY_PORT" --echo "127.0.0.1:$ECHO_PORT" >"$RUN_DIR/serve.log" 2>&1 &
echo $! > "$RUN_DIR/serve.pid"
sleep 1
{
  echo "# SocksDeck benchmarks"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, loopback. Dante $(danted -v 2>&1 | grep -o "v[0-9.]*" | head -1) with -N 1; echo target: socksdeck serve --echo."
  echo
  echo "## Through Dante"
  echo
  "$bin/socksdeck-bench" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" "$@"
  echo
  echo "## Through socksdeck serve"
  echo
  "$bin/socksdeck-bench" "127.0.0.1:$RELAY_PORT" "127.0.0.1:$ECHO_PORT" "$@"
} | tee Benchmarks/results.md
