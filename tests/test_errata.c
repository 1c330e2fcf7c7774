/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One regression test (or more) per item of shared/seed/ERRATA.md. Each test
 * shows the corrected behaviour at a point where the seed's (mld6.c, 2009)
 * behaviour would differ, so that reverting the correction fails it.
 */
#include <stdlib.h>

#include "harness.h"

static const char *L = "app";
static uint8_t qbuf[70000];

/* Sources that fit one report on a link of this MTU: IPv6 40 + hop-by-hop 8
 * + report header 8 + record header 20 (errata 17). */
#define FIT(mtu) (((mtu)-56 - 20) / 16)

/* ---------------------------------------------------------------- helpers */

static struct mld_tunables deftun(void)
{
	struct mld_tunables t;

	mld_tunables_default(&t);
	return t;
}

/* Lets every pending report and retransmission go, then forgets the packets. */
static void settle(struct sim *s)
{
	sim_advance(s, 30000);
	sim_take(s);
}

/* 2001:db8::k+1 — a unicast source numbered k. */
static struct in6_addr SRC(unsigned k) {
	struct in6_addr a = A("2001:db8::");

	k++;
	a.s6_addr[12] = (uint8_t)(k >> 24);
	a.s6_addr[13] = (uint8_t)(k >> 16);
	a.s6_addr[14] = (uint8_t)(k >> 8);
	a.s6_addr[15] = (uint8_t)k;
	return a;
}

/* Index k of SRC(k), or -1. */
static int
src_index(const struct in6_addr *a)
{
	struct in6_addr p = A("2001:db8::");

	if (memcmp(a, &p, 12))
		return -1;
	return (int)(((uint32_t)a->s6_addr[12] << 24 | (uint32_t)a->s6_addr[13] << 16 |
	              (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15]) -
	             1);
}

static size_t parse_list(const char *list, struct in6_addr *out, size_t max)
{
	char buf[8192], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (tok = strtok_r(buf, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save))
		out[n++] = A(tok);
	return n;
}

static int setf(struct sim *s, uint32_t ifx, const char *lis, const char *grp, enum mld_fmode m,
                const char *list)
{
	struct in6_addr a[256], g = A(grp);
	size_t n = parse_list(list, a, 256);

	return mld_set_filter(s->e, ifx, lis, &g, m, a, n, s->now);
}

static int setf_n(struct sim *s, uint32_t ifx, const char *grp, enum mld_fmode m, unsigned first,
                  unsigned n)
{
	struct in6_addr *a = calloc(n + 1, sizeof(*a)), g = A(grp);
	unsigned i;
	int rc;

	for (i = 0; i < n; i++)
		a[i] = SRC(first + i);
	rc = mld_set_filter(s->e, ifx, L, &g, m, a, n, s->now);
	free(a);
	return rc;
}

static int join_if(struct sim *s, uint32_t ifx, const char *grp)
{
	struct in6_addr g = A(grp);

	return mld_join(s->e, ifx, L, &g, s->now);
}

static int join(struct sim *s, const char *grp)
{
	return join_if(s, IF1, grp);
}

static int leave(struct sim *s, const char *grp)
{
	struct in6_addr g = A(grp);

	return mld_leave(s->e, IF1, L, &g, s->now);
}

static int rxq_if(struct sim *s, uint32_t ifx, const char *grp, uint16_t mrc, const char *srcs,
                  const struct qopts *o)
{
	size_t n = craft_v2_query(qbuf, grp, mrc, srcs, o);

	return mld_input_packet(s->e, ifx, qbuf, n, s->now);
}

static int rxq(struct sim *s, const char *grp, uint16_t mrc, const char *srcs,
               const struct qopts *o)
{
	return rxq_if(s, IF1, grp, mrc, srcs, o);
}

static int rxv1(struct sim *s, const char *grp, uint16_t mrd, const struct qopts *o)
{
	size_t n = craft_v1_query(qbuf, grp, mrd, o);

	return sim_rx(s, qbuf, n);
}

static struct mld_link_info linfo(struct sim *s, uint32_t ifx)
{
	struct mld_link_info li;

	memset(&li, 0, sizeof(li));
	CHECK_EQ(mld_link_info(s->e, ifx, &li), MLD_OK);
	return li;
}

/* Group info; *rc gets the return code. */
static struct mld_group_info ginfo(struct sim *s, uint32_t ifx, const char *grp, int *rc)
{
	struct mld_group_info gi;
	struct in6_addr g = A(grp);

	memset(&gi, 0, sizeof(gi));
	*rc = mld_group_info(s->e, ifx, &g, &gi);
	return gi;
}

/* Whether a set of addresses equals the space-separated list (any order). */
static int set_is(const struct in6_addr *a, size_t n, const char *list)
{
	struct in6_addr want[256];
	size_t nw = parse_list(list, want, 256), i, j;

	if (nw != n)
		return 0;
	for (i = 0; i < nw; i++) {
		int found = 0;

		for (j = 0; j < n; j++)
			if (!memcmp(&a[j], &want[i], 16))
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static size_t count_pkts(struct sim *s, uint8_t icmp_type)
{
	size_t i, n = 0;

	for (i = 0; i < sim_pending(s); i++)
		if (sim_pkt(s, i)->icmp_type == icmp_type)
			n++;
	return n;
}

/* Records of a type (0 = any) for a group (NULL = any) in one packet. */
static size_t pkt_recs(const struct dpkt *d, uint8_t type, const struct in6_addr *g,
                       const struct drec **last)
{
	size_t n = 0;
	uint16_t r;

	for (r = 0; r < d->nrec; r++) {
		if (type && d->recs[r].type != type)
			continue;
		if (g && memcmp(&d->recs[r].group, g, 16))
			continue;
		n++;
		if (last)
			*last = &d->recs[r];
	}
	return n;
}

/* Sources of a record are distinct and all among SRC(first..first+n-1). */
static int rec_srcs_within(const struct drec *r, unsigned first, unsigned n)
{
	uint16_t i, j;

	for (i = 0; i < r->nsrc; i++) {
		int k = src_index(&r->srcs[i]);

		if (k < (int)first || k >= (int)(first + n))
			return 0;
		for (j = 0; j < i; j++)
			if (!memcmp(&r->srcs[i], &r->srcs[j], 16))
				return 0;
	}
	return 1;
}

/* Latest time of a pending packet (0 if none). */
static uint64_t last_pkt_time(struct sim *s)
{
	size_t i;
	uint64_t t = 0;

	for (i = 0; i < sim_pending(s); i++)
		if (sim_pkt(s, i)->time > t)
			t = sim_pkt(s, i)->time;
	return t;
}

/* Recomputes the ICMPv6 checksum of a crafted packet (IPv6 + 8-byte HBH). */
static void fix_csum(uint8_t *b, size_t len)
{
	uint64_t acc = 0;
	size_t i, ilen = len - 48;
	uint8_t *icmp = b + 48;

	icmp[2] = icmp[3] = 0;
	for (i = 8; i < 40; i += 2)
		acc += (uint32_t)(b[i] << 8 | b[i + 1]);
	acc += ilen + 58;
	for (i = 0; i + 1 < ilen; i += 2)
		acc += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
	if (ilen & 1)
		acc += (uint32_t)icmp[ilen - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	icmp[2] = (uint8_t)(~acc >> 8);
	icmp[3] = (uint8_t)~acc;
}

static uint64_t drops_total(const struct mld_stats *st)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < MLD_DROP_COUNT; i++)
		n += st->rx_drop[i];
	return n;
}

/* ================================================================ 1 */

/* Errata 1: MRC ≥ 0x8000 is exponential, the threshold is 32768 (not the
 * seed's 32678), the unit is ms, and the mantissa/exponent come from the
 * host-order value. Checked on the decoder, on what the engine learns, and on
 * when the response is actually due and sent. */
TEST(errata_01_mrc_exponential)
{
	static const struct {
		uint16_t code;
		uint32_t ms;
	} tab[] = {
	    {0, 0},
	    {1, 1},
	    {10000, 10000},
	    {32678, 32678}, /* the seed's typo made this exponential */
	    {32700, 32700},
	    {32767, 32767},
	    {0x8000, 32768},
	    {0x8001, 32776},
	    {0x8fff, 65528},
	    {0x9000, 65536},
	    {0xf000, 4194304},
	    {0xffff, 8387584},
	};
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		CHECK_EQ(mld_mrc_to_ms(tab[i].code), tab[i].ms);

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	settle(s);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		uint64_t t = s->now;
		struct mld_link_info li;
		size_t k;

		CHECK_EQ(rxq(s, NULL, tab[i].code, NULL, NULL), MLD_OK);
		li = linfo(s, IF1);
		CHECK_EQ(li.learned_qri_ms, tab[i].ms);
		CHECK(li.gq_due >= t && li.gq_due <= t + tab[i].ms);
		CHECK_EQ(li.version, 2);
		sim_run_until(s, t + tab[i].ms);
		/* Answered, and within the decoded delay. */
		CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
		for (k = 0; k < sim_pending(s); k++)
			CHECK(sim_pkt(s, k)->time >= t && sim_pkt(s, k)->time <= t + tab[i].ms);
		sim_take(s);
		sim_advance(s, 1);
	}

	/* The largest code spreads responses over 8387 s: some must come
	 * later than any 16-bit plain value (65535 ms) could express. */
	{
		uint64_t maxd = 0;

		for (i = 0; i < 8; i++) {
			uint64_t t = s->now;
			struct mld_link_info li;

			CHECK_EQ(rxq(s, NULL, 0xffff, NULL, NULL), MLD_OK);
			li = linfo(s, IF1);
			REQ(li.gq_due >= t);
			if (li.gq_due - t > maxd)
				maxd = li.gq_due - t;
			sim_run_until(s, t + 8387584);
			CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
			sim_take(s);
			sim_advance(s, 1);
		}
		CHECK(maxd > 65535);
		CHECK(maxd <= 8387584);
	}

	/* Group-specific query: the group timer honours the decoded MRD too. */
	{
		uint64_t t = s->now;
		struct mld_group_info gi;
		int rc;

		CHECK_EQ(rxq(s, "ff3e::1", 0x8001, NULL, NULL), MLD_OK);
		gi = ginfo(s, IF1, "ff3e::1", &rc);
		CHECK_EQ(rc, MLD_OK);
		CHECK_EQ(gi.state, MLD_G_QUERY_PENDING_MEMBER);
		CHECK(gi.query_due >= t && gi.query_due <= t + 32776);
		sim_run_until(s, t + 32776);
		CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
		sim_take(s);
	}
out:
	sim_free(s);
}

/* ================================================================ 2 */

/* Errata 2: QQIC ≥ 128 has an implicit 0x10 mantissa bit; 0x80 is 128 s. */
TEST(errata_02_qqic_implicit_bit)
{
	static const struct {
		uint8_t code;
		uint32_t s;
	} tab[] = {
	    {0, 0},      {1, 1},      {125, 125},  {127, 127},    {0x80, 128},
	    {0x81, 136}, {0x8f, 248}, {0x90, 256}, {0xf0, 16384}, {0xff, 31744},
	};
	struct sim *s = sim_new(NULL);
	struct mld_link_info li;
	size_t i;
	uint64_t t1;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		CHECK_EQ(mld_qqic_to_s(tab[i].code), tab[i].s);

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	settle(s);
	for (i = 1; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct qopts o = {.qqic = tab[i].code};

		CHECK_EQ(rxq(s, NULL, 10000, NULL, &o), MLD_OK);
		li = linfo(s, IF1);
		CHECK_EQ(li.learned_qi_ms, tab[i].s * 1000);
		settle(s);
	}
	/* QQIC 0x80 then an MLDv1 query: the Older Version Querier Present
	 * timeout is RV·QI + QRI = 2·128 s + 10 s. The seed's QI of 0 would
	 * give 10 s. */
	{
		struct qopts o = {.qqic = 0x80};

		CHECK_EQ(rxq(s, NULL, 10000, NULL, &o), MLD_OK);
		settle(s);
	}
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	t1 = s->now;
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 1);
	CHECK_EQ(li.v1_present_until, t1 + 2 * 128000 + 10000);
	sim_run_until(s, t1 + 2 * 128000 + 10000 - 1);
	CHECK_EQ(linfo(s, IF1).version, 1);
	sim_run_until(s, t1 + 2 * 128000 + 10000);
	CHECK_EQ(linfo(s, IF1).version, 2);
	sim_free(s);
}

