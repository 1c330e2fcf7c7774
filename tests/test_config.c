/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The YAML config loader (user/config.c, docs/CONFIG.md): the example file,
 * one test per validation rule asserting the exact error position, duration
 * syntax, and cfg_diff. Every failing load also checks that *out was left
 * untouched; ASan's leak check covers the error paths.
 */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

#define ERRLEN 512

static int load(const char *yaml, struct cfg *c, char *err)
{
	return cfg_load_string(yaml, strlen(yaml), "t.yaml", c, err, ERRLEN);
}

/* Loads yaml, which must fail at `line` (and `col` when > 0) with a message
 * containing `sub`, leaving *out untouched. */
static void expect_err(int tl, const char *yaml, int line, int col, const char *sub)
{
	struct cfg c, sentinel;
	char err[ERRLEN], pre[64];
	int rc;

	memset(&c, 0xa5, sizeof(c));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	rc = load(yaml, &c, err);
	if (rc != -1) {
		t_fail(__FILE__, tl, "loaded (rc %d), expected an error at line %d: %s", rc, line,
		       sub);
		if (rc == 0)
			cfg_free(&c);
		return;
	}
	if (memcmp(&c, &sentinel, sizeof(c)))
		t_fail(__FILE__, tl, "*out was written on error");
	if (col > 0)
		snprintf(pre, sizeof(pre), "t.yaml:%d:%d: ", line, col);
	else
		snprintf(pre, sizeof(pre), "t.yaml:%d:", line);
	if (strncmp(err, pre, strlen(pre)))
		t_fail(__FILE__, tl, "error \"%s\" is not at %s", err, pre);
	if (!strstr(err, sub))
		t_fail(__FILE__, tl, "error \"%s\" lacks \"%s\"", err, sub);
}
#define ERR(yaml, line, sub)       expect_err(__LINE__, yaml, line, 0, sub)
#define ERRC(yaml, line, col, sub) expect_err(__LINE__, yaml, line, col, sub)

/* Loads yaml, which must succeed. */
static int ok(int tl, const char *yaml, struct cfg *c)
{
	char err[ERRLEN];

	if (load(yaml, c, err)) {
		t_fail(__FILE__, tl, "load failed: %s", err);
		memset(c, 0, sizeof(*c));
		return 0;
	}
	return 1;
}
#define OK(yaml, c) ok(__LINE__, yaml, c)

static int addr_is(const struct in6_addr *a, const char *s)
{
	struct in6_addr b = A(s);

	return !memcmp(a, &b, sizeof(b));
}

static const struct cfg_listener *find_lis(const struct cfg *c, const char *link, const char *name)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (!strcmp(c->listeners[i].link, link) && !strcmp(c->listeners[i].name, name))
			return &c->listeners[i];
	return NULL;
}

/* ---------------- the example file ---------------- */

static const char *example_path(void)
{
	static const char *cand[] = {"deploy/mldagent.example.yaml",
	                             "../deploy/mldagent.example.yaml",
	                             "../../deploy/mldagent.example.yaml"};
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (!access(cand[i], R_OK))
			return cand[i];
	return cand[0];
}

TEST(config_example_file_loads)
{
	struct cfg c;
	char err[ERRLEN];
	struct mld_tunables def;
	const struct cfg_link *l;
	const struct cfg_listener *li;
	const struct cfg_group *g;

	REQUIRE(cfg_load_file(example_path(), &c, err, sizeof(err)) == 0 ||
	        (t_fail(__FILE__, __LINE__, "%s", err), 0));
	mld_tunables_default(&def);
	CHECK(!memcmp(&c.tun, &def, sizeof(def))); /* the example shows the defaults */
	CHECK_EQ(c.drop_throttled, 1);

	CHECK_EQ(c.nlinks, 2);
	l = cfg_find_link(&c, "eth0");
	REQUIRE(l);
	CHECK_EQ(l->tun.rv, 3);
	CHECK_EQ(l->tun.qi_ms, 125000);
	CHECK_EQ(l->tun.max_srcs_per_listener, 128);
	CHECK_EQ(l->line, 25);
	l = cfg_find_link(&c, "eth1");
	REQUIRE(l);
	CHECK_EQ(l->tun.rv, 2);
	CHECK_EQ(l->tun.force_version, 2);
	CHECK_EQ(l->tun.qri_ms, 5000);
	CHECK_EQ(l->line, 27);
	CHECK(cfg_find_link(&c, "eth2") == NULL);
	CHECK(cfg_link_tunables(&c, "eth2") == &c.tun);
	CHECK(cfg_link_tunables(&c, "eth0") == &cfg_find_link(&c, "eth0")->tun);

	/* Canonical order: by (link, name). */
	REQUIRE(c.nlisteners == 3);
	CHECK(!strcmp(c.listeners[0].link, "eth0") && !strcmp(c.listeners[0].name, "media1"));
	CHECK(!strcmp(c.listeners[1].link, "eth1") && !strcmp(c.listeners[1].name, "feed-a@pod/7"));
	CHECK(!strcmp(c.listeners[2].link, "eth2") && !strcmp(c.listeners[2].name, "media1"));

	li = find_lis(&c, "eth0", "media1");
	REQUIRE(li && li->ngroups == 3);
	CHECK_EQ(li->line, 34);
	/* Groups sorted by address: ff3e::1 < ff3e::3 < ff3e::8000:1. */
	g = &li->groups[0];
	CHECK(addr_is(&g->group, "ff3e::1"));
	CHECK_EQ(g->mode, MLD_FMODE_EXCLUDE);
	CHECK_EQ(g->nsrc, 0);
	CHECK(g->srcs == NULL);
	CHECK_EQ(g->line, 37);
	g = &li->groups[1];
	CHECK(addr_is(&g->group, "ff3e::3"));
	CHECK_EQ(g->mode, MLD_FMODE_EXCLUDE);
	REQUIRE(g->nsrc == 1);
	CHECK(addr_is(&g->srcs[0], "2001:db8::9"));
	CHECK_EQ(g->line, 41);
	g = &li->groups[2];
	CHECK(addr_is(&g->group, "ff3e::8000:1"));
	CHECK_EQ(g->mode, MLD_FMODE_INCLUDE);
	REQUIRE(g->nsrc == 2);
	CHECK(addr_is(&g->srcs[0], "2001:db8::1"));
	CHECK(addr_is(&g->srcs[1], "2001:db8::2"));
	CHECK_EQ(g->line, 38);

	li = find_lis(&c, "eth1", "feed-a@pod/7");
	REQUIRE(li && li->ngroups == 1);
	CHECK(addr_is(&li->groups[0].group, "ff35::4242"));
	CHECK_EQ(li->groups[0].mode, MLD_FMODE_INCLUDE);
	REQUIRE(li->groups[0].nsrc == 1);
	CHECK(addr_is(&li->groups[0].srcs[0], "2001:db8:10::5"));

	li = find_lis(&c, "eth2", "media1");
	REQUIRE(li && li->ngroups == 1);
	CHECK(addr_is(&li->groups[0].group, "ff3e::1"));
	cfg_free(&c);
	CHECK_EQ(c.nlisteners, 0);
	CHECK(c.listeners == NULL);
	cfg_free(&c); /* a freed cfg may be freed again */
}

