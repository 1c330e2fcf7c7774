/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * XDP benchmark: ns per packet of the XDP program (bpf/mldagent.bpf.c)
 * through BPF_PROG_TEST_RUN, each case beside an empty XDP_PASS program
 * (bpf/empty.bpf.c, same section type) in the same run. Prints per case
 *   bench: name=xdp_<case> ns=… empty_ns=… ratio=…
 * Goals: non-MLD <= 1.05x, throttled <= 1.6x, accepted <= 2.5x the empty
 * program.
 *
 * Method. The kernel's own per-packet time of each BPF_PROG_TEST_RUN call
 * (its run loop alone: the XDP dispatcher update that every call with
 * repeat > 1 makes, some 20 ms of synchronize_rcu, is outside it, and so
 * is preemption). That time comes in whole ns; ROUNDS rounds alternate the
 * two programs on one pinned CPU and the mean of the faster half of each
 * program's rounds is printed. Cases without an event run 1,000,000
 * packets per call. The accepted case makes one ring-buffer record per
 * packet (96 bytes for a general query; the 4 MiB ring holds about 43,000),
 * so it runs RING_REPEAT per call and the ring is drained between calls,
 * as the daemon would; the empty program runs the same counts.
 *
 * Measured on the development VM (kernel 6.18, KVM, 2 vCPUs shared with
 * other work; retpoline and SRSO safe-RET mitigations make every call and
 * return in the kernel cost several ns), three runs:
 *   xdp_non_mld_ipv6_udp      ratio 1.01 | 1.10 | 1.04
 *   xdp_ipv4                  ratio 1.03 | 1.00 | 1.11
 *   xdp_general_query         ratio 2.85 | 3.11 | 3.26   (~75-95 ns)
 *   xdp_general_query_to_unicast  4.54 | 4.41 | 4.75   (+~40 ns: the
 *                             mld_local_addrs lookup, only for queries to
 *                             neither ff02::1 nor their group)
 *   xdp_gs_query_throttled    ratio 1.58 | 1.57 | 1.64   (~41-49 ns)
 *     with the querier's own bucket (gs_owner: the link's querier looked
 *     up for every GS query): 1.62 | 1.66 | 1.79; builds with and without
 *     it interleaved in one process: +2-3.5 ns
 *   xdp_gs_query_throttled_querier (the querier's own bucket drained,
 *                             a flood spoofing it)  1.62 | 1.71 | 1.77
 *   xdp_non_member_query      ratio 2.84 | 2.90 | 2.90
 *   xdp_malformed_query       ratio 1.62 | 1.68 | 1.77
 * (the LRU-hash throttle and bpf_ringbuf_output from a staging area gave
 * 4.2-4.9 accepted and 3.7-3.8 throttled). Run-to-run noise on this
 * machine is +-0.05..0.15 in the ratios, more when the host is busy (the
 * empty program then goes from ~25 to ~30 ns). The non-MLD exit costs 1-2 ns
 * (goal 1.05x: at the limit, within the noise). Throttled: at the goal
 * or just above it since the querier's bucket; it is parsing and header
 * checks (~6 ns), three per-CPU counters (~3 ns), the throttle's hash, set
 * lookup and compare (~7 ns) and the querier lookup (~2-3 ns).
 * Not met: accepted. bpf_ringbuf_reserve + submit alone cost ~30-34 ns
 * (~1.25x the empty program) and the rest of the path, checksum and event
 * included, ~2x (a build without the ring buffer: 2.0x). Where the time
 * goes is in bpf/mldagent.bpf.c.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mldagent_abi.h"
#include "mldagent.skel.h"
#include "empty.skel.h"
#include "../bpf/frames.h"

#define IFINDEX     1
#define ROUNDS      20
#define BIG_REPEAT  1000000u
#define RING_REPEAT 20000u

static struct mldagent *skel;
static struct empty_xdp *empty;
static struct ring_buffer *rb;
static int prog_fd, empty_fd, ctr_fd;

static int ring_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* One BPF_PROG_TEST_RUN call of `repeat` packets; returns the kernel's
 * ns per packet (time of the run loop alone, preemption excluded). */
static double run_once(int fd, const uint8_t *f, size_t len, uint32_t repeat, uint32_t *retval)
{
	struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = IFINDEX};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
	            .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "bench-xdp: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		exit(1);
	}
	if (retval)
		*retval = o.retval;
	return o.duration;
}

/* Mean ns per packet over `calls` runs (the ring drained between them).
 * The kernel truncates each run's mean to whole ns; the run-to-run jitter
 * dithers that, and +0.5 removes the truncation's bias. */
