#!/usr/bin/python3
"""End-to-end tests of mldagent in network namespaces (needs root).

Each test builds its own lab with tests/lab/lab.sh — a Linux bridge in
namespace <LAB>-q as MLD querier and snooper (short timers: query interval
5 s, response interval 1 s, last-member interval 1 s x 2, GMI 11 s), and the
host namespace <LAB>-h whose veth port mld0 runs mldagent — under a LAB name
unique to this run and test, and always tears it down (agents killed,
captures stopped, namespaces and bpffs removed).

What is checked, against the real kernel bridge:
  * `bridge -d -s -j mdb show` holds exactly the declared groups, filter
    modes and source lists (INCLUDE: the sources with a running timer;
    EXCLUDE: the blocked sources, timer 0), polled until it matches;
  * every general, group-specific and group-and-source query the bridge
    sends is answered right (a timeline oracle over the capture, below);
  * everything the agent sends passes `tests/tshark_check.py --any`;
  * daemon features: link down/up, link-local address loss (RFC 3590),
    interface re-creation, SIGTERM, SIGHUP/mldctl reload diffs, several
    agents, pinned maps, JSON output, refused input.

The capture oracle: the test keeps a timeline of the merged membership state
it declared. Every current-state record (IS_IN/IS_EX, or an MLDv1 report)
the agent sends must agree with the state at that moment, and every query
of the bridge whose response window lies in a stable stretch of the timeline
must be answered in that window with the record RFC 3810 6.3 / RFC 2710
prescribe (or the group's full state, which is always a valid answer).

usage: e2e.py [-k SUBSTRING ...] [--list]
Prints `ok NAME` or `FAIL NAME: reason` per test and ends with
`e2e: N passed, N failed`; exits 1 if any test failed.
Binaries: $MLDAGENT and $MLDCTL (default build/mldagent, build/mldctl).
Artifacts (agent logs, pcaps, mdb snapshots) go to $E2E_OUT
(default build/e2e-out/<test>/) and are kept.
"""
import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABSH = os.path.join(ROOT, "tests", "lab", "lab.sh")
CHECKER = os.path.join(ROOT, "tests", "tshark_check.py")
MLDAGENT = os.path.abspath(os.environ.get("MLDAGENT", os.path.join(ROOT, "build", "mldagent")))
MLDCTL = os.path.abspath(os.environ.get("MLDCTL", os.path.join(ROOT, "build", "mldctl")))
OUT = os.path.abspath(os.environ.get("E2E_OUT", os.path.join(ROOT, "build", "e2e-out")))
PY = "/usr/bin/python3"

# The lab's bridge timers (tests/lab/lab.sh), in seconds.
QI, QRI, LMQI, LMQC, GMI = 5.0, 1.0, 1.0, 2, 11.0
LMQT = LMQI * LMQC
SLACK = 0.6            # scheduling slack on top of a maximum response delay
FAKE_MAC = bytes.fromhex("020000000099")
FAKE_LL = "fe80::99"   # a second host on mld0's segment (forged leaves)

S = lambda *n: frozenset("2001:db8::%x" % k for k in n)   # source sets
EX, IN = "exclude", "include"


class Fail(Exception):
    pass


def canon(a):
    return str(ipaddress.IPv6Address(a))


def is_linkscope(g):
    return ipaddress.IPv6Address(g) in ipaddress.IPv6Network("ff02::/16")


def fmt_state(st):
    if st is None:
        return "None"
    return "{" + ", ".join("%s %s{%s}" % (g, m, " ".join(sorted(s)))
                           for g, (m, s) in sorted(st.items())) + "}"


