/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MLD wire formats: the one place where the on-the-wire layout of MLDv1
 * (RFC 2710) and MLDv2 (RFC 3810 / RFC 9777) messages is written down.
 *
 * Shared by the XDP program (bpf/) and userspace (user/, tests/), so it uses
 * only fixed-width kernel UAPI types and no libc. Multi-byte fields are in
 * network byte order; the helpers below take host-order values.
 */
#ifndef MLD_WIRE_H
#define MLD_WIRE_H

#include <linux/types.h>

/* ICMPv6 message types (RFC 2710 §3, RFC 3810 §5). */
#define MLD_ICMP_QUERY     130
#define MLD_ICMP_V1_REPORT 131
#define MLD_ICMP_V1_DONE   132
#define MLD_ICMP_V2_REPORT 143

/* Multicast address record types (RFC 3810 §5.2.12). */
#define MLD_MODE_IS_INCLUDE   1
#define MLD_MODE_IS_EXCLUDE   2
#define MLD_CHANGE_TO_INCLUDE 3
#define MLD_CHANGE_TO_EXCLUDE 4
#define MLD_ALLOW_NEW_SOURCES 5
#define MLD_BLOCK_OLD_SOURCES 6

#define IPV6_NEXTHDR_HOP      0
#define IPV6_NEXTHDR_ROUTING  43
#define IPV6_NEXTHDR_FRAGMENT 44
#define IPV6_NEXTHDR_ICMPV6   58
#define IPV6_NEXTHDR_NONE     59
#define IPV6_NEXTHDR_DSTOPTS  60

/* Fragment header (RFC 8200 §4.5): always 8 octets; octets 2-3 hold the
 * Fragment Offset (13 bits), two reserved bits (ignored on receipt) and
 * the M flag. Offset 0 with M 0 is an atomic fragment, which RFC 6946 §4
 * processes as an unfragmented packet; the rest are real fragments. */
#define IPV6_FRAG_HDR_LEN    8
#define IPV6_FRAG_OFF_M_MASK 0xfff9 /* offset and M of octets 2-3 (host order) */

/* Hop-by-hop option carrying Router Alert (RFC 2711); value 0 = MLD. */
#define IPV6_OPT_PAD1         0
#define IPV6_OPT_PADN         1
#define IPV6_OPT_ROUTER_ALERT 5
#define IPV6_RA_VALUE_MLD     0

/* Sizes. */
#define MLD_IPV6_HDR_LEN      40
#define MLD_HBH_LEN           8  /* next, len=0, RA(4), PadN(2) */
#define MLD_V1_LEN            24 /* ICMPv6 MLDv1 query/report/done */
#define MLD_V2_QUERY_MIN_LEN  28
#define MLD_V2_REPORT_HDR_LEN 8
#define MLD_V2_RECORD_HDR_LEN 20
#define MLD_ADDR_LEN          16
/* IPv6 + hop-by-hop + ICMPv6 report header: what a report spends before its
 * first record (errata 17: the seed forgot to reserve this). */
#define MLD_V2_REPORT_OVERHEAD (MLD_IPV6_HDR_LEN + MLD_HBH_LEN + MLD_V2_REPORT_HDR_LEN)
#define MLD_IPV6_MIN_MTU       1280
/* Largest source count a query may carry and still fit a 64 KiB payload. */
#define MLD_V2_QUERY_MAX_SOURCES 4094

/* Byte offsets inside the ICMPv6 part of an MLD message. */
#define MLD_OFF_TYPE    0
#define MLD_OFF_CODE    1
#define MLD_OFF_CSUM    2
#define MLD_OFF_MRC     4  /* Maximum Response Code (query), 16 bits */
#define MLD_OFF_GROUP   8  /* Multicast Address (query, v1 report/done) */
#define MLD_OFF_SQRV    24 /* v2 query: Resv(4) S(1) QRV(3) */
#define MLD_OFF_QQIC    25 /* v2 query: Querier's Query Interval Code */
#define MLD_OFF_NSRC    26 /* v2 query: Number of Sources, 16 bits */
#define MLD_OFF_QSRC    28 /* v2 query: first source address */
#define MLD_OFF_NREC    6  /* v2 report: Nr of Mcast Address Records */
#define MLD_OFF_RECORDS 8  /* v2 report: first record */

#define MLD_QUERY_SFLAG    0x08 /* Suppress Router-Side Processing */
#define MLD_QUERY_QRV_MASK 0x07

struct mld_ipv6_hdr {
	__u8 vtc_flow[4]; /* version 6, traffic class, flow label */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Multicast address record header (RFC 3810 §5.2.4); sources follow. */
struct mld_v2_record_hdr {
	__u8 type;
	__u8 aux_len; /* in 32-bit words; we never send auxiliary data */
	__be16 nsrc;
	__u8 group[16];
};

/*
 * Maximum Response Code → Maximum Response Delay in milliseconds
 * (RFC 3810 §5.1.3). Values below 32768 are the delay itself; above, a
 * 3-bit exponent and 12-bit mantissa with an implicit leading bit.
 * Errata 1: the seed compared against 32678 and later FreeBSD applied the
 * mantissa macros to an already byte-swapped value.
 */
static inline __u32 mld_mrc_to_ms(__u16 code)
{
	if (code < 0x8000)
		return code;
	return (__u32)((code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
}

/*
 * Querier's Query Interval Code → seconds (RFC 3810 §5.1.9). Errata 2: the
 * implicit 0x10 bit of the mantissa must be added, so 0x80 is 128 s, not 0.
 */
static inline __u32 mld_qqic_to_s(__u8 code)
{
	if (code < 128)
		return code;
	return (__u32)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
}

/* Inverse of mld_mrc_to_ms: the smallest code whose delay is >= ms
 * (used by tests and by anything that builds queries). */
static inline __u16 mld_ms_to_mrc(__u32 ms)
{
	__u32 exp;

	if (ms < 0x8000)
		return (__u16)ms;
	for (exp = 0; exp < 8; exp++) {
		__u32 mant = (ms + (1u << (exp + 3)) - 1) >> (exp + 3);

		if (mant <= 0x1fff && mant >= 0x1000)
			return (__u16)(0x8000 | (exp << 12) | (mant & 0x0fff));
	}
	return 0xffff; /* saturate at the largest encodable delay */
}

static inline __u8 mld_s_to_qqic(__u32 s)
{
	__u32 exp;

	if (s < 128)
		return (__u8)s;
	for (exp = 0; exp < 8; exp++) {
		__u32 mant = (s + (1u << (exp + 3)) - 1) >> (exp + 3);

		if (mant <= 0x1f && mant >= 0x10)
			return (__u8)(0x80 | (exp << 4) | (mant & 0x0f));
	}
	return 0xff;
}

/* Multicast scope (RFC 4291 §2.7) of an address whose first byte is 0xff. */
static inline __u8 mld_mcast_scope(const __u8 *addr)
{
	return addr[1] & 0x0f;
}

#endif /* MLD_WIRE_H */
