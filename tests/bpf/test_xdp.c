/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BPF_PROG_TEST_RUN tests of the XDP program (bpf/mldagent.bpf.c).
 *
 * Every case crafts a frame in C (Ethernet, optional VLAN/QinQ, IPv6,
 * extension headers, ICMPv6 with a correct or deliberately wrong checksum),
 * runs the program on it with ingress_ifindex 1 (lo), and checks the
 * verdict, the change of every per-CPU counter (all of them: a counter
 * that moves without being expected fails the case) and the ring-buffer
 * events (ifindex, addresses, hop limit, flags, lengths, message bytes).
 *
 * Prints "ok <name>" or "FAIL <name>: <why>" per case and a last line
 * "xdp: N passed, N failed"; exits 1 on any failure. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mldagent_abi.h"
#include "mldagent.skel.h"
#include "frames.h"

#define IFINDEX    1 /* lo: exists everywhere, has an rx queue 0 */
#define MAX_EVENTS 64

static const char *const ctr_name[MLD_C_COUNT] = {
#define CTR_NAME(id, name) #id,
    MLD_CTR_LIST(CTR_NAME)
#undef CTR_NAME
};

static struct mldagent *skel;
static int prog_fd, ctr_fd, cfg_fd, mem_fd, thr_fd, loc_fd, qry_fd;
static struct ring_buffer *rb;
static int ncpu;
static int passed, failed;

/* Events collected by ring_cb. */
static struct mld_event events[MAX_EVENTS];
static int nevents;
static uint64_t nevents_total;

/* Counters ever moved by some case: at the end, every reachable counter
 * must have been exercised. */
static uint64_t ctr_seen[MLD_C_COUNT];

/* ------------------------------------------------------------------ */
/* Running and checking                                               */
/* ------------------------------------------------------------------ */

/* Records are offsetof(struct mld_event, msg) + msg_len bytes long. */
static uint64_t bad_records;

static int ring_cb(void *ctx, void *data, size_t size)
{
	const struct mld_event *ev = data;

	(void)ctx;
	if (size < offsetof(struct mld_event, msg) ||
	    size != offsetof(struct mld_event, msg) + ev->msg_len) {
		bad_records++;
		return 0;
	}
	if (nevents < MAX_EVENTS) {
		memset(&events[nevents], 0xa5, sizeof(events[0]));
		memcpy(&events[nevents], data, size);
	}
	nevents++;
	nevents_total++;
	return 0;
}

static void drain(void)
{
	ring_buffer__consume(rb);
	nevents = 0;
}

static void read_ctrs(uint64_t *out)
{
	uint64_t v[ncpu];
	uint32_t i;
	int c;

	for (i = 0; i < MLD_C_COUNT; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(ctr_fd, &i, v)) {
			fprintf(stderr, "counter lookup: %s\n", strerror(errno));
			exit(2);
		}
		for (c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
}

/* The throttle's hash key, as the daemon keeps it (mld_config_keep_key:
 * random at the first write, the same afterwards). */
static __u64 thr_key[MLD_THROTTLE_KEY_WORDS];

static void set_config(uint64_t delay_ns, uint32_t burst, uint32_t drop)
{
	struct mld_config c = {
	    .gsr_delay_ns = delay_ns, .gsr_burst = burst, .drop_throttled = drop};
	uint32_t zero = 0;

	memcpy(c.throttle_key, thr_key, sizeof(thr_key));

	if (bpf_map_update_elem(cfg_fd, &zero, &c, BPF_ANY)) {
		fprintf(stderr, "config update: %s\n", strerror(errno));
		exit(2);
	}
}

/* Adds (or deletes) key k with value v in map fd, as the daemon does. */
static void map_set(int fd, const void *k, const void *v, int add, const char *what)
{
	if (add ? bpf_map_update_elem(fd, k, v, BPF_ANY) : bpf_map_delete_elem(fd, k)) {
		fprintf(stderr, "%s update: %s\n", what, strerror(errno));
		exit(2);
	}
}

static void member(uint32_t ifindex, const uint8_t *group, int add)
{
	struct mld_group_key k = {.ifindex = ifindex};
	struct mld_member_val v = {0};

	memcpy(k.group, group, 16);
	map_set(mem_fd, &k, &v, add, "member");
}

/* An entry of mld_local_addrs, as the daemon keeps them from rtnetlink. */
static void local_addr(uint32_t ifindex, const uint8_t *a, int add)
{
	struct mld_addr_key k = {.ifindex = ifindex};
	struct mld_local_addr_val v = {0};

	memcpy(k.addr, a, 16);
	map_set(loc_fd, &k, &v, add, "local address");
}

/* Result of one run. */
struct result {
	int err;
	uint32_t retval;
	int64_t d[MLD_C_COUNT]; /* counter deltas */
};

static void run_frame(const uint8_t *f, size_t len, uint32_t repeat, struct result *r)
{
	struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = IFINDEX};
	uint64_t before[MLD_C_COUNT], after[MLD_C_COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
	            .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int i;

	drain();
	read_ctrs(before);
	r->err = bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
	r->retval = o.retval;
	read_ctrs(after);
	for (i = 0; i < MLD_C_COUNT; i++) {
		r->d[i] = (int64_t)(after[i] - before[i]);
		ctr_seen[i] += (uint64_t)r->d[i];
	}
	ring_buffer__consume(rb);
}

/* Failure message of the current case (first one wins). */
static char why[512];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

static void report(const char *name)
{
	if (why[0]) {
		printf("FAIL %s: %s\n", name, why);
		failed++;
	} else {
		printf("ok %s\n", name);
		passed++;
	}
	why[0] = 0;
}

/* Expected counter deltas: a list of (counter, delta) pairs ending in -1;
 * every counter not listed must not move. */
static void check_ctrs(const struct result *r, const int *exp)
{
	int64_t want[MLD_C_COUNT] = {0};
	int i;

	for (i = 0; exp[i] >= 0; i += 2)
		want[exp[i]] = exp[i + 1];
	for (i = 0; i < MLD_C_COUNT; i++)
		if (r->d[i] != want[i])
			fail("counter %s moved by %lld, want %lld", ctr_name[i], (long long)r->d[i],
			     (long long)want[i]);
}

static void check_run(const struct result *r, uint32_t verdict, const int *exp, int nev)
{
	if (r->err)
		fail("BPF_PROG_TEST_RUN: %s", strerror(-r->err));
	if (r->retval != verdict)
		fail("verdict %u, want %u", r->retval, verdict);
	check_ctrs(r, exp);
	if (nevents != nev)
		fail("%d ring-buffer events, want %d", nevents, nev);
	if (bad_records)
		fail("%llu ring-buffer records of a wrong size", (unsigned long long)bad_records);
	bad_records = 0;
}

/* Checks event 0 against the frame's addresses and message. */
static void check_event(const struct mld_event *ev, const uint8_t *src, const uint8_t *dst,
                        const uint8_t *msg, size_t len, uint8_t flags)
{
	size_t want_len = len > MLD_EV_MAX_MSG ? MLD_EV_MAX_MSG : len;

	if (ev->ifindex != IFINDEX)
		fail("event ifindex %u", ev->ifindex);
	if (memcmp(ev->saddr, src, 16))
		fail("event saddr differs");
	if (memcmp(ev->daddr, dst, 16))
		fail("event daddr differs");
	if (ev->hop_limit != 1)
		fail("event hop limit %u", ev->hop_limit);
	if (ev->flags != flags)
		fail("event flags 0x%x, want 0x%x", ev->flags, flags);
	if (ev->msg_len != want_len)
		fail("event msg_len %u, want %zu", ev->msg_len, want_len);
	if (ev->orig_len != len)
		fail("event orig_len %u, want %zu", ev->orig_len, len);
	if (memcmp(ev->msg, msg, want_len))
		fail("event message bytes differ");
	if (ev->ts_ns == 0)
		fail("event without a timestamp");
}

#define E(...) ((const int[]){__VA_ARGS__, -1})
#define NONE   ((const int[]){-1})
#define OKF    (MLD_EVF_ROUTER_ALERT | MLD_EVF_CSUM_OK)

static uint8_t frame[MAX_FRAME + 64];

/* Builds s, runs it once, checks verdict, counters and the number of
 * events; if one event is expected, checks it against s, its flags
 * against OKF (and TRUNCATED for a long query) plus extra. */
static void expect_flags(const char *name, struct spec *s, uint32_t verdict, const int *exp,
                         int nev, uint8_t extra)
{
	size_t len = build(frame, s);
	struct result r;

	run_frame(frame, len, 1, &r);
	check_run(&r, verdict, exp, nev);
	if (nev == 1 && nevents == 1)
		check_event(
		    &events[0], s->src, s->dst, s->l4, s->l4len,
		    (uint8_t)(OKF | extra |
		              (s->l4len > MLD_EV_MAX_MSG && s->l4[0] == 130 ? MLD_EVF_TRUNCATED
		                                                            : 0)));
	report(name);
}

static void expect(const char *name, struct spec *s, uint32_t verdict, const int *exp, int nev)
{
	expect_flags(name, s, verdict, exp, nev, 0);
}

/* ------------------------------------------------------------------ */
/* Cases                                                              */
/* ------------------------------------------------------------------ */

static void t_non_mld(void)
{
	struct spec s;
	static const uint8_t ipv4[28] = {0x45, 0,    0,    28,   0, 0, 0,  0, 64, 17,
	                                 0,    0,    10,   0,    0, 1, 10, 0, 0,  2,
	                                 0x30, 0x39, 0x30, 0x39, 0, 8, 0,  0};
	static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};

	memset(&s, 0, sizeof(s));
	s.ethertype = 0x0800;
	s.raw = 1;
	memcpy(s.l4, ipv4, sizeof(ipv4));
	s.l4len = sizeof(ipv4);
	expect("non_mld_ipv4", &s, XDP_PASS, NONE, 0);

	memset(&s, 0, sizeof(s));
	s.ethertype = 0x0806;
	s.raw = 1;
	memcpy(s.l4, arp, sizeof(arp));
	s.l4len = sizeof(arp);
	expect("non_mld_arp", &s, XDP_PASS, NONE, 0);

	/* IPv6 UDP: the fast exit (first next header is not hop-by-hop). */
	memset(&s, 0, sizeof(s));
	s.hop_limit = 64;
	s.l4_proto = 17;
	s.l4len = 16;
	expect("non_mld_ipv6_udp", &s, XDP_PASS, NONE, 0);

	/* An MLD query without hop-by-hop header (no Router Alert): cannot be
	 * MLD for us, leaves by the fast exit; the kernel decides. */
	memset(&s, 0, sizeof(s));
	s.hop_limit = 1;
	s.src = A_LL;
	s.dst = A_ALLNODES;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("mld_without_hbh_fast_exit", &s, XDP_PASS, NONE, 0);

	/* Hop-by-hop with Router Alert, then UDP. */
	spec_mld(&s);
	s.l4_proto = 17;
	s.l4len = 16;
	expect("ipv6_hbh_udp", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_ICMPV6, 1), 0);

	/* ICMPv6 echo request behind hop-by-hop. */
	spec_mld(&s);
	s.l4[0] = 128;
	s.l4len = 16;
	expect("icmpv6_echo", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_MLD, 1), 0);

	/* Another host's MLDv2 report: not for the program (types 130/131). */
	spec_mld(&s);
	s.dst = A_ALLROUTERS;
	s.l4[0] = MLD_ICMP_V2_REPORT;
	s.l4len = 8;
	expect("mldv2_report_not_handled", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_MLD, 1), 0);

	/* MLDv1 Done: not handled either. */
	spec_mld(&s);
	s.dst = A_ALLROUTERS;
	s.l4len = msg_report_v1(s.l4, G_MEMBER);
	s.l4[0] = MLD_ICMP_V1_DONE;
	expect("mldv1_done_not_handled", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_MLD, 1), 0);

	/* EtherType IPv6 but version 4 in the header. */
	spec_mld(&s);
	s.version = 4;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ipv6_bad_version", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_IPV6, 1), 0);
}

