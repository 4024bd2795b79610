#!/usr/bin/env bash
# The benchmarks: starts Dante (-N 1, peers/dante/sockd-noauth.conf), `socksdeck serve` (relay)
# and SocksDeck's NIO echo target on free loopback ports, runs socksdeck-bench (release build)
# against Dante and against the relay, writes the tables to Benchmarks/results.md, and stops
# what it started. Needs scripts/setup.sh first.
# Usage: scripts/bench.sh [--runs N] [--associations N] [--datagrams N]   (setup and echo)
#        scripts/bench.sh --scale [--scale-associations N] [--scale-seconds S]
#                         (1,000 associations probed for 60 s; appended to Benchmarks/scale.md)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product socksdeck-bench >/dev/null
swift build -c release --product socksdeck >/dev/null
bin=$(swift build -c release --show-bin-path)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
DANTE_PORT=$(free_port); ECHO_PORT=$(free_port); RELAY_PORT=$(free_port)
RUN_DIR=$(mktemp -d /tmp/socksdeck-bench-XXXXXX); export RUN_DIR
trap 'sh peers/stop.sh "$RUN_DIR"' EXIT
# Dante keeps up to one io-child per 32 sessions here; 1,000 associations need the descriptors.
ulimit -n "$(ulimit -Hn)"
sh peers/start-dante.sh noauth "$DANTE_PORT" >/dev/null
# The echo target must not be the bottleneck: SocksDeck's NIO one (vector reads), beside a relay.
nohup "$bin/socksdeck" serve --listen "127.0.0.1:$RELAY_PORT" --echo "127.0.0.1:$ECHO_PORT" >"$RUN_DIR/serve.log" 2>&1 &
echo $! > "$RUN_DIR/serve.pid"
sleep 1
serve_pid=$(cat "$RUN_DIR/serve.pid")
# Dante's processes (the mother and its children), for the server's CPU per datagram.
dante_pids() { pgrep -g "$(ps -o pgid= "$(cat "$RUN_DIR/dante-noauth.pid")" | tr -d ' ')" -d, danted || true; }
header() {
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), loopback."
  echo "Dante $(danted -v 2>&1 | grep -o "v[0-9.]*" | head -1) with -N 1; echo target: socksdeck serve --echo (NIO, vector reads)."
}
if [ "${1:-}" = --scale ]; then
  shift
  {
    echo "## Scale, through Dante"
    echo
    header
    echo
    "$bin/socksdeck-bench" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" --only scale "$@"
  } | tee Benchmarks/scale.md
  exit 0
fi
{
  echo "# SocksDeck benchmarks"
  echo
  header
  echo "Written by scripts/bench.sh; what each figure means: Benchmarks/README.md."
  echo
  echo "## Through Dante"
  echo
  "$bin/socksdeck-bench" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" --server-pids "$(dante_pids)" "$@"
  echo
  echo "## Through socksdeck serve"
  echo
  "$bin/socksdeck-bench" "127.0.0.1:$RELAY_PORT" "127.0.0.1:$ECHO_PORT" --server-pids "$serve_pid" "$@"
} | tee Benchmarks/results.md
