/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control of the running daemon: the unix control socket that mldctl talks
 * to (one command per connection; the reply's first line is "ok" or
 * "error: …"), and installing a configuration as a diff against the one in
 * force. A refused command or configuration changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "mld_srcset.h"
#include "mldagent_abi.h"

/* ---------------- configuration ---------------- */

struct op {
	enum cfg_change kind;
	const char *link, *listener;
	const struct cfg_group *old_g, *new_g;
};

struct oplist {
	struct op *v;
	size_t n, cap;
	int oom;
};

static void collect_op(void *ctx, enum cfg_change kind, const char *link, const char *listener,
                       const struct cfg_group *old_g, const struct cfg_group *new_g)
{
	struct oplist *o = ctx;

	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		struct op *p = realloc(o->v, ncap * sizeof(*p));

		if (!p) {
			o->oom = 1;
			return;
		}
		o->v = p;
		o->cap = ncap;
	}
	o->v[o->n++] = (struct op){kind, link, listener, old_g, new_g};
}

/* Applies one membership filter (g NULL = leave) and keeps the XDP member
 * map and link-layer filter in step. */
static int apply_filter(struct agent *a, struct agent_link *l, const char *listener,
                        const struct in6_addr *group, const struct cfg_group *g)
{
	int was = link_group_held(a, l, group), rc;
	uint64_t now = agent_now_ms();

	if (g)
		rc = mld_set_filter(a->e, l->ifindex, listener, group, g->mode, g->srcs, g->nsrc,
		                    now);
	else
		rc = mld_leave(a->e, l->ifindex, listener, group, now);
	if (rc == MLD_OK)
		link_group_changed(a, l, group, was);
	return rc;
}

static int op_apply(struct agent *a, const struct op *op, int undo)
{
	struct agent_link *l = agent_link_by_name(a, op->link);
	const struct cfg_group *target;
	const struct in6_addr *group = op->new_g ? &op->new_g->group : &op->old_g->group;

	if (!l || !l->in_engine)
		return MLD_OK; /* applied when the link appears (cfg_replay_link) */
	if (!undo)
		target = op->kind == CFG_REMOVE ? NULL : op->new_g;
	else
		target = op->kind == CFG_ADD ? NULL : op->old_g;
	return apply_filter(a, l, op->listener, group, target);
}

static void link_tunables(const struct cfg *c, const char *name, struct mld_tunables *t)
{
	const struct cfg_link *cl = cfg_find_link(c, name);

	*t = cl ? cl->tun : c->tun;
	t->gsr_delay_ms = 0; /* XDP throttles; see mldagent.c */
}

/*
 * Dry run of a diff. The engine checks its limits per operation, and a
 * refused operation changes nothing; but a diff refused half-way has
 * already changed memberships whose reports are queued, and rolling them
 * back puts the change and its reversal on the wire (RFC 3810 §6.1: every
 * source that changed is reported, even if it changed back), so the network
 * sees a flap for a file that was "refused, state unchanged". So the diff
 * is first played on a model of each affected group, in the order it will
 * be applied, with the engine's own rules (do_op): a listener's sources
 * within max-sources-per-listener; the groups held after the diff within
 * max-groups (groups only sending their leave do not count); a filter
 * that is not a leave may not grow the merged filter (RFC 3810 §4.2)
 * beyond max-sources-per-group. Only an allocation failure can still need
 * the rollback.
 */
struct sim_member {
	const char *name;
	enum mld_fmode mode; /* 0: not a member (left) */
	size_t nsrc;
	struct in6_addr *srcs; /* own copy */
};

struct sim_group {
	struct sim_member *m;
	size_t n, cap;
	int oom;
};

static int sim_add_member(struct sim_group *sg, const char *name, enum mld_fmode mode,
                          const struct in6_addr *srcs, size_t nsrc)
{
	struct sim_member *x;

	if (sg->n == sg->cap) {
		size_t ncap = sg->cap ? sg->cap * 2 : 8;
		struct sim_member *p = realloc(sg->m, ncap * sizeof(*p));

		if (!p)
			return -1;
		sg->m = p;
		sg->cap = ncap;
	}
	x = &sg->m[sg->n];
	x->name = name;
	x->mode = mode;
	x->nsrc = nsrc;
	x->srcs = NULL;
	if (nsrc) {
		x->srcs = malloc(nsrc * sizeof(*srcs));
		if (!x->srcs)
			return -1;
		memcpy(x->srcs, srcs, nsrc * sizeof(*srcs));
	}
	sg->n++;
	return 0;
}

