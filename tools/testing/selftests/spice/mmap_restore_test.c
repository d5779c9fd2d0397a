// SPDX-License-Identifier: GPL-2.0
/*
 * Spice selftests: what mmap_restore() restores.
 *
 * Contents from each source (image, zero, backing file) in anonymous and
 * file-backed regions, populated pages that take no fault, the maps view,
 * locked and advised regions, protections, ordinary-memory behaviour
 * afterwards (fork COW, munmap, mprotect, MADV_DONTNEED), replacement, and
 * the counters.  Images live on
 * tmpfs and, when the guest has it, on the ext4 image disk.
 */

#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "mmap_restore_util.h"

#define IMAGE_SEED	0x1111
#define FILE_SEED	0x2222
#define IMAGE_PAGES	64

FIXTURE(restore) {
	int image;		/* IMAGE_PAGES pages of IMAGE_SEED */
	int backing;		/* 16 pages of FILE_SEED */
	char *at;		/* 64 free pages */
	struct restore_call c;
};

FIXTURE_VARIANT(restore) {
	const char *dir;
};

FIXTURE_VARIANT_ADD(restore, tmpfs) {
	.dir = "/tmp",
};

FIXTURE_VARIANT_ADD(restore, ext4) {
	.dir = "/images",
};

FIXTURE_SETUP(restore)
{
	struct statfs sfs;

	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	if (statfs(variant->dir, &sfs) || access(variant->dir, W_OK))
		SKIP(return, "%s is not available", variant->dir);
	if (!strcmp(variant->dir, "/images") && sfs.f_type != 0xEF53)
		SKIP(return, "no ext4 image disk at /images");

	self->image = make_pattern_file(variant->dir, IMAGE_SEED, IMAGE_PAGES,
					O_RDONLY);
	ASSERT_LE(0, self->image);
	self->backing = make_pattern_file(variant->dir, FILE_SEED, 16, O_RDONLY);
	ASSERT_LE(0, self->backing);
	self->at = free_range(64 * PS);
	ASSERT_NE(NULL, self->at);
	call_init(&self->c, self->image);
}

FIXTURE_TEARDOWN(restore)
{
	if (self->at)
		munmap(self->at, 64 * PS);
	close(self->image);
	close(self->backing);
}

/*
 * Anonymous region: pages 0-3 from image pages 10-13 and 8-9 from image
 * pages 20-21, a zero run 4-7, the rest zero by default; the working set
 * holds 0-3 (written) and 8-9.
 */
static void anon_call(struct restore_call *c, char *at)
{
	add_region(c, at, 16, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(c, 0, 4, MMAP_RESTORE_SRC_IMAGE, 10);
	add_interval(c, 4, 4, MMAP_RESTORE_SRC_ZERO, 0);
	add_interval(c, 8, 2, MMAP_RESTORE_SRC_IMAGE, 20);
	add_ws(c, at, 0, 4, 1);
	add_ws(c, at, 8, 2, 0);
}

TEST_F(restore, anonymous_contents)
{
	char *at = self->at;
	int i;

	anon_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));

	for (i = 0; i < 4; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, 10 + i));
	for (i = 4; i < 8; i++)
		EXPECT_TRUE(page_is_zero(at + i * PS));
	for (i = 8; i < 10; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, 20 + i - 8));
	for (i = 10; i < 16; i++)
		EXPECT_TRUE(page_is_zero(at + i * PS));

	/* Image pages are read whether or not the working set names them. */
	EXPECT_EQ(6, self->c.stats.pages_read);
	EXPECT_EQ(6 * PS, self->c.stats.bytes_read);
	/* Two runs, each contiguous in the image: two reads. */
	EXPECT_EQ(2, self->c.stats.io_requests);
	EXPECT_EQ(6, self->c.stats.pages_populated);
	EXPECT_EQ(0, self->c.stats.pages_deferred);
}

