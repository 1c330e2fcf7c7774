/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Deterministic randomized tests (seeded, the same every run):
 *
 *  fuzz_packets_*: valid queries and reports, mutated thousands of times
 *  (bit flips, bytes set to edge values, truncation, extension, address and
 *  source-count rewrites, inserted extension headers, with and without the
 *  payload length and checksum fixed up afterwards), fed through both entry
 *  points. Invariants: no crash (ASan/UBSan), every emitted packet decodes
 *  (harness decode_packet) and fits the MTU, a rejected packet moves exactly
 *  one drop counter by one and changes no state, an accepted one moves
 *  none, packets never change any filter, deadlines never lie in the past.
 *
 *  fuzz_ops_*: random listener operations (join, leave, source joins and
 *  blocks, set_filter) over 50 groups, 4 listeners and 2 links, mixed with
 *  link up/down, silent, MTU, link-local address, version forcing, link
 *  removal, and queries and reports from the network, for a few virtual
 *  minutes. A model holds each listener's filter (RFC 3678); after every
 *  step the engine's per-listener filters and its merged filter must equal
 *  the model's RFC 3810 §4.2 merge (EXCLUDE = ∩EX − ∪IN, else INCLUDE = ∪IN)
 *  and every return code the one the model predicts. Once every listener
 *  has left and time has passed, no group remains.
 *
 * These tests keep their own small world rather than struct sim so that
 * thousands of packets cost nothing; emitted packets go through the
 * harness's decode_packet all the same.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ------------------------------------------------------------------ */
/* The world                                                          */
/* ------------------------------------------------------------------ */

#define NLINK 2
static const uint32_t link_ifx[NLINK] = {IF1, IF2};

struct lmodel {
	int present, up, silent;
	enum mld_ll_state ll;
	struct in6_addr lladdr;
	uint32_t mtu;
};

struct fw {
	struct mld_engine *e;
	uint64_t now;
	uint64_t rng;  /* the test's choices */
	uint64_t erng; /* the engine's generator */
	struct lmodel lk[NLINK];
	uint64_t tx_pkts, tx_v1, tx_v2, tx_recs;
	int failed; /* stop early after the first failure of a run */
	const char *what;
	uint64_t step;
	/* Checks a sent packet against the listener model, if set. */
	void (*check_pkt)(struct fw *w, int li, const struct dpkt *d);
	void *model[NLINK]; /* struct lf [NG][NL] of each link */
};

static struct dpkt *scratch;

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd(struct fw *w, uint32_t n)
{
	return n ? (uint32_t)((xs(&w->rng) >> 32) % n) : 0;
}

static int chance(struct fw *w, unsigned pct)
{
	return rnd(w, 100) < pct;
}

static uint32_t eng_rand(void *ctx)
{
	return (uint32_t)(xs(&((struct fw *)ctx)->erng) >> 32);
}

#define FAIL(w, ...)                                                                               \
	do {                                                                                       \
		t_fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
		(w)->failed++;                                                                     \
	} while (0)

static int link_index(uint32_t ifindex)
{
	int i;

	for (i = 0; i < NLINK; i++)
		if (link_ifx[i] == ifindex)
			return i;
	return -1;
}

static int reportable(const struct in6_addr *g)
{
	static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
	uint8_t scope = g->s6_addr[1] & 0x0f;

	return g->s6_addr[0] == 0xff && scope > 1 && memcmp(g, all_nodes, 16) != 0;
}

/* Every packet the engine sends: decoded, and checked against the link. */
static void fw_tx(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	struct fw *w = ctx;
	char why[200];
	int li = link_index(ifindex);
	struct lmodel *l;
	struct in6_addr want_src;
	struct mld_link_info info;
	uint16_t r;

	w->tx_pkts++;
	if (w->failed > 20)
		return;
	if (decode_packet(pkt, len, scratch, why, sizeof(why)) < 0) {
		FAIL(w, "%s step %llu t=%llu: bad packet: %s", w->what, (unsigned long long)w->step,
		     (unsigned long long)w->now, why);
		return;
	}
	if (li < 0 || !w->lk[li].present) {
		FAIL(w, "%s: packet on unknown link %u", w->what, ifindex);
		return;
	}
	l = &w->lk[li];
	if (len > l->mtu)
		FAIL(w, "%s: %zu-byte packet over the %u MTU", w->what, len, l->mtu);
	if (!l->up || l->silent)
		FAIL(w, "%s step %llu: packet on a link that is %s", w->what,
		     (unsigned long long)w->step, l->up ? "silent" : "down");
	/* RFC 3590: the link-local address once valid, :: before. */
	memset(&want_src, 0, sizeof(want_src));
	if (l->ll == MLD_LL_VALID)
		want_src = l->lladdr;
	if (memcmp(&scratch->src, &want_src, 16))
		FAIL(w, "%s step %llu: source %s, want %s", w->what, (unsigned long long)w->step,
		     S(&scratch->src), S(&want_src));
	if (mld_link_info(w->e, ifindex, &info) == MLD_OK &&
	    (info.version == 1) != (scratch->icmp_type != MLD_ICMP_V2_REPORT))
		FAIL(w, "%s step %llu: ICMPv6 type %u sent in MLDv%d mode", w->what,
		     (unsigned long long)w->step, scratch->icmp_type, info.version);
	if (w->check_pkt && w->model[li])
		w->check_pkt(w, li, scratch);
	if (scratch->icmp_type == MLD_ICMP_V2_REPORT) {
		w->tx_v2++;
		w->tx_recs += scratch->nrec;
		for (r = 0; r < scratch->nrec; r++)
			if (!reportable(&scratch->recs[r].group))
				FAIL(w, "%s: record for unreportable group %s", w->what,
				     S(&scratch->recs[r].group));
	} else {
		w->tx_v1++;
		if (!reportable(&scratch->group))
			FAIL(w, "%s: v1 message for unreportable group %s", w->what,
			     S(&scratch->group));
	}
}

static void fw_init(struct fw *w, uint64_t seed, const struct mld_tunables *t, const char *what)
{
	memset(w, 0, sizeof(*w));
	if (!scratch) {
		scratch = calloc(1, sizeof(*scratch));
		scratch->recs = calloc(MAX_RECS, sizeof(*scratch->recs));
		scratch->pool = calloc(MAX_PKT_SRCS, sizeof(*scratch->pool));
	}
	w->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	w->erng = seed ^ 0xD1B54A32D192ED03ull;
	w->now = 1000;
	w->what = what;
	w->e = mld_engine_new(t, eng_rand, w, fw_tx, w);
	if (!w->e)
		abort();
}

static int fw_link_add(struct fw *w, int li, uint32_t mtu, int silent)
{
	int rc = mld_link_add(w->e, link_ifx[li], mtu, silent ? MLD_LINK_SILENT : 0, w->now);

	if (rc == MLD_OK) {
		memset(&w->lk[li], 0, sizeof(w->lk[li]));
		w->lk[li].present = 1;
		w->lk[li].up = 1;
		w->lk[li].silent = silent;
		w->lk[li].mtu = mtu;
	}
	return rc;
}

static int fw_set_ll(struct fw *w, int li, enum mld_ll_state st, const struct in6_addr *a)
{
	int rc = mld_link_set_lladdr(w->e, link_ifx[li], st, a, w->now);

	if (rc == MLD_OK) {
		w->lk[li].ll = st;
		if (a && st != MLD_LL_NONE)
			w->lk[li].lladdr = *a;
	}
	return rc;
}

static void fw_free(struct fw *w)
{
	mld_engine_free(w->e);
	w->e = NULL;
}

