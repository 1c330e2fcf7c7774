/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * YAML configuration loader (docs/CONFIG.md).
 *
 * The file is read as a stream of libyaml events, never as a document tree,
 * so that a config of a million memberships costs only the resulting struct
 * cfg. Each node is checked as it is read; checks that need the whole file
 * (merged tunables, duplicates, limits) run afterwards on the build arrays,
 * which carry the file positions. The first error found ends the load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"

struct mark {
	int line, col; /* 1-based; line 0 = not seen */
};

/* ---- tunables ---- */

enum { TK_INT, TK_DUR, TK_VERSION };
#define NTUN 10
static const char *const tun_keys[NTUN] = {
    "robustness",
    "query-interval",
    "query-response-interval",
    "unsolicited-report-interval",
    "v1-unsolicited-report-interval",
    "gsr-delay",
    "force-version",
    "max-groups",
    "max-sources-per-group",
    "max-sources-per-listener",
};
static const unsigned char tun_kind[NTUN] = {
    TK_INT, TK_DUR, TK_DUR, TK_DUR, TK_DUR, TK_DUR, TK_VERSION, TK_INT, TK_INT, TK_INT,
};
static const size_t tun_off[NTUN] = {
    offsetof(struct mld_tunables, rv),
    offsetof(struct mld_tunables, qi_ms),
    offsetof(struct mld_tunables, qri_ms),
    offsetof(struct mld_tunables, uri_ms),
    offsetof(struct mld_tunables, v1_uri_ms),
    offsetof(struct mld_tunables, gsr_delay_ms),
    offsetof(struct mld_tunables, force_version),
    offsetof(struct mld_tunables, max_groups),
    offsetof(struct mld_tunables, max_srcs_per_group),
    offsetof(struct mld_tunables, max_srcs_per_listener),
};

/* The tunables one block sets. */
struct ovr {
	uint32_t v[NTUN];
	unsigned set; /* bit i: v[i] given */
};

static void ovr_apply(struct mld_tunables *t, const struct ovr *o)
{
	int i;

	for (i = 0; i < NTUN; i++)
		if (o->set & (1u << i))
			memcpy((char *)t + tun_off[i], &o->v[i], sizeof(uint32_t));
}

/* ---- build state ---- */

struct bgroup {
	struct cfg_group g;
	size_t idx; /* position in the file among its listener's groups */
	size_t srccap;
	struct mark at, grp, mode, srcs;
	int has_group, has_mode, has_srcs;
};

struct blink {
	struct cfg_link l;
	size_t idx;
	struct mark at, name, tun;
	int has_name, has_tun;
	struct ovr ovr;
};

struct blis {
	struct cfg_listener l;
	size_t idx;
	struct mark at, name, link;
	int has_name, has_link;
	struct bgroup *g;
	size_t ng, capg;
};

struct P {
	yaml_parser_t yp;
	yaml_event_t ev;
	int have_ev;
	const char *name;
	const unsigned char *buf;
	size_t len;
	char *err;
	size_t errlen;
	int failed;
	char qbuf[4][96];
	unsigned qi;

	struct ovr top;
	struct mark top_tun;
	int drop;
	struct blink *links;
	size_t nl, capl;
	struct blis *lis;
	size_t nli, capli;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elsz)
{
	size_t nc;
	void *q;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 4;
	if (nc > SIZE_MAX / elsz)
		return -1;
	q = realloc(*arr, nc * elsz);
	if (!q)
		return -1;
	*arr = q;
	*cap = nc;
	return 0;
}

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static int fail(struct P *p, struct mark m, const char *fmt,
                                                      ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = 1;
	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->name, m.line, m.col);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct mark mk(yaml_mark_t m)
{
	struct mark r = {(int)m.line + 1, (int)m.column + 1};

	return r;
}

static struct mark evm(const struct P *p)
{
	return mk(p->ev.start_mark);
}

/* A value for a message: quoted, control bytes as '?', long ones cut. */
static const char *q(struct P *p, const char *s, size_t n)
{
	char *b = p->qbuf[p->qi++ % 4];
	size_t i, o = 0, max = 60;

	b[o++] = '\'';
	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		b[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n > max) {
		memcpy(b + o, "...", 3);
		o += 3;
	}
	b[o++] = '\'';
	b[o] = 0;
	return b;
}

static const char *sval(const struct P *p)
{
	return (const char *)p->ev.data.scalar.value;
}

static size_t slen(const struct P *p)
{
	return p->ev.data.scalar.length;
}

