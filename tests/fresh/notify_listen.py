#!/usr/bin/python3
"""Stand in for systemd's notify socket: bind a datagram socket at PATH and
print every message it receives (one line each) until SIGTERM."""
import os
import signal
import socket
import sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)       # the service runs as another user
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("listening", flush=True)
while True:
    msg = s.recv(4096)
    for line in msg.decode(errors="replace").splitlines():
        print(line, flush=True)
