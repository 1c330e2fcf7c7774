#!/usr/bin/python3
"""Self-test for tshark_check.py: proves it passes good MLD packets and,
just as important, that it CAN FAIL on each kind of defect we care about.

Packets are built by hand with struct (no scapy), independently of the C code.
Exits non-zero if any case does not behave as expected.
"""
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tshark_check.py")
A = lambda s: ipaddress.IPv6Address(s).packed
HBH_RA = bytes([58, 0, 5, 2, 0, 0, 1, 0])   # next=ICMPv6, len 0; Router Alert(MLD) + PadN(0)
HBH_NO_RA = bytes([58, 0, 1, 4, 0, 0, 0, 0])  # same size, PadN only


def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv6(src, dst, icmp, hlim=1, hbh=HBH_RA, ck_xor=0):
    """IPv6 + hop-by-hop + ICMPv6 with a correct checksum (unless ck_xor)."""
    ck = csum(A(src) + A(dst) + struct.pack("!I3xB", len(icmp), 58) + icmp) ^ ck_xor
    icmp = icmp[:2] + struct.pack("!H", ck) + icmp[4:]
    payload = hbh + icmp
    return struct.pack("!IHBB", 6 << 28, len(payload), 0, hlim) + A(src) + A(dst) + payload


def mldv2(records):
    b = struct.pack("!BBHHH", 143, 0, 0, 0, len(records))
    for r in records:
        b += struct.pack("!BBH", r["type"], 0, len(r["sources"])) + A(r["group"])
        b += b"".join(A(s) for s in r["sources"])
    return b


def mldv1(t, group):
    return struct.pack("!BBHHH", t, 0, 0, 0, 0) + A(group)


def v2_case(records, src="fe80::1", **kw):
    exp = {"src": src, "dst": "ff02::16", "icmp_type": 143, "records": records}
    return ipv6(src, "ff02::16", mldv2(records), **kw), exp


def v1_case(t, group, src="fe80::1", dst=None, **kw):
    dst = dst or (group if t == 131 else "ff02::2")
    return ipv6(src, dst, mldv1(t, group), **kw), \
        {"src": src, "dst": dst, "icmp_type": t, "group": group}


def eth(pkt, dmac=None, smac=b"\x02\0\0\0\0\x01", ethertype=0x86DD):
    """An Ethernet frame around an IPv6 packet (33:33 MAC of its destination)."""
    return (dmac or b"\x33\x33" + pkt[36:40]) + smac + struct.pack("!H", ethertype) + pkt


def write_case(d, name, frames, linktype=101):
    """frames: list of (packet bytes, expectation dict or None = no line)."""
    pcap, jsonl = os.path.join(d, name + ".pcap"), os.path.join(d, name + ".jsonl")
    with open(pcap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, (p, _) in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(p), len(p)) + p)
    with open(jsonl, "w") as f:
        for k, (_, e) in enumerate(frames, 1):
            if e is not None:
                f.write(json.dumps(dict(frame=k, **e)) + "\n")
    return pcap, jsonl


RECS = [dict(type=t, group="ff3e::%x" % t, sources=["2001:db8::%x" % (t * 16 + j) for j in range(t % 3)])
        for t in range(1, 7)]
GOOD = [v2_case(RECS),
        v2_case([dict(type=4, group="ff05::1:3", sources=[])], src="::"),
        v2_case([dict(type=5, group="ff3e::abcd", sources=["2001:db8::1", "2001:db8::2", "2001:db8::3"])]),
        v1_case(131, "ff3e::1", src="::"),
        v1_case(132, "ff3e::1")]


def mutate(case, fn):
    pkt, exp = case
    exp = json.loads(json.dumps(exp))  # deep copy
    return fn(bytearray(pkt), exp)


def other_type(p, e):
    e["records"][0]["type"] = 3   # packet says 1
    return bytes(p), e


def other_sources(p, e):
    e["records"][1]["sources"].reverse()  # same set, wrong order
    return bytes(p), e


# Each broken case: (name, frames); the defective frame is the last one.
ONE = dict(type=1, group="ff3e::1", sources=["2001:db8::1", "2001:db8::2"])
ONE_PKT, ONE_EXP = v2_case([ONE])
BROKEN = [
    ("bad checksum", [v2_case([ONE], ck_xor=0x0101)]),
    ("hop limit 255", [v2_case([ONE], hlim=255)]),
    ("no router alert", [v2_case([ONE], hbh=HBH_NO_RA)]),
    ("record type differs", [mutate(GOOD[0], other_type)]),
    ("source list differs", [mutate(GOOD[0], other_sources)]),
    # Truncated: drop the last source but keep all headers claiming it.
    ("truncated frame", [(ONE_PKT[:-16], ONE_EXP)]),
    # Lengths and checksum consistent, but nb_sources claims one more source.
    ("truncated record", [(ipv6("fe80::1", "ff02::16", mldv2([ONE])[:-16]), ONE_EXP)]),
    # tshark 4.0 ignores the record-count header field; only our check sees this.
    ("record count header", [(ipv6("fe80::1", "ff02::16", mldv2([ONE])[:7] + b"\x02" + mldv2([ONE])[8:]),
                              ONE_EXP)]),
    ("v1 group differs", [mutate(GOOD[3], lambda p, e: (bytes(p), dict(e, group="ff3e::2")))]),
    ("frame count", [GOOD[3], (GOOD[4][0], None)]),  # pcap frame without expectation line
]


