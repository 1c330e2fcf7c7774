/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MLD host protocol engine: a sans-IO library.
 *
 * It owns no socket, clock or random generator. The caller feeds it received
 * MLD messages, listener operations and link events, each stamped with the
 * current time in milliseconds, and calls mld_timeout() when
 * mld_next_deadline() comes due. Packets to send come back through the tx
 * callback as complete IPv6 packets (IPv6 header, hop-by-hop Router Alert,
 * ICMPv6 with its checksum), ready for a raw socket or a pcap file.
 *
 * Behaviour follows FreeBSD's mld6.c (states, timers, record building) with
 * the corrections of shared/seed/ERRATA.md and RFC 3810/9777, RFC 2710,
 * RFC 3590 and RFC 4604. docs/ENGINE.md maps each erratum to its test.
 */
#ifndef MLD_ENGINE_H
#define MLD_ENGINE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mld_engine;

/* Errors: every operation either succeeds or changes nothing. */
enum mld_err {
	MLD_OK = 0,
	MLD_E_INVAL = -1,     /* bad argument (range, syntax) */
	MLD_E_NOLINK = -2,    /* no such link */
	MLD_E_LINKEXIST = -3, /* link already added */
	MLD_E_NOTMCAST = -4,  /* group is not a multicast address */
	MLD_E_EXIST = -5,     /* membership or source already present */
	MLD_E_NOENT = -6,     /* membership or source not present */
	MLD_E_MODE = -7,      /* operation needs the other filter mode */
	MLD_E_LIMIT_GROUPS = -8,
	MLD_E_LIMIT_SRCS_GROUP = -9,
	MLD_E_LIMIT_SRCS_LISTENER = -10,
	MLD_E_NOMEM = -11,
	MLD_E_NAME = -12, /* bad listener name */
	MLD_E_MTU = -13,  /* MTU below the IPv6 minimum of 1280 */
};
const char *mld_strerror(int err);

enum mld_fmode { MLD_FMODE_INCLUDE = 1, MLD_FMODE_EXCLUDE = 2 };

/* Per-group host states, the seed's (mld6.c) names. */
enum mld_state {
	MLD_NOT_MEMBER = 0,
	MLD_SILENT_MEMBER,    /* never reported (scope, ff02::1, silent link) */
	MLD_REPORTING_MEMBER, /* v2: member; v1: delaying member (timer may run) */
	MLD_IDLE_MEMBER,      /* v1: we sent the last report */
	MLD_LAZY_MEMBER,      /* v1: another host sent the last report */
	MLD_SLEEPING_MEMBER,  /* link down: nothing is sent */
	MLD_AWAKENING_MEMBER, /* link down and a v1 query was heard: report on wake */
	MLD_G_QUERY_PENDING_MEMBER,
	MLD_SG_QUERY_PENDING_MEMBER,
	MLD_LEAVING_MEMBER, /* sending TO_IN{} retransmissions before deletion */
	MLD_STATE_COUNT
};
const char *mld_state_name(int state);

/* Tunables. Defaults from the seed and RFC 3810 §9 (errata 11: URI 1 s). */
struct mld_tunables {
	uint32_t rv;                 /* Robustness Variable, 1..7 (default 2) */
	uint32_t qi_ms;              /* Query Interval (125 s) */
	uint32_t qri_ms;             /* Query Response Interval (10 s) */
	uint32_t uri_ms;             /* Unsolicited Report Interval, v2 (1 s) */
	uint32_t v1_uri_ms;          /* Unsolicited Report Interval, v1 (10 s, RFC 2710 §7.10) */
	uint32_t gsr_delay_ms;       /* GS-query throttle period, 0 = off (10 s) */
	uint32_t force_version;      /* 0 = auto, 1 = MLDv1 only, 2 = MLDv2 only */
	uint32_t max_groups;         /* per link */
	uint32_t max_srcs_per_group; /* merged filter of one group on one link */
	uint32_t max_srcs_per_listener; /* one listener's filter */
};
void mld_tunables_default(struct mld_tunables *t);
/* Returns MLD_OK or MLD_E_INVAL and, on error, a reason in *why. */
int mld_tunables_check(const struct mld_tunables *t, const char **why);

/* Link-local address state (RFC 3590 source selection). */
enum mld_ll_state { MLD_LL_NONE = 0, MLD_LL_TENTATIVE, MLD_LL_VALID };

/* Callbacks: how the engine reaches the outside world. */
typedef uint32_t (*mld_rand_fn)(void *ctx);
typedef void (*mld_tx_fn)(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len);

