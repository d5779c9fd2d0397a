// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() makes a process's sockets again: TCP and UDP over IPv4
 * and IPv6 (and v4-mapped), AF_UNIX stream, datagram and seqpacket sockets
 * on a path or an abstract name, listening, bound or unbound, with their
 * options and addresses, in the launcher's network namespace and with its
 * privileges.  A dumpee serves on them from threads blocked in accept(),
 * epoll_wait() and recvfrom(); once restored it checks from inside that
 * every address, option and fd flag is what it was, and the test connects
 * and gets its answers.  A connected socket fails the dump by name, or
 * comes back reset when asked; a netlink socket fails it by name.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "channel.h"
#include "spice_test.h"

#define CMD_FD		10	/* the dumpee's requests */
#define ACK_FD		11	/* and its replies */
#define FIRST_SOCK	20	/* its sockets, from here on */

/* What the dumpee holds. */
#define WITH_SERVERS	1	/* every kind below, served by three threads */
#define WITH_REUSEPORT	2	/* only a TCP listener with SO_REUSEPORT */
#define WITH_CONNECTED	4	/* a TCP and an AF_UNIX client connection */
#define WITH_NETLINK	8	/* a NETLINK_ROUTE socket */
#define WITH_LOW_PORT	16	/* a TCP listener on port 1023 */
#define WITH_MARK	32	/* a TCP listener with SO_MARK */
#define WITH_TOS	64	/* a TCP listener with IP_TOS, which is not kept */
#define WITH_DEAD	128	/* a TCP socket whose connect() was refused */

/* Exit status of a dumpee whose connect() failed otherwise: 60 + errno. */
#define DEAD_UNREFUSED	60

/* Sockets of WITH_SERVERS, by fd. */
enum {
	S_TCP4 = FIRST_SOCK,	/* 127.0.0.1, blocking, every TCP option */
	S_TCP6,			/* [::1], V6ONLY, non-blocking */
	S_DUAL,			/* [::], not V6ONLY: takes v4-mapped peers */
	S_UDP4,			/* 127.0.0.1, blocking */
	S_UDP6,			/* [::1], non-blocking */
	S_UNIX_PATH,		/* stream on a path, non-blocking */
	S_UNIX_ABSTRACT,	/* seqpacket on an abstract name, non-blocking */
	S_UNIX_DGRAM,		/* datagram on an abstract name, non-blocking */
	S_BOUND,		/* TCP bound to 127.0.0.1, not listening */
	S_UNBOUND,		/* UDP with options, never bound */
	S_EPOLL,		/* the epoll instance of the second thread */
	S_DUP,			/* a dup() of S_TCP4 */
	S_END,
};

/* Connected sockets of WITH_CONNECTED. */
#define C_TCP		FIRST_SOCK
#define C_UNIX		(FIRST_SOCK + 1)
#define C_UDP		(FIRST_SOCK + 2)

static char unix_path[64];		/* S_UNIX_PATH's, set before fork() */
static char abstract_name[32];		/* S_UNIX_ABSTRACT's, "\0..." */
static struct sockaddr_in peer_tcp;	/* the test's, for WITH_CONNECTED */
static struct sockaddr_un peer_unix;

/* What each socket was when dumped, as the dumpee saw it. */
struct sock_view {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int fl, fdfl;
	int ints[16];
	struct linger linger;
	struct timeval rcvtimeo;
	char dev[IFNAMSIZ];
};

static struct sock_view before[S_END];

/* Int options compared on every socket; -1 where one does not apply. */
static const struct { int level, name; } int_opts[] = {
	{ SOL_SOCKET, SO_DOMAIN }, { SOL_SOCKET, SO_TYPE },
	{ SOL_SOCKET, SO_PROTOCOL }, { SOL_SOCKET, SO_ACCEPTCONN },
	{ SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE }, { SOL_SOCKET, SO_BROADCAST },
	{ SOL_SOCKET, SO_RCVBUF }, { SOL_SOCKET, SO_SNDBUF },
	{ SOL_SOCKET, SO_PRIORITY }, { IPPROTO_TCP, TCP_NODELAY },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT }, { IPPROTO_TCP, TCP_KEEPIDLE },
	{ IPPROTO_TCP, TCP_FASTOPEN }, { IPPROTO_IPV6, IPV6_V6ONLY },
};

