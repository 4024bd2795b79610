#!/usr/bin/env bash
# The first thing to run: installs the peers, builds SocksDeck, starts Dante, microsocks and a UDP
# echo target on loopback, and shows the library at work from Swift and from C: a UDP
# association, its rendezvous address, a datagram echoed through the relay, and the decoded
# error of a server without UDP. Everything it starts is stopped when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build
BIN=$(swift build --show-bin-path)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
DANTE_PORT=$(free_port); MICRO_PORT=$(free_port); ECHO_PORT=$(free_port)
RUN_DIR=$(mktemp -d /tmp/socksdeck-demo-XXXXXX); export RUN_DIR
trap 'sh peers/stop.sh "$RUN_DIR"' EXIT
sh peers/start-dante.sh noauth "$DANTE_PORT" >/dev/null
nohup microsocks -i 127.0.0.1 -p "$MICRO_PORT" -b 127.0.0.1 >"$RUN_DIR/microsocks.log" 2>&1 & echo $! >"$RUN_DIR/microsocks.pid"
nohup python3 peers/udp_echo.py --port "$ECHO_PORT" --hosts 127.0.0.1 --lifetime 120 >"$RUN_DIR/echo.log" 2>&1 & echo $! >"$RUN_DIR/echo.pid"
sleep 0.5

echo "== socksdeck associate: a UDP association through Dante on 127.0.0.1:$DANTE_PORT"
"$BIN/socksdeck" associate "127.0.0.1:$DANTE_PORT" --hold 1
echo "== socksdeck send: three datagrams to the echo target on 127.0.0.1:$ECHO_PORT, through Dante"
"$BIN/socksdeck" send "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT" --text "hello, relay" --count 3
echo "== socksdeck associate through microsocks on 127.0.0.1:$MICRO_PORT, which has no UDP relay:"
"$BIN/socksdeck" associate "127.0.0.1:$MICRO_PORT" || echo "(exit $?: the decoded error above)"
echo "== Swift API: Dante on 127.0.0.1:$DANTE_PORT, echo target on 127.0.0.1:$ECHO_PORT"
"$BIN/socks5-example" "127.0.0.1:$DANTE_PORT" "127.0.0.1:$ECHO_PORT"
echo "== C API (Examples/c/associate.c against libsocks5.so)"
gcc -Wall -Wextra -Werror -I Sources/CSocks5/include Examples/c/associate.c -o "$RUN_DIR/associate" \
    -L "$BIN" -lsocks5 -Wl,-rpath,"$BIN"
"$RUN_DIR/associate" 127.0.0.1 "$DANTE_PORT" 127.0.0.1 "$ECHO_PORT"
