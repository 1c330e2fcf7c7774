/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one ABI between the XDP program (bpf/mldagent.bpf.c) and the daemon
 * (user/): map keys and values, the ring-buffer event, counter indices and
 * pinned map names. Both sides include this file; nothing is hand-synced.
 *
 * Inspect a running agent with e.g.
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_members
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_counters
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_local_addrs
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_throttle
 *     (16,384 sets of 4 buckets; the used ones have a non-zero ifindex,
 *     the querier's with bit 31 set (MLD_THROTTLE_QUERIER):
 *     bpftool -j ... | jq -c '.[].value.way[] | select(.ifindex != 0)')
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_querier
 */
#ifndef MLDAGENT_ABI_H
#define MLDAGENT_ABI_H

#include <linux/types.h>

#include "mld_wire.h"

/* Largest source list copied into an event; longer queries are flagged
 * MLD_EVF_TRUNCATED and the daemon answers them as group-specific queries
 * (the seed's MLD_MAX_GS_SOURCES behaviour, a superset the router accepts). */
#define MLD_EV_MAX_SOURCES 256
#define MLD_EV_MAX_MSG     (MLD_V2_QUERY_MIN_LEN + MLD_EV_MAX_SOURCES * MLD_ADDR_LEN)

/* Map sizes. */
#define MLD_MEMBERS_MAX     (1u << 20)
#define MLD_RINGBUF_BYTES   (1u << 22)
#define MLD_LOCAL_ADDRS_MAX 4096 /* 64 links with 64 addresses each */

/* mld_throttle: an array of 2^14 sets of 4 buckets (65,536 buckets,
 * 2.5 MiB); array lookups are inlined: no helper call on the throttled
 * path. */
#define MLD_THROTTLE_SET_BITS 14
#define MLD_THROTTLE_WAYS     4
#define MLD_THROTTLE_MAX      (1u << MLD_THROTTLE_SET_BITS) /* entries: sets */
/* 64-bit words of the throttle's hash key (mld_config.throttle_key). */
#define MLD_THROTTLE_KEY_WORDS 6
/* Set in a bucket's ifindex: the bucket of the link's querier (below).
 * Linux ifindexes are positive ints, so bit 31 of a real one is 0. */
#define MLD_THROTTLE_QUERIER 0x80000000u

/* mld_querier: an array of 64 sets of 4 links (6 KiB), set = ifindex mod
 * 64: room for every link of the daemon (AGENT_MAX_LINKS 64) unless five
 * of them share a residue. Inlined like mld_throttle's lookups. */
#define MLD_QUERIER_SET_BITS 6
#define MLD_QUERIER_SETS     (1u << MLD_QUERIER_SET_BITS)
#define MLD_QUERIER_WAYS     4

/* (ifindex, group): key of the member filter. */
struct mld_group_key {
	__u32 ifindex;
	__u8 group[16];
};

/* Value of mld_members: the daemon holds this group on this link. */
struct mld_member_val {
	__u32 flags; /* reserved, 0 */
};

/* (ifindex, address): key of mld_local_addrs, the usable (not DAD-failed,
 * not tentative unless optimistic) IPv6 unicast addresses of every managed
 * link, kept by the daemon from rtnetlink. RFC 3810 §5.1.15: a node MUST accept
 * a query sent to any address assigned to the interface it arrives on; the
 * program looks a query's destination up here only when it is neither
 * ff02::1 nor the query's group. */
struct mld_addr_key {
	__u32 ifindex;
	__u8 addr[16];
};

/* Value of mld_local_addrs. */
struct mld_local_addr_val {
	__u32 flags; /* reserved, 0 */
};

/*
 * A token bucket for group-and-source queries (errata 23) of one (ifindex,
 * group), or of the link's querier for that group (ifindex |
 * MLD_THROTTLE_QUERIER, see mld_querier_val): gsr_burst tokens, one back
 * per gsr_delay_ns. ifindex 0 marks a free bucket.
 */
struct mld_throttle_val {
	__u8 group[16];
	__u32 ifindex; /* with group: whose bucket this is; 0 = free */
	__u32 tokens;  /* whole tokens */
	__u64 last_ns; /* time of the last refill (the event clock, ts_ns) */
	__u32 tick;    /* low 32 bits of jiffies when last looked at: an empty
	                * bucket is not re-timed within one clock tick */
	__u32 pad;
};

