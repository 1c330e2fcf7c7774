/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The mldagent daemon: shared state of its modules.
 *   mldagent.c     main, options, the epoll loop, shutdown
 *   agent_bpf.c    skeleton load, XDP attach/detach, pinning, member map,
 *                  local-address map, querier map, ring-buffer events into
 *                  the engine
 *   agent_link.c   rtnetlink (link and address state), raw-socket
 *                  transmit, link-layer multicast filter
 *   agent_ctl.c    control socket (mldctl), configuration apply/reload
 */
#ifndef MLDAGENT_AGENT_H
#define MLDAGENT_AGENT_H

#include <net/if.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "mld_engine.h"

#define AGENT_MAX_LINKS       64
#define AGENT_DEFAULT_PIN_DIR "/sys/fs/bpf/mldagent"
#define AGENT_DEFAULT_SOCKET  "/run/mldagent/mldagent.sock"
#define AGENT_CTL_LISTENER    "mldctl" /* listener name of mldctl joins without --listener */

enum xdp_mode { XDP_MODE_AUTO, XDP_MODE_NATIVE, XDP_MODE_GENERIC };

struct agent_link {
	char name[IF_NAMESIZE];
	uint32_t ifindex;   /* 0 while the interface does not exist */
	int attached;       /* XDP program attached */
	uint32_t xdp_flags; /* flags it was attached with */
	int mc_fd;          /* AF_PACKET socket holding the 33:33:xx filter entries */
	int in_engine;      /* engine knows this link */
	/* The engine's querier as last written to mld_querier
	 * (bpf_querier_sync), under querier_ifindex; 0 = none written. */
	uint32_t querier_ifindex;
	struct in6_addr querier;
};

struct agent {
	struct mld_engine *e;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int members_fd, config_fd, counters_fd, throttle_fd, local_fd, querier_fd;
	struct ring_buffer *rb;
	enum xdp_mode xdp_mode;
	char pin_dir[256];
	char sock_path[256];
	char cfg_path[256];
	int lock_fd;

	struct agent_link links[AGENT_MAX_LINKS];
	int nlinks;

	struct cfg cfg; /* configuration in force */
	int have_cfg;

	int epfd, tfd, sigfd, ctlfd, nlfd, txfd;
	int pktfd;      /* AF_PACKET transmit of reports from :: (RFC 3590) */
	uint64_t armed; /* deadline the timerfd is armed for */
	int stop;
	int started; /* startup done: links appearing later replay the config */
	uint64_t rx_events, rx_event_errors;
	uint64_t tx_packets, tx_errors;
	int verbose;
};

/* mldagent.c */
uint64_t agent_now_ms(void);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Re-arms the timer after anything that may have moved the engine's deadline. */
void agent_kick(struct agent *a);
struct agent_link *agent_link_by_name(struct agent *a, const char *name);
struct agent_link *agent_link_by_index(struct agent *a, uint32_t ifindex);

/* agent_bpf.c */
int bpf_setup(struct agent *a, char *err, size_t errlen);
int bpf_attach_link(struct agent *a, struct agent_link *l, char *err, size_t errlen);
void bpf_detach_link(struct agent *a, struct agent_link *l);
void bpf_teardown(struct agent *a);
int bpf_set_config(struct agent *a, uint32_t gsr_delay_ms, uint32_t burst, int drop_throttled);
/* Keeps the XDP member filter equal to the engine's held groups. */
void bpf_member_set(struct agent *a, uint32_t ifindex, const struct in6_addr *g, int held);
/* Keeps mld_local_addrs equal to the usable unicast addresses of the
 * managed links (queries sent to them are accepted: RFC 3810 §5.1.15). */
void bpf_local_addr_set(struct agent *a, uint32_t ifindex, const struct in6_addr *addr, int usable);
/* Removes every address of ifindex (its link went away or changed index). */
void bpf_local_addr_flush(struct agent *a, uint32_t ifindex);
/* Keeps the link's entry in mld_querier equal to the engine's querier
 * (its group-and-source queries get their own XDP bucket); called after
 * every ring-buffer event and every rtnetlink event of the link (its
 * index may have changed). */
void bpf_querier_sync(struct agent *a, struct agent_link *l);
/* Removes the link's mld_querier entry (its interface went away). */
void bpf_querier_drop(struct agent *a, struct agent_link *l);
int bpf_poll_fd(struct agent *a);
void bpf_consume(struct agent *a);
int bpf_counters(struct agent *a, uint64_t *out, int n);

/* agent_link.c */
int link_tx_open(struct agent *a, char *err, size_t errlen);
void link_tx(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len);
int link_nl_open(struct agent *a, char *err, size_t errlen);
void link_nl_read(struct agent *a);
/* Initial state of a link from the kernel: index, MTU, up, link-local. */
int link_sync(struct agent *a, struct agent_link *l, char *err, size_t errlen);
void link_mc_filter(struct agent *a, struct agent_link *l, const struct in6_addr *g, int add);
/* After a listener operation on (link, group): update XDP map and MAC filter. */
void link_group_changed(struct agent *a, struct agent_link *l, const struct in6_addr *g,
                        int was_held);
int link_group_held(struct agent *a, struct agent_link *l, const struct in6_addr *g);

/* agent_ctl.c */
int ctl_open(struct agent *a, char *err, size_t errlen);
void ctl_accept(struct agent *a);
/* Loads a file and installs it (below); on error the running state stays. */
int cfg_apply(struct agent *a, const char *path, char *err, size_t errlen);
/* Applies neu as a diff against the configuration in force and takes
 * ownership of it; on error rolls back, frees neu, and says why. */
int cfg_install(struct agent *a, struct cfg *neu, char *err, size_t errlen);
void ctl_close(struct agent *a);
/* A link appeared after start: apply the configured memberships on it. */
void cfg_replay_link(struct agent *a, struct agent_link *l);

#endif
