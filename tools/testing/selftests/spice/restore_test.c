// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() end to end: a process is dumped with libspice, then a
 * launcher becomes it.  The restored process resumes in the read() it was
 * blocked in, with its memory, mappings, signal handlers, mask and
 * alternate stack, and its pipes supplied through the fd map; it keeps the
 * launcher's pid.  Its eventfds and epoll instance come back with their
 * counters, modes and interest lists.  Failures before the point of no return leave the
 * launcher running with an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "mmap_restore_util.h"

#define ANON_PAGES 8
#define FILE_PAGES 4
#define SEED 5
#define CMD_FD 10		/* the dumpee's request channel */
/* How the dumpee maps its file; a test may add PROT_EXEC. */
static int file_prot = PROT_READ;
#define ACK_FD 11		/* and its replies */

/* What the dumpee sets up besides its memory and signal state. */
#define WITH_THREAD	1	/* a second thread */
#define WITH_EVENTS	2	/* eventfds and an epoll it waits in */
#define EFD_SEM_FD	20	/* eventfd, semaphore mode, counter 5 */
#define EFD_NB_FD	21	/* eventfd, non-blocking, counter 0 */
#define EPOLL_FD	22	/* close-on-exec; watches CMD_FD, EFD_NB_FD, HUP_FD */
#define HUP_FD		23	/* a pipe with no writer, its watch disarmed */
#define SIG_FD		32	/* signalfd of SIGUSR2, non-blocking, cloexec, watched */
#define INNER_EP_FD	33	/* an epoll instance EPOLL_FD watches (nested) */
#define INNER_EFD_FD	34	/* eventfd, counter 0, which INNER_EP_FD watches */
#define CMD_DATA	0xc0ffee00ULL
#define WITH_CHANNELS	4	/* a pipe and socket pairs with both ends its own */
#define WITH_SOCK_DATA	8	/* ... and an empty datagram queued on one */
#define PIPE_RD_FD	24	/* the read end, blocking */
#define PIPE_WR_FD	25	/* the write end, non-blocking */
#define PIPE_WR_DUP	26	/* a close-on-exec dup of the write end */
#define STREAM_A_FD	27	/* SOCK_STREAM pair, non-blocking */
#define STREAM_B_FD	28	/* its peer, blocking */
#define DGRAM_A_FD	29	/* SOCK_DGRAM pair */
#define DGRAM_B_FD	30
#define LONE_RD_FD	31	/* a pipe whose write end the process closed */
#define WITH_SHARED	16	/* shared anonymous memory, see make_shared() */
#define WITH_SHARED_ALIAS 32	/* ... and its first page mapped twice */
#define WITH_SHARED_CHILD 64	/* ... and a child that maps it too */
#define WITH_UNDUMPABLE	128	/* PR_SET_DUMPABLE 0, as key agents do */
#define SHARED_PAGES	8
#define SHARED_SEED	6

static char *shared;

static int got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	__atomic_store_n(&got_usr1, 1, __ATOMIC_RELAXED);
}

/* The second thread: waits on a condition variable until asked to work. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done_cond = PTHREAD_COND_INITIALIZER;
static int go, done;

static void *worker_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&wake, &lock);
	done = 1;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Ask the worker to run and wait for it: futexes across restored threads. */
static char ask_worker(void)
{
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_signal(&wake);
	while (!done)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	return 'T';
}

static void move_fd(int fd, int to, int flags)
{
	if (fd < 0 || dup3(fd, to, flags) != to)
		_exit(16);
	close(fd);
}

/*
 * An EPOLLONESHOT watch that fired, of a pipe whose writer then went away:
 * disarmed, it must not report the hangup, before the dump or after.
 */
static void disarmed_watch(void)
{
	struct epoll_event hup = { .events = EPOLLIN | EPOLLONESHOT,
				   .data.u64 = HUP_FD };
	int p[2];
	char c;

	if (pipe(p))
		_exit(18);
	move_fd(p[0], HUP_FD, 0);
	if (epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, HUP_FD, &hup) || write(p[1], "x", 1) != 1 ||
	    epoll_wait(EPOLL_FD, &hup, 1, 0) != 1 || hup.data.u64 != HUP_FD ||
	    read(HUP_FD, &c, 1) != 1)
		_exit(19);
	close(p[1]);
}

static void make_event_fds(void)
{
	struct epoll_event cmd = { .events = EPOLLIN, .data.u64 = CMD_DATA };
	struct epoll_event nb = { .events = EPOLLIN, .data.u64 = EFD_NB_FD };
	struct epoll_event sig = { .events = EPOLLIN, .data.u64 = SIG_FD };
	struct epoll_event inner = { .events = EPOLLIN, .data.u64 = INNER_EP_FD };
	struct epoll_event efd = { .events = EPOLLIN, .data.u64 = INNER_EFD_FD };
	sigset_t usr2;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	move_fd(eventfd(5, EFD_SEMAPHORE), EFD_SEM_FD, 0);
	move_fd(eventfd(0, EFD_NONBLOCK), EFD_NB_FD, 0);
	move_fd(epoll_create1(0), EPOLL_FD, O_CLOEXEC);
	move_fd(signalfd(-1, &usr2, SFD_NONBLOCK), SIG_FD, O_CLOEXEC);
	move_fd(epoll_create1(0), INNER_EP_FD, 0);
	move_fd(eventfd(0, EFD_NONBLOCK), INNER_EFD_FD, 0);
	if (epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, CMD_FD, &cmd) ||
	    epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, EFD_NB_FD, &nb) ||
	    epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, SIG_FD, &sig) ||
	    epoll_ctl(EPOLL_FD, EPOLL_CTL_ADD, INNER_EP_FD, &inner) ||
	    epoll_ctl(INNER_EP_FD, EPOLL_CTL_ADD, INNER_EFD_FD, &efd))
		_exit(17);
	disarmed_watch();
}

