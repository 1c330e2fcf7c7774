/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Engine benchmark: one link, 1,000,000 memberships (90 % ASM, 10 % INCLUDE or
 * EXCLUDE with 1–8 sources), in virtual time. Prints one machine-readable
 * line: bench: name=engine_1m memberships=… rss_mib=… load_cpu_s=…
 * gq_build_cpu_s=… packets=… optimal_packets=…
 *
 * CPU seconds come from CLOCK_PROCESS_CPUTIME_ID, so other load on the
 * machine matters less than wall time would; RSS is the process peak.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mld_engine.h"
#include "mld_wire.h"

struct ctx {
	uint64_t rng;
	uint64_t packets, bytes, records;
	uint64_t over_mtu;
};

static uint32_t rnd(void *p)
{
	struct ctx *c = p;

	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (uint32_t)((c->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void tx(void *p, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	struct ctx *c = p;

	(void)ifindex;
	c->packets++;
	c->bytes += len;
	if (len > 1500)
		c->over_mtu++;
	if (len >= 56 && pkt[48] == MLD_ICMP_V2_REPORT)
		c->records += (uint64_t)(pkt[54] << 8 | pkt[55]);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_until_idle(struct mld_engine *e, uint64_t *now, uint64_t limit)
{
	for (;;) {
		uint64_t d = mld_next_deadline(e);

		if (d == UINT64_MAX || d > limit)
			break;
		if (d > *now)
			*now = d;
		mld_timeout(e, *now);
	}
}

/* A general query as it arrives from a querier: fe80::9 → ff02::1. */
static size_t general_query(uint8_t *b, uint16_t mrc)
{
	struct in6_addr s, d;
	uint8_t *ic = b + 48;
	uint32_t acc = 0;
	size_t i;

	memset(b, 0, 48 + 28);
	inet_pton(AF_INET6, "fe80::9", &s);
	inet_pton(AF_INET6, "ff02::1", &d);
	b[0] = 0x60;
	b[5] = 8 + 28;
	b[6] = 0;
	b[7] = 1;
	memcpy(b + 8, &s, 16);
	memcpy(b + 24, &d, 16);
	b[40] = 58;
	b[42] = 5;
	b[43] = 2;
	b[46] = 1;
	ic[0] = MLD_ICMP_QUERY;
	ic[4] = (uint8_t)(mrc >> 8);
	ic[5] = (uint8_t)mrc;
	ic[24] = 2;
	ic[25] = 125;
	for (i = 0; i < 32; i += 2)
		acc += (uint32_t)(b[8 + i] << 8 | b[9 + i]);
	acc += 28 + 58;
	for (i = 0; i < 28; i += 2)
		acc += (uint32_t)(ic[i] << 8 | ic[i + 1]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	acc = ~acc & 0xffff;
	ic[2] = (uint8_t)(acc >> 8);
	ic[3] = (uint8_t)acc;
	return 48 + 28;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;
	struct ctx c = {.rng = 0x1234567887654321ull};
	struct mld_tunables t;
	struct mld_engine *e;
	struct in6_addr ll, g, srcs[8];
	uint64_t now = 1000, rec_bytes = 0, optimal;
	double t0, load_s, drain_s, gq_s;
	uint8_t q[128];
	struct rusage ru;
	uint32_t i;
	int k;

	mld_tunables_default(&t);
	t.max_groups = n + 16;
	e = mld_engine_new(&t, rnd, &c, tx, &c);
	inet_pton(AF_INET6, "fe80::1", &ll);
	if (!e || mld_link_add(e, 1, 1500, 0, now) ||
	    mld_link_set_lladdr(e, 1, MLD_LL_VALID, &ll, now)) {
		fprintf(stderr, "bench: setup failed\n");
		return 1;
	}
	inet_pton(AF_INET6, "ff3e::", &g);
	for (k = 0; k < 8; k++) {
		inet_pton(AF_INET6, "2001:db8::", &srcs[k]);
		srcs[k].s6_addr[15] = (uint8_t)(k + 1);
	}

	t0 = cpu_now();
	for (i = 0; i < n; i++) {
		int rc;

		g.s6_addr[12] = (uint8_t)(i >> 24);
		g.s6_addr[13] = (uint8_t)(i >> 16);
		g.s6_addr[14] = (uint8_t)(i >> 8);
		g.s6_addr[15] = (uint8_t)i;
		if (i % 10 == 9) {
			size_t ns = 1 + rnd(&c) % 8;

			rc = mld_set_filter(e, 1, "bench", &g,
			                    (i / 10) % 2 ? MLD_FMODE_INCLUDE : MLD_FMODE_EXCLUDE,
			                    srcs, ns, now);
			rec_bytes += 20 + 16 * ns;
		} else {
			rc = mld_join(e, 1, "bench", &g, now);
			rec_bytes += 20;
		}
		if (rc) {
			fprintf(stderr, "bench: join %u: %s\n", i, mld_strerror(rc));
			return 1;
		}
	}
	load_s = cpu_now() - t0;

	/* Let the joins' state-change reports and retransmissions go out. */
	t0 = cpu_now();
	run_until_idle(e, &now, now + 60000);
	drain_s = cpu_now() - t0;
	printf("bench: name=engine_1m_state_change memberships=%u packets=%llu records=%llu "
	       "cpu_s=%.3f over_mtu=%llu\n",
	       n, (unsigned long long)c.packets, (unsigned long long)c.records, drain_s,
	       (unsigned long long)c.over_mtu);

	/* One general query, MRD 10 s: the whole current-state response. */
	memset(&c.packets, 0, sizeof(c) - sizeof(c.rng));
	now += 1000;
	if (mld_input_packet(e, 1, q, general_query(q, 10000), now) != MLD_OK) {
		fprintf(stderr, "bench: query rejected\n");
		return 1;
	}
	{
		uint64_t tq = now;

		t0 = cpu_now();
		run_until_idle(e, &now, now + 20000);
		gq_s = cpu_now() - t0;
		optimal = (rec_bytes + (1500 - 56) - 1) / (1500 - 56);
		getrusage(RUSAGE_SELF, &ru);
		printf("bench: name=engine_1m memberships=%u rss_mib=%.1f load_cpu_s=%.3f "
		       "gq_build_cpu_s=%.3f packets=%llu optimal_packets=%llu records=%llu "
		       "over_mtu=%llu response_ms=%llu engine_mib=%.1f\n",
		       n, (double)ru.ru_maxrss / 1024.0, load_s, gq_s,
		       (unsigned long long)c.packets, (unsigned long long)optimal,
		       (unsigned long long)c.records, (unsigned long long)c.over_mtu,
		       (unsigned long long)(now - tq), (double)mld_engine_mem(e) / 1048576.0);
		if (c.records != n) {
			fprintf(stderr, "bench: %llu records for %u groups\n",
			        (unsigned long long)c.records, n);
			return 1;
		}
	}
	mld_engine_free(e);
	return 0;
}
