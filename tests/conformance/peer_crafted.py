"""Peer: crafted MLD queries (scapy) from the querier namespace.

Namespace <LAB>-q holds vq0, from which this module sends queries it builds
with scapy (raw Ethernet frames, `VethLab.send_q`; a flood from a small
AF_PACKET loop); <LAB>-h holds mld0 with mldagent. No querier daemon runs:
every query is one this module made, so each field, each malformation and
each timing is known.

Two identities send from vq0:
  * the querier: vq0's MAC and link-local address. Its queries are valid and
    the e2e timeline oracle (`e2e.check_capture`) demands an answer to each
    one within its Maximum Response Delay;
  * a forger: another MAC (FORGE_MAC), so that the oracle does not expect
    answers to the malformed queries and floods it sends.

What is checked, per scenario: the agent's counters (`mldctl stats -j`:
the XDP program's per-reason counters and the engine's), its state
(`mldctl show -j`: groups, learned querier values, version, timers) and
every frame it sent (the capture, record by record; every agent frame
through `tests/tshark_check.py --any`).

  q-val-*          one validation rule each (RFC 3810 §5.1, §6.2, §8.1,
                   RFC 8200 §4): the reason's drop counter rises by exactly
                   the number sent, nothing is sent, show -j is unchanged;
                   then a valid GQ and GSSQ are counted and answered
                   (q-val-destination also: queries to the agent's own
                   unicast addresses are answered, RFC 3810 §5.1.15)
  q-atomic-fragment RFC 6946 §4: atomic fragments processed, real ones not
  q-ignored-fields Code, Reserved, S flag, trailing octets
  q-mrc-*, q-qqic  the encodings of RFC 3810 §5.1.3, §5.1.9
  q-qrv            robustness learned -> state-change transmissions
  q-gss-*, q-gsq-* RFC 3810 §6.3 answers, record by record
  q-v1-compat, q-force-v*  RFC 3810 §8.2.1 and the force-version setting
  q-gss-flood      the GS-query throttle beside a querier's own traffic
"""
import ipaddress
import json
import subprocess
import sys
import time

import common
from common import e2e, Fail, canon, wait_for
from e2e import EX, IN, S, RTYPE

try:
    import scapy
    from scapy.layers.inet6 import (ICMPv6MLQuery, ICMPv6MLQuery2, ICMPv6Unknown, IPv6,
                                    IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                    HBHOptUnknown, PadN, RouterAlert)
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    SCAPY_PROBLEM = None
except ImportError as _e:  # reported by preflight(): every scenario fails with it
    SCAPY_PROBLEM = "scapy not importable by %s: %s (apt-get install python3-scapy)" % (sys.executable, _e)

PEER = "crafted (scapy)"

FORGE_MAC = "02:00:00:00:0b:ad"   # the forger: malformed queries, floods
FORGE_LL = "fe80::bad"
MRC_BAD = 200                      # a malformed query, if taken, is answered within 0.2 s...
QRV_BAD, QQIC_BAD = 5, 77          # ...and teaches values show -j would reveal
SLACK = e2e.SLACK
JUDGE_MAX = 5.0                    # finish() waits out response windows up to this long


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def src(*n):
    return ["2001:db8::%x" % k for k in n]


# ---------------------------------------------------------------- packets

def frame(lab, ip6, l4, smac=None, hbh="ra"):
    """Ether / ip6 [/ hop-by-hop] / l4 as bytes. hbh: "ra" (Router Alert
    MLD + PadN, as every MLD sender writes it), None (no hop-by-hop header),
    or a list of scapy hop-by-hop options."""
    dst = canon(ip6.dst)
    if dst.startswith("ff"):
        dmac = "33:33:" + mac_str(ipaddress.IPv6Address(dst).packed[12:])
    else:
        dmac = mac_str(lab.mac)   # a unicast destination: the agent's own MAC
    p = Ether(src=smac or mac_str(lab.qmac), dst=dmac) / ip6
    if hbh == "ra":
        p = p / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
    elif hbh is not None:
        p = p / IPv6ExtHdrHopByHop(options=hbh)
    return bytes(p / l4)


def mld2(group="::", srcs=(), mrc=1000, qrv=2, qqic=125, nsrc=None, extra=b"", **kw):
    """An MLDv2 query (RFC 3810 §5.1); extra: octets after the source list
    (RFC 3810 §5.1.12), inside the checksum."""
    q = ICMPv6MLQuery2(mrd=mrc, mladdr=group, QRV=qrv, QQIC=qqic, sources=list(srcs),
                       sources_number=nsrc, **kw)
    return q / Raw(extra) if extra else q


def mld1(group="::", mrc=1000):
    """An MLDv1 query (RFC 2710 §3: 24 octets, linear Maximum Response Delay)."""
    return ICMPv6MLQuery(mrd=mrc, mladdr=group)


def icmp_offset(b):
    """Offset of the ICMPv6 message in an Ethernet frame (after the
    extension headers; a fragment header is 8 octets, its octet 1 is no
    length)."""
    nh, o = b[20], 54
    while nh in (0, 43, 44, 60):
        nh, o = b[o], o + (8 if nh == 44 else (b[o + 1] + 1) * 8)
    return o


def query_window(b):
    """The Maximum Response Delay (s) of a query frame, None if it is none."""
    o = icmp_offset(b)
    if len(b) < o + 24 or b[o] != 130:
        return None
    mrc = int.from_bytes(b[o + 4:o + 6], "big")
    if len(b) - o >= 28 and mrc >= 0x8000:   # RFC 3810 §5.1.3 (v1: always linear)
        mrc = ((mrc & 0xfff) | 0x1000) << (((mrc >> 12) & 7) + 3)
    return mrc / 1000.0


def break_csum(b):
    """The frame with a wrong ICMPv6 checksum (the right one, two bits flipped)."""
    o = icmp_offset(b) + 2
    return b[:o] + bytes([b[o] ^ 1, b[o + 1] ^ 1]) + b[o + 2:]


class Querier:
    """Builds frames as vq0's querier (or, with forge=True, the forger)."""

    def __init__(self, lab, forge=False):
        self.lab = lab
        self.smac = FORGE_MAC if forge else mac_str(lab.qmac)
        self.ll = FORGE_LL if forge else lab.lladdr_q()

    def ip(self, dst, src=None, hlim=1):
        return IPv6(src=src or self.ll, dst=dst, hlim=hlim)

    def gq(self, mrc=1000, qrv=2, qqic=125, dst="ff02::1", **kw):
        return frame(self.lab, self.ip(dst), mld2("::", (), mrc, qrv, qqic, **kw), self.smac)

    def gsq(self, group, mrc=1000, qrv=2, qqic=125, dst=None, **kw):
        return frame(self.lab, self.ip(dst or group), mld2(group, (), mrc, qrv, qqic, **kw), self.smac)

    def gssq(self, group, srcs, mrc=1000, qrv=2, qqic=125, dst=None, **kw):
        return frame(self.lab, self.ip(dst or group), mld2(group, srcs, mrc, qrv, qqic, **kw), self.smac)

    def v1(self, group="::", mrc=1000, dst=None):
        return frame(self.lab, self.ip(dst or ("ff02::1" if group == "::" else group)), mld1(group, mrc),
                     self.smac)


# ---------------------------------------------------------------- agent views

def counters(agent):
    """stats -j flattened: {"xdp.bad_checksum": n, "engine.rx_v2_general": n, ...}."""
    s = agent.stats()
    return {"%s.%s" % (sec, k): v for sec in ("xdp", "engine", "daemon") for k, v in s.get(sec, {}).items()}


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def link_view(agent):
    """show -j of mld0 as one comparable string: groups (filters, states,
    timers), learned querier values, version, general-query response."""
    return json.dumps(agent.link(), sort_keys=True)


def records(mine, group, a, b):
    """(type, sources) of every record for group the agent sent in (a, b]."""
    g = canon(group)
    return [(t, s) for p in mine if a < p.ts <= b and p.type == 143 for t, gg, s in p.records if gg == g]


def fmt_recs(recs):
    if not recs:
        return "nothing"
    return "[%s]" % ", ".join("%s{%s}" % (RTYPE.get(t, t), " ".join(sorted(s))) for t, s in recs)


class Run:
    """One scenario: lab, capture, agent holding `groups` from a config
    file (listener "app"), the declared timeline, the two senders."""

    def __init__(self, T, groups, tunables=None):
        self.T = T
        self.lab = common.VethLab(T)
        self.cap = T.capture(self.lab)
        self.tl = e2e.Timeline()
        self.state = {canon(g): (m, frozenset(s)) for g, (m, s) in groups.items()}
        extra = "tunables:\n" + "".join("  %s: %s\n" % kv for kv in (tunables or {}).items()) if tunables else ""
        cfg = T.config("agent.yaml", e2e.yaml_listeners(
            {"app": {g: (None if m == EX and not s else (m, s)) for g, (m, s) in groups.items()}}, extra))
        t0 = time.time()
        self.agent = T.agent(self.lab, ["-c", cfg])
        self.tl.change(t0, dict(self.state))
        self.q = Querier(self.lab)
        self.forger = Querier(self.lab, forge=True)
        self.judge_until = 0.0
        self.agent.wait_quiet()

    def send(self, frames):
        """Sends frames out of vq0; returns the time just before. The
        response window of each of the querier's queries (up to
        JUDGE_MAX s) is kept, for finish() to wait for."""
        if isinstance(frames, (bytes, bytearray)):
            frames = [frames]
        # Clear of the oracle's margin (50 ms) around the last change on the
        # timeline: a query sent within it would not be judged.
        time.sleep(max(0.0, self.tl.ev[-1][1] + 0.1 - time.time()))
        t = time.time()
        self.lab.send_q(frames)
        t_end = time.time()
        for b in frames:
            w = query_window(b) if b[6:12] == self.lab.qmac else None
            if w is not None and w <= JUDGE_MAX:
                self.judge_until = max(self.judge_until, t_end + w + SLACK + 0.1)
        return t

    def change(self, argv, group, filt):
        """mldctl argv changes group's merged filter to filt ((mode,
        sources), None: left); declared on the timeline, checked in show -j."""
        t0 = time.time()
        self.agent.ctl(*argv)
        self.state = {g: v for g, v in self.state.items() if g != canon(group)}
        if filt:
            self.state[canon(group)] = (filt[0], frozenset(filt[1]))
        self.tl.change(t0, dict(self.state))
        e2e.expect_agent_state(self.agent, self.state, "after mldctl %s" % " ".join(argv))
        return t0

    def finish(self, need=(), wait=True, version=2):
        """Ends the timeline (queries after this are not judged) and runs
        the capture checks: tshark on every agent frame, the oracle on every
        query of the querier. Returns (all pkts, agent pkts); self.t_end is
        the end of the judged time."""
        if wait:
            self.agent.wait_quiet()
        time.sleep(max(0.0, self.judge_until - time.time()))
        self.t_end = time.time()
        self.tl.change(self.t_end, None)
        time.sleep(0.5)   # what was sent up to t_end reaches the capture file
        return e2e.check_capture(self.T, self.lab, self.cap, self.tl, version, need)


