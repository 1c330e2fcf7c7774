/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test harness for the engine: registration and checks, a simulated link
 * with virtual time and a seeded generator, a packet decoder written
 * independently of the engine's builder, and query crafting.
 *
 * Every packet the engine emits under test is decoded here (the tests assert
 * on that decode) and also appended to build/test-out/engine.pcap with the
 * decode in engine.expect.jsonl, so that tshark re-decodes it independently
 * (tests/tshark_check.py).
 */
#ifndef MLD_TEST_HARNESS_H
#define MLD_TEST_HARNESS_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mld_engine.h"
#include "mld_wire.h"

/* ---- registration and checks ---- */
typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void reg_##name(void)                                  \
	{                                                                                          \
		test_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

extern int t_failed_checks;
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			t_fail(__FILE__, __LINE__, "%s", #c);                                      \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			t_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b);      \
	} while (0)
/* Stop the current test when an earlier failure makes the rest meaningless. */
#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			t_fail(__FILE__, __LINE__, "required: %s", #c);                            \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* REQUIRE that still frees the test's sim: jumps to its 'out:' label. */
#define REQ(c)                                                                                     \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			t_fail(__FILE__, __LINE__, "required: %s", #c);                            \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* ---- addresses ---- */
struct in6_addr A(const char *s);        /* aborts on a bad literal */
const char *S(const struct in6_addr *a); /* rotating static buffers */

/* ---- decoded packets ---- */
#define MAX_RECS     4096
#define MAX_PKT_SRCS 8192
struct drec {
	uint8_t type;
	struct in6_addr group;
	uint16_t nsrc;
	struct in6_addr *srcs; /* into the packet's source pool */
};
struct dpkt {
	uint64_t time;
	uint32_t ifindex;
	size_t len;
	struct in6_addr src, dst;
	uint8_t icmp_type;
	struct in6_addr group; /* v1 report / done */
	uint16_t nrec;
	struct drec *recs;
	struct in6_addr *pool;
	uint8_t *raw; /* the packet as emitted (NULL inside decode_packet) */
};
/* Decodes and validates an emitted packet; returns NULL (and fails the
 * test) if anything about it is malformed. */
int decode_packet(const uint8_t *p, size_t len, struct dpkt *out, char *why, size_t whylen);

/* ---- simulated world ---- */
#define SIM_MAX_PKTS 200000
struct sim {
	struct mld_engine *e;
	uint64_t now;
	uint64_t rng;
	size_t npkts; /* packets captured since sim_new */
	struct dpkt **pkts;
	size_t cursor; /* first packet not yet taken by sim_take */
};
#define IF1 1
#define IF2 2
extern const char *LL1; /* fe80::1, our address on IF1 */

/* Engine with one link IF1 (MTU 1500, up, link-local fe80::1 valid). */
struct sim *sim_new(const struct mld_tunables *t);
struct sim *sim_new_bare(const struct mld_tunables *t); /* no link */
void sim_free(struct sim *s);
/* Advances virtual time to t, firing every deadline on the way. */
void sim_run_until(struct sim *s, uint64_t t);
void sim_advance(struct sim *s, uint64_t ms);
/* Packets emitted since the last sim_take (count) and access to them. */
size_t sim_pending(const struct sim *s);
/* The i-th pending packet; a missing one fails the test and reads as an
 * empty packet (no records) instead of crashing the run. */
struct dpkt *sim_pkt(struct sim *s, size_t i);
void sim_take(struct sim *s); /* marks all pending as seen */

/* Record lookup helpers over pending packets: counts records matching type
 * and group (type 0 = any), and returns the last one found. */
size_t count_records(struct sim *s, uint8_t type, const struct in6_addr *group,
                     const struct drec **last);
/* Whether a record has exactly the given sources (any order), given as a
 * space-separated list ("" for none). */
int rec_srcs_are(const struct drec *r, const char *list);

/* ---- crafting received messages ---- */
struct qopts {
	const char *src; /* default fe80::9 */
	const char *dst; /* default ff02::1 (general) or the group */
	int hop_limit;   /* default 1 */
	int no_ra;       /* omit Router Alert */
	int ra_value;    /* Router Alert value (default 0) */
	int bad_csum;
	int truncate;      /* bytes to cut from the end */
	int nsrc_override; /* >0: claim this many sources */
	int qrv;           /* 0 = default 2; -1 = send 0 */
	int qqic;          /* 0 = default 125; -1 = send 0 */
	int sflag;
};
/* MLDv2 query: group NULL = general. Sources space-separated. mrc raw code. */
size_t craft_v2_query(uint8_t *buf, const char *group, uint16_t mrc, const char *srcs,
                      const struct qopts *o);
size_t craft_v1_query(uint8_t *buf, const char *group, uint16_t mrd_ms, const struct qopts *o);
size_t craft_v1_report(uint8_t *buf, const char *group, const char *src);
int sim_rx(struct sim *s, const uint8_t *buf, size_t len);

/* Canonical state dump (to compare before/after rejected input). */
char *sim_dump(struct sim *s); /* malloc'd */

/* pcap + expectation output for the independent tshark check. */
void capture_open(const char *dir);
void capture_close(void);

#endif
