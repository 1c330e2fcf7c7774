# tests/e2e/e2e.mk — end-to-end tests of mldagent in network namespaces
# against a real Linux bridge MLD querier + snooper (needs root; about
# 2-3 minutes). Included by the top-level Makefile (uses B).
#
#   make e2e                      all tests
#   make e2e E2E_ARGS='-k mldv1'  tests whose name contains "mldv1"
#
# Prints "ok NAME" / "FAIL NAME: reason" per test and ends with
# "e2e: N passed, N failed"; agent logs and captures go to $(B)/e2e-out/.
E2E_CMD := /usr/bin/python3 tests/e2e/e2e.py
E2E_ARGS ?=

.PHONY: e2e
e2e: $(B)/mldagent $(B)/mldctl
	MLDAGENT=$(abspath $(B))/mldagent MLDCTL=$(abspath $(B))/mldctl \
		E2E_OUT=$(abspath $(B))/e2e-out $(E2E_CMD) $(E2E_ARGS)
