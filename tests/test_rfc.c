/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 3810 tables and rules as tests: §4.2 per-interface state merge,
 * §6.1 state-change records and their merging, §6.2 query-reception rules
 * 1–5, §6.3 query answers, §5.1.3 / §5.1.9 exponential codes.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "harness.h"

static const char *L = "app";
static uint8_t qbuf[70000];

/* ---------------------------------------------------------------- helpers */

static struct sim *mk(uint32_t rv, uint32_t gsr_delay_ms)
{
	struct mld_tunables t;

	mld_tunables_default(&t);
	t.rv = rv;
	t.gsr_delay_ms = gsr_delay_ms;
	return sim_new(&t);
}

static void settle(struct sim *s)
{
	sim_advance(s, 30000);
	sim_take(s);
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

static int setf(struct sim *s, const char *lis, const char *grp, enum mld_fmode m, const char *list)
{
	struct in6_addr a[256], g = A(grp);
	size_t n = parse_list(list, a, 256);

	return mld_set_filter(s->e, IF1, lis, &g, m, a, n, s->now);
}

static int rxq(struct sim *s, const char *grp, uint16_t mrc, const char *srcs)
{
	size_t n = craft_v2_query(qbuf, grp, mrc, srcs, NULL);

	return sim_rx(s, qbuf, n);
}

static struct mld_group_info ginfo(struct sim *s, const char *grp, int *rc)
{
	struct mld_group_info gi;
	struct in6_addr g = A(grp);

	memset(&gi, 0, sizeof(gi));
	*rc = mld_group_info(s->e, IF1, &g, &gi);
	return gi;
}

static struct mld_link_info linfo(struct sim *s)
{
	struct mld_link_info li;

	memset(&li, 0, sizeof(li));
	CHECK_EQ(mld_link_info(s->e, IF1, &li), MLD_OK);
	return li;
}

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

/* The group's merged filter is (mode, list). */
static void expect_filter(struct sim *s, int line, const char *grp, enum mld_fmode mode,
                          const char *list)
{
	int rc;
	struct mld_group_info gi = ginfo(s, grp, &rc);

	if (rc != MLD_OK) {
		t_fail(__FILE__, line, "%s: no group (%s)", grp, mld_strerror(rc));
		return;
	}
	if (gi.mode != mode || !set_is(gi.srcs, gi.nsrc, list)) {
		char buf[2048] = "";
		size_t i, off = 0;

		for (i = 0; i < gi.nsrc && off < sizeof(buf) - 64; i++)
			off +=
			    (size_t)snprintf(buf + off, sizeof(buf) - off, " %s", S(&gi.srcs[i]));
		t_fail(__FILE__, line, "%s: filter %s{%s }, want %s{%s}", grp,
		       gi.mode == MLD_FMODE_EXCLUDE ? "EX" : "IN", buf,
		       mode == MLD_FMODE_EXCLUDE ? "EX" : "IN", list);
	}
}
#define EXPECT_FILTER(s, g, m, l) expect_filter(s, __LINE__, g, m, l)

/* Expected record: type and sources. */
struct xr {
	uint8_t type;
	const char *srcs;
};

static const char *tname(uint8_t t)
{
	static const char *n[] = {"?", "IS_IN", "IS_EX", "TO_IN", "TO_EX", "ALLOW", "BLOCK"};

	return t < 7 ? n[t] : "?";
}

static void describe(const struct dpkt *d, char *buf, size_t len)
{
	size_t off = 0;
	uint16_t r, k;

	buf[0] = 0;
	for (r = 0; r < d->nrec && off < len - 100; r++) {
		off += (size_t)snprintf(buf + off, len - off, " %s(%s){", tname(d->recs[r].type),
		                        S(&d->recs[r].group));
		for (k = 0; k < d->recs[r].nsrc && off < len - 100; k++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", k ? " " : "",
			                        S(&d->recs[r].srcs[k]));
		off += (size_t)snprintf(buf + off, len - off, "}");
	}
}

/* Packet d holds exactly the records x (any order), all for group g. */
static void expect_pkt(const struct dpkt *d, int line, const char *grp, const struct xr *x,
                       size_t nx)
{
	struct in6_addr g = A(grp);
	size_t i;
	int ok = d && d->icmp_type == MLD_ICMP_V2_REPORT && d->nrec == nx;
	char buf[4096];

	for (i = 0; ok && i < nx; i++) {
		uint16_t r;
		int found = 0;

		for (r = 0; r < d->nrec; r++)
			if (d->recs[r].type == x[i].type && !memcmp(&d->recs[r].group, &g, 16) &&
			    rec_srcs_are(&d->recs[r], x[i].srcs))
				found = 1;
		ok = found;
	}
	if (ok)
		return;
	if (!d) {
		t_fail(__FILE__, line, "no packet");
		return;
	}
	describe(d, buf, sizeof(buf));
	t_fail(__FILE__, line, "packet at %llu is%s; want %zu records for %s: %s{%s}%s",
	       (unsigned long long)d->time, buf, nx, grp, nx ? tname(x[0].type) : "-",
	       nx ? x[0].srcs : "", nx > 1 ? " ..." : "");
}
#define EXPECT_PKT(d, g, ...)                                                                      \
	do {                                                                                       \
		static const struct xr _x[] = {__VA_ARGS__};                                       \
		expect_pkt(d, __LINE__, g, _x, sizeof(_x) / sizeof(_x[0]));                        \
	} while (0)

/* ================================================================ §4.2 */

TEST(rfc_4_2_merge_all_include_union)
{
	struct sim *s = mk(2, 10000);

	CHECK_EQ(setf(s, "a", "ff3e::42", MLD_FMODE_INCLUDE, "2001:db8::a 2001:db8::b 2001:db8::c"),
	         MLD_OK);
	CHECK_EQ(setf(s, "b", "ff3e::42", MLD_FMODE_INCLUDE, "2001:db8::b 2001:db8::c 2001:db8::d"),
	         MLD_OK);
	CHECK_EQ(setf(s, "c", "ff3e::42", MLD_FMODE_INCLUDE, "2001:db8::e 2001:db8::f"), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_INCLUDE,
	              "2001:db8::a 2001:db8::b 2001:db8::c 2001:db8::d 2001:db8::e 2001:db8::f");
	/* Removing one INCLUDE listener removes only what it alone held. */
	CHECK_EQ(setf(s, "b", "ff3e::42", MLD_FMODE_INCLUDE, ""), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_INCLUDE,
	              "2001:db8::a 2001:db8::b 2001:db8::c 2001:db8::e 2001:db8::f");
	sim_free(s);
}

TEST(rfc_4_2_merge_all_exclude_intersection)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::42");

	CHECK_EQ(setf(s, "a", "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::a 2001:db8::b 2001:db8::c"),
	         MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::a 2001:db8::b 2001:db8::c");
	CHECK_EQ(setf(s, "b", "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::b 2001:db8::c 2001:db8::d"),
	         MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::b 2001:db8::c");
	/* An ASM listener (EXCLUDE{}) empties the intersection. */
	CHECK_EQ(mld_join(s->e, IF1, "c", &g, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "");
	CHECK_EQ(mld_leave(s->e, IF1, "c", &g, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::b 2001:db8::c");
	sim_free(s);
}

/* The worked example of RFC 3376 §3.2 that RFC 3810 §4.2 restates: sockets
 * EXCLUDE{a,b,c,d}, EXCLUDE{b,c,d,e}, INCLUDE{d,e,z} → EXCLUDE{b,c}. */
TEST(rfc_4_2_merge_mixed_example)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::42");
	const struct drec *r = NULL;
	uint64_t t;

	CHECK_EQ(setf(s, "s1", "ff3e::42", MLD_FMODE_EXCLUDE,
	              "2001:db8::a 2001:db8::b 2001:db8::c 2001:db8::d"),
	         MLD_OK);
	CHECK_EQ(setf(s, "s2", "ff3e::42", MLD_FMODE_EXCLUDE,
	              "2001:db8::b 2001:db8::c 2001:db8::d 2001:db8::e"),
	         MLD_OK);
	CHECK_EQ(
	    setf(s, "s3", "ff3e::42", MLD_FMODE_INCLUDE, "2001:db8::d 2001:db8::e 2001:db8::1a"),
	    MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::b 2001:db8::c");
	{
		int rc;
		struct mld_group_info gi = ginfo(s, "ff3e::42", &rc);

		CHECK_EQ(gi.nlisteners, 3);
	}
	/* The interface state is what a general query is told. */
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 1000, NULL), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::b 2001:db8::c"));
	sim_take(s);
	/* Mode flips back to INCLUDE (union of INCLUDE lists) when the last
	 * EXCLUDE listener goes. */
	CHECK_EQ(setf(s, "s1", "ff3e::42", MLD_FMODE_INCLUDE, "2001:db8::a"), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_EXCLUDE, "2001:db8::b 2001:db8::c");
	CHECK_EQ(setf(s, "s2", "ff3e::42", MLD_FMODE_INCLUDE, ""), MLD_OK);
	EXPECT_FILTER(s, "ff3e::42", MLD_FMODE_INCLUDE,
	              "2001:db8::a 2001:db8::d 2001:db8::e 2001:db8::1a");
	sim_run_until(s, s->now);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::a 2001:db8::d 2001:db8::e 2001:db8::1a"));
	sim_free(s);
}

/* Listener-level operations (RFC 3678) combine into the same merge. */
TEST(rfc_4_2_merge_listener_operations)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::43"), s1 = A("2001:db8::1"), s2 = A("2001:db8::2"),
	                s3 = A("2001:db8::3");

	CHECK_EQ(mld_join_source(s->e, IF1, "a", &g, &s1, s->now), MLD_OK);
	CHECK_EQ(mld_join_source(s->e, IF1, "a", &g, &s2, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::43", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2");
	CHECK_EQ(mld_join(s->e, IF1, "b", &g, s->now), MLD_OK);
	CHECK_EQ(mld_block_source(s->e, IF1, "b", &g, &s1, s->now), MLD_OK);
	CHECK_EQ(mld_block_source(s->e, IF1, "b", &g, &s3, s->now), MLD_OK);
	/* EXCLUDE{1,3} − INCLUDE{1,2} = EXCLUDE{3}. */
	EXPECT_FILTER(s, "ff3e::43", MLD_FMODE_EXCLUDE, "2001:db8::3");
	CHECK_EQ(mld_leave_source(s->e, IF1, "a", &g, &s1, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::43", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::3");
	CHECK_EQ(mld_unblock_source(s->e, IF1, "b", &g, &s3, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::43", MLD_FMODE_EXCLUDE, "2001:db8::1");
	CHECK_EQ(mld_leave(s->e, IF1, "b", &g, s->now), MLD_OK);
	EXPECT_FILTER(s, "ff3e::43", MLD_FMODE_INCLUDE, "2001:db8::2");
	sim_free(s);
}

/* ================================================================ §6.1 */

/*
 * Sets (m1, a), lets its reports finish, then changes to (m2, b) and returns
 * with the two transmissions of the change pending (RV = 2). Checks the
 * timing: the first at once, the second within (0, URI].
 */
static int transition(struct sim *s, const char *grp, enum mld_fmode m1, const char *a,
                      enum mld_fmode m2, const char *b)
{
	uint64_t t;

	if (setf(s, L, grp, m1, a) != MLD_OK)
		return -1;
	settle(s);
	t = s->now;
	if (setf(s, L, grp, m2, b) != MLD_OK)
		return -1;
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 2);
	if (sim_pending(s) != 2)
		return -1;
	CHECK_EQ(sim_pkt(s, 0)->time, t);
	CHECK(sim_pkt(s, 1)->time > t && sim_pkt(s, 1)->time <= t + 1000);
	return 0;
}

TEST(rfc_6_1_include_to_include)
{
	struct sim *s = mk(2, 10000);
	int i;

	/* ALLOW(B−A) + BLOCK(A−B), both transmissions. */
	REQ(transition(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3",
	               MLD_FMODE_INCLUDE, "2001:db8::2 2001:db8::3 2001:db8::4 2001:db8::5") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_ALLOW_NEW_SOURCES, "2001:db8::4 2001:db8::5"},
		           {MLD_BLOCK_OLD_SOURCES, "2001:db8::1"});
	sim_take(s);
	EXPECT_FILTER(s, "ff3e::61", MLD_FMODE_INCLUDE,
	              "2001:db8::2 2001:db8::3 2001:db8::4 2001:db8::5");
	sim_free(s);

	/* B ⊃ A: the empty BLOCK is omitted. */
	s = mk(2, 10000);
	REQ(transition(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1", MLD_FMODE_INCLUDE,
	               "2001:db8::1 2001:db8::2") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_ALLOW_NEW_SOURCES, "2001:db8::2"});
	sim_free(s);

	/* B ⊂ A: the empty ALLOW is omitted. */
	s = mk(2, 10000);
	REQ(transition(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2",
	               MLD_FMODE_INCLUDE, "2001:db8::2") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_BLOCK_OLD_SOURCES, "2001:db8::1"});
out:
	sim_free(s);
}

TEST(rfc_6_1_include_to_exclude)
{
	struct sim *s = mk(2, 10000);
	int i;

	/* TO_EX(B). */
	REQ(transition(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2",
	               MLD_FMODE_EXCLUDE, "2001:db8::2 2001:db8::3") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_CHANGE_TO_EXCLUDE, "2001:db8::2 2001:db8::3"});
	EXPECT_FILTER(s, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::2 2001:db8::3");
	sim_free(s);

	/* INCLUDE → EXCLUDE{} (ASM): TO_EX{}. */
	s = mk(2, 10000);
	REQ(transition(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1", MLD_FMODE_EXCLUDE, "") ==
	    0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61", {MLD_CHANGE_TO_EXCLUDE, ""});
out:
	sim_free(s);
}

TEST(rfc_6_1_exclude_to_exclude)
{
	struct sim *s = mk(2, 10000);
	int i;

	/* ALLOW(A−B) + BLOCK(B−A). */
	REQ(transition(s, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2",
	               MLD_FMODE_EXCLUDE, "2001:db8::2 2001:db8::3 2001:db8::4") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_ALLOW_NEW_SOURCES, "2001:db8::1"},
		           {MLD_BLOCK_OLD_SOURCES, "2001:db8::3 2001:db8::4"});
	EXPECT_FILTER(s, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::2 2001:db8::3 2001:db8::4");
	sim_free(s);

	/* EXCLUDE{1} → EXCLUDE{}: ALLOW{1} only. */
	s = mk(2, 10000);
	REQ(transition(s, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::1", MLD_FMODE_EXCLUDE, "") ==
	    0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_ALLOW_NEW_SOURCES, "2001:db8::1"});
out:
	sim_free(s);
}

TEST(rfc_6_1_exclude_to_include)
{
	struct sim *s = mk(2, 10000);
	int i;

	/* TO_IN(B). */
	REQ(transition(s, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2",
	               MLD_FMODE_INCLUDE, "2001:db8::2 2001:db8::3") == 0);
	for (i = 0; i < 2; i++)
		EXPECT_PKT(sim_pkt(s, (size_t)i), "ff3e::61",
		           {MLD_CHANGE_TO_INCLUDE, "2001:db8::2 2001:db8::3"});
	EXPECT_FILTER(s, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::2 2001:db8::3");
out:
	sim_free(s);
}

/* The retransmissions of a change follow RV, and are spread over (0, URI]. */
TEST(rfc_6_1_retransmissions_follow_rv_and_uri)
{
	struct mld_tunables t;
	struct sim *s;
	uint64_t t0;
	size_t i;

	mld_tunables_default(&t);
	t.rv = 4;
	t.uri_ms = 3000;
	s = sim_new(&t);
	CHECK_EQ(setf(s, L, "ff3e::61", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t0 = s->now;
	CHECK_EQ(setf(s, L, "ff3e::61", MLD_FMODE_EXCLUDE, "2001:db8::9"), MLD_OK);
	sim_advance(s, 60000);
	CHECK_EQ(sim_pending(s), 4);
	for (i = 0; i < sim_pending(s); i++) {
		EXPECT_PKT(sim_pkt(s, i), "ff3e::61", {MLD_CHANGE_TO_EXCLUDE, "2001:db8::9"});
		if (i == 0)
			CHECK_EQ(sim_pkt(s, 0)->time, t0);
		else if (i < sim_pending(s))
			CHECK(sim_pkt(s, i)->time > sim_pkt(s, i - 1)->time &&
			      sim_pkt(s, i)->time <= sim_pkt(s, i - 1)->time + 3000);
	}
	sim_free(s);
}

/* §6.1 merging: a change while retransmissions are pending sends a new
 * report at once, with the still-pending sources merged in, and RV
 * transmissions of the new change. */
TEST(rfc_6_1_merge_source_change_during_retransmission)
{
	struct sim *s = mk(2, 10000);
	uint64_t t;

	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::62", {MLD_ALLOW_NEW_SOURCES, "2001:db8::2"});
	sim_take(s);
	/* Second change before the first one's retransmission. */
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	         MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::62", {MLD_ALLOW_NEW_SOURCES, "2001:db8::2 2001:db8::3"});
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 2);
	/* ::2 has had its RV transmissions; ::3 gets its second. */
	EXPECT_PKT(sim_pkt(s, 1), "ff3e::62", {MLD_ALLOW_NEW_SOURCES, "2001:db8::3"});
	if (sim_pending(s) > 1)
		CHECK(sim_pkt(s, 1)->time > t && sim_pkt(s, 1)->time <= t + 1000);
out:
	sim_free(s);
}

/* With RV 3: the new change gets RV transmissions in all. */
TEST(rfc_6_1_merge_rv_more_transmissions)
{
	struct sim *s = mk(3, 10000);
	struct in6_addr s2 = A("2001:db8::2"), s3 = A("2001:db8::3");
	uint64_t t;
	size_t i, n2 = 0, n3 = 0;

	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	sim_run_until(s, t);
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	         MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 2);
	EXPECT_PKT(sim_pkt(s, 1), "ff3e::62", {MLD_ALLOW_NEW_SOURCES, "2001:db8::2 2001:db8::3"});
	sim_advance(s, 30000);
	/* 1 + 3 reports; ::2 in exactly 3 of them, ::3 in exactly 3. */
	CHECK_EQ(sim_pending(s), 4);
	for (i = 0; i < sim_pending(s); i++) {
		const struct drec *r = NULL;
		uint16_t k;

		CHECK_EQ(sim_pkt(s, i)->nrec, 1);
		r = &sim_pkt(s, i)->recs[0];
		CHECK_EQ(r->type, MLD_ALLOW_NEW_SOURCES);
		for (k = 0; k < r->nsrc; k++) {
			n2 += !memcmp(&r->srcs[k], &s2, 16);
			n3 += !memcmp(&r->srcs[k], &s3, 16);
		}
	}
	CHECK_EQ(n2, 3);
	CHECK_EQ(n3, 3);
out:
	sim_free(s);
}

/* A source allowed and then blocked again during its retransmissions: the
 * next report says BLOCK at once, never ALLOW again. */
TEST(rfc_6_1_merge_undo_during_retransmission)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::62");
	uint64_t t;

	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	sim_run_until(s, t);
	sim_take(s);
	CHECK_EQ(setf(s, L, "ff3e::62", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::62", {MLD_BLOCK_OLD_SOURCES, "2001:db8::2"});
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 2);
	EXPECT_PKT(sim_pkt(s, 1), "ff3e::62", {MLD_BLOCK_OLD_SOURCES, "2001:db8::2"});
	CHECK_EQ(count_records(s, MLD_ALLOW_NEW_SOURCES, &g, NULL), 0);
out:
	sim_free(s);
}

/* A filter-mode change during a filter-mode change's retransmissions:
 * the new TO_IN(B) goes at once and gets RV transmissions; no stale TO_EX. */
TEST(rfc_6_1_merge_mode_change_during_retransmission)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::63");
	uint64_t t;
	size_t i;

	CHECK_EQ(setf(s, L, "ff3e::63", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(setf(s, L, "ff3e::63", MLD_FMODE_EXCLUDE, "2001:db8::2"), MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::63", {MLD_CHANGE_TO_EXCLUDE, "2001:db8::2"});
	sim_take(s);
	CHECK_EQ(setf(s, L, "ff3e::63", MLD_FMODE_INCLUDE, "2001:db8::3"), MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::63", {MLD_CHANGE_TO_INCLUDE, "2001:db8::3"});
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 2);
	for (i = 0; i < sim_pending(s); i++)
		EXPECT_PKT(sim_pkt(s, i), "ff3e::63", {MLD_CHANGE_TO_INCLUDE, "2001:db8::3"});
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 0);
out:
	sim_free(s);
}

/* A source-list change while a filter-mode change is still being
 * retransmitted: the report sent at once carries the filter-mode-change
 * record with the current list (§6.1: a report holds either the mode
 * record or the source records); every later record agrees with the new
 * state, and each change reaches the wire in at least RV reports. */
TEST(rfc_6_1_merge_source_change_while_mode_pending)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::64"), s2 = A("2001:db8::2"), s3 = A("2001:db8::3");
	uint64_t t;
	size_t i, says_s3_blocked = 0, says_s2_allowed = 0;

	CHECK_EQ(setf(s, L, "ff3e::64", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(setf(s, L, "ff3e::64", MLD_FMODE_EXCLUDE, "2001:db8::2"), MLD_OK);
	sim_run_until(s, t);
	sim_take(s);
	CHECK_EQ(setf(s, L, "ff3e::64", MLD_FMODE_EXCLUDE, "2001:db8::3"), MLD_OK);
	sim_run_until(s, t);
	REQ(sim_pending(s) == 1);
	EXPECT_PKT(sim_pkt(s, 0), "ff3e::64", {MLD_CHANGE_TO_EXCLUDE, "2001:db8::3"});
	sim_advance(s, 30000);
	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);
		uint16_t r;

		for (r = 0; r < d->nrec; r++) {
			const struct drec *rec = &d->recs[r];
			int has2 = 0, has3 = 0;
			uint16_t k;

			CHECK(!memcmp(&rec->group, &g, 16));
			for (k = 0; k < rec->nsrc; k++) {
				has2 |= !memcmp(&rec->srcs[k], &s2, 16);
				has3 |= !memcmp(&rec->srcs[k], &s3, 16);
			}
			switch (rec->type) {
			case MLD_CHANGE_TO_EXCLUDE:
				CHECK(rec_srcs_are(rec, "2001:db8::3"));
				says_s3_blocked++;
				says_s2_allowed++;
				break;
			case MLD_ALLOW_NEW_SOURCES:
				CHECK(!has3);
				says_s2_allowed += has2;
				break;
			case MLD_BLOCK_OLD_SOURCES:
				CHECK(!has2);
				says_s3_blocked += has3;
				break;
			default:
				t_fail(__FILE__, __LINE__, "unexpected record type %u", rec->type);
			}
		}
	}
	CHECK(says_s3_blocked >= 2);
	CHECK(says_s2_allowed >= 2);
	EXPECT_FILTER(s, "ff3e::64", MLD_FMODE_EXCLUDE, "2001:db8::3");
out:
	sim_free(s);
}

/* ================================================================ §6.3 */

struct answer_case {
	const char *group;
	enum mld_fmode mode;
	const char *filter;
	const char *query; /* NULL: group-specific */
	uint8_t type;      /* 0: no answer */
	const char *answer;
};

static void run_answers(const struct answer_case *c, size_t n)
{
	struct sim *s = mk(2, 0);
	size_t i;

	for (i = 0; i < n; i++)
		CHECK_EQ(setf(s, L, c[i].group, c[i].mode, c[i].filter), MLD_OK);
	settle(s);
	for (i = 0; i < n; i++) {
		struct in6_addr g = A(c[i].group);
		const struct drec *r = NULL;
		struct mld_group_info gi;
		uint64_t t = s->now;
		int rc;

		CHECK_EQ(rxq(s, c[i].group, 2000, c[i].query), MLD_OK);
		gi = ginfo(s, c[i].group, &rc);
		if (c[i].type)
			CHECK_EQ(gi.state, c[i].query ? MLD_SG_QUERY_PENDING_MEMBER
			                              : MLD_G_QUERY_PENDING_MEMBER);
		sim_run_until(s, t + 2000);
		if (!c[i].type) {
			if (sim_pending(s))
				t_fail(__FILE__, __LINE__, "case %zu (%s): answered an empty set",
				       i, c[i].group);
		} else if (count_records(s, 0, NULL, NULL) != 1 ||
		           count_records(s, c[i].type, &g, &r) != 1 ||
		           !rec_srcs_are(r, c[i].answer)) {
			char buf[2048] = "";

			if (sim_pending(s))
				describe(sim_pkt(s, 0), buf, sizeof(buf));
			t_fail(__FILE__, __LINE__, "case %zu (%s): answer%s, want %s{%s}", i,
			       c[i].group, buf, tname(c[i].type), c[i].answer);
		}
		gi = ginfo(s, c[i].group, &rc);
		CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
		CHECK_EQ(gi.nrecorded, 0);
		sim_take(s);
		sim_advance(s, 10);
	}
	sim_free(s);
}

/* §6.3 group-specific: INCLUDE(A) → IS_IN(A), EXCLUDE(A) → IS_EX(A). */
TEST(rfc_6_3_group_specific_answers)
{
	static const struct answer_case c[] = {
	    {"ff3e::631", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2", NULL, MLD_MODE_IS_INCLUDE,
	     "2001:db8::1 2001:db8::2"},
	    {"ff3e::632", MLD_FMODE_EXCLUDE, "2001:db8::1", NULL, MLD_MODE_IS_EXCLUDE,
	     "2001:db8::1"},
	    {"ff3e::633", MLD_FMODE_EXCLUDE, "", NULL, MLD_MODE_IS_EXCLUDE, ""},
	};

	run_answers(c, sizeof(c) / sizeof(c[0]));
}

/* §6.3 group-and-source: INCLUDE(A) → IS_IN(A∩Q), EXCLUDE(A) → IS_IN(Q−A),
 * no answer when the set is empty. */
TEST(rfc_6_3_group_and_source_answers)
{
	static const struct answer_case c[] = {
	    {"ff3e::634", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3",
	     "2001:db8::2 2001:db8::3 2001:db8::4", MLD_MODE_IS_INCLUDE, "2001:db8::2 2001:db8::3"},
	    {"ff3e::635", MLD_FMODE_INCLUDE, "2001:db8::1", "2001:db8::4", 0, NULL},
	    {"ff3e::636", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2", "2001:db8::2 2001:db8::3",
	     MLD_MODE_IS_INCLUDE, "2001:db8::3"},
	    {"ff3e::637", MLD_FMODE_EXCLUDE, "2001:db8::1 2001:db8::2", "2001:db8::1 2001:db8::2",
	     0, NULL},
	    {"ff3e::638", MLD_FMODE_EXCLUDE, "", "2001:db8::7 2001:db8::8", MLD_MODE_IS_INCLUDE,
	     "2001:db8::7 2001:db8::8"},
	    /* A query repeating a source counts it once. */
	    {"ff3e::639", MLD_FMODE_INCLUDE, "2001:db8::1", "2001:db8::1 2001:db8::1",
	     MLD_MODE_IS_INCLUDE, "2001:db8::1"},
	};

	run_answers(c, sizeof(c) / sizeof(c[0]));
}

/* §6.2/§6.3: a general query is answered with one current-state record per
 * group: IS_IN(A) / IS_EX(A); INCLUDE{} is no state and is not reported. */
TEST(rfc_6_3_general_query_answers)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g1 = A("ff3e::1"), g2 = A("ff3e::2"), g3 = A("ff3e::3");
	const struct drec *r = NULL;
	uint64_t t;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	CHECK_EQ(setf(s, L, "ff3e::2", MLD_FMODE_EXCLUDE, "2001:db8::3"), MLD_OK);
	CHECK_EQ(setf(s, L, "ff3e::3", MLD_FMODE_EXCLUDE, ""), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 3000, NULL), MLD_OK);
	sim_run_until(s, t + 3000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 3);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g1, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::1 2001:db8::2"));
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g2, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::3"));
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g3, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	/* One response: all three share a packet. */
	CHECK_EQ(sim_pending(s), 1);
	sim_free(s);
}

/* ================================================================ §6.2 */

/* Rule 1: a pending general-query response due sooner than the selected
 * delay makes a group (or group-and-source) query response unnecessary. */
TEST(rfc_6_2_rule1_pending_gq_sooner_suppresses)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	uint64_t t;
	int rc;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 0, NULL), MLD_OK); /* due now */
	REQ(linfo(s).gq_due == t);
	CHECK_EQ(rxq(s, "ff3e::1", 10000, NULL), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	CHECK_EQ(gi.query_due, 0);
	CHECK_EQ(rxq(s, "ff3e::1", 10000, "2001:db8::1"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
	CHECK_EQ(gi.query_due, 0);
	CHECK_EQ(gi.nrecorded, 0);
	sim_run_until(s, t + 20000);
	CHECK_EQ(count_records(s, 0, &g, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, NULL), 1);
	CHECK_EQ(sim_pkt(s, 0)->time, t);
out:
	sim_free(s);
}

/* Rule 1 does not apply when the pending general-query response is later. */
TEST(rfc_6_2_rule1_pending_gq_later_does_not_suppress)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	uint64_t t;
	int rc;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 0xffff, NULL), MLD_OK);
	REQ(linfo(s).gq_due > t + 1000);
	CHECK_EQ(rxq(s, "ff3e::1", 1000, NULL), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_G_QUERY_PENDING_MEMBER);
	CHECK(gi.query_due >= t && gi.query_due <= t + 1000);
	sim_run_until(s, t + 1000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
out:
	sim_free(s);
}

/* Rule 2: a general query is answered after the selected delay; a pending
 * response due sooner stands, a later one is replaced (one response). */
TEST(rfc_6_2_rule2_general_query_rescheduling)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	uint64_t t, due;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	settle(s);
	/* Pending sooner: unchanged. */
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 0, NULL), MLD_OK);
	CHECK_EQ(linfo(s).gq_due, t);
	CHECK_EQ(rxq(s, NULL, 10000, NULL), MLD_OK);
	CHECK_EQ(linfo(s).gq_due, t);
	sim_run_until(s, t + 20000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
	sim_take(s);
	/* Pending later: the sooner one replaces it; the later never fires. */
	t = s->now;
	CHECK_EQ(rxq(s, NULL, 0xffff, NULL), MLD_OK);
	due = linfo(s).gq_due;
	REQ(due > t + 5);
	CHECK_EQ(rxq(s, NULL, 5, NULL), MLD_OK);
	CHECK(linfo(s).gq_due >= t && linfo(s).gq_due <= t + 5);
	sim_run_until(s, t + 8387584 + 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL), 1);
	if (sim_pending(s))
		CHECK(sim_pkt(s, 0)->time <= t + 5);
