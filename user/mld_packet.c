/* SPDX-License-Identifier: BSD-2-Clause */
#include "mld_packet.h"

#include <arpa/inet.h>
#include <string.h>

#include "mld_wire.h"

static const struct in6_addr mld_v2_routers = {
    {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16}}};

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

uint16_t mld_icmp6_csum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *icmp,
                        size_t len)
{
	uint8_t tail[8] = {0};
	uint32_t acc = 0;

	acc = sum16(src->s6_addr, 16, acc);
	acc = sum16(dst->s6_addr, 16, acc);
	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = IPV6_NEXTHDR_ICMPV6;
	acc = sum16(tail, 8, acc);
	acc = sum16(icmp, len, acc);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* Scans hop-by-hop options (ra set) for Router Alert value 0, or
 * destination options (ra NULL); -1 if a TLV overruns or must discard the
 * packet. */
static int hbh_router_alert(const uint8_t *opt, size_t len, int *ra)
{
	size_t i = 0;

	while (i < len) {
		if (opt[i] == IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + opt[i + 1] > len)
			return -1;
		if (ra && opt[i] == IPV6_OPT_ROUTER_ALERT) {
			if (opt[i + 1] != 2)
				return -1;
			if (opt[i + 2] == 0 && opt[i + 3] == IPV6_RA_VALUE_MLD)
				*ra = 1;
		} else if (opt[i] != IPV6_OPT_PADN && (opt[i] & 0xc0)) {
			/* RFC 8200 §4.2: an unknown option whose action bits
			 * are not 00 means the packet must be discarded. */
			return -1;
		}
		i += 2 + opt[i + 1];
	}
	return 0;
}

/* At most this many extension headers are walked: a bound, as in XDP. */
#define MAX_EXT_HDRS 8

int mld_parse_ipv6(const uint8_t *pkt, size_t len, struct mld_rx_meta *meta, const uint8_t **icmp,
                   size_t *icmplen, int *reason)
{
	const struct mld_ipv6_hdr *ip = (const void *)pkt;
	size_t off = MLD_IPV6_HDR_LEN, end;
	uint8_t nh;
	int i, ra = 0;

	if (len < MLD_IPV6_HDR_LEN) {
		*reason = MLD_DROP_TOO_SHORT;
		return -1;
	}
	if ((pkt[0] >> 4) != 6) {
		*reason = MLD_DROP_BAD_IPV6;
		return -1;
	}
	end = MLD_IPV6_HDR_LEN + ntohs(ip->payload_len);
	if (end > len) {
		*reason = MLD_DROP_BAD_IPV6;
		return -1;
	}
	memset(meta, 0, sizeof(*meta));
	memcpy(&meta->src, ip->saddr, 16);
	memcpy(&meta->dst, ip->daddr, 16);
	meta->hop_limit = ip->hop_limit;
	nh = ip->nexthdr;
	for (i = 0; i < MAX_EXT_HDRS; i++) {
		size_t hlen;

		if (nh == IPV6_NEXTHDR_ICMPV6)
			break;
		/* Hop-by-hop is only legal as the first header (RFC 8200 §4.1). */
		if (!((nh == IPV6_NEXTHDR_HOP && i == 0) || nh == IPV6_NEXTHDR_DSTOPTS ||
		      nh == IPV6_NEXTHDR_ROUTING || nh == IPV6_NEXTHDR_FRAGMENT)) {
			*reason = nh == IPV6_NEXTHDR_HOP ? MLD_DROP_EXT_HDR : MLD_DROP_NOT_ICMPV6;
			return -1;
		}
		if (off + 8 > end) {
			*reason = MLD_DROP_EXT_HDR;
			return -1;
		}
		if (nh == IPV6_NEXTHDR_FRAGMENT) {
			/* RFC 6946 §4: an atomic fragment (offset 0, M 0) is
			 * processed as an unfragmented packet; a real fragment
			 * is never a whole MLD message (nothing reassembles). */
			if (((unsigned)pkt[off + 2] << 8 | pkt[off + 3]) & IPV6_FRAG_OFF_M_MASK) {
				*reason = MLD_DROP_FRAGMENT;
				return -1;
			}
			nh = pkt[off];
			off += IPV6_FRAG_HDR_LEN; /* octet 1 is reserved, no length */
			continue;
		}
		hlen = ((size_t)pkt[off + 1] + 1) * 8;
		if (off + hlen > end) {
			*reason = MLD_DROP_EXT_HDR;
			return -1;
		}
		/* Options of hop-by-hop and destination options headers: an
		 * unknown one whose action bits say discard discards the
		 * packet wherever it is (RFC 8200 §4.2, §4.6). */
		if ((nh == IPV6_NEXTHDR_HOP || nh == IPV6_NEXTHDR_DSTOPTS) &&
		    hbh_router_alert(pkt + off + 2, hlen - 2,
		                     nh == IPV6_NEXTHDR_HOP ? &ra : NULL)) {
			*reason = MLD_DROP_EXT_HDR;
			return -1;
		}
		nh = pkt[off];
		off += hlen;
	}
	if (nh != IPV6_NEXTHDR_ICMPV6) {
		*reason = MLD_DROP_EXT_HDR;
		return -1;
	}
	meta->router_alert = (uint8_t)ra;
	*icmp = pkt + off;
	*icmplen = end - off;
	return 0;
}

/* Writes the IPv6 header and the 8-byte hop-by-hop header with Router Alert. */
static void put_headers(uint8_t *p, const struct in6_addr *src, const struct in6_addr *dst,
                        size_t icmplen)
{
	struct mld_ipv6_hdr *ip = (void *)p;
	uint8_t *h = p + MLD_IPV6_HDR_LEN;
	uint16_t plen = (uint16_t)(MLD_HBH_LEN + icmplen);

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow[0] = 0x60;
	ip->payload_len = htons(plen);
	ip->nexthdr = IPV6_NEXTHDR_HOP;
	ip->hop_limit = 1; /* MLD never leaves the link (RFC 3810 §5) */
	memcpy(ip->saddr, src, 16);
	memcpy(ip->daddr, dst, 16);
	h[0] = IPV6_NEXTHDR_ICMPV6;
	h[1] = 0;
	h[2] = IPV6_OPT_ROUTER_ALERT;
	h[3] = 2;
	h[4] = 0;
	h[5] = IPV6_RA_VALUE_MLD;
	h[6] = IPV6_OPT_PADN;
	h[7] = 0;
}

static void put_csum(uint8_t *pkt, size_t icmplen)
{
	struct in6_addr s, d;
	uint8_t *icmp = pkt + MLD_IPV6_HDR_LEN + MLD_HBH_LEN;
	uint16_t c;

	memcpy(&s, pkt + 8, 16);
	memcpy(&d, pkt + 24, 16);
	icmp[MLD_OFF_CSUM] = icmp[MLD_OFF_CSUM + 1] = 0;
	c = mld_icmp6_csum(&s, &d, icmp, icmplen);
	icmp[MLD_OFF_CSUM] = (uint8_t)(c >> 8);
	icmp[MLD_OFF_CSUM + 1] = (uint8_t)c;
}

size_t mld_build_v1(uint8_t *out, uint8_t type, const struct in6_addr *src,
                    const struct in6_addr *dst, const struct in6_addr *group)
{
	uint8_t *icmp = out + MLD_IPV6_HDR_LEN + MLD_HBH_LEN;

	put_headers(out, src, dst, MLD_V1_LEN);
	memset(icmp, 0, MLD_V1_LEN);
	icmp[MLD_OFF_TYPE] = type;
	memcpy(icmp + MLD_OFF_GROUP, group, 16);
	put_csum(out, MLD_V1_LEN);
	return MLD_V1_PKT_LEN;
}

void rb_init(struct mld_report_builder *rb, uint8_t *buf, size_t mtu, const struct in6_addr *src,
             void (*emit)(void *ctx, const uint8_t *pkt, size_t len, uint16_t nrec), void *ctx)
{
	memset(rb, 0, sizeof(*rb));
	rb->buf = buf;
	rb->mtu = mtu;
	rb->src = *src;
	rb->emit = emit;
	rb->ctx = ctx;
}

size_t rb_capacity(const struct mld_report_builder *rb)
{
	return rb->mtu - MLD_V2_REPORT_OVERHEAD;
}

size_t rb_room(const struct mld_report_builder *rb)
{
	return rb->len ? rb->mtu - rb->len : rb_capacity(rb);
}

void rb_flush(struct mld_report_builder *rb)
{
	uint8_t *icmp = rb->buf + MLD_IPV6_HDR_LEN + MLD_HBH_LEN;
	size_t icmplen;

	if (!rb->len)
		return;
	icmplen = rb->len - MLD_IPV6_HDR_LEN - MLD_HBH_LEN;
	put_headers(rb->buf, &rb->src, &mld_v2_routers, icmplen);
	icmp[MLD_OFF_TYPE] = MLD_ICMP_V2_REPORT;
	icmp[MLD_OFF_CODE] = 0;
	icmp[4] = icmp[5] = 0;
	icmp[MLD_OFF_NREC] = (uint8_t)(rb->nrec >> 8);
	icmp[MLD_OFF_NREC + 1] = (uint8_t)rb->nrec;
	put_csum(rb->buf, icmplen);
	rb->emit(rb->ctx, rb->buf, rb->len, rb->nrec);
	rb->packets++;
	rb->len = 0;
	rb->nrec = 0;
}

static void put_record(struct mld_report_builder *rb, uint8_t type, const struct in6_addr *group,
                       const struct in6_addr *srcs, size_t n)
{
	uint8_t *r;

	if (!rb->len)
		rb->len = MLD_V2_REPORT_OVERHEAD;
	/* Byte stores: the buffer may sit at any alignment (odd MTUs). */
	r = rb->buf + rb->len;
	r[0] = type;
	r[1] = 0; /* aux data length */
	r[2] = (uint8_t)(n >> 8);
	r[3] = (uint8_t)n;
	memcpy(r + 4, group, 16);
	if (n)
		memcpy(rb->buf + rb->len + MLD_V2_RECORD_HDR_LEN, srcs, n * 16);
	rb->len += mld_record_size(n);
	rb->nrec++;
	/* nrec is 16 bits on the wire; a jumbo MTU could otherwise overflow it. */
	if (rb->nrec == 0xffff)
		rb_flush(rb);
}

void rb_add(struct mld_report_builder *rb, uint8_t type, const struct in6_addr *group,
            const struct in6_addr *srcs, size_t nsrc)
{
	int may_split = type != MLD_MODE_IS_EXCLUDE && type != MLD_CHANGE_TO_EXCLUDE;
	size_t fit;

	/* A record that fits a fresh packet is never split: splitting saves no
	 * packet and costs the receiver a record. Only lists longer than a
	 * whole packet continue (or, for IS_EX/TO_EX, get truncated). */
	if (rb->len && rb_room(rb) < mld_record_size(nsrc) &&
	    (mld_record_size(nsrc) <= rb_capacity(rb) || !may_split ||
	     rb_room(rb) < mld_record_size(1)))
		rb_flush(rb);
	fit = (rb_room(rb) - MLD_V2_RECORD_HDR_LEN) / MLD_ADDR_LEN;
	if (nsrc <= fit) {
		put_record(rb, type, group, srcs, nsrc);
		return;
	}
	if (!may_split) {
		/* RFC 3810 §5.2.15: one record, as many sources as fit. */
		rb->truncated += nsrc - fit;
		put_record(rb, type, group, srcs, fit);
		return;
	}
	/* Continue the list across packets; no continuation is ever empty
	 * (errata 16) because the loop stops when the sources run out. */
	while (nsrc) {
		size_t take;

		fit = (rb_room(rb) - MLD_V2_RECORD_HDR_LEN) / MLD_ADDR_LEN;
		if (fit == 0) {
			rb_flush(rb);
			continue;
		}
		take = nsrc < fit ? nsrc : fit;
		put_record(rb, type, group, srcs, take);
		srcs += take;
		nsrc -= take;
		if (nsrc)
			rb_flush(rb);
	}
}
