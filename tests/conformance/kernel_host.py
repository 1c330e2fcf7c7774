#!/usr/bin/python3
"""The kernel side of peer_kernel: RFC 3678 socket operations on the Linux
kernel's own MLD host, one socket per listener.

usage: kernel_host.py IFACE    (run inside the host namespace)

Reads one operation a line on stdin, answers one line on stdout:
`ok` or `err ERRNO STRERROR`.

  join L G            MCAST_JOIN_GROUP           (ASM: EXCLUDE {})
  leave L G           MCAST_LEAVE_GROUP
  v6join L G          IPV6_JOIN_GROUP  (struct ipv6_mreq)
  v6leave L G         IPV6_LEAVE_GROUP
  jsrc L G S          MCAST_JOIN_SOURCE_GROUP    (INCLUDE, add S)
  lsrc L G S          MCAST_LEAVE_SOURCE_GROUP   (INCLUDE, remove S)
  block L G S         MCAST_BLOCK_SOURCE         (EXCLUDE, add S)
  unblock L G S       MCAST_UNBLOCK_SOURCE       (EXCLUDE, remove S)
  filter L G MODE S.. MCAST_MSFILTER             (whole filter, MODE include|exclude)
  close L             close the listener's socket (every membership dropped at once)
  quit

L is any word naming a listener: its socket is opened on first use.
"""
import errno
import os
import socket
import struct
import sys

# <linux/in.h> (also <bits/in.h>); Python's socket module lacks them.
IPPROTO_IPV6 = 41
IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP = 20, 21
MCAST_JOIN_GROUP, MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE, MCAST_LEAVE_GROUP = 42, 43, 44, 45
MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP, MCAST_MSFILTER = 46, 47, 48
MCAST_EXCLUDE, MCAST_INCLUDE = 0, 1
SS_SIZE = 128  # sizeof(struct sockaddr_storage)


def sockaddr(addr):
    """struct sockaddr_in6 in a struct sockaddr_storage."""
    sin6 = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, addr), 0)
    return sin6 + b"\0" * (SS_SIZE - len(sin6))


def group_req(ifindex, group):
    # uint32 gr_interface; (4 bytes padding: sockaddr_storage is 8-aligned)
    return struct.pack("=I4x", ifindex) + sockaddr(group)


def group_source_req(ifindex, group, source):
    return group_req(ifindex, group) + sockaddr(source)


def group_filter(ifindex, group, mode, sources):
    # gf_interface, pad, gf_group, gf_fmode, gf_numsrc, gf_slist[] (at offset 144)
    return (group_req(ifindex, group) + struct.pack("=II", mode, len(sources))
            + b"".join(sockaddr(s) for s in sources))


def main(argv):
    ifname = argv[1]
    ifindex = socket.if_nametoindex(ifname)
    socks = {}

    def sock(name):
        if name not in socks:
            socks[name] = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        return socks[name]

    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        op = w[0]
        try:
            if op == "quit":
                break
            if op == "close":
                s = socks.pop(w[1], None)
                if s is None:
                    raise OSError(errno.ENOENT, "no such listener")
                s.close()
            elif op in ("join", "leave"):
                sock(w[1]).setsockopt(IPPROTO_IPV6, MCAST_JOIN_GROUP if op == "join" else MCAST_LEAVE_GROUP,
                                      group_req(ifindex, w[2]))
            elif op in ("v6join", "v6leave"):
                mreq = socket.inet_pton(socket.AF_INET6, w[2]) + struct.pack("=i", ifindex)
                sock(w[1]).setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP if op == "v6join" else IPV6_LEAVE_GROUP,
                                      mreq)
            elif op in ("jsrc", "lsrc", "block", "unblock"):
                opt = {"jsrc": MCAST_JOIN_SOURCE_GROUP, "lsrc": MCAST_LEAVE_SOURCE_GROUP,
                       "block": MCAST_BLOCK_SOURCE, "unblock": MCAST_UNBLOCK_SOURCE}[op]
                sock(w[1]).setsockopt(IPPROTO_IPV6, opt, group_source_req(ifindex, w[2], w[3]))
            elif op == "filter":
                mode = {"include": MCAST_INCLUDE, "exclude": MCAST_EXCLUDE}[w[3]]
                sock(w[1]).setsockopt(IPPROTO_IPV6, MCAST_MSFILTER, group_filter(ifindex, w[2], mode, w[4:]))
            else:
                raise OSError(errno.EINVAL, "unknown operation %r" % op)
            out = "ok"
        except OSError as e:
            out = "err %s %s" % (e.errno, e.strerror)
        except (IndexError, KeyError, ValueError) as e:
            out = "err %d bad line %r: %s" % (errno.EINVAL, line.strip(), e)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv))
