#!/bin/sh
# Starts Dante (danted, no systemd) on loopback from peers/dante/sockd-NAME.conf with its port
# replaced. Usage: peers/start-dante.sh noauth|userpass PORT
# Pid and log go to $RUN_DIR (default: a new temporary folder, printed); stop with
# peers/stop.sh $RUN_DIR.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${1:?noauth or userpass}; PORT=${2:?port}
RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/socksdeck-peers-XXXXXX)}; mkdir -p "$RUN_DIR"
command -v danted >/dev/null || { echo "danted missing: apt-get install -y dante-server" >&2; exit 1; }
sed "s/port = [0-9]*/port = $PORT/" "$HERE/dante/sockd-$NAME.conf" > "$RUN_DIR/dante-$NAME.conf"
danted -V -f "$RUN_DIR/dante-$NAME.conf"
# Foreground mode (no -D) in the background: stderr logging works and $! is the mother pid,
# which ends its children on SIGTERM.
nohup danted -f "$RUN_DIR/dante-$NAME.conf" -p "$RUN_DIR/dante-$NAME.danted.pid" -N 1 >"$RUN_DIR/dante-$NAME.log" 2>&1 &
echo $! > "$RUN_DIR/dante-$NAME.pid"
i=0
until python3 -c "import socket;socket.create_connection(('127.0.0.1',$PORT),0.2).close()" 2>/dev/null; do
  i=$((i+1)); [ $i -lt 50 ] || { echo "dante-$NAME did not listen on $PORT" >&2; cat "$RUN_DIR/dante-$NAME.log" >&2; exit 1; }
  sleep 0.1
done
echo "$RUN_DIR"
