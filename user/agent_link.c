/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's side of the links: rtnetlink for link and address state
 * (the engine's link-local address, the XDP program's mld_local_addrs),
 * the raw socket that transmits the engine's packets, and the
 * link-layer multicast filter that makes a real NIC deliver group-specific
 * queries for the groups we hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

/* ---------------- transmit ---------------- */

int link_tx_open(struct agent *a, char *err, size_t errlen)
{
	int off = 0;

	/* IPPROTO_RAW implies IPV6_HDRINCL: the engine's packets go out as
	 * built — hop limit 1, hop-by-hop Router Alert, and the :: source
	 * RFC 3590 needs before a link-local address is usable, which an
	 * ICMPv6 socket could not send. */
	a->txfd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (a->txfd < 0) {
		snprintf(err, errlen, "raw IPv6 socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -1;
	}
	/* Our own reports must not come back to this host's stack. */
	if (setsockopt(a->txfd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0) {
		snprintf(err, errlen, "IPV6_MULTICAST_LOOP: %s", strerror(errno));
		return -1;
	}
	/* Protocol 0: transmit only, it receives nothing. */
	a->pktfd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (a->pktfd < 0) {
		snprintf(err, errlen, "packet socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -1;
	}
	return 0;
}

static int is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

/* A report from :: (RFC 3590: no usable link-local address yet, or none at
 * all) cannot go through the raw IPv6 socket: for the route lookup the
 * kernel selects a source address for the flow first, even with
 * IPV6_HDRINCL, and fails with EADDRNOTAVAIL while the interface has no
 * usable one — exactly when :: is needed. Those packets go out of a packet
 * socket instead; the device adds its link-layer header towards the
 * multicast MAC of the destination (RFC 2464 §7: 33:33 + its low 32 bits). */
static ssize_t tx_unspecified(struct agent *a, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	struct sockaddr_ll ll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_IPV6),
	    .sll_ifindex = (int)ifindex,
	    .sll_halen = 6,
	    .sll_addr = {0x33, 0x33, pkt[36], pkt[37], pkt[38], pkt[39]},
	};

	return sendto(a->pktfd, pkt, len, 0, (struct sockaddr *)&ll, sizeof(ll));
}

/* The outgoing link is named per packet (IPV6_PKTINFO): the zone of
 * sin6_scope_id only binds link-scope destinations, and a v1 report goes to
 * its group, which may be of any scope — it must not follow the routing
 * table to whichever link carries the first multicast route. */
static ssize_t tx_raw(struct agent *a, uint32_t ifindex, struct sockaddr_in6 *to,
                      const uint8_t *pkt, size_t len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cm;
	struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
	struct msghdr msg = {.msg_name = to,
	                     .msg_namelen = sizeof(*to),
	                     .msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = cm.buf,
	                     .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *c;
	struct in6_pktinfo pi = {.ipi6_ifindex = ifindex};

	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	return sendmsg(a->txfd, &msg, 0);
}

void link_tx(void *ctx, uint32_t ifindex, const uint8_t *pkt, size_t len)
{
	struct agent *a = ctx;
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = ifindex};
	ssize_t rc;

	memcpy(&to.sin6_addr, pkt + 24, 16);
	if (len >= 40 && is_unspecified(pkt + 8))
		rc = tx_unspecified(a, ifindex, pkt, len);
	else
		rc = tx_raw(a, ifindex, &to, pkt, len);
	if (rc < 0) {
		a->tx_errors++;
		if (a->verbose || a->tx_errors < 10)
			agent_log("send on ifindex %u: %s", ifindex, strerror(errno));
		return;
	}
	a->tx_packets++;
}

/* ---------------- link-layer multicast filter ---------------- */

void link_mc_filter(struct agent *a, struct agent_link *l, const struct in6_addr *g, int add)
{
	struct packet_mreq mr = {0};

	(void)a;
	if (!l->ifindex)
		return;
	if (l->mc_fd < 0) {
		/* Protocol 0: the socket receives nothing; it only holds the
		 * device's multicast list entries (dev_mc_add) for us, without
		 * the kernel's own MLD reporting the group a second time. */
		l->mc_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (l->mc_fd < 0) {
			agent_log("%s: AF_PACKET socket: %s", l->name, strerror(errno));
			return;
		}
	}
	mr.mr_ifindex = (int)l->ifindex;
	mr.mr_type = PACKET_MR_MULTICAST;
	mr.mr_alen = 6;
	mr.mr_address[0] = 0x33; /* RFC 2464 §7: 33:33 + low 32 bits */
	mr.mr_address[1] = 0x33;
	memcpy(mr.mr_address + 2, &g->s6_addr[12], 4);
	if (setsockopt(l->mc_fd, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP,
	               &mr, sizeof(mr)) < 0 &&
	    add)
		agent_log("%s: multicast filter: %s", l->name, strerror(errno));
}

int link_group_held(struct agent *a, struct agent_link *l, const struct in6_addr *g)
{
	struct mld_group_info gi;

	return l->in_engine && mld_group_info(a->e, l->ifindex, g, &gi) == MLD_OK &&
	       gi.nlisteners > 0;
}

void link_group_changed(struct agent *a, struct agent_link *l, const struct in6_addr *g,
                        int was_held)
{
	int held = link_group_held(a, l, g);

	if (held == was_held)
		return;
	bpf_member_set(a, l->ifindex, g, held);
	link_mc_filter(a, l, g, held);
}

/* Re-creates the XDP member map entries and link-layer filter of every
 * held group, after the interface came back under a new index. */
struct reheld {
	struct agent *a;
	struct agent_link *l;
};

static int reheld_one(void *ctx, const struct mld_group_info *g)
{
	struct reheld *r = ctx;

	if (g->nlisteners) {
		bpf_member_set(r->a, r->l->ifindex, &g->group, 1);
		link_mc_filter(r->a, r->l, &g->group, 1);
	}
	return 0;
}

static int unheld_one(void *ctx, const struct mld_group_info *g)
{
	struct reheld *r = ctx;

	if (g->nlisteners)
		bpf_member_set(r->a, r->l->ifindex, &g->group, 0);
	return 0;
}

/* ---------------- rtnetlink ---------------- */

static int nl_request(int fd, int type, int family)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
	} req = {0};

	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = (uint16_t)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.g.rtgen_family = (uint8_t)family;
	return send(fd, &req, sizeof(req), 0) < 0 ? -1 : 0;
}

