#!/usr/bin/python3
"""Independent decoder check: every MLD packet our engine emitted must look
right to tshark (Wireshark's dissectors), not just to our own parser.

usage: tshark_check.py PCAP EXPECT.jsonl

PCAP is classic libpcap, LINKTYPE_RAW (frames start at the IPv6 header).
Line k of EXPECT.jsonl describes frame k, e.g.
  {"frame":1,"src":"fe80::1","dst":"ff02::16","icmp_type":143,
   "records":[{"type":4,"group":"ff3e::1","sources":["2001:db8::1"]}]}
  {"frame":2,"src":"::","dst":"ff3e::1","icmp_type":131,"group":"ff3e::1"}

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
LINKTYPE_RAW, LINKTYPE_IPV6 = 101, 229


def read_pcap(path):
    """Raw frame bytes from a classic pcap (either byte order, us or ns)."""
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
    if linktype not in (LINKTYPE_RAW, LINKTYPE_IPV6):
        raise ValueError("%s: linktype %d, expected %d" % (path, linktype, LINKTYPE_RAW))
    frames, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    if off != len(data):
        raise ValueError("%s: trailing garbage / truncated record at offset %d" % (path, off))
    return frames


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


def main(argv):
    if len(argv) != 3:
        print("usage: %s PCAP EXPECT.jsonl" % argv[0], file=sys.stderr)
        return 2
    if shutil.which("tshark") is None:
        print("tshark_check: ERROR: tshark not found in PATH (apt-get install tshark)")
        return 2
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