def run(argv, check=True, timeout=30, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise Fail("%s exited %d: %s" % (" ".join(argv[:6]), r.returncode,
                                         (r.stderr or r.stdout).strip()[:400]))
    return r


def wait_for(pred, timeout, what, interval=0.1):
    """Polls pred() until it returns a true value; Fail after timeout.
    pred may return (ok, detail) to say what it saw last."""
    end = time.monotonic() + timeout
    detail = None
    while True:
        r = pred()
        if isinstance(r, tuple):
            r, detail = r
        if r:
            return r
        if time.monotonic() > end:
            raise Fail("%s: not within %.1f s%s" % (what, timeout,
                                                      "; last seen: %s" % detail if detail else ""))
        time.sleep(interval)


# ---------------------------------------------------------------- packets

def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mld_frame(src, dst, icmp, smac=FAKE_MAC):
    """Ethernet + IPv6 (hop limit 1) + hop-by-hop Router Alert + ICMPv6."""
    A = lambda a: ipaddress.IPv6Address(a).packed
    ck = csum(A(src) + A(dst) + struct.pack("!I3xB", len(icmp), 58) + icmp)
    icmp = icmp[:2] + struct.pack("!H", ck) + icmp[4:]
    payload = bytes([58, 0, 5, 2, 0, 0, 1, 0]) + icmp
    ip6 = struct.pack("!IHBB", 6 << 28, len(payload), 0, 1) + A(src) + A(dst) + payload
    return b"\x33\x33" + A(dst)[12:] + smac + b"\x86\xdd" + ip6


def v2_report(records):
    """records: [(type, group, [sources])] -> ICMPv6 message."""
    b = struct.pack("!BBHHH", 143, 0, 0, 0, len(records))
    for t, g, srcs in records:
        b += struct.pack("!BBH", t, 0, len(srcs)) + ipaddress.IPv6Address(g).packed
        b += b"".join(ipaddress.IPv6Address(s).packed for s in srcs)
    return b


def v1_msg(t, group):
    return struct.pack("!BBHHH", t, 0, 0, 0, 0) + ipaddress.IPv6Address(group).packed


class Pkt:
    """One captured frame, decoded by us (independently of tshark)."""
    __slots__ = ("n", "ts", "smac", "dmac", "src", "dst", "hlim", "nh0", "type", "mrd", "group",
                 "qsrcs", "records", "frame")

    def __repr__(self):
        what = {130: "query", 131: "v1 report", 132: "done", 143: "v2 report"}.get(self.type, self.type)
        extra = ""
        if self.type == 130:
            extra = " group %s srcs {%s}" % (self.group, " ".join(sorted(self.qsrcs)))
        elif self.type in (131, 132):
            extra = " group %s" % self.group
        elif self.type == 143:
            extra = " " + "; ".join("%s %s{%s}" % (RTYPE.get(t, t), g, " ".join(sorted(s)))
                                    for t, g, s in self.records)
        return "#%d %.3f %s->%s %s%s" % (self.n, self.ts, self.src, self.dst, what, extra)


RTYPE = {1: "IS_IN", 2: "IS_EX", 3: "TO_IN", 4: "TO_EX", 5: "ALLOW", 6: "BLOCK"}


def read_pcap(path):
    """Frames of a classic Ethernet pcap -> [Pkt] (non-ICMPv6 frames get type None)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Fail("capture %s is empty or truncated (%d bytes)" % (path, len(data)))
    for e in "<>":
        magic = struct.unpack(e + "I", data[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise Fail("capture %s is not a classic pcap" % path)
    div = 1e6 if magic == 0xA1B2C3D4 else 1e9
    if struct.unpack(e + "I", data[20:24])[0] != 1:
        raise Fail("capture %s is not Ethernet" % path)
    out, off, n = [], 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        fr = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        n += 1
        p = Pkt()
        p.n, p.ts, p.frame = n, sec + frac / div, fr
        p.dmac, p.smac = fr[0:6], fr[6:12]
        p.type = p.src = p.dst = p.group = p.nh0 = None
        p.records, p.qsrcs, p.mrd, p.hlim = [], frozenset(), 0, None
        out.append(p)
        if len(fr) < 54 or fr[12:14] != b"\x86\xdd":
            continue
        ip = fr[14:]
        p.src, p.dst, p.hlim = canon(ip[8:24]), canon(ip[24:40]), ip[7]
        nxt, o = ip[6], 40
        p.nh0 = nxt
        while nxt in (0, 60) and o + 2 <= len(ip):
            nxt, o = ip[o], o + (ip[o + 1] + 1) * 8
        if nxt != 58 or o + 8 > len(ip):
            continue
        ic = ip[o:]
        p.type = ic[0]
        try:
            if p.type == 130 and len(ic) >= 24:
                p.group = canon(ic[8:24])
                mrc = struct.unpack("!H", ic[4:6])[0]
                if len(ic) >= 28:
                    ns = struct.unpack("!H", ic[26:28])[0]
                    p.qsrcs = frozenset(canon(ic[28 + 16 * k:44 + 16 * k]) for k in range(ns))
                    if mrc >= 32768:
                        mrc = ((mrc & 0xFFF) | 0x1000) << (((mrc >> 12) & 7) + 3)
                p.mrd = mrc / 1000.0
            elif p.type in (131, 132) and len(ic) >= 24:
                p.group = canon(ic[8:24])
            elif p.type == 143:
                nrec, q = struct.unpack("!H", ic[6:8])[0], 8
                for _ in range(nrec):
                    t, aux, ns = struct.unpack("!BBH", ic[q:q + 4])
                    g = canon(ic[q + 4:q + 20])
                    srcs = frozenset(canon(ic[q + 20 + 16 * k:q + 36 + 16 * k]) for k in range(ns))
                    p.records.append((t, g, srcs))
                    q += 20 + 16 * ns + 4 * aux
        except (struct.error, ValueError):
            p.records.append((0, "::", frozenset()))  # tshark_check will say why
    return out


def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for p in pkts:
            sec = int(p.ts)
            f.write(struct.pack("<IIII", sec, int((p.ts - sec) * 1e6), len(p.frame), len(p.frame)))
            f.write(p.frame)


def groups_of(p):
    if p.type == 143:
        return [g for _, g, _ in p.records]
    return [p.group] if p.group else []


# ---------------------------------------------------------------- timeline oracle

class Timeline:
    """The merged membership state the test declared, over wall-clock time.
    A change is a stretch [t0, t1] (the command ran in it) after which the
    state holds; state None means "no oracle" (link down, agent stopping)."""

    def __init__(self):
        self.ev = []  # (t0, t1, state)

    def change(self, t0, state, t1=None):
        self.ev.append((t0, t1 if t1 is not None else time.time(), state))

    def state_at(self, ts, margin=0.05):
        st = None
        for t0, t1, s in self.ev:
            if t0 - margin <= ts <= t1 + margin:
                return "unsure"
            if t1 < ts:
                st = s
        return st

    def stable(self, a, b, margin=0.05):
        """The state over [a, b] if no change touches it, else "unsure"."""
        st = self.state_at(a, margin)
        for t0, t1, _ in self.ev:
            if t1 + margin >= a and t0 - margin <= b:
                return "unsure"
        return st


def full_record(version, mode, srcs):
    if version == 1:
        return (131, None)
    return (2 if mode == EX else 1, srcs)


def oracle(pkts, agent_pkts, bridge_macs, tl, version, problems, need_queries=(), until=None):
    """Checks the agent's answers against the timeline (see module doc).
    need_queries: [(kind, group)] kinds 'gsq'/'gssq' that must have been seen
    and answered (the forged-leave steps)."""
    # 1. Every current-state record agrees with the state when it was sent.
    for p in agent_pkts:
        st = tl.state_at(p.ts)
        if st == "unsure" or st is None:
            continue
        if p.type == 131:
            if p.group not in st:
                problems.append("%r: v1 report for a group not held" % p)
        elif p.type == 143:
            for t, g, srcs in p.records:
                if t not in (1, 2) or is_linkscope(g):
                    continue
                if g not in st:
                    problems.append("%r: %s record for %s, not held" % (p, RTYPE[t], g))
                    continue
                mode, want = st[g]
                if t == 2 and not (mode == EX and srcs == want):
                    problems.append("%r: IS_EX{%s} but state is %s{%s}" % (
                        p, " ".join(sorted(srcs)), mode, " ".join(sorted(want))))
                if t == 1 and not (srcs and (srcs <= want if mode == IN else not srcs & want)):
                    problems.append("%r: IS_IN{%s} but state is %s{%s}" % (
                        p, " ".join(sorted(srcs)), mode, " ".join(sorted(want))))
    # 2. Every query in a stable stretch is answered in its window.
    answered = set()
    for q in pkts:
        if q.type != 130 or q.smac not in bridge_macs:
            continue
        win = (q.ts, q.ts + q.mrd + SLACK)
        if until is not None and win[1] > until:
            continue  # the capture stopped inside its window: cannot judge
        st = tl.stable(q.ts, win[1])
        if st == "unsure" or st is None:
            continue
        kind = "gq" if q.group == "::" else ("gssq" if q.qsrcs else "gsq")
        want = {}  # group -> acceptable records
        for g, (mode, srcs) in st.items():
            if kind != "gq" and g != q.group:
                continue
            ok = [full_record(version, mode, srcs)]
            if kind == "gssq" and version == 2:
                part = q.qsrcs & srcs if mode == IN else q.qsrcs - srcs
                if not part:
                    continue  # nothing to say (RFC 3810 6.3)
                ok.append((1, part))
            want[g] = ok
        sent = [p for p in agent_pkts if win[0] < p.ts <= win[1]]
        for g, ok in want.items():
            got = []
            for p in sent:
                if p.type == 131 and p.group == g:
                    got.append((131, None))
                got += [(t, s) for t, gg, s in p.records if gg == g and t in (1, 2)]
            if not any(r in ok for r in got):
                problems.append("%r: %s not answered for %s within %.1f s (wanted one of %s, got %s)"
                                % (q, kind, g, q.mrd + SLACK,
                                   [(RTYPE.get(t, "v1 report"), sorted(s or ())) for t, s in ok],
                                   [(RTYPE.get(t, "v1 report"), sorted(s or ())) for t, s in got]))
            else:
                answered.add((kind, g))
    for need in need_queries:
        if need not in answered:
            problems.append("no answered %s for %s found in the capture (did the bridge send it?)" % need)


# ---------------------------------------------------------------- lab, agent, capture

class Agent:
    def __init__(self, test, lab, args, name="agent", ns=None, sock=None, pin=None, ifaces=("mld0",)):
        self.test, self.lab, self.name = test, lab, name
        self.ns = ns or lab.h
        self.sock = sock or os.path.join(lab.dir, name + ".sock")
        self.pin = pin or os.path.join(lab.dir, "bpffs", name)
        self.logpath = os.path.join(test.out, "%s-%s.log" % (lab.name, name))
        argv = ["ip", "netns", "exec", self.ns, MLDAGENT]
        for i in ifaces:
            argv += ["-i", i]
        argv += ["-S", self.sock, "--pin-dir", self.pin] + list(args)
        self.argv = argv
        self.log = open(self.logpath, "w")
        # `ip netns exec` execs the agent: this pid is the agent's own.
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        test.agents.append(self)

    def logtext(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def wait_ready(self, timeout=8):
        def ready():
            if self.proc.poll() is not None:
                raise Fail("%s exited %d at start: %s" % (self.name, self.proc.returncode,
                                                          self.logtext().strip()[-600:]))
            return self.ctl_raw("stats").returncode == 0
        wait_for(ready, timeout, "%s answering on %s" % (self.name, self.sock), 0.05)
        return self

    def ctl_raw(self, *args):
        return run([MLDCTL, "-S", self.sock] + list(args), check=False)

    def ctl(self, *args):
        r = self.ctl_raw(*args)
        if r.returncode != 0:
            raise Fail("mldctl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r.stdout

    def show(self):
        out = self.ctl("show", "-j")
        try:
            return json.loads(out)
        except ValueError as e:
            raise Fail("mldctl show -j is not JSON (%s): %r" % (e, out[:300]))

    def stats(self):
        out = self.ctl("stats", "-j")
        try:
            return json.loads(out)
        except ValueError as e:
            raise Fail("mldctl stats -j is not JSON (%s): %r" % (e, out[:300]))

    def link(self, name="mld0"):
        for l in self.show()["links"]:
            if l["name"] == name:
                return l
        raise Fail("show -j has no link %s" % name)

    def state(self, name="mld0"):
        """The agent's merged view, as {group: (mode, sources)}; a group no
        listener holds (leaving: retransmitting its leave) is not listed."""
        l = self.link(name)
        return {canon(g["group"]): (g["mode"], frozenset(canon(s) for s in g["sources"]))
                for g in l.get("groups", []) if g["listeners"]}

    def quiet(self, name="mld0"):
        """No state-change retransmission pending on the link."""
        l = self.link(name)
        return all(g["state_change_in_ms"] < 0 and not g["pending_mode_records"]
                   and not g["pending_sources"] for g in l.get("groups", []))

    def wait_quiet(self, timeout=6):
        wait_for(self.quiet, timeout, "%s: state-change retransmissions done" % self.name, 0.1)

    def kill_with(self, sig):
        os.kill(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=8):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
                raise Fail("%s did not stop within %d s of signal %d" % (self.name, timeout, sig))
            except ProcessLookupError:
                pass
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.log.close()


class Capture:
    """tshark on the bridge port vq0: everything both ends send."""

    def __init__(self, test, lab, tag="cap"):
        self.test, self.lab = test, lab
        self.path = os.path.join(test.out, "%s-%s.pcap" % (lab.name, tag))
        self.errpath = self.path + ".stderr"
        self.err = open(self.errpath, "w")
        if shutil.which("tshark") is None:
            raise Fail("tshark not found (apt-get install tshark)")
        # -f ip6, not icmp6: libpcap's icmp6 looks at the first next header
        # only, and every MLD message starts with a hop-by-hop header.
        self.proc = subprocess.Popen(["ip", "netns", "exec", lab.q, "tshark", "-n", "-q", "-i", "vq0",
                                      "-F", "pcap", "-w", self.path, "-f", "ip6"],
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        test.captures.append(self)

        def started():
            if self.proc.poll() is not None:
                raise Fail("tshark exited %d: %s" % (self.proc.returncode, self.errtext()[-400:]))
            return "Capturing on" in self.errtext()
        wait_for(started, 15, "tshark capturing on %s vq0" % lab.q, 0.05)
        time.sleep(0.2)
        self.pkts = None

    def errtext(self):
        self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.err.close()
        if self.pkts is None:
            self.pkts = read_pcap(self.path)
        return self.pkts


class Lab:
    def __init__(self, test, tag, version=2):
        self.test = test
        self.name = "%s%s" % (test.prefix, tag)
        self.q, self.h = self.name + "-q", self.name + "-h"
        self.dir = "/tmp/" + self.name
        self.version = version
        self.env = dict(os.environ, LAB=self.name, LAB_DIR=self.dir, MLD_VERSION=str(version),
                        MLDAGENT=MLDAGENT, MLDCTL=MLDCTL)
        test.labs.append(self)
        self.sh("lab_up")
        self.mac = self.hmac()
        self.agent_macs = {self.mac}

    def sh(self, *fn):
        return run(["bash", "-c", '. "$0"; "$@"', LABSH] + list(fn), env=self.env, timeout=60)

    def down(self):
        run(["bash", "-c", '. "$0"; lab_down', LABSH], env=self.env, check=False, timeout=60)

    def qx(self, *cmd, check=True):
        return run(["ip", "netns", "exec", self.q] + list(cmd), check=check)

    def hx(self, *cmd, check=True):
        return run(["ip", "netns", "exec", self.h] + list(cmd), check=check)

    def hlink(self, dev="mld0"):
        return json.loads(self.hx("ip", "-j", "-d", "link", "show", "dev", dev).stdout)[0]

    def hmac(self):
        return bytes.fromhex(self.hlink()["address"].replace(":", ""))

    def ifindex(self):
        return self.hlink()["ifindex"]

    def lladdr(self, dev="mld0"):
        j = json.loads(self.hx("ip", "-j", "-6", "addr", "show", "dev", dev, "scope", "link").stdout)
        for a in (j[0].get("addr_info", []) if j else []):
            if a.get("family") == "inet6":
                return canon(a["local"]), a
        return None, None

    def bridge_mac(self):
        j = json.loads(self.qx("ip", "-j", "link", "show", "dev", "br0").stdout)[0]
        return bytes.fromhex(j["address"].replace(":", ""))

    def bridge_lladdr(self):
        """br0's link-local address: the source of its queries."""
        j = json.loads(self.qx("ip", "-j", "-6", "addr", "show", "dev", "br0", "scope", "link").stdout)
        return next(canon(a["local"]) for a in j[0]["addr_info"] if a.get("family") == "inet6")

    def mdb(self):
        """Port vq0's groups (link-scope ones left out) as {group: (mode, sources)}.
        INCLUDE: the sources with a running timer ("!S" marks one at 0, which
        the bridge should have deleted); EXCLUDE: the blocked sources (timer
        0). An EXCLUDE group's sources with a running timer are the RFC 3810
        "requested" list X: forwarded like any unlisted source, so left out.
        MLDv1 entries have no filter mode: ("v1", {})."""
        j = json.loads(self.qx("bridge", "-d", "-s", "-j", "mdb", "show", "dev", "br0").stdout)
        out = {}
        for e in (j[0].get("mdb", []) if j else []):
            if e.get("port") != "vq0" or "src" in e or is_linkscope(e["grp"]):
                continue
            mode = e.get("filter_mode", "v1")
            srcs = set()
            for s in e.get("source_list", []):
                a, live = canon(s["address"]), float(s["timer"]) > 0
                if mode == IN:
                    srcs.add(a if live else "!" + a)
                elif not live:
                    srcs.add(a)
            out[canon(e["grp"])] = (mode, frozenset(srcs))
        return out

    def mdb_raw(self):
        return self.qx("bridge", "-d", "-s", "mdb", "show", "dev", "br0").stdout

    def send(self, frame, dev="mld0"):
        """A frame out of mld0 as another host on the segment would send it."""
        code = ("import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW);"
                "s.bind((sys.argv[1], 0)); s.send(bytes.fromhex(sys.argv[2]))")
        self.hx(PY, "-c", code, dev, frame.hex())


class Test:
    def __init__(self, name, idx):
        self.name = name
        self.prefix = "e2e%d%02d" % (os.getpid() % 10000, idx)
        self.out = os.path.join(OUT, name)
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out, exist_ok=True)
        self.labs, self.agents, self.captures = [], [], []
        self.notes = []

    def lab(self, tag="a", version=2):
        return Lab(self, tag, version)

    def agent(self, lab, args=(), **kw):
        return Agent(self, lab, args, **kw).wait_ready()

    def capture(self, lab, tag="cap"):
        return Capture(self, lab, tag)

    def config(self, name, text):
        path = os.path.join(self.out, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def teardown(self):
        for a in self.agents:
            a.kill()
        for c in self.captures:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait(5)
        for l in self.labs:
            l.down()
            # Each pin dir has its lock file under /run/mldagent (agent_bpf.c
            # take_lock); this run's pin dirs are never used again.
            for f in glob.glob("/run/mldagent/pin_tmp_%s_*.lock" % l.name):
                os.unlink(f)


# ---------------------------------------------------------------- shared checks

def kernel_own(p):
    """The host kernel's own MLD for its link-scope groups (solicited-node):
    same MAC and address as the agent, but not the agent's."""
    gs = groups_of(p)
    return p.type in (131, 132, 143) and gs and all(is_linkscope(g) for g in gs)


def agent_pkts(pkts, macs):
    """Every frame the agent sent: from its MAC, IPv6, MLD or starting with
    a hop-by-hop header (so a malformed one is not missed)."""
    return [p for p in pkts if p.smac in macs and p.nh0 is not None
            and (p.nh0 == 0 or p.type in (130, 131, 132, 143)) and not kernel_own(p)]


def tshark_any(test, pkts, tag):
    """tests/tshark_check.py --any over the agent's frames."""
    path = os.path.join(test.out, "%s-agent.pcap" % tag)
    write_pcap(path, pkts)
    r = run([PY, CHECKER, "--any", path], check=False, timeout=120)
    last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
    if r.returncode != 0:
        bad = [l for l in r.stdout.splitlines() if "FAIL" in l or "ERROR" in l]
        raise Fail("tshark_check --any %s: %s; %s" % (path, last, " | ".join(bad[:3]) or r.stderr.strip()))
    test.notes.append("%s: %s" % (tag, last))


def check_capture(test, lab, cap, tl, version=None, need=(), min_agent=1):
    """Stops the capture, then: tshark --any on the agent's frames, and the
    timeline oracle on queries and answers (those whose response window
    the capture saw whole). Returns (all pkts, agent pkts)."""
    t_end = time.time()
    pkts = cap.stop()
    mine = agent_pkts(pkts, lab.agent_macs)
    if len(mine) < min_agent:
        raise Fail("capture %s: only %d agent frames (of %d)" % (cap.path, len(mine), len(pkts)))
    with open(cap.path + ".txt", "w") as f:
        f.write("\n".join("%s%r" % ("A " if p in mine else "  ", p) for p in pkts if p.type))
    tshark_any(test, mine, os.path.basename(cap.path)[:-5])
    problems = []
    oracle(pkts, mine, {lab.bridge_mac()}, tl, version or lab.version, problems, need, until=t_end)
    if problems:
        raise Fail("%d oracle problem(s) in %s: %s" % (len(problems), cap.path + ".txt",
                                                      " | ".join(problems[:3])))
    return pkts, mine


def wait_mdb(lab, want, timeout=6.0, what="mdb"):
    want = {canon(g): (m, frozenset(s)) for g, (m, s) in want.items()}
    t0 = time.monotonic()
    wait_for(lambda: (lab.mdb() == want, fmt_state(lab.mdb())), timeout,
             "%s: bridge mdb to become %s" % (what, fmt_state(want)), 0.1)
    return time.monotonic() - t0


def hold_mdb(lab, want, seconds, what="hold"):
    """The mdb stays exactly want for the whole period (nothing ages out)."""
    want = {canon(g): (m, frozenset(s)) for g, (m, s) in want.items()}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = lab.mdb()
        if got != want:
            raise Fail("%s: mdb changed after %.1f s of %.1f: %s, expected %s" % (
                what, seconds - (end - time.monotonic()), seconds, fmt_state(got), fmt_state(want)))
        time.sleep(0.25)


def expect_agent_state(agent, want, what):
    got = agent.state()
    want = {canon(g): (m, frozenset(s)) for g, (m, s) in want.items()}
    if got != want:
        raise Fail("%s: agent's show -j state %s, expected %s" % (what, fmt_state(got), fmt_state(want)))


class Steps:
    """Runs a membership step: the command, the timeline, the agent's view
    and the bridge's mdb."""

    def __init__(self, lab, agent, tl, state):
        self.lab, self.agent, self.tl = lab, agent, tl
        self.state = {canon(g): (m, frozenset(s)) for g, (m, s) in state.items()}

    def apply(self, what, action, changes):
        """The command, the declared state and timeline, the agent's view;
        changes: {group: (mode, sources) or None for gone}."""
        t0 = time.time()
        action()
        for g, v in changes.items():
            if v is None:
                self.state.pop(canon(g), None)
            else:
                self.state[canon(g)] = (v[0], frozenset(v[1]))
        self.tl.change(t0, dict(self.state))
        expect_agent_state(self.agent, self.state, what)

    def do(self, what, action, changes, mdb_timeout=6.0, mdb_want=None):
        self.apply(what, action, changes)
        return wait_mdb(self.lab, self.state if mdb_want is None else mdb_want, mdb_timeout, what)


def yaml_listeners(listeners, extra=""):
    """listeners: {name: {group: (mode, sources) or None for ASM}} on mld0."""
    out = [extra.rstrip("\n"), "listeners:"] if extra else ["listeners:"]
    for name, groups in listeners.items():
        out += ["  - name: %s" % name, "    link: mld0", "    groups:"]
        for g, v in groups.items():
            out.append("      - group: %s" % g)
            if v:
                out.append("        mode: %s" % v[0])
                if v[1]:
                    out.append("        sources: [%s]" % ", ".join(sorted(v[1])))
    return "\n".join(out) + "\n"


def join(agent, group, *rest):
    return lambda: agent.ctl("join", "mld0", group, *rest)


def leave(agent, group, *rest):
    return lambda: agent.ctl("leave", "mld0", group, *rest)


def src(*n):
    return ["2001:db8::%x" % k for k in n]


def state_changes(pkts, since, until=None):
    """(ts, src, type, group, sources) of the state-change records (TO_IN,
    TO_EX, ALLOW, BLOCK) in pkts sent in [since, until]."""
    out = []
    for p in pkts:
        if p.ts >= since and (until is None or p.ts <= until) and p.type == 143:
            out += [(p.ts, p.src, t, g, s) for t, g, s in p.records if 3 <= t <= 6 and not is_linkscope(g)]
    return out


def announce_ok(recs, state, what, src=None):
    """Each held group was announced with a state-change record that
    carries its whole filter (TO_EX{X} / TO_IN{S} or ALLOW{S}), from src."""
    for g, (mode, srcs) in state.items():
        good = [r for r in recs if r[3] == g and (src is None or r[1] == src) and r[4] == srcs
                and (r[2] == 4 if mode == EX else r[2] in (3, 5))]
        if not good:
            raise Fail("%s: no announcement of %s %s{%s}%s; got %s" % (
                what, g, mode, " ".join(sorted(srcs)), " from " + src if src else "",
                [(RTYPE[t], gg, sorted(s), sa) for _, sa, t, gg, s in recs if gg == g][:6]))


def check_dones(agent_pkts, tl):
    """An MLDv1 Done only for a group no listener holds any more."""
    for p in agent_pkts:
        if p.type != 132:
            continue
        last = None
        for t0, _, st in tl.ev:
            if t0 <= p.ts:
                last = st
        if last is not None and p.group in last:
            raise Fail("%r: Done while the group is still held (%s)" % (p, fmt_state(last)))


# ---------------------------------------------------------------- tests

def t_mldv2_memberships(T):
    """MLDv2: joins, a leave, source changes, mode change, listener merges;
    mdb exact after each; GS/GSS queries after another host's leave/block
    answered; nothing ages out over a GMI; leaves clear the mdb fast."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    cfg = T.config("mldv2.yaml", yaml_listeners({"app": {
        "ff0e::10": None, "ff3e::11": (IN, S(1, 2)), "ff0e::12": (EX, S(9)), "ff3e::16": (IN, S(1, 2))}}))
    t0 = time.time()
    a = T.agent(lab, ["-c", cfg])
    st = Steps(lab, a, tl, {"ff0e::10": (EX, S()), "ff3e::11": (IN, S(1, 2)),
                            "ff0e::12": (EX, S(9)), "ff3e::16": (IN, S(1, 2))})
    tl.change(t0, dict(st.state))
    expect_agent_state(a, st.state, "start")
    wait_mdb(lab, st.state, 6, "start")
    st.do("join ASM ff0e::13", join(a, "ff0e::13"), {"ff0e::13": (EX, S())})
    # ALLOW{3} BLOCK{2}: the bridge queries 2 (GSSQ) and must not hear it back.
    st.do("source change ff3e::11 {1,2}->{1,3}",
          join(a, "ff3e::11", "include", *src(1, 3), "--listener", "app"), {"ff3e::11": (IN, S(1, 3))})
    # Listener merges (RFC 3810 4.2).
    st.do("merge EXCLUDE{9} + INCLUDE{9} = EXCLUDE{}",
          join(a, "ff0e::12", "include", *src(9), "--listener", "rec"), {"ff0e::12": (EX, S())})
    st.do("ff3e::14 a: INCLUDE{1,2}", join(a, "ff3e::14", "include", *src(1, 2), "--listener", "a"),
          {"ff3e::14": (IN, S(1, 2))})
    st.do("merge INCLUDE{1,2} + INCLUDE{2,3}", join(a, "ff3e::14", "include", *src(2, 3), "--listener", "b"),
          {"ff3e::14": (IN, S(1, 2, 3))})
    st.do("ff0e::15 a: EXCLUDE{1,2}", join(a, "ff0e::15", "exclude", *src(1, 2), "--listener", "a"),
          {"ff0e::15": (EX, S(1, 2))})
    st.do("merge EXCLUDE{1,2} + EXCLUDE{2,3} = EXCLUDE{2}",
          join(a, "ff0e::15", "exclude", *src(2, 3), "--listener", "b"), {"ff0e::15": (EX, S(2))})
    st.do("listener b leaves ff3e::14 -> INCLUDE{1,2}", leave(a, "ff3e::14", "--listener", "b"),
          {"ff3e::14": (IN, S(1, 2))})
    st.do("mode change ff0e::12 rec+app -> app EXCLUDE{7}, rec leaves",
          lambda: (a.ctl("join", "mld0", "ff0e::12", "exclude", *src(7), "--listener", "app"),
                   a.ctl("leave", "mld0", "ff0e::12", "--listener", "rec")),
          {"ff0e::12": (EX, S(7))})
    st.do("mode change ff3e::11 INCLUDE{1,3} -> EXCLUDE{7}",
          join(a, "ff3e::11", "exclude", *src(7), "--listener", "app"), {"ff3e::11": (EX, S(7))})
    a.wait_quiet()
    # Another host on the segment leaves ff0e::10 and blocks source 1 of
    # ff3e::16: the bridge asks (GSQ, GSSQ) and the agent must answer for
    # its own listeners, or the bridge drops them after LMQT.
    lab.send(mld_frame(FAKE_LL, "ff02::16", v2_report([(3, "ff0e::10", [])])))
    lab.send(mld_frame(FAKE_LL, "ff02::16", v2_report([(6, "ff3e::16", src(1))])))
    # Held over more than a GMI: nothing ages out, the forged leaves change nothing.
    hold_mdb(lab, st.state, GMI + 1.5, "held groups over a GMI after another host's leave/block")
    expect_agent_state(a, st.state, "after the hold")
    # A leave clears the group at once (LMQT), not after a GMI.
    took = st.do("leave ff0e::13", leave(a, "ff0e::13"), {"ff0e::13": None}, mdb_timeout=LMQT + 2.5)
    T.notes.append("leave cleared in %.1f s" % took)

    def leave_all():
        for g, lst in (("ff0e::10", "app"), ("ff3e::11", "app"), ("ff0e::12", "app"), ("ff3e::16", "app"),
                       ("ff3e::14", "a"), ("ff0e::15", "a"), ("ff0e::15", "b")):
            a.ctl("leave", "mld0", g, "--listener", lst)
    took = st.do("leave everything", leave_all, {g: None for g in list(st.state)}, mdb_timeout=LMQT + 2.5)
    T.notes.append("all cleared in %.1f s" % took)
    wait_for(lambda: not a.link()["groups"], 4, "show -j: no group left once the leaves are sent")
    check_capture(T, lab, cap, tl, need=[("gsq", "ff0e::10"), ("gssq", "ff3e::16")])


def t_mldv1_memberships(T):
    """Bridge with mcast_mld_version 1: the agent falls back to MLDv1;
    reports to the group, Done to ff02::2 only when the last listener
    leaves; GSQ after another host's Done answered; held over a GMI."""
    lab = T.lab("a", 1)
    cap = T.capture(lab)
    tl = Timeline()
    cfg = T.config("mldv1.yaml", yaml_listeners({"app": {
        "ff0e::20": None, "ff3e::21": (IN, S(1, 2)), "ff0e::22": (EX, S(9))}}))
    t0 = time.time()
    a = T.agent(lab, ["-c", cfg])
    v1 = lambda gs: {g: ("v1", S()) for g in gs}
    st = Steps(lab, a, tl, {"ff0e::20": (EX, S()), "ff3e::21": (IN, S(1, 2)), "ff0e::22": (EX, S(9))})
    tl.change(t0, dict(st.state))
    wait_for(lambda: (a.link()["version"] == 1, a.link()["version"]), QI + 2,
             "agent in MLDv1 compatibility mode (show -j version 1)")
    wait_mdb(lab, v1(st.state), 6, "start")
    st.do("join ff0e::23", join(a, "ff0e::23"), {"ff0e::23": (EX, S())}, mdb_want=v1(list(st.state) + ["ff0e::23"]))
    st.do("second listener on ff0e::20", join(a, "ff0e::20", "--listener", "other"), {},
          mdb_want=v1(st.state))
    st.do("first listener leaves ff0e::20 (no Done: another holds it)", leave(a, "ff0e::20", "--listener", "app"),
          {}, mdb_want=v1(st.state))
    st.do("source change ff3e::21 (v1 cannot say; still one report)",
          join(a, "ff3e::21", "include", *src(1, 3), "--listener", "app"), {"ff3e::21": (IN, S(1, 3))},
          mdb_want=v1(st.state))
    time.sleep(0.3)  # a stable timeline around the bridge's query
    lab.send(mld_frame(FAKE_LL, "ff02::2", v1_msg(132, "ff3e::21")))
    hold_mdb(lab, v1(st.state), GMI + 1.5, "held groups over a GMI after another host's Done")
    if a.link()["version"] != 1:
        raise Fail("agent left MLDv1 mode while the v1 querier is present")
    took = st.do("leave ff0e::23 (Done)", leave(a, "ff0e::23"), {"ff0e::23": None}, mdb_timeout=LMQT + 2.5,
                 mdb_want=v1([g for g in st.state if g != "ff0e::23"]))
    T.notes.append("leave cleared in %.1f s" % took)

    def leave_all():
        for g, lst in (("ff0e::20", "other"), ("ff3e::21", "app"), ("ff0e::22", "app")):
            a.ctl("leave", "mld0", g, "--listener", lst)
    st.do("leave everything", leave_all, {g: None for g in list(st.state)}, mdb_timeout=LMQT + 2.5, mdb_want={})
    pkts, mine = check_capture(T, lab, cap, tl, need=[("gsq", "ff3e::21")])
    check_dones(mine, tl)
    dones = sorted({p.group for p in mine if p.type == 132})
    if dones != sorted(["ff0e::20", "ff0e::22", "ff0e::23", "ff3e::21"]):
        raise Fail("Done sent for %s, expected one for each group left" % dones)
    # Once it speaks MLDv1 (the bridge keeps querying in v1), no v2 report.
    first_v1 = min((p.ts for p in mine if p.type == 131), default=None)
    if first_v1 is None:
        raise Fail("the agent never sent an MLDv1 report")
    late_v2 = [p for p in mine if p.type == 143 and p.ts > first_v1]
    if late_v2:
        raise Fail("%r: MLDv2 report after the switch to MLDv1" % late_v2[0])


def snapshot(agent):
    """Everything a refused input must leave alone: tunables, groups,
    merged filters and every listener's filter."""
    l = agent.link()
    return json.dumps({"tunables": l["tunables"], "groups": sorted(
        [g["group"], g["mode"], g["sources"],
         sorted([x["name"], x["mode"], x["sources"]] for x in g["listeners"])] for g in l["groups"])},
        sort_keys=True)


BAD_CONFIGS = [
    # (what, YAML, pattern of the one-line reason)
    ("YAML syntax error", "listeners:\n  - name: a\n   link: mld0\n",
     r"\.yaml:3:4: YAML syntax error"),
    ("unknown key", "tunables:\n  robustnes: 2\n", r"\.yaml:2:3: unknown key 'robustnes'"),
    ("bad duration", "tunables:\n  query-interval: 10\n", r"\.yaml:2:19: bad duration"),
    ("include without sources",
     "listeners:\n  - name: a\n    link: mld0\n    groups:\n      - group: ff0e::30\n        mode: include\n",
     r"\.yaml:6:15: mode include needs at least one source"),
    ("unicast group", "listeners:\n  - name: a\n    link: mld0\n    groups:\n      - group: 2001:db8::1\n",
     r"\.yaml:5:16: group '2001:db8::1' is not a multicast address"),
    ("alias", "listeners: &l []\nlinks: *l\n", r"\.yaml:2:\d+: .*alias"),
    ("sources above max-sources-per-listener",
     "tunables:\n  max-sources-per-listener: 2\nlisteners:\n  - name: a\n    link: mld0\n    groups:\n"
     "      - group: ff3e::1\n        mode: include\n        sources: [2001:db8::1, 2001:db8::2, 2001:db8::3]\n",
     r"\.yaml:9:9: .*above max-sources-per-listener 2"),
    ("bad listener name", "listeners:\n  - name: bad!\n    link: mld0\n", r"\.yaml:2:11: bad listener name"),
    ("listener on a link this agent does not manage",
     "listeners:\n  - name: a\n    link: eth9\n    groups:\n      - group: ff0e::30\n",
     r"link 'eth9' is not managed by this agent"),
]

BAD_COMMANDS = [
    # (argv, pattern in mldctl's stderr)
    ([], r"usage"),
    (["bogus"], r"unknown command 'bogus'"),
    (["join"], r"usage: join"),
    (["join", "mld0"], r"usage: join"),
    (["join", "mld0", "ff0e::40", "include"], r"include needs at least one source"),
    (["join", "mld0", "2001:db8::1"], r"not an IPv6 multicast address"),
    (["join", "mld0", "zzz"], r"not an IPv6 multicast address"),
    (["join", "eth9", "ff0e::40"], r"link 'eth9' is not managed"),
    (["join", "mld0", "ff0e::40", "include", "ff0e::2"], r"not an IPv6 unicast source"),
    (["join", "mld0", "ff0e::40", "exclude", "2001:db8::1", "include"], r"not an IPv6 unicast source"),
    (["join", "mld0", "ff0e::40", "include", "2001:db8::1", "--listener"], r"--listener needs a name"),
    (["join", "mld0", "ff0e::40", "--listener", "bad!name"], r"listener"),
    (["join", "mld0", "ff0e::40", "bogus"], r"unexpected argument 'bogus'"),
    (["join", "mld0", "ff3e::30", "include"] + src(*range(1, 131)), r"max|too many"),
    # merged filter over max-sources-per-group (3): {1,2} + {3,4}
    (["join", "mld0", "ff3e::30", "include"] + src(3, 4) + ["--listener", "c"], r"too many sources"),
    (["leave", "mld0", "ff0e::99"], r"leave ff0e::99"),
    (["leave", "mld0", "ff3e::30", "--listener", "nobody"], r"nobody"),
    (["leave", "mld0"], r"usage: leave"),
    (["show", "extra"], r"unknown command"),
    (["stats", "-x"], r"unknown command"),
    (["reload", "now"], r"unknown command"),
]


def t_refused_input(T):
    """Invalid YAML (at start, on SIGHUP, on mldctl reload — including a
    diff only the engine's merged-filter limit catches, at its last step)
    and bad mldctl commands are refused with a line-numbered reason; state,
    mdb and wire unchanged."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    # At start: the agent exits non-zero and says why.
    for i, (what, text, pat) in enumerate(BAD_CONFIGS[:2] + BAD_CONFIGS[-1:]):
        path = T.config("start-bad%d.yaml" % i, text)
        ag = Agent(T, lab, ["-c", path], name="startbad%d" % i)
        try:
            rc = ag.proc.wait(10)
        except subprocess.TimeoutExpired:
            raise Fail("start with %s: agent still running" % what)
        if rc == 0 or not re.search(pat, ag.logtext()):
            raise Fail("start with %s: exit %d, log %r; expected non-zero and /%s/" % (
                what, rc, ag.logtext().strip()[-300:], pat))
    if lab.hlink().get("xdp"):
        raise Fail("a refused start left an XDP program on mld0")
    tl = Timeline()
    good = yaml_listeners({"a": {"ff3e::30": (IN, S(1, 2)), "ff0e::32": None}, "b": {"ff0e::33": (EX, S(9))}},
                          "tunables:\n  max-sources-per-group: 3\n")
    state = {"ff3e::30": (IN, S(1, 2)), "ff0e::32": (EX, S()), "ff0e::33": (EX, S(9))}
    path = T.config("refused.yaml", good)
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    tl.change(t0, state)
    wait_mdb(lab, state, 6, "start")
    a.wait_quiet()
    snap = snapshot(a)
    t_phase = time.time()

    def unchanged(what):
        if snapshot(a) != snap:
            raise Fail("%s changed the agent's state: %s" % (what, snapshot(a)))
        if lab.mdb() != state:
            raise Fail("%s changed the mdb: %s" % (what, fmt_state(lab.mdb())))

    # Only the last operation of this diff breaks a limit (a merged filter
    # over max-sources-per-group, which the config loader cannot see),
    # after a removal, a change and an addition: refused as a whole, and
    # nothing may reach the wire (no change-and-revert flap).
    late = ("diff whose last step breaks max-sources-per-group", yaml_listeners(
        {"a": {"ff3e::30": (IN, S(1, 3)), "ff0e::2f": None}, "b": {"ff0e::33": (EX, S(9)),
                                                                 "ff3e::31": (IN, S(3, 4, 5, 6))}},
        "tunables:\n  max-sources-per-group: 3\n"), r"ff3e::31 on mld0: too many sources")
    for what, text, pat in BAD_CONFIGS + [late]:
        with open(path, "w") as f:
            f.write(text)
        n = a.logtext().count("reload refused")
        a.kill_with(signal.SIGHUP)
        wait_for(lambda: a.logtext().count("reload refused") > n, 3, "SIGHUP with %s: refusal logged" % what)
        line = [l for l in a.logtext().splitlines() if "reload refused" in l][-1]
        if not re.search(pat, line):
            raise Fail("SIGHUP with %s: logged %r, expected /%s/" % (what, line, pat))
        unchanged("SIGHUP with " + what)
        r = a.ctl_raw("reload")
        if r.returncode != 1 or not re.search(pat, r.stderr):
            raise Fail("mldctl reload with %s: exit %d, %r; expected 1 and /%s/" % (
                what, r.returncode, r.stderr.strip(), pat))
        unchanged("mldctl reload with " + what)
    os.unlink(path)
    r = a.ctl_raw("reload")
    if r.returncode != 1 or "No such file" not in r.stderr:
        raise Fail("reload of a missing file: exit %d %r" % (r.returncode, r.stderr))
    unchanged("reload of a missing file")
    for argv, pat in BAD_COMMANDS:
        r = a.ctl_raw(*argv)
        if r.returncode == 0 or not re.search(pat, r.stderr, re.I):
            raise Fail("mldctl %s: exit %d, stderr %r; expected a refusal matching /%s/" % (
                " ".join(argv)[:80], r.returncode, r.stderr.strip()[:200], pat))
        unchanged("mldctl " + " ".join(argv)[:60])
    r = run([MLDCTL, "-S", lab.dir + "/nobody.sock", "show"], check=False)
    if r.returncode != 1 or "cannot reach" not in r.stderr:
        raise Fail("mldctl on a dead socket: exit %d %r" % (r.returncode, r.stderr))
    t_end = time.time()
    # Still alive and well: the good file reloads (an empty diff).
    with open(path, "w") as f:
        f.write(good)
    a.ctl("reload")
    unchanged("reloading the unchanged good file")
    time.sleep(0.5)
    pkts, mine = check_capture(T, lab, cap, tl)
    sc = state_changes(mine, t_phase, t_end + 0.5)
    dones = [p for p in mine if p.type == 132 and p.ts >= t_phase]
    if sc or dones:
        raise Fail("refused input put state changes on the wire: %s" % (sc[:3] or dones[:3]))
    T.notes.append("%d bad files x (SIGHUP, reload), %d bad commands" % (len(BAD_CONFIGS) + 1, len(BAD_COMMANDS)))


DIFF_A = {"l1": {"ff0e::41": None, "ff3e::42": (IN, S(1, 2)), "ff0e::43": (EX, S(9))},
          "l2": {"ff0e::44": None, "ff3e::45": (IN, S(5))}}
# Same memberships but three, reordered and reformatted, tunables changed.
DIFF_B = """# reordered and reformatted: only ff3e::42, ff3e::45 and ff0e::46 change
tunables: {unsolicited-report-interval: 700ms}
listeners:
  - name: l2
    link: mld0
    groups:
      - {group: 'ff0e::46'}            # added
      - group: "ff0e:0::44"            # same group, other spelling
  - link: mld0
    name: l1
    groups:
      - group: ff0e::43
        sources: [2001:db8::9]
        mode: exclude
      - group: ff3e::42
        mode: include
        sources: [2001:db8::3, 2001:db8::1, 2001:db8::1]   # 2 -> 3
      - group: ff0e::41
"""


def t_reload_diff(T):
    """SIGHUP and mldctl reload apply only the diff: only changed
    memberships produce state-change records (checked on the capture);
    a reformatted file and tunables-only changes send nothing."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("diff.yaml", yaml_listeners(DIFF_A))
    state = {"ff0e::41": (EX, S()), "ff3e::42": (IN, S(1, 2)), "ff0e::43": (EX, S(9)),
             "ff0e::44": (EX, S()), "ff3e::45": (IN, S(5))}
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    st = Steps(lab, a, tl, state)
    tl.change(t0, dict(st.state))
    wait_mdb(lab, st.state, 6, "start")
    a.wait_quiet()
    windows = []

    def reload(what, text, how, changes):
        with open(path, "w") as f:
            f.write(text)
        t = time.time()
        if how == "SIGHUP":
            n = a.logtext().count("configuration reloaded")
            st.do(what, lambda: (a.kill_with(signal.SIGHUP), wait_for(
                lambda: a.logtext().count("configuration reloaded") > n, 3, what + ": reload logged")),
                changes)
        else:
            st.do(what, lambda: a.ctl("reload"), changes)
        a.wait_quiet()
        windows.append((what, t, time.time()))
        time.sleep(0.3)

    reload("SIGHUP: reordered file, three memberships changed", DIFF_B, "SIGHUP",
           {"ff3e::42": (IN, S(1, 3)), "ff3e::45": None, "ff0e::46": (EX, S())})
    c = DIFF_B.replace("sources: [2001:db8::9]", "sources: [2001:db8::9, 2001:db8::a]")
    reload("mldctl reload: ff0e::43 EXCLUDE{9} -> {9,a}", c, "ctl", {"ff0e::43": (EX, S(9, 10))})
    reload("mldctl reload: tunables only", c.replace("700ms", "2s") + "links:\n  - name: mld0\n"
           "    tunables: {robustness: 3}\n", "ctl", {})
    # The judged time ends here: a general query of the bridge's in the
    # last second would be judged without its answer, which comes after
    # the capture stops.
    tl.change(time.time(), None)
    pkts, mine = check_capture(T, lab, cap, tl)
    want = [{("ff3e::42", 5, S(3)), ("ff3e::42", 6, S(2)), ("ff3e::45", 6, S(5)), ("ff0e::46", 4, S())},
            {("ff0e::43", 6, S(10))}, set()]
    for (what, t0, t1), w in zip(windows, want):
        got = {(g, t, s) for _, _, t, g, s in state_changes(mine, t0, t1)}
        if got != w:
            fmt = lambda x: sorted("%s %s{%s}" % (RTYPE[t], g, " ".join(sorted(s))) for g, t, s in x)
            raise Fail("%s: state-change records on the wire %s, expected exactly %s" % (what, fmt(got), fmt(w)))
    if a.link()["tunables"]["robustness"] != 3 or a.link()["tunables"]["unsolicited_report_interval_ms"] != 2000:
        raise Fail("tunables-only reload not applied: %s" % a.link()["tunables"])


def t_link_down_up(T):
    """Link down: the bridge forgets the port; link up: the agent
    re-announces every group at once (from :: while the link-local address
    is tentative, again from the address once valid); mdb back."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("updown.yaml", yaml_listeners({"app": {"ff0e::50": None, "ff3e::51": (IN, S(1, 2)),
                                                           "ff0e::52": (EX, S(9))}}))
    state = {"ff0e::50": (EX, S()), "ff3e::51": (IN, S(1, 2)), "ff0e::52": (EX, S(9))}
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    tl.change(t0, state)
    wait_mdb(lab, state, 6, "start")
    a.wait_quiet()
    ll, _ = lab.lladdr()
    t_down = time.time()
    lab.hx("ip", "link", "set", "mld0", "down")
    wait_for(lambda: not a.link()["up"], 3, "show -j: link down")
    wait_mdb(lab, {}, 3, "link down: bridge port disabled")
    time.sleep(0.5)
    t_up = time.time()
    lab.hx("ip", "link", "set", "mld0", "up")
    wait_for(lambda: a.link()["up"], 3, "show -j: link up")
    wait_mdb(lab, state, 4, "link up: re-announced")
    took = time.time() - t_up
    wait_for(lambda: (a.link()["link_local_state"] == "valid", a.link()["link_local_state"]), 5,
             "link-local valid again")
    t_valid = time.time()
    tl.change(t_down, state, t_valid)
    a.wait_quiet()
    time.sleep(0.3)
    pkts, mine = check_capture(T, lab, cap, tl)
    if any(t_down + 0.1 < p.ts < t_up for p in mine):
        raise Fail("agent sent while its link was down")
    announce_ok(state_changes(mine, t_up, t_up + 1.5), state, "re-announce within 1.5 s of link up")
    ll_back = [p for p in mine if p.ts > t_up and p.src == ll]
    if not ll_back:
        raise Fail("nothing from %s after link up" % ll)
    announce_ok(state_changes(mine, ll_back[0].ts - 0.01, ll_back[0].ts + 2.5), state,
                "re-announce once %s is valid again" % ll, src=ll)
    T.notes.append("mdb back %.2f s after up" % took)


def t_linklocal_rfc3590(T):
    """Link-local address removed: reports from :: (RFC 3590), which the
    snooping bridge accepts; re-added: tentative during DAD, then valid and
    every group re-announced from the address."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("ll.yaml", yaml_listeners({"app": {"ff0e::60": None, "ff3e::61": (IN, S(1))}}))
    state = {"ff0e::60": (EX, S()), "ff3e::61": (IN, S(1))}
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    st = Steps(lab, a, tl, state)
    tl.change(t0, dict(st.state))
    wait_mdb(lab, st.state, 6, "start")
    a.wait_quiet()
    ll, info = lab.lladdr()
    if a.link()["link_local"] != ll:
        raise Fail("show -j link_local %s, kernel has %s" % (a.link()["link_local"], ll))
    t_del = time.time()
    lab.hx("ip", "-6", "addr", "del", "%s/%d" % (ll, info["prefixlen"]), "dev", "mld0")
    wait_for(lambda: (a.link()["link_local_state"] == "none", a.link()["link_local_state"]), 3,
             "show -j: link-local none after the address was deleted")
    t_join = time.time()
    st.do("join ff0e::62 with no link-local address", join(a, "ff0e::62"), {"ff0e::62": (EX, S())})
    # A general query answered from ::
    n = a.stats()["engine"]["rx_v2_general"]
    wait_for(lambda: a.stats()["engine"]["rx_v2_general"] > n, QI + 2, "a general query heard")
    time.sleep(QRI + SLACK)
    t_add = time.time()
    lab.hx("ip", "-6", "addr", "add", "%s/%d" % (ll, info["prefixlen"]), "dev", "mld0")
    seen = set()
    # The latest moment the agent is known to have had no usable address:
    # the start of the last `show -j` that still said so. (When the test
    # merely observes "valid" is later than the agent's own transition,
    # and the re-announcement from the address happens at that transition.)
    last_unusable = [t_del]

    def valid():
        t_ask = time.time()
        l = a.link()
        seen.add(l["link_local_state"])
        ok = l["link_local_state"] == "valid" and l["link_local"] == ll
        if not ok:
            last_unusable[0] = t_ask
        return ok, l["link_local_state"]
    wait_for(valid, 5, "show -j: %s valid after DAD" % ll, 0.05)
    t_valid = time.time()
    if "tentative" not in seen:
        raise Fail("never saw the re-added address tentative (states seen: %s)" % sorted(seen))
    a.wait_quiet()
    wait_mdb(lab, st.state, 3, "after re-adding the address")
    time.sleep(0.3)
    pkts, mine = check_capture(T, lab, cap, tl)
    early = [p for p in mine if t_del + 0.05 < p.ts < last_unusable[0] - 0.05 and p.src != "::"]
    if early:
        raise Fail("%r: sent from an address while none was usable" % early[0])
    recs = state_changes(mine, t_join, t_join + 1.0)
    if not any(r[3] == "ff0e::62" and r[2] == 4 and r[1] == "::" for r in recs):
        raise Fail("join without a link-local address: no TO_EX{} for ff0e::62 from ::; got %s" % recs)
    gq = [p for p in mine if t_join < p.ts < t_add and p.src == "::"
          and {g for t, g, _ in p.records if t in (1, 2)} >= set(st.state)]
    if not gq:
        raise Fail("no general-query answer from :: covering every group")
    announce_ok(state_changes(mine, t_valid - 0.3, t_valid + 2.5), st.state,
                "re-announce after the address became valid", src=ll)


def pinned_keys(agent, name, field):
    """bpftool's view of a pinned map keyed by (ifindex, 16-octet address
    field): {(ifindex, address)}."""
    r = run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(agent.pin, name)])
    out = set()
    for e in json.loads(r.stdout):
        k = e.get("formatted", {}).get("key")
        if k is None:
            raise Fail("bpftool map dump has no BTF-formatted key: %r" % e)
        out.add((k["ifindex"], canon(bytes(k[field]))))
    return out