static void make_channels(int with)
{
	int p[2], s[2], d[2], lone[2];

	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, s) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, d) || pipe(lone))
		_exit(23);
	move_fd(p[0], PIPE_RD_FD, 0);
	move_fd(p[1], PIPE_WR_FD, 0);
	move_fd(s[0], STREAM_A_FD, 0);
	move_fd(s[1], STREAM_B_FD, 0);
	move_fd(d[0], DGRAM_A_FD, 0);
	move_fd(d[1], DGRAM_B_FD, 0);
	move_fd(lone[0], LONE_RD_FD, 0);
	close(lone[1]);
	if (dup3(PIPE_WR_FD, PIPE_WR_DUP, O_CLOEXEC) != PIPE_WR_DUP ||
	    fcntl(PIPE_WR_FD, F_SETFL, O_NONBLOCK) ||
	    fcntl(STREAM_A_FD, F_SETFL, O_NONBLOCK))
		_exit(24);
	/* A wake-up byte left unread, as self-pipes often hold one. */
	if (write(PIPE_WR_FD, "d", 1) != 1)
		_exit(25);
	/* An empty datagram: unix_diag's rqueue says 0 bytes for it. */
	if ((with & WITH_SOCK_DATA) && send(DGRAM_A_FD, "", 0, 0) != 0)
		_exit(26);
}

/* Whether fd @fd's open file has exactly status flags @flags. */
static bool fl_is(int fd, int flags)
{
	return (fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == flags;
}

static bool sock_type_is(int fd, int type)
{
	socklen_t len = sizeof(int);
	int t = -1;

	return !getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) && t == type;
}

/* 'W', or which property of the restored pipes and socket pairs is wrong. */
static char check_channels(void)
{
	struct stat a, b;
	char buf[8];
	int n = -1;

	if (!fl_is(PIPE_RD_FD, O_RDONLY) || !fl_is(PIPE_WR_FD, O_WRONLY | O_NONBLOCK) ||
	    !fl_is(STREAM_A_FD, O_RDWR | O_NONBLOCK) || !fl_is(STREAM_B_FD, O_RDWR))
		return '1';
	if (fcntl(PIPE_WR_DUP, F_GETFD) != FD_CLOEXEC || fcntl(PIPE_WR_FD, F_GETFD))
		return '2';
	/* One pipe, with its byte; the dup shares the write end's open file. */
	if (fstat(PIPE_RD_FD, &a) || fstat(PIPE_WR_FD, &b) || a.st_ino != b.st_ino ||
	    ioctl(PIPE_RD_FD, FIONREAD, &n) || n != 1 || read(PIPE_RD_FD, buf, 1) != 1 ||
	    buf[0] != 'd')
		return '3';
	if (fcntl(PIPE_WR_DUP, F_SETFL, 0) || !fl_is(PIPE_WR_FD, O_WRONLY) ||
	    write(PIPE_WR_DUP, "ab", 2) != 2 || read(PIPE_RD_FD, buf, 2) != 2 ||
	    memcmp(buf, "ab", 2))
		return '4';
	if (!sock_type_is(STREAM_A_FD, SOCK_STREAM) || !sock_type_is(DGRAM_B_FD, SOCK_DGRAM))
		return '5';
	if (read(STREAM_A_FD, buf, 1) != -1 || errno != EAGAIN ||
	    write(STREAM_A_FD, "xy", 2) != 2 || read(STREAM_B_FD, buf, 2) != 2 ||
	    write(STREAM_B_FD, "z", 1) != 1 || read(STREAM_A_FD, buf + 2, 1) != 1 ||
	    memcmp(buf, "xyz", 3))
		return '6';
	/* Datagrams keep their boundaries. */
	if (send(DGRAM_A_FD, "p", 1, 0) != 1 || send(DGRAM_A_FD, "qr", 2, 0) != 2 ||
	    recv(DGRAM_B_FD, buf, sizeof(buf), 0) != 1 ||
	    recv(DGRAM_B_FD, buf, sizeof(buf), 0) != 2)
		return '7';
	/* The lone pipe's writer stays gone: end of file, not a block. */
	if (read(LONE_RD_FD, buf, 1) != 0)
		return '8';
	/* Closing one end: the other sees it, as before the dump. */
	close(STREAM_B_FD);
	if (read(STREAM_A_FD, buf, 1) != 0)
		return '9';
	return 'W';
}

/* The next request: from read(), or after epoll_wait() reports it. */
static int next_request(int events, char *c)
{
	struct epoll_event ev;

	while (events) {
		if (epoll_wait(EPOLL_FD, &ev, 1, -1) == 1 && ev.data.u64 == CMD_DATA)
			break;
	}
	return read(CMD_FD, c, 1) == 1;
}

