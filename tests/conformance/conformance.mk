# tests/conformance/conformance.mk — mldagent against real MLD peers (issue 4),
# part of `make check` (tests/run.py runs `make conformance`). Needs root.
# Peers: Linux bridge querier + snooper, FRR pim6d (built once by
# build_frr.sh, ~3-5 min cold, cached in /var/cache/mldagent-frr), crafted
# queries (scapy), and the Linux kernel's own MLD host (differential).
# Included by the top-level Makefile (uses B).
#
#   make conformance                                   all scenarios, rewrites docs/CONFORMANCE.md
#   make conformance CONFORMANCE_ARGS='--peer frr'      one peer's scenarios
#   make conformance CONFORMANCE_ARGS='-k leave'        scenarios whose id contains "leave"
#
# Prints "ok ID" / "FAIL ID: reason" per scenario and ends with
# "conformance: N passed, N failed"; logs and captures go to $(B)/conformance-out/.
# If pim6d cannot be built, the FRR scenarios fail with that reason (the
# build log is /var/cache/mldagent-frr/build.log); the others still run.
CONFORMANCE_CMD := /usr/bin/python3 tests/conformance/conformance.py
CONFORMANCE_ARGS ?=

.PHONY: conformance
conformance: $(B)/mldagent $(B)/mldctl
	@tests/conformance/build_frr.sh >/dev/null || echo "conformance: building FRR pim6d failed (see above)"
	MLDAGENT=$(abspath $(B))/mldagent MLDCTL=$(abspath $(B))/mldctl \
		CONFORMANCE_OUT=$(abspath $(B))/conformance-out $(CONFORMANCE_CMD) $(CONFORMANCE_ARGS)