TEST_F(restore, working_set_takes_no_fault)
{
	char *at = self->at;
	long before, after;
	int i;

	anon_call(&self->c, self->at);
	ASSERT_EQ(0, call_restore(&self->c, 0));

	before = minor_faults();
	for (i = 0; i < 4; i++)
		__atomic_store_n(&at[i * PS], 1, __ATOMIC_RELAXED);
	for (i = 8; i < 10; i++)
		__atomic_load_n(&at[i * PS], __ATOMIC_RELAXED);
	/* Private copies are installed writable: no fault on a write either. */
	__atomic_store_n(&at[8 * PS], 1, __ATOMIC_RELAXED);
	after = minor_faults();
	EXPECT_EQ(0, after - before);
}

TEST_F(restore, anonymous_maps_line)
{
	const char *line;

	anon_call(&self->c, self->at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	line = maps_line(self->at);
	EXPECT_NE(NULL, strstr(line, " rw-p "));
	/* Anonymous memory stays anonymous: no file in the maps line. */
	EXPECT_EQ(NULL, strchr(line, '/'));
	TH_LOG("%s", line);
}

/*
 * File region over the backing file: page 2 overlaid with image data, page
 * 3 zeroed, the rest from the file.  Working set: 0 read, 1 written, 2.
 */
TEST_F(restore, file_overlay)
{
	char *at = self->at;
	char buf[PS];
	long before;
	int i;

	add_region(&self->c, at, 8, PROT_READ | PROT_WRITE, self->backing, 4, 0);
	add_interval(&self->c, 2, 1, MMAP_RESTORE_SRC_IMAGE, 20);
	add_interval(&self->c, 3, 1, MMAP_RESTORE_SRC_ZERO, 0);
	add_ws(&self->c, at, 0, 1, 0);
	add_ws(&self->c, at, 1, 1, 1);
	add_ws(&self->c, at, 2, 1, 0);
	ASSERT_EQ(0, call_restore(&self->c, 0));

	before = minor_faults();
	EXPECT_TRUE(page_has_pattern(at, FILE_SEED, 4));
	at[PS] = at[PS];
	EXPECT_TRUE(page_has_pattern(at + 2 * PS, IMAGE_SEED, 20));
	EXPECT_EQ(0, minor_faults() - before);

	EXPECT_TRUE(page_has_pattern(at + PS, FILE_SEED, 5));
	EXPECT_TRUE(page_is_zero(at + 3 * PS));
	for (i = 4; i < 8; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, FILE_SEED, 4 + i));

	/* The mapping is private: the file does not see writes. */
	at[PS + 8] = 0x77;
	ASSERT_EQ(PS, pread(self->backing, buf, PS, 5 * PS));
	EXPECT_TRUE(page_has_pattern(buf, FILE_SEED, 5));

	/* A file region shows its file. */
	EXPECT_NE(NULL, strstr(maps_line(at), "spice-test-"));
	/* Working-set pages 0-2, and the zero page 3 a fault would not give. */
	EXPECT_EQ(4, self->c.stats.pages_populated);
	EXPECT_EQ(1, self->c.stats.pages_read);
}

