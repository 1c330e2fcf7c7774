/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MLD packets in and out: parsing/validation of received IPv6 packets and
 * building of MLDv1 messages and MLDv2 reports packed to the link MTU.
 * No state of the protocol lives here.
 */
#ifndef MLD_PACKET_H
#define MLD_PACKET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "mld_engine.h"
#include "mld_wire.h"

/* ICMPv6 checksum over the IPv6 pseudo-header (RFC 8200 §8.1). */
uint16_t mld_icmp6_csum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *icmp,
                        size_t len);

/*
 * Parses an IPv6 packet down to its ICMPv6 payload: version, payload length,
 * the extension-header chain (bounded), the hop-by-hop Router Alert option.
 * Returns 0 and fills meta/icmp/icmplen, or -1 with *reason set.
 */
int mld_parse_ipv6(const uint8_t *pkt, size_t len, struct mld_rx_meta *meta, const uint8_t **icmp,
                   size_t *icmplen, int *reason);

/* Builds a complete MLDv1 report (131) or done (132); returns its length. */
#define MLD_V1_PKT_LEN (MLD_IPV6_HDR_LEN + MLD_HBH_LEN + MLD_V1_LEN)
size_t mld_build_v1(uint8_t *out, uint8_t type, const struct in6_addr *src,
                    const struct in6_addr *dst, const struct in6_addr *group);

/*
 * MLDv2 report builder: appends multicast address records to a packet of at
 * most 'mtu' bytes and hands each full packet to 'emit'. Records whose type
 * allows it continue in the next packet when their sources do not fit;
 * IS_EX/TO_EX are truncated to one packet instead (RFC 3810 §5.2.15,
 * errata 16). No packet ever exceeds the MTU (errata 17).
 */
struct mld_report_builder {
	uint8_t *buf; /* mtu bytes */
	size_t len;   /* bytes used, 0 when no packet is open */
	size_t mtu;
	uint16_t nrec;
	struct in6_addr src;
	void (*emit)(void *ctx, const uint8_t *pkt, size_t len, uint16_t nrec);
	void *ctx;
	uint64_t packets;   /* packets emitted */
	uint64_t truncated; /* sources dropped from IS_EX/TO_EX records */
};
void rb_init(struct mld_report_builder *rb, uint8_t *buf, size_t mtu, const struct in6_addr *src,
             void (*emit)(void *ctx, const uint8_t *pkt, size_t len, uint16_t nrec), void *ctx);
/* Bytes a record can still take in the open packet (or an empty one). */
size_t rb_room(const struct mld_report_builder *rb);
size_t rb_capacity(const struct mld_report_builder *rb);
void rb_add(struct mld_report_builder *rb, uint8_t type, const struct in6_addr *group,
            const struct in6_addr *srcs, size_t nsrc);
void rb_flush(struct mld_report_builder *rb);

/* Size on the wire of a record with n sources. */
static inline size_t mld_record_size(size_t n)
{
	return MLD_V2_RECORD_HDR_LEN + n * MLD_ADDR_LEN;
}

#endif
