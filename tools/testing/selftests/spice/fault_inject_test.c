// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() under allocation failures: the n-th slab or page
 * allocation of the call fails (fail-nth, with failslab and
 * fail_page_alloc set to fail sleeping and order-0 allocations too), for
 * n = 1, 2, ... until the call makes fewer than n.  Each restore must end
 * one of three ways: an error before the point of no return, SIGKILL
 * after it, or a process that works (the failure was one it can take).
 * Never a crash, a hang or a process that runs half-restored; the memcg
 * the launchers ran in goes back to its usage after a clean restore.  The
 * debug configuration's kmemleak, KASAN and lockdep watch the rest.
 * Skips without CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB, FAIL_PAGE_ALLOC.
 * The sweep stops after SPICE_FAULT_SECONDS (default 200) and says how far
 * it got, so that it fits the kselftest timeout under emulation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dumpee.h"

#define SEED		11
#define MAX_POINTS	20000
#define DBG		"/sys/kernel/debug/"

/* Knobs set for the sweep, restored after it. */
static const char *const knobs[][2] = {
	{ DBG "failslab/ignore-gfp-wait", "N" },
	{ DBG "failslab/verbose", "0" },
	{ DBG "fail_page_alloc/ignore-gfp-wait", "N" },
	{ DBG "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DBG "fail_page_alloc/min-order", "0" },
	{ DBG "fail_page_alloc/verbose", "0" },
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static void read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

FIXTURE(fault_inject) {
	char saved[6][16];
	char image[64], cg[64];
	int image_fd;
};

FIXTURE_SETUP(fault_inject)
{
	unsigned int i;

	self->image_fd = -1;
	self->cg[0] = '\0';
	signal(SIGPIPE, SIG_IGN);	/* a failed launcher closes its pipe */
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(DBG "failslab", F_OK) || access(DBG "fail_page_alloc", F_OK))
		SKIP(return, "no fail-nth, failslab or fail_page_alloc");
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		read_str(knobs[i][0], self->saved[i], sizeof(self->saved[i]));
		ASSERT_EQ(0, write_str(knobs[i][0], knobs[i][1]));
	}
	snprintf(self->image, sizeof(self->image), "/tmp/spice-fault-XXXXXX");
	self->image_fd = mkstemp(self->image);
	ASSERT_LE(0, self->image_fd);
	ASSERT_EQ(0, dump_new_dumpee(SEED, self->image_fd));
	/* The launchers run in their own memcg, when there is one. */
	if (!write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory")) {
		snprintf(self->cg, sizeof(self->cg), "/sys/fs/cgroup/spice-fault-%d",
			 getpid());
		if (mkdir(self->cg, 0755))
			self->cg[0] = '\0';
	}
}

FIXTURE_TEARDOWN(fault_inject)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (self->saved[i][0])
			write_str(knobs[i][0], self->saved[i]);
	if (self->image_fd >= 0) {
		close(self->image_fd);
		unlink(self->image);
	}
	if (self->cg[0])
		rmdir(self->cg);
}

enum outcome { ERROR, KILLED, WORKS, BROKEN };

/*
 * Wait until @pid is back in the read() it was dumped in, or has ended:
 * the restore is over, and fail-nth must stop before the restored process
 * allocates on its own (faulting its pages in).
 */
static void wait_restored(pid_t pid)
{
	char sys[64], stat[64], buf[128];
	int i;

	snprintf(sys, sizeof(sys), "/proc/%d/syscall", pid);
	snprintf(stat, sizeof(stat), "/proc/%d/stat", pid);
	for (i = 0; i < 60000; i++) {
		read_str(sys, buf, sizeof(buf));
		if (!buf[0] || !strncmp(buf, "0 ", 2))
			return;
		read_str(stat, buf, sizeof(buf));
		if (strstr(buf, ") Z ") || strstr(buf, ") X "))
			return;
		usleep(1000);
	}
}

/*
 * Restore the image in a launcher whose n-th allocation in the call fails
 * (none if @nth is 0); *@err is the errno of an error, *@left what remained
 * of fail-nth once the process was restored (the failure never came).
 */
