// SPDX-License-Identifier: GPL-2.0
/*
 * Spice selftests: the ABI of restore_process() and mmap_restore().
 *
 * Flags, argument-struct sizes, reserved fields, counts, pointers and file
 * descriptors, each with its documented error, and the caller unchanged by
 * an error.  With valid arguments restore_process() goes on to read the
 * image; these tests pass it an ELF file, which it rejects with -ENOEXEC
 * (image_test covers images).
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "spice_test.h"

#define MMAP_RESTORE_KNOWN_FLAGS \
	(MMAP_RESTORE_REPLACE | MMAP_RESTORE_ASYNC | MMAP_RESTORE_EAGER | \
	 MMAP_RESTORE_ABI_VERSION)
#define RESTORE_PROCESS_KNOWN_FLAGS (RESTORE_PROCESS_ABI_VERSION | RESTORE_PROCESS_STATS | \
				     RESTORE_PROCESS_NEW_TIDS)

/* A buffer of one page followed by an inaccessible page. */
static char *map_guarded_page(long page_size)
{
	char *p = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + page_size, page_size, PROT_NONE)) {
		munmap(p, 2 * page_size);
		return NULL;
	}
	return p;
}

/* An address range that nothing maps: reserved, then released. */
static char *unmapped_range(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, len);
	return p;
}

/* msync() fails with ENOMEM on a range that has unmapped pages. */
static int range_is_unmapped(void *addr, size_t len)
{
	return msync(addr, len, MS_ASYNC) == -1 && errno == ENOMEM;
}

FIXTURE(mmap_restore_abi) {
	long page_size;
	char *hole;
	struct mmap_restore_region region;
	struct mmap_restore_args args;
};

FIXTURE_SETUP(mmap_restore_abi)
{
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");

	self->page_size = sysconf(_SC_PAGESIZE);
	self->hole = unmapped_range(4 * self->page_size);
	ASSERT_NE(NULL, self->hole);

	/* One anonymous page in a hole: a restore that is valid. */
	self->region = (struct mmap_restore_region) {
		.start = (unsigned long)self->hole,
		.len = self->page_size,
		.fd = -1,
		.prot = PROT_READ | PROT_WRITE,
	};
	self->args = (struct mmap_restore_args) {
		.image_fd = -1,
		.nr_regions = 1,
		.regions = (unsigned long)&self->region,
	};
}

FIXTURE_TEARDOWN(mmap_restore_abi)
{
}

/* Valid arguments map the page; unmap it again for the next call. */
#define EXPECT_MMAP_RESTORE_VALID(args, size, flags)				\
	do {									\
		EXPECT_EQ(0, sys_mmap_restore(args, size, flags));		\
		EXPECT_FALSE(range_is_unmapped(self->hole, self->page_size));	\
		munmap(self->hole, self->page_size);				\
	} while (0)

#define EXPECT_MMAP_RESTORE_ERR(err, args, size, flags)			\
	do {									\
		EXPECT_EQ(-1, sys_mmap_restore(args, size, flags));		\
		EXPECT_EQ(err, errno);						\
	} while (0)

TEST_F(mmap_restore_abi, abi_version)
{
	EXPECT_EQ(SPICE_ABI_VERSION,
		  sys_mmap_restore(NULL, 0, MMAP_RESTORE_ABI_VERSION));
	/* The query takes no other argument. */
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, 0, MMAP_RESTORE_ABI_VERSION);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, NULL, sizeof(self->args),
				MMAP_RESTORE_ABI_VERSION);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, NULL, 0,
				MMAP_RESTORE_ABI_VERSION | MMAP_RESTORE_ASYNC);
}

TEST_F(mmap_restore_abi, unknown_flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if ((1U << bit) & MMAP_RESTORE_KNOWN_FLAGS)
			continue;
		EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args),
					1U << bit);
	}
	EXPECT_TRUE(range_is_unmapped(self->hole, self->page_size));
}

