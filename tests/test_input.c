/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bad input gets a clear error and changes nothing: malformed packets are
 * counted by reason and never acted on; bad listener, link and tunable
 * operations return their documented MLD_E_* code and leave the state as it
 * was.
 *
 * Every rejection is checked the same way: a "state" engine (groups in ASM,
 * INCLUDE and EXCLUDE mode, a link-scope and an interface-local group, a
 * pending general-query response, pending group and group-and-source query
 * answers, state-change retransmissions still to go) and an identical twin
 * that never sees the bad input. After the input: the return value is
 * negative (or the expected MLD_E_*), exactly the expected drop counter moved
 * by one and no other counter, the canonical dump is byte-identical, nothing
 * was emitted, and the next 20 s of traffic equal the twin's, packet for
 * packet and byte for byte.
 *
 * Validation reference: shared/seed/ERRATA.md item 5, Linux
 * ipv6_mc_check_mld / igmp6_event_query, RFC 3810 §5.1.14, §5.1.15, §6.2,
 * RFC 2710 §3, RFC 8200 §4.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Addresses and packets                                              */
/* ------------------------------------------------------------------ */

/* A pointer to a parsed literal, for call sites (8 rotating slots). */
static const struct in6_addr *AP(const char *s)
{
	static struct in6_addr slot[8];
	static int k;

	k = (k + 1) % 8;
	slot[k] = A(s);
	return &slot[k];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 over the IPv6 pseudo-header, written here again on purpose. */
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

enum {
	NH_HOP = 0,
	NH_UDP = 17,
	NH_ROUTING = 43,
	NH_FRAG = 44,
	NH_ICMP6 = 58,
	NH_NONE = 59,
	NH_DST = 60
};

/* Hop-by-hop header carrying Router Alert value 0 (MLD) and PadN. */
static size_t ext_hbh_ra(uint8_t *p, uint8_t next)
{
	const uint8_t h[8] = {next, 0, 5, 2, 0, 0, 1, 0};

	memcpy(p, h, 8);
	return 8;
}

/* An 8-byte header of the options kind (hop-by-hop or destination
 * options) holding only PadN. */
static size_t ext_pad(uint8_t *p, uint8_t next)
{
	const uint8_t h[8] = {next, 0, 1, 4, 0, 0, 0, 0};

	memcpy(p, h, 8);
	return 8;
}

static size_t ext_frag(uint8_t *p, uint8_t next, uint16_t offset, int more)
{
	uint16_t v = (uint16_t)(offset << 3 | (more ? 1 : 0));
	const uint8_t h[8] = {next, 0, (uint8_t)(v >> 8), (uint8_t)v, 0x12, 0x34, 0x56, 0x78};

	memcpy(p, h, 8);
	return 8;
}

/* ICMPv6 bodies. Checksum left zero: assemble() fills it in. */
static size_t icmp_v1(uint8_t *p, uint8_t type, const char *group, uint16_t mrd)
{
	struct in6_addr g = A(group ? group : "::");

	memset(p, 0, 24);
	p[0] = type;
	p[4] = (uint8_t)(mrd >> 8);
	p[5] = (uint8_t)mrd;
	memcpy(p + 8, &g, 16);
	return 24;
}

static size_t icmp_v2_query(uint8_t *p, const char *group, uint16_t mrc, const char *srcs)
{
	char list[1024], *tok, *save = NULL;
	struct in6_addr g = A(group ? group : "::");
	size_t n = 0;

	memset(p, 0, 28);
	p[0] = MLD_ICMP_QUERY;
	p[4] = (uint8_t)(mrc >> 8);
	p[5] = (uint8_t)mrc;
	memcpy(p + 8, &g, 16);
	p[24] = 2;
	p[25] = 125;
	snprintf(list, sizeof(list), "%s", srcs ? srcs : "");
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct in6_addr a = A(tok);

		memcpy(p + 28 + 16 * n++, &a, 16);
	}
	p[26] = (uint8_t)(n >> 8);
	p[27] = (uint8_t)n;
	return 28 + 16 * n;
}

/* A v2 report from another host: one IS_EX{} record for the group. */
static size_t icmp_v2_report(uint8_t *p, const char *group)
{
	struct in6_addr g = A(group);

	memset(p, 0, 28);
	p[0] = MLD_ICMP_V2_REPORT;
	p[7] = 1;
	p[8] = MLD_MODE_IS_EXCLUDE;
	memcpy(p + 12, &g, 16);
	return 28;
}

/*
 * IPv6 header (next header first_nh, hop limit hop), 'ext' bytes of
 * extension headers as given, then the ICMPv6 body, whose checksum is
 * computed for src/dst. Returns the packet length.
 */
static size_t assemble(uint8_t *out, const char *src, const char *dst, uint8_t hop,
                       uint8_t first_nh, const uint8_t *ext, size_t extlen, const uint8_t *icmp,
                       size_t icmplen)
{
	struct in6_addr s = A(src), d = A(dst);
	size_t plen = extlen + icmplen;
	uint8_t *ic = out + 40 + extlen;
	uint16_t c;

	memset(out, 0, 40);
	out[0] = 0x60;
	out[4] = (uint8_t)(plen >> 8);
	out[5] = (uint8_t)plen;
	out[6] = first_nh;
	out[7] = hop;
	memcpy(out + 8, &s, 16);
	memcpy(out + 24, &d, 16);
	if (extlen)
		memcpy(out + 40, ext, extlen);
	if (icmplen)
		memcpy(ic, icmp, icmplen);
	if (icmplen >= 4) {
		ic[2] = ic[3] = 0;
		c = csum6(out + 8, out + 24, ic, icmplen);
		ic[2] = (uint8_t)(c >> 8);
		ic[3] = (uint8_t)c;
	}
	return 40 + plen;
}

/* The common case: hop limit 1, hop-by-hop Router Alert, ICMPv6. */
static size_t mld_pkt(uint8_t *out, const char *src, const char *dst, const uint8_t *icmp,
                      size_t icmplen)
{
	uint8_t ext[8];

	ext_hbh_ra(ext, NH_ICMP6);
	return assemble(out, src, dst, 1, NH_HOP, ext, 8, icmp, icmplen);
}

/* ------------------------------------------------------------------ */
/* The state every rejection is tried against                         */
/* ------------------------------------------------------------------ */

static const char *G_ASM = "ff3e::1", *G_IN = "ff3e::2", *G_EX = "ff3e::3", *G_NEW = "ff3e::4",
                  *G_LINK = "ff02::1:ff00:1", *G_IFL = "ff01::7";
#define S1      "2001:db8::1"
#define S2      "2001:db8::2"
#define S3      "2001:db8::3"
#define S4      "2001:db8::4"
#define S5      "2001:db8::5"
#define QUERIER "fe80::9"

/* A non-NULL pointer for empty source lists: see
 * input_set_filter_empty_null_list for what NULL does. */
static const struct in6_addr empty_list[1];
#define EMPTY empty_list

static int setup_failed;

static void must(int rc, const char *what)
{
	if (rc < 0 && !setup_failed) {
		setup_failed = 1;
		t_fail(__FILE__, __LINE__, "state setup: %s: %s", what, mld_strerror(rc));
	}
}

/*
 * ASM (two listeners), INCLUDE, EXCLUDE, link-scope and interface-local
 * groups; then a group-and-source query, a group query and a general query
 * whose answers are pending, and a source join whose retransmission is
 * pending. Six groups in all.
 */
static struct sim *mk_state(const struct mld_tunables *t)
{
	struct sim *s = sim_new(t);
	uint8_t q[512];
	size_t n;

	must(mld_join(s->e, IF1, "a", AP(G_ASM), s->now), "join a ASM");
	must(mld_join(s->e, IF1, "b", AP(G_ASM), s->now), "join b ASM");
	{
		struct in6_addr in[2] = {A(S1), A(S2)}, ex[2] = {A(S3), A(S4)};

		must(mld_set_filter(s->e, IF1, "a", AP(G_IN), MLD_FMODE_INCLUDE, in, 2, s->now),
		     "a INCLUDE");
		must(mld_set_filter(s->e, IF1, "b", AP(G_EX), MLD_FMODE_EXCLUDE, ex, 2, s->now),
		     "b EXCLUDE");
	}
	must(mld_join(s->e, IF1, "a", AP(G_LINK), s->now), "join link-scope");
	must(mld_join(s->e, IF1, "a", AP(G_IFL), s->now), "join interface-local");
	sim_advance(s, 5000);
	n = craft_v2_query(q, G_IN, 8000, "2001:db8::1 2001:db8::9", NULL);
	must(sim_rx(s, q, n), "GSS query");
	n = craft_v2_query(q, G_EX, 8000, NULL, NULL);
	must(sim_rx(s, q, n), "GS query");
	n = craft_v2_query(q, NULL, 10000, NULL, NULL);
	must(sim_rx(s, q, n), "general query");
	must(mld_join_source(s->e, IF1, "c", AP(G_NEW), AP(S5), s->now), "c join source");
	sim_run_until(s, s->now); /* the first ALLOW goes; its repeat is pending */
	sim_take(s);
	return s;
}

/* First differing line of two dumps, for the failure message. */
static void dump_diff(int line, const char *label, const char *a, const char *b)
{
	size_t i = 0, ls = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			ls = i + 1;
		i++;
	}
	t_fail(__FILE__, line, "%s: state changed:\n    before: %.*s\n    after:  %.*s", label,
	       (int)strcspn(a + ls, "\n"), a + ls, (int)strcspn(b + ls, "\n"), b + ls);
}

/* What a state does next: its dump and its packets over the next 20 s. */
struct future {
	char *dump;
	size_t n;
	struct fpkt {
		uint64_t time;
		uint32_t ifindex;
		size_t len;
		uint8_t *raw;
	} * p;
};

static void future_record(struct sim *b, struct future *f)
{
	size_t i;

	f->dump = sim_dump(b);
	sim_take(b);
	sim_advance(b, 20000);
	f->n = sim_pending(b);
	f->p = calloc(f->n + 1, sizeof(*f->p));
	for (i = 0; i < f->n; i++) {
		struct dpkt *d = sim_pkt(b, i);

		f->p[i].time = d->time;
		f->p[i].ifindex = d->ifindex;
		f->p[i].len = d->len;
		f->p[i].raw = malloc(d->len);
		memcpy(f->p[i].raw, d->raw, d->len);
	}
}

static void future_free(struct future *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->p[i].raw);
	free(f->p);
	free(f->dump);
	memset(f, 0, sizeof(*f));
}

/* The default state's future, computed once (mk_state is deterministic). */
static const struct future *default_future(void)
{
	static struct future f;

	if (!f.dump) {
		struct sim *b = mk_state(NULL);

		future_record(b, &f);
		sim_free(b);
	}
	return &f;
}

/* The twin's future: a fresh twin for tunables t, or the cached default. */
static const struct future *twin_future(const struct mld_tunables *t, struct future *tmp)
{
	struct sim *b;

	if (!t)
		return default_future();
	b = mk_state(t);
	future_record(b, tmp);
	sim_free(b);
	return tmp;
}

/* From now on a must emit exactly the packets the twin did. */
static void same_future(int line, const char *label, struct sim *a, const struct future *f)
{
	size_t i, na;

	if (sim_pending(a))
		t_fail(__FILE__, line, "%s: %zu packet(s) emitted at once", label, sim_pending(a));
	sim_take(a);
	sim_advance(a, 20000);
	na = sim_pending(a);
	if (na != f->n) {
		t_fail(__FILE__, line, "%s: %zu packets in the next 20 s, twin sent %zu", label, na,
		       f->n);
		return;
	}
	for (i = 0; i < na; i++) {
		struct dpkt *x = sim_pkt(a, i);
		const struct fpkt *y = &f->p[i];

		if (x->time != y->time || x->ifindex != y->ifindex || x->len != y->len ||
		    memcmp(x->raw, y->raw, x->len)) {
			t_fail(__FILE__, line,
			       "%s: packet %zu differs from the twin's (t %llu/%llu, len %zu/%zu)",
			       label, i, (unsigned long long)x->time, (unsigned long long)y->time,
			       x->len, y->len);
			return;
		}
	}
}

/* Same, with a live twin (states built by more than mk_state). */
static void same_future_sim(int line, const char *label, struct sim *a, struct sim *b)
{
	struct future f;

	future_record(b, &f);
	same_future(line, label, a, &f);
	future_free(&f);
}

struct rxin {
	uint32_t ifindex;
	const uint8_t *p;
	size_t len;
	const struct mld_rx_meta *meta; /* set: mld_input_icmp with p = ICMPv6 */
	const uint8_t *pre;             /* set: a packet both twins get first */
	size_t prelen;
};

static int feed(struct sim *s, const struct rxin *in)
{
	if (in->meta)
		return mld_input_icmp(s->e, in->ifindex, in->meta, in->p, in->len, s->now);
	return mld_input_packet(s->e, in->ifindex, in->p, in->len, s->now);
}

