// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() makes again the files a process holds that have no
 * name to open them by: memfds with their seals, a file deleted while
 * open and an O_TMPFILE file, with their contents (holes kept), sizes,
 * permission bits, fds (offsets, flags, two open files of one memfd) and
 * mappings (shared ones showing the one file, private ones with their own
 * pages).  The restored process checks all of it from inside.  What cannot
 * be made again is refused by name at dump time; the permission rules of
 * memfd_create() and RLIMIT_FSIZE apply to the launcher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "channel.h"
#include "spice_test.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC	0x0010U
#endif

#define CMD_FD		10	/* the dumpee's requests */
#define ACK_FD		11	/* and its replies */

/* The dumpee's files. */
#define F_MEMFD		20	/* memfd "spice-code", sealed SHRINK | GROW, cloexec */
#define F_MEMFD_RO	21	/* the same memfd, opened again read-only */
#define F_NOEXEC	22	/* MFD_NOEXEC_SEAL memfd, write-sealed */
#define F_DELETED	23	/* a file deleted while open, offset 5000 */
#define F_TMPFILE	24	/* an O_TMPFILE file, open write-only */

#define PS		4096UL
#define MEMFD_SIZE	(64 * PS + 100)	/* not a whole number of pages */
#define DELETED_SIZE	(3 * PS + 17)

/* What the dumpee holds. */
#define WITH_FILES	1	/* every file above, and mappings of them */
#define WITH_LINKED	2	/* a deleted file that has another link */
#define WITH_SYSV	4	/* an attached System V segment */
#define WITH_FUTURE	8	/* writable shared mapping, F_SEAL_FUTURE_WRITE */
#define WITH_BIG	16	/* only a 1 MiB memfd, MFD_EXEC */
#define WITH_INHERITED	32	/* a memfd a child holds too */
#define WITH_DUMPER	64	/* a memfd the dumper holds too */
#define WITH_EXEC_FILE	128	/* only a deleted file with execute bits */

static char deleted_path[64], linked_path[64], mapped_path[64];
static char *shared_map, *private_map, *noexec_map, *deleted_map, *mapped_only;
static int dumper_memfd = -1;	/* WITH_DUMPER's, before fork() */

static char pattern(unsigned long pos)
{
	return 'a' + (pos * 7 + pos / PS) % 26;
}

/* Write @pattern over [@from, @to) of @fd; 0 or -1. */
static int fill(int fd, unsigned long from, unsigned long to)
{
	char buf[PS];
	unsigned long pos, n, i;

	for (pos = from; pos < to; pos += n) {
		n = to - pos < PS - pos % PS ? to - pos : PS - pos % PS;
		for (i = 0; i < n; i++)
			buf[i] = pattern(pos + i);
		if (pwrite(fd, buf, n, pos) != (ssize_t)n)
			return -1;
	}
	return 0;
}

/* Does [@from, @to) of @fd hold @pattern? */
static bool holds(int fd, unsigned long from, unsigned long to)
{
	char buf[PS];
	unsigned long pos, n, i;

	for (pos = from; pos < to; pos += n) {
		n = to - pos < PS ? to - pos : PS;
		if (pread(fd, buf, n, pos) != (ssize_t)n)
			return false;
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(pos + i))
				return false;
	}
	return true;
}

static int put_at(int fd, int at)
{
	if (fd < 0 || (fd != at && (dup2(fd, at) != at || close(fd))))
		return -1;
	return 0;
}

/*
 * The memfd: pages 0-3 and 40-63 and the tail written, 4-39 a hole but
 * for page 16, written through the shared mapping.
 */