static int is_null(const struct P *p)
{
	const char *v = sval(p);
	size_t n = slen(p);

	if (p->ev.type != YAML_SCALAR_EVENT || p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
	        (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* What the current node is, for "must be X, not Y". */
static const char *kind(struct P *p)
{
	switch (p->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_SCALAR_EVENT: {
		char *b;

		if (is_null(p))
			return "an empty value";
		b = p->qbuf[p->qi++ % 4];
		snprintf(b, sizeof(p->qbuf[0]), "the scalar %s", q(p, sval(p), slen(p)));
		return b;
	}
	default:
		return "this";
	}
}

static struct mark offset_mark(const struct P *p, size_t off)
{
	struct mark m = {1, 1};
	size_t i;

	if (off > p->len)
		off = p->len;
	for (i = 0; i < off; i++) {
		if (p->buf[i] == '\n') {
			m.line++;
			m.col = 1;
		} else {
			m.col++;
		}
	}
	return m;
}

static int syntax_fail(struct P *p)
{
	yaml_parser_t *y = &p->yp;
	const char *prob = y->problem ? y->problem : "unknown error";

	switch (y->error) {
	case YAML_MEMORY_ERROR:
		return fail(p, mk(y->mark), "out of memory");
	case YAML_READER_ERROR:
		if (y->problem_value != -1)
			return fail(p, offset_mark(p, y->problem_offset),
			            "YAML syntax error: %s (byte 0x%X)", prob, y->problem_value);
		return fail(p, offset_mark(p, y->problem_offset), "YAML syntax error: %s", prob);
	default:
		if (y->context)
			return fail(p, mk(y->problem_mark),
			            "YAML syntax error: %s (%s at line %d column %d)", prob,
			            y->context, mk(y->context_mark).line, mk(y->context_mark).col);
		return fail(p, mk(y->problem_mark), "YAML syntax error: %s", prob);
	}
}

static int nomem(struct P *p)
{
	return fail(p, evm(p), "out of memory");
}

/* Moves to the next event. Aliases are refused where they appear. */
static int next(struct P *p)
{
	if (p->have_ev) {
		yaml_event_delete(&p->ev);
		p->have_ev = 0;
	}
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return syntax_fail(p);
	p->have_ev = 1;
	if (p->ev.type == YAML_ALIAS_EVENT)
		return fail(p, evm(p), "aliases (*%s) are not supported",
		            (const char *)p->ev.data.alias.anchor);
	return 0;
}

/* ---- generic structure walkers ----
 * Each parse function starts on the first event of its node and returns with
 * the first event after it current. */

typedef int (*field_fn)(struct P *p, void *obj, int key, struct mark km);
typedef int (*item_fn)(struct P *p, void *obj);

#define MAXKEYS 16

static int parse_map(struct P *p, const char *what, const char *const *keys, int nkeys, field_fn fn,
                     void *obj, struct mark *at)
{
	struct mark seen[MAXKEYS];

	memset(seen, 0, sizeof(seen));
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return fail(p, evm(p), "%s must be a mapping, not %s", what, kind(p));
	if (at)
		*at = evm(p);
	if (next(p))
		return -1;
	while (p->ev.type != YAML_MAPPING_END_EVENT) {
		struct mark km = evm(p);
		int i;

		if (p->ev.type != YAML_SCALAR_EVENT)
			return fail(p, km, "keys in %s must be scalars, not %s", what, kind(p));
		for (i = 0; i < nkeys; i++)
			if (strlen(keys[i]) == slen(p) && !memcmp(keys[i], sval(p), slen(p)))
				break;
		if (i == nkeys) {
			char list[512];
			size_t o = 0;
			int j;

			list[0] = 0;
			for (j = 0; j < nkeys; j++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				                      j ? ", " : "", keys[j]);
			return fail(p, km, "unknown key %s in %s (expected one of: %s)",
			            q(p, sval(p), slen(p)), what, list);
		}
		if (seen[i].line)
			return fail(p, km, "duplicate key '%s' in %s (first at line %d)", keys[i],
			            what, seen[i].line);
		seen[i] = km;
		if (next(p) || fn(p, obj, i, km))
			return -1;
	}
	return next(p);
}

/* A sequence; an empty value counts as an empty sequence. */
static int parse_seq(struct P *p, const char *what, item_fn fn, void *obj)
{
	if (is_null(p))
		return next(p);
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(p, evm(p), "'%s' must be a sequence, not %s", what, kind(p));
	if (next(p))
		return -1;
	while (p->ev.type != YAML_SEQUENCE_END_EVENT)
		if (fn(p, obj))
			return -1;
	return next(p);
}

/* The current event as a non-empty scalar value of `key`. */
static int want_scalar(struct P *p, const char *key)
{
	if (p->ev.type != YAML_SCALAR_EVENT)
		return fail(p, evm(p), "'%s' must be a scalar, not %s", key, kind(p));
	if (is_null(p))
		return fail(p, evm(p), "'%s' needs a value", key);
	return 0;
}

static int is_value(const struct P *p, const char *s)
{
	return strlen(s) == slen(p) && !memcmp(s, sval(p), slen(p));
}

/* ---- scalar values ---- */

/* Leading decimal digits of v into *out; returns how many, or -1 above UINT32_MAX. */
static int digits(const char *v, size_t n, size_t *used, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > UINT32_MAX)
			return -1;
	}
	*used = i;
	*out = x;
	return 0;
}

static int parse_uint(struct P *p, const char *key, uint32_t *out)
{
	const char *v = sval(p);
	size_t n = slen(p), i;
	uint64_t x;
	struct mark m = evm(p);

	if (digits(v, n, &i, &x))
		return fail(p, m, "bad value for '%s': %s is too large (at most 4294967295)", key,
		            q(p, v, n));
	if (i == n) {
		*out = (uint32_t)x;
		return 0;
	}
	if (v[0] == '-')
		return fail(p, m, "bad value for '%s': %s is negative", key, q(p, v, n));
	if (i > 0 && v[i] == '.')
		return fail(p, m, "bad value for '%s': %s is not a whole number", key, q(p, v, n));
	return fail(p, m, "bad value for '%s': %s is not a number", key, q(p, v, n));
}

/* Durations: a whole number and a unit ms, s or m; stored in ms. */
static int parse_duration(const char *v, size_t n, uint32_t *ms, const char **why)
{
	size_t i;
	uint64_t x, mul;

	if (digits(v, n, &i, &x)) {
		*why = "is too large (at most 4294967295ms)";
		return -1;
	}
	if (i == 0) {
		*why =
		    (n && v[0] == '-') ? "is negative" : "is not a duration (e.g. 500ms, 10s, 2m)";
		return -1;
	}
	if (i == n) {
		*why = "has no unit (use ms, s or m, e.g. 10s)";
		return -1;
	}
	if (v[i] == '.') {
		*why = "is not a whole number (use a smaller unit, e.g. 1500ms)";
		return -1;
	}
	if (n - i == 2 && !memcmp(v + i, "ms", 2))
		mul = 1;
	else if (n - i == 1 && v[i] == 's')
		mul = 1000;
	else if (n - i == 1 && v[i] == 'm')
		mul = 60000;
	else {
		*why = "has an unknown unit (use ms, s or m)";
		return -1;
	}
	if (x * mul > UINT32_MAX) {
		*why = "is too large (at most 4294967295ms)";
		return -1;
	}
	*ms = (uint32_t)(x * mul);
	return 0;
}

static int parse_addr(struct P *p, const char *what, struct in6_addr *a)
{
	char b[INET6_ADDRSTRLEN + 1];
	size_t n = slen(p);

	if (n < sizeof(b) && !memchr(sval(p), 0, n)) {
		memcpy(b, sval(p), n);
		b[n] = 0;
		if (inet_pton(AF_INET6, b, a) == 1)
			return 0;
	}
	return fail(p, evm(p), "%s %s is not an IPv6 address", what, q(p, sval(p), n));
}

static int valid_ifname(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n >= IF_NAMESIZE || (n == 1 && v[0] == '.') ||
	    (n == 2 && v[0] == '.' && v[1] == '.'))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~' || v[i] == '/' || v[i] == ':')
			return 0;
	return 1;
}

