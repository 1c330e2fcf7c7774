/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Engine internals shared by mld_engine.c (the state machine), mld_table.c
 * (group storage, lookup and deadline heap) and mld_info.c (introspection).
 * Not part of the public API.
 */
#ifndef MLD_INTERNAL_H
#define MLD_INTERNAL_H

#include <netinet/in.h>
#include <stdint.h>

#include "mld_engine.h"
#include "mld_packet.h"

/* One listener's filter on one group (RFC 3678 socket-level state). */
struct member {
	uint32_t lid; /* index into the engine's listener-name table */
	uint8_t mode; /* MLD_FMODE_* */
	uint16_t nsrc;
	struct in6_addr *srcs; /* sorted */
};

/* A source with state-change retransmission state (RFC 3810 §6.1). */
struct pend {
	struct in6_addr addr;
	uint8_t count; /* reports still to carry this source */
};

#define G_USED      0x01 /* slab slot holds a group */
#define G_GQ        0x02 /* still to be reported in the running general-query response */
#define G_ANNOUNCED 0x04 /* a report for this group has reached the wire */

/* Per-interface multicast address state (RFC 3810 §4.2) plus its timers. */
struct group {
	struct in6_addr addr;
	uint64_t qr_due;    /* query response (v2) or v1 report delay; 0 = off */
	uint64_t sc_due;    /* next state-change (re)transmission; 0 = off */
	uint64_t gs_refill; /* last refill of the GS-query token buckets; 0 = unused */
	uint32_t heap_pos;  /* position in the link's deadline heap, or NO_POS */
	uint32_t next_free;
	uint8_t flags;
	uint8_t state;           /* enum mld_state */
	uint8_t mode;            /* merged filter mode, MLD_FMODE_* */
	uint8_t sc_mode_pending; /* filter-mode-change (v2) or v1 report repeats to send */
	uint8_t gs_tokens;       /* the bucket of every source but the querier */
	uint8_t gs_qtokens;      /* the link's querier's bucket (gs_throttle) */
	uint16_t nsrc, nmembers;
	uint32_t npend, nrec;
	struct in6_addr *srcs; /* merged source list, sorted */
	struct member *members;
	struct pend *pend;    /* sorted by address */
	struct in6_addr *rec; /* sources recorded from GS queries, sorted */
};

/* A million groups are a million of these (make bench: engine_1m): the
 * querier's bucket lives in what was padding. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct group) == 104, "struct group grew");

#define NO_POS UINT32_MAX

struct heap_ent {
	uint64_t due;
	uint32_t idx;
};

struct link {
	struct link *next;
	uint32_t ifindex, mtu, flags;
	int up;
	enum mld_ll_state ll_state;
	struct in6_addr lladdr;
	struct mld_tunables tun;
	int version;                      /* compatibility mode: 1 or 2 */
	uint64_t v1_until;                /* Older Version Querier Present timer, 0 = off */
	uint32_t l_rv, l_qi_ms, l_qri_ms; /* learned from the querier */
	/* The querier: source of the last general query accepted (RFC 3810
	 * §7.6.2: general queries come from the elected querier); :: = none
	 * heard. Its GS queries have their own token bucket (gs_throttle). */
	struct in6_addr querier;

	/* General-query response (RFC 3810 §6.2 interface timer), paced. */
	uint64_t gq_due;  /* when the response starts; 0 = none */
	uint64_t gq_end;  /* it must be complete by then (query time + MRD) */
	uint64_t gq_next; /* next burst of a running response */
	int gq_active;
	uint32_t gq_left;            /* groups still flagged G_GQ */
	uint32_t gq_cur_s, gq_cur_p; /* slab cursors: groups with / without sources */
	uint32_t gq_burst, gq_gap;

	/* Groups: slab (stable indices), hash index, deadline heap. */
	struct group *g;
	uint32_t gcap, ghigh, gfree, count;
	uint32_t leaving; /* groups in LEAVING (not counted against max-groups) */
	uint32_t *hidx;   /* open addressing, slot = index + 1, 0 = empty */
	uint32_t hcap;
	struct heap_ent *heap;
	uint32_t nheap, heapcap;
	uint64_t cs_bytes; /* wire bytes of all current-state records (pacing estimate) */
};

struct mld_engine {
	struct mld_tunables def;
	mld_rand_fn rnd;
	void *rnd_ctx;
	mld_tx_fn tx;
	void *tx_ctx;
	struct link *links;
	uint64_t hkey;     /* keyed hash: a querier cannot aim at one bucket */
	char **names;      /* listener names by id; NULL = free slot */
	uint32_t *nref;    /* memberships holding each name */
	uint32_t *freeids; /* free slots, a stack */
	uint32_t nnames, namecap, nfree, nlive;
	uint32_t *nidx; /* open addressing: id + 1, 0 = empty */
	uint32_t ncap;
	struct mld_stats st;
	uint8_t *pktbuf; /* one MTU-sized packet under construction */
	size_t pktcap;
	struct in6_addr *tmp[3]; /* scratch source sets */
	size_t tmpcap;
	struct link *emit_link; /* link the report builder emits on */
};

/* mld_table.c */
struct group *tbl_find(const struct mld_engine *e, const struct link *l, const struct in6_addr *a);
struct group *tbl_insert(struct mld_engine *e, struct link *l, const struct in6_addr *a);
void tbl_delete(const struct mld_engine *e, struct link *l, struct group *g);
void tbl_free(struct link *l);
/* Re-keys g in the heap at min(qr_due, sc_due); removes it when both are 0. */
void heap_update(struct link *l, struct group *g);
static inline uint64_t heap_top(const struct link *l)
{
	return l->nheap ? l->heap[0].due : UINT64_MAX;
}
static inline uint32_t gidx(const struct link *l, const struct group *g)
{
	return (uint32_t)(g - l->g);
}

#endif
