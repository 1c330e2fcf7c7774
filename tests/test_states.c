/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One test per (group state, event) pair that the seed's switch statements on
 * in6m_state handle (shared/seed/mld6.c.txt, FreeBSD mld6.c 2009):
 *
 *   L742  mld_v1_update_group          MLDv1 query           states_v1q_*
 *   L933  mld_v2_process_group_query   MLDv2 (S)G query      states_v2q_*
 *   L1088 mld_v1_input_report          other host's v1 report states_v1r_*
 *   L1348 mld_v1_process_group_timer   v1 report timer       states_v1t_*
 *   L1420 mld_v2_process_group_timers  v2 response / SC timer states_v2t_*
 *   L1563 mld_v2_cancel_link_timers    switch to MLDv1 mode  states_v1sw_*
 *   L2054 mld_final_leave              last listener leaves  states_leave_*
 *   L2846 general-query dispatch loop  interface timer fires states_gq_*
 *
 * Every state is reached through real sequences (put_in_state). Expected
 * behaviour is RFC 3810 / RFC 2710 with shared/seed/ERRATA.md, not the seed
 * where they differ; each such place says so. Pairs this engine cannot reach
 * by design (a v2-only state in v1 mode, a v1-only state in v2 mode) are
 * tested as close as the engine lets us get, and the comment says how.
 *
 * The engine deletes a group instead of keeping it in NOT_MEMBER, so "NOT"
 * is asserted as "no such group" (state_of() == GONE).
 */
#include "harness.h"

#define G         "ff3e::1"  /* the group under test */
#define G2        "ff3e::2"  /* a bystander group */
#define ELSEWHERE "ff3e::99" /* a group nobody here joined */
#define ALLNODES  "ff02::1"  /* SILENT: every node holds it, never reported */
#define PEER      "fe80::77" /* another listener on the link */
#define S1        "2001:db8::1"
#define S2        "2001:db8::2"
#define S3        "2001:db8::3"
#define Q1        "2001:db8::5" /* queried sources */
#define Q2        "2001:db8::6"
#define GONE      (-1)

static const char *LST = "app";

/* REQUIRE that also frees the test's sim (no leak report on failure). */
#define REQUIRE_S(c)                                                                               \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			t_fail(__FILE__, __LINE__, "required: %s", #c);                            \
			sim_free(s);                                                               \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static int state_of_on(struct sim *s, uint32_t ifx, const char *g)
{
	struct mld_group_info gi;
	struct in6_addr a = A(g);

	if (mld_group_info(s->e, ifx, &a, &gi) != MLD_OK)
		return GONE;
	return (int)gi.state;
}

static int state_of(struct sim *s, const char *g)
{
	return state_of_on(s, IF1, g);
}

static struct mld_group_info info(struct sim *s, const char *g)
{
	struct mld_group_info gi;
	struct in6_addr a = A(g);

	memset(&gi, 0, sizeof(gi));
	CHECK_EQ(mld_group_info(s->e, IF1, &a, &gi), MLD_OK);
	return gi;
}

static struct mld_link_info linfo(struct sim *s)
{
	struct mld_link_info li;

	memset(&li, 0, sizeof(li));
	CHECK_EQ(mld_link_info(s->e, IF1, &li), MLD_OK);
	return li;
}

static struct mld_stats stats(struct sim *s)
{
	struct mld_stats st;

	mld_stats_get(s->e, &st);
	return st;
}

static void rx_on(struct sim *s, uint32_t ifx, const uint8_t *b, size_t n)
{
	CHECK_EQ(mld_input_packet(s->e, ifx, b, n, s->now), MLD_OK);
}

/* MLDv1 query (group NULL = general), Maximum Response Delay in ms. */
static void v1q_on(struct sim *s, uint32_t ifx, const char *group, uint16_t mrd)
{
	uint8_t b[256];

	rx_on(s, ifx, b, craft_v1_query(b, group, mrd, NULL));
}

static void v1q(struct sim *s, const char *group, uint16_t mrd)
{
	v1q_on(s, IF1, group, mrd);
}

/* MLDv2 query (group NULL = general); mrc below 32768 is plain ms. */
static void v2q_on(struct sim *s, uint32_t ifx, const char *group, uint16_t mrc, const char *srcs)
{
	uint8_t b[1024];

	rx_on(s, ifx, b, craft_v2_query(b, group, mrc, srcs, NULL));
}

static void v2q(struct sim *s, const char *group, uint16_t mrc, const char *srcs)
{
	v2q_on(s, IF1, group, mrc, srcs);
}

/* Another host's MLDv1 report. */
static void v1r(struct sim *s, const char *group)
{
	uint8_t b[256];

	rx_on(s, IF1, b, craft_v1_report(b, group, PEER));
}

static void join_on(struct sim *s, uint32_t ifx, const char *g)
{
	struct in6_addr a = A(g);

	CHECK_EQ(mld_join(s->e, ifx, LST, &a, s->now), MLD_OK);
}

static void join(struct sim *s, const char *g)
{
	join_on(s, IF1, g);
}

static void leave(struct sim *s, const char *g)
{
	struct in6_addr a = A(g);

	CHECK_EQ(mld_leave(s->e, IF1, LST, &a, s->now), MLD_OK);
}

static void join_src(struct sim *s, const char *g, const char *src)
{
	struct in6_addr a = A(g), x = A(src);

	CHECK_EQ(mld_join_source(s->e, IF1, LST, &a, &x, s->now), MLD_OK);
}

static void exclude_one(struct sim *s, const char *g, const char *src)
{
	struct in6_addr a = A(g), x = A(src);

	CHECK_EQ(mld_set_filter(s->e, IF1, LST, &a, MLD_FMODE_EXCLUDE, &x, 1, s->now), MLD_OK);
}