/* ================================================================ 3 */

static size_t join_report_count(struct sim *s)
{
	struct in6_addr g = A("ff3e::77");
	size_t n;

	CHECK_EQ(join(s, "ff3e::77"), MLD_OK);
	sim_advance(s, 30000);
	n = count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL);
	CHECK_EQ(n, sim_pending(s));
	sim_take(s);
	return n;
}

/* Errata 3: QRV 0 leaves the configured robustness in force; QRV 1 is a
 * legal value and is adopted (the seed clamps everything below 2 to 2). */
TEST(errata_03_qrv_zero_and_one)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct qopts o0 = {.qrv = -1}, o1 = {.qrv = 1}, o7 = {.qrv = 7};

	/* QRV 0 on a link configured with RV 3: still 3 transmissions. */
	t.rv = 3;
	s = sim_new(&t);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, &o0), MLD_OK);
	settle(s);
	CHECK_EQ(join_report_count(s), 3);
	sim_free(s);

	/* QRV 0 with defaults: 2. */
	s = sim_new(NULL);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, &o0), MLD_OK);
	settle(s);
	CHECK_EQ(join_report_count(s), 2);
	sim_free(s);

	/* QRV 1: one transmission, no retransmission at all. */
	s = sim_new(NULL);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, &o1), MLD_OK);
	settle(s);
	CHECK_EQ(linfo(s, IF1).learned_rv, 1);
	CHECK_EQ(join_report_count(s), 1);
	/* ... and a leave likewise sends one TO_IN{}. */
	{
		struct in6_addr g = A("ff3e::77");

		CHECK_EQ(leave(s, "ff3e::77"), MLD_OK);
		sim_advance(s, 30000);
		CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 1);
		sim_take(s);
	}
	/* RV 1 enters the v1 timeout too: 1·125 s + 10 s. */
	{
		uint64_t t1 = s->now;

		CHECK_EQ(rxq(s, NULL, 10000, NULL, &o1), MLD_OK);
		settle(s);
		t1 = s->now;
		CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
		CHECK_EQ(linfo(s, IF1).v1_present_until, t1 + 125000 + 10000);
	}
	sim_free(s);

	/* QRV 7 is adopted as well. */
	s = sim_new(NULL);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, &o7), MLD_OK);
	settle(s);
	CHECK_EQ(linfo(s, IF1).learned_rv, 7);
	CHECK_EQ(join_report_count(s), 7);
	sim_free(s);
}

/* ================================================================ 4 */

/* Errata 4: Older Version Querier Present timeout = RV·QI + QRI in one unit. */
TEST(errata_04_v1_querier_present_timeout_units)
{
	struct sim *s = sim_new(NULL);
	struct mld_link_info li;
	uint64_t t1, t2;

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	settle(s);
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	t1 = s->now;
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 1);
	CHECK_EQ(li.v1_present_until, t1 + 260000);
	/* A later MLDv1 query restarts it. */
	sim_advance(s, 100000);
	t2 = s->now;
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	CHECK_EQ(linfo(s, IF1).v1_present_until, t2 + 260000);
	sim_run_until(s, t2 + 260000 - 1);
	CHECK_EQ(linfo(s, IF1).version, 1);
	sim_run_until(s, t2 + 260000);
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 2);
	CHECK_EQ(li.v1_present_until, 0);
	sim_free(s);

	/* With values learned from an MLDv2 querier: QRV 3, QQIC 60 s,
	 * QRI 10 s → 3·60 s + 10 s. */
	s = sim_new(NULL);
	{
		struct qopts o = {.qrv = 3, .qqic = 60};

		CHECK_EQ(rxq(s, NULL, 10000, NULL, &o), MLD_OK);
		settle(s);
	}
	t1 = s->now;
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	CHECK_EQ(linfo(s, IF1).v1_present_until, t1 + 3 * 60000 + 10000);
	sim_free(s);
}

/* ================================================================ 5 */

struct badq {
	const char *what;
	int v1;
	const char *group; /* NULL = general */
	const char *srcs;
	struct qopts o;
	int fix;    /* recompute the checksum after truncation */
	int reason; /* enum mld_drop_reason */
};

/* Errata 5: every check happens before any state is touched. Each invalid
 * query leaves the dump unchanged, is counted under its reason, and a valid
 * query with the same content does change the state (the control). */
TEST(errata_05_invalid_query_changes_nothing)
{
	static const struct badq bad[] = {
	    {"global source", 0, NULL, NULL, {.src = "2001:db8::9"}, 0, MLD_DROP_SRC},
	    {"unspecified source", 0, NULL, NULL, {.src = "::"}, 0, MLD_DROP_SRC},
	    {"multicast source", 0, NULL, NULL, {.src = "ff02::9"}, 0, MLD_DROP_SRC},
	    {"hop limit 255", 0, NULL, NULL, {.hop_limit = 255}, 0, MLD_DROP_HOP_LIMIT},
	    {"hop limit 2", 0, NULL, NULL, {.hop_limit = 2}, 0, MLD_DROP_HOP_LIMIT},
	    {"no router alert", 0, NULL, NULL, {.no_ra = 1}, 0, MLD_DROP_NO_RA},
	    {"router alert value 1", 0, NULL, NULL, {.ra_value = 1}, 0, MLD_DROP_NO_RA},
	    {"bad checksum", 0, NULL, NULL, {.bad_csum = 1}, 0, MLD_DROP_CSUM},
	    {"27 bytes", 0, NULL, NULL, {.truncate = 1}, 1, MLD_DROP_LEN},
	    {"25 bytes", 0, NULL, NULL, {.truncate = 3}, 1, MLD_DROP_LEN},
	    {"source list cut",
	     0,
	     "ff3e::1",
	     "2001:db8::1 2001:db8::2",
	     {.truncate = 16},
	     1,
	     MLD_DROP_LEN},
	    {"claims 3 sources, has 2",
	     0,
	     "ff3e::1",
	     "2001:db8::1 2001:db8::2",
	     {.nsrc_override = 3},
	     0,
	     MLD_DROP_LEN},
	    {"unicast group field", 0, "2001:db8::1", NULL, {.dst = "ff02::1"}, 0, MLD_DROP_GROUP},
	    {"link-local group field", 0, "fe80::1", NULL, {.dst = "ff02::1"}, 0, MLD_DROP_GROUP},
	    {"general query with sources", 0, NULL, "2001:db8::1", {0}, 0, MLD_DROP_GQ_SOURCES},
	    {"general query to ff02::2", 0, NULL, NULL, {.dst = "ff02::2"}, 0, MLD_DROP_DST},
	    {"group query to another group",
	     0,
	     "ff3e::1",
	     NULL,
	     {.dst = "ff3e::2"},
	     0,
	     MLD_DROP_DST},
	    {"v1: hop limit 2", 1, NULL, NULL, {.hop_limit = 2}, 0, MLD_DROP_HOP_LIMIT},
	    {"v1: global source", 1, NULL, NULL, {.src = "2001:db8::9"}, 0, MLD_DROP_SRC},
	    {"v1: no router alert", 1, NULL, NULL, {.no_ra = 1}, 0, MLD_DROP_NO_RA},
	    {"v1: bad checksum", 1, NULL, NULL, {.bad_csum = 1}, 0, MLD_DROP_CSUM},
	    {"v1: 23 bytes", 1, NULL, NULL, {.truncate = 1}, 1, MLD_DROP_LEN},
	    {"v1: unicast group field",
	     1,
	     "2001:db8::1",
	     NULL,
	     {.dst = "ff02::1"},
	     0,
	     MLD_DROP_GROUP},
	};
	struct sim *s = sim_new(NULL);
	size_t i;

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	CHECK_EQ(setf(s, IF1, "b", "ff3e::2", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct badq *b = &bad[i];
		struct qopts o = b->o;
		struct mld_stats st0, st1;
		char *d0, *d1;
		size_t n;
		int rc;

		/* Content that would change state if accepted. */
		if (!b->v1) {
			o.qrv = 1;
			o.qqic = 0x80;
			n = craft_v2_query(qbuf, b->group, 0x8000, b->srcs, &o);
		} else {
			n = craft_v1_query(qbuf, b->group, 1000, &o);
		}
		if (b->fix)
			fix_csum(qbuf, n);
		mld_stats_get(s->e, &st0);
		d0 = sim_dump(s);
		rc = sim_rx(s, qbuf, n);
		d1 = sim_dump(s);
		mld_stats_get(s->e, &st1);
		if (rc == MLD_OK)
			t_fail(__FILE__, __LINE__, "%s: accepted", b->what);
		if (strcmp(d0, d1))
			t_fail(__FILE__, __LINE__, "%s: state changed:\n%s---\n%s", b->what, d0,
			       d1);
		if (st1.rx_drop[b->reason] != st0.rx_drop[b->reason] + 1)
			t_fail(__FILE__, __LINE__, "%s: not counted as %s", b->what,
			       mld_drop_name(b->reason));
		CHECK_EQ(drops_total(&st1), drops_total(&st0) + 1);
		CHECK_EQ(st1.rx_v2_general + st1.rx_v2_group + st1.rx_v2_group_source +
		             st1.rx_v1_queries,
		         st0.rx_v2_general + st0.rx_v2_group + st0.rx_v2_group_source +
		             st0.rx_v1_queries);
		free(d0);
		free(d1);
	}
	/* Nothing was scheduled by any of them. */
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
	sim_advance(s, 100000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(linfo(s, IF1).version, 2);

	/* Controls: the same queries, valid, are accepted and change state. */
	{
		struct qopts o = {.qrv = 1, .qqic = 0x80};
		char *d0 = sim_dump(s), *d1;
		size_t n = craft_v2_query(qbuf, NULL, 0x8000, NULL, &o);

		CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
		d1 = sim_dump(s);
		CHECK(strcmp(d0, d1) != 0);
		CHECK_EQ(linfo(s, IF1).learned_rv, 1);
		CHECK_EQ(linfo(s, IF1).learned_qi_ms, 128000);
		free(d0);
		free(d1);
		settle(s);
		d0 = sim_dump(s);
		n = craft_v1_query(qbuf, NULL, 1000, NULL);
		CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
		d1 = sim_dump(s);
		CHECK(strcmp(d0, d1) != 0);
		CHECK_EQ(linfo(s, IF1).version, 1);
		free(d0);
		free(d1);
	}
	sim_free(s);
}

/* ================================================================ 6 */

/* Errata 6: addresses are compared as they are on the wire, the interface
 * kept beside them: a link-scope group query matches the group and general
 * queries cover link-scope groups, on the link they arrived on. */
TEST(errata_06_link_scope_queries_match)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g1 = A("ff02::1:3"), g2 = A("ff02::fb"), g3 = A("ff05::2");
	struct in6_addr ll7 = A("fe80::7");
	const struct drec *r = NULL;
	uint64_t t;
	size_t i;

	CHECK_EQ(mld_link_add(s->e, 7, 1500, 0, s->now), MLD_OK);
	CHECK_EQ(mld_link_set_lladdr(s->e, 7, MLD_LL_VALID, &ll7, s->now), MLD_OK);
	CHECK_EQ(join(s, "ff02::1:3"), MLD_OK);
	CHECK_EQ(join(s, "ff02::fb"), MLD_OK);
	CHECK_EQ(join(s, "ff05::2"), MLD_OK);
	CHECK_EQ(join_if(s, 7, "ff02::1:3"), MLD_OK);
	settle(s);

	/* Group-specific query for a link-scope group, sent to the group. */
	t = s->now;
	CHECK_EQ(rxq(s, "ff02::1:3", 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, &r), 1);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(sim_pkt(s, 0)->ifindex, IF1);
	sim_take(s);

	/* Group-and-source query for a link-scope group (ASM: IS_IN(Q)). */
	t = s->now;
	CHECK_EQ(rxq(s, "ff02::fb", 1000, "fe80::aa", NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g2, &r), 1);
	CHECK(rec_srcs_are(r, "fe80::aa"));
	sim_take(s);

	/* General query: every group of the link, link-scope ones included. */
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 2000, NULL, NULL), MLD_OK);
	sim_run_until(s, t + 2000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g2, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g3, NULL), 1);
	for (i = 0; i < sim_pending(s); i++)
		CHECK_EQ(sim_pkt(s, i)->ifindex, IF1);
	sim_take(s);

	/* The same link-scope group on link 7: a query there answers there. */
	t = s->now;
	CHECK_EQ(rxq_if(s, 7, "ff02::1:3", 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(sim_pkt(s, 0)->ifindex, 7);
	sim_take(s);
	t = s->now;
	CHECK_EQ(rxq_if(s, 7, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(sim_pkt(s, 0)->ifindex, 7);
	sim_free(s);
}

/* ================================================================ 7 */

/* Errata 7 (engine decision, RFC 3810 §8.2.1/§8.1): in MLDv1 compatibility
 * mode an MLDv2 query is answered with MLDv1 reports and does not re-arm the
 * Older Version Querier Present timer. */
TEST(errata_07_v2_query_in_v1_mode)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1"), g2 = A("ff3e::2");
	struct mld_link_info li;
	uint64_t t1, t2, until;
	size_t i;

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::2"), MLD_OK);
	settle(s);
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	t1 = s->now;
	until = linfo(s, IF1).v1_present_until;
	CHECK_EQ(until, t1 + 260000);
	settle(s);

	/* v2 general query, MRC 5 s. */
	sim_advance(s, 50000);
	t2 = s->now;
	CHECK_EQ(rxq(s, NULL, 5000, NULL, NULL), MLD_OK);
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 1);
	CHECK_EQ(li.v1_present_until, until);
	sim_run_until(s, t2 + 5000);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V2_REPORT), 0);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V1_REPORT), 2);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		CHECK(d->time >= t2 && d->time <= t2 + 5000);
		CHECK(!memcmp(&d->group, &g, 16) || !memcmp(&d->group, &g2, 16));
	}
	sim_take(s);

	/* v2 group-specific query: a v1 report for that group only. */
	t2 = s->now;
	CHECK_EQ(rxq(s, "ff3e::2", 2000, NULL, NULL), MLD_OK);
	sim_run_until(s, t2 + 2000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(sim_pkt(s, 0)->icmp_type, MLD_ICMP_V1_REPORT);
	CHECK(!memcmp(&sim_pkt(s, 0)->group, &g2, 16));
	sim_take(s);
	CHECK_EQ(linfo(s, IF1).v1_present_until, until);

	/* Only the v1 querier's timer counts: v2 again at t1 + 260 s. */
	sim_run_until(s, until - 1);
	CHECK_EQ(linfo(s, IF1).version, 1);
	sim_run_until(s, until);
	CHECK_EQ(linfo(s, IF1).version, 2);
	sim_free(s);
}