static void t_vlan(void)
{
	struct spec s;
	static const uint8_t ipv4[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17};

	spec_mld(&s);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("vlan_general_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.nvlan = 2;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("qinq_general_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.nvlan = 2;
	s.tpid[0] = 0x8100;
	s.tpid[1] = 0x8100;
	s.l4len = msg_query_v1(s.l4, A_ANY);
	expect("double_8021q_v1_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V1_QUERY, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.nvlan = 3;
	s.tpid[0] = 0x88a8;
	s.tpid[1] = 0x8100;
	s.tpid[2] = 0x8100;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("three_vlan_tags", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_NOT_IPV6, 1), 0);

	memset(&s, 0, sizeof(s));
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.ethertype = 0x0800;
	s.raw = 1;
	memcpy(s.l4, ipv4, sizeof(ipv4));
	s.l4len = sizeof(ipv4);
	expect("vlan_ipv4", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_NOT_IPV6, 1), 0);

	memset(&s, 0, sizeof(s));
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.hop_limit = 64;
	s.l4_proto = 17;
	s.l4len = 16;
	expect("vlan_ipv6_udp", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_NOT_ICMPV6, 1), 0);

	/* VLAN tag cut short. */
	memset(&s, 0, sizeof(s));
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.raw = 1;
	s.l4len = 0;
	{
		size_t len = build(frame, &s);
		struct result r;

		run_frame(frame, len - 2, 1, &r); /* 14 bytes: MAC, MAC, TPID */
		check_run(&r, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_TRUNCATED, 1), 0);
		report("vlan_truncated");
	}
}

/* A fragment header after hop-by-hop (optionally behind destination
 * options): octets 2-3 are offset (in 8-octet units) << 3 | M. */
static void spec_frag(struct spec *s, int dstopts, uint16_t offset, int more)
{
	uint16_t v = (uint16_t)(offset << 3 | (more ? 1 : 0));
	int k = dstopts ? 2 : 1;

	spec_mld(s);
	if (dstopts)
		ext_plain(&ext_buf[1], 60, 8);
	ext_plain(&ext_buf[k], 44, 8);
	ext_buf[k].body[2] = (uint8_t)(v >> 8);
	ext_buf[k].body[3] = (uint8_t)v;
	ext_buf[k].body[4] = 0xab; /* identification */
	s->next = k + 1;
	s->l4len = msg_query_v2(s->l4, A_ANY, 0);
}

/* Real fragments are never MLD (nothing reassembles them); an atomic
 * fragment (offset 0, M 0) is processed as the unfragmented packet (RFC
 * 6946 §4), as the engine does (tests/test_input.c input_fragment_header,
 * input_atomic_fragment_processed). */
static void t_fragments(void)
{
	static const int accepted[] = {MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1, -1};
	static const int fragment[] = {MLD_C_PACKETS, 1, MLD_C_FRAGMENT, 1, -1};
	static const struct {
		const char *name;
		int dstopts;
		uint16_t offset;
		int more;
	} cases[] = {{"fragment_first", 0, 0, 1},  {"fragment_middle", 0, 1, 1},
	             {"fragment_last", 0, 185, 0}, {"fragment_after_dstopts", 1, 0, 1},
	             {"atomic_fragment", 0, 0, 0}, {"atomic_fragment_after_dstopts", 1, 0, 0}};
	struct spec s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int atomic = !cases[i].offset && !cases[i].more;

		spec_frag(&s, cases[i].dstopts, cases[i].offset, cases[i].more);
		expect(cases[i].name, &s, XDP_PASS, atomic ? accepted : fragment, atomic);
	}
	/* Reserved fields (octet 1, the two bits before M) are ignored. */
	spec_frag(&s, 0, 0, 0);
	ext_buf[1].keep_len = 1;
	ext_buf[1].body[1] = 0xff;
	ext_buf[1].body[3] = 0x06;
	expect("atomic_fragment_reserved_bits", &s, XDP_PASS, accepted, 1);
	/* A group-specific query behind an atomic fragment. */
	spec_frag(&s, 0, 0, 0);
	s.dst = G_MEMBER;
	s.l4len = msg_query_v2(s.l4, G_MEMBER, 0);
	expect("atomic_fragment_group_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_EVENTS, 1), 1);
	/* A fragment header the payload length cuts short. */
	spec_frag(&s, 0, 0, 0);
	s.l4len = 0;
	s.plen_delta = -4;
	expect("fragment_header_beyond_payload", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);
}