static void link_up(struct sim *s, int up)
{
	CHECK_EQ(mld_link_set_up(s->e, IF1, up, s->now), MLD_OK);
}

/* Lets every pending transmission go out, then forgets the packets. */
static void settle(struct sim *s)
{
	sim_advance(s, 5000);
	sim_take(s);
}

/* v2 records of a type (0 = any) for group g among the pending packets. */
static size_t recs(struct sim *s, uint8_t type, const char *g, const struct drec **last)
{
	struct in6_addr a = A(g);

	return count_records(s, type, &a, last);
}

static size_t pkts_of(struct sim *s, uint8_t icmp_type)
{
	size_t i, n = 0;

	for (i = 0; i < sim_pending(s); i++)
		if (sim_pkt(s, i)->icmp_type == icmp_type)
			n++;
	return n;
}

/* Time of the i-th pending packet (fails the test if there is none). */
static uint64_t ptime(struct sim *s, size_t i)
{
	struct dpkt *d = sim_pkt(s, i);

	CHECK(d != NULL);
	return d ? d->time : 0;
}

/* Pending MLDv1 messages of a type for g, each checked for its addresses:
 * from our link-local address; a report to the group, a Done to ff02::2
 * (errata 12, RFC 2710 §4). */
static size_t v1msgs(struct sim *s, uint8_t type, const char *g)
{
	struct in6_addr a = A(g), ll = A(LL1), routers = A("ff02::2");
	size_t i, n = 0;

	for (i = 0; i < sim_pending(s); i++) {
		struct dpkt *d = sim_pkt(s, i);

		if (d->icmp_type != type || memcmp(&d->group, &a, 16))
			continue;
		n++;
		CHECK(!memcmp(&d->src, &ll, 16));
		if (type == MLD_ICMP_V1_DONE)
			CHECK(!memcmp(&d->dst, &routers, 16));
		else
			CHECK(!memcmp(&d->dst, &a, 16));
	}
	return n;
}

/*
 * Puts group G (ALLNODES for SILENT) in state st through real protocol
 * sequences and returns the group's literal. All packets sent on the way
 * are taken. NOT: the group is never joined.
 */
static const char *put_in_state(struct sim *s, enum mld_state st)
{
	const char *g = G;

	switch (st) {
	case MLD_NOT_MEMBER:
		break;
	case MLD_SILENT_MEMBER:
		g = ALLNODES;
		join(s, g);
		break;
	case MLD_REPORTING_MEMBER:
		join(s, g);
		break;
	case MLD_IDLE_MEMBER:
	case MLD_LAZY_MEMBER:
		/* v1 mode, and our report answered the v1 query. */
		join(s, g);
		settle(s);
		v1q(s, NULL, 1000);
		sim_advance(s, 1001);
		CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
		if (st == MLD_LAZY_MEMBER)
			v1r(s, g); /* then another host reported last */
		break;
	case MLD_SLEEPING_MEMBER:
	case MLD_AWAKENING_MEMBER:
		join(s, g);
		settle(s);
		link_up(s, 0);
		if (st == MLD_AWAKENING_MEMBER)
			v1q(s, NULL, 1000);
		break;
	case MLD_G_QUERY_PENDING_MEMBER:
		join(s, g);
		settle(s);
		v2q(s, g, 10000, NULL);
		break;
	case MLD_SG_QUERY_PENDING_MEMBER:
		/* ASM member: IS_IN(Q) is non-empty (errata 15). */
		join(s, g);
		settle(s);
		v2q(s, g, 10000, Q1);
		break;
	case MLD_LEAVING_MEMBER:
		/* First TO_IN{} out, one retransmission still pending (RV 2). */
		join(s, g);
		settle(s);
		leave(s, g);
		sim_run_until(s, s->now);
		CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
		break;
	default:
		break;
	}
	if (st == MLD_REPORTING_MEMBER || st == MLD_SILENT_MEMBER)
		settle(s);
	sim_take(s);
	CHECK_EQ(state_of(s, g), st == MLD_NOT_MEMBER ? GONE : (int)st);
	return g;
}

/* v1 mode, REPORTING with the v1 report timer running (a "delaying
 * member", RFC 2710 §5): IDLE, then a v1 query with a 10 s delay. */
static const char *put_v1_delaying(struct sim *s, uint64_t *due)
{
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	v1q(s, NULL, 10000);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	*due = info(s, g).query_due;
	CHECK(*due > s->now && *due <= s->now + 10000);
	return g;
}

/* A silent link IF2 (loopback-like): groups there are always SILENT. */
static void add_silent_link(struct sim *s)
{
	CHECK_EQ(mld_link_add(s->e, IF2, 1500, MLD_LINK_SILENT, s->now), MLD_OK);
}

/* ================================================================== */
/* L742 mld_v1_update_group: an MLDv1 query arrives (RFC 2710 §4).   */
/* ================================================================== */

TEST(states_v1q_not)
{
	struct sim *s = sim_new(NULL);

	put_in_state(s, MLD_NOT_MEMBER);
	v1q(s, G, 1000);
	CHECK_EQ(state_of(s, G), GONE);
	CHECK_EQ(stats(s).rx_ignored_not_member, 1);
	CHECK_EQ(linfo(s).version, 1);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1q_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	v1q(s, NULL, 1000);
	v1q(s, g, 1000);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0); /* errata 22: ff02::1 is never reported */
	sim_free(s);
}

