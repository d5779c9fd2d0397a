// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() reads and checks the image before anything else: its
 * verdict on an image libspice rejects must be libspice's (same checks,
 * same errors), for thousands of mutations of a real dump.  Images both
 * accept go on to the rest of the call, which fails here because the
 * image's pipes are not supplied.  SPICE_FUZZ=N sets the number of
 * mutations (default 10000, within 80 s).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "mmap_restore_util.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const uint64_t boundary[] = {
	0, 1, 8, 4095, 4096, 65536, 0xffffffff, 0x100000000ULL, 1ULL << 47,
	1ULL << 56, ~0ULL, ~0ULL - 4095,
};

/* Change one to three fields or bytes of the metadata; mostly resealed. */
static void mutate(unsigned char *meta, size_t len)
{
	int n = 1 + rnd() % 3;
	uint64_t off, v;

	while (n--) {
		off = rnd() % len;
		if (rnd() % 2 && off + 8 <= len) {
			off &= ~7ULL;
			v = boundary[rnd() % ARRAY_SIZE(boundary)];
			memcpy(meta + off, &v, 8);
		} else {
			meta[off] ^= 1 << (rnd() % 8);
		}
	}
	if (rnd() % 10)
		spice_test_seal_metadata(meta, len);
}

FIXTURE(image) {
	char path[64];
	int fd;
	unsigned char *meta;
	size_t meta_len;
};

/* A real image: a child of this test, dumped and killed. */
FIXTURE_SETUP(image)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image_header h;
	pid_t child;
	int p[2];
	char c;

	self->meta = NULL;
	self->fd = -1;
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	snprintf(self->path, sizeof(self->path), "/tmp/spice-image-XXXXXX");
	self->fd = mkstemp(self->path);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe(p));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* The harness's results page: shared with it, not dumpable. */
		unmap_shared_anonymous();
		c = 'R';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(p[0], &c, 1));
	ASSERT_EQ(0, spice_dump(child, self->fd, &opts, NULL, why)) TH_LOG("%s", why);
	waitpid(child, NULL, 0);
	ASSERT_EQ(sizeof(h), pread(self->fd, &h, sizeof(h), 0));
	self->meta_len = h.metadata_size;
	self->meta = malloc(self->meta_len);
	ASSERT_NE(NULL, self->meta);
	ASSERT_EQ(self->meta_len, pread(self->fd, self->meta, self->meta_len, 0));
	close(p[0]);
	close(p[1]);
}

FIXTURE_TEARDOWN(image)
{
	free(self->meta);
	if (self->fd >= 0)
		close(self->fd);
	unlink(self->path);
}

/* restore_process() on @fd in a child: its errno, or 0 if it returned 0. */
static int kernel_verdict(int fd)
{
	struct restore_process_args args = {};
	int status;
	pid_t pid;

	pid = fork();
	if (!pid) {
		long r;

		/* Should a restore ever succeed, the process dies in 10 s. */
		alarm(10);
		r = sys_restore_process(fd, &args, sizeof(args), 0);

		_exit(r ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

/* The dumped image passes both readers' checks. */
TEST_F(image, real_dump_is_valid)
{
	struct spice_image *img;
	char why[SPICE_IMAGE_WHY_LEN];

	ASSERT_EQ(0, spice_image_open(self->fd, &img, why)) TH_LOG("%s", why);
	spice_image_free(img);
	/* Checked, then refused: the image's pipes are not supplied. */
	EXPECT_EQ(EBADF, kernel_verdict(self->fd));
}

/*
 * Same errno from the kernel and libspice, mutation after mutation; at
 * most 80 s of them, so that a debug kernel under emulation fits the
 * kselftest timeout.
 */
TEST_F_TIMEOUT(image, kernel_agrees_with_libspice, 110)
{
	const char *env = getenv("SPICE_FUZZ");
	long cases = 10000, i, rejected = 0, mismatches = 0;
	double elapsed = 0;
	unsigned char *buf = malloc(self->meta_len);
	struct timespec t0, t1;
	int seen[256] = {};
	struct spice_image *img;
	int lib, kern;

	ASSERT_NE(NULL, buf);
	if (env)
		cases = atol(env);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cases && elapsed < 80; i++) {
		if (!(i % 64)) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		}
		memcpy(buf, self->meta, self->meta_len);
		mutate(buf, self->meta_len);
		ASSERT_EQ(self->meta_len, pwrite(self->fd, buf, self->meta_len, 0));
		/* Read from the file, as the kernel does. */
		lib = -spice_image_open(self->fd, &img, NULL);
		spice_image_free(img);
		/* Rejections are checked in this process: nothing changes. */
		if (lib) {
			struct restore_process_args args = {};

			kern = sys_restore_process(self->fd, &args, sizeof(args), 0)
				? errno : 0;
			rejected++;
		} else {
			kern = kernel_verdict(self->fd);
		}
		seen[kern & 255]++;
		if (lib && kern != lib && mismatches++ < 5)
			TH_LOG("case %ld: kernel %d, libspice %d", i, kern, lib);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(self->meta_len, pwrite(self->fd, self->meta, self->meta_len, 0));
	ksft_print_msg("%ld mutations in %.1f s, %ld rejected: ", i,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       rejected);
	printf("EINVAL %d, E2BIG %d, ENOEXEC %d, EBADMSG %d; accepted, then EBADF %d\n",
	       seen[EINVAL], seen[E2BIG], seen[ENOEXEC], seen[EBADMSG],
	       seen[EBADF]);
	EXPECT_EQ(0, mismatches);
	free(buf);
}

/* A truncated image: the data area past the end of the file. */
TEST_F(image, truncated)
{
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_EQ(0, ftruncate(self->fd, st.st_size - 4096));
	EXPECT_EQ(EINVAL, kernel_verdict(self->fd));
	ASSERT_EQ(0, ftruncate(self->fd, 100));
	EXPECT_EQ(ENOEXEC, kernel_verdict(self->fd));
	ASSERT_EQ(0, ftruncate(self->fd, 0));
	EXPECT_EQ(ENOEXEC, kernel_verdict(self->fd));
}

TEST_HARNESS_MAIN
