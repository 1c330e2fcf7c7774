/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Group storage for one link, sized for a million groups: a slab of group
 * structs with stable indices (the heap and the general-query cursors hold
 * indices), an open-addressing hash index keyed with a per-engine secret, and
 * a binary min-heap of group deadlines so that timeouts cost O(log n) rather
 * than the seed's scan of every group on every 200 ms tick.
 */
#include <stdlib.h>
#include <string.h>

#include "mld_internal.h"

static uint32_t hash_addr(const struct mld_engine *e, const struct in6_addr *a)
{
	uint64_t x, y;

	memcpy(&x, a->s6_addr, 8);
	memcpy(&y, a->s6_addr + 8, 8);
	x ^= e->hkey;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= y + (x >> 29);
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x;
}

struct group *tbl_find(const struct mld_engine *e, const struct link *l, const struct in6_addr *a)
{
	uint32_t mask, i;

	if (!l->hcap)
		return NULL;
	mask = l->hcap - 1;
	for (i = hash_addr(e, a) & mask; l->hidx[i]; i = (i + 1) & mask) {
		struct group *g = &l->g[l->hidx[i] - 1];

		if (memcmp(&g->addr, a, 16) == 0)
			return g;
	}
	return NULL;
}

static void hash_put(const struct mld_engine *e, uint32_t *tab, uint32_t cap,
                     const struct in6_addr *a, uint32_t slot)
{
	uint32_t i;

	for (i = hash_addr(e, a) & (cap - 1); tab[i]; i = (i + 1) & (cap - 1))
		;
	tab[i] = slot;
}

static int hash_grow(struct mld_engine *e, struct link *l)
{
	uint32_t ncap = l->hcap ? l->hcap * 2 : 64, i;
	uint32_t *tab = calloc(ncap, sizeof(*tab));

	if (!tab)
		return -1;
	for (i = 0; i < l->hcap; i++)
		if (l->hidx[i])
			hash_put(e, tab, ncap, &l->g[l->hidx[i] - 1].addr, l->hidx[i]);
	free(l->hidx);
	l->hidx = tab;
	l->hcap = ncap;
	return 0;
}

struct group *tbl_insert(struct mld_engine *e, struct link *l, const struct in6_addr *a)
{
	struct group *g;
	uint32_t idx;

	/* Keep the load factor at or under 1/2 so probes stay short. */
	if ((l->count + 1) * 2 > l->hcap && hash_grow(e, l) < 0)
		return NULL;
	if (l->gfree != NO_POS) {
		idx = l->gfree;
		l->gfree = l->g[idx].next_free;
	} else {
		if (l->ghigh == l->gcap) {
			uint32_t ncap = l->gcap ? l->gcap * 2 : 64;
			struct group *ng = realloc(l->g, (size_t)ncap * sizeof(*ng));

			struct heap_ent *nh;

			if (!ng)
				return NULL;
			l->g = ng;
			nh = realloc(l->heap, (size_t)ncap * sizeof(*nh));
			if (!nh)
				return NULL;
			l->heap = nh;
			l->gcap = ncap;
		}
		idx = l->ghigh++;
	}
	g = &l->g[idx];
	memset(g, 0, sizeof(*g));
	g->addr = *a;
	g->flags = G_USED;
	g->heap_pos = NO_POS;
	g->mode = MLD_FMODE_INCLUDE;
	hash_put(e, l->hidx, l->hcap, a, idx + 1);
	l->count++;
	return g;
}

static void heap_swap(struct link *l, uint32_t i, uint32_t j)
{
	struct heap_ent t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->g[l->heap[i].idx].heap_pos = i;
	l->g[l->heap[j].idx].heap_pos = j;
}

static void heap_sift(struct link *l, uint32_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2].due > l->heap[i].due) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * i + 1, m = i;

		if (c < l->nheap && l->heap[c].due < l->heap[m].due)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1].due < l->heap[m].due)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct link *l, struct group *g)
{
	uint32_t i = g->heap_pos;

	if (i == NO_POS)
		return;
	g->heap_pos = NO_POS;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->g[l->heap[i].idx].heap_pos = i;
	heap_sift(l, i);
}

void heap_update(struct link *l, struct group *g)
{
	uint64_t due = g->qr_due;

	if (g->sc_due && (!due || g->sc_due < due))
		due = g->sc_due;
	if (!due) {
		heap_remove(l, g);
		return;
	}
	if (g->heap_pos == NO_POS) {
		/* Cannot overflow: the heap grows with the slab (tbl_insert). */
		g->heap_pos = l->nheap++;
		l->heap[g->heap_pos].idx = gidx(l, g);
	}
	l->heap[g->heap_pos].due = due;
	heap_sift(l, g->heap_pos);
}

/* Everything a group owns besides its slab slot. */
static void group_free_lists(struct group *g)
{
	uint16_t m;

	for (m = 0; m < g->nmembers; m++)
		free(g->members[m].srcs);
	free(g->members);
	free(g->srcs);
	free(g->pend);
	free(g->rec);
}

void tbl_delete(const struct mld_engine *e, struct link *l, struct group *g)
{
	uint32_t mask = l->hcap - 1, i, j, idx = gidx(l, g);

	heap_remove(l, g);
	for (i = hash_addr(e, &g->addr) & mask; l->hidx[i] != idx + 1; i = (i + 1) & mask)
		;
	/* Backward-shift deletion keeps probe chains intact without tombstones:
	 * an entry after the hole moves into it unless its home bucket lies
	 * cyclically in (hole, entry]. */
	l->hidx[i] = 0;
	for (j = (i + 1) & mask; l->hidx[j]; j = (j + 1) & mask) {
		uint32_t h = hash_addr(e, &l->g[l->hidx[j] - 1].addr) & mask;
		int stays = i < j ? (h > i && h <= j) : (h > i || h <= j);

		if (!stays) {
			l->hidx[i] = l->hidx[j];
			l->hidx[j] = 0;
			i = j;
		}
	}
	group_free_lists(g);
	g->flags = 0;
	g->next_free = l->gfree;
	l->gfree = idx;
	l->count--;
}

void tbl_free(struct link *l)
{
	uint32_t i;

	for (i = 0; i < l->ghigh; i++) {
		if (l->g[i].flags & G_USED)
			group_free_lists(&l->g[i]);
	}
	free(l->g);
	free(l->hidx);
	free(l->heap);
}