static void reasons_str(unsigned mask, char *buf, size_t len)
{
	int r;
	size_t o = 0;

	buf[0] = 0;
	for (r = 0; r < MLD_DROP_COUNT; r++)
		if (mask & (1u << r))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "|" : "",
			                      mld_drop_name(r));
}

/*
 * Feeds 'in' to a fresh state and checks that it is dropped: negative
 * return, exactly one drop counter up by one and that counter one of
 * 'mask', no other counter but rx_packets moved, the dump unchanged, nothing
 * emitted, the next 20 s identical to a twin's.
 */
static void expect_drop_(int line, const char *label, const struct mld_tunables *t,
                         const struct rxin *in, unsigned mask)
{
	struct sim *a;
	char *d0, *d1, want[256];
	struct mld_stats s0, s1;
	int rc, r, moved = 0;
	struct future tmp = {0};
	const struct future *f;

	reasons_str(mask, want, sizeof(want));
	setup_failed = 0;
	if (in->pre) {
		struct sim *b = mk_state(t);

		if (sim_rx(b, in->pre, in->prelen) != MLD_OK)
			t_fail(__FILE__, line, "%s: the first packet was refused", label);
		future_record(b, &tmp);
		sim_free(b);
		f = &tmp;
	} else {
		f = twin_future(t, &tmp);
	}
	a = mk_state(t);
	if (in->pre)
		sim_rx(a, in->pre, in->prelen);
	d0 = sim_dump(a);
	if (strcmp(d0, f->dump))
		t_fail(__FILE__, line, "%s: twins differ before the input", label);
	mld_stats_get(a->e, &s0);
	rc = feed(a, in);
	mld_stats_get(a->e, &s1);
	if (rc >= 0)
		t_fail(__FILE__, line, "%s: accepted (rc %d), want a drop as %s", label, rc, want);
	for (r = 0; r < MLD_DROP_COUNT; r++) {
		if (s1.rx_drop[r] == s0.rx_drop[r])
			continue;
		moved++;
		if (s1.rx_drop[r] != s0.rx_drop[r] + 1 || !(mask & (1u << r)))
			t_fail(__FILE__, line, "%s: drop counter %s went %llu -> %llu (want %s +1)",
			       label, mld_drop_name(r), (unsigned long long)s0.rx_drop[r],
			       (unsigned long long)s1.rx_drop[r], want);
	}
	if (moved != 1 && rc < 0)
		t_fail(__FILE__, line, "%s: %d drop counters moved (want one of %s)", label, moved,
		       want);
	/* Nothing else is counted: no query, report or version change. */
	memcpy(s0.rx_drop, s1.rx_drop, sizeof(s0.rx_drop));
	s0.rx_packets = s1.rx_packets;
	if (memcmp(&s0, &s1, sizeof(s0)))
		t_fail(__FILE__, line, "%s: counters other than the drop counter changed", label);
	d1 = sim_dump(a);
	if (strcmp(d0, d1))
		dump_diff(line, label, d0, d1);
	same_future(line, label, a, f);
	free(d0);
	free(d1);
	sim_free(a);
	future_free(&tmp);
}

static void expect_drop_pkt(int line, const char *label, const struct mld_tunables *t,
                            uint32_t ifindex, const uint8_t *p, size_t len, unsigned mask)
{
	struct rxin in = {ifindex, p, len, NULL, NULL, 0};

	expect_drop_(line, label, t, &in, mask);
}

#define R(reason)                   (1u << (reason))
#define DROP(label, p, len, reason) expect_drop_pkt(__LINE__, label, NULL, IF1, p, len, R(reason))

/* Accepted input (controls that the drops above are not vacuous). */
static int accept_rc(const uint8_t *p, size_t len, struct sim **keep)
{
	struct sim *s = mk_state(NULL);
	int rc = sim_rx(s, p, len);

	if (keep)
		*keep = s;
	else
		sim_free(s);
	return rc;
}

/*
 * Accepted input taken exactly as a reference input: 'in' to a fresh state
 * and 'ref' to its twin are both accepted, and afterwards the counters,
 * the dump and the next 20 s of packets are the same; and the reference
 * did change the state (a query to be answered, not a no-op).
 */
static void expect_same_as_(int line, const char *label, const struct rxin *in,
                            const struct rxin *ref)
{
	struct sim *a = mk_state(NULL), *b = mk_state(NULL);
	int rc = feed(a, in), rc_ref = feed(b, ref);
	struct mld_stats sa, sb;
	char *da, *db;

	if (rc != MLD_OK || rc_ref != MLD_OK)
		t_fail(__FILE__, line, "%s: rc %d (the reference %d), want both accepted", label,
		       rc, rc_ref);
	mld_stats_get(a->e, &sa);
	mld_stats_get(b->e, &sb);
	if (memcmp(&sa, &sb, sizeof(sa)))
		t_fail(__FILE__, line, "%s: counters differ from the reference's", label);
	da = sim_dump(a);
	db = sim_dump(b);
	if (strcmp(da, db))
		dump_diff(line, label, db, da);
	if (!strcmp(db, default_future()->dump))
		t_fail(__FILE__, line, "%s: the reference changed nothing", label);
	same_future_sim(line, label, a, b);
	free(da);
	free(db);
	sim_free(a);
	sim_free(b);
}

/* Packet p (n bytes) is taken exactly as the reference packet r. */
#define SAME_AS(label, p, n, r, rn)                                                                \
	do {                                                                                       \
		struct rxin in_ = {IF1, p, n, NULL, NULL, 0}, ref_ = {IF1, r, rn, NULL, NULL, 0};  \
		expect_same_as_(__LINE__, label, &in_, &ref_);                                     \
	} while (0)

/* ------------------------------------------------------------------ */
/* IPv6 layer                                                         */
/* ------------------------------------------------------------------ */

/* A group-and-source query, a group query, a v1 query, a general query, a
 * v1 report and a v2 report, as the tests mutate them. */
static size_t base_gsq(uint8_t *p)
{
	uint8_t ic[128];

	return mld_pkt(p, QUERIER, G_ASM, ic, icmp_v2_query(ic, G_ASM, 1000, S1 " " S2));
}

TEST(input_controls_accepted)
{
	uint8_t p[512], ic[128], ext[128];
	size_t n, e;
	struct sim *s;
	struct mld_group_info gi;

	/* The unmutated base packets are valid and acted on. */
	n = base_gsq(p);
	CHECK_EQ(accept_rc(p, n, &s), MLD_OK);
	CHECK_EQ(mld_group_info(s->e, IF1, AP(G_ASM), &gi), MLD_OK);
	CHECK_EQ(gi.state, MLD_SG_QUERY_PENDING_MEMBER);
	sim_free(s);
	n = mld_pkt(p, QUERIER, "ff02::1", ic, icmp_v1(ic, MLD_ICMP_QUERY, NULL, 1000));
	CHECK_EQ(accept_rc(p, n, &s), MLD_OK);
	{
		struct mld_link_info li;

		mld_link_info(s->e, IF1, &li);
		CHECK_EQ(li.version, 1);
	}
	sim_free(s);
	n = mld_pkt(p, "fe80::77", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	/* RFC 3590: a report may come from ::. */
	n = mld_pkt(p, "::", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	n = mld_pkt(p, "::", "ff02::16", ic, icmp_v2_report(ic, G_ASM));
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	n = mld_pkt(p, "fe80::77", "ff02::2", ic, icmp_v1(ic, MLD_ICMP_V1_DONE, G_ASM, 0));
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	/* Link-layer padding after the IPv6 payload is not part of it. */
	n = base_gsq(p);
	memset(p + n, 0xee, 6);
	CHECK_EQ(accept_rc(p, n + 6, NULL), MLD_OK);
	/* A v2 query longer than its sources need is fine (Linux too). */
	{
		size_t il = icmp_v2_query(ic, G_ASM, 1000, S1);

		memset(ic + il, 0, 8);
		n = mld_pkt(p, QUERIER, G_ASM, ic, il + 8);
		CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	}
	/* Router Alert after padding, and destination options after it. */
	e = ext_hbh_ra(ext, NH_DST);
	e += ext_pad(ext + e, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic,
	             icmp_v2_query(ic, G_ASM, 1000, NULL));
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	{
		/* Pad1 ×2, PadN, RA: 16-byte header. */
		const uint8_t h[16] = {NH_ICMP6, 1, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0, 5, 2, 0, 0};

		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, h, 16, ic,
		             icmp_v2_query(ic, G_ASM, 1000, NULL));
		CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	}
}

TEST(input_shorter_than_ipv6_header)
{
	uint8_t p[512];
	size_t n = base_gsq(p), k;
	char lab[64];

	for (k = 0; k < 40; k += (k < 2 || k > 36) ? 1 : 9) {
		snprintf(lab, sizeof(lab), "%zu bytes", k);
		DROP(lab, p, k, MLD_DROP_TOO_SHORT);
	}
	(void)n;
}

TEST(input_not_ipv6)
{
	uint8_t p[512];
	size_t n = base_gsq(p);
	int v;
	char lab[64];

	for (v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		p[0] = (uint8_t)(v << 4);
		snprintf(lab, sizeof(lab), "version %d", v);
		DROP(lab, p, n, MLD_DROP_BAD_IPV6);
	}
}

TEST(input_payload_length_exceeds_buffer)
{
	uint8_t p[512];
	size_t n = base_gsq(p), plen = n - 40;
	const size_t more[] = {1, 8, 100, 0xffff - (size_t)0};
	size_t i;
	char lab[64];

	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		size_t claim = more[i] == 0xffff ? 0xffff : plen + more[i];

		p[4] = (uint8_t)(claim >> 8);
		p[5] = (uint8_t)claim;
		snprintf(lab, sizeof(lab), "payload length %zu of %zu", claim, plen);
		DROP(lab, p, n, MLD_DROP_BAD_IPV6);
	}
	/* Cut the buffer but keep the header's payload length: same reason. */
	n = base_gsq(p);
	for (i = 1; i <= n - 40; i += 7) {
		snprintf(lab, sizeof(lab), "buffer cut by %zu", i);
		DROP(lab, p, n - i, MLD_DROP_BAD_IPV6);
	}
}

/* Real fragments are dropped: nothing reassembles them, and a fragment is
 * never a whole MLD message. */
TEST(input_fragment_header)
{
	uint8_t p[512], ic[128], ext[64];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), e, n;

	/* After the hop-by-hop header: first, middle and last fragment. */
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 1);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("first fragment", p, n, MLD_DROP_FRAGMENT);
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 8, 1);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("middle fragment", p, n, MLD_DROP_FRAGMENT);
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 16, 0);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("last fragment", p, n, MLD_DROP_FRAGMENT);
	/* As the first header. */
	e = ext_frag(ext, NH_ICMP6, 0, 1);
	n = assemble(p, QUERIER, G_ASM, 1, NH_FRAG, ext, e, ic, il);
	DROP("fragment first", p, n, MLD_DROP_FRAGMENT);
	/* Behind destination options. */
	e = ext_hbh_ra(ext, NH_DST);
	e += ext_pad(ext + e, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 1);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("fragment after dstopts", p, n, MLD_DROP_FRAGMENT);
	/* A fragment header cut by the payload length: malformed. */
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 0);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, NULL, 0) - 4;
	p[4] = (uint8_t)((n - 40) >> 8);
	p[5] = (uint8_t)(n - 40);
	DROP("fragment header beyond the payload", p, n, MLD_DROP_EXT_HDR);
}

/* RFC 6946 §4: an atomic fragment (Fragment Offset 0, M 0) is processed in
 * isolation, as the unfragmented packet: taken exactly as the same query
 * without the fragment header. */
TEST(input_atomic_fragment_processed)
{
	uint8_t p[512], r[512], ic[128], ext[64];
	size_t il, e, n, rn;

	il = icmp_v2_query(ic, G_ASM, 1000, NULL);
	rn = mld_pkt(r, QUERIER, G_ASM, ic, il);
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 0);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	SAME_AS("atomic fragment, group query", p, n, r, rn);
	/* The reserved fields (octet 1, the two bits before M) are ignored. */
	ext[9] = 0xff;
	ext[11] |= 0x06;
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	SAME_AS("atomic fragment, reserved fields set", p, n, r, rn);
	/* Behind destination options; a group-and-source query. */
	il = icmp_v2_query(ic, G_IN, 1000, S1 " " S3);
	rn = mld_pkt(r, QUERIER, G_IN, ic, il);
	e = ext_hbh_ra(ext, NH_DST);
	e += ext_pad(ext + e, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 0);
	n = assemble(p, QUERIER, G_IN, 1, NH_HOP, ext, e, ic, il);
	SAME_AS("atomic fragment after dstopts, GSS query", p, n, r, rn);
	/* General queries, v2 and v1. */
	il = icmp_v2_query(ic, NULL, 1000, NULL);
	rn = mld_pkt(r, QUERIER, "ff02::1", ic, il);
	e = ext_hbh_ra(ext, NH_FRAG);
	e += ext_frag(ext + e, NH_ICMP6, 0, 0);
	n = assemble(p, QUERIER, "ff02::1", 1, NH_HOP, ext, e, ic, il);
	SAME_AS("atomic fragment, general query", p, n, r, rn);
	il = icmp_v1(ic, MLD_ICMP_QUERY, NULL, 1000);
	rn = mld_pkt(r, QUERIER, "ff02::1", ic, il);
	n = assemble(p, QUERIER, "ff02::1", 1, NH_HOP, ext, e, ic, il);
	SAME_AS("atomic fragment, v1 general query", p, n, r, rn);
	/* Still no hop-by-hop header after it (RFC 8200 §4.1). */
	il = icmp_v2_query(ic, G_ASM, 1000, NULL);
	e = ext_frag(ext, NH_HOP, 0, 0);
	e += ext_hbh_ra(ext + e, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_FRAG, ext, e, ic, il);
	DROP("atomic fragment before hop-by-hop", p, n, MLD_DROP_EXT_HDR);
}

