#!/usr/bin/python3
"""Writes a seed corpus for fuzz_input: valid MLD messages of every kind,
with the two control bytes fuzz_input.c expects in front.

usage: gen_seeds.py OUTDIR
"""
import ipaddress
import os
import struct
import sys


def a(s):
    return ipaddress.IPv6Address(s).packed


def csum(src, dst, icmp):
    data = src + dst + struct.pack("!IxxxB", len(icmp), 58) + icmp
    if len(data) % 2:
        data += b"\0"
    acc = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return (~acc) & 0xFFFF


def pkt(src, dst, icmp, hbh=b"\x3a\x00\x05\x02\x00\x00\x01\x00"):
    s, d = a(src), a(dst)
    c = csum(s, d, icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    hdr = struct.pack("!IHBB", 0x60000000, len(hbh) + len(icmp), 0, 1) + s + d
    return hdr + hbh + icmp


def v2q(group, mrc, srcs=(), qrv=2, qqic=125):
    body = struct.pack("!BBHHH", 130, 0, 0, mrc, 0) + a(group)
    body += struct.pack("!BBH", qrv, qqic, len(srcs)) + b"".join(a(x) for x in srcs)
    return body


def v1(type_, group, mrd=0):
    return struct.pack("!BBHHH", type_, 0, 0, mrd, 0) + a(group)


def v2r(records):
    body = struct.pack("!BBHHH", 143, 0, 0, 0, len(records))
    for t, g, srcs in records:
        body += struct.pack("!BBH", t, 0, len(srcs)) + a(g) + b"".join(a(x) for x in srcs)
    return body


Q = "fe80::9"
MSGS = {
    "v2_general": pkt(Q, "ff02::1", v2q("::", 1000)),
    "v2_general_long_mrc": pkt(Q, "ff02::1", v2q("::", 0x8123, qrv=7, qqic=0x90)),
    "v2_group": pkt(Q, "ff3e::1", v2q("ff3e::1", 500)),
    "v2_group_in": pkt(Q, "ff3e::2", v2q("ff3e::2", 500)),
    "v2_gss_in": pkt(Q, "ff3e::2", v2q("ff3e::2", 500, ["2001:db8::1", "2001:db8::9"])),
    "v2_gss_ex": pkt(Q, "ff3e::3", v2q("ff3e::3", 500, ["2001:db8::3", "2001:db8::4"])),
    "v2_gss_many": pkt(Q, "ff3e::4", v2q("ff3e::4", 500,
                                         ["2001:db8::%x" % i for i in range(1, 40)])),
    "v2_group_link": pkt(Q, "ff02::1:ff00:1", v2q("ff02::1:ff00:1", 100)),
    "v1_general": pkt(Q, "ff02::1", v1(130, "::", 1000)),
    "v1_group": pkt(Q, "ff3e::1", v1(130, "ff3e::1", 1000)),
    "v1_report": pkt("fe80::77", "ff3e::1", v1(131, "ff3e::1")),
    "v1_report_unspec": pkt("::", "ff3e::2", v1(131, "ff3e::2")),
    "v1_done": pkt("fe80::77", "ff02::2", v1(132, "ff3e::1")),
    "v2_report": pkt("fe80::77", "ff02::16",
                     v2r([(4, "ff3e::1", []), (5, "ff3e::2", ["2001:db8::1"])])),
    "v2_dstopts": pkt(Q, "ff3e::1", v2q("ff3e::1", 500),
                      hbh=b"\x3c\x00\x05\x02\x00\x00\x01\x00"
                          b"\x3a\x00\x01\x04\x00\x00\x00\x00"),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for name, p in MSGS.items():
        # flags: entry point 0 and 1, v1 start for v1 messages; time 100 ms.
        for flags in (0x00, 0x01, 0x02, 0x10, 0x44):
            with open(os.path.join(out, "%s_%02x" % (name, flags)), "wb") as f:
                f.write(bytes([flags, 0x27]) + p)
            n += 1
    # Several packets at once: a general query, a group query, a report.
    multi = b""
    for k in ("v2_gss_in", "v2_general", "v1_report", "v2_group"):
        multi += struct.pack("!H", len(MSGS[k])) + MSGS[k]
    for flags in (0x80, 0x90):
        with open(os.path.join(out, "multi_%02x" % flags), "wb") as f:
            f.write(bytes([flags, 0x2a]) + multi)
        n += 1
    print("%d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()