out:
	sim_free(s);
}

/* Rule 3: a group-and-source query records its sources and schedules the
 * answer with the group timer. */
TEST(rfc_6_2_rule3_gs_query_records_sources)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t;
	int rc;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	         MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 5000, "2001:db8::1 2001:db8::4"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(gi.nrecorded, 2);
	CHECK(gi.query_due >= t && gi.query_due <= t + 5000);
	sim_run_until(s, t + 5000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::1"));
	sim_free(s);
}

/* Rule 4: a group query on a pending group-and-source answer clears the
 * recorded list; one answer, the full current state, at the earlier time. */
TEST(rfc_6_2_rule4_group_query_clears_recorded)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t, due1;
	int rc;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	         MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 5000, "2001:db8::1"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_SG_QUERY_PENDING_MEMBER);
	due1 = gi.query_due;
	CHECK_EQ(rxq(s, "ff3e::1", 5000, NULL), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(gi.nrecorded, 0);
	CHECK(gi.query_due <= due1 && gi.query_due >= t);
	sim_run_until(s, t + 5000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::1 2001:db8::2 2001:db8::3"));
	sim_free(s);
}

/* Rule 4 (other order): a group-and-source query on a pending group answer
 * (empty recorded list) keeps one full answer. */
TEST(rfc_6_2_rule4_gs_query_after_group_query)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t;
	int rc;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 5000, NULL), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::1", 5000, "2001:db8::1"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(gi.nrecorded, 0);
	sim_run_until(s, t + 5000);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	sim_free(s);
}

