/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MLD host state machine (RFC 3810 / RFC 9777 with RFC 2710 fallback).
 *
 * Shape from FreeBSD's mld6.c (the seed): per-group states and two per-group
 * timers (query response, state-change retransmission), per-link general
 * query and Older-Version-Querier-Present timers. Differences, each for a
 * reason written where it happens:
 *   - times are absolute milliseconds, no 200 ms tick; deadlines live in a
 *     heap (mld_table.c), so a million groups cost nothing while idle;
 *   - state-change retransmission state is kept per source and for the
 *     filter mode (RFC 3810 §6.1), which is what the seed's queue merging
 *     (mld_v2_merge_state_changes) approximates with packet copies;
 *   - the errata of shared/seed/ERRATA.md are applied; "errata N" marks them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mld_internal.h"
#include "mld_srcset.h"
#include "mld_wire.h"

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const struct in6_addr all_routers = {
    {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}}};

#define LISTENER_NAME_MAX 64

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

/* Uniform in [lo, hi] from the injected generator. */
static uint64_t rand_between(struct mld_engine *e, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1, r;

	if (hi <= lo)
		return lo;
	r = ((uint64_t)e->rnd(e->rnd_ctx) << 32) | e->rnd(e->rnd_ctx);
	return lo + r % span;
}

static int is_mcast(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

static int is_unspec(const struct in6_addr *a)
{
	static const struct in6_addr any;

	return memcmp(a, &any, 16) == 0;
}

static int is_linklocal(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

/* Errata 22: scope 0 (reserved) and 1 (interface-local) never go on the
 * wire, nor does ff02::1 which every node holds (RFC 3810 §6). */
static int group_reportable(const struct in6_addr *g)
{
	uint8_t scope = mld_mcast_scope(g->s6_addr);

	if (scope == 0 || scope == 1)
		return 0;
	return memcmp(g, &all_nodes, 16) != 0;
}

static struct link *find_link(const struct mld_engine *e, uint32_t ifindex)
{
	struct link *l;

	for (l = e->links; l; l = l->next)
		if (l->ifindex == ifindex)
			return l;
	return NULL;
}

/* Robustness in force: the querier's QRV when one was heard (RFC 3810 §9.1). */
static uint32_t link_rv(const struct link *l)
{
	return l->l_rv ? l->l_rv : l->tun.rv;
}

static const struct in6_addr *link_src(const struct link *l)
{
	static const struct in6_addr any;

	/* RFC 3590: the link-local address once it is valid, :: before. */
	return l->ll_state == MLD_LL_VALID ? &l->lladdr : &any;
}

/* A group whose state may put packets on the wire. */
static int link_can_report(const struct link *l)
{
	return l->up && !(l->flags & MLD_LINK_SILENT);
}

static int ensure_tmp(struct mld_engine *e, size_t n)
{
	int i;

	if (n <= e->tmpcap)
		return 0;
	for (i = 0; i < 3; i++) {
		struct in6_addr *p = realloc(e->tmp[i], n * sizeof(*p));

		if (!p)
			return -1;
		e->tmp[i] = p;
	}
	e->tmpcap = n;
	return 0;
}

static int dup_set(struct in6_addr **dst, const struct in6_addr *src, size_t n)
{
	struct in6_addr *p = NULL;

	if (n) {
		p = malloc(n * sizeof(*p));
		if (!p)
			return -1;
		memcpy(p, src, n * sizeof(*p));
	}
	free(*dst);
	*dst = p;
	return 0;
}

static void gq_forget(struct link *l, struct group *g)
{
	if (g->flags & G_GQ) {
		g->flags &= (uint8_t)~G_GQ;
		l->gq_left--;
	}
}

static uint64_t record_bytes(const struct group *g)
{
	return mld_record_size(g->nsrc);
}

/* Whether the group is part of a current-state (general query) response. */
static int cs_reportable(const struct link *l, const struct group *g)
{
	(void)l;
	switch (g->state) {
	case MLD_REPORTING_MEMBER:
	case MLD_G_QUERY_PENDING_MEMBER:
	case MLD_SG_QUERY_PENDING_MEMBER:
		return 1;
	default:
		return 0;
	}
}

static void release_members(struct mld_engine *e, struct group *g);

static void group_delete(struct mld_engine *e, struct link *l, struct group *g)
{
	release_members(e, g);
	if (g->state == MLD_LEAVING_MEMBER)
		l->leaving--;
	gq_forget(l, g);
	if (cs_reportable(l, g))
		l->cs_bytes -= record_bytes(g);
	tbl_delete(e, l, g);
}

/* State changes go through here so that the current-state byte total used
 * to pace general-query responses stays exact. */
static void set_state(struct link *l, struct group *g, int st)
{
	int was = cs_reportable(l, g);

	/* Groups only sending their leave do not count against max-groups. */
	if (g->state == MLD_LEAVING_MEMBER && st != MLD_LEAVING_MEMBER)
		l->leaving--;
	else if (g->state != MLD_LEAVING_MEMBER && st == MLD_LEAVING_MEMBER)
		l->leaving++;
	g->state = (uint8_t)st;
	if (was && !cs_reportable(l, g))
		l->cs_bytes -= record_bytes(g);
	else if (!was && cs_reportable(l, g))
		l->cs_bytes += record_bytes(g);
	if (!cs_reportable(l, g))
		gq_forget(l, g);
}

static void clear_sc(struct group *g)
{
	g->sc_due = 0;
	g->sc_mode_pending = 0;
	g->npend = 0;
}

static void clear_recorded(struct group *g)
{
	g->nrec = 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

static void tx_raw(struct mld_engine *e, struct link *l, const uint8_t *pkt, size_t len)
{
	e->st.tx_bytes += len;
	e->tx(e->tx_ctx, l->ifindex, pkt, len);
}

static void emit_report(void *ctx, const uint8_t *pkt, size_t len, uint16_t nrec)
{
	struct mld_engine *e = ctx;

	e->st.tx_v2_reports++;
	e->st.tx_v2_records += nrec;
	tx_raw(e, e->emit_link, pkt, len);
}

static void rb_start(struct mld_engine *e, struct link *l, struct mld_report_builder *rb,
                     uint8_t *buf)
{
	e->emit_link = l;
	rb_init(rb, buf, l->mtu, link_src(l), emit_report, e);
}

static void send_v1(struct mld_engine *e, struct link *l, struct group *g, uint8_t type)
{
	uint8_t pkt[MLD_V1_PKT_LEN];
	/* Errata 12: Done goes to all-routers (RFC 2710 §4), reports to the group. */
	const struct in6_addr *dst = type == MLD_ICMP_V1_DONE ? &all_routers : &g->addr;
	size_t n = mld_build_v1(pkt, type, link_src(l), dst, &g->addr);

	if (type == MLD_ICMP_V1_DONE)
		e->st.tx_v1_done++;
	else
		e->st.tx_v1_reports++;
	g->flags |= G_ANNOUNCED;
	tx_raw(e, l, pkt, n);
}

/* Current-state record of a group: IS_EX(X) or IS_IN(X) (RFC 3810 §6.2). */
static void add_current_state(struct mld_report_builder *rb, const struct group *g)
{
	rb_add(rb, g->mode == MLD_FMODE_EXCLUDE ? MLD_MODE_IS_EXCLUDE : MLD_MODE_IS_INCLUDE,
	       &g->addr, g->srcs, g->nsrc);
}

/* ------------------------------------------------------------------ */
/* State-change reports (RFC 3810 §6.1)                               */
/* ------------------------------------------------------------------ */

static int pend_find(const struct group *g, const struct in6_addr *a)
{
	uint32_t lo = 0, hi = g->npend;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = mld_addr_cmp(&g->pend[mid].addr, a);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(int)lo - 1;
}

/* Gives every source of 'a' retransmission state for rv reports. */
static int pend_mark(struct group *g, const struct in6_addr *a, size_t n, uint8_t rv)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int pos = pend_find(g, &a[i]);

		if (pos >= 0) {
			g->pend[pos].count = rv;
			continue;
		}
		pos = -pos - 1;
		{
			struct pend *np = realloc(g->pend, (g->npend + 1u) * sizeof(*np));

			if (!np)
				return -1;
			g->pend = np;
		}
		memmove(&g->pend[pos + 1], &g->pend[pos],
		        (g->npend - (size_t)pos) * sizeof(*g->pend));
		g->pend[pos].addr = a[i];
		g->pend[pos].count = rv;
		g->npend++;
	}
	return 0;
}

/*
 * Emits this group's state-change records: a filter-mode-change record while
 * any of its RV transmissions remain, then the source-list-change records
 * (RFC 3810 §6.1: "when [RV] reports with filter-mode-change records have
 * been transmitted ... the next report will include source-list-change
 * records"). The record type of a pending source is decided now, from the
 * current filter, which is how successive changes merge (the seed's
 * mld_v2_merge_state_changes).
 */
static void add_state_change(struct mld_engine *e, struct mld_report_builder *rb, struct group *g)
{
	if (g->sc_mode_pending) {
		rb_add(rb,
		       g->mode == MLD_FMODE_EXCLUDE ? MLD_CHANGE_TO_EXCLUDE : MLD_CHANGE_TO_INCLUDE,
		       &g->addr, g->srcs, g->nsrc);
		g->sc_mode_pending--;
	} else if (g->npend) {
		struct in6_addr *allow, *block;
		size_t na = 0, nb = 0, i, o = 0;

		if (ensure_tmp(e, g->npend) < 0)
			return;
		allow = e->tmp[0];
		block = e->tmp[1];
		for (i = 0; i < g->npend; i++) {
			int in = srcset_contains(g->srcs, g->nsrc, &g->pend[i].addr);
			/* INCLUDE: listed sources are allowed; EXCLUDE: listed are blocked. */
			int allowed = (g->mode == MLD_FMODE_INCLUDE) == in;

			if (allowed)
				allow[na++] = g->pend[i].addr;
			else
				block[nb++] = g->pend[i].addr;
			if (--g->pend[i].count)
				g->pend[o++] = g->pend[i];
		}
		g->npend = (uint32_t)o;
		if (na)
			rb_add(rb, MLD_ALLOW_NEW_SOURCES, &g->addr, allow, na);
		if (nb)
			rb_add(rb, MLD_BLOCK_OLD_SOURCES, &g->addr, block, nb);
	}
	g->flags |= G_ANNOUNCED;
}

static int sc_remaining(const struct group *g)
{
	return g->sc_mode_pending || g->npend;
}

/* ------------------------------------------------------------------ */
/* Filter changes: joins, leaves, source changes                      */
/* ------------------------------------------------------------------ */

/*
 * Announces the group's whole current filter as if it had just been joined
 * (initial join, link up, link-local address now valid): v2 a TO_EX(X) or
 * ALLOW(X) (errata 14), v1 an unsolicited report, each RV times.
 */
static void announce(struct link *l, struct group *g, uint64_t now)
{
	uint8_t rv = (uint8_t)link_rv(l);

	clear_sc(g);
	g->qr_due = 0;
	clear_recorded(g);
	if (l->version == 1) {
		/* Errata 10: RFC 2710 §4 repeats the unsolicited report. */
		g->sc_mode_pending = rv;
		set_state(l, g, MLD_IDLE_MEMBER);
	} else {
		if (g->mode == MLD_FMODE_EXCLUDE)
			g->sc_mode_pending = rv;
		else if (pend_mark(g, g->srcs, g->nsrc, rv) < 0)
			g->sc_mode_pending = rv; /* no memory: TO_IN(X) says the same */
		set_state(l, g, MLD_REPORTING_MEMBER);
	}
	g->sc_due = now; /* due at once: no tick to wait for */
	heap_update(l, g);
}

/*
 * The merged filter of a group changed from (omode, old) to its current one.
 * This is the seed's mld_change_state / mld_initial_join / mld_final_leave /
 * mld_handle_state_change in one place.
 */
static void filter_changed(struct mld_engine *e, struct link *l, struct group *g, uint8_t omode,
                           const struct in6_addr *old, size_t nold, uint64_t now)
{
	int was_member = omode == MLD_FMODE_EXCLUDE || nold > 0;
	int is_member = g->mode == MLD_FMODE_EXCLUDE || g->nsrc > 0;
	uint8_t rv = (uint8_t)link_rv(l);

	/* A running general-query response leaves this group to the
	 * state-change report that follows (and its cursors stay valid). */
	gq_forget(l, g);
	if (!group_reportable(&g->addr) || (l->flags & MLD_LINK_SILENT)) {
		if (is_member)
			set_state(l, g, MLD_SILENT_MEMBER);
		else
			group_delete(e, l, g);
		return;
	}
	if (!l->up) {
		/* Nothing can be sent; link-up announces the state then. */
		if (is_member) {
			clear_sc(g);
			g->qr_due = 0;
			set_state(l, g, MLD_SLEEPING_MEMBER);
			heap_update(l, g);
		} else {
			group_delete(e, l, g);
		}
		return;
	}
	if (!is_member && !(g->flags & G_ANNOUNCED)) {
		/* Joined and left before anything reached the wire. */
		group_delete(e, l, g);
		return;
	}
	if (l->version == 1) {
		if (!was_member || g->state == MLD_LEAVING_MEMBER) {
			announce(l, g, now);
		} else if (!is_member) {
			/* RFC 2710 §4: Done only if we sent the last report. */
			switch (g->state) {
			case MLD_LAZY_MEMBER:
			case MLD_SLEEPING_MEMBER:
			case MLD_AWAKENING_MEMBER:
				group_delete(e, l, g);
				return;
			default:
				clear_sc(g);
				g->qr_due = 0;
				set_state(l, g, MLD_LEAVING_MEMBER);
				g->sc_mode_pending = 1;
				g->sc_due = now;
				heap_update(l, g);
			}
		}
		/* v1 cannot express a source change of a held group. */
		return;
	}

	/* MLDv2 (RFC 3810 §6.1). */
	if (!was_member && g->state != MLD_LEAVING_MEMBER && !(g->flags & G_ANNOUNCED)) {
		announce(l, g, now);
		return;
	}
	if (omode != g->mode && (omode == MLD_FMODE_EXCLUDE || g->mode == MLD_FMODE_EXCLUDE)) {
		/* Filter-mode change: TO_EX(B) / TO_IN(B) carries the whole list,
		 * so pending source changes are subsumed. */
		g->sc_mode_pending = rv;
		g->npend = 0;
	} else {
		/* Same mode: the sources that changed, ALLOW/BLOCK decided when sent. */
		size_t n;

		if (ensure_tmp(e, nold + g->nsrc) < 0)
			goto mode_fallback;
		n = srcset_minus(old, nold, g->srcs, g->nsrc, e->tmp[2]);
		if (pend_mark(g, e->tmp[2], n, rv) < 0)
			goto mode_fallback;
		n = srcset_minus(g->srcs, g->nsrc, old, nold, e->tmp[2]);
		if (pend_mark(g, e->tmp[2], n, rv) < 0)
			goto mode_fallback;
	}
	if (0) {
	mode_fallback:
		/* Out of memory for per-source state: a mode record conveys all. */
		g->sc_mode_pending = rv;
		g->npend = 0;
	}
	if (!sc_remaining(g))
		return;
	if (is_member) {
		if (g->state == MLD_LEAVING_MEMBER || g->state == MLD_NOT_MEMBER)
			set_state(l, g, MLD_REPORTING_MEMBER);
	} else {
		/* Seed final_leave: stop the query response, keep the group until
		 * its TO_IN{} / BLOCK retransmissions are done. */
		g->qr_due = 0;
		clear_recorded(g);
		set_state(l, g, MLD_LEAVING_MEMBER);
	}
	g->sc_due = now;
	heap_update(l, g);
}

/* ------------------------------------------------------------------ */
/* Listener operations                                                */
/* ------------------------------------------------------------------ */

static uint32_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int valid_name(const char *s)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= LISTENER_NAME_MAX - 1)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@'))
			return 0;
	}
	return 1;
}