TEST_F(restore, read_only_region)
{
	char *at = self->at;
	pid_t pid;
	int status;

	add_region(&self->c, at, 4, PROT_READ, -1, 0, 0);
	add_interval(&self->c, 0, 4, MMAP_RESTORE_SRC_IMAGE, 0);
	add_ws(&self->c, at, 0, 4, 0);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_TRUE(page_has_pattern(at + 3 * PS, IMAGE_SEED, 3));
	EXPECT_NE(NULL, strstr(maps_line(at), " r--p "));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		at[0] = 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

TEST_F(restore, prot_none_and_exec)
{
	/* "mov $42, %eax; ret" */
	static const unsigned char insn[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	char *at = self->at;
	int (*fn)(void);
	int img;

	img = make_pattern_file("/tmp", 1, 1, O_RDWR);
	ASSERT_LE(0, img);
	ASSERT_EQ(sizeof(insn), pwrite(img, insn, sizeof(insn), 0));
	call_init(&self->c, img);
	add_region(&self->c, at, 2, PROT_NONE, -1, 0, 0);
	add_region(&self->c, at + 4 * PS, 1, PROT_READ | PROT_EXEC, -1, 0, 0);
	add_interval(&self->c, 0, 1, MMAP_RESTORE_SRC_IMAGE, 0);
	add_ws(&self->c, at + 4 * PS, 0, 1, 0);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	close(img);

	EXPECT_NE(NULL, strstr(maps_line(at), " ---p "));
	EXPECT_NE(NULL, strstr(maps_line(at + 4 * PS), " r-xp "));
	fn = (int (*)(void))(at + 4 * PS);
	EXPECT_EQ(42, fn());
}

TEST_F(restore, overlap_needs_replace)
{
	char *at = self->at;
	char *old;

	old = mmap(at + 2 * PS, PS, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(at + 2 * PS, old);
	old[0] = 0x42;

	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(&self->c, 0, 4, MMAP_RESTORE_SRC_IMAGE, 0);
	EXPECT_EQ(-1, call_restore(&self->c, 0));
	EXPECT_EQ(EEXIST, errno);
	/* Nothing changed: the old page is intact, its neighbours unmapped. */
	EXPECT_EQ(0x42, old[0]);
	EXPECT_TRUE(all_unmapped(at, 2 * PS));

	EXPECT_EQ(0, call_restore(&self->c, MMAP_RESTORE_REPLACE));
	EXPECT_TRUE(page_has_pattern(at + 2 * PS, IMAGE_SEED, 2));
}

TEST_F(restore, failure_leaves_nothing)
{
	char *at = self->at;
	int closed = dup(0);

	ASSERT_LE(0, closed);
	close(closed);
	/* A good first region, a second one whose file is not open. */
	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(&self->c, 0, 4, MMAP_RESTORE_SRC_IMAGE, 0);
	add_region(&self->c, at + 8 * PS, 4, PROT_READ, closed, 0, 0);
	EXPECT_EQ(-1, call_restore(&self->c, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_TRUE(all_unmapped(at, 16 * PS));
	/* Stats are only written on success. */
	EXPECT_EQ(0, self->c.stats.pages_populated);
}

TEST_F(restore, fork_copies_on_write)
{
	char *at = self->at;
	pid_t pid;
	int status;

	anon_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (!page_has_pattern(at, IMAGE_SEED, 10))
			_exit(1);
		memset(at, 0x33, PS);
		_exit(at[100] == 0x33 ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(page_has_pattern(at, IMAGE_SEED, 10));
}

/*
 * Shared anonymous region: as anon_call(), plus zero page 12 in the
 * working set.
 */
static void shared_call(struct restore_call *c, char *at)
{
	add_region(c, at, 16, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_SHARED);
	add_interval(c, 0, 4, MMAP_RESTORE_SRC_IMAGE, 10);
	add_interval(c, 4, 4, MMAP_RESTORE_SRC_ZERO, 0);
	add_interval(c, 8, 2, MMAP_RESTORE_SRC_IMAGE, 20);
	add_ws(c, at, 0, 4, 1);
	add_ws(c, at, 8, 2, 0);
	add_ws(c, at, 12, 1, 0);
}

TEST_F(restore, shared_anonymous_contents)
{
	char *at = self->at, *real;
	const char *line;
	long before, after;
	int i;

	shared_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	for (i = 0; i < 16; i++) {
		int image = i < 4 || i == 8 || i == 9;

		EXPECT_TRUE(image ? page_has_pattern(at + i * PS, IMAGE_SEED,
						     i < 4 ? 10 + i : 20 + i - 8) :
				    page_is_zero(at + i * PS));
	}
	/* Every image page is read and mapped, none left pending. */
	EXPECT_EQ(6, self->c.stats.pages_read);
	EXPECT_EQ(7, self->c.stats.pages_populated);
	EXPECT_EQ(0, self->c.stats.pages_deferred);

	/* What mmap(MAP_SHARED | MAP_ANONYMOUS) shows, at offset 0. */
	line = maps_line(at);
	EXPECT_NE(NULL, strstr(line, " rw-s 00000000 "));
	EXPECT_NE(NULL, strstr(line, " /dev/zero (deleted)"));
	TH_LOG("%s", line);
	real = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, real);
	EXPECT_NE(NULL, strstr(maps_line(real), " /dev/zero (deleted)"));
	munmap(real, PS);

	/* A zero page of the working set is there too. */
	before = minor_faults();
	__atomic_load_n(&at[12 * PS], __ATOMIC_RELAXED);
	after = minor_faults();
	EXPECT_EQ(0, after - before);
}

/*
 * The contents live in the region's shmem object: a child's write is seen,
 * and a page whose entry MADV_DONTNEED dropped keeps its data.
 */
TEST_F(restore, shared_anonymous_is_shared)
{
	char *at = self->at;
	int status;
	pid_t pid;

	shared_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(at + 5 * PS, 0x33, PS);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0x33, at[5 * PS + 100]);
	ASSERT_EQ(0, madvise(at + 8 * PS, PS, MADV_DONTNEED));
	EXPECT_TRUE(page_has_pattern(at + 8 * PS, IMAGE_SEED, 20));
}

/* MMAP_RESTORE_REGION_NORESERVE is MAP_NORESERVE, private or shared. */
TEST_F(restore, noreserve_regions)
{
	char *at = self->at;

	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_NORESERVE);
	add_region(&self->c, at + 8 * PS, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_NORESERVE | MMAP_RESTORE_REGION_SHARED);
	add_interval(&self->c, 0, 1, MMAP_RESTORE_SRC_IMAGE, 3);
	add_region(&self->c, at + 16 * PS, 4, PROT_READ | PROT_WRITE, -1, 0, 0);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_TRUE(has_vmflag(at, "nr"));
	EXPECT_TRUE(has_vmflag(at + 8 * PS, "nr"));
	EXPECT_FALSE(has_vmflag(at + 16 * PS, "nr"));
	EXPECT_TRUE(page_has_pattern(at + 8 * PS, IMAGE_SEED, 3));
}

/*
 * Lock and advice come with the mapping; a locked region's image data is
 * read before the call returns (none pending), its other pages populated.
 */
TEST_F(restore, locked_and_advised_regions)
{
	char *at = self->at;

	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_LOCKED | MMAP_RESTORE_REGION_DONTDUMP);
	add_interval(&self->c, 0, 2, MMAP_RESTORE_SRC_IMAGE, 3);
	add_region(&self->c, at + 8 * PS, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_WIPEONFORK | MMAP_RESTORE_REGION_DONTFORK |
		   MMAP_RESTORE_REGION_RANDOM);
	add_region(&self->c, at + 16 * PS, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_LOCKED | MMAP_RESTORE_REGION_LOCKONFAULT |
		   MMAP_RESTORE_REGION_SEQUENTIAL);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_EQ(0, self->c.stats.pages_deferred);
	EXPECT_TRUE(has_vmflag(at, "lo"));
	EXPECT_TRUE(has_vmflag(at, "dd"));
	EXPECT_FALSE(has_vmflag(at, "lf"));
	EXPECT_TRUE(has_vmflag(at + 8 * PS, "wf"));
	EXPECT_TRUE(has_vmflag(at + 8 * PS, "dc"));
	EXPECT_TRUE(has_vmflag(at + 8 * PS, "rr"));
	EXPECT_TRUE(has_vmflag(at + 16 * PS, "lf"));
	EXPECT_TRUE(has_vmflag(at + 16 * PS, "sr"));
	/* Every page of the locked region is present, none of the on-fault one. */
	EXPECT_TRUE(pagemap_entry(at + 3 * PS) & PAGEMAP_PRESENT);
	EXPECT_FALSE(pagemap_entry(at + 16 * PS) & PAGEMAP_PRESENT);
	EXPECT_TRUE(page_has_pattern(at + PS, IMAGE_SEED, 4));
}

/* Locked regions count against RLIMIT_MEMLOCK, checked before any change. */
TEST_F(restore, locked_regions_over_memlock)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	char *at = self->at;
	int status;
	pid_t pid;

	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0,
		   MMAP_RESTORE_REGION_LOCKED);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* As mmap(MAP_LOCKED): EAGAIN over the limit, EPERM with none. */
		if (syscall(SYS_capget, &hdr, data))
			_exit(1);
		data[0].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
		if (syscall(SYS_capset, &hdr, data) ||
		    setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ 3 * PS, 3 * PS }))
			_exit(2);
		if (call_restore(&self->c, 0) != -1 || errno != EAGAIN ||
		    !all_unmapped(at, 4 * PS))
			_exit(3);
		if (setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ 0, 0 }) ||
		    call_restore(&self->c, 0) != -1 || errno != EPERM)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
}

