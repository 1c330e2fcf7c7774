/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The declarative YAML configuration of mldagent (docs/CONFIG.md).
 *
 * The file is loaded at start and on SIGHUP / `mldctl reload`. Loading either
 * produces a complete, validated struct cfg or fails with one
 * "FILE:LINE:COL: message" error and writes nothing to *out, so the daemon
 * can keep running on its previous configuration. cfg_diff() then tells the
 * daemon which memberships to add, change or remove.
 *
 * A loaded cfg is canonical: links sorted by name, listeners by (link, name),
 * each listener's groups by address and each group's sources by address
 * (memcmp order), all unique. The `line` fields point back into the file.
 */
#ifndef MLD_CONFIG_H
#define MLD_CONFIG_H

#include <net/if.h>
#include <stddef.h>

#include "mld_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One membership of a listener. ASM is EXCLUDE with no sources. */
struct cfg_group {
	struct in6_addr group;
	enum mld_fmode mode;
	size_t nsrc;
	struct in6_addr *srcs; /* sorted, unique; NULL when nsrc == 0 */
	int line;              /* the group entry in the file */
};

struct cfg_listener {
	char name[64];          /* 1-63 of A-Z a-z 0-9 - _ . : / @ */
	char link[IF_NAMESIZE]; /* need not be listed under links: */
	size_t ngroups;
	struct cfg_group *groups; /* sorted by address, unique */
	int line;
};

struct cfg_link {
	char name[IF_NAMESIZE];
	struct mld_tunables tun; /* top-level tunables with this link's overrides */
	int line;
};

struct cfg {
	struct mld_tunables tun; /* top-level tunables over mld_tunables_default() */
	int drop_throttled;      /* throttle-policy: drop (1, default) | pass (0) */
	size_t nlinks;
	struct cfg_link *links; /* sorted by name */
	size_t nlisteners;
	struct cfg_listener *listeners; /* sorted by (link, name) */
};

/*
 * Return 0 on success. On error return -1, leave *out untouched (nothing is
 * allocated) and put "FILE:LINE:COL: message" into err (1-based line and
 * column; errors that have no position, such as an unreadable file, are
 * "FILE: message"). err may be NULL. An empty file is a valid, empty config.
 * `name` is the FILE of error messages (NULL: "<string>").
 */
int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen);
int cfg_load_string(const char *yaml, size_t len, const char *name, struct cfg *out, char *err,
                    size_t errlen);
/* Frees everything and zeroes *c; a zeroed cfg is valid (and empty). */
void cfg_free(struct cfg *c);

/* The links: entry of that name, or NULL when the link is not listed. */
const struct cfg_link *cfg_find_link(const struct cfg *c, const char *name);
/* Effective tunables of a link: its links: entry's, else the top-level ones. */
const struct mld_tunables *cfg_link_tunables(const struct cfg *c, const char *name);

/*
 * Calls cb for every (link, listener, group) whose filter differs between old
 * and neu (old may be a zeroed, empty cfg):
 *   CFG_REMOVE  only in old   (new_g NULL)
 *   CFG_CHANGE  in both, mode or sources differ
 *   CFG_ADD     only in new   (old_g NULL)
 * Unchanged memberships produce no call. All removals come first, then all
 * changes, then all additions (so freed limits are available to additions),
 * each in (link, listener, group) order. A listener renamed or moved to
 * another link is a removal plus an addition. Both configs must be canonical
 * (as loaded by cfg_load_*). Allocates nothing.
 */
enum cfg_change { CFG_ADD, CFG_CHANGE, CFG_REMOVE };
typedef void (*cfg_diff_fn)(void *ctx, enum cfg_change kind, const char *link, const char *listener,
                            const struct cfg_group *old_g, const struct cfg_group *new_g);
void cfg_diff(const struct cfg *old, const struct cfg *neu, cfg_diff_fn cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* MLD_CONFIG_H */
