// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The TCP, UDP and AF_UNIX sockets of the dumped process, other than the
 * socket pairs internal to it (dump_channels.c): what the restore needs to
 * make each again with socket(2), setsockopt(2), bind(2) and listen(2).
 * The dumper takes a copy of the fd (pidfd_getfd(2)) and asks it with
 * getsockname(2) and getsockopt(2); the backlog of a listening socket comes
 * from NETLINK_SOCK_DIAG.  A valued option is recorded only where it
 * differs from a new socket of the same kind, so that a restore leaves the
 * others to the restoring system's defaults.
 *
 * Refused by name: other families (netlink, packet, ...) and protocols,
 * an AF_UNIX socket bound to a relative path, options Spice does not keep
 * set to anything but a new socket's value, open flags such as O_ASYNC,
 * and, unless SPICE_DUMP_RESET_CONNECTIONS records it as reset, a socket
 * connected (or connecting) to a peer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include "dump_internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd		438
#endif

/* What dump_sockets() holds while it reads the sockets. */
struct sock_dump {
	struct dump *d;
	int pidfd;
	int nl;			/* NETLINK_SOCK_DIAG, once needed */
};

/* A peer's or local address, for a message. */
static const char *addr_str(const struct sockaddr_storage *ss, socklen_t len,
			    char *buf, size_t size)
{
	const struct sockaddr_in6 *in6 = (const void *)ss;
	const struct sockaddr_in *in = (const void *)ss;
	const struct sockaddr_un *un = (const void *)ss;
	const size_t path = offsetof(struct sockaddr_un, sun_path);
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else if (len <= path) {
		snprintf(buf, size, "an unnamed socket");
	} else if (!un->sun_path[0]) {
		snprintf(buf, size, "@%.*s", (int)(len - path - 1), un->sun_path + 1);
	} else {
		snprintf(buf, size, "%.*s", (int)(len - path), un->sun_path);
	}
	return buf;
}

static const char *family_name(int family)
{
	switch (family) {
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	case AF_INET:
		return "IPv4";
	case AF_INET6:
		return "IPv6";
	case AF_VSOCK:
		return "vsock";
	case AF_BLUETOOTH:
		return "Bluetooth";
	case AF_ALG:
		return "AF_ALG";
	case AF_XDP:
		return "AF_XDP";
	}
	return "other-family";
}

static int get_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, level, name, val, &len) ? -errno : 0;
}

/* A family, type and protocol that the restore makes, or the dump fails. */
static int check_kind(struct dump *d, int fd, int family, int type, int protocol)
{
	int inet = family == AF_INET || family == AF_INET6;

	if (family == AF_UNIX &&
	    (type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET))
		return 0;
	if (inet && ((type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
		     (type == SOCK_DGRAM && protocol == IPPROTO_UDP)))
		return 0;
	if (!inet && family != AF_UNIX)
		return dump_fail(d, -EOPNOTSUPP, "fd %d: a %s socket (family %d) is not restored",
				 fd, family_name(family), family);
	return dump_fail(d, -EOPNOTSUPP,
			 "fd %d: a %s socket of type %d, protocol %d is not restored",
			 fd, family == AF_UNIX ? "AF_UNIX" : family_name(family), type,
			 protocol);
}

static int diag_socket(struct sock_dump *sd)
{
	if (sd->nl < 0)
		sd->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	return sd->nl < 0 ? dump_fail(sd->d, -errno, "cannot open NETLINK_SOCK_DIAG") : 0;
}

/*
 * Whether the socket is connected or connecting: a peer's address, or a
 * TCP state other than closed and listening.
 */
static int connected(int sfd, int protocol, struct sockaddr_storage *peer,
		     socklen_t *peer_len)
{
	int state;

	*peer_len = sizeof(*peer);
	memset(peer, 0, sizeof(*peer));
	if (!getpeername(sfd, (struct sockaddr *)peer, peer_len))
		return 1;
	*peer_len = 0;
	if (protocol != IPPROTO_TCP || dump_tcp_state(sfd, &state))
		return 0;
	return state != DUMP_TCP_CLOSE && state != DUMP_TCP_LISTEN;
}

/*
 * A closed TCP socket with a local port: bound, or left so by a connection
 * that ended (closed, reset, refused), which keeps the port getsockname()
 * shows but no longer holds it.  NETLINK_SOCK_DIAG lists the first kind
 * only.
 */
static int tcp_holds_port(struct sock_dump *sd, int family, uint64_t ino)
{
	uint32_t unused;
	int err = diag_socket(sd);

	if (!err)
		err = dump_tcp_diag(sd->nl, family, ino, 1U << DUMP_TCP_BOUND_INACTIVE,
				    &unused);
	return err == -ENOENT ? 0 : err ?: 1;
}

/* A connection: refused by name, or recorded as reset. */
static int refuse_or_reset(struct dump *d, int fd, const struct sockaddr_storage *peer,
			   socklen_t len, struct spice_image_socket *s)
{
	char name[160];

	if (!(d->opts->flags & SPICE_DUMP_RESET_CONNECTIONS))
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a socket connected to %s: a connection is not restored (it can be recorded as reset)",
				 fd, len ? addr_str(peer, len, name, sizeof(name)) :
				 "a peer it is connecting to");
	s->state = SPICE_SOCKET_RESET;
	return 0;
}