/* With MMAP_RESTORE_ASYNC and no budget, shared pages still come now. */
TEST_F(restore, shared_anonymous_is_never_deferred)
{
	char *at = self->at;

	shared_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, MMAP_RESTORE_ASYNC));
	EXPECT_EQ(0, self->c.stats.pages_deferred);
	EXPECT_EQ(6, self->c.stats.pages_read);
	EXPECT_TRUE(page_has_pattern(at + 9 * PS, IMAGE_SEED, 21));
}

TEST_F(restore, ordinary_memory_afterwards)
{
	char *at = self->at;

	anon_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));

	/* MADV_DONTNEED frees anonymous memory: it reads back as zero. */
	ASSERT_EQ(0, madvise(at, PS, MADV_DONTNEED));
	EXPECT_TRUE(page_is_zero(at));
	ASSERT_EQ(0, mprotect(at + PS, PS, PROT_READ));
	EXPECT_TRUE(page_has_pattern(at + PS, IMAGE_SEED, 11));
	ASSERT_EQ(0, munmap(at + 2 * PS, PS));
	EXPECT_TRUE(all_unmapped(at + 2 * PS, PS));
	EXPECT_TRUE(page_has_pattern(at + 3 * PS, IMAGE_SEED, 13));
	/* mremap moves restored pages like any others. */
	EXPECT_EQ(at + 32 * PS, mremap(at + 8 * PS, 2 * PS, 2 * PS,
				       MREMAP_MAYMOVE | MREMAP_FIXED, at + 32 * PS));
	EXPECT_TRUE(page_has_pattern(at + 33 * PS, IMAGE_SEED, 21));
}