/*
 * Listener names are interned: members hold a 32-bit id, and a name lives
 * exactly as long as some membership uses it, so pods that come and go
 * under fresh names leave nothing behind.
 */
static int64_t name_lookup(const struct mld_engine *e, const char *name)
{
	uint32_t i, mask;

	if (!e->ncap)
		return -1;
	mask = e->ncap - 1;
	for (i = hash_name(name) & mask; e->nidx[i]; i = (i + 1) & mask)
		if (strcmp(e->names[e->nidx[i] - 1], name) == 0)
			return e->nidx[i] - 1;
	return -1;
}

static void name_hash_put(uint32_t *tab, uint32_t cap, const char *name, uint32_t id)
{
	uint32_t i;

	for (i = hash_name(name) & (cap - 1); tab[i]; i = (i + 1) & (cap - 1))
		;
	tab[i] = id + 1;
}

/* Takes a reference on the name, interning it if new; returns its id or -1. */
static int64_t name_acquire(struct mld_engine *e, const char *name)
{
	int64_t id = name_lookup(e, name);
	uint32_t k;

	if (id >= 0) {
		e->nref[id]++;
		return id;
	}
	if ((e->nlive + 1) * 2 > e->ncap) {
		uint32_t ncap = e->ncap ? e->ncap * 2 : 16;
		uint32_t *t = calloc(ncap, sizeof(*t));

		if (!t)
			return -1;
		for (k = 0; k < e->nnames; k++)
			if (e->names[k])
				name_hash_put(t, ncap, e->names[k], k);
		free(e->nidx);
		e->nidx = t;
		e->ncap = ncap;
	}
	if (e->nfree) {
		id = e->freeids[--e->nfree];
	} else {
		if (e->nnames == e->namecap) {
			uint32_t ncap = e->namecap ? e->namecap * 2 : 16;
			char **n = realloc(e->names, ncap * sizeof(*n));
			uint32_t *r, *f;

			if (!n)
				return -1;
			e->names = n;
			r = realloc(e->nref, ncap * sizeof(*r));
			if (!r)
				return -1;
			e->nref = r;
			f = realloc(e->freeids, ncap * sizeof(*f));
			if (!f)
				return -1;
			e->freeids = f;
			e->namecap = ncap;
		}
		id = e->nnames++;
	}
	e->names[id] = strdup(name);
	if (!e->names[id]) {
		e->freeids[e->nfree++] = (uint32_t)id;
		return -1;
	}
	e->nref[id] = 1;
	e->nlive++;
	name_hash_put(e->nidx, e->ncap, name, (uint32_t)id);
	return id;
}