static void view(int fd, struct sock_view *v)
{
	socklen_t len;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->addr_len = sizeof(v->addr);
	if (getsockname(fd, (struct sockaddr *)&v->addr, &v->addr_len))
		v->addr_len = 0;
	v->fl = fcntl(fd, F_GETFL);
	v->fdfl = fcntl(fd, F_GETFD);
	for (i = 0; i < ARRAY_SIZE(int_opts); i++) {
		len = sizeof(int);
		if (getsockopt(fd, int_opts[i].level, int_opts[i].name, &v->ints[i], &len))
			v->ints[i] = -1;
	}
	len = sizeof(v->linger);
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &v->linger, &len);
	len = sizeof(v->rcvtimeo);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &v->rcvtimeo, &len);
	len = sizeof(v->dev);
	getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, v->dev, &len);
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* A socket at fd @at, bound to @addr (unless NULL), listening if asked. */
static void sock_at(int at, int family, int type, const void *addr,
		    socklen_t len, bool listening)
{
	int fd = socket(family, type, 0);

	if (fd < 0 || dup3(fd, at, type & SOCK_CLOEXEC ? O_CLOEXEC : 0) != at)
		_exit(40);
	close(fd);
	if (family == AF_INET6 && set_int(at, IPPROTO_IPV6, IPV6_V6ONLY, at != S_DUAL))
		_exit(41);
	if (addr && bind(at, addr, len))
		_exit(42);
	if (listening && listen(at, at == S_TCP4 ? 7 : 64))
		_exit(43);
}

static void set_tcp4_options(void)
{
	struct linger lg = { 1, 3 };
	struct timeval tv = { 2, 500000 };

	if (set_int(S_TCP4, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    set_int(S_TCP4, SOL_SOCKET, SO_KEEPALIVE, 1) ||
	    set_int(S_TCP4, SOL_SOCKET, SO_RCVBUF, 65536) ||
	    set_int(S_TCP4, SOL_SOCKET, SO_SNDBUF, 32768) ||
	    set_int(S_TCP4, SOL_SOCKET, SO_PRIORITY, 3) ||
	    set_int(S_TCP4, IPPROTO_TCP, TCP_NODELAY, 1) ||
	    set_int(S_TCP4, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5) ||
	    set_int(S_TCP4, IPPROTO_TCP, TCP_KEEPIDLE, 100) ||
	    set_int(S_TCP4, IPPROTO_TCP, TCP_FASTOPEN, 16) ||
	    setsockopt(S_TCP4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(S_TCP4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(S_TCP4, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3))
		_exit(44);
}

/* The reply to a request on socket @fd: its fd and the server's pid. */
static int reply(char *buf, int fd)
{
	return snprintf(buf, 32, "%d:%ld", fd, (long)syscall(SYS_getpid));
}

/* Serve a stream connection: answer once the client said something. */
static void serve_conn(int conn, int fd)
{
	char buf[32];
	int flags = fcntl(conn, F_GETFL);

	fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
	if (read(conn, buf, 1) == 1)
		send(conn, buf, reply(buf, fd), MSG_NOSIGNAL);
	close(conn);
}

static void serve_dgram(int fd)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[32];

	if (recvfrom(fd, buf, 1, 0, (struct sockaddr *)&from, &len) >= 0)
		sendto(fd, buf, reply(buf, fd), 0, (struct sockaddr *)&from, len);
}

/* Blocked in accept() on the listener @arg, from before the dump. */
static void *accept_thread(void *arg)
{
	int fd = (long)arg, conn;

	for (;;) {
		conn = accept(fd, NULL, NULL);
		if (conn >= 0)
			serve_conn(conn, fd);
	}
	return NULL;
}

static void *recv_thread(void *arg)
{
	for (;;)
		serve_dgram((long)arg);
	return NULL;
}

/* Blocked in epoll_wait() on the non-blocking sockets. */
static void *epoll_thread(void *arg)
{
	struct epoll_event ev;
	int conn;

	(void)arg;
	for (;;) {
		if (epoll_wait(S_EPOLL, &ev, 1, -1) != 1)
			continue;
		if (ev.data.fd == S_UDP6 || ev.data.fd == S_UNIX_DGRAM) {
			serve_dgram(ev.data.fd);
			continue;
		}
		conn = accept(ev.data.fd, NULL, NULL);
		if (conn >= 0)
			serve_conn(conn, ev.data.fd);
	}
	return NULL;
}

static void start(void *(*fn)(void *), long arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, (void *)arg))
		_exit(45);
}

