"""Peer: the Linux kernel's own MLD host, as a differential.

Every scenario builds two plain veth labs side by side:

  [<LAB>k-q: vq0 (querier, tshark)] <--> [<LAB>k-h: mld0, the kernel's MLD host]
  [<LAB>a-q: vq0 (querier, tshark)] <--> [<LAB>a-h: mld0, mldagent]

The same sequence of listener operations is applied to both: in the kernel
namespace as RFC 3678 socket options (tests/conformance/kernel_host.py: one
UDP socket per listener; MCAST_JOIN_GROUP, IPV6_JOIN_GROUP,
MCAST_JOIN_SOURCE_GROUP, MCAST_BLOCK_SOURCE, MCAST_MSFILTER, ...), to the
agent as the listener's resulting whole filter (`mldctl join ... --listener
L` / `leave`), tracked by the test's own model. The merged per-group state
(RFC 3810 §4.2) comes from that model, never from either host.

Both hosts run the same timers: robustness = the kernel's global mld_qrv,
unsolicited report interval URI_MS (v1: V1_URI_MS) — the kernel's per-link
sysctls, the agent's tunables. After each step the test waits until both
have finished their retransmissions; then the queries of a round go to both
from their vq0 at once. Everything both hosts sent is captured on vq0 and
decoded by e2e.read_pcap (every record); records of link-scope (ff02::/16)
groups are left out: the kernel reports its own solicited-node groups.

How a step is judged (the allowances are listed in NOTES):

  * one operation, previous step settled: strict, record by record as
    multisets of (type, group, source set): kernel == agent == the RFC 3810
    §6.1 table for the merged old -> new state, each record RV times;
  * a burst (several operations before the first change's retransmissions
    are over): RFC 3810 §6.1 lets pending records merge, and the two hosts
    see the operations at different instants, so their reports are compared
    by meaning: per group, the reports applied in order to the state before
    the burst must give the state after it, even with any RV-1 of the
    reports lost, from at most (changes + 2 RV - 1) reports;
  * a query: the current-state records in its response window, strict:
    kernel == agent == RFC 3810 §6.3 (RFC 2710 §4 in MLDv1 mode).

Where the kernel departs from the RFC in a way listed in KERNEL_DEVIATIONS,
the kernel's records are checked to be exactly that deviation, the agent is
checked against the RFC, and the scenario's note says so. Any other
difference fails the scenario. Each scenario writes its whole transcript
(steps, both hosts' records, verdicts) to differential.txt in its artifacts.

The random scenarios are kern-random-seed-N for N in $KERN_SEEDS (default
"1 2 3 4 5 6"); the sequence of a seed is the same on every run.
"""
import collections
import ipaddress
import itertools
import os
import random
import struct
import subprocess
import threading
import time

import common
from common import e2e, Fail, canon
from e2e import EX, IN, RTYPE, is_linkscope

PEER = "linux-kernel-host"
HELPER = os.path.join(common.HERE, "kernel_host.py")

URI_MS = 200          # mldv2_unsolicited_report_interval / unsolicited-report-interval
V1_URI_MS = 300       # mldv1_unsolicited_report_interval / v1-unsolicited-report-interval
MRD_MS = 300          # Maximum Response Delay of every query we send
SETTLE = 0.3          # margin after the last retransmission may have gone out
QUERY_WAIT = MRD_MS / 1000.0 + 0.4

IS_IN, IS_EX, TO_IN, TO_EX, ALLOW, BLOCK = 1, 2, 3, 4, 5, 6
V1_REPORT, V1_DONE = 131, 132
NAMES = dict(RTYPE)
NAMES.update({V1_REPORT: "v1-REPORT", V1_DONE: "v1-DONE"})


def kernel_qrv():
    """The kernel's robustness variable for new links: the global
    /proc/sys/net/ipv6/mld_qrv (init namespace only; not ours to change)."""
    try:
        with open("/proc/sys/net/ipv6/mld_qrv") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 2


RV = kernel_qrv()


def src(*n):
    return frozenset("2001:db8::%x" % k for k in n)


# ---------------------------------------------------------------- the model

class Model:
    """Each listener's RFC 3678 filter per group, and the merged state."""

    def __init__(self):
        self.lst = collections.OrderedDict()   # listener -> {group: (mode, frozenset)}

    def get(self, l, g):
        return self.lst.get(l, {}).get(g)

    def set(self, l, g, f):
        if f is None:
            self.lst.get(l, {}).pop(g, None)
        else:
            self.lst.setdefault(l, {})[g] = (f[0], frozenset(f[1]))

    def merged(self):
        """RFC 3810 §4.2: EXCLUDE if any listener excludes, with the
        intersection of the EXCLUDE lists minus the union of the INCLUDE
        lists; else INCLUDE with the union of the INCLUDE lists."""
        per = collections.defaultdict(list)
        for gs in self.lst.values():
            for g, f in gs.items():
                per[g].append(f)
        out = {}
        for g, fs in per.items():
            exs = [s for m, s in fs if m == EX]
            inc = frozenset().union(*[s for m, s in fs if m == IN])
            if exs:
                out[g] = (EX, frozenset.intersection(*exs) - inc)
            else:
                out[g] = (IN, inc)
        return out

    def apply(self, op):
        """op = (kind, listener, group, arg) -> [(listener, group, new filter or None)]
        (the listener filters it changed). Raises ValueError for an operation
        RFC 3678 refuses (the generator never makes one)."""
        kind, l, g, arg = op
        if kind == "close":
            ch = [(l, gg, None) for gg in sorted(self.lst.get(l, {}))]
            self.lst.pop(l, None)
            return ch
        f = self.get(l, g)
        if kind in ("join", "v6join"):
            if f is not None:
                raise ValueError("%s: already a member" % (op,))
            nf = (EX, frozenset())
        elif kind in ("leave", "v6leave"):
            if f is None:
                raise ValueError("%s: not a member" % (op,))
            nf = None
        elif kind in ("jsrc", "lsrc"):
            if kind == "jsrc" and f == (EX, frozenset()):
                # Linux (ip6_mc_source): a socket joined with no source
                # filter yet may switch modes; MCAST_JOIN_SOURCE_GROUP on an
                # ASM membership makes it INCLUDE{S}. (Only for a fresh ASM
                # join: once sources were blocked the kernel says EINVAL.)
                f = (IN, frozenset())
            if f is not None and f[0] != IN:
                raise ValueError("%s: EXCLUDE-mode membership" % (op,))
            have = f[1] if f else frozenset()
            if (arg in have) == (kind == "jsrc"):
                raise ValueError("%s: source %s" % (op, "present" if kind == "jsrc" else "absent"))
            s = have | {arg} if kind == "jsrc" else have - {arg}
            nf = (IN, s) if s else None   # INCLUDE{} is no membership (RFC 3678 §4.1.2)
        elif kind in ("block", "unblock"):
            if f is None or f[0] != EX:
                raise ValueError("%s: needs an EXCLUDE-mode membership" % (op,))
            if (arg in f[1]) == (kind == "block"):
                raise ValueError("%s: source %s" % (op, "present" if kind == "block" else "absent"))
            nf = (EX, f[1] | {arg} if kind == "block" else f[1] - {arg})
        elif kind == "filter":
            if f is None or (arg[0] == IN and not arg[1]):
                raise ValueError("%s: MCAST_MSFILTER needs a prior join and no INCLUDE{}" % (op,))
            nf = (arg[0], frozenset(arg[1]))
        else:
            raise ValueError("unknown operation %r" % (kind,))
        self.set(l, g, nf)
        return [(l, g, nf)]