/* The example also diffs cleanly against itself and against nothing. */
struct rec {
	char buf[4096];
	size_t n, calls;
};

static void rec_cb(void *ctx, enum cfg_change kind, const char *link, const char *listener,
                   const struct cfg_group *o, const struct cfg_group *n)
{
	struct rec *r = ctx;
	const struct cfg_group *g = n ? n : o;
	const char *k = kind == CFG_ADD ? "ADD" : kind == CFG_CHANGE ? "CHANGE" : "REMOVE";

	r->calls++;
	if ((kind == CFG_ADD) != (o == NULL) || (kind == CFG_REMOVE) != (n == NULL))
		t_fail(__FILE__, __LINE__, "%s with old %p new %p", k, (const void *)o,
		       (const void *)n);
	r->n += (size_t)snprintf(r->buf + r->n, sizeof(r->buf) - r->n, "%s %s %s %s\n", k, link,
	                         listener, S(&g->group));
}

static void diff_str(const char *a, const char *b, struct rec *r)
{
	struct cfg ca, cb;

	memset(r, 0, sizeof(*r));
	if (!OK(a, &ca))
		return;
	if (!OK(b, &cb)) {
		cfg_free(&ca);
		return;
	}
	cfg_diff(&ca, &cb, rec_cb, r);
	cfg_free(&ca);
	cfg_free(&cb);
}

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		if (strcmp((a), (b)))                                                              \
			t_fail(__FILE__, __LINE__, "got:\n%s\nwant:\n%s", (a), (b));               \
	} while (0)

TEST(config_example_diff_against_empty)
{
	struct cfg c, empty;
	struct rec r;
	char err[ERRLEN];

	REQUIRE(cfg_load_file(example_path(), &c, err, sizeof(err)) == 0);
	memset(&empty, 0, sizeof(empty));
	memset(&r, 0, sizeof(r));
	cfg_diff(&c, &c, rec_cb, &r);
	CHECK_EQ(r.calls, 0);
	cfg_diff(&empty, &c, rec_cb, &r);
	CHECK_STR(r.buf, "ADD eth0 media1 ff3e::1\n"
	                 "ADD eth0 media1 ff3e::3\n"
	                 "ADD eth0 media1 ff3e::8000:1\n"
	                 "ADD eth1 feed-a@pod/7 ff35::4242\n"
	                 "ADD eth2 media1 ff3e::1\n");
	memset(&r, 0, sizeof(r));
	cfg_diff(&c, &empty, rec_cb, &r);
	CHECK_EQ(r.calls, 5);
	CHECK(!strncmp(r.buf, "REMOVE eth0 media1 ff3e::1\n", 27));
	memset(&r, 0, sizeof(r));
	cfg_diff(NULL, &c, rec_cb, &r); /* NULL is empty too */
	CHECK_EQ(r.calls, 5);
	cfg_free(&c);
}

/* ---------------- whole-file cases ---------------- */

TEST(config_empty_file_is_empty_config)
{
	static const char *empties[] = {"",        "\n",     "# only a comment\n",  "---\n",
	                                "--- ~\n", "null\n", "--- # nothing\n...\n"};
	struct mld_tunables def;
	size_t i;

	mld_tunables_default(&def);
	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct cfg c;

		memset(&c, 0xa5, sizeof(c));
		if (!OK(empties[i], &c))
			continue;
		CHECK(!memcmp(&c.tun, &def, sizeof(def)));
		CHECK_EQ(c.drop_throttled, 1);
		CHECK_EQ(c.nlinks, 0);
		CHECK_EQ(c.nlisteners, 0);
		CHECK(c.links == NULL && c.listeners == NULL);
		cfg_free(&c);
	}
}

TEST(config_empty_sections_are_empty)
{
	struct cfg c;

	if (!OK("tunables:\nlinks:\nlisteners:\n", &c))
		return;
	CHECK_EQ(c.nlinks + c.nlisteners, 0);
	cfg_free(&c);
	if (!OK("links: []\nlisteners:\n  - name: a\n    link: eth0\n    groups: []\n", &c))
		return;
	REQUIRE(c.nlisteners == 1);
	CHECK_EQ(c.listeners[0].ngroups, 0);
	CHECK(c.listeners[0].groups == NULL);
	cfg_free(&c);
}

TEST(config_top_level_must_be_mapping)
{
	ERRC("- a\n- b\n", 1, 1, "top level must be a mapping, not a sequence");
	ERRC("# c\nhello\n", 2, 1, "top level must be a mapping, not the scalar 'hello'");
	ERRC("\n\n\"\"\n", 3, 1, "top level must be a mapping");
}

