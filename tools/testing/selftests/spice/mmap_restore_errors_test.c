// SPDX-License-Identifier: GPL-2.0
/*
 * Spice selftests: every mmap_restore() error, and the caller unchanged.
 *
 * One variant per bad input: each builds an otherwise valid call, breaks
 * one thing, and expects its documented errno with nothing mapped.  Then
 * the cases that need an environment: a noexec mount and a memcg limit.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mmap_restore_util.h"

#define IMAGE_PAGES	16

struct bad_env {
	int image;	/* IMAGE_PAGES pages, read-only */
	int file;	/* 8 pages, read-only */
	int wronly;	/* the same file, write-only */
	char *at;	/* 32 free pages */
	char *ro_page;	/* a read-only page */
};

/* The image, the file and the free range of a test without the fixture. */
static int open_env(struct bad_env *e)
{
	e->image = make_pattern_file("/tmp", 1, IMAGE_PAGES, O_RDONLY);
	e->file = make_pattern_file("/tmp", 2, 8, O_RDONLY);
	e->at = free_range(32 * PS);
	return e->image >= 0 && e->file >= 0 && e->at ? 0 : -1;
}

/* A valid call: one anonymous region of 8 pages, image data, a working set. */
static void good_call(struct restore_call *c, const struct bad_env *e)
{
	call_init(c, e->image);
	add_region(c, e->at, 8, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(c, 0, 2, MMAP_RESTORE_SRC_IMAGE, 0);
	add_interval(c, 4, 2, MMAP_RESTORE_SRC_ZERO, 0);
	add_ws(c, e->at, 0, 2, 1);
}

/* A valid call over a file: 4 pages of e->file, private. */
static void good_file_call(struct restore_call *c, const struct bad_env *e)
{
	call_init(c, e->image);
	add_region(c, e->at, 4, PROT_READ | PROT_WRITE, e->file, 0, 0);
	add_interval(c, 1, 1, MMAP_RESTORE_SRC_IMAGE, 3);
}

FIXTURE(bad) {
	struct bad_env env;
	struct restore_call c;
};

FIXTURE_VARIANT(bad) {
	void (*build)(struct restore_call *c, const struct bad_env *e);
	int err;
	unsigned int flags;
};

#define BAD(name, errno_, body)							\
	static void build_##name(struct restore_call *c, const struct bad_env *e) \
	{									\
		body;								\
	}									\
	FIXTURE_VARIANT_ADD(bad, name) {					\
		.build = build_##name,						\
		.err = errno_,							\
	}

BAD(unaligned_start, EINVAL, good_call(c, e); c->regions[0].start += 8);
BAD(zero_length, EINVAL, good_call(c, e); c->regions[0].len = 0;
	c->regions[0].nr_intervals = 0; c->args.nr_ws = 0);
BAD(unaligned_length, EINVAL, good_call(c, e); c->regions[0].len -= 8);
BAD(past_address_space, EINVAL, good_call(c, e);
	c->regions[0].start = 1ULL << 63; c->regions[0].nr_intervals = 0;
	c->args.nr_ws = 0);
BAD(wrapping_region, EINVAL, good_call(c, e);
	c->regions[0].start = ~0ULL & ~(PS - 1); c->regions[0].len = 2 * PS;
	c->regions[0].nr_intervals = 0; c->args.nr_ws = 0);
BAD(unknown_prot, EINVAL, good_call(c, e); c->regions[0].prot |= 0x10);
BAD(unknown_region_flag, EINVAL, good_call(c, e); c->regions[0].flags = 1U << 15);
BAD(region_reserved, EINVAL, good_call(c, e); c->regions[0].reserved = 1);
BAD(anonymous_with_offset, EINVAL, good_call(c, e); c->regions[0].pgoff = PS);
BAD(regions_overlap, EINVAL, good_call(c, e);
	add_region(c, e->at + 4 * PS, 8, PROT_READ, -1, 0, 0));
BAD(regions_unsorted, EINVAL, call_init(c, e->image);
	add_region(c, e->at + 16 * PS, 2, PROT_READ, -1, 0, 0);
	add_region(c, e->at, 2, PROT_READ, -1, 0, 0));
BAD(growsdown_file, EINVAL, good_file_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_GROWSDOWN);
BAD(lockonfault_without_locked, EINVAL, good_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_LOCKONFAULT);
BAD(wipeonfork_file, EINVAL, good_file_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_WIPEONFORK);
BAD(wipeonfork_shared, EINVAL, good_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_WIPEONFORK | MMAP_RESTORE_REGION_SHARED);
BAD(hugepage_and_nohugepage, EINVAL, good_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_HUGEPAGE | MMAP_RESTORE_REGION_NOHUGEPAGE);
BAD(sequential_and_random, EINVAL, good_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_SEQUENTIAL | MMAP_RESTORE_REGION_RANDOM);
BAD(interval_outside_region, EINVAL, good_call(c, e);
	add_interval(c, 7, 2, MMAP_RESTORE_SRC_ZERO, 0));
BAD(intervals_unsorted, EINVAL, good_call(c, e);
	add_interval(c, 2, 1, MMAP_RESTORE_SRC_ZERO, 0));
BAD(intervals_overlap, EINVAL, good_call(c, e);
	c->intervals[1].addr -= 3 * PS);
BAD(interval_empty, EINVAL, good_call(c, e); c->intervals[1].len = 0);
BAD(interval_unaligned, EINVAL, good_call(c, e); c->intervals[1].addr += 8);
BAD(unknown_source, EINVAL, good_call(c, e); c->intervals[1].source = 0);
BAD(interval_reserved, EINVAL, good_call(c, e); c->intervals[0].reserved = 1);
BAD(image_offset_unaligned, EINVAL, good_call(c, e); c->intervals[0].offset = 8);
BAD(image_data_past_end, EINVAL, good_call(c, e);
	c->intervals[0].offset = (IMAGE_PAGES - 1) * PS);
BAD(image_offset_overflow, EINVAL, good_call(c, e);
	c->intervals[0].offset = ~0ULL & ~(PS - 1));
BAD(zero_with_offset, EINVAL, good_call(c, e); c->intervals[1].offset = PS);
BAD(file_source_in_anonymous, EINVAL, good_call(c, e);
	c->intervals[1].source = MMAP_RESTORE_SRC_FILE);
BAD(interval_index_outside, EINVAL, good_call(c, e);
	c->regions[0].first_interval = 1);
BAD(ws_outside_regions, EINVAL, good_call(c, e); add_ws(c, e->at, 9, 1, 0));
BAD(ws_across_region_end, EINVAL, good_call(c, e); add_ws(c, e->at, 6, 4, 0));
BAD(ws_overlap, EINVAL, good_call(c, e); add_ws(c, e->at, 1, 2, 0));
BAD(ws_no_pages, EINVAL, good_call(c, e); add_ws(c, e->at, 6, 0, 0));
BAD(ws_unaligned, EINVAL, good_call(c, e); c->ws[0].addr += 8);
BAD(ws_unknown_flag, EINVAL, good_call(c, e); c->ws[0].flags = 1U << 5);
BAD(ws_written_read_only, EINVAL, good_call(c, e);
	c->regions[0].prot = PROT_READ);
BAD(image_without_fd, EBADF, good_call(c, e); c->args.image_fd = -1);
BAD(region_fd_negative, EBADF, good_file_call(c, e); c->regions[0].fd = -2);
BAD(region_fd_closed, EBADF, good_file_call(c, e); c->regions[0].fd = 1000);
BAD(file_not_readable, EACCES, good_file_call(c, e); c->regions[0].fd = e->wronly);
BAD(shared_writable_read_only_file, EACCES, call_init(c, e->image);
	add_region(c, e->at, 4, PROT_READ | PROT_WRITE, e->file, 0, 0);
	c->regions[0].flags = MMAP_RESTORE_REGION_SHARED);
BAD(shared_with_image_data, EINVAL, good_file_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_SHARED;
	c->regions[0].prot = PROT_READ);
BAD(shared_anonymous_growsdown, EINVAL, call_init(c, -1);
	add_region(c, e->at, 4, PROT_READ, -1, 0,
		   MMAP_RESTORE_REGION_SHARED | MMAP_RESTORE_REGION_GROWSDOWN));
BAD(file_offset_overflow, EOVERFLOW, good_file_call(c, e);
	c->regions[0].pgoff = ~0ULL & ~(PS - 1));
BAD(stats_not_writable, EFAULT, good_call(c, e);
	c->args.stats = (uintptr_t)e->ro_page);

BAD(interval_of_no_region, EINVAL, good_call(c, e);
	c->args.nr_intervals++);
BAD(stats_too_large, EINVAL, good_call(c, e); c->args.stats_size = PS + 8);
BAD(stats_inside_a_region, EINVAL, good_call(c, e);
	c->args.stats = (uintptr_t)e->at + PS);

FIXTURE_SETUP(bad)
{
	char path[64];

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	self->env.image = make_pattern_file("/tmp", 1, IMAGE_PAGES, O_RDONLY);
	ASSERT_LE(0, self->env.image);
	self->env.file = make_pattern_file("/tmp", 2, 8, O_RDONLY);
	ASSERT_LE(0, self->env.file);
	/* The same (unlinked) file again, write-only. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->env.file);
	self->env.wronly = open(path, O_WRONLY);
	ASSERT_LE(0, self->env.wronly);
	self->env.ro_page = mmap(NULL, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->env.ro_page);
	/* Last: a later mmap() could land in the free range. */
	self->env.at = free_range(32 * PS);
	ASSERT_NE(NULL, self->env.at);
}

FIXTURE_TEARDOWN(bad)
{
	close(self->env.image);
	close(self->env.file);
	close(self->env.wronly);
	munmap(self->env.ro_page, PS);
}

TEST_F(bad, errno_and_nothing_mapped)
{
	variant->build(&self->c, &self->env);
	EXPECT_EQ(-1, call_restore(&self->c, variant->flags));
	EXPECT_EQ(variant->err, errno);
	EXPECT_TRUE(all_unmapped(self->env.at, 32 * PS));
}

/* The good calls themselves succeed: the variants fail on what they broke. */
TEST(good_calls_succeed)
{
	struct restore_call c;
	struct bad_env e = {};

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	ASSERT_EQ(0, open_env(&e));

	good_call(&c, &e);
	EXPECT_EQ(0, call_restore(&c, 0));
	EXPECT_EQ(0, munmap(e.at, 32 * PS));
	good_file_call(&c, &e);
	EXPECT_EQ(0, call_restore(&c, 0));
	EXPECT_EQ(0, munmap(e.at, 32 * PS));
}

/*
 * Random mutations of a valid call's tables and arguments, for at most
 * SPICE_FUZZ_SECONDS (default 15): every call must succeed or fail with a
 * documented errno, a failed one leaving the range it was given unmapped,
 * and never kill its caller.  Each call runs in a child, which takes what
 * a successful call mapped with it.  The stats pointer, which the kernel
 * writes, is not mutated.
 */
static const int fuzz_errnos[] = {
	EINVAL, E2BIG, EFAULT, EBADF, EACCES, EPERM, ENODEV, EOVERFLOW, EEXIST,
	ENOMEM, EIO,
};

static unsigned int fuzz_rand(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

static size_t fuzz_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void fuzz_mutate(struct restore_call *c, unsigned int *seed)
{
	static const uint64_t values[] = { 0, 1, PS - 1, PS, 1ULL << 47, ~0ULL };
	unsigned char *base;
	size_t len, off;

	/* Within the arrays, whatever a mutated count says. */
	switch (fuzz_rand(seed) % 4) {
	case 0:
		base = (unsigned char *)c->regions;
		len = fuzz_min(c->args.nr_regions, ARRAY_SIZE(c->regions)) *
		      sizeof(c->regions[0]);
		break;
	case 1:
		base = (unsigned char *)c->intervals;
		len = fuzz_min(c->args.nr_intervals, ARRAY_SIZE(c->intervals)) *
		      sizeof(c->intervals[0]);
		break;
	case 2:
		base = (unsigned char *)c->ws;
		len = fuzz_min(c->args.nr_ws, ARRAY_SIZE(c->ws)) * sizeof(c->ws[0]);
		break;
	default:	/* the counts, the image fd, sync_pages: not the pointers */
		base = (unsigned char *)&c->args;
		len = offsetof(struct mmap_restore_args, stats);
		break;
	}
	if (!len)
		return;
	off = fuzz_rand(seed) % len;
	if (fuzz_rand(seed) % 2) {
		base[off] ^= 1U << (fuzz_rand(seed) % 8);
	} else {
		off &= ~7UL;
		if (off + 8 <= len)
			memcpy(base + off, &values[fuzz_rand(seed) % ARRAY_SIZE(values)], 8);
	}
	/* Keep the tables where they are: the pointers stay valid. */
	c->args.regions = (uintptr_t)c->regions;
	c->args.intervals = (uintptr_t)c->intervals;
	c->args.ws = (uintptr_t)c->ws;
}

TEST(random_mutations)
{
	static const unsigned int flags[] = { 0, MMAP_RESTORE_ASYNC, MMAP_RESTORE_EAGER };
	const char *env = getenv("SPICE_FUZZ_SECONDS");
	unsigned long cases = 0, ok = 0, bad = 0, seen[134] = {};
	struct timespec t0, t;
	unsigned int seed = 12345, i, k;
	struct restore_call c, good;
	double end, now = 0;
	struct bad_env e = {};
	int status, err;
	pid_t pid;
	long ret;

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	end = env ? atof(env) : 15;
	ASSERT_EQ(0, open_env(&e));
	/* Two regions: anonymous with image and zero data, then a file's. */
	good_call(&good, &e);
	add_region(&good, e.at + 16 * PS, 4, PROT_READ | PROT_WRITE, e.file, 0, 0);
	add_interval(&good, 1, 1, MMAP_RESTORE_SRC_IMAGE, 3);
	add_ws(&good, e.at + 16 * PS, 1, 1, 0);
	good.args.stats = 0;
	good.args.stats_size = 0;
	ASSERT_EQ(0, call_restore(&good, 0));
	ASSERT_EQ(0, munmap(e.at, 32 * PS));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (now < end) {
		memcpy(&c, &good, sizeof(c));
		c.args.regions = (uintptr_t)c.regions;
		c.args.intervals = (uintptr_t)c.intervals;
		c.args.ws = (uintptr_t)c.ws;
		for (k = 1 + fuzz_rand(&seed) % 3; k; k--)
			fuzz_mutate(&c, &seed);
		k = flags[fuzz_rand(&seed) % ARRAY_SIZE(flags)];
		cases++;
		/* In a child: whatever a mutated call maps goes with it. */
		pid = fork();
		if (!pid) {
			ret = call_restore(&c, k);
			if (ret && !all_unmapped(e.at, 32 * PS))
				_exit(255);
			_exit(ret ? errno : 0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFEXITED(status)) {
			if (bad++ < 5)
				TH_LOG("case %lu: child killed by %d; region 0 %#llx+%#llx",
				       cases, WTERMSIG(status),
				       (unsigned long long)c.regions[0].start,
				       (unsigned long long)c.regions[0].len);
			continue;
		}
		err = WEXITSTATUS(status);
		if (!err) {
			ok++;
		} else if (err == 255) {
			if (bad++ < 5)
				TH_LOG("case %lu: a failed call left a mapping", cases);
		} else {
			for (i = 0; i < ARRAY_SIZE(fuzz_errnos) && fuzz_errnos[i] != err; i++)
				;
			if (i == ARRAY_SIZE(fuzz_errnos) && bad++ < 5)
				TH_LOG("case %lu: undocumented errno %d", cases, err);
			if (err < 134)
				seen[err]++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		now = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
	}
	TH_LOG("%lu mutated calls in %.1f s, %lu succeeded", cases, now, ok);
	for (k = 1; k < 134; k++)
		if (seen[k])
			TH_LOG("  %s: %lu", strerrorname_np(k), seen[k]);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, cases - ok);
}

/* PROT_EXEC on a file from a noexec mount: EPERM, as mmap() says. */
TEST(noexec_mount)
{
	char dir[] = "/tmp/spice-noexec-XXXXXX";
	struct restore_call c;
	char *at = free_range(4 * PS);
	int fd;

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		SKIP(return, "cannot make a mount namespace");
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("tmpfs", dir, "tmpfs", MS_NOEXEC, NULL));
	fd = make_pattern_file(dir, 3, 4, O_RDONLY);
	ASSERT_LE(0, fd);

	call_init(&c, -1);
	add_region(&c, at, 4, PROT_READ | PROT_EXEC, fd, 0, 0);
	EXPECT_EQ(-1, call_restore(&c, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(all_unmapped(at, 4 * PS));

	c.regions[0].prot = PROT_READ;
	EXPECT_EQ(0, call_restore(&c, 0));
	EXPECT_TRUE(page_has_pattern(at + 3 * PS, 3, 3));
	close(fd);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atol(buf);
}

/*
 * Over the memcg limit mid-call: ENOMEM, no mapping, no OOM kill, and the
 * memcg's usage back where it was.
 */
TEST(memcg_limit)
{
	const unsigned long pages = 4096;	/* 16 MiB against a 4 MiB limit */
	char cg[128], path[192], pid[32];
	struct restore_call c;
	long before, after;
	char *at;
	int image;

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	if (write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "no cgroup v2 memory controller");

	/* The image's tmpfs pages stay charged to the parent cgroup. */
	image = make_pattern_file("/tmp", 4, pages, O_RDONLY);
	ASSERT_LE(0, image);
	at = free_range(pages * PS);
	ASSERT_NE(NULL, at);

	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/spice-test-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	ASSERT_EQ(0, write_str(path, "4194304"));
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, write_str(path, pid));

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	before = read_long(path);
	call_init(&c, image);
	add_region(&c, at, pages, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(&c, 0, pages, MMAP_RESTORE_SRC_IMAGE, 0);
	/* Eager: every page is read and charged during the call. */
	EXPECT_EQ(-1, call_restore(&c, MMAP_RESTORE_EAGER));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_TRUE(all_unmapped(at, pages * PS));
	after = read_long(path);
	/* Everything charged by the call was given back. */
	EXPECT_GE(before + 64 * 1024, after);
	TH_LOG("memory.current %ld before, %ld after the failed call", before, after);

	ASSERT_EQ(0, write_str("/sys/fs/cgroup/cgroup.procs", pid));
	EXPECT_EQ(0, rmdir(cg));
	close(image);
}

TEST_HARNESS_MAIN
