/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mldagent — the daemon. One epoll loop drives everything: XDP ring-buffer
 * events into the engine, a timerfd armed at the engine's next deadline, the
 * control socket, rtnetlink, and signals (SIGHUP reloads, SIGTERM/SIGINT
 * send the final leaves and detach).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static int verbose_log;

uint64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void agent_log(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld mldagent: ", buf, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct agent_link *agent_link_by_name(struct agent *a, const char *name)
{
	int i;

	for (i = 0; i < a->nlinks; i++)
		if (!strcmp(a->links[i].name, name))
			return &a->links[i];
	return NULL;
}

struct agent_link *agent_link_by_index(struct agent *a, uint32_t ifindex)
{
	int i;

	for (i = 0; i < a->nlinks; i++)
		if (a->links[i].ifindex == ifindex && ifindex)
			return &a->links[i];
	return NULL;
}

/* Runs due engine timers and arms the timerfd for the next deadline. */
void agent_kick(struct agent *a)
{
	struct itimerspec its = {0};
	uint64_t now = agent_now_ms(), d;

	while ((d = mld_next_deadline(a->e)) <= now) {
		mld_timeout(a->e, now);
		now = agent_now_ms();
	}
	if (d == a->armed)
		return;
	a->armed = d;
	if (d != UINT64_MAX) {
		/* Absolute CLOCK_MONOTONIC, same clock as agent_now_ms(). */
		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
	}
	timerfd_settime(a->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static uint32_t agent_rand(void *ctx)
{
	uint32_t r;

	(void)ctx;
	if (getentropy(&r, sizeof(r)) != 0)
		r = (uint32_t)random();
	return r;
}

static int add_link_name(struct agent *a, const char *name)
{
	if (agent_link_by_name(a, name))
		return 0;
	if (strlen(name) >= IF_NAMESIZE || a->nlinks == AGENT_MAX_LINKS) {
		fprintf(stderr, "mldagent: bad or too many interfaces: %s\n", name);
		return -1;
	}
	memset(&a->links[a->nlinks], 0, sizeof(a->links[0]));
	snprintf(a->links[a->nlinks].name, IF_NAMESIZE, "%s", name);
	a->links[a->nlinks].mc_fd = -1;
	a->nlinks++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mldagent -i IFACE [-i IFACE ...] [-c CONFIG] [-S CONTROL_SOCKET]\n"
	        "                [--xdp-mode auto|native|generic] [--pin-dir DIR] [-v]\n"
	        "  -i IFACE      link to speak MLD on (repeatable; config 'links' are added)\n"
	        "  -c CONFIG     YAML configuration (reloaded on SIGHUP and 'mldctl reload')\n"
	        "  -S SOCKET     control socket (default %s)\n"
	        "  --xdp-mode    native, generic, or auto (native, falling back to generic)\n"
	        "  --pin-dir DIR where maps are pinned (default %s)\n",
	        AGENT_DEFAULT_SOCKET, AGENT_DEFAULT_PIN_DIR);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (!a->cfg_path[0]) {
				agent_log("SIGHUP: no configuration file to reload");
			} else if (cfg_apply(a, a->cfg_path, err, sizeof(err)) < 0) {
				agent_log("reload refused, state unchanged: %s", err);
			} else {
				agent_log("configuration reloaded from %s", a->cfg_path);
			}
		} else {
			agent_log("signal %u: leaving all groups and stopping", si.ssi_signo);
			a->stop = 1;
		}
	}
}

/* Leave every group on every link and let the leave records (with their
 * retransmissions) go out before detaching: routers then stop forwarding
 * at once instead of waiting for the membership to time out. */
struct leave_ctx {
	struct agent *a;
	struct agent_link *l;
	struct in6_addr *groups;
	size_t n, cap;
};

static int collect_group(void *ctx, const struct mld_group_info *g)
{
	struct leave_ctx *c = ctx;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct in6_addr *p = realloc(c->groups, ncap * sizeof(*p));

		if (!p)
			return 1;
		c->groups = p;
		c->cap = ncap;
	}
	c->groups[c->n++] = g->group;
	return 0;
}

struct names {
	char (*v)[64];
	size_t n, cap;
};

