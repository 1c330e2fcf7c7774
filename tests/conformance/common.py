"""Shared pieces of the conformance suite: the per-scenario Test and the
plain two-namespace lab the non-bridge peers build on.

    [ns NAME-q: vq0 (the peer: querier, router or crafted-packet sender)]
        <--veth-->  [ns NAME-h: mld0, mldagent]

Everything else (agents, captures, the timeline oracle, tshark checks,
packet builders and the pcap reader) comes from tests/e2e/e2e.py, so the
conformance suite and the e2e tests judge packets the same way.
"""
import json
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import e2e  # noqa: E402
from e2e import Fail, canon, run, wait_for  # noqa: E402

e2e.OUT = os.path.abspath(os.environ.get("CONFORMANCE_OUT", os.path.join(ROOT, "build", "conformance-out")))


class Test(e2e.Test):
    """One scenario: its artifact directory, labs, agents and captures, all
    torn down by the runner whatever happens."""

    def __init__(self, name, idx):
        super().__init__(name, idx)
        self.prefix = "cf%d%02d" % (os.getpid() % 10000, idx)


class VethLab(e2e.Lab):
    """A veth pair between the peer's namespace (vq0) and the agent's (mld0),
    no DAD on either end. An e2e.Lab without the bridge: e2e.Agent,
    e2e.Capture (which captures on vq0) and e2e.check_capture take it, and
    it keeps e2e.Lab's qx/hx/hlink/lladdr/send; the bridge's mdb is not
    there."""

    def __init__(self, test, tag="a", version=2):  # noqa: no e2e.Lab.__init__ (no bridge)
        self.test = test
        self.name = "%s%s" % (test.prefix, tag)
        self.q, self.h = self.name + "-q", self.name + "-h"
        self.dir = "/tmp/" + self.name
        self.bpf = os.path.join(self.dir, "bpffs")
        self.version = version
        test.labs.append(self)
        self.up()
        self.mac = self.hmac()
        self.agent_macs = {self.mac}
        self.qmac = self.vq0_mac()

    def up(self):
        os.makedirs(self.bpf, exist_ok=True)
        # A bpffs outside /sys: `ip netns exec` remounts /sys.
        if run(["mountpoint", "-q", self.bpf], check=False).returncode != 0:
            run(["mount", "-t", "bpf", "bpf", self.bpf])
        run(["ip", "netns", "add", self.q])
        run(["ip", "netns", "add", self.h])
        self.qx("ip", "link", "set", "lo", "up")
        self.hx("ip", "link", "set", "lo", "up")
        self.prepare_q()
        run(["ip", "link", "add", "vq0", "netns", self.q, "type", "veth", "peer", "name", "mld0",
             "netns", self.h])
        # No DAD: link-local addresses usable at once on both ends.
        self.qx("sysctl", "-qw", "net.ipv6.conf.vq0.accept_dad=0")
        self.hx("sysctl", "-qw", "net.ipv6.conf.mld0.accept_dad=0")
        self.qx("ip", "link", "set", "vq0", "up")
        self.hx("ip", "link", "set", "mld0", "up")
        wait_for(lambda: self.lladdr_q() is not None, 5, "link-local address on vq0", 0.05)
        wait_for(lambda: self.lladdr()[0] is not None, 5, "link-local address on mld0", 0.05)

    def prepare_q(self):
        """Hook: peer namespace settings needed before vq0 exists."""

    def vq0_mac(self):
        j = json.loads(self.qx("ip", "-j", "link", "show", "dev", "vq0").stdout)[0]
        return bytes.fromhex(j["address"].replace(":", ""))

    def bridge_mac(self):  # the querier's MAC, for e2e.check_capture's oracle
        return self.qmac

    def lladdr_q(self):
        j = json.loads(self.qx("ip", "-j", "-6", "addr", "show", "dev", "vq0", "scope", "link").stdout)
        for a in (j[0].get("addr_info", []) if j else []):
            if a.get("family") == "inet6" and not a.get("tentative"):
                return canon(a["local"])
        return None

    def send_q(self, frames):
        """Frames out of vq0, as the peer sends them (one process for all)."""
        code = ("import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW);"
                "s.bind(('vq0', 0))\n"
                "for h in sys.argv[1:]: s.send(bytes.fromhex(h))")
        if isinstance(frames, (bytes, bytearray)):
            frames = [frames]
        self.qx(e2e.PY, "-c", code, *[f.hex() for f in frames])

    def kill_ns_procs(self):
        """Whatever still runs in our namespaces was started by this lab."""
        for ns in (self.q, self.h):
            r = run(["ip", "netns", "pids", ns], check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        end = time.monotonic() + 5
        while time.monotonic() < end and any(run(["ip", "netns", "pids", ns], check=False).stdout.strip()
                                             for ns in (self.q, self.h)):
            time.sleep(0.05)

    def down(self):
        self.kill_ns_procs()
        for ns in (self.q, self.h):
            run(["ip", "netns", "del", ns], check=False)
        if run(["mountpoint", "-q", self.bpf], check=False).returncode == 0:
            run(["umount", self.bpf], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
