# tests/conformance/conformance.mk — mldagent against real MLD peers (issue 4):
# FRR pim6d as MLD querier in a network namespace (needs root; FRR built once
# by build_frr.sh, ~3 min cold, cached in /var/cache/mldagent-frr; the suite
# takes about 2-3 minutes). Included by the top-level Makefile (uses B).
#
#   make conformance                              all scenarios, rewrites docs/CONFORMANCE.md
#   make conformance CONFORMANCE_ARGS='-k leave'  scenarios whose id contains "leave"
#
# Prints "ok ID" / "FAIL ID: reason" per scenario and ends with
# "conformance: N passed, N failed"; logs and captures go to $(B)/conformance-out/.
CONFORMANCE_CMD := /usr/bin/python3 tests/conformance/conformance.py
CONFORMANCE_ARGS ?=

.PHONY: conformance
conformance: $(B)/mldagent $(B)/mldctl
	tests/conformance/build_frr.sh >/dev/null
	MLDAGENT=$(abspath $(B))/mldagent MLDCTL=$(abspath $(B))/mldctl \
		CONFORMANCE_OUT=$(abspath $(B))/conformance-out $(CONFORMANCE_CMD) $(CONFORMANCE_ARGS)
