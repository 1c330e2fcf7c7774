#!/usr/bin/env bash
# FRR pim6d as the MLD querier for the conformance suite (issue 4, groundwork).
# Source it after tests/lab/lab.sh conventions: set FRR_NS (the namespace
# holding the querier side of the veth) and FRR_DIR (a scratch directory),
# then `frr_up IFACE` / `frr_joins_json` / `frr_down`.
#
# Verified by hand on 2026-11-27: with mldagent on the far end of the veth
# holding ASM ff3e::1, INCLUDE{2001:db8::1,::2} ff3e::8000:1 and
# EXCLUDE{2001:db8::9} ff3e::3, `show ipv6 mld joins json` listed ff3e::1 with
# source "::" JOIN, ff3e::8000:1 with both sources JOIN, and ff3e::3 with
# "::" JOIN and 2001:db8::9 PRUNE.
FRR_PREFIX=${FRR_PREFIX:-/var/cache/mldagent-frr/install}

frr_up() {
	local ifc=$1
	mkdir -p "$FRR_DIR/run"
	cat >"$FRR_DIR/frr.conf" <<CONF
frr defaults traditional
hostname $FRR_NS
log stdout informational
!
interface $ifc
 ipv6 mld
 ipv6 mld query-interval ${FRR_QI:-5}
 ipv6 mld query-max-response-time ${FRR_QRI_DS:-10}
!
CONF
	# Private sockets and pid files: several suites may run side by side.
	ip netns exec "$FRR_NS" "$FRR_PREFIX/sbin/zebra" -d -z "$FRR_DIR/run/zserv.api" \
		-i "$FRR_DIR/run/zebra.pid" --vty_socket "$FRR_DIR/run" -f "$FRR_DIR/frr.conf" \
		>"$FRR_DIR/zebra.log" 2>&1
	ip netns exec "$FRR_NS" "$FRR_PREFIX/sbin/pim6d" -d -z "$FRR_DIR/run/zserv.api" \
		-i "$FRR_DIR/run/pim6d.pid" --vty_socket "$FRR_DIR/run" -f "$FRR_DIR/frr.conf" \
		>"$FRR_DIR/pim6d.log" 2>&1
}

frr_vtysh() { ip netns exec "$FRR_NS" "$FRR_PREFIX/bin/vtysh" --vty_socket "$FRR_DIR/run" -c "$*" 2>/dev/null; }
frr_joins_json() { frr_vtysh "show ipv6 mld joins json"; }

frr_down() {
	local p
	for p in pim6d zebra; do
		[ -f "$FRR_DIR/run/$p.pid" ] && kill "$(cat "$FRR_DIR/run/$p.pid")" 2>/dev/null
	done
	return 0
}