static void t_ext_headers(void)
{
	struct spec s;
	static const uint8_t ra_pad1[] = {0, 0, 5, 2, 0, 0};    /* Pad1 Pad1 RA */
	static const uint8_t no_ra[] = {1, 4, 0, 0, 0, 0};      /* PadN(4) */
	static const uint8_t ra_not_mld[] = {5, 2, 0, 1, 1, 0}; /* RA value 1 */
	static const uint8_t ra_bad_len[] = {5, 3, 0, 0, 0, 0}; /* RA length 3 */
	static const uint8_t overrun[] = {1, 9, 0, 0, 0, 0};    /* PadN past end */
	static const uint8_t other_then_ra[] = {0x1e, 4, 0, 0, 0, 0,
	                                        5,    2, 0, 0, 1, 0}; /* skippable, RA */
	/* RA, then an option whose action bits say discard (RFC 8200 §4.2):
	 * 01, 10, 11 (0xc2, Jumbo Payload, is no option of a 16-octet header). */
	static const uint8_t discard_types[] = {0x7e, 0x9e, 0xde, 0xc2};
	uint8_t ra_then_discard[12] = {5, 2, 0, 0, 0, 2, 0xaa, 0xbb, 1, 2, 0, 0};
	/* The same in destination options, then two that pass there. */
	static const uint8_t dst_types[] = {0x7e, 0x9e, 0xde, 0xc2, 0x1e, 5};
	uint8_t many[100];
	int i;

	/* The walk of a non-standard hop-by-hop header finds RA. */
	spec_mld(&s);
	hbh_opts(&ext_buf[0], ra_pad1, sizeof(ra_pad1));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_pad1_then_ra", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	hbh_opts(&ext_buf[0], other_then_ra, sizeof(other_then_ra));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_16_bytes_other_option_then_ra", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	/* The engine's rule (tests/test_input.c
	 * input_hop_by_hop_unknown_option_discard): found by the crafted
	 * conformance peer, q-val-ext-hdr. */
	for (i = 0; i < (int)sizeof(discard_types); i++) {
		char name[64];

		spec_mld(&s);
		ra_then_discard[4] = discard_types[i];
		hbh_opts(&ext_buf[0], ra_then_discard, sizeof(ra_then_discard));
		s.l4len = msg_query_v2(s.l4, A_ANY, 0);
		snprintf(name, sizeof(name), "hbh_ra_then_option_0x%02x_discard", discard_types[i]);
		expect(name, &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);
	}

	/* Destination options are walked too: an option whose action bits
	 * say discard (the engine's input_dst_options_unknown_option_discard;
	 * found by the crafted conformance peer). A skippable one, or a
	 * Router Alert there (no Router Alert: RFC 2711), passes. */
	for (i = 0; i < (int)sizeof(dst_types); i++) {
		char name[64];
		int pass = i >= (int)sizeof(discard_types);

		spec_mld(&s);
		ext_plain(&ext_buf[1], 60, 8);
		ext_buf[1].body[2] = dst_types[i]; /* 4 data bytes, like the PadN */
		s.next = 2;
		s.l4len = msg_query_v2(s.l4, A_ANY, 0);
		snprintf(name, sizeof(name), "dstopt_option_0x%02x_%s", dst_types[i],
		         pass ? "skipped" : "discard");
		if (pass)
			expect(name, &s, XDP_PASS,
			       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);
		else
			expect(name, &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);
	}

	/* Hop-by-hop, destination options, routing, destination options. */
	spec_mld(&s);
	ext_plain(&ext_buf[1], 60, 8);
	ext_plain(&ext_buf[2], 43, 24);
	ext_plain(&ext_buf[3], 60, 16);
	s.next = 4;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ext_dstopts_routing_dstopts", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	/* Eight extension headers after hop-by-hop: the most that is walked. */
	spec_mld(&s);
	for (i = 1; i <= 8; i++)
		ext_plain(&ext_buf[i], 60, 8);
	s.next = 9;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ext_eight_more", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	for (i = 1; i <= 9; i++)
		ext_plain(&ext_buf[i], 60, 8);
	s.next = 10;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ext_nine_more_too_long", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1),
	       0);

	t_fragments();

	spec_mld(&s);
	hbh_std(&ext_buf[1]);
	s.next = 2;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_twice", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	spec_mld(&s);
	ext_plain(&ext_buf[1], 59, 8); /* no next header */
	s.next = 2;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ext_no_next_header", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NOT_ICMPV6, 1), 0);

	/* Destination options claiming more than the payload holds. */
	spec_mld(&s);
	ext_plain(&ext_buf[1], 60, 8);
	ext_buf[1].keep_len = 1;
	ext_buf[1].body[1] = 20;
	s.next = 2;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ext_overruns_payload", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	/* Hop-by-hop claiming more than the payload holds. */
	spec_mld(&s);
	ext_buf[0].keep_len = 1;
	ext_buf[0].body[1] = 40;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_overruns_payload", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	spec_mld(&s);
	hbh_opts(&ext_buf[0], ra_bad_len, sizeof(ra_bad_len));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_ra_bad_length", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	spec_mld(&s);
	hbh_opts(&ext_buf[0], overrun, sizeof(overrun));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_option_overrun", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	/* More options than the program walks (64): passed, counted. */
	spec_mld(&s);
	memset(many, 0, sizeof(many));
	many[90] = 5;
	many[91] = 2;
	hbh_opts(&ext_buf[0], many, 94);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hbh_too_many_options", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);

	/* No Router Alert / Router Alert for something else than MLD. */
	spec_mld(&s);
	hbh_opts(&ext_buf[0], no_ra, sizeof(no_ra));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("no_router_alert", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NO_ROUTER_ALERT, 1), 0);

	spec_mld(&s);
	hbh_opts(&ext_buf[0], ra_not_mld, sizeof(ra_not_mld));
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("router_alert_not_mld", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_NO_ROUTER_ALERT, 1),
	       0);
}

static void t_queries(void)
{
	struct spec s;

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("v2_general_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	/* Trailing Ethernet padding after the IPv6 packet is ignored. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.pad = 10;
	expect("v2_general_query_eth_padding", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.src = A_LL2;
	s.l4len = msg_query_v1(s.l4, A_ANY);
	expect("v1_general_query", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_QUERY, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_MEMBER;
	s.l4len = msg_query_v1(s.l4, G_MEMBER);
	expect("v1_group_query_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_QUERY, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v1(s.l4, G_OTHER);
	expect("v1_group_query_non_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_QUERY, 1, MLD_C_NOT_MEMBER, 1), 0);

	spec_mld(&s);
	s.dst = G_MEMBER;
	s.l4len = msg_query_v2(s.l4, G_MEMBER, 0);
	expect("v2_group_query_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_EVENTS, 1), 1);

	/* Group-specific query sent to ff02::1 (allowed, as the engine). */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, G_MEMBER, 0);
	expect("v2_group_query_to_all_nodes", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v2(s.l4, G_OTHER, 0);
	expect("v2_group_query_non_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_NOT_MEMBER, 1), 0);

	spec_mld(&s);
	s.dst = G_GS;
	s.l4len = msg_query_v2(s.l4, G_GS, 2);
	expect("v2_group_source_query_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v2(s.l4, G_OTHER, 2);
	expect("v2_group_source_query_non_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_NOT_MEMBER, 1), 0);
	{
		/* ... and it left no throttle state behind. */
		struct mld_group_key k = {.ifindex = IFINDEX};
		struct mld_throttle_set v;
		uint32_t set;

		memcpy(k.group, G_OTHER, 16);
		if (mld_throttle_find(thr_fd, cfg_fd, &k, &set, &v) >= 0)
			fail("throttle bucket for a non-member group");
		report("non_member_no_throttle_state");
	}

	/* Longer than 28 + 16 * nsrc (allowed) and of odd length; the extra
	 * bytes must reach the event too. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0) + 7;
	memcpy(s.l4 + 28, "\x11\x22\x33\x44\x55\x66\x77", 7);
	expect("v2_query_odd_trailing_bytes", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	/* 40 sources: 668 bytes, checksummed in 256-byte chunks. */
	member(IFINDEX, G_BIG, 1);
	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 40);
	expect("v2_query_40_sources", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);

	/* 40 sources and 3 trailing bytes: the chunked sum's odd tail. */
	set_config(0, 0, 0);
	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 40) + 3;
	memcpy(s.l4 + s.l4len - 3, "\x99\x88\x77", 3);
	expect("v2_query_40_sources_odd", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 40);
	s.csum_delta = 0x100;
	expect("v2_query_40_sources_bad_checksum", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1), 0);

	/* 256 sources: the largest that fits an event whole (4124 bytes, the
	 * frame goes beyond one page: an xdp.frags multi-buffer frame). */
	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 256);
	expect("v2_query_256_sources", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);

	/* More than 256 sources: counted, event truncated to 256. */
	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 300);
	expect("v2_query_300_sources_truncated", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_BIG_QUERY, 1, MLD_C_EVENTS, 1),
	       1);

	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 300);
	s.csum_delta = 1;
	expect("v2_query_300_sources_bad_checksum", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1), 0);

	spec_mld(&s);
	s.dst = G_BIG;
	s.l4len = msg_query_v2(s.l4, G_BIG, 300) + 1;
	s.l4[s.l4len - 1] = 0xab;
	expect("v2_query_300_sources_odd", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_BIG_QUERY, 1, MLD_C_EVENTS, 1),
	       1);
	set_config(10000000000ull, 2, 0);
	member(IFINDEX, G_BIG, 0);
}

static void t_reports(void)
{
	struct spec s;

	member(IFINDEX, G_REPORT, 1);
	spec_mld(&s);
	s.src = A_LL2;
	s.dst = G_REPORT;
	s.l4len = msg_report_v1(s.l4, G_REPORT);
	expect("v1_report_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_REPORT, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.src = A_ANY; /* RFC 3590 */
	s.dst = G_REPORT;
	s.l4len = msg_report_v1(s.l4, G_REPORT);
	expect("v1_report_from_unspecified", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_REPORT, 1, MLD_C_EVENTS, 1), 1);

	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_report_v1(s.l4, G_OTHER);
	expect("v1_report_non_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V1_REPORT, 1, MLD_C_NOT_MEMBER, 1), 0);

	spec_mld(&s);
	s.src = A_GLOBAL;
	s.dst = G_REPORT;
	s.l4len = msg_report_v1(s.l4, G_REPORT);
	expect("v1_report_global_source", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_SOURCE, 1),
	       0);

	spec_mld(&s);
	s.dst = A_ALLNODES;
	s.l4len = msg_report_v1(s.l4, G_REPORT);
	expect("v1_report_dst_not_group", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1), 0);

	spec_mld(&s);
	s.dst = G_UNICAST;
	s.l4len = msg_report_v1(s.l4, G_UNICAST);
	expect("v1_report_unicast_group", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1), 0);

	spec_mld(&s);
	s.dst = G_REPORT;
	s.l4len = msg_report_v1(s.l4, G_REPORT) - 4;
	expect("v1_report_short", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_LENGTH, 1), 0);
	member(IFINDEX, G_REPORT, 0);
}

