/* SPDX-License-Identifier: BSD-2-Clause */
/* Virtual-time scenarios named by the engine issue. */
#include <stdlib.h>

#include "harness.h"

static const char *L = "app";

TEST(scenario_join_first_report_due_at_once)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	const struct drec *r = NULL;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	/* No 200 ms tick: the first report's deadline is now. */
	CHECK_EQ(mld_next_deadline(s->e), s->now);
	sim_run_until(s, s->now);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, &r), 1);
	CHECK(rec_srcs_are(r, ""));
	{
		struct in6_addr ll = A(LL1);

		CHECK(!memcmp(&sim_pkt(s, 0)->src, &ll, 16));
	}
	sim_free(s);
}

TEST(scenario_join_retransmissions_within_uri)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	uint64_t t0 = s->now;
	size_t i;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	sim_advance(s, 10000);
	/* RV = 2: the report and one retransmission, (0, URI] apart. */
	CHECK_EQ(sim_pending(s), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 2);
	CHECK_EQ(sim_pkt(s, 0)->time, t0);
	CHECK(sim_pkt(s, 1)->time > t0 && sim_pkt(s, 1)->time <= t0 + 1000);
	for (i = 0; i < sim_pending(s); i++)
		CHECK_EQ(sim_pkt(s, i)->len, 40 + 8 + 8 + 20);
	CHECK_EQ(mld_next_deadline(s->e), UINT64_MAX);
	sim_free(s);
}

TEST(scenario_robustness_variable_sets_retransmissions)
{
	struct mld_tunables t;
	struct sim *s;
	struct in6_addr g = A("ff3e::1");

	mld_tunables_default(&t);
	t.rv = 4;
	s = sim_new(&t);
	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	sim_advance(s, 10000);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, &g, NULL), 4);
	sim_free(s);
}

/* Many joins before the timer runs share packets: records are packed. */
TEST(scenario_joins_in_one_instant_share_packets)
{
	struct sim *s = sim_new(NULL);
	char buf[64];
	int i;

	for (i = 0; i < 100; i++) {
		struct in6_addr g;

		snprintf(buf, sizeof(buf), "ff3e::%x", i + 1);
		g = A(buf);
		CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	}
	sim_run_until(s, s->now);
	/* 100 × 20-byte records fit two 1500-byte packets (72 a packet). */
	CHECK_EQ(sim_pending(s), 2);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_EXCLUDE, NULL, NULL), 100);
	sim_free(s);
}

static size_t respond_to_gq(struct sim *s, uint16_t mrc, uint64_t *first, uint64_t *last)
{
	uint8_t q[2048];
	size_t n = craft_v2_query(q, NULL, mrc, NULL, NULL), i;

	CHECK_EQ(sim_rx(s, q, n), MLD_OK);
	sim_advance(s, mld_mrc_to_ms(mrc) + 1);
	*first = UINT64_MAX;
	*last = 0;
	for (i = 0; i < sim_pending(s); i++) {
		if (sim_pkt(s, i)->time < *first)
			*first = sim_pkt(s, i)->time;
		if (sim_pkt(s, i)->time > *last)
			*last = sim_pkt(s, i)->time;
	}
	return sim_pending(s);
}

/* Errata 19: the whole response, paced inside the MRD, each group once. */
TEST(scenario_general_query_10000_groups)
{
	struct sim *s = sim_new(NULL);
	enum { N = 10000 };
	static uint8_t seen[N];
	uint64_t t0, first, last;
	size_t npk, i, total = 0, bytes = 0;
	int k;

	memset(seen, 0, sizeof(seen));
	for (k = 0; k < N; k++) {
		struct in6_addr g = A("ff3e::");

		g.s6_addr[12] = (uint8_t)(k >> 24);
		g.s6_addr[13] = (uint8_t)(k >> 16);
		g.s6_addr[14] = (uint8_t)(k >> 8);
		g.s6_addr[15] = (uint8_t)k;
		if (k % 10 == 0) {
			struct in6_addr src[3] = {A("2001:db8::1"), A("2001:db8::2"),
			                          A("2001:db8::3")};

			CHECK_EQ(mld_set_filter(s->e, IF1, L, &g,
			                        k % 20 ? MLD_FMODE_INCLUDE : MLD_FMODE_EXCLUDE, src,
			                        1 + k % 3, s->now),
			         MLD_OK);
		} else {
			CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
		}
	}
	sim_advance(s, 5000);
	sim_take(s);
	t0 = s->now;
	npk = respond_to_gq(s, 10000, &first, &last);
	REQUIRE(npk > 0);
	CHECK(first >= t0);
	CHECK(last <= t0 + 10000);
	for (i = 0; i < npk; i++) {
		struct dpkt *d = sim_pkt(s, i);
		uint16_t r;

		CHECK(d->len <= 1500);
		bytes += d->len - 56;
		for (r = 0; r < d->nrec; r++) {
			uint32_t k2 = (uint32_t)d->recs[r].group.s6_addr[14] << 8 |
			              d->recs[r].group.s6_addr[15];

			REQUIRE(k2 < N);
			CHECK(d->recs[r].type == MLD_MODE_IS_EXCLUDE ||
			      d->recs[r].type == MLD_MODE_IS_INCLUDE);
			seen[k2]++;
			total++;
		}
	}
	CHECK_EQ(total, N);
	for (k = 0; k < N; k++)
		if (seen[k] != 1) {
			t_fail(__FILE__, __LINE__, "group %d reported %u times", k, seen[k]);
			break;
		}
	/* Near-optimal packing: at most one packet over the byte bound. */
	CHECK(npk <= (bytes + 1443) / 1444 + 1);
	/* Paced: not all in one instant. */
	CHECK(last > first);
	sim_free(s);
}

