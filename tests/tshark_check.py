#!/usr/bin/python3
"""Independent decoder check: every MLD packet our engine emitted must look
right to tshark (Wireshark's dissectors), not just to our own parser.

usage: tshark_check.py PCAP EXPECT.jsonl
       tshark_check.py --any PCAP

PCAP is classic libpcap, LINKTYPE_RAW (frames start at the IPv6 header) or,
for --any, also LINKTYPE_ETHERNET (a capture on a real interface).
Line k of EXPECT.jsonl describes frame k, e.g.
  {"frame":1,"src":"fe80::1","dst":"ff02::16","icmp_type":143,
   "records":[{"type":4,"group":"ff3e::1","sources":["2001:db8::1"]}]}
  {"frame":2,"src":"::","dst":"ff3e::1","icmp_type":131,"group":"ff3e::1"}

--any needs no expectation file: every frame must be an MLD message a
listener may send — a v2 report to ff02::16, a v1 report to its group, a Done
to ff02::2 — from a link-local address or ::, with good checksums, hop limit
1 and Router Alert; on Ethernet the destination MAC must be 33:33 + the low
32 bits of the destination address. The expectation tshark's decode is
compared with comes from this script's own parse of the raw bytes. (The
end-to-end tests feed it the frames one agent sent.)

Prints one line per failing frame, then "tshark: N passed, N failed".
Exit 0 = all passed (and >0 frames), 1 = failures, 2 = tshark missing.
"""
import ipaddress
import json
import shutil
import struct
import subprocess
import sys
import tempfile

# Expert severities (epan/proto.h). tshark 4.0 files a bad ICMPv6 checksum and
# "payload length exceeds framing" under WARN, not ERROR, so we treat WARN and
# above as fatal: a packet we built should not make tshark complain at all.
PI_WARN = 0x00600000
CHECKSUM_GOOD = "1"        # icmpv6.checksum.status: 0 bad, 1 good, 2 unverified
NH_HOPOPTS, NH_DSTOPTS, NH_ICMPV6 = 0, 60, 58
LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV6 = 1, 101, 229
ETH_HLEN, ETHERTYPE_IPV6 = 14, 0x86DD