/* SILENT because the link is silent (MLD_LINK_SILENT). */
TEST(states_v1q_silent_link)
{
	struct sim *s = sim_new(NULL);

	add_silent_link(s);
	join_on(s, IF2, G);
	CHECK_EQ(state_of_on(s, IF2, G), MLD_SILENT_MEMBER);
	v1q_on(s, IF2, NULL, 1000);
	CHECK_EQ(state_of_on(s, IF2, G), MLD_SILENT_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* v2 member, first v1 query: v1 mode, a v1 report within the delay. */
TEST(states_v1q_reporting)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);
	uint64_t t0 = s->now, due;

	v1q(s, NULL, 1000);
	CHECK_EQ(linfo(s).version, 1);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	due = info(s, g).query_due;
	CHECK(due >= t0 && due <= t0 + 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(pkts_of(s, MLD_ICMP_V2_REPORT), 0);
	CHECK_EQ(ptime(s, 0), due);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* L747: timer running and due within the new delay: left alone. */
TEST(states_v1q_reporting_timer_kept)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	v1q(s, NULL, 30000);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, d1);
	sim_run_until(s, d1 + 30000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(ptime(s, 0), d1);
	sim_free(s);
}

/* RFC 2710 §4: a shorter Maximum Response Delay resets the timer. */
TEST(states_v1q_reporting_timer_shortened)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1, t0;
	const char *g = put_v1_delaying(s, &d1);

	REQUIRE_S(d1 > s->now + 100);
	t0 = s->now;
	v1q(s, NULL, 100);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 100);
	sim_advance(s, 100);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	sim_run_until(s, d1 + 1);
	CHECK_EQ(sim_pending(s), 1); /* the old deadline sends nothing */
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

TEST(states_v1q_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);
	uint64_t t0 = s->now;

	v1q(s, g, 1000); /* group-specific this time */
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

TEST(states_v1q_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);
	uint64_t t0 = s->now;

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* Link down: remember the query (AWAKENING), send nothing; report on wake. */
TEST(states_v1q_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SLEEPING_MEMBER);

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	link_up(s, 1);
	sim_advance(s, 10000);
	/* RFC 2710 §4 unsolicited report, repeated (errata 10). */
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 2);
	CHECK_EQ(pkts_of(s, MLD_ICMP_V2_REPORT), 0);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* The seed goes REPORTING here and would report on a down link; the
 * engine stays AWAKENING while the link is down. */
TEST(states_v1q_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	link_up(s, 1);
	sim_run_until(s, s->now);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	sim_free(s);
}

/* The v1 query switches the link to v1 first (L1563), so the pending v2
 * answer is dropped and the v1 query is answered with a v1 report. */
TEST(states_v1q_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t t0 = s->now;

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 11000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

TEST(states_v1q_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t t0 = s->now;

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 0);
	CHECK(info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 11000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* v2 LEAVING: the switch to v1 (L1571) releases the group; nothing more
 * is sent for it (no TO_IN{}, no Done, no report). */
TEST(states_v1q_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* v1 LEAVING (a Done due now), query in the same instant: ignored. */
TEST(states_v1q_leaving_v1)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	v1q(s, NULL, 1000);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 2000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_DONE, g), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* ================================================================== */
/* L933 mld_v2_process_group_query: MLDv2 multicast-address-specific  */
/* (G) or multicast-address-and-source-specific (SG) query            */
/* (RFC 3810 §6.2 rules 3-5, §6.3).                                   */
/* ================================================================== */

TEST(states_v2q_not)
{
	struct sim *s = sim_new(NULL);

	put_in_state(s, MLD_NOT_MEMBER);
	v2q(s, G, 1000, NULL);
	v2q(s, G, 1000, Q1);
	CHECK_EQ(state_of(s, G), GONE);
	CHECK_EQ(stats(s).rx_ignored_not_member, 2);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v2q_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	v2q(s, g, 1000, NULL);
	v2q(s, g, 1000, Q1);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v2q_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SLEEPING_MEMBER);

	v2q(s, g, 1000, NULL);
	v2q(s, g, 1000, Q1);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	/* Waking announces the state afresh: TO_EX{}, not a query answer. */
	link_up(s, 1);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, g, NULL), 2);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 0);
	sim_free(s);
}

/* LAZY exists only in v1 mode, where (errata 7, RFC 3810 §8.2.1 / §8.1)
 * a v2 query is read as a v1 query: the seed's "ignore" becomes a v1
 * report, and the Older Version Querier Present timer is not re-armed. */
TEST(states_v2q_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);
	uint64_t until = linfo(s).v1_present_until, t0 = s->now;

	v2q(s, g, 1000, NULL);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 1000);
	CHECK_EQ(linfo(s).v1_present_until, until);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* AWAKENING (v1 mode, link down): the v2 query read as v1 changes nothing. */
TEST(states_v2q_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	v2q(s, g, 1000, NULL);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* IDLE (v1 mode): an SG query read as a v1 group query (errata 7). */
TEST(states_v2q_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);
	uint64_t t0 = s->now;

	v2q(s, g, 1000, Q1);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK(info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* LEAVING: no current-state answer; the TO_IN{} retransmission goes on. */
TEST(states_v2q_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	v2q(s, g, 1000, NULL);
	v2q(s, g, 1000, Q1);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 2000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* Group query: G_QUERY_PENDING, then IS_EX{} within the delay. */
TEST(states_v2q_reporting_group)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);
	const struct drec *r = NULL;
	uint64_t t0 = s->now;

	v2q(s, g, 1000, NULL);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	CHECK(info(s, g).query_due >= t0 && info(s, g).query_due <= t0 + 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* Errata 15: a pure ASM listener (EXCLUDE{}) answers an SG query: IS_IN(Q). */
TEST(states_v2q_reporting_gs_asm)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);
	const struct drec *r = NULL;

	v2q(s, g, 1000, Q1 " " Q2);
	CHECK_EQ(state_of(s, g), MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 2);
	sim_advance(s, 1001);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, Q1 " " Q2));
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 0);
	sim_free(s);
}