static int sim_collect(void *ctx, const struct mld_listener_info *li)
{
	struct sim_group *sg = ctx;
	char *name = strdup(li->name); /* the engine's is valid until its next call */

	if (!name || sim_add_member(sg, name, li->mode, li->srcs, li->nsrc) < 0) {
		free(name);
		sg->oom = 1;
		return 1;
	}
	return 0;
}

/* The first engine_members names were strdup'ed; the others are the ops'. */
static void sim_free(struct sim_group *sg, size_t engine_members)
{
	size_t i;

	for (i = 0; i < sg->n; i++) {
		free(sg->m[i].srcs);
		if (i < engine_members)
			free((char *)sg->m[i].name);
	}
	free(sg->m);
	memset(sg, 0, sizeof(*sg));
}

/* Merged source count (RFC 3810 §4.2, as the engine's merge_filter):
 * EXCLUDE if any member excludes, ∩(EXCLUDE lists) − ∪(INCLUDE lists),
 * else ∪(INCLUDE lists). Returns (size_t)-1 on allocation failure. */
static size_t sim_merged(const struct sim_group *sg)
{
	size_t total = 1, i, exn = 0, inn = 0, r;
	struct in6_addr *ex, *in, *t;
	int any_ex = 0;

	for (i = 0; i < sg->n; i++)
		total += sg->m[i].nsrc;
	ex = malloc(total * sizeof(*ex));
	in = malloc(total * sizeof(*in));
	t = malloc(total * sizeof(*t));
	if (!ex || !in || !t) {
		free(ex), free(in), free(t);
		return (size_t)-1;
	}
	for (i = 0; i < sg->n; i++) {
		const struct sim_member *x = &sg->m[i];

		if (x->mode == MLD_FMODE_EXCLUDE) {
			if (!any_ex) {
				if (x->nsrc)
					memcpy(ex, x->srcs, x->nsrc * sizeof(*ex));
				exn = x->nsrc;
				any_ex = 1;
			} else {
				exn = srcset_inter(ex, exn, x->srcs, x->nsrc, t);
				memcpy(ex, t, exn * sizeof(*t));
			}
		} else if (x->mode == MLD_FMODE_INCLUDE) {
			inn = srcset_union(in, inn, x->srcs, x->nsrc, t);
			memcpy(in, t, inn * sizeof(*t));
		}
	}
	r = any_ex ? srcset_minus(ex, exn, in, inn, t) : inn;
	free(ex), free(in), free(t);
	return r;
}

static const struct in6_addr *op_group(const struct op *op)
{
	return op->new_g ? &op->new_g->group : &op->old_g->group;
}

static int same_group(const struct op *x, const struct op *y)
{
	return !strcmp(x->link, y->link) &&
	       !memcmp(op_group(x), op_group(y), sizeof(struct in6_addr));
}

static const struct op *sort_ops; /* qsort has no context argument */

/* Groups the ops by (link, group), each group's in the diff's own order. */
static int cmp_op_index(const void *pa, const void *pb)
{
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct op *x = &sort_ops[ia], *y = &sort_ops[ib];
	int c = strcmp(x->link, y->link);

	if (!c)
		c = memcmp(op_group(x), op_group(y), sizeof(struct in6_addr));
	return c ? c : ia < ib ? -1 : ia > ib;
}

static int op_refused(const struct op *op, char *err, size_t errlen, const char *why)
{
	const struct cfg_group *g = op->new_g ? op->new_g : op->old_g;
	char b[INET6_ADDRSTRLEN];

	snprintf(err, errlen, "line %d: listener '%s' group %s on %s: %s", g->line, op->listener,
	         inet_ntop(AF_INET6, &g->group, b, sizeof(b)), op->link, why);
	return -1;
}

/* Plays one (link, group)'s ops ops->v[idx[i..j-1]] on a model of the
 * group; new_slots counts the groups this diff creates on the link and
 * freed_slots those it empties. */
