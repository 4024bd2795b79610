#!/usr/bin/env bash
# The benchmarks: starts Dante (-N 1, peers/dante/sockd-noauth.conf), `socksdeck serve` (relay)
# and SocksDeck's NIO echo target on free loopback ports, runs socksdeck-bench (release build)
# against Dante and against the relay, writes the tables to Benchmarks/results.md, and stops
# what it started. Needs scripts/setup.sh first.
# Every mode ends with the targets of issue 17, one line each with its ratio and met/missed, from
# the figures last written (scripts/bench-targets.py); the default mode appends them to results.md.
# Usage: scripts/bench.sh [--runs N] [--associations N] [--datagrams N]   (setup and echo)
#        scripts/bench.sh --scale [--scale-associations N] [--scale-seconds S]
#                         (1,000 associations probed for 60 s; written to Benchmarks/scale.md)
#        scripts/bench.sh --tui   (the UI's CPU share, idle and with 1,000 associations, in tmux;
#                                  written to Benchmarks/tui.md)
#        scripts/bench.sh --forward [--runs N] [--datagrams N]   (socksdeck forward's CPU per datagram
#                                  beside a direct client's, and the latency it adds, through Dante
#                                  and through serve; written to Benchmarks/forward.md)
#        scripts/bench.sh --fleet [COUNT]   (10,000 proxies 50 ms away vetted by check, in a network
#                                  namespace of its own: scripts/bench-fleet.sh; Benchmarks/fleet.md)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --fleet ]; then
  swift build -c release --product socksdeck >/dev/null
  shift
  exec bash scripts/bench-fleet.sh "$@"
fi
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
# Dante's mother process: the bench adds its children as they are at each measurement.
dante_pids() { cat "$RUN_DIR/dante-noauth.pid"; }
header() {
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), loopback."
  echo "Dante $(danted -v 2>&1 | grep -o "v[0-9.]*" | head -1) with -N 1; echo target: socksdeck serve --echo (NIO, vector reads)."
}
# CPU time (ns) of every thread of a process, from the scheduler's exact accounting.
cpu_ns() { local t=0; for f in /proc/"$1"/task/*/schedstat; do t=$((t + $(cut -d' ' -f1 "$f"))); done; echo $t; }
# The share of one core a process used over SECONDS.
cpu_share() {
  local a b; a=$(cpu_ns "$1"); sleep "$2"; b=$(cpu_ns "$1")
  python3 -c "print(f'{($b - $a) / ($2 * 1e9) * 100:.2f} %')"
}
if [ "${1:-}" = --tui ]; then
  command -v tmux >/dev/null || { echo "tmux missing: apt-get install -y tmux" >&2; exit 1; }
  config="$RUN_DIR/tui.toml"
  printf '[[server]]\nname = "dante"\naddress = "127.0.0.1:%s"\necho = "127.0.0.1:%s"\n' "$DANTE_PORT" "$ECHO_PORT" > "$config"
  session="socksdeck-bench-$$"
  measure_ui() {  # ARGS... : starts the UI in a 160x48 tmux window, lets it settle, measures 20 s
    tmux new-session -d -s "$session" -x 160 -y 48 "$bin/socksdeck ui $*"
    sleep 8
    local pid; pid=$(pgrep -f "^$bin/socksdeck ui $*" | head -1)
    local share; share=$(cpu_share "$pid" 20)
    local shown; shown=$(tmux capture-pane -p -t "$session" | grep -c "associated" || true)
    tmux send-keys -t "$session" q; sleep 1; tmux kill-session -t "$session" 2>/dev/null || true
    echo "$share|$shown"
  }
  idle=$(measure_ui --demo)
  loaded=$(measure_ui --config "$config" --open 1000 --probe-opened)
  # The engine alone, doing the same (settled as long, measured as long): the UI's own share is
  # the difference.
  engine_alone=$("$bin/socksdeck-bench" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" --only probe-cpu \
    --scale-associations 1000 --scale-seconds 20)
  engine_share=$(echo "$engine_alone" | sed -n 's/^| engine CPU | \([0-9.]*\) % of a core |$/\1/p')
  loaded_share=${loaded%%|*}; loaded_share=${loaded_share% %}
  ui_share="not measured"
  if [ -n "$engine_share" ]; then ui_share=$(python3 -c "print(f'{$loaded_share - $engine_share:.2f} %')"); fi
  {
    echo "## The terminal UI's CPU share"
    echo
    header
    echo
    echo "| socksdeck ui, 160×48, about 10 frames/s, measured over 20 s | share of one core |"
    echo "|---|---:|"
    echo "| idle (--demo, no association) | ${idle%%|*} |"
    echo "| 1,000 associations through Dante, each probed every second | ${loaded%%|*} (engine included; rows on screen saying associated: ${loaded##*|}) |"
    echo "| the engine alone, the same 1,000 associations probed every second (socksdeck-bench, no UI) | ${engine_share:-not measured} % |"
    echo "| the UI's own share with 1,000 associations (the difference) | $ui_share |"
    echo
    echo "$engine_alone"
  } | tee Benchmarks/tui.md
  echo; python3 scripts/bench-targets.py
  exit 0
fi
if [ "${1:-}" = --forward ]; then
  shift
  forward_through() {  # NAME PORT ARGS... : a forward to the echo target through the server at PORT
    local name=$1 port=$2 local_port; shift 2
    local_port=$(python3 -c 'import socket;s=socket.socket(type=socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    nohup "$bin/socksdeck" forward "127.0.0.1:$port" "127.0.0.1:$local_port=127.0.0.1:$ECHO_PORT" \
      >"$RUN_DIR/forward-$name.log" 2>&1 &
    local pid=$!; echo $pid > "$RUN_DIR/forward-$name.pid"
    sleep 1
    "$bin/socksdeck-bench" "127.0.0.1:$port" "127.0.0.1:$ECHO_PORT" --only forward \
      --forward "127.0.0.1:$local_port" --forward-pid "$pid" "$@"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  }
  {
    echo "## socksdeck forward"
    echo
    header
    echo "A plain UDP client (the application: its own CPU is not counted) sends to the forward, 32 in flight;"
    echo "the forward's whole process is measured. Beside it, SocksDeck's library sending the same traffic"
    echo "through the same relay itself. Latency: one datagram at a time, the first (which opens the flow) left out."
    echo
    echo "### Through Dante"
    echo
    forward_through dante "$DANTE_PORT" "$@"
    echo "### Through socksdeck serve"
    echo
    forward_through serve "$RELAY_PORT" "$@"
  } | tee Benchmarks/forward.md
  exit 0
fi
if [ "${1:-}" = --scale ]; then
  shift
  {
    echo "## Scale, through Dante"
    echo
    header
    echo
    "$bin/socksdeck-bench" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" --only scale "$@"
  } | tee Benchmarks/scale.md
  echo; python3 scripts/bench-targets.py
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
{ echo; python3 scripts/bench-targets.py; } | tee -a Benchmarks/results.md