static int make_memfds(void)
{
	int fd = memfd_create("spice-code", MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, MEMFD_SIZE) || fill(fd, 0, 4 * PS) ||
	    fill(fd, 40 * PS, MEMFD_SIZE))
		return -1;
	shared_map = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	private_map = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (shared_map == MAP_FAILED || private_map == MAP_FAILED)
		return -1;
	memset(shared_map + 16 * PS, 'S', PS);
	private_map[0] = 'P';
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) || put_at(fd, F_MEMFD) ||
	    fcntl(F_MEMFD, F_SETFD, FD_CLOEXEC) || lseek(F_MEMFD, 1234, SEEK_SET) != 1234 ||
	    put_at(open("/proc/self/fd/20", O_RDONLY), F_MEMFD_RO) ||
	    lseek(F_MEMFD_RO, 99, SEEK_SET) != 99)
		return -1;
	fd = memfd_create("spice-noexec", MFD_NOEXEC_SEAL);
	if (fd < 0 || fill(fd, 0, 2 * PS) || fchmod(fd, 0640))
		return -1;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL))
		return -1;
	noexec_map = mmap(NULL, 2 * PS, PROT_READ, MAP_SHARED, fd, 0);
	return noexec_map == MAP_FAILED ? -1 : put_at(fd, F_NOEXEC);
}

static int make_unlinked(void)
{
	int fd = open(deleted_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

	if (fd < 0 || fchmod(fd, 0640) || fill(fd, 0, DELETED_SIZE) || unlink(deleted_path))
		return -1;
	deleted_map = mmap(NULL, PS, PROT_READ, MAP_PRIVATE, fd, PS);
	if (deleted_map == MAP_FAILED || put_at(fd, F_DELETED) ||
	    lseek(F_DELETED, 5000, SEEK_SET) != 5000)
		return -1;
	fd = open("/tmp", O_TMPFILE | O_WRONLY, 0600);
	if (fd < 0 || fchmod(fd, 0600) || write(fd, "temporary", 9) != 9 ||
	    put_at(fd, F_TMPFILE))
		return -1;
	/* Deleted, its fd closed: only a shared mapping holds it. */
	fd = open(mapped_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fill(fd, 0, 2 * PS))
		return -1;
	mapped_only = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mapped_only == MAP_FAILED || close(fd) || unlink(mapped_path))
		return -1;
	mapped_only[PS] = 'M';
	return 0;
}

/* A child that holds what its parent holds, until the parent dies. */
static pid_t child_that_waits(void)
{
	pid_t parent = getpid(), pid = fork();

	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(0);
		for (;;)
			pause();
	}
	return pid;
}

static int make_refused(int with)
{
	int fd, id;

	if (with & WITH_LINKED) {
		fd = open(deleted_path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || link(deleted_path, linked_path) || unlink(deleted_path))
			return -1;
	}
	if (with & WITH_SYSV) {
		id = shmget(IPC_PRIVATE, PS, IPC_CREAT | 0600);
		if (id < 0 || shmat(id, NULL, 0) == (void *)-1)
			return -1;
		shmctl(id, IPC_RMID, NULL);
	}
	if (with & WITH_FUTURE) {
		fd = memfd_create("spice-future", MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, PS) ||
		    mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ||
		    fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
			return -1;
	}
	if (with & WITH_INHERITED) {
		fd = memfd_create("spice-inherited", 0);
		if (fd < 0 || child_that_waits() < 0)
			return -1;
	}
	if (with & WITH_EXEC_FILE) {
		fd = open(deleted_path, O_RDWR | O_CREAT | O_EXCL, 0700);
		if (fd < 0 || fchmod(fd, 0755) || fill(fd, 0, PS) || unlink(deleted_path) ||
		    put_at(fd, F_DELETED))
			return -1;
	}
	if (with & WITH_BIG) {
		fd = memfd_create("spice-big", MFD_EXEC);
		if (fd < 0 || ftruncate(fd, 256 * PS) || fill(fd, 0, PS) || put_at(fd, F_MEMFD))
			return -1;
	}
	return 0;
}

static bool file_is(int fd, unsigned long size, mode_t perm, const char *link_end)
{
	char name[64], link[256];
	struct stat st;
	ssize_t n;

	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	n = readlink(name, link, sizeof(link) - 1);
	if (n < 0 || fstat(fd, &st))
		return false;
	link[n] = '\0';
	return S_ISREG(st.st_mode) && (st.st_mode & 07777) == perm &&
	       (unsigned long)st.st_size == size && st.st_nlink == 0 &&
	       n >= (ssize_t)strlen(link_end) && !strcmp(link + n - strlen(link_end), link_end);
}