# ---------------------------------------------------------------- validation (RFC 3810 §5.1, §6.2)

# What a malformed query could have been answered about: an ASM group and
# an INCLUDE{1,2} group; each malformed query is one of four kinds.
G_ASM, G_IN = "ff3e::a1", "ff3e::8000:a2"
VAL_GROUPS = {G_ASM: (EX, S()), G_IN: (IN, S(1, 2))}
KINDS = {"gq": ("::", (), "ff02::1"), "gsq": (G_ASM, (), G_ASM), "gssq": (G_IN, src(1, 3), G_IN),
         "v1": ("::", None, "ff02::1")}
# Frames from the lab's peer namespace that cross mld0's XDP program
# without being this module's: the peer kernel's own MLD reports (hop-by-hop
# header, ICMPv6 143) count as packets / not_mld.
NOISE = {"xdp.packets", "xdp.not_mld"}


def fragment(offset, m, l4):
    """l4 behind a fragment header (RFC 8200 §4.5): Fragment Offset in
    8-octet units, M flag. Offset 0 with M 0 is an atomic fragment."""
    return IPv6ExtHdrFragment(offset=offset, m=m, id=0x6946) / l4


def forged(lab, kind, src=None, dst=None, hlim=1, hbh="ra", post=None, dstopt=None, frag=None,
           **l4kw):
    """A query of `kind` from the forger that, taken, would be answered
    within MRC_BAD and teach QRV_BAD / QQIC_BAD; the arguments malform it
    (dstopt: options of a destination options header before the ICMPv6;
    frag: (offset, M) of a fragment header after the hop-by-hop one)."""
    group, srcs, d = KINDS[kind]
    group, srcs = l4kw.pop("group", group), l4kw.pop("srcs", srcs)
    if kind == "v1":
        l4 = mld1(group, MRC_BAD)
    else:
        l4 = mld2(group, srcs, MRC_BAD, QRV_BAD, QQIC_BAD, **l4kw)
    if dstopt is not None:
        l4 = IPv6ExtHdrDestOpt(options=dstopt) / l4
    if frag is not None:
        l4 = fragment(frag[0], frag[1], l4)
    b = frame(lab, IPv6(src=src or FORGE_LL, dst=dst or d, hlim=hlim), l4, FORGE_MAC, hbh)
    return post(b) if post else b


def forged_all(lab, kinds=("gq", "gsq", "gssq", "v1"), **kw):
    return [forged(lab, k, **kw) for k in kinds]


def raw_query(lab, body, dst="ff02::1"):
    """An ICMPv6 type 130 message of 4 + len(body) octets (right checksum)."""
    return frame(lab, IPv6(src=FORGE_LL, dst=dst, hlim=1), ICMPv6Unknown(type=130, code=0, msgbody=body),
                 FORGE_MAC)


def cut(n):
    return lambda b: b[:len(b) - n]


def reject_each(r, cases):
    """Sends each case's malformed frames (what, frames, counter): they
    raise exactly that drop counter by their number (None: no counter at
    all) and nothing else but NOISE, and show -j stays the same, right
    after and after MRC_BAD + slack. Returns (time of the first send,
    ["counter n", ...])."""
    view0 = link_view(r.agent)
    t_first, done = None, []
    for what, frames, ctr in cases:
        c0 = counters(r.agent)
        t = r.send(frames)
        t_first = t_first or t
        time.sleep(0.05)
        if link_view(r.agent) != view0:
            raise Fail("%s: show -j changed at once: %s" % (what, link_view(r.agent)))
        time.sleep(MRC_BAD / 1000.0 + SLACK)
        d = delta(c0, counters(r.agent))
        got = {k: v for k, v in d.items() if k not in NOISE}
        want = {"xdp." + ctr: len(frames)} if ctr else {}
        if got != want:
            raise Fail("%s (%d frames): counters moved %s, expected %s" % (what, len(frames), got, want))
        if ctr and d.get("xdp.packets", 0) < len(frames):
            raise Fail("%s: xdp.packets rose by %d only" % (what, d.get("xdp.packets", 0)))
        if link_view(r.agent) != view0:
            raise Fail("%s: show -j changed: %s" % (what, link_view(r.agent)))
        done.append("%s %d" % (ctr or "uncounted", len(frames)))
    return t_first, done


def silent_between(mine, a, b):
    """The agent sent nothing in [a, b) (it rejected what came then)."""
    early = [p for p in mine if a <= p.ts < b]
    if early:
        raise Fail("the agent sent %r after a rejected query" % early[0])


def taken(r, frames, want, what):
    """Sends valid frames (queries with a 500 ms Maximum Response Delay),
    waits out their window and checks that each counter in want rose by
    exactly the number given. Returns the time just before the send."""
    c0 = counters(r.agent)
    t = r.send(frames)
    time.sleep(0.5 + SLACK)
    d = delta(c0, counters(r.agent))
    for k, n in want.items():
        if d.get(k, 0) != n:
            raise Fail("%s: %s rose by %d, expected %d (%s)" % (what, k, d.get(k, 0), n, d))
    return t


CONTROL = {"xdp.v2_general_query": 1, "xdp.v2_group_source_query": 1, "xdp.events": 2,
           "engine.rx_v2_general": 1, "engine.rx_v2_group_source": 1}
CONTROL_NEED = [("gq", canon(G_ASM)), ("gq", canon(G_IN)), ("gssq", canon(G_IN))]


def rejected(cases_fn):
    """A scenario: each case's malformed frames are rejected (reject_each),
    the agent sends nothing meanwhile; then a valid general query and a
    valid group-and-source query of the querier are counted, and answered
    (the oracle), so the checks above had something to miss."""
    def fn(T):
        r = Run(T, VAL_GROUPS, {"unsolicited-report-interval": "100ms"})
        t_first, done = reject_each(r, cases_fn(r.lab))
        t_ctl = taken(r, [r.q.gq(mrc=500), r.q.gssq(G_IN, src(1, 3), mrc=500)], CONTROL,
                      "valid control queries")
        pkts, mine = r.finish(need=CONTROL_NEED)
        silent_between(mine, t_first, t_ctl)
        T.notes.append("dropped: %s; control GQ + GSSQ answered" % ", ".join(done))
    return fn


def val_hop_limit(lab):
    return [("hop limit 255", forged_all(lab, hlim=255), "bad_hop_limit"),
            ("hop limit 0 and 2", [forged(lab, "gq", hlim=0), forged(lab, "gsq", hlim=2)], "bad_hop_limit")]


def val_no_ra(lab):
    pad = [PadN(optdata=b"\0\0\0\0")]
    return [("hop-by-hop header of PadN only", forged_all(lab, hbh=pad), "no_router_alert"),
            # No hop-by-hop header: the program's fast exit (cannot be MLD), by design uncounted.
            ("no hop-by-hop header at all", forged_all(lab, hbh=None), None)]


def val_ra_value(lab):
    return [("Router Alert value 1 (RSVP)", forged_all(lab, hbh=[RouterAlert(value=1)]), "no_router_alert"),
            ("Router Alert value 2 and 65535", [forged(lab, "gq", hbh=[RouterAlert(value=2)]),
                                                forged(lab, "gsq", hbh=[RouterAlert(value=0xffff)])],
             "no_router_alert"),
            ("Router Alert option 4 octets long", [forged(lab, "gq", hbh=[HBHOptUnknown(otype=5, optdata=b"\0" * 4)])],
             "bad_ext_hdr")]


def val_src_global(lab):
    return [("global source 2001:db8::1", forged_all(lab, src="2001:db8::1"), "bad_source"),
            ("sources fd00::1 (ULA), fec0::1 (site-local), ff02::1 (multicast)",
             [forged(lab, "gq", src=a) for a in ("fd00::1", "fec0::1", "ff02::1")], "bad_source")]


def val_src_unspec(lab):
    return [("unspecified source ::", forged_all(lab, src="::"), "bad_source")]


def val_checksum(lab):
    return [("wrong checksum", forged_all(lab, post=break_csum), "bad_checksum"),
            ("wrong checksum, 40 sources (668 octets: the chunked sum)",
             [forged(lab, "gssq", srcs=src(*range(1, 41)), post=break_csum)], "bad_checksum")]


def val_length(lab):
    body = (MRC_BAD).to_bytes(2, "big") + bytes(2) + bytes(16)
    return [("ICMPv6 query of 20 octets (< 24)", [raw_query(lab, body[:16])], "bad_length"),
            ("query of 26 octets (neither 24 nor >= 28)", [raw_query(lab, body + b"\x05\x4d")], "bad_length"),
            ("v2 query ending inside its source list (2 claimed, 1.5 present)",
             [forged(lab, "gssq", srcs=src(1), nsrc=2, extra=bytes.fromhex("20010db800000000"))], "bad_length"),
            ("frames cut inside the source list / the header (shorter than the IPv6 payload length)",
             [forged(lab, "gssq", post=cut(8)), forged(lab, "gq", post=cut(4))], "truncated")]


def val_nsrc(lab):
    return [("Number of Sources 100, 2 present", [forged(lab, "gssq", nsrc=100)], "bad_length"),
            ("Number of Sources 65535, none present", [forged(lab, "gsq", nsrc=65535)], "bad_length"),
            ("Number of Sources 1 in a 28-octet general query", [forged(lab, "gq", nsrc=1)], "bad_length")]