def read_pcap(path, ethernet=False):
    """Raw frame bytes from a classic pcap (either byte order, us or ns).
    With ethernet=True, LINKTYPE_ETHERNET is accepted too and each frame is
    returned as (ethernet header or None, IPv6 packet bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: too short for a pcap header" % path)
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError("%s: not a classic pcap file (pcapng?)" % path)
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    ok = (LINKTYPE_RAW, LINKTYPE_IPV6) + ((LINKTYPE_ETHERNET,) if ethernet else ())
    if linktype not in ok:
        raise ValueError("%s: linktype %d, expected one of %s" % (path, linktype, ok))
    frames, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    if off != len(data):
        raise ValueError("%s: trailing garbage / truncated record at offset %d" % (path, off))
    if not ethernet:
        return frames
    if linktype != LINKTYPE_ETHERNET:
        return [(None, f) for f in frames]
    return [(f[:ETH_HLEN], f[ETH_HLEN:]) for f in frames]


def ones_sum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def own_checks(raw):
    """Our own checksum (RFC 8200 sec 8.1 pseudo-header) and ICMPv6 length,
    from the raw bytes, so a tshark bug cannot hide one of ours.
    Returns (problem or None, icmpv6 length)."""
    if len(raw) < 40 or raw[0] >> 4 != 6:
        return "raw: not an IPv6 packet", 0
    plen, nxt = struct.unpack("!HB", raw[4:7])
    if 40 + plen != len(raw):
        return "raw: IPv6 payload length %d but frame carries %d" % (plen, len(raw) - 40), 0
    off = 40
    while nxt in (NH_HOPOPTS, NH_DSTOPTS):  # skip option headers to reach ICMPv6
        if off + 2 > len(raw):
            return "raw: extension header truncated", 0
        nxt, off = raw[off], off + (raw[off + 1] + 1) * 8
    if nxt != NH_ICMPV6 or off > len(raw):
        return "raw: no ICMPv6 after extension headers", 0
    icmp = raw[off:]
    pseudo = raw[8:40] + struct.pack("!I3xB", len(icmp), NH_ICMPV6)
    if ones_sum(pseudo + icmp) != 0xFFFF:
        return "raw: ICMPv6 checksum wrong (own recomputation)", len(icmp)
    return None, len(icmp)


def own_parse(raw):
    """Our own decode of an MLD message a listener sends: the expectation
    (same shape as an EXPECT.jsonl line) and a list of listener-rule
    violations. None when the bytes are not IPv6+ICMPv6 at all (own_checks
    reports why)."""
    if len(raw) < 40 or raw[0] >> 4 != 6:
        return None, []
    nxt, off = raw[6], 40
    while nxt in (NH_HOPOPTS, NH_DSTOPTS):
        if off + 2 > len(raw):
            return None, []
        nxt, off = raw[off], off + (raw[off + 1] + 1) * 8
    if nxt != NH_ICMPV6 or off + 4 > len(raw):
        return None, []
    ip = lambda b: str(ipaddress.IPv6Address(bytes(b)))
    src, dst, icmp = ipaddress.IPv6Address(raw[8:24]), ipaddress.IPv6Address(raw[24:40]), raw[off:]
    exp = {"src": str(src), "dst": str(dst), "icmp_type": icmp[0]}
    bad = []
    if not (src.is_unspecified or src.is_link_local):
        bad.append("listener rule: source %s is neither link-local nor :: (RFC 3810 5.2.13)" % src)
    if icmp[1] != 0:
        bad.append("listener rule: ICMPv6 code %d, expected 0" % icmp[1])
    if icmp[0] == 143:
        if len(icmp) < 8:
            return None, ["listener rule: v2 report shorter than its header"]
        nrec, o, recs = struct.unpack("!H", icmp[6:8])[0], 8, []
        for _ in range(nrec):
            if o + 20 > len(icmp):
                bad.append("own parse: record %d runs past the message" % (len(recs) + 1))
                break
            rtype, aux, ns = struct.unpack("!BBH", icmp[o:o + 4])
            if o + 20 + 16 * ns + 4 * aux > len(icmp):
                bad.append("own parse: record %d's sources run past the message" % (len(recs) + 1))
                break
            g = ipaddress.IPv6Address(icmp[o + 4:o + 20])
            recs.append({"type": rtype, "group": str(g),
                         "sources": [ip(icmp[o + 20 + 16 * k:o + 36 + 16 * k]) for k in range(ns)]})
            if not 1 <= rtype <= 6:
                bad.append("listener rule: record type %d for %s is not 1..6" % (rtype, g))
            if not g.is_multicast:
                bad.append("listener rule: record group %s is not multicast" % g)
            o += 20 + 16 * ns + 4 * aux
        exp["records"] = recs
        if str(dst) != "ff02::16":
            bad.append("listener rule: v2 report to %s, expected ff02::16" % dst)
    elif icmp[0] in (131, 132):
        if len(icmp) < 24:
            return None, ["listener rule: v1 message shorter than 24 bytes"]
        g = ipaddress.IPv6Address(icmp[8:24])
        exp["group"] = str(g)
        if not g.is_multicast:
            bad.append("listener rule: v1 group %s is not multicast" % g)
        want = g if icmp[0] == 131 else ipaddress.IPv6Address("ff02::2")
        if dst != want:
            bad.append("listener rule: %s to %s, expected %s" % (
                "v1 report" if icmp[0] == 131 else "Done", dst, want))
    else:
        bad.append("listener rule: ICMPv6 type %d is not a report or Done" % icmp[0])
    return exp, bad


def eth_problems(eth, raw):
    """A listener's frame on Ethernet: IPv6 ethertype, 33:33 multicast MAC."""
    if eth is None:
        return []
    if len(eth) < ETH_HLEN or struct.unpack("!H", eth[12:14])[0] != ETHERTYPE_IPV6:
        return ["ethernet: not an IPv6 frame (ethertype %s)" % eth[12:14].hex()]
    if len(raw) >= 40 and eth[:6] != b"\x33\x33" + raw[36:40]:
        return ["ethernet: destination %s does not map the IPv6 destination (RFC 2464 7)"
                % eth[:6].hex(":")]
    return []


def many(node, key):
    """All values of a repeated field, in decode order. With
    --no-duplicate-keys tshark gives one value bare and several as a list."""
    v = node.get(key, [])
    return v if isinstance(v, list) else [v]