static enum outcome restore_once(const char *cg, int image_fd,
				 unsigned int nth, int *err, long *left)
{
	struct restore_process_fd map[2];
	struct restore_process_args args = {};
	int req[2], rep[2], status, ok = 0;
	struct pollfd p;
	char path[96], c;
	pid_t pid;

	*left = 0;
	if (pipe(req) || pipe(rep))
		return BROKEN;
	pid = fork();
	if (!pid) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		if (cg[0] && write_str(path, "0"))
			_exit(98);
		map[0] = (struct restore_process_fd){ .image_fd = 0, .fd = req[0] };
		map[1] = (struct restore_process_fd){ .image_fd = 1, .fd = rep[1] };
		args.fd_map = (uintptr_t)map;
		args.nr_fd_map = 2;
		snprintf(path, sizeof(path), "%u", nth);
		if (nth && write_str("/proc/thread-self/fail-nth", path))
			_exit(99);
		syscall(__NR_restore_process, image_fd, &args, sizeof(args), 0);
		_exit(100 + errno);
	}
	close(req[0]);
	close(rep[1]);
	/* Restored and blocked in read() again: stop any failure to come. */
	wait_restored(pid);
	snprintf(path, sizeof(path), "/proc/%d/fail-nth", pid);
	*left = read_long(path);
	write_str(path, "0");
	p = (struct pollfd){ .fd = rep[0], .events = POLLIN };
	if (write(req[1], "c", 1) == 1 && poll(&p, 1, 60000) == 1 &&
	    read(rep[0], &c, 1) == 1)
		ok = c == 'A' && write(req[1], "e", 1) == 1;
	if (!ok)
		kill(pid, SIGKILL);
	close(req[1]);
	close(rep[0]);
	if (waitpid(pid, &status, 0) != pid)
		return BROKEN;
	if (ok)
		return WIFEXITED(status) && !WEXITSTATUS(status) ? WORKS : BROKEN;
	if (WIFEXITED(status) && WEXITSTATUS(status) > 100) {
		*err = WEXITSTATUS(status) - 100;
		return ERROR;
	}
	/* Killed by the call itself, with no reply: past the PONR. */
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? KILLED : BROKEN;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST_F_TIMEOUT(fault_inject, sweep, 240)
{
	const char *env = getenv("SPICE_FAULT_SECONDS");
	double end = now_s() + (env ? atof(env) : 200);
	unsigned int nth, counts[4] = {}, errs[134] = {};
	long left, before = -1, after;
	bool complete = false;
	char path[96];
	int err = 0, e;
	enum outcome o;

	snprintf(path, sizeof(path), "%s/memory.current", self->cg);
	o = restore_once(self->cg, self->image_fd, 0, &err, &left);
	if (o != WORKS)
		TH_LOG("a restore without failures: outcome %d, %s", o, strerror(err));
	ASSERT_EQ(WORKS, o);
	if (self->cg[0])
		before = read_long(path);
	for (nth = 1; nth <= MAX_POINTS && now_s() < end; nth++) {
		err = 0;
		o = restore_once(self->cg, self->image_fd, nth, &err, &left);
		counts[o]++;
		if (o == ERROR && err > 0 && err < 134)
			errs[err]++;
		if (o == BROKEN)
			TH_LOG("failure %u: the restored process misbehaved", nth);
		/* A restore that never reached its n-th allocation: done. */
		if (o == WORKS && left > 0) {
			complete = true;
			break;
		}
	}
	TH_LOG("%s%u allocation points:", complete ? "all " : "time is up after ",
	       nth - 1);
	TH_LOG("  %u errors before the point of no return, %u SIGKILLs after it,",
	       counts[ERROR], counts[KILLED]);
	TH_LOG("  %u restores that took the failure", counts[WORKS] - complete);
	for (e = 1; e < 134; e++)
		if (errs[e])
			TH_LOG("  %s: %u", strerrorname_np(e), errs[e]);
	EXPECT_EQ(0, counts[BROKEN]);
	EXPECT_GT(MAX_POINTS, nth);
	EXPECT_LT(0, counts[ERROR]);	/* the sweep did inject failures */
	/*
	 * Only allocation failures, or the I/O they cause, were injected;
	 * making a pipe or socket reports a failed inode or file allocation
	 * as ENFILE, as pipe2() and socketpair() do, a pending signal's
	 * or a POSIX timer's queue entry as EAGAIN, as sigqueue() and
	 * timer_create() do, and a file lock as ENOLCK, as flock() does.
	 */
	for (e = 1; e < 134; e++)
		if (e != ENOMEM && e != EIO && e != EINTR && e != ENFILE &&
		    e != EAGAIN && e != ENOLCK)
			EXPECT_EQ(0, errs[e]);
	if (before >= 0) {
		ASSERT_EQ(WORKS, restore_once(self->cg, self->image_fd, 0, &err, &left));
		after = read_long(path);
		TH_LOG("memcg usage %ld after a clean restore, %ld after the sweep",
		       before, after);
		/* Page cache of the image may come and go; no more than that. */
		EXPECT_GE(before + 64 * 4096, after);
	}
}

TEST_HARNESS_MAIN