/* The engine's listener-name rule (mld_engine.c valid_name). */
static int valid_lname(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@'))
			return 0;
	}
	return 1;
}

static int parse_ifname(struct P *p, const char *key, char *dst)
{
	if (want_scalar(p, key))
		return -1;
	if (!valid_ifname(sval(p), slen(p)))
		return fail(p, evm(p),
		            "bad link name %s (1-15 characters, no whitespace, '/' or ':')",
		            q(p, sval(p), slen(p)));
	memcpy(dst, sval(p), slen(p));
	dst[slen(p)] = 0;
	return 0;
}

/* ---- tunables ---- */

static int tun_field(struct P *p, void *obj, int k, struct mark km)
{
	struct ovr *o = obj;
	uint32_t v = 0;
	const char *why;

	(void)km;
	if (want_scalar(p, tun_keys[k]))
		return -1;
	switch (tun_kind[k]) {
	case TK_INT:
		if (parse_uint(p, tun_keys[k], &v))
			return -1;
		break;
	case TK_DUR:
		if (parse_duration(sval(p), slen(p), &v, &why))
			return fail(p, evm(p), "bad duration for '%s': %s %s", tun_keys[k],
			            q(p, sval(p), slen(p)), why);
		break;
	case TK_VERSION:
		if (is_value(p, "auto"))
			v = 0;
		else if (is_value(p, "1"))
			v = 1;
		else if (is_value(p, "2"))
			v = 2;
		else
			return fail(p, evm(p), "bad value for '%s': %s (use auto, 1 or 2)",
			            tun_keys[k], q(p, sval(p), slen(p)));
		break;
	}
	o->v[k] = v;
	o->set |= 1u << k;
	return next(p);
}