def expert_problems(node, out):
    """Walk the whole tree: malformed markers and WARN+ expert items."""
    if isinstance(node, list):
        for v in node:
            expert_problems(v, out)
    elif isinstance(node, dict):
        for k, v in node.items():
            if k == "_ws.malformed":  # its subtree only repeats the same news
                out.append("_ws.malformed: tshark reports a malformed packet")
                continue
            if k == "_ws.expert":
                for e in many(node, k):
                    if int(e.get("_ws.expert.severity", 0)) >= PI_WARN:
                        out.append("_ws.expert: %s" % e.get("_ws.expert.message", "?"))
            expert_problems(v, out)
    return out


def addr_eq(got, want):
    if got == want:  # fast path: both sides are normally already canonical
        return True
    try:
        return ipaddress.IPv6Address(got) == ipaddress.IPv6Address(want)
    except (ValueError, TypeError):
        return False


def check_frame(layers, has_ws, raw, exp):
    """All problems with one frame; empty list = pass."""
    bad = []

    def expect(field, got, want, eq=lambda a, b: str(a) == str(b)):
        if got is None or not eq(got, want):
            bad.append("%s: got %s, expected %s" % (field, got, want))

    if has_ws:
        bad += expert_problems(layers, [])
    ipv6, icmp = layers.get("ipv6"), layers.get("icmpv6")
    if not isinstance(ipv6, dict) or not isinstance(icmp, dict):
        return bad + ["layers: tshark did not decode one IPv6+ICMPv6 (%s)"
                      % layers.get("frame", {}).get("frame.protocols")]

    # Our own belt-and-braces decode of the raw bytes.
    problem, icmp_len = own_checks(raw)
    if problem:
        bad.append(problem)
    expect("icmpv6.checksum.status", icmp.get("icmpv6.checksum.status"), CHECKSUM_GOOD)

    # RFC 3810 sec 5: hop limit 1, hop-by-hop header with Router Alert = 0 (MLD).
    expect("ipv6.hlim", ipv6.get("ipv6.hlim"), 1)
    expect("ipv6.nxt", ipv6.get("ipv6.nxt"), NH_HOPOPTS)
    hbh = ipv6.get("ipv6.hopopts")
    if not isinstance(hbh, dict):
        bad.append("ipv6.hopopts: no hop-by-hop header")
    else:
        expect("ipv6.hopopts.nxt", hbh.get("ipv6.hopopts.nxt"), NH_ICMPV6)
        ra = [o.get("ipv6.opt.router_alert") for o in many(hbh, "ipv6.opt")
              if o.get("ipv6.opt.type") == "0x05"]
        if ra != ["0"]:
            bad.append("ipv6.opt.router_alert: got %s, expected one option with value 0" % ra)

    expect("ipv6.src", ipv6.get("ipv6.src"), exp.get("src"), addr_eq)
    expect("ipv6.dst", ipv6.get("ipv6.dst"), exp.get("dst"), addr_eq)
    itype = exp.get("icmp_type")
    expect("icmpv6.type", icmp.get("icmpv6.type"), itype)

    if itype == 143:
        want = exp.get("records", [])
        # tshark 4.0 decodes records until the payload ends and ignores this
        # header field, so it must be compared separately with the records.
        expect("icmpv6.mldr.nb_mcast_records",
               icmp.get("icmpv6.mldr.nb_mcast_records"), len(want))
        got = many(icmp, "icmpv6.mldr.mar")
        expect("icmpv6.mldr.mar (decoded record count)", len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want), 1):
            f = "icmpv6.mldr.mar[%d]." % i
            srcs = many(g, "icmpv6.mldr.mar.source_address")
            expect(f + "record_type", g.get("icmpv6.mldr.mar.record_type"), w.get("type"))
            expect(f + "multicast_address", g.get("icmpv6.mldr.mar.multicast_address"),
                   w.get("group"), addr_eq)
            expect(f + "nb_sources", g.get("icmpv6.mldr.mar.nb_sources"), len(srcs))
            expect(f + "aux_data_len", g.get("icmpv6.mldr.mar.aux_data_len"), 0)  # RFC 3810 5.2.6
            expect(f + "source_address", srcs, w.get("sources", []),
                   lambda a, b: len(a) == len(b) and all(map(addr_eq, a, b)))
        want_len = 8 + sum(20 + 16 * len(r.get("sources", [])) for r in want)
    elif itype in (131, 132):
        expect("icmpv6.mld.multicast_address", icmp.get("icmpv6.mld.multicast_address"),
               exp.get("group"), addr_eq)
        want_len = 24
    else:
        return bad + ["expectation: unsupported icmp_type %r" % itype]
    # No trailing bytes beyond what the expectation accounts for.
    if not problem and icmp_len != want_len:
        bad.append("icmpv6 length: got %d, expected %d" % (icmp_len, want_len))
    return bad


