/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Frame builder shared by the XDP tests and the XDP benchmark: Ethernet with
 * optional VLAN/QinQ tags, IPv6, a chain of extension headers, and an
 * ICMPv6 message with a correct (or deliberately wrong) checksum.
 */
#ifndef MLD_TEST_FRAMES_H
#define MLD_TEST_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mld_wire.h"

#define MAX_FRAME 16384

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

__attribute__((unused)) static uint8_t A_LL[16], A_LL2[16], A_GLOBAL[16], A_ANY[16], A_ALLNODES[16],
    A_ALLROUTERS[16];
__attribute__((unused)) static uint8_t G_MEMBER[16], G_OTHER[16], G_UNICAST[16], G_GS[16],
    G_THR[16], G_THR2[16], G_BIG[16], G_REPORT[16], G_RING[16];

static inline void addr(uint8_t *a, const char *s)
{
	if (inet_pton(AF_INET6, s, a) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
}

static inline void init_addrs(void)
{
	addr(A_LL, "fe80::1");
	addr(A_LL2, "febf::2"); /* fe80::/10 includes febf:: */
	addr(A_GLOBAL, "2001:db8::1");
	addr(A_ANY, "::");
	addr(A_ALLNODES, "ff02::1");
	addr(A_ALLROUTERS, "ff02::2");
	addr(G_MEMBER, "ff0e::101");
	addr(G_OTHER, "ff0e::202");
	addr(G_UNICAST, "2001:db8::99");
	addr(G_GS, "ff3e::8000:1");
	addr(G_THR, "ff3e::8000:2");
	addr(G_THR2, "ff3e::8000:3");
	addr(G_BIG, "ff3e::8000:4");
	addr(G_REPORT, "ff05::3");
	addr(G_RING, "ff0e::303");
}

/* ------------------------------------------------------------------ */
/* Frame builder                                                      */
/* ------------------------------------------------------------------ */

/* One extension header: kind (its protocol number), bytes from its first
 * byte; the builder fills byte 0 (next header) and, unless keep_len, byte 1
 * (length in 8-octet units beyond the first). */
struct exth {
	uint8_t kind;
	uint8_t body[2048];
	size_t len;
	int keep_len;
};

struct spec {
	int nvlan;          /* tags before the EtherType */
	uint16_t tpid[3];   /* 0x8100 / 0x88a8 */
	uint16_t ethertype; /* default IPv6 */
	int raw;            /* payload below is not IPv6: raw bytes */
	uint8_t version;    /* default 6 */
	uint8_t hop_limit;
	const uint8_t *src, *dst;
	struct exth *ext; /* chain before the upper layer */
	int next;
	uint8_t l4_proto; /* default ICMPv6 */
	uint8_t l4[MAX_FRAME];
	size_t l4len;
	int no_csum;    /* leave the ICMPv6 checksum as in l4 */
	int csum_delta; /* add to the correct checksum */
	int plen_delta; /* add to the IPv6 payload length */
	size_t cut;     /* bytes chopped off the end of the frame */
	size_t pad;     /* bytes of trailing Ethernet padding */
};

static inline uint16_t icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *m,
                                  size_t len)
{
	uint32_t acc = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		acc += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	acc += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(m[i] << 8 | m[i + 1]);
	if (len & 1)
		acc += (uint32_t)m[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static inline size_t build(uint8_t *f, struct spec *s)
{
	size_t off = 0, plen, l3;
	int i;

	memcpy(f, "\x33\x33\x00\x00\x00\x01\x02\x00\x00\x00\x00\x01", 12);
	off = 12;
	for (i = 0; i < s->nvlan; i++) {
		f[off] = (uint8_t)(s->tpid[i] >> 8);
		f[off + 1] = (uint8_t)s->tpid[i];
		f[off + 2] = 0;
		f[off + 3] = (uint8_t)(10 + i); /* VLAN id */
		off += 4;
	}
	if (!s->ethertype)
		s->ethertype = 0x86dd;
	f[off] = (uint8_t)(s->ethertype >> 8);
	f[off + 1] = (uint8_t)s->ethertype;
	off += 2;
	if (s->raw) {
		memcpy(f + off, s->l4, s->l4len);
		off += s->l4len;
		return off;
	}
	l3 = off;
	memset(f + off, 0, 40);
	f[off] = (uint8_t)((s->version ? s->version : 6) << 4);
	f[off + 7] = s->hop_limit;
	memcpy(f + off + 8, s->src ? s->src : A_LL, 16);
	memcpy(f + off + 24, s->dst ? s->dst : A_ALLNODES, 16);
	off += 40;
	f[l3 + 6] = s->next ? s->ext[0].kind : (s->l4_proto ? s->l4_proto : 58);
	for (i = 0; i < s->next; i++) {
		struct exth *h = &s->ext[i];

		memcpy(f + off, h->body, h->len);
		f[off] = i + 1 < s->next ? s->ext[i + 1].kind : (s->l4_proto ? s->l4_proto : 58);
		if (!h->keep_len)
			f[off + 1] = (uint8_t)(h->len / 8 - 1);
		off += h->len;
	}
	if (!s->no_csum && s->l4len >= 4 && (!s->l4_proto || s->l4_proto == 58)) {
		uint16_t c;

		s->l4[2] = s->l4[3] = 0;
		c = icmp6_csum(f + l3 + 8, f + l3 + 24, s->l4, s->l4len);
		c = (uint16_t)(c + s->csum_delta);
		s->l4[2] = (uint8_t)(c >> 8);
		s->l4[3] = (uint8_t)c;
	}
	memcpy(f + off, s->l4, s->l4len);
	off += s->l4len;
	plen = off - l3 - 40 + (size_t)s->plen_delta;
	f[l3 + 4] = (uint8_t)(plen >> 8);
	f[l3 + 5] = (uint8_t)plen;
	memset(f + off, 0, s->pad);
	off += s->pad;
	return off - s->cut;
}

/* Hop-by-hop with Router Alert (MLD) + PadN(0): the usual 8 bytes. */
static inline void hbh_std(struct exth *h)
{
	static const uint8_t b[8] = {0, 0, 5, 2, 0, 0, 1, 0};

	memset(h, 0, sizeof(*h));
	h->kind = 0;
	memcpy(h->body, b, 8);
	h->len = 8;
}

/* Hop-by-hop from given option bytes, padded with Pad1 to a multiple of 8. */
static inline void hbh_opts(struct exth *h, const uint8_t *opt, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->kind = 0;
	memcpy(h->body + 2, opt, n);
	h->len = (2 + n + 7) / 8 * 8;
}

static inline void ext_plain(struct exth *h, uint8_t kind, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->len = len;
	if (kind == 60 && len >= 8) { /* a PadN filling the options */
		h->body[2] = 1;
		h->body[3] = (uint8_t)(len - 4);
	}
	if (kind == 43) /* routing type 0 with segments left 0: harmless */
		h->body[2] = 0;
}

/* ICMPv6 messages. */
static inline size_t msg_query_v1(uint8_t *m, const uint8_t *group)
{
	memset(m, 0, 24);
	m[0] = MLD_ICMP_QUERY;
	m[4] = 0x03; /* 1000 ms */
	m[5] = 0xe8;
	memcpy(m + 8, group, 16);
	return 24;
}

static inline void src_n(uint8_t *a, int i)
{
	addr(a, "2001:db8:5::");
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

/* v2 query with nsrc sources present and nsrc_field in the header. */
static inline size_t msg_query_v2f(uint8_t *m, const uint8_t *group, int nsrc, int nsrc_field)
{
	int i;

	memset(m, 0, 28);
	m[0] = MLD_ICMP_QUERY;
	m[4] = 0x27; /* 10000 ms */
	m[5] = 0x10;
	memcpy(m + 8, group, 16);
	m[24] = 2;   /* QRV 2 */
	m[25] = 125; /* QQIC */
	m[26] = (uint8_t)(nsrc_field >> 8);
	m[27] = (uint8_t)nsrc_field;
	for (i = 0; i < nsrc; i++)
		src_n(m + 28 + 16 * i, i + 1);
	return 28 + 16 * (size_t)nsrc;
}

static inline size_t msg_query_v2(uint8_t *m, const uint8_t *group, int nsrc)
{
	return msg_query_v2f(m, group, nsrc, nsrc);
}

static inline size_t msg_report_v1(uint8_t *m, const uint8_t *group)
{
	memset(m, 0, 24);
	m[0] = MLD_ICMP_V1_REPORT;
	memcpy(m + 8, group, 16);
	return 24;
}

/* A fresh spec: IPv6, hop limit 1, fe80::1 -> ff02::1, standard hop-by-hop. */
static struct exth ext_buf[12] __attribute__((unused));

static inline void spec_mld(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	s->hop_limit = 1;
	s->src = A_LL;
	s->dst = A_ALLNODES;
	hbh_std(&ext_buf[0]);
	s->ext = ext_buf;
	s->next = 1;
}

#endif