/* ================================================================ 8 */

/* Errata 8: a general query schedules the interface (v2) timer — the seed
 * set the v1 timer, so nothing was answered and the link fell to v1. */
TEST(errata_08_general_query_schedules_response)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g1 = A("ff3e::1"), g2 = A("ff3e::2");
	struct mld_link_info li;
	uint64_t t;
	size_t i;

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::2"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 10000, NULL, NULL), MLD_OK);
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 2);
	CHECK_EQ(li.v1_present_until, 0);
	CHECK(li.gq_due >= t && li.gq_due <= t + 10000);
	sim_run_until(s, t + 10000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g2, NULL), 1);
	for (i = 0; i < sim_pending(s); i++) {
		CHECK_EQ(sim_pkt(s, i)->icmp_type, MLD_ICMP_V2_REPORT);
		CHECK(sim_pkt(s, i)->time >= t && sim_pkt(s, i)->time <= t + 10000);
	}
	li = linfo(s, IF1);
	CHECK_EQ(li.version, 2);
	CHECK_EQ(li.gq_due, 0);
	sim_take(s);

	/* The corrected test: a pending response is replaced only by a sooner
	 * one. MRC 10 s, then MRC 0: due now. */
	sim_advance(s, 1000);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 10000, NULL, NULL), MLD_OK);
	li = linfo(s, IF1);
	if (li.gq_due > t) {
		CHECK_EQ(rxq(s, NULL, 0, NULL, NULL), MLD_OK);
		CHECK_EQ(linfo(s, IF1).gq_due, t);
	}
	/* A pending GQ response due now covers group queries: the same test
	 * precedes group-query handling (no separate group answer). */
	CHECK_EQ(rxq(s, "ff3e::1", 10000, NULL, NULL), MLD_OK);
	{
		struct mld_group_info gi;
		int rc;

		gi = ginfo(s, IF1, "ff3e::1", &rc);
		CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
		CHECK_EQ(gi.query_due, 0);
	}
	sim_run_until(s, t + 20000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g2, NULL), 1);
	CHECK_EQ(last_pkt_time(s), t);
	sim_free(s);
}

/* ================================================================ 9 */

/* Errata 9: the Older Version Querier Present timer runs out, the link goes
 * back to v2, and v1-only states are normalised so a leave sends TO_IN{} —
 * also for a group that was LAZY (another host reported last). */
TEST(errata_09_v1_timer_expiry_back_to_v2)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g1 = A("ff3e::1"), g2 = A("ff3e::2");
	struct mld_group_info gi;
	struct mld_stats st;
	uint64_t t1;
	uint8_t rep[128];
	size_t n;
	int rc;

	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::2"), MLD_OK);
	settle(s);
	CHECK_EQ(rxv1(s, NULL, 5000, NULL), MLD_OK);
	t1 = s->now;
	/* Another host answers for g1 first: we stay quiet about it. */
	n = craft_v1_report(rep, "ff3e::1", "fe80::77");
	CHECK_EQ(sim_rx(s, rep, n), MLD_OK);
	sim_advance(s, 5001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(sim_pkt(s, 0)->icmp_type, MLD_ICMP_V1_REPORT);
	CHECK(!memcmp(&sim_pkt(s, 0)->group, &g2, 16));
	sim_take(s);
	gi = ginfo(s, IF1, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_LAZY_MEMBER);
	gi = ginfo(s, IF1, "ff3e::2", &rc);
	CHECK_EQ(gi.state, MLD_IDLE_MEMBER);

	sim_run_until(s, t1 + 260000);
	CHECK_EQ(linfo(s, IF1).version, 2);
	CHECK_EQ(linfo(s, IF1).v1_present_until, 0);
	mld_stats_get(s->e, &st);
	CHECK_EQ(st.version_to_v2, 1);
	CHECK_EQ(sim_pending(s), 0);
	gi = ginfo(s, IF1, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	gi = ginfo(s, IF1, "ff3e::2", &rc);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);

	CHECK_EQ(leave(s, "ff3e::1"), MLD_OK);
	CHECK_EQ(leave(s, "ff3e::2"), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g1, NULL), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g2, NULL), 2);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V1_DONE), 0);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V2_REPORT), sim_pending(s));
	CHECK_EQ(mld_group_info(s->e, IF1, &g1, &gi), MLD_E_NOENT);
	CHECK_EQ(mld_group_info(s->e, IF1, &g2, &gi), MLD_E_NOENT);

	/* And a v2 query is answered as v2 again. */
	sim_take(s);
	CHECK_EQ(join(s, "ff3e::3"), MLD_OK);
	settle(s);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	sim_advance(s, 1001);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, NULL, NULL), 1);
	sim_free(s);
}

/* Errata 9, continued: a query heard in v1 mode whose answers are still due
 * when the Older Version Querier Present timer runs out is answered all the
 * same, each group once: by a v1 report before the return to v2, by its v2
 * current-state record after it (seen against a Linux bridge whose v2 query
 * came 0.8 s before the timer ran out: groups due later went unanswered). */
TEST(errata_09_pending_v1_answers_survive_return_to_v2)
{
	static const char *const grp[] = {"ff3e::11", "ff3e::12", "ff3e::13", "ff3e::14",
	                                  "ff3e::15", "ff3e::16", "ff3e::17", "ff3e::18"};
	enum { NG = sizeof(grp) / sizeof(grp[0]) };
	struct sim *s = sim_new(NULL);
	size_t v1[NG] = {0}, v2[NG] = {0}, i, k, before = 0, after = 0;
	uint64_t t1, t_back;

	for (k = 0; k < NG; k++)
		CHECK_EQ(join(s, grp[k]), MLD_OK);
	settle(s);
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	t1 = s->now;
	t_back = t1 + 2 * 125000 + 10000; /* RV·QI + QRI, the defaults */
	sim_run_until(s, t_back - 5000);
	sim_take(s);
	/* A v2 general query, max delay 10 s, 5 s before the return. */
	CHECK_EQ(rxq(s, NULL, 10000, NULL, NULL), MLD_OK);
	sim_run_until(s, t_back - 5000 + 10001);
	CHECK_EQ(linfo(s, IF1).version, 2);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		for (k = 0; k < NG; k++) {
			struct in6_addr g = A(grp[k]);

			if (d->icmp_type == MLD_ICMP_V1_REPORT && !memcmp(&d->group, &g, 16)) {
				CHECK(d->time < t_back);
				v1[k]++;
			} else if (d->icmp_type == MLD_ICMP_V2_REPORT) {
				size_t n = pkt_recs(d, MLD_MODE_IS_EXCLUDE, &g, NULL);

				CHECK(!n || d->time >= t_back);
				v2[k] += n;
			}
		}
	}
	for (k = 0; k < NG; k++) {
		CHECK_EQ(v1[k] + v2[k], 1);
		before += v1[k];
		after += v2[k];
	}
	/* Both sides of the return exercised (the harness's generator is seeded). */
	CHECK(before > 0 && after > 0);
	sim_free(s);
}

/* ================================================================ 10 */

static void check_v1_join_repeats(struct sim *s, const char *grp, size_t rv, uint32_t v1_uri)
{
	struct in6_addr g = A(grp);
	uint64_t t0 = s->now;
	size_t i;

	CHECK_EQ(join(s, grp), MLD_OK);
	sim_advance(s, 100000);
	CHECK_EQ(sim_pending(s), rv);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		CHECK_EQ(d->icmp_type, MLD_ICMP_V1_REPORT);
		CHECK(!memcmp(&d->group, &g, 16));
		if (i == 0)
			CHECK_EQ(d->time, t0);
		else
			CHECK(d->time > sim_pkt(s, i - 1)->time &&
			      d->time <= sim_pkt(s, i - 1)->time + v1_uri);
	}
	sim_take(s);
}

/* Errata 10: RFC 2710 §4 — the unsolicited report of an MLDv1 join is
 * repeated (RV transmissions in all) at random delays up to the v1 URI. */