static void t_invalid(void)
{
	struct spec s;

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.csum_delta = 1;
	expect("bad_checksum", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1), 0);

	spec_mld(&s);
	s.dst = G_MEMBER;
	s.l4len = msg_query_v1(s.l4, G_MEMBER);
	s.csum_delta = -1;
	expect("bad_checksum_v1", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1), 0);

	spec_mld(&s);
	s.src = A_GLOBAL;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("non_link_local_source", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_SOURCE, 1), 0);

	spec_mld(&s);
	s.src = A_ANY;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("query_from_unspecified", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_SOURCE, 1), 0);

	spec_mld(&s);
	s.hop_limit = 255;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("hop_limit_255", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_HOP_LIMIT, 1), 0);

	spec_mld(&s);
	s.hop_limit = 0;
	s.l4len = msg_query_v1(s.l4, A_ANY);
	expect("hop_limit_0", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_HOP_LIMIT, 1), 0);

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0) - 2; /* 26: neither v1 nor v2 */
	expect("query_length_26", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_LENGTH, 1), 0);

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0) - 8; /* 20 */
	expect("query_length_20", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_LENGTH, 1), 0);

	spec_mld(&s);
	s.dst = G_GS;
	s.l4len = msg_query_v2f(s.l4, G_GS, 2, 3); /* claims 3 sources */
	expect("query_nsrc_exceeds_length", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_LENGTH, 1),
	       0);

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 2);
	expect("general_query_with_sources", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_GQ_SOURCES, 1),
	       0);

	spec_mld(&s);
	s.dst = A_ALLROUTERS;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("general_query_not_to_all_nodes", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1), 0);

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, G_UNICAST, 0);
	expect("query_unicast_group", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1), 0);

	spec_mld(&s);
	s.dst = G_OTHER;
	s.l4len = msg_query_v2(s.l4, G_MEMBER, 0);
	expect("group_query_to_other_group", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1),
	       0);

	/* Truncation: the IPv6 payload length claims more than the frame. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.cut = 4;
	expect("truncated_payload", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_TRUNCATED, 1), 0);

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.plen_delta = 1000; /* beyond the frame */
	expect("truncated_payload_length", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_TRUNCATED, 1),
	       0);

	/* ICMPv6 of 2 bytes: too short to have a type and checksum. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.plen_delta = -26;
	expect("truncated_icmpv6", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_TRUNCATED, 1), 0);

	/* IPv6 header cut in the middle (the frame ends at 34 bytes). */
	spec_mld(&s);
	s.l4len = 0;
	s.cut = 8 + 20;
	expect("truncated_ipv6_header", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_TRUNCATED, 1), 0);

	/* Hop-by-hop header cut short by the payload length. */
	spec_mld(&s);
	s.l4len = 0;
	s.plen_delta = -4;
	expect("hbh_beyond_payload", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_EXT_HDR, 1), 0);
}

/* A message to dst: kind 'q' an MLDv2 query (nsrc sources), '1' an MLDv1
 * query, 'r' an MLDv1 report, for group. If accepted, its one event
 * carries MLD_EVF_DST_LOCAL. */
static void dst_case(const char *name, const uint8_t *dst, char kind, const uint8_t *group,
                     int nsrc, const int *exp, int accepted)
{
	struct spec s;

	spec_mld(&s);
	s.dst = dst;
	s.l4len = kind == 'r'   ? msg_report_v1(s.l4, group)
	          : kind == '1' ? msg_query_v1(s.l4, group)
	                        : msg_query_v2(s.l4, group, nsrc);
	expect_flags(name, &s, XDP_PASS, exp, accepted, accepted ? MLD_EVF_DST_LOCAL : 0);
}

/* RFC 3810 §5.1.15: a query sent to one of the receiving interface's
 * unicast addresses (mld_local_addrs, kept by the daemon) is accepted and
 * its event says so (MLD_EVF_DST_LOCAL); any other destination that is
 * neither ff02::1 nor the group stays BAD_GROUP. The engine's side:
 * tests/test_input.c input_icmp_dst_local. */
static void t_dst_local(void)
{
	const int *const bad = E(MLD_C_PACKETS, 1, MLD_C_BAD_GROUP, 1);
	const int *const gq = E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1);
	const int *const v1q = E(MLD_C_PACKETS, 1, MLD_C_V1_QUERY, 1, MLD_C_EVENTS, 1);
	const int *const gsq = E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_EVENTS, 1);
	const int *const gssq = E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1);
	uint8_t ll[16], gl[16], not_ours[16], theirs[16], mc[16], grp[16];
	struct spec s;

	addr(ll, "fe80::aa");
	addr(gl, "2001:db8:1::5");
	addr(not_ours, "2001:db8:1::6");
	addr(theirs, "2001:db8:2::5");
	addr(mc, "ff3e::99");
	addr(grp, "ff3e::8000:55"); /* a fresh throttle bucket */
	local_addr(IFINDEX, ll, 1);
	local_addr(IFINDEX, gl, 1);
	local_addr(IFINDEX + 1, theirs, 1); /* another link's */
	local_addr(IFINDEX, mc, 1);         /* never written by the daemon */
	member(IFINDEX, grp, 1);

	dst_case("dst_local_general_query_global", gl, 'q', A_ANY, 0, gq, 1);
	dst_case("dst_local_general_query_link_local", ll, 'q', A_ANY, 0, gq, 1);
	dst_case("dst_local_v1_general_query", ll, '1', A_ANY, 0, v1q, 1);
	dst_case("dst_local_v1_group_query", gl, '1', G_MEMBER, 0, v1q, 1);
	dst_case("dst_local_group_query", gl, 'q', G_MEMBER, 0, gsq, 1);
	dst_case("dst_local_group_source_query", gl, 'q', grp, 2, gssq, 1);
	/* 40 sources: the staged event (bpf_ringbuf_output) carries it too. */
	dst_case("dst_local_group_source_query_40_sources", ll, 'q', grp, 40, gssq, 1);
	/* Accepted destination, the member filter still applies. */
	dst_case("dst_local_group_query_non_member", gl, 'q', G_OTHER, 0,
	         E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_NOT_MEMBER, 1), 0);
	/* Not ours: absent, another link's, or multicast (refused before any
	 * lookup); a v1 report goes to its group whatever the map holds. */
	dst_case("dst_not_local_general_query", not_ours, 'q', A_ANY, 0, bad, 0);
	dst_case("dst_not_local_group_query", not_ours, 'q', G_MEMBER, 0, bad, 0);
	dst_case("dst_local_of_another_link", theirs, 'q', A_ANY, 0, bad, 0);
	dst_case("dst_local_multicast_refused", mc, 'q', G_MEMBER, 0, bad, 0);
	dst_case("dst_local_v1_report", gl, 'r', G_REPORT, 0, bad, 0);

	/* VLAN-tagged: mld_slow's copy of the path. */
	spec_mld(&s);
	s.nvlan = 1;
	s.tpid[0] = 0x8100;
	s.dst = gl;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect_flags("dst_local_vlan_general_query", &s, XDP_PASS,
	             E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1,
	             MLD_EVF_DST_LOCAL);
	/* The checksum still comes first. */
	spec_mld(&s);
	s.dst = gl;
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	s.csum_delta = 1;
	expect("dst_local_bad_checksum", &s, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1),
	       0);
	/* The address went away (RTM_DELADDR). */
	local_addr(IFINDEX, gl, 0);
	dst_case("dst_local_removed", gl, 'q', A_ANY, 0, bad, 0);

	local_addr(IFINDEX, ll, 0);
	local_addr(IFINDEX + 1, theirs, 0);
	local_addr(IFINDEX, mc, 0);
	member(IFINDEX, grp, 0);
}

/* Group-and-source throttle: burst, then throttled; drop policy; gsrdelay
 * changed at run time; default burst. */
static void gsq_from(const char *name, const uint8_t *group, const uint8_t *src, uint32_t verdict,
                     int accepted, int dropped)
{
	struct spec s;

	spec_mld(&s);
	s.src = src;
	s.dst = group;
	s.l4len = msg_query_v2(s.l4, group, 1);
	if (accepted)
		expect(name, &s, verdict,
		       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);
	else if (dropped)
		expect(name, &s, verdict,
		       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1,
		         MLD_C_THROTTLE_DROPPED, 1),
		       0);
	else
		expect(name, &s, verdict,
		       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1), 0);
}

/* The same from A_LL, the frames' usual source. */
static void gsq(const char *name, const uint8_t *group, uint32_t verdict, int accepted, int dropped)
{
	gsq_from(name, group, A_LL, verdict, accepted, dropped);
}

/* The bucket of (owner, g) (owner: IFINDEX, or IFINDEX | the querier
 * bit) into *t, as the daemon finds it (mld_throttle_find): 1 if found. */