static void on_addr(struct agent *a, struct nlmsghdr *nh);
static void on_link(struct agent *a, struct nlmsghdr *nh);

/* Returns 1 when the batch ends a dump (NLMSG_DONE or an error). */
static int nl_dispatch(struct agent *a, char *buf, ssize_t n)
{
	struct nlmsghdr *nh;

	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
			return 1;
		if (nh->nlmsg_type == RTM_NEWADDR || nh->nlmsg_type == RTM_DELADDR)
			on_addr(a, nh);
		else if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
			on_link(a, nh);
	}
	return 0;
}

/* Synchronous dump on a private socket (startup and re-sync). */
static void nl_dump(struct agent *a, int type)
{
	static char buf[65536];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return;
	if (nl_request(fd, type, AF_INET6) == 0) {
		struct timeval tv = {2, 0};

		/* Never hang the agent on a dump that does not finish. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n <= 0 || nl_dispatch(a, buf, n))
				break;
		}
	}
	close(fd);
}

int link_nl_open(struct agent *a, char *err, size_t errlen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
	                         .nl_groups = RTMGRP_LINK | RTMGRP_IPV6_IFADDR};

	a->nlfd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a->nlfd < 0 || bind(a->nlfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void link_nl_read(struct agent *a)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = recv(a->nlfd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == ENOBUFS) {
				int i;

				/* Lost events: re-read the whole truth. A lost
				 * RTM_DELADDR leaves no trace in a dump, so the
				 * local-address map is rebuilt from it. */
				agent_log("rtnetlink overrun; re-synchronising");
				for (i = 0; i < a->nlinks; i++)
					if (a->links[i].in_engine)
						bpf_local_addr_flush(a, a->links[i].ifindex);
				nl_dump(a, RTM_GETLINK);
				nl_dump(a, RTM_GETADDR);
				continue;
			}
			return;
		}
		if (n == 0)
			return;
		nl_dispatch(a, buf, n);
	}
}