static void name_release(struct mld_engine *e, uint32_t id)
{
	uint32_t mask = e->ncap - 1, i, j;

	if (--e->nref[id])
		return;
	/* Backward-shift deletion, as in mld_table.c. */
	for (i = hash_name(e->names[id]) & mask; e->nidx[i] != id + 1; i = (i + 1) & mask)
		;
	e->nidx[i] = 0;
	for (j = (i + 1) & mask; e->nidx[j]; j = (j + 1) & mask) {
		uint32_t h = hash_name(e->names[e->nidx[j] - 1]) & mask;
		int stays = i < j ? (h > i && h <= j) : (h > i || h <= j);

		if (!stays) {
			e->nidx[i] = e->nidx[j];
			e->nidx[j] = 0;
			i = j;
		}
	}
	free(e->names[id]);
	e->names[id] = NULL;
	e->freeids[e->nfree++] = id;
	e->nlive--;
}

static void release_members(struct mld_engine *e, struct group *g)
{
	uint16_t m;

	for (m = 0; m < g->nmembers; m++)
		name_release(e, g->members[m].lid); /* source lists go with the group */
}

/* RFC 3810 §4.2: EXCLUDE if any listener excludes, with
 * ∩(EXCLUDE lists) − ∪(INCLUDE lists) (errata 20); else ∪(INCLUDE lists).
 * 'skip' is the member being replaced by (nmode, nsrcs). Result in tmp[0]. */
static int merge_filter(struct mld_engine *e, const struct group *g, int skip, uint8_t nmode,
                        const struct in6_addr *nsrcs, size_t nn, uint8_t *mode, size_t *n)
{
	size_t total = nn, ex_n = 0, in_n = 0;
	int any_ex = 0, first_ex = 1, m;
	struct in6_addr *ex, *in, *t;

	for (m = 0; m < g->nmembers; m++)
		if (m != skip)
			total += g->members[m].nsrc;
	if (ensure_tmp(e, total + 1) < 0)
		return MLD_E_NOMEM;
	ex = e->tmp[0];
	in = e->tmp[1];
	t = e->tmp[2];
	for (m = -1; m < (int)g->nmembers; m++) {
		const struct in6_addr *s;
		size_t ns;
		uint8_t md;

		if (m >= 0 && m == skip)
			continue;
		if (m < 0) {
			if (!nmode)
				continue;
			md = nmode, s = nsrcs, ns = nn;
		} else {
			md = g->members[m].mode, s = g->members[m].srcs, ns = g->members[m].nsrc;
		}
		if (md == MLD_FMODE_EXCLUDE) {
			any_ex = 1;
			if (first_ex) {
				if (ns)
					memcpy(ex, s, ns * sizeof(*s));
				ex_n = ns;
				first_ex = 0;
			} else {
				ex_n = srcset_inter(ex, ex_n, s, ns, t);
				memcpy(ex, t, ex_n * sizeof(*t));
			}
		} else {
			in_n = srcset_union(in, in_n, s, ns, t);
			memcpy(in, t, in_n * sizeof(*t));
		}
	}
	if (any_ex) {
		*n = srcset_minus(ex, ex_n, in, in_n, t);
		memcpy(ex, t, *n * sizeof(*t));
		*mode = MLD_FMODE_EXCLUDE;
	} else {
		memcpy(ex, in, in_n * sizeof(*in));
		*n = in_n;
		*mode = MLD_FMODE_INCLUDE;
	}
	return MLD_OK;
}

enum op_kind { OP_JOIN, OP_LEAVE, OP_JOIN_SRC, OP_LEAVE_SRC, OP_BLOCK, OP_UNBLOCK, OP_SET };

/*
 * One entry point for every listener operation: compute the listener's new
 * filter (RFC 3678 semantics), check every limit, and only then change
 * anything. On error nothing has changed.
 */
static int do_op(struct mld_engine *e, uint32_t ifindex, const char *listener,
                 const struct in6_addr *group, enum op_kind op, uint8_t smode,
                 const struct in6_addr *srcs, size_t nsrc, uint64_t now)
{
	struct link *l = find_link(e, ifindex);
	struct group *g;
	struct member *mb = NULL;
	int64_t lid;
	int midx = -1, rc, created = 0;
	uint8_t lmode = 0, gmode, omode;
	size_t ln = 0, gn, i, nold;
	struct in6_addr *lsrcs = NULL, *old = NULL;

	if (!l)
		return MLD_E_NOLINK;
	if (!group || !is_mcast(group))
		return MLD_E_NOTMCAST;
	if (!valid_name(listener))
		return MLD_E_NAME;
	if ((op == OP_JOIN_SRC || op == OP_LEAVE_SRC || op == OP_BLOCK || op == OP_UNBLOCK) &&
	    (!srcs || is_mcast(srcs) || is_unspec(srcs)))
		return MLD_E_INVAL;
	if (op == OP_SET) {
		if (smode != MLD_FMODE_INCLUDE && smode != MLD_FMODE_EXCLUDE)
			return MLD_E_INVAL;
		if (nsrc && !srcs)
			return MLD_E_INVAL;
		for (i = 0; i < nsrc; i++)
			if (is_mcast(&srcs[i]) || is_unspec(&srcs[i]))
				return MLD_E_INVAL;
	}
	lid = name_lookup(e, listener);
	g = tbl_find(e, l, group);
	if (g && lid >= 0) {
		for (i = 0; i < g->nmembers; i++)
			if (g->members[i].lid == (uint32_t)lid) {
				midx = (int)i;
				mb = &g->members[i];
			}
	}

	/* The listener's filter after the operation. */
	switch (op) {
	case OP_JOIN:
		if (mb)
			return mb->mode == MLD_FMODE_EXCLUDE ? MLD_E_EXIST : MLD_E_MODE;
		lmode = MLD_FMODE_EXCLUDE;
		break;
	case OP_LEAVE:
		if (!mb)
			return MLD_E_NOENT;
		lmode = 0;
		break;
	case OP_JOIN_SRC:
	case OP_UNBLOCK:
	case OP_BLOCK:
	case OP_LEAVE_SRC: {
		uint8_t need = (op == OP_JOIN_SRC || op == OP_LEAVE_SRC) ? MLD_FMODE_INCLUDE
		                                                         : MLD_FMODE_EXCLUDE;
		int adding = op == OP_JOIN_SRC || op == OP_BLOCK;
		int present;

		if (!mb && op != OP_JOIN_SRC)
			return op == OP_BLOCK ? MLD_E_NOENT : MLD_E_NOENT;
		if (mb && mb->mode != need)
			return MLD_E_MODE;
		present = mb && srcset_contains(mb->srcs, mb->nsrc, srcs);
		if (adding && present)
			return MLD_E_EXIST;
		if (!adding && !present)
			return MLD_E_NOENT;
		ln = (mb ? mb->nsrc : 0) + (adding ? 1 : 0);
		lsrcs = malloc((ln + 1) * sizeof(*lsrcs));
		if (!lsrcs)
			return MLD_E_NOMEM;
		if (adding)
			ln = srcset_union(mb ? mb->srcs : NULL, mb ? mb->nsrc : 0, srcs, 1, lsrcs);
		else
			ln = srcset_minus(mb->srcs, mb->nsrc, srcs, 1, lsrcs);
		lmode = need;
		/* INCLUDE{} is no membership at all (RFC 3678 §4.1.2). */
		if (lmode == MLD_FMODE_INCLUDE && ln == 0)
			lmode = 0;
		break;
	}
	case OP_SET:
		lsrcs = malloc((nsrc + 1) * sizeof(*lsrcs));
		if (!lsrcs)
			return MLD_E_NOMEM;
		if (nsrc)
			memcpy(lsrcs, srcs, nsrc * sizeof(*srcs));
		ln = srcset_normalize(lsrcs, nsrc);
		lmode = smode;
		if (lmode == MLD_FMODE_INCLUDE && ln == 0) {
			lmode = 0;
			if (!mb) {
				free(lsrcs);
				return MLD_E_NOENT;
			}
		}
		break;
	}
	rc = MLD_E_LIMIT_SRCS_LISTENER;
	if (ln > l->tun.max_srcs_per_listener)
		goto fail;
	rc = MLD_E_LIMIT_GROUPS;
	if ((!g || (g->state == MLD_LEAVING_MEMBER && lmode)) &&
	    l->count - l->leaving >= l->tun.max_groups)
		goto fail; /* a leaving group re-joined takes a slot again */

	/* The group's merged filter after the operation. */
	if (g) {
		rc = merge_filter(e, g, midx, lmode, lsrcs, ln, &gmode, &gn);
	} else {
		static const struct group none;

		rc = merge_filter(e, &none, -1, lmode, lsrcs, ln, &gmode, &gn);
	}
	if (rc)
		goto fail;
	/* A limit guards additions only: a leave or a source removal can grow
	 * a merged EXCLUDE list (∩EX − ∪IN), and must never be refused. */
	rc = MLD_E_LIMIT_SRCS_GROUP;
	if (gn > l->tun.max_srcs_per_group && lmode && op != OP_LEAVE_SRC && op != OP_UNBLOCK &&
	    (!g || gn > g->nsrc))
		goto fail;

	/* Commit. Allocate first so that a failure still changes nothing. */
	if (!ln) {
		/* An ASM member holds no list: saves 32 bytes a membership. */
		free(lsrcs);
		lsrcs = NULL;
	}
	rc = MLD_E_NOMEM;
	if (!g) {
		g = tbl_insert(e, l, group);
		if (!g)
			goto fail;
		created = 1;
	}
	if (lmode && midx < 0) {
		struct member *nm = realloc(g->members, (g->nmembers + 1u) * sizeof(*nm));

		if (!nm)
			goto fail_created;
		g->members = nm;
	}
	old = g->srcs;
	nold = g->nsrc;
	omode = g->mode;
	g->srcs = NULL;
	if (dup_set(&g->srcs, e->tmp[0], gn) < 0) {
		g->srcs = old;
		goto fail_created;
	}
	if (lmode && midx < 0) {
		lid = name_acquire(e, listener); /* the new membership's reference */
		if (lid < 0) {
			free(g->srcs);
			g->srcs = old;
			goto fail_created;
		}
	}
	if (cs_reportable(l, g))
		l->cs_bytes += mld_record_size(gn) - mld_record_size(nold);
	g->nsrc = (uint16_t)gn;
	g->mode = gmode;
	if (!lmode) {
		name_release(e, g->members[midx].lid);
		free(g->members[midx].srcs);
		g->members[midx] = g->members[--g->nmembers];
		free(lsrcs);
	} else if (midx >= 0) {
		free(g->members[midx].srcs);
		g->members[midx].mode = lmode;
		g->members[midx].nsrc = (uint16_t)ln;
		g->members[midx].srcs = lsrcs;
	} else {
		struct member *m = &g->members[g->nmembers++];

		m->lid = (uint32_t)lid;
		m->mode = lmode;
		m->nsrc = (uint16_t)ln;
		m->srcs = lsrcs;
	}
	filter_changed(e, l, g, created ? MLD_FMODE_INCLUDE : omode, old, created ? 0 : nold, now);
	free(old);
	return MLD_OK;

fail_created:
	if (created)
		tbl_delete(e, l, g);
fail:
	free(lsrcs);
	return rc;
}

