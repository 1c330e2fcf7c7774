/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one ABI between the XDP program (bpf/mldagent.bpf.c) and the daemon
 * (user/): map keys and values, the ring-buffer event, counter indices and
 * pinned map names. Both sides include this file; nothing is hand-synced.
 *
 * Inspect a running agent with e.g.
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_members
 *   bpftool map dump pinned /sys/fs/bpf/mldagent/mld_counters
 */
#ifndef MLDAGENT_ABI_H
#define MLDAGENT_ABI_H

#include <linux/types.h>

#include "mld_wire.h"

/* Largest source list copied into an event; longer queries are flagged
 * MLD_EVF_TRUNCATED and the daemon answers them as group-specific queries
 * (the seed's MLD_MAX_GS_SOURCES behaviour, a superset the router accepts). */
#define MLD_EV_MAX_SOURCES 256
#define MLD_EV_MAX_MSG (MLD_V2_QUERY_MIN_LEN + MLD_EV_MAX_SOURCES * MLD_ADDR_LEN)

/* Map sizes. */
#define MLD_MEMBERS_MAX (1u << 20)
#define MLD_THROTTLE_MAX (1u << 16)
#define MLD_RINGBUF_BYTES (1u << 22)

/* (ifindex, group): key of the member filter and of the throttle. */
struct mld_group_key {
	__u32 ifindex;
	__u8 group[16];
};

/* Value of mld_members: the daemon holds this group on this link. */
struct mld_member_val {
	__u32 flags; /* reserved, 0 */
};

/* Value of mld_throttle: a token bucket per (ifindex, group) for
 * group-and-source queries (errata 23): gsr_burst tokens, one back per
 * gsr_delay_ns. Written by the program only. */
struct mld_throttle_val {
	__u64 last_ns;  /* time of the last refill (the event clock, ts_ns) */
	__u32 tokens;   /* whole tokens */
	__u32 tick;     /* low 32 bits of jiffies when last looked at: an empty
			 * bucket is not re-timed within one clock tick */
};

/* mld_config[0]: run-time settings the daemon writes, the program reads. */
struct mld_config {
	__u64 gsr_delay_ns;   /* one token per this period; 0 = throttle off */
	__u32 gsr_burst;      /* bucket size: the querier's LLQC burst (default 2) */
	__u32 drop_throttled; /* 1: XDP_DROP throttled queries; 0: XDP_PASS them */
};

/* Per-CPU counters, one per branch of the program: X(ID, "name") gives the
 * enum mld_ctr index MLD_C_<ID> and the name mldctl stats prints. Frames
 * that leave by the program's fast exit (untagged non-IPv6, IPv6 whose
 * first next header is not hop-by-hop: they cannot be MLD) are not
 * counted at all: one counter there would cost as much as the exit itself
 * (bpf/mldagent.bpf.c, MLD_FAST_COUNT). */
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

enum mld_ctr {
#define MLD_CTR_ENUM(id, name) MLD_C_##id,
	MLD_CTR_LIST(MLD_CTR_ENUM)
#undef MLD_CTR_ENUM
	MLD_C_COUNT
};

#define MLD_EVF_ROUTER_ALERT 0x1 /* hop-by-hop Router Alert (MLD) present */
#define MLD_EVF_CSUM_OK 0x2      /* the program verified the ICMPv6 checksum */
#define MLD_EVF_TRUNCATED 0x4    /* source list cut at MLD_EV_MAX_SOURCES */

/* Ring-buffer event: one accepted MLD message and its IPv6 context. A
 * record is offsetof(struct mld_event, msg) + msg_len bytes, not
 * sizeof(struct mld_event): only the valid part of msg[] is sent. */
struct mld_event {
	__u64 ts_ns;      /* CLOCK_MONOTONIC at tick resolution (bpf_ktime_get_coarse_ns) */
	__u32 ifindex;
	__u16 msg_len;    /* bytes of msg[] that are valid */
	__u16 orig_len;   /* ICMPv6 length on the wire */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 hop_limit;
	__u8 flags;       /* MLD_EVF_* */
	__u8 pad[6];
	__u8 msg[MLD_EV_MAX_MSG]; /* the ICMPv6 MLD message from its type byte */
};

/* Pinned map names (bpftool map dump pinned <pin-dir>/<name>). */
#define MLD_MAP_MEMBERS "mld_members"
#define MLD_MAP_THROTTLE "mld_throttle"
#define MLD_MAP_CONFIG "mld_config"
#define MLD_MAP_COUNTERS "mld_counters"
#define MLD_MAP_EVENTS "mld_events"

#endif /* MLDAGENT_ABI_H */