def member_map(agent):
    """The pinned member map: {(ifindex, group)}."""
    return pinned_keys(agent, "mld_members", "group")


def local_map(agent):
    """The pinned mld_local_addrs: {(ifindex, address)}."""
    return pinned_keys(agent, "mld_local_addrs", "addr")


def querier_map(agent):
    """The pinned mld_querier (an array of sets of links): {(ifindex,
    querier's address)} of its used ways."""
    r = run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(agent.pin, "mld_querier")])
    out = set()
    for e in json.loads(r.stdout):
        v = e.get("formatted", {}).get("value")
        if v is None:
            raise Fail("bpftool map dump has no BTF-formatted value: %r" % e)
        out |= {(w["ifindex"], canon(bytes(w["addr"]))) for w in v["way"] if w["ifindex"]}
    return out


def t_ifindex_change(T):
    """The interface is deleted and re-created (new veth pair, new ifindex
    and MAC): the agent re-attaches XDP, moves its member map, its
    local-address map and its querier entry (mld_querier) to the new index
    and re-announces; the bridge learns everything again."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("ifx.yaml", yaml_listeners({"app": {"ff0e::70": None, "ff3e::71": (IN, S(1, 2))}}))
    state = {"ff0e::70": (EX, S()), "ff3e::71": (IN, S(1, 2))}
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    tl.change(t0, state)
    wait_mdb(lab, state, 6, "start")
    a.wait_quiet()
    old = lab.ifindex()
    if member_map(a) != {(old, g) for g in state}:
        raise Fail("member map before: %s" % member_map(a))
    if (old, lab.lladdr()[0]) not in local_map(a):
        raise Fail("local-address map before: %s, no (%d, %s)" % (local_map(a), old, lab.lladdr()[0]))
    wait_for(lambda: a.link()["querier"]["address"], 6, "the bridge's general query (show -j querier)")
    q = a.link()["querier"]["address"]
    if querier_map(a) != {(old, q)}:
        raise Fail("querier map before: %s, expected {(%d, %s)}" % (querier_map(a), old, q))
    time.sleep(0.2)
    t_del = time.time()
    tl.change(t_del, None)
    check_capture(T, lab, cap, tl)  # vq0 goes away with the pair
    lab.qx("ip", "link", "del", "vq0")
    wait_for(lambda: "interface deleted" in a.logtext(), 3, "agent noticed the deletion")
    wait_for(lambda: (not member_map(a), member_map(a)), 3, "member map emptied while the interface is gone")
    wait_for(lambda: (not local_map(a), local_map(a)), 3, "local-address map emptied with the interface")
    wait_for(lambda: (not querier_map(a), querier_map(a)), 3, "querier map emptied with the interface")
    lab.sh("lab_veth", "noup")
    lab.agent_macs = {lab.hmac()}
    new = lab.ifindex()
    cap2 = T.capture(lab, "cap2")
    t_up = time.time()
    lab.hx("ip", "link", "set", "mld0", "up")
    wait_for(lambda: "back as ifindex %d (was %d)" % (new, old) in a.logtext(), 3,
             "log: back as ifindex %d (was %d)" % (new, old))
    wait_for(lambda: (a.link()["ifindex"] == new and a.link()["xdp"] == "native" and a.link()["up"],
                      {k: a.link()[k] for k in ("ifindex", "xdp", "up")}), 3, "show -j: new ifindex, XDP, up")
    if not lab.hlink().get("xdp"):
        raise Fail("ip -d link show mld0: no XDP program on the new interface")
    wait_mdb(lab, state, 5, "re-created interface: re-announced")
    took = time.time() - t_up
    wait_for(lambda: a.link()["link_local_state"] == "valid", 5, "new link-local valid")
    t_valid = time.time()
    tl.change(t_del, state, t_valid)
    if member_map(a) != {(new, g) for g in state}:
        raise Fail("member map after: %s, expected ifindex %d" % (member_map(a), new))
    if (new, lab.lladdr()[0]) not in local_map(a) or any(i != new for i, _ in local_map(a)):
        raise Fail("local-address map after: %s, expected ifindex %d's link-local" % (local_map(a), new))
    if querier_map(a) != {(new, a.link()["querier"]["address"])}:
        raise Fail("querier map after: %s, expected {(%d, %s)}" % (querier_map(a), new,
                                                                     a.link()["querier"]["address"]))
    a.wait_quiet()
    time.sleep(0.3)
    pkts, mine = check_capture(T, lab, cap2, tl)
    announce_ok(state_changes(mine, t_up, t_up + 1.5), state, "re-announce within 1.5 s of the new link up")
    T.notes.append("ifindex %d -> %d, mdb back %.2f s after up" % (old, new, took))


def t_sigterm_final_leave(T):
    """SIGTERM: leave records for every group (merged ones once), the
    bridge forgets them well before its GMI, the agent exits 0, unpins,
    detaches XDP and frees its pin dir for the next agent."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("term.yaml", yaml_listeners({"app": {"ff0e::80": None, "ff3e::81": (IN, S(1, 2)),
                                                         "ff0e::82": (EX, S(9))}}))
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    a.ctl("join", "mld0", "ff0e::80", "exclude", *src(3), "--listener", "other")
    a.ctl("join", "mld0", "ff0e::83")
    state = {"ff0e::80": (EX, S()), "ff3e::81": (IN, S(1, 2)), "ff0e::82": (EX, S(9)), "ff0e::83": (EX, S())}
    tl.change(t0, state)
    wait_mdb(lab, state, 6, "start")
    a.wait_quiet()
    time.sleep(0.2)
    t_term = time.time()
    tl.change(t_term, None)
    a.kill_with(signal.SIGTERM)
    took = wait_mdb(lab, {}, GMI / 2, "after SIGTERM: final leaves")
    try:
        rc = a.proc.wait(6)
    except subprocess.TimeoutExpired:
        raise Fail("agent still running 6 s after SIGTERM")
    t_exit = time.time()
    if rc != 0:
        raise Fail("agent exited %d after SIGTERM: %s" % (rc, a.logtext()[-300:]))
    log = a.logtext()
    if "leaving all groups" not in log or "stopped" not in log:
        raise Fail("log lacks the final-leave/stopped lines: %r" % log[-300:])
    if os.path.exists(a.pin) or os.path.exists(a.sock):
        raise Fail("pin dir or control socket left behind: %s" % [p for p in (a.pin, a.sock) if os.path.exists(p)])
    if lab.hlink().get("xdp"):
        raise Fail("XDP program still attached to mld0 after exit")
    pkts, mine = check_capture(T, lab, cap, tl)
    recs = state_changes(mine, t_term, t_exit)
    for g, (mode, srcs) in state.items():
        ok = [r for r in recs if r[3] == g and ((r[2] == 3 and not r[4]) or (mode == IN and r[2] == 6 and r[4] == srcs))]
        if not ok:
            raise Fail("no final leave for %s %s (got %s)" % (g, mode, [(RTYPE[r[2]], sorted(r[4])) for r in recs if r[3] == g]))
    claims = [p for p in mine if p.ts > t_term + 0.05 and any(t in (1, 2, 4, 5) for t, _, _ in p.records)]
    if claims:
        raise Fail("%r: membership claimed after SIGTERM" % claims[0])
    # The pin dir and its lock are free again.
    b = T.agent(lab, [], name="again", pin=a.pin, sock=a.sock)
    if b.stop() != 0:
        raise Fail("second agent on the freed pin dir: exit %d" % b.proc.returncode)
    T.notes.append("bridge forgot every group %.1f s after SIGTERM (GMI %.0f s)" % (took, GMI))