/* State and address of socket @sfd (fd @fd of the process) into @s. */
static int read_state(struct sock_dump *sd, int fd, int sfd, uint64_t ino,
		      struct spice_image_socket *s)
{
	struct dump *d = sd->d;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char name[160];
	int listening, err;

	err = get_int(sfd, SOL_SOCKET, SO_ACCEPTCONN, &listening);
	if (err)
		return dump_fail(d, err, "fd %d: SO_ACCEPTCONN", fd);
	if (!listening && connected(sfd, s->protocol, &ss, &len))
		return refuse_or_reset(d, fd, &ss, len, s);
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(sfd, (struct sockaddr *)&ss, &len))
		return dump_fail(d, -errno, "fd %d: getsockname", fd);
	if (s->family == AF_UNIX ? len <= offsetof(struct sockaddr_un, sun_path) :
	    !((struct sockaddr_in *)&ss)->sin_port)
		return listening ? dump_fail(d, -EIO, "fd %d: listening unbound", fd) : 0;
	if (s->protocol == IPPROTO_TCP && !listening) {
		err = tcp_holds_port(sd, s->family, ino);
		if (err < 0)
			return err;
		/* A connection already over: nothing of it is lost. */
		if (!err) {
			s->state = SPICE_SOCKET_RESET;
			return 0;
		}
	}
	if (s->family == AF_UNIX && ss.ss_family == AF_UNIX &&
	    ((struct sockaddr_un *)&ss)->sun_path[0] &&
	    ((struct sockaddr_un *)&ss)->sun_path[0] != '/')
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: an AF_UNIX socket bound to the relative path %s is not restored",
				 fd, addr_str(&ss, len, name, sizeof(name)));
	/* A 108-byte path: getsockname() adds a NUL past sockaddr_un. */
	if (len > sizeof(struct sockaddr_un))
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: an AF_UNIX socket on a %u-byte path is not restored",
				 fd, (unsigned int)(len - offsetof(struct sockaddr_un, sun_path)));
	/* Its interface index would mean another one elsewhere. */
	if (ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_scope_id)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a socket bound to the link-local %s is not restored",
				 fd, addr_str(&ss, len, name, sizeof(name)));
	memcpy(s->addr, &ss, len);
	s->addr_len = len;
	s->state = listening ? SPICE_SOCKET_LISTENING : SPICE_SOCKET_BOUND;
	return 0;
}

/* The backlog a listening socket keeps, from NETLINK_SOCK_DIAG. */
static int read_backlog(struct sock_dump *sd, int fd, uint64_t ino,
			struct spice_image_socket *s)
{
	struct dump_unix_info ui = { 0 };
	int err = diag_socket(sd);

	if (err)
		return err;
	if (s->family == AF_UNIX) {
		err = dump_unix_diag(sd->nl, ino, &ui);
		s->backlog = ui.backlog;
	} else {
		err = dump_tcp_diag(sd->nl, s->family, ino, 1U << DUMP_TCP_LISTEN,
				    &s->backlog);
	}
	if (err == -ENOENT)
		return dump_fail(sd->d, -EOPNOTSUPP,
				 "fd %d: NETLINK_SOCK_DIAG does not show this listening socket (another network namespace, or no inet_diag or unix_diag): its backlog cannot be read",
				 fd);
	return err ? dump_fail(sd->d, err, "fd %d: NETLINK_SOCK_DIAG", fd) : 0;
}