static int dry_run_group(struct agent *a, struct agent_link *l, const struct mld_tunables *t,
                         const struct oplist *ops, const size_t *idx, size_t i, size_t j,
                         uint32_t *new_slots, uint32_t *freed_slots, char *err, size_t errlen)
{
	const struct in6_addr *group = op_group(&ops->v[idx[i]]);
	struct sim_group sg = {0};
	struct mld_group_info gi;
	size_t engine_members, cur_n = 0, k, m, gn;
	int exists, rc = 0, created = 0;

	/* A group only sending its leave holds no slot: re-joining takes one. */
	exists = mld_group_info(a->e, l->ifindex, group, &gi) == MLD_OK &&
	         gi.state != MLD_LEAVING_MEMBER;
	if (exists) {
		cur_n = gi.nsrc;
		mld_group_listeners(a->e, l->ifindex, group, sim_collect, &sg);
	}
	engine_members = sg.n;
	if (sg.oom)
		goto oom;
	for (k = i; k < j; k++) {
		const struct op *o = &ops->v[idx[k]];
		const struct cfg_group *ng = o->kind == CFG_REMOVE ? NULL : o->new_g;
		struct sim_member *x = NULL;

		for (m = 0; m < sg.n; m++)
			if (!strcmp(sg.m[m].name, o->listener))
				x = &sg.m[m];
		if (x) { /* replaced below, or left */
			free(x->srcs);
			x->srcs = NULL;
			x->mode = 0;
			x->nsrc = 0;
		}
		if (!ng) { /* a leave is never refused */
			if ((cur_n = sim_merged(&sg)) == (size_t)-1)
				goto oom;
			continue;
		}
		if (ng->nsrc > t->max_srcs_per_listener) {
			rc = op_refused(o, err, errlen, mld_strerror(MLD_E_LIMIT_SRCS_LISTENER));
			break;
		}
		if (!exists) {
			(*new_slots)++;
			exists = 1;
			created = 1;
		}
		if (!x) {
			if (sim_add_member(&sg, o->listener, 0, NULL, 0) < 0)
				goto oom;
			x = &sg.m[sg.n - 1];
		}
		if (ng->nsrc) {
			x->srcs = malloc(ng->nsrc * sizeof(*x->srcs));
			if (!x->srcs)
				goto oom;
			memcpy(x->srcs, ng->srcs, ng->nsrc * sizeof(*x->srcs));
		}
		x->mode = ng->mode;
		x->nsrc = ng->nsrc;
		if ((gn = sim_merged(&sg)) == (size_t)-1)
			goto oom;
		/* The engine refuses an addition that grows the merged filter
		 * beyond the limit (a shrinking one passes). */
		if (gn > t->max_srcs_per_group && gn > cur_n) {
			rc = op_refused(o, err, errlen, mld_strerror(MLD_E_LIMIT_SRCS_GROUP));
			break;
		}
		cur_n = gn;
	}
	/* A held group this diff empties goes LEAVING and frees its slot. */
	if (!rc && !created && engine_members) {
		for (m = 0; m < sg.n && !sg.m[m].mode; m++)
			;
		if (m == sg.n)
			(*freed_slots)++;
	}
	sim_free(&sg, engine_members);
	return rc;
oom:
	sim_free(&sg, engine_members);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int diff_dry_run(struct agent *a, const struct cfg *neu, const struct oplist *ops, char *err,
                        size_t errlen)
{
	uint32_t new_slots[AGENT_MAX_LINKS] = {0}, freed[AGENT_MAX_LINKS] = {0};
	size_t *idx, i, j;
	int rc = 0, k;

	if (!ops->n)
		return 0;
	idx = malloc(ops->n * sizeof(*idx));
	if (!idx) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < ops->n; i++)
		idx[i] = i;
	sort_ops = ops->v;
	qsort(idx, ops->n, sizeof(*idx), cmp_op_index);
	for (i = 0; i < ops->n && !rc; i = j) {
		struct agent_link *l = agent_link_by_name(a, ops->v[idx[i]].link);
		struct mld_tunables t;

		for (j = i + 1; j < ops->n && same_group(&ops->v[idx[i]], &ops->v[idx[j]]); j++)
			;
		if (!l || !l->in_engine)
			continue; /* applied when the link appears */
		link_tunables(neu, l->name, &t);
		rc = dry_run_group(a, l, &t, ops, idx, i, j, &new_slots[l - a->links],
		                   &freed[l - a->links], err, errlen);
	}
	free(idx);
	/* max-groups, as the engine counts it: groups only sending their leave
	 * do not count, and the diff's removals are applied before its
	 * additions (cfg_diff's order), so the slots they free are usable. */
	for (k = 0; !rc && k < a->nlinks; k++) {
		struct agent_link *l = &a->links[k];
		struct mld_link_info li;
		struct mld_tunables t;
		uint32_t held;

		if (!new_slots[k] || !l->in_engine || mld_link_info(a->e, l->ifindex, &li))
			continue;
		link_tunables(neu, l->name, &t);
		held = li.groups - li.groups_leaving - freed[k];
		if (held + new_slots[k] > t.max_groups) {
			snprintf(err, errlen,
			         "link %s: %s: %u groups held after the removals, the new "
			         "configuration adds %u (max-groups %u)",
			         l->name, mld_strerror(MLD_E_LIMIT_GROUPS), held, new_slots[k],
			         t.max_groups);
			rc = -1;
		}
	}
	return rc;
}

