// SPDX-License-Identifier: GPL-2.0
/*
 * The sockets of an image: a description for spice inspect, and a trial
 * that makes each as restore_process() would, with the same calls in the
 * same order but listen(), so that spice verify and spice restore can say
 * which socket a restore fails on and why (a port in use, a privileged
 * port, an option that needs a capability).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "commands.h"
#include "sockets.h"

const char *socket_describe(const struct spice_image_socket *s, char *buf,
			    size_t len)
{
	const struct sockaddr_in6 *in6 = (const void *)s->addr;
	const struct sockaddr_in *in = (const void *)s->addr;
	const size_t path = offsetof(struct sockaddr_un, sun_path);
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (s->family == AF_UNIX) {
		n = snprintf(buf, len, "unix %s", s->type == SOCK_STREAM ? "stream" :
			     s->type == SOCK_DGRAM ? "dgram" : "seqpacket");
		if (s->addr_len > path && s->addr[path])
			snprintf(buf + n, len - n, " %.*s", (int)(s->addr_len - path - 1),
				 s->addr + path);
		else if (s->addr_len > path)
			snprintf(buf + n, len - n, " @%.*s", (int)(s->addr_len - path - 1),
				 s->addr + path + 1);
		return buf;
	}
	n = snprintf(buf, len, "%s%s", s->protocol == IPPROTO_TCP ? "TCP" : "UDP",
		     s->family == AF_INET6 ? "v6" : "v4");
	if (s->family == AF_INET && s->addr_len) {
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf + n, len - n, " %s:%u", ip, ntohs(in->sin_port));
	} else if (s->addr_len) {
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf + n, len - n, " [%s]:%u", ip, ntohs(in6->sin6_port));
	}
	return buf;
}

static int fail(char *why, size_t len, const char *what, const char *hint)
{
	int err = errno;

	snprintf(why, len, "%s: %s%s%s", what, strerror(err), hint ? " " : "",
		 hint ? hint : "");
	return -err;
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* The options restore_process() sets, in its order; what failed, or NULL. */
static const char *set_options(int fd, const struct spice_image_socket *s)
{
	static const struct { uint32_t bit; int level, name; const char *label; } flags[] = {
		{ SPICE_SOCKOPT_REUSEADDR, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR" },
		{ SPICE_SOCKOPT_REUSEPORT, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT" },
		{ SPICE_SOCKOPT_KEEPALIVE, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE" },
		{ SPICE_SOCKOPT_BROADCAST, SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST" },
		{ SPICE_SOCKOPT_OOBINLINE, SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE" },
		{ SPICE_SOCKOPT_PASSCRED, SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED" },
		{ SPICE_SOCKOPT_TCP_NODELAY, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY" },
		{ SPICE_SOCKOPT_FREEBIND, IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND" },
	};
	const struct { uint32_t val; int level, name; const char *label; } values[] = {
		{ s->priority, SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY" },
		{ s->mark, SOL_SOCKET, SO_MARK, "SO_MARK" },
		{ s->tcp_defer_accept, IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT" },
		{ s->tcp_fastopen, IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN" },
		{ s->tcp_keepidle, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE" },
		{ s->tcp_keepintvl, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL" },
		{ s->tcp_keepcnt, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT" },
		{ s->tcp_user_timeout, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT" },
	};
	struct linger lg = { 1, (int)s->linger };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++)
		if ((s->options & flags[i].bit) &&
		    set_int(fd, flags[i].level, flags[i].name, 1))
			return flags[i].label;
	if (s->family == AF_INET6 &&
	    set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, !!(s->options & SPICE_SOCKOPT_V6ONLY)))
		return "IPV6_V6ONLY";
	if ((s->options & SPICE_SOCKOPT_LINGER) &&
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return "SO_LINGER";
	for (i = 0; i < ARRAY_SIZE(values); i++)
		if (values[i].val && set_int(fd, values[i].level, values[i].name, values[i].val))
			return values[i].label;
	if (s->rcvbuf && set_int(fd, SOL_SOCKET, s->options & SPICE_SOCKOPT_RCVBUFFORCE ?
				 SO_RCVBUFFORCE : SO_RCVBUF, s->rcvbuf))
		return "SO_RCVBUF";
	if (s->sndbuf && set_int(fd, SOL_SOCKET, s->options & SPICE_SOCKOPT_SNDBUFFORCE ?
				 SO_SNDBUFFORCE : SO_SNDBUF, s->sndbuf))
		return "SO_SNDBUF";
	if (s->bind_dev[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->bind_dev,
		       strnlen(s->bind_dev, sizeof(s->bind_dev))))
		return "SO_BINDTODEVICE";
	return NULL;
}

/* Why a bind() or an option failed, where the reason is a rule. */
static const char *hint(int err, const char *what)
{
	if (err == EADDRINUSE)
		return "(another socket holds it: another instance, unless both set SO_REUSEPORT)";
	if (err == EACCES && !strcmp(what, "bind"))
		return "(a port below ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE)";
	if (err == EPERM && (!strcmp(what, "SO_MARK") || !strcmp(what, "SO_PRIORITY")))
		return "(needs CAP_NET_ADMIN or CAP_NET_RAW)";
	if (err == EPERM && (!strcmp(what, "SO_RCVBUF") || !strcmp(what, "SO_SNDBUF")))
		return "(set with the FORCE variant: needs CAP_NET_ADMIN)";
	if (err == EADDRNOTAVAIL)
		return "(no such local address in this network namespace)";
	if (err == ENODEV)
		return "(no such interface in this network namespace)";
	return NULL;
}

int socket_try(const struct spice_image_socket *s, char *why, size_t len)
{
	const size_t path = offsetof(struct sockaddr_un, sun_path);
	struct sockaddr_storage addr = { 0 };
	const char *what = NULL;
	struct stat st;
	int fd, err = 0;

	/* Binding would leave the file: the bind fails while one exists. */
	if (s->family == AF_UNIX && s->addr_len > path && s->addr[path]) {
		if (!stat((const char *)s->addr + path, &st)) {
			errno = EADDRINUSE;
			return fail(why, len, "bind", "(its socket file exists: remove it first)");
		}
		return 0;
	}
	fd = socket(s->family, s->type | SOCK_CLOEXEC, s->protocol);
	if (fd < 0)
		return fail(why, len, "socket", NULL);
	what = set_options(fd, s);
	/*
	 * Bound, never listening: a running instance's SO_REUSEPORT group
	 * would hand it connections, reset when it closes.  Nor a UDP one in
	 * such a group, which would take its datagrams.
	 */
	if (!what && s->addr_len &&
	    !(s->type == SOCK_DGRAM && (s->options & SPICE_SOCKOPT_REUSEPORT))) {
		memcpy(&addr, s->addr, s->addr_len);
		if (bind(fd, (struct sockaddr *)&addr, s->addr_len))
			what = "bind";
	}
	if (what)
		err = fail(why, len, what, hint(errno, what));
	close(fd);
	return err;
}