def fmt_op(op):
    kind, l, g, arg = op
    if kind == "close":
        return "close(%s)" % l
    if kind == "filter":
        return "%s:%s %s %s{%s}" % (l, kind, g, arg[0], " ".join(sorted(arg[1])))
    return "%s:%s %s%s" % (l, kind, g, " " + arg if arg else "")


def fmt_st(st):
    return "None" if st is None else "%s{%s}" % (st[0], " ".join(sorted(st[1])))


def fmt_recs(recs):
    c = collections.Counter(recs)
    return "[" + ", ".join("%s %s{%s}%s" % (NAMES.get(t, t), g, " ".join(sorted(s)), " x%d" % n if n > 1 else "")
                           for (t, g, s), n in sorted(c.items(), key=lambda x: (x[0][1], x[0][0], sorted(x[0][2])))) + "]"


# ---------------------------------------------------------------- RFC expectations

def rfc_state_change(old, new, version=2):
    """The records RFC 3810 §6.1 (its table; non-member = INCLUDE{}) sends
    once for a change old -> new of one group; MLDv1 (RFC 2710 §4): a report
    when the group is joined, a Done when it is left."""
    if version == 1:
        if old is None and new is not None:
            return [V1_REPORT]
        if old is not None and new is None:
            return [V1_DONE]
        return []
    o = old or (IN, frozenset())
    n = new or (IN, frozenset())
    out = []
    if o[0] == n[0] == IN:
        out = [(ALLOW, n[1] - o[1]), (BLOCK, o[1] - n[1])]
        out = [r for r in out if r[1]]
    elif o[0] == n[0] == EX:
        out = [(ALLOW, o[1] - n[1]), (BLOCK, n[1] - o[1])]
        out = [r for r in out if r[1]]
    elif n[0] == EX:
        out = [(TO_EX, n[1])]
    else:
        out = [(TO_IN, n[1])]
    return out


def expected_change(old_all, new_all, version, rv, quiet=frozenset()):
    """Counter of (type, group, sources) both hosts must send for an
    isolated step. quiet: MLDv1 groups whose last report was suppressed by
    another host's (RFC 2710 §4: no Done for them)."""
    c = collections.Counter()
    for g in set(old_all) | set(new_all):
        for r in rfc_state_change(old_all.get(g), new_all.get(g), version):
            if version == 1:
                # RFC 2710 §4: the unsolicited report is repeated (RV times
                # in all); a Done is sent once, by the last reporter.
                if r == V1_DONE and g in quiet:
                    continue
                c[(r, g, frozenset())] += rv if r == V1_REPORT else 1
            else:
                c[(r[0], g, frozenset(r[1]))] += rv
    return c


def rfc_answer(state, qgroup, qsrcs, version):
    """RFC 3810 §6.3 / RFC 2710 §4: the current-state records answering a
    query, as a Counter (each record once)."""
    c = collections.Counter()
    for g, (mode, srcs) in state.items():
        if qgroup != "::" and g != qgroup:
            continue
        if version == 1:
            c[(V1_REPORT, g, frozenset())] += 1
        elif not qsrcs or qgroup == "::":
            c[(IS_EX if mode == EX else IS_IN, g, srcs)] += 1
        else:
            part = (qsrcs & srcs) if mode == IN else (qsrcs - srcs)
            if part:
                c[(IS_IN, g, part)] += 1
    return c


def apply_record(st, rec):
    """What a record says the host's state now is (the listener's meaning:
    TO_EX/IS_EX set EXCLUDE, TO_IN/IS_IN set INCLUDE, ALLOW/BLOCK move
    sources in or out)."""
    t, _, s = rec
    mode, cur = st or (IN, frozenset())
    if t in (TO_EX, IS_EX):
        mode, cur = EX, s
    elif t in (TO_IN, IS_IN):
        mode, cur = IN, s
    elif t == ALLOW:
        cur = cur | s if mode == IN else cur - s
    elif t == BLOCK:
        cur = cur - s if mode == IN else cur | s
    elif t == V1_REPORT:
        return (EX, frozenset())
    elif t == V1_DONE:
        return None
    if mode == IN and not cur:
        return None
    return (mode, frozenset(cur))


def meaning(start, reports):
    st = start
    for recs in reports:
        for r in recs:
            st = apply_record(st, r)
    return st


def robust_meaning(start, want, reports, rv):
    """None if the reports (lists of one group's records, in order) applied
    to start give want, even with any rv-1 of them lost; else what went
    wrong."""
    got = meaning(start, reports)
    if got != want:
        return "all %d reports give %s" % (len(reports), fmt_st(got))
    for k in range(1, min(rv - 1, len(reports)) + 1):
        for lost in itertools.combinations(range(len(reports)), k):
            got = meaning(start, [r for i, r in enumerate(reports) if i not in lost])
            if got != want:
                return "without report(s) %s of %d: %s" % (
                    ",".join(str(i + 1) for i in lost), len(reports), fmt_st(got))
    return None


# ---------------------------------------------------------------- known kernel deviations

def dev_gssq_exclude(state, g, qsrcs, kernel):
    """K1: a group-and-source query for a group in EXCLUDE(X) mode whose
    sources are not all in X is answered with IS_EX(X) (the group's whole
    state) instead of IS_IN(Q-X) (RFC 3810 §6.3). kernel: Counter of the
    kernel's answer for g."""
    if g == "::" or not qsrcs or g not in state or state[g][0] != EX or not (qsrcs - state[g][1]):
        return False
    return kernel == collections.Counter({(IS_EX, g, state[g][1]): 1})


def dev_lost_to_in(start, final, group_reports):
    """K2: the last listener leaves a group whose filter mode has just
    changed from EXCLUDE to INCLUDE(S) (that change still pending, or not
    even sent yet): the group goes to the kernel's tomb in INCLUDE mode and
    the kernel sends BLOCK(S), never TO_IN{}; the TO_IN(S) it owed is sent
    at most once more, or not at all. A router that holds the group in
    EXCLUDE mode is not told (or not robustly told) that it was left.
    Matched (once the reports failed the meaning check) when the group
    ends with no listener, was in EXCLUDE mode before or during the step,
    the kernel sent no TO_IN{} for it, and everything after its last TO_EX
    (all, if none) is TO_IN(S) with S non-empty or BLOCK, a BLOCK last."""
    flat = [r for recs in group_reports for r in recs]
    if final is not None or not flat or flat[-1][0] != BLOCK:
        return False
    if not ((start and start[0] == EX) or any(r[0] == TO_EX for r in flat)):
        return False
    if any(r[0] == TO_IN and not r[2] for r in flat):
        return False
    last_ex = max((i for i, r in enumerate(flat) if r[0] == TO_EX), default=-1)
    return all(r[0] in (TO_IN, BLOCK) for r in flat[last_ex + 1:])


