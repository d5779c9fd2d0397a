// SPDX-License-Identifier: GPL-2.0
/*
 * Spice selftests: every mmap_restore() error, and the caller unchanged.
 *
 * One variant per bad input: each builds an otherwise valid call, breaks
 * one thing, and expects its documented errno with nothing mapped.  Then
 * the cases that need an environment: a noexec mount and a memcg limit.
 */

#define _GNU_SOURCE
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

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
BAD(unknown_region_flag, EINVAL, good_call(c, e); c->regions[0].flags = 1U << 7);
BAD(region_reserved, EINVAL, good_call(c, e); c->regions[0].reserved = 1);
BAD(anonymous_with_offset, EINVAL, good_call(c, e); c->regions[0].pgoff = PS);
BAD(regions_overlap, EINVAL, good_call(c, e);
	add_region(c, e->at + 4 * PS, 8, PROT_READ, -1, 0, 0));
BAD(regions_unsorted, EINVAL, call_init(c, e->image);
	add_region(c, e->at + 16 * PS, 2, PROT_READ, -1, 0, 0);
	add_region(c, e->at, 2, PROT_READ, -1, 0, 0));
BAD(growsdown_file, EINVAL, good_file_call(c, e);
	c->regions[0].flags = MMAP_RESTORE_REGION_GROWSDOWN);
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
BAD(shared_anonymous, EOPNOTSUPP, call_init(c, -1);
	add_region(c, e->at, 4, PROT_READ, -1, 0, MMAP_RESTORE_REGION_SHARED));
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
	e.image = make_pattern_file("/tmp", 1, IMAGE_PAGES, O_RDONLY);
	e.file = make_pattern_file("/tmp", 2, 8, O_RDONLY);
	ASSERT_LE(0, e.image);
	ASSERT_LE(0, e.file);
	e.at = free_range(32 * PS);
	ASSERT_NE(NULL, e.at);

	good_call(&c, &e);
	EXPECT_EQ(0, call_restore(&c, 0));
	EXPECT_EQ(0, munmap(e.at, 32 * PS));
	good_file_call(&c, &e);
	EXPECT_EQ(0, call_restore(&c, 0));
	EXPECT_EQ(0, munmap(e.at, 32 * PS));
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
