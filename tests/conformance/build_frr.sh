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

log() { echo "build_frr: $*" >&2; }

if [ -x "$PREFIX/sbin/pim6d" ] && [ -x "$PREFIX/sbin/zebra" ] && [ -x "$PREFIX/bin/vtysh" ] &&
	[ -f "$STAMP" ]; then
	echo "$PREFIX"
	exit 0
fi
[ "$(id -u)" = 0 ] || { log "needs root (apt-get build-dep)"; exit 1; }
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
	apt-get update -qq
fi
apt-get install -y -qq dpkg-dev >/dev/null
apt-get build-dep -y -qq frr >/dev/null
mkdir -p "$FRR_CACHE/src"
cd "$FRR_CACHE/src"
if ! ls -d frr-*/ >/dev/null 2>&1; then
	log "fetching Debian's frr source package"
	apt-get source -qq frr >/dev/null
fi
SRC=$(ls -d "$FRR_CACHE"/src/frr-*/ | head -1)
cd "$SRC"
log "building pim6d in $SRC"
[ -x configure ] || ./bootstrap.sh >/dev/null
./configure -q --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" --localstatedir="$PREFIX/var" \
	--enable-pim6d --disable-doc --disable-bgpd --disable-ripd --disable-ripngd \
	--disable-ospfd --disable-ospf6d --disable-ldpd --disable-nhrpd --disable-eigrpd \
	--disable-babeld --disable-isisd --disable-pbrd --disable-fabricd --disable-vrrpd \
	--disable-bfdd --disable-pathd --disable-sharpd --disable-staticd --disable-snmp \
	--disable-scripting --enable-user=root --enable-group=root --enable-vty-group=root >/dev/null
make -s -j"$(nproc)" >/dev/null
make -s install >/dev/null
basename "$SRC" >"$STAMP"
echo "$PREFIX"