TEST(config_yaml_syntax_errors)
{
	/* libyaml's problem and mark. */
	ERRC("listeners:\n  - name: a\n   link: b\n", 3, 4,
	     "YAML syntax error: did not find expected '-' indicator (while parsing a block "
	     "collection at line 2 column 3)");
	ERR("listeners: [\n  {name: a, link: b}\n", 3, "YAML syntax error:");
	ERRC("links:\n\t- name: eth0\n", 2, 1,
	     "YAML syntax error: found character that cannot "
	     "start any token");
	ERR("tunables: {robustness: 2\n", 2, "YAML syntax error:");
	ERRC("links: 'unterminated\n", 2, 1,
	     "YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at "
	     "line 1 column 8)");
}

TEST(config_invalid_utf8_and_control_bytes)
{
	struct cfg c;
	char err[ERRLEN];
	static const char bad[] = "links:\n  - name: \xff\xfe\n";
	static const char nul[] = "links:\n  - name: a\0b\n";

	memset(&c, 0, sizeof(c));
	CHECK_EQ(cfg_load_string(bad, sizeof(bad) - 1, "t.yaml", &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "t.yaml:2:11: YAML syntax error: invalid", 39) ||
	      (t_fail(__FILE__, __LINE__, "%s", err), 0));
	CHECK_EQ(cfg_load_string(nul, sizeof(nul) - 1, "t.yaml", &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "t.yaml:2:12: YAML syntax error: control characters", 50) ||
	      (t_fail(__FILE__, __LINE__, "%s", err), 0));
	CHECK(c.listeners == NULL);
}

TEST(config_one_document_only)
{
	ERRC("links: []\n---\nlinks: []\n", 2, 1, "only one YAML document is allowed");
}

TEST(config_aliases_rejected)
{
	ERRC("listeners:\n"
	     "  - name: a\n"
	     "    link: eth0\n"
	     "    groups:\n"
	     "      - {group: ff3e::1, mode: include, sources: &s [2001:db8::1]}\n"
	     "      - {group: ff3e::2, mode: include, sources: *s}\n",
	     6, 50, "aliases (*s) are not supported");
}

TEST(config_unknown_keys)
{
	/* The brief's example message, exactly. */
	ERRC("# demo\n"
	     "links:\n"
	     "  - name: eth0\n"
	     "    tunables:\n"
	     "      robustness: 3\n"
	     "      query-interval: 20s\n"
	     "      robustnes: 3\n",
	     7, 7,
	     "unknown key 'robustnes' in tunables (expected one of: robustness, query-interval, "
	     "query-response-interval, unsolicited-report-interval, "
	     "v1-unsolicited-report-interval, gsr-delay, force-version, max-groups, "
	     "max-sources-per-group, max-sources-per-listener)");
	ERRC("tunables: {}\nlistner: []\n", 2, 1,
	     "unknown key 'listner' in the top level (expected one of: tunables, throttle-policy, "
	     "links, listeners)");
	ERRC("links:\n  - name: eth0\n    mtu: 1500\n", 3, 5,
	     "unknown key 'mtu' in links entry (expected one of: name, tunables)");
	ERRC("listeners:\n  - name: a\n    link: eth0\n    group: []\n", 4, 5,
	     "unknown key 'group' in listeners entry (expected one of: name, link, groups)");
	ERRC("listeners:\n  - name: a\n    link: eth0\n    groups:\n      - group: ff3e::1\n"
	     "        source: [2001:db8::1]\n",
	     6, 9, "unknown key 'source' in groups entry (expected one of: group, mode, sources)");
	/* Keys must be scalars. */
	ERRC("? [a]\n: 1\n", 1, 3, "keys in the top level must be scalars, not a sequence");
}

TEST(config_duplicate_keys)
{
	ERRC("tunables:\n  robustness: 2\n  robustness: 3\n", 3, 3,
	     "duplicate key 'robustness' in tunables (first at line 2)");
	ERRC("links: []\nlinks: []\n", 2, 1,
	     "duplicate key 'links' in the top level (first at line 1)");
	ERRC("listeners:\n  - {name: a, link: eth0, name: b}\n", 2, 27,
	     "duplicate key 'name' in listeners entry (first at line 2)");
}

TEST(config_wrong_node_types)
{
	static const char *lis = "listeners:\n  - name: a\n    link: eth0\n    groups:\n";
	char y[512];

	snprintf(y, sizeof(y),
	         "%s      - group: ff3e::1\n        mode: include\n"
	         "        sources: 2001:db8::1\n",
	         lis);
	ERRC(y, 7, 18, "'sources' must be a sequence, not the scalar '2001:db8::1'");
	snprintf(y, sizeof(y),
	         "%s      - group: ff3e::1\n        mode: include\n"
	         "        sources: {a: 1}\n",
	         lis);
	ERR(y, 7, "'sources' must be a sequence, not a mapping");
	snprintf(y, sizeof(y),
	         "%s      - group: ff3e::1\n        mode: include\n"
	         "        sources: [[2001:db8::1]]\n",
	         lis);
	ERRC(y, 7, 19, "a source must be an IPv6 address, not a sequence");
	snprintf(y, sizeof(y), "%s      group: ff3e::1\n", lis);
	ERRC(y, 5, 7, "'groups' must be a sequence, not a mapping");
	snprintf(y, sizeof(y), "%s      - ff3e::1\n", lis);
	ERRC(y, 5, 9, "groups entry must be a mapping, not the scalar 'ff3e::1'");
	snprintf(y, sizeof(y), "%s      - group: [ff3e::1]\n", lis);
	ERRC(y, 5, 16, "'group' must be a scalar, not a sequence");
	ERRC("listeners: media1\n", 1, 12,
	     "'listeners' must be a sequence, not the scalar 'media1'");
	ERRC("links:\n  eth0: {}\n", 2, 3, "'links' must be a sequence, not a mapping");
	ERRC("tunables: [1]\n", 1, 11, "tunables must be a mapping, not a sequence");
	ERRC("tunables: 3\n", 1, 11, "tunables must be a mapping, not the scalar '3'");
	ERRC("tunables: {robustness: {a: 1}}\n", 1, 24,
	     "'robustness' must be a scalar, not a mapping");
	ERRC("tunables:\n  robustness:\n", 2, 14, "'robustness' needs a value");
	ERRC("links:\n  - name: {a: b}\n", 2, 11, "'name' must be a scalar, not a mapping");
	ERRC("links:\n  - eth0\n", 2, 5, "links entry must be a mapping, not the scalar 'eth0'");
	ERRC("throttle-policy: [drop]\n", 1, 18,
	     "'throttle-policy' must be a scalar, not a sequence");
}