int mld_join(struct mld_engine *e, uint32_t ifindex, const char *listener,
             const struct in6_addr *group, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_JOIN, 0, NULL, 0, now);
}

int mld_leave(struct mld_engine *e, uint32_t ifindex, const char *listener,
              const struct in6_addr *group, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_LEAVE, 0, NULL, 0, now);
}

int mld_join_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                    const struct in6_addr *group, const struct in6_addr *src, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_JOIN_SRC, 0, src, 1, now);
}

int mld_leave_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                     const struct in6_addr *group, const struct in6_addr *src, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_LEAVE_SRC, 0, src, 1, now);
}

int mld_block_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                     const struct in6_addr *group, const struct in6_addr *src, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_BLOCK, 0, src, 1, now);
}

int mld_unblock_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                       const struct in6_addr *group, const struct in6_addr *src, uint64_t now)
{
	return do_op(e, ifindex, listener, group, OP_UNBLOCK, 0, src, 1, now);
}

int mld_set_filter(struct mld_engine *e, uint32_t ifindex, const char *listener,
                   const struct in6_addr *group, enum mld_fmode mode, const struct in6_addr *srcs,
                   size_t nsrc, uint64_t now)
{
	if (nsrc > 65535)
		return MLD_E_LIMIT_SRCS_LISTENER;
	return do_op(e, ifindex, listener, group, OP_SET, (uint8_t)mode, srcs, nsrc, now);
}

/* ------------------------------------------------------------------ */
/* Version switching (RFC 3810 §8.2.1)                                */
/* ------------------------------------------------------------------ */

/* Seed mld_v2_cancel_link_timers: entering v1 drops all v2 work in flight. */
static void enter_v1(struct mld_engine *e, struct link *l)
{
	uint32_t i;

	if (l->version == 1)
		return;
	l->version = 1;
	e->st.version_to_v1++;
	l->gq_due = 0;
	l->gq_active = 0;
	for (i = 0; i < l->ghigh; i++) {
		struct group *g = &l->g[i];

		if (!(g->flags & G_USED))
			continue;
		switch (g->state) {
		case MLD_LEAVING_MEMBER:
			group_delete(e, l, g);
			continue;
		case MLD_G_QUERY_PENDING_MEMBER:
		case MLD_SG_QUERY_PENDING_MEMBER:
			clear_recorded(g);
			/* fall through */
		case MLD_REPORTING_MEMBER:
			clear_sc(g);
			g->qr_due = 0;
			set_state(l, g, MLD_REPORTING_MEMBER);
			heap_update(l, g);
			break;
		default:
			break;
		}
		gq_forget(l, g);
	}
}

/* Errata 9: the Older Version Querier Present timer expires and the link
 * returns to v2, normalising v1-only states so a later leave still sends
 * its TO_IN{} (the seed's final_leave sends nothing from LAZY). A v1
 * report still due answers a query heard in v1 mode: it stays due and is
 * sent as the group's v2 current-state record (as Linux's per-group timer
 * does), or that query would go unanswered for the group (RFC 3810 §6.2,
 * RFC 2710 §4). */
