/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's side of the XDP program: load the bpftool skeleton, pin its
 * maps for bpftool, attach/detach per link, keep the member filter, the
 * local-address map and the run-time configuration, and feed ring-buffer
 * events to the engine.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent.h"
#include "mldagent.skel.h"
#include "mldagent_abi.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static struct mldagent *skel;

static const char *const pinned[] = {MLD_MAP_MEMBERS,  MLD_MAP_THROTTLE, MLD_MAP_CONFIG,
                                     MLD_MAP_COUNTERS, MLD_MAP_EVENTS,   MLD_MAP_LOCAL_ADDRS,
                                     MLD_MAP_QUERIER};

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* One agent per pin directory: a lock file under /run names the owner, so a
 * second agent (another network namespace, same bpffs) gets a clear error
 * instead of silently sharing or unpinning the first one's maps. */
static int take_lock(struct agent *a, char *err, size_t errlen)
{
	char path[512], *p;
	size_t i;

	mkdir("/run/mldagent", 0750);
	snprintf(path, sizeof(path), "/run/mldagent/pin");
	p = path + strlen(path);
	for (i = 0; a->pin_dir[i] && p < path + sizeof(path) - 8; i++)
		*p++ = a->pin_dir[i] == '/' ? '_' : a->pin_dir[i];
	snprintf(p, (size_t)(path + sizeof(path) - p), ".lock");
	a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (a->lock_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char owner[32] = {0};
		ssize_t n = pread(a->lock_fd, owner, sizeof(owner) - 1, 0);

		if (n > 0)
			owner[strcspn(owner, "\n")] = 0;
		snprintf(err, errlen,
		         "pin directory %s is in use by another mldagent (pid %s); "
		         "give each agent its own --pin-dir",
		         a->pin_dir, owner);
		return -1;
	}
	if (ftruncate(a->lock_fd, 0) == 0)
		dprintf(a->lock_fd, "%d\n", (int)getpid());
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;
	const struct mld_event *ev = data;
	struct mld_rx_meta m = {0};
	uint8_t msg[MLD_EV_MAX_MSG];
	size_t len;

	/* Records are sized to their message (offsetof(msg) + msg_len). */
	if (size < offsetof(struct mld_event, msg) || ev->msg_len > MLD_EV_MAX_MSG ||
	    size < offsetof(struct mld_event, msg) + ev->msg_len) {
		a->rx_event_errors++;
		return 0;
	}
	len = ev->msg_len;
	memcpy(msg, ev->msg, len);
	memcpy(&m.src, ev->saddr, 16);
	memcpy(&m.dst, ev->daddr, 16);
	m.hop_limit = ev->hop_limit;
	m.router_alert = !!(ev->flags & MLD_EVF_ROUTER_ALERT);
	m.csum_verified = !!(ev->flags & MLD_EVF_CSUM_OK);
	m.dst_local = !!(ev->flags & MLD_EVF_DST_LOCAL);
	if (ev->flags & MLD_EVF_TRUNCATED) {
		/* More sources than an event carries: answer it as a
		 * group-specific query — the whole group's state is a superset
		 * of any group-and-source answer (RFC 3810 §6.3), where the
		 * seed dropped such queries unanswered. */
		if (len < MLD_V2_QUERY_MIN_LEN || !m.csum_verified) {
			a->rx_event_errors++;
			return 0;
		}
		msg[MLD_OFF_NSRC] = msg[MLD_OFF_NSRC + 1] = 0;
		len = MLD_V2_QUERY_MIN_LEN;
	}
	a->rx_events++;
	mld_input_icmp(a->e, ev->ifindex, &m, msg, len, agent_now_ms());
	{
		/* A general query may have named a new querier. */
		struct agent_link *l = agent_link_by_index(a, ev->ifindex);

		if (l)
			bpf_querier_sync(a, l);
	}
	return 0;
}

