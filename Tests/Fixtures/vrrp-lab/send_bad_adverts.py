#!/usr/bin/env python3
"""Sends malformed and hostile VRRP packets for VRID 47 (VIP 10.99.0.50) from the
namespace it runs in. Every one of them would make the receiver step down or misbehave
if it were accepted (priority 200); a correct receiver drops and counts them all.

usage: send_bad_adverts.py DESTINATION [COUNT]
"""
import socket
import struct
import sys

IPPROTO_VRRP = 112
dst = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
src = "10.99.0.100"


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def advert(version=2, vrid=47, prio=200, auth_type=0, interval=1, ptype=1, auth=b"\0" * 8, good_sum=True):
    body = struct.pack("!BBBBBBH", (version << 4) | ptype, vrid, prio, 1, auth_type, interval, 0)
    body += socket.inet_aton("10.99.0.50") + auth
    c = checksum(body)
    if not good_sum:
        c ^= 0x5A5A
    return body[:6] + struct.pack("!H", c) + body[8:]


def ip_header(payload, ttl):
    total = 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, total, 0, 0, ttl, IPPROTO_VRRP, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")

cases = [
    ("ttl", advert(), 1),
    ("checksum", advert(good_sum=False), 255),
    ("vrid", advert(vrid=48), 255),
    ("interval", advert(interval=3), 255),
    ("short", b"\x21\x2f\xc8", 255),
    ("oversized", advert() + b"\xaa" * 1200, 255),
    ("version", advert(version=1), 255),
    ("type", advert(ptype=2), 255),
    ("auth", advert(auth_type=1, auth=b"secret\0\0"), 255),
]
for _ in range(count):
    for name, payload, ttl in cases:
        s.sendto(ip_header(payload, ttl) + payload, (dst, 0))
print("sent", count * len(cases))
