// SPDX-License-Identifier: GPL-2.0
/*
 * Dumping a live process with libspice's spice_dump(): the image must say
 * what /proc and the process itself say, the process must carry on
 * unharmed (its blocked system calls restarting) or die when asked, and the
 * image's memory tables must bring the memory back through mmap_restore().
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "mmap_restore_util.h"

#define ANON_PAGES 16
#define FILE_PAGES 4
#define ANON_SEED 3
#define FILE_SEED 9
#define ALT_STACK_SIZE 65536

static void on_usr1(int sig)
{
	(void)sig;
}

static int thread_fd;
static int thread_running;

static void *blocked_thread(void *arg)
{
	sigset_t set;
	char c;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&thread_running, 1, __ATOMIC_RELEASE);
	/* Blocks for good: nobody writes to its pipe. */
	while (read(thread_fd, &c, 1) > 0)
		;
	return NULL;
}

/*
 * The process to dump: known memory, a file mapping, a second thread, a
 * signal handler and an alternate stack; it reports ready, then blocks in
 * read() until told to check its memory and exit.
 */
static void dumpee(char *anon, char *file_map, const char *file_path,
		   int cmd_fd, int ack_fd)
{
	struct sigaction sa = { .sa_handler = on_usr1,
				.sa_flags = SA_RESTART | SA_ONSTACK };
	stack_t ss = { .ss_size = ALT_STACK_SIZE };
	pthread_t t;
	char c = 'R', *p;
	int fd, ok, i, pair[2];

	/* The harness's results page: shared with it, not dumpable. */
	unmap_shared_anonymous();
	p = mmap(anon, ANON_PAGES * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	fd = open(file_path, O_RDONLY);
	if (p != anon || fd < 0 ||
	    mmap(file_map, FILE_PAGES * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0) != file_map)
		_exit(10);
	close(fd);
	/* page 0 untouched, 1 zero but present, 2-5 pattern, 6 = page 2 */
	memset(anon + PS, 0, PS);
	for (i = 2; i <= 5; i++)
		fill_page(anon + i * PS, ANON_SEED, i);
	memcpy(anon + 6 * PS, anon + 2 * PS, PS);
	/* file: 0 read, 1 changed, 2 rewritten unchanged, 3 untouched */
	c = file_map[0];
	file_map[PS + 8] ^= 0xff;
	fill_page(file_map + 2 * PS, FILE_SEED, 2);

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	ss.ss_sp = malloc(ALT_STACK_SIZE);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaltstack(&ss, NULL))
		_exit(11);
	/*
	 * The thread blocks on a pipe of its own: on cmd_fd it could take
	 * the byte meant for the main thread, which then never answers.
	 */
	if (pipe(pair))
		_exit(12);
	thread_fd = pair[0];
	if (pthread_create(&t, NULL, blocked_thread, NULL))
		_exit(12);
	while (!__atomic_load_n(&thread_running, __ATOMIC_ACQUIRE))
		usleep(1000);
	c = 'R';
	if (write(ack_fd, &c, 1) != 1 || read(cmd_fd, &c, 1) != 1)
		_exit(13);
	/* Still the same memory after the dump? */
	ok = page_is_zero(anon + PS) && page_has_pattern(anon + 6 * PS, ANON_SEED, 2);
	for (i = 2; i <= 5; i++)
		ok &= page_has_pattern(anon + i * PS, ANON_SEED, i);
	c = ok ? 'A' : 'X';
	if (write(ack_fd, &c, 1) != 1)
		_exit(14);
	_exit(0);
}

FIXTURE(dump) {
	char *anon, *file_map;
	char file_path[64], image_path[64];
	int cmd_fd, ack_fd, image_fd;
	pid_t child;
	struct spice_dump_stats stats;
	struct spice_image *img;
};