static int parse_tunables(struct P *p, struct ovr *o)
{
	if (is_null(p))
		return next(p);
	return parse_map(p, "tunables", tun_keys, NTUN, tun_field, o, NULL);
}

/* ---- links ---- */

enum { LK_NAME, LK_TUN };
static const char *const link_keys[] = {"name", "tunables"};

static int link_field(struct P *p, void *obj, int k, struct mark km)
{
	struct blink *b = obj;

	if (k == LK_NAME) {
		b->name = evm(p);
		b->has_name = 1;
		if (parse_ifname(p, "name", b->l.name))
			return -1;
		return next(p);
	}
	b->tun = km;
	b->has_tun = 1;
	return parse_tunables(p, &b->ovr);
}

static int link_item(struct P *p, void *obj)
{
	struct blink *b;

	(void)obj;
	if (grow((void **)&p->links, &p->capl, p->nl, sizeof(*p->links)))
		return nomem(p);
	b = &p->links[p->nl];
	memset(b, 0, sizeof(*b));
	b->idx = p->nl++;
	if (parse_map(p, "links entry", link_keys, 2, link_field, b, &b->at))
		return -1;
	if (!b->has_name)
		return fail(p, b->at, "links entry has no 'name'");
	b->l.line = b->at.line;
	return 0;
}

/* ---- listeners and groups ---- */

enum { GK_GROUP, GK_MODE, GK_SOURCES };
static const char *const group_keys[] = {"group", "mode", "sources"};

static int src_item(struct P *p, void *obj)
{
	struct bgroup *b = obj;
	struct in6_addr a;

	if (p->ev.type != YAML_SCALAR_EVENT || is_null(p))
		return fail(p, evm(p), "a source must be an IPv6 address, not %s", kind(p));
	if (parse_addr(p, "source", &a))
		return -1;
	if (a.s6_addr[0] == 0xff)
		return fail(p, evm(p), "source %s is a multicast address (sources are unicast)",
		            q(p, sval(p), slen(p)));
	if (IN6_IS_ADDR_UNSPECIFIED(&a))
		return fail(p, evm(p), "source %s is the unspecified address",
		            q(p, sval(p), slen(p)));
	if (grow((void **)&b->g.srcs, &b->srccap, b->g.nsrc, sizeof(a)))
		return nomem(p);
	b->g.srcs[b->g.nsrc++] = a;
	return next(p);
}

static int group_field(struct P *p, void *obj, int k, struct mark km)
{
	struct bgroup *b = obj;

	switch (k) {
	case GK_GROUP:
		if (want_scalar(p, "group") || parse_addr(p, "group", &b->g.group))
			return -1;
		if (b->g.group.s6_addr[0] != 0xff)
			return fail(p, evm(p), "group %s is not a multicast address (ff00::/8)",
			            q(p, sval(p), slen(p)));
		b->grp = evm(p);
		b->has_group = 1;
		return next(p);
	case GK_MODE:
		if (want_scalar(p, "mode"))
			return -1;
		if (is_value(p, "include"))
			b->g.mode = MLD_FMODE_INCLUDE;
		else if (is_value(p, "exclude"))
			b->g.mode = MLD_FMODE_EXCLUDE;
		else
			return fail(p, evm(p), "bad mode %s (use include or exclude)",
			            q(p, sval(p), slen(p)));
		b->mode = evm(p);
		b->has_mode = 1;
		return next(p);
	default:
		b->srcs = km;
		b->has_srcs = 1;
		return parse_seq(p, "sources", src_item, b);
	}
}

