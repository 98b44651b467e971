#!/usr/bin/env python3
"""A test TCP server that accepts one connection and does not read from it for a while,
then drains it and reports how many bytes it got. Usage: slow_backend.py PORT PAUSE_S"""
import ctypes, signal, socket, sys, time

signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # die with the test process
port, pause = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
srv.bind(("127.0.0.1", port))
srv.listen(8)
print("ready", flush=True)
conn, _ = srv.accept()
time.sleep(pause)
total = 0
while True:
    data = conn.recv(1 << 20)
    if not data:
        break
    total += len(data)
conn.sendall(str(total).encode())
conn.close()