static void set_link_state(struct agent *a, struct agent_link *l, unsigned flags, uint32_t mtu)
{
	uint64_t now = agent_now_ms();
	int up = (flags & IFF_UP) && (flags & IFF_RUNNING);

	if (mtu >= 1280 && mld_link_set_mtu(a->e, l->ifindex, mtu) != MLD_OK)
		agent_log("%s: MTU %u refused", l->name, mtu);
	mld_link_set_silent(a->e, l->ifindex, (flags & IFF_LOOPBACK) || !(flags & IFF_MULTICAST),
	                    now);
	mld_link_set_up(a->e, l->ifindex, up, now);
}

static void on_link(struct agent *a, struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	struct rtattr *rta;
	const char *name = NULL;
	uint32_t mtu = 0;
	struct agent_link *l;
	char err[256];

	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME)
			name = RTA_DATA(rta);
		else if (rta->rta_type == IFLA_MTU)
			memcpy(&mtu, RTA_DATA(rta), 4);
	}
	l = name ? agent_link_by_name(a, name) : agent_link_by_index(a, (uint32_t)ifi->ifi_index);
	if (!l)
		return;
	if (nh->nlmsg_type == RTM_DELLINK) {
		if (l->ifindex != (uint32_t)ifi->ifi_index)
			return;
		bpf_local_addr_flush(a, l->ifindex); /* its addresses went with it */
		bpf_querier_drop(a, l);              /* and its index */
		if (!l->attached)
			return;
		agent_log("%s: interface deleted; memberships kept until it returns", l->name);
		if (l->in_engine) {
			struct reheld r = {a, l};

			mld_link_set_up(a->e, l->ifindex, 0, agent_now_ms());
			mld_link_groups(a->e, l->ifindex, unheld_one, &r);
		}
		l->attached = 0; /* the program went with the device */
		if (l->mc_fd >= 0) {
			close(l->mc_fd);
			l->mc_fd = -1;
		}
		return;
	}
	if (l->in_engine && l->ifindex != (uint32_t)ifi->ifi_index) {
		/* Deleted and re-created: same name, new index. */
		uint32_t old = l->ifindex;
		struct reheld r = {a, l};

		if (mld_link_set_ifindex(a->e, old, (uint32_t)ifi->ifi_index) != MLD_OK)
			return;
		bpf_local_addr_flush(a, old); /* the new index's come with the dump */
		l->ifindex = (uint32_t)ifi->ifi_index;
		agent_log("%s: back as ifindex %u (was %u); re-attaching", l->name, l->ifindex,
		          old);
		mld_link_groups(a->e, l->ifindex, reheld_one, &r);
		nl_dump(a, RTM_GETADDR);
	}
	if (!l->in_engine) {
		if (link_sync(a, l, err, sizeof(err)) < 0) {
			agent_log("%s: %s", l->name, err);
			return;
		}
	}
	if (!l->attached && bpf_attach_link(a, l, err, sizeof(err)) < 0)
		agent_log("%s: %s", l->name, err);
	set_link_state(a, l, ifi->ifi_flags, mtu);
	bpf_querier_sync(a, l); /* e.g. back under a new index */
}

/* The link-local address the engine sources its reports from (RFC 3590):
 * a valid one is kept over a tentative one, and only its own removal (or
 * DAD failure) takes it away. */
static void lladdr_changed(struct agent *a, struct agent_link *l, int type, uint32_t flags,
                           const struct in6_addr *addr)
{
	struct mld_link_info li;
	enum mld_ll_state st;

	if (mld_link_info(a->e, l->ifindex, &li) != MLD_OK)
		return;
	if (type == RTM_DELADDR) {
		if (li.ll_state != MLD_LL_NONE && memcmp(&li.lladdr, addr, 16))
			return; /* another link-local went away; ours stays */
		st = MLD_LL_NONE;
	} else if (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) {
		/* Keep a valid address we already have over a tentative one. */
		if (li.ll_state == MLD_LL_VALID && memcmp(&li.lladdr, addr, 16))
			return;
		st = (flags & IFA_F_DADFAILED) ? MLD_LL_NONE : MLD_LL_TENTATIVE;
	} else {
		if (li.ll_state == MLD_LL_VALID && !memcmp(&li.lladdr, addr, 16))
			return;
		st = MLD_LL_VALID;
	}
	if (a->verbose) {
		char b[INET6_ADDRSTRLEN];

		agent_log("%s: link-local %s %s", l->name, inet_ntop(AF_INET6, addr, b, sizeof(b)),
		          st == MLD_LL_VALID       ? "valid"
		          : st == MLD_LL_TENTATIVE ? "tentative"
		                                   : "gone");
	}
	mld_link_set_lladdr(a->e, l->ifindex, st, st == MLD_LL_NONE ? NULL : addr, agent_now_ms());
}