static void make_servers(void)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	sock_at(S_TCP4, AF_INET, SOCK_STREAM, NULL, 0, false);
	set_tcp4_options();
	if (bind(S_TCP4, (void *)&in4, sizeof(in4)) || listen(S_TCP4, 7))
		_exit(46);
	sock_at(S_TCP6, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, &in6, sizeof(in6), true);
	sock_at(S_DUAL, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, &any6, sizeof(any6), true);
	sock_at(S_UDP4, AF_INET, SOCK_DGRAM, &in4, sizeof(in4), false);
	sock_at(S_UDP6, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, &in6, sizeof(in6), false);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
	sock_at(S_UNIX_PATH, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, &un, sizeof(un), true);
	memset(un.sun_path, 0, sizeof(un.sun_path));
	memcpy(un.sun_path, abstract_name, sizeof(abstract_name));
	sock_at(S_UNIX_ABSTRACT, AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, &un,
		offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_name + 1),
		true);
	/* Autobound: the kernel picks the abstract name. */
	sock_at(S_UNIX_DGRAM, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, &un,
		sizeof(sa_family_t), false);
	sock_at(S_BOUND, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, &in4, sizeof(in4), false);
	sock_at(S_UNBOUND, AF_INET, SOCK_DGRAM, NULL, 0, false);
	if (set_int(S_UNBOUND, SOL_SOCKET, SO_BROADCAST, 1) ||
	    set_int(S_UNBOUND, SOL_SOCKET, SO_SNDBUF, 100000))
		_exit(47);
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0 || dup2(fd, S_EPOLL) != S_EPOLL)
		_exit(48);
	close(fd);
	for (fd = S_TCP6; fd <= S_UNIX_DGRAM; fd++) {
		ev.data.fd = fd;
		if (fd != S_UDP4 && epoll_ctl(S_EPOLL, EPOLL_CTL_ADD, fd, &ev))
			_exit(49);
	}
	if (dup2(S_TCP4, S_DUP) != S_DUP)
		_exit(55);
	start(accept_thread, S_TCP4);
	start(recv_thread, S_UDP4);
	start(epoll_thread, 0);
}

static void make_reuseport(void)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	sock_at(S_TCP4, AF_INET, SOCK_STREAM, NULL, 0, false);
	if (set_int(S_TCP4, SOL_SOCKET, SO_REUSEPORT, 1) ||
	    bind(S_TCP4, (void *)&in4, sizeof(in4)) || listen(S_TCP4, 16))
		_exit(50);
	start(accept_thread, S_TCP4);
}

static void make_connected(void)
{
	sock_at(C_TCP, AF_INET, SOCK_STREAM, NULL, 0, false);
	sock_at(C_UNIX, AF_UNIX, SOCK_STREAM, NULL, 0, false);
	sock_at(C_UDP, AF_INET, SOCK_DGRAM, NULL, 0, false);
	/* Writes to a reset stream socket raise it, restored or not. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    connect(C_TCP, (void *)&peer_tcp, sizeof(peer_tcp)) ||
	    connect(C_UNIX, (void *)&peer_unix, sizeof(peer_unix)) ||
	    connect(C_UDP, (void *)&peer_tcp, sizeof(peer_tcp)))
		_exit(51);
}

static void make_listener_with(int with)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(1023),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (!(with & WITH_LOW_PORT))
		in4.sin_port = 0;
	sock_at(S_TCP4, AF_INET, SOCK_STREAM, NULL, 0, false);
	if (((with & WITH_MARK) && set_int(S_TCP4, SOL_SOCKET, SO_MARK, 7)) ||
	    ((with & WITH_TOS) && set_int(S_TCP4, IPPROTO_IP, IP_TOS, 0x10)) ||
	    bind(S_TCP4, (void *)&in4, sizeof(in4)) || listen(S_TCP4, 4))
		_exit(52);
	start(accept_thread, S_TCP4);
}

static void set_state(int with)
{
	int fd;

	if (with & WITH_SERVERS)
		make_servers();
	if (with & WITH_REUSEPORT)
		make_reuseport();
	if (with & WITH_CONNECTED)
		make_connected();
	if (with & (WITH_LOW_PORT | WITH_MARK | WITH_TOS))
		make_listener_with(with);
	if (with & WITH_DEAD) {
		/* A port the test holds without listening: ECONNREFUSED. */
		sock_at(C_TCP, AF_INET, SOCK_STREAM, NULL, 0, false);
		if (!connect(C_TCP, (void *)&peer_tcp, sizeof(peer_tcp)))
			_exit(DEAD_UNREFUSED);
		if (errno != ECONNREFUSED)
			_exit(DEAD_UNREFUSED + errno);
	}
	if (with & WITH_NETLINK)
		sock_at(FIRST_SOCK, AF_NETLINK, SOCK_RAW, NULL, 0, false);
	for (fd = FIRST_SOCK; fd < S_END; fd++)
		view(fd, &before[fd]);
}

