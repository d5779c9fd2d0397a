// SPDX-License-Identifier: GPL-2.0
/* spice restore: become the process saved in an image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <spice/image.h>
#include <spice/spice.h>

#include "commands.h"
#include "diagnose.h"
#include "launch.h"

const char usage_restore[] =
	"usage: spice restore IMAGE [--fd N=M]... [--pid | --pid-ns] [--new-tids]\n"
	"                     [--json-timings]\n"
	"\n"
	"Replace this process with the one saved in IMAGE (restore_process(2)).\n"
	"Prints nothing on success: the restored process runs in its place, with\n"
	"the same pid.  Needs CAP_CHECKPOINT_RESTORE.\n"
	"  --fd N=M   the restored process's fd N is this process's fd M (pipes,\n"
	"             sockets: whatever the image cannot reopen by path); a pipe\n"
	"             or socket M gets the O_NONBLOCK that fd N had\n"
	"  --pid      restore in a child whose pid is the one dumped (clone3()\n"
	"             set_tid; the pid must be free), pass it HUP, INT, QUIT,\n"
	"             TERM, USR1 and USR2, and exit with its status: for\n"
	"             runtimes that check getpid() (asyncio)\n"
	"  --pid-ns   the same in a new pid namespace, where the pid is free even\n"
	"             if another instance holds it in ours (needs CAP_SYS_ADMIN);\n"
	"             the namespace ends with the restored process\n"
	"  --new-tids the threads after the first get new ids instead of the ones\n"
	"             dumped (RESTORE_PROCESS_NEW_TIDS: for many instances in one\n"
	"             pid namespace; ids the program cached are then wrong)\n"
	"  --json-timings  once restored, print to stderr one JSON line saying\n"
	"             where the time went (RESTORE_PROCESS_STATS)\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_timings(const struct restore_process_stats *st, uint64_t t0)
{
	fprintf(stderr, "{\"launcher_ns\":%llu,\"image_ns\":%llu,\"files_ns\":%llu,",
		(unsigned long long)(st->start_ns - t0),
		(unsigned long long)st->image_ns, (unsigned long long)st->files_ns);
	fprintf(stderr, "\"memory_ns\":%llu,\"commit_ns\":%llu,\"threads_ns\":%llu,",
		(unsigned long long)st->memory_ns, (unsigned long long)st->commit_ns,
		(unsigned long long)st->threads_ns);
	fprintf(stderr, "\"total_ns\":%llu,\"threads\":%u,\"fds\":%u,\"vmas\":%u,",
		(unsigned long long)st->total_ns, st->nr_threads, st->nr_fds,
		st->nr_vmas);
	fprintf(stderr, "\"pages_populated\":%llu,\"pages_read\":%llu,",
		(unsigned long long)st->pages_populated,
		(unsigned long long)st->pages_read);
	fprintf(stderr, "\"bytes_read\":%llu,\"io_requests\":%llu,\"pages_deferred\":%llu}\n",
		(unsigned long long)st->bytes_read,
		(unsigned long long)st->io_requests,
		(unsigned long long)st->pages_deferred);
}

/*
 * A reporter for --json-timings: a grandchild, so that the restored
 * process has no child it does not know of, holding only stderr and the
 * stats pipe's read end (no dup of a channel the restored process uses).
 * It prints what the kernel writes once the restore succeeds; a failed
 * restore closes the pipe with nothing written.  Returns the write end.
 */
static int start_reporter(uint64_t t0)
{
	struct restore_process_stats st;
	char buf[4096];		/* PIPE_BUF: a record is never longer */
	int p[2], rd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (fork())
			_exit(0);
		rd = dup3(p[0], 3, 0);
		if (rd != 3)
			_exit(1);
		close_range(4, ~0U, 0);
		close(0);
		close(1);
		/* A newer kernel's record is longer: the first part is ours. */
		if (read(3, buf, sizeof(buf)) >= (ssize_t)sizeof(st)) {
			memcpy(&st, buf, sizeof(st));
			print_timings(&st, t0);
		}
		_exit(0);
	}
	close(p[0]);
	waitpid(pid, NULL, 0);
	return p[1];
}