TEST_F(mmap_restore_abi, size_boundaries)
{
	const long ps = self->page_size;
	char *buf = calloc(1, ps + 1);

	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->args, sizeof(self->args));

	EXPECT_MMAP_RESTORE_ERR(EINVAL, (void *)buf, 0, 0);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, (void *)buf, 1, 0);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, (void *)buf, 7, 0);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, (void *)buf,
				MMAP_RESTORE_ARGS_SIZE_VER0 - 1, 0);
	EXPECT_MMAP_RESTORE_ERR(EFAULT, NULL, MMAP_RESTORE_ARGS_SIZE_VER0, 0);
	EXPECT_MMAP_RESTORE_ERR(E2BIG, (void *)buf, ps + 1, 0);

	EXPECT_MMAP_RESTORE_VALID((void *)buf, MMAP_RESTORE_ARGS_SIZE_VER0, 0);
	/* A newer, larger struct is accepted while its tail is zero. */
	EXPECT_MMAP_RESTORE_VALID((void *)buf, sizeof(self->args) + 8, 0);
	EXPECT_MMAP_RESTORE_VALID((void *)buf, ps, 0);
	buf[ps - 1] = 1;
	EXPECT_MMAP_RESTORE_ERR(E2BIG, (void *)buf, ps, 0);
	buf[ps - 1] = 0;
	buf[sizeof(self->args)] = 1;
	EXPECT_MMAP_RESTORE_ERR(E2BIG, (void *)buf, sizeof(self->args) + 1, 0);
	free(buf);
}

TEST_F(mmap_restore_abi, args_across_unmapped_page)
{
	const long ps = self->page_size;
	char *page = map_guarded_page(ps);
	struct mmap_restore_args *tail;

	ASSERT_NE(NULL, page);
	/* All but the last byte of the struct is readable. */
	tail = (void *)(page + ps - sizeof(*tail) + 1);
	memcpy(tail, &self->args, sizeof(*tail) - 1);
	EXPECT_MMAP_RESTORE_ERR(EFAULT, tail, sizeof(*tail), 0);
	munmap(page, 2 * ps);
}

TEST_F(mmap_restore_abi, reserved_field)
{
	self->args.reserved = 1;
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args), 0);
}

TEST_F(mmap_restore_abi, count_limits)
{
	struct mmap_restore_args a = self->args;

	a.nr_regions = 0;
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &a, sizeof(a), 0);

	a = self->args;
	a.nr_regions = MMAP_RESTORE_MAX_REGIONS + 1;
	EXPECT_MMAP_RESTORE_ERR(E2BIG, &a, sizeof(a), 0);
	/* At the limit the count is accepted and the array is read. */
	a.nr_regions = MMAP_RESTORE_MAX_REGIONS;
	a.regions = 0;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);

	a = self->args;
	a.nr_intervals = MMAP_RESTORE_MAX_INTERVALS + 1;
	EXPECT_MMAP_RESTORE_ERR(E2BIG, &a, sizeof(a), 0);
	a.nr_intervals = MMAP_RESTORE_MAX_INTERVALS;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);

	a = self->args;
	a.nr_ws = MMAP_RESTORE_MAX_WS + 1;
	EXPECT_MMAP_RESTORE_ERR(E2BIG, &a, sizeof(a), 0);
	a.nr_ws = MMAP_RESTORE_MAX_WS;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);
}

TEST_F(mmap_restore_abi, bad_array_pointers)
{
	const long ps = self->page_size;
	char *page = map_guarded_page(ps);
	struct mmap_restore_args a = self->args;

	ASSERT_NE(NULL, page);

	a.regions = 0;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);
	/* Two regions, the second on the inaccessible page. */
	a.regions = (unsigned long)(page + ps - sizeof(self->region));
	a.nr_regions = 2;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);

	a = self->args;
	a.nr_intervals = 1;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);
	a.intervals = (unsigned long)(page + ps);
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);

	a = self->args;
	a.nr_ws = 1;
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);
	a.ws = (unsigned long)(page + ps);
	EXPECT_MMAP_RESTORE_ERR(EFAULT, &a, sizeof(a), 0);

	munmap(page, 2 * ps);
	EXPECT_TRUE(range_is_unmapped(self->hole, ps));
}

TEST_F(mmap_restore_abi, sync_pages_needs_async)
{
	self->args.sync_pages = 16;
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args), 0);
	EXPECT_MMAP_RESTORE_VALID(&self->args, sizeof(self->args),
				  MMAP_RESTORE_ASYNC);
}

TEST_F(mmap_restore_abi, stats_pointer_and_size)
{
	struct mmap_restore_stats stats;

	self->args.stats = (unsigned long)&stats;
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args), 0);
	self->args.stats = 0;
	self->args.stats_size = sizeof(stats);
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args), 0);
	self->args.stats = (unsigned long)&stats;
	EXPECT_MMAP_RESTORE_VALID(&self->args, sizeof(self->args), 0);
}