/*
 * The querier of one link: the source of the last general query the
 * engine accepted there (RFC 3810 §7.6.2: general queries come from the
 * elected querier), written by the daemon whenever the engine's querier
 * changes. A group-and-source query from it is charged to the bucket of
 * (ifindex | MLD_THROTTLE_QUERIER, group), every other source's to the
 * bucket of (ifindex, group): a flood from another address cannot drain
 * the querier's Last Listener Query retransmissions (RFC 3810 §7.6.3). A
 * flood that spoofs the querier's address drains only the querier's
 * bucket: the link cannot tell the two apart. ifindex 0 marks a free way.
 */
struct mld_querier_val {
	__u8 addr[16];
	__u32 ifindex;
	__u32 pad;
};

/* Value of mld_querier (an array keyed by ifindex % MLD_QUERIER_SETS). */
struct mld_querier_set {
	struct mld_querier_val way[MLD_QUERIER_WAYS];
};

/*
 * Value of mld_throttle (an array keyed by set number): a set of buckets.
 * The set of (ifindex, group) is mld_throttle_set() of it, keyed by the
 * daemon's secret (mld_config.throttle_key) so that a remote sender cannot
 * aim at a set; each bucket holds its full (ifindex, group). The program
 * writes buckets, and only for groups the member filter holds; a group
 * that finds its set full shares the bucket with the most tokens, it never
 * gets a fresh one (bpf/mldagent.bpf.c, gs_take). The daemon only zeroes a
 * dropped group's bucket (mld_throttle_forget).
 */
struct mld_throttle_set {
	struct mld_throttle_val way[MLD_THROTTLE_WAYS];
};

/* mld_config[0]: run-time settings the daemon writes, the program reads. */
struct mld_config {
	__u64 gsr_delay_ns;   /* one token per this period; 0 = throttle off */
	__u32 gsr_burst;      /* bucket size: the querier's LLQC burst (default 2) */
	__u32 drop_throttled; /* 1: XDP_DROP throttled queries; 0: XDP_PASS them */
	/* Secret key of mld_throttle_set: random, written once at start and
	 * kept across reloads (mld_config_keep_key). */
	__u64 throttle_key[MLD_THROTTLE_KEY_WORDS];
};

/*
 * The throttle set of (ifindex, group g0..g3): the group's four 32-bit
 * words as they lie in memory. Multiply-add-shift over 32-bit words with
 * 64-bit random multipliers (Thorup, "High speed hashing for integers and
 * strings", 2015: strongly universal): for two different keys, the chance
 * that they share a set is 2^-MLD_THROTTLE_SET_BITS over the secret. Five
 * independent multiplications: a few ns. Shared by the program and the
 * daemon so that they cannot disagree.
 */
static inline __attribute__((always_inline)) __u32
mld_throttle_set(const __u64 *k, __u32 ifindex, __u32 g0, __u32 g1, __u32 g2, __u32 g3)
{
	__u64 h = k[0] + k[1] * ifindex + k[2] * g0 + k[3] * g1 + k[4] * g2 + k[5] * g3;

	return (__u32)(h >> (64 - MLD_THROTTLE_SET_BITS));
}

/* Per-CPU counters, one per branch of the program: X(ID, "name") gives the
 * enum mld_ctr index MLD_C_<ID> and the name mldctl stats prints. Frames
 * that leave by the program's fast exit (untagged non-IPv6, IPv6 whose
 * first next header is not hop-by-hop: they cannot be MLD) are not
 * counted at all: one counter there would cost as much as the exit itself
 * (bpf/mldagent.bpf.c, MLD_FAST_COUNT). */