/* Advances virtual time to t, firing every deadline (as sim_run_until). */
static void fw_run_until(struct fw *w, uint64_t t)
{
	unsigned guard = 0;

	for (;;) {
		uint64_t d = mld_next_deadline(w->e);

		if (d > t)
			break;
		if (d < w->now) {
			FAIL(w, "%s step %llu: deadline %llu in the past (now %llu)", w->what,
			     (unsigned long long)w->step, (unsigned long long)d,
			     (unsigned long long)w->now);
			d = w->now;
		}
		w->now = d;
		mld_timeout(w->e, w->now);
		if (++guard > 1000000) {
			FAIL(w, "%s: timers do not converge at %llu", w->what,
			     (unsigned long long)w->now);
			break;
		}
	}
	if (t > w->now)
		w->now = t;
	if (mld_next_deadline(w->e) <= w->now)
		FAIL(w, "%s step %llu: deadline %llu not after now %llu after running", w->what,
		     (unsigned long long)w->step, (unsigned long long)mld_next_deadline(w->e),
		     (unsigned long long)w->now);
}

static char *fw_dump(struct fw *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	mld_engine_dump(w->e, f);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Listener model (RFC 3678) and merge (RFC 3810 §4.2)                */
/* ------------------------------------------------------------------ */

#define NG 50
#define NL 4
#define NS 12

enum { M_NONE = 0, M_IN = MLD_FMODE_INCLUDE, M_EX = MLD_FMODE_EXCLUDE };

struct lf {
	uint8_t mode;
	uint16_t srcs; /* bit i: source pool[i] */
};

static struct in6_addr groups[NG], pool[NS];
static const char *const lnames[NL] = {"app0", "svc/1", "user@host", "x.y-z_9"};

static void init_addrs(void)
{
	int i;

	for (i = 0; i < NG; i++) {
		char buf[64];

		if (i < 42)
			snprintf(buf, sizeof(buf), "ff3e::%x", 0x100 + i);
		else if (i < 45)
			snprintf(buf, sizeof(buf), "ff02::1:ff00:%x", i);
		else if (i == 45)
			snprintf(buf, sizeof(buf), "ff02::1"); /* never reported */
		else if (i == 46)
			snprintf(buf, sizeof(buf), "ff01::%x", i); /* interface-local */
		else if (i == 47)
			snprintf(buf, sizeof(buf), "ff00::%x", i); /* reserved scope 0 */
		else
			snprintf(buf, sizeof(buf), "ff05::%x", i);
		groups[i] = A(buf);
	}
	for (i = 0; i < NS; i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "2001:db8:5::%x", i + 1);
		pool[i] = A(buf);
	}
}

static int pool_index(const struct in6_addr *a)
{
	int i;

	for (i = 0; i < NS; i++)
		if (!memcmp(a, &pool[i], 16))
			return i;
	return -1;
}

static int popcount16(uint16_t v)
{
	int n = 0;

	for (; v; v &= (uint16_t)(v - 1))
		n++;
	return n;
}

static struct lf merge(const struct lf *ls)
{
	struct lf r = {M_IN, 0};
	uint16_t ex = 0xffff, in = 0;
	int i, any_ex = 0;

	for (i = 0; i < NL; i++) {
		if (ls[i].mode == M_EX) {
			any_ex = 1;
			ex &= ls[i].srcs;
		} else if (ls[i].mode == M_IN) {
			in |= ls[i].srcs;
		}
	}
	if (any_ex) {
		r.mode = M_EX;
		r.srcs = (uint16_t)(ex & ~in & ((1u << NS) - 1));
	} else {
		r.srcs = in;
	}
	return r;
}

static int members(const struct lf *ls)
{
	int i, n = 0;

	for (i = 0; i < NL; i++)
		n += ls[i].mode != M_NONE;
	return n;
}

static uint16_t set_mask(const struct in6_addr *v, size_t n, int *bad)
{
	uint16_t m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int k = pool_index(&v[i]);

		if (k < 0) {
			if (!*bad)
				*bad = 1; /* unknown; a duplicate (2) stays reported */
		} else if (m & (1u << k)) {
			*bad = 2; /* duplicate */
		} else {
			m |= (uint16_t)(1u << k);
		}
	}
	return m;
}

static const char *mask_str(uint8_t mode, uint16_t m)
{
	static char buf[4][128];
	static int k;
	size_t o;
	int i;

	k = (k + 1) % 4;
	o = (size_t)snprintf(buf[k], sizeof(buf[k]), "%s{",
	                     mode == M_EX   ? "EX"
	                     : mode == M_IN ? "IN"
	                                    : "none");
	for (i = 0; i < NS; i++)
		if (m & (1u << i))
			o += (size_t)snprintf(buf[k] + o, sizeof(buf[k]) - o, "%s%d",
			                      (m & ((1u << i) - 1)) ? "," : "", i);
	snprintf(buf[k] + o, sizeof(buf[k]) - o, "}");
	return buf[k];
}

struct lcheck {
	struct fw *w;
	const struct lf *ls;
	int li, g, seen[NL];
};

static int listener_cb(void *ctx, const struct mld_listener_info *l)
{
	struct lcheck *c = ctx;
	int i, bad = 0;
	uint16_t m;

	for (i = 0; i < NL; i++)
		if (!strcmp(l->name, lnames[i]))
			break;
	if (i == NL) {
		FAIL(c->w, "%s step %llu: unknown listener %s", c->w->what,
		     (unsigned long long)c->w->step, l->name);
		return 1;
	}
	c->seen[i]++;
	m = set_mask(l->srcs, l->nsrc, &bad);
	if (bad || l->mode != c->ls[i].mode || m != c->ls[i].srcs)
		FAIL(c->w, "%s step %llu: link %d group %s listener %s is %s%s, model %s",
		     c->w->what, (unsigned long long)c->w->step, c->li, S(&groups[c->g]), l->name,
		     mask_str((uint8_t)l->mode, m), bad ? " (bad list)" : "",
		     mask_str(c->ls[i].mode, c->ls[i].srcs));
	return 0;
}

/* The engine's view of (link, group) equals the model. */
static void check_group(struct fw *w, int li, int g, const struct lf *ls)
{
	struct mld_group_info gi;
	int rc = mld_group_info(w->e, link_ifx[li], &groups[g], &gi), n = members(ls), bad = 0;
	struct lf want = merge(ls);
	const struct lmodel *l = &w->lk[li];
	struct mld_link_info info;
	uint16_t m;

	if (n == 0) {
		if (rc == MLD_E_NOENT)
			return;
		if (rc != MLD_OK) {
			FAIL(w, "%s: group_info: %d", w->what, rc);
			return;
		}
		/* Only a group still sending its leave records may linger. */
		if (gi.state != MLD_LEAVING_MEMBER || gi.nlisteners ||
		    gi.mode != MLD_FMODE_INCLUDE || gi.nsrc)
			FAIL(w,
			     "%s step %llu: link %d group %s has no listener but is %s %s/%zu "
			     "with %zu listeners",
			     w->what, (unsigned long long)w->step, li, S(&groups[g]),
			     mld_state_name(gi.state), gi.mode == MLD_FMODE_EXCLUDE ? "EX" : "IN",
			     gi.nsrc, gi.nlisteners);
		return;
	}
	if (rc != MLD_OK) {
		FAIL(w, "%s step %llu: link %d group %s missing (model %s)", w->what,
		     (unsigned long long)w->step, li, S(&groups[g]),
		     mask_str(want.mode, want.srcs));
		return;
	}
	m = set_mask(gi.srcs, gi.nsrc, &bad);
	if (bad || gi.mode != want.mode || m != want.srcs)
		FAIL(w, "%s step %llu: link %d group %s merged filter %s%s, RFC 3810 §4.2 gives %s",
		     w->what, (unsigned long long)w->step, li, S(&groups[g]),
		     mask_str((uint8_t)gi.mode, m), bad ? " (bad list)" : "",
		     mask_str(want.mode, want.srcs));
	if (gi.nlisteners != (size_t)n)
		FAIL(w, "%s step %llu: group %s has %zu listeners, model %d", w->what,
		     (unsigned long long)w->step, S(&groups[g]), gi.nlisteners, n);
	{
		struct lcheck c = {w, ls, li, g, {0}};
		int i;

		mld_group_listeners(w->e, link_ifx[li], &groups[g], listener_cb, &c);
		for (i = 0; i < NL; i++)
			if (c.seen[i] != (ls[i].mode != M_NONE))
				FAIL(w,
				     "%s step %llu: group %s listener %s listed %d times, model %s",
				     w->what, (unsigned long long)w->step, S(&groups[g]), lnames[i],
				     c.seen[i], mask_str(ls[i].mode, ls[i].srcs));
	}
	/* The per-group state fits the link. */
	mld_link_info(w->e, link_ifx[li], &info);
	{
		int st = gi.state, ok;

		if (!reportable(&groups[g]) || l->silent)
			ok = st == MLD_SILENT_MEMBER;
		else if (!l->up)
			ok = st == MLD_SLEEPING_MEMBER || st == MLD_AWAKENING_MEMBER ||
			     st == MLD_SILENT_MEMBER;
		else if (info.version == 1)
			ok = st == MLD_REPORTING_MEMBER || st == MLD_IDLE_MEMBER ||
			     st == MLD_LAZY_MEMBER;
		else
			ok = st == MLD_REPORTING_MEMBER || st == MLD_G_QUERY_PENDING_MEMBER ||
			     st == MLD_SG_QUERY_PENDING_MEMBER;
		if (!ok)
			FAIL(w, "%s step %llu: group %s state %s on a link %s%s v%d", w->what,
			     (unsigned long long)w->step, S(&groups[g]), mld_state_name(st),
			     l->up ? "up" : "down", l->silent ? " silent" : "", info.version);
	}
}

