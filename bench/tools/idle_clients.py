#!/usr/bin/env python3
"""Opens N keep-alive HTTP connections, sends one request on each, reads each response,
then keeps every connection open and idle. Prints "ready <opened>" once all responses
are in, then waits for a line on stdin (or EOF) and closes everything.

    idle_clients.py HOST PORT N PATH [BATCH]
"""
import resource
import selectors
import socket
import sys

host, port, total, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 250
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
sel = selectors.EpollSelector()
kept = []
failed = 0


def complete(data):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= end + 4 + length


while len(kept) + failed < total:
    pending = {}
    for _ in range(min(batch, total - len(kept) - failed)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        pending[s.fileno()] = [s, b"", False]
        sel.register(s, selectors.EVENT_WRITE)
    while pending:
        events = sel.select(timeout=10)
        if not events:
            break
        for key, mask in events:
            entry = pending.get(key.fd)
            if entry is None:
                continue
            s = entry[0]
            try:
                if not entry[2]:
                    s.send(request)
                    entry[2] = True
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s)
                s.close()
                failed += 1
                del pending[key.fd]
                continue
            entry[1] += chunk
            if complete(entry[1]):
                sel.unregister(s)
                kept.append(s)
                del pending[key.fd]
    for fd, entry in list(pending.items()):   # timed out
        sel.unregister(entry[0])
        entry[0].close()
        failed += 1

print(f"ready {len(kept)} {failed}", flush=True)
sys.stdin.readline()
for s in kept:
    s.close()
