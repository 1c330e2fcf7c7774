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
 * group-and-source queries (errata 23). Tokens are scaled by
 * MLD_TOKEN_SCALE so that refill needs no division by a variable. */
struct mld_throttle_val {
	__u64 last_ns;  /* time of the last refill */
	__u32 tokens;   /* whole tokens */
	__u32 pad;
};

/* mld_config[0]: run-time settings the daemon writes, the program reads. */
struct mld_config {
	__u64 gsr_delay_ns;   /* one token per this period; 0 = throttle off */
	__u32 gsr_burst;      /* bucket size: the querier's LLQC burst (default 2) */
	__u32 drop_throttled; /* 1: XDP_DROP throttled queries; 0: XDP_PASS them */
};

/* Per-CPU counters, indexed by enum mld_ctr. One per branch. */
enum mld_ctr {
	MLD_C_PACKETS = 0,     /* every packet the program saw */
	MLD_C_NOT_IPV6,        /* left at the first check */
	MLD_C_NOT_ICMPV6,      /* IPv6 but no ICMPv6 after the extension headers */
	MLD_C_NOT_MLD,         /* ICMPv6 of another type */
	MLD_C_VLAN,            /* frames with one or two VLAN tags */
	MLD_C_BAD_EXT_HDR,     /* extension header chain malformed / too long */
	MLD_C_FRAGMENT,
	MLD_C_TRUNCATED,       /* shorter than its headers or lengths claim */
	MLD_C_BAD_HOP_LIMIT,
	MLD_C_NO_ROUTER_ALERT,
	MLD_C_BAD_SOURCE,
	MLD_C_BAD_LENGTH,
	MLD_C_BAD_CHECKSUM,
	MLD_C_BAD_GROUP,
	MLD_C_GQ_SOURCES,
	MLD_C_V1_QUERY,
	MLD_C_V2_GENERAL,
	MLD_C_V2_GROUP,
	MLD_C_V2_GROUP_SOURCE,
	MLD_C_V1_REPORT,
	MLD_C_NOT_MEMBER,      /* group-specific query / v1 report for a group not held */
	MLD_C_THROTTLED,
	MLD_C_THROTTLE_DROPPED, /* throttled and dropped (policy) */
	MLD_C_BIG_QUERY,       /* more than MLD_EV_MAX_SOURCES sources: truncated event */
	MLD_C_RINGBUF_FULL,
	MLD_C_EVENTS,          /* events handed to userspace */
	MLD_C_COUNT
};

#define MLD_EVF_ROUTER_ALERT 0x1 /* hop-by-hop Router Alert (MLD) present */
#define MLD_EVF_CSUM_OK 0x2      /* the program verified the ICMPv6 checksum */
#define MLD_EVF_TRUNCATED 0x4    /* source list cut at MLD_EV_MAX_SOURCES */

/* Ring-buffer event: one accepted MLD message and its IPv6 context. */
struct mld_event {
	__u64 ts_ns;      /* bpf_ktime_get_ns() */
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