/* 'A' if every socket is as it was, else the first fd that differs. */
static char check_state(int with)
{
	struct sock_view now;
	char c;
	int fd;

	/* A reset connection has lost its addresses. */
	for (fd = FIRST_SOCK; fd < S_END && !(with & (WITH_CONNECTED | WITH_DEAD)); fd++) {
		view(fd, &now);
		if (memcmp(&now, &before[fd], sizeof(now)))
			return 'a' + fd - FIRST_SOCK;
	}
	/* One socket under two fds, as dup() left it. */
	if ((with & WITH_SERVERS) &&
	    syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, S_TCP4, S_DUP))
		return 'D';
	/*
	 * A connection recorded as reset: ECONNRESET, then as after a reset:
	 * EPIPE on a stream, end of file from a unix stream whose peer
	 * closed; a datagram socket, unconnected, has nowhere to send.
	 */
	if ((with & WITH_DEAD) && (read(C_TCP, &c, 1) != -1 || errno != ECONNRESET))
		return 'R';
	if ((with & WITH_CONNECTED) &&
	    (read(C_TCP, &c, 1) != -1 || errno != ECONNRESET ||
	     write(C_TCP, "x", 1) != -1 || errno != EPIPE ||
	     read(C_UNIX, &c, 1) != -1 || errno != ECONNRESET ||
	     read(C_UNIX, &c, 1) != 0 ||
	     write(C_UNIX, "x", 1) != -1 || errno != EPIPE ||
	     read(C_UDP, &c, 1) != -1 || errno != ECONNRESET ||
	     write(C_UDP, "x", 1) != -1 || errno != EDESTADDRREQ))
		return 'R';
	return 'A';
}

static void dumpee(int cmd, int ack, int with)
{
	channel_fds(cmd, ack, -1, CMD_FD, ACK_FD);
	set_state(with);
	channel_serve(check_state, with, CMD_FD, ACK_FD);
}

struct restored {
	pid_t pid;
	int cmd, ack;
};

struct sockets_ctx {
	char image_path[64];
	int image_fd;
	pid_t dumpee;
	struct restored r[2];
	char why[SPICE_IMAGE_WHY_LEN];
	int listener_tcp, listener_unix;	/* the peers of WITH_CONNECTED */
};

FIXTURE(sockets) {
	struct sockets_ctx c;
};

FIXTURE_SETUP(sockets)
{
	struct sockets_ctx *sc = &self->c;

	sc->dumpee = -1;
	sc->r[0].pid = -1;
	sc->r[1].pid = -1;
	sc->listener_tcp = -1;
	sc->listener_unix = -1;
	signal(SIGPIPE, SIG_IGN);
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	snprintf(sc->image_path, sizeof(sc->image_path), "/tmp/spice-sockets-XXXXXX");
	sc->image_fd = mkstemp(sc->image_path);
	ASSERT_LE(0, sc->image_fd);
	snprintf(unix_path, sizeof(unix_path), "/tmp/spice-sock-%d", getpid());
	snprintf(abstract_name + 1, sizeof(abstract_name) - 1, "spice-test-%d", getpid());
	unlink(unix_path);
}

FIXTURE_TEARDOWN(sockets)
{
	struct sockets_ctx *sc = &self->c;
	int i;

	for (i = 0; i < 2; i++) {
		if (sc->r[i].pid > 0) {
			kill(sc->r[i].pid, SIGKILL);
			waitpid(sc->r[i].pid, NULL, 0);
		}
	}
	if (sc->dumpee > 0) {
		kill(sc->dumpee, SIGKILL);
		waitpid(sc->dumpee, NULL, 0);
	}
	unlink(sc->image_path);
	unlink(unix_path);
	if (sc->listener_tcp >= 0)
		close(sc->listener_tcp);
	if (sc->listener_unix >= 0)
		close(sc->listener_unix);
}