/* The memfd and its mappings, all as they were, and still one object. */
static char check_memfd(void)
{
	struct stat a, b;
	char c = 0;

	if (!file_is(F_MEMFD, MEMFD_SIZE, 0777, "/memfd:spice-code (deleted)"))
		return 'm';
	if (fcntl(F_MEMFD, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		return 'M';
	if (fcntl(F_MEMFD, F_GETFD) != FD_CLOEXEC || fcntl(F_MEMFD_RO, F_GETFD) != 0 ||
	    (fcntl(F_MEMFD_RO, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return 'f';
	if (fstat(F_MEMFD, &a) || fstat(F_MEMFD_RO, &b) || a.st_ino != b.st_ino ||
	    syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, F_MEMFD, F_MEMFD_RO) == 0 ||
	    lseek(F_MEMFD, 0, SEEK_CUR) != 1234 || lseek(F_MEMFD_RO, 0, SEEK_CUR) != 99)
		return 'o';
	/* Contents; the hole is one still, but for the page written. */
	if (!holds(F_MEMFD, 0, 4 * PS) || !holds(F_MEMFD, 40 * PS, MEMFD_SIZE) ||
	    lseek(F_MEMFD, 4 * PS, SEEK_DATA) != 16 * PS ||
	    lseek(F_MEMFD, 16 * PS, SEEK_HOLE) != 17 * PS ||
	    shared_map[16 * PS] != 'S' || shared_map[5 * PS] || shared_map[PS] != pattern(PS))
		return 'c';
	if (private_map[0] != 'P' || shared_map[0] != pattern(0) ||
	    private_map[PS + 1] != pattern(PS + 1))
		return 'p';
	/* One object: a write through either side shows on the other. */
	shared_map[3 * PS] = '!';
	if (pwrite(F_MEMFD, "?", 1, 50 * PS) != 1 || shared_map[50 * PS] != '?' ||
	    pread(F_MEMFD_RO, &c, 1, 3 * PS) != 1 || c != '!')
		return 's';
	if (ftruncate(F_MEMFD, PS) != -1 || errno != EPERM)
		return 'g';
	return 0;
}

static char check_noexec(void)
{
	if (!file_is(F_NOEXEC, 2 * PS, 0640, "/memfd:spice-noexec (deleted)") ||
	    fcntl(F_NOEXEC, F_GET_SEALS) != (F_SEAL_WRITE | F_SEAL_SEAL | F_SEAL_EXEC) ||
	    !holds(F_NOEXEC, 0, 2 * PS) || noexec_map[PS] != pattern(PS))
		return 'n';
	if (pwrite(F_NOEXEC, "x", 1, 0) != -1 || errno != EPERM ||
	    fchmod(F_NOEXEC, 0750) != -1 || errno != EPERM ||
	    mprotect(noexec_map, PS, PROT_READ | PROT_WRITE) != -1)
		return 'w';
	return 0;
}

static char check_unlinked(void)
{
	const char *base = strrchr(deleted_path, '/');
	char tail[80], buf[16] = "";
	int fd;

	snprintf(tail, sizeof(tail), "%s (deleted)", base);
	if (!file_is(F_DELETED, DELETED_SIZE, 0640, tail) || !holds(F_DELETED, 0, DELETED_SIZE) ||
	    lseek(F_DELETED, 0, SEEK_CUR) != 5000 || deleted_map[5] != pattern(PS + 5))
		return 'd';
	/* The tmpfile: write-only as it was, so read it through /proc. */
	if (!file_is(F_TMPFILE, 9, 0600, " (deleted)") ||
	    (fcntl(F_TMPFILE, F_GETFL) & O_ACCMODE) != O_WRONLY ||
	    lseek(F_TMPFILE, 0, SEEK_CUR) != 9 || read(F_TMPFILE, buf, 1) != -1)
		return 't';
	fd = open("/proc/self/fd/24", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 9 || memcmp(buf, "temporary", 9))
		return 'T';
	close(fd);
	if (mapped_only[0] != pattern(0) || mapped_only[PS] != 'M' ||
	    mapped_only[PS + 1] != pattern(PS + 1))
		return 'o';
	return 0;
}

/* WITH_BIG's memfd: 256 pages, the first written, the rest a hole. */
static char check_big(void)
{
	if (!file_is(F_MEMFD, 256 * PS, 0777, "/memfd:spice-big (deleted)") ||
	    !holds(F_MEMFD, 0, PS) || lseek(F_MEMFD, PS, SEEK_DATA) != -1 || errno != ENXIO)
		return 'b';
	return 0;
}

static char check_state(int with)
{
	char c = 0;

	if (with & WITH_BIG)
		c = check_big();
	if ((with & WITH_EXEC_FILE) &&
	    (!file_is(F_DELETED, PS, 0755, " (deleted)") || !holds(F_DELETED, 0, PS)))
		c = 'x';

	if (with & WITH_FILES) {
		c = check_memfd();
		if (!c)
			c = check_noexec();
		if (!c)
			c = check_unlinked();
	}
	return c ? c : 'A';
}

static void dumpee(int cmd, int ack, int with)
{
	/* WITH_DUMPER's memfd stays, after the channel. */
	channel_fds(cmd, ack, with & WITH_DUMPER ? dumper_memfd : -1, CMD_FD, ACK_FD);
	if ((with & WITH_FILES) && (make_memfds() || make_unlinked()))
		_exit(21);
	if (make_refused(with))
		_exit(22);
	channel_serve(check_state, with, CMD_FD, ACK_FD);
}

struct made_ctx {
	char image_path[64];
	int image_fd;
	pid_t dumpee, restored;
	int cmd, ack;
	char why[SPICE_IMAGE_WHY_LEN];
};

FIXTURE(made) {
	struct made_ctx c;
};

FIXTURE_SETUP(made)
{
	struct made_ctx *mc = &self->c;

	mc->dumpee = -1;
	mc->restored = -1;
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	snprintf(mc->image_path, sizeof(mc->image_path), "/tmp/spice-made-XXXXXX");
	mc->image_fd = mkstemp(mc->image_path);
	ASSERT_LE(0, mc->image_fd);
	snprintf(deleted_path, sizeof(deleted_path), "/tmp/spice-deleted-%d", getpid());
	snprintf(linked_path, sizeof(linked_path), "/tmp/spice-linked-%d", getpid());
	snprintf(mapped_path, sizeof(mapped_path), "/tmp/spice-mapped-%d", getpid());
	unlink(deleted_path);
	unlink(linked_path);
	unlink(mapped_path);
}

FIXTURE_TEARDOWN(made)
{
	struct made_ctx *mc = &self->c;

	if (mc->restored > 0) {
		kill(mc->restored, SIGKILL);
		waitpid(mc->restored, NULL, 0);
	}
	if (mc->dumpee > 0) {
		kill(mc->dumpee, SIGKILL);
		waitpid(mc->dumpee, NULL, 0);
	}
	unlink(mc->image_path);
	unlink(deleted_path);
	unlink(linked_path);
	unlink(mapped_path);
}

/* Start a dumpee holding @with and dump it; spice_dump()'s result. */
static int dump_with(struct made_ctx *mc, int with)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	int cmd[2], ack[2], err = -ECHILD, status = 0;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -errno;
	if (with & WITH_DUMPER)
		dumper_memfd = memfd_create("spice-dumper", 0);
	mc->dumpee = fork();
	if (!mc->dumpee)
		dumpee(cmd[0], ack[1], with);
	close(cmd[0]);
	close(ack[1]);
	if (read(ack[0], &c, 1) == 1 && c == 'R')
		err = spice_dump(mc->dumpee, mc->image_fd, &opts, NULL, mc->why);
	if (err)
		kill(mc->dumpee, SIGKILL);
	waitpid(mc->dumpee, &status, 0);
	if (err == -ECHILD && WIFEXITED(status))
		fprintf(stderr, "# the dumpee exited with %d\n", WEXITSTATUS(status));
	mc->dumpee = -1;
	close(cmd[1]);
	close(ack[0]);
	if (dumper_memfd >= 0)
		close(dumper_memfd);
	dumper_memfd = -1;
	return err;
}

/* What a launcher does to itself before it restores. */
#define LAUNCH_FSIZE	1	/* RLIMIT_FSIZE of 64 KiB */
#define LAUNCH_NOEXEC	2	/* in a new pid namespace, vm.memfd_noexec=2 */

/*
 * Go on in a child in a new pid namespace whose vm.memfd_noexec is 2 (the
 * sysctl is per pid namespace); the parent exits with the child's status.
 */
static void into_noexec_pidns(void)
{
	int fd, status;
	pid_t pid;

	if (unshare(CLONE_NEWPID))
		_exit(97);
	pid = fork();
	if (pid < 0)
		_exit(97);
	if (pid) {
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			_exit(96);
		_exit(WEXITSTATUS(status));
	}
	fd = open("/proc/sys/vm/memfd_noexec", O_WRONLY);
	if (fd < 0 || write(fd, "2", 1) != 1)
		_exit(95);
	close(fd);
}

/* A launcher that becomes the image's process; 100 + errno if it fails. */
static pid_t launch(struct made_ctx *mc, int how)
{
	struct restore_process_fd map[2];
	struct restore_process_args args = { .fd_map = (uintptr_t)map, .nr_fd_map = 2 };
	struct rlimit fsize = { 64 << 10, 64 << 10 };
	int cmd[2], ack[2];

	if (pipe(cmd) || pipe(ack))
		return -1;
	mc->restored = fork();
	if (!mc->restored) {
		alarm(100);	/* never outlive the test */
		if ((how & LAUNCH_FSIZE) && setrlimit(RLIMIT_FSIZE, &fsize))
			_exit(98);
		if (how & LAUNCH_NOEXEC)
			into_noexec_pidns();
		map[0] = (struct restore_process_fd){ .image_fd = CMD_FD, .fd = cmd[0] };
		map[1] = (struct restore_process_fd){ .image_fd = ACK_FD, .fd = ack[1] };
		sys_restore_process(mc->image_fd, &args, sizeof(args), 0);
		_exit(100 + errno);
	}
	close(cmd[0]);
	close(ack[1]);
	mc->cmd = cmd[1];
	mc->ack = ack[0];
	return mc->restored;
}

/* The restored process's verdict: 'A', or the letter of what differs. */
static char ask(struct __test_metadata *_metadata, struct made_ctx *mc)
{
	char c = 'c';

	if (write(mc->cmd, &c, 1) != 1 || read(mc->ack, &c, 1) != 1) {
		TH_LOG("no answer: the launcher ended with %d",
		       spice_test_reap(&mc->restored));
		return 0;
	}
	return c;
}

TEST_F(made, memfds_and_unlinked_files_come_back_with_contents_seals_and_mappings)
{
	struct made_ctx *mc = &self->c;

	ASSERT_EQ(0, dump_with(mc, WITH_FILES)) TH_LOG("%s", mc->why);
	ASSERT_LT(0, launch(mc, 0));
	EXPECT_EQ('A', ask(_metadata, mc));
	ASSERT_EQ(1, write(mc->cmd, "e", 1));
	EXPECT_EQ(7, spice_test_reap(&mc->restored));
}

/* The image names each made file and where its data is. */
TEST_F(made, the_image_records_made_files_and_their_holes)
{
	struct made_ctx *mc = &self->c;
	const struct spice_image_made_file *m;
	const struct spice_image_file_extent *e;
	const struct spice_image_file *f;
	struct spice_image *img;
	uint64_t nr_m, nr_e, i, memfd_pages = 0, memfds = 0, sealed = 0;

	ASSERT_EQ(0, dump_with(mc, WITH_FILES)) TH_LOG("%s", mc->why);
	ASSERT_EQ(0, spice_image_open(mc->image_fd, &img, mc->why)) TH_LOG("%s", mc->why);
	f = spice_image_table(img, SPICE_SECT_FILES, NULL);
	m = spice_image_table(img, SPICE_SECT_MADE_FILES, &nr_m);
	e = spice_image_table(img, SPICE_SECT_FILE_DATA, &nr_e);
	/* Two memfds, two deleted files (one only mapped), the tmpfile. */
	EXPECT_EQ(5, nr_m);
	for (i = 0; i < nr_m; i++) {
		EXPECT_EQ(SPICE_FILE_MADE, f[m[i].file].flags);
		memfds += m[i].kind == SPICE_MADE_MEMFD;
		if (m[i].seals == (F_SEAL_SHRINK | F_SEAL_GROW) &&
		    f[m[i].file].size == MEMFD_SIZE)
			sealed++;
	}
	EXPECT_EQ(2, memfds);
	EXPECT_EQ(1, sealed);
	/* Pages 0-3, 16 and 40-64 of the memfd: the hole is not stored. */
	for (i = 0; i < nr_e; i++)
		if (f[e[i].file].size == MEMFD_SIZE)
			memfd_pages += e[i].len / PS;
	EXPECT_EQ(4 + 1 + 25, memfd_pages);
	spice_image_free(img);
}

/* Each is refused at dump time, by name. */
TEST_F(made, what_cannot_be_made_again_is_refused_by_name)
{
	struct made_ctx *mc = &self->c;
	static const struct { int with; const char *why; } cases[] = {
		{ WITH_LINKED, "was deleted but has another link" },
		{ WITH_SYSV, "/SYSV00000000 (deleted): System V shared memory is not restored" },
		{ WITH_FUTURE, "sealed F_SEAL_FUTURE_WRITE: not restored" },
		{ WITH_INHERITED, "/memfd:spice-inherited is also held by process" },
		{ WITH_DUMPER, "/memfd:spice-dumper is also held by process" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(-EOPNOTSUPP, dump_with(mc, cases[i].with));
		EXPECT_NE(NULL, strstr(mc->why, cases[i].why))
			TH_LOG("%s: %s", cases[i].why, mc->why);
		unlink(linked_path);
	}
}

/* A file over the launcher's RLIMIT_FSIZE: EFBIG, and no SIGXFSZ. */
TEST_F(made, a_file_over_the_launchers_rlimit_fsize_fails_with_efbig)
{
	struct made_ctx *mc = &self->c;

	ASSERT_EQ(0, dump_with(mc, WITH_BIG)) TH_LOG("%s", mc->why);
	ASSERT_LT(0, launch(mc, LAUNCH_FSIZE));
	EXPECT_EQ(100 + EFBIG, spice_test_reap(&mc->restored));
	ASSERT_LT(0, launch(mc, 0));
	EXPECT_EQ('A', ask(_metadata, mc));
	ASSERT_EQ(1, write(mc->cmd, "e", 1));
	EXPECT_EQ(7, spice_test_reap(&mc->restored));
}

/* vm.memfd_noexec=2 refuses an executable memfd or unlinked file: EACCES. */
TEST_F(made, an_executable_made_file_follows_vm_memfd_noexec)
{
	struct made_ctx *mc = &self->c;

	if (access("/proc/sys/vm/memfd_noexec", W_OK))
		SKIP(return, "no vm.memfd_noexec to set");
	ASSERT_EQ(0, dump_with(mc, WITH_BIG)) TH_LOG("%s", mc->why);
	ASSERT_LT(0, launch(mc, LAUNCH_NOEXEC));
	EXPECT_EQ(100 + EACCES, spice_test_reap(&mc->restored));
	/* A deleted file with execute bits is one too. */
	ASSERT_EQ(0, dump_with(mc, WITH_EXEC_FILE)) TH_LOG("%s", mc->why);
	ASSERT_LT(0, launch(mc, LAUNCH_NOEXEC));
	EXPECT_EQ(100 + EACCES, spice_test_reap(&mc->restored));
	ASSERT_LT(0, launch(mc, 0));
	EXPECT_EQ('A', ask(_metadata, mc));
	ASSERT_EQ(1, write(mc->cmd, "e", 1));
	EXPECT_EQ(7, spice_test_reap(&mc->restored));
}

TEST_HARNESS_MAIN