def t_multi_agent(T):
    """Two agents in two labs, each with its own --pin-dir and -S, side by
    side; a third on the first one's pin dir and a fourth on its control
    socket are refused with a clear message and disturb nothing."""
    la, lb = T.lab("a", 2), T.lab("b", 2)
    ca, cb = T.capture(la), T.capture(lb)
    ta, tb = Timeline(), Timeline()
    sa = {"ff0e::a1": (EX, S()), "ff3e::a2": (IN, S(1))}
    sb = {"ff0e::b1": (EX, S(2)), "ff3e::b2": (IN, S(3, 4))}
    t0 = time.time()
    aa = T.agent(la, ["-c", T.config("a.yaml", yaml_listeners({"x": {"ff0e::a1": None, "ff3e::a2": (IN, S(1))}}))])
    ab = T.agent(lb, ["-c", T.config("b.yaml", yaml_listeners({"y": {"ff0e::b1": (EX, S(2)),
                                                                     "ff3e::b2": (IN, S(3, 4))}}))])
    ta.change(t0, sa)
    tb.change(t0, sb)
    wait_mdb(la, sa, 6, "lab a")
    wait_mdb(lb, sb, 6, "lab b")
    ma, mb = member_map(aa), member_map(ab)
    if ma != {(la.ifindex(), g) for g in sa} or mb != {(lb.ifindex(), g) for g in sb}:
        raise Fail("member maps: a %s, b %s" % (ma, mb))
    dup = Agent(T, lb, [], name="dup-pin", pin=aa.pin, sock=os.path.join(lb.dir, "dup.sock"))
    try:
        rc = dup.proc.wait(10)
    except subprocess.TimeoutExpired:
        raise Fail("agent on an in-use pin dir still running")
    want = "pin directory %s is in use by another mldagent (pid %d)" % (aa.pin, aa.pid)
    if rc == 0 or want not in dup.logtext():
        raise Fail("agent on an in-use pin dir: exit %d, %r; expected non-zero and %r" % (
            rc, dup.logtext().strip()[-300:], want))
    dpin = os.path.join(lb.dir, "bpffs", "dup")
    dup2 = Agent(T, lb, [], name="dup-sock", pin=dpin, sock=aa.sock)
    try:
        rc = dup2.proc.wait(10)
    except subprocess.TimeoutExpired:
        raise Fail("agent on an in-use control socket still running")
    want = "control socket %s is in use by a running agent" % aa.sock
    if rc == 0 or want not in dup2.logtext():
        raise Fail("agent on an in-use socket: exit %d, %r; expected non-zero and %r" % (
            rc, dup2.logtext().strip()[-300:], want))
    if os.path.exists(dpin):
        raise Fail("refused agent left its pin dir %s behind" % dpin)
    if member_map(aa) != ma or member_map(ab) != mb or la.mdb() != sa or lb.mdb() != sb:
        raise Fail("refused agents disturbed the running ones")
    if not aa.state() or aa.state() != {g: (m, s) for g, (m, s) in sa.items()}:
        raise Fail("agent a's state after the refusals: %s" % fmt_state(aa.state()))
    aa.ctl("join", "mld0", "ff0e::a3")
    ab.ctl("leave", "mld0", "ff3e::b2", "--listener", "y")
    t1 = time.time()
    sa2, sb2 = dict(sa, **{"ff0e::a3": (EX, S())}), {"ff0e::b1": (EX, S(2))}
    ta.change(t1, sa2)
    tb.change(t1, sb2)
    wait_mdb(la, sa2, 5, "lab a after a join")
    wait_mdb(lb, sb2, 5, "lab b after a leave")
    check_capture(T, la, ca, ta)
    check_capture(T, lb, cb, tb)