static int group_index(const struct in6_addr *g)
{
	int i;

	for (i = 0; i < NG; i++)
		if (!memcmp(g, &groups[i], 16))
			return i;
	return -1;
}

/*
 * What a sent packet says against the model at the time it is sent (the
 * engine decides record contents when it sends them, RFC 3810 §6.1):
 * IS_EX / TO_EX carry exactly the EXCLUDE filter, TO_IN exactly the INCLUDE
 * one, an IS_IN source is one the filter admits (current state, or an
 * answer to a group-and-source query: A∩Q or Q−A), ALLOW names admitted
 * sources and BLOCK refused ones; v1 reports are for held groups and Done
 * for groups nobody holds any more.
 */
static void model_check_pkt(struct fw *w, int li, const struct dpkt *d)
{
	struct lf(*model)[NL] = w->model[li];
	uint16_t r;

	if (d->icmp_type != MLD_ICMP_V2_REPORT) {
		int g = group_index(&d->group), n;

		if (g < 0) {
			FAIL(w, "%s: v1 message for unknown group %s", w->what, S(&d->group));
			return;
		}
		n = members(model[g]);
		if (d->icmp_type == MLD_ICMP_V1_REPORT && !n)
			FAIL(w, "%s step %llu: v1 report for %s that nobody holds", w->what,
			     (unsigned long long)w->step, S(&d->group));
		if (d->icmp_type == MLD_ICMP_V1_DONE && n)
			FAIL(w, "%s step %llu: done for %s still held by %d listeners", w->what,
			     (unsigned long long)w->step, S(&d->group), n);
		return;
	}
	for (r = 0; r < d->nrec; r++) {
		const struct drec *rec = &d->recs[r];
		int g = group_index(&rec->group), bad = 0, ok = 1, unknown = 0;
		uint16_t i;
		struct lf m;
		uint16_t set;

		if (g < 0) {
			FAIL(w, "%s: record for unknown group %s", w->what, S(&rec->group));
			continue;
		}
		m = merge(model[g]);
		set = set_mask(rec->srcs, rec->nsrc, &bad);
		/* A source outside the pool (from a query) is in no filter list. */
		for (i = 0; i < rec->nsrc; i++)
			if (pool_index(&rec->srcs[i]) < 0) {
				unknown++;
				if (bad == 1)
					bad = 0;
			}
		if (bad) {
			FAIL(w,
			     "%s step %llu: record type %u for %s lists a source twice or an "
			     "unknown one",
			     w->what, (unsigned long long)w->step, rec->type, S(&rec->group));
			continue;
		}
		switch (rec->type) {
		case MLD_MODE_IS_EXCLUDE:
		case MLD_CHANGE_TO_EXCLUDE:
			ok = m.mode == M_EX && set == m.srcs && !unknown;
			break;
		case MLD_CHANGE_TO_INCLUDE:
			ok = m.mode == M_IN && set == m.srcs && !unknown;
			break;
		case MLD_MODE_IS_INCLUDE:
		case MLD_ALLOW_NEW_SOURCES:
			/* Admitted: listed under INCLUDE, not listed under EXCLUDE. */
			for (i = 0; i < NS; i++)
				if ((set & (1u << i)) &&
				    ((m.mode == M_IN) != !!(m.srcs & (1u << i))))
					ok = 0;
			if (unknown && m.mode == M_IN)
				ok = 0;
			if (rec->type == MLD_MODE_IS_INCLUDE && !members(model[g]))
				ok = 0;
			break;
		case MLD_BLOCK_OLD_SOURCES:
			for (i = 0; i < NS; i++)
				if ((set & (1u << i)) &&
				    ((m.mode == M_IN) == !!(m.srcs & (1u << i))))
					ok = 0;
			if (unknown && m.mode == M_EX)
				ok = 0;
			break;
		}
		if (!ok)
			FAIL(w,
			     "%s step %llu t=%llu: link %d record type %u %s %s (+%d others), but "
			     "the filter is %s",
			     w->what, (unsigned long long)w->step, (unsigned long long)w->now, li,
			     rec->type, S(&rec->group), mask_str(M_IN, set), unknown,
			     mask_str(m.mode, m.srcs));
	}
}

/* ------------------------------------------------------------------ */
/* Packets                                                            */
/* ------------------------------------------------------------------ */

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

/* Offset of the ICMPv6 header, walking options/routing headers; 0 if
 * the chain does not lead there within the buffer. */