/* Start a dumpee holding @with and dump it with @flags; spice_dump()'s. */
static int dump_with(struct sockets_ctx *sc, int with, unsigned int flags)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL | flags };
	int cmd[2], ack[2], err = -ECHILD, status = 0;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -errno;
	sc->dumpee = fork();
	if (!sc->dumpee)
		dumpee(cmd[0], ack[1], with);
	close(cmd[0]);
	close(ack[1]);
	if (read(ack[0], &c, 1) == 1 && c == 'R')
		err = spice_dump(sc->dumpee, sc->image_fd, &opts, NULL, sc->why);
	if (err)
		kill(sc->dumpee, SIGKILL);
	waitpid(sc->dumpee, &status, 0);
	if (err == -ECHILD && WIFEXITED(status))	/* set_state() failed */
		fprintf(stderr, "# the dumpee exited with %d\n", WEXITSTATUS(status));
	else if (err == -ECHILD && WIFSIGNALED(status))
		fprintf(stderr, "# the dumpee was killed by signal %d\n", WTERMSIG(status));
	sc->dumpee = -1;
	close(cmd[1]);
	close(ack[0]);
	/* The dumped process is gone; its socket file is the caller's. */
	unlink(unix_path);
	return err;
}

/* What a launcher does to itself before it restores. */
#define LAUNCH_NETNS		1	/* a new network namespace, lo up */
#define LAUNCH_NO_BIND_SERVICE	2	/* drops CAP_NET_BIND_SERVICE */
#define LAUNCH_NO_NET_ADMIN	4	/* drops CAP_NET_ADMIN and CAP_NET_RAW */
#define LAUNCH_OWN_LISTENER	8	/* hands in @own for S_TCP4 */
#define LAUNCH_NEW_TIDS		16	/* a second instance: its threads' ids are taken */

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	err = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!err)
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return err;
}

/*
 * Fork a launcher that becomes the image's process with fresh pipes as its
 * channel; if restore_process() fails it exits with 100 + errno.
 */
static pid_t launch(struct sockets_ctx *sc, struct restored *r, int how,
		    int own)
{
	struct restore_process_fd map[3];
	struct restore_process_args args = { .fd_map = (uintptr_t)map };
	int cmd[2], ack[2];

	if (pipe(cmd) || pipe(ack))
		return -1;
	r->pid = fork();
	if (!r->pid) {
		alarm(100);	/* never outlive the test */
		if ((how & LAUNCH_NETNS) && (unshare(CLONE_NEWNET) || lo_up()))
			_exit(98);
		if ((how & LAUNCH_NO_BIND_SERVICE) && spice_test_drop_cap(CAP_NET_BIND_SERVICE))
			_exit(97);
		if ((how & LAUNCH_NO_NET_ADMIN) &&
		    (spice_test_drop_cap(CAP_NET_ADMIN) || spice_test_drop_cap(CAP_NET_RAW)))
			_exit(96);
		map[0] = (struct restore_process_fd){ .image_fd = CMD_FD, .fd = cmd[0] };
		map[1] = (struct restore_process_fd){ .image_fd = ACK_FD, .fd = ack[1] };
		map[2] = (struct restore_process_fd){ .image_fd = S_TCP4, .fd = own };
		args.nr_fd_map = how & LAUNCH_OWN_LISTENER ? 3 : 2;
		sys_restore_process(sc->image_fd, &args, sizeof(args),
				    how & LAUNCH_NEW_TIDS ? RESTORE_PROCESS_NEW_TIDS : 0);
		_exit(100 + errno);
	}
	close(cmd[0]);
	close(ack[1]);
	r->cmd = cmd[1];
	r->ack = ack[0];
	return r->pid;
}

static int exit_status(struct restored *r)
{
	return spice_test_reap(&r->pid);
}

/*
 * The restored process's verdict on its sockets: 'A' if all are as they
 * were, else the letter of the first that differs ('a' for FIRST_SOCK).
 */
static char ask(struct __test_metadata *_metadata, struct restored *r)
{
	char c = 'c';

	if (write(r->cmd, &c, 1) != 1 || read(r->ack, &c, 1) != 1) {
		TH_LOG("no answer: the launcher ended with %d", exit_status(r));
		return 0;
	}
	if (c != 'A')
		TH_LOG("socket %d is not as it was", c - 'a' + FIRST_SOCK);
	return c;
}

static void end(struct __test_metadata *_metadata, struct restored *r)
{
	ASSERT_EQ(1, write(r->cmd, "e", 1));
	EXPECT_EQ(7, exit_status(r));
}

/*
 * Send a byte to the server at @addr over a new socket of @type and read
 * its answer "fd:pid"; the server's pid, or -1.
 */
static long request(const struct sockaddr_storage *addr, socklen_t len, int type,
		    int want_fd)
{
	struct timeval tv = { 20, 0 };
	struct sockaddr_un me = { .sun_family = AF_UNIX };
	char buf[32] = "";
	int fd, n, got_fd = -1;
	long pid = -1;

	fd = socket(addr->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* A datagram AF_UNIX client needs a name to be answered. */
	if (addr->ss_family == AF_UNIX && type == SOCK_DGRAM)
		bind(fd, (void *)&me, sizeof(sa_family_t));
	if (!connect(fd, (const void *)addr, len) && send(fd, "?", 1, 0) == 1) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0 && sscanf(buf, "%d:%ld", &got_fd, &pid) == 2 && got_fd != want_fd)
			pid = -1;
	}
	close(fd);
	return pid;
}