/* RFC 3810 §6.3: INCLUDE(A) answers IS_IN(A∩Q). */
TEST(states_v2q_reporting_gs_include)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;

	join_src(s, G, S1);
	join_src(s, G, S2);
	settle(s);
	v2q(s, G, 1000, S2 " " S3);
	CHECK_EQ(state_of(s, G), MLD_SG_QUERY_PENDING_MEMBER);
	sim_advance(s, 1001);
	CHECK_EQ(recs(s, 0, G, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, G, &r), 1);
	CHECK(rec_srcs_are(r, S2));
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* Errata 15: A∩Q empty: nothing recorded, nothing scheduled, nothing sent. */
TEST(states_v2q_reporting_gs_include_miss)
{
	struct sim *s = sim_new(NULL);

	join_src(s, G, S1);
	settle(s);
	v2q(s, G, 1000, S3);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, G).query_due, 0);
	CHECK_EQ(info(s, G).nrecorded, 0);
	sim_advance(s, 2000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* Errata 15: EXCLUDE(A) answers IS_IN(Q−A) (the seed said IS_EX(A∩Q)). */
TEST(states_v2q_reporting_gs_exclude)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;

	exclude_one(s, G, S1);
	settle(s);
	v2q(s, G, 1000, S1 " " S2);
	CHECK_EQ(state_of(s, G), MLD_SG_QUERY_PENDING_MEMBER);
	sim_advance(s, 1001);
	CHECK_EQ(recs(s, 0, G, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, G, &r), 1);
	CHECK(rec_srcs_are(r, S2));
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, G, NULL), 0);
	sim_free(s);
}

/* Errata 15: EXCLUDE(A) with Q ⊆ A: the answer is empty, nothing is sent. */
TEST(states_v2q_reporting_gs_exclude_miss)
{
	struct sim *s = sim_new(NULL);

	exclude_one(s, G, S1);
	settle(s);
	v2q(s, G, 1000, S1);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, G).query_due, 0);
	sim_advance(s, 2000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* Rule 1 (errata 8): a general-query response due sooner covers the group. */
TEST(states_v2q_reporting_gq_sooner)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);

	v2q(s, NULL, 1, NULL);
	REQUIRE_S(linfo(s).gq_due != 0);
	v2q(s, g, 10000, NULL);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 11000);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	sim_free(s);
}

/* Rule 4: another G query keeps one response, at the earlier time. */
TEST(states_v2q_g_query_pending_group)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;

	v2q(s, g, 30000, NULL);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	CHECK(info(s, g).query_due <= d1);
	sim_advance(s, 31000);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	sim_free(s);
}

/* Rule 4: an SG query on a pending G response keeps it a G response. */
TEST(states_v2q_g_query_pending_gs)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	v2q(s, g, 30000, Q1);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 0);
	CHECK(info(s, g).query_due <= d1);
	sim_advance(s, 31000);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	sim_free(s);
}

/* Rule 4: a G query replaces a pending SG response with a G response. */
TEST(states_v2q_sg_query_pending_group)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;

	v2q(s, g, 30000, NULL);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 0);
	CHECK(info(s, g).query_due <= d1);
	sim_advance(s, 31000);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* Rule 5: an SG query on a pending SG response augments the source list. */
TEST(states_v2q_sg_query_pending_gs)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	v2q(s, g, 30000, Q2);
	CHECK_EQ(state_of(s, g), MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 2);
	CHECK(info(s, g).query_due <= d1);
	sim_advance(s, 31000);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, Q1 " " Q2));
	sim_free(s);
}

/* ================================================================== */
/* L1088 mld_v1_input_report: another host's MLDv1 report (RFC 2710   */
/* §4 suppression; RFC 3810 §6: none in v2 mode).                     */
/* ================================================================== */

TEST(states_v1r_not)
{
	struct sim *s = sim_new(NULL);

	put_in_state(s, MLD_NOT_MEMBER);
	v1q(s, NULL, 1000); /* v1 mode */
	v1r(s, G);
	CHECK_EQ(stats(s).rx_v1_reports, 1);
	CHECK_EQ(state_of(s, G), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1r_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	v1q(s, NULL, 1000);
	v1r(s, g);
	CHECK_EQ(stats(s).rx_v1_reports, 1);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* v1 mode, link down. */
TEST(states_v1r_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	link_up(s, 0);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* Delaying member hears a report: timer stopped, no report (LAZY). */
TEST(states_v1r_reporting)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_LAZY_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_run_until(s, d1 + 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* L1054: our own report looped back is not another listener's. */
TEST(states_v1r_reporting_own_report)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);
	uint8_t b[256];

	rx_on(s, IF1, b, craft_v1_report(b, g, LL1));
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, d1);
	sim_run_until(s, d1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	sim_free(s);
}

/* In v2 mode (L1083) a v1 report suppresses nothing. */
TEST(states_v1r_reporting_v2mode)
{
	struct sim *s = sim_new(NULL);

	join(s, G);
	sim_run_until(s, s->now);
	sim_take(s);
	v1r(s, G);
	CHECK_EQ(stats(s).rx_v1_reports, 1);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK(info(s, G).sc_due != 0);
	sim_advance(s, 2000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, G, NULL), 1); /* retransmission */
	sim_free(s);
}

TEST(states_v1r_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_LAZY_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* IDLE right after a v1 join, its unsolicited repeat (errata 10) still
 * pending: the report suppresses the repeat too. */
TEST(states_v1r_idle_repeat_suppressed)
{
	struct sim *s = sim_new(NULL);

	v1q(s, NULL, 1000); /* v1 mode, no groups yet */
	join(s, G);
	sim_run_until(s, s->now);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, G), 1);
	sim_take(s);
	CHECK_EQ(state_of(s, G), MLD_IDLE_MEMBER);
	CHECK(info(s, G).sc_due != 0);
	v1r(s, G);
	CHECK_EQ(state_of(s, G), MLD_LAZY_MEMBER);
	CHECK_EQ(info(s, G).sc_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1r_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_LAZY_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* The seed goes AWAKENING → LAZY here (L1095). A report "heard" on a link
 * that is down cannot have been heard: the engine ignores it, and the group
 * keeps AWAKENING (report on wake). Nothing is sent. */
TEST(states_v1r_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* G_QUERY_PENDING exists only in v2 mode, where v1 reports are ignored
 * (L1083, RFC 3810 §6): the answer still goes out. */
TEST(states_v1r_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).query_due, d1);
	sim_advance(s, 11000);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	sim_free(s);
}

TEST(states_v1r_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(info(s, g).query_due, d1);
	sim_advance(s, 11000);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, Q1));
	sim_free(s);
}