struct mld_engine *mld_engine_new(const struct mld_tunables *defaults, mld_rand_fn rnd,
                                  void *rnd_ctx, mld_tx_fn tx, void *tx_ctx);
void mld_engine_free(struct mld_engine *e);

/* ---- links ---- */
#define MLD_LINK_SILENT 0x1 /* loopback or no multicast: track, never report */
int mld_link_add(struct mld_engine *e, uint32_t ifindex, uint32_t mtu, uint32_t flags,
                 uint64_t now);
int mld_link_remove(struct mld_engine *e, uint32_t ifindex);
int mld_link_set_up(struct mld_engine *e, uint32_t ifindex, int up, uint64_t now);
int mld_link_set_mtu(struct mld_engine *e, uint32_t ifindex, uint32_t mtu);
int mld_link_set_silent(struct mld_engine *e, uint32_t ifindex, int silent, uint64_t now);
int mld_link_set_lladdr(struct mld_engine *e, uint32_t ifindex, enum mld_ll_state st,
                        const struct in6_addr *addr, uint64_t now);
int mld_link_set_tunables(struct mld_engine *e, uint32_t ifindex, const struct mld_tunables *t);
/* The interface was deleted and re-created under a new index: keep its
 * memberships (the caller then reports link up, which re-announces them). */
int mld_link_set_ifindex(struct mld_engine *e, uint32_t ifindex, uint32_t new_ifindex);

/* ---- listener operations (RFC 3678 semantics) ---- */
int mld_join(struct mld_engine *e, uint32_t ifindex, const char *listener,
             const struct in6_addr *group, uint64_t now);
int mld_leave(struct mld_engine *e, uint32_t ifindex, const char *listener,
              const struct in6_addr *group, uint64_t now);
int mld_join_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                    const struct in6_addr *group, const struct in6_addr *src, uint64_t now);
int mld_leave_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                     const struct in6_addr *group, const struct in6_addr *src, uint64_t now);
int mld_block_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                     const struct in6_addr *group, const struct in6_addr *src, uint64_t now);
int mld_unblock_source(struct mld_engine *e, uint32_t ifindex, const char *listener,
                       const struct in6_addr *group, const struct in6_addr *src, uint64_t now);
/* INCLUDE with no sources is a leave. Sources need not be sorted or unique. */
int mld_set_filter(struct mld_engine *e, uint32_t ifindex, const char *listener,
                   const struct in6_addr *group, enum mld_fmode mode, const struct in6_addr *srcs,
                   size_t nsrc, uint64_t now);

/* ---- input ---- */
/* A whole IPv6 packet as received on the link (from the IPv6 header). */
int mld_input_packet(struct mld_engine *e, uint32_t ifindex, const uint8_t *pkt, size_t len,
                     uint64_t now);

/* An MLD message whose IPv6 layer was parsed elsewhere (the XDP program). */
struct mld_rx_meta {
	struct in6_addr src, dst;
	uint8_t hop_limit;
	uint8_t router_alert;  /* hop-by-hop Router Alert with value 0 was present */
	uint8_t csum_verified; /* the ICMPv6 checksum was already checked */
	/* The caller knows dst is a unicast address assigned to this link
	 * (the XDP program's MLD_EVF_DST_LOCAL): a query sent there is
	 * accepted (RFC 3810 §5.1.15). mld_input_packet sets it itself for
	 * the link's valid link-local address, the one it knows. */
	uint8_t dst_local;
};
int mld_input_icmp(struct mld_engine *e, uint32_t ifindex, const struct mld_rx_meta *m,
                   const uint8_t *icmp, size_t len, uint64_t now);

/* ---- time ---- */
/* Earliest time at which mld_timeout() has work; UINT64_MAX when none. */
uint64_t mld_next_deadline(const struct mld_engine *e);
void mld_timeout(struct mld_engine *e, uint64_t now);