/* Rule 5: a group-and-source query on a pending group-and-source answer
 * augments the recorded list; one answer for the union. */
TEST(rfc_6_2_rule5_gs_query_augments)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	const struct drec *r = NULL;
	uint64_t t;
	int rc;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2 2001:db8::3"),
	         MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 5000, "2001:db8::1"), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::1", 5000, "2001:db8::2 2001:db8::4"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(gi.nrecorded, 3);
	sim_run_until(s, t + 5000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, "2001:db8::1 2001:db8::2"));
	/* EXCLUDE group: Q1 ∪ Q2 − A. */
	sim_take(s);
	CHECK_EQ(setf(s, L, "ff3e::2", MLD_FMODE_EXCLUDE, "2001:db8::1"), MLD_OK);
	settle(s);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::2", 5000, "2001:db8::1 2001:db8::5"), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::2", 5000, "2001:db8::6"), MLD_OK);
	sim_run_until(s, t + 5000);
	{
		struct in6_addr g2 = A("ff3e::2");

		CHECK_EQ(count_records(s, 0, NULL, NULL), 1);
		CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, &g2, &r), 1);
		CHECK(rec_srcs_are(r, "2001:db8::5 2001:db8::6"));
	}
	sim_free(s);
}

/* Rules 4 and 5: the single response is due at the earliest of the
 * remaining time and the new selected delay. */