/* v2 LEAVING: ignored, the TO_IN{} retransmission still goes out. */
TEST(states_v1r_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_advance(s, 2000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* v1 LEAVING (Done due now): the decision stands, the Done goes out. */
TEST(states_v1r_leaving_v1)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	v1r(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_advance(s, 2000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_DONE, g), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* ================================================================== */
/* L1348 mld_v1_process_group_timer: v1 timers expire (v1 mode).      */
/* ================================================================== */

/* After a v1 leave the group is gone: no timer is left for it. */
TEST(states_v1t_not)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	leave(s, g);
	sim_run_until(s, s->now);
	sim_take(s);
	CHECK_EQ(state_of(s, g), GONE);
	CHECK_EQ(mld_next_deadline(s->e), linfo(s).v1_present_until);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1t_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	v1q(s, NULL, 1000);
	CHECK_EQ(info(s, g).query_due, 0);
	CHECK_EQ(info(s, g).sc_due, 0);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	sim_free(s);
}

/* L1356: REPORTING → IDLE with a v1 report to the group at the deadline. */
TEST(states_v1t_reporting)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	sim_run_until(s, d1 - 1);
	CHECK_EQ(sim_pending(s), 0);
	sim_run_until(s, d1);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_free(s);
}

/* IDLE's only timer here is the unsolicited-report repeat (errata 10,
 * RFC 2710 §4): a v1 join reports at once and once more within the
 * v1 Unsolicited Report Interval, staying IDLE. */
TEST(states_v1t_idle)
{
	struct sim *s = sim_new(NULL);
	uint64_t t0;

	v1q(s, NULL, 1000);
	t0 = s->now;
	join(s, G);
	sim_run_until(s, s->now);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, G), 1);
	CHECK_EQ(state_of(s, G), MLD_IDLE_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, G), 2);
	CHECK_EQ(sim_pending(s), 2);
	CHECK(ptime(s, 1) > t0 && ptime(s, 1) <= t0 + 10000);
	CHECK_EQ(state_of(s, G), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* LAZY: the suppressed timer's deadline passes silently. */
TEST(states_v1t_lazy)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	v1r(s, g);
	sim_run_until(s, d1 + 1000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_LAZY_MEMBER);
	sim_free(s);
}

/* SLEEPING: link down stops the running timer; nothing at its deadline. */
TEST(states_v1t_sleeping)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	link_up(s, 0);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_run_until(s, d1 + 1000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	sim_free(s);
}

TEST(states_v1t_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	sim_free(s);
}

/* G_QUERY_PENDING cannot exist in v1 mode: the switch turns it into a
 * v1 delaying member. Its old v2 deadline passes without an IS_EX; the
 * v1 timer's expiry sends only a v1 report. */
TEST(states_v1t_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due, d2;

	v1q(s, g, 30000);
	d2 = info(s, g).query_due;
	sim_run_until(s, d1 > d2 ? d1 : d2);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(ptime(s, 0), d2);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

TEST(states_v1t_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due, d2;

	v1q(s, g, 30000);
	d2 = info(s, g).query_due;
	sim_run_until(s, d1 > d2 ? d1 : d2);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(pkts_of(s, MLD_ICMP_V2_REPORT), 0);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* v1 LEAVING: the Done (to ff02::2, errata 12) is the timer's work; the
 * group is gone after it. */
TEST(states_v1t_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).sc_due, s->now);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_DONE, g), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 1);
	sim_free(s);
}

/* ================================================================== */
/* L1420 mld_v2_process_group_timers: query-response or state-change  */
/* retransmission timer expires (RFC 3810 §6.1, §6.3).                */
/* ================================================================== */

/* After its TO_IN{} retransmissions the group is gone with no timers. */
TEST(states_v2t_not)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);

	leave(s, g);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 2);
	sim_take(s);
	CHECK_EQ(state_of(s, g), GONE);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* SILENT groups (ff02::1, interface-local ff01::, reserved ff00::) run no
 * timers and send nothing (errata 22). */
TEST(states_v2t_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	join(s, "ff01::1");
	join(s, "ff00::1234");
	CHECK_EQ(state_of(s, "ff01::1"), MLD_SILENT_MEMBER);
	CHECK_EQ(state_of(s, "ff00::1234"), MLD_SILENT_MEMBER);
	CHECK_EQ(info(s, g).sc_due, 0);
	CHECK_EQ(info(s, "ff01::1").sc_due, 0);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* L1447: state-change retransmission: TO_EX{} (errata 14) RV times, the
 * second within the Unsolicited Report Interval (1 s, errata 11). */
TEST(states_v2t_reporting)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;
	uint64_t t0 = s->now;

	join(s, G);
	CHECK_EQ(info(s, G).sc_due, t0);
	sim_advance(s, 5000);
	CHECK_EQ(sim_pending(s), 2);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, G, &r), 2);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(ptime(s, 0), t0);
	CHECK(ptime(s, 1) > t0 && ptime(s, 1) <= t0 + 1000);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, G).sc_due, 0);
	sim_free(s);
}

/* Errata 14: an INCLUDE-mode join retransmits ALLOW(S), not TO_IN(S). */
TEST(states_v2t_reporting_include)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;

	join_src(s, G, S1);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, 0, G, NULL), 2);
	CHECK_EQ(recs(s, MLD_ALLOW_NEW_SOURCES, G, &r), 2);
	CHECK(rec_srcs_are(r, S1));
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* IDLE cannot meet a v2 timer: when the Older Version Querier Present
 * timer expires (errata 9) it becomes REPORTING with no timer and sends
 * nothing. */
