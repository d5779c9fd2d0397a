/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A function on its request channel (Documentation/spice/tools.rst): JSON
 * lines, a ready line then one reply line per request line on its fds 0
 * and 1; or HTTP on an address it listens on, ready when it answers a GET.
 * spice run and spice record drive one.
 */
#ifndef __SPICE_FUNCTION_H
#define __SPICE_FUNCTION_H

#include <stddef.h>
#include <sys/types.h>

struct spice_image;
struct http_target;

struct function {
	pid_t pid;
	const struct http_target *http;	/* or NULL: JSON lines */
	int req;	/* JSON lines: our end of its fd 0 */
	int rep;	/* JSON lines: our end of its fd 1 */
	char buf[65536];	/* reply bytes read past the last line */
	size_t len;
};

/*
 * Start @argv with no fd but 0, 1 and 2: for JSON lines, fresh pipes as
 * 0 and 1 and our stderr as 2; for HTTP (@http), /dev/null as 0 and our
 * stderr as 1 and 2.  0, or -errno, the exec's own if it failed.
 */
int function_exec(struct function *fn, const struct http_target *http,
		  char *const argv[]);
/*
 * Fork a launcher that restores @image_fd (@img, parsed) with the same
 * fds 0 and 1 as function_exec() gives, whatever the image had there, and
 * our stderr (often a pipe, which the image cannot reopen) as its fd 2,
 * under the pid dumped if it is free; 0 or -errno.
 */
int function_restore(struct function *fn, const struct http_target *http,
		     int image_fd, const struct spice_image *img);
/*
 * Wait until the function is ready: its ready line (JSON lines), or an
 * answer to a GET (HTTP), into @line; 0, -ETIMEDOUT, -ESRCH if it ended,
 * -EPROTO for a first line that says no "ready".
 */
int function_wait_ready(struct function *fn, char *line, size_t size,
			int timeout_ms);
/*
 * The next line from the function, without its newline, within
 * @timeout_ms; 0, -ETIMEDOUT, -EPIPE at end of file, -E2BIG if too long.
 */
int function_read_line(struct function *fn, char *line, size_t size,
		       int timeout_ms);
/*
 * Send @request (a line, or for HTTP a body to POST, a GET if empty) and
 * read the reply into @reply; 0, or -errno (-EREMOTEIO for an HTTP status
 * other than 2xx, its body in @reply).
 */
int function_request(struct function *fn, const char *request, char *reply,
		     size_t size, int timeout_ms);
/*
 * HTTP: wait until the function holds no TCP connection, so that it can be
 * dumped; 0, or -EBUSY past @timeout_ms, the fd and peer in @why.
 */
int function_wait_idle(struct function *fn, int timeout_ms, char *why,
		       size_t len);
/*
 * HTTP, once restored: wait until the function listens on TCP, without a
 * request, which would touch its pages; 0, -ESRCH, -ETIMEDOUT.
 */
int function_wait_listening(struct function *fn, int timeout_ms);
/* Whether it still runs (not reaped, not exited). */
int function_alive(struct function *fn);
/* Kill it if still running and reap it; its wait status. */
int function_stop(struct function *fn);

#endif /* __SPICE_FUNCTION_H */
