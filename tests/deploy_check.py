#!/usr/bin/python3
"""Checks deploy/: the manifests parse, the ConfigMap's configuration is
accepted by `mldagent --check-config`, and the DaemonSet is wired the way the
agent needs (host network, capabilities, the config/bpffs/socket mounts its
arguments point at). No cluster is needed (none exists here); a real
`kubectl apply` is not part of this check."""
import os
import subprocess
import sys
import tempfile

import yaml

results = []


def check(name, cond, why=""):
    results.append(cond)
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + why))


docs = list(yaml.safe_load_all(open("deploy/daemonset.yaml")))
kinds = {d["kind"]: d for d in docs if d}
check("manifests parse: Namespace, ConfigMap, DaemonSet",
      set(kinds) == {"Namespace", "ConfigMap", "DaemonSet"}, str(sorted(kinds)))
cm, ds = kinds.get("ConfigMap", {}), kinds.get("DaemonSet", {})
conf = cm.get("data", {}).get("mldagent.yaml", "")
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    f.write(conf)
r = subprocess.run(["build/mldagent", "--check-config", f.name], capture_output=True, text=True)
os.unlink(f.name)
check("ConfigMap configuration accepted by mldagent --check-config", r.returncode == 0,
      r.stderr.strip())
r = subprocess.run(["build/mldagent", "--check-config", "deploy/mldagent.example.yaml"],
                   capture_output=True, text=True)
check("deploy/mldagent.example.yaml accepted", r.returncode == 0, r.stderr.strip())
bad = "listeners:\n  - name: x\n    link: eth0\n    groups:\n      - group: 2001:db8::1\n"
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    f.write(bad)
r = subprocess.run(["build/mldagent", "--check-config", f.name], capture_output=True, text=True)
os.unlink(f.name)
check("--check-config refuses a unicast group with its line", r.returncode == 1 and ":5:" in r.stderr,
      r.stderr.strip())

spec = ds.get("spec", {}).get("template", {}).get("spec", {})
c = (spec.get("containers") or [{}])[0]
args = c.get("args", [])
mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in spec.get("volumes", [])}
check("hostNetwork (MLD is link-local)", spec.get("hostNetwork") is True)
caps = set(c.get("securityContext", {}).get("capabilities", {}).get("add", []))
check("capabilities BPF, PERFMON, NET_ADMIN, NET_RAW", {"BPF", "PERFMON", "NET_ADMIN", "NET_RAW"} <= caps,
      str(caps))


def arg(flag):
    return args[args.index(flag) + 1] if flag in args else None


cfg = arg("-c")
check("-c points into the ConfigMap mount", cfg is not None and
      os.path.dirname(cfg) in mounts and "configMap" in vols.get(mounts[os.path.dirname(cfg)], {}),
      str(cfg))
pin = arg("--pin-dir")
check("--pin-dir lies on the hostPath bpffs mount", pin is not None and
      any(pin.startswith(p + "/") and "hostPath" in vols.get(n, {}) for p, n in mounts.items()),
      str(pin))
sock = arg("-S")
check("-S lies on the /run/mldagent hostPath mount", sock is not None and
      os.path.dirname(sock) in mounts, str(sock))
probe = c.get("livenessProbe", {}).get("exec", {}).get("command", [])
check("liveness probe asks the agent over its socket", "mldctl" in probe and sock in probe, str(probe))
check("grace period covers the final leaves (>= 5 s)", spec.get("terminationGracePeriodSeconds", 30) >= 5)
r = subprocess.run(["build/mldagent", "--help"], capture_output=True, text=True)
check("every DaemonSet flag is one mldagent knows",
      all(a in r.stdout for a in args if a.startswith("-")), str(args))
print(f"deploy: {sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if all(results) else 1)