TEST(errata_10_v1_join_report_repeated)
{
	struct mld_tunables t = deftun();
	struct sim *s = sim_new(NULL);

	/* v1 by a v1 querier. */
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	CHECK_EQ(linfo(s, IF1).version, 1);
	check_v1_join_repeats(s, "ff3e::1", 2, 10000);
	sim_free(s);

	/* v1 by configuration, RV 3, shorter URI. */
	t.force_version = 1;
	t.rv = 3;
	t.v1_uri_ms = 2000;
	s = sim_new(&t);
	check_v1_join_repeats(s, "ff3e::1", 3, 2000);
	check_v1_join_repeats(s, "ff05::1234", 3, 2000);
	sim_free(s);
}

/* ================================================================ 11 */

/* Errata 11: the MLDv2 Unsolicited Report Interval defaults to 1 s (seed 3 s):
 * every join's retransmission falls within 1 s of it. */
TEST(errata_11_uri_default_1s)
{
	struct mld_tunables t = deftun();
	struct sim *s = sim_new(NULL);
	uint64_t maxgap = 0;
	int k;

	CHECK_EQ(t.uri_ms, 1000);
	CHECK_EQ(linfo(s, IF1).tun.uri_ms, 1000);
	for (k = 0; k < 50; k++) {
		char buf[64];
		struct in6_addr g;
		uint64_t t0 = s->now;

		snprintf(buf, sizeof(buf), "ff3e::%x", k + 1);
		g = A(buf);
		CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
		sim_advance(s, 5000);
		REQ(sim_pending(s) == 2);
		CHECK_EQ(sim_pkt(s, 0)->time, t0);
		CHECK(sim_pkt(s, 1)->time > t0);
		CHECK(sim_pkt(s, 1)->time <= t0 + 1000);
		if (sim_pkt(s, 1)->time - t0 > maxgap)
			maxgap = sim_pkt(s, 1)->time - t0;
		sim_take(s);
	}
	/* Random over (0, 1 s], not a constant. */
	CHECK(maxgap > 500);
	/* Leaves too. */
	{
		struct in6_addr g = A("ff3e::1");
		uint64_t t0 = s->now;

		CHECK_EQ(leave(s, "ff3e::1"), MLD_OK);
		sim_advance(s, 5000);
		CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 2);
		CHECK(last_pkt_time(s) <= t0 + 1000);
	}
out:
	sim_free(s);
}

/* ================================================================ 12 */

/* Errata 12: MLDv1 Done goes to ff02::2 (RFC 2710 §4), not to the group. */
TEST(errata_12_done_to_all_routers)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct in6_addr g = A("ff3e::1"), routers = A("ff02::2");
	struct mld_group_info gi;
	size_t i, ndone = 0;

	t.force_version = 1;
	s = sim_new(&t);
	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	settle(s);
	CHECK_EQ(leave(s, "ff3e::1"), MLD_OK);
	sim_advance(s, 30000);
	REQ(sim_pending(s) >= 1);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		CHECK_EQ(d->icmp_type, MLD_ICMP_V1_DONE);
		CHECK(!memcmp(d->raw + 24, &routers, 16));
		CHECK(!memcmp(&d->group, &g, 16));
		ndone++;
	}
	CHECK(ndone >= 1);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_E_NOENT);
out:
	sim_free(s);
}

/* ================================================================ 13 */

/* Errata 13: destinations and record groups are plain on-wire addresses, no
 * interface index embedded (link 7 would put 0x0007 in bytes 2–3). */
TEST(errata_13_destinations)
{
	struct sim *s = sim_new(NULL);
	struct mld_tunables t = deftun();
	struct in6_addr ll7 = A("fe80::7"), mld2 = A("ff02::16"), routers = A("ff02::2");
	struct in6_addr gl = A("ff02::1:3"), gg = A("ff0e::1234");
	size_t i;

	CHECK_EQ(mld_link_add(s->e, 7, 1500, 0, s->now), MLD_OK);
	CHECK_EQ(mld_link_set_lladdr(s->e, 7, MLD_LL_VALID, &ll7, s->now), MLD_OK);

	/* v2: reports to ff02::16, records name the group as it is. */
	CHECK_EQ(join_if(s, 7, "ff02::1:3"), MLD_OK);
	CHECK_EQ(join_if(s, 7, "ff0e::1234"), MLD_OK);
	sim_advance(s, 5000);
	REQ(sim_pending(s) >= 2);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);
		uint16_t r;

		CHECK_EQ(d->ifindex, 7);
		CHECK_EQ(d->icmp_type, MLD_ICMP_V2_REPORT);
		CHECK(!memcmp(d->raw + 24, &mld2, 16));
		CHECK(!memcmp(d->raw + 8, &ll7, 16));
		for (r = 0; r < d->nrec; r++)
			CHECK(!memcmp(&d->recs[r].group, &gl, 16) ||
			      !memcmp(&d->recs[r].group, &gg, 16));
	}
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &gl, NULL), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &gg, NULL), 2);
	sim_take(s);

	/* v1: reports to the group itself, Done to ff02::2. */
	t.force_version = 1;
	CHECK_EQ(mld_link_set_tunables(s->e, 7, &t), MLD_OK);
	CHECK_EQ(rxq_if(s, 7, NULL, 1000, NULL, NULL), MLD_OK); /* answered as v1 */
	sim_advance(s, 1001);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V1_REPORT), 2);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		CHECK_EQ(d->ifindex, 7);
		CHECK(!memcmp(d->raw + 24, &d->group, 16));
		CHECK(!memcmp(d->raw + 8, &ll7, 16));
		CHECK(!memcmp(&d->group, &gl, 16) || !memcmp(&d->group, &gg, 16));
	}
	sim_take(s);
	{
		struct in6_addr g = A("ff02::1:3");

		CHECK_EQ(mld_leave(s->e, 7, L, &g, s->now), MLD_OK);
	}
	sim_advance(s, 1000);
	REQ(sim_pending(s) >= 1);
	CHECK_EQ(sim_pkt(s, 0)->icmp_type, MLD_ICMP_V1_DONE);
	CHECK(!memcmp(sim_pkt(s, 0)->raw + 24, &routers, 16));
	CHECK(!memcmp(&sim_pkt(s, 0)->group, &gl, 16));
out:
	sim_free(s);
}

/* ================================================================ 14 */

/* Errata 14: join/leave records (RFC 3810 §6.1): ASM join TO_EX{}, ASM leave
 * TO_IN{}, SSM join ALLOW(S), SSM leave BLOCK(S); RV transmissions each. */
TEST(errata_14_join_leave_records)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr ga = A("ff3e::1"), gs = A("ff3e::8000:1"), s1 = A("2001:db8::1");
	struct mld_group_info gi;
	const struct drec *r = NULL;

	/* ASM. */
	CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &ga, NULL), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &ga, &r), 2);
	CHECK(rec_srcs_are(r, ""));
	sim_take(s);
	CHECK_EQ(leave(s, "ff3e::1"), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &ga, NULL), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &ga, &r), 2);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(mld_group_info(s->e, IF1, &ga, &gi), MLD_E_NOENT);
	sim_take(s);

	/* SSM, one source. */
	CHECK_EQ(mld_join_source(s->e, IF1, L, &gs, &s1, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &gs, NULL), 2);
	CHECK_EQ(count_records(s, MLD_ALLOW_NEW_SOURCES, &gs, &r), 2);
	CHECK(rec_srcs_are(r, "2001:db8::1"));
	sim_take(s);
	CHECK_EQ(mld_leave_source(s->e, IF1, L, &gs, &s1, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &gs, NULL), 2);
	CHECK_EQ(count_records(s, MLD_BLOCK_OLD_SOURCES, &gs, &r), 2);
	CHECK(rec_srcs_are(r, "2001:db8::1"));
	CHECK_EQ(mld_group_info(s->e, IF1, &gs, &gi), MLD_E_NOENT);
	sim_take(s);

	/* SSM through set_filter, two sources; leave by mld_leave. */
	CHECK_EQ(setf(s, IF1, L, "ff3e::8000:1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"),
	         MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &gs, NULL), 2);
	CHECK_EQ(count_records(s, MLD_ALLOW_NEW_SOURCES, &gs, &r), 2);
	CHECK(rec_srcs_are(r, "2001:db8::1 2001:db8::2"));
	sim_take(s);
	CHECK_EQ(mld_leave(s->e, IF1, L, &gs, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, 0, &gs, NULL), 2);
	CHECK_EQ(count_records(s, MLD_BLOCK_OLD_SOURCES, &gs, &r), 2);
	CHECK(rec_srcs_are(r, "2001:db8::1 2001:db8::2"));
	CHECK_EQ(mld_group_info(s->e, IF1, &gs, &gi), MLD_E_NOENT);
	sim_free(s);
}

/* ================================================================ 15 */

/* Errata 15: group-and-source queries per RFC 3810 §6.3: INCLUDE(A) →
 * IS_IN(A∩Q), EXCLUDE(A) → IS_IN(Q−A), nothing when empty; an ASM listener
 * (EXCLUDE{}) answers IS_IN(Q). The seed answered only groups with sources,
 * and EXCLUDE with IS_EX. */
TEST(errata_15_gs_query_answers)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	static const struct {
		const char *group;
		enum mld_fmode mode;
		const char *filter;
		const char *query;
		const char *answer; /* NULL = no answer */
	} tab[] = {
	    {"ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2", "2001:db8::2 2001:db8::3",
	     "2001:db8::2"},
	    {"ff3e::2", MLD_FMODE_EXCLUDE, "2001:db8::1", "2001:db8::1 2001:db8::3", "2001:db8::3"},
	    {"ff3e::3", MLD_FMODE_EXCLUDE, "", "2001:db8::1 2001:db8::3",
	     "2001:db8::1 2001:db8::3"},
	    {"ff3e::4", MLD_FMODE_INCLUDE, "2001:db8::1", "2001:db8::3", NULL},
	    {"ff3e::5", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::3", "2001:db8::1 2001:db8::3",
	     NULL},
	    {"ff3e::6", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2 2001:db8::4",
	     "2001:db8::1 2001:db8::2 2001:db8::3 2001:db8::5", "2001:db8::3 2001:db8::5"},
	};
	size_t i;

	t.gsr_delay_ms = 0;
	s = sim_new(&t);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		CHECK_EQ(setf(s, IF1, L, tab[i].group, tab[i].mode, tab[i].filter), MLD_OK);
	settle(s);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct in6_addr g = A(tab[i].group);
		const struct drec *r = NULL;
		uint64_t t0 = s->now;
		struct mld_group_info gi;
		int rc;

		CHECK_EQ(rxq(s, tab[i].group, 1000, tab[i].query, NULL), MLD_OK);
		sim_run_until(s, t0 + 1000);
		if (tab[i].answer) {
			CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
			CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, &r), 1);
			if (!rec_srcs_are(r, tab[i].answer))
				t_fail(__FILE__, __LINE__, "%s: answer is not IS_IN{%s}",
				       tab[i].group, tab[i].answer);
		} else {
			if (count_records(s, 0, NULL, NULL) != 0)
				t_fail(__FILE__, __LINE__, "%s: answered an empty set",
				       tab[i].group);
		}
		gi = ginfo(s, IF1, tab[i].group, &rc);
		CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
		CHECK_EQ(gi.nrecorded, 0);
		sim_take(s);
		sim_advance(s, 10);
	}
	sim_free(s);
}

/* ================================================================ 16 */

static struct sim *big_sim(void)
{
	struct mld_tunables t = deftun();

	t.max_srcs_per_group = 1000;
	t.max_srcs_per_listener = 1000;
	t.gsr_delay_ms = 0;
	return sim_new(&t);
}

/* Checks that the pending packets hold, for group g and type, exactly
 * 'nrec' records, each within SRC(first..first+n), none empty, each in its
 * own packet, and (if union_all) together covering all n sources. */