TEST(input_unknown_next_header)
{
	uint8_t p[512], ic[128], ext[64];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), e, n;
	const uint8_t nhs[] = {NH_UDP, 6 /* TCP */, NH_NONE, 135 /* mobility */, 253, 255};
	size_t i;
	char lab[64];

	for (i = 0; i < sizeof(nhs); i++) {
		/* An 8-byte header of that type in the chain, then ICMPv6. */
		e = ext_hbh_ra(ext, nhs[i]);
		e += ext_pad(ext + e, NH_ICMP6);
		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
		snprintf(lab, sizeof(lab), "next header %u", nhs[i]);
		DROP(lab, p, n, MLD_DROP_NOT_ICMPV6);
	}
}

TEST(input_hop_by_hop_not_first)
{
	uint8_t p[512], ic[128], ext[64];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), e, n;

	e = ext_hbh_ra(ext, NH_DST);
	e += ext_pad(ext + e, NH_HOP);
	e += ext_hbh_ra(ext + e, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("hop-by-hop third", p, n, MLD_DROP_EXT_HDR);
	e = ext_hbh_ra(ext, NH_HOP);
	e += ext_hbh_ra(ext + e, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("hop-by-hop twice", p, n, MLD_DROP_EXT_HDR);
}

TEST(input_malformed_hop_by_hop_tlv)
{
	uint8_t p[512], ic[128];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), n, i;
	static const struct {
		const char *what;
		uint8_t h[16];
		size_t len;
	} bad[] = {
	    /* PadN claiming 10 bytes in a 6-byte option area. */
	    {"PadN overruns", {NH_ICMP6, 0, 5, 2, 0, 0, 1, 10}, 8},
	    /* RA claiming 4 bytes: runs past the header. */
	    {"RA overruns", {NH_ICMP6, 0, 1, 0, 5, 4, 0, 0}, 8},
	    /* Router Alert with a length other than 2 (RFC 2711). */
	    {"RA length 3", {NH_ICMP6, 1, 5, 3, 0, 0, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0}, 16},
	    {"RA length 0", {NH_ICMP6, 0, 5, 0, 5, 2, 0, 0}, 8},
	    /* An option type in the last byte, with no length byte. */
	    {"type without length", {NH_ICMP6, 0, 5, 2, 0, 0, 0, 7}, 8},
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, bad[i].h, bad[i].len, ic, il);
		DROP(bad[i].what, p, n, MLD_DROP_EXT_HDR);
	}
}

/*
 * RFC 8200 §4.2: an unrecognised option whose two high-order type bits are
 * 01, 10 or 11 means "discard the packet" (Linux ip6_parse_tlv does). The
 * same holds for destination options. Only 00 ("skip over") may be ignored.
 */
TEST(input_hop_by_hop_unknown_option_discard)
{
	uint8_t p[512], ic[128];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), n;
	const uint8_t types[] = {0x7e, 0x9e, 0xde};
	size_t i;
	char lab[64];

	for (i = 0; i < sizeof(types); i++) {
		/* RA, then an unknown option of two data bytes. */
		const uint8_t h[16] = {NH_ICMP6, 1,    5, 2, 0, 0, types[i], 2,
		                       0xaa,     0xbb, 1, 4, 0, 0, 0,        0};

		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, h, 16, ic, il);
		snprintf(lab, sizeof(lab), "hop-by-hop option type 0x%02x", types[i]);
		DROP(lab, p, n, MLD_DROP_EXT_HDR);
	}
	{
		/* A skippable unknown option (00xxxxxx) is fine. */
		const uint8_t h[16] = {NH_ICMP6, 1,    5, 2, 0, 0, 0x1e, 2,
		                       0xaa,     0xbb, 1, 4, 0, 0, 0,    0};

		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, h, 16, ic, il);
		CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	}
}

/* The same for the options of a destination options header, which the
 * destination processes (RFC 8200 §4.6; Linux ipv6_destopt_rcv): found by
 * the crafted conformance peer. A Router Alert there is no Router Alert
 * (RFC 2711: hop-by-hop only), just an option skipped over. */
TEST(input_dst_options_unknown_option_discard)
{
	uint8_t p[512], ic[128], ext[16];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), n;
	const uint8_t types[] = {0x7e, 0x9e, 0xde, 0xc2};
	size_t i;
	char lab[64];

	for (i = 0; i < sizeof(types) + 1; i++) {
		/* RA in hop-by-hop, then destination options: an option of
		 * two data bytes and PadN(0). */
		const uint8_t d[8] = {
		    NH_ICMP6, 0, i < sizeof(types) ? types[i] : 0x1e, 2, 0xaa, 0xbb, 1, 0};

		ext_hbh_ra(ext, NH_DST);
		memcpy(ext + 8, d, 8);
		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, 16, ic, il);
		if (i == sizeof(types)) {
			/* A skippable unknown option (00xxxxxx) is fine. */
			CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
			break;
		}
		snprintf(lab, sizeof(lab), "destination option type 0x%02x", types[i]);
		DROP(lab, p, n, MLD_DROP_EXT_HDR);
	}
	{
		/* Router Alert of another length in destination options:
		 * skipped over like any 00xxxxxx option. */
		const uint8_t d[8] = {NH_ICMP6, 0, 5, 4, 0, 0, 0, 0};

		ext_hbh_ra(ext, NH_DST);
		memcpy(ext + 8, d, 8);
		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, 16, ic, il);
		CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	}
}

TEST(input_ext_header_chain_too_long)
{
	uint8_t p[1024], ic[128], ext[256];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), e, n, k;

	/* Hop-by-hop plus seven destination-options headers: 8 headers, the
	 * bound, accepted. */
	e = ext_hbh_ra(ext, NH_DST);
	for (k = 0; k < 7; k++)
		e += ext_pad(ext + e, k == 6 ? NH_ICMP6 : NH_DST);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	CHECK_EQ(accept_rc(p, n, NULL), MLD_OK);
	/* Nine, ten and sixteen headers are longer than the bound. */
	for (k = 8; k <= 15; k += (k == 9 ? 6 : 1)) {
		char lab[64];
		size_t j;

		e = ext_hbh_ra(ext, NH_DST);
		for (j = 0; j < k; j++)
			e += ext_pad(ext + e, j == k - 1 ? NH_ICMP6 : NH_DST);
		n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
		snprintf(lab, sizeof(lab), "%zu extension headers", k + 1);
		DROP(lab, p, n, MLD_DROP_EXT_HDR);
	}
}

TEST(input_ext_header_overruns_payload)
{
	uint8_t p[512], ic[128], ext[64];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, NULL), e, n;

	/* Destination options claiming 88 bytes in a 36-byte remainder. */
	e = ext_hbh_ra(ext, NH_DST);
	e += ext_pad(ext + e, NH_ICMP6);
	ext[9] = 10;
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic, il);
	DROP("dstopts overruns", p, n, MLD_DROP_EXT_HDR);
	/* Hop-by-hop claiming 16 bytes with only 8 before the end. */
	e = ext_hbh_ra(ext, NH_ICMP6);
	ext[1] = 1;
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, NULL, 0);
	DROP("hop-by-hop overruns", p, n, MLD_DROP_EXT_HDR);
	/* Payload too short for even the 8-byte header. */
	e = ext_hbh_ra(ext, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, 4, NULL, 0);
	DROP("hop-by-hop cut", p, n, MLD_DROP_EXT_HDR);
	/* Headers that end exactly at the payload end, with no ICMPv6. */
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, NULL, 0);
	DROP("no ICMPv6 after the hop-by-hop header", p, n, MLD_DROP_TOO_SHORT);
}

/* ------------------------------------------------------------------ */
/* MLD checks                                                         */
/* ------------------------------------------------------------------ */

TEST(input_icmp_not_mld)
{
	uint8_t p[512], ic[128];
	const uint8_t types[] = {128, 129, 1, 2, 3, 4, 133, 134, 135, 136, 137, 0, 127, 142, 255};
	size_t i, n;
	char lab[64];

	for (i = 0; i < sizeof(types); i++) {
		icmp_v1(ic, types[i], G_ASM, 0);
		n = mld_pkt(p, QUERIER, G_ASM, ic, 24);
		snprintf(lab, sizeof(lab), "ICMPv6 type %u", types[i]);
		DROP(lab, p, n, MLD_DROP_NOT_MLD);
	}
	/* An echo request with an ordinary hop limit and no Router Alert. */
	icmp_v1(ic, 128, NULL, 0);
	n = assemble(p, "2001:db8::9", "fe80::1", 64, NH_ICMP6, NULL, 0, ic, 16);
	DROP("echo request", p, n, MLD_DROP_NOT_MLD);
}