TEST(config_bad_numbers)
{
	ERRC("tunables:\n  max-groups: -1\n", 2, 15,
	     "bad value for 'max-groups': '-1' is negative");
	ERRC("tunables:\n  robustness: 1.5\n", 2, 15,
	     "bad value for 'robustness': '1.5' is not a whole number");
	ERRC("tunables:\n  robustness: two\n", 2, 15,
	     "bad value for 'robustness': 'two' is not a number");
	ERRC("tunables:\n  robustness: 0x2\n", 2, 15, "'0x2' is not a number");
	ERRC("tunables:\n  robustness: +2\n", 2, 15, "'+2' is not a number");
	ERRC("tunables:\n  max-groups: 4294967296\n", 2, 15,
	     "bad value for 'max-groups': '4294967296' is too large (at most 4294967295)");
	ERRC("tunables:\n  max-groups: 99999999999999999999999\n", 2, 15, "is too large");
	ERRC("tunables:\n  max-sources-per-group: 2 0\n", 2, 26, "'2 0' is not a number");
	ERRC("tunables:\n  force-version: 3\n", 2, 18,
	     "bad value for 'force-version': '3' (use auto, 1 or 2)");
	ERRC("throttle-policy: allow\n", 1, 18, "bad throttle-policy 'allow' (use drop or pass)");
}

TEST(config_numbers_and_enums_parse)
{
	struct cfg c;

	if (!OK("tunables:\n  robustness: \"4\"\n  max-groups: 007\n  force-version: 1\n"
	        "throttle-policy: pass\n",
	        &c))
		return;
	CHECK_EQ(c.tun.rv, 4);
	CHECK_EQ(c.tun.max_groups, 7);
	CHECK_EQ(c.tun.force_version, 1);
	CHECK_EQ(c.drop_throttled, 0);
	cfg_free(&c);
	if (!OK("tunables: {force-version: auto}\nthrottle-policy: drop\n", &c))
		return;
	CHECK_EQ(c.tun.force_version, 0);
	CHECK_EQ(c.drop_throttled, 1);
	cfg_free(&c);
}

/* ---------------- durations ---------------- */

static uint32_t dur(int tl, const char *key, const char *val)
{
	char y[256];
	struct cfg c;
	uint32_t v = 0;
	char err[ERRLEN];

	snprintf(y, sizeof(y), "tunables:\n  %s: %s\n", key, val);
	if (load(y, &c, err)) {
		t_fail(__FILE__, tl, "%s: %s: %s", key, val, err);
		return 0;
	}
	if (!strcmp(key, "query-interval"))
		v = c.tun.qi_ms;
	else if (!strcmp(key, "query-response-interval"))
		v = c.tun.qri_ms;
	else if (!strcmp(key, "unsolicited-report-interval"))
		v = c.tun.uri_ms;
	else if (!strcmp(key, "v1-unsolicited-report-interval"))
		v = c.tun.v1_uri_ms;
	else if (!strcmp(key, "gsr-delay"))
		v = c.tun.gsr_delay_ms;
	cfg_free(&c);
	return v;
}
#define DUR(key, val) dur(__LINE__, key, val)

TEST(config_durations_parse)
{
	CHECK_EQ(DUR("unsolicited-report-interval", "500ms"), 500);
	CHECK_EQ(DUR("query-response-interval", "10s"), 10000);
	CHECK_EQ(DUR("query-interval", "2m"), 120000);
	CHECK_EQ(DUR("v1-unsolicited-report-interval", "1ms"), 1);
	CHECK_EQ(DUR("gsr-delay", "0s"), 0);
	CHECK_EQ(DUR("gsr-delay", "0ms"), 0);
	CHECK_EQ(DUR("gsr-delay", "59s"), 59000);
	CHECK_EQ(DUR("query-interval", "31744s"), 31744000);
	CHECK_EQ(DUR("query-interval", "\"30s\""), 30000);
}

TEST(config_durations_reject)
{
	ERRC("tunables:\n  query-interval: 10\n", 2, 19,
	     "bad duration for 'query-interval': '10' has no unit (use ms, s or m, e.g. 10s)");
	ERRC("tunables:\n  query-interval: 10h\n", 2, 19,
	     "bad duration for 'query-interval': '10h' has an unknown unit (use ms, s or m)");
	ERRC("tunables:\n  gsr-delay: -1s\n", 2, 14,
	     "bad duration for 'gsr-delay': '-1s' is negative");
	ERRC("tunables:\n  unsolicited-report-interval: 1.5s\n", 2, 32,
	     "'1.5s' is not a whole number (use a smaller unit, e.g. 1500ms)");
	ERRC("tunables:\n  query-interval: s\n", 2, 19, "'s' is not a duration");
	ERRC("tunables:\n  query-interval: 10 s\n", 2, 19, "'10 s' has an unknown unit");
	ERRC("tunables:\n  query-interval: 10S\n", 2, 19, "'10S' has an unknown unit");
	ERRC("tunables:\n  query-interval: 10sec\n", 2, 19, "has an unknown unit");
	ERRC("tunables:\n  query-interval: 71583m\n", 2, 19,
	     "'71583m' is too large (at most 4294967295ms)");
	ERRC("tunables:\n  query-interval: 4294967296ms\n", 2, 19, "is too large");
	ERRC("tunables:\n  query-interval: 0\n", 2, 19, "has no unit");
	/* In range as a number, out of range for the engine (checked per block). */
	ERRC("tunables:\n  query-interval: 71582m\n", 1, 1,
	     "invalid tunables: qi must be 1 s..31744 s");
}

/* ---------------- tunables ---------------- */

