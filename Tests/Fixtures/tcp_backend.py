#!/usr/bin/env python3
"""A test TCP server: greets with its name, echoes what it reads, and on end of input
answers BYE then closes. Usage: tcp_backend.py NAME PORT"""
import signal, socket, sys, threading

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
# Die with the test process that started us, even if it is killed.
import ctypes
ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

name, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
print("ready", flush=True)

def serve(conn):
    with conn:
        conn.sendall((name + "\n").encode())
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.sendall(b"BYE\n")

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