static size_t icmp_off(const uint8_t *p, size_t len)
{
	size_t off = 40;
	uint8_t nh;
	int i;

	if (len < 40)
		return 0;
	nh = p[6];
	for (i = 0; i < 12; i++) {
		if (nh == 58)
			return off;
		if (nh != 0 && nh != 60 && nh != 43)
			return 0;
		if (off + 8 > len)
			return 0;
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	return 0;
}

static void fix_csum(uint8_t *p, size_t len)
{
	size_t o = icmp_off(p, len);
	uint16_t c;

	if (!o || o + 4 > len)
		return;
	p[o + 2] = p[o + 3] = 0;
	c = csum6(p + 8, p + 24, p + o, len - o);
	p[o + 2] = (uint8_t)(c >> 8);
	p[o + 3] = (uint8_t)c;
}

static void fix_plen(uint8_t *p, size_t len)
{
	if (len >= 40 && len - 40 <= 0xffff) {
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
	}
}

/* A hop-by-hop Router Alert MLD packet around an ICMPv6 body. */
static size_t wrap(uint8_t *b, const struct in6_addr *src, const struct in6_addr *dst,
                   const uint8_t *icmp, size_t il)
{
	const uint8_t hbh[8] = {58, 0, 5, 2, 0, 0, 1, 0};

	memset(b, 0, 40);
	b[0] = 0x60;
	b[6] = 0;
	b[7] = 1;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	memcpy(b + 40, hbh, 8);
	memmove(b + 48, icmp, il);
	fix_plen(b, 48 + il);
	fix_csum(b, 48 + il);
	return 48 + il;
}

#define PKT_MAX 8192

static const uint16_t mrcs[] = {0, 1, 100, 1000, 5000, 10000, 0x7fff, 0x8000, 0x8123, 0xffff};

static struct in6_addr rand_src(struct fw *w)
{
	if (chance(w, 80))
		return pool[rnd(w, NS)];
	{
		struct in6_addr a = A("2001:db8:77::");

		a.s6_addr[15] = (uint8_t)rnd(w, 256);
		return a;
	}
}

/*
 * A valid message from the network: v2 general / group / group-and-source
 * query, v1 general / group query, v1 report, v2 report, done. 'gl' is a
 * group list to pick from.
 */
static size_t make_msg(struct fw *w, uint8_t *b, int kind, const struct in6_addr *gl, int ng,
                       int v2_qqic_small)
{
	uint8_t ic[PKT_MAX];
	struct in6_addr g = gl[rnd(w, (uint32_t)ng)], any, dst, src = A("fe80::9");
	static const struct in6_addr all_nodes = {
	    {{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
	size_t il = 0;

	memset(&any, 0, sizeof(any));
	memset(ic, 0, 28);
	switch (kind) {
	case 0: /* v2 general */
	case 1: /* v2 group */
	case 2: /* v2 group and source */ {
		/* Mostly short delays: a long MRC also stretches v1 mode (QRI). */
		uint16_t mrc =
		    mrcs[chance(w, 85) ? rnd(w, 6) : rnd(w, sizeof(mrcs) / sizeof(mrcs[0]))];
		size_t n = 0, i;

		if (kind == 0)
			g = any;
		if (kind == 2) {
			n = 1 + rnd(w, chance(w, 10) ? 300 : 6);
			for (i = 0; i < n; i++) {
				struct in6_addr s = rand_src(w);

				memcpy(ic + 28 + 16 * i, &s, 16);
			}
		}
		ic[0] = MLD_ICMP_QUERY;
		ic[4] = (uint8_t)(mrc >> 8);
		ic[5] = (uint8_t)mrc;
		memcpy(ic + 8, &g, 16);
		ic[24] = (uint8_t)(rnd(w, 2) << 3 | rnd(w, 8));
		ic[25] = (uint8_t)(v2_qqic_small ? 5 + rnd(w, 20) : rnd(w, 256));
		ic[26] = (uint8_t)(n >> 8);
		ic[27] = (uint8_t)n;
		il = 28 + 16 * n;
		dst = kind == 0 ? all_nodes : g;
		break;
	}
	case 3: /* v1 general */
	case 4: /* v1 group */
		if (kind == 3)
			g = any;
		ic[0] = MLD_ICMP_QUERY;
		ic[4] = (uint8_t)rnd(w, 40);
		ic[5] = (uint8_t)rnd(w, 256);
		memcpy(ic + 8, &g, 16);
		il = 24;
		dst = kind == 3 ? all_nodes : g;
		break;
	case 5: /* v1 report from another host */
		ic[0] = MLD_ICMP_V1_REPORT;
		memcpy(ic + 8, &g, 16);
		il = 24;
		dst = g;
		src = A(chance(w, 20) ? "::" : "fe80::77");
		break;
	case 6: /* done */
		ic[0] = MLD_ICMP_V1_DONE;
		memcpy(ic + 8, &g, 16);
		il = 24;
		dst = A("ff02::2");
		src = A("fe80::77");
		break;
	default: { /* v2 report with a few records */
		size_t nr = 1 + rnd(w, 3), r, off = 8;

		ic[0] = MLD_ICMP_V2_REPORT;
		ic[7] = (uint8_t)nr;
		for (r = 0; r < nr; r++) {
			size_t ns = rnd(w, 3), k;

			memset(ic + off, 0, 20);
			ic[off] = (uint8_t)(1 + rnd(w, 6));
			ic[off + 3] = (uint8_t)ns;
			memcpy(ic + off + 4, &gl[rnd(w, (uint32_t)ng)], 16);
			off += 20;
			for (k = 0; k < ns; k++, off += 16) {
				struct in6_addr s = rand_src(w);

				memcpy(ic + off, &s, 16);
			}
		}
		il = off;
		dst = A("ff02::16");
		src = A("fe80::77");
	}
	}
	return wrap(b, &src, &dst, ic, il);
}

/* ------------------------------------------------------------------ */
/* fuzz_packets: mutation                                             */
/* ------------------------------------------------------------------ */

static void interesting_addr(struct fw *w, uint8_t *p, const struct in6_addr *gl, int ng)
{
	const char *lits[] = {"::",          "ff02::1",
	                      "ff02::2",     "ff02::16",
	                      "fe80::9",     "fe80::1",
	                      "2001:db8::1", "ff01::1",
	                      "ff00::",      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	                      "::1",         "fe80::"};
	struct in6_addr a;
	unsigned k = rnd(w, 16);

	if (k < 12)
		a = A(lits[k]);
	else if (k < 15)
		a = gl[rnd(w, (uint32_t)ng)];
	else
		a = pool[rnd(w, NS)];
	memcpy(p, &a, 16);
}

static size_t mutate(struct fw *w, uint8_t *p, size_t len, const struct in6_addr *gl, int ng)
{
	unsigned nmut = 1 + rnd(w, 4), i;
	size_t io = icmp_off(p, len);

	for (i = 0; i < nmut; i++) {
		switch (rnd(w, 11)) {
		case 0:
		case 1:
		case 2: { /* flip a bit, mostly in the ICMPv6 part */
			size_t pos;

			if (!len)
				break;
			pos = (io && io < len && chance(w, 75)) ? io + rnd(w, (uint32_t)(len - io))
			                                        : rnd(w, (uint32_t)len);
			p[pos] ^= (uint8_t)(1u << rnd(w, 8));
			break;
		}
		case 3: { /* set a byte to an edge value */
			const uint8_t v[] = {0,  1,  2,  0x7f, 0x80, 0xff, 58,
			                     60, 43, 44, 0x18, 24,   28};
			size_t pos;

			if (!len)
				break;
			pos = (io && io < len && chance(w, 75)) ? io + rnd(w, (uint32_t)(len - io))
			                                        : rnd(w, (uint32_t)len);
			p[pos] = v[rnd(w, sizeof(v))];
			break;
		}
		case 4: /* truncate */
			if (len)
				len = rnd(w, (uint32_t)len);
			break;
		case 5: { /* extend */
			size_t n = 1 + rnd(w, chance(w, 10) ? 2000 : 40), k;

			if (len + n > PKT_MAX)
				n = PKT_MAX - len;
			for (k = 0; k < n; k++)
				p[len + k] = chance(w, 50) ? 0 : (uint8_t)rnd(w, 256);
			len += n;
			break;
		}
		case 6: /* rewrite an address: src, dst, or the multicast address field */
			if (len >= 40 && chance(w, 50))
				interesting_addr(w, p + (chance(w, 50) ? 8 : 24), gl, ng);
			else if (io && io + 24 <= len)
				interesting_addr(w, p + io + 8, gl, ng);
			break;
		case 7: /* the query's source count */
			if (io && io + 28 <= len) {
				uint16_t v = (uint16_t)(chance(w, 50) ? rnd(w, 8) : rnd(w, 65536));

				p[io + 26] = (uint8_t)(v >> 8);
				p[io + 27] = (uint8_t)v;
			}
			break;
		case 8: /* insert an extension header after the IPv6 header or hop-by-hop */
			if (len >= 48 && len + 8 <= PKT_MAX) {
				size_t at = (p[6] == 0 && chance(w, 70)) ? 48 : 40;
				uint8_t prev_nh = at == 40 ? p[6] : p[40];
				const uint8_t types[] = {60, 60, 43, 44, 0, 17, 59};
				uint8_t t = types[rnd(w, sizeof(types))];

				memmove(p + at + 8, p + at, len - at);
				memset(p + at, 0, 8);
				p[at] = prev_nh;
				if (chance(w, 50)) {
					p[at + 2] = 1; /* PadN */
					p[at + 3] = 4;
				} else {
					p[at + 2] = (uint8_t)rnd(w, 256);
					p[at + 3] = (uint8_t)rnd(w, 8);
				}
				if (at == 40)
					p[6] = t;
				else
					p[40] = t;
				len += 8;
			}
			break;
		case 9: /* hop limit / version / next header */
			if (len >= 40) {
				unsigned k = rnd(w, 3);

				if (k == 0)
					p[7] = (uint8_t)rnd(w, 3) * 127;
				else if (k == 1)
					p[0] = (uint8_t)(rnd(w, 16) << 4);
				else
					p[6] = (uint8_t)(chance(w, 50) ? 58 : rnd(w, 256));
			}
			break;
		default: /* ICMPv6 type */
			if (io && io < len) {
				const uint8_t t[] = {130, 131, 132, 143, 128, 129, 1, 135};

				p[io] = t[rnd(w, sizeof(t))];
			}
			break;
		}
	}
	/* Mostly keep the outer layers honest so the mutation reaches MLD. */
	if (chance(w, 75))
		fix_plen(p, len);
	if (chance(w, 75))
		fix_csum(p, len);
	return len;
}

/* Parses just enough for an mld_input_icmp meta (the XDP path). */
static int meta_of(struct fw *w, const uint8_t *p, size_t len, struct mld_rx_meta *m, size_t *io)
{
	size_t o = icmp_off(p, len);

	if (!o || o > len)
		return -1;
	memset(m, 0, sizeof(*m));
	memcpy(&m->src, p + 8, 16);
	memcpy(&m->dst, p + 24, 16);
	m->hop_limit = p[7];
	m->router_alert = (uint8_t)(chance(w, 90) ? 1 : 0);
	m->csum_verified = (uint8_t)(chance(w, 60) ? 1 : 0);
	*io = o;
	return 0;
}

struct fuzz_cfg {
	uint32_t mtu;
	uint32_t force_version;
	uint32_t rv;
	uint32_t gsr_delay_ms;
	uint32_t max_srcs_per_group;
	enum mld_ll_state ll;
};

/* Fixed memberships of the packet fuzz; their merge never changes. */
static void packet_world(struct fw *w, const struct fuzz_cfg *c, struct lf (*model)[NL])
{
	int g, i;

	struct in6_addr ll = A("fe80::1");

	fw_link_add(w, 0, c->mtu, 0);
	if (c->ll != MLD_LL_NONE)
		fw_set_ll(w, 0, c->ll, &ll);
	memset(model, 0, sizeof(struct lf) * NG * NL);
	for (g = 0; g < NG; g++) {
		for (i = 0; i < NL; i++) {
			unsigned k = (unsigned)(g * 7 + i * 3) % 9;
			struct in6_addr v[NS];
			size_t n = 0;
			uint16_t m = (uint16_t)((g * 37 + i * 101) & ((1u << NS) - 1));
			int j, rc;

			if (k >= 4 || g >= 40)
				continue;
			for (j = 0; j < NS; j++)
				if (m & (1u << j))
					v[n++] = pool[j];
			if (k == 0) {
				rc = mld_join(w->e, IF1, lnames[i], &groups[g], w->now);
				model[g][i] = (struct lf){M_EX, 0};
			} else if (k == 1 && n) {
				rc = mld_set_filter(w->e, IF1, lnames[i], &groups[g],
				                    MLD_FMODE_INCLUDE, v, n, w->now);
				model[g][i] = (struct lf){M_IN, m};
			} else {
				rc = mld_set_filter(w->e, IF1, lnames[i], &groups[g],
				                    MLD_FMODE_EXCLUDE, v, n, w->now);
				model[g][i] = (struct lf){M_EX, m};
			}
			if (rc == MLD_E_LIMIT_SRCS_GROUP) {
				/* Merge too big for a low limit: not a member then. */
				model[g][i] = (struct lf){M_NONE, 0};
				continue;
			}
			if (rc != MLD_OK)
				FAIL(w, "packet world setup: %s", mld_strerror(rc));
		}
	}
	/* A few more to fill the link-scope and unreportable slots. */
	for (g = 42; g < NG; g++) {
		if (mld_join(w->e, IF1, lnames[0], &groups[g], w->now) == MLD_OK)
			model[g][0] = (struct lf){M_EX, 0};
	}
}

static void check_all(struct fw *w, int li, struct lf (*model)[NL])
{
	int g;

	for (g = 0; g < NG && w->failed < 5; g++)
		check_group(w, li, g, model[g]);
}

/* Everyone leaves; after a while nothing is left on the link. */
static void leave_all(struct fw *w, int li, struct lf (*model)[NL])
{
	struct mld_link_info info;
	int g, i;

	for (g = 0; g < NG; g++)
		for (i = 0; i < NL; i++) {
			int rc;

			if (model[g][i].mode == M_NONE)
				continue;
			rc = mld_leave(w->e, link_ifx[li], lnames[i], &groups[g], w->now);
			if (rc != MLD_OK)
				FAIL(w, "%s: final leave of %s by %s: %s", w->what, S(&groups[g]),
				     lnames[i], mld_strerror(rc));
			model[g][i] = (struct lf){M_NONE, 0};
			check_group(w, li, g, model[g]);
		}
	fw_run_until(w, w->now + 60000);
	check_all(w, li, model);
	if (mld_link_info(w->e, link_ifx[li], &info) == MLD_OK && info.groups)
		FAIL(w, "%s: %u groups remain on link %u after every listener left", w->what,
		     info.groups, link_ifx[li]);
}

static void stats_delta(struct fw *w, const struct mld_stats *a, const struct mld_stats *b, int rc,
                        const char *dump0)
{
	int r, moved = 0;
	struct mld_stats x = *a;

	for (r = 0; r < MLD_DROP_COUNT; r++) {
		if (b->rx_drop[r] == a->rx_drop[r])
			continue;
		moved++;
		if (b->rx_drop[r] != a->rx_drop[r] + 1)
			FAIL(w, "%s step %llu: drop counter %s moved by %llu", w->what,
			     (unsigned long long)w->step, mld_drop_name(r),
			     (unsigned long long)(b->rx_drop[r] - a->rx_drop[r]));
	}
	if (rc < 0 && moved != 1)
		FAIL(w, "%s step %llu: dropped (rc %d) but %d drop counters moved", w->what,
		     (unsigned long long)w->step, rc, moved);
	if (rc >= 0 && moved)
		FAIL(w, "%s step %llu: accepted but a drop counter moved", w->what,
		     (unsigned long long)w->step);
	if (b->rx_packets != a->rx_packets + 1)
		FAIL(w, "%s step %llu: rx_packets moved by %lld", w->what,
		     (unsigned long long)w->step, (long long)(b->rx_packets - a->rx_packets));
	if (rc < 0) {
		memcpy(x.rx_drop, b->rx_drop, sizeof(x.rx_drop));
		x.rx_packets = b->rx_packets;
		if (memcmp(&x, b, sizeof(x)))
			FAIL(w, "%s step %llu: dropped but other counters moved", w->what,
			     (unsigned long long)w->step);
	}
	if (rc < 0 && dump0) {
		char *d1 = fw_dump(w);

		if (strcmp(dump0, d1))
			FAIL(w, "%s step %llu: dropped (%s) but the state changed", w->what,
			     (unsigned long long)w->step, mld_drop_name(-rc - 1));
		free(d1);
	}
}

static void packet_fuzz(uint64_t seed, const struct fuzz_cfg *c, unsigned iters)
{
	static struct lf model[NG][NL];
	static uint8_t buf[PKT_MAX + 64];
	struct mld_tunables t;
	struct fw w;
	unsigned it;
	uint64_t accepted = 0, dropped = 0;

	mld_tunables_default(&t);
	t.force_version = c->force_version;
	t.rv = c->rv;
	t.gsr_delay_ms = c->gsr_delay_ms;
	t.max_srcs_per_group = c->max_srcs_per_group;
	fw_init(&w, seed, &t, "fuzz_packets");
	packet_world(&w, c, model);
	w.check_pkt = model_check_pkt;
	w.model[0] = model;
	fw_run_until(&w, w.now + 5000);
	check_all(&w, 0, model);
	for (it = 0; it < iters && !w.failed; it++) {
		struct mld_stats s0, s1;
		struct mld_rx_meta m;
		size_t len, io;
		char *d0;
		int rc;

		w.step = it;
		{
			/* v1 queries rarer: each holds the link in v1 mode for RV·QI+QRI. */
			const int kinds[] = {0, 0, 1, 1, 2, 2, 2, 5, 6, 7, 7};
			int kind = chance(&w, 5) ? 3 + (int)rnd(&w, 2)
			                         : kinds[rnd(&w, sizeof(kinds) / sizeof(kinds[0]))];

			len = make_msg(&w, buf, kind, groups, NG, chance(&w, 80));
		}
		if (chance(&w, 85))
			len = mutate(&w, buf, len, groups, NG);
		mld_stats_get(w.e, &s0);
		/* The dump is the costly part: compare it on every fourth input. */
		d0 = it % 4 == 0 ? fw_dump(&w) : NULL;
		if (chance(&w, 20) && meta_of(&w, buf, len, &m, &io) == 0)
			rc = mld_input_icmp(w.e, IF1, &m, buf + io, len - io, w.now);
		else
			rc = mld_input_packet(w.e, IF1, buf, len, w.now);
		mld_stats_get(w.e, &s1);
		stats_delta(&w, &s0, &s1, rc, d0);
		free(d0);
		if (rc < 0)
			dropped++;
		else
			accepted++;
		if (mld_next_deadline(w.e) < w.now)
			FAIL(&w, "step %u: deadline in the past after input", it);
		fw_run_until(&w, w.now + rnd(&w, chance(&w, 5) ? 20000 : 300));
		if (it % 64 == 0)
			check_all(&w, 0, model);
	}
	check_all(&w, 0, model);
	/* A low per-group limit can refuse a leave (input_limit_never_blocks_leave
	 * covers that); this test is about packets, so lift it first. */
	t.max_srcs_per_group = 65535;
	if (mld_link_set_tunables(w.e, IF1, &t) != MLD_OK)
		FAIL(&w, "set_tunables failed");
	leave_all(&w, 0, model);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
		        "  fuzz_packets seed %llu: %u inputs, %llu accepted, %llu dropped, %llu "
		        "packets out (%llu v1, %llu v2, %llu records)\n",
		        (unsigned long long)seed, it, (unsigned long long)accepted,
		        (unsigned long long)dropped, (unsigned long long)w.tx_pkts,
		        (unsigned long long)w.tx_v1, (unsigned long long)w.tx_v2,
		        (unsigned long long)w.tx_recs);
	/* Some of each, or the mutator is off. */
	if (!w.failed) {
		CHECK(accepted > iters / 20);
		CHECK(dropped > iters / 20);
	}
	fw_free(&w);
}

/* FUZZ_SCALE=n runs n times the work with other seeds (longer local runs);
 * the suite always runs scale 1. */
static unsigned fuzz_scale(void)
{
	const char *v = getenv("FUZZ_SCALE");
	int n = v ? atoi(v) : 1;

	return n > 0 ? (unsigned)n : 1;
}

TEST(fuzz_packets_default)
{
	struct fuzz_cfg c = {1500, 0, 2, 10000, 512, MLD_LL_VALID};

	unsigned k;

	init_addrs();
	for (k = 0; k < fuzz_scale(); k++)
		packet_fuzz(1 + 1000 * k, &c, 3000);
}

TEST(fuzz_packets_variants)
{
	const struct fuzz_cfg cs[] = {
	    {1280, 0, 1, 0, 512, MLD_LL_NONE},
	    {9000, 1, 7, 10000, 512, MLD_LL_VALID},
	    {1500, 2, 2, 0, 3, MLD_LL_TENTATIVE},
	    {1280, 0, 3, 59000, 40, MLD_LL_VALID},
	};
	size_t i;
	unsigned k;

	init_addrs();
	for (k = 0; k < fuzz_scale(); k++)
		for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
			packet_fuzz(100 + i + 1000 * k, &cs[i], 1200);
}

/* ------------------------------------------------------------------ */
/* fuzz_ops: operation sequences against the model                    */
/* ------------------------------------------------------------------ */

enum { OP_JOIN, OP_LEAVE, OP_JSRC, OP_LSRC, OP_BLOCK, OP_UNBLOCK, OP_SET, OP_N };
static const char *const op_names[OP_N] = {"join",  "leave",   "join_source", "leave_source",
                                           "block", "unblock", "set_filter"};

/* RFC 3678 semantics: the listener's next filter, or the error. */
static int model_op(const struct lf *cur, int op, int s, uint8_t smode, uint16_t smask,
                    struct lf *next)
{
	uint16_t bit = (uint16_t)(1u << s);

	*next = *cur;
	switch (op) {
	case OP_JOIN:
		if (cur->mode != M_NONE)
			return cur->mode == M_EX ? MLD_E_EXIST : MLD_E_MODE;
		*next = (struct lf){M_EX, 0};
		return MLD_OK;
	case OP_LEAVE:
		if (cur->mode == M_NONE)
			return MLD_E_NOENT;
		*next = (struct lf){M_NONE, 0};
		return MLD_OK;
	case OP_JSRC:
		if (cur->mode == M_EX)
			return MLD_E_MODE;
		if (cur->srcs & bit)
			return MLD_E_EXIST;
		*next = (struct lf){M_IN, (uint16_t)(cur->srcs | bit)};
		return MLD_OK;
	case OP_LSRC:
		if (cur->mode == M_NONE)
			return MLD_E_NOENT;
		if (cur->mode != M_IN)
			return MLD_E_MODE;
		if (!(cur->srcs & bit))
			return MLD_E_NOENT;
		next->srcs = (uint16_t)(cur->srcs & ~bit);
		if (!next->srcs)
			next->mode = M_NONE;
		return MLD_OK;
	case OP_BLOCK:
	case OP_UNBLOCK:
		if (cur->mode == M_NONE)
			return MLD_E_NOENT;
		if (cur->mode != M_EX)
			return MLD_E_MODE;
		if (op == OP_BLOCK) {
			if (cur->srcs & bit)
				return MLD_E_EXIST;
			next->srcs = (uint16_t)(cur->srcs | bit);
		} else {
			if (!(cur->srcs & bit))
				return MLD_E_NOENT;
			next->srcs = (uint16_t)(cur->srcs & ~bit);
		}
		return MLD_OK;
	default:
		if (smode == M_IN && !smask) {
			if (cur->mode == M_NONE)
				return MLD_E_NOENT;
			*next = (struct lf){M_NONE, 0};
			return MLD_OK;
		}
		*next = (struct lf){smode, smask};
		return MLD_OK;
	}
}

static struct in6_addr empty_list[1];

static int do_listener_op(struct fw *w, uint32_t ifx, const char *name, const struct in6_addr *g,
                          int op, const struct in6_addr *src, uint8_t smode,
                          const struct in6_addr *v, size_t n)
{
	switch (op) {
	case OP_JOIN:
		return mld_join(w->e, ifx, name, g, w->now);
	case OP_LEAVE:
		return mld_leave(w->e, ifx, name, g, w->now);
	case OP_JSRC:
		return mld_join_source(w->e, ifx, name, g, src, w->now);
	case OP_LSRC:
		return mld_leave_source(w->e, ifx, name, g, src, w->now);
	case OP_BLOCK:
		return mld_block_source(w->e, ifx, name, g, src, w->now);
	case OP_UNBLOCK:
		return mld_unblock_source(w->e, ifx, name, g, src, w->now);
	default:
		/* Never NULL for an empty list: see input_set_filter_empty_null_list. */
		return mld_set_filter(w->e, ifx, name, g, (enum mld_fmode)smode, n ? v : empty_list,
		                      n, w->now);
	}
}

struct opw {
	struct fw w;
	struct lf model[NLINK][NG][NL];
	struct mld_tunables tun[NLINK];
	uint64_t ops_ok, ops_err, queries;
};

static void ops_link_reset(struct opw *o, int li)
{
	struct fw *w = &o->w;
	struct in6_addr ll = A(li ? "fe80::2" : "fe80::1");

	if (fw_link_add(w, li, 1500, 0) != MLD_OK)
		FAIL(w, "link add failed");
	if (mld_link_set_tunables(w->e, link_ifx[li], &o->tun[li]) != MLD_OK)
		FAIL(w, "link tunables failed");
	fw_set_ll(w, li, MLD_LL_VALID, &ll);
	memset(o->model[li], 0, sizeof(o->model[li]));
}

static void ops_listener_step(struct opw *o, int li)
{
	struct fw *w = &o->w;
	int g = chance(w, 70) ? (int)rnd(w, 10) : (int)rnd(w, NG);
	int i = (int)rnd(w, NL), op = (int)rnd(w, OP_N), s = (int)rnd(w, NS), rc, want;
	uint8_t smode = (uint8_t)(chance(w, 50) ? M_IN : M_EX);
	uint16_t smask = 0;
	struct in6_addr v[3 * NS];
	size_t n = 0;
	struct lf next, *cur = &o->model[li][g][i];
	const char *name = lnames[i];
	const struct in6_addr *gp = &groups[g], *sp = &pool[s];
	uint32_t ifx = link_ifx[li];
	struct in6_addr badg = A("2001:db8::1"), bads = A("ff3e::5");

	if (op == OP_SET) {
		unsigned k = chance(w, 10) ? rnd(w, NS + 1) : rnd(w, 5), j;

		for (j = 0; j < k; j++) {
			int x = (int)rnd(w, NS);

			smask |= (uint16_t)(1u << x);
			v[n++] = pool[x];
			if (chance(w, 15))
				v[n++] = pool[x]; /* duplicates are allowed */
		}
	}
	want = model_op(cur, op, s, smode, smask, &next);
	if (want == MLD_OK && next.mode != M_NONE) {
		struct mld_link_info info;
		struct mld_group_info gi;

		mld_link_info(w->e, ifx, &info);
		if (popcount16(next.srcs) > (int)o->tun[li].max_srcs_per_listener)
			want = MLD_E_LIMIT_SRCS_LISTENER;
		else if (mld_group_info(w->e, ifx, gp, &gi) == MLD_E_NOENT &&
		         info.groups >= o->tun[li].max_groups)
			want = MLD_E_LIMIT_GROUPS;
	}
	if (chance(w, 4)) {
		/* The same operation with one bad argument: nothing changes. */
		switch (rnd(w, 4)) {
		case 0:
			name = chance(w, 50) ? "bad name" : "";
			want = MLD_E_NAME;
			break;
		case 1:
			gp = &badg;
			want = MLD_E_NOTMCAST;
			break;
		case 2:
			ifx = 77;
			want = MLD_E_NOLINK;
			break;
		default:
			if (op == OP_LEAVE || op == OP_JOIN)
				return;
			if (op == OP_SET)
				v[n++] = bads;
			sp = &bads;
			want = MLD_E_INVAL;
		}
	}
	rc = do_listener_op(w, ifx, name, gp, op, sp, smode, v, n);
	if (rc != want)
		FAIL(w,
		     "%s step %llu: link %d %s %s by %s (src %d, %s) returned %s, model says %s "
		     "(listener was %s)",
		     w->what, (unsigned long long)w->step, li, op_names[op], S(gp), name, s,
		     mask_str(smode, smask), mld_strerror(rc), mld_strerror(want),
		     mask_str(cur->mode, cur->srcs));
	if (rc == MLD_OK && want == MLD_OK)
		*cur = next;
	if (rc == MLD_OK)
		o->ops_ok++;
	else
		o->ops_err++;
}

static void ops_step(struct opw *o)
{
	struct fw *w = &o->w;
	int li = (int)rnd(w, NLINK);
	uint32_t ifx = link_ifx[li];
	unsigned r = rnd(w, 100);
	static uint8_t buf[PKT_MAX];

	if (r < 62) {
		ops_listener_step(o, li);
	} else if (r < 74) {
		/* A query or report from the network. */
		const int kinds[] = {0, 0, 1, 1, 2, 2, 2, 3, 4, 5, 5, 6, 7};
		size_t len = make_msg(w, buf, kinds[rnd(w, sizeof(kinds) / sizeof(kinds[0]))],
		                      groups, 12, 1);

		mld_input_packet(w->e, ifx, buf, len, w->now);
		o->queries++;
	} else if (r < 79) {
		int up = !w->lk[li].up;

		if (mld_link_set_up(w->e, ifx, up, w->now) == MLD_OK)
			w->lk[li].up = up;
		else
			FAIL(w, "set_up failed");
	} else if (r < 83) {
		static const char *const lls[] = {"fe80::1", "fe80::2", "fe80::abcd", "fe80::1:2"};
		struct in6_addr a = A(lls[rnd(w, 4)]);
		enum mld_ll_state st = (enum mld_ll_state)rnd(w, 3);

		if (fw_set_ll(w, li, st, st == MLD_LL_NONE ? NULL : &a) != MLD_OK)
			FAIL(w, "set_lladdr failed");
	} else if (r < 85) {
		int sl = !w->lk[li].silent;

		if (mld_link_set_silent(w->e, ifx, sl, w->now) == MLD_OK)
			w->lk[li].silent = sl;
		else
			FAIL(w, "set_silent failed");
	} else if (r < 87) {
		/* Even sizes only: see fuzz_odd_mtu_alignment for odd ones. */
		const uint32_t mtus[] = {1280, 1500, 9000, 65534};
		uint32_t mtu = mtus[rnd(w, 4)];

		if (mld_link_set_mtu(w->e, ifx, mtu) == MLD_OK)
			w->lk[li].mtu = mtu;
		else
			FAIL(w, "set_mtu failed");
	} else if (r < 89) {
		o->tun[li].force_version = rnd(w, 3);
		if (mld_link_set_tunables(w->e, ifx, &o->tun[li]) != MLD_OK)
			FAIL(w, "set_tunables failed");
	} else if (r < 90 && chance(w, 25)) {
		/* The link goes away with all its memberships and comes back. */
		if (mld_link_remove(w->e, ifx) != MLD_OK)
			FAIL(w, "link_remove failed");
		w->lk[li].present = 0;
		ops_link_reset(o, li);
	}
}

static void ops_fuzz(uint64_t seed, unsigned steps)
{
	static struct opw o;
	struct fw *w = &o.w;
	unsigned st;
	int li, g;

	memset(&o, 0, sizeof(o));
	init_addrs();
	fw_init(w, seed, NULL, "fuzz_ops");
	mld_tunables_default(&o.tun[0]);
	mld_tunables_default(&o.tun[1]);
	/* The second link with low limits: 30 groups, 6 sources a listener. */
	o.tun[1].max_groups = 30;
	o.tun[1].max_srcs_per_listener = 6;
	ops_link_reset(&o, 0);
	ops_link_reset(&o, 1);
	w->check_pkt = model_check_pkt;
	w->model[0] = o.model[0];
	w->model[1] = o.model[1];
	for (st = 0; st < steps && !w->failed; st++) {
		unsigned r;

		w->step = st;
		ops_step(&o);
		for (li = 0; li < NLINK; li++)
			for (g = 0; g < NG && !w->failed; g++)
				check_group(w, li, g, o.model[li][g]);
		r = rnd(w, 100);
		fw_run_until(w, w->now + (r < 75   ? rnd(w, 100)
		                          : r < 98 ? 100 + rnd(w, 600)
		                                   : 1000 + rnd(w, 5000)));
		for (li = 0; li < NLINK; li++)
			for (g = 0; g < NG && !w->failed; g++)
				check_group(w, li, g, o.model[li][g]);
	}
	/* Links up and talking, then everyone leaves. */
	for (li = 0; li < NLINK; li++) {
		if (!w->lk[li].up && mld_link_set_up(w->e, link_ifx[li], 1, w->now) == MLD_OK)
			w->lk[li].up = 1;
		if (w->lk[li].silent &&
		    mld_link_set_silent(w->e, link_ifx[li], 0, w->now) == MLD_OK)
			w->lk[li].silent = 0;
	}
	for (li = 0; li < NLINK; li++)
		leave_all(w, li, o.model[li]);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(
		    stderr,
		    "  fuzz_ops seed %llu: %u steps, %llu virtual s, %llu ops ok, %llu refused, "
		    "%llu network messages, %llu packets out (%llu v1, %llu v2, %llu records)\n",
		    (unsigned long long)seed, st, (unsigned long long)(w->now / 1000),
		    (unsigned long long)o.ops_ok, (unsigned long long)o.ops_err,
		    (unsigned long long)o.queries, (unsigned long long)w->tx_pkts,
		    (unsigned long long)w->tx_v1, (unsigned long long)w->tx_v2,
		    (unsigned long long)w->tx_recs);
	if (!w->failed) {
		CHECK(o.ops_ok > steps / 5);
		CHECK(w->tx_pkts > 0);
	}
	fw_free(w);
}

TEST(fuzz_ops_seed1)
{
	unsigned k;

	for (k = 0; k < fuzz_scale(); k++)
		ops_fuzz(1 + 1000 * k, 1500);
}

TEST(fuzz_ops_seed2)
{
	unsigned k;

	for (k = 0; k < fuzz_scale(); k++)
		ops_fuzz(2 + 1000 * k, 1500);
}

TEST(fuzz_ops_seed3)
{
	unsigned k;

	for (k = 0; k < fuzz_scale(); k++)
		ops_fuzz(3 + 1000 * k, 1500);
}

/*
 * Found by fuzz_ops: any odd MTU (1281 .. 65535 are all accepted) puts the
 * state-change report buffer at an odd address (link_timeout: scbuf =
 * e->pktbuf + e->pktcap / 2, with pktcap = 2 * MTU), and put_record
 * (mld_packet.c) writes a struct mld_v2_record_hdr with a 16-bit member
 * through it: undefined behaviour (UBSan aborts; strict-alignment CPUs
 * trap). Run in a child so the abort does not take the suite down.
 */
TEST(fuzz_odd_mtu_alignment)
{
	const uint32_t mtus[] = {1281, 1501, 65535};
	size_t i;

	init_addrs();
	for (i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		pid_t pid;
		int st = 0;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct fw w;
			struct in6_addr ll = A("fe80::1");
			int g;

			fw_init(&w, 7, NULL, "odd mtu");
			fw_link_add(&w, 0, mtus[i], 0);
			fw_set_ll(&w, 0, MLD_LL_VALID, &ll);
			for (g = 0; g < 5; g++)
				mld_join(w.e, IF1, "app", &groups[g], w.now);
			fw_run_until(&w, w.now + 5000);
			_exit(w.failed || w.tx_pkts == 0 ? 3 : 0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			t_fail(__FILE__, __LINE__, "fork/wait failed");
			continue;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			t_fail(
			    __FILE__, __LINE__,
			    "MTU %u: joins on the link %s (status 0x%x): misaligned record header "
			    "in the state-change buffer (mld_engine.c link_timeout scbuf, "
			    "mld_packet.c put_record)",
			    mtus[i], WIFEXITED(st) && WEXITSTATUS(st) == 3 ? "failed" : "crashed",
			    st);
	}
}

/*
 * Found by fuzz_ops: a v1 report heard while the link is down turns an
 * AWAKENING group LAZY (mld_input_icmp, v1 report switch), which forgets
 * that the link is down; the next v1 query then makes it REPORTING with a
 * running timer (v1_update_group guards only AWAKENING), and the report goes
 * out on the down link. Nothing may be sent while the link is down.
 */
TEST(fuzz_v1_report_while_link_down)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	struct mld_group_info gi;
	uint8_t p[256];
	size_t n;

	CHECK_EQ(mld_join(s->e, IF1, "a", &g, s->now), MLD_OK);
	sim_advance(s, 5000);
	n = craft_v1_query(p, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, p, n), MLD_OK); /* v1 mode */
	sim_advance(s, 2000);
	sim_take(s);
	CHECK_EQ(mld_link_set_up(s->e, IF1, 0, s->now), MLD_OK);
	n = craft_v1_query(p, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, p, n), MLD_OK);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_OK);
	CHECK_EQ(gi.state, MLD_AWAKENING_MEMBER);
	n = craft_v1_report(p, "ff3e::1", "fe80::77");
	CHECK_EQ(sim_rx(s, p, n), MLD_OK);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_OK);
	CHECK(gi.state == MLD_AWAKENING_MEMBER || gi.state == MLD_SLEEPING_MEMBER);
	n = craft_v1_query(p, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, p, n), MLD_OK);
	CHECK_EQ(mld_group_info(s->e, IF1, &g, &gi), MLD_OK);
	CHECK(gi.state == MLD_AWAKENING_MEMBER || gi.state == MLD_SLEEPING_MEMBER);
	sim_advance(s, 5000);
	CHECK_EQ(sim_pending(s), 0); /* nothing on the down link */
	/* Up again: the membership is announced. */
	CHECK_EQ(mld_link_set_up(s->e, IF1, 1, s->now), MLD_OK);
	sim_advance(s, 1);
	CHECK(sim_pending(s) >= 1);
	sim_free(s);
}

