// SPDX-License-Identifier: GPL-2.0
/*
 * Spice under load, for a bounded time (SPICE_STRESS_SECONDS, default 10):
 *
 * - mmap_restore() over the same ranges, synchronous and asynchronous,
 *   while other threads munmap, mprotect, mremap and MADV_DONTNEED them,
 *   read them through process_vm_readv() (faulting pending pages in), and
 *   fork children that do the same; only documented errors may come back;
 * - 64 restore_process() calls at once, of two different images, while
 *   /proc/PID/stat of each is read in a loop, each restored process
 *   answering with its own memory intact;
 * - restores in a memcg too small for them: each fails with -ENOMEM, is
 *   killed, or works, and the launchers outside the memcg are untouched.
 *
 * Lockdep, KASAN and kmemleak in the debug configuration watch the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "spice_test.h"
#include "dumpee.h"

#define SLOT_PAGES	64
#define NR_SLOTS	4
#define IMAGE_PAGES	(NR_SLOTS * SLOT_PAGES)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double budget_s(void)
{
	const char *env = getenv("SPICE_STRESS_SECONDS");

	return env ? atof(env) : 10;
}

struct vma_race {
	char *slots;		/* NR_SLOTS * SLOT_PAGES pages */
	char *scratch;		/* where mremap moves pages to */
	int image_fd;
	double end;
	unsigned long restores, errors[134], unexpected, forks, bad_children;
};

static unsigned int rnd(unsigned int *seed, unsigned int n)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 8) % n;
}