TEST_F(restore, many_regions_one_call)
{
	char *at = self->at;
	int i;

	/* Eight regions, each one image page, alternating protections. */
	for (i = 0; i < 8; i++) {
		add_region(&self->c, at + 2 * i * PS, 1,
			   i & 1 ? PROT_READ : PROT_READ | PROT_WRITE, -1, 0, 0);
		add_interval(&self->c, 0, 1, MMAP_RESTORE_SRC_IMAGE, 30 + i);
	}
	/* No working set: MMAP_RESTORE_EAGER reads the pages all the same. */
	ASSERT_EQ(0, call_restore(&self->c, MMAP_RESTORE_EAGER));
	/* One contiguous run of the image: one read. */
	EXPECT_EQ(1, self->c.stats.io_requests);
	EXPECT_EQ(8, self->c.stats.pages_populated);
	EXPECT_EQ(0, self->c.stats.pages_deferred);
	for (i = 0; i < 8; i++)
		EXPECT_TRUE(page_has_pattern(at + 2 * i * PS, IMAGE_SEED, 30 + i));
}

TEST_F(restore, unwritten_zero_pages_share_the_zero_page)
{
	char *at = self->at;

	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_ws(&self->c, at, 0, 2, 0);
	add_ws(&self->c, at, 2, 2, 1);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_EQ(4, self->c.stats.pages_populated);
	EXPECT_EQ(0, self->c.stats.pages_read);
	EXPECT_TRUE(page_is_zero(at) && page_is_zero(at + 3 * PS));
	/* Writing the shared zero page takes a copy: the others stay zero. */
	at[0] = 1;
	EXPECT_TRUE(page_is_zero(at + PS));
}

