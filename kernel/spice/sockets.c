// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): the TCP, UDP and AF_UNIX sockets of the process.
 *
 * Each is made anew before the point of no return, as the caller would
 * make it with socket(2), setsockopt(2), bind(2) and listen(2): in the
 * caller's network namespace, with its credentials, its LSM and cgroup
 * BPF checks, so that a restore takes no address or option its launcher
 * could not take itself.  Nothing queued on a socket comes back, and no
 * connection: a socket that was connected is restored as one whose peer
 * reset it, so that its user connects again.
 */

#include <linux/file.h>
#include <linux/net.h>
#include <linux/security.h>
#include <linux/socket.h>
#include <linux/spice.h>
#include <linux/tcp.h>
#include <linux/un.h>
#include <linux/time64.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/sock.h>

#include "rebuild.h"

/**
 * spice_unix_socketpair - Make a connected AF_UNIX pair for the caller.
 * @type: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
 * @sock: The two sockets, on success.
 *
 * As socketpair(AF_UNIX, @type, 0): the caller's network namespace, LSM
 * checks and limits.
 *
 * Return: 0, or socketpair(2)'s errors (-EAFNOSUPPORT without AF_UNIX,
 * -ENFILE, -ENOMEM, -EACCES from an LSM, ...).
 */
int spice_unix_socketpair(int type, struct socket **sock)
{
	int err;

	err = sock_create(AF_UNIX, type, 0, &sock[0]);
	if (err)
		return err;
	err = sock_create(AF_UNIX, type, 0, &sock[1]);
	if (err) {
		sock_release(sock[0]);
		return err;
	}
	err = security_socket_socketpair(sock[0], sock[1]);
	if (!err)
		err = READ_ONCE(sock[0]->ops)->socketpair(sock[0], sock[1]);
	if (err) {
		sock_release(sock[1]);
		sock_release(sock[0]);
	}
	return err;
}

static int spice_setsockopt_int(struct socket *sock, int level, int name,
				int val)
{
	return do_sock_setsockopt(sock, false, level, name,
				  KERNEL_SOCKPTR(&val), sizeof(val));
}

/* The on/off options of SPICE_SOCKOPT_*, but SO_LINGER and IPV6_V6ONLY. */
static const struct {
	u32 bit;
	int level, name;
} spice_flag_opts[] = {
	{ SPICE_SOCKOPT_REUSEADDR, SOL_SOCKET, SO_REUSEADDR },
	{ SPICE_SOCKOPT_REUSEPORT, SOL_SOCKET, SO_REUSEPORT },
	{ SPICE_SOCKOPT_KEEPALIVE, SOL_SOCKET, SO_KEEPALIVE },
	{ SPICE_SOCKOPT_BROADCAST, SOL_SOCKET, SO_BROADCAST },
	{ SPICE_SOCKOPT_OOBINLINE, SOL_SOCKET, SO_OOBINLINE },
	{ SPICE_SOCKOPT_PASSCRED, SOL_SOCKET, SO_PASSCRED },
	{ SPICE_SOCKOPT_TCP_NODELAY, SOL_TCP, TCP_NODELAY },
	{ SPICE_SOCKOPT_FREEBIND, SOL_IP, IP_FREEBIND },
};

/* The valued options; zero in the image leaves one as a new socket has it. */
#define SPICE_SOCK_FIELD(f)	offsetof(struct spice_image_socket, f)
static const struct {
	size_t field;
	int level, name;
} spice_value_opts[] = {
	{ SPICE_SOCK_FIELD(priority), SOL_SOCKET, SO_PRIORITY },
	{ SPICE_SOCK_FIELD(mark), SOL_SOCKET, SO_MARK },
	{ SPICE_SOCK_FIELD(tcp_defer_accept), SOL_TCP, TCP_DEFER_ACCEPT },
	{ SPICE_SOCK_FIELD(tcp_fastopen), SOL_TCP, TCP_FASTOPEN },
	{ SPICE_SOCK_FIELD(tcp_keepidle), SOL_TCP, TCP_KEEPIDLE },
	{ SPICE_SOCK_FIELD(tcp_keepintvl), SOL_TCP, TCP_KEEPINTVL },
	{ SPICE_SOCK_FIELD(tcp_keepcnt), SOL_TCP, TCP_KEEPCNT },
	{ SPICE_SOCK_FIELD(tcp_user_timeout), SOL_TCP, TCP_USER_TIMEOUT },
};