/* clang-format off */
#define MLD_CTR_LIST(X)                                                                            \
	X(PACKETS, "packets")               /* frames past the fast exit (see above) */          \
	X(NOT_IPV6, "not_ipv6")             /* past the fast exit, yet not IPv6 */                \
	X(NOT_ICMPV6, "not_icmpv6")         /* IPv6, no ICMPv6 after the extension headers */     \
	X(NOT_MLD, "not_mld")               /* ICMPv6 of another type */                          \
	X(VLAN, "vlan")                     /* frames with one or two VLAN tags */                \
	X(BAD_EXT_HDR, "bad_ext_hdr")       /* extension header chain malformed / too long */     \
	X(FRAGMENT, "fragment")                                                                    \
	X(TRUNCATED, "truncated")           /* shorter than its headers or lengths claim */       \
	X(BAD_HOP_LIMIT, "bad_hop_limit")                                                          \
	X(NO_ROUTER_ALERT, "no_router_alert")                                                      \
	X(BAD_SOURCE, "bad_source")                                                                \
	X(BAD_LENGTH, "bad_length")                                                                \
	X(BAD_CHECKSUM, "bad_checksum")                                                            \
	X(BAD_GROUP, "bad_group")                                                                  \
	X(GQ_SOURCES, "gq_with_sources")                                                           \
	X(V1_QUERY, "v1_query")                                                                    \
	X(V2_GENERAL, "v2_general_query")                                                          \
	X(V2_GROUP, "v2_group_query")                                                              \
	X(V2_GROUP_SOURCE, "v2_group_source_query")                                                \
	X(V1_REPORT, "v1_report")                                                                  \
	X(NOT_MEMBER, "not_member")         /* group query / v1 report for a group not held */    \
	X(THROTTLED, "gs_throttled")                                                               \
	X(THROTTLE_DROPPED, "gs_throttled_dropped") /* throttled and dropped (policy) */         \
	X(BIG_QUERY, "big_query")           /* > MLD_EV_MAX_SOURCES: truncated event */           \
	X(RINGBUF_FULL, "ringbuf_full")                                                            \
	X(EVENTS, "events")                 /* events handed to userspace */
/* clang-format on */

enum mld_ctr {
#define MLD_CTR_ENUM(id, name) MLD_C_##id,
	MLD_CTR_LIST(MLD_CTR_ENUM)
#undef MLD_CTR_ENUM
	    MLD_C_COUNT
};

#define MLD_EVF_ROUTER_ALERT 0x1 /* hop-by-hop Router Alert (MLD) present */
#define MLD_EVF_CSUM_OK      0x2 /* the program verified the ICMPv6 checksum */
#define MLD_EVF_TRUNCATED    0x4 /* source list cut at MLD_EV_MAX_SOURCES */
#define MLD_EVF_DST_LOCAL    0x8 /* destination: our unicast address (mld_local_addrs) */

/* Ring-buffer event: one accepted MLD message and its IPv6 context. A
 * record is offsetof(struct mld_event, msg) + msg_len bytes, not
 * sizeof(struct mld_event): only the valid part of msg[] is sent. */
struct mld_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC at tick resolution (bpf_ktime_get_coarse_ns) */
	__u32 ifindex;
	__u16 msg_len;  /* bytes of msg[] that are valid */
	__u16 orig_len; /* ICMPv6 length on the wire */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 hop_limit;
	__u8 flags; /* MLD_EVF_* */
	__u8 pad[6];
	__u8 msg[MLD_EV_MAX_MSG]; /* the ICMPv6 MLD message from its type byte */
};

/* Pinned map names (bpftool map dump pinned <pin-dir>/<name>). */
#define MLD_MAP_MEMBERS     "mld_members"
#define MLD_MAP_THROTTLE    "mld_throttle"
#define MLD_MAP_CONFIG      "mld_config"
#define MLD_MAP_COUNTERS    "mld_counters"
#define MLD_MAP_EVENTS      "mld_events"
#define MLD_MAP_LOCAL_ADDRS "mld_local_addrs"
#define MLD_MAP_QUERIER     "mld_querier"

/*
 * Userspace helpers of the throttle and of mld_querier, defined where
 * libbpf's <bpf/bpf.h> was included first (the daemon, tests and
 * benchmark; not the program).
 */
#if defined(__LIBBPF_BPF_H) && !defined(__bpf__)
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Fills c->throttle_key for a write of mld_config (map cfg_fd): the key
 * already in the map if there is one (buckets stay where they are across
 * reloads), else a fresh random one. */