FIXTURE_SETUP(dump)
{
	int cmd[2], ack[2], fd;
	char c, *buf;
	int i;

	self->img = NULL;
	self->child = -1;
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	self->anon = free_range(ANON_PAGES * PS + FILE_PAGES * PS + PS);
	ASSERT_NE(NULL, self->anon);
	self->file_map = self->anon + ANON_PAGES * PS + PS;
	snprintf(self->file_path, sizeof(self->file_path), "/tmp/spice-dump-file-XXXXXX");
	fd = mkstemp(self->file_path);
	ASSERT_LE(0, fd);
	buf = malloc(PS);
	for (i = 0; i < FILE_PAGES; i++) {
		fill_page(buf, FILE_SEED, i);
		ASSERT_EQ(PS, pwrite(fd, buf, PS, i * PS));
	}
	free(buf);
	close(fd);
	snprintf(self->image_path, sizeof(self->image_path), "/tmp/spice-dump-image-XXXXXX");
	self->image_fd = mkstemp(self->image_path);
	ASSERT_LE(0, self->image_fd);
	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(ack));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(cmd[1]);
		close(ack[0]);
		dumpee(self->anon, self->file_map, self->file_path, cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	self->cmd_fd = cmd[1];
	self->ack_fd = ack[0];
	ASSERT_EQ(1, read(self->ack_fd, &c, 1));
	ASSERT_EQ('R', c);
}

FIXTURE_TEARDOWN(dump)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	spice_image_free(self->img);
	unlink(self->file_path);
	unlink(self->image_path);
}

/* Dump @pid to @fd and read the image back into *@img. */
static int do_dump(struct __test_metadata *_metadata, pid_t pid, int fd,
		   unsigned int flags, struct spice_dump_stats *stats,
		   struct spice_image **img)
{
	struct spice_dump_opts opts = { .flags = flags };
	char why[SPICE_IMAGE_WHY_LEN];
	int err;

	err = spice_dump(pid, fd, &opts, stats, why);
	if (err)
		TH_LOG("spice_dump: %s", why);
	if (!err)
		err = spice_image_open(fd, img, why);
	if (err)
		TH_LOG("%s", why);
	return err;
}

#define DUMP(flags) do_dump(_metadata, self->child, self->image_fd, flags, \
			    &self->stats, &self->img)

static const struct spice_image_vma *vma_at(const struct spice_image *img,
					    void *addr)
{
	const struct spice_image_vma *v;
	uint64_t nr, i;

	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	for (i = 0; i < nr; i++)
		if (v[i].start <= (uintptr_t)addr && (uintptr_t)addr < v[i].end)
			return &v[i];
	return NULL;
}

/* The source of page @addr: an interval, or NULL for the VMA's default. */
static const struct mmap_restore_interval *
interval_at(const struct spice_image *img, const struct spice_image_vma *v,
	    void *addr)
{
	const struct mmap_restore_interval *iv;
	uint32_t i;

	iv = spice_image_table(img, SPICE_SECT_INTERVALS, NULL);
	for (i = v->first_interval; i < v->first_interval + v->nr_intervals; i++)
		if (iv[i].addr <= (uintptr_t)addr &&
		    (uintptr_t)addr < iv[i].addr + iv[i].len)
			return &iv[i];
	return NULL;
}

static uint64_t image_offset(const struct spice_image *img,
			     const struct spice_image_vma *v, void *addr)
{
	const struct mmap_restore_interval *iv = interval_at(img, v, addr);

	if (!iv || iv->source != MMAP_RESTORE_SRC_IMAGE)
		return 0;
	return iv->offset + (uintptr_t)addr - iv->addr;
}

/* The image holds what /proc says: mappings, threads, files. */
TEST_F(dump, image_matches_proc)
{
	const struct spice_image_thread *t;
	const struct spice_image_process *p;
	const struct spice_image_vma *v;
	char path[64], line[512], perms[5], c;
	int n;
	uint64_t nr, nr_threads, i = 0;
	unsigned long long start, end;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", self->child);
	maps = fopen(path, "r");
	ASSERT_NE(NULL, maps);
	ASSERT_EQ(0, DUMP(0));
	v = spice_image_table(self->img, SPICE_SECT_VMAS, &nr);
	while (fgets(line, sizeof(line), maps)) {
		if (strstr(line, "[vsyscall]"))
			continue;
		n = sscanf(line, "%llx-%llx %4s", &start, &end, perms);
		ASSERT_EQ(3, n);
		ASSERT_LT(i, nr);
		EXPECT_EQ(start, v[i].start);
		EXPECT_EQ(end, v[i].end);
		EXPECT_EQ(perms[0] == 'r', !!(v[i].prot & PROT_READ));
		EXPECT_EQ(perms[1] == 'w', !!(v[i].prot & PROT_WRITE));
		EXPECT_EQ(perms[2] == 'x', !!(v[i].prot & PROT_EXEC));
		EXPECT_EQ(perms[3] == 's', !!(v[i].flags & SPICE_VMA_SHARED));
		i++;
	}
	fclose(maps);
	EXPECT_EQ(nr, i);

	p = spice_image_process(self->img);
	EXPECT_EQ(self->child, p->pid);
	EXPECT_STREQ("dump_test", p->comm);
	t = spice_image_table(self->img, SPICE_SECT_THREADS, &nr_threads);
	ASSERT_EQ(2, nr_threads);
	EXPECT_EQ(self->child, t[0].tid);
	EXPECT_NE(self->child, t[1].tid);
	EXPECT_EQ(2, self->stats.threads);

	/* The child carries on: both blocked reads restart and complete. */
	c = 'c';
	ASSERT_EQ(1, write(self->cmd_fd, &c, 1));
	ASSERT_EQ(1, read(self->ack_fd, &c, 1));
	EXPECT_EQ('A', c);
	close(self->cmd_fd);
}