TEST_F(mmap_restore_abi, image_fd)
{
	int rd = open("/proc/self/exe", O_RDONLY);
	int wr = open("/dev/null", O_WRONLY);
	int path = open("/proc/self/exe", O_PATH);
	int proc = open("/proc/self/status", O_RDONLY);
	int closed = dup(0);

	ASSERT_LE(0, rd);
	ASSERT_LE(0, wr);
	ASSERT_LE(0, path);
	ASSERT_LE(0, proc);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

	self->args.image_fd = -2;
	EXPECT_MMAP_RESTORE_ERR(EBADF, &self->args, sizeof(self->args), 0);
	self->args.image_fd = closed;
	EXPECT_MMAP_RESTORE_ERR(EBADF, &self->args, sizeof(self->args), 0);
	self->args.image_fd = wr;
	EXPECT_MMAP_RESTORE_ERR(EBADF, &self->args, sizeof(self->args), 0);
	self->args.image_fd = path;
	EXPECT_MMAP_RESTORE_ERR(EBADF, &self->args, sizeof(self->args), 0);
	/* A regular file without a page cache to read it through. */
	self->args.image_fd = proc;
	EXPECT_MMAP_RESTORE_ERR(EINVAL, &self->args, sizeof(self->args), 0);
	self->args.image_fd = rd;
	EXPECT_MMAP_RESTORE_VALID(&self->args, sizeof(self->args), 0);

	close(rd);
	close(wr);
	close(path);
	close(proc);
}

TEST_F(mmap_restore_abi, valid_args_map_the_region)
{
	EXPECT_MMAP_RESTORE_VALID(&self->args, sizeof(self->args), 0);
	EXPECT_MMAP_RESTORE_VALID(&self->args, sizeof(self->args),
				  MMAP_RESTORE_REPLACE);
}

/*
 * restore_process()
 */

FIXTURE(restore_process_abi) {
	long page_size;
	int image_fd;
	struct restore_process_fd map[2];
	struct restore_process_args args;
};

FIXTURE_SETUP(restore_process_abi)
{
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");

	self->page_size = sysconf(_SC_PAGESIZE);
	/* Any regular file passes the argument checks (not the image's). */
	self->image_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->image_fd);

	self->map[0] = (struct restore_process_fd) { .image_fd = 0, .fd = 0 };
	self->map[1] = (struct restore_process_fd) { .image_fd = 1, .fd = 1 };
	self->args = (struct restore_process_args) {
		.fd_map = (unsigned long)self->map,
		.nr_fd_map = 2,
	};
}

FIXTURE_TEARDOWN(restore_process_abi)
{
	if (self->image_fd >= 0)
		close(self->image_fd);
}

#define EXPECT_RESTORE_PROCESS_ERR(err, fd, args, size, flags)		\
	do {									\
		EXPECT_EQ(-1, sys_restore_process(fd, args, size, flags));	\
		EXPECT_EQ(err, errno);						\
	} while (0)

/*
 * Valid arguments: the call reads the image, finds an ELF file rather than
 * a Spice image, and the caller is still here.
 */
#define EXPECT_RESTORE_PROCESS_VALID(fd, args, size)				\
	EXPECT_RESTORE_PROCESS_ERR(ENOEXEC, fd, args, size, 0)

static int capget_self(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data);
}

/* Drop @caps from the effective set of the calling thread. */
static int drop_effective_caps(const int *caps, int n)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int i;

	if (capget_self(data))
		return -1;
	for (i = 0; i < n; i++)
		data[CAP_TO_INDEX(caps[i])].effective &= ~CAP_TO_MASK(caps[i]);
	return syscall(SYS_capset, &hdr, data);
}

static int has_effective_cap(int cap)
{
	struct __user_cap_data_struct data[2];

	return !capget_self(data) &&
	       (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap));
}