/* 'V', or which property of the restored eventfds and epoll is wrong. */
static char check_event_fds(void)
{
	struct signalfd_siginfo si;
	struct epoll_event ev;
	uint64_t v;
	int i;

	for (i = 0; i < 5; i++)	/* semaphore: five reads of 1 */
		if (read(EFD_SEM_FD, &v, sizeof(v)) != sizeof(v) || v != 1)
			return '1';
	if (fcntl(EFD_SEM_FD, F_SETFL, O_NONBLOCK) ||
	    read(EFD_SEM_FD, &v, sizeof(v)) != -1 || errno != EAGAIN)
		return '2';
	if (read(EFD_NB_FD, &v, sizeof(v)) != -1 || errno != EAGAIN)
		return '3';
	if (fcntl(EPOLL_FD, F_GETFD) != FD_CLOEXEC || fcntl(EFD_NB_FD, F_GETFD))
		return '4';
	/* Nothing ready: the disarmed watch of HUP_FD keeps quiet. */
	if (epoll_wait(EPOLL_FD, &ev, 1, 0) != 0)
		return '5';
	v = 3;
	if (write(EFD_NB_FD, &v, sizeof(v)) != sizeof(v) ||
	    epoll_wait(EPOLL_FD, &ev, 1, 0) != 1 || ev.data.u64 != EFD_NB_FD)
		return '6';
	if (read(EFD_NB_FD, &v, sizeof(v)) != sizeof(v) || v != 3)
		return '7';
	/* Nested: the inner instance's event makes it ready in the outer. */
	v = 1;
	if (write(INNER_EFD_FD, &v, sizeof(v)) != sizeof(v) ||
	    epoll_wait(EPOLL_FD, &ev, 1, 0) != 1 || ev.data.u64 != INNER_EP_FD ||
	    epoll_wait(INNER_EP_FD, &ev, 1, 0) != 1 || ev.data.u64 != INNER_EFD_FD ||
	    read(INNER_EFD_FD, &v, sizeof(v)) != sizeof(v) ||
	    epoll_wait(EPOLL_FD, &ev, 1, 0) != 0)
		return 'a';
	/* The signalfd reads the blocked SIGUSR2 once it is pending. */
	if (fcntl(SIG_FD, F_GETFD) != FD_CLOEXEC ||
	    !(fcntl(SIG_FD, F_GETFL) & O_NONBLOCK) ||
	    read(SIG_FD, &si, sizeof(si)) != -1 || errno != EAGAIN)
		return '8';
	raise(SIGUSR2);
	if (epoll_wait(EPOLL_FD, &ev, 1, 0) != 1 || ev.data.u64 != SIG_FD ||
	    read(SIG_FD, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2)
		return '9';
	return 'V';
}

/*
 * Shared anonymous memory (MAP_NORESERVE) whose contents are not all in
 * the page tables: page 0 written, page 1 written then zapped
 * (MADV_DONTNEED keeps it in the object), page 2 written by a child only;
 * pages 4-7 read-only, which splits the mapping in two VMAs of one object,
 * page 5 written before.
 */
static void make_shared(void)
{
	pid_t pid;

	shared = mmap(NULL, SHARED_PAGES * PS, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (shared == MAP_FAILED)
		_exit(16);
	fill_page(shared, SHARED_SEED, 0);
	fill_page(shared + PS, SHARED_SEED, 1);
	fill_page(shared + 5 * PS, SHARED_SEED, 5);
	if (madvise(shared + PS, PS, MADV_DONTNEED) ||
	    mprotect(shared + 4 * PS, 4 * PS, PROT_READ))
		_exit(17);
	pid = fork();
	if (!pid) {
		fill_page(shared + 2 * PS, SHARED_SEED, 2);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		_exit(18);
}

/* A child that maps the shared memory too, until its parent dies. */
static void share_with_child(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		_exit(20);
	pid = fork();
	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL))
			_exit(1);
		__atomic_load_n(shared, __ATOMIC_RELAXED);	/* map page 0 */
		if (write(p[1], "m", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	/* Not ready before the child maps it. */
	if (pid < 0 || read(p[0], &c, 1) != 1)
		_exit(20);
	close(p[0]);
	close(p[1]);
}

/* mremap() with old_size 0: a second mapping of the same page. */
static void alias_shared(void)
{
	if (mremap(shared, 0, PS, MREMAP_MAYMOVE) == MAP_FAILED)
		_exit(19);
}

/*
 * Contents as made, then still shared with a child, and still
 * MAP_NORESERVE: 'S', else 'N'.
 */
static char check_shared(void)
{
	int i, ok = has_vmflag(shared, "nr");
	pid_t pid;

	for (i = 0; i < SHARED_PAGES; i++)
		ok &= i <= 2 || i == 5 ? page_has_pattern(shared + i * PS, SHARED_SEED, i) :
					 page_is_zero(shared + i * PS);
	pid = fork();
	if (!pid) {
		shared[3 * PS] = 'S';
		_exit(0);
	}
	ok &= pid > 0 && waitpid(pid, NULL, 0) == pid && shared[3 * PS] == 'S';
	shared[3 * PS] = 0;
	return ok ? 'S' : 'N';
}

static void reply(char c)
{
	if (write(ACK_FD, &c, 1) != 1)
		_exit(20);
}

/*
 * The process to dump: fds 0-2 on /dev/null, its channel on CMD_FD and
 * ACK_FD, known memory, a handler, a mask and an alternate stack.  It
 * serves one-letter requests until told to exit.
 */
static void dumpee(char *anon, char *file_map, const char *file_path,
		   int cmd, int ack, int with)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	stack_t ss = { .ss_size = 65536 };
	sigset_t set;
	pthread_t t;
	uid_t ids[3];
	pid_t pid;
	char c;
	int fd, i, ok;

	/* Out of the way first: any of these may sit on 0-2 or 10-11. */
	cmd = fcntl(cmd, F_DUPFD, 100);
	ack = fcntl(ack, F_DUPFD, 100);
	fd = open("/dev/null", O_RDWR);
	if (cmd < 0 || ack < 0 || fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
	    dup2(fd, 2) < 0 || dup2(cmd, CMD_FD) < 0 || dup2(ack, ACK_FD) < 0)
		_exit(10);
	close_range(3, CMD_FD - 1, 0);
	close_range(ACK_FD + 1, ~0U, 0);
	if (mmap(anon, ANON_PAGES * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != anon)
		_exit(11);
	fd = open(file_path, O_RDONLY);
	if (fd < 0 || mmap(file_map, FILE_PAGES * PS, file_prot, MAP_PRIVATE |
			   MAP_FIXED_NOREPLACE, fd, 0) != file_map)
		_exit(12);
	close(fd);
	for (i = 1; i < ANON_PAGES; i += 2)
		fill_page(anon + i * PS, SEED, i);
	c = file_map[0];	/* a page-cache page, mapped */
	sigemptyset(&sa.sa_mask);
	ss.ss_sp = malloc(ss.ss_size);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaltstack(&ss, NULL) ||
	    sigprocmask(SIG_BLOCK, &set, NULL))
		_exit(13);
	if ((with & WITH_THREAD) && pthread_create(&t, NULL, worker_thread, NULL))
		_exit(14);
	if (with & WITH_EVENTS)
		make_event_fds();
	if (with & WITH_CHANNELS)
		make_channels(with);
	unmap_shared_anonymous();
	if (with & WITH_SHARED)
		make_shared();
	if (with & WITH_SHARED_ALIAS)
		alias_shared();
	if (with & WITH_SHARED_CHILD)
		share_with_child();
	if ((with & WITH_UNDUMPABLE) && prctl(PR_SET_DUMPABLE, 0))
		_exit(27);
	reply('R');
	while (next_request(with & WITH_EVENTS, &c)) {
		switch (c) {
		case 'c':	/* memory as it was */
			ok = page_has_pattern(file_map, 0, 0);
			for (i = 0; i < ANON_PAGES; i++)
				ok &= i % 2 ? page_has_pattern(anon + i * PS, SEED, i) :
					      page_is_zero(anon + i * PS);
			reply(ok ? 'A' : 'X');
			break;
		case 'u':	/* the handler ran */
			reply(__atomic_load_n(&got_usr1, __ATOMIC_RELAXED) ? 'U' : 'N');
			break;
		case 'm':	/* the mask and the alternate stack */
			sigprocmask(SIG_BLOCK, NULL, &set);
			sigaltstack(NULL, &ss);
			reply(sigismember(&set, SIGUSR2) && ss.ss_size == 65536 ? 'M' : 'N');
			break;
		case 'p':
			pid = getpid();
			if (write(ACK_FD, &pid, sizeof(pid)) != sizeof(pid))
				_exit(21);
			break;
		case 'i':	/* who it runs as */
			ids[0] = getuid();
			ids[1] = geteuid();
			ids[2] = getegid();
			if (write(ACK_FD, ids, sizeof(ids)) != sizeof(ids))
				_exit(22);
			break;
		case 't':	/* the second thread runs and answers */
			reply(ask_worker());
			break;
		case 'v':
			reply(check_event_fds());
			break;
		case 'w':
			reply(check_channels());
			break;
		case 's':
			reply(check_shared());
			break;
		case 'd':	/* may be dumped and ptraced by its user */
			reply(prctl(PR_GET_DUMPABLE) == 1 ? 'D' : 'N');
			break;
		case 'e':
			_exit(7);
		}
	}
	_exit(15);
}

struct restore_ctx {
	char *anon, *file_map;
	char file_path[64], image_path[64];
	int image_fd;
	pid_t dumpee, launcher;
	int cmd, ack;		/* our ends of the restored process's channel */
	char maps[8192];
};

FIXTURE(restore) {
	struct restore_ctx c;
};

static void read_maps(pid_t pid, char *buf, size_t len)
{
	char path[64], line[512];
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		/* Ranges, permissions and paths; inode numbers may differ. */
		unsigned long long s, e;
		char perms[5], name[256] = "";

		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %255s", &s, &e, perms,
			   name) < 3 || strstr(name, "vsyscall") || strstr(name, "vvar"))
			continue;
		used += snprintf(buf + used, len - used, "%llx-%llx %s %s\n", s, e,
				 perms, name);
		if (used >= len)
			break;
	}
	if (f)
		fclose(f);
}