TEST(states_v2t_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	sim_run_until(s, linfo(s).v1_present_until);
	CHECK_EQ(linfo(s).version, 2);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	CHECK_EQ(info(s, g).sc_due, 0);
	CHECK_EQ(sim_pending(s), 0);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* LAZY likewise (errata 9); a later leave then does send TO_IN{}. */
TEST(states_v2t_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);

	sim_run_until(s, linfo(s).v1_present_until);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(sim_pending(s), 0);
	leave(s, g);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 2);
	sim_free(s);
}

/* SLEEPING: link down drops the pending retransmission. */
TEST(states_v2t_sleeping)
{
	struct sim *s = sim_new(NULL);

	join(s, G);
	sim_run_until(s, s->now);
	sim_take(s);
	REQUIRE_S(info(s, G).sc_due != 0);
	link_up(s, 0);
	CHECK_EQ(state_of(s, G), MLD_SLEEPING_MEMBER);
	CHECK_EQ(info(s, G).sc_due, 0);
	sim_advance(s, 30000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, G), MLD_SLEEPING_MEMBER);
	sim_free(s);
}

/* AWAKENING cannot meet a v2 timer: back in v2 (errata 9) with the link
 * still down it is SLEEPING; link-up then announces TO_EX{}. */
TEST(states_v2t_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	sim_run_until(s, linfo(s).v1_present_until);
	CHECK_EQ(linfo(s).version, 2);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	CHECK_EQ(sim_pending(s), 0);
	link_up(s, 1);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, g, NULL), 2);
	CHECK_EQ(pkts_of(s, MLD_ICMP_V1_REPORT), 0);
	sim_free(s);
}

/* L1436: the G answer, IS_EX{} for an ASM group, at the deadline. */
TEST(states_v2t_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	sim_run_until(s, d1);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(ptime(s, 0), d1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_free(s);
}

/* G answer of an INCLUDE group: IS_IN(A). */
TEST(states_v2t_g_query_pending_include)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;

	join_src(s, G, S1);
	join_src(s, G, S2);
	settle(s);
	v2q(s, G, 1000, NULL);
	CHECK_EQ(state_of(s, G), MLD_G_QUERY_PENDING_MEMBER);
	sim_advance(s, 1001);
	CHECK_EQ(recs(s, 0, G, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, G, &r), 1);
	CHECK(rec_srcs_are(r, S1 " " S2));
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* L1446 fall-through: both timers of a G_QUERY_PENDING group run; the
 * answer and the TO_EX{} retransmission both go out. */
TEST(states_v2t_g_query_pending_with_retransmission)
{
	struct sim *s = sim_new(NULL);

	join(s, G);
	sim_run_until(s, s->now);
	sim_take(s);
	v2q(s, G, 1000, NULL);
	CHECK_EQ(state_of(s, G), MLD_G_QUERY_PENDING_MEMBER);
	CHECK(info(s, G).sc_due != 0);
	sim_advance(s, 2000);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, G, NULL), 1);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, G, NULL), 1);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, G).sc_due, 0);
	sim_free(s);
}

/* L1436: the SG answer IS_IN(Q) for an ASM group (errata 15). */
TEST(states_v2t_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	sim_run_until(s, d1);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, Q1));
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).nrecorded, 0);
	sim_free(s);
}

/* The answer is computed at expiry from the filter then in force: a
 * queried source dropped meanwhile leaves an empty answer, and an empty
 * IS_IN is never sent (errata 15/16). */
TEST(states_v2t_sg_query_pending_answer_emptied)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A(G), x = A(S2);

	join_src(s, G, S1);
	join_src(s, G, S2);
	settle(s);
	v2q(s, G, 1000, S2);
	CHECK_EQ(state_of(s, G), MLD_SG_QUERY_PENDING_MEMBER);
	CHECK_EQ(mld_leave_source(s->e, IF1, LST, &g, &x, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, G, NULL), 0);
	CHECK_EQ(recs(s, MLD_BLOCK_OLD_SOURCES, G, NULL), 2);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	sim_free(s);
}

/* L1448/L1481: LEAVING: the last TO_IN{} retransmission, then NOT. */
TEST(states_v2t_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);
	uint64_t d = info(s, g).sc_due;
	const struct drec *r = NULL;

	CHECK(d > s->now && d <= s->now + 1000);
	sim_run_until(s, d);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* ================================================================== */
/* L1563 mld_v2_cancel_link_timers: the link switches to MLDv1. The   */
/* event is a v1 query for a group nobody joined, so only the switch  */
/* acts on the group under test. All v2 work in flight is dropped     */
/* (seed L1554–1597; cf. RFC 3376 §7.2.1).                            */
/* ================================================================== */

static void switch_v1(struct sim *s)
{
	v1q(s, ELSEWHERE, 1000);
	CHECK_EQ(linfo(s).version, 1);
}