static int collect_name(void *ctx, const struct mld_listener_info *li)
{
	struct names *n = ctx;

	if (n->n == n->cap) {
		size_t ncap = n->cap ? n->cap * 2 : 8;
		char(*p)[64] = realloc(n->v, ncap * sizeof(*p));

		if (!p)
			return 1;
		n->v = p;
		n->cap = ncap;
	}
	snprintf(n->v[n->n++], 64, "%s", li->name);
	return 0;
}

static void final_leave(struct agent *a)
{
	uint64_t until;
	int i;

	for (i = 0; i < a->nlinks; i++) {
		struct agent_link *l = &a->links[i];
		struct leave_ctx c = {a, l, NULL, 0, 0};
		size_t k;

		if (!l->in_engine)
			continue;
		mld_link_groups(a->e, l->ifindex, collect_group, &c);
		for (k = 0; k < c.n; k++) {
			struct names nm = {0};
			size_t j;

			mld_group_listeners(a->e, l->ifindex, &c.groups[k], collect_name, &nm);
			for (j = 0; j < nm.n; j++)
				mld_leave(a->e, l->ifindex, nm.v[j], &c.groups[k], agent_now_ms());
			free(nm.v);
			link_group_changed(a, l, &c.groups[k], 1);
		}
		free(c.groups);
	}
	/* Robustness retransmissions are spread over the URI (1 s default);
	 * give them a bounded time to leave. */
	until = agent_now_ms() + 3000;
	for (;;) {
		uint64_t d = mld_next_deadline(a->e), now = agent_now_ms();

		if (d == UINT64_MAX || d > until)
			break;
		if (d > now) {
			struct timespec ts = {(time_t)((d - now) / 1000),
			                      (long)((d - now) % 1000) * 1000000};

			nanosleep(&ts, NULL);
			now = agent_now_ms();
		}
		mld_timeout(a->e, now);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interface", required_argument, NULL, 'i'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 'S'},
	    {"xdp-mode", required_argument, NULL, 'x'},
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"check-config", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	static struct agent ag;
	struct agent *a = &ag;
	struct mld_tunables tun;
	char err[1024];
	sigset_t mask;
	int c, i, exit_code = 0;

	a->xdp_mode = XDP_MODE_AUTO;
	snprintf(a->pin_dir, sizeof(a->pin_dir), "%s", AGENT_DEFAULT_PIN_DIR);
	snprintf(a->sock_path, sizeof(a->sock_path), "%s", AGENT_DEFAULT_SOCKET);
	a->lock_fd = a->epfd = a->tfd = a->sigfd = a->ctlfd = a->nlfd = a->txfd = a->pktfd = -1;
	while ((c = getopt_long(argc, argv, "i:c:S:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (add_link_name(a, optarg) < 0)
				return 2;
			break;
		case 'c':
			snprintf(a->cfg_path, sizeof(a->cfg_path), "%s", optarg);
			break;
		case 'S':
			snprintf(a->sock_path, sizeof(a->sock_path), "%s", optarg);
			break;
		case 'x':
			if (!strcmp(optarg, "auto"))
				a->xdp_mode = XDP_MODE_AUTO;
			else if (!strcmp(optarg, "native"))
				a->xdp_mode = XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "generic"))
				a->xdp_mode = XDP_MODE_GENERIC;
			else {
				fprintf(stderr,
				        "mldagent: --xdp-mode must be auto, native or generic\n");
				return 2;
			}
			break;
		case 'p':
			snprintf(a->pin_dir, sizeof(a->pin_dir), "%s", optarg);
			break;
		case 'v':
			a->verbose = verbose_log = 1;
			break;
		case 'C': {
			/* Validate a file and exit: for CI, ConfigMaps, editors. */
			struct cfg chk;

			if (cfg_load_file(optarg, &chk, err, sizeof(err)) < 0) {
				fprintf(stderr, "mldagent: %s\n", err);
				return 1;
			}
			printf("%s: ok (%zu link(s), %zu listener(s))\n", optarg, chk.nlinks,
			       chk.nlisteners);
			cfg_free(&chk);
			return 0;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	mld_tunables_default(&tun);
	if (a->cfg_path[0]) {
		if (cfg_load_file(a->cfg_path, &a->cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "mldagent: %s\n", err);
			return 1;
		}
		a->have_cfg = 1;
		tun = a->cfg.tun;
		for (i = 0; i < (int)a->cfg.nlinks; i++)
			if (add_link_name(a, a->cfg.links[i].name) < 0)
				return 2;
	}
	if (!a->nlinks) {
		fprintf(stderr, "mldagent: no interface (-i IFACE or config 'links')\n");
		usage(stderr);
		return 2;
	}
	/* XDP throttles group-and-source queries; a second bucket in the
	 * engine would only make the two disagree at burst edges. */
	tun.gsr_delay_ms = 0;
	a->e = mld_engine_new(&tun, agent_rand, a, link_tx, a);
	if (!a->e) {
		fprintf(stderr, "mldagent: engine setup failed\n");
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->tfd < 0 || a->epfd < 0) {
		perror("mldagent: setup");
		return 1;
	}
	if (bpf_setup(a, err, sizeof(err)) < 0 || link_tx_open(a, err, sizeof(err)) < 0 ||
	    link_nl_open(a, err, sizeof(err)) < 0 || ctl_open(a, err, sizeof(err)) < 0) {
		fprintf(stderr, "mldagent: %s\n", err);
		bpf_teardown(a);
		return 1;
	}
	bpf_set_config(a, a->have_cfg ? a->cfg.tun.gsr_delay_ms : 10000,
	               a->have_cfg ? a->cfg.tun.rv : 2, a->have_cfg ? a->cfg.drop_throttled : 1);
	for (i = 0; i < a->nlinks; i++) {
		struct agent_link *l = &a->links[i];

		if (link_sync(a, l, err, sizeof(err)) < 0) {
			agent_log("%s: %s (waiting for it to appear)", l->name, err);
			continue;
		}
		if (bpf_attach_link(a, l, err, sizeof(err)) < 0) {
			fprintf(stderr, "mldagent: %s: %s\n", l->name, err);
			a->stop = 1;
			exit_code = 1;
			break;
		}
	}
	if (!a->stop && a->have_cfg) {
		/* Apply the loaded file as a diff against nothing. */
		struct cfg first = a->cfg;

		memset(&a->cfg, 0, sizeof(a->cfg));
		a->have_cfg = 0;
		if (cfg_install(a, &first, err, sizeof(err)) < 0) {
			fprintf(stderr, "mldagent: %s\n", err);
			a->stop = 1;
			exit_code = 1;
		}
	}

	{
		struct epoll_event ev = {.events = EPOLLIN};
		int fds[] = {a->sigfd, a->tfd, a->ctlfd, a->nlfd, bpf_poll_fd(a)};

		for (i = 0; i < (int)(sizeof(fds) / sizeof(fds[0])); i++) {
			ev.data.fd = fds[i];
			if (fds[i] >= 0)
				epoll_ctl(a->epfd, EPOLL_CTL_ADD, fds[i], &ev);
		}
	}
	a->started = 1;
	if (!a->stop)
		agent_log("running on %d link(s), control socket %s, maps in %s", a->nlinks,
		          a->sock_path, a->pin_dir);
	agent_kick(a);
	while (!a->stop) {
		struct epoll_event evs[8];
		int n = epoll_wait(a->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("mldagent: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->sigfd) {
				on_signal(a);
			} else if (fd == a->tfd) {
				uint64_t x;

				if (read(a->tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
					perror("mldagent: timerfd");
				a->armed = 0;
			} else if (fd == a->ctlfd) {
				ctl_accept(a);
			} else if (fd == a->nlfd) {
				link_nl_read(a);
			} else {
				bpf_consume(a);
			}
		}
		agent_kick(a);
	}

	final_leave(a);
	ctl_close(a);
	for (i = 0; i < a->nlinks; i++)
		bpf_detach_link(a, &a->links[i]);
	bpf_teardown(a);
	mld_engine_free(a->e);
	if (a->have_cfg)
		cfg_free(&a->cfg);
	agent_log("stopped");
	/* A start that could not attach or apply its configuration is a
	 * failure for whoever started us (systemd, a DaemonSet), not a stop. */
	return exit_code;
}