static int start_dumpee(struct __test_metadata *_metadata,
			struct restore_ctx *rc, int with)
{
	int cmd[2], ack[2];
	char c;

	if (pipe(cmd) || pipe(ack))
		return -1;
	rc->dumpee = fork();
	if (!rc->dumpee)
		dumpee(rc->anon, rc->file_map, rc->file_path, cmd[0], ack[1],
		       with);
	close(cmd[0]);
	close(ack[1]);
	/* Kept open until the dump: the dumpee must stay blocked in read(). */
	rc->cmd = cmd[1];
	if (read(ack[0], &c, 1) != 1 || c != 'R')
		return -1;
	close(ack[0]);
	read_maps(rc->dumpee, rc->maps, sizeof(rc->maps));
	return 0;
}

static unsigned int dump_flags;	/* dump_dumpee() adds them to its options */

static int dump_dumpee(struct restore_ctx *rc)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL | dump_flags };
	char why[SPICE_IMAGE_WHY_LEN];
	int err;

	err = spice_dump(rc->dumpee, rc->image_fd, &opts, NULL, why);
	if (err)
		fprintf(stderr, "# spice_dump: %s\n", why);
	waitpid(rc->dumpee, NULL, 0);
	rc->dumpee = -1;
	close(rc->cmd);
	rc->cmd = -1;
	return err;
}

/*
 * Fork a launcher that becomes the image's process, with fresh pipes as
 * its channel; if restore_process() returns, the launcher exits with
 * 100 + errno.
 */
/* Drop the capabilities that bypass file permissions, in this thread. */
static int drop_dac_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(CAP_TO_MASK(CAP_DAC_OVERRIDE) |
			       CAP_TO_MASK(CAP_DAC_READ_SEARCH));
	return syscall(SYS_capset, &hdr, data);
}

static bool drop_dac;	/* launch() drops them before restoring */
static uid_t launch_as;	/* if set, launch() restores as this uid and gid */

/*
 * Become @uid (and gid @uid) keeping only CAP_CHECKPOINT_RESTORE, which
 * restore_process() needs.
 */
static int become_user(uid_t uid)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (prctl(PR_SET_KEEPCAPS, 1) || setresgid(uid, uid, uid) ||
	    setgroups(0, NULL) || setresuid(uid, uid, uid))
		return -1;
	data[CAP_TO_INDEX(CAP_CHECKPOINT_RESTORE)].effective =
		CAP_TO_MASK(CAP_CHECKPOINT_RESTORE);
	data[CAP_TO_INDEX(CAP_CHECKPOINT_RESTORE)].permitted =
		CAP_TO_MASK(CAP_CHECKPOINT_RESTORE);
	return syscall(SYS_capset, &hdr, data);
}

