// SPDX-License-Identifier: GPL-2.0
/* Driving a function over its request channel: see function.h. */
#define _GNU_SOURCE
#include <dirent.h>
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
	/* HTTP: /dev/null is reopened by the image; 1 and 2 are our stderr. */
	struct restore_process_fd *m = http ? map + 1 : map;
	struct restore_process_args args = {
		.fd_map = (uintptr_t)m, .nr_fd_map = http ? 2 : 3,
	};
	int r = function_fork(fn, http, spice_image_process(img)->pid);

	if (r)
		return r < 0 ? r : 0;
	/* Not fd 2: our own stderr's open file. */
	if (launch_set_fd_flags(img, m, args.nr_fd_map - 1))
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

/* A line of /proc/PID/net/tcp: its ports (hex), state and inode. */
#define TCP_LINE	"%*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %*s %*s %*s %*d %*d %lu"

/* The sockets of a function looked at, at most. */
#define SOCKETS_MAX	4096

/* Add the socket inode of each fd of @pid to @ino (at most @max); how many. */
static int socket_inodes(pid_t pid, unsigned long *ino, int *fds, int max)
{
	char path[320], link[64];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	while (dir && n < max && (de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		memset(link, 0, sizeof(link));
		if (readlink(path, link, sizeof(link) - 1) > 0 &&
		    sscanf(link, "socket:[%lu]", &ino[n]) == 1)
			fds[n++] = atoi(de->d_name);
	}
	if (dir)
		closedir(dir);
	return n;
}

/*
 * A TCP socket of @pid on local @port, as its /proc/PID/net/tcp{,6} list
 * them: one of @ino listening (state 0A) if @listening, else in a state
 * other than listening and closed (07), a connection; its fd and what it
 * is in @why, or 0.
 */
static int find_tcp(pid_t pid, const unsigned long *ino, const int *fds, int n,
		    unsigned int port, int listening, char *why, size_t len)
{
	static const char *const files[] = { "tcp", "tcp6" };
	unsigned int st, local_port, peer_port;
	char path[64], line[512];
	unsigned long inode;
	int i, k, found = 0;
	FILE *f;

	for (k = 0; k < 2 && !found; k++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, files[k]);
		f = fopen(path, "re");
		while (f && !found && fgets(line, sizeof(line), f)) {
			/* "sl: local:port remote:port st ... uid timeout inode" */
			if (sscanf(line, TCP_LINE, &local_port, &peer_port, &st, &inode) != 4 ||
			    local_port != port ||
			    (listening ? st != 0x0a : st == 0x0a || st == 0x07))
				continue;
			for (i = 0; i < n && !found; i++)
				if (ino[i] == inode) {
					snprintf(why, len,
						 "fd %d: a TCP connection from port %u is open (state %02X)",
						 fds[i], peer_port, st);
					found = 1;
				}
		}
		if (f)
			fclose(f);
	}
	return found;
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
	unsigned long ino[SOCKETS_MAX];
	int fds[SOCKETS_MAX], n;

	for (;;) {
		n = socket_inodes(fn->pid, ino, fds, SOCKETS_MAX);
		if (find_tcp(fn->pid, ino, fds, n, port, listening, why, len) == listening)
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