/*
 * A buffer size as SO_RCVBUF or SO_SNDBUF sets it (clamped to
 * net.core.rmem_max, wmem_max), or as SO_RCVBUFFORCE and SO_SNDBUFFORCE
 * set one that was above them when dumped, for a caller with
 * CAP_NET_ADMIN.
 */
static int spice_set_buf(struct socket *sock, int name, u32 size)
{
	if (!size)
		return 0;
	return spice_setsockopt_int(sock, SOL_SOCKET, name, size);
}

static int spice_set_timeout(struct socket *sock, int name, u64 us)
{
	struct __kernel_sock_timeval tv;
	u32 rem;

	if (!us)
		return 0;
	tv.tv_sec = div_u64_rem(us, USEC_PER_SEC, &rem);
	tv.tv_usec = rem;
	return do_sock_setsockopt(sock, false, SOL_SOCKET, name,
				  KERNEL_SOCKPTR(&tv), sizeof(tv));
}

/* Every option of @s, as setsockopt(2) would set it for the caller. */
static int spice_set_options(struct socket *sock,
			     const struct spice_image_socket *s)
{
	struct linger linger = { .l_onoff = 1, .l_linger = s->linger };
	unsigned int i;
	u32 val;
	int err;

	for (i = 0; i < ARRAY_SIZE(spice_flag_opts); i++) {
		if (!(s->options & spice_flag_opts[i].bit))
			continue;
		err = spice_setsockopt_int(sock, spice_flag_opts[i].level,
					   spice_flag_opts[i].name, 1);
		if (err)
			return err;
	}
	/* Either way: a new socket's default is net.ipv6.bindv6only's. */
	if (s->family == AF_INET6) {
		err = spice_setsockopt_int(sock, SOL_IPV6, IPV6_V6ONLY,
					   !!(s->options & SPICE_SOCKOPT_V6ONLY));
		if (err)
			return err;
	}
	if (s->options & SPICE_SOCKOPT_LINGER) {
		err = do_sock_setsockopt(sock, false, SOL_SOCKET, SO_LINGER,
					 KERNEL_SOCKPTR(&linger), sizeof(linger));
		if (err)
			return err;
	}
	for (i = 0; i < ARRAY_SIZE(spice_value_opts); i++) {
		memcpy(&val, (const u8 *)s + spice_value_opts[i].field, sizeof(val));
		if (!val)
			continue;
		err = spice_setsockopt_int(sock, spice_value_opts[i].level,
					   spice_value_opts[i].name, val);
		if (err)
			return err;
	}
	err = spice_set_buf(sock, s->options & SPICE_SOCKOPT_RCVBUFFORCE ?
			    SO_RCVBUFFORCE : SO_RCVBUF, s->rcvbuf);
	if (!err)
		err = spice_set_buf(sock, s->options & SPICE_SOCKOPT_SNDBUFFORCE ?
				    SO_SNDBUFFORCE : SO_SNDBUF, s->sndbuf);
	if (!err)
		err = spice_set_timeout(sock, SO_RCVTIMEO_NEW, s->rcvtimeo_us);
	if (!err)
		err = spice_set_timeout(sock, SO_SNDTIMEO_NEW, s->sndtimeo_us);
	if (!err && s->bind_dev[0]) {
		char dev[sizeof(s->bind_dev)];

		memcpy(dev, s->bind_dev, sizeof(dev));
		err = do_sock_setsockopt(sock, false, SOL_SOCKET, SO_BINDTODEVICE,
					 KERNEL_SOCKPTR(dev), strnlen(dev, sizeof(dev)));
	}
	return err;
}

/*
 * A socket whose connection its peer reset: ECONNRESET pending, and for a
 * stream AF_UNIX socket a peer that closed, since such a socket reads
 * nothing unconnected.  Nothing else sees the socket yet: no lock needed
 * to set its error.
 */
static int spice_reset_socket(const struct spice_image_socket *s,
			      struct socket **out)
{
	struct socket *pair[2];
	int err;