def val_gq_sources(lab):
    return [("general query with 1 source", [forged(lab, "gq", srcs=src(1))], "gq_with_sources"),
            ("general query with 3 sources", [forged(lab, "gq", srcs=src(1, 2, 3))], "gq_with_sources")]


def val_group(lab):
    return [("queries for 2001:db8::5, fe80::5, ::1 (not multicast)",
             [forged(lab, "gq", group=g) for g in ("2001:db8::5", "fe80::5", "::1")] +
             [forged(lab, "gssq", group="2001:db8::5", dst="ff02::1"), forged(lab, "v1", group="fe80::5")],
             "bad_group")]


def val_dst(lab):
    return [("general queries to ff02::2 and ff02::16", [forged(lab, "gq", dst="ff02::2"),
                                                         forged(lab, "gq", dst="ff02::16")], "bad_group"),
            ("group queries sent to another group ff3e::99", [forged(lab, "gsq", dst="ff3e::99"),
                                                              forged(lab, "gssq", dst="ff3e::99")], "bad_group"),
            ("queries to unicast addresses not the agent's (fe80::77, 2001:db8::77)",
             [forged(lab, "gq", dst="fe80::77"), forged(lab, "gsq", dst="2001:db8::77")], "bad_group")]


def val_ext_hdr(lab):
    unknown = lambda t: [RouterAlert(value=0), HBHOptUnknown(otype=t, optdata=b"\0\0")]
    return [("unknown hop-by-hop option 0x42 (action 01: discard)", forged_all(lab, hbh=unknown(0x42)),
             "bad_ext_hdr"),
            ("unknown options 0x82 and 0xc2 (actions 10, 11: discard + ICMP)",
             [forged(lab, "gq", hbh=unknown(0x82)), forged(lab, "gsq", hbh=unknown(0xc2))], "bad_ext_hdr"),
            ("destination options header with options 0x42, 0x82, 0xc2 (processed at the destination)",
             [forged(lab, k, dstopt=[HBHOptUnknown(otype=t, optdata=b"\0\0")])
              for k, t in (("gq", 0x42), ("gsq", 0x82), ("gssq", 0xc2))], "bad_ext_hdr")]


def expect_records(mine, what, groups, a, b, want):
    """The agent's records for groups in (a, b] are exactly want, a list of
    (group, record type, sources) in any order."""
    got = sorted((canon(g), t, tuple(sorted(ss))) for g in groups for t, ss in records(mine, g, a, b))
    exp = sorted((canon(g), t, tuple(sorted(ss))) for g, t, ss in want)
    if got != exp:
        show = lambda x: "[%s]" % ", ".join("%s %s{%s}" % (g, RTYPE.get(t, t), " ".join(ss)) for g, t, ss in x)
        raise Fail("%s: agent sent %s, expected %s" % (what, show(got) if got else "nothing", show(exp)))


# The answers to the valid queries of VAL_GROUPS: GSSQ{1,3} for G_IN, GSQ
# for G_ASM, GQ (RFC 3810 §6.3).
ANS_GSSQ = [(G_IN, 1, src(1))]
ANS_GSQ = [(G_ASM, 2, [])]
ANS_GQ = [(G_IN, 1, src(1, 2)), (G_ASM, 2, [])]

OWN_GLOBAL = "2001:db8:1::5"   # added to mld0 (nodad) by q-val-destination


def s_destination(T):
    """RFC 3810 §5.1.15 both ways. Queries to neither ff02::1 nor their
    group nor an address of mld0 are dropped (bad_group), nothing sent;
    a node MUST accept and process queries sent to any of its addresses:
    a GSSQ and a GQ to a global address added to mld0 and a GSQ to the
    agent's link-local are counted and answered, record by record (the
    daemon keeps the XDP program's mld_local_addrs from rtnetlink, checked
    with bpftool); once the address is removed, a query to it is dropped."""
    r = Run(T, VAL_GROUPS, {"unsolicited-report-interval": "100ms"})
    ll, ifindex = r.lab.lladdr()[0], r.lab.hlink()["ifindex"]
    r.lab.hx("ip", "-6", "addr", "add", OWN_GLOBAL + "/64", "dev", "mld0", "nodad")
    ours = {(ifindex, ll), (ifindex, OWN_GLOBAL)}
    wait_for(lambda: (ours <= e2e.local_map(r.agent), sorted(e2e.local_map(r.agent))), 3,
             "mld_local_addrs holding %s" % sorted(ours), 0.05)
    t_first, done = reject_each(r, val_dst(r.lab))
    t_gss = taken(r, r.q.gssq(G_IN, src(1, 3), mrc=500, dst=OWN_GLOBAL),
                  {"xdp.v2_group_source_query": 1, "xdp.events": 1, "engine.rx_v2_group_source": 1},
                  "GSSQ to %s" % OWN_GLOBAL)
    t_gsq = taken(r, r.q.gsq(G_ASM, mrc=500, dst=ll),
                  {"xdp.v2_group_query": 1, "xdp.events": 1, "engine.rx_v2_group": 1}, "GSQ to %s" % ll)
    t_gq = taken(r, r.q.gq(mrc=500, dst=OWN_GLOBAL),
                 {"xdp.v2_general_query": 1, "xdp.events": 1, "engine.rx_v2_general": 1},
                 "GQ to %s" % OWN_GLOBAL)
    r.lab.hx("ip", "-6", "addr", "del", OWN_GLOBAL + "/64", "dev", "mld0")
    wait_for(lambda: ((ifindex, OWN_GLOBAL) not in e2e.local_map(r.agent), sorted(e2e.local_map(r.agent))), 3,
             "%s gone from mld_local_addrs" % OWN_GLOBAL, 0.05)
    t_del, done_del = reject_each(r, [("GQ to %s after its removal" % OWN_GLOBAL,
                                       [forged(r.lab, "gq", dst=OWN_GLOBAL)], "bad_group")])
    t_del_end = time.time()
    pkts, mine = r.finish(need=[("gssq", canon(G_IN)), ("gsq", canon(G_ASM)), ("gq", canon(G_ASM)),
                                ("gq", canon(G_IN))])
    silent_between(mine, t_first, t_gss)
    silent_between(mine, t_del, t_del_end)
    expect_records(mine, "GSSQ{1,3} for %s to %s" % (G_IN, OWN_GLOBAL), VAL_GROUPS, t_gss, t_gsq, ANS_GSSQ)
    expect_records(mine, "GSQ for %s to %s" % (G_ASM, ll), VAL_GROUPS, t_gsq, t_gq, ANS_GSQ)
    expect_records(mine, "GQ to %s" % OWN_GLOBAL, VAL_GROUPS, t_gq, t_del, ANS_GQ)
    T.notes.append("dropped: %s; answered: GSSQ to %s, GSQ to %s, GQ to %s; after removal: %s"
                   % (", ".join(done), OWN_GLOBAL, ll, OWN_GLOBAL, ", ".join(done_del)))


def val_fragment(lab):
    return [("first fragments (offset 0, M 1) of a GQ, GSQ, GSSQ and v1 query", forged_all(lab, frag=(0, 1)),
             "fragment"),
            ("later fragments (offset 1 with M 1, offset 185 with M 0) each holding a whole query",
             [forged(lab, "gq", frag=(1, 1)), forged(lab, "gssq", frag=(185, 0))], "fragment")]


def s_atomic_fragment(T):
    """RFC 6946 §4: a packet with a fragment header whose offset is 0 and
    M flag 0 (an atomic fragment) MUST be processed in isolation, as if
    unfragmented: the querier's atomic-fragment GSSQ and GQ are counted and
    answered exactly as plain ones. Real fragments are never a whole MLD
    message (nothing reassembles them): counted as fragment, unanswered,
    show -j unchanged."""
    r = Run(T, VAL_GROUPS, {"unsolicited-report-interval": "100ms"})
    t_first, done = reject_each(r, val_fragment(r.lab))
    c0 = counters(r.agent)
    t_gss = taken(r, frame(r.lab, r.q.ip(G_IN), fragment(0, 0, mld2(G_IN, src(1, 3), 500)), r.q.smac),
                  {"xdp.v2_group_source_query": 1, "xdp.events": 1, "engine.rx_v2_group_source": 1},
                  "atomic-fragment GSSQ")
    t_gq = taken(r, frame(r.lab, r.q.ip("ff02::1"), fragment(0, 0, mld2(mrc=500)), r.q.smac),
                 {"xdp.v2_general_query": 1, "xdp.events": 1, "engine.rx_v2_general": 1},
                 "atomic-fragment GQ")
    t_end = time.time()
    if counters(r.agent).get("xdp.fragment", 0) != c0.get("xdp.fragment", 0):
        raise Fail("an atomic fragment was counted as fragment")
    pkts, mine = r.finish()
    silent_between(mine, t_first, t_gss)
    expect_records(mine, "atomic-fragment GSSQ{1,3} for %s" % G_IN, VAL_GROUPS, t_gss, t_gq, ANS_GSSQ)
    expect_records(mine, "atomic-fragment GQ", VAL_GROUPS, t_gq, t_end, ANS_GQ)
    T.notes.append("dropped: %s; atomic-fragment GSSQ and GQ answered" % ", ".join(done))


# ---------------------------------------------------------------- fields a host ignores