static int bucket(uint32_t owner, const uint8_t *g, struct mld_throttle_val *t)
{
	struct mld_group_key k = {.ifindex = owner};
	struct mld_throttle_set v;
	uint32_t set;
	int w;

	memcpy(k.group, g, 16);
	w = mld_throttle_find(thr_fd, cfg_fd, &k, &set, &v);
	if (w >= 0)
		*t = v.way[w];
	return w >= 0;
}

/* A group-and-source query for g (1 source) behind an 802.1Q tag: not
 * the common layout, so mld_slow's path (gs_peek, gs_take). */
static void spec_vlan_gsq(struct spec *s, const uint8_t *g)
{
	spec_mld(s);
	s->nvlan = 1;
	s->tpid[0] = 0x8100;
	s->dst = g;
	s->l4len = msg_query_v2(s->l4, g, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void t_throttle(void)
{
	struct spec s;

	member(IFINDEX, G_THR, 1);
	member(IFINDEX, G_THR2, 1);
	set_config(10000000000ull, 2, 0); /* 10 s, burst 2, pass */
	gsq("throttle_burst_1", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_burst_2", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_3rd_throttled_pass", G_THR, XDP_PASS, 0, 0);
	set_config(10000000000ull, 2, 1); /* policy: drop */
	gsq("throttle_4th_throttled_drop", G_THR, XDP_DROP, 0, 1);

	/* Group-specific queries (no sources) are never throttled. */
	spec_mld(&s);
	s.dst = G_THR;
	s.l4len = msg_query_v2(s.l4, G_THR, 0);
	expect("throttle_group_query_not_throttled", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP, 1, MLD_C_EVENTS, 1), 1);

	/* gsr_delay 0: throttle off, at run time. */
	set_config(0, 2, 1);
	gsq("throttle_off_1", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_off_2", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_off_3", G_THR, XDP_PASS, 1, 0);

	/* Back on with 10 s: still empty after 250 ms. (The program's clock
	 * has tick resolution, up to 10 ms at HZ=100, and may lag a second
	 * tick: the sleeps below leave room for 20 ms of error either way.) */
	set_config(10000000000ull, 2, 0);
	sleep_ms(250);
	gsq("throttle_10s_still_empty", G_THR, XDP_PASS, 0, 0);
	/* gsrdelay changed to 100 ms at run time: the 250 ms refilled the
	 * bucket. (An empty bucket is re-timed once per tick: wait one.) */
	set_config(100000000ull, 2, 0);
	sleep_ms(12);
	gsq("throttle_100ms_refilled_1", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_100ms_refilled_2", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_100ms_empty", G_THR, XDP_PASS, 0, 0);
	sleep_ms(150); /* one token back, not two */
	gsq("throttle_100ms_one_token_back", G_THR, XDP_PASS, 1, 0);
	gsq("throttle_100ms_empty_again", G_THR, XDP_PASS, 0, 0);

	/* An empty bucket is trusted without the member lookup only within
	 * the clock tick it was last looked at: a tick after the daemon
	 * dropped the group, its queries are non-member ones again. */
	member(IFINDEX, G_THR, 0);
	sleep_ms(12);
	spec_mld(&s);
	s.dst = G_THR;
	s.l4len = msg_query_v2(s.l4, G_THR, 1);
	expect("throttle_group_dropped_not_member", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_NOT_MEMBER, 1), 0);

	/* gsr_burst 0 means 2; burst 3 lets three through. */
	set_config(10000000000ull, 0, 0);
	gsq("throttle_default_burst_1", G_THR2, XDP_PASS, 1, 0);
	gsq("throttle_default_burst_2", G_THR2, XDP_PASS, 1, 0);
	gsq("throttle_default_burst_3", G_THR2, XDP_PASS, 0, 0);
	{
		struct mld_throttle_val t;

		if (!bucket(IFINDEX, G_THR2, &t))
			fail("no throttle bucket");
		else if (t.tokens != 0 || t.last_ns == 0)
			fail("throttle bucket tokens %u last %llu", t.tokens,
			     (unsigned long long)t.last_ns);
		report("throttle_map_entry");
	}
	set_config(10000000000ull, 2, 0);
	member(IFINDEX, G_THR2, 0);
}

/* ------------------------------------------------------------------ */
/* Throttle buckets: sets, the secret, collisions, the daemon's forget */
/* ------------------------------------------------------------------ */

/* The set of (IFINDEX, g) under hash key k, read into *v; the way of g's
 * bucket in it, or -1. */
static int bucket_of(const __u64 *k, const uint8_t *g, uint32_t *set, struct mld_throttle_set *v)
{
	uint32_t w32[4];
	int w;

	memcpy(w32, g, 16);
	*set = mld_throttle_set(k, IFINDEX, w32[0], w32[1], w32[2], w32[3]);
	if (*set >= MLD_THROTTLE_MAX || bpf_map_lookup_elem(thr_fd, set, v)) {
		fail("throttle set %u unreadable", *set);
		memset(v, 0, sizeof(*v));
		return -1;
	}
	for (w = 0; w < MLD_THROTTLE_WAYS; w++)
		if (v->way[w].ifindex == IFINDEX && memcmp(v->way[w].group, g, 16) == 0)
			return w;
	return -1;
}

static uint32_t set_of(const uint8_t *g)
{
	uint32_t w32[4];

	memcpy(w32, g, 16);
	return mld_throttle_set(thr_key, IFINDEX, w32[0], w32[1], w32[2], w32[3]);
}

/* Group ff3e::9:<n> (n in the last 32 bits). */
static void grp_n(uint8_t *g, uint32_t n)
{
	addr(g, "ff3e::9:0:0");
	g[12] = (uint8_t)(n >> 24);
	g[13] = (uint8_t)(n >> 16);
	g[14] = (uint8_t)(n >> 8);
	g[15] = (uint8_t)n;
}

/* The next group from *n on (the counter moves past it) whose set under
 * thr_key is want; want == UINT32_MAX: any group whose set is all free. */
static void grp_in_set(uint8_t *g, uint32_t *n, uint32_t want)
{
	for (;; (*n)++) {
		struct mld_throttle_set v;
		uint32_t set;
		int w, used = 0;

		grp_n(g, *n);
		set = set_of(g);
		if (want != UINT32_MAX) {
			if (set == want)
				break;
			continue;
		}
		if (bpf_map_lookup_elem(thr_fd, &set, &v))
			continue;
		for (w = 0; w < MLD_THROTTLE_WAYS; w++)
			used |= v.way[w].ifindex != 0;
		if (!used)
			break;
	}
	(*n)++;
}

/* gsq without its report line (for loops that report once). */
static void gsq_run(const uint8_t *g, uint32_t verdict, int accepted, int dropped)
{
	struct spec s;
	size_t len;
	struct result r;

	spec_mld(&s);
	s.dst = g;
	s.l4len = msg_query_v2(s.l4, g, 1);
	len = build(frame, &s);
	run_frame(frame, len, 1, &r);
	if (accepted)
		check_run(&r, verdict,
		          E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);
	else if (dropped)
		check_run(&r, verdict,
		          E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1,
		            MLD_C_THROTTLE_DROPPED, 1),
		          0);
	else
		check_run(&r, verdict,
		          E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1), 0);
	if (accepted && nevents == 1)
		check_event(&events[0], s.src, s.dst, s.l4, s.l4len, OKF);
}

/* A group-and-source query for g (1 source) that the member filter refuses. */
static void gsq_not_member(const char *name, const uint8_t *g)
{
	struct spec s;

	spec_mld(&s);
	s.dst = g;
	s.l4len = msg_query_v2(s.l4, g, 1);
	expect(name, &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_NOT_MEMBER, 1), 0);
}