/* qsort, which must not see a NULL base even for 0 elements. */
static void sort_n(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, sz, cmp);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

static int group_item(struct P *p, void *obj)
{
	struct blis *l = obj;
	struct bgroup *b;
	size_t i, n;

	if (grow((void **)&l->g, &l->capg, l->ng, sizeof(*l->g)))
		return nomem(p);
	b = &l->g[l->ng];
	memset(b, 0, sizeof(*b));
	b->idx = l->ng++;
	if (parse_map(p, "groups entry", group_keys, 3, group_field, b, &b->at))
		return -1;
	if (!b->has_group)
		return fail(p, b->at, "groups entry has no 'group'");
	if (b->has_srcs && !b->has_mode)
		return fail(p, b->srcs, "'sources' given without 'mode' (include or exclude)");
	if (!b->has_mode)
		b->g.mode = MLD_FMODE_EXCLUDE;
	if (b->g.mode == MLD_FMODE_INCLUDE && !b->g.nsrc)
		return fail(p, b->mode, "mode include needs at least one source");
	/* Sorted and unique. */
	sort_n(b->g.srcs, b->g.nsrc, sizeof(struct in6_addr), cmp_addr);
	for (i = n = 0; i < b->g.nsrc; i++)
		if (!n || memcmp(&b->g.srcs[n - 1], &b->g.srcs[i], sizeof(struct in6_addr)))
			b->g.srcs[n++] = b->g.srcs[i];
	b->g.nsrc = n;
	if (!n) {
		free(b->g.srcs);
		b->g.srcs = NULL;
		b->srccap = 0;
	}
	b->g.line = b->at.line;
	return 0;
}

enum { LS_NAME, LS_LINK, LS_GROUPS };
static const char *const lis_keys[] = {"name", "link", "groups"};

static int lis_field(struct P *p, void *obj, int k, struct mark km)
{
	struct blis *l = obj;

	(void)km;
	switch (k) {
	case LS_NAME:
		if (want_scalar(p, "name"))
			return -1;
		if (!valid_lname(sval(p), slen(p)))
			return fail(p, evm(p),
			            "bad listener name %s (1-63 of A-Z a-z 0-9 - _ . : / @)",
			            q(p, sval(p), slen(p)));
		memcpy(l->l.name, sval(p), slen(p));
		l->l.name[slen(p)] = 0;
		l->name = evm(p);
		l->has_name = 1;
		return next(p);
	case LS_LINK:
		l->link = evm(p);
		if (parse_ifname(p, "link", l->l.link))
			return -1;
		l->has_link = 1;
		return next(p);
	default:
		return parse_seq(p, "groups", group_item, l);
	}
}

static int lis_item(struct P *p, void *obj)
{
	struct blis *l;

	(void)obj;
	if (grow((void **)&p->lis, &p->capli, p->nli, sizeof(*p->lis)))
		return nomem(p);
	l = &p->lis[p->nli];
	memset(l, 0, sizeof(*l));
	l->idx = p->nli++;
	if (parse_map(p, "listeners entry", lis_keys, 3, lis_field, l, &l->at))
		return -1;
	if (!l->has_name)
		return fail(p, l->at, "listeners entry has no 'name'");
	if (!l->has_link)
		return fail(p, l->at, "listener '%s' has no 'link'", l->l.name);
	l->l.line = l->at.line;
	return 0;
}

/* ---- top level ---- */

enum { TOP_TUN, TOP_THROTTLE, TOP_LINKS, TOP_LISTENERS };
static const char *const top_keys[] = {"tunables", "throttle-policy", "links", "listeners"};

static int top_field(struct P *p, void *obj, int k, struct mark km)
{
	(void)obj;
	switch (k) {
	case TOP_TUN:
		p->top_tun = km;
		return parse_tunables(p, &p->top);
	case TOP_THROTTLE:
		if (want_scalar(p, "throttle-policy"))
			return -1;
		if (is_value(p, "drop"))
			p->drop = 1;
		else if (is_value(p, "pass"))
			p->drop = 0;
		else
			return fail(p, evm(p), "bad throttle-policy %s (use drop or pass)",
			            q(p, sval(p), slen(p)));
		return next(p);
	case TOP_LINKS:
		return parse_seq(p, "links", link_item, NULL);
	default:
		return parse_seq(p, "listeners", lis_item, NULL);
	}
}

