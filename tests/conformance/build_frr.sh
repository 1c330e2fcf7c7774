#!/usr/bin/env bash
# Builds FRR's pim6d (the MLD querier of the conformance suite) from Debian's
# own source package: Debian 12's frr binary package is built without pim6d.
# The result is cached under $FRR_CACHE (default /var/cache/mldagent-frr) and
# reused while the source version is unchanged: ~3 min on 2 cores when cold.
#
#   tests/conformance/build_frr.sh        # prints the install prefix
set -euo pipefail
FRR_CACHE=${FRR_CACHE:-/var/cache/mldagent-frr}
PREFIX=$FRR_CACHE/install
STAMP=$FRR_CACHE/built-version

LOG=$FRR_CACHE/build.log

log() { echo "build_frr: $*" >&2; }
# Each step's output goes to $LOG; a failing step shows its tail and why.
step() {
	local what=$1
	shift
	echo "== $what: $*" >>"$LOG"
	if ! "$@" >>"$LOG" 2>&1; then
		log "$what failed (last lines of $LOG):"
		tail -n 25 "$LOG" >&2
		exit 1
	fi
}

if [ -x "$PREFIX/sbin/pim6d" ] && [ -x "$PREFIX/sbin/zebra" ] && [ -x "$PREFIX/bin/vtysh" ] &&
	[ -f "$STAMP" ]; then
	echo "$PREFIX"
	exit 0
fi
[ "$(id -u)" = 0 ] || { log "needs root (apt-get build-dep)"; exit 1; }
mkdir -p "$FRR_CACHE"
: >"$LOG"
export DEBIAN_FRONTEND=noninteractive
# Debian's source packages: add deb-src next to the binary sources if absent.
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
	log "enabling deb-src for bookworm"
	cat >/etc/apt/sources.list.d/mldagent-debian-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	step "apt-get update" apt-get update -qq
fi
step "install dpkg-dev" apt-get install -y -qq dpkg-dev
step "install frr's build dependencies" apt-get build-dep -y -qq frr
mkdir -p "$FRR_CACHE/src"
cd "$FRR_CACHE/src"
if ! ls -d frr-*/ >/dev/null 2>&1; then
	log "fetching Debian's frr source package"
	step "fetch source" apt-get source -qq frr
fi
SRC=$(ls -d "$FRR_CACHE"/src/frr-*/ | head -1)
cd "$SRC"
log "building pim6d in $SRC"
[ -x configure ] || step bootstrap ./bootstrap.sh
step configure ./configure -q --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" --localstatedir="$PREFIX/var" \
	--enable-pim6d --disable-doc --disable-bgpd --disable-ripd --disable-ripngd \
	--disable-ospfd --disable-ospf6d --disable-ldpd --disable-nhrpd --disable-eigrpd \
	--disable-babeld --disable-isisd --disable-pbrd --disable-fabricd --disable-vrrpd \
	--disable-bfdd --disable-pathd --disable-sharpd --disable-staticd --disable-snmp \
	--disable-scripting --enable-user=root --enable-group=root --enable-vty-group=root
step make make -s -j"$(nproc)"
step install make -s install
basename "$SRC" >"$STAMP"
echo "$PREFIX"
