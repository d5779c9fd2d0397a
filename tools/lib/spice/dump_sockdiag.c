// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What NETLINK_SOCK_DIAG says of a socket that getsockopt(2) does not:
 * the peer of an AF_UNIX socket, what it has queued, and the backlog a
 * listening socket keeps.  The netlink socket answers for the dumper's
 * network namespace: a socket of another one is not found (-ENOENT).
 * And TCP_INFO's state, whose numbers are the kernel's too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <netinet/tcp.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include "dump_internal.h"

/* One reply message to a request sent on @nl: its length, or an error. */
static int diag_recv(int nl, void *buf, size_t len)
{
	struct nlmsghdr *h = buf;
	ssize_t n = recv(nl, buf, len, 0);

	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, n))
		return -EPROTO;
	if (h->nlmsg_type == NLMSG_ERROR)
		return h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) ?
		       ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EPROTO : -EPROTO;
	return n;
}

/**
 * dump_unix_diag - Ask unix_diag about one AF_UNIX socket.
 * @nl: A NETLINK_SOCK_DIAG socket.
 * @ino: The socket's inode.
 * @out: What it says.
 *
 * Return: 0, -ENOENT if it knows no such socket, or another error.
 */
int dump_unix_diag(int nl, uint32_t ino, struct dump_unix_info *out)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0U, .udiag_ino = ino,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
				     UDIAG_SHOW_RQLEN,
		       .udiag_cookie = { ~0U, ~0U } },
	};
	union {
		struct nlmsghdr h;	/* aligns the buffer for it */
		char buf[1024];
	} u;
	struct nlmsghdr *h = &u.h;
	struct unix_diag_rqlen *rq = NULL;
	struct unix_diag_msg *m;
	struct nlattr *a;
	int left, len;

	if (send(nl, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	len = diag_recv(nl, u.buf, sizeof(u.buf));
	if (len < 0)
		return len;
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	m = NLMSG_DATA(h);
	memset(out, 0, sizeof(*out));
	out->type = m->udiag_type;
	left = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	a = (struct nlattr *)(m + 1);
	while (left >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= left) {
		void *v = (char *)a + NLA_HDRLEN;

		if (a->nla_type == UNIX_DIAG_NAME)
			out->named = 1;
		else if (a->nla_type == UNIX_DIAG_PEER && a->nla_len >= NLA_HDRLEN + 4)
			memcpy(&out->peer, v, 4);
		else if (a->nla_type == UNIX_DIAG_SHUTDOWN && a->nla_len >= NLA_HDRLEN + 1)
			out->shutdown = *(uint8_t *)v;
		else if (a->nla_type == UNIX_DIAG_RQLEN &&
			 a->nla_len >= NLA_HDRLEN + sizeof(*rq))
			rq = v;
		left -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	/*
	 * rqueue is only the first datagram's length (0 for an empty one);
	 * wqueue counts all the sender's bytes not yet read, so the two tell
	 * an empty pair.  A listening socket gives its backlog as wqueue.
	 */
	if (rq) {
		out->queued = rq->udiag_rqueue | rq->udiag_wqueue;
		out->backlog = rq->udiag_wqueue;
	}
	return 0;
}

/*
 * Look for @ino among the sockets of one part of a dump's reply: 1 once
 * the dump is done, 0 if more follows, or an error.
 */
static int scan_reply(const void *buf, int len, uint64_t ino, uint32_t *backlog,
		      int *found)
{
	const struct nlmsghdr *h;
	const struct inet_diag_msg *m;

	for (h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EPROTO;
		m = NLMSG_DATA(h);
		if (m->idiag_inode == ino) {
			/* For a listener, wqueue is the backlog it keeps. */
			*backlog = m->idiag_wqueue;
			*found = 1;
		}
	}
	return 0;
}

/**
 * dump_tcp_diag - Find a TCP socket among those in some states.
 * @nl: A NETLINK_SOCK_DIAG socket.
 * @family: AF_INET or AF_INET6.
 * @ino: The socket's inode.
 * @states: Bitmask of TCP states: 1 << DUMP_TCP_LISTEN for listeners,
 *	    1 << DUMP_TCP_BOUND_INACTIVE for sockets that hold a port but
 *	    neither listen nor connect.
 * @backlog: For a listener, the backlog it keeps (listen(2)'s, clamped to
 *	     somaxconn then).
 *
 * Return: 0 if found, -ENOENT if no such socket of @family is in those
 * states, or another error.
 */
int dump_tcp_diag(int nl, int family, uint64_t ino, uint32_t states,
		  uint32_t *backlog)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = states },
	};
	union {
		struct nlmsghdr h;
		char buf[16384];
	} u;
	int len, done, found = 0;

	if (send(nl, &req, sizeof(req), 0) != sizeof(req))
		return -errno;
	/* The whole reply, so that nothing is left queued on @nl. */
	do {
		len = diag_recv(nl, u.buf, sizeof(u.buf));
		if (len < 0)
			return len;
		done = scan_reply(u.buf, len, ino, backlog, &found);
		if (done < 0)
			return done;
	} while (!done);
	return found ? 0 : -ENOENT;
}

/**
 * dump_tcp_state - The state of a TCP socket, from TCP_INFO.
 * @sfd: The socket.
 * @state: Its TCP state (DUMP_TCP_CLOSE, ...).
 *
 * Return: 0, or -errno.
 */
int dump_tcp_state(int sfd, int *state)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);

	if (getsockopt(sfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -errno;
	*state = ti.tcpi_state;
	return 0;
}
