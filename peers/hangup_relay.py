#!/usr/bin/env python3
"""A SOCKS5 server that grants UDP ASSOCIATE and then closes the control connection at once, as
a server that crashes right after its reply does; its UDP relay keeps working. For the tests of
what SocksDeck says about such a server (issue 29). No authentication; CONNECT and BIND get
REP 7. Usage: hangup_relay.py PORT (127.0.0.1 only). Stops on SIGTERM."""
import socket
import sys
import threading


def relay(udp: socket.socket) -> None:
    client = None
    while True:
        data, sender = udp.recvfrom(65535)
        if sender[0] == "127.0.0.1" and data[:3] == b"\x00\x00\x00" and data[3] == 1 and client in (None, sender):
            client = sender
            target = (socket.inet_ntoa(data[4:8]), int.from_bytes(data[8:10], "big"))
            udp.sendto(data[10:], target)
        elif client is not None and sender != client:
            header = b"\x00\x00\x00\x01" + socket.inet_aton(sender[0]) + sender[1].to_bytes(2, "big")
            udp.sendto(header + data, client)


def serve(conn: socket.socket) -> None:
    with conn:
        greeting = conn.recv(257)
        if not greeting.startswith(b"\x05"):
            return
        conn.sendall(b"\x05\x00")
        request = conn.recv(262)
        if len(request) < 2 or request[1] != 3:
            conn.sendall(b"\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        threading.Thread(target=relay, args=(udp,), daemon=True).start()
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + udp.getsockname()[1].to_bytes(2, "big"))
    # The with-block closed the control connection: the hang-up right after the grant.


def main() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