static bool open_by_path;	/* launch() opens the image itself, after launch_as */
static bool supply_hup;	/* launch() supplies HUP_FD, a pipe without writer */
static bool supply_lone;	/* ... and LONE_RD_FD, another */
static int stats_wr = -1;	/* if set, launch() asks for stats there */
static bool uffd_armed;		/* launch() registers a userfaultfd first */
static bool undumpable;		/* launch() clears PR_SET_DUMPABLE first */
static int wait_fd = -1;	/* launch() reads a byte from it first */

/* A page of the launcher under a userfaultfd; 0 or -1. */
static int arm_userfaultfd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	void *page = mmap(NULL, PS, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (fd < 0 || page == MAP_FAILED || ioctl(fd, UFFDIO_API, &api))
		return -1;
	reg.range.start = (uintptr_t)page;
	reg.range.len = PS;
	return ioctl(fd, UFFDIO_REGISTER, &reg);
}

/* What launch() supplies as the restored process's CMD_FD. */
#define SUPPLY_PIPES		1
#define SUPPLY_CMD_FILE		2	/* a regular file: epoll cannot watch it */

static pid_t launch(struct restore_ctx *rc, int supply)
{
	struct restore_process_fd map[3];
	struct restore_process_args args = {};
	int cmd[2], ack[2], hup[2];
	pid_t pid;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -1;
	pid = fork();
	if (!pid) {
		alarm(60);	/* never outlive the test */
		if (drop_dac && drop_dac_caps())
			_exit(99);
		if (launch_as && become_user(launch_as))
			_exit(96);
		if (uffd_armed && arm_userfaultfd())
			_exit(95);
		if (undumpable && prctl(PR_SET_DUMPABLE, 0))
			_exit(94);
		if (wait_fd >= 0 && read(wait_fd, &c, 1) != 1)
			_exit(93);
		if (open_by_path) {
			close(rc->image_fd);
			rc->image_fd = open(rc->image_path, O_RDONLY);
			if (rc->image_fd < 0)
				_exit(100 + errno);
		}
		map[0] = (struct restore_process_fd){ .image_fd = CMD_FD, .fd = cmd[0] };
		map[1] = (struct restore_process_fd){ .image_fd = ACK_FD, .fd = ack[1] };
		if (supply == SUPPLY_CMD_FILE)
			map[0].fd = open(rc->file_path, O_RDONLY);
		if (supply) {
			args.fd_map = (uintptr_t)map;
			args.nr_fd_map = 2;
		}
		if (supply_hup || supply_lone) {
			if (pipe(hup))
				_exit(97);
			close(hup[1]);
			map[2] = (struct restore_process_fd){
				.image_fd = supply_hup ? HUP_FD : LONE_RD_FD,
				.fd = hup[0] };
			args.nr_fd_map = 3;
		}
		args.stats_fd = stats_wr;
		sys_restore_process(rc->image_fd, &args, sizeof(args),
				    stats_wr >= 0 ? RESTORE_PROCESS_STATS : 0);
		_exit(100 + errno);
	}
	close(cmd[0]);
	close(ack[1]);
	rc->cmd = cmd[1];
	rc->ack = ack[0];
	rc->launcher = pid;
	return pid;
}

static char ask(struct restore_ctx *rc, char c)
{
	if (write(rc->cmd, &c, 1) != 1 || read(rc->ack, &c, 1) != 1)
		return 0;
	return c;
}

/* Whether the restored process's uid, euid and egid are all @uid. */
static bool runs_as(struct restore_ctx *rc, uid_t uid)
{
	uid_t ids[3];

	return write(rc->cmd, "i", 1) == 1 &&
	       read(rc->ack, ids, sizeof(ids)) == sizeof(ids) &&
	       ids[0] == uid && ids[1] == uid && ids[2] == uid;
}

/* The launcher's exit status: 100 + errno if restore_process() failed. */
static int launcher_status(struct restore_ctx *rc);

/* ask(), saying how the launcher ended when no reply comes. */
static char ask_restored(struct __test_metadata *_metadata,
			 struct restore_ctx *rc, char c)
{
	char reply = ask(rc, c);

	if (!reply)
		TH_LOG("no reply: the launcher ended with %d", launcher_status(rc));
	return reply;
}

static int launcher_status(struct restore_ctx *rc)
{
	return spice_test_reap(&rc->launcher);
}

/* Tell the restored process to exit: it ends with its own status, 7. */
static void end_restored(struct __test_metadata *_metadata,
			 struct restore_ctx *rc)
{
	ASSERT_EQ(1, write(rc->cmd, "e", 1));
	EXPECT_EQ(7, launcher_status(rc));
}

FIXTURE_SETUP(restore)
{
	struct restore_ctx *rc = &self->c;
	char *buf;
	int fd, i;

	rc->dumpee = -1;
	rc->launcher = -1;
	rc->cmd = -1;
	rc->ack = -1;
	signal(SIGPIPE, SIG_IGN);
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	rc->anon = free_range((ANON_PAGES + 1 + FILE_PAGES) * PS);
	ASSERT_NE(NULL, rc->anon);
	rc->file_map = rc->anon + (ANON_PAGES + 1) * PS;
	snprintf(rc->file_path, sizeof(rc->file_path), "/tmp/spice-restore-file-XXXXXX");
	fd = mkstemp(rc->file_path);
	ASSERT_LE(0, fd);
	buf = malloc(PS);
	for (i = 0; i < FILE_PAGES; i++) {
		fill_page(buf, 0, i);
		ASSERT_EQ(PS, pwrite(fd, buf, PS, i * PS));
	}
	free(buf);
	close(fd);
	snprintf(rc->image_path, sizeof(rc->image_path), "/tmp/spice-restore-image-XXXXXX");
	rc->image_fd = mkstemp(rc->image_path);
	ASSERT_LE(0, rc->image_fd);
}