/* Which sockets an option applies to. */
enum { ANY, INET, TCP, UDP, UNIX };

static int applies(int kind, const struct spice_image_socket *s)
{
	switch (kind) {
	case INET:
		return s->family != AF_UNIX;
	case TCP:
		return s->protocol == IPPROTO_TCP;
	case UDP:
		return s->protocol == IPPROTO_UDP;
	case UNIX:
		return s->family == AF_UNIX;
	}
	return 1;
}

/* An int-valued option: the restore keeps it in @field, or refuses it. */
struct int_opt {
	int level, name;
	const char *label;
	size_t field;		/* offset in the entry; 0: refused if changed */
	int kind;
};

#define KEPT(level, name, f, kind) \
	{ level, name, #name, offsetof(struct spice_image_socket, f), kind }
#define UNKEPT(level, name, kind)	{ level, name, #name, 0, kind }

#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW	63
#define SO_TIMESTAMPNS_NEW	64
#endif

static const struct int_opt int_opts[] = {
	KEPT(SOL_SOCKET, SO_PRIORITY, priority, ANY),
	KEPT(SOL_SOCKET, SO_MARK, mark, ANY),
	UNKEPT(SOL_SOCKET, SO_DONTROUTE, ANY),
	UNKEPT(SOL_SOCKET, SO_RCVLOWAT, ANY),
	UNKEPT(SOL_SOCKET, SO_TIMESTAMP_OLD, ANY),
	UNKEPT(SOL_SOCKET, SO_TIMESTAMPNS_OLD, ANY),
	UNKEPT(SOL_SOCKET, SO_TIMESTAMP_NEW, ANY),
	UNKEPT(SOL_SOCKET, SO_TIMESTAMPNS_NEW, ANY),
	UNKEPT(SOL_SOCKET, SO_TIMESTAMPING_OLD, ANY),
	UNKEPT(SOL_SOCKET, SO_RXQ_OVFL, ANY),
	UNKEPT(SOL_SOCKET, SO_SELECT_ERR_QUEUE, ANY),
	UNKEPT(SOL_SOCKET, SO_PEEK_OFF, ANY),
	UNKEPT(SOL_SOCKET, SO_BUSY_POLL, ANY),
	UNKEPT(SOL_SOCKET, SO_ZEROCOPY, ANY),
	UNKEPT(SOL_SOCKET, SO_PASSSEC, ANY),
	KEPT(IPPROTO_TCP, TCP_DEFER_ACCEPT, tcp_defer_accept, TCP),
	KEPT(IPPROTO_TCP, TCP_FASTOPEN, tcp_fastopen, TCP),
	KEPT(IPPROTO_TCP, TCP_KEEPIDLE, tcp_keepidle, TCP),
	KEPT(IPPROTO_TCP, TCP_KEEPINTVL, tcp_keepintvl, TCP),
	KEPT(IPPROTO_TCP, TCP_KEEPCNT, tcp_keepcnt, TCP),
	KEPT(IPPROTO_TCP, TCP_USER_TIMEOUT, tcp_user_timeout, TCP),
	UNKEPT(IPPROTO_TCP, TCP_MAXSEG, TCP),
	UNKEPT(IPPROTO_TCP, TCP_WINDOW_CLAMP, TCP),
	UNKEPT(IPPROTO_TCP, TCP_NOTSENT_LOWAT, TCP),
	UNKEPT(IPPROTO_TCP, TCP_CORK, TCP),
	UNKEPT(IPPROTO_TCP, TCP_SYNCNT, TCP),
	UNKEPT(IPPROTO_TCP, TCP_LINGER2, TCP),
	UNKEPT(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, TCP),
	UNKEPT(IPPROTO_TCP, TCP_SAVE_SYN, TCP),
	UNKEPT(IPPROTO_UDP, UDP_CORK, UDP),
	UNKEPT(IPPROTO_UDP, UDP_ENCAP, UDP),
	UNKEPT(IPPROTO_UDP, UDP_SEGMENT, UDP),
	UNKEPT(IPPROTO_UDP, UDP_GRO, UDP),
};

/* IP-level int options refused where they differ from a new socket's. */
static const struct int_opt ip_opts[] = {
	UNKEPT(IPPROTO_IP, IP_TOS, INET),
	UNKEPT(IPPROTO_IP, IP_TTL, INET),
	UNKEPT(IPPROTO_IP, IP_MINTTL, INET),
	UNKEPT(IPPROTO_IP, IP_TRANSPARENT, INET),
	UNKEPT(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, INET),
	UNKEPT(IPPROTO_IP, IP_RECVERR, INET),
	UNKEPT(IPPROTO_IP, IP_RECVTOS, INET),
	UNKEPT(IPPROTO_IP, IP_RECVTTL, INET),
	UNKEPT(IPPROTO_IP, IP_PKTINFO, INET),
	UNKEPT(IPPROTO_IP, IP_MTU_DISCOVER, INET),
	UNKEPT(IPPROTO_IP, IP_MULTICAST_TTL, INET),
	UNKEPT(IPPROTO_IP, IP_MULTICAST_LOOP, INET),
	UNKEPT(IPPROTO_IP, IP_NODEFRAG, INET),
};

static const struct int_opt ip6_opts[] = {
	UNKEPT(IPPROTO_IPV6, IPV6_UNICAST_HOPS, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_MINHOPCOUNT, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_TCLASS, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_TRANSPARENT, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_RECVERR, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_RECVPKTINFO, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_RECVTCLASS, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_MTU_DISCOVER, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, INET),
	UNKEPT(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, INET),
};

/* The on/off options the restore keeps, IPV6_V6ONLY and SO_LINGER aside. */
static const struct {
	int level, name;
	uint32_t bit;
	int kind;
} flag_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, SPICE_SOCKOPT_REUSEADDR, ANY },
	{ SOL_SOCKET, SO_REUSEPORT, SPICE_SOCKOPT_REUSEPORT, INET },
	{ SOL_SOCKET, SO_KEEPALIVE, SPICE_SOCKOPT_KEEPALIVE, ANY },
	{ SOL_SOCKET, SO_BROADCAST, SPICE_SOCKOPT_BROADCAST, ANY },
	{ SOL_SOCKET, SO_OOBINLINE, SPICE_SOCKOPT_OOBINLINE, ANY },
	{ SOL_SOCKET, SO_PASSCRED, SPICE_SOCKOPT_PASSCRED, UNIX },
	{ IPPROTO_TCP, TCP_NODELAY, SPICE_SOCKOPT_TCP_NODELAY, TCP },
	{ IPPROTO_IP, IP_FREEBIND, SPICE_SOCKOPT_FREEBIND, INET },
};