int cfg_install(struct agent *a, struct cfg *neu, char *err, size_t errlen)
{
	static const struct cfg empty;
	const struct cfg *old = a->have_cfg ? &a->cfg : &empty;
	struct mld_tunables saved[AGENT_MAX_LINKS];
	struct oplist ops = {0};
	size_t i;
	int k, rc = 0;

	for (i = 0; i < neu->nlisteners; i++) {
		if (!agent_link_by_name(a, neu->listeners[i].link)) {
			snprintf(err, errlen,
			         "line %d: listener '%s': link '%s' is not managed by this agent "
			         "(start it with -i %s)",
			         neu->listeners[i].line, neu->listeners[i].name,
			         neu->listeners[i].link, neu->listeners[i].link);
			goto refuse;
		}
	}
	for (i = 0; i < neu->nlinks; i++) {
		if (!agent_link_by_name(a, neu->links[i].name)) {
			snprintf(err, errlen,
			         "line %d: link '%s' is not managed by this agent; links are "
			         "added at start (-i or the config's links)",
			         neu->links[i].line, neu->links[i].name);
			goto refuse;
		}
	}
	cfg_diff(old, neu, collect_op, &ops);
	if (ops.oom) {
		snprintf(err, errlen, "out of memory");
		free(ops.v);
		goto refuse;
	}
	/* Refuse what the engine would refuse before anything is applied. */
	if (diff_dry_run(a, neu, &ops, err, errlen) < 0) {
		free(ops.v);
		goto refuse;
	}
	/* Tunables first, remembering the old ones for a rollback. */
	for (k = 0; k < a->nlinks; k++) {
		struct agent_link *l = &a->links[k];
		struct mld_link_info li;
		struct mld_tunables t;

		if (!l->in_engine || mld_link_info(a->e, l->ifindex, &li) != MLD_OK)
			continue;
		saved[k] = li.tun;
		link_tunables(neu, l->name, &t);
		rc = mld_link_set_tunables(a->e, l->ifindex, &t);
		if (rc != MLD_OK) {
			snprintf(err, errlen, "link %s: tunables refused: %s", l->name,
			         mld_strerror(rc));
			while (k-- > 0)
				if (a->links[k].in_engine)
					mld_link_set_tunables(a->e, a->links[k].ifindex, &saved[k]);
			free(ops.v);
			goto refuse;
		}
	}
	for (i = 0; i < ops.n; i++) {
		rc = op_apply(a, &ops.v[i], 0);
		if (rc != MLD_OK) {
			const struct cfg_group *g =
			    ops.v[i].new_g ? ops.v[i].new_g : ops.v[i].old_g;
			char b[INET6_ADDRSTRLEN];

			snprintf(err, errlen, "line %d: listener '%s' group %s on %s: %s", g->line,
			         ops.v[i].listener, inet_ntop(AF_INET6, &g->group, b, sizeof(b)),
			         ops.v[i].link, mld_strerror(rc));
			/* Roll back what was applied, newest first. */
			while (i-- > 0)
				op_apply(a, &ops.v[i], 1);
			break;
		}
	}
	if (rc != MLD_OK) {
		for (k = 0; k < a->nlinks; k++)
			if (a->links[k].in_engine)
				mld_link_set_tunables(a->e, a->links[k].ifindex, &saved[k]);
		free(ops.v);
		goto refuse;
	}
	free(ops.v);
	bpf_set_config(a, neu->tun.gsr_delay_ms, neu->tun.rv, neu->drop_throttled);
	if (a->have_cfg)
		cfg_free(&a->cfg);
	a->cfg = *neu;
	a->have_cfg = 1;
	agent_kick(a);
	return 0;
refuse:
	cfg_free(neu);
	return -1;
}

int cfg_apply(struct agent *a, const char *path, char *err, size_t errlen)
{
	struct cfg neu;

	if (cfg_load_file(path, &neu, err, errlen) < 0)
		return -1;
	return cfg_install(a, &neu, err, errlen);
}

void cfg_replay_link(struct agent *a, struct agent_link *l)
{
	size_t i, j;

	if (!a->have_cfg)
		return;
	for (i = 0; i < a->cfg.nlisteners; i++) {
		const struct cfg_listener *cl = &a->cfg.listeners[i];

		if (strcmp(cl->link, l->name))
			continue;
		for (j = 0; j < cl->ngroups; j++)
			if (apply_filter(a, l, cl->name, &cl->groups[j].group, &cl->groups[j]))
				agent_log("%s: listener %s: could not apply a configured group",
				          l->name, cl->name);
	}
}

/* ---------------- output helpers ---------------- */

struct out {
	char *buf;
	size_t len;
	FILE *f;
};

