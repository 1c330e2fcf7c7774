/* SPDX-License-Identifier: BSD-2-Clause */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---------------- registration ---------------- */

struct test_ent {
	const char *name;
	test_fn fn;
};
static struct test_ent tests[1024];
static size_t ntests;
int t_failed_checks;
static const char *cur_test;

void test_register(const char *name, test_fn fn)
{
	if (ntests == sizeof(tests) / sizeof(tests[0])) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests++].fn = fn;
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failed_checks++;
	fprintf(stderr, "  %s:%d: [%s] ", file, line, cur_test ? cur_test : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmp_test(const void *a, const void *b)
{
	return strcmp(((const struct test_ent *)a)->name, ((const struct test_ent *)b)->name);
}

int main(int argc, char **argv)
{
	size_t i, pass = 0, fail = 0;
	const char *outdir = getenv("TEST_OUT") ? getenv("TEST_OUT") : "build/test-out";

	/* Line-buffered: a sanitizer report at exit must not swallow results. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	qsort(tests, ntests, sizeof(tests[0]), cmp_test);
	capture_open(outdir);
	for (i = 0; i < ntests; i++) {
		int before = t_failed_checks;

		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_test = tests[i].name;
		tests[i].fn();
		if (t_failed_checks == before) {
			pass++;
			printf("ok   %s\n", tests[i].name);
		} else {
			fail++;
			printf("FAIL %s\n", tests[i].name);
		}
	}
	capture_close();
	printf("engine: %zu passed, %zu failed\n", pass, fail);
	return fail ? 1 : 0;
}

/* ---------------- addresses ---------------- */

struct in6_addr A(const char *s) {
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1) {
		fprintf(stderr, "bad address literal in test: %s\n", s);
		abort();
	}
	return a;
}

const char *
S(const struct in6_addr *a)
{
	static char buf[8][INET6_ADDRSTRLEN];
	static int k;

	k = (k + 1) % 8;
	return inet_ntop(AF_INET6, a, buf[k], sizeof(buf[k]));
}

/* ---------------- capture ---------------- */

static FILE *pcap_f, *exp_f;

void capture_open(const char *dir)
{
	char path[512];
	struct {
		uint32_t magic;
		uint16_t vmaj, vmin;
		int32_t tz;
		uint32_t sig, snap, link;
	} hdr = {0xa1b2c3d4, 2, 4, 0, 0, 65535, 101 /* LINKTYPE_RAW */};

	snprintf(path, sizeof(path), "mkdir -p '%s'", dir);
	if (system(path) != 0)
		return;
	snprintf(path, sizeof(path), "%s/engine.pcap", dir);
	pcap_f = fopen(path, "wb");
	snprintf(path, sizeof(path), "%s/engine.expect.jsonl", dir);
	exp_f = fopen(path, "w");
	if (pcap_f)
		fwrite(&hdr, sizeof(hdr), 1, pcap_f);
}

void capture_close(void)
{
	if (pcap_f)
		fclose(pcap_f);
	if (exp_f)
		fclose(exp_f);
	pcap_f = exp_f = NULL;
}

static uint64_t cap_frames;

static void capture_write(const struct dpkt *d)
{
	struct {
		uint32_t sec, usec, incl, orig;
	} ph;
	uint16_t r, k;

	if (!pcap_f || !exp_f)
		return;
	/* Virtual time would repeat across tests; frame k at k µs keeps order. */
	cap_frames++;
	ph.sec = (uint32_t)(cap_frames / 1000000);
	ph.usec = (uint32_t)(cap_frames % 1000000);
	ph.incl = ph.orig = (uint32_t)d->len;
	fwrite(&ph, sizeof(ph), 1, pcap_f);
	fwrite(d->raw, 1, d->len, pcap_f);
	fprintf(exp_f, "{\"frame\":%llu,\"src\":\"%s\",\"dst\":\"%s\",\"icmp_type\":%u",
	        (unsigned long long)cap_frames, S(&d->src), S(&d->dst), d->icmp_type);
	if (d->icmp_type == MLD_ICMP_V2_REPORT) {
		fprintf(exp_f, ",\"records\":[");
		for (r = 0; r < d->nrec; r++) {
			fprintf(exp_f, "%s{\"type\":%u,\"group\":\"%s\",\"sources\":[",
			        r ? "," : "", d->recs[r].type, S(&d->recs[r].group));
			for (k = 0; k < d->recs[r].nsrc; k++)
				fprintf(exp_f, "%s\"%s\"", k ? "," : "", S(&d->recs[r].srcs[k]));
			fprintf(exp_f, "]}");
		}
		fprintf(exp_f, "]");
	} else {
		fprintf(exp_f, ",\"group\":\"%s\"", S(&d->group));
	}
	fprintf(exp_f, "}\n");
}

/* ---------------- decoding ---------------- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Plain RFC 1071 sum, written separately from the engine's. */
static uint16_t csum(const uint8_t *src, const uint8_t *dst, const uint8_t *data, size_t len)
{
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		acc += rd16(src + i) + rd16(dst + i);
	acc += (uint32_t)len;
	acc += 58;
	for (i = 0; i + 1 < len; i += 2)
		acc += rd16(data + i);
	if (len & 1)
		acc += (uint32_t)data[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(why, whylen, __VA_ARGS__);                                                \
		return -1;                                                                         \
	} while (0)

int decode_packet(const uint8_t *p, size_t len, struct dpkt *o, char *why, size_t whylen)
{
	const uint8_t *icmp;
	size_t ilen, off, r;

	o->raw = NULL;
	o->len = len;
	if (len < 40 + 8 + 8)
		BAD("short packet %zu", len);
	if ((p[0] >> 4) != 6)
		BAD("not IPv6");
	if (rd16(p + 4) != len - 40)
		BAD("payload length %u != %zu", rd16(p + 4), len - 40);
	if (p[6] != 0)
		BAD("next header %u, want hop-by-hop", p[6]);
	if (p[7] != 1)
		BAD("hop limit %u", p[7]);
	memcpy(&o->src, p + 8, 16);
	memcpy(&o->dst, p + 24, 16);
	/* Exactly our hop-by-hop layout: RA(0) + PadN. */
	if (p[40] != 58 || p[41] != 0 || p[42] != 5 || p[43] != 2 || p[44] != 0 || p[45] != 0 ||
	    p[46] != 1 || p[47] != 0)
		BAD("hop-by-hop header is not Router Alert MLD");
	if (!(o->src.s6_addr[0] == 0xfe && (o->src.s6_addr[1] & 0xc0) == 0x80)) {
		static const struct in6_addr any;

		if (memcmp(&o->src, &any, 16))
			BAD("source %s neither link-local nor ::", S(&o->src));
	}
	icmp = p + 48;
	ilen = len - 48;
	if (csum(p + 8, p + 24, icmp, ilen) != 0)
		BAD("bad ICMPv6 checksum");
	o->icmp_type = icmp[0];
	if (icmp[1] != 0)
		BAD("code %u", icmp[1]);
	o->nrec = 0;
	if (o->icmp_type == MLD_ICMP_V1_REPORT || o->icmp_type == MLD_ICMP_V1_DONE) {
		static const uint8_t routers[16] = {0xff, 2, [15] = 2};

		if (ilen != 24)
			BAD("v1 length %zu", ilen);
		memcpy(&o->group, icmp + 8, 16);
		if (o->icmp_type == MLD_ICMP_V1_REPORT && memcmp(&o->dst, &o->group, 16))
			BAD("v1 report not sent to its group");
		if (o->icmp_type == MLD_ICMP_V1_DONE && memcmp(&o->dst, routers, 16))
			BAD("done not sent to ff02::2");
		return 0;
	}
	if (o->icmp_type != MLD_ICMP_V2_REPORT)
		BAD("icmp type %u", o->icmp_type);
	{
		static const uint8_t mldv2[16] = {0xff, 2, [15] = 0x16};

		if (memcmp(&o->dst, mldv2, 16))
			BAD("v2 report not sent to ff02::16");
	}
	o->nrec = rd16(icmp + 6);
	if (o->nrec == 0)
		BAD("report with no records");
	if (o->nrec > MAX_RECS)
		BAD("too many records %u", o->nrec);
	off = 8;
	{
		size_t pool_used = 0;

		for (r = 0; r < o->nrec; r++) {
			struct drec *d = &o->recs[r];

			if (off + 20 > ilen)
				BAD("record %zu truncated", r);
			d->type = icmp[off];
			if (d->type < 1 || d->type > 6)
				BAD("record type %u", d->type);
			if (icmp[off + 1] != 0)
				BAD("aux data");
			d->nsrc = rd16(icmp + off + 2);
			memcpy(&d->group, icmp + off + 4, 16);
			if (d->group.s6_addr[0] != 0xff)
				BAD("record group not multicast");
			off += 20;
			if (off + (size_t)d->nsrc * 16 > ilen)
				BAD("record %zu sources truncated", r);
			if (pool_used + d->nsrc > MAX_PKT_SRCS)
				BAD("too many sources");
			d->srcs = &o->pool[pool_used];
			memcpy(d->srcs, icmp + off, (size_t)d->nsrc * 16);
			pool_used += d->nsrc;
			off += (size_t)d->nsrc * 16;
			/* Errata 16: continuation records never carry zero sources;
			 * only TO_IN may be empty, and IS_IN / ALLOW / BLOCK never. */
			if (d->nsrc == 0 &&
			    (d->type == MLD_MODE_IS_INCLUDE || d->type == MLD_ALLOW_NEW_SOURCES ||
			     d->type == MLD_BLOCK_OLD_SOURCES))
				BAD("empty %u record", d->type);
		}
	}
	if (off != ilen)
		BAD("%zu trailing bytes", ilen - off);
	return 0;
}

/* ---------------- simulation ---------------- */

const char *LL1 = "fe80::1";

static uint32_t sim_rand(void *ctx)
{
	struct sim *s = ctx;

	/* xorshift64*: deterministic per test, good enough for jitter. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (uint32_t)((s->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void sim_tx(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	struct sim *s = ctx;
	struct dpkt *d;
	char why[200];

	if (s->npkts >= SIM_MAX_PKTS) {
		t_fail(__FILE__, __LINE__, "more than %d packets", SIM_MAX_PKTS);
		return;
	}
	/* Decode into scratch space, keep an exact-size copy: tests capture
	 * tens of thousands of packets. */
	{
		static struct dpkt scratch;
		static struct drec recs[MAX_RECS];
		static struct in6_addr pool[MAX_PKT_SRCS];
		size_t npool = 0;
		uint16_t r;

		scratch.recs = recs;
		scratch.pool = pool;
		if (decode_packet(pkt, len, &scratch, why, sizeof(why)) < 0) {
			t_fail(__FILE__, __LINE__, "engine emitted a bad packet at t=%llu: %s",
			       (unsigned long long)s->now, why);
			scratch.nrec = 0;
		}
		for (r = 0; r < scratch.nrec; r++)
			npool += recs[r].nsrc;
		d = calloc(1, sizeof(*d));
		*d = scratch;
		d->raw = malloc(len);
		memcpy(d->raw, pkt, len);
		d->recs = calloc(scratch.nrec ? scratch.nrec : 1, sizeof(*d->recs));
		d->pool = calloc(npool ? npool : 1, sizeof(*d->pool));
		memcpy(d->pool, pool, npool * sizeof(*pool));
		for (r = 0, npool = 0; r < scratch.nrec; r++) {
			d->recs[r] = recs[r];
			d->recs[r].srcs = d->pool + npool;
			npool += recs[r].nsrc;
		}
	}
	d->time = s->now;
	d->ifindex = ifindex;
	if (len > 1500 && ifindex == IF1)
		t_fail(__FILE__, __LINE__, "packet of %zu bytes over the 1500 MTU", len);
	s->pkts[s->npkts++] = d;
	capture_write(d);
}

struct sim *sim_new_bare(const struct mld_tunables *t)
{
	struct sim *s = calloc(1, sizeof(*s));

	s->rng = 0x9e3779b97f4a7c15ull;
	s->pkts = calloc(SIM_MAX_PKTS, sizeof(*s->pkts));
	s->now = 1000;
	s->e = mld_engine_new(t, sim_rand, s, sim_tx, s);
	if (!s->e) {
		fprintf(stderr, "engine_new failed\n");
		abort();
	}
	return s;
}

struct sim *sim_new(const struct mld_tunables *t)
{
	struct sim *s = sim_new_bare(t);
	struct in6_addr ll = A(LL1);

	if (mld_link_add(s->e, IF1, 1500, 0, s->now) ||
	    mld_link_set_lladdr(s->e, IF1, MLD_LL_VALID, &ll, s->now)) {
		fprintf(stderr, "link setup failed\n");
		abort();
	}
	return s;
}

void sim_free(struct sim *s)
{
	size_t i;

	for (i = 0; i < s->npkts; i++) {
		free(s->pkts[i]->raw);
		free(s->pkts[i]->recs);
		free(s->pkts[i]->pool);
		free(s->pkts[i]);
	}
	free(s->pkts);
	mld_engine_free(s->e);
	free(s);
}

void sim_run_until(struct sim *s, uint64_t t)
{
	int guard = 0;

	for (;;) {
		uint64_t d = mld_next_deadline(s->e);

		if (d > t)
			break;
		if (d < s->now) {
			t_fail(__FILE__, __LINE__, "deadline %llu in the past (now %llu)",
			       (unsigned long long)d, (unsigned long long)s->now);
			d = s->now;
		}
		s->now = d;
		mld_timeout(s->e, s->now);
		if (++guard > 10000000) {
			t_fail(__FILE__, __LINE__, "timer loop does not converge");
			break;
		}
		if (mld_next_deadline(s->e) <= s->now && guard > 1000000) {
			t_fail(__FILE__, __LINE__, "deadline stuck at %llu", (unsigned long long)d);
			break;
		}
	}
	if (t > s->now)
		s->now = t;
}

void sim_advance(struct sim *s, uint64_t ms)
{
	sim_run_until(s, s->now + ms);
}

size_t sim_pending(const struct sim *s)
{
	return s->npkts - s->cursor;
}

struct dpkt *sim_pkt(struct sim *s, size_t i)
{
	static struct dpkt none;
	static struct drec norec[1];
	static uint8_t noraw[64];

	if (i < sim_pending(s))
		return s->pkts[s->cursor + i];
	t_fail(__FILE__, __LINE__, "packet %zu requested, only %zu pending", i, sim_pending(s));
	memset(&none, 0, sizeof(none));
	memset(norec, 0, sizeof(norec));
	none.recs = norec;
	none.raw = noraw;
	return &none;
}

void sim_take(struct sim *s)
{
	s->cursor = s->npkts;
}

size_t count_records(struct sim *s, uint8_t type, const struct in6_addr *group,
                     const struct drec **last)
{
	size_t i, n = 0;
	uint16_t r;

	for (i = s->cursor; i < s->npkts; i++) {
		struct dpkt *d = s->pkts[i];

		for (r = 0; r < d->nrec; r++) {
			if (type && d->recs[r].type != type)
				continue;
			if (group && memcmp(&d->recs[r].group, group, 16))
				continue;
			n++;
			if (last)
				*last = &d->recs[r];
		}
	}
	return n;
}

int rec_srcs_are(const struct drec *r, const char *list)
{
	char buf[4096], *tok, *save = NULL;
	size_t n = 0;
	uint16_t k;

	if (!r)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct in6_addr a = A(tok);
		int found = 0;

		for (k = 0; k < r->nsrc; k++)
			if (!memcmp(&r->srcs[k], &a, 16))
				found = 1;
		if (!found)
			return 0;
		n++;
	}
	return n == r->nsrc;
}

/* ---------------- crafting ---------------- */

static size_t put_hdrs(uint8_t *b, const char *src, const char *dst, const struct qopts *o,
                       size_t icmplen)
{
	struct in6_addr s = A(src), d = A(dst);
	size_t plen = 8 + icmplen;

	memset(b, 0, 48);
	b[0] = 0x60;
	b[4] = (uint8_t)(plen >> 8);
	b[5] = (uint8_t)plen;
	b[6] = 0;
	b[7] = (uint8_t)(o && o->hop_limit ? o->hop_limit : 1);
	memcpy(b + 8, &s, 16);
	memcpy(b + 24, &d, 16);
	b[40] = 58;
	b[41] = 0;
	if (o && o->no_ra) {
		b[42] = 1; /* PadN of 4 */
		b[43] = 4;
	} else {
		b[42] = 5;
		b[43] = 2;
		b[44] = (uint8_t)((o ? o->ra_value : 0) >> 8);
		b[45] = (uint8_t)(o ? o->ra_value : 0);
		b[46] = 1;
		b[47] = 0;
	}
	return 48;
}

static size_t finish(uint8_t *b, size_t icmplen, const struct qopts *o)
{
	uint16_t c;

	b[48 + 2] = b[48 + 3] = 0;
	c = csum(b + 8, b + 24, b + 48, icmplen);
	if (o && o->bad_csum)
		c ^= 0x5555;
	b[48 + 2] = (uint8_t)(c >> 8);
	b[48 + 3] = (uint8_t)c;
	if (o && o->truncate) {
		size_t len = 48 + icmplen - (size_t)o->truncate;

		/* Keep the IPv6 payload length honest about the cut. */
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
		return len;
	}
	return 48 + icmplen;
}

size_t craft_v2_query(uint8_t *buf, const char *group, uint16_t mrc, const char *srcs,
                      const struct qopts *o)
{
	char list[8192], *tok, *save = NULL;
	size_t n = 0;
	uint8_t *icmp = buf + 48;
	struct in6_addr g = group ? A(group) : A("::");
	const char *dst = o && o->dst ? o->dst : group ? group : "ff02::1";

	snprintf(list, sizeof(list), "%s", srcs ? srcs : "");
	memset(icmp, 0, 28);
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct in6_addr a = A(tok);

		memcpy(icmp + 28 + 16 * n, &a, 16);
		n++;
	}
	put_hdrs(buf, o && o->src ? o->src : "fe80::9", dst, o, 28 + 16 * n);
	icmp[0] = MLD_ICMP_QUERY;
	icmp[4] = (uint8_t)(mrc >> 8);
	icmp[5] = (uint8_t)mrc;
	memcpy(icmp + 8, &g, 16);
	{
		int qrv = !o || !o->qrv ? 2 : o->qrv < 0 ? 0 : o->qrv;
		int qqic = !o || !o->qqic ? 125 : o->qqic < 0 ? 0 : o->qqic;

		icmp[24] = (uint8_t)((o && o->sflag ? 0x08 : 0) | (qrv & 7));
		icmp[25] = (uint8_t)qqic;
	}
	{
		size_t claim = o && o->nsrc_override ? (size_t)o->nsrc_override : n;

		icmp[26] = (uint8_t)(claim >> 8);
		icmp[27] = (uint8_t)claim;
	}
	return finish(buf, 28 + 16 * n, o);
}