int bpf_setup(struct agent *a, char *err, size_t errlen)
{
	struct statfs sfs;
	char path[512], parent[256], *slash;
	size_t i;

	libbpf_set_print(libbpf_quiet);
	snprintf(parent, sizeof(parent), "%s", a->pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	if (statfs(parent, &sfs) < 0 || (unsigned long)sfs.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen,
		         "%s is not on a bpffs (mount one: mount -t bpf bpf %s), "
		         "or choose --pin-dir",
		         parent, parent);
		return -1;
	}
	if (take_lock(a, err, errlen) < 0)
		return -1;
	skel = mldagent__open_and_load();
	if (!skel) {
		snprintf(err, errlen, "loading the XDP program failed: %s", strerror(errno));
		return -1;
	}
	a->obj = skel->obj;
	a->prog = NULL;
	{
		struct bpf_program *p;

		bpf_object__for_each_program(
		    p, skel->obj) if (bpf_program__type(p) == BPF_PROG_TYPE_XDP && !a->prog)
		    a->prog = p;
	}
	if (!a->prog) {
		snprintf(err, errlen, "no XDP program in the skeleton");
		return -1;
	}
	if (mkdir(a->pin_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", a->pin_dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, pinned[i]);

		if (!m) {
			snprintf(err, errlen, "map %s missing from the program", pinned[i]);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s", a->pin_dir, pinned[i]);
		unlink(path); /* stale pin of a dead agent: we hold the lock */
		if (bpf_map__pin(m, path) < 0) {
			snprintf(err, errlen, "pin %s: %s", path, strerror(errno));
			return -1;
		}
	}
	a->members_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_MEMBERS);
	a->config_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_CONFIG);
	a->counters_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_COUNTERS);
	a->throttle_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_THROTTLE);
	a->local_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_LOCAL_ADDRS);
	a->querier_fd = bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_QUERIER);
	a->rb = ring_buffer__new(bpf_object__find_map_fd_by_name(skel->obj, MLD_MAP_EVENTS),
	                         handle_event, a, NULL);
	if (!a->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int bpf_poll_fd(struct agent *a)
{
	return a->rb ? ring_buffer__epoll_fd(a->rb) : -1;
}

void bpf_consume(struct agent *a)
{
	if (a->rb)
		ring_buffer__consume(a->rb);
}

int bpf_attach_link(struct agent *a, struct agent_link *l, char *err, size_t errlen)
{
	int fd = bpf_program__fd(a->prog), rc = -EINVAL;
	uint32_t base = XDP_FLAGS_UPDATE_IF_NOEXIST;

	if (a->xdp_mode != XDP_MODE_GENERIC) {
		rc = bpf_xdp_attach((int)l->ifindex, fd, base | XDP_FLAGS_DRV_MODE, NULL);
		if (rc == 0)
			l->xdp_flags = XDP_FLAGS_DRV_MODE;
	}
	if (rc < 0 && rc != -EBUSY && rc != -EEXIST && a->xdp_mode != XDP_MODE_NATIVE) {
		rc = bpf_xdp_attach((int)l->ifindex, fd, base | XDP_FLAGS_SKB_MODE, NULL);
		if (rc == 0)
			l->xdp_flags = XDP_FLAGS_SKB_MODE;
	}
	if (rc < 0) {
		snprintf(err, errlen, "XDP attach (%s) failed: %s%s",
		         a->xdp_mode == XDP_MODE_NATIVE    ? "native"
		         : a->xdp_mode == XDP_MODE_GENERIC ? "generic"
		                                           : "auto",
		         strerror(-rc),
		         rc == -EBUSY || rc == -EEXIST
		             ? " (another XDP program is attached; remove it with "
		               "'ip link set dev IFACE xdp off')"
		             : "");
		return -1;
	}
	l->attached = 1;
	agent_log("%s: XDP attached (%s mode)", l->name,
	          l->xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	return 0;
}

void bpf_detach_link(struct agent *a, struct agent_link *l)
{
	(void)a;
	if (!l->attached)
		return;
	bpf_xdp_detach((int)l->ifindex, l->xdp_flags, NULL);
	l->attached = 0;
}

void bpf_teardown(struct agent *a)
{
	char path[512];
	size_t i;

	if (a->rb)
		ring_buffer__free(a->rb);
	a->rb = NULL;
	if (skel) {
		for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", a->pin_dir, pinned[i]);
			unlink(path);
		}
		rmdir(a->pin_dir);
		mldagent__destroy(skel);
		skel = NULL;
	}
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	a->lock_fd = -1;
}

int bpf_set_config(struct agent *a, uint32_t gsr_delay_ms, uint32_t burst, int drop_throttled)
{
	struct mld_config c = {0};
	uint32_t k = 0;

	mld_config_keep_key(a->config_fd, &c);
	c.gsr_delay_ns = (uint64_t)gsr_delay_ms * 1000000ull;
	c.gsr_burst = burst < 2 ? 2 : burst;
	c.drop_throttled = drop_throttled ? 1 : 0;
	return bpf_map_update_elem(a->config_fd, &k, &c, BPF_ANY);
}

void bpf_member_set(struct agent *a, uint32_t ifindex, const struct in6_addr *g, int held)
{
	struct mld_group_key k = {0};
	struct mld_member_val v = {0};

	k.ifindex = ifindex;
	memcpy(k.group, g, 16);
	if (held) {
		if (bpf_map_update_elem(a->members_fd, &k, &v, BPF_ANY) < 0)
			agent_log("member map update: %s", strerror(errno));
	} else {
		bpf_map_delete_elem(a->members_fd, &k);
		mld_throttle_forget(a->throttle_fd, a->config_fd, &k);
	}
}

void bpf_local_addr_set(struct agent *a, uint32_t ifindex, const struct in6_addr *addr, int usable)
{
	struct mld_addr_key k = {0};
	struct mld_local_addr_val v = {0};

	k.ifindex = ifindex;
	memcpy(k.addr, addr, 16);
	/* Only unicast addresses are ever assigned; the program relies on
	 * the map holding nothing else. */
	if (!usable || IN6_IS_ADDR_MULTICAST(addr) || IN6_IS_ADDR_UNSPECIFIED(addr)) {
		bpf_map_delete_elem(a->local_fd, &k);
		return;
	}
	if (bpf_map_update_elem(a->local_fd, &k, &v, BPF_ANY) < 0)
		agent_log("local address map update: %s", strerror(errno));
}

void bpf_local_addr_flush(struct agent *a, uint32_t ifindex)
{
	struct mld_addr_key cur, next, del[64];
	size_t n, i;

	/* Keys are collected, then deleted: deleting the key a hash map walk
	 * stands on restarts the walk. A full batch restarts it anyway. */
	do {
		const struct mld_addr_key *prev = NULL;

		n = 0;
		while (n < sizeof(del) / sizeof(del[0]) &&
		       bpf_map_get_next_key(a->local_fd, prev, &next) == 0) {
			if (next.ifindex == ifindex)
				del[n++] = next;
			cur = next;
			prev = &cur;
		}
		for (i = 0; i < n; i++)
			bpf_map_delete_elem(a->local_fd, &del[i]);
	} while (n == sizeof(del) / sizeof(del[0]));
}

void bpf_querier_drop(struct agent *a, struct agent_link *l)
{
	if (l->querier_ifindex)
		mld_querier_write(a->querier_fd, l->querier_ifindex, NULL);
	l->querier_ifindex = 0;
	memset(&l->querier, 0, sizeof(l->querier));
}

void bpf_querier_sync(struct agent *a, struct agent_link *l)
{
	struct mld_link_info li;

	if (!l->in_engine || !l->ifindex || mld_link_info(a->e, l->ifindex, &li) != MLD_OK)
		return;
	if (l->querier_ifindex == l->ifindex && !memcmp(&l->querier, &li.querier, 16))
		return; /* the usual case: nothing changed */
	if (l->querier_ifindex != l->ifindex)
		bpf_querier_drop(a, l); /* an entry under the link's old index */
	l->querier_ifindex = l->ifindex;
	l->querier = li.querier;
	/* Overwritten in place: the querier never goes without an entry. */
	if (IN6_IS_ADDR_UNSPECIFIED(&li.querier))
		mld_querier_write(a->querier_fd, l->ifindex, NULL);
	else if (mld_querier_write(a->querier_fd, l->ifindex, li.querier.s6_addr) < 0)
		agent_log("%s: no room in %s (five links with one ifindex mod %u): the querier's "
		          "group-and-source queries share the others' throttle",
		          l->name, MLD_MAP_QUERIER, MLD_QUERIER_SETS);
}

int bpf_counters(struct agent *a, uint64_t *out, int n)
{
	int ncpu = libbpf_num_possible_cpus(), i, c;
	uint64_t *v;

	if (ncpu <= 0)
		return -1;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < n && i < MLD_C_COUNT; i++) {
		uint32_t k = (uint32_t)i;

		out[i] = 0;
		if (bpf_map_lookup_elem(a->counters_fd, &k, v) == 0)
			for (c = 0; c < ncpu; c++)
				out[i] += v[c];
	}
	free(v);
	return 0;
}
