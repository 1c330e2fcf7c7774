/* SPDX-License-Identifier: BSD-2-Clause */
/* Read-only views of the engine: counters, per-link and per-group state, a
 * canonical dump. Nothing here changes state. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mld_internal.h"

static const struct link *cfind(const struct mld_engine *e, uint32_t ifindex)
{
	const struct link *l;

	for (l = e->links; l; l = l->next)
		if (l->ifindex == ifindex)
			return l;
	return NULL;
}

void mld_stats_get(const struct mld_engine *e, struct mld_stats *out)
{
	*out = e->st;
	out->listeners = e->nlive;
}

const char *mld_drop_name(int r)
{
	static const char *const n[MLD_DROP_COUNT] = {
	    [MLD_DROP_TOO_SHORT] = "too_short",
	    [MLD_DROP_BAD_IPV6] = "bad_ipv6",
	    [MLD_DROP_EXT_HDR] = "bad_ext_hdr",
	    [MLD_DROP_FRAGMENT] = "fragment",
	    [MLD_DROP_NOT_ICMPV6] = "not_icmpv6",
	    [MLD_DROP_NOT_MLD] = "not_mld",
	    [MLD_DROP_HOP_LIMIT] = "hop_limit",
	    [MLD_DROP_NO_RA] = "no_router_alert",
	    [MLD_DROP_SRC] = "bad_source",
	    [MLD_DROP_CSUM] = "bad_checksum",
	    [MLD_DROP_LEN] = "bad_length",
	    [MLD_DROP_GROUP] = "bad_group",
	    [MLD_DROP_GQ_SOURCES] = "gq_with_sources",
	    [MLD_DROP_DST] = "bad_destination",
	    [MLD_DROP_NO_LINK] = "no_link",
	    [MLD_DROP_VERSION] = "version_forced",
	    [MLD_DROP_THROTTLED] = "gs_throttled",
	};

	return r >= 0 && r < MLD_DROP_COUNT ? n[r] : "?";
}

const char *mld_state_name(int s)
{
	static const char *const n[MLD_STATE_COUNT] = {
	    "NOT",       "SILENT",          "REPORTING",        "IDLE",    "LAZY", "SLEEPING",
	    "AWAKENING", "G_QUERY_PENDING", "SG_QUERY_PENDING", "LEAVING",
	};

	return s >= 0 && s < MLD_STATE_COUNT ? n[s] : "?";
}

static void fill_link(const struct link *l, struct mld_link_info *o)
{
	memset(o, 0, sizeof(*o));
	o->ifindex = l->ifindex;
	o->mtu = l->mtu;
	o->flags = l->flags;
	o->up = l->up;
	o->ll_state = l->ll_state;
	o->lladdr = l->lladdr;
	o->version = l->version;
	o->v1_present_until = l->version == 1 ? l->v1_until : 0;
	o->gq_due = l->gq_due;
	o->gq_active = l->gq_active;
	o->learned_rv = l->l_rv;
	o->learned_qi_ms = l->l_qi_ms;
	o->learned_qri_ms = l->l_qri_ms;
	o->querier = l->querier;
	o->groups = l->count;
	o->groups_leaving = l->leaving;
	o->tun = l->tun;
}

int mld_link_info(const struct mld_engine *e, uint32_t ifindex, struct mld_link_info *out)
{
	const struct link *l = cfind(e, ifindex);

	if (!l)
		return MLD_E_NOLINK;
	fill_link(l, out);
	return MLD_OK;
}

static void fill_group(const struct group *g, struct mld_group_info *o)
{
	memset(o, 0, sizeof(*o));
	o->group = g->addr;
	o->state = g->state;
	o->mode = g->mode;
	o->nsrc = g->nsrc;
	o->srcs = g->srcs;
	o->nlisteners = g->nmembers;
	o->query_due = g->qr_due;
	o->sc_due = g->sc_due;
	o->sc_mode_pending = g->sc_mode_pending;
	o->npending_srcs = g->npend;
	o->nrecorded = g->nrec;
}

int mld_group_info(const struct mld_engine *e, uint32_t ifindex, const struct in6_addr *group,
                   struct mld_group_info *out)
{
	const struct link *l = cfind(e, ifindex);
	const struct group *g;

	if (!l)
		return MLD_E_NOLINK;
	g = tbl_find(e, l, group);
	if (!g)
		return MLD_E_NOENT;
	fill_group(g, out);
	return MLD_OK;
}

int mld_group_listeners(const struct mld_engine *e, uint32_t ifindex, const struct in6_addr *group,
                        int (*cb)(void *ctx, const struct mld_listener_info *l), void *ctx)
{
	const struct link *l = cfind(e, ifindex);
	const struct group *g;
	uint16_t i;

	if (!l)
		return MLD_E_NOLINK;
	g = tbl_find(e, l, group);
	if (!g)
		return MLD_E_NOENT;
	for (i = 0; i < g->nmembers; i++) {
		struct mld_listener_info li = {
		    .name = e->names[g->members[i].lid],
		    .mode = g->members[i].mode,
		    .nsrc = g->members[i].nsrc,
		    .srcs = g->members[i].srcs,
		};

		if (cb(ctx, &li))
			break;
	}
	return MLD_OK;
}

int mld_link_groups(const struct mld_engine *e, uint32_t ifindex,
                    int (*cb)(void *ctx, const struct mld_group_info *g), void *ctx)
{
	const struct link *l = cfind(e, ifindex);
	uint32_t i;

	if (!l)
		return MLD_E_NOLINK;
	for (i = 0; i < l->ghigh; i++) {
		struct mld_group_info gi;

		if (!(l->g[i].flags & G_USED))
			continue;
		fill_group(&l->g[i], &gi);
		if (cb(ctx, &gi))
			break;
	}
	return MLD_OK;
}

void mld_links(const struct mld_engine *e, int (*cb)(void *ctx, const struct mld_link_info *l),
               void *ctx)
{
	const struct link *l;

	for (l = e->links; l; l = l->next) {
		struct mld_link_info li;

		fill_link(l, &li);
		if (cb(ctx, &li))
			break;
	}
}

static void put_addrs(FILE *f, const struct in6_addr *a, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	fputc('{', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", inet_ntop(AF_INET6, &a[i], buf, sizeof(buf)));
	fputc('}', f);
}

static int cmp_group_ptr(const void *a, const void *b)
{
	const struct group *x = *(const struct group *const *)a,
	                   *y = *(const struct group *const *)b;

	return memcmp(&x->addr, &y->addr, 16);
}

void mld_engine_dump(const struct mld_engine *e, FILE *f)
{
	const struct link *l;
	char buf[INET6_ADDRSTRLEN];

	for (l = e->links; l; l = l->next) {
		const struct group **v = malloc((l->count + 1) * sizeof(*v));
		uint32_t i, n = 0;

		fprintf(f,
		        "link %u mtu %u flags %u up %d ll %d %s v%d v1_until %llu gq_due %llu "
		        "gq_active %d rv %u qi %u qri %u groups %u",
		        l->ifindex, l->mtu, l->flags, l->up, l->ll_state,
		        inet_ntop(AF_INET6, &l->lladdr, buf, sizeof(buf)), l->version,
		        (unsigned long long)l->v1_until, (unsigned long long)l->gq_due,
		        l->gq_active, l->l_rv, l->l_qi_ms, l->l_qri_ms, l->count);
		fprintf(f, " querier %s\n", inet_ntop(AF_INET6, &l->querier, buf, sizeof(buf)));
		if (!v)
			continue;
		for (i = 0; i < l->ghigh; i++)
			if (l->g[i].flags & G_USED)
				v[n++] = &l->g[i];
		qsort(v, n, sizeof(*v), cmp_group_ptr);
		for (i = 0; i < n; i++) {
			const struct group *g = v[i];
			uint16_t m;
			uint32_t k;

			fprintf(
			    f, " group %s %s %s ", inet_ntop(AF_INET6, &g->addr, buf, sizeof(buf)),
			    mld_state_name(g->state), g->mode == MLD_FMODE_EXCLUDE ? "EX" : "IN");
			put_addrs(f, g->srcs, g->nsrc);
			fprintf(f, " qr %llu sc %llu scm %u flags %u tok %u/%u/%llu rec ",
			        (unsigned long long)g->qr_due, (unsigned long long)g->sc_due,
			        g->sc_mode_pending, g->flags, g->gs_tokens, g->gs_qtokens,
			        (unsigned long long)g->gs_refill);
			put_addrs(f, g->rec, g->nrec);
			fprintf(f, " pend");
			for (k = 0; k < g->npend; k++)
				fprintf(f, " %s/%u",
				        inet_ntop(AF_INET6, &g->pend[k].addr, buf, sizeof(buf)),
				        g->pend[k].count);
			fputc('\n', f);
			for (m = 0; m < g->nmembers; m++) {
				fprintf(f, "  listener %s %s ", e->names[g->members[m].lid],
				        g->members[m].mode == MLD_FMODE_EXCLUDE ? "EX" : "IN");
				put_addrs(f, g->members[m].srcs, g->members[m].nsrc);
				fputc('\n', f);
			}
		}
		free(v);
	}
}

size_t mld_engine_mem(const struct mld_engine *e)
{
	const struct link *l;
	size_t n = sizeof(*e) + e->pktcap + 3 * e->tmpcap * sizeof(struct in6_addr);

	for (l = e->links; l; l = l->next) {
		uint32_t i;

		n += sizeof(*l) +
		     (size_t)l->gcap * (sizeof(struct group) + sizeof(struct heap_ent)) +
		     (size_t)l->hcap * sizeof(uint32_t);
		for (i = 0; i < l->ghigh; i++) {
			const struct group *g = &l->g[i];
			uint16_t m;

			if (!(g->flags & G_USED))
				continue;
			n += (size_t)g->nsrc * 16 + (size_t)g->nmembers * sizeof(struct member) +
			     (size_t)g->npend * sizeof(struct pend) + (size_t)g->nrec * 16;
			for (m = 0; m < g->nmembers; m++)
				n += (size_t)g->members[m].nsrc * 16;
		}
	}
	return n;
}