/* Run @fn in a child; returns its exit status, or -1 if it died. */
static int run_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(restore_process_abi, abi_version)
{
	EXPECT_EQ(SPICE_ABI_VERSION,
		  sys_restore_process(-1, NULL, 0, RESTORE_PROCESS_ABI_VERSION));
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, self->image_fd, NULL, 0,
				   RESTORE_PROCESS_ABI_VERSION);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, -1, &self->args, 0,
				   RESTORE_PROCESS_ABI_VERSION);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, -1, NULL, sizeof(self->args),
				   RESTORE_PROCESS_ABI_VERSION);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, -1, NULL, 0,
				   RESTORE_PROCESS_ABI_VERSION | RESTORE_PROCESS_STATS);
}

TEST_F(restore_process_abi, unknown_flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if ((1U << bit) & RESTORE_PROCESS_KNOWN_FLAGS)
			continue;
		EXPECT_RESTORE_PROCESS_ERR(EINVAL, self->image_fd, &self->args,
					   sizeof(self->args), 1U << bit);
	}
}

static int call_without_caps(void *arg)
{
	const int caps[] = { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN };
	int image_fd = *(int *)arg;

	if (drop_effective_caps(caps, 2))
		return 10;
	/* The ABI query needs no privilege. */
	if (sys_restore_process(-1, NULL, 0, RESTORE_PROCESS_ABI_VERSION) !=
	    SPICE_ABI_VERSION)
		return 11;
	/* Refused before the arguments are even read. */
	if (sys_restore_process(image_fd, (void *)1, 1, 0) != -1 ||
	    errno != EPERM)
		return 12;
	return 0;
}

static int call_with_checkpoint_restore_only(void *arg)
{
	const int caps[] = { CAP_SYS_ADMIN };
	int image_fd = *(int *)arg;

	if (drop_effective_caps(caps, 1))
		return 10;
	if (sys_restore_process(image_fd, NULL, 0, 0) != -1 || errno != EINVAL)
		return 11;
	return 0;
}

static int call_in_user_namespace(void *arg)
{
	int image_fd = *(int *)arg;

	if (unshare(CLONE_NEWUSER))
		return errno == EINVAL || errno == EPERM ? 4 : 10;
	/* Capable in its own user namespace: the call goes on. */
	if (sys_restore_process(image_fd, NULL, 0, 0) != -1 || errno != EINVAL)
		return 11;
	return 0;
}

TEST_F(restore_process_abi, capability)
{
	int rc;

	if (!has_effective_cap(CAP_CHECKPOINT_RESTORE) ||
	    !has_effective_cap(CAP_SYS_ADMIN))
		SKIP(return, "needs CAP_CHECKPOINT_RESTORE and CAP_SYS_ADMIN");

	EXPECT_EQ(0, run_in_child(call_without_caps, &self->image_fd));
	EXPECT_EQ(0, run_in_child(call_with_checkpoint_restore_only,
				  &self->image_fd));
	rc = run_in_child(call_in_user_namespace, &self->image_fd);
	if (rc == 4)
		SKIP(return, "user namespaces unavailable");
	EXPECT_EQ(0, rc);
}

TEST_F(restore_process_abi, size_boundaries)
{
	const long ps = self->page_size;
	const int fd = self->image_fd;
	char *buf = calloc(1, ps + 1);

	ASSERT_NE(NULL, buf);
	memcpy(buf, &self->args, sizeof(self->args));

	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, (void *)buf, 0, 0);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, (void *)buf, 1, 0);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, (void *)buf, 7, 0);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, (void *)buf,
				   RESTORE_PROCESS_ARGS_SIZE_VER0 - 1, 0);
	EXPECT_RESTORE_PROCESS_ERR(EFAULT, fd, NULL,
				   RESTORE_PROCESS_ARGS_SIZE_VER0, 0);
	EXPECT_RESTORE_PROCESS_ERR(E2BIG, fd, (void *)buf, ps + 1, 0);

	EXPECT_RESTORE_PROCESS_VALID(fd, (void *)buf,
				     RESTORE_PROCESS_ARGS_SIZE_VER0);
	EXPECT_RESTORE_PROCESS_VALID(fd, (void *)buf, sizeof(self->args) + 8);
	EXPECT_RESTORE_PROCESS_VALID(fd, (void *)buf, ps);
	buf[ps - 1] = 1;
	EXPECT_RESTORE_PROCESS_ERR(E2BIG, fd, (void *)buf, ps, 0);
	buf[ps - 1] = 0;
	buf[sizeof(self->args)] = 1;
	EXPECT_RESTORE_PROCESS_ERR(E2BIG, fd, (void *)buf,
				   sizeof(self->args) + 1, 0);
	free(buf);
}