/* The address the image records for socket @fd, where the restored one is. */
static socklen_t image_addr(int image_fd, int fd, struct sockaddr_storage *a)
{
	const struct spice_image_socket *s;
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	socklen_t len = 0;
	uint64_t nr, i;

	memset(a, 0, sizeof(*a));
	if (spice_image_open(image_fd, &img, why))
		return 0;
	s = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	for (i = 0; i < nr; i++) {
		if (s[i].fd != fd)
			continue;
		memcpy(a, s[i].addr, s[i].addr_len);
		len = s[i].addr_len;
	}
	spice_image_free(img);
	return len;
}

/* Ask the server of socket @fd of the image, of @type; its pid or -1. */
static long request_fd(struct sockets_ctx *sc, int fd, int type)
{
	struct sockaddr_storage a;
	socklen_t len = image_addr(sc->image_fd, fd, &a);
	struct sockaddr_in *in = (void *)&a;
	in_port_t port;

	if (!len)
		return -1;
	/* The dual-stack socket, reached over IPv4: a v4-mapped peer. */
	if (fd == S_DUAL) {
		port = ((struct sockaddr_in6 *)&a)->sin6_port;
		memset(&a, 0, sizeof(a));
		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	}
	return request(&a, len, type, fd);
}

/* request_fd() from inside the network namespace of process @pid. */
static long request_in_netns(struct sockets_ctx *sc, pid_t pid, int fd)
{
	char path[64];
	int status, ns;
	long got;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -1;
	child = fork();
	if (!child) {
		got = setns(ns, CLONE_NEWNET) ? -1 : request_fd(sc, fd, SOCK_STREAM);
		_exit(got == pid ? 0 : 1);
	}
	close(ns);
	if (child < 0 || waitpid(child, &status, 0) != child)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? pid : -1;
}

TEST_F(sockets, listening_and_bound_sockets_come_back_and_serve)
{
	struct sockets_ctx *sc = &self->c;
	struct restored *r = &sc->r[0];

	ASSERT_EQ(0, dump_with(sc, WITH_SERVERS, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, r, 0, -1));
	ASSERT_EQ('A', ask(_metadata, r));
	EXPECT_EQ(r->pid, request_fd(sc, S_TCP4, SOCK_STREAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_TCP6, SOCK_STREAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_DUAL, SOCK_STREAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_UDP4, SOCK_DGRAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_UDP6, SOCK_DGRAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_UNIX_PATH, SOCK_STREAM));
	EXPECT_EQ(r->pid, request_fd(sc, S_UNIX_ABSTRACT, SOCK_SEQPACKET));
	EXPECT_EQ(r->pid, request_fd(sc, S_UNIX_DGRAM, SOCK_DGRAM));
	end(_metadata, r);
}

TEST_F(sockets, a_second_instance_on_the_same_port_fails_before_committing)
{
	struct sockets_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_SERVERS, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	ASSERT_EQ('A', ask(_metadata, &sc->r[0]));
	/* Its first socket's port is taken: the launcher gets EADDRINUSE back. */
	ASSERT_LT(0, launch(sc, &sc->r[1], LAUNCH_NEW_TIDS, -1));
	EXPECT_EQ(100 + EADDRINUSE, exit_status(&sc->r[1]));
	EXPECT_EQ(sc->r[0].pid, request_fd(sc, S_TCP4, SOCK_STREAM));
	end(_metadata, &sc->r[0]);
}