TEST(scenario_leave_during_pending_query_response)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g1 = A("ff3e::1"), g2 = A("ff3e::2");
	uint8_t q[256];
	size_t n;
	const struct drec *r = NULL;

	CHECK_EQ(mld_join(s->e, IF1, L, &g1, s->now), MLD_OK);
	CHECK_EQ(mld_join(s->e, IF1, L, &g2, s->now), MLD_OK);
	sim_advance(s, 5000);
	sim_take(s);
	n = craft_v2_query(q, NULL, 10000, NULL, NULL);
	CHECK_EQ(sim_rx(s, q, n), MLD_OK);
	/* The response is pending; g2 leaves before it goes out. */
	CHECK_EQ(mld_leave(s->e, IF1, L, &g2, s->now), MLD_OK);
	sim_advance(s, 11000);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g1, NULL), 1);
	CHECK_EQ(count_records(s, MLD_MODE_IS_EXCLUDE, &g2, NULL), 0);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g2, &r), 2);
	CHECK(rec_srcs_are(r, ""));
	/* After its retransmissions the left group is gone. */
	CHECK_EQ(mld_group_info(s->e, IF1, &g2, &(struct mld_group_info){0}), MLD_E_NOENT);
	sim_free(s);
}

TEST(scenario_v1_querier_then_back_to_v2)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	struct mld_link_info li;
	uint8_t q[256];
	size_t n;
	uint64_t t1;

	CHECK_EQ(mld_join(s->e, IF1, L, &g, s->now), MLD_OK);
	sim_advance(s, 5000);
	sim_take(s);
	n = craft_v1_query(q, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, q, n), MLD_OK);
	t1 = s->now;
	mld_link_info(s->e, IF1, &li);
	CHECK_EQ(li.version, 1);
	/* Errata 4: RV·QI + QRI = 2·125 s + 10 s, in one unit. */
	CHECK_EQ(li.v1_present_until, t1 + 260000);
	sim_advance(s, 1001);
	CHECK_EQ(sim_pending(s), 1);
	CHECK_EQ(sim_pkt(s, 0)->icmp_type, MLD_ICMP_V1_REPORT);
	CHECK(!memcmp(&sim_pkt(s, 0)->group, &g, 16));
	sim_take(s);
	/* Errata 9: the timer expires and the link is v2 again. */
	sim_run_until(s, t1 + 260000);
	mld_link_info(s->e, IF1, &li);
	CHECK_EQ(li.version, 2);
	CHECK_EQ(sim_pending(s), 0);
	/* A leave now sends the v2 TO_IN{}, not nothing (the seed's LAZY trap). */
	CHECK_EQ(mld_leave(s->e, IF1, L, &g, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(count_records(s, MLD_CHANGE_TO_INCLUDE, &g, NULL), 2);
	sim_free(s);
}

/* Pods come and go under fresh listener names: names live exactly as long as
 * a membership uses them, and their slots are reused. */
TEST(scenario_listener_names_do_not_accumulate)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::77");
	struct mld_stats st;
	char name[32];
	size_t mem1 = 0;
	int round, i;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "pod-%d-%d", round, i);
			CHECK_EQ(mld_join(s->e, IF1, name, &g, s->now), MLD_OK);
		}
		mld_stats_get(s->e, &st);
		CHECK_EQ(st.listeners, 2000);
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof(name), "pod-%d-%d", round, i);
			CHECK_EQ(mld_leave(s->e, IF1, name, &g, s->now), MLD_OK);
		}
		mld_stats_get(s->e, &st);
		CHECK_EQ(st.listeners, 0);
		sim_advance(s, 5000);
		if (round == 0)
			mem1 = mld_engine_mem(s->e);
		else
			CHECK(mld_engine_mem(s->e) <= mem1);
	}
	/* A leave by a name that no longer exists is refused cleanly. */
	CHECK_EQ(mld_leave(s->e, IF1, "pod-0-1", &g, s->now), MLD_E_NOENT);
	sim_free(s);
}

/* At max-groups, a group that is only sending its leave does not hold a
 * slot: swapping one group for another is possible at once. */
TEST(scenario_max_groups_swap_while_leaving)
{
	struct mld_tunables t;
	struct sim *s;
	struct in6_addr g1 = A("ff0e::1"), g2 = A("ff0e::2"), g3 = A("ff0e::3"), g4 = A("ff0e::4");
	struct mld_link_info li;

	mld_tunables_default(&t);
	t.max_groups = 2;
	s = sim_new(&t);
	CHECK_EQ(mld_join(s->e, IF1, L, &g1, s->now), MLD_OK);
	CHECK_EQ(mld_join(s->e, IF1, L, &g2, s->now), MLD_OK);
	sim_advance(s, 5000);
	CHECK_EQ(mld_join(s->e, IF1, L, &g3, s->now), MLD_E_LIMIT_GROUPS);
	CHECK_EQ(mld_leave(s->e, IF1, L, &g2, s->now), MLD_OK);
	mld_link_info(s->e, IF1, &li);
	CHECK_EQ(li.groups, 2);
	CHECK_EQ(li.groups_leaving, 1);
	CHECK_EQ(mld_join(s->e, IF1, L, &g3, s->now), MLD_OK);
	CHECK_EQ(mld_join(s->e, IF1, L, &g4, s->now), MLD_E_LIMIT_GROUPS);
	/* Re-joining the leaving group would take a slot again: refused. */
	CHECK_EQ(mld_join(s->e, IF1, L, &g2, s->now), MLD_E_LIMIT_GROUPS);
	sim_advance(s, 5000);
	mld_link_info(s->e, IF1, &li);
	CHECK_EQ(li.groups, 2);
	CHECK_EQ(li.groups_leaving, 0);
	sim_free(s);
}