static void check_split(struct sim *s, const struct in6_addr *g, uint8_t type, unsigned first,
                        unsigned n, size_t nrec, int union_all)
{
	static uint8_t seen[2048];
	size_t i, recs = 0, total = 0, distinct = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);
		uint16_t r;

		CHECK(pkt_recs(d, type, g, NULL) <= 1);
		for (r = 0; r < d->nrec; r++) {
			const struct drec *rec = &d->recs[r];
			uint16_t k;

			if (rec->type != type || memcmp(&rec->group, g, 16))
				continue;
			recs++;
			CHECK(rec->nsrc > 0);
			CHECK(rec->nsrc <= FIT(1500));
			CHECK(rec_srcs_within(rec, first, n));
			total += rec->nsrc;
			for (k = 0; k < rec->nsrc; k++) {
				int x = src_index(&rec->srcs[k]);

				if (x >= 0 && x < 2048 && !seen[x]++)
					distinct++;
			}
		}
	}
	CHECK_EQ(recs, nrec);
	if (union_all) {
		CHECK_EQ(total, n);
		CHECK_EQ(distinct, n);
	}
}

/* Errata 16: IS_EX/TO_EX too large for a packet become one truncated record
 * (RFC 3810 §5.2.15); IS_IN/ALLOW/BLOCK/TO_IN continue in further packets;
 * no continuation record is ever empty (also when the list fills packets
 * exactly). */
TEST(errata_16_oversize_records)
{
	struct sim *s;
	struct in6_addr g = A("ff3e::1");
	const struct drec *r = NULL;
	const unsigned F = FIT(1500); /* 89 */
	uint64_t t0;

	CHECK_EQ(F, 89);
	/* EXCLUDE with 150 sources: TO_EX, IS_EX (GQ and group query) are one
	 * record of 89 sources, one packet each. */
	s = big_sim();
	CHECK_EQ(setf_n(s, IF1, "ff3e::1", MLD_FMODE_EXCLUDE, 0, 150), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(sim_pending(s), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 2);
	check_split(s, &g, MLD_CHANGE_TO_EXCLUDE, 0, 150, 2, 0);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, &r), 2);
	CHECK_EQ(r->nsrc, F);
	sim_take(s);
	t0 = s->now;
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, 0, &g, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, &r), 1);
	CHECK_EQ(r->nsrc, F);
	CHECK(rec_srcs_within(r, 0, 150));
	sim_take(s);
	t0 = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, &r), 1);
	CHECK_EQ(r->nsrc, F);
	sim_take(s);
	/* EXCLUDE(150) → INCLUDE(178): TO_IN continues: 89 + 89, no empty
	 * third record, per transmission. */
	CHECK_EQ(setf_n(s, IF1, "ff3e::1", MLD_FMODE_INCLUDE, 200, 2 * F), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 2);
	check_split(s, &g, MLD_CHANGE_TO_INCLUDE, 200, 2 * F, 2, 1);
	sim_take(s);
	sim_advance(s, 5000);
	check_split(s, &g, MLD_CHANGE_TO_INCLUDE, 200, 2 * F, 2, 1);
	sim_take(s);
	sim_free(s);

	/* INCLUDE with 150: ALLOW 89 + 61 per transmission; GQ IS_IN the same. */
	s = big_sim();
	CHECK_EQ(setf_n(s, IF1, "ff3e::1", MLD_FMODE_INCLUDE, 0, 150), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 2);
	check_split(s, &g, MLD_ALLOW_NEW_SOURCES, 0, 150, 2, 1);
	sim_take(s);
	sim_advance(s, 5000);
	check_split(s, &g, MLD_ALLOW_NEW_SOURCES, 0, 150, 2, 1);
	sim_take(s);
	t0 = s->now;
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	check_split(s, &g, MLD_MODE_IS_INCLUDE, 0, 150, 2, 1);
	sim_take(s);
	/* Group query on INCLUDE: IS_IN(A), split too. */
	t0 = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	check_split(s, &g, MLD_MODE_IS_INCLUDE, 0, 150, 2, 1);
	sim_take(s);
	/* Group-and-source query asking all 150: IS_IN split. */
	{
		char *list = malloc(150 * 48);
		size_t off = 0;
		unsigned k;

		list[0] = 0;
		for (k = 0; k < 150; k++) {
			struct in6_addr a = SRC(k);

			off += (size_t)snprintf(list + off, 150 * 48 - off, "%s%s", k ? " " : "",
			                        S(&a));
		}
		t0 = s->now;
		CHECK_EQ(rxq(s, "ff3e::1", 1000, list, NULL), MLD_OK);
		sim_run_until(s, t0 + 1000);
		check_split(s, &g, MLD_MODE_IS_INCLUDE, 0, 150, 2, 1);
		sim_take(s);
		free(list);
	}
	/* BLOCK: INCLUDE(150) → INCLUDE(1): 149 blocked, 89 + 60. */
	CHECK_EQ(setf_n(s, IF1, "ff3e::1", MLD_FMODE_INCLUDE, 0, 1), MLD_OK);
	sim_run_until(s, s->now);
	check_split(s, &g, MLD_BLOCK_OLD_SOURCES, 1, 149, 2, 1);
	CHECK_EQ(count_records(s, MLD_ALLOW_NEW_SOURCES, &g, NULL), 0);
	sim_take(s);
	sim_free(s);

	/* Exactly one packet's worth, and exactly two: no empty continuation. */
	s = big_sim();
	CHECK_EQ(setf_n(s, IF1, "ff3e::1", MLD_FMODE_INCLUDE, 0, F), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 1);
	check_split(s, &g, MLD_ALLOW_NEW_SOURCES, 0, F, 1, 1);
	CHECK_EQ(sim_pkt(s, 0)->len, 1500 - (1500 - 56 - 20) % 16);
	sim_take(s);
	sim_advance(s, 5000);
	sim_take(s);
	CHECK_EQ(setf_n(s, IF1, "ff3e::2", MLD_FMODE_INCLUDE, 0, 2 * F), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 2);
	{
		struct in6_addr g2 = A("ff3e::2");

		check_split(s, &g2, MLD_ALLOW_NEW_SOURCES, 0, 2 * F, 2, 1);
	}
	sim_free(s);
}

/* ================================================================ 17 */

static void check_mtu(struct sim *s, uint32_t ifx, size_t mtu)
{
	size_t i;

	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		if (d->ifindex == ifx && d->len > mtu)
			t_fail(__FILE__, __LINE__, "packet %zu of %zu bytes on a %zu-byte link", i,
			       d->len, mtu);
	}
}

/* Errata 17: packets leave room for the 56 bytes of headers: no packet
 * exceeds the MTU, on a 1280-byte link and after an MTU change. */
TEST(errata_17_no_packet_over_mtu)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct in6_addr ll2 = A("fe80::2");
	const unsigned F = FIT(1280); /* 75 */
	uint64_t t0;
	int k;

	CHECK_EQ(F, 75);
	t.max_srcs_per_group = 1000;
	t.max_srcs_per_listener = 1000;
	s = sim_new(&t);
	CHECK_EQ(mld_link_add(s->e, IF2, 1279, 0, s->now), MLD_E_MTU);
	CHECK_EQ(mld_link_add(s->e, IF2, 1280, 0, s->now), MLD_OK);
	CHECK_EQ(mld_link_set_lladdr(s->e, IF2, MLD_LL_VALID, &ll2, s->now), MLD_OK);

	/* A TO_EX that the seed would have sized for 1280 − 8 bytes. */
	CHECK_EQ(setf_n(s, IF2, "ff3e::1", MLD_FMODE_EXCLUDE, 0, 78), MLD_OK);
	sim_run_until(s, s->now);
	REQ(sim_pending(s) == 1);
	CHECK_EQ(sim_pkt(s, 0)->ifindex, IF2);
	CHECK_EQ(sim_pkt(s, 0)->recs[0].nsrc, F);
	CHECK_EQ(sim_pkt(s, 0)->len, 56 + 20 + 16 * F);
	check_mtu(s, IF2, 1280);
	sim_advance(s, 5000);
	check_mtu(s, IF2, 1280);
	sim_take(s);
	/* ALLOW with 78: 75 + 3. */
	CHECK_EQ(setf_n(s, IF2, "ff3e::2", MLD_FMODE_INCLUDE, 0, 78), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 2);
	check_mtu(s, IF2, 1280);
	sim_advance(s, 5000);
	check_mtu(s, IF2, 1280);
	sim_take(s);
	/* 200 ASM joins at once: 61 records of 20 bytes a packet. */
	for (k = 0; k < 200; k++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "ff3e::1:%x", k);
		CHECK_EQ(join_if(s, IF2, buf), MLD_OK);
	}
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, NULL, NULL), 200);
	CHECK_EQ(sim_pending(s), 4);
	check_mtu(s, IF2, 1280);
	sim_advance(s, 5000);
	check_mtu(s, IF2, 1280);
	sim_take(s);
	/* Mixed GQ response. */
	for (k = 0; k < 40; k++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "ff3e::2:%x", k);
		CHECK_EQ(setf_n(s, IF2, buf, k % 2 ? MLD_FMODE_INCLUDE : MLD_FMODE_EXCLUDE,
		                (unsigned)k, (unsigned)(1 + k * 3)),
		         MLD_OK);
	}
	settle(s);
	t0 = s->now;
	CHECK_EQ(rxq_if(s, IF2, NULL, 2000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 2000);
	CHECK(sim_pending(s) > 4);
	CHECK_EQ(count_records(s, 0, NULL, NULL) >= 242, 1);
	check_mtu(s, IF2, 1280);
	sim_take(s);

	/* IF1 down to 1280: its reports follow. */
	CHECK_EQ(mld_link_set_mtu(s->e, IF1, 1279), MLD_E_MTU);
	CHECK_EQ(mld_link_set_mtu(s->e, IF1, 1280), MLD_OK);
	CHECK_EQ(setf_n(s, IF1, "ff3e::9", MLD_FMODE_EXCLUDE, 0, 100), MLD_OK);
	CHECK_EQ(setf_n(s, IF1, "ff3e::a", MLD_FMODE_INCLUDE, 0, 100), MLD_OK);
	for (k = 0; k < 100; k++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "ff3e::3:%x", k);
		CHECK_EQ(join(s, buf), MLD_OK);
	}
	sim_advance(s, 5000);
	check_mtu(s, IF1, 1280);
	sim_take(s);
	t0 = s->now;
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 102 + 1); /* ff3e::a's IS_IN is split */
	check_mtu(s, IF1, 1280);
	sim_take(s);
	/* Jumbo link (IF2): bigger packets, still bounded; nothing split. */
	CHECK_EQ(mld_link_set_mtu(s->e, IF2, 9000), MLD_OK);
	t0 = s->now;
	CHECK_EQ(rxq_if(s, IF2, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 242);
	{
		size_t i, big = 0;

		for (i = 0; i < sim_pending(s); i++) {
			CHECK(sim_pkt(s, i)->len <= 9000);
			if (sim_pkt(s, i)->len > 1500)
				big++;
		}
		CHECK(big > 0);
	}
out:
	sim_free(s);
}

/* ================================================================ 18 */

#define E18_G 6
#define E18_L 3
#define E18_S 10

struct e18_filter {
	int mode; /* 0 none, MLD_FMODE_INCLUDE, MLD_FMODE_EXCLUDE */
	unsigned set;
};

static uint64_t e18_rng;

static uint32_t e18_rand(void)
{
	e18_rng ^= e18_rng << 13;
	e18_rng ^= e18_rng >> 7;
	e18_rng ^= e18_rng << 17;
	return (uint32_t)(e18_rng >> 16);
}

static struct in6_addr e18_group(int gi)
{
	struct in6_addr g = A("ff3e::100");

	g.s6_addr[15] = (uint8_t)gi;
	return g;
}

