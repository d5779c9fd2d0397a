// SPDX-License-Identifier: GPL-2.0
/*
 * What a launcher does around restore_process(2) that the kernel leaves to
 * it: give the files it supplies the status flags the image recorded, and
 * start the restored process under the pid it had (clone3() with set_tid),
 * for runtimes that compare getpid() with a pid they saved, as asyncio's
 * fork check does; in a pid namespace of its own when that pid is taken in
 * ours (another instance of the same image runs), as CRIU restores into
 * one.
 */
#include <stdio.h>
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "commands.h"
#include "launch.h"

int launch_set_fd_flags(const struct spice_image *img,
			const struct restore_process_fd *map, unsigned int n)
{
	const struct spice_image_fd *d;
	unsigned int i;
	struct stat st;
	int fl;

	for (i = 0; i < n; i++) {
		d = spice_image_find_fd(img, map[i].image_fd);
		fl = fcntl(map[i].fd, F_GETFL);
		/*
		 * The flag is the open file's, shared with whoever else holds
		 * it: pipes and sockets only, never a terminal or a file.
		 */
		if (!d || fl < 0 || fstat(map[i].fd, &st) ||
		    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ||
		    (fl & O_NONBLOCK) == (int)(d->open_flags & O_NONBLOCK))
			continue;
		fl = (fl & ~O_NONBLOCK) | (d->open_flags & O_NONBLOCK);
		if (fcntl(map[i].fd, F_SETFL, fl))
			return -errno;
	}
	return 0;
}

pid_t launch_fork_as(pid_t pid)
{
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&pid,
		.set_tid_size = 1,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	return r < 0 ? -errno : r;
}

pid_t launch_fork_in_pid_ns(pid_t pid)
{
	struct clone_args args = {
		.flags = CLONE_NEWPID,
		.exit_signal = SIGCHLD,
	};
	pid_t init, child;

	init = syscall(SYS_clone3, &args, sizeof(args));
	if (init)
		return init < 0 ? -errno : init;
	/* Pid 1 of the new namespace, which ends when this process does. */
	if (pid == 1)
		return 0;
	child = launch_fork_as(pid);
	if (!child)
		return 0;
	if (child < 0) {
		fprintf(stderr, "spice restore: --pid-ns: cannot take pid %d: %s\n",
			pid, strerror(-child));
		_exit(1);
	}
	_exit(launch_wait(child));
}

static pid_t forward_to;

static void forward(int sig)
{
	kill(forward_to, sig);
}

int launch_wait(pid_t child)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = forward };
	unsigned int i;
	int status;
	pid_t r;

	forward_to = child;
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* Any child: the init of a pid namespace reaps the orphans there. */
	do {
		r = waitpid(-1, &status, 0);
		if (r < 0 && errno != EINTR)
			return 1;
	} while (r != child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