static void t_throttle_sets(void)
{
	static uint8_t h[5][16], c[5][16], n_grp[16], d[16], k1[16];
	struct mld_throttle_set v, v2;
	__u64 key2[MLD_THROTTLE_KEY_WORDS];
	uint32_t n = 1, set, set2, i;
	struct result r;
	struct spec s;
	size_t len;
	int w, j;

	set_config(10000000000ull, 2, 0); /* 10 s, burst 2, pass */

	/* The daemon's key (bpf_set_config -> mld_config_keep_key): random
	 * at the first write, the same at every later one (a reload). */
	{
		struct mld_config c1;
		int any = 0;

		memset(&c1, 0, sizeof(c1));
		mld_config_keep_key(cfg_fd, &c1);
		for (i = 0; i < MLD_THROTTLE_KEY_WORDS; i++)
			any |= thr_key[i] != 0;
		if (!any)
			fail("all-zero key");
		if (memcmp(c1.throttle_key, thr_key, sizeof(thr_key)))
			fail("a second config write changed the key");
		report("throttle_key_random_and_kept");
	}

	/* The set follows the daemon's secret: the bucket is where
	 * mld_throttle_set puts the group under the configured key, and a
	 * different key puts it elsewhere. */
	grp_in_set(k1, &n, UINT32_MAX);
	member(IFINDEX, k1, 1);
	gsq("throttle_key_first_query", k1, XDP_PASS, 1, 0);
	w = bucket_of(thr_key, k1, &set, &v);
	if (w < 0)
		fail("no bucket in set %u (of the configured key)", set);
	else if (v.way[w].tokens != 1 || !v.way[w].last_ns)
		fail("bucket tokens %u last %llu", v.way[w].tokens,
		     (unsigned long long)v.way[w].last_ns);
	report("throttle_bucket_in_keyed_set");
	do {
		if (getrandom(key2, sizeof(key2), 0) != (ssize_t)sizeof(key2))
			exit(2);
		bucket_of(key2, k1, &set2, &v2);
	} while (set2 == set);
	{
		__u64 save[MLD_THROTTLE_KEY_WORDS];

		memcpy(save, thr_key, sizeof(save));
		memcpy(thr_key, key2, sizeof(thr_key));
		set_config(10000000000ull, 2, 0);
		/* Under key2 the group has no bucket yet: a full one. */
		gsq("throttle_other_key_other_set", k1, XDP_PASS, 1, 0);
		if (bucket_of(key2, k1, &set2, &v2) < 0)
			fail("no bucket in set %u (of the new key)", set2);
		w = bucket_of(save, k1, &set, &v);
		if (w < 0 || v.way[w].tokens != 1)
			fail("the old key's bucket moved");
		report("throttle_set_follows_the_key");
		memcpy(thr_key, save, sizeof(thr_key));
		set_config(10000000000ull, 2, 0);
		/* Back to the first key: its bucket (one token) again. */
		gsq("throttle_key_back_last_token", k1, XDP_PASS, 1, 0);
		gsq("throttle_key_back_throttled", k1, XDP_PASS, 0, 0);
		v2 = (struct mld_throttle_set){0};
		bpf_map_update_elem(thr_fd, &set2, &v2, BPF_ANY); /* the stale bucket */
	}
	member(IFINDEX, k1, 0);

	/* A non-member flood into a full set of drained held groups leaves
	 * every bucket as it was. */
	grp_in_set(h[0], &n, UINT32_MAX);
	set = set_of(h[0]);
	for (i = 1; i < 4; i++)
		grp_in_set(h[i], &n, set);
	grp_in_set(n_grp, &n, set);
	for (i = 0; i < 4; i++) {
		member(IFINDEX, h[i], 1);
		gsq_run(h[i], XDP_PASS, 1, 0);
		gsq_run(h[i], XDP_PASS, 1, 0);
	}
	bpf_map_lookup_elem(thr_fd, &set, &v);
	for (i = 0; i < 4; i++) {
		w = bucket_of(thr_key, h[i], &set2, &v2);
		if (w < 0 || set2 != set || v2.way[w].tokens != 0)
			fail("group %u has no drained bucket in set %u", i, set);
	}
	report("throttle_set_full_of_drained_held_groups");
	gsq_not_member("throttle_non_member_in_full_set", n_grp);
	spec_mld(&s);
	s.dst = n_grp;
	s.l4len = msg_query_v2(s.l4, n_grp, 2);
	len = build(frame, &s);
	run_frame(frame, len, 10000, &r);
	check_run(&r, XDP_PASS,
	          E(MLD_C_PACKETS, 10000, MLD_C_V2_GROUP_SOURCE, 10000, MLD_C_NOT_MEMBER, 10000),
	          0);
	bpf_map_lookup_elem(thr_fd, &set, &v2);
	if (memcmp(&v, &v2, sizeof(v)))
		fail("a non-member flood changed the set");
	report("throttle_non_member_flood_evicts_nothing");
	for (i = 0; i < 4; i++)
		gsq_run(h[i], XDP_PASS, 0, 0);
	report("throttle_held_groups_still_throttled");

	/* Collisions: a fifth held group of a full set takes over the
	 * bucket with the most tokens and inherits them; with every bucket
	 * drained, colliding groups only ever share drained buckets. */
	grp_in_set(c[0], &n, UINT32_MAX);
	set = set_of(c[0]);
	for (i = 1; i < 5; i++)
		grp_in_set(c[i], &n, set);
	for (i = 0; i < 5; i++)
		member(IFINDEX, c[i], 1);
	for (i = 0; i < 3; i++) {
		gsq_run(c[i], XDP_PASS, 1, 0);
		gsq_run(c[i], XDP_PASS, 1, 0);
	}
	gsq_run(c[3], XDP_PASS, 1, 0);
	w = bucket_of(thr_key, c[3], &set, &v);
	if (w < 0 || v.way[w].tokens != 1)
		fail("group 3: no bucket with one token");
	report("throttle_collide_set_full");
	gsq("throttle_takeover_inherits_token", c[4], XDP_PASS, 1, 0);
	j = bucket_of(thr_key, c[4], &set, &v);
	if (j != w || v.way[j].tokens != 0)
		fail("group 4 in way %d (want %d) with %u tokens", j, w,
		     j >= 0 ? v.way[j].tokens : 99);
	if (bucket_of(thr_key, c[3], &set, &v) >= 0)
		fail("group 3 kept its bucket");
	report("throttle_takeover_took_the_fullest_bucket");
	gsq("throttle_takeover_then_throttled", c[4], XDP_PASS, 0, 0);
	for (j = 0; j < 3; j++)
		for (i = 0; i < 5; i++)
			gsq_run(c[i], XDP_PASS, 0, 0);
	report("throttle_colliding_groups_never_bypass");
	/* Refilled buckets count as free: 250 ms at 100 ms a token. */
	set_config(100000000ull, 2, 0);
	sleep_ms(250);
	for (i = 0; i < 5; i++)
		if (bucket_of(thr_key, c[i], &set, &v) < 0) {
			gsq("throttle_takeover_of_refilled_bucket", c[i], XDP_PASS, 1, 0);
			break;
		}
	set_config(10000000000ull, 2, 0);
	for (i = 0; i < 5; i++)
		member(IFINDEX, c[i], 0);
	for (i = 0; i < 4; i++)
		member(IFINDEX, h[i], 0);

	/* The daemon drops a group (bpf_member_set): its bucket is zeroed
	 * (mld_throttle_forget), at once, not a tick later. */
	grp_in_set(d, &n, UINT32_MAX);
	member(IFINDEX, d, 1);
	gsq("throttle_forget_1", d, XDP_PASS, 1, 0);
	gsq("throttle_forget_2", d, XDP_PASS, 1, 0);
	gsq("throttle_forget_3", d, XDP_PASS, 0, 0);
	{
		struct mld_group_key k = {.ifindex = IFINDEX};

		memcpy(k.group, d, 16);
		w = bucket_of(thr_key, d, &set, &v);
		mld_throttle_forget(thr_fd, cfg_fd, &k);
		if (w < 0)
			fail("no bucket before forget");
		else if (bucket_of(thr_key, d, &set, &v) >= 0 || v.way[w].ifindex ||
		         v.way[w].tokens || v.way[w].last_ns)
			fail("bucket not zeroed");
		report("throttle_forget_zeroes_bucket");
		/* Still held: a full bucket again. */
		gsq("throttle_forget_full_again", d, XDP_PASS, 1, 0);
		gsq("throttle_forget_full_again_2", d, XDP_PASS, 1, 0);
		gsq("throttle_forget_drained_again", d, XDP_PASS, 0, 0);
		/* Dropped as bpf_member_set does it: no longer a member, in
		 * the same tick. */
		member(IFINDEX, d, 0);
		mld_throttle_forget(thr_fd, cfg_fd, &k);
		gsq_not_member("throttle_dropped_group_not_member_at_once", d);
	}

	/* gsr_delay raised at run time: a drained bucket refills at the new
	 * rate. */
	member(IFINDEX, d, 1);
	set_config(100000000ull, 2, 0);
	gsq("throttle_raise_1", d, XDP_PASS, 1, 0);
	gsq("throttle_raise_2", d, XDP_PASS, 1, 0);
	gsq("throttle_raise_drained", d, XDP_PASS, 0, 0);
	sleep_ms(150);
	gsq("throttle_raise_100ms_token_back", d, XDP_PASS, 1, 0);
	set_config(10000000000ull, 2, 0);
	sleep_ms(150);
	gsq("throttle_raised_to_10s_no_token_back", d, XDP_PASS, 0, 0);
	sleep_ms(150);
	gsq("throttle_raised_to_10s_still_none", d, XDP_PASS, 0, 0);
	/* The drop policy, changed at run time, applies to the fast path
	 * at once. */
	set_config(10000000000ull, 2, 1);
	gsq("throttle_policy_drop_at_once", d, XDP_DROP, 0, 1);
	set_config(10000000000ull, 2, 0);

	/* The throttle's fast path writes nothing and comes before the
	 * checksum: a forged (bad checksum) query for a drained group is
	 * throttled within the tick the bucket was last looked at (else the
	 * full path refuses it: BAD_CHECKSUM); one for a group with tokens
	 * is refused and costs none. A tick boundary may fall between the
	 * two runs: tried up to five times. */
	spec_mld(&s);
	s.dst = d;
	s.l4len = msg_query_v2(s.l4, d, 1);
	s.csum_delta = 1;
	len = build(frame, &s);
	for (j = 0; j < 5; j++) {
		gsq_run(d, XDP_PASS, 0, 0); /* looked at in this tick */
		len = build(frame, &s);
		run_frame(frame, len, 1, &r);
		if (r.d[MLD_C_THROTTLED] == 1) {
			check_run(&r, XDP_PASS,
			          E(MLD_C_PACKETS, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1),
			          0);
			break;
		}
		check_run(&r, XDP_PASS, E(MLD_C_PACKETS, 1, MLD_C_BAD_CHECKSUM, 1), 0);
	}
	if (j == 5)
		fail("never throttled by the fast path");
	report("throttle_bad_checksum_drained_group_throttled");
	grp_in_set(k1, &n, UINT32_MAX);
	member(IFINDEX, k1, 1);
	spec_mld(&s);
	s.dst = k1;
	s.l4len = msg_query_v2(s.l4, k1, 1);
	s.csum_delta = 1;
	len = build(frame, &s);
	run_frame(frame, len, 100, &r);
	check_run(&r, XDP_PASS, E(MLD_C_PACKETS, 100, MLD_C_BAD_CHECKSUM, 100), 0);
	if (bucket_of(thr_key, k1, &set, &v) >= 0)
		fail("a bad checksum made a bucket");
	report("throttle_bad_checksum_takes_no_token");
	gsq("throttle_after_forgeries_1", k1, XDP_PASS, 1, 0);
	gsq("throttle_after_forgeries_2", k1, XDP_PASS, 1, 0);
	gsq("throttle_after_forgeries_3", k1, XDP_PASS, 0, 0);

	/* The same fast path behind a VLAN tag (mld_slow -> gs_peek). */
	spec_vlan_gsq(&s, k1);
	expect("throttle_vlan_drained_group", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1), 0);
	set_config(10000000000ull, 2, 1);
	sleep_ms(12); /* a new tick: the first one through gs_take */
	expect("throttle_vlan_drained_group_drop_new_tick", &s, XDP_DROP,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1,
	         MLD_C_THROTTLE_DROPPED, 1),
	       0);
	expect("throttle_vlan_drained_group_drop_same_tick", &s, XDP_DROP,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1,
	         MLD_C_THROTTLE_DROPPED, 1),
	       0);
	set_config(10000000000ull, 2, 0);
	member(IFINDEX, k1, 0);
	member(IFINDEX, d, 0);
}