size_t craft_v1_query(uint8_t *buf, const char *group, uint16_t mrd_ms, const struct qopts *o)
{
	uint8_t *icmp = buf + 48;
	struct in6_addr g = group ? A(group) : A("::");
	const char *dst = o && o->dst ? o->dst : group ? group : "ff02::1";

	put_hdrs(buf, o && o->src ? o->src : "fe80::9", dst, o, 24);
	memset(icmp, 0, 24);
	icmp[0] = MLD_ICMP_QUERY;
	icmp[4] = (uint8_t)(mrd_ms >> 8);
	icmp[5] = (uint8_t)mrd_ms;
	memcpy(icmp + 8, &g, 16);
	return finish(buf, 24, o);
}

size_t craft_v1_report(uint8_t *buf, const char *group, const char *src)
{
	uint8_t *icmp = buf + 48;
	struct in6_addr g = A(group);

	put_hdrs(buf, src, group, NULL, 24);
	memset(icmp, 0, 24);
	icmp[0] = MLD_ICMP_V1_REPORT;
	memcpy(icmp + 8, &g, 16);
	return finish(buf, 24, NULL);
}

int sim_rx(struct sim *s, const uint8_t *buf, size_t len)
{
	return mld_input_packet(s->e, IF1, buf, len, s->now);
}

char *sim_dump(struct sim *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	mld_engine_dump(s->e, f);
	fclose(f);
	return buf;
}