static const char *addr_str(const void *a, char *b)
{
	return inet_ntop(AF_INET6, a, b, INET6_ADDRSTRLEN);
}

static void put_srcs(FILE *f, const struct in6_addr *s, size_t n, int json)
{
	char b[INET6_ADDRSTRLEN];
	size_t i;

	fputs(json ? "[" : "{", f);
	for (i = 0; i < n; i++)
		fprintf(f, json ? "%s\"%s\"" : "%s%s", i ? (json ? "," : " ") : "",
		        addr_str(&s[i], b));
	fputs(json ? "]" : "}", f);
}

static int64_t rel(uint64_t due, uint64_t now)
{
	return due ? (int64_t)(due - now) : -1;
}

struct show_ctx {
	struct agent *a;
	FILE *f;
	int json;
	int first;
	uint64_t now;
	uint32_t ifindex;
};

static int show_listener(void *ctx, const struct mld_listener_info *li)
{
	struct show_ctx *c = ctx;
	const char *mode = li->mode == MLD_FMODE_EXCLUDE ? "exclude" : "include";

	if (c->json) {
		fprintf(c->f,
		        "%s{\"name\":\"%s\",\"mode\":\"%s\",\"sources\":", c->first ? "" : ",",
		        li->name, mode);
		put_srcs(c->f, li->srcs, li->nsrc, 1);
		fputc('}', c->f);
	} else {
		fprintf(c->f, "      listener %s %s ", li->name, mode);
		put_srcs(c->f, li->srcs, li->nsrc, 0);
		fputc('\n', c->f);
	}
	c->first = 0;
	return 0;
}

static int show_group(void *ctx, const struct mld_group_info *g)
{
	struct show_ctx *c = ctx;
	struct show_ctx lc = *c;
	char b[INET6_ADDRSTRLEN];
	const char *mode = g->mode == MLD_FMODE_EXCLUDE ? "exclude" : "include";

	if (c->json) {
		fprintf(c->f,
		        "%s{\"group\":\"%s\",\"mode\":\"%s\",\"sources\":", c->first ? "" : ",",
		        addr_str(&g->group, b), mode);
		put_srcs(c->f, g->srcs, g->nsrc, 1);
		fprintf(c->f,
		        ",\"state\":\"%s\",\"query_response_in_ms\":%lld,"
		        "\"state_change_in_ms\":%lld,\"pending_mode_records\":%u,"
		        "\"pending_sources\":%zu,\"listeners\":[",
		        mld_state_name(g->state), (long long)rel(g->query_due, c->now),
		        (long long)rel(g->sc_due, c->now), g->sc_mode_pending, g->npending_srcs);
		lc.first = 1;
		mld_group_listeners(c->a->e, c->ifindex, &g->group, show_listener, &lc);
		fputs("]}", c->f);
	} else {
		fprintf(c->f, "    group %s %s ", addr_str(&g->group, b), mode);
		put_srcs(c->f, g->srcs, g->nsrc, 0);
		fprintf(c->f, " state %s", mld_state_name(g->state));
		if (g->query_due)
			fprintf(c->f, " query-response in %lld ms",
			        (long long)rel(g->query_due, c->now));
		if (g->sc_due)
			fprintf(c->f, " state-change in %lld ms",
			        (long long)rel(g->sc_due, c->now));
		fputc('\n', c->f);
		mld_group_listeners(c->a->e, c->ifindex, &g->group, show_listener, &lc);
	}
	c->first = 0;
	return 0;
}

static void put_tunables(FILE *f, const struct mld_tunables *t, int json)
{
	if (json)
		fprintf(
		    f,
		    "{\"robustness\":%u,\"query_interval_ms\":%u,\"query_response_interval_ms\":%u,"
		    "\"unsolicited_report_interval_ms\":%u,\"v1_unsolicited_report_interval_ms\":%"
		    "u,"
		    "\"force_version\":%u,\"max_groups\":%u,\"max_sources_per_group\":%u,"
		    "\"max_sources_per_listener\":%u}",
		    t->rv, t->qi_ms, t->qri_ms, t->uri_ms, t->v1_uri_ms, t->force_version,
		    t->max_groups, t->max_srcs_per_group, t->max_srcs_per_listener);
	else
		fprintf(f,
		        "robustness %u query-interval %ums query-response-interval %ums "
		        "unsolicited-report-interval %ums force-version %s max-groups %u "
		        "max-sources-per-group %u max-sources-per-listener %u",
		        t->rv, t->qi_ms, t->qri_ms, t->uri_ms,
		        t->force_version ? (t->force_version == 1 ? "1" : "2") : "auto",
		        t->max_groups, t->max_srcs_per_group, t->max_srcs_per_listener);
}