/*
 * Compare the int options of @opts on @sfd with a new socket's (@fresh):
 * record a kept one that differs, refuse an unkept one.
 */
static int compare_opts(struct dump *d, int fd, int sfd, int fresh,
			const struct int_opt *opts, size_t n,
			struct spice_image_socket *s)
{
	int val, def, err_val, err_def;
	uint32_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!applies(opts[i].kind, s))
			continue;
		err_val = get_int(sfd, opts[i].level, opts[i].name, &val);
		err_def = get_int(fresh, opts[i].level, opts[i].name, &def);
		/* An option this kind of socket does not have, here. */
		if (err_val && err_val == err_def)
			continue;
		if (err_val || err_def)
			return dump_fail(d, err_val ?: err_def, "fd %d: getsockopt(%s)", fd,
					 opts[i].label);
		/* A reset connection's negotiated ones (TCP_MAXSEG) differ. */
		if (val == def || (!opts[i].field && s->state == SPICE_SOCKET_RESET))
			continue;
		if (!opts[i].field)
			return dump_fail(d, -EOPNOTSUPP,
					 "fd %d: socket option %s is set to %d, which is not restored",
					 fd, opts[i].label, val);
		v = val;
		memcpy((char *)s + opts[i].field, &v, sizeof(v));
	}
	return 0;
}

static uint64_t timeout_us(int sfd, int name)
{
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);

	if (getsockopt(sfd, SOL_SOCKET, name, &tv, &len))
		return 0;
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Read the sysctl at @path; ~0 if it cannot be. */
static uint64_t sysctl_value(const char *path)
{
	unsigned long long v;
	FILE *f = fopen(path, "re");
	int n = f ? fscanf(f, "%llu", &v) : 0;

	if (f)
		fclose(f);
	return n == 1 ? v : ~0ULL;
}