/*
 * Found by fuzz_ops: with force_version 1 the Older Version Querier Present
 * timer is neither run nor re-armed (link_timeout, mld_next_deadline skip
 * it), so it keeps a time that passes. Back to force_version 0
 * (mld_link_set_tunables), mld_next_deadline returns that stale time, in the
 * past: a caller computing deadline - now in unsigned arithmetic would sleep
 * for ~584 million years. A deadline is never earlier than now.
 */
TEST(fuzz_force_version_stale_v1_timer)
{
	struct sim *s = sim_new(NULL);
	struct in6_addr g = A("ff3e::1");
	struct mld_tunables t;
	struct mld_link_info li;
	uint8_t p[256];
	size_t n;

	CHECK_EQ(mld_join(s->e, IF1, "a", &g, s->now), MLD_OK);
	sim_advance(s, 5000);
	n = craft_v1_query(p, NULL, 1000, NULL);
	CHECK_EQ(sim_rx(s, p, n), MLD_OK);
	mld_tunables_default(&t);
	t.force_version = 1;
	CHECK_EQ(mld_link_set_tunables(s->e, IF1, &t), MLD_OK);
	sim_advance(s, 300000); /* past the 260 s timer */
	t.force_version = 0;
	CHECK_EQ(mld_link_set_tunables(s->e, IF1, &t), MLD_OK);
	if (mld_next_deadline(s->e) < s->now)
		t_fail(__FILE__, __LINE__, "deadline %llu is %llu ms in the past",
		       (unsigned long long)mld_next_deadline(s->e),
		       (unsigned long long)(s->now - mld_next_deadline(s->e)));
	mld_link_info(s->e, IF1, &li);
	if (li.version == 1 && li.v1_present_until && li.v1_present_until < s->now)
		t_fail(__FILE__, __LINE__, "v1 mode with a querier-present timer %llu ms expired",
		       (unsigned long long)(s->now - li.v1_present_until));
	sim_free(s);
}
