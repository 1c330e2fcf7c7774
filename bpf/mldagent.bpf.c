// SPDX-License-Identifier: BSD-2-Clause
/*
 * mldagent XDP program: finds MLD queries (ICMPv6 130) and other hosts'
 * MLDv1 reports (131) on every packet of a NIC, validates them as the
 * userspace engine (user/mld_engine.c mld_input_icmp, user/mld_packet.c
 * mld_parse_ipv6) and the kernel's ipv6_mc_check_mld do, drops what no
 * listener on the link cares about, throttles group-and-source query floods,
 * and hands the rest to the daemon through a ring buffer.
 *
 * Verdicts: everything leaves with XDP_PASS (the kernel's own MLD still sees
 * every query) except a throttled group-and-source query when the daemon set
 * mld_config.drop_throttled, which leaves with XDP_DROP.
 *
 * Order of the checks (each failure has its counter, enum mld_ctr):
 *   Ethernet, up to two VLAN tags (802.1Q / 802.1ad)      NOT_IPV6, VLAN
 *   IPv6 header, first next header must be hop-by-hop     NOT_IPV6, NOT_ICMPV6
 *   payload length fits the frame                          TRUNCATED
 *   hop-by-hop options (Router Alert value 0 = MLD)        BAD_EXT_HDR
 *   up to 8 more destination-options/routing headers       BAD_EXT_HDR,
 *     (destination options walked as hop-by-hop's) or      FRAGMENT, NOT_ICMPV6
 *     atomic fragment headers (RFC 6946 §4: skipped; a
 *     real fragment, offset or M set, counts FRAGMENT)
 *   ICMPv6 type 130 or 131                                  NOT_MLD
 *   hop limit 1, Router Alert, source address             BAD_HOP_LIMIT,
 *                                                          NO_ROUTER_ALERT,
 *                                                          BAD_SOURCE
 *   length (24, or >= 28 + 16 * nsrc; reports >= 24)       BAD_LENGTH
 *   ICMPv6 checksum over pseudo-header and message        BAD_CHECKSUM
 *   group field and destination address                   BAD_GROUP, GQ_SOURCES
 *     (a query to neither ff02::1 nor its group: accepted
 *     if its destination is in mld_local_addrs, dst_local)
 *   -> V1_QUERY / V2_GENERAL / V2_GROUP / V2_GROUP_SOURCE / V1_REPORT
 *   member filter (ifindex, group) for all but general    NOT_MEMBER
 *   token bucket for group-and-source queries             THROTTLED,
 *     (the link's querier's own, or everyone else's:      THROTTLE_DROPPED
 *     gs_owner)
 *     (a query whose bucket is empty in the current clock tick is
 *     throttled before the checksum, by gs_fast / gs_peek: see gs_take)
 *   ring-buffer event                                      RINGBUF_FULL,
 *                                                          BIG_QUERY, EVENTS
 * A destination address that does not match the group field (the engine's
 * MLD_DROP_DST) counts as BAD_GROUP: the ABI has no separate counter. A
 * query's destination may also be a unicast address of the receiving
 * interface (RFC 3810 §5.1.15: a node MUST accept those): such an event
 * carries MLD_EVF_DST_LOCAL.
 *
 * All headers up to the ICMPv6 message's fixed part must lie in the linear
 * part of the frame (they always do: drivers put at least the first buffer
 * there); the message itself may reach into fragments (xdp.frags), which
 * is how queries with more than 256 sources arrive on jumbo-frame links.
 *
 * Events are offsetof(struct mld_event, msg) + msg_len bytes in the ring,
 * not a 4 KiB record each: the usual 24- and 28-byte messages are written
 * straight into a bpf_ringbuf_reserve'd record (ev_small), longer ones
 * copied from a per-CPU staging area by bpf_ringbuf_output. Differences
 * from the engine's rules: more than 64 hop-by-hop options, or headers
 * past 16 KiB, count as BAD_EXT_HDR; a wrong destination counts as
 * BAD_GROUP; a group-and-source query throttled by the fast path counts as
 * THROTTLED even if its checksum is wrong (gs_take).
 *
 * Where the time goes (tests/bench/bench_xdp.c, BPF_PROG_TEST_RUN, kernel
 * 6.18 KVM guest with retpoline/SRSO mitigations; the empty program costs
 * ~25 ns a packet there; build variants of this file, interleaved in one
 * run, differences of their means):
 *   fast exit (non-MLD)                                       1-2 ns
 *   dispatch, layout and header checks of an MLD message      ~6-11 ns
 *   per-CPU counter (inlined array lookup, no call), each     ~1.1 ns
 *   throttle: config, keyed hash, set lookup, compare, tick   ~7 ns
 *   the querier's bucket or the others' (gs_owner: inlined    ~2-3 ns
 *     array lookup, up to four compares, spills around it)
 *   checksum of a 28-byte query with its pseudo-header        ~5 ns
 *   group checks, clock (cached), event header and message    ~10 ns
 *   bpf_ringbuf_reserve + bpf_ringbuf_submit                  ~30-34 ns
 *   (bpf_ringbuf_output from the staging area                 ~45 ns)
 *   member filter (hash map lookup)                           ~30 ns
 *   bpf_ktime_get_ns ~40 ns, bpf_ktime_get_coarse_ns ~20 ns (hence the
 *   per-tick clock cache, mld_now); a BPF-to-BPF call and return ~8-10 ns
 *   (hence the inlined common path).
 * A throttled group-and-source query costs ~1.6-1.7x the empty program, an
 * accepted general query ~3x: the ring buffer alone is ~1.25x, the rest of
 * the path ~2x (measured without the ring).
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "mldagent_abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* Extension headers walked after hop-by-hop: the engine's MAX_EXT_HDRS. */
#define MLD_MAX_EXT 8
/* Hop-by-hop options walked (a header of Pad1 options could hold 2046;
 * real ones hold two). */
#define MLD_MAX_TLV 64
/* Largest IPv6 packet end offset the parser accepts: keeps every packet
 * offset provably below the verifier's MAX_PACKET_OFF. */
#define MLD_MAX_END 0xffff
/* Largest offset of a header (hop-by-hop ... ICMPv6) in the frame: keeps
 * "offset + size <= data_end" checks within what the verifier tracks.
 * Headers further in count as BAD_EXT_HDR (a chain longer than 16 KiB). */
#define MLD_MAX_HDR_OFF 0x3fff

/*
 * Counting on the fast path. Every packet of the NIC runs through this
 * program, so the exits for traffic that cannot be MLD are kept as cheap as
 * possible. MLD_FAST_COUNT selects what they count:
 *   0  nothing: PACKETS, NOT_IPV6 and NOT_ICMPV6 count only the frames that
 *      got past the first check (VLAN-tagged frames, IPv6 with hop-by-hop,
 *      frames shorter than 21 bytes);
 *   1  PACKETS for every frame (one inlined per-CPU array increment);
 *   2  PACKETS and the exit reason for every frame.
 * Decision: 0. Measured with BPF_PROG_TEST_RUN on an IPv6 UDP frame (kernel
 * 6.18, KVM guest; 40 interleaved runs of 10^6 packets, mean of the faster
 * half): empty XDP_PASS program 27.4 ns, MLD_FAST_COUNT 0: +1.5 ns,
 * 1: +2.4 ns, 2: +4.4 ns. Only 0 stays near the 1.05x goal for non-MLD
 * traffic; the interface's own rx counters count every frame anyway.
 */