def tshark_frames(pcap):
    """Yield each frame's layers dict, streaming while tshark runs.
    Plain -T json repeats keys (one icmpv6.mldr.mar per record, one
    source_address per source); --no-duplicate-keys turns those into
    ordered lists, which plain json.loads keeps and parses ~3x faster
    than an object_pairs_hook."""
    err = tempfile.TemporaryFile("w+")  # not a pipe: cannot fill up and stall tshark
    proc = subprocess.Popen(["tshark", "-n", "--no-duplicate-keys", "-r", pcap, "-T", "json"],
                            stdout=subprocess.PIPE, stderr=err, text=True)
    buf = ""
    # A frame ends at the only line indented by exactly two spaces, "  }"
    # (JSON strings cannot hold a raw newline). Splitting big chunks on that
    # is much faster than iterating over lines.
    for chunk in iter(lambda: proc.stdout.read(1 << 20), ""):
        *frames, buf = (buf + chunk).split("\n  }")
        for text in frames:
            layers = json.loads(text.lstrip("[,\n ") + "}")["_source"]["layers"]
            # Only walk the tree for expert items when there can be any.
            yield layers, "_ws." in text
    if proc.wait() != 0:
        err.seek(0)
        raise RuntimeError("tshark failed (%d): %s" % (proc.returncode, err.read().strip()))


def main_any(pcap):
    try:
        frames = read_pcap(pcap, ethernet=True)
        decoded = list(tshark_frames(pcap))
    except (OSError, ValueError, RuntimeError) as e:
        print("tshark_check: ERROR: %s" % e)
        print("tshark: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    for k, (eth, raw) in enumerate(frames, 1):
        exp, bad = own_parse(raw)
        bad += eth_problems(eth, raw)
        if k > len(decoded):
            bad.append("tshark decoded only %d frames" % len(decoded))
        elif exp is None:
            problem, _ = own_checks(raw)
            bad.append(problem or "raw: not an IPv6 ICMPv6 packet")
        elif exp["icmp_type"] in (143, 131, 132):
            bad += check_frame(*decoded[k - 1], raw=raw, exp=exp)
        else:
            bad += [b for b in check_frame(*decoded[k - 1], raw=raw, exp=exp)
                    if not b.startswith("expectation:")]
        if bad:
            failed += 1
            print("frame %d: FAIL %s" % (k, "; ".join(bad)))
        else:
            passed += 1
    print("tshark: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


def main(argv):
    if len(argv) != 3:
        print("usage: %s PCAP EXPECT.jsonl | --any PCAP" % argv[0], file=sys.stderr)
        return 2
    if shutil.which("tshark") is None:
        print("tshark_check: ERROR: tshark not found in PATH (apt-get install tshark)")
        return 2
    if argv[1] == "--any":
        return main_any(argv[2])
    pcap, expfile = argv[1], argv[2]
    try:
        raws = read_pcap(pcap)
        with open(expfile) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        decoded = list(tshark_frames(pcap))
    except (OSError, ValueError, RuntimeError) as e:
        print("tshark_check: ERROR: %s" % e)
        print("tshark: 0 passed, 1 failed")
        return 1

    passed = failed = 0
    for k in range(1, max(len(raws), len(lines), len(decoded)) + 1):
        if k > len(lines):
            bad = ["no expectation line (pcap has %d frames, expectations %d)"
                   % (len(raws), len(lines))]
        elif k > len(raws):
            bad = ["missing from pcap (expectations %d, pcap has %d frames)"
                   % (len(lines), len(raws))]
        elif k > len(decoded):
            bad = ["tshark decoded only %d frames" % len(decoded)]
        else:
            try:
                exp = json.loads(lines[k - 1])
                bad = [] if exp.get("frame") == k else \
                    ["expectation line %d is for frame %s" % (k, exp.get("frame"))]
                bad += check_frame(*decoded[k - 1], raw=raws[k - 1], exp=exp)
            except (ValueError, AttributeError) as e:
                bad = ["expectation line %d unusable: %s" % (k, e)]
        if bad:
            failed += 1
            print("frame %d: FAIL %s" % (k, "; ".join(bad)))
        else:
            passed += 1
    print("tshark: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