/*
 * Pages outside the working set: left pending, read on first touch.  Region
 * of 16 image pages (image pages 40-55), working set 0-3.
 */
static void lazy_call(struct restore_call *c, char *at)
{
	add_region(c, at, 16, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(c, 0, 16, MMAP_RESTORE_SRC_IMAGE, 40);
	add_ws(c, at, 0, 4, 0);
}

TEST_F(restore, lazy_pages_load_on_first_touch)
{
	char *at = self->at;
	long before;
	int i;

	lazy_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_EQ(4, self->c.stats.pages_populated);
	EXPECT_EQ(4, self->c.stats.pages_read);
	EXPECT_EQ(12, self->c.stats.pages_deferred);

	before = minor_faults();
	EXPECT_TRUE(page_has_pattern(at + 9 * PS, IMAGE_SEED, 49));
	/* One fault restored it. */
	EXPECT_LE(1, minor_faults() - before);
	for (i = 0; i < 16; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, 40 + i));
	/* Restored pages are writable anonymous memory. */
	at[10 * PS] = 1;
	EXPECT_EQ(1, at[10 * PS]);
	EXPECT_EQ(NULL, strchr(maps_line(at), '/'));
}

TEST_F(restore, lazy_pages_fault_around)
{
	char *at = self->at;
	long before;
	int i;

	lazy_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	before = minor_faults();
	for (i = 4; i < 16; i++)
		__atomic_load_n(&at[i * PS], __ATOMIC_RELAXED);
	/*
	 * The first touch reads ahead and maps the following pages whose
	 * data came in with it: far fewer faults than pages.
	 */
	EXPECT_GT(4, minor_faults() - before);
	TH_LOG("%ld faults for 12 pending pages", minor_faults() - before);
	for (i = 4; i < 16; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, 40 + i));
}

TEST_F(restore, lazy_pages_eager_flag)
{
	lazy_call(&self->c, self->at);
	ASSERT_EQ(0, call_restore(&self->c, MMAP_RESTORE_EAGER));
	EXPECT_EQ(16, self->c.stats.pages_populated);
	EXPECT_EQ(16, self->c.stats.pages_read);
	EXPECT_EQ(0, self->c.stats.pages_deferred);
	EXPECT_TRUE(page_has_pattern(self->at + 15 * PS, IMAGE_SEED, 55));
}

TEST_F(restore, lazy_pages_across_fork)
{
	char *at = self->at;
	pid_t pid;
	int status;

	lazy_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child reads pending pages from the image too. */
		if (!page_has_pattern(at + 10 * PS, IMAGE_SEED, 50))
			_exit(1);
		memset(at + 11 * PS, 0x44, PS);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_TRUE(page_has_pattern(at + 10 * PS, IMAGE_SEED, 50));
	EXPECT_TRUE(page_has_pattern(at + 11 * PS, IMAGE_SEED, 51));
}