TEST(config_tunables_check_reports_block_line)
{
	struct cfg c;

	ERRC("throttle-policy: drop\n"
	     "tunables:\n"
	     "  robustness: 8\n",
	     2, 1, "invalid tunables: rv must be 1..7");
	ERRC("tunables:\n"
	     "  query-interval: 5s\n"
	     "  query-response-interval: 10s\n",
	     1, 1, "invalid tunables: qri must be below qi");
	ERRC("tunables: {gsr-delay: 60s}\n", 1, 1, "gsr-delay must be 0..59 s");
	ERRC("tunables: {max-groups: 0}\n", 1, 1, "max-groups must be 1..16777216");
	/* A link's merged tunables: valid alone, invalid over the top level. */
	ERRC("tunables:\n"
	     "  query-response-interval: 20s\n"
	     "links:\n"
	     "  - name: eth0\n"
	     "  - name: eth1\n"
	     "    tunables:\n"
	     "      query-interval: 15s\n",
	     6, 5, "invalid tunables for link 'eth1': qri must be below qi");
	/* The same link block is fine when the top level leaves qri at 10 s. */
	if (OK("links:\n  - name: eth1\n    tunables:\n      query-interval: 15s\n", &c)) {
		CHECK_EQ(cfg_find_link(&c, "eth1")->tun.qi_ms, 15000);
		CHECK_EQ(cfg_find_link(&c, "eth1")->tun.qri_ms, 10000);
		cfg_free(&c);
	}
}

TEST(config_link_tunables_merge_over_top_level)
{
	struct cfg c;
	const struct cfg_link *l;

	if (!OK("tunables:\n  robustness: 4\n  max-groups: 100\n"
	        "links:\n  - name: eth0\n    tunables: {robustness: 1, gsr-delay: 0s}\n"
	        "  - name: eth1\n",
	        &c))
		return;
	CHECK_EQ(c.tun.rv, 4);
	CHECK_EQ(c.tun.max_groups, 100);
	l = cfg_find_link(&c, "eth0");
	REQUIRE(l);
	CHECK_EQ(l->tun.rv, 1);
	CHECK_EQ(l->tun.gsr_delay_ms, 0);
	CHECK_EQ(l->tun.max_groups, 100);
	CHECK_EQ(l->tun.qi_ms, 125000);
	l = cfg_find_link(&c, "eth1");
	REQUIRE(l);
	CHECK(!memcmp(&l->tun, &c.tun, sizeof(c.tun)));
	cfg_free(&c);
}

/* ---------------- links ---------------- */

TEST(config_duplicate_link)
{
	ERRC("links:\n"
	     "  - name: eth0\n"
	     "  - name: eth1\n"
	     "  - name: eth0\n"
	     "    tunables: {robustness: 3}\n"
	     "  - name: eth0\n",
	     4, 11, "duplicate link 'eth0' (first at line 2)");
	/* The earliest duplicate in the file is reported, whatever the names. */
	ERRC("links:\n  - name: b\n  - name: a\n  - name: b\n  - name: a\n", 4, 11,
	     "duplicate link 'b' (first at line 2)");
}

TEST(config_bad_link_names)
{
	ERRC("links:\n  - name: eth0123456789abc\n", 2, 11,
	     "bad link name 'eth0123456789abc' (1-15 characters, no whitespace, '/' or ':')");
	ERRC("links:\n  - name: 'eth 0'\n", 2, 11, "bad link name 'eth 0'");
	ERRC("links:\n  - name: eth0:1\n", 2, 11, "bad link name");
	ERRC("links:\n  - name: ..\n", 2, 11, "bad link name");
	ERRC("links:\n  - tunables: {}\n", 2, 5, "links entry has no 'name'");
	ERRC("listeners:\n  - name: a\n    link: a/b\n", 3, 11, "bad link name 'a/b'");
}

/* ---------------- listeners ---------------- */

TEST(config_listener_link_missing)
{
	ERRC("listeners:\n"
	     "  - name: a\n"
	     "    link: eth0\n"
	     "  - name: b\n"
	     "    groups:\n"
	     "      - group: ff3e::1\n",
	     4, 5, "listener 'b' has no 'link'");
	ERRC("listeners:\n  - link: eth0\n", 2, 5, "listeners entry has no 'name'");
	ERRC("listeners:\n  - name: a\n    link:\n", 3, 10, "'link' needs a value");
}