KERNEL_DEVIATIONS = {
    "K1": "GSSQ on an EXCLUDE(X) group answered IS_EX(X), not IS_IN(Q-X) (RFC 3810 §6.3)",
    "K2": "last listener leaves right after EXCLUDE -> INCLUDE(S): BLOCK(S), never TO_IN{}; the pending TO_IN(S) "
          "is sent at most once (RFC 3810 §6.1)",
    "K3": "MLDv2 mode: another host's MLDv1 report suppresses the answer to a GSQ/GSSQ (RFC 3810 §6: no "
          "suppression in MLDv2)",
    "K4": "a query's QRV 1 is clamped to 2: state changes still sent twice (RFC 3810 §5.1.8, §9.1: adopt the "
          "querier's QRV)",
}


# ---------------------------------------------------------------- labs

def query_icmp(version, group, srcs=(), qrv=RV, mrd_ms=MRD_MS):
    """An MLDv1 (24 bytes) or MLDv2 query (QQIC 125 s)."""
    head = struct.pack("!BBHHH", 130, 0, 0, mrd_ms, 0) + ipaddress.IPv6Address(group).packed
    if version == 1:
        return head
    return head + struct.pack("!BBH", qrv & 7, 125, len(srcs)) + b"".join(
        ipaddress.IPv6Address(s).packed for s in sorted(srcs))