def s_ignored_fields(T):
    """Code, Reserved, Resv bits and the S flag are ignored by a host;
    octets after the source list are inside the checksum and otherwise
    ignored (RFC 3810 §5.1.1, §5.1.4, §5.1.7, §5.1.12)."""
    r = Run(T, VAL_GROUPS, {"unsolicited-report-interval": "100ms"})
    odd = dict(code=7, reserved=0xffff, Resv=0xf, S=1)
    c0 = counters(r.agent)
    t1 = r.send(r.q.gssq(G_IN, src(1, 3), mrc=500, extra=bytes(range(12)), **odd))
    time.sleep(0.5 + SLACK)
    t2 = r.send(r.q.gq(mrc=500, extra=b"\xff" * 4, **odd))
    time.sleep(0.5 + SLACK)
    # The same GSSQ with the extra octets left out of its checksum (forged:
    # no answer is due): the extra octets are summed, so it is wrong.
    plain = forged(r.lab, "gssq")
    extra = bytes(8)
    b = bytearray(plain + extra)
    b[18:20] = (int.from_bytes(plain[18:20], "big") + len(extra)).to_bytes(2, "big")
    t3 = r.send(bytes(b))
    time.sleep(MRC_BAD / 1000.0 + SLACK)
    d = delta(c0, counters(r.agent))
    want = {"xdp.v2_group_source_query": 1, "xdp.v2_general_query": 1, "xdp.bad_checksum": 1, "xdp.events": 2}
    bad = {k: (d.get(k, 0), n) for k, n in want.items() if d.get(k, 0) != n}
    if bad:
        raise Fail("counters (got, expected): %s; all moved: %s" % (bad, d))
    pkts, mine = r.finish(need=[("gssq", canon(G_IN)), ("gq", canon(G_ASM))])
    got = records(mine, G_IN, t1, t2)
    if got != [(1, frozenset(src(1)))]:
        raise Fail("GSSQ{1,3} with odd Code/Reserved/S and 12 trailing octets: agent sent %s for %s, "
                   "expected [IS_IN{2001:db8::1}]" % (fmt_recs(got), G_IN))
    got = sorted(records(mine, G_IN, t2, t3) + records(mine, G_ASM, t2, t3), key=lambda x: x[0])
    if got != [(1, frozenset(src(1, 2))), (2, frozenset())]:
        raise Fail("GQ with odd fields and 4 trailing octets: agent sent %s, expected IS_IN{1,2} + IS_EX{}"
                   % fmt_recs(got))
    late = [p for p in mine if p.ts > t3]
    if late:
        raise Fail("%r: answer to a query whose checksum left out its trailing octets" % late[0])
    T.notes.append("odd fields ignored, trailing octets summed and ignored")


# ---------------------------------------------------------------- MRC (RFC 3810 §5.1.3)

def gsq_timers(r, groups, mrc):
    """GSQs for groups with Maximum Response Code mrc; once the engine has
    taken them all (engine.rx_v2_group), show -j. Returns (send time, time
    of show -j, {group: query_response_in_ms}); -1: answered already."""
    n0 = counters(r.agent)["engine.rx_v2_group"]
    t_send = r.send([r.q.gsq(g, mrc=mrc) for g in groups])
    wait_for(lambda: (counters(r.agent)["engine.rx_v2_group"] - n0 >= len(groups),
                      counters(r.agent)["engine.rx_v2_group"] - n0), 3, "engine taking %d GSQs" % len(groups), 0.02)
    t_a = time.time()
    link = r.agent.link()
    t_show = (t_a + time.time()) / 2
    want = {canon(g) for g in groups}
    timers = {canon(g["group"]): g["query_response_in_ms"] for g in link["groups"] if canon(g["group"]) in want}
    if set(timers) != want:
        raise Fail("show -j lacks groups %s" % sorted(want - set(timers)))
    return t_send, t_show, timers


def answers_of(mine, g, since):
    return [p.ts for p in mine if p.ts > since and p.type == 143 and any(gg == g for _, gg, _ in p.records)]


def check_timers(pkts, mine, qmac, run_, mrd_ms, until, what, tol=0.3):
    """One GSQ per group (run_ = gsq_timers' result) with delay mrd_ms:
    each group's response delay, from its query in the capture to the
    timer show -j gave (or to its answer, for one answered before show -j),
    lies in [0, MRD] and the delays are spread over it (RFC 3810 §6.2: a
    random delay in [0, MRD]; with 40 groups a miss of the top or bottom
    fifth has probability 0.8^40 = 1.3e-4), and each timer that ran out
    before `until` was answered then, and none before its timer. Returns
    (how many ran out, a summary)."""
    t_send, t_show, timers = run_
    qts = {p.group: p.ts for p in pkts if p.type == 130 and p.smac == qmac and p.ts >= t_send
           and p.group in timers}
    delays, fired = [], 0
    for g, ms in timers.items():
        if g not in qts:
            raise Fail("%s: the GSQ for %s is not in the capture" % (what, g))
        ans = answers_of(mine, g, qts[g])
        if ms < 0:
            if not ans or ans[0] > t_show + tol:
                raise Fail("%s: %s had no timer in show -j and no answer before it" % (what, g))
            due = ans[0]
        else:
            due = t_show + ms / 1000.0
        delays.append(due - qts[g])
        if ans and ans[0] < due - tol:
            raise Fail("%s: %s answered at %.3f, before its timer ran out (due %.3f)" % (what, g, ans[0], due))
        if due + tol < until:
            fired += 1
            if not ans or ans[0] > due + tol:
                raise Fail("%s: %s answer due at %.3f (timer %d ms at %.3f), got %s" % (
                    what, g, due, ms, t_show, ["%.3f" % x for x in ans] or "none"))
    v = sorted(delays)
    mrd = mrd_ms / 1000.0
    mean = sum(v) / len(v)
    if v[0] < -tol or v[-1] > mrd + tol:
        raise Fail("%s: response delays %.3f..%.3f s, outside [0, %.3f]" % (what, v[0], v[-1], mrd))
    if v[-1] < 0.8 * mrd or v[0] > 0.2 * mrd or not 0.3 * mrd <= mean <= 0.7 * mrd:
        raise Fail("%s: %d response delays %.3f..%.3f s (mean %.3f) are not spread over [0, %.3f]: the "
                   "MRC was decoded as something else" % (what, len(v), v[0], v[-1], mean, mrd))
    return fired, "%s: %d delays %.1f..%.1f s of %.3f, %d answered when due" % (
        what, len(v), v[0], v[-1], mrd, fired)


def groups_n(prefix, n):
    return ["%s:%x" % (prefix, i) for i in range(1, n + 1)]


def s_mrc_linear(T):
    """MRC < 32768 is the delay in ms: 0 (answer at once), 2500, and 32688
    (above the seed's typo threshold 32678: still linear)."""
    ga, gb = groups_n("ff3e::1", 40), groups_n("ff3e::2", 40)
    r = Run(T, {g: (EX, S()) for g in ga + gb}, {"unsolicited-report-interval": "100ms"})
    t0 = r.send(r.q.gq(mrc=0))
    time.sleep(SLACK)
    run_a = gsq_timers(r, ga, 2500)
    run_b = gsq_timers(r, gb, 32688)
    time.sleep(max(0.0, run_a[1] + 2.5 + SLACK - time.time()))
    pkts, mine = r.finish(need=[("gq", canon(ga[0])), ("gsq", canon(ga[0]))])
    until = r.t_end
    gq = [p for p in pkts if p.type == 130 and p.smac == r.lab.qmac and p.group == "::" and p.ts >= t0]
    ans = [p for p in mine if gq and p.ts > gq[0].ts and p.type == 143]
    if not gq or not ans or ans[0].ts - gq[0].ts > 0.3:
        raise Fail("general query with MRC 0: first answer %s after it (wanted at once, <= 0.3 s)" % (
            "%.3f s" % (ans[0].ts - gq[0].ts) if ans else "never"))
    took_gq = ans[0].ts - gq[0].ts
    n_a, note_a = check_timers(pkts, mine, r.lab.qmac, run_a, 2500, until, "MRC 2500")
    _, note_b = check_timers(pkts, mine, r.lab.qmac, run_b, 32688, until, "MRC 32688")
    if n_a != len(ga):
        raise Fail("only %d of %d MRC 2500 timers ran out in the scenario" % (n_a, len(ga)))
    T.notes.append("MRC 0: answered after %.1f ms; %s; %s" % (took_gq * 1000, note_a, note_b))


# Exponential codes: (code, delay in ms by RFC 3810 §5.1.3).
MRC_EXP = [(0x8000, 32768), (0x9234, 74560), (0xffff, 8387584)]


def s_mrc_exponential(T):
    """MRC >= 32768: (mant | 0x1000) << (exp + 3). The smallest such delay is
    32.8 s, too long to wait for: each code is checked on 40 groups'
    response timers (show -j), spread over exactly the decoded delay, and
    the few that run out within the scenario are answered when due."""
    sets = [(code, ms, groups_n("ff3e::%x" % (0x30 + i), 40)) for i, (code, ms) in enumerate(MRC_EXP)]
    r = Run(T, {g: (EX, S()) for _, _, gs in sets for g in gs}, {"unsolicited-report-interval": "100ms"})
    runs = [(code, ms, gsq_timers(r, gs, code)) for code, ms, gs in sets]
    # Wait for the third-earliest timer of all (about 2.4 s in with 40
    # groups over 32.8 s), at most 8 s.
    dues = sorted(run_[1] + v / 1000.0 for _, _, run_ in runs for v in run_[2].values() if v >= 0)
    time.sleep(max(0.0, min(dues[2], time.time() + 8.0) + SLACK - time.time()))
    pkts, mine = r.finish(wait=False)
    until = r.t_end
    notes, fired = [], 0
    for code, ms, run_ in runs:
        n, note = check_timers(pkts, mine, r.lab.qmac, run_, ms, until, "MRC 0x%04x" % code)
        fired += n
        notes.append(note)
    if fired < 1:
        raise Fail("no response timer ran out within the scenario: nothing seen answered on time")
    T.notes.append("; ".join(notes))


# ---------------------------------------------------------------- QQIC, QRV (RFC 3810 §5.1.8, §5.1.9)

# (QQIC, learned Query Interval in ms): linear below 128, (mant | 0x10) <<
# (exp + 3) s above; 0 keeps what was learned.
QQIC_CASES = [(60, 60000), (0, 60000), (127, 127000), (0x80, 128000), (0x8f, 248000), (0xa5, 672000),
              (0xff, 31744000), (0x80, 128000)]


def querier_view(agent):
    l = agent.link()
    q = l["querier"]
    return q["robustness"], q["query_interval_ms"], q["query_response_interval_ms"], l["version"], \
        l["v1_querier_present_ms"]