def t_ctl_json_and_maps(T):
    """mldctl show -j / stats -j are valid JSON with the expected content
    (link, addresses, the querier's address and learned timers, groups,
    listeners, counters consistent with the capture); bpftool dumps the
    pinned member map and the querier map."""
    lab = T.lab("a", 2)
    cap = T.capture(lab)
    tl = Timeline()
    path = T.config("json.yaml", yaml_listeners({"app": {"ff0e::90": None, "ff3e::91": (IN, S(1, 2))}}))
    t0 = time.time()
    a = T.agent(lab, ["-c", path])
    a.ctl("join", "mld0", "ff0e::92", "exclude", *src(1, 2))
    a.ctl("join", "mld0", "ff3e::91", "include", *src(3), "--listener", "rec")
    state = {"ff0e::90": (EX, S()), "ff3e::91": (IN, S(1, 2, 3)), "ff0e::92": (EX, S(1, 2))}
    listeners = {"ff0e::90": {"app": (EX, S())}, "ff3e::91": {"app": (IN, S(1, 2)), "rec": (IN, S(3))},
                 "ff0e::92": {"mldctl": (EX, S(1, 2))}}
    tl.change(t0, state)
    wait_mdb(lab, state, 6, "start")
    a.wait_quiet()
    n = a.stats()["engine"]["rx_v2_general"]
    wait_for(lambda: a.stats()["engine"]["rx_v2_general"] > n, QI + 2, "a general query heard")
    time.sleep(QRI + SLACK)
    show = a.show()
    links = show.get("links")
    if not isinstance(links, list) or len(links) != 1:
        raise Fail("show -j links: %r" % links)
    l = links[0]
    ll, _ = lab.lladdr()
    want = {"name": "mld0", "present": True, "ifindex": lab.ifindex(), "up": True, "mtu": 1500, "xdp": "native",
            "version": 2, "link_local": ll, "link_local_state": "valid",
            "querier": {"address": lab.bridge_lladdr(), "robustness": 2, "query_interval_ms": int(QI * 1000),
                        "query_response_interval_ms": int(QRI * 1000)}}
    bad = {k: (l.get(k), v) for k, v in want.items() if l.get(k) != v}
    if bad:
        raise Fail("show -j link fields (got, expected): %s" % bad)
    tun = l.get("tunables", {})
    if (tun.get("robustness"), tun.get("query_interval_ms"), tun.get("max_sources_per_listener")) != (2, 125000, 128):
        raise Fail("show -j tunables: %s" % tun)
    groups = {canon(g["group"]): g for g in l["groups"]}
    if set(groups) != set(state):
        raise Fail("show -j groups %s, expected %s" % (sorted(groups), sorted(state)))
    for g, (mode, srcs) in state.items():
        x = groups[g]
        lst = {y["name"]: (y["mode"], frozenset(y["sources"])) for y in x["listeners"]}
        if (x["mode"], frozenset(x["sources"])) != (mode, srcs) or lst != listeners[g] \
                or x["state"] != "REPORTING" or x["state_change_in_ms"] != -1:
            raise Fail("show -j group %s: %s" % (g, x))
    t_a = time.time()
    stats = a.stats()
    t_b = time.time()
    for sec in ("engine", "xdp", "daemon"):
        if not isinstance(stats.get(sec), dict) or not all(isinstance(v, int) and v >= 0 for v in stats[sec].values()):
            raise Fail("stats -j %s: %r" % (sec, stats.get(sec)))
    e, x, d = stats["engine"], stats["xdp"], stats["daemon"]
    checks = [
        ("engine.rx_v2_general >= 1", e["rx_v2_general"] >= 1),
        ("engine.tx_v2_reports >= 2", e["tx_v2_reports"] >= 2),
        ("engine.tx_v2_records >= tx_v2_reports", e["tx_v2_records"] >= e["tx_v2_reports"]),
        ("no v1 traffic", e["tx_v1_reports"] == 0 and e["tx_v1_done"] == 0 and e["rx_v1_queries"] == 0),
        ("xdp.v2_general_query >= engine.rx_v2_general", x.get("v2_general_query", -1) >= e["rx_v2_general"]),
        ("xdp.events == daemon.rx_events", x.get("events") == d["rx_events"]),
        ("daemon.tx_packets == engine reports", d["tx_packets"] == e["tx_v2_reports"] + e["tx_v1_reports"] + e["tx_v1_done"]),
        ("daemon.tx_errors == 0", d["tx_errors"] == 0),
        ("daemon.rx_event_errors == 0", d["rx_event_errors"] == 0),
        ("no drops", not any(v for k, v in e.items() if k.startswith("drop_"))),
    ]
    bad = [c for c, ok in checks if not ok]
    if bad:
        raise Fail("stats -j: %s failed: %s" % (bad, stats))
    if member_map(a) != {(lab.ifindex(), g) for g in state}:
        raise Fail("bpftool member map %s" % member_map(a))
    if querier_map(a) != {(lab.ifindex(), lab.bridge_lladdr())}:
        raise Fail("bpftool querier map %s, expected br0's %s" % (querier_map(a), lab.bridge_lladdr()))
    a.ctl("leave", "mld0", "ff0e::92")
    t_l = time.time()
    tl.change(t_l, {g: v for g, v in state.items() if g != "ff0e::92"})
    if member_map(a) != {(lab.ifindex(), g) for g in state if g != "ff0e::92"}:
        raise Fail("bpftool member map after a leave: %s" % member_map(a))
    for name in ("mld_counters", "mld_config"):
        r = run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(a.pin, name)])
        if not json.loads(r.stdout):
            raise Fail("bpftool map dump pinned %s is empty" % name)
    time.sleep(0.3)
    pkts, mine = check_capture(T, lab, cap, tl)
    lo = sum(1 for p in mine if p.ts <= t_a - 0.02)
    hi = sum(1 for p in mine if p.ts <= t_b + 0.05)
    if not lo <= d["tx_packets"] <= hi:
        raise Fail("daemon.tx_packets %d, but the capture has %d..%d agent frames by then" % (d["tx_packets"], lo, hi))
    T.notes.append("tx_packets %d = captured" % d["tx_packets"])