TEST(rfc_6_2_earliest_of_remaining_and_selected)
{
	struct sim *s = mk(2, 0);
	struct mld_group_info gi;
	uint64_t t, due1;
	int rc;

	CHECK_EQ(setf(s, L, "ff3e::1", MLD_FMODE_INCLUDE, "2001:db8::1 2001:db8::2"), MLD_OK);
	settle(s);

	/* GS pending late, GS with MRD 0: now. */
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 0xffff, "2001:db8::1"), MLD_OK);
	due1 = ginfo(s, "ff3e::1", &rc).query_due;
	REQ(due1 > t);
	CHECK_EQ(rxq(s, "ff3e::1", 0, "2001:db8::2"), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.query_due, t);
	sim_run_until(s, t);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1);
	sim_advance(s, 8387584);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1); /* nothing later */
	sim_take(s);

	/* GS pending now, GS with a long MRD: still now. */
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 0, "2001:db8::1"), MLD_OK);
	CHECK_EQ(ginfo(s, "ff3e::1", &rc).query_due, t);
	CHECK_EQ(rxq(s, "ff3e::1", 0xffff, "2001:db8::2"), MLD_OK);
	CHECK_EQ(ginfo(s, "ff3e::1", &rc).query_due, t);
	sim_run_until(s, t);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1);
	sim_take(s);

	/* GS pending now, group query with a long MRD: still now (rule 4). */
	sim_advance(s, 1);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 0, "2001:db8::1"), MLD_OK);
	CHECK_EQ(rxq(s, "ff3e::1", 0xffff, NULL), MLD_OK);
	gi = ginfo(s, "ff3e::1", &rc);
	CHECK_EQ(gi.state, MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(gi.query_due, t);
	sim_run_until(s, t);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1);
	sim_take(s);

	/* Group query pending late, group query with MRD 0: now. */
	sim_advance(s, 1);
	t = s->now;
	CHECK_EQ(rxq(s, "ff3e::1", 0xffff, NULL), MLD_OK);
	REQ(ginfo(s, "ff3e::1", &rc).query_due > t);
	CHECK_EQ(rxq(s, "ff3e::1", 0, NULL), MLD_OK);
	CHECK_EQ(ginfo(s, "ff3e::1", &rc).query_due, t);
	sim_run_until(s, t);
	CHECK_EQ(count_records(s, MLD_MODE_IS_INCLUDE, NULL, NULL), 1);