class KernelLab(common.VethLab):
    """VethLab whose host namespace runs the kernel's own MLD host, driven
    through kernel_host.py; the sysctls are set as defaults before mld0
    exists so even its first (link-up) reports run on our timers."""

    SYSCTLS = ("accept_dad=0", "mldv2_unsolicited_report_interval=%d" % URI_MS,
               "mldv1_unsolicited_report_interval=%d" % V1_URI_MS)

    def __init__(self, test, tag="k", version=2):
        self.helper = None
        super().__init__(test, tag, version)
        self.hx("sysctl", "-qw", "net.ipv6.conf.mld0.force_mld_version=%d" % (1 if version == 1 else 0))
        for s in self.SYSCTLS:
            self.hx("sysctl", "-qw", "net.ipv6.conf.mld0." + s)
        self.helper = subprocess.Popen(["ip", "netns", "exec", self.h, e2e.PY, HELPER, "mld0"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=open(os.path.join(test.out, "kernel_host.stderr"), "w"),
                                       text=True, bufsize=1)

    def prepare_q(self):
        for s in self.SYSCTLS:
            self.hx("sysctl", "-qw", "net.ipv6.conf.default." + s)

    def kop(self, line):
        self.helper.stdin.write(line + "\n")
        self.helper.stdin.flush()
        r = self.helper.stdout.readline().strip()
        if not r:
            raise Fail("kernel_host.py exited (%s) on %r" % (self.helper.poll(), line))
        return r

    def down(self):
        if self.helper is not None and self.helper.poll() is None:
            try:
                self.helper.stdin.close()
                self.helper.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.helper.kill()
                self.helper.wait(3)
        super().down()


def kernel_line(op):
    kind, l, g, arg = op
    if kind == "close":
        return "close %s" % l
    if kind == "filter":
        return "filter %s %s %s %s" % (l, g, arg[0], " ".join(sorted(arg[1])))
    return "%s %s %s%s" % (kind, l, g, " " + arg if arg else "")


# rv: the robustness both hosts use for this step; quiet: MLDv1 groups
# whose last report another host's suppressed; forge: the queries were
# followed by another host's MLDv1 report for their group.
# queries: (change steps, MLDv2) queries sent right after the operations,
# while their retransmissions are still pending.
Step = collections.namedtuple("Step", "kind t0 t1 what ops old new rv quiet forge queries")
NOT_HELD = "ff3e::dead"


def start_captures(T, labs):
    """tshark on every lab's vq0, started side by side (each takes ~0.5 s)."""
    caps, errs = [None] * len(labs), []

    def one(i):
        try:
            caps[i] = T.capture(labs[i])
        except Exception as e:  # noqa: BLE001 - raised below, in the caller's thread
            errs.append(e)
    th = [threading.Thread(target=one, args=(i,)) for i in range(len(labs))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if errs:
        raise errs[0]
    return caps


class Pair:
    """The two labs, their captures, the kernel helper, the agent, the model
    and the steps taken."""

    def __init__(self, T, version=2):
        self.T, self.version = T, version
        self.k = KernelLab(T, "k", version)
        self.a = common.VethLab(T, "a", version)
        self.kcap, self.acap = start_captures(T, [self.k, self.a])
        cfg = T.config("agent.yaml", "tunables:\n  robustness: %d\n  unsolicited-report-interval: %dms\n"
                       "  v1-unsolicited-report-interval: %dms\n  gsr-delay: 0s\n  force-version: %s\n"
                       % (RV, URI_MS, V1_URI_MS, "1" if version == 1 else "auto"))
        self.agent = T.agent(self.a, ["-c", cfg])
        self.model = Model()
        self.steps = []
        self.ops_n = 0
        self.rv = RV             # both hosts' robustness (a query's QRV changes it)
        self.quiet = set()       # MLDv1: groups whose last report was suppressed
        time.sleep(0.2)

    # -- operations

    def agent_set(self, l, g, f):
        if f is None:
            self.agent.ctl("leave", "mld0", g, "--listener", l)
        elif f[0] == EX and not f[1]:
            self.agent.ctl("join", "mld0", g, "--listener", l)
        else:
            self.agent.ctl("join", "mld0", g, f[0], *sorted(f[1]), "--listener", l)

    def step(self, ops, what=None, then=()):
        """Applies ops (one step; several = a burst) to both hosts, then
        waits until both are done retransmitting. then: MLDv2 queries
        [(group or "::", sources)] sent right after the operations, while
        their retransmissions are pending."""
        if isinstance(ops, tuple):
            ops = [ops]
        then = [(canon(g), frozenset(q)) for g, q in then]
        if then and self.version != 2:
            raise Fail("queries within a change step need MLDv2 (v1 reports are both kinds)")
        what = what or "; ".join(fmt_op(o) for o in ops)
        old = self.model.merged()
        t0 = time.time()
        for op in ops:
            changes = self.model.apply(op)
            r = self.k.kop(kernel_line(op))
            if r != "ok":
                raise Fail("%s: kernel refused %r: %s" % (what, kernel_line(op), r))
            for l, g, f in changes:
                self.agent_set(l, g, f)
        t1 = time.time()
        if then:
            self.send_queries(then, self.rv, False)
            what += " + " + self.fmt_queries(then, False)
        new = self.model.merged()
        self.ops_n += len(ops)
        e2e.expect_agent_state(self.agent, new, what)
        self.agent.wait_quiet()
        uri = (V1_URI_MS if self.version == 1 else URI_MS) / 1000.0
        rest = max(t1 + (max(self.rv, 2) - 1) * uri + SETTLE, t1 + QUERY_WAIT if then else 0) - time.time()
        if rest > 0:
            time.sleep(rest)
        self.steps.append(Step("change", t0, t1, what, ops, old, new, self.rv, frozenset(self.quiet), False, then))
        self.quiet -= set(old) - set(new)

    def send_queries(self, qs, qrv, forge):
        for lab in (self.k, self.a):
            frames = []
            for g, s in qs:
                frames.append(e2e.mld_frame(lab.lladdr_q(), "ff02::1" if g == "::" else g,
                                            query_icmp(self.version, g, s, qrv), smac=lab.qmac))
                if forge and g != "::":
                    frames.append(e2e.mld_frame(e2e.FAKE_LL, g, e2e.v1_msg(V1_REPORT, g)))
            lab.send_q(frames)

    def fmt_queries(self, qs, forge):
        return "%s%s" % (" ".join(
            "%s%s" % ("GQ" if g == "::" else ("GSSQ " if s and self.version == 2 else "GSQ ") + g,
                      "{%s}" % " ".join(sorted(s)) if s and self.version == 2 else "") for g, s in qs),
            " + another host's v1 report" if forge else "")

    def query(self, qs, what=None, qrv=None, forge=False):
        """One round of queries, sent to both hosts at once: [(group or
        "::", sources)], at most one query per group. qrv: the QRV they
        carry (default: the robustness in use; both hosts adopt it).
        forge: each group query is followed by another host's MLDv1 report
        for its group."""
        groups = [g for g, _ in qs]
        if len(set(groups)) != len(groups) or ("::" in groups and len(qs) > 1):
            raise Fail("query round %s: a general query goes alone, one query per group" % (qs,))
        qs = [(canon(g), frozenset(s)) for g, s in qs]
        qrv = self.rv if qrv is None else qrv
        st = self.model.merged()
        quiet = frozenset(self.quiet)
        t0 = time.time()
        self.send_queries(qs, qrv, forge)
        time.sleep(QUERY_WAIT)
        if self.version == 2:
            self.rv = qrv
        if self.version == 1:
            # RFC 2710 §4: a suppressed report leaves the other host the
            # last reporter; an answered one makes us the last reporter.
            for g, _ in qs:
                for h in (st if g == "::" else [g]):
                    if h in st:
                        (self.quiet.add if forge else self.quiet.discard)(h)
        self.steps.append(Step("query", t0, time.time(), what or self.fmt_queries(qs, forge), qs, st, st, qrv,
                               quiet, forge, []))

    def queries_all(self, rng=None):
        """GQ; a GSQ for every group; a GSSQ for every group with a source
        set mixing held and other sources (or rng's choice); a GSQ for a
        group nobody holds goes with the GSQs."""
        st = self.model.merged()
        self.query([("::", ())])
        self.query([(g, ()) for g in sorted(st)] + [(NOT_HELD, ())])
        if st and self.version == 2:
            qs = []
            for g, (mode, srcs) in sorted(st.items()):
                pool = sorted(srcs | src(1, 2, 3, 4, 5))
                if rng:
                    q = rng.sample(pool, rng.randint(1, min(3, len(pool))))
                else:
                    q = sorted(srcs)[:1] + sorted(src(5) - srcs)
                qs.append((g, q))
            self.query(qs)

    # -- judging

    def host_reports(self, pkts, lab):
        """[(ts, [records])] of everything the host sent (MLD from its MAC),
        link-scope groups left out; v1 messages as (type, group, {})."""
        out = []
        for p in pkts:
            if p.smac != lab.mac or p.type not in (V1_REPORT, V1_DONE, 143):
                continue
            if p.type == 143:
                recs = [(t, g, s) for t, g, s in p.records if not is_linkscope(g)]
            else:
                recs = [] if is_linkscope(p.group) else [(p.type, p.group, frozenset())]
            if recs:
                out.append((p.ts, recs))
        return out

    def finish(self):
        """Stops the captures, runs tshark on the agent's frames and judges
        every step; raises Fail with all problems found."""
        kp, ap = self.kcap.stop(), self.acap.stop()
        mine = e2e.agent_pkts(ap, self.a.agent_macs)
        if not mine:
            raise Fail("the agent sent nothing (capture %s)" % self.acap.path)
        e2e.tshark_any(self.T, mine, "agent")
        rep = {"kernel": self.host_reports(kp, self.k), "agent": self.host_reports(ap, self.a)}
        problems, devs, lines = [], collections.Counter(), []
        counts = collections.Counter()
        for who, reps in rep.items():
            early = [r for ts, r in reps if ts < self.steps[0].t0 - 0.005] if self.steps else []
            if early:
                problems.append("%s sent %s before the first step" % (who, fmt_recs(sum(early, []))))
        for i, s in enumerate(self.steps):
            end = self.steps[i + 1].t0 if i + 1 < len(self.steps) else float("inf")
            win = {who: [(ts, recs) for ts, recs in reps if s.t0 - 0.005 <= ts < end]
                   for who, reps in rep.items()}
            flat = {who: [r for _, recs in w for r in recs] for who, w in win.items()}
            lines.append("step %d %s [%s] %.3f..%.3f\n  old %s\n  new %s" % (
                i + 1, s.kind, s.what, s.t0, s.t1, e2e.fmt_state(s.old), e2e.fmt_state(s.new)))
            for who in ("kernel", "agent"):
                for ts, recs in win[who]:
                    lines.append("  %-6s +%.3f %s" % (who, ts - s.t0, fmt_recs(recs)))
            tag = "step %d (%s)" % (i + 1, s.what)
            if s.kind == "query":
                counts["queries"] += len(s.ops)
                for who in ("kernel", "agent"):
                    bad = [r for r in flat[who] if r[0] not in (IS_IN, IS_EX, V1_REPORT)]
                    if bad:
                        problems.append("%s: %s sent %s while answering queries" % (tag, who, fmt_recs(bad)))
                self.judge_query(tag, s, s.ops, s.old, flat, problems, devs, lines)
                continue
            if s.queries:
                # Current-state records answer the queries (about the
                # state after the change); the rest is the change.
                counts["queries"] += len(s.queries)
                cur = lambda r: r[0] in (IS_IN, IS_EX)
                self.judge_query(tag, s, s.queries, s.new, {w: [r for r in f if cur(r)] for w, f in flat.items()},
                                 problems, devs, lines)
                flat = {w: [r for r in f if not cur(r)] for w, f in flat.items()}
                win = {w: [(ts, [r for r in recs if not cur(r)]) for ts, recs in x] for w, x in win.items()}
                win = {w: [(ts, recs) for ts, recs in x if recs] for w, x in win.items()}
            if len(s.ops) == 1:
                counts["strict"] += 1
                self.judge_isolated(tag, s, flat, problems, devs, lines)
            else:
                counts["bursts"] += 1
                self.judge_burst(tag, s, win, problems, devs, lines)
        with open(os.path.join(self.T.out, "differential.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        if problems:
            raise Fail("%d problem(s) (see %s): %s" % (len(problems), os.path.join(self.T.out, "differential.txt"),
                                                     " | ".join(problems[:3])))
        self.T.notes.append("%d ops: %d isolated steps record by record, %d bursts by meaning, %d queries"
                            % (self.ops_n, counts["strict"], counts["bursts"], counts["queries"]))
        if devs:
            self.T.notes.append("kernel deviations (RFC checked instead): " + ", ".join(
                "%s x%d" % kv for kv in sorted(devs.items())))
        return devs

    def judge_isolated(self, tag, s, flat, problems, devs, lines):
        want = expected_change(s.old, s.new, self.version, s.rv, s.quiet)
        got = {who: collections.Counter(r) for who, r in flat.items()}
        for who in ("kernel", "agent"):
            if who == "kernel" and got[who] != want and dev_qrv_clamp(s, got[who], self.version):
                devs["K4"] += 1
                lines.append("  kernel deviation K4")
                continue
            if got[who] != want:
                problems.append("%s: %s sent %s, RFC 3810 §6.1 wants %s%s" % (
                    tag, who, fmt_recs(got[who].elements()), fmt_recs(want.elements()),
                    "" if who == "agent" else " (kernel departs from the RFC: not a known deviation)"))
                lines.append("  !! %s differs from the RFC" % who)

    def judge_burst(self, tag, s, win, problems, devs, lines):
        groups = set(s.old) | set(s.new)
        for who in ("kernel", "agent"):
            for ts, recs in win[who]:
                groups |= {g for _, g, _ in recs}
                bad = [r for r in recs if r[0] not in (TO_IN, TO_EX, ALLOW, BLOCK, V1_REPORT, V1_DONE)]
                if bad:
                    problems.append("%s: %s sent current-state records %s in a state change" % (
                        tag, who, fmt_recs(bad)))
        for g in sorted(groups):
            start, want = s.old.get(g), s.new.get(g)
            for who in ("kernel", "agent"):
                reports = [[r for r in recs if r[1] == g] for _, recs in win[who]]
                reports = [r for r in reports if r]
                # RFC 3810 §6.1: one report at once per change, then at most
                # RV filter-mode-change reports and RV more with the source
                # changes they held back.
                if len(reports) > len(s.ops) + 2 * s.rv - 1:
                    problems.append("%s: %s sent %d reports for %s after %d changes (at most %d)" % (
                        tag, who, len(reports), g, len(s.ops), len(s.ops) + 2 * s.rv - 1))
                why = robust_meaning(start, want, reports, s.rv)
                if why is None:
                    continue
                if who == "kernel" and dev_lost_to_in(start, want, reports):
                    devs["K2"] += 1
                    lines.append("  kernel deviation K2 on %s: %s" % (g, why))
                    continue
                problems.append("%s: %s's reports for %s do not say %s -> %s: %s" % (
                    tag, who, g, fmt_st(start), fmt_st(want), why))
                lines.append("  !! %s: %s on %s" % (who, why, g))

    def judge_query(self, tag, s, queries, state, flat, problems, devs, lines):
        """queries were answered in this window (flat: the current-state
        records) while the merged state was state."""
        for g, qsrcs in queries:
            want = rfc_answer(state, g, qsrcs, self.version)
            if s.forge and self.version == 1:
                # RFC 2710 §4: another host's report for the group cancels
                # our pending answer (v1 host suppression).
                want = collections.Counter()
            got = {who: collections.Counter(r for r in flat[who] if r[0] in (IS_IN, IS_EX, V1_REPORT)
                                            and (g == "::" or r[1] == g)) for who in flat}
            if got["agent"] != want:
                problems.append("%s: agent answered %s with %s, RFC wants %s" % (
                    tag, g, fmt_recs(got["agent"].elements()), fmt_recs(want.elements())))
            if got["kernel"] == want:
                continue
            if dev_gssq_exclude(state, g, qsrcs, got["kernel"]):
                devs["K1"] += 1
                lines.append("  kernel deviation K1 on %s" % g)
            elif s.forge and self.version == 2 and g != "::" and not got["kernel"]:
                devs["K3"] += 1
                lines.append("  kernel deviation K3 on %s" % g)
            else:
                problems.append("%s: kernel answered %s with %s, RFC wants %s (not a known deviation)" % (
                    tag, g, fmt_recs(got["kernel"].elements()), fmt_recs(want.elements())))


def dev_qrv_clamp(s, kernel, version):
    """K4: after a query with QRV 1 the kernel keeps robustness 2
    (mld_update_qrv clamps to min(2, mld_qrv)): its records are exactly
    the RFC's, each sent twice instead of once."""
    return version == 2 and s.rv == 1 and kernel == expected_change(s.old, s.new, version, 2)


# ---------------------------------------------------------------- scenarios

G1, G2, G3 = "ff3e::40:1", "ff3e::40:2", "ff0e::40:3"
S1, S2, S3, S4 = ("2001:db8::%x" % k for k in (1, 2, 3, 4))


def op(kind, l, g=None, arg=None):
    return (kind, l, g, arg)


def s_asm(T):
    p = Pair(T)
    p.step(op("v6join", "a", G1))                   # IPV6_JOIN_GROUP: TO_EX{}
    p.step(op("join", "b", G2))                     # MCAST_JOIN_GROUP: TO_EX{}
    p.step(op("join", "c", G2))                     # second listener: nothing
    p.queries_all()
    p.step(op("leave", "b", G2))                    # c still holds it: nothing
    p.step(op("v6leave", "a", G1))                  # TO_IN{}
    p.step(op("close", "c"))                        # socket closed: TO_IN{}
    p.query([("::", ())])
    p.finish()


def s_ssm(T):
    p = Pair(T)
    p.step(op("jsrc", "a", G1, S1))                 # ALLOW{1}
    p.step(op("jsrc", "a", G1, S2))                 # ALLOW{2}
    p.step(op("jsrc", "b", G1, S2))                 # merged unchanged: nothing
    p.step(op("jsrc", "b", G1, S3))                 # ALLOW{3}
    p.queries_all()
    p.query([(G1, [S1, S4])])                       # IS_IN{1}
    p.query([(G1, [S4])])                           # nothing
    p.step(op("lsrc", "a", G1, S2))                 # b still has 2: nothing
    p.step(op("lsrc", "a", G1, S1))                 # BLOCK{1}
    p.step(op("filter", "b", G1, (IN, [S1, S4])))   # MSFILTER: ALLOW{1,4} BLOCK{2,3}
    p.step(op("lsrc", "b", G1, S1))                 # BLOCK{1}
    p.step(op("lsrc", "b", G1, S4))                 # last source: BLOCK{4}
    p.query([("::", ())])
    p.finish()


def s_exclude(T):
    p = Pair(T)
    p.step(op("join", "a", G1))                     # TO_EX{}
    p.step(op("block", "a", G1, S1))                # BLOCK{1}
    p.step(op("block", "a", G1, S2))                # BLOCK{2}
    p.step(op("unblock", "a", G1, S1))              # ALLOW{1}
    p.step(op("join", "b", G2))
    p.step(op("block", "b", G2, S3))
    p.queries_all()                                 # GSSQ on EXCLUDE: kernel deviation K1
    p.query([(G1, [S2]), (G2, [S1, S3])])           # all excluded: no answer / IS_IN{1}
    p.step(op("filter", "a", G1, (EX, [S3, S4])))   # MSFILTER same mode: ALLOW{2} BLOCK{3,4}
    p.step(op("leave", "a", G1))                    # TO_IN{}
    p.step(op("unblock", "b", G2, S3))
    p.step(op("leave", "b", G2))
    p.finish()


def s_mode_change(T):
    p = Pair(T)
    p.step(op("jsrc", "a", G1, S1))                 # ALLOW{1}
    p.step(op("filter", "a", G1, (EX, [S2])))       # IN{1} -> EX{2}: TO_EX{2}
    p.step(op("filter", "a", G1, (IN, [S3, S4])))   # EX{2} -> IN{3,4}: TO_IN{3,4}
    p.step(op("join", "b", G1))                     # merged IN{3,4} -> EX{}: TO_EX{}
    p.step(op("block", "b", G1, S3))                # EX{} stays: 3 is included by a
    p.step(op("block", "b", G1, S2))                # BLOCK{2}
    p.queries_all()
    p.step(op("leave", "b", G1))                    # EX{2} -> IN{3,4}: TO_IN{3,4}
    p.step(op("filter", "a", G1, (EX, [])))         # TO_EX{}
    p.step(op("v6leave", "a", G1))                  # TO_IN{}
    p.step(op("join", "c", G2))                     # TO_EX{}
    p.step(op("jsrc", "c", G2, S1))                 # Linux: EX{} -> IN{1} on the socket: TO_IN{1}
    p.query([(G2, [S1, S2])])
    p.step(op("leave", "c", G2))                    # BLOCK{1}
    p.finish()


def s_merge(T):
    p = Pair(T)
    p.step(op("join", "a", G1))
    p.step(op("block", "a", G1, S1))
    p.step(op("block", "a", G1, S2))                # a: EX{1,2}
    p.step(op("join", "b", G1))                     # b: EX{}: merged EX{} -> ALLOW{1,2}
    p.step(op("block", "b", G1, S2))
    p.step(op("block", "b", G1, S3))                # b: EX{2,3}: merged EX{2} -> BLOCK{2}
    p.step(op("jsrc", "c", G1, S2))                 # c: IN{2}: merged EX{} -> ALLOW{2}
    p.step(op("jsrc", "c", G2, S1))                 # c: IN{1} on G2
    p.step(op("jsrc", "d", G2, S2))                 # d: IN{2}: merged IN{1,2}
    p.step(op("join", "d", G3))
    p.queries_all()
    p.step(op("close", "a"))                        # merged EX{2,3} - IN{2} = EX{3}: BLOCK{3}
    p.step(op("close", "b"))                        # only c: IN{2}: TO_IN{2}
    p.step(op("close", "d"))                        # G2 IN{1}: BLOCK{2}; G3: TO_IN{}
    p.query([("::", ())])
    p.step(op("close", "c"))
    p.finish()


def s_queries(T):
    p = Pair(T)
    p.step(op("join", "a", G1))                                   # ASM
    p.step(op("jsrc", "a", G2, S1))
    p.step(op("jsrc", "a", G2, S2))                               # INCLUDE{1,2}
    p.step(op("join", "a", G3))
    p.step(op("block", "a", G3, S1))                              # EXCLUDE{1}
    p.query([("::", ())])
    p.query([(G1, ()), (G2, ()), (G3, ())])                       # GSQ: current state
    p.query([(G1, [S1, S2]), (G2, [S2, S3]), (G3, [S1, S2])])     # IS_IN{1,2} / IS_IN{2} / IS_IN{2}
    p.query([(G2, [S3, S4]), (G3, [S1])])                         # nothing to say
    p.query([(NOT_HELD, ()), ("ff3e::beef", [S1])])               # not held: nothing
    p.finish()


def s_qrv(T):
    """The robustness comes from the querier's QRV (RFC 3810 §5.1.8, §9.1)."""
    p = Pair(T)
    p.step(op("join", "a", G1))                                   # x RV
    p.query([("::", ())], qrv=3)                                  # both adopt 3
    p.step(op("block", "a", G1, S1))                              # BLOCK{1} x3
    p.step(op("jsrc", "b", G2, S1))                               # ALLOW{1} x3
    p.step(op("filter", "b", G2, (EX, [S2])))                     # TO_EX{2} x3
    p.step([op("leave", "a", G1), op("join", "a", G1)])           # burst: meaning, robust to loss
    p.query([(G1, ()), (G2, [S1, S2])], qrv=1)                    # QRV 1: the agent adopts it
    p.step(op("leave", "a", G1))                                  # TO_IN{} x1 (kernel x2: K4)
    p.step(op("unblock", "b", G2, S2))                            # ALLOW{2} x1 (kernel x2: K4)
    p.query([("::", ())], qrv=2)
    p.step(op("leave", "b", G2))                                  # TO_IN{} x2
    p.finish()


def s_v1_report_in_v2(T):
    """Another host's MLDv1 report heard while in MLDv2 mode: an MLDv2 host
    does not suppress (RFC 3810 §6; suppression is MLDv1's, RFC 2710 §4)."""
    p = Pair(T)
    p.step(op("join", "a", G1))
    p.step(op("jsrc", "a", G2, S1))
    p.step(op("join", "a", G3))
    p.step(op("block", "a", G3, S2))
    p.query([(G1, ()), (G2, ()), (G3, ())], forge=True)           # IS_EX{} / IS_IN{1} / IS_EX{2} (kernel: K3)
    p.query([(G2, [S1]), (G3, [S1])], forge=True)                 # IS_IN{1} / IS_IN{1} (kernel: K3)
    p.query([("::", ())])                                         # still v2, full state
    p.step(op("leave", "a", G1))                                  # TO_IN{}: v2 leave, no Done
    p.finish()


def s_query_pending(T):
    """Queries arriving while state-change retransmissions are pending:
    answered from the state after the change (RFC 3810 §6.2, §6.3), and
    the retransmissions go on unchanged (RFC 3810 §6.1)."""
    p = Pair(T)
    p.step(op("join", "a", G1), then=[("::", ())])                           # TO_EX{} x RV + IS_EX{}
    p.step(op("jsrc", "a", G2, S1), then=[(G2, ())])                          # ALLOW{1} + IS_IN{1}
    p.step(op("block", "a", G1, S1), then=[(G1, [S1, S2])])                   # BLOCK{1} + IS_IN{2} (K1)
    p.step(op("filter", "a", G2, (EX, [S2])), then=[("::", ())])              # TO_EX{2} + IS_EX ...
    p.step(op("jsrc", "b", G3, S3), then=[(G3, [S3, S4]), (G1, [S1])])        # ALLOW{3} + IS_IN{3}, nothing
    p.step(op("leave", "a", G2), then=[(G2, ())])                             # TO_IN{}; G2 not held: no answer
    p.step([op("leave", "a", G1), op("join", "c", G1)], then=[(G1, ())])      # burst + IS_EX{}
    p.step(op("lsrc", "b", G3, S3), then=[("::", ())])                        # BLOCK{3}; GQ: G1 only
    p.finish()


def s_bursts(T):
    """Changes before the previous ones' retransmissions are over: RFC 3810
    §6.1 merges them; judged by meaning."""
    p = Pair(T)
    p.step([op("join", "a", G1), op("block", "a", G1, S1)])                  # TO_EX{1}
    p.step([op("jsrc", "b", G2, S1), op("jsrc", "b", G2, S2)])               # ALLOW{1,2}
    p.step([op("lsrc", "b", G2, S1), op("jsrc", "b", G2, S1)])               # back and forth
    p.step([op("block", "a", G1, S2), op("unblock", "a", G1, S1),
            op("filter", "a", G1, (IN, [S2]))])                              # ... TO_IN{2}
    p.step([op("filter", "a", G1, (EX, [S3])), op("jsrc", "c", G1, S3)])     # TO_EX{}
    p.step([op("leave", "a", G1), op("lsrc", "c", G1, S3)])                  # gone (K2)
    p.step([op("jsrc", "a", G3, S1), op("filter", "a", G3, (EX, [S1])),
            op("unblock", "a", G3, S1)])                                     # TO_EX{}
    p.queries_all()
    p.step([op("close", "a"), op("close", "b")])
    p.finish()


def s_mldv1(T):
    p = Pair(T, version=1)
    p.step(op("join", "a", G1))                     # report x RV
    p.step(op("jsrc", "b", G2, S1))                 # report x RV
    p.step(op("jsrc", "b", G2, S2))                 # v1 cannot say: nothing
    p.step(op("join", "c", G2))                     # nothing
    p.queries_all()                                 # v1 queries: one report per group
    p.step(op("leave", "b", G2))                    # c holds it: nothing
    p.step(op("leave", "c", G2))                    # Done
    p.step(op("join", "b", G3))                     # report x RV
    p.query([(G1, ()), (G3, ())], forge=True)       # another host reports: both suppress
    p.step(op("close", "b"))                        # G3: not the last reporter: no Done
    p.step(op("close", "a"))                        # G1 likewise
    p.step(op("join", "c", G1))                     # report x RV: last reporter again
    p.step(op("leave", "c", G1))                    # Done
    p.query([("::", ())])
    p.finish()


# -- seeded random sequences

R_GROUPS = ["ff3e::41:1", "ff3e::41:2", "ff0e::41:3"]
R_SOURCES = sorted(src(1, 2, 3, 4))
R_LISTENERS = ["a", "b", "c"]


def random_op(rng, m):
    """One operation RFC 3678 accepts in model m's state."""
    while True:
        l, g = rng.choice(R_LISTENERS), rng.choice(R_GROUPS)
        if m.lst.get(l) and rng.random() < 0.05:
            return op("close", l)
        f = m.get(l, g)
        if f is None:
            c = rng.choice(["join", "v6join", "jsrc", "jsrc"])
            return op(c, l, g, rng.choice(R_SOURCES) if c == "jsrc" else None)
        mode, s = f
        sub = lambda: sorted(rng.sample(R_SOURCES, rng.randint(0, 3)))
        opts = ["leave", "v6leave", "fex", "fin"]
        if mode == EX:
            opts += ["block", "block", "unblock", "unblock"]
        else:
            opts += ["jsrc", "jsrc", "lsrc", "lsrc"]
        c = rng.choice(opts)
        if c in ("block", "jsrc"):
            free = [x for x in R_SOURCES if x not in s]
            if free:
                return op(c, l, g, rng.choice(free))
        elif c in ("unblock", "lsrc"):
            if s:
                return op(c, l, g, rng.choice(sorted(s)))
        elif c == "fex":
            return op("filter", l, g, (EX, sub()))
        elif c == "fin":
            srcs = sub()
            if srcs:
                return op("filter", l, g, (IN, srcs))
        else:
            return op(c, l, g)


def random_plan(seed, n):
    """[step] where a step is [op] (one op) or a burst of 2-3; deterministic in seed."""
    rng = random.Random(seed)
    m = Model()
    plan = []
    while sum(len(s) for s in plan) < n:
        k = 1 if rng.random() < 0.75 else rng.randint(2, 3)
        st = []
        for _ in range(k):
            o = random_op(rng, m)
            m.apply(o)
            st.append(o)
        plan.append(st)
    return plan, rng


def random_scenario(seed, n=18):
    def fn(T):
        plan, rng = random_plan(seed, n)
        T.notes.append("seed %d" % seed)
        p = Pair(T)
        for i, st in enumerate(plan):
            p.step(st)
            if i == len(plan) // 2:
                p.query([("::", ())])
        p.queries_all(rng)
        held = [l for l in R_LISTENERS if p.model.lst.get(l)]
        if held:
            p.step([op("close", l) for l in held], "close every socket")
        p.finish()
    return fn


SEEDS = [int(x) for x in os.environ.get("KERN_SEEDS", "1 2 3 4 5 6").split()]

# id, RFC section, what is checked, function
SCENARIOS = [
    ("kern-asm", "RFC 3810 §6.1 (TO_EX{}/TO_IN{}), RFC 3678 §4.1",
     "ASM join/leave via IPV6_JOIN_GROUP and MCAST_JOIN_GROUP, second listener silent, socket close: "
     "records equal to the kernel's, record by record", s_asm),
    ("kern-ssm", "RFC 3810 §6.1 (ALLOW/BLOCK), RFC 3678 §4.2",
     "MCAST_JOIN/LEAVE_SOURCE_GROUP and MCAST_MSFILTER in INCLUDE mode: ALLOW/BLOCK equal to the kernel's; "
     "GSSQ answers", s_ssm),
    ("kern-exclude", "RFC 3810 §6.1, §6.3, RFC 3678 §4.2",
     "MCAST_BLOCK/UNBLOCK_SOURCE in EXCLUDE mode: BLOCK/ALLOW equal to the kernel's; GSSQ on EXCLUDE "
     "answered IS_IN(Q-X) (kernel: IS_EX(X), K1)", s_exclude),
    ("kern-mode-change", "RFC 3810 §6.1 (TO_EX/TO_IN)",
     "IN->EX and EX->IN by MCAST_MSFILTER, by a second listener and by MCAST_JOIN_SOURCE_GROUP on an ASM "
     "socket: TO_EX/TO_IN equal to the kernel's", s_mode_change),
    ("kern-merge", "RFC 3810 §4.2",
     "4 listeners on 3 groups: merged filter changes (EX∩EX−IN, IN∪IN) reported as the kernel does; "
     "socket close", s_merge),
    ("kern-queries", "RFC 3810 §6.3",
     "GQ, GSQ, GSSQ on ASM/INCLUDE/EXCLUDE groups and on groups not held: answers equal to the kernel's "
     "(K1 excepted: RFC answer)", s_queries),
    ("kern-qrv", "RFC 3810 §5.1.8, §9.1",
     "robustness learned from the querier's QRV: 3 -> every record x3 on both; QRV 1 -> x1 on the agent "
     "(kernel clamps to 2, K4)", s_qrv),
    ("kern-v1-report-in-v2", "RFC 3810 §6, §8.2.1",
     "MLDv2 mode: another host's MLDv1 report after a GSQ/GSSQ does not suppress the agent's answer "
     "(kernel suppresses, K3); no fallback to v1", s_v1_report_in_v2),
    ("kern-query-pending", "RFC 3810 §6.2, §6.3, §6.1",
     "GQ/GSQ/GSSQ right after a change, its retransmissions pending: answers from the new state, "
     "retransmissions unchanged; a group just left is not answered", s_query_pending),
    ("kern-bursts", "RFC 3810 §6.1 (merging pending records)",
     "changes within the retransmission window: both hosts' reports say the final state even with one "
     "report lost (kernel K2 excepted)", s_bursts),
    ("kern-mldv1", "RFC 2710 §4, RFC 3810 §8",
     "force_mld_version=1 vs force-version 1: v1 reports x RV, Done only for the last listener and only "
     "if it sent the last report, v1 queries answered and suppressed by another host's report as the "
     "kernel does", s_mldv1),
] + [("kern-random-seed-%d" % s, "RFC 3810 §6.1, §4.2, §6.3, RFC 3678",
      "seeded random sequence (seed %d): ~18 socket operations on 3 listeners x 3 groups x 4 sources, "
      "some in bursts, then queries; compared as above" % s, random_scenario(s)) for s in SEEDS]


def preflight():
    bad = []
    if not os.access(HELPER, os.R_OK):
        bad.append("%s missing" % HELPER)
    return bad


def describe():
    return ("Linux %s, kernel MLD host driven by RFC 3678 socket options (`tests/conformance/kernel_host.py`); "
            "sysctls net.ipv6.conf.mld0.mldv2_unsolicited_report_interval=%d, mldv1_unsolicited_report_interval=%d, "
            "accept_dad=0, force_mld_version=0 (1 in kern-mldv1); robustness = net.ipv6.mld_qrv = %d; agent "
            "tunables the same (gsr-delay 0s); queries with max response delay %d ms, QRV %d"
            % (os.uname().release, URI_MS, V1_URI_MS, RV, MRD_MS, RV))


NOTES = [
    "Deviation K1 (RFC 3810 §6.3; mld_xmarksources clears MAF_GSQUERY): the kernel answers a "
    "group-and-source query for a group in EXCLUDE(X) mode with IS_EX(X), the group's whole state, "
    "instead of IS_IN(Q-X); when every queried source is in X it sends nothing, as the RFC says. "
    "The scenarios check the kernel sends exactly IS_EX(X) there and the agent the RFC's IS_IN(Q-X).",
    "Deviation K2 (RFC 3810 §6.1; mld_add_delrec keeps the group's last filter mode): when the last "
    "listener leaves a group right after its merged filter went from EXCLUDE to INCLUDE(S) (e.g. the "
    "EXCLUDE listener leaves, then the last INCLUDE listener drops S, or both sockets are closed "
    "together), the kernel sends BLOCK(S) and never TO_IN{}; the TO_IN(S) it owed goes out once at "
    "most. A router that holds the group in EXCLUDE mode keeps forwarding it until its group timer "
    "expires. The agent sends TO_IN{} RV times.",
    "Deviation K3 (RFC 3810 §6, §8.2.1; __mld_report_work cancels the group's timer in any mode): "
    "in MLDv2 mode, another host's MLDv1 report for a group cancels the kernel's pending answer to a "
    "group or group-and-source query. Report suppression is MLDv1's (RFC 2710 §4, used in MLDv1 "
    "compatibility mode only); an MLDv2 host answers. The agent answers; in MLDv1 mode both suppress "
    "and then send no Done (kern-mldv1).",
    "Deviation K4 (RFC 3810 §5.1.8, §9.1; mld_update_qrv clamps to min(2, mld_qrv)): after a query "
    "with QRV 1 the kernel keeps sending every state change twice; the agent adopts the querier's "
    "robustness, 1. With QRV 3 both send every record three times.",
    "Allowance: records are compared as multisets of (type, group, source set) per step: packet "
    "boundaries, record order within and across packets and the order of sources do not count, nor "
    "does timing within the step (both hosts must have sent everything before the next step).",
    "Strict: an isolated operation (previous step's retransmissions over) is compared record by "
    "record: kernel, agent and the RFC 3810 §6.1 table (non-member = INCLUDE{}) must agree, each "
    "record sent robustness times; MLDv1: RV reports on a join, one Done on the last leave.",
    "Allowance: a burst of operations (each within the previous one's retransmission window) is "
    "compared by meaning: RFC 3810 §6.1 merges pending records, and the kernel (setsockopt, "
    "microseconds apart) and the agent (one mldctl process per operation) see the operations at "
    "different instants, so their reports legitimately differ in number and content (e.g. the kernel "
    "folds leave+join into TO_EX{} x RV, the agent sends TO_IN{} then TO_EX{} x RV). Per group, each "
    "host's reports applied in order to the state before the burst must give the state after it, "
    "also with any RV-1 of them lost, and there may be at most (changes + 2 RV - 1) of them.",
    "Strict: query answers (the current-state records in the response window) must equal RFC 3810 "
    "§6.3 on both hosts: GQ IS_IN/IS_EX for every group; GSQ the group's state; GSSQ IS_IN(A∩Q) / "
    "IS_IN(Q-X), nothing if empty; nothing for a group not held. MLDv1: one report per group.",
    "Allowance: the agent's gsr-delay (group-and-source query throttle) is 0s here: the kernel has "
    "no such throttle and the scenarios send several group-and-source queries per group within 10 s.",
    "Records for link-scope groups (ff02::/16) are ignored: the kernel reports its own "
    "solicited-node memberships; the agent never reports them. The kernel namespace's sysctls are set "
    "as defaults before mld0 exists, so its link-up reports are over before the first step.",
    "RFC 3678 semantics as Linux implements them and the test models them: MCAST_LEAVE_SOURCE_GROUP "
    "of the last INCLUDE source leaves the group; MCAST_JOIN_SOURCE_GROUP on a socket joined ASM with "
    "no source filter yet switches it to INCLUDE{S} (ip6_mc_source); closing a socket drops all of its "
    "memberships at once (the agent: one `mldctl leave` per group).",
]