FIXTURE_TEARDOWN(restore)
{
	struct restore_ctx *rc = &self->c;

	if (rc->dumpee > 0) {
		kill(rc->dumpee, SIGKILL);
		waitpid(rc->dumpee, NULL, 0);
	}
	if (rc->launcher > 0) {
		kill(rc->launcher, SIGKILL);
		waitpid(rc->launcher, NULL, 0);
	}
	unlink(rc->file_path);
	unlink(rc->image_path);
}

TEST_F(restore, resumes_where_it_was_dumped)
{
	struct restore_ctx *rc = &self->c;
	char maps[8192];
	pid_t pid = 0;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, 1));

	/* The read it was blocked in restarts and gets this request. */
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	EXPECT_EQ('M', ask(rc, 'm'));
	ASSERT_EQ(0, kill(rc->launcher, SIGUSR1));
	EXPECT_EQ('U', ask(rc, 'u'));
	ASSERT_EQ(1, write(rc->cmd, "p", 1));
	ASSERT_EQ(sizeof(pid), read(rc->ack, &pid, sizeof(pid)));
	EXPECT_EQ(rc->launcher, pid);
	read_maps(rc->launcher, maps, sizeof(maps));
	EXPECT_STREQ(rc->maps, maps);
	end_restored(_metadata, rc);
}

/* Each failure before the point of no return: an error, launcher intact. */
TEST_F(restore, pipes_not_supplied)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, 0));
	EXPECT_EQ(100 + EBADF, launcher_status(rc));
}

TEST_F(restore, changed_file)
{
	struct restore_ctx *rc = &self->c;
	struct timeval tv[2] = { { 1, 0 }, { 1, 0 } };

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, utimes(rc->file_path, tv));
	ASSERT_LT(0, launch(rc, 1));
	EXPECT_EQ(100 + ESTALE, launcher_status(rc));
}

/* Overwrite the dumpee's mapped file with other bytes, keeping its times. */
static int rewrite_keeping_times(const char *path)
{
	char page[PS];
	struct stat st;
	struct timespec t[2];
	int fd, ok;

	if (stat(path, &st))
		return -1;
	t[0] = st.st_atim;
	t[1] = st.st_mtim;
	memset(page, 0x5a, sizeof(page));
	fd = open(path, O_WRONLY);
	ok = fd >= 0 && pwrite(fd, page, PS, 0) == PS;
	if (fd >= 0)
		close(fd);
	return ok && !utimensat(AT_FDCWD, path, t, 0) ? 0 : -1;
}

/*
 * With the files' SHA-256 in the image, the kernel reads every file and
 * the restore still resumes the process; a file whose contents changed
 * behind the same size and modification time is then refused.
 */
TEST_F(restore, hashed_files)
{
	struct restore_ctx *rc = &self->c;

	dump_flags = SPICE_DUMP_HASH_FILES;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	dump_flags = 0;
	ASSERT_LT(0, launch(rc, 1));
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	EXPECT_EQ('M', ask(rc, 'm'));
	end_restored(_metadata, rc);
}

TEST_F(restore, changed_contents_same_times)
{
	struct restore_ctx *rc = &self->c;

	dump_flags = SPICE_DUMP_HASH_FILES;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	dump_flags = 0;
	ASSERT_EQ(0, rewrite_keeping_times(rc->file_path));
	ASSERT_LT(0, launch(rc, 1));
	EXPECT_EQ(100 + ESTALE, launcher_status(rc));
}

/*
 * Edit the image at @fd as a made-up one might be: @edit gets the entries
 * of each section of type @type in turn, then the checksum is redone.
 */
static int edit_image(int fd, uint32_t type, void (*edit)(void *entry))
{
	struct spice_image_header h;
	struct spice_image_section *sec;
	unsigned char *meta;
	uint64_t j;
	uint32_t i;
	int err = -1;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return -1;
	meta = malloc(h.metadata_size);
	if (!meta || pread(fd, meta, h.metadata_size, 0) != (ssize_t)h.metadata_size)
		goto out;
	sec = (struct spice_image_section *)(meta + h.section_table);
	for (i = 0; i < h.nr_sections; i++)
		for (j = 0; sec[i].type == type && j < sec[i].nr_entries; j++)
			edit(meta + sec[i].offset + j * sec[i].entry_size);
	spice_test_seal_metadata(meta, h.metadata_size);
	if (pwrite(fd, meta, h.metadata_size, 0) == (ssize_t)h.metadata_size)
		err = 0;
out:
	free(meta);
	return err;
}

static void no_executable(void *entry)
{
	((struct spice_image_process *)entry)->exe_file = SPICE_IMAGE_NONE;
}

/* The inner epoll instance watches the outer one instead: a loop. */
static void epoll_loop(void *entry)
{
	struct spice_image_epoll_watch *w = entry;

	if (w->epfd == INNER_EP_FD)
		w->tfd = EPOLL_FD;
}

/* An image without an executable: the process has none (exe is broken). */
TEST_F(restore, image_without_executable)
{
	struct restore_ctx *rc = &self->c;
	char exe[64], target[256];

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, edit_image(rc->image_fd, SPICE_SECT_PROCESS, no_executable));
	ASSERT_LT(0, launch(rc, 1));
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", rc->launcher);
	EXPECT_EQ(-1, readlink(exe, target, sizeof(target)));
	EXPECT_EQ(ENOENT, errno);
	end_restored(_metadata, rc);
}

/* As after exec: a launcher made undumpable gives a dumpable process. */
TEST_F(restore, dumpable_as_after_exec)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	undumpable = true;
	ASSERT_LT(0, launch(rc, 1));
	undumpable = false;
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	EXPECT_EQ('D', ask(rc, 'd'));
	end_restored(_metadata, rc);
}

/* But a program that made itself undumpable stays so. */
TEST_F(restore, undumpable_program_stays_undumpable)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_UNDUMPABLE));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, 1));
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	EXPECT_EQ('N', ask(rc, 'd'));
	end_restored(_metadata, rc);
}

/*
 * As after exec, a tracer that asked for PTRACE_O_TRACEEXEC stops the
 * process once it is restored, with the pid as the event message; then
 * the process runs on.
 */