out:
	sim_free(s);
}

/* §5.1.7: hosts ignore the S flag (it only suppresses router-side
 * processing): a query with S set is answered like one without. */
TEST(rfc_5_1_7_s_flag_ignored_by_hosts)
{
	struct sim *s = mk(2, 0);
	struct in6_addr g = A("ff3e::1");
	struct qopts o = {.sflag = 1};
	uint64_t t;
	size_t n;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	settle(s);
	t = s->now;
	n = craft_v2_query(qbuf, NULL, 1000, NULL, &o);
	CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
	n = craft_v2_query(qbuf, "ff3e::1", 1000, NULL, &o);
	CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
	sim_run_until(s, t + 1000);
	CHECK(count_records(s, MLD_MODE_IS_EXCLUDE, &g, NULL) >= 1);
	sim_free(s);
}

/* ================================================================ §9.12 */

/* §9.12: Older Version Querier Present Timeout = RV × (QI of the last query
 * received) + [Query Response Interval]. QRI is the Maximum Response Delay
 * of *general* queries (§9.3); a Multicast Address Specific Query carries
 * [Last Listener Query Interval] (§9.8) instead, which must not become the
 * QRI. Whichever reading of the host's QRI one takes (its default, or the
 * last general query's), it is 10 s here. */
TEST(rfc_9_12_v1_timeout_qri_not_from_group_query)
{
	struct sim *s = mk(2, 10000);
	struct in6_addr g = A("ff3e::1");
	struct qopts gq = {.qrv = 3, .qqic = 125}, llq = {.qrv = 3, .qqic = 60};
	uint64_t t;
	size_t n;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	settle(s);
	n = craft_v2_query(qbuf, NULL, 10000, NULL, &gq);
	CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
	settle(s);
	/* The querier's Last Listener Query: MRC = LLQI = 1 s, QQIC 60 s. */
	n = craft_v2_query(qbuf, "ff3e::1", 1000, NULL, &llq);
	CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
	settle(s);
	t = s->now;
	n = craft_v1_query(qbuf, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, qbuf, n), MLD_OK);
	CHECK_EQ(linfo(s).version, 1);
	CHECK_EQ(linfo(s).v1_present_until, t + 3 * 60000 + 10000);
	sim_free(s);
}