#ifndef MLD_FAST_COUNT
#define MLD_FAST_COUNT 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MLD_MEMBERS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mld_group_key);
	__type(value, struct mld_member_val);
} mld_members SEC(".maps");

/* The throttle's buckets, a set of them per entry: see the ABI and
 * gs_take. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MLD_THROTTLE_MAX);
	__type(key, __u32);
	__type(value, struct mld_throttle_set);
} mld_throttle SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mld_config);
} mld_config SEC(".maps");

/* The querier of each managed link (see the ABI): read for group-and-source
 * queries of held groups only, to pick their bucket (gs_owner). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MLD_QUERIER_SETS);
	__type(key, __u32);
	__type(value, struct mld_querier_set);
} mld_querier SEC(".maps");

/* The usable unicast addresses of the managed links (see the ABI): looked
 * up only for a query sent to neither ff02::1 nor its group (dst_local). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MLD_LOCAL_ADDRS_MAX);
	__type(key, struct mld_addr_key);
	__type(value, struct mld_local_addr_val);
} mld_local_addrs SEC(".maps");

/* Keyed by enum mld_ctr; the key's BTF type must stay __u32 (the kernel
 * takes nothing else for an array key, and would drop the map's BTF). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MLD_C_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} mld_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MLD_RINGBUF_BYTES);
} mld_events SEC(".maps");

/* Per-CPU staging area of one event, for messages other than the usual
 * 24 and 28 bytes (ev_small): filled while the message is checksummed (it
 * is hot in cache), then copied into the ring buffer with
 * bpf_ringbuf_output at its real length. The spill area takes the chunks
 * of messages longer than an event holds (csum_chunks). Also the clock
 * cache and the member filter's key. Internal: not pinned, not in the
 * ABI. */
#define CHUNK 256
#define SPILL_OFF                                                                                  \
	(17 * CHUNK) /* first msg[] offset past the last chunk that                                \
	              * (partly) lands in msg[] (MLD_EV_MAX_MSG) */
struct mld_scratch {
	struct mld_event ev;
	__u8 spill[SPILL_OFF + CHUNK - MLD_EV_MAX_MSG];
	__u64 clk_ns;   /* the coarse clock ... */
	__u32 clk_tick; /* ... as read in this jiffy (see mld_now) */
	__u32 clk_pad;
	/* The keys of the member filter and of mld_local_addrs (dst_local):
	 * here, not on the stack (the deepest call chain's stack must stay
	 * within the verifier's 512 bytes: 448 now, frames rounded up to
	 * 32). */
	struct mld_group_key key;
	struct mld_addr_key addr_key;
};
_Static_assert(16 * CHUNK < MLD_EV_MAX_MSG && MLD_EV_MAX_MSG <= SPILL_OFF, "chunk layout");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mld_scratch);
} mld_scratch SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* The hop-by-hop header every MLD implementation sends (RFC 3810 §5,
 * Linux, BSD, Cisco): next header (any), length 0, Router Alert 0 (MLD),
 * PadN of 0 bytes. Bytes 1..7 as a native u64 with byte 0 masked off. */
#define HBH_BYTES(b1, b2, b3, b4, b5, b6, b7)                                                      \
	((__u64)(b1) << 8 | (__u64)(b2) << 16 | (__u64)(b3) << 24 | (__u64)(b4) << 32 |            \
	 (__u64)(b5) << 40 | (__u64)(b6) << 48 | (__u64)(b7) << 56)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HBH_RA_MASK 0xffffffffffffff00ull
#define HBH_RA_PADN HBH_BYTES(0, IPV6_OPT_ROUTER_ALERT, 2, 0, IPV6_RA_VALUE_MLD, IPV6_OPT_PADN, 0)
#else
#define HBH_RA_MASK 0x00ffffffffffffffull
#define HBH_RA_PADN                                                                                \
	(__u64) __builtin_bswap64(                                                                 \
	    HBH_BYTES(0, IPV6_OPT_ROUTER_ALERT, 2, 0, IPV6_RA_VALUE_MLD, IPV6_OPT_PADN, 0))
#endif

/* Stops clang from folding a value's known range into later checks, so the
 * verifier sees the check it needs. */
#define OPAQUE(x) asm volatile("" : "+r"(x))

static __always_inline void ctr(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&mld_counters, &idx);

	if (v)
		*v += 1;
}

/*
 * The time of events and of the throttle: CLOCK_MONOTONIC at tick
 * resolution (bpf_ktime_get_coarse_ns), read once per jiffy and CPU and
 * cached in the per-CPU staging area: bpf_jiffies64 is inlined by the
 * verifier, the clock helpers are calls. Measured on kernel 6.18 (KVM
 * guest, tsc clocksource): bpf_ktime_get_ns costs about 40 ns a call, the
 * coarse clock about 20 ns, the cached value nothing. The coarse clock
 * moves once per tick anyway, so the cache costs no resolution beyond a
 * tick (a read racing the tick's update of jiffies and timekeeping can lag
 * one more tick). The throttle's periods are seconds; the daemon needs no
 * finer event time.
 */
static __always_inline __u64 mld_now(struct mld_scratch *sc)
{
	__u32 tick = (__u32)bpf_jiffies64();

	if (sc->clk_tick != tick || !sc->clk_ns) {
		sc->clk_ns = bpf_ktime_get_coarse_ns();
		sc->clk_tick = tick;
	}
	return sc->clk_ns;
}

/* Folds a 64-bit one's-complement accumulator to 16 bits. */
static __always_inline __u32 csum_fold64(__u64 acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (__u32)acc;
}

/* The same for acc < 2^48 in fewer dependent steps: 2^16 and 2^32 are 1
 * modulo 0xffff, so the three 16-bit digits are summed at once. Gives what
 * csum_fold64 gives (0 only for 0). */