TEST_F(restore, exec_event_for_a_tracer)
{
	struct restore_ctx *rc = &self->c;
	unsigned long msg = 0;
	int go[2], status;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, pipe(go));
	wait_fd = go[0];
	ASSERT_LT(0, launch(rc, 1));
	wait_fd = -1;
	close(go[0]);
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, rc->launcher, 0, PTRACE_O_TRACEEXEC));
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	ASSERT_EQ(rc->launcher, waitpid(rc->launcher, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	EXPECT_EQ(SIGTRAP | PTRACE_EVENT_EXEC << 8, status >> 8);
	EXPECT_EQ(0, ptrace(PTRACE_GETEVENTMSG, rc->launcher, 0, &msg));
	EXPECT_EQ(rc->launcher, (pid_t)msg);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, rc->launcher, 0, 0));
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	end_restored(_metadata, rc);
}

TEST_F(restore, missing_file)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, unlink(rc->file_path));
	ASSERT_LT(0, launch(rc, 1));
	EXPECT_EQ(100 + ENOENT, launcher_status(rc));
}

/*
 * Every thread comes back: the second one, blocked in a condition wait at
 * the dump, wakes when the first signals it, through a futex.
 */
TEST_F(restore, threads_are_restored)
{
	struct restore_ctx *rc = &self->c;
	char path[64];
	struct stat st;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_THREAD));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, 1));
	ASSERT_EQ('A', ask_restored(_metadata, rc, 'c'));
	/* A directory's link count: 2 + its subdirectories, one per thread. */
	snprintf(path, sizeof(path), "/proc/%d/task", rc->launcher);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(2 + 2, st.st_nlink);
	EXPECT_EQ('M', ask(rc, 'm'));
	EXPECT_EQ('T', ask(rc, 't'));
	end_restored(_metadata, rc);
}

/*
 * Eventfds keep their counter and modes, a signalfd its mask and modes,
 * the epoll instance its interest list (the launcher's pipe in place of
 * the dumped one) and close-on-exec; the process resumes in the
 * epoll_wait() it was blocked in.
 */
TEST_F(restore, eventfd_and_epoll)
{
	struct restore_ctx *rc = &self->c;

	supply_hup = true;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_EVENTS));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_EQ('V', ask_restored(_metadata, rc, 'v'));
	EXPECT_EQ('A', ask(rc, 'c'));
	end_restored(_metadata, rc);
}

/*
 * A pipe and socket pairs whose both ends the process held are made anew,
 * the pipe with the byte it held, with each end's flags and fds; a pipe
 * whose writer was closed still reads end of file, from the launcher's
 * pipe.
 */
TEST_F(restore, internal_pipes_and_socketpairs)
{
	struct restore_ctx *rc = &self->c;

	supply_lone = true;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_CHANNELS));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_EQ('W', ask_restored(_metadata, rc, 'w'));
	EXPECT_EQ('A', ask(rc, 'c'));
	end_restored(_metadata, rc);
}

/*
 * Shared anonymous memory comes back whole, pages the page tables no
 * longer showed included, as shared memory: a child's write is seen.
 */
TEST_F(restore, shared_anonymous_memory)
{
	struct restore_ctx *rc = &self->c;
	char maps[8192];

	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_SHARED));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_EQ('S', ask_restored(_metadata, rc, 's'));
	EXPECT_EQ('A', ask(rc, 'c'));
	read_maps(rc->launcher, maps, sizeof(maps));
	EXPECT_STREQ(rc->maps, maps);
	end_restored(_metadata, rc);
}

/*
 * Memory of the launcher that a userfaultfd monitor serves is refused
 * before the point of no return, not taken from the monitor unannounced.
 */
TEST_F(restore, userfaultfd_on_the_caller)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	uffd_armed = true;
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	uffd_armed = false;
	EXPECT_EQ(100 + EBUSY, launcher_status(rc));
}

/*
 * A dumpee set up @with what the dumper refuses: EOPNOTSUPP, a reason
 * saying @reason, and the process left running (then killed here).
 */
static void expect_not_dumped(struct __test_metadata *_metadata,
			      struct restore_ctx *rc, int with, const char *reason)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	char why[SPICE_IMAGE_WHY_LEN];

	ASSERT_EQ(0, start_dumpee(_metadata, rc, with));
	EXPECT_EQ(-EOPNOTSUPP, spice_dump(rc->dumpee, rc->image_fd, &opts, NULL, why));
	EXPECT_NE(NULL, strstr(why, reason));
	EXPECT_EQ(0, kill(rc->dumpee, 0));
	kill(rc->dumpee, SIGKILL);
	waitpid(rc->dumpee, NULL, 0);
	rc->dumpee = -1;
}

/* The same shared pages mapped twice would come back as two copies. */
TEST_F(restore, shared_anonymous_alias_is_not_dumped)
{
	expect_not_dumped(_metadata, &self->c, WITH_SHARED | WITH_SHARED_ALIAS,
			  "same shared memory");
}

/* Shared memory another process maps would be shared with it no more. */
TEST_F(restore, shared_anonymous_of_another_process_is_not_dumped)
{
	expect_not_dumped(_metadata, &self->c, WITH_SHARED | WITH_SHARED_CHILD,
			  "another process maps too");
}

/*
 * A socket pair with anything queued, even an empty datagram, is not
 * dumped: it would come back empty.
 */
TEST_F(restore, internal_socketpair_with_data_is_not_dumped)
{
	expect_not_dumped(_metadata, &self->c, WITH_CHANNELS | WITH_SOCK_DATA,
			  "unread");
}

/*
 * RESTORE_PROCESS_STATS: one record, written as the restored process
 * starts, with phases that add up and counts that match the image.
 */