/* Bind a new socket of @type to the address the image has for @fd. */
static int bind_like(struct sockets_ctx *sc, int fd, int type)
{
	struct sockaddr_storage a;
	socklen_t len = image_addr(sc->image_fd, fd, &a);
	int s = socket(a.ss_family, type | SOCK_CLOEXEC, 0);

	if (s >= 0 && a.ss_family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ fd != S_DUAL }, sizeof(int));
	if (s < 0 || !len || bind(s, (void *)&a, len)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/*
 * The last socket bound fails: the restore fails before committing, and
 * every address bound before it is free again; no AF_UNIX path file was
 * made, as those are bound after the others.
 */
TEST_F(sockets, a_failed_bind_leaves_no_address_taken)
{
	static const struct { int fd, type; } taken[] = {
		{ S_TCP4, SOCK_STREAM }, { S_TCP6, SOCK_STREAM }, { S_DUAL, SOCK_STREAM },
		{ S_UDP4, SOCK_DGRAM }, { S_UDP6, SOCK_DGRAM },
		{ S_UNIX_ABSTRACT, SOCK_SEQPACKET }, { S_UNIX_DGRAM, SOCK_DGRAM },
	};
	struct sockets_ctx *sc = &self->c;
	struct stat st;
	int holder, s;
	size_t i;

	ASSERT_EQ(0, dump_with(sc, WITH_SERVERS, 0)) TH_LOG("%s", sc->why);
	holder = bind_like(sc, S_BOUND, SOCK_STREAM);
	ASSERT_LE(0, holder);
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	EXPECT_EQ(100 + EADDRINUSE, exit_status(&sc->r[0]));
	for (i = 0; i < ARRAY_SIZE(taken); i++) {
		s = bind_like(sc, taken[i].fd, taken[i].type);
		EXPECT_LE(0, s) TH_LOG("socket %d's address is still taken", taken[i].fd);
		if (s >= 0)
			close(s);
	}
	EXPECT_NE(0, stat(unix_path, &st));
	close(holder);
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	ASSERT_EQ('A', ask(_metadata, &sc->r[0]));
	end(_metadata, &sc->r[0]);
}

TEST_F(sockets, so_reuseport_lets_two_instances_share_a_port)
{
	struct sockets_ctx *sc = &self->c;
	bool seen[2] = { false, false };
	int i, k;
	long pid;

	ASSERT_EQ(0, dump_with(sc, WITH_REUSEPORT, 0)) TH_LOG("%s", sc->why);
	for (k = 0; k < 2; k++) {
		ASSERT_LT(0, launch(sc, &sc->r[k], k ? LAUNCH_NEW_TIDS : 0, -1));
		ASSERT_EQ('A', ask(_metadata, &sc->r[k]));
	}
	/* The kernel spreads connections by their source port: both answer. */
	for (i = 0; i < 64 && !(seen[0] && seen[1]); i++) {
		pid = request_fd(sc, S_TCP4, SOCK_STREAM);
		for (k = 0; k < 2; k++)
			seen[k] |= pid == sc->r[k].pid;
		ASSERT_TRUE(pid == sc->r[0].pid || pid == sc->r[1].pid);
	}
	EXPECT_TRUE(seen[0] && seen[1]);
	end(_metadata, &sc->r[0]);
	end(_metadata, &sc->r[1]);
}

TEST_F(sockets, two_instances_in_two_network_namespaces)
{
	struct sockets_ctx *sc = &self->c;
	int k;

	ASSERT_EQ(0, dump_with(sc, WITH_LOW_PORT, 0))
		TH_LOG("%s", sc->why);
	for (k = 0; k < 2; k++) {
		ASSERT_LT(0, launch(sc, &sc->r[k],
				    LAUNCH_NETNS | (k ? LAUNCH_NEW_TIDS : 0), -1));
		ASSERT_EQ('A', ask(_metadata, &sc->r[k]));
	}
	for (k = 0; k < 2; k++)
		EXPECT_EQ(sc->r[k].pid, request_in_netns(sc, sc->r[k].pid, S_TCP4));
	end(_metadata, &sc->r[0]);
	end(_metadata, &sc->r[1]);
}

/* The permission rule: what bind(2) and setsockopt(2) would refuse. */
TEST_F(sockets, a_privileged_port_needs_cap_net_bind_service)
{
	struct sockets_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_LOW_PORT, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, &sc->r[0], LAUNCH_NO_BIND_SERVICE, -1));
	EXPECT_EQ(100 + EACCES, exit_status(&sc->r[0]));
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	ASSERT_EQ('A', ask(_metadata, &sc->r[0]));
	end(_metadata, &sc->r[0]);
}

TEST_F(sockets, so_mark_needs_cap_net_admin_or_net_raw)
{
	struct sockets_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_MARK, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, &sc->r[0], LAUNCH_NO_NET_ADMIN, -1));
	EXPECT_EQ(100 + EPERM, exit_status(&sc->r[0]));
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	ASSERT_EQ('A', ask(_metadata, &sc->r[0]));
	end(_metadata, &sc->r[0]);
}