static void cmd_show(struct agent *a, FILE *f, int json)
{
	uint64_t now = agent_now_ms();
	char b[INET6_ADDRSTRLEN], qb[INET6_ADDRSTRLEN + 2];
	int i, first = 1;

	if (json)
		fputs("{\"links\":[", f);
	for (i = 0; i < a->nlinks; i++) {
		struct agent_link *l = &a->links[i];
		struct mld_link_info li;
		struct show_ctx c = {a, f, json, 1, now, l->ifindex};
		const char *xdp = !l->attached                                       ? "none"
		                  : l->xdp_flags == 1u << 2 /* XDP_FLAGS_DRV_MODE */ ? "native"
		                                                                     : "generic";
		const char *ll;

		if (!l->in_engine || mld_link_info(a->e, l->ifindex, &li) != MLD_OK) {
			if (json)
				fprintf(f, "%s{\"name\":\"%s\",\"present\":false}",
				        first ? "" : ",", l->name);
			else
				fprintf(f, "link %s: not present\n", l->name);
			first = 0;
			continue;
		}
		ll = li.ll_state == MLD_LL_VALID       ? "valid"
		     : li.ll_state == MLD_LL_TENTATIVE ? "tentative"
		                                       : "none";
		/* The querier's address (the source of the last general query
		 * taken), null / "none" before any. */
		if (IN6_IS_ADDR_UNSPECIFIED(&li.querier))
			snprintf(qb, sizeof(qb), "%s", json ? "null" : "none");
		else if (json)
			snprintf(qb, sizeof(qb), "\"%s\"", addr_str(&li.querier, b));
		else
			addr_str(&li.querier, qb);
		if (json) {
			fprintf(f,
			        "%s{\"name\":\"%s\",\"present\":true,\"ifindex\":%u,\"up\":%s,"
			        "\"mtu\":%u,\"xdp\":\"%s\",\"version\":%d,"
			        "\"v1_querier_present_ms\":%lld,\"link_local\":\"%s\","
			        "\"link_local_state\":\"%s\",\"general_query_response_in_ms\":%lld,"
			        "\"querier\":{\"address\":%s,\"robustness\":%u,"
			        "\"query_interval_ms\":%u,\"query_response_interval_ms\":%u},"
			        "\"tunables\":",
			        first ? "" : ",", l->name, l->ifindex, li.up ? "true" : "false",
			        li.mtu, xdp, li.version, (long long)rel(li.v1_present_until, now),
			        addr_str(&li.lladdr, b), ll,
			        (long long)(li.gq_active ? 0 : rel(li.gq_due, now)), qb,
			        li.learned_rv, li.learned_qi_ms, li.learned_qri_ms);
			put_tunables(f, &li.tun, 1);
			fputs(",\"groups\":[", f);
			mld_link_groups(a->e, l->ifindex, show_group, &c);
			fputs("]}", f);
		} else {
			fprintf(f,
			        "link %s ifindex %u %s mtu %u xdp %s MLDv%d link-local %s (%s)\n",
			        l->name, l->ifindex, li.up ? "up" : "down", li.mtu, xdp, li.version,
			        addr_str(&li.lladdr, b), ll);
			if (li.version == 1)
				fprintf(f, "  MLDv1 querier present for %lld ms more\n",
				        (long long)rel(li.v1_present_until, now));
			fprintf(f,
			        "  querier: %s robustness %u query-interval %ums response-interval "
			        "%ums%s\n",
			        qb, li.learned_rv, li.learned_qi_ms, li.learned_qri_ms,
			        li.learned_rv ? "" : " (none heard yet)");
			fputs("  tunables: ", f);
			put_tunables(f, &li.tun, 0);
			fprintf(f, "\n  groups: %u\n", li.groups);
			mld_link_groups(a->e, l->ifindex, show_group, &c);
		}
		first = 0;
	}
	if (json)
		fputs("]}\n", f);
}

static const char *const xdp_ctr_names[MLD_C_COUNT] = {
#define X(id, name) [MLD_C_##id] = name,
    MLD_CTR_LIST(X)
#undef X
};