/* ------------------------------------------------------------------ */
/* The querier's own bucket (mld_querier)                             */
/* ------------------------------------------------------------------ */

/* The daemon's write of link ifindex's querier (addr NULL: removed). */
static void querier(uint32_t ifindex, const uint8_t *addr)
{
	if (mld_querier_write(qry_fd, ifindex, addr)) {
		fprintf(stderr, "querier map update: %s\n", strerror(errno));
		exit(2);
	}
}

/* The tokens of (owner, g)'s bucket, -1 if it has none. */
static int tokens_of(uint32_t owner, const uint8_t *g)
{
	struct mld_throttle_val t;

	return bucket(owner, g, &t) ? (int)t.tokens : -1;
}

/* The next group from *n on whose sets, for the others' and for the
 * querier's bucket, are both all free (no earlier case's bucket shares
 * them). */
static void grp_fresh(uint8_t *g, uint32_t *n)
{
	for (;; (*n)++) {
		uint32_t w32[4], set, i;
		struct mld_throttle_set v;
		int used = 0, w;

		grp_n(g, *n);
		memcpy(w32, g, 16);
		for (i = 0; i < 2; i++) {
			set = mld_throttle_set(thr_key, IFINDEX | (i ? MLD_THROTTLE_QUERIER : 0),
			                       w32[0], w32[1], w32[2], w32[3]);
			if (bpf_map_lookup_elem(thr_fd, &set, &v))
				used = 1;
			for (w = 0; w < MLD_THROTTLE_WAYS; w++)
				used |= v.way[w].ifindex != 0;
		}
		if (!used)
			break;
	}
	(*n)++;
}

/*
 * Errata 23 with the querier's bucket: with the link's querier in
 * mld_querier, its group-and-source queries are charged to the bucket of
 * (ifindex | MLD_THROTTLE_QUERIER, group), everyone else's to (ifindex,
 * group). Here the querier is febf::2 (A_LL2) and the forger A_LL.
 */
static void t_throttle_querier(void)
{
	static uint8_t g1[16], g2[16], g3[16], g4[16];
	const uint32_t qown = IFINDEX | MLD_THROTTLE_QUERIER;
	uint32_t n = 0x5000, k;
	struct spec s;

	set_config(10000000000ull, 2, 0); /* 10 s, burst 2, pass */
	grp_fresh(g1, &n);
	grp_fresh(g2, &n);
	grp_fresh(g3, &n);
	grp_fresh(g4, &n);
	member(IFINDEX, g1, 1);
	member(IFINDEX, g2, 1);
	member(IFINDEX, g3, 1);
	member(IFINDEX, g4, 1);
	querier(IFINDEX, A_LL2);

	/* A flood from another host drains the shared bucket; the querier's
	 * burst for the same group still passes, then its own bucket is
	 * drained too (same size); the flood stays throttled, also on the
	 * fast path (gs_fast: same tick). */
	gsq("querier_others_burst_1", g1, XDP_PASS, 1, 0);
	gsq("querier_others_burst_2", g1, XDP_PASS, 1, 0);
	gsq("querier_others_throttled", g1, XDP_PASS, 0, 0);
	gsq_from("querier_own_passes_others_empty_1", g1, A_LL2, XDP_PASS, 1, 0);
	gsq_from("querier_own_passes_others_empty_2", g1, A_LL2, XDP_PASS, 1, 0);
	gsq_from("querier_own_burst_over", g1, A_LL2, XDP_PASS, 0, 0);
	gsq("querier_others_still_throttled", g1, XDP_PASS, 0, 0);
	if (tokens_of(IFINDEX, g1) != 0 || tokens_of(qown, g1) != 0)
		fail("buckets: others %d, querier %d tokens; want 0 and 0", tokens_of(IFINDEX, g1),
		     tokens_of(qown, g1));
	report("querier_two_buckets_in_the_map");

	/* Vice versa: a flood spoofing the querier drains only the
	 * querier's bucket. */
	gsq_from("querier_spoofed_1", g2, A_LL2, XDP_PASS, 1, 0);
	gsq_from("querier_spoofed_2", g2, A_LL2, XDP_PASS, 1, 0);
	gsq_from("querier_spoofed_throttled", g2, A_LL2, XDP_PASS, 0, 0);
	gsq("querier_spoofed_others_pass_1", g2, XDP_PASS, 1, 0);
	gsq("querier_spoofed_others_pass_2", g2, XDP_PASS, 1, 0);
	if (tokens_of(IFINDEX, g2) != 0 || tokens_of(qown, g2) != 0)
		fail("buckets: others %d, querier %d tokens; want 0 and 0", tokens_of(IFINDEX, g2),
		     tokens_of(qown, g2));
	report("querier_spoofed_drains_only_its_bucket");

	/* The querier of another link in the same mld_querier set is not
	 * this link's querier. */
	querier(IFINDEX, NULL);
	querier(IFINDEX + MLD_QUERIER_SETS, A_LL2);
	gsq_from("querier_of_other_link_is_others", g2, A_LL2, XDP_PASS, 0, 0);
	querier(IFINDEX + MLD_QUERIER_SETS, NULL);
	/* No querier known: one shared bucket for all. */
	gsq_from("querier_none_shared_bucket", g2, A_LL2, XDP_PASS, 0, 0);

	/* The querier changes (the daemon rewrites the entry): the
	 * privilege moves with it. */
	querier(IFINDEX, A_LL2);
	gsq("querier_move_others_1", g3, XDP_PASS, 1, 0);
	gsq("querier_move_others_2", g3, XDP_PASS, 1, 0);
	gsq("querier_move_others_throttled", g3, XDP_PASS, 0, 0);
	querier(IFINDEX, A_LL);
	gsq("querier_moved_new_querier_1", g3, XDP_PASS, 1, 0);
	gsq("querier_moved_new_querier_2", g3, XDP_PASS, 1, 0);
	gsq_from("querier_moved_old_one_shares", g3, A_LL2, XDP_PASS, 0, 0);
	querier(IFINDEX, A_LL2);

	/* Behind a VLAN tag (mld_slow -> gs_peek, gs_take): the same. */
	spec_vlan_gsq(&s, g4);
	expect("querier_vlan_others_1", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);
	expect("querier_vlan_others_2", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);
	expect("querier_vlan_others_throttled", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_THROTTLED, 1), 0);
	s.src = A_LL2;
	expect("querier_vlan_own_passes", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_VLAN, 1, MLD_C_V2_GROUP_SOURCE, 1, MLD_C_EVENTS, 1), 1);

	/* The daemon drops the group (bpf_member_set): both buckets go. */
	{
		struct mld_group_key key = {.ifindex = IFINDEX};

		memcpy(key.group, g1, 16);
		member(IFINDEX, g1, 0);
		mld_throttle_forget(thr_fd, cfg_fd, &key);
		if (tokens_of(IFINDEX, g1) >= 0 || tokens_of(qown, g1) >= 0)
			fail("a bucket survived: others %d, querier %d", tokens_of(IFINDEX, g1),
			     tokens_of(qown, g1));
		report("querier_forget_zeroes_both_buckets");
	}

	/* mld_querier_write: five links of one set do not fit; removal
	 * frees the way. */
	{
		int rc;

		for (k = 1; k <= 3; k++)
			querier(IFINDEX + k * MLD_QUERIER_SETS, A_LL);
		rc = mld_querier_write(qry_fd, IFINDEX + 4 * MLD_QUERIER_SETS, A_LL);
		if (rc != -1)
			fail("a fifth link in a full set: rc %d", rc);
		querier(IFINDEX + 2 * MLD_QUERIER_SETS, NULL);
		if (mld_querier_write(qry_fd, IFINDEX + 4 * MLD_QUERIER_SETS, A_LL))
			fail("no room after a removal");
		for (k = 1; k <= 4; k++)
			querier(IFINDEX + k * MLD_QUERIER_SETS, NULL);
		report("querier_map_set_full");
	}
	querier(IFINDEX, NULL);
	member(IFINDEX, g2, 0);
	member(IFINDEX, g3, 0);
	member(IFINDEX, g4, 0);
}