/* Restore one slot: half image data, the rest zero; some ws, maybe async. */
static void *restorer(void *arg)
{
	struct vma_race *r = arg;
	unsigned int seed = (uintptr_t)&seed, slot, flags;
	struct restore_call c;
	long ret;

	while (now_s() < r->end) {
		slot = rnd(&seed, NR_SLOTS);
		call_init(&c, r->image_fd);
		add_region(&c, r->slots + slot * SLOT_PAGES * PS, SLOT_PAGES,
			   PROT_READ | PROT_WRITE, -1, 0, 0);
		add_interval(&c, 0, SLOT_PAGES / 2, MMAP_RESTORE_SRC_IMAGE,
			     slot * SLOT_PAGES);
		add_ws(&c, r->slots + slot * SLOT_PAGES * PS, rnd(&seed, 8),
		       1 + rnd(&seed, 24), rnd(&seed, 2));
		flags = MMAP_RESTORE_REPLACE;
		if (rnd(&seed, 2)) {
			flags |= MMAP_RESTORE_ASYNC;
			c.args.sync_pages = rnd(&seed, 4);
		}
		ret = call_restore(&c, flags);
		__atomic_add_fetch(&r->restores, 1, __ATOMIC_RELAXED);
		if (ret && errno > 0 && errno < 134)
			__atomic_add_fetch(&r->errors[errno], 1, __ATOMIC_RELAXED);
		/* With REPLACE, over ranges others change: only these. */
		if (ret && errno != ENOMEM && errno != EINTR && errno != EAGAIN)
			__atomic_add_fetch(&r->unexpected, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *mutator(void *arg)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	struct vma_race *r = arg;
	unsigned int seed = (uintptr_t)&seed;
	char *at, *to;
	size_t len;

	while (now_s() < r->end) {
		at = r->slots + rnd(&seed, NR_SLOTS * SLOT_PAGES) * PS;
		len = (1 + rnd(&seed, 16)) * PS;
		if (at + len > r->slots + IMAGE_PAGES * PS)
			len = r->slots + IMAGE_PAGES * PS - at;
		switch (rnd(&seed, 4)) {
		case 0:
			munmap(at, len);
			break;
		case 1:
			mprotect(at, len, prots[rnd(&seed, 3)]);
			break;
		case 2:
			madvise(at, len, MADV_DONTNEED);
			break;
		case 3:
			to = r->scratch + rnd(&seed, 16) * 16 * PS;
			if (mremap(at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED)
				munmap(to, len);
			break;
		}
	}
	return NULL;
}

/* Read the slots without risking SIGSEGV: faults pending pages in. */
static void read_slots(struct vma_race *r, unsigned int *seed)
{
	static __thread char buf[16 * PS];
	struct iovec local = { buf, sizeof(buf) }, remote;

	remote.iov_base = r->slots + rnd(seed, IMAGE_PAGES - 16) * PS;
	remote.iov_len = sizeof(buf);
	process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
}

static void *reader(void *arg)
{
	struct vma_race *r = arg;
	unsigned int seed = (uintptr_t)&seed;

	while (now_s() < r->end)
		read_slots(r, &seed);
	return NULL;
}

static void *forker(void *arg)
{
	struct vma_race *r = arg;
	unsigned int seed = (uintptr_t)&seed;
	int status, i;
	pid_t pid;

	while (now_s() < r->end) {
		pid = fork();
		if (!pid) {
			for (i = 0; i < 8; i++)
				read_slots(r, &seed);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			__atomic_add_fetch(&r->bad_children, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->forks, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

FIXTURE(stress) {
	double seconds;
};

FIXTURE_SETUP(stress)
{
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	signal(SIGPIPE, SIG_IGN);	/* a failed launcher closes its pipe */
	self->seconds = budget_s();
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F(stress, mmap_restore_vs_vma_changes)
{
	void *(*const fns[])(void *) = {
		restorer, restorer, restorer, mutator, mutator, reader, forker,
	};
	pthread_t t[ARRAY_SIZE(fns)];
	struct vma_race r = {};
	unsigned int i;
	int e;

	r.image_fd = make_pattern_file("/tmp", 21, IMAGE_PAGES, O_RDONLY);
	ASSERT_LE(0, r.image_fd);
	r.slots = free_range(IMAGE_PAGES * PS);
	r.scratch = mmap(NULL, 256 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(NULL, r.slots);
	ASSERT_NE(MAP_FAILED, r.scratch);
	r.end = now_s() + self->seconds;
	for (i = 0; i < ARRAY_SIZE(fns); i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fns[i], &r));
	for (i = 0; i < ARRAY_SIZE(fns); i++)
		pthread_join(t[i], NULL);
	TH_LOG("%lu restores, %lu forks in %.0f s", r.restores, r.forks, self->seconds);
	for (e = 1; e < 134; e++)
		if (r.errors[e])
			TH_LOG("  %s: %lu", strerrorname_np(e), r.errors[e]);
	EXPECT_LT(0, r.restores);
	EXPECT_EQ(0, r.unexpected);
	EXPECT_EQ(0, r.bad_children);
	munmap(r.slots, IMAGE_PAGES * PS);
	munmap(r.scratch, 256 * PS);
	close(r.image_fd);
}

struct launcher {
	pid_t pid;
	int req, rep;
	uint32_t seed;
};

/* Fork a launcher restoring @image_fd, in cgroup @cg if set. */
static int launch(struct launcher *l, int image_fd, const char *cg)
{
	struct restore_process_fd map[2];
	struct restore_process_args args = {};
	int req[2], rep[2], fd;
	char path[128];

	if (pipe(req) || pipe(rep))
		return -1;
	l->pid = fork();
	if (!l->pid) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg ? cg : "");
		fd = cg ? open(path, O_WRONLY) : -1;
		if (cg && (fd < 0 || write(fd, "0", 1) != 1))
			_exit(98);
		if (fd >= 0)
			close(fd);
		map[0] = (struct restore_process_fd){ .image_fd = 0, .fd = req[0] };
		map[1] = (struct restore_process_fd){ .image_fd = 1, .fd = rep[1] };
		args.fd_map = (uintptr_t)map;
		args.nr_fd_map = 2;
		/* Many instances of one image at once: ids of their own. */
		sys_restore_process(image_fd, &args, sizeof(args),
				    RESTORE_PROCESS_NEW_TIDS);
		_exit(100 + errno);
	}
	close(req[0]);
	close(rep[1]);
	l->req = req[1];
	l->rep = rep[0];
	return l->pid > 0 ? 0 : -1;
}

/* 'A' from a restored process with its memory, 0 if it ended. */
static char ask(struct launcher *l, char c)
{
	struct pollfd p = { .fd = l->rep, .events = POLLIN };

	if (write(l->req, &c, 1) != 1 || poll(&p, 1, 120000) != 1 ||
	    read(l->rep, &c, 1) != 1)
		return 0;
	return c;
}

/* Its wait status, once its channel is closed. */
static int finish(struct launcher *l)
{
	int status = -1;

	close(l->req);
	close(l->rep);
	waitpid(l->pid, &status, 0);
	return status;
}

#define NR_PARALLEL 64

struct proc_reader {
	struct launcher *l;
	int stop;
};

/*
 * What ps and monitoring agents do to a launcher while it restores: each
 * /proc/PID/stat read takes a passing reference on its mm, which must not
 * make restore_process() think another task shares it (-EBUSY).
 */
static void *read_proc(void *arg)
{
	struct proc_reader *r = arg;
	char path[64], buf[1024];
	int i, fd;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < NR_PARALLEL; i++) {
			snprintf(path, sizeof(path), "/proc/%d/stat", r->l[i].pid);
			fd = open(path, O_RDONLY);
			if (fd >= 0 && read(fd, buf, sizeof(buf)) < 0)
				buf[0] = 0;
			if (fd >= 0)
				close(fd);
		}
	}
	return NULL;
}

TEST_F(stress, parallel_restore_process)
{
	struct launcher *l = calloc(NR_PARALLEL, sizeof(*l));
	struct proc_reader reader = { .l = l };
	char path[2][64];
	int img[2], i, ok = 0, status;
	pthread_t t;

	ASSERT_NE(NULL, l);
	for (i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "/tmp/spice-stress-XXXXXX");
		img[i] = mkstemp(path[i]);
		ASSERT_LE(0, img[i]);
		unlink(path[i]);
		ASSERT_EQ(0, dump_new_dumpee(31 + i, img[i]));
	}
	/* Started first: it reads each launcher's /proc as soon as it is. */
	ASSERT_EQ(0, pthread_create(&t, NULL, read_proc, &reader));
	for (i = 0; i < NR_PARALLEL; i++)
		ASSERT_EQ(0, launch(&l[i], img[i % 2], NULL));
	for (i = 0; i < NR_PARALLEL; i++)
		ok += ask(&l[i], 'c') == 'A' && write(l[i].req, "e", 1) == 1;
	__atomic_store_n(&reader.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	for (i = 0; i < NR_PARALLEL; i++) {
		status = finish(&l[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			TH_LOG("launcher %d: status %#x", i, status);
	}
	EXPECT_EQ(NR_PARALLEL, ok);
	close(img[0]);
	close(img[1]);
	free(l);
}

#define NR_LIMITED 16

TEST_F(stress, restores_in_a_small_memcg)
{
	struct launcher *l = calloc(NR_LIMITED + 1, sizeof(*l));
	unsigned int works = 0, nomem = 0, killed = 0, other = 0;
	char cg[64], path[96], image[64];
	int img, i, status, fd, ok;

	ASSERT_NE(NULL, l);
	fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY);
	if (fd < 0 || write(fd, "+memory", 7) != 7)
		SKIP(return, "no cgroup v2 memory controller");
	close(fd);
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/spice-stress-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	fd = open(path, O_WRONLY);
	ASSERT_EQ(7, write(fd, "1048576", 7));	/* 1 MiB for all of them */
	close(fd);

	snprintf(image, sizeof(image), "/tmp/spice-stress-XXXXXX");
	img = mkstemp(image);
	ASSERT_LE(0, img);
	unlink(image);
	ASSERT_EQ(0, dump_new_dumpee(41, img));
	for (i = 0; i < NR_LIMITED; i++)
		ASSERT_EQ(0, launch(&l[i], img, cg));
	/* One outside the memcg, at the same time: it must not suffer. */
	ASSERT_EQ(0, launch(&l[NR_LIMITED], img, NULL));
	for (i = 0; i < NR_LIMITED; i++) {
		/* A restored process may still be OOM-killed once it has answered. */
		ok = ask(&l[i], 'c') == 'A' && write(l[i].req, "e", 1) == 1;
		status = finish(&l[i]);
		if (ok)
			works++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 100 + ENOMEM)
			nomem++;
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			other++;
	}
	TH_LOG("in 1 MiB: %u restored, %u ENOMEM, %u killed", works, nomem, killed);
	EXPECT_EQ(0, other);
	EXPECT_EQ(NR_LIMITED, works + nomem + killed);
	EXPECT_EQ('A', ask(&l[NR_LIMITED], 'c'));
	ASSERT_EQ(1, write(l[NR_LIMITED].req, "e", 1));
	status = finish(&l[NR_LIMITED]);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(img);
	rmdir(cg);
	free(l);
}

TEST_HARNESS_MAIN
