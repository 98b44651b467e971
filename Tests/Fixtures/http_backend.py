#!/usr/bin/env python3
"""A test HTTP/1.1 server. Usage: http_backend.py NAME HOST PORT [PORT...]

Every response carries `X-Backend: NAME`. Paths:
  /echo            JSON: name, method, path, version and the request headers
  /upload          reads the body (Content-Length or chunked), answers its size and sha256
  /download?n=N[&chunked=1]  N bytes of 'x' (Content-Length, or chunked)
  /slow?ms=N       answers after N milliseconds
  /set-cookie?name=N&value=V  answers with Set-Cookie: N=V; Path=/
  /health          answers with the status set by /set-health?code=N (200 at start)
  /status?code=N   answers with that status (204 and 304 without body)
  /garbage         sends bytes that are not HTTP
  /close           closes the connection without answering
  /ws              switches protocols (101) and then echoes bytes
  /noclose-length  a body ended only by closing (no Content-Length)
  /count           how many requests this process has seen (this one excluded)
anything else: like /echo.
"""
import ctypes, hashlib, json, signal, socket, sys, threading, time
from urllib.parse import urlsplit, parse_qs

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the test

name, host, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
requests_seen = [0]
health = [200]


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def take(self, n, sink):
        while n > 0:
            if not self.buf:
                self.fill()
            part = self.buf[:n]
            self.buf = self.buf[len(part):]
            sink(part)
            n -= len(part)


def respond(sock, status, body=b"", headers=(), reason="OK", head_only=False):
    head = "HTTP/1.1 %d %s\r\nX-Backend: %s\r\n" % (status, reason, name)
    if status not in (204, 304):
        head += "Content-Length: %d\r\n" % len(body)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    sock.sendall(head.encode() + b"\r\n" + (body if status not in (204, 304) and not head_only else b""))


def serve(sock):
    c = Conn(sock)
    try:
        while True:
            request_line = c.line()
            while request_line == b"":
                request_line = c.line()
            method, target, version = request_line.decode("latin-1").split(" ")
            headers = []
            while True:
                line = c.line()
                if not line:
                    break
                k, v = line.decode("latin-1").split(":", 1)
                headers.append([k, v.strip()])
            lower = {k.lower(): v for k, v in headers}
            requests_seen[0] += 1
            url = urlsplit(target)
            query = parse_qs(url.query)
            # Body.
            digest = hashlib.sha256()
            size = [0]

            def sink(part):
                digest.update(part)
                size[0] += len(part)

            if lower.get("expect", "").lower() == "100-continue" and url.path != "/reject-expect":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in lower.get("transfer-encoding", "").lower():
                while True:
                    n = int(c.line().split(b";")[0], 16)
                    if n == 0:
                        while c.line():
                            pass
                        break
                    c.take(n, sink)
                    c.line()
            elif "content-length" in lower and url.path != "/reject-expect":
                c.take(int(lower["content-length"]), sink)
            keep = lower.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            path = url.path
            if path == "/upload":
                respond(sock, 200, json.dumps({"name": name, "size": size[0], "sha256": digest.hexdigest()}).encode() + b"\n")
            elif path == "/download":
                n = int(query.get("n", ["0"])[0])
                block = b"x" * 262144
                if query.get("chunked"):
                    sock.sendall(("HTTP/1.1 200 OK\r\nX-Backend: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % name).encode())
                    while n > 0:
                        part = block[:min(n, len(block))]
                        sock.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                        n -= len(part)
                    sock.sendall(b"0\r\n\r\n")
                else:
                    sock.sendall(("HTTP/1.1 200 OK\r\nX-Backend: %s\r\nContent-Length: %d\r\n\r\n" % (name, n)).encode())
                    if method == "HEAD":
                        n = 0
                    while n > 0:
                        part = block[:min(n, len(block))]
                        sock.sendall(part)
                        n -= len(part)
            elif path == "/count":
                requests_seen[0] -= 1
                respond(sock, 200, b"%d\n" % requests_seen[0])
            elif path == "/slow":
                time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
                respond(sock, 200, b"slow\n")
            elif path == "/set-cookie":
                cookie = "%s=%s; Path=/" % (query.get("name", ["c"])[0], query.get("value", ["v"])[0])
                respond(sock, 200, b"cookie set\n", headers=[("Set-Cookie", cookie)])
            elif path == "/health":
                respond(sock, health[0], b"health %d\n" % health[0], reason="OK" if health[0] == 200 else "Unhealthy")
            elif path == "/set-health":
                health[0] = int(query.get("code", ["200"])[0])
                respond(sock, 200, b"set\n")
            elif path == "/status":
                code = int(query.get("code", ["200"])[0])
                respond(sock, code, b"status %d\n" % code, reason="Whatever")
            elif path == "/garbage":
                sock.sendall(b"this is not HTTP at all\r\n\r\n")
                return
            elif path == "/close":
                return
            elif path == "/noclose-length":
                sock.sendall(("HTTP/1.1 200 OK\r\nX-Backend: %s\r\n\r\nuntil close\n" % name).encode())
                return
            elif path == "/ws":
                sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                if c.buf:
                    sock.sendall(c.buf)
                while True:
                    data = sock.recv(65536)
                    if not data:
                        return
                    sock.sendall(data)
            else:
                body = json.dumps({"name": name, "method": method, "path": target, "version": version, "headers": headers}).encode() + b"\n"
                respond(sock, 200, body, headers=[("Content-Type", "application/json")] + ([] if keep else [("Connection", "close")]))
            if not keep:
                return
    except (EOFError, ConnectionError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def accept_loop(srv):
    while True:
        s, _ = srv.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


listeners = []
for port in ports:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(512)
    listeners.append(srv)
print("ready", flush=True)
for srv in listeners[1:]:
    threading.Thread(target=accept_loop, args=(srv,), daemon=True).start()
accept_loop(listeners[0])