/* An address in this state receives packets, so a query sent to it must
 * be accepted (RFC 3810 §5.1.15): not one that failed DAD, nor one still
 * tentative (RFC 4862 §5.4: packets to it are discarded) unless it is
 * optimistic (RFC 4429: usable during DAD; Linux delivers to it). */
static int addr_usable(uint32_t flags)
{
	if (flags & IFA_F_DADFAILED)
		return 0;
	return !(flags & IFA_F_TENTATIVE) || (flags & IFA_F_OPTIMISTIC);
}

/* RTM_NEWADDR / RTM_DELADDR, from events and from dumps alike: every
 * unicast address of a managed link goes to the XDP program's
 * mld_local_addrs while usable, and its link-local one to the engine. */
static void on_addr(struct agent *a, struct nlmsghdr *nh)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)));
	struct rtattr *rta;
	const void *local = NULL, *address = NULL;
	struct in6_addr addr;
	uint32_t flags = ifa->ifa_flags;
	struct agent_link *l;

	if (ifa->ifa_family != AF_INET6)
		return;
	l = agent_link_by_index(a, ifa->ifa_index);
	if (!l || !l->in_engine)
		return;
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_LOCAL && RTA_PAYLOAD(rta) >= 16)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS && RTA_PAYLOAD(rta) >= 16)
			address = RTA_DATA(rta);
		else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) >= 4)
			memcpy(&flags, RTA_DATA(rta), 4);
	}
	/* IFA_LOCAL, when present, is ours: IFA_ADDRESS is then the peer of
	 * a point-to-point address. */
	if (!local && !address)
		return;
	memcpy(&addr, local ? local : address, 16);
	bpf_local_addr_set(a, l->ifindex, &addr,
	                   nh->nlmsg_type == RTM_NEWADDR && addr_usable(flags));
	if (addr.s6_addr[0] == 0xfe && (addr.s6_addr[1] & 0xc0) == 0x80)
		lladdr_changed(a, l, nh->nlmsg_type, flags, &addr);
}

int link_sync(struct agent *a, struct agent_link *l, char *err, size_t errlen)
{
	struct ifreq ifr = {0};
	uint32_t ifindex = if_nametoindex(l->name);
	int fd, rc, newly = 0;
	unsigned flags;
	uint32_t mtu;

	if (!ifindex) {
		snprintf(err, errlen, "no such interface");
		return -1;
	}
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "SIOCGIFFLAGS: %s", strerror(errno));
		close(fd);
		return -1;
	}
	flags = (unsigned)(uint16_t)ifr.ifr_flags;
	mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? (uint32_t)ifr.ifr_mtu : 1500;
	close(fd);
	if (mtu < 1280) {
		snprintf(err, errlen, "MTU %u is below the IPv6 minimum", mtu);
		return -1;
	}
	l->ifindex = ifindex;
	if (!l->in_engine) {
		const struct cfg_link *cl = a->have_cfg ? cfg_find_link(&a->cfg, l->name) : NULL;

		rc = mld_link_add(a->e, ifindex, mtu, 0, agent_now_ms());
		if (rc != MLD_OK) {
			snprintf(err, errlen, "engine: %s", mld_strerror(rc));
			return -1;
		}
		l->in_engine = 1;
		newly = 1;
		if (cl) {
			struct mld_tunables t = cl->tun;

			t.gsr_delay_ms = 0; /* XDP throttles */
			mld_link_set_tunables(a->e, ifindex, &t);
		}
	}
	set_link_state(a, l, flags, mtu);
	nl_dump(a, RTM_GETADDR);
	if (a->started && newly)
		cfg_replay_link(a, l);
	return 0;
}
