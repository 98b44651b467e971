#!/usr/bin/env python3
"""A test agent for agent-check: answers every connection with the first line of a
file (so a test changes what it says by rewriting the file), then closes.
Usage: agent.py PORT FILE"""
import ctypes, signal, socket, sys

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the test

port, path = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)
while True:
    conn, _ = srv.accept()
    try:
        with open(path) as f:
            line = f.readline().strip()
        conn.sendall((line + "\n").encode())
    except OSError:
        pass
    conn.close()