TEST(config_bad_listener_names)
{
	char y[256];

	ERRC("listeners:\n  - name: 'my app'\n    link: eth0\n", 2, 11,
	     "bad listener name 'my app' (1-63 of A-Z a-z 0-9 - _ . : / @)");
	snprintf(y, sizeof(y), "listeners:\n  - name: %.64s\n    link: eth0\n",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ERRC(y, 2, 11, "bad listener name");
	snprintf(y, sizeof(y), "listeners:\n  - name: %.63s\n    link: eth0\n",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	{
		struct cfg c;

		if (OK(y, &c)) {
			CHECK_EQ(strlen(c.listeners[0].name), 63);
			cfg_free(&c);
		}
	}
	ERRC("listeners:\n  - name: \"\"\n    link: eth0\n", 2, 11, "bad listener name ''");
}

TEST(config_duplicate_listener_on_same_link)
{
	struct cfg c;

	ERRC("listeners:\n"
	     "  - name: a\n"
	     "    link: eth0\n"
	     "  - name: a\n"
	     "    link: eth1\n"
	     "  - link: eth0\n"
	     "    name: a\n",
	     7, 11, "duplicate listener 'a' on link 'eth0' (first at line 2)");
	/* Same name on two links: two listeners. */
	if (OK("listeners:\n  - {name: a, link: eth0}\n  - {name: a, link: eth1}\n", &c)) {
		CHECK_EQ(c.nlisteners, 2);
		cfg_free(&c);
	}
}

/* ---------------- groups and sources ---------------- */

#define LIS "listeners:\n  - name: app\n    link: eth0\n    groups:\n"

TEST(config_group_must_be_multicast)
{
	ERRC(LIS "      - group: 2001:db8::1\n", 5, 16,
	     "group '2001:db8::1' is not a multicast address (ff00::/8)");
	ERRC(LIS "      - group: 239.1.1.1\n", 5, 16, "group '239.1.1.1' is not an IPv6 address");
	ERRC(LIS "      - group: ff3e::1::2\n", 5, 16, "is not an IPv6 address");
	ERRC(LIS "      - group: \"ff3e::1\\0\"\n", 5, 16, "is not an IPv6 address");
	ERRC(LIS "      - group: ff3e:0000:0000:0000:0000:0000:0000:0000:0001\n", 5, 16,
	     "is not an IPv6 address");
	ERRC(LIS "      - mode: exclude\n", 5, 9, "groups entry has no 'group'");
	ERRC(LIS "      - {}\n", 5, 9, "groups entry has no 'group'");
}

TEST(config_sources_must_be_unicast)
{
	ERRC(LIS "      - group: ff3e::1\n"
	         "        mode: include\n"
	         "        sources:\n"
	         "          - 2001:db8::1\n"
	         "          - ff3e::9\n",
	     9, 13, "source 'ff3e::9' is a multicast address (sources are unicast)");
	ERRC(
	    LIS
	    "      - group: ff3e::1\n        mode: exclude\n        sources: [2001:db8::1, '::']\n",
	    7, 32, "source '::' is the unspecified address");
	ERRC(LIS "      - group: ff3e::1\n        mode: exclude\n        sources: [0::0]\n", 7, 19,
	     "source '0::0' is the unspecified address");
	ERRC(LIS "      - group: ff3e::1\n        mode: include\n        sources: [nope]\n", 7, 19,
	     "source 'nope' is not an IPv6 address");
	ERRC(LIS "      - group: ff3e::1\n        mode: include\n        sources: [2001:db8::1, ]\n"
	         "      - group: ff3e::2\n        mode: include\n        sources: [~]\n",
	     10, 19, "a source must be an IPv6 address, not an empty value");
}

TEST(config_include_needs_sources)
{
	ERRC(LIS "      - group: ff3e::1\n        mode: include\n", 6, 15,
	     "mode include needs at least one source");
	ERRC(LIS "      - group: ff3e::1\n        sources: []\n        mode: include\n", 7, 15,
	     "mode include needs at least one source");
	ERRC(LIS "      - {group: ff3e::1, mode: include, sources: }\n", 5, 32,
	     "mode include needs at least one source");
	ERRC(LIS "      - {group: ff3e::1, mode: both}\n", 5, 32,
	     "bad mode 'both' (use include or exclude)");
}

TEST(config_sources_need_mode)
{
	ERRC(LIS "      - group: ff3e::1\n        sources: [2001:db8::1]\n", 6, 9,
	     "'sources' given without 'mode' (include or exclude)");
	ERRC(LIS "      - group: ff3e::1\n        sources: []\n", 6, 9,
	     "'sources' given without 'mode'");
}

TEST(config_exclude_without_sources_is_asm)
{
	struct cfg c;

	if (!OK(LIS "      - {group: ff3e::1, mode: exclude}\n"
	            "      - {group: ff3e::2, mode: exclude, sources: []}\n"
	            "      - {group: ff3e::3}\n",
	        &c))
		return;
	REQUIRE(c.nlisteners == 1 && c.listeners[0].ngroups == 3);
	{
		size_t i;

		for (i = 0; i < 3; i++) {
			CHECK_EQ(c.listeners[0].groups[i].mode, MLD_FMODE_EXCLUDE);
			CHECK_EQ(c.listeners[0].groups[i].nsrc, 0);
			CHECK(c.listeners[0].groups[i].srcs == NULL);
		}
	}
	cfg_free(&c);
}

TEST(config_duplicate_group_in_listener)
{
	struct cfg c;

	ERRC(LIS "      - group: ff3e::1\n"
	         "      - group: ff3e::2\n"
	         "      - group: ff3e:0::0:1\n"
	         "        mode: include\n"
	         "        sources: [2001:db8::1]\n",
	     7, 16, "duplicate group ff3e::1 in listener 'app' (first at line 5)");
	/* The same group in two listeners is fine. */
	if (OK("listeners:\n  - {name: a, link: eth0, groups: [{group: ff3e::1}]}\n"
	       "  - {name: b, link: eth0, groups: [{group: ff3e::1}]}\n",
	       &c))
		cfg_free(&c);
}

TEST(config_sources_sorted_unique)
{
	struct cfg c;
	const struct cfg_group *g;

	if (!OK(LIS "      - group: ff3e::1\n        mode: include\n"
	            "        sources: [2001:db8::3, 2001:db8::1, 2001:0db8::3, fe80::1, "
	            "2001:db8::2, 2001:db8::1]\n",
	        &c))
		return;
	g = &c.listeners[0].groups[0];
	REQUIRE(g->nsrc == 4);
	CHECK(addr_is(&g->srcs[0], "2001:db8::1"));
	CHECK(addr_is(&g->srcs[1], "2001:db8::2"));
	CHECK(addr_is(&g->srcs[2], "2001:db8::3"));
	CHECK(addr_is(&g->srcs[3], "fe80::1"));
	cfg_free(&c);
}

TEST(config_source_count_above_listener_limit)
{
	struct cfg c;
	static const char *three = "      - group: ff3e::1\n        mode: exclude\n"
	                           "        sources: [2001:db8::1, 2001:db8::2, 2001:db8::3]\n";
	char y[1024];

	/* Top-level limit, link not listed. */
	snprintf(y, sizeof(y), "tunables: {max-sources-per-listener: 2}\n%s%s", LIS, three);
	ERRC(y, 8, 9,
	     "group ff3e::1 of listener 'app' has 3 sources, above max-sources-per-listener 2 of "
	     "link 'eth0'");
	/* The link's override raises it. */
	snprintf(y, sizeof(y),
	         "tunables: {max-sources-per-listener: 2}\n"
	         "links: [{name: eth0, tunables: {max-sources-per-listener: 3}}]\n%s%s",
	         LIS, three);
	if (OK(y, &c))
		cfg_free(&c);
	/* ... or lowers it. */
	snprintf(y, sizeof(y),
	         "links: [{name: eth0, tunables: {max-sources-per-listener: 2}}]\n%s%s", LIS,
	         three);
	ERRC(y, 8, 9, "has 3 sources, above max-sources-per-listener 2");
	/* Counted after de-duplication. */
	snprintf(
	    y, sizeof(y),
	    "tunables: {max-sources-per-listener: 2}\n%s      - group: ff3e::1\n"
	    "        mode: include\n        sources: [2001:db8::1, 2001:db8::2, 2001:db8::1]\n",
	    LIS);
	if (OK(y, &c))
		cfg_free(&c);
}

TEST(config_distinct_groups_above_max_groups)
{
	struct cfg c;

	ERRC("links:\n  - name: eth1\n  - name: eth0\n    tunables: {max-groups: 2}\n"
	     "listeners:\n"
	     "  - {name: a, link: eth0, groups: [{group: ff3e::1}, {group: ff3e::2}]}\n"
	     "  - {name: b, link: eth0, groups: [{group: ff3e::2}, {group: ff3e::3}]}\n",
	     3, 11, "link 'eth0' has 3 distinct groups, above max-groups 2");
	/* Shared groups count once. */
	if (OK("tunables: {max-groups: 2}\nlisteners:\n"
	       "  - {name: a, link: eth0, groups: [{group: ff3e::1}, {group: ff3e::2}]}\n"
	       "  - {name: b, link: eth0, groups: [{group: ff3e::2}, {group: ff3e::1}]}\n"
	       "  - {name: c, link: eth1, groups: [{group: ff3e::3}, {group: ff3e::4}]}\n",
	       &c))
		cfg_free(&c);
	/* Unlisted link: reported at the first listener's link. */
	ERRC("tunables: {max-groups: 1}\nlisteners:\n"
	     "  - {name: b, link: eth0, groups: [{group: ff3e::2}]}\n"
	     "  - {name: a, link: eth0, groups: [{group: ff3e::1}]}\n",
	     3, 21, "link 'eth0' has 2 distinct groups, above max-groups 1");
}

TEST(config_canonical_order)
{
	struct cfg c;

	if (!OK("links: [{name: b}, {name: a}]\nlisteners:\n"
	        "  - {name: z, link: eth1, groups: [{group: ff3e::2}, {group: ff02::1:3}, {group: "
	        "ff3e::1}]}\n"
	        "  - {name: y, link: eth1}\n"
	        "  - {name: x, link: eth0}\n",
	        &c))
		return;
	REQUIRE(c.nlinks == 2 && c.nlisteners == 3);
	CHECK(!strcmp(c.links[0].name, "a"));
	CHECK(!strcmp(c.links[1].name, "b"));
	CHECK(!strcmp(c.listeners[0].name, "x"));
	CHECK(!strcmp(c.listeners[1].name, "y"));
	CHECK(!strcmp(c.listeners[2].name, "z"));
	REQUIRE(c.listeners[2].ngroups == 3);
	CHECK(addr_is(&c.listeners[2].groups[0].group, "ff02::1:3"));
	CHECK(addr_is(&c.listeners[2].groups[1].group, "ff3e::1"));
	CHECK(addr_is(&c.listeners[2].groups[2].group, "ff3e::2"));
	cfg_free(&c);
}

/* ---------------- API edges ---------------- */

TEST(config_error_buffer_edges)
{
	struct cfg c;
	char small[12];

	memset(&c, 0, sizeof(c));
	/* No error buffer, or a short one: still -1, no overflow. */
	CHECK_EQ(cfg_load_string("links: 3\n", 9, "t.yaml", &c, NULL, 0), -1);
	CHECK_EQ(cfg_load_string("links: 3\n", 9, "t.yaml", &c, small, sizeof(small)), -1);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(cfg_load_string("links: 3\n", 9, NULL, &c, small, sizeof(small)), -1);
	CHECK(!strncmp(small, "<string>:1", 10));
	/* The length bounds the input: the rest is not read. */
	CHECK_EQ(cfg_load_string("links: []\nbogus: 1\n", 10, "t.yaml", &c, NULL, 0), 0);
	cfg_free(&c);
}

TEST(config_load_file_errors)
{
	struct cfg c;
	char err[ERRLEN];
	char path[] = "/tmp/mldcfg-XXXXXX";
	int fd;
	static const char body[] = "listeners:\n  - name: a\n    link: eth0\n    grups: []\n";

	memset(&c, 0, sizeof(c));
	CHECK_EQ(cfg_load_file("/nonexistent/mldagent.yaml", &c, err, sizeof(err)), -1);
	CHECK(!strcmp(err, "/nonexistent/mldagent.yaml: No such file or directory"));
	CHECK_EQ(cfg_load_file("/", &c, err, sizeof(err)), -1);
	CHECK(!strncmp(err, "/: ", 3));
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, body, sizeof(body) - 1), (long)(sizeof(body) - 1));
	close(fd);
	CHECK_EQ(cfg_load_file(path, &c, err, sizeof(err)), -1);
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:4:5: unknown key 'grups'", path);
		CHECK(!strncmp(err, want, strlen(want)) ||
		      (t_fail(__FILE__, __LINE__, "%s", err), 0));
	}
	unlink(path);
	CHECK(c.listeners == NULL);
}