/*
 * A buffer size as set: SO_RCVBUF and SO_SNDBUF double what they are
 * given; a size above net.core.rmem_max or wmem_max needed the FORCE
 * variant, which the restore uses again.  Zero where a new socket has the
 * same.
 */
static int read_buf(struct dump *d, int fd, int sfd, int fresh, int name,
		    const char *max_path, uint32_t force, struct spice_image_socket *s,
		    uint32_t *size)
{
	int val, def;

	if (get_int(sfd, SOL_SOCKET, name, &val) || get_int(fresh, SOL_SOCKET, name, &def))
		return dump_fail(d, -errno, "fd %d: %s", fd,
				 name == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF");
	*size = val != def ? val / 2 : 0;
	if (*size > sysctl_value(max_path))
		s->options |= force;
	return 0;
}

/* Options that the restore keeps or refuses, against a new socket's. */
static int read_options(struct dump *d, int fd, int sfd, int fresh,
			struct spice_image_socket *s)
{
	socklen_t len = sizeof(s->bind_dev);
	struct linger lg = { 0 };
	int val, err = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flag_opts); i++) {
		if (!applies(flag_opts[i].kind, s))
			continue;
		if (get_int(sfd, flag_opts[i].level, flag_opts[i].name, &val))
			return dump_fail(d, -errno, "fd %d: getsockopt", fd);
		if (val)
			s->options |= flag_opts[i].bit;
	}
	if (s->family == AF_INET6) {
		if (get_int(sfd, IPPROTO_IPV6, IPV6_V6ONLY, &val))
			return dump_fail(d, -errno, "fd %d: IPV6_V6ONLY", fd);
		if (val)
			s->options |= SPICE_SOCKOPT_V6ONLY;
	}
	len = sizeof(lg);
	if (!getsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, &len) && lg.l_onoff) {
		s->options |= SPICE_SOCKOPT_LINGER;
		s->linger = lg.l_linger;
	}
	/* A connection's own sizes (TCP autotuning) do not carry over. */
	if (s->state != SPICE_SOCKET_RESET)
		err = read_buf(d, fd, sfd, fresh, SO_RCVBUF, "/proc/sys/net/core/rmem_max",
			       SPICE_SOCKOPT_RCVBUFFORCE, s, &s->rcvbuf);
	if (!err && s->state != SPICE_SOCKET_RESET)
		err = read_buf(d, fd, sfd, fresh, SO_SNDBUF, "/proc/sys/net/core/wmem_max",
			       SPICE_SOCKOPT_SNDBUFFORCE, s, &s->sndbuf);
	if (err)
		return err;
	s->rcvtimeo_us = timeout_us(sfd, SO_RCVTIMEO);
	s->sndtimeo_us = timeout_us(sfd, SO_SNDTIMEO);
	if (s->family != AF_UNIX) {
		/* The name comes NUL-terminated, within IFNAMSIZ (16) bytes. */
		len = sizeof(s->bind_dev);
		if (getsockopt(sfd, SOL_SOCKET, SO_BINDTODEVICE, s->bind_dev, &len))
			return dump_fail(d, -errno, "fd %d: SO_BINDTODEVICE", fd);
	}
	err = compare_opts(d, fd, sfd, fresh, int_opts, ARRAY_SIZE(int_opts), s);
	/* A reset socket's negotiated ones differ; it sends nothing more. */
	if (!err && s->state == SPICE_SOCKET_RESET)
		return 0;
	if (!err && s->family != AF_UNIX)
		err = compare_opts(d, fd, sfd, fresh, ip_opts, ARRAY_SIZE(ip_opts), s);
	if (!err && s->family == AF_INET6)
		err = compare_opts(d, fd, sfd, fresh, ip6_opts, ARRAY_SIZE(ip6_opts), s);
	if (err)
		return err;
	/*
	 * A filter program: SO_GET_FILTER gives a classic one's length, and
	 * EACCES for an eBPF one.
	 */
	len = 0;
	if (getsockopt(sfd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) ? errno == EACCES : len > 0)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a socket filter program is not restored", fd);
	return 0;
}

