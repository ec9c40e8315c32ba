#!/usr/bin/env python3
"""UDP traffic for the metrics demo (scripts/render-dashboard.sh): WireGuard-shaped or not.

  traffic.py KIND --bind IP:PORT --to IP:PORT --pps N --seconds S [--size B]

KIND  transport  type-4-shaped datagrams (what a linked peer's data looks like);
                 whatever comes back on the socket is read and dropped
      init       148-byte type-1 handshakes with random bytes (MAC1 matches no key)
      junk       datagrams that are not WireGuard-shaped
Sends in 10 ms ticks; stops by itself after --seconds.
"""
import argparse
import os
import socket
import struct
import time


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["transport", "init", "junk"])
    p.add_argument("--bind", type=endpoint, required=True)
    p.add_argument("--to", type=endpoint, required=True)
    p.add_argument("--pps", type=float, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--size", type=int, default=1200)
    a = p.parse_args()

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(a.bind)
    s.setblocking(False)
    payload = os.urandom(max(a.size, 32))
    counter = 0
    start = time.monotonic()
    sent = 0.0
    while True:
        now = time.monotonic()
        if now - start >= a.seconds:
            break
        due = a.pps * (now - start) - sent
        for _ in range(int(due)):
            if a.kind == "transport":
                # type 4, receiver index, 64-bit counter, then "ciphertext"
                msg = struct.pack("<IIQ", 4, 0x1234, counter) + payload[16:a.size]
            elif a.kind == "init":
                msg = b"\x01\x00\x00\x00" + os.urandom(144)
            else:
                msg = b"GET / HTTP/1.0\r\n\r\n" + payload[:64]
            counter += 1
            try:
                s.sendto(msg, a.to)
            except (BlockingIOError, ConnectionRefusedError):
                pass
            sent += 1
        while True:
            try:
                s.recv(65536)
            except (BlockingIOError, ConnectionRefusedError):
                break
        time.sleep(0.01)


if __name__ == "__main__":
    main()