def s_qqic(T):
    """QQIC decoded into the learned Query Interval (show -j), then used:
    the Older Version Querier Present timeout is RV * QI + QRI (§9.12)."""
    g = "ff3e::51"
    r = Run(T, {g: (EX, S())}, {"unsolicited-report-interval": "100ms"})
    seen = []
    for qqic, ms in QQIC_CASES:
        n0 = counters(r.agent)["engine.rx_v2_general"]
        r.send(r.q.gq(mrc=300, qqic=qqic))
        wait_for(lambda: counters(r.agent)["engine.rx_v2_general"] > n0, 2, "engine taking the GQ", 0.02)
        got = querier_view(r.agent)[1]
        if got != ms:
            raise Fail("GQ with QQIC %d (0x%02x): learned query interval %d ms, expected %d" % (qqic, qqic, got, ms))
        seen.append("0x%02x=%gs" % (qqic, ms / 1000.0))
        time.sleep(0.3 + SLACK)   # its answer, before the next
    # QI 128 s learned (last case), QRI 300 ms, RV 2: a v1 general query
    # starts the Older Version Querier Present timer at 2 * 128 + 0.3 s.
    time.sleep(0.2)
    r.tl.change(time.time(), None)   # v1 answers from here: judged below
    t_v1 = r.send(r.q.v1(mrc=400))
    wait_for(lambda: querier_view(r.agent)[3] == 1, 2, "MLDv1 compatibility mode after a v1 query", 0.02)
    t_a = time.time()
    rv, qi, qri, _, left = querier_view(r.agent)
    want = rv * qi + qri
    elapsed = (time.time() + t_a) / 2 - t_v1
    if not want - (elapsed + 0.3) * 1000 <= left <= want:
        raise Fail("v1_querier_present_ms %d %.2f s after the v1 query; expected %d (RV %d * QI %d + QRI %d) "
                   "minus the time since" % (left, elapsed, want, rv, qi, qri))
    time.sleep(0.4 + SLACK)
    pkts, mine = r.finish(wait=False)
    v1 = [p for p in mine if p.type == 131 and p.group == canon(g) and p.ts > t_v1]
    if not v1 or v1[0].ts - t_v1 > 0.4 + SLACK + 0.2:
        raise Fail("no MLDv1 report for %s within the v1 query's 400 ms" % g)
    T.notes.append("QQIC %s; OVQPT %d ms = %d * %d + %d" % (" ".join(seen), left, rv, qi, qri))


def tx_changes(mine, group, rtype, since, until):
    return [x[0] for x in e2e.state_changes(mine, since, until) if x[3] == canon(group) and x[2] == rtype]


def s_qrv(T):
    """QRV sets the Robustness Variable the host uses: a state change is
    sent RV times (§6.1), counted in the capture. Configured robustness 3
    until a QRV is heard; QRV 0 keeps it; 1 and 7 adopted; QRV 0 after 7
    keeps 7."""
    uri = 0.2
    r = Run(T, {"ff3e::60": (EX, S())}, {"robustness": 3, "unsolicited-report-interval": "200ms"})
    # (QRV sent or None, learned robustness in show -j (0: none), RV used, group joined)
    steps = [(None, 0, 3, "ff3e::61"), (0, 0, 3, "ff3e::62"), (1, 1, 1, "ff3e::63"), (7, 7, 7, "ff3e::64"),
             (0, 7, 7, "ff3e::65")]
    joins, seen = [], []
    for qrv, learned, n, g in steps:
        if qrv is not None:
            r.send(r.q.gq(mrc=300, qrv=qrv))
            time.sleep(0.3 + SLACK)
        got = querier_view(r.agent)[0]
        if got != learned:
            raise Fail("after a GQ with QRV %s: show -j querier robustness %d, expected %d" % (qrv, got, learned))
        t = r.change(["join", "mld0", g], g, (EX, S()))
        r.agent.wait_quiet(timeout=n * uri + 3)
        time.sleep(uri + 0.3)
        joins.append((qrv, n, g, t, time.time()))
    # And a leave under RV 7: TO_IN{} seven times.
    t = r.change(["leave", "mld0", "ff3e::60", "--listener", "app"], "ff3e::60", None)
    wait_for(lambda: canon("ff3e::60") not in [canon(x["group"]) for x in r.agent.link()["groups"]],
             7 * uri + 3, "leave of ff3e::60 retransmitted and done")
    time.sleep(0.3)
    pkts, mine = r.finish()
    for qrv, n, g, t0, t1 in joins:
        ts = tx_changes(mine, g, 4, t0, t1)
        if len(ts) != n:
            raise Fail("join of %s after QRV %s: %d TO_EX records, expected %d (RV %d)" % (g, qrv, len(ts), n, n))
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        if gaps and max(gaps) > uri + 0.3:
            raise Fail("join of %s: retransmissions %s s apart, URI %.1f s" % (g, ["%.2f" % x for x in gaps], uri))
        seen.append("QRV %s: %d" % ("none" if qrv is None else qrv, n))
    ts = tx_changes(mine, "ff3e::60", 3, t, time.time())
    if len(ts) != 7:
        raise Fail("leave of ff3e::60 under RV 7: %d TO_IN{} records, expected 7" % len(ts))
    T.notes.append("state-change transmissions: %s; leave under QRV 7: 7" % ", ".join(seen))


# ---------------------------------------------------------------- answers (RFC 3810 §6.2, §6.3)

def R(t, *n):
    return (t, frozenset(src(*n)))


def answers(groups, cases, joins=()):
    """A scenario: the agent holds groups (plus joins: (mldctl arguments,
    group, merged filter after), e.g. a second listener); each case (what, group, queries as
    [(kind, sources, destination)], acceptable outcomes) sends its queries,
    all cases in one batch, and the agent's records for the group within
    the window, record by record, must be one of the outcomes ([] =
    nothing at all)."""
    mrc = 1000

    def fn(T):
        r = Run(T, groups, {"unsolicited-report-interval": "100ms"})
        for argv, g, filt in joins:
            r.change(argv, g, filt)
        r.agent.wait_quiet()
        frames, need = [], []
        for what, g, queries, outcomes in cases:
            # e2e's oracle wants each GSSQ answered with exactly IS_IN(Q*A)
            # or the full state; a merged answer (§6.2 rule 5) is neither:
            # such cases come from the forger's MAC, judged only here.
            q = r.forger if what.endswith(MERGED) else r.q
            for kind, srcs, dst in queries:
                if kind == "gsq":
                    frames.append(q.gsq(g, mrc=mrc, dst=dst))
                else:
                    frames.append(q.gssq(g, srcs, mrc=mrc, dst=dst))
                if q is r.q and [] not in outcomes:
                    need.append((kind, canon(g)))
        c0 = counters(r.agent)
        t = r.send(frames)
        time.sleep(mrc / 1000.0 + SLACK)
        d = delta(c0, counters(r.agent))
        pkts, mine = r.finish(need=need)
        held = sum(1 for _, g, qs, _ in cases for _ in qs if canon(g) in r.state)
        if d.get("xdp.events", 0) != held or d.get("xdp.not_member", 0) != len(frames) - held:
            raise Fail("%d queries for held groups, %d for others: xdp counters moved %s" % (
                held, len(frames) - held, d))
        out = []
        for what, g, queries, outcomes in cases:
            got = records(mine, g, t, t + mrc / 1000.0 + SLACK + 0.2)
            if got not in outcomes:
                raise Fail("%s: %s answered %s, expected %s" % (what, g, fmt_recs(got),
                                                                 " or ".join(fmt_recs(o) for o in outcomes)))
            out.append("%s -> %s" % (what, fmt_recs(got)))
        T.notes.append("; ".join(out))
    return fn


MERGED = "(recorded sources merged)"
G = lambda *q: ("gssq", src(*q), None)   # a group-and-source query, to the group
GQ_ = ("gsq", (), None)                  # a group-specific query, to the group

GSS_INCLUDE = answers(
    {"ff3e::8000:11": (IN, S(1, 2)), "ff3e::8000:12": (IN, S(1, 2)), "ff3e::8000:13": (IN, S(1, 2, 3)),
     "ff3e::8000:14": (IN, S(1, 2))},
    [("IN{1,2} Q{2,3}", "ff3e::8000:11", [G(2, 3)], [[R(1, 2)]]),
     ("IN{1,2} Q{3,4} (A*Q empty)", "ff3e::8000:12", [G(3, 4)], [[]]),
     ("IN{1,2,3} Q{1} + Q{3,4} " + MERGED, "ff3e::8000:13", [G(1), G(3, 4)],
      [[R(1, 1, 3)], [R(1, 1), R(1, 3)]]),
     ("IN{1,2} Q{1,2,5}", "ff3e::8000:14", [G(1, 2, 5)], [[R(1, 1, 2)]])])

GSS_EXCLUDE = answers(
    {"ff3e::21": (EX, S(1, 2)), "ff3e::22": (EX, S(1, 2)), "ff3e::23": (EX, S(9)), "ff3e::24": (EX, S(1))},
    [("EX{1,2} Q{2,3}", "ff3e::21", [G(2, 3)], [[R(1, 3)]]),
     ("EX{1,2} Q{1,2} (Q-X empty)", "ff3e::22", [G(1, 2)], [[]]),
     ("EX{9} Q{1,2,9}", "ff3e::23", [G(1, 2, 9)], [[R(1, 1, 2)]]),
     ("EX{1} Q{1} + Q{2}", "ff3e::24", [G(1), G(2)], [[R(1, 2)]])])

GSS_ASM = answers(
    {"ff3e::31": (EX, S()), "ff3e::32": (EX, S()), "ff3e::33": (EX, S(1))},
    [("ASM Q{1,2}", "ff3e::31", [G(1, 2)], [[R(1, 1, 2)]]),
     ("ASM Q{5} sent to ff02::1", "ff3e::32", [("gssq", src(5), "ff02::1")], [[R(1, 5)]]),
     ("EXCLUDE{1} + ASM listener = ASM, Q{1}", "ff3e::33", [G(1)], [[R(1, 1)]])],
    joins=[(["join", "mld0", "ff3e::33", "--listener", "b"], "ff3e::33", (EX, S()))])

