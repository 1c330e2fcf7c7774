#!/usr/bin/env bash
# make demo: mldagent on a built-in lab. A Linux bridge in one network
# namespace is the MLD querier and snooper; mldagent runs on the veth port in
# another. We declare groups, watch the bridge learn them, leave one, change
# the sources of another, and tear everything down.
set -euo pipefail
cd "$(dirname "$0")/../.."
export MLDAGENT=$PWD/build/mldagent MLDCTL=$PWD/build/mldctl
LAB=mlddemo
# shellcheck source=tests/lab/lab.sh
. tests/lab/lab.sh
trap lab_down EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The bridge's view of the port towards mldagent, without the kernel's own
# link-scope groups.
mdb() { qx bridge -d -s mdb show dev br0 | grep -v -e 'grp ff02::' || true; }
settle() { sleep "${1:-2}"; }

step "lab: namespace $LAB_Q (bridge br0: MLDv2 querier + snooping) <-> $LAB_H (mld0)"
lab_up
qx ip -d link show br0 | grep -o 'mcast_querier [0-9]\|mcast_mld_version [0-9]\|mcast_query_interval [0-9]*' | tr '\n' ' '
echo

step "start: mldagent -i mld0 -c tests/lab/demo.yaml"
cat tests/lab/demo.yaml | grep -v '^#'
lab_agent -c tests/lab/demo.yaml
settle 2
sed 's/^/  agent| /' "$LAB_DIR/agent.log"

step "what the bridge learned (bridge -d -s mdb show dev br0)"
mdb

step "mldctl show"
ctl show

step "leave ff3e::1 (mldctl leave mld0 ff3e::1 --listener market-data)"
ctl leave mld0 ff3e::1 --listener market-data
settle 4
mdb

step "source change: ff3e::8000:1 INCLUDE {2001:db8::1 2001:db8::2} -> {2001:db8::1 2001:db8::3}"
ctl join mld0 ff3e::8000:1 include 2001:db8::1 2001:db8::3 --listener market-data
settle 4
mdb

step "a second listener merges into the EXCLUDE group (RFC 3810 4.2): EXCLUDE {9} + INCLUDE {9} = EXCLUDE {}"
ctl join mld0 ff3e::3 include 2001:db8::9 --listener recorder
settle 3
mdb

step "XDP maps, as any operator sees them (bpftool map dump pinned $LAB_PIN/mld_members)"
bpftool map dump pinned "$LAB_PIN/mld_members" | head -20

step "mldctl stats (excerpt)"
ctl stats | grep -E 'v2_general|group_query|events|tx_v2_reports|tx_v2_records|drop_bad|packets' | head -20

step "stop: the agent sends its final leaves, the bridge forgets the groups"
lab_agent_stop
settle 4
mdb
echo "(no ff3e:: groups left)"
sed -n '$p' "$LAB_DIR/agent.log" 2>/dev/null || true
step "done; tearing the lab down"