/* The socket of fd @e (the first of its file) into a new entry. */
static int dump_socket(struct sock_dump *sd, struct dump_fd *e)
{
	struct dump *d = sd->d;
	struct spice_image_socket *s;
	int fd = e->f.fd, sfd, fresh = -1, family, type, protocol, err;

	sfd = syscall(SYS_pidfd_getfd, sd->pidfd, fd, 0);
	if (sfd < 0)
		return dump_fail(d, -errno, "fd %d: pidfd_getfd", fd);
	err = get_int(sfd, SOL_SOCKET, SO_DOMAIN, &family);
	if (!err)
		err = get_int(sfd, SOL_SOCKET, SO_TYPE, &type);
	if (!err)
		err = get_int(sfd, SOL_SOCKET, SO_PROTOCOL, &protocol);
	if (err)
		err = dump_fail(d, err, "fd %d: getsockopt", fd);
	if (!err)
		err = check_kind(d, fd, family, type, protocol);
	if (!err && (e->f.open_flags & ~(uint32_t)(O_ACCMODE | O_NONBLOCK | O_LARGEFILE)))
		err = dump_fail(d, -EOPNOTSUPP, "fd %d: a socket with open flags %#o",
				fd, e->f.open_flags);
	s = err ? NULL : calloc(1, sizeof(*s));
	if (!err && !s)
		err = -ENOMEM;
	if (!err) {
		*s = (struct spice_image_socket){
			.fd = fd, .family = family, .type = type,
			.protocol = family == AF_UNIX ? 0 : protocol,
		};
		err = read_state(sd, fd, sfd, e->ino, s);
	}
	if (!err && s->state == SPICE_SOCKET_LISTENING)
		err = read_backlog(sd, fd, e->ino, s);
	if (!err) {
		fresh = socket(family, type | SOCK_CLOEXEC, protocol);
		if (fresh < 0)
			err = dump_fail(d, -errno, "fd %d: a socket to compare with", fd);
	}
	if (!err)
		err = read_options(d, fd, sfd, fresh, s);
	if (fresh >= 0)
		close(fresh);
	close(sfd);
	if (err) {
		free(s);
		return err;
	}
	e->sock = s;
	return 0;
}

/**
 * dump_sockets - Record the sockets that the restore makes again.
 * @d: The dump.
 * @fds: The process's fds, in fd order, past dump_channels().
 * @n: Entries in @fds.
 *
 * Every socket still "supplied" becomes a %SPICE_FD_SOCKET, its first fd
 * holding its entry; the others of the same socket share it.
 *
 * Return: 0, or the dump's error (-EOPNOTSUPP for a socket it refuses).
 */
int dump_sockets(struct dump *d, struct dump_fd *fds, int n)
{
	struct sock_dump sd = { .d = d, .pidfd = -1, .nl = -1 };
	int i, j, err = 0;

	for (i = 0; i < n && !err; i++) {
		if (!fds[i].is_socket || !fds[i].ino || fds[i].f.type != SPICE_FD_SUPPLIED ||
		    dump_ino_supplied(fds, n, fds[i].ino))
			continue;
		/* Another fd of a socket made once, on its first fd. */
		for (j = 0; j < i && fds[j].ino != fds[i].ino; j++)
			;
		if (j < i) {
			fds[i].f.type = fds[j].f.type;
			fds[i].f.open_flags = fds[j].f.open_flags;
			continue;
		}
		if (sd.pidfd < 0)
			sd.pidfd = syscall(SYS_pidfd_open, d->pid, 0);
		if (sd.pidfd < 0)
			return dump_fail(d, -errno, "pidfd_open");
		err = dump_socket(&sd, &fds[i]);
		fds[i].f.type = SPICE_FD_SOCKET;
		fds[i].f.open_flags &= O_ACCMODE | O_NONBLOCK;
	}
	if (sd.nl >= 0)
		close(sd.nl);
	if (sd.pidfd >= 0)
		close(sd.pidfd);
	return err;
}

/* The entries of the sockets, in fd order, once their fds are written. */
int dump_write_sockets(struct dump *d, const struct dump_fd *fds, int n)
{
	int i, err;

	for (i = 0; i < n; i++) {
		if (fds[i].f.type != SPICE_FD_SOCKET || fds[i].f.shares)
			continue;
		err = spice_writer_add_socket(d->w, fds[i].sock);
		if (err)
			return dump_fail(d, err, "fd %d: socket", fds[i].f.fd);
	}
	return 0;
}