GSQ_STATE = answers(
    {"ff3e::8000:41": (IN, S(1, 2)), "ff3e::42": (EX, S(9)), "ff3e::43": (EX, S()),
     "ff3e::8000:44": (IN, S(1, 2)), "ff3e::45": (EX, S(9))},
    [("GSQ, IN{1,2}", "ff3e::8000:41", [GQ_], [[R(1, 1, 2)]]),
     ("GSQ, EX{9}", "ff3e::42", [GQ_], [[R(2, 9)]]),
     ("GSQ, ASM", "ff3e::43", [GQ_], [[R(2)]]),
     ("GSSQ{1} then GSQ (rule 4: one full answer)", "ff3e::8000:44", [G(1), GQ_],
      [[R(1, 1, 2)], [R(1, 1), R(1, 1, 2)]]),
     ("GSQ then GSSQ{1} (rule 3: stays a full answer)", "ff3e::45", [GQ_, G(1)], [[R(2, 9)], [R(2, 9), R(1, 1)]]),
     ("GSQ for a group not held", "ff3e::46", [GQ_], [[]])])


# ---------------------------------------------------------------- MLDv1 compatibility (RFC 3810 §8.2)

def wait_version(agent, v, timeout, what):
    """Polls show -j until the link speaks version v; returns the time it
    was first seen (to the poll's precision, 20 ms)."""
    wait_for(lambda: (querier_view(agent)[3] == v, querier_view(agent)[3]), timeout, what, 0.02)
    return time.time()


def v1_oracle(T, r, pkts, mine, tl1, a, b):
    """e2e's oracle, MLDv1 answers, over the querier's queries sent in [a, b]."""
    problems = []
    e2e.oracle([p for p in pkts if a <= p.ts <= b], mine, {r.lab.qmac}, tl1, 1, problems)
    if problems:
        raise Fail("%d oracle problem(s) (MLDv1 mode): %s" % (len(problems), " | ".join(problems[:3])))


def s_v1_compat(T):
    """A v1 general query puts the link in MLDv1 mode for RV * QI + QRI (as
    learned: 2 * 2 s + 1 s); every v1 general query re-arms it, a v2 query
    in v1 mode is answered in v1 and does not; then MLDv2 again."""
    g1, g2, g3 = "ff3e::c1", "ff3e::8000:c2", "ff3e::c3"
    r = Run(T, {g1: (EX, S()), g2: (IN, S(1))},
            {"unsolicited-report-interval": "100ms", "v1-unsolicited-report-interval": "200ms"})
    r.send(r.q.gq(mrc=1000, qrv=2, qqic=2))
    time.sleep(1.0 + SLACK)
    if querier_view(r.agent)[:4] != (2, 2000, 1000, 2):
        raise Fail("after a v2 GQ (QRV 2, QQIC 2, MRC 1000): show -j querier %s" % (querier_view(r.agent),))
    ovqpt = 2 * 2.0 + 1.0
    t_off = time.time()
    r.tl.change(t_off, None)          # the v2 oracle stops here...
    tl1 = e2e.Timeline()
    tl1.change(t_off, dict(r.state))  # ...the v1 one starts
    t_v1a = r.send(r.q.v1(mrc=1000))
    wait_version(r.agent, 1, 2, "MLDv1 compatibility mode after a v1 general query")
    left = querier_view(r.agent)[4]
    if not (ovqpt - 0.5) * 1000 <= left <= ovqpt * 1000:
        raise Fail("v1_querier_present_ms %d just after the v1 query, expected ~%d" % (left, ovqpt * 1000))
    time.sleep(max(0.0, t_v1a + 1.3 - time.time()))
    r.send(r.q.gq(mrc=500, qrv=2, qqic=2))   # answered in v1, no re-arm
    time.sleep(0.2)
    left2, since = querier_view(r.agent)[4], time.time() - t_v1a
    if left2 > (ovqpt - since + 0.25) * 1000:
        raise Fail("a v2 query in v1 mode re-armed the Older Version Querier Present timer: %d ms left "
                   "%.2f s after the v1 query" % (left2, since))
    t_join = r.change(["join", "mld0", g3], g3, (EX, S()))
    r.tl.change(t_join, None)         # still v1: the v2 oracle stays off
    tl1.change(t_join, dict(r.state))
    # The v2 GQ taught QRI 500 ms: the next v1 query arms RV * QI + QRI with it.
    rv, qi, qri = querier_view(r.agent)[:3]
    if (rv, qi, qri) != (2, 2000, 500):
        raise Fail("after a v2 GQ (QRV 2, QQIC 2, MRC 500) in v1 mode: show -j querier %s" % ((rv, qi, qri),))
    ovqpt2 = (rv * qi + qri) / 1000.0
    time.sleep(max(0.0, t_v1a + 2.5 - time.time()))
    r.send(r.q.v1(mrc=500))                   # re-arms: expiry ovqpt2 after this one
    time.sleep(max(0.0, t_v1a + ovqpt + 0.3 - time.time()))
    if querier_view(r.agent)[3] != 1:
        raise Fail("back to MLDv2 %.1f s after the first v1 query: the second did not re-arm the timer"
                   % (time.time() - t_v1a))
    t_back = wait_version(r.agent, 2, ovqpt2 + 1.5, "back to MLDv2 once the timer ran out")
    tl1.change(t_back, None)
    r.tl.change(t_back, dict(r.state))
    r.send(r.q.gq(mrc=500, qrv=2, qqic=2))
    time.sleep(0.5 + SLACK)
    pkts, mine = r.finish(need=[("gq", canon(g3))])
    qts = {}
    for p in pkts:
        if p.type == 130 and p.smac == r.lab.qmac and p.group == "::" and len(p.frame) < 90:
            qts.setdefault("v1", []).append(p.ts)   # the 24-octet queries (v2: 28)
    if len(qts.get("v1", [])) != 2:
        raise Fail("capture holds %d MLDv1 general queries, sent 2" % len(qts.get("v1", [])))
    expiry = t_back - qts["v1"][1]
    if not ovqpt2 - 0.15 <= expiry <= ovqpt2 + 0.5:
        raise Fail("MLDv2 again %.2f s after the last v1 query, expected RV * QI + QRI = %.1f s" % (expiry, ovqpt2))
    v1_oracle(T, r, pkts, mine, tl1, t_off, t_back)
    in_v1 = [p for p in mine if qts["v1"][0] + 0.05 < p.ts < t_back - 0.05]
    v2 = [p for p in in_v1 if p.type == 143]
    if v2:
        raise Fail("%r: MLDv2 report in MLDv1 compatibility mode" % v2[0])
    if not [p for p in in_v1 if p.type == 131 and p.group == canon(g3) and p.ts > t_join]:
        raise Fail("no MLDv1 report for %s joined in MLDv1 mode" % g3)
    T.notes.append("first v1 GQ: timer %d ms (2*2000+1000); v2 again %.2f s after the second (2*2000+500 "
                   "learned meanwhile = %.1f s)" % (left, expiry, ovqpt2))


def s_force_v1(T):
    """force-version 1: MLDv1 from the start; v2 queries answered with v1
    reports (a GSSQ as a group query), never back to v2."""
    g1, g2 = "ff3e::d1", "ff3e::8000:d2"
    r = Run(T, {g1: (EX, S()), g2: (IN, S(1))},
            {"force-version": 1, "unsolicited-report-interval": "100ms", "v1-unsolicited-report-interval": "200ms"})
    if querier_view(r.agent)[3] != 1:
        raise Fail("force-version 1: show -j version %s at start" % querier_view(r.agent)[3])
    t = r.send([r.q.gq(mrc=500, qrv=2, qqic=1), r.q.gssq(g2, src(1), mrc=500)])
    time.sleep(2 * 1 + 0.5 + 1.0)   # past RV * QI + QRI: forced, it stays v1
    if querier_view(r.agent)[3] != 1:
        raise Fail("force-version 1: show -j version %s after RV * QI + QRI" % querier_view(r.agent)[3])
    pkts, mine = r.finish(need=[("gq", canon(g1)), ("gssq", canon(g2))], version=1)
    v2 = [p for p in mine if p.type == 143]
    if v2:
        raise Fail("%r: MLDv2 report under force-version 1" % v2[0])
    v1 = sorted({p.group for p in mine if p.type == 131 and p.ts > t})
    if v1 != sorted([canon(g1), canon(g2)]):
        raise Fail("v1 reports after the v2 queries for %s" % v1)
    T.notes.append("v2 GQ and GSSQ answered with v1 reports; still v1 past RV*QI+QRI")


def s_force_v2(T):
    """force-version 2: v1 queries are ignored (engine drop version_forced,
    no answer, no switch); v2 queries answered as usual."""
    g1 = "ff3e::e1"
    r = Run(T, {g1: (EX, S())}, {"force-version": 2, "unsolicited-report-interval": "100ms"})
    c0 = counters(r.agent)
    t_off = time.time()
    r.tl.change(t_off, None)   # the v1 queries: due no v2 answer, judged here
    t = r.send([r.q.v1(mrc=300), r.q.v1(g1, mrc=300)])
    time.sleep(0.3 + SLACK)
    t_on = time.time()
    r.tl.change(t_on, dict(r.state))
    d = delta(c0, counters(r.agent))
    want = {"xdp.v1_query": 2, "xdp.events": 2, "engine.drop_version_forced": 2}
    got = {k: d.get(k, 0) for k in want}
    if got != want or d.get("engine.rx_v1_queries", 0):
        raise Fail("v1 queries under force-version 2: counters %s, expected %s; all moved: %s" % (got, want, d))
    qv = querier_view(r.agent)
    if qv[3] != 2 or qv[4] != -1:
        raise Fail("force-version 2: version %s, v1_querier_present_ms %s after v1 queries" % (qv[3], qv[4]))
    r.send(r.q.gq(mrc=500))
    time.sleep(0.5 + SLACK)
    pkts, mine = r.finish(need=[("gq", canon(g1))])
    early = [p for p in mine if t <= p.ts < t_on]
    if early:
        raise Fail("%r: answer to a v1 query under force-version 2" % early[0])
    T.notes.append("2 v1 queries dropped (version_forced), unanswered; v2 GQ answered")


# ---------------------------------------------------------------- GSSQ flood (errata 23)

FLOOD = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vq0", 0))
rate, dur = float(sys.argv[1]), float(sys.argv[2])
frames = [bytes.fromhex(h) for h in sys.argv[3:]]
n, errs, t0 = 0, 0, time.monotonic()
while True:
    now = time.monotonic() - t0
    if now >= dur:
        break
    due = min(int(now * rate) + 1, n + 200)
    while n < due:
        try:
            s.send(frames[n % len(frames)])
            n += 1
        except OSError:
            errs += 1
            break
    time.sleep(0.001)