/* RFC 3810 §4.2 merge of a group's listener filters. */
static void e18_merge(const struct e18_filter *f, int *mode, unsigned *set)
{
	unsigned ex = ~0u, in = 0;
	int any_ex = 0, l;

	for (l = 0; l < E18_L; l++) {
		if (f[l].mode == MLD_FMODE_EXCLUDE) {
			any_ex = 1;
			ex &= f[l].set;
		} else if (f[l].mode == MLD_FMODE_INCLUDE) {
			in |= f[l].set;
		}
	}
	*mode = any_ex ? MLD_FMODE_EXCLUDE : MLD_FMODE_INCLUDE;
	*set = any_ex ? ex & ~in : in;
}

static unsigned e18_mask(const struct in6_addr *a, size_t n)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int k = src_index(&a[i]);

		if (k < 0 || k >= E18_S)
			t_fail(__FILE__, __LINE__, "unexpected source %s", S(&a[i]));
		else
			m |= 1u << k;
	}
	return m;
}

/* A router's view of this one host, fed the state-change records in order. */
static void e18_apply(struct e18_filter *rt, struct sim *s, size_t *seen)
{
	for (; *seen < s->npkts; (*seen)++) {
		struct dpkt *d = s->pkts[*seen];
		uint16_t r;

		for (r = 0; r < d->nrec; r++) {
			const struct drec *rec = &d->recs[r];
			int gi = rec->group.s6_addr[15];
			unsigned m = e18_mask(rec->srcs, rec->nsrc);

			if (gi >= E18_G)
				continue;
			switch (rec->type) {
			case MLD_CHANGE_TO_INCLUDE:
				rt[gi].mode = MLD_FMODE_INCLUDE;
				rt[gi].set = m;
				break;
			case MLD_CHANGE_TO_EXCLUDE:
				rt[gi].mode = MLD_FMODE_EXCLUDE;
				rt[gi].set = m;
				break;
			case MLD_ALLOW_NEW_SOURCES:
				if (rt[gi].mode == MLD_FMODE_INCLUDE)
					rt[gi].set |= m;
				else
					rt[gi].set &= ~m;
				break;
			case MLD_BLOCK_OLD_SOURCES:
				if (rt[gi].mode == MLD_FMODE_INCLUDE)
					rt[gi].set &= ~m;
				else
					rt[gi].set |= m;
				break;
			default:
				break; /* current-state records: not state changes */
			}
		}
	}
}

/* Errata 18: rapid changes while retransmissions are pending (and query
 * answers interleaved) merge correctly: after every change, the reports
 * sent so far tell a router exactly the host's current filter; the engine's
 * merged filter matches the §4.2 model; nothing leaks (ASan/LSan). */
static void e18_run(uint64_t seed, int steps)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct e18_filter model[E18_G][E18_L], rt[E18_G];
	size_t seen = 0;
	int step, gi, l;
	static const char *names[E18_L] = {"l0", "l1", "l2"};

	t.gsr_delay_ms = 0;
	s = sim_new(&t);
	e18_rng = seed;
	memset(model, 0, sizeof(model));
	for (gi = 0; gi < E18_G; gi++) {
		rt[gi].mode = MLD_FMODE_INCLUDE;
		rt[gi].set = 0;
	}
	for (step = 0; step < steps; step++) {
		uint32_t r = e18_rand();
		int op = (int)(r % 12);
		struct in6_addr g;

		gi = (int)((r >> 4) % E18_G);
		l = (int)((r >> 8) % E18_L);
		g = e18_group(gi);
		if (op <= 6) {
			int mode = (r >> 12) & 1 ? MLD_FMODE_EXCLUDE : MLD_FMODE_INCLUDE;
			unsigned set = e18_rand() & e18_rand() & ((1u << E18_S) - 1);
			struct in6_addr a[E18_S];
			size_t n = 0;
			int k, rc, want;

			for (k = 0; k < E18_S; k++)
				if (set & (1u << k))
					a[n++] = SRC((unsigned)k);
			want = mode == MLD_FMODE_INCLUDE && !set && !model[gi][l].mode ? MLD_E_NOENT
			                                                               : MLD_OK;
			rc = mld_set_filter(s->e, IF1, names[l], &g, mode, a, n, s->now);
			CHECK_EQ(rc, want);
			if (rc == MLD_OK) {
				model[gi][l].mode = mode == MLD_FMODE_INCLUDE && !set ? 0 : mode;
				model[gi][l].set = set;
			}
		} else if (op == 7) {
			int rc = mld_leave(s->e, IF1, names[l], &g, s->now);

			CHECK_EQ(rc, model[gi][l].mode ? MLD_OK : MLD_E_NOENT);
			model[gi][l].mode = 0;
			model[gi][l].set = 0;
		} else if (op == 8) {
			int rc = mld_join(s->e, IF1, names[l], &g, s->now);
			int want = !model[gi][l].mode                       ? MLD_OK
			           : model[gi][l].mode == MLD_FMODE_EXCLUDE ? MLD_E_EXIST
			                                                    : MLD_E_MODE;

			CHECK_EQ(rc, want);
			if (rc == MLD_OK) {
				model[gi][l].mode = MLD_FMODE_EXCLUDE;
				model[gi][l].set = 0;
			}
		} else if (op == 9) {
			char grp[64], srcs[256];
			struct in6_addr a = SRC(r % E18_S), b = SRC((r >> 16) % E18_S);

			snprintf(grp, sizeof(grp), "%s", S(&g));
			snprintf(srcs, sizeof(srcs), "%s %s", S(&a), S(&b));
			if (!memcmp(&a, &b, 16))
				snprintf(srcs, sizeof(srcs), "%s", S(&a));
			CHECK_EQ(rxq(s, grp, 300, srcs, NULL), MLD_OK);
		} else if (op == 10) {
			char grp[64];

			snprintf(grp, sizeof(grp), "%s", S(&g));
			CHECK_EQ(rxq(s, grp, 300, NULL, NULL), MLD_OK);
		} else {
			CHECK_EQ(rxq(s, NULL, 500, NULL, NULL), MLD_OK);
		}
		/* The change's report goes out now; then check everything. */
		sim_run_until(s, s->now);
		e18_apply(rt, s, &seen);
		for (gi = 0; gi < E18_G; gi++) {
			struct mld_group_info info;
			int mode, rc;
			unsigned set, eset;

			e18_merge(model[gi], &mode, &set);
			g = e18_group(gi);
			rc = mld_group_info(s->e, IF1, &g, &info);
			if (rc == MLD_E_NOENT) {
				info.mode = MLD_FMODE_INCLUDE;
				info.nsrc = 0;
				info.srcs = NULL;
			}
			eset = e18_mask(info.srcs, info.nsrc);
			if ((int)info.mode != mode || eset != set) {
				t_fail(__FILE__, __LINE__,
				       "step %d group %d: engine %d/%03x, model %d/%03x", step, gi,
				       info.mode, eset, mode, set);
				goto out;
			}
			if (rt[gi].mode != mode || rt[gi].set != set) {
				t_fail(__FILE__, __LINE__,
				       "step %d group %d: reports say %d/%03x, filter is %d/%03x",
				       step, gi, rt[gi].mode, rt[gi].set, mode, set);
				goto out;
			}
		}
		switch (e18_rand() % 4) {
		case 0:
			break; /* next change in the same instant */
		case 1:
			sim_advance(s, 1 + e18_rand() % 50);
			break;
		default:
			sim_advance(s, e18_rand() % 1200);
			break;
		}
		e18_apply(rt, s, &seen);
	}
	/* Everything drains. */
	sim_advance(s, 60000);
	e18_apply(rt, s, &seen);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
	for (gi = 0; gi < E18_G; gi++) {
		int mode;
		unsigned set;

		e18_merge(model[gi], &mode, &set);
		CHECK_EQ(rt[gi].mode, mode);
		CHECK_EQ(rt[gi].set, set);
	}
	/* Leave everything: all groups go away. */
	for (gi = 0; gi < E18_G; gi++)
		for (l = 0; l < E18_L; l++)
			if (model[gi][l].mode) {
				struct in6_addr g = e18_group(gi);

				CHECK_EQ(mld_leave(s->e, IF1, names[l], &g, s->now), MLD_OK);
			}
	sim_advance(s, 60000);
	CHECK_EQ(linfo(s, IF1).groups, 0);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
out:
	sim_free(s);
}

TEST(errata_18_rapid_changes_merge_safely)
{
	e18_run(0x1234567887654321ull, 500);
	e18_run(0x0badc0ffee123457ull, 500);
	e18_run(0x5eed5eed5eed5eedull, 500);
}

/* ================================================================ 19 */

static struct in6_addr e19_group(int k)
{
	struct in6_addr g = A("ff3e::");

	g.s6_addr[12] = 0x19;
	g.s6_addr[14] = (uint8_t)(k >> 8);
	g.s6_addr[15] = (uint8_t)k;
	return g;
}

/* Runs one GQ with mrc over N groups and checks every group is reported
 * exactly once, within the MRD; returns the packet count. */
static size_t e19_round(struct sim *s, int N, uint16_t mrc, uint8_t *seen, int paced)
{
	uint64_t t0 = s->now, first = UINT64_MAX, last = 0;
	uint32_t mrd = mld_mrc_to_ms(mrc);
	size_t i, npk;
	int k, bad = 0;

	memset(seen, 0, (size_t)N);
	CHECK_EQ(rxq(s, NULL, mrc, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + mrd);
	npk = sim_pending(s);
	for (i = 0; i < npk; i++) {
		struct dpkt *d = sim_pkt(s, i);
		uint16_t r;

		if (d->time < first)
			first = d->time;
		if (d->time > last)
			last = d->time;
		for (r = 0; r < d->nrec; r++) {
			int x = d->recs[r].group.s6_addr[14] << 8 | d->recs[r].group.s6_addr[15];

			CHECK(d->recs[r].type == MLD_MODE_IS_EXCLUDE ||
			      d->recs[r].type == MLD_MODE_IS_INCLUDE);
			if (x < N)
				seen[x]++;
		}
	}
	for (k = 0; k < N; k++)
		if (seen[k] != 1 && bad++ < 5)
			t_fail(__FILE__, __LINE__, "mrc %#x: group %d reported %u times", mrc, k,
			       seen[k]);
	CHECK(first >= t0);
	CHECK(last <= t0 + mrd);
	if (paced)
		CHECK(last > first);
	/* Nothing more after the window. */
	sim_take(s);
	sim_advance(s, 1000);
	CHECK_EQ(sim_pending(s), 0);
	sim_take(s);
	return npk;
}

/* Errata 19: a general-query response for thousands of groups is complete
 * (each group exactly once, nothing capped at 16 packets), inside the MRD,
 * paced; and a group that leaves mid-response is not reported after. */
TEST(errata_19_gq_response_complete)
{
	enum { N = 2500 };
	static uint8_t seen[N];
	struct sim *s = sim_new(NULL);
	int k;
	size_t npk;

	for (k = 0; k < N; k++) {
		struct in6_addr g = e19_group(k);

		if (k % 4 == 0) {
			struct in6_addr src[5];
			unsigned j;

			for (j = 0; j < 5; j++)
				src[j] = SRC(j);
			CHECK_EQ(mld_set_filter(s->e, IF1, L, &g,
			                        k % 8 ? MLD_FMODE_INCLUDE : MLD_FMODE_EXCLUDE, src,
			                        1 + (size_t)(k % 5), s->now),
			         MLD_OK);
		} else {
			CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
		}
	}
	settle(s);
	npk = e19_round(s, N, 2000, seen, 1);
	CHECK(npk > 16);
	sim_advance(s, 5000);
	npk = e19_round(s, N, 0x8000, seen, 1);
	CHECK(npk > 16);
	sim_advance(s, 5000);
	/* MRD 0: everything at once, still complete. */
	npk = e19_round(s, N, 0, seen, 0);
	CHECK(npk > 16);

	/* Leaves in the middle of a paced response. */
	{
		uint64_t t0, tl;
		size_t i;
		int bad = 0;

		sim_advance(s, 5000);
		t0 = s->now;
		CHECK_EQ(rxq(s, NULL, 5000, NULL, NULL), MLD_OK);
		while (sim_pending(s) == 0 && s->now < t0 + 5000)
			sim_advance(s, 1);
		REQ(linfo(s, IF1).gq_active);
		tl = s->now;
		for (k = 1; k < N; k += 2) {
			struct in6_addr g = e19_group(k);

			CHECK_EQ(mld_leave(s->e, IF1, L, &g, s->now), MLD_OK);
		}
		sim_run_until(s, t0 + 5000);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < sim_pending(s); i++) {
			struct dpkt *d = sim_pkt(s, i);
			uint16_t r;

			for (r = 0; r < d->nrec; r++) {
				int x = d->recs[r].group.s6_addr[14] << 8 |
				        d->recs[r].group.s6_addr[15];
				int cs = d->recs[r].type == MLD_MODE_IS_EXCLUDE ||
				         d->recs[r].type == MLD_MODE_IS_INCLUDE;

				if (!cs || x >= N)
					continue;
				seen[x]++;
				if ((x & 1) && d->time > tl && bad++ < 5)
					t_fail(__FILE__, __LINE__,
					       "group %d reported current state after its leave",
					       x);
			}
		}
		for (k = 0; k < N; k += 2)
			if (seen[k] != 1 && bad++ < 5)
				t_fail(__FILE__, __LINE__, "group %d reported %u times", k,
				       seen[k]);
	}
out:
	sim_free(s);
}

