// SPDX-License-Identifier: GPL-2.0
/* Driving a function over its request channel: see function.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <spice/spice.h>

#include "function.h"
#include "launch.h"

/*
 * Fork a child with pipes on its fds 0 and 1, as pid @pid if it is free
 * (0: any); returns 0 in the child.
 */
static int function_fork(struct function *fn, pid_t pid)
{
	int req[2], rep[2];

	memset(fn, 0, sizeof(*fn));
	if (pipe2(req, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		return -errno;
	fn->pid = pid > 0 ? launch_fork_as(pid) : -EEXIST;
	if (fn->pid < 0 && fn->pid != -EEXIST)
		return fn->pid;
	if (fn->pid == -EEXIST && pid > 0)
		fprintf(stderr, "spice: pid %d is taken, restoring under another\n", pid);
	if (fn->pid < 0)
		fn->pid = fork();
	if (fn->pid < 0)
		return -errno;
	if (!fn->pid) {
		if (dup2(req[0], 0) < 0 || dup2(rep[1], 1) < 0)
			_exit(127);
		return 0;
	}
	close(req[0]);
	close(rep[1]);
	fn->req = req[1];
	fn->rep = rep[0];
	return 1;
}

int function_exec(struct function *fn, char *const argv[])
{
	int r = function_fork(fn, 0);

	if (r)
		return r < 0 ? r : 0;
	/* Nothing of ours leaks into the snapshot: only 0, 1 and 2. */
	close_range(3, ~0U, 0);
	execvp(argv[0], argv);
	_exit(127);
}

int function_restore(struct function *fn, int image_fd,
		     const struct spice_image *img)
{
	struct restore_process_fd map[3] = {
		{ .image_fd = 0, .fd = 0 }, { .image_fd = 1, .fd = 1 },
		{ .image_fd = 2, .fd = 2 },
	};
	struct restore_process_args args = {
		.fd_map = (uintptr_t)map, .nr_fd_map = 3,
	};
	int r = function_fork(fn, spice_image_process(img)->pid);

	if (r)
		return r < 0 ? r : 0;
	/* Not fd 2: our own stderr's open file. */
	if (launch_set_fd_flags(img, map, 2))
		_exit(125);
	r = spice_restore_process(image_fd, &args, sizeof(args), 0);
	fprintf(stderr, "spice: restore_process: %s\n", strerror(-r));
	_exit(126);
}

int function_read_line(struct function *fn, char *line, size_t size,
		       int timeout_ms)
{
	struct pollfd p = { .fd = fn->rep, .events = POLLIN };
	char *nl;
	ssize_t n;

	while (!(nl = memchr(fn->buf, '\n', fn->len))) {
		if (fn->len == sizeof(fn->buf))
			return -E2BIG;
		n = poll(&p, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
		n = read(fn->rep, fn->buf + fn->len, sizeof(fn->buf) - fn->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		fn->len += n;
	}
	if ((size_t)(nl - fn->buf) >= size)
		return -E2BIG;
	memcpy(line, fn->buf, nl - fn->buf);
	line[nl - fn->buf] = '\0';
	fn->len -= nl + 1 - fn->buf;
	memmove(fn->buf, nl + 1, fn->len);
	return 0;
}

int function_request(struct function *fn, const char *request, char *reply,
		     size_t size, int timeout_ms)
{
	size_t len = strlen(request);

	if (write(fn->req, request, len) != (ssize_t)len ||
	    write(fn->req, "\n", 1) != 1)
		return -errno;
	return function_read_line(fn, reply, size, timeout_ms);
}

int function_stop(struct function *fn)
{
	int status = 0;

	if (fn->pid <= 0)
		return 0;
	close(fn->req);
	close(fn->rep);
	kill(fn->pid, SIGKILL);
	waitpid(fn->pid, &status, 0);
	fn->pid = 0;
	return status;
}