/* ---- counters ---- */
enum mld_drop_reason {
	MLD_DROP_TOO_SHORT, /* shorter than the headers it claims */
	MLD_DROP_BAD_IPV6,  /* not IPv6, or payload length inconsistent */
	MLD_DROP_EXT_HDR,   /* extension header chain malformed or too long */
	MLD_DROP_FRAGMENT,  /* real fragments (atomic ones are processed: RFC 6946) */
	MLD_DROP_NOT_ICMPV6,
	MLD_DROP_NOT_MLD,   /* ICMPv6 but not an MLD type we act on */
	MLD_DROP_HOP_LIMIT, /* hop limit != 1 */
	MLD_DROP_NO_RA,     /* no Router Alert (value 0) in hop-by-hop */
	MLD_DROP_SRC,       /* query source not link-local / report source bad */
	MLD_DROP_CSUM,
	MLD_DROP_LEN,        /* ICMPv6 length not a valid MLD length / source count */
	MLD_DROP_GROUP,      /* multicast address field neither :: nor multicast */
	MLD_DROP_GQ_SOURCES, /* general query with sources */
	MLD_DROP_DST,        /* destination does not fit the message, nor is ours */
	MLD_DROP_NO_LINK,    /* unknown link */
	MLD_DROP_VERSION,    /* query of a version the link is forced not to speak */
	MLD_DROP_THROTTLED,  /* GS query over the per-group throttle */
	MLD_DROP_COUNT
};
const char *mld_drop_name(int reason);

struct mld_stats {
	uint64_t rx_packets;
	uint64_t rx_v1_queries, rx_v2_general, rx_v2_group, rx_v2_group_source;
	uint64_t rx_v1_reports, rx_ignored_not_member;
	uint64_t rx_drop[MLD_DROP_COUNT];
	uint64_t tx_v2_reports, tx_v2_records, tx_v1_reports, tx_v1_done, tx_bytes;
	uint64_t version_to_v1, version_to_v2;
	uint64_t gs_sources_overflow; /* recorded-source list full: answered as a G query */
	uint64_t listeners;           /* distinct listener names holding memberships (gauge) */
};
void mld_stats_get(const struct mld_engine *e, struct mld_stats *out);

/* ---- introspection (control socket, tests) ---- */
struct mld_link_info {
	uint32_t ifindex, mtu, flags;
	int up;
	enum mld_ll_state ll_state;
	struct in6_addr lladdr;
	int version;               /* compatibility mode in force: 1 or 2 */
	uint64_t v1_present_until; /* Older Version Querier Present timer, 0 = off */
	uint64_t gq_due;           /* pending general-query response, 0 = none */
	int gq_active;             /* a paced general-query response is being sent */
	uint32_t learned_rv, learned_qi_ms, learned_qri_ms;
	/* The querier: source of the last general query accepted (v2 or v1;
	 * RFC 3810 §7.6.2), :: if none yet. Its group-and-source queries are
	 * throttled apart from everyone else's (errata 23). */
	struct in6_addr querier;
	uint32_t groups;         /* in the table, including those leaving */
	uint32_t groups_leaving; /* only sending their leave; not counted by max-groups */
	struct mld_tunables tun;
};
int mld_link_info(const struct mld_engine *e, uint32_t ifindex, struct mld_link_info *out);

struct mld_group_info {
	struct in6_addr group;
	enum mld_state state;
	enum mld_fmode mode;
	size_t nsrc;
	const struct in6_addr *srcs; /* valid until the next call into the engine */
	size_t nlisteners;
	uint64_t query_due, sc_due; /* 0 = not running */
	uint32_t sc_mode_pending;   /* filter-mode-change records still to send */
	size_t npending_srcs;       /* sources with retransmission state */
	size_t nrecorded;           /* sources recorded from GS queries */
};
int mld_group_info(const struct mld_engine *e, uint32_t ifindex, const struct in6_addr *group,
                   struct mld_group_info *out);

/* Listener view of one membership. */
struct mld_listener_info {
	const char *name;
	enum mld_fmode mode;
	size_t nsrc;
	const struct in6_addr *srcs;
};
/* Calls cb for each listener of (ifindex, group); stops when cb returns non-zero. */
int mld_group_listeners(const struct mld_engine *e, uint32_t ifindex, const struct in6_addr *group,
                        int (*cb)(void *ctx, const struct mld_listener_info *l), void *ctx);
/* Calls cb for each group on a link in no particular order. */
int mld_link_groups(const struct mld_engine *e, uint32_t ifindex,
                    int (*cb)(void *ctx, const struct mld_group_info *g), void *ctx);
/* Calls cb for each link. */
void mld_links(const struct mld_engine *e, int (*cb)(void *ctx, const struct mld_link_info *l),
               void *ctx);

/* A canonical text dump of all state (links, groups, listeners, timers): tests
 * compare dumps to prove that rejected input changed nothing. */
void mld_engine_dump(const struct mld_engine *e, FILE *f);

/* Approximate heap bytes held by the engine (benchmarks). */
size_t mld_engine_mem(const struct mld_engine *e);

#ifdef __cplusplus
}
#endif
#endif /* MLD_ENGINE_H */