/* ---------------- cfg_diff ---------------- */

static const char *BASE =
    "listeners:\n"
    "  - name: a\n"
    "    link: eth0\n"
    "    groups:\n"
    "      - group: ff3e::1\n"
    "      - {group: ff3e::2, mode: include, sources: [2001:db8::1, 2001:db8::2]}\n"
    "      - {group: ff3e::3, mode: exclude, sources: [2001:db8::9]}\n"
    "  - name: b\n"
    "    link: eth1\n"
    "    groups: [{group: ff3e::1}]\n";

TEST(config_diff_unchanged_is_silent)
{
	struct rec r;

	diff_str(BASE, BASE, &r);
	CHECK_EQ(r.calls, 0);
	/* Reordered, reformatted, duplicate sources: same config. */
	diff_str(BASE,
	         "tunables: {robustness: 5}\n"
	         "links: [{name: eth0}]\n"
	         "listeners:\n"
	         "  - name: b\n"
	         "    link: eth1\n"
	         "    groups: [{group: ff3e:0::1, mode: exclude}]\n"
	         "  - link: eth0\n"
	         "    name: a\n"
	         "    groups:\n"
	         "      - {group: ff3e::3, mode: exclude, sources: [2001:db8::9, 2001:db8::9]}\n"
	         "      - {sources: [2001:db8::2, 2001:db8::1], mode: include, group: ff3e::2}\n"
	         "      - group: ff3e::1\n",
	         &r);
	CHECK_EQ(r.calls, 0);
	CHECK_STR(r.buf, "");
}