static __always_inline __u32 csum_fold48(__u64 acc)
{
	acc = (acc & 0xffff) + ((acc >> 16) & 0xffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (__u32)acc;
}

/*
 * One's-complement sum of len (< 512) bytes of linear packet data at p, in
 * native byte order (consistent with bpf_csum_diff), copied on the way to
 * dst (the event's staging area, 512 bytes or more). Summed by hand: no
 * helper call, so no call and return (costly with return-thunk
 * mitigations). 16-byte blocks with one bounds check each, then words,
 * then the odd 1..3 bytes. Returns -1 if the data passes end (the caller
 * made sure it does not). The loops leave nothing live behind them, so the
 * verifier's states after them collapse into one.
 */
static __always_inline __s64 csum_linear(const __u8 *p, __u32 len, const void *end, __u8 *dst)
{
	const __u32 *w = (const __u32 *)p;
	__u32 nblk = len >> 4, nw = (len >> 2) & 3, k;
	__u32 *d = (__u32 *)dst;
	__u64 acc = 0;

	for (k = 0; k < 31; k++) { /* 31 * 16 = 496 < 512 */
		if (k >= nblk)
			break;
		OPAQUE(w); /* keeps clang from rewriting the check as pointer math */
		if ((const void *)(w + 4) > end)
			return -1;
		acc += (__u64)w[0] + w[1] + w[2] + w[3];
		d[0] = w[0];
		d[1] = w[1];
		d[2] = w[2];
		d[3] = w[3];
		w += 4;
		d += 4;
	}
	for (k = 0; k < 3; k++) {
		if (k >= nw)
			break;
		OPAQUE(w);
		if ((const void *)(w + 1) > end)
			return -1;
		acc += *w;
		*d++ = *w++;
	}
	p = (const __u8 *)w;
	dst = (__u8 *)d;
	if (len & 2) {
		if ((const void *)(p + 2) > end)
			return -1;
		acc += *(const __u16 *)p;
		*(__u16 *)dst = *(const __u16 *)p;
		p += 2;
		dst += 2;
	}
	if (len & 1) {
		/* The odd last byte is the high byte of a zero-padded word. */
		if ((const void *)(p + 1) > end)
			return -1;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		acc += *p;
#else
		acc += (__u32)*p << 8;
#endif
		*dst = *p;
	}
	return (__s64)csum_fold64(acc);
}

/*
 * The same over any part of the frame, fragments included: 256-byte chunks
 * copied with bpf_xdp_load_bytes into the staging area (so the event's
 * message is copied on the way; chunks past MLD_EV_MAX_MSG go to the spill
 * area) and summed by bpf_csum_diff, then the tail. Used for messages of
 * 512 bytes and more (queries with 30+ sources) and for messages that reach
 * into fragments. The loop has constant sizes only, so the verifier tracks
 * nothing but its counter. A global function: verified once.
 */
__noinline __s64 csum_chunks(struct xdp_md *ctx, __u32 off, __u32 len, struct mld_scratch *sc)
{
	__u32 k, full = len / CHUNK;
	__u64 acc = 0, t4, t, at;
	__s64 r;

	if (!sc)
		return -1;
	for (k = 0; k < 65536 / CHUNK; k++) { /* the largest IPv6 payload */
		__u8 *dst;

		if (k >= full)
			break;
		dst = sc->ev.msg + (k < 17 ? k * CHUNK : SPILL_OFF);
		if (bpf_xdp_load_bytes(ctx, off, dst, CHUNK))
			return -1;
		r = bpf_csum_diff(NULL, 0, (__be32 *)dst, CHUNK, 0);
		if (r < 0)
			return -1;
		acc += (__u32)r;
		off += CHUNK;
	}
	if (k < full)
		return -1;
	at = k < 17 ? k * CHUNK : SPILL_OFF;
	OPAQUE(at);
	if (at > SPILL_OFF)
		return -1;
	t4 = len & (CHUNK - 4);
	OPAQUE(t4); /* one register for the check and the calls */
	if (t4 >= 4 && t4 <= CHUNK - 4) {
		if (bpf_xdp_load_bytes(ctx, off, sc->ev.msg + at, t4))
			return -1;
		r = bpf_csum_diff(NULL, 0, (__be32 *)(sc->ev.msg + at), t4, 0);
		if (r < 0)
			return -1;
		acc += (__u32)r;
		off += t4;
		at += t4;
	}
	t = len & 3;
	OPAQUE(t);
	if (t >= 1 && t <= 3) {
		/* Last 1..3 bytes, zero-padded to a word (natively the same as
		 * the odd-byte rule of the Internet checksum); copied too. */
		__u32 w = 0;

		if (bpf_xdp_load_bytes(ctx, off, &w, t))
			return -1;
		acc += w;
		if (at > SPILL_OFF + CHUNK - 4)
			return -1;
		*(__u32 *)(sc->ev.msg + at) = w;
	}
	return (__s64)csum_fold64(acc);
}

/* 16-byte compares as two 64-bit words (x86 loads them unaligned at no
 * cost; the verifier allows it there). */
static __always_inline int is_zero16(const __u8 *a)
{
	const __u64 *w = (const __u64 *)a;

	return (w[0] | w[1]) == 0;
}

static __always_inline int eq16(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* 16 bytes, as two 64-bit words (byte arrays would be copied bytewise). */
static __always_inline void copy16(__u8 *dst, const __u8 *src)
{
	__u64 *d = (__u64 *)dst;
	const __u64 *x = (const __u64 *)src;

	d[0] = x[0];
	d[1] = x[1];
}

/* ff02::1, the link-scope all-nodes address. */
static __always_inline int is_all_nodes(const __u8 *a)
{
	const __u64 *w = (const __u64 *)a;

	return w[0] == bpf_cpu_to_be64(0xff02000000000000ull) && w[1] == bpf_cpu_to_be64(1);
}

/*
 * Group-and-source query throttle (errata 23): a token bucket per
 * (ifindex, group) of gsr_burst tokens (0 means 2: the querier's Last
 * Listener Query Count retransmissions, RFC 3810 §7.6.3, 1 s apart), one
 * token back per gsr_delay_ns. A new bucket starts full. The link's
 * querier (mld_querier) has a second bucket per group, keyed (ifindex |
 * MLD_THROTTLE_QUERIER, group): a flood from any other address cannot
 * drain it (gs_owner). Below, "ifindex" is that owner.
 *
 * The buckets live in an array (mld_throttle), MLD_THROTTLE_WAYS to a set;
 * a group's set is mld_throttle_set (ABI header) of (ifindex, group) under
 * the daemon's secret key, and each bucket holds its full (ifindex, group)
 * so that a set's groups are told apart. Array lookups are inlined by the
 * verifier: finding a bucket is a hash and up to four compares, no helper
 * call and no lock.
 *
 *  - Throttled fast path (gs_fast for the common layout, gs_peek for the
 *    others; both before the checksum): a query whose group has a bucket,
 *    empty and already looked at in this clock tick (jiffies: inlined, no
 *    call), is throttled without the checksum, the member lookup or the
 *    clock. Only a query of a held group can have made that bucket
 *    (below), and the fast path writes nothing, so a forged query (a bad
 *    checksum included) can only be throttled by it, never move a bucket;
 *    such a query counts THROTTLED, not BAD_CHECKSUM. A group the daemon
 *    drops loses its bucket at once (mld_throttle_forget); a new
 *    gsr_delay, or a member removed without mld_throttle_forget, is seen
 *    at the next tick.
 *  - Buckets are created, taken over and charged only by gs_take, which
 *    runs after the checksum and the member filter: queries for groups
 *    nobody holds never touch a bucket, so a non-member flood cannot evict
 *    a held group's bucket.
 *  - Collisions: a held group whose set has no bucket of its own takes the
 *    set's bucket with the most tokens (free buckets and fully refilled
 *    ones count as full: taking them loses nothing) and inherits its
 *    tokens and time. With all four buckets of a set drained by floods of
 *    four held groups, a fifth held group of that set shares a drained
 *    bucket (its queries are throttled with them) instead of getting a
 *    fresh one: colliding groups can share a rate limit, but no sequence of
 *    queries gets more through a set than its four buckets allow. That
 *    takes five held groups in one set, all queried within their refill
 *    time. With N held groups on 2^14 sets of 4, some set holds five with
 *    probability about N^5 / (120 * 2^56): 1e-4 for N = 1,000, 3% for
 *    N = 3,000; which groups they are depends on the secret.
 *
 * Updates race benignly between CPUs (plain stores: at worst one more
 * query passes, or a half-written key matches nobody and the bucket is
 * reused as if free).
 */

/*
 * The owner of the bucket that a group-and-source query from saddr on
 * ifindex is charged to: ifindex | MLD_THROTTLE_QUERIER if saddr is the
 * link's querier (mld_querier, kept by the daemon from the engine), else
 * ifindex. The querier's own retransmissions (RFC 3810 §7.6.3) thus have
 * a bucket per group that a flood from any other address cannot drain; a
 * flood spoofing the querier's address drains only that one (the link
 * cannot tell them apart). An array lookup, inlined: no helper call.
 */
static __always_inline __u32 gs_owner(__u32 ifindex, const __u8 *saddr)
{
	__u32 set = ifindex & (MLD_QUERIER_SETS - 1);
	struct mld_querier_set *q = bpf_map_lookup_elem(&mld_querier, &set);

	if (!q)
		return ifindex; /* cannot happen */
#pragma unroll
	for (int w = 0; w < MLD_QUERIER_WAYS; w++)
		if (q->way[w].ifindex == ifindex && eq16(q->way[w].addr, saddr))
			return ifindex | MLD_THROTTLE_QUERIER;
	return ifindex;
}

/* The set of (ifindex, group at grp), NULL if none (cannot happen). */
static __always_inline struct mld_throttle_set *gs_set(const struct mld_config *cfg, __u32 ifindex,
                                                       const __u8 *grp)
{
	const __u32 *g = (const __u32 *)grp;
	__u32 set = mld_throttle_set(cfg->throttle_key, ifindex, g[0], g[1], g[2], g[3]);

	return bpf_map_lookup_elem(&mld_throttle, &set);
}

static __always_inline int gs_match(const struct mld_throttle_val *t, __u32 ifindex,
                                    const __u8 *grp)
{
	return t->ifindex == ifindex && eq16(t->group, grp);
}

/* The bucket of (ifindex, group) in its set s, or NULL. */
static __always_inline struct mld_throttle_val *gs_find(struct mld_throttle_set *s, __u32 ifindex,
                                                        const __u8 *grp)
{
#pragma unroll
	for (int w = 0; w < MLD_THROTTLE_WAYS; w++)
		if (gs_match(&s->way[w], ifindex, grp))
			return &s->way[w];
	return NULL;
}

/* The tokens of bucket t at now (refilled), and its time for them. */
static __always_inline __u32 gs_refill(const struct mld_throttle_val *t, __u32 burst, __u64 delay,
                                       __u64 now, __u64 *last)
{
	__u32 tokens = t->tokens;
	__u64 el;

	*last = t->last_ns;
	if (!t->ifindex || tokens >= burst) {
		/* Free, full, or the daemon lowered the burst: full from now. */
		*last = now;
		return burst;
	}
	el = now - *last;
	if (el >= delay) {
		__u64 n = el / delay;

		if (n >= burst - tokens) {
			*last = now;
			return burst;
		}
		tokens += (__u32)n;
		*last += n * delay;
	}
	return tokens;
}

/*
 * For a group-and-source query of a held group (after the checksum and the
 * member filter): charges the bucket of (owner, group) (owner: gs_owner),
 * creating or taking one over (see above). Returns 1 if the query is
 * throttled. *now is set to the clock.
 */
static __always_inline int gs_take(const struct mld_config *cfg, __u32 owner, const __u8 *grp,
                                   __u64 *now, struct mld_scratch *sc)
{
	__u32 burst = cfg->gsr_burst ? cfg->gsr_burst : 2, tick = (__u32)bpf_jiffies64();
	__u64 delay = cfg->gsr_delay_ns, last = 0;
	struct mld_throttle_set *s = gs_set(cfg, owner, grp);
	struct mld_throttle_val *t;
	__u32 tokens = 0;

	*now = mld_now(sc);
	if (!s)
		return 0; /* cannot happen */
	t = gs_find(s, owner, grp);
	if (t) {
		tokens = gs_refill(t, burst, delay, *now, &last);
	} else {
		/* Take over the bucket with the most tokens, the first of
		 * equals (free and refilled buckets count as full). */
#pragma unroll
		for (int w = 0; w < MLD_THROTTLE_WAYS; w++) {
			__u64 l;
			__u32 n = gs_refill(&s->way[w], burst, delay, *now, &l);

			if (!t || n > tokens) {
				t = &s->way[w];
				tokens = n;
				last = l;
			}
		}
		if (!t)
			return 0; /* cannot happen */
		copy16(t->group, grp);
		t->ifindex = owner;
	}
	t->tick = tick;
	t->last_ns = last;
	if (!tokens) {
		t->tokens = 0;
		return 1;
	}
	t->tokens = tokens - 1;
	return 0;
}

/*
 * Program structure, for the verifier and for speed. The verifier explores
 * a function once per distinct state at its entry, and the parsing loops
 * produce many; a BPF-to-BPF call and return costs several ns where return
 * thunks mitigate Spectre/SRSO. So mldagent_xdp holds the fast exit and,
 * inlined, the common layout (mld_common -> mld_msg_inl) without any
 * BPF-to-BPF call, and the rest goes to global functions, each verified
 * once with unknown scalar arguments that it bounds itself: mld_slow
 * (VLAN tags, extension headers, odd frames) -> mld_msg (the same
 * mld_msg_inl), hbh_walk (hop-by-hop headers other than the usual one,
 * destination options),
 * csum_chunks (long or multi-buffer messages).
 */

/* Walks the hop-by-hop (hop = 1) or destination options (hop = 0) at off
 * (hlen bytes, header included) like the engine's hbh_router_alert: 1 =
 * Router Alert for MLD found (hop-by-hop only), 0 = not,
 * -MLD_C_BAD_EXT_HDR for an overrunning or malformed option, an unknown
 * option whose action bits say "discard" (01, 10, 11: RFC 8200 §4.2), or
 * more than MLD_MAX_TLV options; -MLD_C_TRUNCATED if the frame ends first.
 * Only hop-by-hop headers other than the usual 8-byte RA + PadN one, and
 * destination options headers, come here. The
 * options are read with bpf_xdp_load_bytes rather than through packet
 * pointers: the offset then stays an imprecise scalar for the verifier,
 * whose states for the walk collapse to one per iteration. */
__noinline int hbh_walk(struct xdp_md *ctx, __u32 off, __u32 hlen, __u32 hop)
{
	__u32 i = 2, n;
	int ra = 0;

	if (hlen > 2048)
		return -MLD_C_BAD_EXT_HDR;
	for (n = 0; n < MLD_MAX_TLV; n++) {
		__u8 o[4];

		if (i >= hlen)
			break;
		if (bpf_xdp_load_bytes(ctx, off + i, o, 1))
			return -MLD_C_TRUNCATED;
		if (o[0] == IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > hlen)
			return -MLD_C_BAD_EXT_HDR;
		if (bpf_xdp_load_bytes(ctx, off + i, o, 2))
			return -MLD_C_TRUNCATED;
		if (i + 2 + o[1] > hlen)
			return -MLD_C_BAD_EXT_HDR;
		if (hop && o[0] == IPV6_OPT_ROUTER_ALERT) {
			if (o[1] != 2)
				return -MLD_C_BAD_EXT_HDR;
			if (bpf_xdp_load_bytes(ctx, off + i, o, 4))
				return -MLD_C_TRUNCATED;
			if (o[2] == 0 && o[3] == IPV6_RA_VALUE_MLD)
				ra = 1;
		} else if (o[0] & 0xc0) {
			/* RFC 8200 §4.2: an unknown option whose action bits
			 * are not 00 means the packet must be discarded (the
			 * engine's hbh_router_alert; Linux ip6_parse_tlv). */
			return -MLD_C_BAD_EXT_HDR;
		}
		i += 2 + o[1];
	}
	if (i < hlen)
		return -MLD_C_BAD_EXT_HDR; /* more options than we walk */
	return ra;
}

/* Unfolded one's-complement sum of the 24 (MLDv1) or 28 (MLDv2 query
 * without sources) bytes at p, word by word (clang does not unroll a loop
 * here). */
static __always_inline __u64 sum_small(const __u8 *p, const int n)
{
	const __u32 *w = (const __u32 *)p;
	__u64 acc = ((__u64)w[0] + w[1]) + ((__u64)w[2] + w[3]) + ((__u64)w[4] + w[5]);

	if (n == MLD_V2_QUERY_MIN_LEN)
		acc += w[6];
	return acc;
}

/* The same bytes, copied (u64 stores: dst is 8-byte aligned). */
static __always_inline void copy_small(__u8 *dst, const __u8 *p, const int n)
{
	const __u64 *x = (const __u64 *)p;
	__u64 *d = (__u64 *)dst;

	d[0] = x[0];
	d[1] = x[1];
	d[2] = x[2];
	if (n == MLD_V2_QUERY_MIN_LEN)
		*(__u32 *)(dst + 24) = *(const __u32 *)(p + 24);
}

/* The header of the event of the message at ic (copy bytes of len). */
static __always_inline void ev_head(struct mld_event *ev, struct xdp_md *ctx,
                                    const struct mld_ipv6_hdr *ip, __u64 ts, __u32 copy, __u32 len,
                                    __u8 flags)
{
	ev->ts_ns = ts;
	ev->ifindex = ctx->ingress_ifindex;
	ev->msg_len = (__u16)copy;
	ev->orig_len = (__u16)len;
	copy16(ev->saddr, ip->saddr);
	copy16(ev->daddr, ip->daddr);
	/* hop_limit (always 1 here), flags, pad[6]: one store */
	*(__u64 *)&ev->hop_limit = 1 | (__u64)flags << 8;
}
_Static_assert(offsetof(struct mld_event, hop_limit) % 8 == 0 &&
                   offsetof(struct mld_event, flags) == offsetof(struct mld_event, hop_limit) + 1 &&
                   offsetof(struct mld_event, msg) == offsetof(struct mld_event, hop_limit) + 8,
               "event layout");

/*
 * The event of a message of n (a constant: 24 or 28) bytes, all in the
 * linear data at ic: reserved in the ring at its size and written there
 * straight from the packet. Measured against bpf_ringbuf_output from the
 * per-CPU staging area (kernel 6.18 KVM guest): 12-15 ns less a packet
 * (the helper's memcpy is a rep movsb, costly to start; the stores here
 * are a dozen). Larger messages take the staged path.
 */
static __always_inline int ev_small(struct xdp_md *ctx, const struct mld_ipv6_hdr *ip,
                                    const __u8 *ic, const int n, __u64 ts, __u8 flags)
{
	struct mld_event *ev;

	ev = bpf_ringbuf_reserve(&mld_events, offsetof(struct mld_event, msg) + n, 0);
	if (!ev)
		return -1;
	ev_head(ev, ctx, ip, ts, n, n, flags);
	copy_small(ev->msg, ic, n);
	/* Flags 0: the ring wakes the daemon's epoll when this record is the
	 * first one it has not consumed yet (BPF_RB_NO_WAKEUP would lose
	 * that; BPF_RB_FORCE_WAKEUP would cost an irq_work per event). */
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* A throttled group-and-source query leaves here. */
static __always_inline int gs_throttled(const struct mld_config *cfg)
{
	ctr(MLD_C_THROTTLED);
	if (cfg->drop_throttled) {
		ctr(MLD_C_THROTTLE_DROPPED);
		return XDP_DROP;
	}
	return XDP_PASS;
}

/*
 * The throttle's fast path (see gs_take): 1 if the group-and-source query
 * for the group at grp (in the packet, checked up to its end) is throttled
 * by a bucket that is empty in the current clock tick. Reads only. A group
 * field or destination that the full path will refuse (BAD_GROUP) is left
 * to it.
 */
static __always_inline int gs_peek(const struct mld_config *cfg, __u32 ifindex,
                                   const struct mld_ipv6_hdr *ip, const __u8 *grp)
{
	struct mld_throttle_set *s;
	struct mld_throttle_val *t;

	if (grp[0] != 0xff || (!eq16(grp, ip->daddr) && !is_all_nodes(ip->daddr)))
		return 0;
	ifindex = gs_owner(ifindex, ip->saddr);
	s = gs_set(cfg, ifindex, grp);
	if (!s)
		return 0;
	t = gs_find(s, ifindex, grp);
	return t && !t->tokens && t->tick == (__u32)bpf_jiffies64();
}

/*
 * RFC 3810 §5.1.15: a node MUST accept a query sent to any of the addresses
 * of the interface it arrives on. 1 if the packet's destination is a
 * unicast address of the receiving interface (in mld_local_addrs), else 0.
 * Only queries sent to neither ff02::1 nor their group come here (the rare
 * path), so the common path pays nothing for it. A multicast destination
 * is refused without the lookup (the map holds unicast addresses only): a
 * flood of queries to wrong groups costs no hash lookup. The key is built
 * in the per-CPU staging area, as the member filter's (stack depth).
 * Inlined: as a global function (a call that clobbers registers on one
 * branch) it doubled the states the verifier explores.
 */
static __always_inline int dst_local(const struct xdp_md *ctx, const struct mld_ipv6_hdr *ip,
                                     struct mld_scratch *sc)
{
	if (ip->daddr[0] == 0xff)
		return 0;
	sc->addr_key.ifindex = ctx->ingress_ifindex;
	copy16(sc->addr_key.addr, ip->daddr);
	return bpf_map_lookup_elem(&mld_local_addrs, &sc->addr_key) != NULL;
}

/*
 * The ICMPv6 message at off (len bytes to the end of the IPv6 payload) of
 * the IPv6 packet at ipoff: validation, member filter, throttle, event.
 * Returns the verdict; counts its own exit.
 */
static __always_inline int mld_msg_inl(struct xdp_md *ctx, __u32 ipoff, __u32 off, __u32 len,
                                       __u32 ra, const int peek)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct mld_ipv6_hdr *ip;
	struct mld_config *cfg;
	struct mld_scratch *sc;
	struct mld_event *ev;
	const __u8 *ic;
	__u32 nsrc = 0, zero = 0;
	__u64 now = 0, copy;
	__s64 sum;
	__u8 type, flags;
	int c, v1, gq;

	/* Arguments come as unknown scalars: bound them (mld_slow already
	 * did; the masks only tell the verifier). */
	ipoff &= 0x1f;
	off &= MLD_MAX_HDR_OFF;
	len &= MLD_MAX_END;
	ip = data + ipoff;
	if ((void *)(ip + 1) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	if (len < 4) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	ic = data + off;
	if ((void *)(ic + 4) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	type = ic[MLD_OFF_TYPE];
	if (type != MLD_ICMP_QUERY && type != MLD_ICMP_V1_REPORT) {
		c = MLD_C_NOT_MLD;
		goto out;
	}
	if (ip->hop_limit != 1) {
		c = MLD_C_BAD_HOP_LIMIT;
		goto out;
	}
	if (!ra) {
		c = MLD_C_NO_ROUTER_ALERT;
		goto out;
	}
	/* Queries from a link-local source (RFC 3810 §5.1.14); reports also
	 * from :: (RFC 3590). */
	if (!(ip->saddr[0] == 0xfe && (ip->saddr[1] & 0xc0) == 0x80) &&
	    (type == MLD_ICMP_QUERY || !is_zero16(ip->saddr))) {
		c = MLD_C_BAD_SOURCE;
		goto out;
	}
	if (len < MLD_V1_LEN) {
		c = MLD_C_BAD_LENGTH;
		goto out;
	}
	if ((void *)(ic + MLD_V1_LEN) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	v1 = type == MLD_ICMP_V1_REPORT || len == MLD_V1_LEN;
	if (!v1) {
		if (len < MLD_V2_QUERY_MIN_LEN) {
			c = MLD_C_BAD_LENGTH;
			goto out;
		}
		if ((void *)(ic + MLD_V2_QUERY_MIN_LEN) > end) {
			c = MLD_C_TRUNCATED;
			goto out;
		}
		nsrc = bpf_ntohs(*(const __be16 *)(ic + MLD_OFF_NSRC));
		if (len < MLD_V2_QUERY_MIN_LEN + nsrc * MLD_ADDR_LEN) {
			c = MLD_C_BAD_LENGTH;
			goto out;
		}
		/* The throttled fast path: before the checksum (gs_take). */
		if (peek && nsrc) {
			cfg = bpf_map_lookup_elem(&mld_config, &zero);
			if (cfg && cfg->gsr_delay_ns &&
			    gs_peek(cfg, ctx->ingress_ifindex, ip, ic + MLD_OFF_GROUP)) {
				ctr(MLD_C_V2_GROUP_SOURCE);
				return gs_throttled(cfg);
			}
		}
	}

	/* Checksum: pseudo-header (addresses, length, next header 58) plus
	 * the message, one's-complement summed in native byte order. The
	 * usual lengths (24: MLDv1, 28: MLDv2 query without sources) are
	 * summed in place and sent by ev_small; other messages are copied on
	 * the way into the per-CPU staging area, sent from there. */
	sc = bpf_map_lookup_elem(&mld_scratch, &zero);
	if (!sc) {
		c = MLD_C_TRUNCATED; /* cannot happen */
		goto out;
	}
	ev = &sc->ev;
	if (len == MLD_V2_QUERY_MIN_LEN && (void *)(ic + MLD_V2_QUERY_MIN_LEN) <= end)
		sum = (__s64)sum_small(ic, MLD_V2_QUERY_MIN_LEN);
	else if (len == MLD_V1_LEN)
		sum = (__s64)sum_small(ic, MLD_V1_LEN);
	else if (off + len <= (__u32)(end - data) && len < 512)
		sum = csum_linear(ic, len, end, ev->msg);
	else
		sum = csum_chunks(ctx, off, len, sc);
	if (sum < 0) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	{
		const __u32 *a = (const __u32 *)ip->saddr; /* saddr, daddr */
		__u64 acc = ((__u64)sum + bpf_htonl(len) + bpf_htonl(IPV6_NEXTHDR_ICMPV6)) +
		            (((__u64)a[0] + a[1]) + ((__u64)a[2] + a[3])) +
		            (((__u64)a[4] + a[5]) + ((__u64)a[6] + a[7]));

		if (csum_fold48(acc) != 0xffff) {
			c = MLD_C_BAD_CHECKSUM;
			goto out;
		}
	}

	/* Group field and destination address: a query goes to ff02::1 or
	 * (group-specific) to its group, or to one of our unicast addresses
	 * (dst_local, the rare path); a v1 report to its group. */
	gq = 0;
	flags = MLD_EVF_ROUTER_ALERT | MLD_EVF_CSUM_OK;
	if (type == MLD_ICMP_V1_REPORT) {
		if (ic[MLD_OFF_GROUP] != 0xff || !eq16(ic + MLD_OFF_GROUP, ip->daddr)) {
			c = MLD_C_BAD_GROUP;
			goto out;
		}
		ctr(MLD_C_V1_REPORT);
	} else if (is_zero16(ic + MLD_OFF_GROUP)) {
		if (nsrc) {
			c = MLD_C_GQ_SOURCES;
			goto out;
		}
		if (!is_all_nodes(ip->daddr)) {
			if (!dst_local(ctx, ip, sc)) {
				c = MLD_C_BAD_GROUP;
				goto out;
			}
			flags |= MLD_EVF_DST_LOCAL;
		}
		gq = 1;
		ctr(v1 ? MLD_C_V1_QUERY : MLD_C_V2_GENERAL);
	} else {
		if (ic[MLD_OFF_GROUP] != 0xff) {
			c = MLD_C_BAD_GROUP;
			goto out;
		}
		if (!eq16(ic + MLD_OFF_GROUP, ip->daddr) && !is_all_nodes(ip->daddr)) {
			if (!dst_local(ctx, ip, sc)) {
				c = MLD_C_BAD_GROUP;
				goto out;
			}
			flags |= MLD_EVF_DST_LOCAL;
		}
		ctr(v1 ? MLD_C_V1_QUERY : nsrc ? MLD_C_V2_GROUP_SOURCE : MLD_C_V2_GROUP);
	}

	if (!gq) {
		/* Member filter: the daemon keeps (ifindex, group) of every
		 * group a listener holds. */
		sc->key.ifindex = ctx->ingress_ifindex;
		copy16(sc->key.group, ic + MLD_OFF_GROUP);
		if (!bpf_map_lookup_elem(&mld_members, &sc->key)) {
			c = MLD_C_NOT_MEMBER;
			goto out;
		}
		/* Throttle: the member filter has passed, so the bucket may
		 * be created or taken over. */
		if (nsrc) {
			cfg = bpf_map_lookup_elem(&mld_config, &zero);
			if (cfg && cfg->gsr_delay_ns &&
			    gs_take(cfg, gs_owner(ctx->ingress_ifindex, ip->saddr),
			            ic + MLD_OFF_GROUP, &now, sc))
				return gs_throttled(cfg);
		}
	}

	/* Event, offsetof(struct mld_event, msg) + msg_len bytes in the ring:
	 * small records keep the ring's working set dense (a full 4 KiB
	 * record per event costs a cache and TLB miss or two each). */
	if (!now)
		now = mld_now(sc);
	if (len == MLD_V2_QUERY_MIN_LEN && (void *)(ic + MLD_V2_QUERY_MIN_LEN) <= end) {
		if (ev_small(ctx, ip, ic, MLD_V2_QUERY_MIN_LEN, now, flags))
			goto full;
		c = MLD_C_EVENTS;
		goto out;
	}
	if (len == MLD_V1_LEN) {
		if (ev_small(ctx, ip, ic, MLD_V1_LEN, now, flags))
			goto full;
		c = MLD_C_EVENTS;
		goto out;
	}
	/* Staged: the message is in ev->msg already (csum_linear,
	 * csum_chunks); bpf_ringbuf_output copies the record at its real
	 * length. */
	if (nsrc > MLD_EV_MAX_SOURCES) {
		flags |= MLD_EVF_TRUNCATED;
		ctr(MLD_C_BIG_QUERY);
	}
	copy = len > MLD_EV_MAX_MSG ? MLD_EV_MAX_MSG : len;
	OPAQUE(copy); /* one 64-bit register for the checks and the calls */
	if (copy < MLD_V1_LEN || copy > MLD_EV_MAX_MSG) {
		c = MLD_C_TRUNCATED; /* cannot happen */
		goto out;
	}
	ev_head(ev, ctx, ip, now, (__u32)copy, len, flags);
	if (bpf_ringbuf_output(&mld_events, ev, offsetof(struct mld_event, msg) + copy, 0))
		goto full;
	c = MLD_C_EVENTS;
	goto out;
full:
	c = MLD_C_RINGBUF_FULL;
out:
	ctr(c);
	return XDP_PASS;
}

/* mld_msg_inl as a global function, for mld_slow: verified once, whatever
 * the many states of the parser that calls it. */
__noinline int mld_msg(struct xdp_md *ctx, __u32 ipoff, __u32 off, __u32 len, __u32 ra)
{
	return mld_msg_inl(ctx, ipoff, off, len, ra, 1);
}

/* Everything after the fast path's first check that is not the common
 * layout (see mldagent_xdp): Ethernet, VLAN, IPv6 and its extension
 * headers, up to the ICMPv6 message. A global function, verified once. */
__noinline int mld_slow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct mld_ipv6_hdr *ip;
	__u32 off = ETH_HLEN, ipoff, ip_end, hlen, n;
	const __u8 *h;
	__u16 proto;
	__u8 nh;
	int ra, c;

#if MLD_FAST_COUNT == 0
	ctr(MLD_C_PACKETS);
#endif
	if ((void *)(eth + 1) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *vt = data + off;

		if ((void *)(vt + 1) > end) {
			c = MLD_C_TRUNCATED;
			goto out;
		}
		proto = vt->proto;
		off += sizeof(*vt);
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			vt = data + off;
			if ((void *)(vt + 1) > end) {
				c = MLD_C_TRUNCATED;
				goto out;
			}
			proto = vt->proto;
			off += sizeof(*vt);
		}
		ctr(MLD_C_VLAN);
	}
	if (proto != bpf_htons(ETH_P_IPV6)) {
		c = MLD_C_NOT_IPV6; /* also a third VLAN tag */
		goto out;
	}
	ipoff = off;
	ip = data + off;
	if ((void *)(ip + 1) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	if ((ip->vtc_flow[0] & 0xf0) != 0x60) {
		c = MLD_C_NOT_IPV6;
		goto out;
	}
	if (ip->nexthdr != IPV6_NEXTHDR_HOP) {
		/* MLD needs the hop-by-hop Router Alert: no hop-by-hop header,
		 * no MLD (only VLAN frames get here). */
		c = MLD_C_NOT_ICMPV6;
		goto out;
	}
	ip_end = off + sizeof(*ip) + bpf_ntohs(ip->payload_len);
	if (ip_end > (__u32)(end - data) && ip_end > bpf_xdp_get_buff_len(ctx)) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	if (ip_end > MLD_MAX_END) {
		c = MLD_C_TRUNCATED;
		goto out;
	}

	/* Hop-by-hop options: look for Router Alert with value 0 (MLD). */
	off += sizeof(*ip);
	if (off + 8 > ip_end) {
		c = MLD_C_BAD_EXT_HDR;
		goto out;
	}
	h = data + off;
	if ((void *)(h + 8) > end) {
		c = MLD_C_TRUNCATED;
		goto out;
	}
	hlen = ((__u32)h[1] + 1) * 8;
	if (off + hlen > ip_end) {
		c = MLD_C_BAD_EXT_HDR;
		goto out;
	}
	nh = h[0];
	if (hlen == 8 && (*(const __u64 *)h & HBH_RA_MASK) == HBH_RA_PADN) {
		ra = 1; /* the usual 8-byte header: no walk */
	} else {
		ra = hbh_walk(ctx, off, hlen, 1);
		if (ra < 0) {
			c = -ra;
			goto out;
		}
	}
	off += hlen; /* <= 22 + 40 + 2048: below MLD_MAX_HDR_OFF */

	/* Further extension headers, as the engine walks them. */
	for (n = 0; n < MLD_MAX_EXT; n++) {
		if (nh == IPV6_NEXTHDR_ICMPV6)
			break;
		if (nh != IPV6_NEXTHDR_DSTOPTS && nh != IPV6_NEXTHDR_ROUTING &&
		    nh != IPV6_NEXTHDR_FRAGMENT) {
			/* hop-by-hop is legal only first (RFC 8200 §4.1) */
			c = nh == IPV6_NEXTHDR_HOP ? MLD_C_BAD_EXT_HDR : MLD_C_NOT_ICMPV6;
			goto out;
		}
		if (off + 8 > ip_end) {
			c = MLD_C_BAD_EXT_HDR;
			goto out;
		}
		h = data + off;
		if ((void *)(h + 4) > end) {
			c = MLD_C_TRUNCATED;
			goto out;
		}
		if (nh == IPV6_NEXTHDR_FRAGMENT) {
			/* RFC 6946 §4: an atomic fragment (offset 0, M 0) is
			 * processed as an unfragmented packet; a real fragment
			 * holds no whole MLD message (nothing reassembles). */
			if (*(const __be16 *)(h + 2) & bpf_htons(IPV6_FRAG_OFF_M_MASK)) {
				c = MLD_C_FRAGMENT;
				goto out;
			}
			hlen = IPV6_FRAG_HDR_LEN; /* octet 1 is reserved, no length */
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
			if (off + hlen > ip_end) {
				c = MLD_C_BAD_EXT_HDR;
				goto out;
			}
		}
		if (nh == IPV6_NEXTHDR_DSTOPTS) {
			/* Its options are processed here, at the destination:
			 * one whose action bits say discard discards the
			 * packet (RFC 8200 §4.2, §4.6). */
			__u8 next = h[0];
			int w = hbh_walk(ctx, off, hlen, 0);

			if (w < 0) {
				c = -w;
				goto out;
			}
			nh = next;
		} else {
			nh = h[0];
		}
		off += hlen;
		if (off > MLD_MAX_HDR_OFF) {
			c = MLD_C_BAD_EXT_HDR;
			goto out;
		}
	}
	if (nh != IPV6_NEXTHDR_ICMPV6) {
		c = MLD_C_BAD_EXT_HDR;
		goto out;
	}
	return mld_msg(ctx, ipoff, off, ip_end - off, ra);
out:
	ctr(c);
	return XDP_PASS;
}

/*
 * The throttled fast path of the common layout (see mld_common): a
 * group-and-source query that mld_msg_inl would take to gs_peek, checked
 * the same way (type, hop limit, source, length, group field and
 * destination; the Router Alert is part of the layout) and looked up in
 * its set, with little kept live across the map lookups (each one a call
 * to the compiler, which saves registers around it). Returns the verdict
 * of a throttled query, counters done; -1 for anything else, which
 * mld_msg_inl then handles from the start.
 */
static __always_inline int gs_fast(struct xdp_md *ctx, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct mld_ipv6_hdr *ip = data + ETH_HLEN;
	const __u8 *ic = data + ETH_HLEN + sizeof(*ip) + 8, *grp = ic + MLD_OFF_GROUP;
	struct mld_throttle_set *s;
	struct mld_config *cfg;
	__u32 zero = 0, nsrc, ifindex, drop;

	if ((void *)(ic + MLD_V2_QUERY_MIN_LEN) > end)
		return -1;
	nsrc = bpf_ntohs(*(const __be16 *)(ic + MLD_OFF_NSRC));
	/* fe80::/10 source: its first two bytes, masked, in one load. */
	if (!nsrc || ic[MLD_OFF_TYPE] != MLD_ICMP_QUERY || ip->hop_limit != 1 ||
	    (*(const __u16 *)ip->saddr & bpf_htons(0xffc0)) != bpf_htons(0xfe80) ||
	    len < MLD_V2_QUERY_MIN_LEN + nsrc * MLD_ADDR_LEN || grp[0] != 0xff ||
	    (!eq16(grp, ip->daddr) && !is_all_nodes(ip->daddr)))
		return -1;
	cfg = bpf_map_lookup_elem(&mld_config, &zero);
	if (!cfg || !cfg->gsr_delay_ns)
		return -1;
	drop = cfg->drop_throttled;
	ifindex = gs_owner(ctx->ingress_ifindex, ip->saddr);
	s = gs_set(cfg, ifindex, grp);
	if (!s)
		return -1;
	{
		struct mld_throttle_val *t = gs_find(s, ifindex, grp);

		if (!t || t->tokens || t->tick != (__u32)bpf_jiffies64())
			return -1;
	}
#if MLD_FAST_COUNT == 0
	ctr(MLD_C_PACKETS);
#endif
	ctr(MLD_C_V2_GROUP_SOURCE);
	ctr(MLD_C_THROTTLED);
	if (drop) {
		ctr(MLD_C_THROTTLE_DROPPED);
		return XDP_DROP;
	}
	return XDP_PASS;
}

/*
 * The common layout of an MLD message, handled without any BPF-to-BPF call
 * (calls and returns are costly where return thunks mitigate Spectre/SRSO):
 * untagged Ethernet, IPv6 whose payload lies in the linear data, the usual
 * 8-byte hop-by-hop header (Router Alert MLD + PadN) followed directly by
 * ICMPv6. Anything else goes to mld_slow, which starts over and counts.
 */
static __always_inline int mld_common(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct mld_ipv6_hdr *ip = data + ETH_HLEN;
	const __u8 *h = (const __u8 *)(ip + 1);
	__u32 ip_end;

	if ((void *)(h + 8) > end || (ip->vtc_flow[0] & 0xf0) != 0x60)
		return mld_slow(ctx);
	ip_end = ETH_HLEN + sizeof(*ip) + bpf_ntohs(ip->payload_len);
	if (ip_end > (__u32)(end - data) || ip_end > MLD_MAX_END ||
	    ip_end < ETH_HLEN + sizeof(*ip) + 8 + 4 || h[0] != IPV6_NEXTHDR_ICMPV6 ||
	    (*(const __u64 *)h & HBH_RA_MASK) != HBH_RA_PADN)
		return mld_slow(ctx);
	{
		int v = gs_fast(ctx, ip_end - (ETH_HLEN + sizeof(*ip) + 8));

		if (v >= 0)
			return v;
	}
#if MLD_FAST_COUNT == 0
	ctr(MLD_C_PACKETS);
#endif
	return mld_msg_inl(ctx, ETH_HLEN, ETH_HLEN + sizeof(*ip) + 8,
	                   ip_end - (ETH_HLEN + sizeof(*ip) + 8), 1, 0);
}

SEC("xdp.frags")
int mldagent_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u16 proto;

#if MLD_FAST_COUNT >= 1
	ctr(MLD_C_PACKETS);
#endif
	/* The fast path: one bounds check (up to the IPv6 next header, byte
	 * 20, so that 42-byte ARP frames pass it too), the EtherType, and for
	 * IPv6 the first next header. Only hop-by-hop (0) can carry the
	 * Router Alert that MLD requires, so any other IPv6 packet cannot be
	 * MLD. Shorter frames, VLAN-tagged ones and IPv6 with hop-by-hop go
	 * on. (ethhdr is packed: a plain u16 load, not two byte loads.) */
	if (data + ETH_HLEN + offsetof(struct mld_ipv6_hdr, nexthdr) + 1 > end)
		return mld_slow(ctx);
	proto = *(const __u16 *)(data + offsetof(struct ethhdr, h_proto));
	if (__builtin_expect(proto == bpf_htons(ETH_P_IPV6), 1)) {
		if (__builtin_expect(
		        ((const __u8 *)data)[ETH_HLEN + offsetof(struct mld_ipv6_hdr, nexthdr)] !=
		            IPV6_NEXTHDR_HOP,
		        1)) {
#if MLD_FAST_COUNT >= 2
			ctr(MLD_C_NOT_ICMPV6);
#endif
			return XDP_PASS;
		}
		return mld_common(ctx);
	}
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return mld_slow(ctx);
#if MLD_FAST_COUNT >= 2
	ctr(MLD_C_NOT_IPV6);
#endif
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