TEST(states_v1sw_not)
{
	struct sim *s = sim_new(NULL);

	put_in_state(s, MLD_NOT_MEMBER);
	switch_v1(s);
	CHECK_EQ(state_of(s, G), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1sw_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* REPORTING with a TO_EX{} retransmission and a general-query response
 * pending: both are cancelled (L1554, L1589–1596). */
TEST(states_v1sw_reporting)
{
	struct sim *s = sim_new(NULL);

	join(s, G);
	sim_run_until(s, s->now);
	sim_take(s);
	v2q(s, NULL, 5000, NULL);
	REQUIRE_S(linfo(s).gq_due != 0);
	REQUIRE_S(info(s, G).sc_due != 0);
	switch_v1(s);
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, G).sc_due, 0);
	CHECK_EQ(info(s, G).query_due, 0);
	CHECK_EQ(linfo(s).gq_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* IDLE exists only in v1 mode: the link is v1 already, so no switch
 * happens; the query only re-arms the Older Version Querier Present timer. */
TEST(states_v1sw_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);
	uint64_t until = linfo(s).v1_present_until;

	sim_advance(s, 1000);
	switch_v1(s);
	CHECK(linfo(s).v1_present_until > until);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1sw_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_LAZY_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* SLEEPING stays SLEEPING (the query was not for it); on wake it speaks v1. */
TEST(states_v1sw_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SLEEPING_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	link_up(s, 1);
	sim_run_until(s, s->now);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(pkts_of(s, MLD_ICMP_V2_REPORT), 0);
	sim_free(s);
}

/* AWAKENING exists only in v1 mode: no switch; unchanged. */
TEST(states_v1sw_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* L1585: the pending answer is cancelled, back to REPORTING. */
TEST(states_v1sw_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_v1sw_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	CHECK_EQ(info(s, g).nrecorded, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* L1571: the leaving group is released; no more TO_IN{}, no Done. */
TEST(states_v1sw_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	switch_v1(s);
	CHECK_EQ(state_of(s, g), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* The same switch forced by configuration (force_version = 1). */
TEST(states_v1sw_forced_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	struct mld_tunables t;

	mld_tunables_default(&t);
	t.force_version = 1;
	CHECK_EQ(mld_link_set_tunables(s->e, IF1, &t), MLD_OK);
	CHECK_EQ(linfo(s).version, 1);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* ================================================================== */
/* L2054 mld_final_leave: the last listener leaves.                   */
/* ================================================================== */

TEST(states_leave_not)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A(G);

	put_in_state(s, MLD_NOT_MEMBER);
	CHECK_EQ(mld_leave(s->e, IF1, LST, &g, s->now), MLD_E_NOENT);
	CHECK_EQ(state_of(s, G), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_leave_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	join(s, "ff01::1");
	leave(s, g);
	leave(s, "ff01::1");
	CHECK_EQ(state_of(s, g), GONE);
	CHECK_EQ(state_of(s, "ff01::1"), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* v2 ASM: TO_IN{} RV times (errata 14), LEAVING meanwhile, then gone. */
TEST(states_leave_reporting)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_REPORTING_MEMBER);
	const struct drec *r = NULL;
	uint64_t t0 = s->now;

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_run_until(s, s->now);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_advance(s, 5000);
	CHECK_EQ(sim_pending(s), 2);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, &r), 2);
	CHECK(rec_srcs_are(r, ""));
	CHECK(ptime(s, 1) > t0 && ptime(s, 1) <= t0 + 1000);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* Errata 14: an INCLUDE-mode leave is BLOCK(S), not TO_IN{}. */
TEST(states_leave_reporting_include)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;

	join_src(s, G, S1);
	settle(s);
	leave(s, G);
	CHECK_EQ(state_of(s, G), MLD_LEAVING_MEMBER);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, 0, G, NULL), 2);
	CHECK_EQ(recs(s, MLD_BLOCK_OLD_SOURCES, G, &r), 2);
	CHECK(rec_srcs_are(r, S1));
	CHECK_EQ(state_of(s, G), GONE);
	sim_free(s);
}

/* v1 delaying member: we reported last (nobody suppressed us), so Done
 * to ff02::2 (errata 12); the pending report is not sent. */
TEST(states_leave_reporting_v1)
{
	struct sim *s = sim_new(NULL);
	uint64_t d1;
	const char *g = put_v1_delaying(s, &d1);

	leave(s, g);
	sim_run_until(s, d1 + 1000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_DONE, g), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

TEST(states_leave_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	leave(s, g);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_DONE, g), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* RFC 2710 §4: suppressed last time, so nothing (L2111). */
TEST(states_leave_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), GONE);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_leave_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SLEEPING_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), GONE);
	link_up(s, 1);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

TEST(states_leave_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), GONE);
	link_up(s, 1);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	sim_free(s);
}

/* L2083: the query response stops; TO_IN{} RV times; no IS_EX. */
TEST(states_leave_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 2);
	CHECK_EQ(recs(s, 0, g, NULL), 2);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

TEST(states_leave_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);

	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).query_due, 0);
	CHECK_EQ(info(s, g).nrecorded, 0);
	sim_advance(s, 20000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 2);
	CHECK_EQ(recs(s, 0, g, NULL), 2);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* LEAVING has no listener left to leave: the call fails and changes
 * nothing; the pending retransmission goes out as planned. */
TEST(states_leave_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);
	struct in6_addr a = A(g);
	uint64_t d = info(s, g).sc_due;

	CHECK_EQ(mld_leave(s->e, IF1, LST, &a, s->now), MLD_E_NOENT);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	CHECK_EQ(info(s, g).sc_due, d);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* Re-joined while LEAVING: TO_EX{} again; leaving again: TO_IN{} again. */
TEST(states_leave_leaving_rejoined)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	join(s, g);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_EXCLUDE, g, NULL), 2);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 0);
	sim_take(s);
	leave(s, g);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_advance(s, 5000);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 2);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}

/* ================================================================== */
/* ~L2846 general-query response: the interface timer fires           */
/* (RFC 3810 §6.2: one current-state record per address with          */
/* reception state).                                                  */
/* ================================================================== */

static void general_query(struct sim *s, uint16_t mrc)
{
	v2q(s, NULL, mrc, NULL);
}

/* A group left and deleted is not in the response. */
TEST(states_gq_not)
{
	struct sim *s = sim_new(NULL);

	join(s, G);
	join(s, G2);
	settle(s);
	leave(s, G2);
	settle(s);
	CHECK_EQ(state_of(s, G2), GONE);
	general_query(s, 1000);
	sim_advance(s, 1001);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, G, NULL), 1);
	CHECK_EQ(recs(s, 0, G2, NULL), 0);
	sim_free(s);
}

