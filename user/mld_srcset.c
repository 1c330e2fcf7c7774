/* SPDX-License-Identifier: BSD-2-Clause */
#include "mld_srcset.h"

#include <stdlib.h>

static int cmp_addr(const void *a, const void *b)
{
	return mld_addr_cmp(a, b);
}

size_t srcset_normalize(struct in6_addr *v, size_t n)
{
	size_t i, o;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), cmp_addr);
	for (i = 1, o = 1; i < n; i++)
		if (mld_addr_cmp(&v[i], &v[o - 1]) != 0)
			v[o++] = v[i];
	return o;
}

int srcset_contains(const struct in6_addr *v, size_t n, const struct in6_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mld_addr_cmp(&v[mid], a);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * One merge walk serves all three operations: 'keep' says which of the
 * three regions (only in a, in both, only in b) go to the output.
 */
enum { ONLY_A = 1, BOTH = 2, ONLY_B = 4 };

static size_t merge(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out, int keep)
{
	size_t i = 0, j = 0, o = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : mld_addr_cmp(&a[i], &b[j]);

		if (c < 0) {
			if (keep & ONLY_A)
				out[o++] = a[i];
			i++;
		} else if (c > 0) {
			if (keep & ONLY_B)
				out[o++] = b[j];
			j++;
		} else {
			if (keep & BOTH)
				out[o++] = a[i];
			i++;
			j++;
		}
	}
	return o;
}

size_t srcset_union(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out)
{
	return merge(a, na, b, nb, out, ONLY_A | BOTH | ONLY_B);
}

size_t srcset_inter(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out)
{
	return merge(a, na, b, nb, out, BOTH);
}

size_t srcset_minus(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb,
                    struct in6_addr *out)
{
	return merge(a, na, b, nb, out, ONLY_A);
}

int srcset_equal(const struct in6_addr *a, size_t na, const struct in6_addr *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}
