#!/usr/bin/env bash
# Lab helpers shared by `make demo` and the end-to-end tests: a querier
# namespace with a Linux bridge acting as MLD querier and snooper, and a
# host namespace whose veth port is where mldagent runs.
#
#   [ns LAB-q: br0 (querier, snooping) -- vq0 ] <--veth--> [ mld0 : ns LAB-h ]
#
# Source it, set LAB (a short prefix, unique per run), then call the functions.

LAB=${LAB:-mldlab}
LAB_Q=$LAB-q
LAB_H=$LAB-h
LAB_DIR=${LAB_DIR:-/tmp/$LAB}
LAB_BPF=$LAB_DIR/bpffs
LAB_SOCK=$LAB_DIR/mldagent.sock
LAB_PIN=$LAB_BPF/mldagent
: "${MLD_VERSION:=2}"

qx() { ip netns exec "$LAB_Q" "$@"; }
hx() { ip netns exec "$LAB_H" "$@"; }

# Bridge timers, in centiseconds as iproute2 takes them. The bridge will not
# query faster than once a second; GMI = RV*QI + QRI = 2*5 s + 1 s = 11 s.
lab_up() {
	lab_down
	mkdir -p "$LAB_DIR" "$LAB_BPF"
	# A bpffs outside /sys: `ip netns exec` remounts /sys, but this path
	# stays visible to every namespace's shells and to bpftool.
	mountpoint -q "$LAB_BPF" || mount -t bpf bpf "$LAB_BPF"
	ip netns add "$LAB_Q"
	ip netns add "$LAB_H"
	qx ip link add br0 type bridge mcast_snooping 1 mcast_querier 1 \
		mcast_mld_version "$MLD_VERSION" mcast_query_interval 500 \
		mcast_query_response_interval 100 mcast_last_member_interval 100 \
		mcast_last_member_count 2 mcast_startup_query_interval 100 \
		mcast_startup_query_count 2 mcast_membership_interval 1100 \
		mcast_querier_interval 1100 mcast_stats_enabled 1
	# No DAD on the querier: a bridge that sends its first query before its
	# link-local address is usable stops querying (no IPv6 source).
	qx sysctl -qw net.ipv6.conf.br0.accept_dad=0
	qx ip link set lo up
	qx ip link set br0 up
	hx ip link set lo up
	lab_veth
	# Link-local addresses: wait for DAD so the querier has a source.
	for _ in $(seq 50); do
		qx ip -6 addr show dev br0 scope link | grep -q "inet6" &&
			! qx ip -6 addr show dev br0 | grep -q tentative &&
			! hx ip -6 addr show dev mld0 | grep -q tentative && break
		sleep 0.1
	done
	# (Re)start the querier now that it has an address: queries begin at once.
	qx ip link set br0 type bridge mcast_querier 0
	qx ip link set br0 type bridge mcast_querier 1
}

# lab_veth [noup]: creates the veth pair vq0 (bridge port) <-> mld0 (host),
# deleting an old one first, and brings both ends up, or with "noup" leaves
# mld0 down (so a capture on vq0 can start before the host speaks). Called
# again, it re-creates mld0 under a new ifindex and a new MAC address.
lab_veth() {
	qx ip link del vq0 2>/dev/null || true
	ip link add vq0 netns "$LAB_Q" type veth peer name mld0 netns "$LAB_H"
	qx ip link set vq0 master br0
	qx ip link set vq0 up
	[ "${1:-}" = noup ] || hx ip link set mld0 up
}

lab_down() {
	lab_agent_stop
	ip netns del "$LAB_Q" 2>/dev/null || true
	ip netns del "$LAB_H" 2>/dev/null || true
	if mountpoint -q "$LAB_BPF" 2>/dev/null; then umount "$LAB_BPF" || true; fi
	rm -rf "$LAB_DIR"
	return 0
}

# lab_agent ARGS...: starts mldagent on mld0 in the host namespace.
lab_agent() {
	# exec: $! must be the agent itself, not a subshell, for lab_agent_stop.
	(exec ip netns exec "$LAB_H" "$MLDAGENT" -i mld0 -S "$LAB_SOCK" --pin-dir "$LAB_PIN" "$@" \
		>"$LAB_DIR/agent.log" 2>&1) &
	echo $! >"$LAB_DIR/agent.pid"
	for _ in $(seq 100); do
		[ -S "$LAB_SOCK" ] && "$MLDCTL" -S "$LAB_SOCK" stats >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$LAB_DIR/agent.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "mldagent did not start:" >&2
	cat "$LAB_DIR/agent.log" >&2
	return 1
}

lab_agent_stop() {
	local pid
	pid=$(cat "$LAB_DIR/agent.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	rm -f "$LAB_DIR/agent.pid"
}

ctl() { "$MLDCTL" -S "$LAB_SOCK" "$@"; }

# The bridge's view of port vq0, as JSON: what the network learned.
lab_mdb() { qx bridge -d -s -j mdb show dev br0; }