TEST_F(restore, stats_of_a_restore)
{
	struct restore_ctx *rc = &self->c;
	struct restore_process_stats st;
	uint64_t phases;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	stats_wr = p[1];
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	stats_wr = -1;
	close(p[1]);
	EXPECT_EQ('A', ask(rc, 'c'));
	ASSERT_EQ(sizeof(st), read(p[0], &st, sizeof(st)));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(1, st.nr_threads);
	EXPECT_EQ(5, st.nr_fds);	/* 0-2, CMD_FD, ACK_FD */
	EXPECT_LT(0, st.nr_vmas);
	EXPECT_LT(0, st.pages_populated);
	EXPECT_LT(0, st.bytes_read);
	EXPECT_LT(0, st.io_requests);
	EXPECT_LT(0, st.memory_ns);
	EXPECT_LT(0, st.commit_ns);
	phases = st.image_ns + st.files_ns + st.memory_ns + st.commit_ns +
		 st.threads_ns;
	EXPECT_LE(phases, st.total_ns);
	/* The kernel let go of the pipe: nothing after the record. */
	EXPECT_EQ(0, read(p[0], &st, 1));
	close(p[0]);
	end_restored(_metadata, rc);
}

/* epoll_ctl(2)'s own refusals, before the point of no return. */
TEST_F(restore, epoll_watch_of_unpollable_file)
{
	struct restore_ctx *rc = &self->c;

	supply_hup = true;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_EVENTS));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_LT(0, launch(rc, SUPPLY_CMD_FILE));
	EXPECT_EQ(100 + EPERM, launcher_status(rc));
}

/* Epoll instances that watch each other, as no process can have them. */
TEST_F(restore, epoll_instances_watching_each_other)
{
	struct restore_ctx *rc = &self->c;

	supply_hup = true;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, WITH_EVENTS));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, edit_image(rc->image_fd, SPICE_SECT_EPOLL, epoll_loop));
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_EQ(100 + ELOOP, launcher_status(rc));
}

/*
 * The launcher's permissions, not the dumped process's: a file it cannot
 * read fails the restore (-EACCES), root or not.
 */
TEST_F(restore, file_the_launcher_cannot_read)
{
	struct restore_ctx *rc = &self->c;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, chmod(rc->file_path, 0));
	drop_dac = true;
	ASSERT_LT(0, launch(rc, 1));
	drop_dac = false;
	EXPECT_EQ(100 + EACCES, launcher_status(rc));
}

/*
 * Credentials are the launcher's, never the image's: a process dumped
 * while running as root, restored by an unprivileged launcher that holds
 * only CAP_CHECKPOINT_RESTORE, runs as that launcher's user.  (The same
 * holds for the image of a setuid program: nothing in the format carries
 * credentials.)
 */
TEST_F(restore, credentials_are_the_launchers)
{
	struct restore_ctx *rc = &self->c;

	if (geteuid())
		SKIP(return, "needs root to dump as root");
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, chmod(rc->file_path, 0644));	/* readable by the launcher */
	launch_as = 1000;
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	launch_as = 0;
	EXPECT_TRUE(runs_as(rc, 1000));
	EXPECT_EQ('A', ask(rc, 'c'));
	end_restored(_metadata, rc);
}

/*
 * Another user's image: what the launcher may read is what it may restore.
 * Root's image, mode 0600, cannot be opened by a launcher running as
 * another user (EACCES from open(2): restore_process() takes an fd, never
 * a path); once readable, it restores as that launcher, not as root.
 */
TEST_F(restore, another_users_image)
{
	struct restore_ctx *rc = &self->c;

	if (geteuid())
		SKIP(return, "needs root to own the image");
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, chmod(rc->file_path, 0644));
	ASSERT_EQ(0, chmod(rc->image_path, 0600));
	launch_as = 1000;
	open_by_path = true;
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_EQ(100 + EACCES, launcher_status(rc));
	close(rc->cmd);
	close(rc->ack);

	ASSERT_EQ(0, chmod(rc->image_path, 0644));
	ASSERT_LT(0, launch(rc, SUPPLY_PIPES));
	EXPECT_TRUE(runs_as(rc, 1000));
	EXPECT_EQ('A', ask(rc, 'c'));
	end_restored(_metadata, rc);
}

/* An executable mapping of a file on a mount that is noexec now: -EPERM. */
TEST_F(restore, exec_mapping_from_noexec_mount)
{
	struct restore_ctx *rc = &self->c;
	char dir[] = "/tmp/spice-noexec-XXXXXX", path[64];
	char *buf = malloc(PS);
	int fd, i;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "cannot mount tmpfs");
	}
	snprintf(path, sizeof(path), "%s/lib", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0755);
	ASSERT_LE(0, fd);
	for (i = 0; i < FILE_PAGES; i++) {
		fill_page(buf, 0, i);
		ASSERT_EQ(PS, pwrite(fd, buf, PS, i * PS));
	}
	close(fd);
	free(buf);
	unlink(rc->file_path);
	snprintf(rc->file_path, sizeof(rc->file_path), "%s", path);
	file_prot = PROT_READ | PROT_EXEC;
	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	file_prot = PROT_READ;
	ASSERT_EQ(0, dump_dumpee(rc));
	ASSERT_EQ(0, mount(NULL, dir, NULL, MS_REMOUNT | MS_NOEXEC, NULL));
	ASSERT_LT(0, launch(rc, 1));
	EXPECT_EQ(100 + EPERM, launcher_status(rc));
	unlink(path);
	umount(dir);
	rmdir(dir);
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* A launcher with a second thread cannot replace its address space. */
TEST_F(restore, busy_launcher)
{
	struct restore_ctx *rc = &self->c;
	struct restore_process_args args = {};
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, start_dumpee(_metadata, rc, 0));
	ASSERT_EQ(0, dump_dumpee(rc));
	pid = fork();
	if (!pid) {
		if (pthread_create(&t, NULL, sleeper, NULL))
			_exit(1);
		sys_restore_process(rc->image_fd, &args, sizeof(args), 0);
		_exit(100 + errno);
	}
	rc->launcher = pid;
	EXPECT_EQ(100 + EBUSY, launcher_status(rc));
}

TEST_HARNESS_MAIN