/* ================================================================ 20 */

/* Errata 20: §4.2 merge with listeners in both modes: EXCLUDE list is
 * ∩(EXCLUDE lists) − ∪(INCLUDE lists). */
TEST(errata_20_merge_mixed_modes)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::20");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t0;
	int rc;

	CHECK_EQ(
	    setf(s, IF1, "a", "ff3e::20", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	    MLD_OK);
	CHECK_EQ(
	    setf(s, IF1, "b", "ff3e::20", MLD_FMODE_EXCLUDE, "2001:db8::2 2001:db8::3 2001:db8::4"),
	    MLD_OK);
	CHECK_EQ(setf(s, IF1, "c", "ff3e::20", MLD_FMODE_INCLUDE, "2001:db8::3 2001:db8::5"),
	         MLD_OK);
	gi = ginfo(s, IF1, "ff3e::20", &rc);
	CHECK_EQ(rc, MLD_OK);
	CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
	CHECK(set_is(gi.srcs, gi.nsrc, "2001:db8::2"));
	CHECK_EQ(gi.nlisteners, 3);
	settle(s);
	t0 = s->now;
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::2"));
	sim_take(s);

	/* An ASM listener (EXCLUDE{}) empties the intersection ... */
	CHECK_EQ(setf(s, IF1, "d", "ff3e::20", MLD_FMODE_EXCLUDE, ""), MLD_OK);
	gi = ginfo(s, IF1, "ff3e::20", &rc);
	CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
	CHECK_EQ(gi.nsrc, 0);
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_ALLOW_NEW_SOURCES, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::2"));
	settle(s);
	/* ... and leaving restores it. */
	CHECK_EQ(setf(s, IF1, "d", "ff3e::20", MLD_FMODE_INCLUDE, ""), MLD_OK);
	gi = ginfo(s, IF1, "ff3e::20", &rc);
	CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
	CHECK(set_is(gi.srcs, gi.nsrc, "2001:db8::2"));
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_BLOCK_OLD_SOURCES, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::2"));
	settle(s);
	/* The INCLUDE listener adds 2001:db8::2: subtracted as well. */
	CHECK_EQ(
	    setf(s, IF1, "c", "ff3e::20", MLD_FMODE_INCLUDE, "2001:db8::2 2001:db8::3 2001:db8::5"),
	    MLD_OK);
	gi = ginfo(s, IF1, "ff3e::20", &rc);
	CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
	CHECK_EQ(gi.nsrc, 0);
	/* The excluding listeners leave: INCLUDE with c's list. */
	CHECK_EQ(setf(s, IF1, "a", "ff3e::20", MLD_FMODE_INCLUDE, ""), MLD_OK);
	CHECK_EQ(setf(s, IF1, "b", "ff3e::20", MLD_FMODE_INCLUDE, ""), MLD_OK);
	gi = ginfo(s, IF1, "ff3e::20", &rc);
	CHECK_EQ(gi.mode, MLD_FMODE_INCLUDE);
	CHECK(set_is(gi.srcs, gi.nsrc, "2001:db8::2 2001:db8::3 2001:db8::5"));
	sim_free(s);
}

/* ================================================================ 21 */

/* Errata 21: no use of a group after its release: leave and re-join in the
 * same instant, re-join while LEAVING, leave while LEAVING is switched to
 * v1 (the seed released the group then fell through to use it). */
TEST(errata_21_leave_rejoin_same_instant)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::21");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	int rc, i;

	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	settle(s);
	/* Leave and join again before any timer runs. */
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	sim_advance(s, 5000);
	/* Whatever was sent, the last word is EXCLUDE{}. */
	REQ(sim_pending(s) >= 1);
	{
		struct dpkt *d = sim_pkt(s, sim_pending(s) - 1);

		CHECK_EQ(pkt_recs(d, MLD_CHANGE_TO_EXCLUDE, &g, &r), 1);
		CHECK(rec_srcs_are(r, ""));
	}
	gi = ginfo(s, IF1, "ff3e::21", &rc);
	CHECK_EQ(rc, MLD_OK);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
	sim_take(s);

	/* Many flips in one instant, ending joined. */
	for (i = 0; i < 50; i++) {
		CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
		CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	}
	sim_advance(s, 5000);
	gi = ginfo(s, IF1, "ff3e::21", &rc);
	CHECK_EQ(rc, MLD_OK);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	if (sim_pending(s)) {
		struct dpkt *d = sim_pkt(s, sim_pending(s) - 1);

		CHECK_EQ(pkt_recs(d, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 1);
	}
	sim_take(s);
	/* Many flips in one instant, ending left: the group goes away. */
	for (i = 0; i < 50; i++) {
		CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
		CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	}
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	sim_advance(s, 5000);
	REQ(sim_pending(s) >= 1);
	CHECK_EQ(pkt_recs(sim_pkt(s, sim_pending(s) - 1), MLD_CHANGE_TO_INCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_E_NOENT);
out:
	sim_free(s);
}

TEST(errata_21_rejoin_while_leaving)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::21");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t;
	int rc;

	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	settle(s);
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 1);
	gi = ginfo(s, IF1, "ff3e::21", &rc);
	REQ(rc == MLD_OK);
	CHECK_EQ(gi.state, MLD_LEAVING_MEMBER);
	REQ(gi.sc_due > s->now);
	sim_take(s);
	/* Re-join while the TO_IN{} retransmission is pending. */
	t = s->now;
	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	gi = ginfo(s, IF1, "ff3e::21", &rc);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	sim_run_until(s, t);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	sim_advance(s, 30000);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 0);
	gi = ginfo(s, IF1, "ff3e::21", &rc);
	CHECK_EQ(rc, MLD_OK);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	sim_take(s);
	/* Still a working member: a query is answered. */
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::21", 1000, NULL, NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
	sim_take(s);

	/* Leave again while LEAVING by another listener's change. */
	CHECK_EQ(setf(s, IF1, "b", "ff3e::21", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(setf(s, IF1, "b", "ff3e::21", MLD_FMODE_INCLUDE, ""), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(setf(s, IF1, "b", "ff3e::21", MLD_FMODE_INCLUDE, "2001:db8::2"), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(setf(s, IF1, "b", "ff3e::21", MLD_FMODE_INCLUDE, ""), MLD_OK);
	sim_advance(s, 30000);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_E_NOENT);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
out:
	sim_free(s);
}

TEST(errata_21_leaving_group_on_switch_to_v1)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::21"), g2 = A("ff3e::22");
	struct mld_group_info gi;
	size_t i;

	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::22"), MLD_OK);
	settle(s);
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 1);
	sim_take(s);
	/* An MLDv1 querier appears while ff3e::21 is LEAVING. */
	CHECK_EQ(rxv1(s, NULL, 1000, NULL), MLD_OK);
	CHECK_EQ(linfo(s, IF1).version, 1);
	sim_advance(s, 30000);
	/* The left group is not reported as v1; the held one is. */
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		CHECK(d->icmp_type != MLD_ICMP_V2_REPORT);
		if (d->icmp_type == MLD_ICMP_V1_REPORT)
			CHECK(!memcmp(&d->group, &g2, 16));
	}
	CHECK_EQ(count_pkts(s, MLD_ICMP_V1_REPORT), 1);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_E_NOENT);
	sim_take(s);
	/* The group can be joined again, in v1. */
	CHECK_EQ(join(s, "ff3e::21"), MLD_OK);
	sim_advance(s, 30000);
	CHECK_EQ(count_pkts(s, MLD_ICMP_V1_REPORT), 2);
	CHECK(!memcmp(&sim_pkt(s, 0)->group, &g, 16));
	sim_take(s);
	/* Link flaps while LEAVING too. */
	sim_run_until(s, linfo(s, IF1).v1_present_until);
	CHECK_EQ(linfo(s, IF1).version, 2);
	sim_take(s);
	CHECK_EQ(leave(s, "ff3e::21"), MLD_OK);
	sim_run_until(s, s->now);
	CHECK_EQ(mld_link_set_up(s->e, IF1, 0, s->now), MLD_OK);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_E_NOENT);
	CHECK_EQ(mld_link_set_up(s->e, IF1, 1, s->now), MLD_OK);
	sim_advance(s, 30000);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g2, NULL), 2);
	CHECK_EQ(count_records(s, 0, &g, NULL), 1); /* the one TO_IN{} before the flap */
	sim_free(s);
}

/* ================================================================ 22 */

/* Errata 22: groups of scope 0 and 1 and ff02::1 are never reported: not on
 * join or leave, not to queries, not in v1. */
TEST(errata_22_never_reported_scopes)
{
	static const char *quiet[] = {"ff02::1", "ff01::5", "ff00::5",
	                              "ff11::5", "ff30::5", "ff01::1"};
	struct mld_tunables t = deftun();
	struct sim *s;
	struct in6_addr loud = A("ff3e::1");
	size_t i, k;
	int v;

	for (v = 2; v >= 1; v--) {
		t.force_version = (uint32_t)v;
		s = sim_new(&t);
		for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
			struct mld_group_info gi;
			int rc;

			CHECK_EQ(join(s, quiet[i]), MLD_OK);
			gi = ginfo(s, IF1, quiet[i], &rc);
			CHECK_EQ(rc, MLD_OK);
			CHECK_EQ(gi.state, MLD_SILENT_MEMBER);
		}
		{
			struct in6_addr g = A("ff01::9"), s1 = A("2001:db8::1");

			CHECK_EQ(mld_join_source(s->e, IF1, "b", &g, &s1, s->now), MLD_OK);
		}
		sim_advance(s, 30000);
		CHECK_EQ(sim_pending(s), 0);
		CHECK_EQ(join(s, "ff3e::1"), MLD_OK);
		settle(s);
		/* General query: only ff3e::1. */
		CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
		sim_advance(s, 1001);
		CHECK(sim_pending(s) >= 1); /* ff3e::1 is answered */
		for (k = 0; k < sim_pending(s); k++) {
			struct dpkt *d = sim_pkt(s, k);
			uint16_t r;

			if (d->icmp_type == MLD_ICMP_V1_REPORT)
				CHECK(!memcmp(&d->group, &loud, 16));
			for (r = 0; r < d->nrec; r++)
				CHECK(!memcmp(&d->recs[r].group, &loud, 16));
		}
		sim_take(s);
		/* Group queries naming them (to the group, and ff01/ff00 to
		 * ff02::1 since they cannot be link destinations). */
		for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
			struct qopts o = {.dst = "ff02::1"};

			rxq(s, quiet[i], 1000, NULL, &o);
			rxq(s, quiet[i], 1000, NULL, NULL);
			rxq(s, quiet[i], 1000, "2001:db8::1", &o);
		}
		sim_advance(s, 2000);
		CHECK_EQ(sim_pending(s), 0);
		/* Leaves: nothing either. */
		for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
			CHECK_EQ(leave(s, quiet[i]), MLD_OK);
		sim_advance(s, 30000);
		CHECK_EQ(sim_pending(s), 0);
		sim_free(s);
	}
}