static int parse_stream(struct P *p)
{
	if (next(p))
		return -1;
	if (p->ev.type != YAML_STREAM_START_EVENT)
		return fail(p, evm(p), "YAML syntax error: no stream start");
	if (next(p))
		return -1;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty file */
	if (next(p))      /* past DOCUMENT-START */
		return -1;
	if (is_null(p)) {
		if (next(p))
			return -1;
	} else if (p->ev.type != YAML_MAPPING_START_EVENT) {
		return fail(p, evm(p), "top level must be a mapping, not %s", kind(p));
	} else if (parse_map(p, "the top level", top_keys, 4, top_field, NULL, NULL)) {
		return -1;
	}
	if (next(p)) /* past DOCUMENT-END */
		return -1;
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return fail(p, evm(p), "only one YAML document is allowed");
	return 0;
}

/* ---- whole-file checks ---- */

static int cmp_blink(const void *a, const void *b)
{
	const struct blink *x = a, *y = b;
	int c = strcmp(x->l.name, y->l.name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_blis(const void *a, const void *b)
{
	const struct blis *x = a, *y = b;
	int c = strcmp(x->l.link, y->l.link);

	if (!c)
		c = strcmp(x->l.name, y->l.name);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_bgroup(const void *a, const void *b)
{
	const struct bgroup *x = a, *y = b;
	int c = memcmp(&x->g.group, &y->g.group, sizeof(x->g.group));

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int same_lkey(const struct blis *a, const struct blis *b)
{
	return !strcmp(a->l.link, b->l.link) && !strcmp(a->l.name, b->l.name);
}

static const struct blink *find_blink(const struct P *p, const char *name)
{
	size_t lo = 0, hi = p->nl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->links[mid].l.name);

		if (!c)
			return &p->links[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *ntop(struct P *p, const struct in6_addr *a)
{
	char *b = p->qbuf[p->qi++ % 4];

	inet_ntop(AF_INET6, a, b, sizeof(p->qbuf[0]));
	return b;
}

/* Links on which the listeners' distinct groups exceed max-groups. */
static int check_max_groups(struct P *p, const struct mld_tunables *top)
{
	size_t i = 0, j, k, n, total, distinct;

	while (i < p->nli) {
		const struct blink *bl = find_blink(p, p->lis[i].l.link);
		const struct mld_tunables *t = bl ? &bl->l.tun : top;
		const struct blis *first = &p->lis[i];

		total = 0;
		for (j = i; j < p->nli && !strcmp(p->lis[j].l.link, p->lis[i].l.link); j++) {
			total += p->lis[j].ng;
			if (p->lis[j].idx < first->idx)
				first = &p->lis[j];
		}
		if (total > t->max_groups) {
			struct in6_addr *all = malloc(total * sizeof(*all));

			if (!all)
				return fail(p, first->at, "out of memory");
			for (n = 0, k = i; k < j; k++) {
				size_t g;

				for (g = 0; g < p->lis[k].ng; g++)
					all[n++] = p->lis[k].g[g].g.group;
			}
			sort_n(all, n, sizeof(*all), cmp_addr);
			for (distinct = 0, k = 0; k < n; k++)
				if (!k || memcmp(&all[k - 1], &all[k], sizeof(*all)))
					distinct++;
			free(all);
			if (distinct > t->max_groups)
				return fail(
				    p, bl ? bl->name : first->link,
				    "link '%s' has %zu distinct groups, above max-groups %u",
				    p->lis[i].l.link, distinct, t->max_groups);
		}
		i = j;
	}
	return 0;
}

static int check_all(struct P *p, struct mld_tunables *top)
{
	const char *why;
	const struct blink *dl = NULL;
	const struct blis *dli = NULL;
	size_t i, j;

	mld_tunables_default(top);
	ovr_apply(top, &p->top);
	if (mld_tunables_check(top, &why))
		return fail(p, p->top_tun, "invalid tunables: %s", why);
	for (i = 0; i < p->nl; i++) {
		struct blink *b = &p->links[i];

		b->l.tun = *top;
		ovr_apply(&b->l.tun, &b->ovr);
		if (mld_tunables_check(&b->l.tun, &why))
			return fail(p, b->tun, "invalid tunables for link '%s': %s", b->l.name,
			            why);
	}

	/* Duplicates: sort by key then file position; report the duplicate that
	 * comes first in the file. */
	sort_n(p->links, p->nl, sizeof(*p->links), cmp_blink);
	for (i = 1; i < p->nl; i++)
		if (!strcmp(p->links[i].l.name, p->links[i - 1].l.name) &&
		    (!dl || p->links[i].idx < dl->idx) &&
		    (i < 2 || strcmp(p->links[i].l.name, p->links[i - 2].l.name)))
			dl = &p->links[i];
	if (dl)
		return fail(p, dl->name, "duplicate link '%s' (first at line %d)", dl->l.name,
		            dl[-1].l.line);

	sort_n(p->lis, p->nli, sizeof(*p->lis), cmp_blis);
	for (i = 1; i < p->nli; i++)
		if (same_lkey(&p->lis[i], &p->lis[i - 1]) &&
		    (i < 2 || !same_lkey(&p->lis[i], &p->lis[i - 2])) &&
		    (!dli || p->lis[i].idx < dli->idx))
			dli = &p->lis[i];
	if (dli)
		return fail(p, dli->name, "duplicate listener '%s' on link '%s' (first at line %d)",
		            dli->l.name, dli->l.link, dli[-1].l.line);

	for (i = 0; i < p->nli; i++) {
		struct blis *l = &p->lis[i];
		const struct blink *bl = find_blink(p, l->l.link);
		const struct mld_tunables *t = bl ? &bl->l.tun : top;
		const struct bgroup *dg = NULL;

		sort_n(l->g, l->ng, sizeof(*l->g), cmp_bgroup);
		for (j = 1; j < l->ng; j++)
			if (!memcmp(&l->g[j].g.group, &l->g[j - 1].g.group,
			            sizeof(struct in6_addr)) &&
			    (j < 2 || memcmp(&l->g[j].g.group, &l->g[j - 2].g.group,
			                     sizeof(struct in6_addr))) &&
			    (!dg || l->g[j].idx < dg->idx))
				dg = &l->g[j];
		if (dg)
			return fail(p, dg->grp,
			            "duplicate group %s in listener '%s' (first at line %d)",
			            ntop(p, &dg->g.group), l->l.name, dg[-1].g.line);
		for (j = 0; j < l->ng; j++)
			if (l->g[j].g.nsrc > t->max_srcs_per_listener)
				return fail(p, l->g[j].srcs,
				            "group %s of listener '%s' has %zu sources, above "
				            "max-sources-per-listener %u of link '%s'",
				            ntop(p, &l->g[j].g.group), l->l.name, l->g[j].g.nsrc,
				            t->max_srcs_per_listener, l->l.link);
	}
	return check_max_groups(p, top);
}

/* Moves the build arrays into *c (canonical order). */
static int build(struct P *p, const struct mld_tunables *top, struct cfg *c)
{
	size_t i, j;

	memset(c, 0, sizeof(*c));
	c->tun = *top;
	c->drop_throttled = p->drop;
	if (p->nl) {
		c->links = calloc(p->nl, sizeof(*c->links));
		if (!c->links)
			return -1;
		for (i = 0; i < p->nl; i++)
			c->links[i] = p->links[i].l;
		c->nlinks = p->nl;
	}
	if (p->nli) {
		c->listeners = calloc(p->nli, sizeof(*c->listeners));
		if (!c->listeners)
			goto fail;
		for (i = 0; i < p->nli; i++) {
			struct blis *l = &p->lis[i];
			struct cfg_listener *o = &c->listeners[i];

			*o = l->l;
			o->ngroups = 0;
			o->groups = NULL;
			c->nlisteners = i + 1;
			if (!l->ng)
				continue;
			o->groups = calloc(l->ng, sizeof(*o->groups));
			if (!o->groups)
				goto fail;
			for (j = 0; j < l->ng; j++) {
				o->groups[j] = l->g[j].g;
				l->g[j].g.srcs = NULL; /* moved */
			}
			o->ngroups = l->ng;
		}
	}
	return 0;
fail:
	cfg_free(c);
	return -1;
}

static void p_free(struct P *p)
{
	size_t i, j;

	for (i = 0; i < p->nli; i++) {
		for (j = 0; j < p->lis[i].ng; j++)
			free(p->lis[i].g[j].g.srcs);
		free(p->lis[i].g);
	}
	free(p->lis);
	free(p->links);
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	yaml_parser_delete(&p->yp);
}

int cfg_load_string(const char *yaml, size_t len, const char *name, struct cfg *out, char *err,
                    size_t errlen)
{
	struct P p;
	struct mld_tunables top;
	struct cfg c;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.name = name ? name : "<string>";
	p.buf = (const unsigned char *)(yaml ? yaml : "");
	p.len = yaml ? len : 0;
	p.err = err;
	p.errlen = errlen;
	p.drop = 1;
	if (err && errlen)
		err[0] = 0;
	if (!yaml_parser_initialize(&p.yp)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", p.name);
		return -1;
	}
	yaml_parser_set_input_string(&p.yp, p.buf, p.len);
	if (!parse_stream(&p) && !check_all(&p, &top)) {
		if (build(&p, &top, &c)) {
			struct mark m = {1, 1};

			fail(&p, m, "out of memory");
		} else {
			*out = c;
			rc = 0;
		}
	}
	p_free(&p);
	return rc;
}

int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t r;

		if (n == cap) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				if (err && errlen)
					snprintf(err, errlen, "%s: out of memory", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = cfg_load_string(buf, n, path, out, err, errlen);
	free(buf);
	return rc;
}

void cfg_free(struct cfg *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < c->nlisteners; i++) {
		for (j = 0; j < c->listeners[i].ngroups; j++)
			free(c->listeners[i].groups[j].srcs);
		free(c->listeners[i].groups);
	}
	free(c->listeners);
	free(c->links);
	memset(c, 0, sizeof(*c));
}

const struct cfg_link *cfg_find_link(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->nlinks; i++)
		if (!strcmp(c->links[i].name, name))
			return &c->links[i];
	return NULL;
}

const struct mld_tunables *cfg_link_tunables(const struct cfg *c, const char *name)
{
	const struct cfg_link *l = cfg_find_link(c, name);

	return l ? &l->tun : &c->tun;
}

/* ---- diff ---- */

static int same_filter(const struct cfg_group *a, const struct cfg_group *b)
{
	return a->mode == b->mode && a->nsrc == b->nsrc &&
	       (!a->nsrc || !memcmp(a->srcs, b->srcs, a->nsrc * sizeof(*a->srcs)));
}

static int cmp_lkey(const struct cfg_listener *a, const struct cfg_listener *b)
{
	int c = strcmp(a->link, b->link);

	return c ? c : strcmp(a->name, b->name);
}

static void diff_phase(const struct cfg *o, const struct cfg *n, enum cfg_change phase,
                       cfg_diff_fn cb, void *ctx)
{
	size_t i = 0, j = 0, gi, gj;
	size_t no = o ? o->nlisteners : 0, nn = n ? n->nlisteners : 0;

	while (i < no || j < nn) {
		const struct cfg_listener *a = i < no ? &o->listeners[i] : NULL;
		const struct cfg_listener *b = j < nn ? &n->listeners[j] : NULL;
		int c = !a ? 1 : !b ? -1 : cmp_lkey(a, b);

		if (c < 0) {
			if (phase == CFG_REMOVE)
				for (gi = 0; gi < a->ngroups; gi++)
					cb(ctx, CFG_REMOVE, a->link, a->name, &a->groups[gi], NULL);
			i++;
			continue;
		}
		if (c > 0) {
			if (phase == CFG_ADD)
				for (gj = 0; gj < b->ngroups; gj++)
					cb(ctx, CFG_ADD, b->link, b->name, NULL, &b->groups[gj]);
			j++;
			continue;
		}
		gi = gj = 0;
		while (gi < a->ngroups || gj < b->ngroups) {
			const struct cfg_group *x = gi < a->ngroups ? &a->groups[gi] : NULL;
			const struct cfg_group *y = gj < b->ngroups ? &b->groups[gj] : NULL;
			int d = !x ? 1 : !y ? -1 : memcmp(&x->group, &y->group, sizeof(x->group));

			if (d < 0) {
				if (phase == CFG_REMOVE)
					cb(ctx, CFG_REMOVE, a->link, a->name, x, NULL);
				gi++;
			} else if (d > 0) {
				if (phase == CFG_ADD)
					cb(ctx, CFG_ADD, b->link, b->name, NULL, y);
				gj++;
			} else {
				if (phase == CFG_CHANGE && !same_filter(x, y))
					cb(ctx, CFG_CHANGE, b->link, b->name, x, y);
				gi++;
				gj++;
			}
		}
		i++;
		j++;
	}
}

void cfg_diff(const struct cfg *old, const struct cfg *neu, cfg_diff_fn cb, void *ctx)
{
	diff_phase(old, neu, CFG_REMOVE, cb, ctx);
	diff_phase(old, neu, CFG_CHANGE, cb, ctx);
	diff_phase(old, neu, CFG_ADD, cb, ctx);
}