def t_oracle_selftest(T):
    """The capture oracle and the mdb/state comparison can fail: synthetic
    captures with a missing answer, a wrong IS_EX list, an IS_IN beyond the
    filter, a record for a group not held, a wrong GSSQ answer, and a v1
    report for a group left are all caught; right ones pass."""
    br, ag = b"\x02\xbb\0\0\0\x01", b"\x02\xaa\0\0\0\x01"

    def pkt(ts, smac, typ, group=None, qsrcs=(), records=(), mrd=1.0):
        p = Pkt()
        p.n, p.ts, p.smac, p.type, p.group, p.mrd = 0, ts, smac, typ, group, mrd
        p.qsrcs = frozenset(qsrcs)
        p.records = [(t, g, frozenset(s)) for t, g, s in records]
        p.src, p.dst, p.frame = "fe80::1", "ff02::16", b""
        return p
    st = {"ff0e::1": (EX, S(9)), "ff3e::2": (IN, S(1, 2))}
    tl = Timeline()
    tl.change(0.0, st, 0.5)
    gq = pkt(10.0, br, 130, "::")
    full = pkt(10.4, ag, 143, records=[(2, "ff0e::1", S(9)), (1, "ff3e::2", S(1, 2))])
    gssq = pkt(20.0, br, 130, "ff3e::2", qsrcs=S(2, 3))
    part = pkt(20.5, ag, 143, records=[(1, "ff3e::2", S(2))])
    gsq = pkt(30.0, br, 130, "ff0e::1")
    isex = pkt(30.2, ag, 143, records=[(2, "ff0e::1", S(9))])
    cases = [
        ("right answers", [gq, full, gssq, part, gsq, isex], [], 2, 0),
        ("general query not answered (two groups)", [gq, gssq, part], [], 2, 2),
        ("answer too late (two groups)", [gq, pkt(11.7, ag, 143, records=full.records)], [], 2, 2),
        ("IS_EX with the wrong list", [gsq, pkt(30.2, ag, 143, records=[(2, "ff0e::1", S())])], [], 2, 2),
        ("IS_IN beyond the INCLUDE filter", [pkt(5.0, ag, 143, records=[(1, "ff3e::2", S(1, 7))])], [], 2, 1),
        ("IS_IN for an excluded source", [pkt(5.0, ag, 143, records=[(1, "ff0e::1", S(9))])], [], 2, 1),
        ("record for a group not held", [pkt(5.0, ag, 143, records=[(2, "ff0e::7", S())])], [], 2, 1),
        ("GSSQ answered with a source not asked for... and not held",
         [gssq, pkt(20.5, ag, 143, records=[(1, "ff3e::2", S(3))])], [], 2, 2),
        ("GSSQ answered with the full state", [gssq, pkt(20.5, ag, 143, records=[(1, "ff3e::2", S(1, 2))])],
         [], 2, 0),
        ("needed GSQ never seen", [gq, full], [("gsq", "ff0e::1")], 2, 1),
        ("v1 report for a group not held", [pkt(5.0, ag, 131, "ff0e::7")], [], 1, 1),
        ("v1 GSQ answered", [pkt(30.0, br, 130, "ff0e::1"), pkt(30.5, ag, 131, "ff0e::1")], [], 1, 0),
        ("v1 GSQ not answered", [pkt(30.0, br, 130, "ff0e::1"), pkt(30.5, ag, 131, "ff3e::2")], [], 1, 1),
        ("answer while the state changes is not judged",
         [pkt(0.3, ag, 143, records=[(2, "ff0e::7", S())])], [], 2, 0),
        # (until: the capture stopped at 10.5 s, inside gq's window; 40.0 after it)
        ("query whose window the capture cut is not judged", [gq], [], 2, 0, 10.5),
        ("query whose window the capture saw whole is judged", [gq], [], 2, 2, 40.0),
    ]
    for what, pkts, need, version, nbad, *until in cases:
        problems = []
        oracle(pkts, [p for p in pkts if p.smac == ag], {br}, tl, version, problems, need,
               until=until[0] if until else None)
        if len(problems) != nbad:
            raise Fail("oracle on '%s': %d problem(s), expected %d: %s" % (what, len(problems), nbad, problems))
    check = Timeline()
    check.change(0.0, {"ff0e::1": (EX, S())}, 1.0)
    check.change(5.0, {}, 5.1)
    dones = [pkt(2.0, ag, 132, "ff0e::1")]
    try:
        check_dones(dones, check)
    except Fail:
        pass
    else:
        raise Fail("check_dones passed a Done for a group still held")
    check_dones([pkt(5.05, ag, 132, "ff0e::1")], check)
    try:
        announce_ok([(1.0, "::", 5, "ff3e::2", S(1))], st, "selftest")
    except Fail:
        pass
    else:
        raise Fail("announce_ok passed a partial announcement")
    T.notes.append("%d oracle cases" % len(cases))