/* SILENT groups (errata 22) are left out. */
TEST(states_gq_silent)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SILENT_MEMBER);

	join(s, "ff01::1");
	join(s, G);
	settle(s);
	general_query(s, 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	REQUIRE_S(sim_pending(s) == 1);
	CHECK_EQ(sim_pkt(s, 0)->nrec, 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, G, NULL), 1);
	CHECK_EQ(recs(s, 0, g, NULL), 0);
	CHECK_EQ(state_of(s, g), MLD_SILENT_MEMBER);
	sim_free(s);
}

/* A silent link answers nothing. */
TEST(states_gq_silent_link)
{
	struct sim *s = sim_new(NULL);

	add_silent_link(s);
	join_on(s, IF2, G);
	v2q_on(s, IF2, NULL, 1000, NULL);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of_on(s, IF2, G), MLD_SILENT_MEMBER);
	sim_free(s);
}

/* IS_EX{} for ASM, IS_IN(A) for INCLUDE, IS_EX(A) for EXCLUDE, paced
 * within the delay; states unchanged. */
TEST(states_gq_reporting)
{
	struct sim *s = sim_new(NULL);
	const struct drec *r = NULL;
	uint64_t t0;

	join(s, G);
	join_src(s, G2, S1);
	exclude_one(s, "ff3e::3", S2);
	settle(s);
	t0 = s->now;
	general_query(s, 1000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK(ptime(s, 0) >= t0 && ptime(s, 0) <= t0 + 1000);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, G, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, G2, &r), 1);
	CHECK(rec_srcs_are(r, S1));
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, "ff3e::3", &r), 1);
	CHECK(rec_srcs_are(r, S2));
	CHECK_EQ(state_of(s, G), MLD_REPORTING_MEMBER);
	CHECK_EQ(state_of(s, G2), MLD_REPORTING_MEMBER);
	CHECK_EQ(linfo(s).gq_active, 0);
	CHECK_EQ(linfo(s).gq_due, 0);
	sim_free(s);
}

/* IDLE exists only in v1 mode, where no interface timer is ever started:
 * the v2 general query is read as a v1 query (errata 7) and answered
 * with a v1 report. */
TEST(states_gq_idle)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_IDLE_MEMBER);

	general_query(s, 1000);
	CHECK_EQ(linfo(s).gq_due, 0);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

TEST(states_gq_lazy)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LAZY_MEMBER);

	general_query(s, 1000);
	CHECK_EQ(linfo(s).gq_due, 0);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(v1msgs(s, MLD_ICMP_V1_REPORT, g), 1);
	CHECK_EQ(state_of(s, g), MLD_IDLE_MEMBER);
	sim_free(s);
}

/* Link down: the timer fires with nothing reportable; nothing is sent
 * (the seed would move the group to REPORTING and enqueue it). */
TEST(states_gq_sleeping)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SLEEPING_MEMBER);

	general_query(s, 1000);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_SLEEPING_MEMBER);
	CHECK_EQ(linfo(s).gq_active, 0);
	CHECK_EQ(linfo(s).gq_due, 0);
	sim_free(s);
}

/* AWAKENING exists only in v1 mode (link down): errata 7 reads the query
 * as v1, and with the link down nothing happens. */
TEST(states_gq_awakening)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_AWAKENING_MEMBER);

	general_query(s, 1000);
	CHECK_EQ(linfo(s).gq_due, 0);
	sim_advance(s, 20000);
	CHECK_EQ(sim_pending(s), 0);
	CHECK_EQ(state_of(s, g), MLD_AWAKENING_MEMBER);
	sim_free(s);
}

/* The seed skips G/SG-pending groups here (L2861); RFC 3810 §6.2 sends a
 * current-state record for every address with reception state, so the
 * group is in the response; its own pending answer follows later. */
TEST(states_gq_g_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_G_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;

	REQUIRE_S(d1 > s->now + 1);
	general_query(s, 1);
	sim_run_until(s, d1 - 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), MLD_G_QUERY_PENDING_MEMBER);
	sim_take(s);
	sim_run_until(s, d1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), MLD_REPORTING_MEMBER);
	sim_free(s);
}

TEST(states_gq_sg_query_pending)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_SG_QUERY_PENDING_MEMBER);
	uint64_t d1 = info(s, g).query_due;
	const struct drec *r = NULL;

	REQUIRE_S(d1 > s->now + 1);
	general_query(s, 1);
	sim_run_until(s, d1 - 1);
	CHECK_EQ(recs(s, 0, g, NULL), 1);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	CHECK_EQ(state_of(s, g), MLD_SG_QUERY_PENDING_MEMBER);
	sim_take(s);
	sim_run_until(s, d1);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, &r), 1);
	CHECK(rec_srcs_are(r, Q1));
	sim_free(s);
}

/* LEAVING has no reception state: no current-state record; its TO_IN{}
 * retransmission still goes out. */
TEST(states_gq_leaving)
{
	struct sim *s = sim_new(NULL);
	const char *g = put_in_state(s, MLD_LEAVING_MEMBER);

	REQUIRE_S(info(s, g).sc_due > s->now + 1);
	general_query(s, 1);
	sim_advance(s, 1);
	CHECK_EQ(state_of(s, g), MLD_LEAVING_MEMBER);
	sim_advance(s, 2000);
	CHECK_EQ(recs(s, MLD_MODE_IS_EXCLUDE, g, NULL), 0);
	CHECK_EQ(recs(s, MLD_MODE_IS_INCLUDE, g, NULL), 0);
	CHECK_EQ(recs(s, MLD_CHANGE_TO_INCLUDE, g, NULL), 1);
	CHECK_EQ(state_of(s, g), GONE);
	sim_free(s);
}