static inline void mld_config_keep_key(int cfg_fd, struct mld_config *c)
{
	struct mld_config old;
	__u32 zero = 0, i, any = 0;

	if (bpf_map_lookup_elem(cfg_fd, &zero, &old) == 0)
		for (i = 0; i < MLD_THROTTLE_KEY_WORDS; i++)
			any |= old.throttle_key[i] != 0;
	if (any) {
		memcpy(c->throttle_key, old.throttle_key, sizeof(c->throttle_key));
		return;
	}
	if (getrandom(c->throttle_key, sizeof(c->throttle_key), 0) !=
	    (ssize_t)sizeof(c->throttle_key)) {
		/* No entropy (cannot happen on Linux >= 3.17): spread groups
		 * over the sets anyway, predictably (splitmix64). */
		struct timespec ts;
		__u64 x;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (__u64)ts.tv_nsec ^ ((__u64)ts.tv_sec << 32) ^ (__u64)getpid();
		for (i = 0; i < MLD_THROTTLE_KEY_WORDS; i++) {
			__u64 z = (x += 0x9e3779b97f4a7c15ull);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			c->throttle_key[i] = z ^ (z >> 31);
		}
	}
}

/* The set number of k in mld_throttle (its key) and the way of k's bucket
 * in it, -1 if k has none; the hash key is read from mld_config (map
 * cfg_fd), as the program reads it. */
static inline int mld_throttle_find(int thr_fd, int cfg_fd, const struct mld_group_key *k,
                                    __u32 *set, struct mld_throttle_set *v)
{
	struct mld_config c;
	__u32 g[4], zero = 0;
	int w;

	if (bpf_map_lookup_elem(cfg_fd, &zero, &c))
		return -1;
	memcpy(g, k->group, 16);
	*set = mld_throttle_set(c.throttle_key, k->ifindex, g[0], g[1], g[2], g[3]);
	if (bpf_map_lookup_elem(thr_fd, set, v))
		return -1;
	for (w = 0; w < MLD_THROTTLE_WAYS; w++)
		if (k->ifindex && v->way[w].ifindex == k->ifindex &&
		    memcmp(v->way[w].group, k->group, 16) == 0)
			return w;
	return -1;
}

/* The daemon dropped group k: zero its buckets, the querier's and
 * everyone else's (the array's "delete"), so that its next
 * group-and-source query meets the member filter again and, if the group
 * is held again later, full buckets. A set is read and written back whole:
 * what the program wrote to the set's other buckets in between is undone
 * (benign: a token given back, one query more). */
static inline void mld_throttle_forget(int thr_fd, int cfg_fd, const struct mld_group_key *k)
{
	struct mld_group_key q = *k;
	int i;

	for (i = 0; i < 2; i++, q.ifindex |= MLD_THROTTLE_QUERIER) {
		struct mld_throttle_set v;
		__u32 set;
		int w = mld_throttle_find(thr_fd, cfg_fd, &q, &set, &v);

		if (w < 0)
			continue;
		memset(&v.way[w], 0, sizeof(v.way[w]));
		bpf_map_update_elem(thr_fd, &set, &v, BPF_ANY);
	}
}

/* Makes addr the querier of link ifindex in mld_querier (map fd), or
 * removes the link's entry (addr NULL). The program only reads this map,
 * so rewriting a set whole loses nothing; a query racing the write may
 * see a half-written address, which matches nobody (that one query is
 * charged to the shared bucket). Returns -1 if the link's set holds
 * MLD_QUERIER_WAYS other links (the querier's queries are then charged to
 * the shared buckets) or the map cannot be used. */
static inline int mld_querier_write(int q_fd, __u32 ifindex, const __u8 *addr)
{
	struct mld_querier_set v;
	__u32 set = ifindex % MLD_QUERIER_SETS;
	int w, mine = -1, free_w = -1;

	if (!ifindex || bpf_map_lookup_elem(q_fd, &set, &v))
		return -1;
	for (w = 0; w < MLD_QUERIER_WAYS; w++) {
		if (v.way[w].ifindex == ifindex)
			mine = w;
		else if (!v.way[w].ifindex && free_w < 0)
			free_w = w;
	}
	if (!addr) {
		if (mine < 0)
			return 0;
		memset(&v.way[mine], 0, sizeof(v.way[mine]));
	} else {
		if (mine < 0)
			mine = free_w;
		if (mine < 0)
			return -1;
		memcpy(v.way[mine].addr, addr, 16);
		v.way[mine].ifindex = ifindex;
	}
	return bpf_map_update_elem(q_fd, &set, &v, BPF_ANY) ? -1 : 0;
}
#endif

#endif /* MLDAGENT_ABI_H */
