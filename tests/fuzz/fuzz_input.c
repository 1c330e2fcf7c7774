/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: received packets against an engine with one link and a
 * few groups (ASM, INCLUDE, EXCLUDE, many sources, link scope), then
 * timeouts. Build and run: see README.md beside this file.
 *
 * Input layout:
 *   byte 0  flags: bits 0-1 entry point (0 raw packet; 1 raw packet with the
 *           IPv6 payload length and ICMPv6 checksum fixed up; 2 ICMPv6 via
 *           mld_input_icmp with meta from the packet, checksum verified;
 *           3 the same with the meta's checksum check left to the engine),
 *           bits 2-3 force_version (3 = 0), bit 4 start in MLDv1 mode,
 *           bit 5 no link-local address yet, bit 6 MTU 1280 (else 1500),
 *           bit 7 several packets (see below)
 *   byte 1  time: bits 0-3 ms scale of the delay after each packet,
 *           bits 4-7 how many extra timeout rounds at the end
 *   rest    one packet from the IPv6 header on; or, with bit 7, up to 16
 *           records of [u16 length][packet], each followed by a delay
 *
 * Beyond ASan/UBSan, it aborts when the engine emits a malformed packet
 * (re-validated here from scratch), when a deadline lies in the past, when
 * timers do not converge, when a packet changes a listener filter, or when
 * a rejected packet changes any state.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mld_engine.h"
#include "mld_wire.h"

#define IFX 1

static uint64_t rng_state;
static uint32_t cur_mtu;
static uint64_t now;

static uint32_t fz_rand(void *ctx)
{
	uint64_t x = rng_state;

	(void)ctx;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static void die(const char *why)
{
	fprintf(stderr, "fuzz_input: invariant broken: %s\n", why);
	abort();
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t csum6(const uint8_t *src, const uint8_t *dst, const uint8_t *data, size_t len)
{
	uint64_t acc = 58 + (uint64_t)len;
	size_t i;

	for (i = 0; i < 16; i += 2)
		acc += rd16(src + i) + rd16(dst + i);
	for (i = 0; i + 1 < len; i += 2)
		acc += rd16(data + i);
	if (len & 1)
		acc += (uint32_t)data[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* Every emitted packet, validated independently of the engine's builder. */
static void fz_tx(void *ctx, uint32_t ifindex, const uint8_t *p, size_t len)
{
	static const uint8_t hbh[8] = {58, 0, 5, 2, 0, 0, 1, 0};
	static const uint8_t zero[16];
	const uint8_t *ic = p + 48;
	size_t il, off;
	uint16_t nrec, r;

	(void)ctx;
	if (ifindex != IFX)
		die("packet on an unknown link");
	if (len < 56 || len > cur_mtu)
		die("packet length outside 56..MTU");
	if ((p[0] >> 4) != 6 || rd16(p + 4) != len - 40 || p[6] != 0 || p[7] != 1)
		die("IPv6 header");
	if (memcmp(p + 40, hbh, 8))
		die("hop-by-hop Router Alert header");
	if (!(p[8] == 0xfe && (p[9] & 0xc0) == 0x80) && memcmp(p + 8, zero, 16))
		die("source neither link-local nor ::");
	il = len - 48;
	if (csum6(p + 8, p + 24, ic, il) != 0)
		die("ICMPv6 checksum");
	if (ic[1] != 0)
		die("ICMPv6 code");
	if (ic[0] == MLD_ICMP_V1_REPORT || ic[0] == MLD_ICMP_V1_DONE) {
		if (il != 24 || ic[8] != 0xff)
			die("v1 message");
		return;
	}
	if (ic[0] != MLD_ICMP_V2_REPORT)
		die("ICMPv6 type");
	nrec = rd16(ic + 6);
	if (!nrec)
		die("report without records");
	for (off = 8, r = 0; r < nrec; r++) {
		uint16_t ns;

		if (off + 20 > il)
			die("record header truncated");
		ns = rd16(ic + off + 2);
		if (ic[off] < 1 || ic[off] > 6 || ic[off + 1] != 0 || ic[off + 4] != 0xff)
			die("record type, aux length or group");
		if (!ns && (ic[off] == MLD_MODE_IS_INCLUDE || ic[off] == MLD_ALLOW_NEW_SOURCES ||
		            ic[off] == MLD_BLOCK_OLD_SOURCES))
			die("empty IS_IN/ALLOW/BLOCK record");
		off += 20 + (size_t)ns * 16;
		if (off > il)
			die("record sources truncated");
	}
	if (off != il)
		die("trailing bytes after the records");
}

static void run_until(struct mld_engine *e, uint64_t t)
{
	unsigned guard = 0;

	for (;;) {
		uint64_t d = mld_next_deadline(e);

		if (d > t)
			break;
		if (d < now)
			die("deadline in the past");
		now = d;
		mld_timeout(e, now);
		if (++guard > 200000)
			die("timers do not converge");
	}
	if (t > now)
		now = t;
}

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

#define NGRP 6
static const char *const grp_lit[NGRP] = {"ff3e::1", "ff3e::2",        "ff3e::3",
                                          "ff3e::4", "ff02::1:ff00:1", "ff01::7"};
static struct in6_addr grp[NGRP];
static struct {
	int mode;
	size_t nsrc;
} want[NGRP];

/* Link state and per-group timers: what a rejected packet must not touch. */
struct snap {
	struct mld_link_info li;
	struct mld_group_info g[NGRP];
	int present[NGRP];
	struct mld_stats st;
};

static void take_snap(struct mld_engine *e, struct snap *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	mld_link_info(e, IFX, &s->li);
	for (i = 0; i < NGRP; i++) {
		s->present[i] = mld_group_info(e, IFX, &grp[i], &s->g[i]) == MLD_OK;
		s->g[i].srcs = NULL; /* pointer, not content */
	}
	mld_stats_get(e, &s->st);
}

static void check_filters(struct mld_engine *e)
{
	int i;

	for (i = 0; i < NGRP; i++) {
		struct mld_group_info gi;

		if (mld_group_info(e, IFX, &grp[i], &gi) != MLD_OK)
			die("a held group disappeared");
		if ((int)gi.mode != want[i].mode || gi.nsrc != want[i].nsrc)
			die("a packet changed a merged filter");
	}
}

static struct mld_engine *setup(uint8_t flags)
{
	struct mld_tunables t;
	struct mld_engine *e;
	struct in6_addr ll = addr("fe80::1"), s[24];
	int i;

	for (i = 0; i < NGRP; i++)
		grp[i] = addr(grp_lit[i]);
	for (i = 0; i < 24; i++) {
		char b[48];

		snprintf(b, sizeof(b), "2001:db8::%x", i + 1);
		s[i] = addr(b);
	}
	mld_tunables_default(&t);
	t.force_version = (flags >> 2) & 3;
	if (t.force_version == 3)
		t.force_version = 0;
	rng_state = 0x9e3779b97f4a7c15ull;
	now = 1000;
	cur_mtu = (flags & 0x40) ? 1280 : 1500;
	e = mld_engine_new(&t, fz_rand, NULL, fz_tx, NULL);
	if (!e || mld_link_add(e, IFX, cur_mtu, 0, now))
		abort();
	if (!(flags & 0x20) && mld_link_set_lladdr(e, IFX, MLD_LL_VALID, &ll, now))
		abort();
	if (mld_join(e, IFX, "a", &grp[0], now) || mld_join(e, IFX, "b", &grp[0], now) ||
	    mld_set_filter(e, IFX, "a", &grp[1], MLD_FMODE_INCLUDE, s, 2, now) ||
	    mld_set_filter(e, IFX, "b", &grp[2], MLD_FMODE_EXCLUDE, s + 2, 2, now) ||
	    mld_set_filter(e, IFX, "c", &grp[2], MLD_FMODE_INCLUDE, s + 3, 1, now) ||
	    mld_set_filter(e, IFX, "a", &grp[3], MLD_FMODE_INCLUDE, s, 24, now) ||
	    mld_join(e, IFX, "a", &grp[4], now) || mld_join(e, IFX, "a", &grp[5], now))
		abort();
	for (i = 0; i < NGRP; i++) {
		struct mld_group_info gi;

		mld_group_info(e, IFX, &grp[i], &gi);
		want[i].mode = gi.mode;
		want[i].nsrc = gi.nsrc;
	}
	run_until(e, now + 3000);
	if (flags & 0x10) {
		/* A v1 querier: the link drops to MLDv1 (unless forced). */
		static const uint8_t q[72] = {
		    0x60, 0, 0, 0, 0,  32, 0,    1, 0xfe, 0x80, 0, 0, 0,   0, 0, 0, 0,    0,
		    0,    0, 0, 0, 0,  9,  0xff, 2, 0,    0,    0, 0, 0,   0, 0, 0, 0,    0,
		    0,    0, 0, 1, 58, 0,  5,    2, 0,    0,    1, 0, 130, 0, 0, 0, 0x03, 0xe8};
		uint8_t p[72];

		memcpy(p, q, sizeof(p));
		{
			uint16_t c = csum6(p + 8, p + 24, p + 48, 24);

			p[50] = (uint8_t)(c >> 8);
			p[51] = (uint8_t)c;
		}
		mld_input_packet(e, IFX, p, sizeof(p), now);
		run_until(e, now + 1500);
	}
	return e;
}

/* Offset of the ICMPv6 header along a hop-by-hop/dstopts/routing chain. */
static size_t icmp_off(const uint8_t *p, size_t len)
{
	size_t off = 40;
	uint8_t nh;
	int i;

	if (len < 40)
		return 0;
	nh = p[6];
	for (i = 0; i < 10; i++) {
		if (nh == 58)
			return off <= len ? off : 0;
		if ((nh != 0 && nh != 60 && nh != 43) || off + 8 > len)
			return 0;
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	return 0;
}

static void feed(struct mld_engine *e, uint8_t flags, const uint8_t *data, size_t len)
{
	static uint8_t buf[70000];
	struct snap a, b;
	int path = flags & 3, rc;

	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, data, len);
	take_snap(e, &a);
	if (path == 0) {
		rc = mld_input_packet(e, IFX, buf, len, now);
	} else if (path == 1) {
		size_t io = icmp_off(buf, len);

		if (len >= 40 && len - 40 <= 0xffff) {
			buf[4] = (uint8_t)((len - 40) >> 8);
			buf[5] = (uint8_t)(len - 40);
		}
		if (io && io + 4 <= len) {
			uint16_t c;

			buf[io + 2] = buf[io + 3] = 0;
			c = csum6(buf + 8, buf + 24, buf + io, len - io);
			buf[io + 2] = (uint8_t)(c >> 8);
			buf[io + 3] = (uint8_t)c;
		}
		rc = mld_input_packet(e, IFX, buf, len, now);
	} else {
		struct mld_rx_meta m;
		size_t io = icmp_off(buf, len);

		memset(&m, 0, sizeof(m));
		if (len >= 40) {
			memcpy(&m.src, buf + 8, 16);
			memcpy(&m.dst, buf + 24, 16);
			m.hop_limit = buf[7];
		}
		m.router_alert = 1;
		m.csum_verified = path == 2;
		if (!io)
			io = len < 40 ? len : 40;
		rc = mld_input_icmp(e, IFX, &m, buf + io, len - io, now);
	}
	take_snap(e, &b);
	if (mld_next_deadline(e) < now)
		die("deadline in the past after input");
	{
		int r, moved = 0;

		for (r = 0; r < MLD_DROP_COUNT; r++)
			if (b.st.rx_drop[r] != a.st.rx_drop[r]) {
				if (b.st.rx_drop[r] != a.st.rx_drop[r] + 1)
					die("drop counter moved by more than one");
				moved++;
			}
		if ((rc < 0) != (moved == 1) || moved > 1)
			die("return value and drop counters disagree");
	}
	if (rc < 0) {
		/* Nothing but counters may change. */
		memcpy(&b.st, &a.st, sizeof(a.st));
		if (memcmp(&a, &b, sizeof(a)))
			die("a rejected packet changed state");
	}
	check_filters(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mld_engine *e;
	uint8_t flags, tb;
	uint64_t scale;
	int k;

	if (size < 2)
		return 0;
	flags = data[0];
	tb = data[1];
	data += 2;
	size -= 2;
	scale = (uint64_t)1 << (tb & 15); /* 1 ms .. 32 s */
	e = setup(flags);
	if (!(flags & 0x80)) {
		feed(e, flags, data, size);
		run_until(e, now + scale);
	} else {
		for (k = 0; k < 16 && size >= 2; k++) {
			size_t n = rd16(data);

			data += 2;
			size -= 2;
			if (n > size)
				n = size;
			feed(e, flags, data, n);
			data += n;
			size -= n;
			run_until(e, now + scale);
		}
	}
	for (k = 0; k < (tb >> 4); k++)
		run_until(e, now + 1000u * (1u + (unsigned)k * 7u));
	run_until(e, now + 300000);
	check_filters(e);
	mld_engine_free(e);
	return 0;
}
