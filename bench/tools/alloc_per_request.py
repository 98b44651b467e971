#!/usr/bin/env python3
"""Allocations per proxied keep-alive request: runs fulcrum under the malloc-counting
shim (malloccount.so), in front of a small keep-alive backend in this process, sends
requests one after another on one client connection and reads the shim's counter
after a warm-up and after each of two windows of the same size. The count of a
window divided by its requests is the figure; start-up and warm-up cancel out, and
nothing depends on timing (requests are sequential, the counter is read while idle).

    alloc_per_request.py FULCRUM SHIM [--requests 2000] [--max N]

Exits 1 when allocations per request exceed --max (both windows must exceed it, so a
one-time allocation inside one window cannot fail the check).
"""
import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, world\n"
REQUEST = b"GET /13 HTTP/1.1\r\nHost: bench\r\nUser-Agent: alloc-check\r\n\r\n"


def backend(listener):
    def serve(conn):
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                _, _, data = data.partition(b"\r\n\r\n")   # GET requests: no body
                conn.sendall(RESPONSE)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def exchange(sock, n):
    for _ in range(n):
        sock.sendall(REQUEST)
        data = b""
        while True:
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                length = 0
                for line in data[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(data) >= end + 4 + length:
                    if not data.startswith(b"HTTP/1.1 200"):
                        raise RuntimeError(f"unexpected response: {data[:80]!r}")
                    break
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("fulcrum closed the client connection")
            data += chunk


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fulcrum")
    p.add_argument("shim")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--max", type=float, default=None)
    opts = p.parse_args()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    threading.Thread(target=backend, args=(listener,), daemon=True).start()
    port = free_port()

    tmp = tempfile.mkdtemp(prefix="fulcrum-alloc-")
    cfg = os.path.join(tmp, "alloc.cfg")
    counter = os.path.join(tmp, "count")
    with open(cfg, "w") as f:
        f.write(f"""global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    http-reuse safe
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{listener.getsockname()[1]}
""")
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(opts.shim), MALLOCCOUNT_FILE=counter)
    proc = subprocess.Popen([opts.fulcrum, "-db", "-f", cfg], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "fulcrum.log"), "wb"))
    try:
        deadline = time.time() + 30
        sock = None
        while sock is None:
            if proc.poll() is not None:
                raise RuntimeError(f"fulcrum exited with {proc.returncode}: {open(os.path.join(tmp, 'fulcrum.log')).read()}")
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("fulcrum does not listen")
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def count():
            time.sleep(0.2)   # let the event loop finish the last request
            with open(counter, "rb") as f:
                return struct.unpack("=Q", f.read(8))[0]

        exchange(sock, opts.warmup)
        a = count()
        exchange(sock, opts.requests)
        b = count()
        exchange(sock, opts.requests)
        c = count()
        sock.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    first, second = (b - a) / opts.requests, (c - b) / opts.requests
    print(f"allocations per keep-alive request: {second:.2f} "
          f"(windows of {opts.requests}: {first:.2f} and {second:.2f}; {os.path.basename(os.path.dirname(opts.fulcrum))} build)")
    if opts.max is not None:
        if min(first, second) > opts.max:
            print(f"FAIL: more than {opts.max:g} allocations per request (see bench/README.md)")
            return 1
        print(f"ok: at most {opts.max:g}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"alloc check: {e}", file=sys.stderr)
        sys.exit(1)