/* A region with no populated page at all still forks its pending pages. */
TEST_F(restore, lazy_pages_without_working_set_across_fork)
{
	char *at = self->at;
	pid_t pid;
	int status;

	add_region(&self->c, at, 8, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(&self->c, 0, 8, MMAP_RESTORE_SRC_IMAGE, 24);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_EQ(0, self->c.stats.pages_populated);
	EXPECT_EQ(8, self->c.stats.pages_deferred);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(page_has_pattern(at + 5 * PS, IMAGE_SEED, 29) ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_TRUE(page_has_pattern(at + 5 * PS, IMAGE_SEED, 29));
}

TEST_F(restore, lazy_pages_are_anonymous_memory)
{
	char *at = self->at;
	pid_t pid;
	int status;

	lazy_call(&self->c, at);
	ASSERT_EQ(0, call_restore(&self->c, 0));

	/* MADV_DONTNEED on a page never touched: it reads as zero, as anon. */
	ASSERT_EQ(0, madvise(at + 12 * PS, PS, MADV_DONTNEED));
	EXPECT_TRUE(page_is_zero(at + 12 * PS));
	/* mremap carries pending pages along. */
	EXPECT_EQ(at + 32 * PS, mremap(at + 13 * PS, 2 * PS, 2 * PS,
				       MREMAP_MAYMOVE | MREMAP_FIXED, at + 32 * PS));
	EXPECT_TRUE(page_has_pattern(at + 33 * PS, IMAGE_SEED, 54));
	/* munmap drops them. */
	ASSERT_EQ(0, munmap(at + 15 * PS, PS));
	EXPECT_TRUE(all_unmapped(at + 15 * PS, PS));
	/* mprotect keeps them: read-only, still the image's data. */
	ASSERT_EQ(0, mprotect(at + 6 * PS, PS, PROT_READ));
	EXPECT_TRUE(page_has_pattern(at + 6 * PS, IMAGE_SEED, 46));
	ASSERT_EQ(0, mprotect(at + 7 * PS, PS, PROT_READ));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		at[7 * PS] = 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

TEST_F(restore, lazy_pages_in_a_file_region)
{
	char *at = self->at;

	/* Overlay image data on page 2 of a file region; the working set is empty. */
	add_region(&self->c, at, 4, PROT_READ | PROT_WRITE, self->backing, 0, 0);
	add_interval(&self->c, 2, 1, MMAP_RESTORE_SRC_IMAGE, 7);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_EQ(1, self->c.stats.pages_deferred);
	EXPECT_TRUE(page_has_pattern(at + 2 * PS, IMAGE_SEED, 7));
	EXPECT_TRUE(page_has_pattern(at + 3 * PS, FILE_SEED, 3));
	/* In a private file mapping, MADV_DONTNEED brings the file back. */
	ASSERT_EQ(0, madvise(at + 2 * PS, PS, MADV_DONTNEED));
	EXPECT_TRUE(page_has_pattern(at + 2 * PS, FILE_SEED, 2));
}

/*
 * MMAP_RESTORE_ASYNC: 64 image pages, all in the working set, 8 of them
 * populated before the call returns, the rest by the worker.
 */
static void async_call(struct restore_call *c, char *at, unsigned long sync)
{
	add_region(c, at, 64, PROT_READ | PROT_WRITE, -1, 0, 0);
	add_interval(c, 0, 64, MMAP_RESTORE_SRC_IMAGE, 0);
	add_ws(c, at, 0, 64, 0);
	c->args.sync_pages = sync;
}

/* Wait up to 20 s for the worker to have populated every page. */
static int wait_all_present(char *at, int pages)
{
	int i, tries;

	for (tries = 0; tries < 2000; tries++) {
		for (i = 0; i < pages; i++)
			if (!(pagemap_entry(at + i * PS) & PAGEMAP_PRESENT))
				break;
		if (i == pages)
			return 1;
		usleep(10000);
	}
	return 0;
}

TEST_F(restore, async_worker_completes_the_working_set)
{
	char *at = self->at;
	int i;

	async_call(&self->c, at, 8);
	ASSERT_EQ(0, call_restore(&self->c, MMAP_RESTORE_ASYNC));
	EXPECT_EQ(8, self->c.stats.pages_populated);
	EXPECT_EQ(56, self->c.stats.pages_deferred);
	/* The synchronous budget is there when the call returns. */
	for (i = 0; i < 8; i++)
		EXPECT_TRUE(pagemap_entry(at + i * PS) & PAGEMAP_PRESENT);
	/* The worker installs the rest without anyone touching it. */
	EXPECT_TRUE(wait_all_present(at, 64));
	for (i = 0; i < 64; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, i));
}

TEST_F(restore, async_racing_touches_munmap_and_fork)
{
	char *at = self->at;
	pid_t pid;
	int status, i;

	async_call(&self->c, at, 0);
	ASSERT_EQ(0, call_restore(&self->c, MMAP_RESTORE_ASYNC));
	/* Touch pages while the worker may be installing them. */
	for (i = 63; i >= 32; i--)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, i));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (i = 0; i < 64; i++)
			if (!page_has_pattern(at + i * PS, IMAGE_SEED, i))
				_exit(1);
		_exit(0);
	}
	/* Unmap half, map fresh memory there: the worker must not write it. */
	ASSERT_EQ(0, munmap(at, 16 * PS));
	ASSERT_EQ(at, mmap(at, 16 * PS, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	usleep(200000);
	for (i = 0; i < 16; i++)
		EXPECT_TRUE(page_is_zero(at + i * PS));
	for (i = 16; i < 64; i++)
		EXPECT_TRUE(page_has_pattern(at + i * PS, IMAGE_SEED, i));
}

TEST_F(restore, async_worker_outlived_by_nobody)
{
	int i, status;
	pid_t pid;

	/* Processes that exit (or exec) before the worker is done. */
	for (i = 0; i < 16; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			async_call(&self->c, self->at, 0);
			if (call_restore(&self->c, MMAP_RESTORE_ASYNC))
				_exit(1);
			if (i & 1)
				execl("/bin/true", "true", NULL);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		call_init(&self->c, self->image);
	}
}

#define TRACEFS "/sys/kernel/tracing"

static int tracefs_write(const char *file, const char *s)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* The spice events of this process only, from an empty buffer; 0 or -1. */
static int trace_spice_events(bool on)
{
	char pid[16];

	if (access(TRACEFS "/events", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	snprintf(pid, sizeof(pid), "%d", on ? getpid() : 0);
	if (!on)
		return tracefs_write("events/spice/enable", "0") |
		       tracefs_write("set_event_pid", "");
	return tracefs_write("set_event_pid", pid) |
	       tracefs_write("trace", "") |
	       tracefs_write("events/spice/enable", "1");
}

/* How many lines of the trace have @event, and the last one in @last. */
static int trace_count(const char *event, char *last, size_t size)
{
	FILE *f = fopen(TRACEFS "/trace", "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, event))
			continue;
		n++;
		snprintf(last, size, "%s", line);
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * The tracepoints tell what a restore planned, read and did, and which
 * pending page a first touch restored: lazy_call()'s 16 pages, 4 of the
 * working set in one read, 12 left pending, image page 49 faulted in.
 */
TEST_F(restore, tracepoints)
{
	char line[512], want[128];

	if (trace_spice_events(true))
		SKIP(return, "no tracefs or no spice events");
	lazy_call(&self->c, self->at);
	ASSERT_EQ(0, call_restore(&self->c, 0));
	EXPECT_TRUE(page_has_pattern(self->at + 9 * PS, IMAGE_SEED, 49));
	trace_spice_events(false);

	EXPECT_EQ(1, trace_count("spice_restore_plan:", line, sizeof(line)));
	/* 16 pages installed: 4 populated, 12 as pending entries. */
	EXPECT_NE(NULL, strstr(line, "regions=1 intervals=1 ws=1 pages=16 flags=0x0"))
		TH_LOG("%s", line);
	EXPECT_EQ(self->c.stats.io_requests,
		  trace_count("spice_restore_read:", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "pages=4 ret=16384"));
	EXPECT_EQ(1, trace_count("spice_restore_done:", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "populated=4 read=4 ios=1 deferred=12 err=0"));
	snprintf(want, sizeof(want), "address=%#lx image_page=49 ",
		 (unsigned long)(self->at + 9 * PS));
	EXPECT_LE(1, trace_count(want, line, sizeof(line)));
}

TEST_HARNESS_MAIN