/* ================================================================ §5.1.3 / §5.1.9 */

/* Every Maximum Response Code: strictly increasing delays; the encoder
 * gives each delay back its code: decode(encode(decode(c))) == decode(c). */
TEST(rfc_5_1_3_mrc_all_codes)
{
	uint32_t prev = 0, c;
	int bad = 0;

	for (c = 0; c <= 0xffff; c++) {
		uint32_t d = mld_mrc_to_ms((uint16_t)c);
		uint16_t e = mld_ms_to_mrc(d);

		if (c && d <= prev && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u ms not above %u", c, d, prev);
		if (mld_mrc_to_ms(e) != d && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u ms re-encodes to %#x (%u ms)", c,
			       d, e, mld_mrc_to_ms(e));
		if (e != c && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u ms encodes to %#x", c, d, e);
		prev = d;
	}
}

TEST(rfc_5_1_3_mrc_boundaries)
{
	/* Plain below 32768, exponential from it. */
	CHECK_EQ(mld_mrc_to_ms(32767), 32767);
	CHECK_EQ(mld_mrc_to_ms(32768), 32768);
	CHECK_EQ(mld_mrc_to_ms(0x8001), 32776);
	CHECK_EQ(mld_mrc_to_ms(0x8fff), 65528);
	CHECK_EQ(mld_mrc_to_ms(0x9000), 65536);
	CHECK_EQ(mld_mrc_to_ms(0xffff), 8387584);
	CHECK_EQ(mld_ms_to_mrc(0), 0);
	CHECK_EQ(mld_ms_to_mrc(32767), 32767);
	CHECK_EQ(mld_ms_to_mrc(32768), 0x8000);
	CHECK_EQ(mld_ms_to_mrc(32769), 0x8001);
	CHECK_EQ(mld_ms_to_mrc(65528), 0x8fff);
	CHECK_EQ(mld_ms_to_mrc(65529), 0x9000);
	CHECK_EQ(mld_ms_to_mrc(8387584), 0xffff);
	CHECK_EQ(mld_ms_to_mrc(8387585), 0xffff); /* saturates */
	CHECK_EQ(mld_ms_to_mrc(UINT32_MAX), 0xffff);
	/* The encoder returns the smallest code whose delay is >= ms. */
	{
		uint32_t ms;
		int bad = 0;

		for (ms = 0; ms <= 8387584; ms++) {
			uint16_t c = mld_ms_to_mrc(ms);

			if ((mld_mrc_to_ms(c) < ms ||
			     (c && mld_mrc_to_ms((uint16_t)(c - 1)) >= ms)) &&
			    bad++ < 5)
				t_fail(__FILE__, __LINE__, "%u ms encodes to %#x (%u ms)", ms, c,
				       mld_mrc_to_ms(c));
		}
	}
}

TEST(rfc_5_1_9_qqic_all_codes)
{
	uint32_t prev = 0, c;
	int bad = 0;

	for (c = 0; c <= 0xff; c++) {
		uint32_t d = mld_qqic_to_s((uint8_t)c);
		uint8_t e = mld_s_to_qqic(d);

		if (c && d <= prev && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u s not above %u", c, d, prev);
		if (mld_qqic_to_s(e) != d && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u s re-encodes to %#x", c, d, e);
		if (e != c && bad++ < 5)
			t_fail(__FILE__, __LINE__, "code %#x: %u s encodes to %#x", c, d, e);
		prev = d;
	}
}

TEST(rfc_5_1_9_qqic_boundaries)
{
	uint32_t sec;
	int bad = 0;

	CHECK_EQ(mld_qqic_to_s(127), 127);
	CHECK_EQ(mld_qqic_to_s(128), 128);
	CHECK_EQ(mld_qqic_to_s(0x81), 136);
	CHECK_EQ(mld_qqic_to_s(0x8f), 248);
	CHECK_EQ(mld_qqic_to_s(0x90), 256);
	CHECK_EQ(mld_qqic_to_s(0xff), 31744);
	CHECK_EQ(mld_s_to_qqic(127), 127);
	CHECK_EQ(mld_s_to_qqic(128), 0x80);
	CHECK_EQ(mld_s_to_qqic(129), 0x81);
	CHECK_EQ(mld_s_to_qqic(248), 0x8f);
	CHECK_EQ(mld_s_to_qqic(249), 0x90);
	CHECK_EQ(mld_s_to_qqic(31744), 0xff);
	CHECK_EQ(mld_s_to_qqic(31745), 0xff);
	CHECK_EQ(mld_s_to_qqic(UINT32_MAX), 0xff);
	for (sec = 0; sec <= 31744; sec++) {
		uint8_t c = mld_s_to_qqic(sec);

		if ((mld_qqic_to_s(c) < sec || (c && mld_qqic_to_s((uint8_t)(c - 1)) >= sec)) &&
		    bad++ < 5)
			t_fail(__FILE__, __LINE__, "%u s encodes to %#x (%u s)", sec, c,
			       mld_qqic_to_s(c));
	}
}