/* ================================================================ 23 */

/* Errata 23: the per-group GS-query throttle lets the querier's own Last
 * Listener Query retransmissions (RV of them, 1 s apart) through, cuts a
 * flood, refills after gsr_delay; gsr_delay 0 turns it off. */
TEST(errata_23_gs_throttle)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct in6_addr g = A("ff3e::23");
	struct mld_stats st0, st1;
	uint64_t t0, tf;
	int i;

	CHECK_EQ(t.gsr_delay_ms, 10000);
	t.gsr_delay_ms = 60000;
	CHECK(mld_tunables_check(&t, NULL) != MLD_OK);
	t.gsr_delay_ms = 59000;
	CHECK_EQ(mld_tunables_check(&t, NULL), MLD_OK);

	s = sim_new(NULL);
	CHECK_EQ(setf(s, IF1, L, "ff3e::23", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	CHECK_EQ(join(s, "ff3e::24"), MLD_OK);
	settle(s);
	mld_stats_get(s->e, &st0);
	/* The querier's LLQ burst: two queries 1 s apart, MRC 1 s: both answered. */
	t0 = s->now;
	CHECK_EQ(rxq(s, "ff3e::23", 1000, "2001:db8::1", NULL), MLD_OK);
	sim_run_until(s, t0 + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 1);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, "2001:db8::1", NULL), MLD_OK);
	sim_run_until(s, t0 + 2000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 2);
	sim_take(s);
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_drop[MLD_DROP_THROTTLED], st0.rx_drop[MLD_DROP_THROTTLED]);
	CHECK_EQ(st1.rx_v2_group_source, st0.rx_v2_group_source + 2);

	/* A flood right after: cut. */
	for (i = 0; i < 20; i++) {
		char *d0 = sim_dump(s), *d1;

		CHECK(rxq(s, "ff3e::23", 1000, "2001:db8::2", NULL) != MLD_OK);
		d1 = sim_dump(s);
		CHECK(!strcmp(d0, d1));
		free(d0);
		free(d1);
		sim_advance(s, 10);
	}
	tf = s->now;
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_drop[MLD_DROP_THROTTLED], st0.rx_drop[MLD_DROP_THROTTLED] + 20);
	/* Another group is not affected. */
	CHECK_EQ(rxq(s, "ff3e::24", 1000, "2001:db8::2", NULL), MLD_OK);
	sim_advance(s, 1001);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 0);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1);
	sim_take(s);
	/* gsr_delay of quiet later: answered again. */
	sim_run_until(s, tf + 10000 + 1);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, "2001:db8::2", NULL), MLD_OK);
	sim_advance(s, 1001);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 1);
	sim_free(s);

	/* Off. */
	t = deftun();
	t.gsr_delay_ms = 0;
	s = sim_new(&t);
	CHECK_EQ(setf(s, IF1, L, "ff3e::23", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	mld_stats_get(s->e, &st0);
	for (i = 0; i < 30; i++) {
		t0 = s->now;
		CHECK_EQ(rxq(s, "ff3e::23", 5, "2001:db8::1", NULL), MLD_OK);
		sim_run_until(s, t0 + 10);
	}
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_drop[MLD_DROP_THROTTLED], st0.rx_drop[MLD_DROP_THROTTLED]);
	CHECK_EQ(st1.rx_v2_group_source, st0.rx_v2_group_source + 30);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 30);
	sim_free(s);
}

/* n group-and-source queries for ff3e::23 (sources 1 and 3), 10 ms apart,
 * from o's source: how many were taken; the others must be throttled. */
static int gs_flood(struct sim *s, int n, const struct qopts *o)
{
	int i, taken = 0;

	for (i = 0; i < n; i++) {
		int rc = rxq(s, "ff3e::23", 1000, "2001:db8::1 2001:db8::3", o);

		if (rc == MLD_OK)
			taken++;
		else
			CHECK_EQ(rc, -MLD_DROP_THROTTLED - 1);
		sim_advance(s, 10);
	}
	return taken;
}

/*
 * Errata 23, the querier's own bucket. A group-and-source query flood from
 * another host drains the bucket every host but the querier shares, and
 * the querier's LLQ retransmissions for that same group (RFC 3810 §7.6.3,
 * a burst of 2, 1 s apart) are still answered — else the router would
 * prune sources our listeners want. A flood spoofing the querier drains
 * only the querier's bucket. The querier is the source of the last
 * general query (v2 or v1) accepted; when it changes, the privilege moves.
 */
TEST(errata_23_querier_bucket)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::23"), none = A("::");
	struct qopts forger = {.src = "fe80::bad"}, other = {.src = "fe80::77"},
	             q2 = {.src = "fe80::7"}, bad = {.src = "fe80::bad", .bad_csum = 1};
	const char *own = "2001:db8::2 2001:db8::5"; /* answered IS_IN{2}, the flood IS_IN{1} */
	struct mld_stats st0, st1;
	struct mld_link_info li;
	const struct drec *r;
	uint64_t t0;
	int k;

	REQ(setf(s, IF1, L, "ff3e::23", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2") == MLD_OK);
	settle(s);
	li = linfo(s, IF1);
	CHECK(!memcmp(&li.querier, &none, 16));
	/* fe80::9 (the default source) sends a general query: the querier. */
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK);
	li = linfo(s, IF1);
	CHECK(!strcmp(S(&li.querier), "fe80::9"));
	settle(s);

	/* A forger floods the group: the shared burst of two passes, then
	 * everything is cut ... */
	mld_stats_get(s->e, &st0);
	CHECK_EQ(gs_flood(s, 20, &forger), 2);
	sim_advance(s, 1001);
	sim_take(s);
	/* ... while the querier's burst, sent during the flood, is answered
	 * query by query. */
	for (k = 0; k < 2; k++) {
		t0 = s->now;
		CHECK_EQ(rxq(s, "ff3e::23", 1000, own, NULL), MLD_OK);
		CHECK_EQ(gs_flood(s, 50, &forger), 0);
		sim_run_until(s, t0 + 1001);
		CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, &r), 1);
		CHECK(r && rec_srcs_are(r, "2001:db8::2"));
		sim_take(s);
	}
	/* The querier's bucket is as big as the other: a third query within
	 * gsr_delay is throttled too. */
	CHECK(rxq(s, "ff3e::23", 1000, own, NULL) != MLD_OK);
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_drop[MLD_DROP_THROTTLED] - st0.rx_drop[MLD_DROP_THROTTLED],
	         18 + 50 + 50 + 1);
	CHECK_EQ(st1.rx_v2_group_source - st0.rx_v2_group_source, 2 + 2);

	/* Both buckets full again (2 x gsr_delay). A flood spoofing the
	 * querier's address drains only the querier's bucket: another host's
	 * queries still have the shared burst. */
	sim_advance(s, 20000);
	sim_take(s);
	CHECK_EQ(gs_flood(s, 20, NULL), 2);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, own, &other), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, own, &other), MLD_OK);
	CHECK(rxq(s, "ff3e::23", 1000, own, &other) != MLD_OK);

	/* fe80::7 takes over as querier (its general query): the privilege
	 * moves with it, and fe80::9 shares the drained bucket now. */
	sim_advance(s, 20000);
	sim_take(s);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, &q2), MLD_OK);
	li = linfo(s, IF1);
	CHECK(!strcmp(S(&li.querier), "fe80::7"));
	sim_advance(s, 1001);
	sim_take(s);
	CHECK_EQ(gs_flood(s, 20, &forger), 2);
	CHECK(rxq(s, "ff3e::23", 1000, own, NULL) != MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, own, &q2), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::23", 1000, own, &q2), MLD_OK);
	CHECK(rxq(s, "ff3e::23", 1000, own, &q2) != MLD_OK);

	/* A general query that is refused names nobody; an MLDv1 querier's
	 * general query names its sender (RFC 2710 §4). */
	CHECK(rxq(s, NULL, 1000, NULL, &bad) != MLD_OK);
	li = linfo(s, IF1);
	CHECK(!strcmp(S(&li.querier), "fe80::7"));
	CHECK_EQ(rxv1(s, NULL, 1000, &other), MLD_OK);
	li = linfo(s, IF1);
	CHECK(!strcmp(S(&li.querier), "fe80::77"));
out:
	sim_free(s);
}

/* A group-and-source query for ff3e::23 from o's source: 1 if taken. */
static int gs1(struct sim *s, const struct qopts *o)
{
	return rxq(s, "ff3e::23", 1000, "2001:db8::1", o) == MLD_OK;
}

/* The two buckets share one refill time (struct group does not grow):
 * each still refills at gsr_delay whichever of them is charged, with the
 * largest gsr_delay, over hours, and after days of silence. */
TEST(errata_23_querier_bucket_refill)
{
	struct mld_tunables t = deftun();
	struct sim *s;
	struct qopts other = {.src = "fe80::77"};
	uint64_t t0;
	int i;

	t.gsr_delay_ms = 59000; /* the largest period */
	s = sim_new(&t);
	REQ(setf(s, IF1, L, "ff3e::23", MLD_FMODE_INCLUDE, "2001:db8::1") == MLD_OK);
	settle(s);
	CHECK_EQ(rxq(s, NULL, 1000, NULL, NULL), MLD_OK); /* fe80::9: the querier */
	settle(s);
	/* Both buckets start full at t0. The querier's burst: its token
	 * comes back at t0 + 59 s, not sooner; the others' bucket, never
	 * charged, is full meanwhile. */
	t0 = s->now;
	CHECK(gs1(s, NULL));
	sim_advance(s, 1000);
	CHECK(gs1(s, NULL));
	CHECK(!gs1(s, NULL));
	sim_run_until(s, t0 + 58999);
	CHECK(!gs1(s, NULL));
	sim_run_until(s, t0 + 59000);
	CHECK(gs1(s, NULL));
	CHECK(gs1(s, &other));
	CHECK(gs1(s, &other));
	CHECK(!gs1(s, &other));
	/* An hour of one query a minute from another host, each taken; the
	 * querier's bucket, not charged, is full at the end. Then the same
	 * the other way round. */
	for (i = 0; i < 60; i++) {
		sim_advance(s, 60000);
		CHECK(gs1(s, &other));
	}
	CHECK(gs1(s, NULL));
	CHECK(gs1(s, NULL));
	CHECK(!gs1(s, NULL));
	for (i = 0; i < 60; i++) {
		sim_advance(s, 60000);
		CHECK(gs1(s, NULL));
	}
	CHECK(gs1(s, &other));
	CHECK(gs1(s, &other));
	CHECK(!gs1(s, &other));
	/* Ten days of silence: both full again. */
	sim_advance(s, 10ull * 86400 * 1000);
	CHECK(gs1(s, &other));
	CHECK(gs1(s, NULL));
	CHECK(gs1(s, &other));
	CHECK(gs1(s, NULL));
	CHECK(!gs1(s, &other));
	CHECK(!gs1(s, NULL));
out:
	sim_free(s);
}