/* Pages are classified: untouched and zero pages cost nothing, repeats
 * are stored once, a file page written back unchanged is the file's.
 */
TEST_F(dump, pages_classified)
{
	const struct spice_image_vma *v;
	const struct mmap_restore_interval *iv;
	char *buf = malloc(PS);
	int i;

	ASSERT_EQ(0, DUMP(SPICE_DUMP_KILL));
	v = vma_at(self->img, self->anon);
	ASSERT_NE(NULL, v);
	EXPECT_EQ((uintptr_t)self->anon, v->start);
	EXPECT_EQ(SPICE_IMAGE_NONE, v->file);
	EXPECT_EQ(NULL, interval_at(self->img, v, self->anon));
	EXPECT_EQ(NULL, interval_at(self->img, v, self->anon + PS));
	for (i = 2; i <= 6; i++) {
		uint64_t off = image_offset(self->img, v, self->anon + i * PS);

		ASSERT_NE(0, off);
		ASSERT_EQ(PS, pread(self->image_fd, buf, PS, off));
		EXPECT_TRUE(page_has_pattern(buf, ANON_SEED, i == 6 ? 2 : i));
	}
	EXPECT_EQ(image_offset(self->img, v, self->anon + 2 * PS),
		  image_offset(self->img, v, self->anon + 6 * PS));
	EXPECT_EQ(NULL, interval_at(self->img, v, self->anon + 7 * PS));

	v = vma_at(self->img, self->file_map);
	ASSERT_NE(NULL, v);
	ASSERT_NE(SPICE_IMAGE_NONE, v->file);
	EXPECT_EQ(NULL, interval_at(self->img, v, self->file_map));
	iv = interval_at(self->img, v, self->file_map + PS);
	ASSERT_NE(NULL, iv);
	EXPECT_EQ(MMAP_RESTORE_SRC_IMAGE, iv->source);
	EXPECT_EQ(NULL, interval_at(self->img, v, self->file_map + 2 * PS));
	EXPECT_EQ(NULL, interval_at(self->img, v, self->file_map + 3 * PS));
	EXPECT_LE(1, self->stats.image.pages_zero);
	EXPECT_LE(1, self->stats.image.pages_dedup);
	EXPECT_LE(1, self->stats.image.pages_file);
	free(buf);
}

/* Signal actions, the alternate stack and per-thread masks come from the
 * stopped process itself.
 */
TEST_F(dump, signal_state)
{
	const struct spice_image_sigaction *act;
	const struct spice_image_thread *t;
	uint64_t nr;

	ASSERT_EQ(0, DUMP(SPICE_DUMP_KILL));
	act = spice_image_table(self->img, SPICE_SECT_SIGACTIONS, &nr);
	ASSERT_EQ(64, nr);
	EXPECT_EQ((uintptr_t)on_usr1, act[SIGUSR1 - 1].handler);
	EXPECT_EQ(SA_RESTART | SA_ONSTACK,
		  act[SIGUSR1 - 1].flags & (SA_RESTART | SA_ONSTACK));
	EXPECT_EQ(1ULL << (SIGUSR2 - 1), act[SIGUSR1 - 1].mask);
	EXPECT_EQ(0, act[SIGUSR2 - 1].handler);	/* SIG_DFL */
	t = spice_image_table(self->img, SPICE_SECT_THREADS, &nr);
	ASSERT_EQ(2, nr);
	EXPECT_EQ(ALT_STACK_SIZE, t[0].ss_size);
	EXPECT_NE(0, t[0].ss_sp);
	EXPECT_EQ(0, t[0].sigmask & (1ULL << (SIGUSR2 - 1)));
	EXPECT_NE(0, t[1].sigmask & (1ULL << (SIGUSR2 - 1)));
	EXPECT_NE(0, t[1].clear_child_tid);	/* CLONE_CHILD_CLEARTID */
	EXPECT_NE(0, t[1].robust_list);
	EXPECT_LE(512, t[0].xstate.len);
}