TEST_F(restore_process_abi, reserved_and_counts)
{
	const int fd = self->image_fd;
	struct restore_process_args a = self->args;

	a.reserved = 1;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &a, sizeof(a), 0);

	a = self->args;
	a.nr_fd_map = 0;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &a, sizeof(a), 0);
	a.fd_map = 0;
	EXPECT_RESTORE_PROCESS_VALID(fd, &a, sizeof(a));

	a.nr_fd_map = RESTORE_PROCESS_MAX_FD_MAP + 1;
	EXPECT_RESTORE_PROCESS_ERR(E2BIG, fd, &a, sizeof(a), 0);
	/* At the limit the count is accepted and the map is read. */
	a.nr_fd_map = RESTORE_PROCESS_MAX_FD_MAP;
	EXPECT_RESTORE_PROCESS_ERR(EFAULT, fd, &a, sizeof(a), 0);
}

TEST_F(restore_process_abi, fd_map_entries)
{
	const int fd = self->image_fd;
	struct restore_process_fd *e = &self->map[1];
	const struct restore_process_fd good = *e;
	int closed = dup(0);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

	e->flags = 1;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &self->args, sizeof(self->args), 0);
	*e = good;
	e->reserved = 1;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &self->args, sizeof(self->args), 0);
	*e = good;
	e->image_fd = -1;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &self->args, sizeof(self->args), 0);
	*e = good;
	e->image_fd = self->map[0].image_fd;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &self->args, sizeof(self->args), 0);
	*e = good;
	e->fd = -1;
	EXPECT_RESTORE_PROCESS_ERR(EBADF, fd, &self->args, sizeof(self->args), 0);
	e->fd = closed;
	EXPECT_RESTORE_PROCESS_ERR(EBADF, fd, &self->args, sizeof(self->args), 0);
	*e = good;
	EXPECT_RESTORE_PROCESS_VALID(fd, &self->args, sizeof(self->args));
}

/* RESTORE_PROCESS_STATS: a pipe's write end, in a struct that has one. */
TEST_F(restore_process_abi, stats_fd)
{
	const unsigned int stats = RESTORE_PROCESS_STATS;
	struct restore_process_args a = self->args;
	const int fd = self->image_fd;
	int null = open("/dev/null", O_WRONLY);
	int closed = dup(0);
	int p[2];
	char c;

	ASSERT_LE(0, null);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));

	a.stats_fd = p[1];
	a.reserved2 = 1;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &a, sizeof(a), stats);
	a.reserved2 = 0;
	a.stats_fd = closed;
	EXPECT_RESTORE_PROCESS_ERR(EBADF, fd, &a, sizeof(a), stats);
	a.stats_fd = p[0];
	EXPECT_RESTORE_PROCESS_ERR(EBADF, fd, &a, sizeof(a), stats);
	a.stats_fd = null;
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, fd, &a, sizeof(a), stats);
	a.stats_fd = p[1];
	EXPECT_RESTORE_PROCESS_ERR(ENOEXEC, fd, &a, sizeof(a), stats);
	/* Without the flag the field is not looked at. */
	a.stats_fd = closed;
	EXPECT_RESTORE_PROCESS_VALID(fd, &a, sizeof(a));
	/* A failed restore reports nothing. */
	EXPECT_EQ(-1, read(p[0], &c, 1));
	EXPECT_EQ(EAGAIN, errno);

	close(null);
	close(p[0]);
	close(p[1]);
}

TEST_F(restore_process_abi, image_fd)
{
	int wr = open("/dev/null", O_WRONLY);
	int path = open("/proc/self/exe", O_PATH);
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	int pipefd[2];
	int closed = dup(0);

	ASSERT_LE(0, wr);
	ASSERT_LE(0, path);
	ASSERT_LE(0, dir);
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));

	EXPECT_RESTORE_PROCESS_ERR(EBADF, -1, &self->args, sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_ERR(EBADF, closed, &self->args, sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_ERR(EBADF, wr, &self->args, sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_ERR(EBADF, path, &self->args, sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, dir, &self->args, sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_ERR(EINVAL, pipefd[0], &self->args,
				   sizeof(self->args), 0);
	EXPECT_RESTORE_PROCESS_VALID(self->image_fd, &self->args,
				     sizeof(self->args));

	close(wr);
	close(path);
	close(dir);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