static double per_packet(int fd, const uint8_t *f, size_t len, uint32_t repeat, int calls)
{
	double sum = 0;
	int i;

	for (i = 0; i < calls; i++) {
		ring_buffer__consume(rb);
		sum += run_once(fd, f, len, repeat, NULL) + 0.5;
	}
	ring_buffer__consume(rb);
	return sum / calls;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Mean of the faster half of the rounds: other load on the machine only
 * ever adds time, and averaging half the rounds keeps the sub-ns
 * resolution that a single (whole-ns) run lacks. */
static double best_half(double *v, int n)
{
	double sum = 0;
	int i;

	qsort(v, (size_t)n, sizeof(double), cmp_d);
	for (i = 0; i < n / 2; i++)
		sum += v[i];
	return sum / (n / 2);
}

static uint64_t ctr(int idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu], s = 0;
	uint32_t k = (uint32_t)idx;
	int c;

	if (bpf_map_lookup_elem(ctr_fd, &k, v))
		return 0;
	for (c = 0; c < ncpu; c++)
		s += v[c];
	return s;
}

static void bench(const char *name, struct spec *s, uint32_t want_verdict, int want_ctr)
{
	static uint8_t f[MAX_FRAME + 64];
	double p[ROUNDS], e[ROUNDS], pm, em;
	size_t len = build(f, s);
	uint32_t verdict, repeat = BIG_REPEAT;
	uint64_t c0;
	int r, calls = 1;

	/* Sanity: the case takes the branch it is named after. */
	c0 = ctr(want_ctr);
	run_once(prog_fd, f, len, 1, &verdict);
	ring_buffer__consume(rb);
	if (verdict != want_verdict || ctr(want_ctr) != c0 + 1) {
		fprintf(stderr, "bench-xdp: case %s: verdict %u, counter %d moved by %llu\n", name,
		        verdict, want_ctr, (unsigned long long)(ctr(want_ctr) - c0));
		exit(1);
	}
	if (want_ctr == MLD_C_EVENTS) {
		repeat = RING_REPEAT;
		calls = 1;
	}
	for (r = 0; r < ROUNDS; r++) {
		e[r] = per_packet(empty_fd, f, len, repeat, calls);
		p[r] = per_packet(prog_fd, f, len, repeat, calls);
	}
	pm = best_half(p, ROUNDS);
	em = best_half(e, ROUNDS);
	printf("bench: name=xdp_%s ns=%.1f empty_ns=%.1f ratio=%.2f\n", name, pm, em, pm / em);
}