def run(pcap, jsonl, env=None):
    r = subprocess.run([sys.executable, CHECKER, pcap, jsonl], capture_output=True, text=True, env=env)
    return r.returncode, r.stdout


def run_any(pcap):
    r = subprocess.run([sys.executable, CHECKER, "--any", pcap], capture_output=True, text=True)
    return r.returncode, r.stdout


# --any (no expectation file): what a listener may send, on Ethernet as
# captured in the end-to-end tests, and as raw IPv6.
ANY_GOOD = [GOOD[0][0], GOOD[1][0], GOOD[2][0], GOOD[3][0], GOOD[4][0]]
UDP = struct.pack("!IHBB", 6 << 28, 8, 17, 1) + A("fe80::1") + A("ff02::16") + b"\0" * 8
ANY_BROKEN = [
    ("v2 report to ff02::1", ipv6("fe80::1", "ff02::1", mldv2([ONE]))),
    ("v1 report not to its group", v1_case(131, "ff3e::1", dst="ff02::16")[0]),
    ("Done to its group", v1_case(132, "ff3e::1", dst="ff3e::1")[0]),
    ("a query (type 130)", ipv6("fe80::1", "ff02::1", struct.pack("!BBHHH", 130, 0, 0, 1000, 0)
                                 + bytes(16) + bytes(4))),
    ("global source address", v2_case([ONE], src="2001:db8::1")[0]),
    ("record type 7", ipv6("fe80::1", "ff02::16", mldv2([dict(ONE, type=7)]))),
    ("bad checksum", v2_case([ONE], ck_xor=0x0101)[0]),
    ("hop limit 255", v2_case([ONE], hlim=255)[0]),
    ("no router alert", v2_case([ONE], hbh=HBH_NO_RA)[0]),
    ("truncated record", ipv6("fe80::1", "ff02::16", mldv2([ONE])[:-16])),
    ("not ICMPv6", UDP),
]


def any_cases(verdict, d):
    for lt, wrap, what in ((1, eth, "ethernet"), (101, lambda p: p, "raw")):
        good = [(wrap(p), None) for p in ANY_GOOD]
        rc, out = run_any(write_case(d, "any-good-%s" % what, good, lt)[0])
        verdict(rc == 0 and out.strip().endswith("tshark: %d passed, 0 failed" % len(good)),
                "--any: good %s frames pass" % what, out)
    broken = [(n, eth(p)) for n, p in ANY_BROKEN]
    broken.append(("ethernet MAC not 33:33+group", eth(GOOD[0][0], dmac=b"\x33\x33\0\0\0\x01")))
    broken.append(("ethernet not IPv6", eth(GOOD[0][0], ethertype=0x0800)))
    for i, (name, frame) in enumerate(broken):
        frames = [(eth(GOOD[0][0]), None), (eth(GOOD[3][0]), None), (frame, None)]
        rc, out = run_any(write_case(d, "any-bad%d" % i, frames, 1)[0])
        verdict(rc == 1 and "frame 3: FAIL" in out
                and out.strip().endswith("tshark: 2 passed, 1 failed"),
                "--any detects: %s -> %s" % (name, (out.strip().splitlines() or [""])[0][:150]), out)
    rc, out = run_any(write_case(d, "any-empty", [], 1)[0])
    verdict(rc == 1, "--any: empty pcap fails", out)


def main():
    passed = failed = 0

    def verdict(ok, name, out):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print("%s  %s" % ("ok  " if ok else "FAIL", name))
        if not ok:
            print("    " + out.strip().replace("\n", "\n    "))

    with tempfile.TemporaryDirectory() as d:
        rc, out = run(*write_case(d, "good", GOOD))
        verdict(rc == 0 and out.strip().endswith("tshark: %d passed, 0 failed" % len(GOOD)),
                "good packets pass", out)
        for i, (name, frames) in enumerate(BROKEN):
            # Good frames first, so we also see failures are per frame.
            frames = GOOD[:2] + frames
            rc, out = run(*write_case(d, "bad%d" % i, frames))
            n = len(frames)
            verdict(rc == 1 and ("frame %d: FAIL" % n) in out
                    and out.strip().endswith("tshark: %d passed, 1 failed" % (n - 1)),
                    "detects: %s -> %s" % (name, out.strip().splitlines()[0][:150]), out)
        # An empty capture must not count as success.
        rc, out = run(*write_case(d, "empty", []))
        verdict(rc == 1, "empty pcap fails", out)
        any_cases(verdict, d)
        rc, out = run(*write_case(d, "notshark", GOOD), env=dict(os.environ, PATH=d))
        verdict(rc == 2 and "tshark not found" in out, "no tshark in PATH -> exit 2", out)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