/* Parse "N=M" into a map entry. */
static int parse_fd(const char *s, struct restore_process_fd *e)
{
	char *end;
	long n, m;

	n = strtol(s, &end, 10);
	if (end == s || *end != '=' || n < 0 || n > 1 << 20)
		return -1;
	s = end + 1;
	m = strtol(s, &end, 10);
	if (end == s || *end || m < 0 || m > 1 << 20)
		return -1;
	memset(e, 0, sizeof(*e));
	e->image_fd = n;
	e->fd = m;
	return 0;
}

/*
 * Why the kernel refused the image: in libspice's words if the image is
 * malformed, else the object the launcher can do something about (a file,
 * a descriptor, a limit, a thread id), with the kernel's errno.
 */
static void explain(const char *path, int fd, int err,
		    const struct restore_process_fd *map, unsigned int nr_map,
		    unsigned int flags)
{
	unsigned int what = DIAGNOSE_FILES | DIAGNOSE_FDS | DIAGNOSE_SOCKETS;
	char why[SPICE_IMAGE_WHY_LEN], prefix[4200];
	struct spice_image *img;
	int bad;

	if (spice_image_open(fd, &img, why) < 0) {
		fprintf(stderr, "spice restore: %s: %s (%s)\n", path, why,
			strerror(-err));
		return;
	}
	if (!(flags & RESTORE_PROCESS_NEW_TIDS))
		what |= DIAGNOSE_TIDS;
	snprintf(prefix, sizeof(prefix), "spice restore: %s: ", path);
	bad = diagnose(img, map, nr_map, what, prefix);
	spice_image_free(img);
	fprintf(stderr, "spice restore: %s: %s%s\n", path, bad ? "the kernel said: " : "",
		strerror(-err));
}

int cmd_restore(int argc, char **argv)
{
	struct restore_process_fd map[RESTORE_PROCESS_MAX_FD_MAP];
	struct restore_process_args args = {};
	char why[SPICE_IMAGE_WHY_LEN];
	unsigned int n = 0, flags = 0;
	struct spice_image *img;
	const char *path = NULL;
	uint64_t t0 = now_ns();
	int i, fd, err, same_pid = 0, pid_ns = 0;
	pid_t pid, child;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--fd") && i + 1 < argc &&
		    n < RESTORE_PROCESS_MAX_FD_MAP && !parse_fd(argv[i + 1], &map[n])) {
			n++;
			i++;
		} else if (!strcmp(argv[i], "--pid")) {
			same_pid = 1;
		} else if (!strcmp(argv[i], "--pid-ns")) {
			same_pid = 1;
			pid_ns = 1;
		} else if (!strcmp(argv[i], "--new-tids")) {
			flags |= RESTORE_PROCESS_NEW_TIDS;
		} else if (!strcmp(argv[i], "--json-timings")) {
			flags |= RESTORE_PROCESS_STATS;
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			fprintf(stderr, "spice restore: bad argument %s\n%s", argv[i],
				usage_restore);
			return EXIT_USAGE;
		}
	}
	if (!path) {
		fputs(usage_restore, stderr);
		return EXIT_USAGE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "spice restore: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (n) {
		args.fd_map = (uintptr_t)map;
		args.nr_fd_map = n;
	}
	/* What the kernel leaves to us needs the image: its fds and pid. */
	if (n || same_pid) {
		err = spice_image_open(fd, &img, why);
		if (err) {
			fprintf(stderr, "spice restore: %s: %s (%s)\n", path, why,
				strerror(-err));
			return 1;
		}
		pid = spice_image_process(img)->pid;
		err = launch_set_fd_flags(img, map, n);
		spice_image_free(img);
		if (err) {
			fprintf(stderr, "spice restore: --fd: %s\n", strerror(-err));
			return 1;
		}
	}
	fflush(NULL);
	if (same_pid) {
		child = pid_ns ? launch_fork_in_pid_ns(pid) : launch_fork_as(pid);
		if (child < 0) {
			fprintf(stderr, "spice restore: %s: cannot take pid %d: %s\n",
				pid_ns ? "--pid-ns" : "--pid", pid, strerror(-child));
			return 1;
		}
		if (child) {
			/* Only the child holds the restored process's fds. */
			close_range(0, ~0U, 0);
			return launch_wait(child);
		}
	}
	if (flags & RESTORE_PROCESS_STATS) {
		args.stats_fd = start_reporter(t0);
		if (args.stats_fd < 0) {
			perror("spice restore: --json-timings");
			return 1;
		}
	}
	err = spice_restore_process(fd, &args, sizeof(args), flags);
	explain(path, fd, err, map, n, flags);
	close(fd);
	return 1;
}