int main(void)
{
	struct mld_config cfg = {.gsr_delay_ns = 1000000000000000ull, .gsr_burst = 2};
	struct mld_group_key k = {.ifindex = IFINDEX};
	struct mld_member_val mv = {0};
	uint32_t zero = 0;
	cpu_set_t cpus;
	struct spec s;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr, "bench-xdp: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	/* One CPU: BPF_PROG_TEST_RUN runs on the caller's CPU. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	init_addrs();
	skel = mldagent__open_and_load();
	empty = empty_xdp__open_and_load();
	if (!skel || !empty) {
		fprintf(stderr, "bench-xdp: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.mldagent_xdp);
	empty_fd = bpf_program__fd(empty->progs.empty_xdp);
	ctr_fd = bpf_map__fd(skel->maps.mld_counters);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.mld_events), ring_cb, NULL, NULL);
	mld_config_keep_key(bpf_map__fd(skel->maps.mld_config), &cfg); /* as the daemon */
	if (!rb || bpf_map_update_elem(bpf_map__fd(skel->maps.mld_config), &zero, &cfg, 0)) {
		fprintf(stderr, "bench-xdp: set-up failed\n");
		return 1;
	}
	memcpy(k.group, G_GS, 16);
	bpf_map_update_elem(bpf_map__fd(skel->maps.mld_members), &k, &mv, 0);
	/* The link has a querier, as links do; the frames below come from
	 * another address (A_LL), so they are charged to the shared bucket. */
	if (mld_querier_write(bpf_map__fd(skel->maps.mld_querier), IFINDEX, A_LL2)) {
		fprintf(stderr, "bench-xdp: querier map set-up failed\n");
		return 1;
	}

	/* IPv6 UDP: the fast exit. */
	memset(&s, 0, sizeof(s));
	s.hop_limit = 64;
	s.src = A_GLOBAL;
	s.dst = A_GLOBAL;
	s.l4_proto = 17;
	s.l4len = 64;
	/* Non-MLD frames move no counter: check with PACKETS unchanged is not
	 * possible, so verify by the verdict only (counter -1 never moves). */
	{
		static uint8_t f[MAX_FRAME];
		size_t len = build(f, &s);
		uint32_t v;
		uint64_t c0 = ctr(MLD_C_PACKETS);

		run_once(prog_fd, f, len, 1, &v);
		if (v != XDP_PASS || ctr(MLD_C_PACKETS) != c0) {
			fprintf(stderr, "bench-xdp: non-MLD frame did not take the fast exit\n");
			return 1;
		}
	}
	{
		static uint8_t f[MAX_FRAME];
		double p[ROUNDS], e[ROUNDS];
		struct spec v4;
		static const uint8_t ipv4[84] = {0x45, 0, 0,    84,   0,    0,    0, 0,  64,
		                                 17,   0, 0,    10,   0,    0,    1, 10, 0,
		                                 0,    2, 0x30, 0x39, 0x30, 0x39, 0, 64};
		const char *names[2] = {"non_mld_ipv6_udp", "ipv4"};
		size_t len;
		int c;

		memset(&v4, 0, sizeof(v4));
		v4.ethertype = 0x0800;
		v4.raw = 1;
		memcpy(v4.l4, ipv4, sizeof(ipv4));
		v4.l4len = sizeof(ipv4);
		for (c = 0; c < 2; c++) {
			len = build(f, c ? &v4 : &s);
			for (i = 0; i < ROUNDS; i++) {
				e[i] = per_packet(empty_fd, f, len, BIG_REPEAT, 1);
				p[i] = per_packet(prog_fd, f, len, BIG_REPEAT, 1);
			}
			double pm = best_half(p, ROUNDS), em = best_half(e, ROUNDS);

			printf("bench: name=xdp_%s ns=%.1f empty_ns=%.1f ratio=%.2f\n", names[c],
			       pm, em, pm / em);
		}
	}

	/* A valid general query: accepted, one ring-buffer event each. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	bench("general_query", &s, XDP_PASS, MLD_C_EVENTS);

	/* The same sent to one of the link's unicast addresses (RFC 3810
	 * §5.1.15): the rare path, one hash lookup (mld_local_addrs) more. */
	{
		struct mld_addr_key ak = {.ifindex = IFINDEX};
		struct mld_local_addr_val av = {0};
		static uint8_t own[16];

		addr(own, "2001:db8:1::5");
		memcpy(ak.addr, own, 16);
		bpf_map_update_elem(bpf_map__fd(skel->maps.mld_local_addrs), &ak, &av, 0);
		spec_mld(&s);
		s.dst = own;
		s.l4len = msg_query_v2(s.l4, A_ANY, 0);
		bench("general_query_to_unicast", &s, XDP_PASS, MLD_C_EVENTS);
	}

	/* A group-and-source query (2 sources) whose bucket is empty. */
	spec_mld(&s);
	s.dst = G_GS;
	s.l4len = msg_query_v2(s.l4, G_GS, 2);
	{
		static uint8_t f[MAX_FRAME];
		size_t len = build(f, &s);

		for (i = 0; i < 2; i++) /* the burst */
			run_once(prog_fd, f, len, 1, NULL);
		ring_buffer__consume(rb);
	}
	bench("gs_query_throttled", &s, XDP_PASS, MLD_C_THROTTLED);

	/* The same from the querier's address (a flood spoofing it): its
	 * own bucket, drained the same way. */
	mld_querier_write(bpf_map__fd(skel->maps.mld_querier), IFINDEX, A_LL);
	{
		static uint8_t f[MAX_FRAME];
		size_t len = build(f, &s);

		for (i = 0; i < 2; i++) /* the querier's burst */
			run_once(prog_fd, f, len, 1, NULL);
		ring_buffer__consume(rb);
	}
	bench("gs_query_throttled_querier", &s, XDP_PASS, MLD_C_THROTTLED);
	mld_querier_write(bpf_map__fd(skel->maps.mld_querier), IFINDEX, A_LL2);

	/* A group-and-source query for a group nobody holds (the other
	 * forged flood: checksum and member lookup, no bucket). */
	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v2(s.l4, G_OTHER, 2);
	bench("gs_query_non_member", &s, XDP_PASS, MLD_C_NOT_MEMBER);

	/* A group-specific query for a group nobody holds. */
	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v2(s.l4, G_OTHER, 0);
	bench("non_member_query", &s, XDP_PASS, MLD_C_NOT_MEMBER);

	/* A malformed query: bad checksum (the costliest invalid path). */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.csum_delta = 1;
	bench("malformed_query", &s, XDP_PASS, MLD_C_BAD_CHECKSUM);

	/* ... and one that fails early: hop limit 255. */
	spec_mld(&s);
	s.hop_limit = 255;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	bench("malformed_query_hop_limit", &s, XDP_PASS, MLD_C_BAD_HOP_LIMIT);

	ring_buffer__free(rb);
	empty_xdp__destroy(empty);
	mldagent__destroy(skel);
	return 0;
}
