/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sorted, duplicate-free arrays of IPv6 source addresses and the set algebra
 * RFC 3810 needs (§4.2 merging, §6.1 differences, §6.3 query answers).
 * Arrays keep memory at 16 bytes a source and make every operation a linear
 * merge; the seed's red-black trees cost ~60 bytes a node.
 */
#ifndef MLD_SRCSET_H
#define MLD_SRCSET_H

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

static inline int mld_addr_cmp(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a));
}

/* Sorts and removes duplicates in place; returns the new count. */
size_t srcset_normalize(struct in6_addr *v, size_t n);
/* Binary search. */
int srcset_contains(const struct in6_addr *v, size_t n, const struct in6_addr *a);
/* out must hold na + nb (union) or min(na, nb) / na (others); returns count. */
size_t srcset_union(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out);
size_t srcset_inter(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out);
size_t srcset_minus(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out);
int srcset_equal(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb);

#endif