static void cmd_stats(struct agent *a, FILE *f, int json)
{
	struct mld_stats st;
	uint64_t x[MLD_C_COUNT] = {0};
	int i, have_x = bpf_counters(a, x, MLD_C_COUNT) == 0;
	struct {
		const char *name;
		uint64_t v;
	} eng[] = {
	    {"rx_packets", 0},    {"rx_v1_queries", 0},      {"rx_v2_general", 0},
	    {"rx_v2_group", 0},   {"rx_v2_group_source", 0}, {"rx_v1_reports", 0},
	    {"rx_not_member", 0}, {"tx_v2_reports", 0},      {"tx_v2_records", 0},
	    {"tx_v1_reports", 0}, {"tx_v1_done", 0},         {"tx_bytes", 0},
	    {"version_to_v1", 0}, {"version_to_v2", 0},      {"gs_sources_overflow", 0},
	};

	mld_stats_get(a->e, &st);
	eng[0].v = st.rx_packets;
	eng[1].v = st.rx_v1_queries;
	eng[2].v = st.rx_v2_general;
	eng[3].v = st.rx_v2_group;
	eng[4].v = st.rx_v2_group_source;
	eng[5].v = st.rx_v1_reports;
	eng[6].v = st.rx_ignored_not_member;
	eng[7].v = st.tx_v2_reports;
	eng[8].v = st.tx_v2_records;
	eng[9].v = st.tx_v1_reports;
	eng[10].v = st.tx_v1_done;
	eng[11].v = st.tx_bytes;
	eng[12].v = st.version_to_v1;
	eng[13].v = st.version_to_v2;
	eng[14].v = st.gs_sources_overflow;
	fputs(json ? "{\"engine\":{" : "engine:\n", f);
	for (i = 0; i < (int)(sizeof(eng) / sizeof(eng[0])); i++)
		fprintf(f, json ? "%s\"%s\":%llu" : "  %s%s %llu\n", json && i ? "," : "",
		        eng[i].name, (unsigned long long)eng[i].v);
	for (i = 0; i < MLD_DROP_COUNT; i++)
		fprintf(f, json ? ",\"drop_%s\":%llu" : "  drop_%s %llu\n", mld_drop_name(i),
		        (unsigned long long)st.rx_drop[i]);
	fputs(json ? "},\"xdp\":{" : "xdp:\n", f);
	for (i = 0; have_x && i < MLD_C_COUNT; i++)
		fprintf(f, json ? "%s\"%s\":%llu" : "  %s%s %llu\n", json && i ? "," : "",
		        xdp_ctr_names[i], (unsigned long long)x[i]);
	fprintf(f,
	        json ? "},\"daemon\":{\"rx_events\":%llu,\"rx_event_errors\":%llu,"
	               "\"tx_packets\":%llu,\"tx_errors\":%llu}}\n"
	             : "daemon:\n  rx_events %llu\n  rx_event_errors %llu\n  tx_packets %llu\n"
	               "  tx_errors %llu\n",
	        (unsigned long long)a->rx_events, (unsigned long long)a->rx_event_errors,
	        (unsigned long long)a->tx_packets, (unsigned long long)a->tx_errors);
}

/* ---------------- commands ---------------- */

#define MAX_ARGS 600

static int parse_group(const char *s, struct in6_addr *g, char *err, size_t errlen)
{
	if (inet_pton(AF_INET6, s, g) != 1 || g->s6_addr[0] != 0xff) {
		snprintf(err, errlen, "'%s' is not an IPv6 multicast address", s);
		return -1;
	}
	return 0;
}

/* join IFACE GROUP [include|exclude [SRC ...]] [--listener NAME]
 * leave IFACE GROUP [--listener NAME] */
static int cmd_member(struct agent *a, int argc, char **argv, char *err, size_t errlen)
{
	int join = !strcmp(argv[0], "join"), i, n = 0, mode_set = 0;
	const char *listener = AGENT_CTL_LISTENER;
	struct in6_addr group, *srcs;
	struct agent_link *l;
	enum mld_fmode mode = MLD_FMODE_EXCLUDE;
	int rc, was;

	if (argc < 3) {
		snprintf(err, errlen, "usage: %s",
		         join ? "join IFACE GROUP [include|exclude [SRC ...]] [--listener NAME]"
		              : "leave IFACE GROUP [--listener NAME]");
		return -1;
	}
	l = agent_link_by_name(a, argv[1]);
	if (!l) {
		snprintf(err, errlen, "link '%s' is not managed by this agent", argv[1]);
		return -1;
	}
	if (!l->in_engine) {
		snprintf(err, errlen, "link '%s' is not present", argv[1]);
		return -1;
	}
	if (parse_group(argv[2], &group, err, errlen) < 0)
		return -1;
	srcs = calloc((size_t)argc, sizeof(*srcs));
	if (!srcs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--listener")) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--listener needs a name");
				goto fail;
			}
			listener = argv[++i];
		} else if (join && !mode_set && n == 0 &&
		           (!strcmp(argv[i], "include") || !strcmp(argv[i], "exclude"))) {
			mode = !strcmp(argv[i], "include") ? MLD_FMODE_INCLUDE : MLD_FMODE_EXCLUDE;
			mode_set = 1;
		} else if (join && mode_set) {
			if (inet_pton(AF_INET6, argv[i], &srcs[n]) != 1 ||
			    srcs[n].s6_addr[0] == 0xff) {
				snprintf(err, errlen, "'%s' is not an IPv6 unicast source address",
				         argv[i]);
				goto fail;
			}
			n++;
		} else {
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
			goto fail;
		}
	}
	if (join && mode == MLD_FMODE_INCLUDE && n == 0) {
		snprintf(err, errlen, "include needs at least one source (INCLUDE {} is a leave)");
		goto fail;
	}
	was = link_group_held(a, l, &group);
	if (join)
		rc = mld_set_filter(a->e, l->ifindex, listener, &group, mode, srcs, (size_t)n,
		                    agent_now_ms());
	else
		rc = mld_leave(a->e, l->ifindex, listener, &group, agent_now_ms());
	if (rc != MLD_OK) {
		snprintf(err, errlen, "%s %s on %s for listener '%s': %s", argv[0], argv[2],
		         argv[1], listener, mld_strerror(rc));
		goto fail;
	}
	link_group_changed(a, l, &group, was);
	free(srcs);
	return 0;
