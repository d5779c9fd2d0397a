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
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <spice/spice.h>

#include "function.h"
#include "http.h"
#include "launch.h"
#include "proc_tcp.h"

/*
 * Fork a child, as pid @pid if it is free (0: any), with its fds 0 and 1
 * on pipes to us (JSON lines) or on /dev/null and our stderr (HTTP);
 * returns 0 in the child.
 */
static int function_fork(struct function *fn, const struct http_target *http,
			 pid_t pid)
{
	int req[2] = { -1, -1 }, rep[2] = { -1, -1 }, null = -1, i, err = 0;

	memset(fn, 0, sizeof(*fn));
	fn->http = http;
	fn->req = -1;
	fn->rep = -1;
	if (http)
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (http ? null < 0 : pipe2(req, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		err = -errno;
	fn->pid = err || pid <= 0 ? -EEXIST : launch_fork_as(pid);
	if (!err && fn->pid == -EEXIST && pid > 0)
		fprintf(stderr, "spice: pid %d is taken, restoring under another\n", pid);
	if (!err && fn->pid == -EEXIST)
		fn->pid = fork();
	if (!err && fn->pid < 0)
		err = fn->pid == -1 ? -errno : fn->pid;
	if (!err && !fn->pid) {
		if (http ? dup2(null, 0) < 0 || dup2(2, 1) < 0 :
		    dup2(req[0], 0) < 0 || dup2(rep[1], 1) < 0)
			_exit(127);
		return 0;
	}
	/* Ours: the ends the function does not hold, if it runs. */
	if (!err) {
		fn->req = req[1];
		fn->rep = rep[0];
		req[1] = -1;
		rep[0] = -1;
	} else {
		fn->pid = 0;
	}
	for (i = 0; i < 2; i++) {
		if (req[i] >= 0)
			close(req[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	if (null >= 0)
		close(null);
	return err ?: 1;
}

int function_exec(struct function *fn, const struct http_target *http,
		  char *const argv[])
{
	int report[2], err = 0, r;

	/* The exec's errno comes back on a pipe that a successful exec closes. */
	if (pipe2(report, O_CLOEXEC))
		return -errno;
	r = function_fork(fn, http, 0);
	if (!r) {
		/* Nothing of ours leaks into the snapshot: only 0, 1 and 2. */
		if (report[1] != 3)
			dup3(report[1], 3, O_CLOEXEC);
		close_range(4, ~0U, 0);
		execvp(argv[0], argv);
		err = errno;
		if (write(3, &err, sizeof(err)) != sizeof(err))
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	if (r > 0 && read(report[0], &err, sizeof(err)) == sizeof(err)) {
		function_stop(fn);
		r = -err;
	}
	close(report[0]);
	return r < 0 ? r : 0;
}

int function_restore(struct function *fn, const struct http_target *http,
		     int image_fd, const struct spice_image *img)
{
	struct restore_process_fd map[3] = {
		{ .image_fd = 0, .fd = 0 }, { .image_fd = 1, .fd = 1 },
		{ .image_fd = 2, .fd = 2 },
	};
	struct restore_process_args args = {
		.fd_map = (uintptr_t)map, .nr_fd_map = 3,
	};
	int r = function_fork(fn, http, spice_image_process(img)->pid);

	if (r)
		return r < 0 ? r : 0;
	/* Our pipes' flags, not our stderr's (fd 2, and fd 1 for HTTP). */
	if (launch_set_fd_flags(img, map, http ? 1 : 2))
		_exit(125);
	r = spice_restore_process(image_fd, &args, sizeof(args), 0);
	fprintf(stderr, "spice: restore_process: %s\n", strerror(-r));
	_exit(126);
}

int function_alive(struct function *fn)
{
	siginfo_t info = { 0 };

	/* Still waitable afterwards (WNOWAIT): function_stop() reaps it. */
	return fn->pid > 0 &&
	       !waitid(P_PID, fn->pid, &info, WEXITED | WNOHANG | WNOWAIT) &&
	       !info.si_pid;
}

static int alive(void *fn)
{
	return function_alive(fn);
}

int function_wait_ready(struct function *fn, char *line, size_t size,
			int timeout_ms)
{
	int err, i;

	if (fn->http) {
		/* Our function's own socket: not one that another left there. */
		err = function_wait_listening(fn, timeout_ms);
		if (!err)
			err = http_wait_ready(fn->http, alive, fn, line, size, timeout_ms);
		return err < 0 ? err : 0;
	}
	err = function_read_line(fn, line, size, timeout_ms);
	/* Its pipe closes as it exits, a moment before it can be reaped. */
	for (i = 0; err == -EPIPE && i < 100 && function_alive(fn); i++)
		usleep(10000);
	if (err == -EPIPE && !function_alive(fn))
		return -ESRCH;
	return !err && !strstr(line, "\"ready\"") ? -EPROTO : err;
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
	int status;

	if (fn->http) {
		status = http_request(fn->http, request, reply, size, timeout_ms);
		if (status < 0)
			return status;
		return status >= 200 && status < 300 ? 0 : -EREMOTEIO;
	}
	if (write(fn->req, request, len) != (ssize_t)len ||
	    write(fn->req, "\n", 1) != 1)
		return -errno;
	return function_read_line(fn, reply, size, timeout_ms);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait until @pid has (@listening) or has not a TCP socket on @port. */
static int wait_tcp(struct function *fn, unsigned int port, int listening,
		    int timeout_ms, char *why, size_t len)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		if (proc_tcp_find(fn->pid, port, listening, why, len) == listening)
			return 0;
		if (!function_alive(fn))
			return -ESRCH;
		if (now_ms() >= deadline)
			return listening ? -ETIMEDOUT : -EBUSY;
		usleep(10000);
	}
}

int function_wait_idle(struct function *fn, int timeout_ms, char *why, size_t len)
{
	return wait_tcp(fn, http_port(fn->http), 0, timeout_ms, why, len);
}

int function_wait_listening(struct function *fn, int timeout_ms)
{
	char why[128];

	return wait_tcp(fn, http_port(fn->http), 1, timeout_ms, why, sizeof(why));
}

int function_stop(struct function *fn)
{
	int status = 0;

	if (fn->pid <= 0)
		return 0;
	if (fn->req >= 0)
		close(fn->req);
	if (fn->rep >= 0)
		close(fn->rep);
	kill(fn->pid, SIGKILL);
	waitpid(fn->pid, &status, 0);
	fn->pid = 0;
	return status;
}