/* SPICE_DUMP_KILL: the process dies once dumped. */
TEST_F(dump, kill_after_dump)
{
	int status;

	ASSERT_EQ(0, DUMP(SPICE_DUMP_KILL));
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

/* The image's tables are mmap_restore()'s arguments: the dumped memory
 * comes back in this process, page for page.
 */
TEST_F(dump, memory_round_trip)
{
	const struct spice_image_vma *va, *vf;
	const struct mmap_restore_interval *iv;
	struct mmap_restore_region r[2];
	struct mmap_restore_args args;
	int file_fd, i;

	ASSERT_EQ(0, DUMP(SPICE_DUMP_KILL));
	va = vma_at(self->img, self->anon);
	vf = vma_at(self->img, self->file_map);
	ASSERT_NE(NULL, va);
	ASSERT_NE(NULL, vf);
	ASSERT_EQ(va->first_interval + va->nr_intervals, vf->first_interval);
	file_fd = open(self->file_path, O_RDONLY);
	ASSERT_LE(0, file_fd);
	iv = spice_image_table(self->img, SPICE_SECT_INTERVALS, NULL);

	memset(r, 0, sizeof(r));
	r[0].start = va->start;
	r[0].len = va->end - va->start;
	r[0].prot = va->prot;
	r[0].fd = -1;
	r[0].nr_intervals = va->nr_intervals;
	r[1].start = vf->start;
	r[1].len = vf->end - vf->start;
	r[1].pgoff = vf->pgoff;
	r[1].prot = vf->prot;
	r[1].fd = file_fd;
	r[1].first_interval = va->nr_intervals;
	r[1].nr_intervals = vf->nr_intervals;
	memset(&args, 0, sizeof(args));
	args.image_fd = self->image_fd;
	args.nr_regions = 2;
	args.regions = (uintptr_t)r;
	args.intervals = (uintptr_t)&iv[va->first_interval];
	args.nr_intervals = va->nr_intervals + vf->nr_intervals;
	ASSERT_EQ(0, sys_mmap_restore(&args, sizeof(args), 0));
	close(file_fd);

	EXPECT_TRUE(page_is_zero(self->anon));
	EXPECT_TRUE(page_is_zero(self->anon + PS));
	for (i = 2; i <= 5; i++)
		EXPECT_TRUE(page_has_pattern(self->anon + i * PS, ANON_SEED, i));
	EXPECT_TRUE(page_has_pattern(self->anon + 6 * PS, ANON_SEED, 2));
	EXPECT_TRUE(page_is_zero(self->anon + 7 * PS));
	EXPECT_TRUE(page_has_pattern(self->file_map, FILE_SEED, 0));
	EXPECT_FALSE(page_has_pattern(self->file_map + PS, FILE_SEED, 1));
	self->file_map[PS + 8] ^= 0xff;
	EXPECT_TRUE(page_has_pattern(self->file_map + PS, FILE_SEED, 1));
	EXPECT_TRUE(page_has_pattern(self->file_map + 2 * PS, FILE_SEED, 2));
	EXPECT_TRUE(page_has_pattern(self->file_map + 3 * PS, FILE_SEED, 3));
	munmap(self->anon, (ANON_PAGES + 1 + FILE_PAGES) * PS);
}

/* What spice_dump() refuses, with the process left as it was. */
TEST(dump_errors)
{
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_dump_opts bad = { .flags = 1U << 30 };
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, spice_dump(1, fd, &bad, NULL, why));
	EXPECT_EQ(-EINVAL, spice_dump(0, fd, NULL, NULL, why));
	/* No such process. */
	EXPECT_EQ(-ENOENT, spice_dump(0x3fffffff, fd, NULL, NULL, why));
	EXPECT_NE(0, why[0]);
	/* A process cannot stop itself. */
	EXPECT_EQ(-EPERM, spice_dump(getpid(), fd, NULL, NULL, why));
	close(fd);
}

TEST_HARNESS_MAIN