static void enter_v2(struct mld_engine *e, struct link *l)
{
	uint32_t i;

	l->version = 2;
	l->v1_until = 0;
	e->st.version_to_v2++;
	for (i = 0; i < l->ghigh; i++) {
		struct group *g = &l->g[i];

		if (!(g->flags & G_USED))
			continue;
		switch (g->state) {
		case MLD_REPORTING_MEMBER:
			if (g->qr_due) {
				clear_sc(g);
				clear_recorded(g);
				set_state(l, g, MLD_G_QUERY_PENDING_MEMBER);
				heap_update(l, g);
				break;
			}
			/* fall through */
		case MLD_IDLE_MEMBER:
		case MLD_LAZY_MEMBER:
			g->qr_due = 0;
			clear_sc(g);
			set_state(l, g, MLD_REPORTING_MEMBER);
			heap_update(l, g);
			break;
		case MLD_SLEEPING_MEMBER:
		case MLD_AWAKENING_MEMBER:
			if (l->up) {
				set_state(l, g, MLD_REPORTING_MEMBER);
			} else {
				set_state(l, g, MLD_SLEEPING_MEMBER);
			}
			break;
		case MLD_LEAVING_MEMBER:
			/* A pending v1 Done: the group is gone either way. */
			group_delete(e, l, g);
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Queries                                                            */
/* ------------------------------------------------------------------ */

/* Seed mld_v1_update_group. */
static void v1_update_group(struct mld_engine *e, struct link *l, struct group *g, uint32_t mrd,
                            uint64_t now)
{
	if (!l->up) {
		/* Nothing can be sent: remember that a querier asked. */
		if (g->state == MLD_SLEEPING_MEMBER)
			set_state(l, g, MLD_AWAKENING_MEMBER);
		return;
	}
	switch (g->state) {
	case MLD_NOT_MEMBER:
	case MLD_SILENT_MEMBER:
	case MLD_LEAVING_MEMBER:
		return;
	case MLD_SLEEPING_MEMBER:
		set_state(l, g, MLD_AWAKENING_MEMBER);
		return;
	case MLD_REPORTING_MEMBER:
		/* RFC 2710 §4: reset a running timer only if the new maximum
		 * delay is shorter than what remains. */
		if (g->qr_due && g->qr_due <= now + mrd)
			return;
		/* fall through */
	default:
		clear_recorded(g);
		set_state(l, g, MLD_REPORTING_MEMBER);
		g->qr_due = now + rand_between(e, 0, mrd);
		heap_update(l, g);
	}
}

static void v1_query(struct mld_engine *e, struct link *l, const struct in6_addr *group,
                     const struct in6_addr *dst, uint32_t mrd, uint64_t now, int is_v2_on_v1)
{
	uint32_t i;

	(void)is_v2_on_v1;
	if (is_unspec(group)) {
		for (i = 0; i < l->ghigh; i++)
			if (l->g[i].flags & G_USED)
				v1_update_group(e, l, &l->g[i], mrd, now);
	} else {
		struct group *g = tbl_find(e, l, group);

		(void)dst;
		if (g)
			v1_update_group(e, l, g, mrd, now);
		else
			e->st.rx_ignored_not_member++;
	}
}

/* Earliest time at which the pending general-query response covers g. */
static int gq_covers(const struct link *l, const struct group *g, uint64_t when)
{
	if (l->gq_due)
		return l->gq_due <= when && cs_reportable(l, g);
	if (l->gq_active)
		return (g->flags & G_GQ) && l->gq_end <= when;
	return 0;
}

/* Estimated packets of a full current-state response (for pacing). */
static uint64_t gq_packets_estimate(const struct link *l)
{
	uint64_t cap = l->mtu - MLD_V2_REPORT_OVERHEAD;

	return (l->cs_bytes + cap - 1) / cap;
}

#define GQ_BURST      4   /* packets per burst, the seed's value */
#define GQ_MAX_GAP_MS 200 /* at least five bursts a second once started */

static void v2_general_query(struct mld_engine *e, struct link *l, uint32_t mrd, uint64_t now)
{
	uint64_t pk = gq_packets_estimate(l), nb = (pk + GQ_BURST - 1) / GQ_BURST, span = 0, delay;

	/* Spread a large response: leave room for its bursts inside the MRD
	 * and randomise only the start (RFC 3810 §6.2 randomises the whole
	 * delay for the single-packet case, which this reduces to). */
	if (nb > 1) {
		span = (nb - 1) * GQ_MAX_GAP_MS;
		if (span > mrd)
			span = mrd;
	}
	delay = rand_between(e, 0, mrd - span);
	/* Rule 1: a pending response due sooner makes this one unnecessary. */
	if (l->gq_active || (l->gq_due && l->gq_due <= now + delay))
		return;
	l->gq_due = now + delay;
	l->gq_end = now + mrd;
}

static void gq_start(struct mld_engine *e, struct link *l, uint64_t now)
{
	uint64_t window, pk, nb;
	uint32_t i;

	(void)e;
	l->gq_due = 0;
	l->gq_left = 0;
	for (i = 0; i < l->ghigh; i++) {
		struct group *g = &l->g[i];

		if ((g->flags & G_USED) && cs_reportable(l, g) &&
		    (g->mode == MLD_FMODE_EXCLUDE || g->nsrc)) {
			g->flags |= G_GQ;
			l->gq_left++;
		}
	}
	if (!l->gq_left)
		return;
	l->gq_active = 1;
	l->gq_cur_s = l->gq_cur_p = 0;
	window = l->gq_end > now ? l->gq_end - now : 0;
	pk = gq_packets_estimate(l);
	l->gq_burst = GQ_BURST;
	nb = (pk + GQ_BURST - 1) / GQ_BURST;
	if (nb <= 1) {
		l->gq_gap = 0;
	} else {
		uint64_t gap = window / nb;

		if (gap > GQ_MAX_GAP_MS)
			gap = GQ_MAX_GAP_MS;
		if (gap == 0) {
			/* More bursts than milliseconds: bigger bursts, 1 ms apart. */
			gap = 1;
			l->gq_burst = (uint32_t)((pk + window) / (window ? window : 1));
			if (l->gq_burst < GQ_BURST)
				l->gq_burst = GQ_BURST;
		}
		l->gq_gap = (uint32_t)gap;
	}
	l->gq_next = now;
}

/* Next flagged group at or after *cur with (want_src) or without sources. */
static struct group *gq_next_group(struct link *l, uint32_t *cur, int want_src)
{
	while (*cur < l->ghigh) {
		struct group *g = &l->g[*cur];

		if ((g->flags & G_GQ) && ((g->nsrc > 0) == want_src))
			return g;
		(*cur)++;
	}
	return NULL;
}

/*
 * One burst of the paced general-query response. Records with sources go
 * first; whenever the next one does not fit, the packet is topped up with
 * 20-byte source-less records, so packets leave at most 19 bytes unused and
 * the count stays within ~1.3 % of the byte-optimal one. Errata 19: nothing
 * is capped or dropped; the response runs until every flagged group is out,
 * and the final burst at the end of the window sends whatever remains.
 */
static void gq_burst(struct mld_engine *e, struct link *l, uint64_t now)
{
	struct mld_report_builder rb;
	uint64_t start;
	int last = now >= l->gq_end || !l->gq_gap;

	rb_start(e, l, &rb, e->pktbuf);
	start = rb.packets;
	while (l->gq_left) {
		struct group *gs, *gp;

		if (rb.len && rb_room(&rb) < mld_record_size(0))
			rb_flush(&rb); /* full: no record fits any more */
		if (!last && rb.packets - start >= l->gq_burst)
			break;
		gs = gq_next_group(l, &l->gq_cur_s, 1);
		if (gs && (mld_record_size(gs->nsrc) <= rb_room(&rb) ||
		           mld_record_size(gs->nsrc) > rb_capacity(&rb) ||
		           !gq_next_group(l, &l->gq_cur_p, 0))) {
			if (mld_record_size(gs->nsrc) > rb_room(&rb) &&
			    mld_record_size(gs->nsrc) <= rb_capacity(&rb))
				rb_flush(&rb);
			add_current_state(&rb, gs);
			gq_forget(l, gs);
			continue;
		}
		/* Top up with a source-less record (or send those alone). */
		gp = gq_next_group(l, &l->gq_cur_p, 0);
		if (!gp) {
			l->gq_left = 0; /* cannot happen: flagged groups are never skipped */
			break;
		}
		add_current_state(&rb, gp);
		gq_forget(l, gp);
	}
	rb_flush(&rb);
	if (!l->gq_left) {
		l->gq_active = 0;
		return;
	}
	l->gq_next = now + l->gq_gap;
	if (l->gq_next > l->gq_end)
		l->gq_next = l->gq_end;
}

/* Seed mld_v2_process_group_query with RFC 3810 §6.2 rules 3–5. */
static void v2_group_query(struct mld_engine *e, struct link *l, struct group *g, uint32_t mrd,
                           const struct in6_addr *qs, size_t nqs, uint64_t now)
{
	uint64_t due;

	switch (g->state) {
	case MLD_REPORTING_MEMBER:
	case MLD_G_QUERY_PENDING_MEMBER:
	case MLD_SG_QUERY_PENDING_MEMBER:
		break;
	default:
		return; /* NOT, SILENT, SLEEPING, LAZY, AWAKENING, IDLE, LEAVING */
	}
	due = now + rand_between(e, 0, mrd);
	/* Rule 1 (errata 8: the seed tested the v1 timer here). */
	if (gq_covers(l, g, due))
		return;
	if (nqs == 0) {
		/* Rule 4: a group query replaces any pending (S)G response. */
		if (g->state != MLD_REPORTING_MEMBER && g->qr_due && g->qr_due < due)
			due = g->qr_due;
		clear_recorded(g);
		set_state(l, g, MLD_G_QUERY_PENDING_MEMBER);
		g->qr_due = due;
		heap_update(l, g);
		return;
	}
	if (g->state == MLD_G_QUERY_PENDING_MEMBER) {
		if (g->qr_due && g->qr_due < due)
			due = g->qr_due;
		g->qr_due = due;
		heap_update(l, g);
		return;
	}
	{
		/* Rules 3 and 5: record (or augment) the queried sources. Errata
		 * 15: record only when the answer could be non-empty. */
		struct in6_addr *q, *t, *nr;
		size_t n, k;

		if (ensure_tmp(e, nqs + g->nrec + g->nsrc) < 0)
			return;
		q = e->tmp[0];
		t = e->tmp[1];
		memcpy(q, qs, nqs * sizeof(*q));
		n = srcset_normalize(q, nqs);
		if (g->mode == MLD_FMODE_INCLUDE)
			k = srcset_inter(q, n, g->srcs, g->nsrc, t);
		else
			k = srcset_minus(q, n, g->srcs, g->nsrc, t);
		if (k == 0 && g->state == MLD_REPORTING_MEMBER)
			return;
		n = srcset_union(g->rec, g->nrec, q, n, t);
		if (n > l->tun.max_srcs_per_group) {
			/* Too much to remember: answer the whole group, a
			 * superset the router handles (RFC 3810 §6.3). */
			e->st.gs_sources_overflow++;
			clear_recorded(g);
			set_state(l, g, MLD_G_QUERY_PENDING_MEMBER);
		} else {
			nr = realloc(g->rec, (n ? n : 1) * sizeof(*nr));
			if (!nr)
				return;
			memcpy(nr, t, n * sizeof(*nr));
			g->rec = nr;
			g->nrec = (uint32_t)n;
			set_state(l, g, MLD_SG_QUERY_PENDING_MEMBER);
		}
		if (g->qr_due && g->qr_due < due)
			due = g->qr_due;
		g->qr_due = due;
		heap_update(l, g);
	}
}

/*
 * Errata 23: token buckets per group. Each holds the querier's whole Last
 * Listener Query burst (robustness count, sent LLQI apart, RFC 3810
 * §7.6.3) and refills one token per gsr_delay, so a forged flood is cut to
 * one answer per period while a querier's own retransmissions pass.
 *
 * Two buckets per group: one for the link's querier (l->querier, the
 * source of the last general query accepted), one shared by every other
 * source. A flood from any other address thus cannot throttle the
 * querier's retransmissions for the group it floods, which would make the
 * router prune sources our listeners still want. A flood that spoofs the
 * querier's address drains only the querier's bucket: inherent, the link
 * cannot tell the two apart. The XDP program keeps the same two buckets
 * (bpf/mldagent.bpf.c, gs_owner).
 *
 * Both buckets start full together and are refilled together, by whole
 * periods, so they share one refill time (gs_refill): the querier's costs
 * struct group one byte, which was padding.
 */
static int gs_throttle(struct link *l, struct group *g, const struct in6_addr *src, uint64_t now)
{
	uint32_t cap = link_rv(l) < 2 ? 2 : link_rv(l), d = l->tun.gsr_delay_ms;
	uint8_t *tok;

	if (!d)
		return 0;
	if (!g->gs_refill) {
		g->gs_tokens = g->gs_qtokens = (uint8_t)cap;
		g->gs_refill = now ? now : 1;
	} else if (now >= g->gs_refill + d) {
		uint64_t add = (now - g->gs_refill) / d;

		g->gs_tokens = (uint8_t)(g->gs_tokens + add > cap ? cap : g->gs_tokens + add);
		g->gs_qtokens = (uint8_t)(g->gs_qtokens + add > cap ? cap : g->gs_qtokens + add);
		g->gs_refill += add * d;
	}
	/* A query's source is link-local, never the :: of "no querier". */
	tok = memcmp(src, &l->querier, 16) == 0 ? &g->gs_qtokens : &g->gs_tokens;
	if (!*tok)
		return 1;
	(*tok)--;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Input                                                              */
/* ------------------------------------------------------------------ */

static int drop(struct mld_engine *e, int reason)
{
	e->st.rx_drop[reason]++;
	return -reason - 1;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 3810 §5.1.15: a general query goes to ff02::1, a group(-and-source)
 * query to its group (or ff02::1, as Linux takes it); and a node MUST
 * accept a query sent to any of its unicast addresses on the link, which
 * the caller vouches for (dst_local). A multicast or unspecified
 * destination is never one of those. */
static int query_dst_ok(const struct mld_rx_meta *m, const struct in6_addr *group)
{
	if (memcmp(&m->dst, &all_nodes, 16) == 0)
		return 1;
	if (!is_unspec(group) && memcmp(&m->dst, group, 16) == 0)
		return 1;
	return m->dst_local && !is_mcast(&m->dst) && !is_unspec(&m->dst);
}

int mld_input_icmp(struct mld_engine *e, uint32_t ifindex, const struct mld_rx_meta *m,
                   const uint8_t *icmp, size_t len, uint64_t now)
{
	struct link *l = find_link(e, ifindex);
	struct in6_addr group;
	uint8_t type;
	size_t nsrc = 0;

	e->st.rx_packets++;
	if (!l)
		return drop(e, MLD_DROP_NO_LINK);
	if (len < 4)
		return drop(e, MLD_DROP_TOO_SHORT);
	type = icmp[MLD_OFF_TYPE];
	if (type != MLD_ICMP_QUERY && type != MLD_ICMP_V1_REPORT && type != MLD_ICMP_V1_DONE &&
	    type != MLD_ICMP_V2_REPORT)
		return drop(e, MLD_DROP_NOT_MLD);

	/* Errata 5: every check comes before any state is touched. */
	if (m->hop_limit != 1)
		return drop(e, MLD_DROP_HOP_LIMIT);
	if (!m->router_alert)
		return drop(e, MLD_DROP_NO_RA);
	if (type == MLD_ICMP_QUERY) {
		if (!is_linklocal(&m->src)) /* RFC 3810 §5.1.14 */
			return drop(e, MLD_DROP_SRC);
		if (len != MLD_V1_LEN && len < MLD_V2_QUERY_MIN_LEN)
			return drop(e, MLD_DROP_LEN);
		if (len >= MLD_V2_QUERY_MIN_LEN) {
			nsrc = get16(icmp + MLD_OFF_NSRC);
			if (len < MLD_V2_QUERY_MIN_LEN + nsrc * MLD_ADDR_LEN)
				return drop(e, MLD_DROP_LEN);
		}
	} else {
		/* Reports and Done: RFC 3590 allows :: as well. */
		if (!is_linklocal(&m->src) && !is_unspec(&m->src))
			return drop(e, MLD_DROP_SRC);
		if (type != MLD_ICMP_V2_REPORT && len < MLD_V1_LEN)
			return drop(e, MLD_DROP_LEN);
		if (type == MLD_ICMP_V2_REPORT && len < MLD_V2_REPORT_HDR_LEN)
			return drop(e, MLD_DROP_LEN);
	}
	if (!m->csum_verified && mld_icmp6_csum(&m->src, &m->dst, icmp, len) != 0)
		return drop(e, MLD_DROP_CSUM);

	if (type == MLD_ICMP_V1_DONE || type == MLD_ICMP_V2_REPORT) {
		/* Other hosts' Done and v2 reports mean nothing to a host:
		 * MLDv2 has no host suppression (RFC 3810 §6). */
		return MLD_OK;
	}
	memcpy(&group, icmp + MLD_OFF_GROUP, 16);

	if (type == MLD_ICMP_V1_REPORT) {
		struct group *g;

		if (!is_mcast(&group))
			return drop(e, MLD_DROP_GROUP);
		if (memcmp(&group, &m->dst, 16) != 0)
			return drop(e, MLD_DROP_DST);
		e->st.rx_v1_reports++;
		/* Our own report looped back: not another listener. */
		if (memcmp(&m->src, link_src(l), 16) == 0)
			return MLD_OK;
		if (l->version != 1 || !l->up)
			return MLD_OK; /* v2: no suppression by v1 reports; down: not heard */
		g = tbl_find(e, l, &group);
		if (!g)
			return MLD_OK;
		/* Seed mld_v1_input_report. */
		switch (g->state) {
		case MLD_REPORTING_MEMBER:
		case MLD_IDLE_MEMBER:
		case MLD_AWAKENING_MEMBER:
		case MLD_LAZY_MEMBER:
			g->qr_due = 0;
			clear_sc(g); /* also the unsolicited repeats: they are suppressed */
			set_state(l, g, MLD_LAZY_MEMBER);
			heap_update(l, g);
			break;
		default:
			break; /* NOT, SILENT, SLEEPING, G/SG pending, LEAVING */
		}
		return MLD_OK;
	}

	/* Query. */
	if (!is_unspec(&group) && !is_mcast(&group))
		return drop(e, MLD_DROP_GROUP);
	if (is_unspec(&group) && nsrc)
		return drop(e, MLD_DROP_GQ_SOURCES);
	if (!query_dst_ok(m, &group))
		return drop(e, MLD_DROP_DST);

	if (len == MLD_V1_LEN) {
		if (l->tun.force_version == 2)
			return drop(e, MLD_DROP_VERSION); /* RFC 3810 §10: forged v1 queries */
		e->st.rx_v1_queries++;
		if (is_unspec(&group))
			l->querier = m->src; /* an MLDv1 querier's (RFC 2710 §4) */
		if (l->tun.force_version != 1) {
			enter_v1(e, l);
			/* Errata 4: one unit (ms) for RV·QI + QRI. */
			l->v1_until =
			    now + (uint64_t)link_rv(l) * (l->l_qi_ms ? l->l_qi_ms : l->tun.qi_ms) +
			    (l->l_qri_ms ? l->l_qri_ms : l->tun.qri_ms);
		}
		/* The v1 Maximum Response Delay is plain milliseconds. */
		v1_query(e, l, &group, &m->dst, get16(icmp + MLD_OFF_MRC), now, 0);
		return MLD_OK;
	}

	/* MLDv2 query: decode (errata 1–3), then act. */
	{
		uint32_t mrd = mld_mrc_to_ms(get16(icmp + MLD_OFF_MRC));
		uint8_t qrv = icmp[MLD_OFF_SQRV] & MLD_QUERY_QRV_MASK;
		uint32_t qqi = mld_qqic_to_s(icmp[MLD_OFF_QQIC]);
		struct group *g = NULL;

		if (!is_unspec(&group)) {
			g = tbl_find(e, l, &group);
			/* A throttled query is dropped before it can teach us
			 * anything: a forged flood must not set RV, QI or QRI. */
			if (g && nsrc && l->version == 2 && gs_throttle(l, g, &m->src, now))
				return drop(e, MLD_DROP_THROTTLED);
		}
		if (is_unspec(&group)) {
			e->st.rx_v2_general++;
			l->querier = m->src; /* RFC 3810 §7.6.2: the querier's */
		} else if (nsrc) {
			e->st.rx_v2_group_source++;
		} else {
			e->st.rx_v2_group++;
		}
		/* QRV 0 keeps what we had; 1 is legal (errata 3). QQIC 0 likewise.
		 * The QRI is the delay of general queries (RFC 3810 §9.3); a
		 * group query carries the Last Listener Query Interval. */
		if (qrv)
			l->l_rv = qrv;
		if (qqi)
			l->l_qi_ms = qqi * 1000;
		if (is_unspec(&group))
			l->l_qri_ms = mrd;

		if (l->version == 1) {
			/* Errata 7: RFC 3810 §8.2.1 — in MLDv1 compatibility mode
			 * the host speaks only MLDv1, and an MLDv1 host reads a
			 * v2 query as a v1 query (RFC 3810 §8.1). So: answer with
			 * v1 reports, without re-arming the Older Version
			 * Querier Present timer (this is no v1 querier). */
			v1_query(e, l, &group, &m->dst, mrd, now, 1);
			return MLD_OK;
		}
		if (is_unspec(&group)) {
			v2_general_query(e, l, mrd, now);
			return MLD_OK;
		}
		if (!g) {
			e->st.rx_ignored_not_member++;
			return MLD_OK;
		}
		v2_group_query(e, l, g, mrd, (const struct in6_addr *)(icmp + MLD_OFF_QSRC), nsrc,
		               now);
	}
	return MLD_OK;
}

int mld_input_packet(struct mld_engine *e, uint32_t ifindex, const uint8_t *pkt, size_t len,
                     uint64_t now)
{
	struct mld_rx_meta m;
	const uint8_t *icmp;
	size_t icmplen;
	struct link *l;
	int reason;

	if (mld_parse_ipv6(pkt, len, &m, &icmp, &icmplen, &reason) < 0) {
		e->st.rx_packets++;
		return drop(e, reason);
	}
	/* The one unicast address of the link the engine knows: its valid
	 * link-local (not a tentative one: not assigned yet, RFC 4862 §5.4). */
	l = find_link(e, ifindex);
	m.dst_local = l && l->ll_state == MLD_LL_VALID && memcmp(&m.dst, &l->lladdr, 16) == 0;
	return mld_input_icmp(e, ifindex, &m, icmp, icmplen, now);
}

/* ------------------------------------------------------------------ */
/* Timers                                                             */
/* ------------------------------------------------------------------ */

/* Answer to a pending group or group-and-source query (RFC 3810 §6.3). */
static void answer_query(struct mld_engine *e, struct mld_report_builder *rb, struct link *l,
                         struct group *g)
{
	if (g->state == MLD_G_QUERY_PENDING_MEMBER) {
		add_current_state(rb, g);
	} else if (g->state == MLD_SG_QUERY_PENDING_MEMBER && !ensure_tmp(e, g->nrec)) {
		/* Errata 15: INCLUDE(A) → IS_IN(A∩Q); EXCLUDE(A) → IS_IN(Q−A). */
		size_t n = g->mode == MLD_FMODE_INCLUDE
		               ? srcset_inter(g->rec, g->nrec, g->srcs, g->nsrc, e->tmp[0])
		               : srcset_minus(g->rec, g->nrec, g->srcs, g->nsrc, e->tmp[0]);

		if (n)
			rb_add(rb, MLD_MODE_IS_INCLUDE, &g->addr, e->tmp[0], n);
	}
	clear_recorded(g);
	set_state(l, g, MLD_REPORTING_MEMBER);
	g->flags |= G_ANNOUNCED;
}

static void group_timers(struct mld_engine *e, struct link *l, struct group *g, uint64_t now,
                         struct mld_report_builder *cs, struct mld_report_builder *sc)
{
	int qr = g->qr_due && g->qr_due <= now;
	int scx = g->sc_due && g->sc_due <= now;

	if (qr)
		g->qr_due = 0;
	if (scx)
		g->sc_due = 0;
	if (l->version == 1) {
		/* Seed mld_v1_process_group_timer, plus errata 10's repeats. */
		if (qr && g->state == MLD_REPORTING_MEMBER) {
			send_v1(e, l, g, MLD_ICMP_V1_REPORT);
			set_state(l, g, MLD_IDLE_MEMBER);
		}
		if (scx && g->sc_mode_pending) {
			if (g->state == MLD_LEAVING_MEMBER) {
				send_v1(e, l, g, MLD_ICMP_V1_DONE);
				group_delete(e, l, g);
				return;
			}
			send_v1(e, l, g, MLD_ICMP_V1_REPORT);
			if (g->state == MLD_REPORTING_MEMBER && !g->qr_due)
				set_state(l, g, MLD_IDLE_MEMBER);
			if (--g->sc_mode_pending)
				g->sc_due = now + rand_between(e, 1, l->tun.v1_uri_ms);
		}
		heap_update(l, g);
		return;
	}
	/* Seed mld_v2_process_group_timers. */
	if (qr)
		answer_query(e, cs, l, g);
	if (scx) {
		add_state_change(e, sc, g);
		if (sc_remaining(g))
			g->sc_due = now + rand_between(e, 1, l->tun.uri_ms);
		else if (g->state == MLD_LEAVING_MEMBER) {
			group_delete(e, l, g);
			return;
		}
	}
	heap_update(l, g);
}

static void link_timeout(struct mld_engine *e, struct link *l, uint64_t now)
{
	struct mld_report_builder cs, sc;
	uint8_t *scbuf;

	if (l->version == 1 && l->v1_until && l->v1_until <= now && l->tun.force_version != 1)
		enter_v2(e, l);
	if (l->gq_due && l->gq_due <= now)
		gq_start(e, l, now);
	if (l->gq_active && l->gq_next <= now)
		gq_burst(e, l, now);
	if (heap_top(l) > now)
		return;
	/* Records of all groups due now share packets: current-state answers
	 * in one report stream, state changes in another. */
	scbuf = e->pktbuf + e->pktcap / 2;
	rb_start(e, l, &cs, e->pktbuf);
	rb_init(&sc, scbuf, l->mtu, link_src(l), emit_report, e);
	while (heap_top(l) <= now)
		group_timers(e, l, &l->g[l->heap[0].idx], now, &cs, &sc);
	rb_flush(&cs);
	rb_flush(&sc);
}

void mld_timeout(struct mld_engine *e, uint64_t now)
{
	struct link *l;

	for (l = e->links; l; l = l->next)
		link_timeout(e, l, now);
}

uint64_t mld_next_deadline(const struct mld_engine *e)
{
	const struct link *l;
	uint64_t best = UINT64_MAX;

	for (l = e->links; l; l = l->next) {
		if (l->version == 1 && l->v1_until && l->tun.force_version != 1 &&
		    l->v1_until < best)
			best = l->v1_until;
		if (l->gq_due && l->gq_due < best)
			best = l->gq_due;
		if (l->gq_active && l->gq_next < best)
			best = l->gq_next;
		if (heap_top(l) < best)
			best = heap_top(l);
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* Links                                                              */
/* ------------------------------------------------------------------ */

static int ensure_pktbuf(struct mld_engine *e, uint32_t mtu)
{
	/* Two packets under construction at once (current-state and
	 * state-change streams of one link). */
	size_t need = (((size_t)mtu + 7) & ~(size_t)7) * 2; /* halves 8-byte aligned */
	uint8_t *p;

	if (need <= e->pktcap)
		return 0;
	p = realloc(e->pktbuf, need);
	if (!p)
		return -1;
	e->pktbuf = p;
	e->pktcap = need;
	return 0;
}

int mld_link_add(struct mld_engine *e, uint32_t ifindex, uint32_t mtu, uint32_t flags, uint64_t now)
{
	struct link *l;

	(void)now;
	if (!ifindex || (flags & ~MLD_LINK_SILENT))
		return MLD_E_INVAL;
	if (find_link(e, ifindex))
		return MLD_E_LINKEXIST;
	if (mtu < MLD_IPV6_MIN_MTU || mtu > 65535)
		return MLD_E_MTU;
	if (ensure_pktbuf(e, mtu) < 0)
		return MLD_E_NOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		return MLD_E_NOMEM;
	l->ifindex = ifindex;
	l->mtu = mtu;
	l->flags = flags;
	l->up = 1;
	l->tun = e->def;
	l->version = l->tun.force_version == 1 ? 1 : 2;
	l->gfree = NO_POS;
	l->next = e->links;
	e->links = l;
	return MLD_OK;
}

int mld_link_remove(struct mld_engine *e, uint32_t ifindex)
{
	struct link **pp;

	for (pp = &e->links; *pp; pp = &(*pp)->next) {
		if ((*pp)->ifindex == ifindex) {
			struct link *l = *pp;

			uint32_t i;

			*pp = l->next;
			for (i = 0; i < l->ghigh; i++)
				if (l->g[i].flags & G_USED)
					release_members(e, &l->g[i]);
			tbl_free(l);
			free(l);
			return MLD_OK;
		}
	}
	return MLD_E_NOLINK;
}

/* Every held group tells the network again (link up, address valid, not
 * silent any more). */
static void announce_all(struct mld_engine *e, struct link *l, uint64_t now)
{
	uint32_t i;

	l->gq_due = 0;
	l->gq_active = 0;
	for (i = 0; i < l->ghigh; i++) {
		struct group *g = &l->g[i];

		if (!(g->flags & G_USED))
			continue;
		gq_forget(l, g);
		if (g->state == MLD_LEAVING_MEMBER) {
			group_delete(e, l, g);
			continue;
		}
		if (!group_reportable(&g->addr) || !link_can_report(l)) {
			set_state(l, g, MLD_SILENT_MEMBER);
			continue;
		}
		announce(l, g, now);
	}
}

int mld_link_set_up(struct mld_engine *e, uint32_t ifindex, int up, uint64_t now)
{
	struct link *l = find_link(e, ifindex);
	uint32_t i;

	if (!l)
		return MLD_E_NOLINK;
	up = !!up;
	if (l->up == up)
		return MLD_OK;
	l->up = up;
	if (up) {
		announce_all(e, l, now);
		return MLD_OK;
	}
	l->gq_due = 0;
	l->gq_active = 0;
	for (i = 0; i < l->ghigh; i++) {
		struct group *g = &l->g[i];

		if (!(g->flags & G_USED))
			continue;
		gq_forget(l, g);
		if (g->state == MLD_LEAVING_MEMBER) {
			group_delete(e, l, g);
			continue;
		}
		clear_sc(g);
		clear_recorded(g);
		g->qr_due = 0;
		heap_update(l, g);
		if (g->state != MLD_SILENT_MEMBER)
			set_state(l, g, MLD_SLEEPING_MEMBER);
	}
	return MLD_OK;
}

int mld_link_set_mtu(struct mld_engine *e, uint32_t ifindex, uint32_t mtu)
{
	struct link *l = find_link(e, ifindex);

	if (!l)
		return MLD_E_NOLINK;
	if (mtu < MLD_IPV6_MIN_MTU || mtu > 65535)
		return MLD_E_MTU;
	if (ensure_pktbuf(e, mtu) < 0)
		return MLD_E_NOMEM;
	l->mtu = mtu;
	return MLD_OK;
}

int mld_link_set_silent(struct mld_engine *e, uint32_t ifindex, int silent, uint64_t now)
{
	struct link *l = find_link(e, ifindex);
	uint32_t want;

	if (!l)
		return MLD_E_NOLINK;
	want = silent ? (l->flags | MLD_LINK_SILENT) : (l->flags & ~(uint32_t)MLD_LINK_SILENT);
	if (want == l->flags)
		return MLD_OK;
	l->flags = want;
	if (silent) {
		uint32_t i;

		l->gq_due = 0;
		l->gq_active = 0;
		for (i = 0; i < l->ghigh; i++) {
			struct group *g = &l->g[i];

			if (!(g->flags & G_USED))
				continue;
			if (g->state == MLD_LEAVING_MEMBER) {
				group_delete(e, l, g);
				continue;
			}
			clear_sc(g);
			clear_recorded(g);
			g->qr_due = 0;
			heap_update(l, g);
			set_state(l, g, MLD_SILENT_MEMBER);
		}
		return MLD_OK;
	}
	if (l->up)
		announce_all(e, l, now);
	else
		mld_link_set_up(e, ifindex, 0, now);
	return MLD_OK;
}

int mld_link_set_lladdr(struct mld_engine *e, uint32_t ifindex, enum mld_ll_state st,
                        const struct in6_addr *addr, uint64_t now)
{
	struct link *l = find_link(e, ifindex);
	int was_valid;

	if (!l)
		return MLD_E_NOLINK;
	if (st != MLD_LL_NONE && st != MLD_LL_TENTATIVE && st != MLD_LL_VALID)
		return MLD_E_INVAL;
	if (st != MLD_LL_NONE && (!addr || !is_linklocal(addr)))
		return MLD_E_INVAL;
	was_valid = l->ll_state == MLD_LL_VALID;
	l->ll_state = st;
	if (st != MLD_LL_NONE)
		l->lladdr = *addr;
	else
		memset(&l->lladdr, 0, sizeof(l->lladdr));
	/* RFC 3590 lets us report from :: meanwhile; once the address is
	 * usable, say it all again from it, as Linux does after DAD, because
	 * some routers and snoopers ignore reports from ::. */
	if (st == MLD_LL_VALID && !was_valid && link_can_report(l))
		announce_all(e, l, now);
	return MLD_OK;
}

int mld_link_set_tunables(struct mld_engine *e, uint32_t ifindex, const struct mld_tunables *t)
{
	struct link *l = find_link(e, ifindex);
	const char *why;

	if (!l)
		return MLD_E_NOLINK;
	if (mld_tunables_check(t, &why))
		return MLD_E_INVAL;
	if (t->max_groups < l->count - l->leaving)
		return MLD_E_LIMIT_GROUPS;
	l->tun = *t;
	if (t->force_version == 1) {
		enter_v1(e, l);
		l->v1_until = 0; /* not used while forced; must not go stale */
	} else if (l->version == 1 && (t->force_version == 2 || !l->v1_until))
		enter_v2(e, l); /* forced v2, or forced v1 lifted with no v1 querier heard */
	return MLD_OK;
}

int mld_link_set_ifindex(struct mld_engine *e, uint32_t ifindex, uint32_t new_ifindex)
{
	struct link *l = find_link(e, ifindex);

	if (!l)
		return MLD_E_NOLINK;
	if (!new_ifindex)
		return MLD_E_INVAL;
	if (new_ifindex != ifindex && find_link(e, new_ifindex))
		return MLD_E_LINKEXIST;
	l->ifindex = new_ifindex;
	return MLD_OK;
}

/* ------------------------------------------------------------------ */
/* Engine                                                             */
/* ------------------------------------------------------------------ */

void mld_tunables_default(struct mld_tunables *t)
{
	memset(t, 0, sizeof(*t));
	t->rv = 2;
	t->qi_ms = 125000;
	t->qri_ms = 10000;
	t->uri_ms = 1000;
	t->v1_uri_ms = 10000;
	t->gsr_delay_ms = 10000;
	t->force_version = 0;
	t->max_groups = 1u << 20;
	t->max_srcs_per_group = 512;
	t->max_srcs_per_listener = 128;
}

int mld_tunables_check(const struct mld_tunables *t, const char **why)
{
	const char *w = NULL;

	if (t->rv < 1 || t->rv > 7)
		w = "rv must be 1..7";
	else if (t->qi_ms < 1000 || t->qi_ms > 31744000)
		w = "qi must be 1 s..31744 s (the largest QQIC)";
	else if (t->qri_ms > 8387584 || t->qri_ms >= t->qi_ms)
		w = "qri must be below qi and at most 8387.584 s (the largest MRC)";
	else if (t->uri_ms < 1 || t->uri_ms > 3600000)
		w = "uri must be 1 ms..1 h";
	else if (t->v1_uri_ms < 1 || t->v1_uri_ms > 3600000)
		w = "v1-uri must be 1 ms..1 h";
	else if (t->gsr_delay_ms > 59000)
		w = "gsr-delay must be 0..59 s (0 = off)";
	else if (t->force_version > 2)
		w = "force-version must be 0 (auto), 1 or 2";
	else if (t->max_groups < 1 || t->max_groups > 16u << 20)
		w = "max-groups must be 1..16777216";
	else if (t->max_srcs_per_group < 1 || t->max_srcs_per_group > 65535)
		w = "max-sources-per-group must be 1..65535";
	else if (t->max_srcs_per_listener < 1 || t->max_srcs_per_listener > 65535)
		w = "max-sources-per-listener must be 1..65535";
	if (why)
		*why = w;
	return w ? MLD_E_INVAL : MLD_OK;
}

struct mld_engine *mld_engine_new(const struct mld_tunables *defaults, mld_rand_fn rnd,
                                  void *rnd_ctx, mld_tx_fn tx, void *tx_ctx)
{
	struct mld_engine *e;

	if (!rnd || !tx)
		return NULL;
	if (defaults && mld_tunables_check(defaults, NULL))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (defaults)
		e->def = *defaults;
	else
		mld_tunables_default(&e->def);
	e->rnd = rnd;
	e->rnd_ctx = rnd_ctx;
	e->tx = tx;
	e->tx_ctx = tx_ctx;
	e->hkey = ((uint64_t)rnd(rnd_ctx) << 32) | rnd(rnd_ctx);
	return e;
}

void mld_engine_free(struct mld_engine *e)
{
	uint32_t i;
	int k;

	if (!e)
		return;
	while (e->links)
		mld_link_remove(e, e->links->ifindex);
	for (i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	free(e->nref);
	free(e->freeids);
	free(e->nidx);
	free(e->pktbuf);
	for (k = 0; k < 3; k++)
		free(e->tmp[k]);
	free(e);
}

const char *mld_strerror(int err)
{
	switch (err) {
	case MLD_OK:
		return "success";
	case MLD_E_INVAL:
		return "invalid argument";
	case MLD_E_NOLINK:
		return "no such link";
	case MLD_E_LINKEXIST:
		return "link already added";
	case MLD_E_NOTMCAST:
		return "not a multicast address";
	case MLD_E_EXIST:
		return "already present";
	case MLD_E_NOENT:
		return "not present";
	case MLD_E_MODE:
		return "operation needs the other filter mode";
	case MLD_E_LIMIT_GROUPS:
		return "too many groups on this link (max-groups)";
	case MLD_E_LIMIT_SRCS_GROUP:
		return "too many sources for this group (max-sources-per-group)";
	case MLD_E_LIMIT_SRCS_LISTENER:
		return "too many sources for this listener (max-sources-per-listener)";
	case MLD_E_NOMEM:
		return "out of memory";
	case MLD_E_NAME:
		return "bad listener name (1-63 of A-Z a-z 0-9 - _ . : / @)";
	case MLD_E_MTU:
		return "MTU outside 1280..65535";
	}
	return "unknown error";
}