/* Socket activation: the launcher's own listener for the image's fd. */
TEST_F(sockets, a_listener_the_launcher_supplies_wins)
{
	struct sockets_ctx *sc = &self->c;
	struct sockaddr_in in4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage a;
	socklen_t len = sizeof(in4);
	int own;

	ASSERT_EQ(0, dump_with(sc, WITH_REUSEPORT, 0)) TH_LOG("%s", sc->why);
	own = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, own);
	ASSERT_EQ(0, bind(own, (void *)&in4, sizeof(in4)));
	ASSERT_EQ(0, listen(own, 4));
	ASSERT_EQ(0, getsockname(own, (void *)&a, &len));
	ASSERT_LT(0, launch(sc, &sc->r[0], LAUNCH_OWN_LISTENER, own));
	close(own);
	/* The thread blocked in accept() now accepts on the launcher's socket. */
	EXPECT_EQ(sc->r[0].pid, request(&a, len, SOCK_STREAM, S_TCP4));
	end(_metadata, &sc->r[0]);
}

/* Listeners of the test that the WITH_CONNECTED dumpee connects to. */
static void listen_for_dumpee(struct sockets_ctx *sc,
			      struct __test_metadata *_metadata)
{
	socklen_t len = sizeof(peer_tcp);

	peer_tcp = (struct sockaddr_in){ .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sc->listener_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, bind(sc->listener_tcp, (void *)&peer_tcp, sizeof(peer_tcp)));
	ASSERT_EQ(0, listen(sc->listener_tcp, 4));
	ASSERT_EQ(0, getsockname(sc->listener_tcp, (void *)&peer_tcp, &len));
	peer_unix = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(peer_unix.sun_path, sizeof(peer_unix.sun_path), "%s", unix_path);
	sc->listener_unix = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, bind(sc->listener_unix, (void *)&peer_unix, sizeof(peer_unix)));
	ASSERT_EQ(0, listen(sc->listener_unix, 4));
}

TEST_F(sockets, a_connection_fails_the_dump_by_name)
{
	struct sockets_ctx *sc = &self->c;
	char want[128];

	listen_for_dumpee(sc, _metadata);
	EXPECT_EQ(-EOPNOTSUPP, dump_with(sc, WITH_CONNECTED, 0));
	snprintf(want, sizeof(want), "fd %d: a socket connected to 127.0.0.1:%u",
		 C_TCP, ntohs(peer_tcp.sin_port));
	EXPECT_NE(NULL, strstr(sc->why, want)) TH_LOG("%s", sc->why);
}

TEST_F(sockets, a_connection_comes_back_reset_when_asked)
{
	struct sockets_ctx *sc = &self->c;

	listen_for_dumpee(sc, _metadata);
	ASSERT_EQ(0, dump_with(sc, WITH_CONNECTED, SPICE_DUMP_RESET_CONNECTIONS))
		TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	EXPECT_EQ('A', ask(_metadata, &sc->r[0]));
	end(_metadata, &sc->r[0]);
}

TEST_F(sockets, an_option_not_kept_fails_the_dump_by_name)
{
	struct sockets_ctx *sc = &self->c;
	char want[96];

	EXPECT_EQ(-EOPNOTSUPP, dump_with(sc, WITH_TOS, 0));
	snprintf(want, sizeof(want), "fd %d: socket option IP_TOS is set to 16", S_TCP4);
	EXPECT_NE(NULL, strstr(sc->why, want)) TH_LOG("%s", sc->why);
}

/*
 * Closed, it still shows its address and port but holds neither: a
 * connection that is over, restored reset without being asked to.
 */
TEST_F(sockets, a_refused_connection_comes_back_reset)
{
	struct sockets_ctx *sc = &self->c;
	socklen_t len = sizeof(peer_tcp);

	peer_tcp = (struct sockaddr_in){ .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sc->listener_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, bind(sc->listener_tcp, (void *)&peer_tcp, sizeof(peer_tcp)));
	ASSERT_EQ(0, getsockname(sc->listener_tcp, (void *)&peer_tcp, &len));
	ASSERT_EQ(0, dump_with(sc, WITH_DEAD, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, &sc->r[0], 0, -1));
	EXPECT_EQ('A', ask(_metadata, &sc->r[0]));
	end(_metadata, &sc->r[0]);
}

TEST_F(sockets, a_netlink_socket_fails_the_dump_by_name)
{
	struct sockets_ctx *sc = &self->c;
	char want[64];

	EXPECT_EQ(-EOPNOTSUPP, dump_with(sc, WITH_NETLINK, 0));
	snprintf(want, sizeof(want), "fd %d: a netlink socket", FIRST_SOCK);
	EXPECT_NE(NULL, strstr(sc->why, want)) TH_LOG("%s", sc->why);
}

TEST_HARNESS_MAIN
