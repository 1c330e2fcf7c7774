#!/usr/bin/python3
"""Runs every test suite of `make check` and totals their results.

Each suite prints a line `<name>: N passed, N failed`; this runner adds them
up and ends with the plain `N passed, N failed` line CI reads. A suite that
exits non-zero without such a line counts as one failure.
"""
import os
import re
import subprocess
import sys

OUT = "build/test-out"
SUITES = [
    # (name, argv)
    ("format", ["/usr/bin/python3", "tests/format_check.py"]),
    ("engine", ["build/test-engine"]),
    ("tshark", ["/usr/bin/python3", "tests/tshark_check.py",
                f"{OUT}/engine.pcap", f"{OUT}/engine.expect.jsonl"]),
    ("tshark-selftest", ["/usr/bin/python3", "tests/tshark_selftest.py"]),
    # BPF_PROG_TEST_RUN of the XDP program (root: CAP_BPF).
    ("xdp", ["build/test-xdp"]),
    # Kubernetes manifests and the configuration they carry.
    ("deploy", ["/usr/bin/python3", "tests/deploy_check.py"]),
]
# End-to-end tests in network namespaces, when the suite is present.
if os.path.exists("tests/e2e/e2e.py"):
    SUITES.append(("e2e", ["/usr/bin/python3", "tests/e2e/e2e.py"]))
# Conformance against real MLD peers; builds FRR pim6d first (cached).
if os.path.exists("tests/conformance/conformance.mk"):
    SUITES.append(("conformance", ["make", "-s", "--no-print-directory", "conformance"]))
LINE = re.compile(r"^(?:\S+: )?(\d+) passed, (\d+) failed", re.M)


def main():
    os.makedirs(OUT, exist_ok=True)
    env = dict(os.environ, TEST_OUT=OUT)
    total_p = total_f = 0
    for name, argv in SUITES:
        print(f"== {name}: {' '.join(argv)}", flush=True)
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(proc.stdout)
        found = LINE.findall(proc.stdout)
        if found:
            p, f = map(int, found[-1])
        else:
            p, f = 0, 0
        if proc.returncode != 0 and f == 0:
            print(f"== {name}: exited {proc.returncode} without a failure count")
            f = 1
        total_p += p
        total_f += f
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f or not total_p else 0


if __name__ == "__main__":
    sys.exit(main())