print(n, errs, time.monotonic() - t0)
"""
FLOOD_RATE, FLOOD_S, GSR_DELAY = 4000, 8.0, 2.0


def s_gss_flood(T):
    """A GSSQ flood for a held group (FLOOD_RATE/s for FLOOD_S s, from
    another MAC and address) beside the querier's normal traffic: general
    queries every 2 s (the first one makes vq0's link-local the agent's
    querier: show -j, and the pinned mld_querier), two GSSQ retransmission
    bursts (2 queries, LLQI 1 s, as a router sends after another host's
    BLOCK, RFC 3810 §7.6.3) for the flooded group itself, a GSSQ pair for a
    second group and a GSQ pair and a GSSQ for a third. Every query of the
    querier is answered in its window (the oracle), the flooded group's
    GSSQs included: they are charged to the querier's own token bucket,
    which the flood cannot drain. The flood is absorbed: every flooded
    GSSQ the program validated was throttled in XDP (and dropped: policy
    drop) or handed on within the shared token bucket's bound (burst 2,
    one per gsr-delay), the agent's answers to it within that bound;
    mldctl answers throughout."""
    gf, g2, g3 = "ff3e::8000:f1", "ff3e::8000:f2", "ff3e::f3"
    r = Run(T, {gf: (IN, S(1, 2)), g2: (IN, S(1, 2)), g3: (EX, S())},
            {"gsr-delay": "%ds" % GSR_DELAY, "unsolicited-report-interval": "100ms"})
    flood = [r.forger.gssq(gf, src(1, 3), mrc=1000), r.forger.gssq(gf, src(1, 4), mrc=1000)]
    # The querier's GSSQs for gf ask about sources 2 and 6 (7): answered
    # IS_IN{2} (or, merged with a flooded GSSQ that passed, IS_IN{1,2}),
    # never the flood's IS_IN{1}. Its bucket: 2 tokens, one back per
    # GSR_DELAY: both bursts fit (the second one 4 s after the first).
    # (seconds after the flood starts, frame, (kind, group) the oracle must see answered)
    plan = [(0.5, r.q.gq(mrc=1000, qqic=2), ("gq", gf)),
            (1.5, r.q.gssq(gf, src(2, 6)), ("gssq", gf)), (2.5, r.q.gssq(gf, src(2, 6)), None),
            (2.6, r.q.gq(mrc=1000, qqic=2), None),
            (3.5, r.q.gssq(g2, src(2, 5)), ("gssq", g2)), (4.5, r.q.gssq(g2, src(2, 5)), None),
            (4.6, r.q.gq(mrc=1000, qqic=2), None),
            (5.5, r.q.gssq(gf, src(2, 7)), None), (5.7, r.q.gsq(g3), ("gsq", g3)),
            (6.5, r.q.gssq(gf, src(2, 7)), None), (6.7, r.q.gsq(g3), None),
            (6.8, r.q.gq(mrc=1000, qqic=2), None), (7.2, r.q.gssq(g3, src(9)), ("gssq", g3))]
    c0 = counters(r.agent)
    t0 = time.time()
    proc = subprocess.Popen(["ip", "netns", "exec", r.lab.q, e2e.PY, "-c", FLOOD, str(FLOOD_RATE), str(FLOOD_S)]
                            + [f.hex() for f in flood], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lat = []
    try:
        for at, f, _ in plan:
            while time.time() < t0 + at - 0.15:   # mldctl keeps answering meanwhile
                a = time.time()
                r.agent.ctl("show", "-j")
                lat.append(time.time() - a)
                time.sleep(0.05)
            time.sleep(max(0.0, t0 + at - time.time()))
            r.send(f)
        out, err = proc.communicate(timeout=FLOOD_S + 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise Fail("flood generator exited %d: %s" % (proc.returncode, err.strip()[-300:]))
    sent, errs, took = out.split()
    sent, took = int(sent), float(took)
    time.sleep(1.0 + SLACK)
    d = delta(c0, counters(r.agent))
    pkts, mine = r.finish(need=[n for _, _, n in plan if n])
    mine_q = [p for p in pkts if p.type == 130 and p.smac == r.lab.qmac and p.ts > t0]
    if len(mine_q) != len(plan):
        raise Fail("the capture holds %d of the querier's %d queries (capture overrun?)" % (len(mine_q), len(plan)))
    legit_gss = sum(1 for _, f, _ in plan if query_sources(f))
    seen = d.get("xdp.v2_group_source_query", 0) - legit_gss
    thr = d.get("xdp.gs_throttled", 0)
    passed = seen - thr
    bound = 2 + int(took / GSR_DELAY) + 1
    if sent / took < 1000:
        raise Fail("flood of %d GSSQs in %.1f s: %.0f/s, not a flood" % (sent, took, sent / took))
    if seen < 0.9 * sent:
        raise Fail("XDP validated %d of %d flooded GSSQs" % (seen, sent))
    if d.get("xdp.gs_throttled_dropped", 0) != thr:
        raise Fail("throttle policy drop: %d throttled, %d dropped" % (thr, d.get("xdp.gs_throttled_dropped", 0)))
    if not 0 <= passed <= bound:
        raise Fail("%d flooded GSSQs passed the XDP throttle, bound %d (burst 2 + %.1f s / %.0f s + 1)"
                   % (passed, bound, took, GSR_DELAY))
    engine_gss = d.get("engine.rx_v2_group_source", 0) + d.get("engine.drop_gs_throttled", 0)
    if engine_gss != passed + legit_gss:
        raise Fail("the engine saw %d GSSQs, XDP handed on %d" % (engine_gss, passed + legit_gss))
    partial = [p for p in mine if p.ts > t0 for t, g, ss in p.records
               if g == canon(gf) and t == 1 and ss == frozenset(src(1))]
    if len(partial) > passed:
        raise Fail("%d IS_IN{1} answers for the flooded group, more than the %d GSSQs passed" % (len(partial), passed))
    if max(lat) > 1.0:
        raise Fail("mldctl show took up to %.2f s during the flood" % max(lat))
    ll_q, ifindex = canon(r.q.ll), r.lab.hlink()["ifindex"]
    if r.agent.link()["querier"].get("address") != ll_q:
        raise Fail("show -j querier %r, expected vq0's %s" % (r.agent.link()["querier"], ll_q))
    if e2e.querier_map(r.agent) != {(ifindex, ll_q)}:
        raise Fail("mld_querier holds %s, expected {(%d, %s)}" % (e2e.querier_map(r.agent), ifindex, ll_q))
    own = sum(1 for _, f, _ in plan if query_sources(f) and query_group(f) == canon(gf))
    T.notes.append("flood %d GSSQs in %.1f s (%.0f/s): %d throttled+dropped in XDP, %d passed (bound %d), "
                   "%d partial answers; %d querier queries all answered (%d GSSQs for the flooded group); "
                   "mldctl show max %.0f ms over %d calls"
                   % (sent, took, sent / took, thr, passed, bound, len(partial), len(plan), own, max(lat) * 1000,
                      len(lat)))


def query_sources(b):
    """Number of Sources of an MLDv2 query frame (0 for anything else)."""
    o = icmp_offset(b)
    return int.from_bytes(b[o + 26:o + 28], "big") if len(b) >= o + 28 and b[o] == 130 else 0


def query_group(b):
    """Multicast Address field of a query frame."""
    o = icmp_offset(b)
    return canon(b[o + 8:o + 24])


# ---------------------------------------------------------------- table

SCENARIOS = [
    ("q-val-hop-limit", "RFC 3810 §6.2, RFC 2710 §3 (Hop Limit 1)",
     "queries with hop limit 255, 0, 2 dropped (bad_hop_limit += n), nothing sent, show -j unchanged; "
     "valid GQ + GSSQ then answered", rejected(val_hop_limit)),
    ("q-val-no-router-alert", "RFC 3810 §6.2, RFC 2711",
     "no Router Alert in the hop-by-hop header: no_router_alert += n; no hop-by-hop header: no counter "
     "at all (fast exit); nothing sent, state unchanged; control answered", rejected(val_no_ra)),
    ("q-val-router-alert-value", "RFC 3810 §6.2, RFC 2711 §2.1 (value 0 = MLD)",
     "Router Alert values 1, 2, 65535: no_router_alert += n; a 4-octet Router Alert: bad_ext_hdr; "
     "nothing sent; control answered", rejected(val_ra_value)),
    ("q-val-source-global", "RFC 3810 §5.1.14, §6.2",
     "queries from 2001:db8::1, fd00::1, fec0::1, ff02::1: bad_source += n, nothing sent, state "
     "unchanged; control answered", rejected(val_src_global)),
    ("q-val-source-unspecified", "RFC 3810 §5.1.14",
     "queries from :: dropped (bad_source += n), nothing sent, state unchanged; control answered",
     rejected(val_src_unspec)),
    ("q-val-checksum", "RFC 3810 §5.1.2, RFC 4443 §2.3",
     "wrong ICMPv6 checksum (28-octet, 60-octet, 668-octet queries): bad_checksum += n, nothing sent; "
     "control answered", rejected(val_checksum)),
    ("q-val-length", "RFC 3810 §8.1, §5.1.10, RFC 2710 §3",
     "queries of 20 and 26 octets, a v2 query ending inside its source list: bad_length += n; frames "
     "cut short of their IPv6 payload length: truncated += n; control answered", rejected(val_length)),
    ("q-val-source-count", "RFC 3810 §5.1.10, §5.1.11",
     "Number of Sources beyond the message (100 for 2, 65535 for 0, 1 for 0): bad_length += n, "
     "nothing sent; control answered", rejected(val_nsrc)),
    ("q-val-gq-sources", "RFC 3810 §5.1.10, §5.1.13",
     "general query (group ::) with 1 and 3 sources: gq_with_sources += n, nothing sent; control answered",
     rejected(val_gq_sources)),
    ("q-val-group-not-multicast", "RFC 3810 §5.1.5, RFC 2710 §3.6",
     "queries for 2001:db8::5, fe80::5, ::1: bad_group += n, nothing sent; control answered",
     rejected(val_group)),
    ("q-val-destination", "RFC 3810 §5.1.15",
     "GQ to ff02::2 / ff02::16, group queries to another group, queries to unicast addresses not the "
     "agent's: bad_group += n, nothing sent; GSSQ and GQ to a global address of mld0 and GSQ to the "
     "agent's link-local: counted and answered record by record (mld_local_addrs checked with "
     "bpftool); after the address is removed, a query to it: bad_group", s_destination),
    ("q-val-ext-hdr", "RFC 8200 §4.2, §4.6, RFC 3810 §5",
     "unknown option whose action bits say discard (01, 10, 11) in the hop-by-hop header or in a "
     "destination options header: bad_ext_hdr += n, nothing sent; control answered", rejected(val_ext_hdr)),
    ("q-atomic-fragment", "RFC 6946 §4, RFC 8200 §4.5",
     "first fragments (offset 0, M 1) and later ones (offset > 0) of queries: fragment += n, nothing "
     "sent, state unchanged; atomic fragments (offset 0, M 0) of a GSSQ and a GQ: counted and answered "
     "as unfragmented ones, record by record", s_atomic_fragment),
    ("q-ignored-fields", "RFC 3810 §5.1.1, §5.1.4, §5.1.7, §5.1.12",
     "Code 7, Reserved 0xffff, Resv bits and S flag set, 12 / 4 octets after the source list: GSSQ and "
     "GQ answered exactly as usual; trailing octets left out of the checksum: bad_checksum, no answer",
     s_ignored_fields),
    ("q-mrc-linear", "RFC 3810 §5.1.3, §6.2",
     "MRC 0: answered at once; MRC 2500 and 32688 (linear up to 32767): 40 groups' response delays "
     "(capture + show -j timers) spread over exactly [0, MRD], each answered when its timer ran out",
     s_mrc_linear),
    ("q-mrc-exponential", "RFC 3810 §5.1.3, §6.2",
     "MRC 0x8000, 0x9234, 0xffff (32.768 s, 74.56 s, 8387.584 s): 40 groups each, response timers "
     "(show -j) spread over exactly the decoded delay; the earliest answered when due",
     s_mrc_exponential),
    ("q-qqic", "RFC 3810 §5.1.9, §9.2, §9.12",
     "QQIC 60, 0, 127, 0x80, 0x8f, 0xa5, 0xff -> learned query interval (show -j) 60 s, kept, 127 s, 128 s, "
     "248 s, 672 s, 31744 s; then a v1 query: Older Version Querier Present timer = RV * QI + QRI",
     s_qqic),
    ("q-qrv", "RFC 3810 §5.1.8, §6.1, §9.1",
     "state-change reports counted in the capture: configured robustness 3 with no QRV and after QRV 0; "
     "QRV 1 -> 1, QRV 7 -> 7 (and 7 TO_IN{} for a leave), QRV 0 after 7 keeps 7", s_qrv),
    ("q-gss-include", "RFC 3810 §6.3, §6.2 (rule 5)",
     "INCLUDE{A} + GSSQ{B}: exactly IS_IN{A*B} (record by record), nothing if empty; two GSSQs merged "
     "into one IS_IN of the union", GSS_INCLUDE),
    ("q-gss-exclude", "RFC 3810 §6.3",
     "EXCLUDE{X} + GSSQ{B}: exactly IS_IN{B-X}, nothing if empty; a first GSSQ with nothing to say "
     "is not recorded", GSS_EXCLUDE),
    ("q-gss-asm", "RFC 3810 §6.3, §4.2, §5.1.15",
     "ASM (EXCLUDE{}) + GSSQ{B}: IS_IN{B}, also for a GSSQ sent to ff02::1 and for a group ASM only "
     "through the merge of two listeners", GSS_ASM),
    ("q-gsq-state", "RFC 3810 §6.3, §6.2 (rules 3, 4)",
     "GSQ: exactly the full state (IS_IN{A}, IS_EX{X}, IS_EX{}); GSSQ then GSQ and GSQ then GSSQ: one "
     "full answer; GSQ for a group not held: not_member, nothing sent", GSQ_STATE),
    ("q-v1-compat", "RFC 3810 §8.2.1, §9.12, RFC 2710 §4",
     "v1 GQ -> MLDv1 mode (v1 reports, also for a v2 GQ and a join, no v2 report) for RV*QI+QRI as "
     "learned (2*2+1 s in show -j), re-armed by the next v1 GQ (with the QRI a v2 GQ taught meanwhile: "
     "2*2+0.5 s), not by a v2 query; then MLDv2 again, within -0.15/+0.5 s", s_v1_compat),
    ("q-force-v1", "RFC 3810 §8.2.1 (compatibility mode), CONFIG force-version",
     "force-version 1: v1 from the start, v2 GQ and GSSQ answered with v1 reports, no v2 report, still "
     "v1 after RV*QI+QRI", s_force_v1),
    ("q-force-v2", "RFC 3810 §8.2.1, RFC 9777 §8.2.1 (SSM-only option), §10",
     "force-version 2: v1 queries counted as drop version_forced, not answered, version stays 2; "
     "v2 GQ answered", s_force_v2),
    ("q-gss-flood", "RFC 3810 §6.2, §7.6.2, §7.6.3, §10; errata 23 (throttle)",
     "GSSQ flood (thousands/s) for a held group beside a querier's GQs, GSQ and GSSQ retransmissions, "
     "two GSSQ bursts for the flooded group among them: every querier query answered in its window; "
     "flood throttled and dropped in XDP, passed GSSQs and answers within the shared token bucket's "
     "bound, counters consistent XDP -> engine; querier in show -j and mld_querier; mldctl responsive",
     s_gss_flood),
]


def preflight():
    return [SCAPY_PROBLEM] if SCAPY_PROBLEM else []


def describe():
    if SCAPY_PROBLEM:
        return SCAPY_PROBLEM
    return "scapy %s under %s: queries built field by field (and malformed byte by byte) and sent " \
        "from the querier namespace's vq0" % (scapy.VERSION, sys.executable)


# What the scenarios rest on, and what the agent was seen to do.
NOTES = [
    "Two senders share vq0: the querier (vq0's MAC and link-local address), whose every query e2e's "
    "timeline oracle wants answered in its window, and a forger (MAC %s, %s) for malformed queries and "
    "floods, which the oracle leaves alone; each malformed query would be answered within %d ms and would "
    "teach QRV %d / QQIC %d if taken, so a taken one shows in the capture and in show -j." % (
        FORGE_MAC, FORGE_LL, MRC_BAD, QRV_BAD, QQIC_BAD),
    "A query without any hop-by-hop header leaves the XDP program by its fast exit (it cannot carry the "
    "Router Alert) and is counted nowhere, by design (MLD_FAST_COUNT 0): q-val-no-router-alert checks "
    "that no counter and no event moves; with a hop-by-hop header lacking the Router Alert, "
    "no_router_alert counts it.",
    "Exponential Maximum Response Codes mean 32.8 s and more: rather than waiting, q-mrc-exponential "
    "queries 40 groups per code and reads each group's response timer from show -j (the delay from the "
    "query's capture time to its due time must lie in [0, MRD] and spread over it: top and bottom fifth "
    "hit, mean in the middle), and the timers that run out within the scenario (about 3 of 40 in 2.4 s "
    "for 0x8000) must be answered when due. The linear 32688 (above the seed's 32678 typo) is checked "
    "the same way; MRC 2500 is waited for in full.",
    "QRV 0 after a learned non-zero QRV keeps the learned value (docs/ENGINE.md errata 3; Linux "
    "mld_update_qrv does the same). RFC 3810 §5.1.8 prescribes a fall-back to the default or configured "
    "value only for routers; q-qrv checks the documented host behaviour, and that before any QRV (and "
    "after a first QRV 0) the configured robustness is used.",
    "The Query Response Interval is learned from every MLDv2 general query, also one heard in MLDv1 "
    "compatibility mode, and the next v1 general query arms the Older Version Querier Present timer "
    "with it (as Linux); q-v1-compat expects exactly that (2 * 2 s + 0.5 s).",
    "force-version 2 ignores v1 queries (engine drop version_forced: no answer, no mode change), as "
    "Linux does with force_mld_version 2.",
    "Two group-and-source queries for one group before its answer are answered by one IS_IN of the "
    "merged recorded sources (RFC 3810 §6.2 rule 5); e2e's oracle wants each GSSQ answered on its own, "
    "so that case is sent by the forger and judged by q-gss-include alone.",
    "Under a GSSQ flood for a group, the querier's own GSSQs for that same group are still answered: "
    "the agent takes the source of the last general query as the link's querier (show -j "
    "querier.address; the XDP program's pinned mld_querier) and charges its GSSQs to a token bucket of "
    "their own per group, which a flood from any other address cannot drain (errata 23). q-gss-flood "
    "sends two of the querier's GSSQ retransmission bursts for the flooded group during the flood. A "
    "flood spoofing the querier's address would drain only the querier's bucket (the link cannot tell "
    "them apart); that case is checked by the engine and XDP unit tests, not here.",
    "Found by q-val-ext-hdr and fixed: the XDP program took queries whose hop-by-hop header carried an "
    "unknown option with action bits 01/10/11 (RFC 8200 §4.2: discard), which the engine's own parser "
    "drops; and neither looked at the options of a destination options header (RFC 8200 §4.6).",
    "Found by this peer and fixed: a query sent to one of the agent's own unicast addresses was dropped "
    "as bad_group (XDP and engine), while RFC 3810 §5.1.15 says a node MUST accept and process queries to "
    "any of its addresses; the daemon now keeps every usable unicast address of its links in the XDP "
    "program's mld_local_addrs (from rtnetlink), and q-val-destination checks both ways. An atomic "
    "fragment (fragment header, offset 0, M 0) was dropped, where RFC 6946 §4 processes it as "
    "unfragmented; q-atomic-fragment checks it is answered and real fragments are not.",
    "A v1 multicast-address-specific query switches the link to MLDv1 mode as a v1 general query does: "
    "RFC 3810 §9.12 arms the Older Version Querier Present timer \"when an MLDv1 query is received\" "
    "(§8.2.1's wording is about general queries; Linux follows §9.12 too). q-v1-compat uses general "
    "queries only.",
]