	if (s->family == AF_UNIX && s->type != SOCK_DGRAM) {
		err = spice_unix_socketpair(s->type, pair);
		if (err)
			return err;
		sock_release(pair[1]);
		*out = pair[0];
	} else {
		err = sock_create(s->family, s->type, s->protocol, out);
		if (err)
			return err;
	}
	WRITE_ONCE((*out)->sk->sk_err, ECONNRESET);
	return 0;
}

/**
 * spice_socket_file - Make the socket of an fd, not bound yet.
 * @img: The image.
 * @d: An fd of type %SPICE_FD_SOCKET of @img, the first of its open file.
 * @out: The socket's file, with @d's O_NONBLOCK, on success.
 *
 * Return: 0, or what socket(2) or setsockopt(2) would return to the
 * caller: -ENODEV for a missing SO_BINDTODEVICE interface, -EPERM for an
 * option the caller may not set (SO_MARK, or SO_PRIORITY above 6, without
 * CAP_NET_RAW or CAP_NET_ADMIN; SO_RCVBUFFORCE or SO_SNDBUFFORCE without
 * CAP_NET_ADMIN), -EAFNOSUPPORT for a family the kernel lacks, -ENFILE,
 * -ENOMEM.
 */
int spice_socket_file(const struct spice_image *img,
		      const struct spice_image_fd *d, struct file **out)
{
	const struct spice_image_socket *s = spice_image_find_socket(img, d->fd);
	struct socket *sock;
	struct file *file;
	int err;

	if (s->state == SPICE_SOCKET_RESET)
		err = spice_reset_socket(s, &sock);
	else
		err = sock_create(s->family, s->type, s->protocol, &sock);
	if (err)
		return err;
	err = spice_set_options(sock, s);
	if (err) {
		sock_release(sock);
		return err;
	}
	/* sock_alloc_file() releases the socket if it fails. */
	file = sock_alloc_file(sock, d->open_flags & O_NONBLOCK, NULL);
	if (IS_ERR(file))
		return PTR_ERR(file);
	*out = file;
	return 0;
}

/* Whether @s is bound to an AF_UNIX path: its bind creates a file. */
static bool spice_socket_on_path(const struct spice_image_socket *s)
{
	return s->family == AF_UNIX &&
	       s->addr_len > offsetof(struct sockaddr_un, sun_path) &&
	       s->addr[offsetof(struct sockaddr_un, sun_path)];
}

/**
 * spice_bind_sockets - Bind the image's sockets, and make listeners listen.
 * @rb: A rebuild whose fds are prepared, the last step before the point
 *	of no return.
 *
 * Last, so that no socket takes a connection or a datagram (from a
 * running instance's SO_REUSEPORT group, say) for a restore that something
 * else then fails; and the AF_UNIX paths, whose binds create files, after
 * every other address.  A socket the launcher's fd map replaced is not
 * touched.
 *
 * Return: 0, or what bind(2) or listen(2) would return to the caller:
 * -EADDRINUSE for an address another socket holds (or an AF_UNIX path that
 * exists), -EADDRNOTAVAIL for an address the caller's network namespace
 * does not have, -EACCES for a port below
 * net.ipv4.ip_unprivileged_port_start without CAP_NET_BIND_SERVICE or a
 * path the caller may not create, an LSM's refusal.
 */
int spice_bind_sockets(struct spice_rebuild *rb)
{
	const struct spice_image_socket *s;
	struct sockaddr_storage addr;
	const struct spice_new_fd *n;
	struct socket *sock;
	int pass, err;
	u64 i;

	BUILD_BUG_ON(sizeof(s->addr) > sizeof(addr));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0, s = rb->img.sockets; i < rb->img.nr[SPICE_SECT_SOCKETS]; i++, s++) {
			n = spice_find_new_fd(rb, s->fd);
			if (WARN_ON_ONCE(!n))
				return -EINVAL;
			if (n->supplied || !s->addr_len || spice_socket_on_path(s) != pass)
				continue;
			sock = sock_from_file(n->file);
			if (WARN_ON_ONCE(!sock))
				return -EINVAL;
			memset(&addr, 0, sizeof(addr));
			memcpy(&addr, s->addr, s->addr_len);
			err = __sys_bind_socket(sock, &addr, s->addr_len);
			if (!err && s->state == SPICE_SOCKET_LISTENING)
				err = __sys_listen_socket(sock, s->backlog);
			if (err)
				return err;
		}
	}
	return 0;
}