TEST(input_hop_limit_not_one)
{
	const int hops[] = {0, 2, 255};
	uint8_t p[512], ic[128];
	size_t i, n;
	char lab[96];

	for (i = 0; i < 3; i++) {
		n = base_gsq(p);
		p[7] = (uint8_t)hops[i];
		snprintf(lab, sizeof(lab), "GS query hop limit %d", hops[i]);
		DROP(lab, p, n, MLD_DROP_HOP_LIMIT);
		n = craft_v2_query(p, NULL, 1000, NULL, NULL);
		p[7] = (uint8_t)hops[i];
		snprintf(lab, sizeof(lab), "general query hop limit %d", hops[i]);
		DROP(lab, p, n, MLD_DROP_HOP_LIMIT);
		n = craft_v1_query(p, NULL, 1000, NULL);
		p[7] = (uint8_t)hops[i];
		snprintf(lab, sizeof(lab), "v1 query hop limit %d", hops[i]);
		DROP(lab, p, n, MLD_DROP_HOP_LIMIT);
		n = mld_pkt(p, "fe80::77", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
		p[7] = (uint8_t)hops[i];
		snprintf(lab, sizeof(lab), "v1 report hop limit %d", hops[i]);
		DROP(lab, p, n, MLD_DROP_HOP_LIMIT);
	}
}

TEST(input_no_router_alert)
{
	struct qopts o = {.no_ra = 1};
	uint8_t p[512], ic[128], ext[64];
	size_t n, e;

	n = craft_v2_query(p, G_ASM, 1000, S1, &o);
	DROP("GSS query, PadN only", p, n, MLD_DROP_NO_RA);
	n = craft_v2_query(p, NULL, 1000, NULL, &o);
	DROP("general query, PadN only", p, n, MLD_DROP_NO_RA);
	n = craft_v1_query(p, G_ASM, 1000, &o);
	DROP("v1 query, PadN only", p, n, MLD_DROP_NO_RA);
	/* No hop-by-hop header at all. */
	n = assemble(p, QUERIER, "ff02::1", 1, NH_ICMP6, NULL, 0, ic,
	             icmp_v2_query(ic, NULL, 1000, NULL));
	DROP("no hop-by-hop header", p, n, MLD_DROP_NO_RA);
	n = assemble(p, "fe80::77", G_ASM, 1, NH_ICMP6, NULL, 0, ic,
	             icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	DROP("v1 report without hop-by-hop", p, n, MLD_DROP_NO_RA);
	/* Router Alert in destination options is not Router Alert. */
	e = ext_pad(ext, NH_DST);
	e += ext_hbh_ra(ext + e, NH_ICMP6);
	n = assemble(p, QUERIER, G_ASM, 1, NH_HOP, ext, e, ic,
	             icmp_v2_query(ic, G_ASM, 1000, NULL));
	DROP("Router Alert in dstopts", p, n, MLD_DROP_NO_RA);
}

TEST(input_router_alert_value_not_mld)
{
	const int vals[] = {1, 2, 0x100, 0xffff};
	uint8_t p[512];
	size_t i, n;
	char lab[64];

	for (i = 0; i < 4; i++) {
		struct qopts o = {.ra_value = vals[i]};

		n = craft_v2_query(p, G_ASM, 1000, NULL, &o);
		snprintf(lab, sizeof(lab), "RA value %d", vals[i]);
		DROP(lab, p, n, MLD_DROP_NO_RA);
		n = craft_v1_query(p, NULL, 1000, &o);
		DROP(lab, p, n, MLD_DROP_NO_RA);
	}
}

TEST(input_query_source_not_link_local)
{
	const char *srcs[] = {"2001:db8::9", "::",      "ff02::1", "ff3e::1",
	                      "::1",         "fec0::9", "fc00::9", "::ffff:192.0.2.1"};
	uint8_t p[512];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct qopts o = {.src = srcs[i]};

		n = craft_v2_query(p, NULL, 1000, NULL, &o);
		snprintf(lab, sizeof(lab), "general query from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
		n = craft_v2_query(p, G_IN, 1000, S1, &o);
		snprintf(lab, sizeof(lab), "GSS query from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
		n = craft_v1_query(p, G_ASM, 1000, &o);
		snprintf(lab, sizeof(lab), "v1 query from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
	}
}

TEST(input_report_bad_source)
{
	const char *srcs[] = {"2001:db8::9", "ff02::1", "::1", "fec0::9"};
	uint8_t p[512], ic[128];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		n = mld_pkt(p, srcs[i], G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
		snprintf(lab, sizeof(lab), "v1 report from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
		n = mld_pkt(p, srcs[i], "ff02::2", ic, icmp_v1(ic, MLD_ICMP_V1_DONE, G_ASM, 0));
		snprintf(lab, sizeof(lab), "done from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
		n = mld_pkt(p, srcs[i], "ff02::16", ic, icmp_v2_report(ic, G_ASM));
		snprintf(lab, sizeof(lab), "v2 report from %s", srcs[i]);
		DROP(lab, p, n, MLD_DROP_SRC);
	}
}

TEST(input_bad_checksum)
{
	struct qopts o = {.bad_csum = 1};
	uint8_t p[512], ic[128];
	size_t n;

	n = craft_v2_query(p, NULL, 1000, NULL, &o);
	DROP("general query", p, n, MLD_DROP_CSUM);
	n = craft_v2_query(p, G_IN, 1000, S1 " " S3, &o);
	DROP("GSS query", p, n, MLD_DROP_CSUM);
	n = craft_v1_query(p, G_ASM, 1000, &o);
	DROP("v1 query", p, n, MLD_DROP_CSUM);
	n = mld_pkt(p, "fe80::77", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	p[48 + 2] ^= 0x01;
	DROP("v1 report", p, n, MLD_DROP_CSUM);
	n = mld_pkt(p, "fe80::77", "ff02::2", ic, icmp_v1(ic, MLD_ICMP_V1_DONE, G_ASM, 0));
	p[48 + 3] ^= 0x80;
	DROP("done", p, n, MLD_DROP_CSUM);
	n = mld_pkt(p, "fe80::77", "ff02::16", ic, icmp_v2_report(ic, G_ASM));
	p[60] ^= 0x10;
	DROP("v2 report, body changed", p, n, MLD_DROP_CSUM);
	/* Right sum for another pseudo-header: the destination is covered. */
	n = base_gsq(p);
	p[39] ^= 0x01;
	DROP("pseudo-header destination changed", p, n, MLD_DROP_CSUM);
	n = base_gsq(p);
	p[23] ^= 0x01;
	DROP("pseudo-header source changed", p, n, MLD_DROP_CSUM);
	/* A zero checksum field is not "no checksum" in ICMPv6. */
	n = base_gsq(p);
	if (p[50] | p[51]) {
		p[50] = p[51] = 0;
		DROP("zero checksum", p, n, MLD_DROP_CSUM);
	}
}

/* Drop reasons for an MLD message cut to icmplen bytes (IPv6 payload length
 * kept honest), going by length alone; 0 when the length is valid. */
static unsigned cut_len_reason(const uint8_t *p, size_t icmplen)
{
	uint8_t type = p[48];

	if (icmplen < 4)
		return R(MLD_DROP_TOO_SHORT);
	if (type == MLD_ICMP_QUERY) {
		if (icmplen != 24 && icmplen < 28)
			return R(MLD_DROP_LEN);
		if (icmplen >= 28 && icmplen < 28 + 16 * (size_t)rd16(p + 48 + 26))
			return R(MLD_DROP_LEN);
		return 0;
	}
	if (type == MLD_ICMP_V2_REPORT)
		return icmplen < 8 ? R(MLD_DROP_LEN) : 0;
	return icmplen < 24 ? R(MLD_DROP_LEN) : 0;
}

/*
 * Every cut of 1..n bytes, IPv6 payload length adjusted, twice: with the
 * checksum of the whole message (two defects, length and checksum: either
 * counter may take it, but exactly one), and with the checksum recomputed
 * for what is left (the length is the only defect).
 */
static void truncations(int line, const char *what, const uint8_t *orig, size_t n)
{
	uint8_t p[512];
	size_t k;
	char lab[96];

	for (k = 1; k <= n; k++) {
		size_t len = n - k;
		int fix;

		/* Inside the IPv6 header one path: a few lengths suffice. */
		if (len < 40 && len != 39 && len != 20 && len != 1 && len != 0)
			continue;

		for (fix = 0; fix < 2; fix++) {
			unsigned mask;

			/* The stale-checksum variant at every 5th cut is plenty. */
			if (!fix && k % 5 && len >= 48)
				continue;
			memcpy(p, orig, n);
			if (len >= 40) {
				p[4] = (uint8_t)((len - 40) >> 8);
				p[5] = (uint8_t)(len - 40);
			}
			if (len < 40) {
				mask = R(MLD_DROP_TOO_SHORT);
			} else if (len < 48) {
				mask = R(MLD_DROP_EXT_HDR); /* the hop-by-hop header is cut */
			} else {
				size_t il = len - 48;

				if (fix && il >= 4) {
					uint16_t c;

					p[50] = p[51] = 0;
					c = csum6(p + 8, p + 24, p + 48, il);
					p[50] = (uint8_t)(c >> 8);
					p[51] = (uint8_t)c;
				}
				mask = cut_len_reason(p, il);
				if (il >= 4 && csum6(p + 8, p + 24, p + 48, il) != 0 &&
				    (!mask || mask == R(MLD_DROP_LEN)))
					mask |= R(MLD_DROP_CSUM);
			}
			if (!mask)
				continue; /* a shorter valid message (v1 query, v2 report) */
			snprintf(lab, sizeof(lab), "%s cut by %zu%s", what, k,
			         fix ? ", checksum fixed" : "");
			expect_drop_pkt(line, lab, NULL, IF1, p, len, mask);
			if (len < 48)
				break;
		}
	}
}

TEST(input_truncated)
{
	uint8_t p[512], ic[128];
	size_t n;

	n = craft_v2_query(p, G_IN, 1000, S1 " " S2 " " S3, NULL);
	truncations(__LINE__, "GSS query", p, n);
	n = craft_v2_query(p, NULL, 1000, NULL, NULL);
	truncations(__LINE__, "general query", p, n);
	n = craft_v1_query(p, G_ASM, 1000, NULL);
	truncations(__LINE__, "v1 query", p, n);
	n = mld_pkt(p, "fe80::77", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	truncations(__LINE__, "v1 report", p, n);
	n = mld_pkt(p, "fe80::77", "ff02::16", ic, icmp_v2_report(ic, G_ASM));
	truncations(__LINE__, "v2 report", p, n);
	/* The harness's own truncation: the last source is missing. */
	{
		struct qopts o = {.truncate = 16};

		n = craft_v2_query(p, G_IN, 1000, S1 " " S2, &o);
		expect_drop_pkt(__LINE__, "GSS query, last source cut", NULL, IF1, p, n,
		                R(MLD_DROP_LEN) | R(MLD_DROP_CSUM));
	}
}

/* Query lengths between the v1 size and the v2 minimum, checksum right. */
TEST(input_query_length_25_to_27)
{
	uint8_t p[512], ic[128];
	size_t extra, n;
	char lab[64];

	for (extra = 1; extra <= 3; extra++) {
		icmp_v1(ic, MLD_ICMP_QUERY, G_ASM, 1000);
		memset(ic + 24, 0, extra);
		n = mld_pkt(p, QUERIER, G_ASM, ic, 24 + extra);
		snprintf(lab, sizeof(lab), "group query of %zu bytes", 24 + extra);
		DROP(lab, p, n, MLD_DROP_LEN);
		icmp_v1(ic, MLD_ICMP_QUERY, NULL, 1000);
		memset(ic + 24, 0, extra);
		n = mld_pkt(p, QUERIER, "ff02::1", ic, 24 + extra);
		snprintf(lab, sizeof(lab), "general query of %zu bytes", 24 + extra);
		DROP(lab, p, n, MLD_DROP_LEN);
	}
	for (extra = 4; extra < 24; extra += 5) {
		icmp_v1(ic, MLD_ICMP_QUERY, G_ASM, 1000);
		n = mld_pkt(p, QUERIER, G_ASM, ic, extra);
		snprintf(lab, sizeof(lab), "query of %zu bytes", extra);
		DROP(lab, p, n, MLD_DROP_LEN);
	}
}

TEST(input_report_too_short)
{
	uint8_t p[512], ic[128];
	size_t n, k;
	char lab[64];

	for (k = 4; k < 24; k += 6) {
		icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0);
		n = mld_pkt(p, "fe80::77", G_ASM, ic, k);
		snprintf(lab, sizeof(lab), "v1 report of %zu bytes", k);
		DROP(lab, p, n, MLD_DROP_LEN);
		icmp_v1(ic, MLD_ICMP_V1_DONE, G_ASM, 0);
		n = mld_pkt(p, "fe80::77", "ff02::2", ic, k);
		snprintf(lab, sizeof(lab), "done of %zu bytes", k);
		DROP(lab, p, n, MLD_DROP_LEN);
	}
	for (k = 4; k < 8; k++) {
		icmp_v2_report(ic, G_ASM);
		n = mld_pkt(p, "fe80::77", "ff02::16", ic, k);
		snprintf(lab, sizeof(lab), "v2 report of %zu bytes", k);
		DROP(lab, p, n, MLD_DROP_LEN);
	}
	for (k = 0; k < 4; k++) {
		icmp_v1(ic, MLD_ICMP_QUERY, G_ASM, 0);
		n = mld_pkt(p, QUERIER, G_ASM, ic, k);
		snprintf(lab, sizeof(lab), "ICMPv6 of %zu bytes", k);
		DROP(lab, p, n, MLD_DROP_TOO_SHORT);
	}
}

TEST(input_nsrc_claims_more_than_present)
{
	const int claims[] = {3, 4, 100, 4094, 0xffff};
	uint8_t p[512];
	size_t i, n;
	char lab[64];

	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		struct qopts o = {.nsrc_override = claims[i]};

		n = craft_v2_query(p, G_IN, 1000, S1 " " S2, &o);
		snprintf(lab, sizeof(lab), "2 sources, %d claimed", claims[i]);
		DROP(lab, p, n, MLD_DROP_LEN);
	}
	{
		/* A general query claiming a source it does not carry: the length
		 * check comes first. */
		struct qopts o = {.nsrc_override = 1};

		n = craft_v2_query(p, NULL, 1000, NULL, &o);
		DROP("general query, 0 sources, 1 claimed", p, n, MLD_DROP_LEN);
	}
}

TEST(input_general_query_with_sources)
{
	uint8_t p[512];
	size_t n;

	n = craft_v2_query(p, NULL, 1000, S1, NULL);
	DROP("general query with 1 source", p, n, MLD_DROP_GQ_SOURCES);
	n = craft_v2_query(p, NULL, 1000, S1 " " S2 " " S3, NULL);
	DROP("general query with 3 sources", p, n, MLD_DROP_GQ_SOURCES);
	n = craft_v2_query(p, NULL, 1000, "fe80::1", NULL);
	DROP("general query with a link-local source", p, n, MLD_DROP_GQ_SOURCES);
}

/* A general query goes to ff02::1 (RFC 3810 §5.1.15), or to one of our
 * unicast addresses (input_query_to_own_unicast_address): fe80::2 and
 * 2001:db8::1 are not ours (IF1 has fe80::1). */
TEST(input_general_query_wrong_destination)
{
	const char *dsts[] = {"ff02::2", "ff02::16", "ff3e::1",    "ff05::1",
	                      "ff01::1", "fe80::2",  "2001:db8::1"};
	uint8_t p[512];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct qopts o = {.dst = dsts[i]};

		n = craft_v2_query(p, NULL, 1000, NULL, &o);
		snprintf(lab, sizeof(lab), "v2 general query to %s", dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
		n = craft_v1_query(p, NULL, 1000, &o);
		snprintf(lab, sizeof(lab), "v1 general query to %s", dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
	}
}

/* RFC 3810 §5.1.15: a group (and source) query goes to the group itself.
 * ff02::1 is also accepted by the engine, as by Linux (which never checks a
 * group query's destination), and so is one of our unicast addresses
 * (input_query_to_own_unicast_address); any other destination is wrong. */
TEST(input_group_query_wrong_destination)
{
	const char *dsts[] = {"ff3e::2",  "ff3e::99", "ff02::2",
	                      "ff02::16", "fe80::2",  "2001:db8::1"};
	uint8_t p[512];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct qopts o = {.dst = dsts[i]};

		n = craft_v2_query(p, G_ASM, 1000, NULL, &o);
		snprintf(lab, sizeof(lab), "group query for %s to %s", G_ASM, dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
		n = craft_v2_query(p, G_ASM, 1000, S1, &o);
		snprintf(lab, sizeof(lab), "GSS query for %s to %s", G_ASM, dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
		n = craft_v1_query(p, G_ASM, 1000, &o);
		snprintf(lab, sizeof(lab), "v1 group query for %s to %s", G_ASM, dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
	}
}

/* RFC 3810 §5.1.15: "a node MUST accept and process any Query whose IP
 * Destination Address field contains any of the addresses (unicast or
 * multicast) assigned to the interface on which the Query arrives". From a
 * whole packet the engine knows one of them, the link's valid link-local
 * address (LL1 on IF1): a query sent there is taken exactly as the same
 * query sent to ff02::1 or to its group. */
TEST(input_query_to_own_unicast_address)
{
	struct qopts own = {.dst = LL1};
	uint8_t p[512], r[512];
	size_t n, rn;

	n = craft_v2_query(p, NULL, 1000, NULL, &own);
	rn = craft_v2_query(r, NULL, 1000, NULL, NULL);
	SAME_AS("v2 general query to our link-local", p, n, r, rn);
	n = craft_v2_query(p, G_ASM, 1000, NULL, &own);
	rn = craft_v2_query(r, G_ASM, 1000, NULL, NULL);
	SAME_AS("group query to our link-local", p, n, r, rn);
	n = craft_v2_query(p, G_IN, 1000, S1 " " S3, &own);
	rn = craft_v2_query(r, G_IN, 1000, S1 " " S3, NULL);
	SAME_AS("GSS query to our link-local", p, n, r, rn);
	n = craft_v1_query(p, NULL, 1000, &own);
	rn = craft_v1_query(r, NULL, 1000, NULL);
	SAME_AS("v1 general query to our link-local", p, n, r, rn);
	n = craft_v1_query(p, G_ASM, 1000, &own);
	rn = craft_v1_query(r, G_ASM, 1000, NULL);
	SAME_AS("v1 group query to our link-local", p, n, r, rn);
	/* A v1 report's destination is its group, ours or not (RFC 2710). */
	n = mld_pkt(p, "fe80::77", LL1, r, icmp_v1(r, MLD_ICMP_V1_REPORT, G_ASM, 0));
	DROP("v1 report to our link-local", p, n, MLD_DROP_DST);
}

/* Only a valid link-local address is ours: not a tentative one (RFC 4862
 * §5.4: not yet assigned), not one the link no longer has. */
TEST(input_query_to_link_local_not_valid)
{
	struct qopts own = {.dst = LL1}, other = {.dst = "fe80::3"};
	struct in6_addr ll = A(LL1), ll3 = A("fe80::3");
	uint8_t p[512];
	size_t n = craft_v2_query(p, NULL, 1000, NULL, &own);
	struct mld_stats st0, st1;
	struct sim *s = sim_new(NULL);

	CHECK_EQ(mld_link_set_lladdr(s->e, IF1, MLD_LL_TENTATIVE, &ll, s->now), MLD_OK);
	mld_stats_get(s->e, &st0);
	CHECK(sim_rx(s, p, n) < 0);
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_drop[MLD_DROP_DST], st0.rx_drop[MLD_DROP_DST] + 1);
	/* The link's address is now fe80::3: fe80::1 is no longer ours. */
	CHECK_EQ(mld_link_set_lladdr(s->e, IF1, MLD_LL_VALID, &ll3, s->now), MLD_OK);
	CHECK(sim_rx(s, p, n) < 0);
	mld_stats_get(s->e, &st0);
	CHECK_EQ(st0.rx_drop[MLD_DROP_DST], st1.rx_drop[MLD_DROP_DST] + 1);
	n = craft_v2_query(p, NULL, 1000, NULL, &other);
	CHECK_EQ(sim_rx(s, p, n), MLD_OK);
	mld_stats_get(s->e, &st1);
	CHECK_EQ(st1.rx_v2_general, st0.rx_v2_general + 1);
	sim_free(s);
}

TEST(input_query_group_not_multicast)
{
	const char *groups[] = {"2001:db8::1", "fe80::5", "::1", "fe80::1", "::ffff:10.0.0.1"};
	uint8_t p[512], ic[128];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		n = mld_pkt(p, QUERIER, "ff02::1", ic, icmp_v2_query(ic, groups[i], 1000, NULL));
		snprintf(lab, sizeof(lab), "v2 query for %s", groups[i]);
		DROP(lab, p, n, MLD_DROP_GROUP);
		n = mld_pkt(p, QUERIER, "ff02::1", ic, icmp_v2_query(ic, groups[i], 1000, S1));
		snprintf(lab, sizeof(lab), "v2 GSS query for %s", groups[i]);
		DROP(lab, p, n, MLD_DROP_GROUP);
		n = mld_pkt(p, QUERIER, "ff02::1", ic,
		            icmp_v1(ic, MLD_ICMP_QUERY, groups[i], 1000));
		snprintf(lab, sizeof(lab), "v1 query for %s", groups[i]);
		DROP(lab, p, n, MLD_DROP_GROUP);
		/* Sent to that unicast address itself. */
		n = mld_pkt(p, QUERIER, groups[i], ic, icmp_v2_query(ic, groups[i], 1000, NULL));
		snprintf(lab, sizeof(lab), "v2 query for %s to itself", groups[i]);
		DROP(lab, p, n, MLD_DROP_GROUP);
	}
}

TEST(input_v1_report_dst_not_group)
{
	const char *dsts[] = {"ff02::1", "ff02::2", "ff02::16", G_IN, "fe80::1", "ff3e::99"};
	uint8_t p[512], ic[128];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		n = mld_pkt(p, "fe80::77", dsts[i], ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
		snprintf(lab, sizeof(lab), "v1 report for %s to %s", G_ASM, dsts[i]);
		DROP(lab, p, n, MLD_DROP_DST);
	}
}

TEST(input_v1_report_group_not_multicast)
{
	const char *groups[] = {"2001:db8::1", "fe80::5", "::"};
	uint8_t p[512], ic[128];
	size_t i, n;
	char lab[96];

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		n = mld_pkt(p, "fe80::77", "ff02::1", ic,
		            icmp_v1(ic, MLD_ICMP_V1_REPORT, groups[i], 0));
		snprintf(lab, sizeof(lab), "v1 report for %s", groups[i]);
		DROP(lab, p, n, MLD_DROP_GROUP);
	}
}

/* The same reports from a global source are bad for their source first. */
TEST(input_v1_report_global_source)
{
	uint8_t p[512], ic[128];
	size_t n;

	n = mld_pkt(p, "2001:db8::77", G_ASM, ic, icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
	DROP("v1 report from 2001:db8::77", p, n, MLD_DROP_SRC);
	/* In v1 mode a report from another host suppresses ours; a bad one
	 * must not. */
	{
		struct sim *s = mk_state(NULL), *twin = mk_state(NULL);
		size_t q = craft_v1_query(p, NULL, 5000, NULL);
		char *d0, *d1;
		struct mld_group_info gi;

		CHECK_EQ(sim_rx(s, p, q), MLD_OK);
		CHECK_EQ(sim_rx(twin, p, q), MLD_OK);
		sim_take(s);
		sim_take(twin);
		CHECK_EQ(mld_group_info(s->e, IF1, AP(G_ASM), &gi), MLD_OK);
		CHECK_EQ(gi.state, MLD_REPORTING_MEMBER);
		d0 = sim_dump(s);
		n = mld_pkt(p, "2001:db8::77", G_ASM, ic,
		            icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0));
		CHECK(sim_rx(s, p, n) < 0);
		d1 = sim_dump(s);
		if (strcmp(d0, d1))
			dump_diff(__LINE__, "v1 mode, global report", d0, d1);
		same_future_sim(__LINE__, "v1 mode, global report", s, twin);
		free(d0);
		free(d1);
		sim_free(s);
		sim_free(twin);
	}
}

TEST(input_unknown_ifindex)
{
	uint8_t p[512];
	size_t n = base_gsq(p);

	expect_drop_pkt(__LINE__, "ifindex 99", NULL, 99, p, n, R(MLD_DROP_NO_LINK));
	expect_drop_pkt(__LINE__, "ifindex 0", NULL, 0, p, n, R(MLD_DROP_NO_LINK));
	expect_drop_pkt(__LINE__, "ifindex 2", NULL, IF2, p, n, R(MLD_DROP_NO_LINK));
}

TEST(input_v1_query_on_link_forced_to_v2)
{
	struct mld_tunables t;
	uint8_t p[512];
	size_t n;

	mld_tunables_default(&t);
	t.force_version = 2;
	n = craft_v1_query(p, NULL, 1000, NULL);
	expect_drop_pkt(__LINE__, "v1 general query, forced v2", &t, IF1, p, n,
	                R(MLD_DROP_VERSION));
	n = craft_v1_query(p, G_ASM, 1000, NULL);
	expect_drop_pkt(__LINE__, "v1 group query, forced v2", &t, IF1, p, n, R(MLD_DROP_VERSION));
}

/*
 * A group-and-source query over the per-group throttle (errata 23) is
 * dropped as gs_throttled, and, like every dropped packet, must change
 * nothing: not the learned querier variables (its QRV, QQIC and MRC would
 * otherwise set the robustness variable, hence the number of every later
 * retransmission, the query interval and the v1-querier timeout: exactly
 * what a forged flood that the throttle exists for should not control), and
 * no query counter. mk_state spent one of G_IN's two tokens of the bucket
 * shared by all but the querier (its GSS query came before the general
 * query that made fe80::9 the querier); the first packet here, from
 * another host, spends the other.
 */
TEST(input_throttled_query_changes_nothing)
{
	uint8_t pre[512], p[512];
	struct qopts other = {.src = "fe80::99"}, o = {.src = "fe80::99", .qrv = 7, .qqic = 10};
	size_t npre = craft_v2_query(pre, G_IN, 8000, S1, &other), n;
	struct rxin in = {IF1, p, 0, NULL, pre, npre};

	n = craft_v2_query(p, G_IN, 300, S2, &o);
	in.len = n;
	expect_drop_(__LINE__, "third GSS query within 10 s, other QRV/QQIC/MRC", NULL, &in,
	             R(MLD_DROP_THROTTLED));
	/* Same variables as the first one: still a drop. */
	n = craft_v2_query(p, G_IN, 8000, S2, &other);
	in.len = n;
	expect_drop_(__LINE__, "third GSS query within 10 s", NULL, &in, R(MLD_DROP_THROTTLED));
}

/* The XDP path: the IPv6 layer was parsed elsewhere. */
TEST(input_icmp_entry_point)
{
	uint8_t ic[128];
	size_t il = icmp_v2_query(ic, G_ASM, 1000, S1);
	struct mld_rx_meta m0, m;
	struct rxin in = {IF1, ic, il, &m, NULL, 0};
	uint16_t c;

	memset(&m0, 0, sizeof(m0));
	m0.src = A(QUERIER);
	m0.dst = A(G_ASM);
	m0.hop_limit = 1;
	m0.router_alert = 1;
	c = csum6(m0.src.s6_addr, m0.dst.s6_addr, ic, il);
	ic[2] = (uint8_t)(c >> 8);
	ic[3] = (uint8_t)c;
	{
		/* Control: accepted as is. */
		struct sim *s = mk_state(NULL);

		CHECK_EQ(mld_input_icmp(s->e, IF1, &m0, ic, il, s->now), MLD_OK);
		sim_free(s);
	}
	m = m0;
	m.router_alert = 0;
	expect_drop_(__LINE__, "meta: no router alert", NULL, &in, R(MLD_DROP_NO_RA));
	m = m0;
	m.hop_limit = 2;
	expect_drop_(__LINE__, "meta: hop limit 2", NULL, &in, R(MLD_DROP_HOP_LIMIT));
	m = m0;
	m.src = A("2001:db8::9");
	m.csum_verified = 1;
	expect_drop_(__LINE__, "meta: global source", NULL, &in, R(MLD_DROP_SRC));
	m = m0;
	m.dst = A("ff3e::2");
	expect_drop_(__LINE__, "meta: checksum for another dst", NULL, &in, R(MLD_DROP_CSUM));
	m.csum_verified = 1;
	expect_drop_(__LINE__, "meta: verified sum, wrong dst", NULL, &in, R(MLD_DROP_DST));
	m = m0;
	in.len = 3;
	expect_drop_(__LINE__, "meta: 3 bytes", NULL, &in, R(MLD_DROP_TOO_SHORT));
	in.len = 20;
	expect_drop_(__LINE__, "meta: 20 bytes", NULL, &in, R(MLD_DROP_LEN));
	in.len = il;
	in.ifindex = 42;
	expect_drop_(__LINE__, "meta: unknown link", NULL, &in, R(MLD_DROP_NO_LINK));
}

/* The XDP path: the program found the destination in mld_local_addrs
 * (MLD_EVF_DST_LOCAL, dst_local), so any unicast address of the link is
 * ours, not only the link-local the engine knows (RFC 3810 §5.1.15). The
 * checksum is verified, as the program does it. */
static struct mld_rx_meta meta_to(const char *dst, int dst_local)
{
	struct mld_rx_meta m;

	memset(&m, 0, sizeof(m));
	m.src = A(QUERIER);
	m.dst = A(dst);
	m.hop_limit = 1;
	m.router_alert = 1;
	m.csum_verified = 1;
	m.dst_local = (uint8_t)dst_local;
	return m;
}

TEST(input_icmp_dst_local)
{
	static const struct {
		const char *what, *group, *srcs, *dst;
	} q[] = {{"general query", NULL, NULL, "ff02::1"},
	         {"group query", "ff3e::1", NULL, "ff3e::1"},
	         {"GSS query", "ff3e::2", S1 " " S3, "ff3e::2"}};
	const char *mine = "2001:db8:1::5";
	uint8_t ic[128];
	struct mld_rx_meta m, r;
	struct rxin in = {IF1, ic, 0, &m, NULL, 0}, ref = {IF1, ic, 0, &r, NULL, 0};
	char lab[96];
	size_t i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		in.len = ref.len = icmp_v2_query(ic, q[i].group, 1000, q[i].srcs);
		m = meta_to(mine, 1);
		r = meta_to(q[i].dst, 0);
		snprintf(lab, sizeof(lab), "%s to our %s", q[i].what, mine);
		expect_same_as_(__LINE__, lab, &in, &ref);
		m.dst_local = 0;
		snprintf(lab, sizeof(lab), "%s to %s, not known as ours", q[i].what, mine);
		expect_drop_(__LINE__, lab, NULL, &in, R(MLD_DROP_DST));
	}
	/* dst_local vouches for unicast addresses only. */
	in.len = icmp_v2_query(ic, G_ASM, 1000, NULL);
	m = meta_to("ff3e::2", 1);
	expect_drop_(__LINE__, "group query to another group, dst_local", NULL, &in,
	             R(MLD_DROP_DST));
	in.len = icmp_v2_query(ic, NULL, 1000, NULL);
	m = meta_to("ff02::2", 1);
	expect_drop_(__LINE__, "general query to ff02::2, dst_local", NULL, &in, R(MLD_DROP_DST));
	m = meta_to("::", 1);
	expect_drop_(__LINE__, "general query to ::, dst_local", NULL, &in, R(MLD_DROP_DST));
	/* A v1 report still goes to its group. */
	in.len = icmp_v1(ic, MLD_ICMP_V1_REPORT, G_ASM, 0);
	m = meta_to(mine, 1);
	m.src = A("fe80::77");
	expect_drop_(__LINE__, "v1 report to our unicast address", NULL, &in, R(MLD_DROP_DST));
}

/* ------------------------------------------------------------------ */
/* Listener operations                                                */
/* ------------------------------------------------------------------ */

/* Runs one operation (an expression using 's') on a fresh state, after
 * 'pre' (also an expression using 's', run on the twin as well), and checks
 * that it returned 'want' and changed nothing, against the twin. */
#define OP_REJECTED_AFTER(t, pre, want, call)                                                      \
	do {                                                                                       \
		struct sim *s, *pair_[2];                                                          \
		char *d0_;                                                                         \
		struct mld_stats st_;                                                              \
		struct future f_;                                                                  \
		int rc_, k_;                                                                       \
		for (k_ = 0; k_ < 2; k_++) {                                                       \
			s = pair_[k_] = mk_state(t);                                               \
			if ((pre) != MLD_OK)                                                       \
				t_fail(__FILE__, __LINE__, "setup failed: %s", #pre);              \
		}                                                                                  \
		future_record(pair_[1], &f_);                                                      \
		sim_free(pair_[1]);                                                                \
		s = pair_[0];                                                                      \
		d0_ = sim_dump(s);                                                                 \
		mld_stats_get(s->e, &st_);                                                         \
		rc_ = (call);                                                                      \
		op_check(__LINE__, #call, s, &f_, d0_, &st_, rc_, want);                           \
		future_free(&f_);                                                                  \
	} while (0)
/* The same on the plain state of tunables t (twin cached for NULL). */
#define OP_REJECTED(t, want, call)                                                                 \
	do {                                                                                       \
		struct future tmp_ = {0};                                                          \
		const struct future *f_ = twin_future(t, &tmp_);                                   \
		struct sim *s = mk_state(t);                                                       \
		char *d0_ = sim_dump(s);                                                           \
		struct mld_stats st_;                                                              \
		int rc_;                                                                           \
		mld_stats_get(s->e, &st_);                                                         \
		rc_ = (call);                                                                      \
		op_check(__LINE__, #call, s, f_, d0_, &st_, rc_, want);                            \
		future_free(&tmp_);                                                                \
	} while (0)

static void op_check(int line, const char *label, struct sim *s, const struct future *f, char *d0,
                     const struct mld_stats *st0, int rc, int want)
{
	char *d1 = sim_dump(s);
	struct mld_stats st1;

	if (rc != want)
		t_fail(__FILE__, line, "%s: returned %d (%s), want %d (%s)", label, rc,
		       mld_strerror(rc), want, mld_strerror(want));
	if (strcmp(d0, d1))
		dump_diff(line, label, d0, d1);
	mld_stats_get(s->e, &st1);
	if (memcmp(st0, &st1, sizeof(st1)))
		t_fail(__FILE__, line, "%s: counters changed", label);
	same_future(line, label, s, f);
	free(d0);
	free(d1);
	sim_free(s);
}

TEST(input_op_unknown_link)
{
	const uint32_t bad[] = {0, IF2, 99};
	size_t i;

	for (i = 0; i < 3; i++) {
		uint32_t x = bad[i];

		OP_REJECTED(NULL, MLD_E_NOLINK, mld_join(s->e, x, "a", AP(G_NEW), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_leave(s->e, x, "a", AP(G_ASM), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK,
		            mld_join_source(s->e, x, "a", AP(G_IN), AP(S3), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK,
		            mld_leave_source(s->e, x, "a", AP(G_IN), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK,
		            mld_block_source(s->e, x, "b", AP(G_EX), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK,
		            mld_unblock_source(s->e, x, "b", AP(G_EX), AP(S3), s->now));
		OP_REJECTED(
		    NULL, MLD_E_NOLINK,
		    mld_set_filter(s->e, x, "a", AP(G_IN), MLD_FMODE_EXCLUDE, NULL, 0, s->now));
	}
}

TEST(input_op_group_not_multicast)
{
	const char *bad[] = {"2001:db8::1", "::", "fe80::1", "::1", "fe80::ff02:1"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *g = bad[i];

		OP_REJECTED(NULL, MLD_E_NOTMCAST, mld_join(s->e, IF1, "a", AP(g), s->now));
		OP_REJECTED(NULL, MLD_E_NOTMCAST, mld_leave(s->e, IF1, "a", AP(g), s->now));
		OP_REJECTED(NULL, MLD_E_NOTMCAST,
		            mld_join_source(s->e, IF1, "a", AP(g), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NOTMCAST,
		            mld_leave_source(s->e, IF1, "a", AP(g), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NOTMCAST,
		            mld_block_source(s->e, IF1, "a", AP(g), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NOTMCAST,
		            mld_unblock_source(s->e, IF1, "a", AP(g), AP(S1), s->now));
		OP_REJECTED(
		    NULL, MLD_E_NOTMCAST,
		    mld_set_filter(s->e, IF1, "a", AP(g), MLD_FMODE_EXCLUDE, NULL, 0, s->now));
	}
	OP_REJECTED(NULL, MLD_E_NOTMCAST, mld_join(s->e, IF1, "a", NULL, s->now));
	OP_REJECTED(NULL, MLD_E_NOTMCAST,
	            mld_set_filter(s->e, IF1, "a", NULL, MLD_FMODE_INCLUDE, AP(S1), 1, s->now));
}

TEST(input_op_bad_listener_name)
{
	char n64[80], n63[80], n200[256];
	const char *bad[] = {"",          n64,           n200,  "a b",  " a",  "a ",  "tab\t",
	                     "new\nline", "caf\xc3\xa9", "a;b", "a\"b", "a$b", "a*b", NULL};
	size_t i;

	memset(n64, 'x', 64);
	n64[64] = 0;
	memset(n63, 'y', 63);
	n63[63] = 0;
	memset(n200, 'z', 200);
	n200[200] = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *nm = bad[i];

		OP_REJECTED(NULL, MLD_E_NAME, mld_join(s->e, IF1, nm, AP(G_NEW), s->now));
		OP_REJECTED(NULL, MLD_E_NAME, mld_join(s->e, IF1, nm, AP(G_ASM), s->now));
		OP_REJECTED(NULL, MLD_E_NAME, mld_leave(s->e, IF1, nm, AP(G_ASM), s->now));
		OP_REJECTED(NULL, MLD_E_NAME,
		            mld_join_source(s->e, IF1, nm, AP(G_IN), AP(S3), s->now));
		OP_REJECTED(NULL, MLD_E_NAME,
		            mld_leave_source(s->e, IF1, nm, AP(G_IN), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NAME,
		            mld_block_source(s->e, IF1, nm, AP(G_EX), AP(S1), s->now));
		OP_REJECTED(NULL, MLD_E_NAME,
		            mld_unblock_source(s->e, IF1, nm, AP(G_EX), AP(S3), s->now));
		OP_REJECTED(
		    NULL, MLD_E_NAME,
		    mld_set_filter(s->e, IF1, nm, AP(G_NEW), MLD_FMODE_INCLUDE, AP(S1), 1, s->now));
	}
	{
		/* 63 characters of the allowed set is a good name. */
		struct sim *s = sim_new(NULL);

		CHECK_EQ(mld_join(s->e, IF1, n63, AP(G_ASM), s->now), MLD_OK);
		CHECK_EQ(mld_join(s->e, IF1, "A-z_0.9:/@", AP(G_ASM), s->now), MLD_OK);
		sim_free(s);
	}
}

TEST(input_op_bad_source)
{
	const char *bad[] = {"ff3e::9", "ff02::1", "::"};
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *x = bad[i];

		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_join_source(s->e, IF1, "a", AP(G_IN), AP(x), s->now));
		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_join_source(s->e, IF1, "d", AP(G_NEW), AP(x), s->now));
		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_leave_source(s->e, IF1, "a", AP(G_IN), AP(x), s->now));
		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_block_source(s->e, IF1, "b", AP(G_EX), AP(x), s->now));
		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_unblock_source(s->e, IF1, "b", AP(G_EX), AP(x), s->now));
		{
			struct in6_addr v[3] = {A(S1), A(x), A(S2)};

			OP_REJECTED(NULL, MLD_E_INVAL,
			            mld_set_filter(s->e, IF1, "a", AP(G_IN), MLD_FMODE_INCLUDE, v,
			                           3, s->now));
			OP_REJECTED(NULL, MLD_E_INVAL,
			            mld_set_filter(s->e, IF1, "b", AP(G_EX), MLD_FMODE_EXCLUDE, v,
			                           3, s->now));
			OP_REJECTED(NULL, MLD_E_INVAL,
			            mld_set_filter(s->e, IF1, "d", AP(G_NEW), MLD_FMODE_EXCLUDE, v,
			                           3, s->now));
		}
	}
	OP_REJECTED(NULL, MLD_E_INVAL, mld_join_source(s->e, IF1, "a", AP(G_IN), NULL, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL, mld_block_source(s->e, IF1, "b", AP(G_EX), NULL, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_set_filter(s->e, IF1, "a", AP(G_IN), MLD_FMODE_INCLUDE, NULL, 2, s->now));
	/* Filter modes other than INCLUDE (1) and EXCLUDE (2). */
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_set_filter(s->e, IF1, "a", AP(G_IN), (enum mld_fmode)0, AP(S1), 1, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_set_filter(s->e, IF1, "a", AP(G_IN), (enum mld_fmode)3, AP(S1), 1, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_set_filter(s->e, IF1, "d", AP(G_NEW), (enum mld_fmode)0, NULL, 0, s->now));
}

TEST(input_op_wrong_mode)
{
	/* a holds G_IN in INCLUDE mode, b holds G_EX in EXCLUDE, a and b
	 * hold G_ASM (EXCLUDE{}). */
	OP_REJECTED(NULL, MLD_E_MODE, mld_block_source(s->e, IF1, "a", AP(G_IN), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_block_source(s->e, IF1, "a", AP(G_IN), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_unblock_source(s->e, IF1, "a", AP(G_IN), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_join_source(s->e, IF1, "b", AP(G_EX), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_join_source(s->e, IF1, "b", AP(G_EX), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_leave_source(s->e, IF1, "b", AP(G_EX), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_join_source(s->e, IF1, "a", AP(G_ASM), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_block_source(s->e, IF1, "c", AP(G_NEW), AP(S1), s->now));
	/* An ASM join over an INCLUDE-mode membership. */
	OP_REJECTED(NULL, MLD_E_MODE, mld_join(s->e, IF1, "a", AP(G_IN), s->now));
	OP_REJECTED(NULL, MLD_E_MODE, mld_join(s->e, IF1, "c", AP(G_NEW), s->now));
}

TEST(input_op_already_present)
{
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join(s->e, IF1, "a", AP(G_ASM), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join(s->e, IF1, "b", AP(G_ASM), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join(s->e, IF1, "b", AP(G_EX), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join(s->e, IF1, "a", AP(G_IFL), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join_source(s->e, IF1, "a", AP(G_IN), AP(S2), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_join_source(s->e, IF1, "c", AP(G_NEW), AP(S5), s->now));
	OP_REJECTED(NULL, MLD_E_EXIST, mld_block_source(s->e, IF1, "b", AP(G_EX), AP(S4), s->now));
}

TEST(input_op_not_present)
{
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave(s->e, IF1, "c", AP(G_ASM), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave(s->e, IF1, "never-seen", AP(G_ASM), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave(s->e, IF1, "a", AP("ff3e::77"), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave(s->e, IF1, "a", AP(G_EX), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave_source(s->e, IF1, "a", AP(G_IN), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_leave_source(s->e, IF1, "b", AP(G_IN), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_leave_source(s->e, IF1, "a", AP("ff3e::77"), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_unblock_source(s->e, IF1, "b", AP(G_EX), AP(S1), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_unblock_source(s->e, IF1, "a", AP(G_EX), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_unblock_source(s->e, IF1, "a", AP(G_ASM), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT, mld_block_source(s->e, IF1, "c", AP(G_ASM), AP(S3), s->now));
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_block_source(s->e, IF1, "a", AP("ff3e::77"), AP(S3), s->now));
	/* INCLUDE{} is a leave, and there is nothing to leave. */
	OP_REJECTED(NULL, MLD_E_NOENT,
	            mld_set_filter(s->e, IF1, "c", AP(G_ASM), MLD_FMODE_INCLUDE, EMPTY, 0, s->now));
	OP_REJECTED(
	    NULL, MLD_E_NOENT,
	    mld_set_filter(s->e, IF1, "a", AP("ff3e::77"), MLD_FMODE_INCLUDE, EMPTY, 0, s->now));
}

static void limit_tun(struct mld_tunables *t)
{
	mld_tunables_default(t);
	t->max_groups = 6;            /* mk_state holds six */
	t->max_srcs_per_listener = 2; /* a's INCLUDE and b's EXCLUDE lists hold two */
	t->max_srcs_per_group = 3;
}

TEST(input_op_limit_groups)
{
	struct mld_tunables t;

	limit_tun(&t);
	OP_REJECTED(&t, MLD_E_LIMIT_GROUPS, mld_join(s->e, IF1, "a", AP("ff3e::77"), s->now));
	OP_REJECTED(&t, MLD_E_LIMIT_GROUPS,
	            mld_join_source(s->e, IF1, "a", AP("ff3e::77"), AP(S1), s->now));
	OP_REJECTED(
	    &t, MLD_E_LIMIT_GROUPS,
	    mld_set_filter(s->e, IF1, "z", AP("ff02::77"), MLD_FMODE_EXCLUDE, EMPTY, 0, s->now));
	OP_REJECTED(&t, MLD_E_LIMIT_GROUPS, mld_join(s->e, IF1, "a", AP("ff01::77"), s->now));
	{
		/* Existing groups take more listeners at the limit. */
		struct sim *s = mk_state(&t);

		CHECK_EQ(mld_join(s->e, IF1, "z", AP(G_ASM), s->now), MLD_OK);
		CHECK_EQ(mld_join(s->e, IF1, "z", AP(G_EX), s->now), MLD_OK);
		sim_free(s);
	}
}

TEST(input_op_limit_sources_per_listener)
{
	struct mld_tunables t;
	struct in6_addr v3[3] = {A(S1), A(S2), A(S3)};

	limit_tun(&t);
	OP_REJECTED(&t, MLD_E_LIMIT_SRCS_LISTENER,
	            mld_join_source(s->e, IF1, "a", AP(G_IN), AP(S3), s->now));
	OP_REJECTED(&t, MLD_E_LIMIT_SRCS_LISTENER,
	            mld_block_source(s->e, IF1, "b", AP(G_EX), AP(S1), s->now));
	OP_REJECTED(&t, MLD_E_LIMIT_SRCS_LISTENER,
	            mld_set_filter(s->e, IF1, "a", AP(G_IN), MLD_FMODE_INCLUDE, v3, 3, s->now));
	OP_REJECTED(&t, MLD_E_LIMIT_SRCS_LISTENER,
	            mld_set_filter(s->e, IF1, "z", AP(G_ASM), MLD_FMODE_EXCLUDE, v3, 3, s->now));
	/* Duplicates count once: {S1, S1, S2} is two sources. */
	{
		struct sim *s = mk_state(&t);
		struct in6_addr d[3] = {A(S1), A(S1), A(S2)};

		CHECK_EQ(mld_set_filter(s->e, IF1, "z", AP(G_ASM), MLD_FMODE_EXCLUDE, d, 3, s->now),
		         MLD_OK);
		sim_free(s);
	}
	/* Beyond anything a listener can hold, before looking at the list. */
	{
		size_t big = 65536;
		struct in6_addr *v = calloc(big, sizeof(*v));
		size_t i;

		for (i = 0; i < big; i++) {
			v[i] = A("2001:db8::");
			v[i].s6_addr[12] = (uint8_t)(i >> 24);
			v[i].s6_addr[13] = (uint8_t)(i >> 16);
			v[i].s6_addr[14] = (uint8_t)(i >> 8);
			v[i].s6_addr[15] = (uint8_t)i;
			v[i].s6_addr[11] = 1;
		}
		OP_REJECTED(
		    NULL, MLD_E_LIMIT_SRCS_LISTENER,
		    mld_set_filter(s->e, IF1, "a", AP(G_IN), MLD_FMODE_INCLUDE, v, big, s->now));
		free(v);
	}
}

TEST(input_op_limit_sources_per_group)
{
	struct mld_tunables t;
	struct in6_addr v2[2] = {A("2001:db8::7"), A("2001:db8::8")};
	struct in6_addr v2b[2] = {A("2001:db8::8"), A("2001:db8::9")};

	limit_tun(&t);
	/* G_IN holds INCLUDE{S1,S2}; two more sources make four. */
	OP_REJECTED(&t, MLD_E_LIMIT_SRCS_GROUP,
	            mld_set_filter(s->e, IF1, "z", AP(G_IN), MLD_FMODE_INCLUDE, v2, 2, s->now));
	/* G_EX holds EXCLUDE{S3,S4}; a second EXCLUDE listener shrinks it
	 * (intersection) and is fine, an INCLUDE one too; but a group whose
	 * INCLUDE union grows past three is not. */
	{
		struct sim *s = mk_state(&t);

		CHECK_EQ(mld_join_source(s->e, IF1, "z", AP(G_IN), AP(S1), s->now), MLD_OK);
		CHECK_EQ(mld_join_source(s->e, IF1, "z", AP(G_IN), AP("2001:db8::7"), s->now),
		         MLD_OK);
		sim_free(s);
	}
	OP_REJECTED_AFTER(&t, mld_join_source(s->e, IF1, "z", AP(G_IN), AP("2001:db8::7"), s->now),
	                  MLD_E_LIMIT_SRCS_GROUP,
	                  mld_join_source(s->e, IF1, "y", AP(G_IN), AP("2001:db8::8"), s->now));
	OP_REJECTED_AFTER(
	    &t, mld_join_source(s->e, IF1, "z", AP(G_IN), AP("2001:db8::7"), s->now),
	    MLD_E_LIMIT_SRCS_GROUP,
	    mld_set_filter(s->e, IF1, "y", AP(G_IN), MLD_FMODE_INCLUDE, v2b, 2, s->now));
}

/*
 * A limit bounds what a listener may add; it must never stop a listener
 * from going away. Here y INCLUDE{S1} and x EXCLUDE{S1,S2,S3} merge to
 * EXCLUDE{S2,S3} (RFC 3810 §4.2), within a per-group limit of 2. When y
 * leaves, the merge becomes EXCLUDE{S1,S2,S3}: the leave (or dropping y's
 * last source) must still succeed, as it does in FreeBSD (whose per-group
 * limit only refuses new source nodes) and Linux (no per-group limit).
 */
TEST(input_limit_never_blocks_leave)
{
	struct mld_tunables t;
	struct in6_addr x3[3] = {A(S1), A(S2), A(S3)};
	int variant;

	mld_tunables_default(&t);
	t.max_srcs_per_group = 2;
	for (variant = 0; variant < 3; variant++) {
		struct sim *s = sim_new(&t);
		struct in6_addr g = A("ff3e::50");
		struct mld_group_info gi;
		int rc;

		CHECK_EQ(mld_join_source(s->e, IF1, "y", &g, AP(S1), s->now), MLD_OK);
		CHECK_EQ(mld_set_filter(s->e, IF1, "x", &g, MLD_FMODE_EXCLUDE, x3, 3, s->now),
		         MLD_OK);
		CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_OK);
		CHECK_EQ(gi.mode, MLD_FMODE_EXCLUDE);
		CHECK_EQ(gi.nsrc, 2);
		sim_advance(s, 5000);
		if (variant == 0)
			rc = mld_leave(s->e, IF1, "y", &g, s->now);
		else if (variant == 1)
			rc = mld_leave_source(s->e, IF1, "y", &g, AP(S1), s->now);
		else
			rc =
			    mld_set_filter(s->e, IF1, "y", &g, MLD_FMODE_INCLUDE, EMPTY, 0, s->now);
		if (rc != MLD_OK)
			t_fail(__FILE__, __LINE__, "variant %d: listener y cannot leave: %s",
			       variant, mld_strerror(rc));
		CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_OK);
		CHECK_EQ(gi.nlisteners, 1);
		sim_free(s);
	}
}

/*
 * "INCLUDE with no sources is a leave": mld_set_filter(..., INCLUDE, NULL, 0)
 * is the natural way to say it and must work. Run in a child process, since
 * undefined behaviour there (memcpy from NULL) aborts under UBSan.
 */
TEST(input_set_filter_empty_null_list)
{
	int kind;

	for (kind = 0; kind < 3; kind++) {
		pid_t pid;
		int st = 0;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct sim *s = sim_new(NULL);
			int rc, want;

			if (kind == 0) {
				/* A member leaves with INCLUDE{}. */
				mld_join(s->e, IF1, "a", AP(G_ASM), s->now);
				rc = mld_set_filter(s->e, IF1, "a", AP(G_ASM), MLD_FMODE_INCLUDE,
				                    NULL, 0, s->now);
				want = MLD_OK;
			} else if (kind == 1) {
				/* EXCLUDE{} is an ASM join. */
				rc = mld_set_filter(s->e, IF1, "a", AP(G_ASM), MLD_FMODE_EXCLUDE,
				                    NULL, 0, s->now);
				want = MLD_OK;
			} else {
				rc = mld_set_filter(s->e, IF1, "a", AP(G_ASM), MLD_FMODE_INCLUDE,
				                    NULL, 0, s->now);
				want = MLD_E_NOENT;
			}
			_exit(rc == want ? 0 : 3);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			t_fail(__FILE__, __LINE__, "fork/wait failed");
			continue;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			t_fail(
			    __FILE__, __LINE__,
			    "mld_set_filter(%s, NULL, 0) %s (status 0x%x): memcpy(lsrcs, NULL, 0) "
			    "in do_op OP_SET is undefined behaviour",
			    kind == 1 ? "EXCLUDE" : "INCLUDE",
			    WIFEXITED(st) && WEXITSTATUS(st) == 3 ? "returned the wrong code"
			                                          : "crashed",
			    st);
	}
}

/* ------------------------------------------------------------------ */
/* Tunables                                                           */
/* ------------------------------------------------------------------ */

struct tun_case {
	const char *what, *key; /* key: word the reason must contain */
	size_t off;
	uint32_t val;
};

#define TOFF(f) offsetof(struct mld_tunables, f)

static const struct tun_case bad_tun[] = {
    {"rv 0", "rv", TOFF(rv), 0},
    {"rv 8", "rv", TOFF(rv), 8},
    {"rv huge", "rv", TOFF(rv), UINT32_MAX},
    {"qi 999 ms", "qi", TOFF(qi_ms), 999},
    {"qi 0", "qi", TOFF(qi_ms), 0},
    {"qi over the largest QQIC", "qi", TOFF(qi_ms), 31744001},
    {"qri = qi", "qri", TOFF(qri_ms), 125000},
    {"qri > qi", "qri", TOFF(qri_ms), 200000},
    {"uri 0", "uri", TOFF(uri_ms), 0},
    {"uri over 1 h", "uri", TOFF(uri_ms), 3600001},
    {"v1-uri 0", "v1-uri", TOFF(v1_uri_ms), 0},
    {"v1-uri over 1 h", "v1-uri", TOFF(v1_uri_ms), 3600001},
    {"gsr-delay 59.001 s", "gsr", TOFF(gsr_delay_ms), 59001},
    {"force-version 3", "force", TOFF(force_version), 3},
    {"force-version huge", "force", TOFF(force_version), UINT32_MAX},
    {"max-groups 0", "max-groups", TOFF(max_groups), 0},
    {"max-groups over 16M", "max-groups", TOFF(max_groups), (16u << 20) + 1},
    {"max-sources-per-group 0", "max-sources-per-group", TOFF(max_srcs_per_group), 0},
    {"max-sources-per-group 65536", "max-sources-per-group", TOFF(max_srcs_per_group), 65536},
    {"max-sources-per-listener 0", "max-sources-per-listener", TOFF(max_srcs_per_listener), 0},
    {"max-sources-per-listener 65536", "max-sources-per-listener", TOFF(max_srcs_per_listener),
     65536},
};

static void tun_set(struct mld_tunables *t, size_t off, uint32_t v)
{
	memcpy((char *)t + off, &v, sizeof(v));
}

static uint32_t seq_rand(void *ctx)
{
	return (uint32_t)(++*(uint64_t *)ctx * 2654435761u);
}

static void seq_tx(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)ifindex, (void)pkt, (void)len;
}

TEST(input_tunables_rejected)
{
	size_t i;

	for (i = 0; i < sizeof(bad_tun) / sizeof(bad_tun[0]); i++) {
		struct mld_tunables t;
		const char *why = NULL;
		struct mld_link_info li0, li1;
		uint64_t ctx = 0;

		mld_tunables_default(&t);
		tun_set(&t, bad_tun[i].off, bad_tun[i].val);
		if (mld_tunables_check(&t, &why) != MLD_E_INVAL)
			t_fail(__FILE__, __LINE__, "%s: mld_tunables_check accepted it",
			       bad_tun[i].what);
		else if (!why || !*why)
			t_fail(__FILE__, __LINE__, "%s: no reason given", bad_tun[i].what);
		else if (!strstr(why, bad_tun[i].key))
			t_fail(__FILE__, __LINE__, "%s: reason \"%s\" does not name %s",
			       bad_tun[i].what, why, bad_tun[i].key);
		CHECK_EQ(mld_tunables_check(&t, NULL), MLD_E_INVAL);
		{
			struct mld_engine *e = mld_engine_new(&t, seq_rand, &ctx, seq_tx, NULL);

			if (e) {
				t_fail(__FILE__, __LINE__, "%s: engine created with it",
				       bad_tun[i].what);
				mld_engine_free(e);
			}
		}
		{
			struct sim *s = mk_state(NULL);
			char *d0 = sim_dump(s);
			struct mld_stats st;

			mld_stats_get(s->e, &st);
			op_check(__LINE__, bad_tun[i].what, s, default_future(), d0, &st,
			         mld_link_set_tunables(s->e, IF1, &t), MLD_E_INVAL);
		}
		{
			struct sim *s = mk_state(NULL);

			mld_link_info(s->e, IF1, &li0);
			mld_link_set_tunables(s->e, IF1, &t);
			mld_link_info(s->e, IF1, &li1);
			if (memcmp(&li0.tun, &li1.tun, sizeof(li0.tun)))
				t_fail(__FILE__, __LINE__, "%s: link tunables changed",
				       bad_tun[i].what);
			sim_free(s);
		}
	}
}

TEST(input_tunables_boundaries_accepted)
{
	static const struct tun_case ok[] = {
	    {"rv 1", "", TOFF(rv), 1},
	    {"rv 7", "", TOFF(rv), 7},
	    {"qi 31744 s", "", TOFF(qi_ms), 31744000},
	    {"qri 0", "", TOFF(qri_ms), 0},
	    {"qri 124.999 s", "", TOFF(qri_ms), 124999},
	    {"uri 1 ms", "", TOFF(uri_ms), 1},
	    {"uri 1 h", "", TOFF(uri_ms), 3600000},
	    {"v1-uri 1 ms", "", TOFF(v1_uri_ms), 1},
	    {"v1-uri 1 h", "", TOFF(v1_uri_ms), 3600000},
	    {"gsr-delay off", "", TOFF(gsr_delay_ms), 0},
	    {"gsr-delay 59 s", "", TOFF(gsr_delay_ms), 59000},
	    {"force-version 1", "", TOFF(force_version), 1},
	    {"force-version 2", "", TOFF(force_version), 2},
	    {"max-groups 16M", "", TOFF(max_groups), 16u << 20},
	    {"max-sources-per-group 1", "", TOFF(max_srcs_per_group), 1},
	    {"max-sources-per-group 65535", "", TOFF(max_srcs_per_group), 65535},
	    {"max-sources-per-listener 1", "", TOFF(max_srcs_per_listener), 1},
	    {"max-sources-per-listener 65535", "", TOFF(max_srcs_per_listener), 65535},
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mld_tunables t;
		struct sim *s = mk_state(NULL);
		struct mld_link_info li;

		mld_tunables_default(&t);
		tun_set(&t, ok[i].off, ok[i].val);
		if (mld_tunables_check(&t, NULL) != MLD_OK)
			t_fail(__FILE__, __LINE__, "%s rejected", ok[i].what);
		if (mld_link_set_tunables(s->e, IF1, &t) != MLD_OK)
			t_fail(__FILE__, __LINE__, "%s rejected by the link", ok[i].what);
		mld_link_info(s->e, IF1, &li);
		CHECK(!memcmp(&li.tun, &t, sizeof(t)));
		sim_free(s);
	}
	{
		/* qi at its 1 s minimum needs qri below it. */
		struct mld_tunables t;

		mld_tunables_default(&t);
		t.qi_ms = 1000;
		t.qri_ms = 999;
		CHECK_EQ(mld_tunables_check(&t, NULL), MLD_OK);
	}
}

TEST(input_tunables_link_errors)
{
	struct mld_tunables t;

	mld_tunables_default(&t);
	/* Fewer groups than the link holds. */
	t.max_groups = 5;
	OP_REJECTED(NULL, MLD_E_LIMIT_GROUPS, mld_link_set_tunables(s->e, IF1, &t));
	t.max_groups = 6;
	{
		struct sim *s = mk_state(NULL);

		CHECK_EQ(mld_link_set_tunables(s->e, IF1, &t), MLD_OK);
		sim_free(s);
	}
	mld_tunables_default(&t);
	OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_tunables(s->e, 99, &t));
	OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_tunables(s->e, 0, &t));
}

/* ------------------------------------------------------------------ */
/* Links                                                              */
/* ------------------------------------------------------------------ */

TEST(input_link_add_rejected)
{
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_add(s->e, IF2, 1279, 0, s->now));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_add(s->e, IF2, 65536, 0, s->now));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_add(s->e, IF2, 0, 0, s->now));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_add(s->e, IF2, UINT32_MAX, 0, s->now));
	OP_REJECTED(NULL, MLD_E_LINKEXIST, mld_link_add(s->e, IF1, 1500, 0, s->now));
	OP_REJECTED(NULL, MLD_E_LINKEXIST, mld_link_add(s->e, IF1, 9000, MLD_LINK_SILENT, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL, mld_link_add(s->e, 0, 1500, 0, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL, mld_link_add(s->e, IF2, 1500, 0x2, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL, mld_link_add(s->e, IF2, 1500, 0x80000000u, s->now));
	{
		/* The MTU bounds themselves are fine. */
		struct sim *s = mk_state(NULL);

		CHECK_EQ(mld_link_add(s->e, IF2, 1280, 0, s->now), MLD_OK);
		CHECK_EQ(mld_link_add(s->e, 3, 65535, 0, s->now), MLD_OK);
		CHECK_EQ(mld_link_add(s->e, 4, 1500, MLD_LINK_SILENT, s->now), MLD_OK);
		sim_free(s);
	}
}

static int count_links(void *ctx, const struct mld_link_info *l)
{
	(void)l;
	++*(int *)ctx;
	return 0;
}

static int stop_cb_g(void *ctx, const struct mld_group_info *g)
{
	(void)g;
	++*(int *)ctx;
	return 0;
}

static int stop_cb_l(void *ctx, const struct mld_listener_info *l)
{
	(void)l;
	++*(int *)ctx;
	return 0;
}

TEST(input_link_ops_unknown_ifindex)
{
	const uint32_t bad[] = {0, IF2, 99};
	size_t i;

	for (i = 0; i < 3; i++) {
		uint32_t x = bad[i];
		struct mld_tunables t;

		mld_tunables_default(&t);
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_remove(s->e, x));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_up(s->e, x, 0, s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_up(s->e, x, 1, s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_mtu(s->e, x, 1500));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_silent(s->e, x, 1, s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK,
		            mld_link_set_lladdr(s->e, x, MLD_LL_VALID, AP("fe80::2"), s->now));
		OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_tunables(s->e, x, &t));
		{
			struct sim *s = mk_state(NULL);
			struct mld_link_info li;
			struct mld_group_info gi;
			int n = 0, nl = 0;

			CHECK_EQ(mld_link_info(s->e, x, &li), MLD_E_NOLINK);
			CHECK_EQ(mld_group_info(s->e, x, AP(G_ASM), &gi), MLD_E_NOLINK);
			CHECK_EQ(mld_link_groups(s->e, x, stop_cb_g, &n), MLD_E_NOLINK);
			CHECK_EQ(mld_group_listeners(s->e, x, AP(G_ASM), stop_cb_l, &n),
			         MLD_E_NOLINK);
			CHECK_EQ(n, 0);
			mld_links(s->e, count_links, &nl);
			CHECK_EQ(nl, 1);
			CHECK_EQ(mld_group_info(s->e, IF1, AP("ff3e::77"), &gi), MLD_E_NOENT);
			CHECK_EQ(mld_group_listeners(s->e, IF1, AP("ff3e::77"), stop_cb_l, &n),
			         MLD_E_NOENT);
			sim_free(s);
		}
	}
}

TEST(input_link_set_ifindex_rejected)
{
	OP_REJECTED(NULL, MLD_E_NOLINK, mld_link_set_ifindex(s->e, 99, 5));
	OP_REJECTED(NULL, MLD_E_INVAL, mld_link_set_ifindex(s->e, IF1, 0));
	OP_REJECTED_AFTER(NULL, mld_link_add(s->e, IF2, 1500, 0, s->now), MLD_E_LINKEXIST,
	                  mld_link_set_ifindex(s->e, IF1, IF2));
}

TEST(input_link_set_mtu_rejected)
{
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_set_mtu(s->e, IF1, 1279));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_set_mtu(s->e, IF1, 65536));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_set_mtu(s->e, IF1, 0));
	OP_REJECTED(NULL, MLD_E_MTU, mld_link_set_mtu(s->e, IF1, UINT32_MAX));
}

TEST(input_link_lladdr_rejected)
{
	const char *bad[] = {"2001:db8::1", "::", "ff02::1", "::1", "fec0::1", "fe00::1"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *x = bad[i];

		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_link_set_lladdr(s->e, IF1, MLD_LL_VALID, AP(x), s->now));
		OP_REJECTED(NULL, MLD_E_INVAL,
		            mld_link_set_lladdr(s->e, IF1, MLD_LL_TENTATIVE, AP(x), s->now));
	}
	OP_REJECTED(NULL, MLD_E_INVAL, mld_link_set_lladdr(s->e, IF1, MLD_LL_VALID, NULL, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_link_set_lladdr(s->e, IF1, MLD_LL_TENTATIVE, NULL, s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_link_set_lladdr(s->e, IF1, (enum mld_ll_state)3, AP("fe80::2"), s->now));
	OP_REJECTED(NULL, MLD_E_INVAL,
	            mld_link_set_lladdr(s->e, IF1, (enum mld_ll_state) - 1, AP("fe80::2"), s->now));
}

TEST(input_engine_new_rejected)
{
	uint64_t ctx = 0;
	struct mld_engine *e;

	e = mld_engine_new(NULL, NULL, NULL, seq_tx, NULL);
	CHECK(e == NULL);
	mld_engine_free(e);
	e = mld_engine_new(NULL, seq_rand, &ctx, NULL, NULL);
	CHECK(e == NULL);
	mld_engine_free(e);
	e = mld_engine_new(NULL, seq_rand, &ctx, seq_tx, NULL);
	CHECK(e != NULL);
	mld_engine_free(e);
}