fail:
	free(srcs);
	return -1;
}

static void handle(struct agent *a, int fd)
{
	char line[16384], *argv[MAX_ARGS], *save = NULL, *tok, err[1024] = "";
	struct out o = {0};
	ssize_t n = 0, r;
	int argc = 0, ok = 0, json = 0, i;

	while (n < (ssize_t)sizeof(line) - 1 &&
	       (r = read(fd, line + n, sizeof(line) - 1 - (size_t)n)) > 0) {
		n += r;
		if (memchr(line, '\n', (size_t)n))
			break;
	}
	line[n > 0 ? n : 0] = 0;
	if ((tok = strchr(line, '\n')))
		*tok = 0;
	for (tok = strtok_r(line, " \t", &save); tok && argc < MAX_ARGS;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	o.f = open_memstream(&o.buf, &o.len);
	if (!o.f)
		return;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = 1;
	if (argc == 0) {
		snprintf(err, sizeof(err), "empty command");
	} else if (!strcmp(argv[0], "join") || !strcmp(argv[0], "leave")) {
		ok = cmd_member(a, argc, argv, err, sizeof(err)) == 0;
	} else if (!strcmp(argv[0], "show") && argc <= 2 && (argc == 1 || json)) {
		cmd_show(a, o.f, json);
		ok = 1;
	} else if (!strcmp(argv[0], "stats") && argc <= 2 && (argc == 1 || json)) {
		cmd_stats(a, o.f, json);
		ok = 1;
	} else if (!strcmp(argv[0], "reload") && argc == 1) {
		if (!a->cfg_path[0])
			snprintf(err, sizeof(err), "no configuration file (-c) to reload");
		else if (cfg_apply(a, a->cfg_path, err, sizeof(err)) == 0)
			ok = 1;
		if (ok)
			agent_log("configuration reloaded from %s", a->cfg_path);
		else
			agent_log("reload refused, state unchanged: %s", err);
	} else {
		snprintf(err, sizeof(err),
		         "unknown command '%s' (join, leave, show, stats, reload)", argv[0]);
	}
	fclose(o.f);
	if (ok)
		dprintf(fd, "ok\n");
	else
		dprintf(fd, "error: %s\n", err);
	if (ok && o.len && write(fd, o.buf, o.len) < 0)
		agent_log("control reply: %s", strerror(errno));
	free(o.buf);
	agent_kick(a);
}

void ctl_accept(struct agent *a)
{
	int fd = accept4(a->ctlfd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = {2, 0};

	if (fd < 0)
		return;
	/* A client that never sends its line must not stall the agent. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	handle(a, fd);
	close(fd);
}

int ctl_open(struct agent *a, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(a->sock_path)], *slash;
	int probe;

	if (strlen(a->sock_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long");
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->sock_path);
	snprintf(dir, sizeof(dir), "%s", a->sock_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750);
	}
	/* A live agent answers on the socket: refuse to steal it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen,
		         "control socket %s is in use by a running agent (-S to choose)",
		         a->sock_path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(a->sock_path);
	a->ctlfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->ctlfd < 0 || bind(a->ctlfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(a->sock_path, 0660) < 0 || listen(a->ctlfd, 16) < 0) {
		snprintf(err, errlen, "control socket %s: %s", a->sock_path, strerror(errno));
		return -1;
	}
	return 0;
}

void ctl_close(struct agent *a)
{
	if (a->ctlfd >= 0) {
		close(a->ctlfd);
		unlink(a->sock_path);
		a->ctlfd = -1;
	}
}
