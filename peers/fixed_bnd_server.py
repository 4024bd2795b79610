#!/usr/bin/env python3
"""A SOCKS5 server whose every UDP ASSOCIATE reply names the same rendezvous, 127.0.0.1:BND_PORT,
whatever it relays from (as a server with a hard-coded default does): the control connection is
kept open and nothing relays. For the tests of what SocksDeck says when nothing listens at the
rendezvous (issue 29). No authentication; CONNECT and BIND get REP 7.
Usage: fixed_bnd_server.py PORT BND_PORT (127.0.0.1 only). Stops on SIGTERM."""
import socket
import sys
import threading


def serve(conn: socket.socket, bnd_port: int) -> None:
    with conn:
        greeting = conn.recv(257)
        if not greeting.startswith(b"\x05"):
            return
        conn.sendall(b"\x05\x00")
        request = conn.recv(262)
        if len(request) < 2 or request[1] != 3:
            conn.sendall(b"\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + bnd_port.to_bytes(2, "big"))
        # Held until the client closes: the association lives, its rendezvous is wrong.
        while conn.recv(4096):
            pass


def main() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, int(sys.argv[2])), daemon=True).start()


if __name__ == "__main__":
    main()