LOG_ERRORS = re.compile(r"send on ifindex|member map update|multicast filter|control reply|"
                        r"could not apply|AddressSanitizer|runtime error")


def agent_logs_clean(T):
    for a in T.agents:
        bad = [l for l in a.logtext().splitlines() if LOG_ERRORS.search(l)]
        if bad:
            raise Fail("%s log (%s): %s" % (a.name, a.logpath, " | ".join(bad[:3])))


# ---------------------------------------------------------------- runner

def t_two_links(T):
    """Several links in one daemon: mld0 towards an MLDv2 bridge, mld1
    towards an MLDv1 bridge. Each bridge learns exactly the groups declared
    on its own link, at its own version, and changes on one link leave the
    other alone."""
    a = T.lab("a", 2)
    b = T.lab("b", 1)
    # Lab b's host port joins lab a's host namespace as mld1.
    b.hx("ip", "link", "set", "mld0", "name", "mld1")
    run(["ip", "-n", b.h, "link", "set", "mld1", "netns", a.h])
    a.hx("ip", "link", "set", "mld1", "up")
    ag = T.agent(a, ifaces=("mld0", "mld1"))
    ag.ctl("join", "mld0", "ff3e::a1")
    ag.ctl("join", "mld0", "ff3e::a2", "include", "2001:db8::1")
    ag.ctl("join", "mld1", "ff3e::b1")
    ag.ctl("join", "mld1", "ff3e::b2", "exclude", "2001:db8::9")
    wait_mdb(a, {"ff3e::a1": (EX, S()), "ff3e::a2": (IN, S(1))}, 6, "link mld0 (MLDv2)")
    wait_for(lambda: (ag.link("mld1")["version"] == 1, ag.link("mld1")["version"]), QI + 2,
             "mld1 in MLDv1 compatibility mode")
    wait_mdb(b, {"ff3e::b1": ("v1", S()), "ff3e::b2": ("v1", S())}, 6, "link mld1 (MLDv1)")
    if ag.link("mld0")["version"] != 2:
        raise Fail("mld0 left MLDv2 because of the v1 querier on mld1")
    ag.ctl("leave", "mld0", "ff3e::a1")
    wait_mdb(a, {"ff3e::a2": (IN, S(1))}, LMQT + 2.5, "leave on mld0")
    hold_mdb(b, {"ff3e::b1": ("v1", S()), "ff3e::b2": ("v1", S())}, 2, "mld1 untouched by mld0's leave")
    ag.ctl("leave", "mld1", "ff3e::b1")
    wait_mdb(b, {"ff3e::b2": ("v1", S())}, LMQT + 2.5, "Done on mld1")
    if a.mdb() != {canon("ff3e::a2"): (IN, frozenset(S(1)))}:
        raise Fail("mld0's groups changed after a leave on mld1: %s" % fmt_state(a.mdb()))
    T.notes.append("2 links, v2 + v1, independent")


