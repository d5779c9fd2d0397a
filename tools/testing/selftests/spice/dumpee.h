/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small process to dump and restore, for the fault-injection and stress
 * tests: anonymous memory with a known pattern, shared anonymous memory, a
 * second thread, an internal pipe holding a byte, an internal socket pair,
 * a memfd sealed against growing and mapped shared, an unbound TCP socket
 * with SO_REUSEADDR, a blocked real-time signal pending and a shared
 * flock() lock on fd 2 (so that their making is swept too), and a request
 * channel on fds 0 and 1 ('c': answers 'A' if the memory and the memfd
 * are intact, the pipe still holds its byte and the signal is still
 * pending, 'X' if not; 'e': exits 0).
 * Its fd 2 is /dev/null.
 */
#ifndef SPICE_DUMPEE_H
#define SPICE_DUMPEE_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "mmap_restore_util.h"

#define DUMPEE_PAGES	16

static void *dumpee_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static inline void dumpee_main(int req, int rep, uint32_t seed)
{
	char *p = mmap(NULL, DUMPEE_PAGES * PS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i, ok, pipe_fds[2], pair[2], queued, memfd, sock, one = 1;
	union sigval value = { .sival_int = 7 };
	sigset_t rt, pending;
	char *shared, *in_memfd;
	pthread_t t;
	char c;

	/* fd 2 on /dev/null, which a restore reopens by path. */
	if (p == MAP_FAILED || dup2(req, 0) < 0 || dup2(rep, 1) < 0 ||
	    dup2(open("/dev/null", O_WRONLY), 2) < 0 || flock(2, LOCK_SH | LOCK_NB))
		_exit(10);
	close_range(3, ~0U, 0);
	if (pipe(pipe_fds) || write(pipe_fds[1], "p", 1) != 1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, pair))
		_exit(15);
	for (i = 0; i < DUMPEE_PAGES; i += 2)
		fill_page(p + i * PS, seed, i);
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 3);
	if (sigprocmask(SIG_BLOCK, &rt, NULL) ||
	    pthread_create(&t, NULL, dumpee_idle, NULL) ||
	    sigqueue(getpid(), SIGRTMIN + 3, value))
		_exit(11);
	unmap_shared_anonymous();
	shared = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		_exit(16);
	fill_page(shared, seed ^ 1, 0);
	memfd = memfd_create("dumpee", MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, PS))
		_exit(17);
	in_memfd = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (in_memfd == MAP_FAILED)
		_exit(17);
	fill_page(in_memfd, seed ^ 2, 0);
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_GROW))
		_exit(17);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		_exit(18);
	if (write(1, "R", 1) != 1)
		_exit(12);
	while (read(0, &c, 1) == 1) {
		if (c == 'e')
			_exit(0);
		ok = !ioctl(pipe_fds[0], FIONREAD, &queued) && queued == 1 &&
		     page_has_pattern(shared, seed ^ 1, 0) && page_is_zero(shared + PS) &&
		     page_has_pattern(in_memfd, seed ^ 2, 0) &&
		     fcntl(memfd, F_GET_SEALS) == F_SEAL_GROW &&
		     !sigpending(&pending) && sigismember(&pending, SIGRTMIN + 3);
		for (i = 0; i < DUMPEE_PAGES; i++)
			ok &= i % 2 ? page_is_zero(p + i * PS) :
				      page_has_pattern(p + i * PS, seed, i);
		if (write(1, ok ? "A" : "X", 1) != 1)
			_exit(13);
	}
	_exit(14);
}

/* Start a dumpee with pattern @seed and dump it to @image_fd; 0 or -1. */
static inline int dump_new_dumpee(uint32_t seed, int image_fd)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	char why[SPICE_IMAGE_WHY_LEN];
	int req[2], rep[2], err = -1;
	pid_t pid;
	char c;

	if (pipe(req) || pipe(rep))
		return -1;
	pid = fork();
	if (!pid)
		dumpee_main(req[0], rep[1], seed);
	if (pid > 0 && read(rep[0], &c, 1) == 1)
		err = spice_dump(pid, image_fd, &opts, NULL, why) ? -1 : 0;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(req[0]);
	close(req[1]);
	close(rep[0]);
	close(rep[1]);
	return err;
}

#endif /* SPICE_DUMPEE_H */