/* Ring buffer full: more events than the ring holds in one run (a
 * general query's record is 84 bytes, 96 with the ring's header and
 * alignment). */
static void t_ringbuf_full(void)
{
	struct spec s;
	struct result r;
	uint32_t n = MLD_RINGBUF_BYTES / 96 + 1000;
	uint64_t before = nevents_total;
	size_t len;

	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	len = build(frame, &s);
	run_frame(frame, len, n, &r);
	if (r.err)
		fail("BPF_PROG_TEST_RUN: %s", strerror(-r.err));
	if (r.d[MLD_C_V2_GENERAL] != n || r.d[MLD_C_PACKETS] != n)
		fail("%lld general queries counted, want %u", (long long)r.d[MLD_C_V2_GENERAL], n);
	if (r.d[MLD_C_RINGBUF_FULL] < 1000)
		fail("RINGBUF_FULL %lld, want >= 1000", (long long)r.d[MLD_C_RINGBUF_FULL]);
	if (r.d[MLD_C_EVENTS] + r.d[MLD_C_RINGBUF_FULL] != n)
		fail("EVENTS %lld + RINGBUF_FULL %lld != %u", (long long)r.d[MLD_C_EVENTS],
		     (long long)r.d[MLD_C_RINGBUF_FULL], n);
	if ((int64_t)(nevents_total - before) != r.d[MLD_C_EVENTS])
		fail("%llu events read, EVENTS says %lld",
		     (unsigned long long)(nevents_total - before), (long long)r.d[MLD_C_EVENTS]);
	report("ringbuf_full_counted");

	/* Drained: room again. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0);
	expect("ringbuf_after_drain", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);

	/* The same with a 35-byte query: staged and copied by
	 * bpf_ringbuf_output (104-byte records), not written in place. */
	spec_mld(&s);
	s.l4len = msg_query_v2(s.l4, A_ANY, 0) + 7;
	memcpy(s.l4 + 28, "\x11\x22\x33\x44\x55\x66\x77", 7);
	len = build(frame, &s);
	n = MLD_RINGBUF_BYTES / 104 + 1000;
	before = nevents_total;
	run_frame(frame, len, n, &r);
	if (r.err)
		fail("BPF_PROG_TEST_RUN: %s", strerror(-r.err));
	if (r.d[MLD_C_RINGBUF_FULL] < 1000 || r.d[MLD_C_EVENTS] + r.d[MLD_C_RINGBUF_FULL] != n)
		fail("EVENTS %lld + RINGBUF_FULL %lld, want %u with >= 1000 full",
		     (long long)r.d[MLD_C_EVENTS], (long long)r.d[MLD_C_RINGBUF_FULL], n);
	if ((int64_t)(nevents_total - before) != r.d[MLD_C_EVENTS])
		fail("%llu events read, EVENTS says %lld",
		     (unsigned long long)(nevents_total - before), (long long)r.d[MLD_C_EVENTS]);
	if (bad_records)
		fail("%llu ring-buffer records of a wrong size", (unsigned long long)bad_records);
	bad_records = 0;
	report("ringbuf_full_staged_counted");
	expect("ringbuf_after_drain_staged", &s, XDP_PASS,
	       E(MLD_C_PACKETS, 1, MLD_C_V2_GENERAL, 1, MLD_C_EVENTS, 1), 1);
}

/* Every counter that some path can reach has been seen moving. */
static void t_coverage(void)
{
	int i;

	for (i = 0; i < MLD_C_COUNT; i++)
		if (!ctr_seen[i])
			fail("counter %s never exercised", ctr_name[i]);
	report("all_counters_exercised");
}

/* The maps are BTF-typed (bpftool map dump shows fields, not bytes). */
static void t_btf(void)
{
	struct bpf_map *maps[] = {skel->maps.mld_members,     skel->maps.mld_throttle,
	                          skel->maps.mld_config,      skel->maps.mld_counters,
	                          skel->maps.mld_local_addrs, skel->maps.mld_querier};
	const char *names[] = {MLD_MAP_MEMBERS,  MLD_MAP_THROTTLE,    MLD_MAP_CONFIG,
	                       MLD_MAP_COUNTERS, MLD_MAP_LOCAL_ADDRS, MLD_MAP_QUERIER};
	unsigned i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (strcmp(bpf_map__name(maps[i]), names[i]))
			fail("map %s named %s", names[i], bpf_map__name(maps[i]));
		struct bpf_map_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		/* As the kernel holds it: it drops BTF it does not accept. */
		if (bpf_obj_get_info_by_fd(bpf_map__fd(maps[i]), &info, &len) || !info.btf_id ||
		    !info.btf_key_type_id || !info.btf_value_type_id)
			fail("map %s without BTF key/value types in the kernel", names[i]);
	}
	if (strcmp(bpf_map__name(skel->maps.mld_events), MLD_MAP_EVENTS))
		fail("ring buffer named %s", bpf_map__name(skel->maps.mld_events));
	if (bpf_map__key_size(skel->maps.mld_members) != sizeof(struct mld_group_key) ||
	    bpf_map__key_size(skel->maps.mld_throttle) != sizeof(uint32_t) ||
	    bpf_map__value_size(skel->maps.mld_throttle) != sizeof(struct mld_throttle_set) ||
	    bpf_map__max_entries(skel->maps.mld_throttle) != MLD_THROTTLE_MAX ||
	    bpf_map__value_size(skel->maps.mld_config) != sizeof(struct mld_config) ||
	    bpf_map__key_size(skel->maps.mld_local_addrs) != sizeof(struct mld_addr_key) ||
	    bpf_map__value_size(skel->maps.mld_local_addrs) != sizeof(struct mld_local_addr_val) ||
	    bpf_map__max_entries(skel->maps.mld_local_addrs) != MLD_LOCAL_ADDRS_MAX ||
	    bpf_map__key_size(skel->maps.mld_querier) != sizeof(uint32_t) ||
	    bpf_map__value_size(skel->maps.mld_querier) != sizeof(struct mld_querier_set) ||
	    bpf_map__max_entries(skel->maps.mld_querier) != MLD_QUERIER_SETS)
		fail("map key/value sizes differ from the ABI header");
	report("maps_named_and_btf_typed");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("FAIL setup: test-xdp needs root (BPF_PROG_TEST_RUN)\nxdp: 0 passed, 1 "
		       "failed\n");
		return 1;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	init_addrs();
	skel = mldagent__open_and_load();
	if (!skel) {
		printf("FAIL setup: cannot load the XDP program: %s\nxdp: 0 passed, 1 failed\n",
		       strerror(errno));
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.mldagent_xdp);
	ctr_fd = bpf_map__fd(skel->maps.mld_counters);
	cfg_fd = bpf_map__fd(skel->maps.mld_config);
	mem_fd = bpf_map__fd(skel->maps.mld_members);
	thr_fd = bpf_map__fd(skel->maps.mld_throttle);
	loc_fd = bpf_map__fd(skel->maps.mld_local_addrs);
	qry_fd = bpf_map__fd(skel->maps.mld_querier);
	ncpu = libbpf_num_possible_cpus();
	rb = ring_buffer__new(bpf_map__fd(skel->maps.mld_events), ring_cb, NULL, NULL);
	if (ncpu <= 0 || !rb) {
		printf("FAIL setup: ring buffer / cpus\nxdp: 0 passed, 1 failed\n");
		return 1;
	}
	{
		/* The daemon's key: random, kept across config writes. */
		struct mld_config c0;

		memset(&c0, 0, sizeof(c0));
		mld_config_keep_key(cfg_fd, &c0);
		memcpy(thr_key, c0.throttle_key, sizeof(thr_key));
	}
	set_config(10000000000ull, 2, 0);
	member(IFINDEX, G_MEMBER, 1);
	member(IFINDEX, G_GS, 1);
	member(IFINDEX + 1, G_OTHER, 1); /* held on another link only */

	t_btf();
	t_non_mld();
	t_vlan();
	t_ext_headers();
	t_queries();
	t_reports();
	t_invalid();
	t_dst_local();
	t_throttle();
	t_throttle_sets();
	t_throttle_querier();
	t_ringbuf_full();
	t_coverage();

	ring_buffer__free(rb);
	mldagent__destroy(skel);
	printf("xdp: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