TESTS = [
    ("oracle_selftest", t_oracle_selftest),
    ("mldv2_memberships", t_mldv2_memberships),
    ("mldv1_memberships", t_mldv1_memberships),
    ("refused_input", t_refused_input),
    ("reload_diff", t_reload_diff),
    ("link_down_up", t_link_down_up),
    ("linklocal_rfc3590", t_linklocal_rfc3590),
    ("ifindex_change", t_ifindex_change),
    ("sigterm_final_leave", t_sigterm_final_leave),
    ("multi_agent", t_multi_agent),
    ("ctl_json_and_maps", t_ctl_json_and_maps),
    ("two_links", t_two_links),
]


def preflight():
    """Missing tools or binaries are failures, never skips."""
    bad = []
    if os.geteuid() != 0:
        bad.append("must run as root (network namespaces, XDP)")
    for b in (MLDAGENT, MLDCTL):
        if not os.access(b, os.X_OK):
            bad.append("%s missing (make %s)" % (b, os.path.relpath(b, ROOT)))
    for tool in ("ip", "bridge", "tshark", "bpftool", "bash"):
        if shutil.which(tool) is None:
            bad.append("%s not found in PATH" % tool)
    return bad


def main(argv):
    sel, listing = [], False
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "-k" and args:
            sel.append(args.pop(0))
        elif a == "--list":
            listing = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            print("usage: e2e.py [-k SUBSTRING ...] [--list]", file=sys.stderr)
            return 2
    tests = [(n, f) for n, f in TESTS if not sel or any(k in n for k in sel)]
    if listing:
        for n, f in tests:
            print("%-26s %s" % (n, " ".join((f.__doc__ or "").split())))
        return 0
    passed = failed = 0
    t_start = time.monotonic()

    def interrupted(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)  # tear the labs down on kill too
    bad = preflight()
    if bad:
        for n, _ in tests:
            print("FAIL %s: %s" % (n, "; ".join(bad)), flush=True)
        print("e2e: 0 passed, %d failed" % max(1, len(tests)))
        return 1
    for idx, (name, fn) in enumerate(tests):
        T = Test(name, idx)
        t0 = time.monotonic()
        try:
            fn(T)
            agent_logs_clean(T)
        except KeyboardInterrupt:
            print("FAIL %s: interrupted" % name, flush=True)
            T.teardown()
            print("e2e: %d passed, %d failed (interrupted)" % (passed, failed + 1))
            return 130
        except Fail as e:
            failed += 1
            print("FAIL %s: %s (%.1f s; artifacts in %s)" % (name, e, time.monotonic() - t0, T.out), flush=True)
        except Exception as e:  # a bug in the test is a failure too
            failed += 1
            print("FAIL %s: %s: %s (%.1f s)\n%s" % (name, type(e).__name__, e, time.monotonic() - t0,
                                                   traceback.format_exc()), flush=True)
        else:
            passed += 1
            print("ok %s (%.1f s%s)" % (name, time.monotonic() - t0,
                                        "; " + "; ".join(T.notes) if T.notes else ""), flush=True)
        finally:
            try:
                T.teardown()
            except Exception as e:
                print("  teardown of %s: %s" % (name, e), flush=True)
    print("e2e: %d passed, %d failed (%.0f s)" % (passed, failed, time.monotonic() - t_start))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