TEST(config_diff_add_remove_group)
{
	struct rec r;

	diff_str(BASE,
	         "listeners:\n"
	         "  - name: a\n"
	         "    link: eth0\n"
	         "    groups:\n"
	         "      - group: ff3e::1\n"
	         "      - {group: ff3e::2, mode: include, sources: [2001:db8::1, 2001:db8::2]}\n"
	         "      - group: ff3e::4\n"
	         "  - name: b\n"
	         "    link: eth1\n"
	         "    groups: [{group: ff3e::1}, {group: ff3e::5}]\n",
	         &r);
	/* Removals first, then additions. */
	CHECK_STR(r.buf, "REMOVE eth0 a ff3e::3\n"
	                 "ADD eth0 a ff3e::4\n"
	                 "ADD eth1 b ff3e::5\n");
}

TEST(config_diff_mode_or_sources_change)
{
	struct rec r;
	struct cfg a, b;

	diff_str(BASE,
	         "listeners:\n"
	         "  - name: a\n"
	         "    link: eth0\n"
	         "    groups:\n"
	         "      - {group: ff3e::1, mode: exclude, sources: [2001:db8::7]}\n"
	         "      - {group: ff3e::2, mode: include, sources: [2001:db8::1]}\n"
	         "      - {group: ff3e::3, mode: include, sources: [2001:db8::9]}\n"
	         "  - name: b\n"
	         "    link: eth1\n"
	         "    groups: [{group: ff3e::1, mode: exclude}]\n",
	         &r);
	CHECK_STR(r.buf, "CHANGE eth0 a ff3e::1\n"
	                 "CHANGE eth0 a ff3e::2\n"
	                 "CHANGE eth0 a ff3e::3\n");
	/* And back: one CHANGE each way. */
	if (!OK("listeners: [{name: a, link: e, groups: [{group: ff3e::1}]}]\n", &a))
		return;
	if (OK("listeners: [{name: a, link: e, groups: [{group: ff3e::1, mode: include, "
	       "sources: [2001:db8::1]}]}]\n",
	       &b)) {
		struct rec r2;

		memset(&r2, 0, sizeof(r2));
		cfg_diff(&a, &b, rec_cb, &r2);
		CHECK_STR(r2.buf, "CHANGE e a ff3e::1\n");
		cfg_diff(&b, &a, rec_cb, &r2);
		CHECK_EQ(r2.calls, 2);
		cfg_free(&b);
	}
	cfg_free(&a);
}

static void check_filters_cb(void *ctx, enum cfg_change kind, const char *link,
                             const char *listener, const struct cfg_group *o,
                             const struct cfg_group *n)
{
	int *calls = ctx;

	(void)link;
	(void)listener;
	(*calls)++;
	CHECK_EQ(kind, CFG_CHANGE);
	REQUIRE(o && n);
	CHECK_EQ(o->mode, MLD_FMODE_INCLUDE);
	CHECK_EQ(o->nsrc, 2);
	CHECK_EQ(n->mode, MLD_FMODE_INCLUDE);
	CHECK_EQ(n->nsrc, 3);
	CHECK(addr_is(&n->srcs[2], "2001:db8::3"));
}

TEST(config_diff_change_passes_old_and_new)
{
	struct cfg a, b;
	int calls = 0;

	if (!OK("listeners: [{name: a, link: e, groups: [{group: ff3e::1, mode: include, "
	        "sources: [2001:db8::1, 2001:db8::2]}]}]\n",
	        &a))
		return;
	if (OK("listeners: [{name: a, link: e, groups: [{group: ff3e::1, mode: include, "
	       "sources: [2001:db8::3, 2001:db8::1, 2001:db8::2]}]}]\n",
	       &b)) {
		cfg_diff(&a, &b, check_filters_cb, &calls);
		CHECK_EQ(calls, 1);
		cfg_free(&b);
	}
	cfg_free(&a);
}

TEST(config_diff_listener_renamed)
{
	struct rec r;

	diff_str(
	    "listeners: [{name: a, link: eth0, groups: [{group: ff3e::1}, {group: ff3e::2}]}]\n",
	    "listeners: [{name: c, link: eth0, groups: [{group: ff3e::1}, {group: ff3e::2}]}]\n",
	    &r);
	CHECK_STR(r.buf, "REMOVE eth0 a ff3e::1\n"
	                 "REMOVE eth0 a ff3e::2\n"
	                 "ADD eth0 c ff3e::1\n"
	                 "ADD eth0 c ff3e::2\n");
}

TEST(config_diff_listener_moved_to_other_link)
{
	struct rec r;

	diff_str("listeners: [{name: a, link: eth0, groups: [{group: ff3e::1}]}]\n",
	         "listeners: [{name: a, link: eth1, groups: [{group: ff3e::1}]}]\n", &r);
	CHECK_STR(r.buf, "REMOVE eth0 a ff3e::1\n"
	                 "ADD eth1 a ff3e::1\n");
	/* Tunables and throttle policy are not memberships. */
	diff_str("listeners: [{name: a, link: eth0, groups: [{group: ff3e::1}]}]\n",
	         "throttle-policy: pass\ntunables: {robustness: 3}\n"
	         "listeners: [{name: a, link: eth0, groups: [{group: ff3e::1}]}]\n",
	         &r);
	CHECK_EQ(r.calls, 0);
}
