#!/usr/bin/env python3
"""Servers for the health-check cost benchmark: N listeners on 127.0.0.1, ports
BASE..BASE+N-1, in one process (one epoll loop). Each accepted connection that sends
something gets `HTTP/1.1 200 OK` (an HTTP check) and is closed; one that closes first
(a TCP connect check) is just closed.
Usage: check_servers.py BASE N"""
import selectors, socket, sys

base, count = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
for port in range(base, base + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "listen")
print("ready", flush=True)
answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
while True:
    for key, _ in sel.select():
        if key.data == "listen":
            try:
                conn, _ = key.fileobj.accept()
            except BlockingIOError:
                continue
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ, "conn")
        else:
            conn = key.fileobj
            try:
                data = conn.recv(4096)
            except (ConnectionError, BlockingIOError):
                data = b""
            if data and b"\r\n\r\n" in data:
                try:
                    conn.send(answer)
                except OSError:
                    pass
            if not data or b"\r\n\r\n" in data:
                sel.unregister(conn)
                conn.close()
