/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A function on its request channel (DESIGN.md): line-delimited JSON
 * requests on its fd 0, one reply line each on its fd 1, and a ready line
 * when it has initialised.  spice run and spice record drive one.
 */
#ifndef __SPICE_FUNCTION_H
#define __SPICE_FUNCTION_H

#include <stddef.h>
#include <sys/types.h>

struct spice_image;

struct function {
	pid_t pid;
	int req;	/* our end of its fd 0 */
	int rep;	/* our end of its fd 1 */
	char buf[65536];	/* reply bytes read past the last line */
	size_t len;
};

/*
 * Start @argv with fresh pipes as fds 0 and 1, our stderr as fd 2 and no
 * other fd; 0 or -errno.
 */
int function_exec(struct function *fn, char *const argv[]);
/*
 * Fork a launcher that restores @image_fd (@img, parsed) with them, and
 * our stderr as its fd 2 (often a pipe, which the image cannot reopen),
 * under the pid dumped if it is free; 0 or -errno.
 */
int function_restore(struct function *fn, int image_fd,
		     const struct spice_image *img);
/*
 * The next line from the function, without its newline, within
 * @timeout_ms; 0, -ETIMEDOUT, -EPIPE at end of file, -E2BIG if too long.
 */
int function_read_line(struct function *fn, char *line, size_t size,
		       int timeout_ms);
/* Send @request (one line) and read the reply into @reply. */
int function_request(struct function *fn, const char *request, char *reply,
		     size_t size, int timeout_ms);
/* Kill it if still running and reap it; its wait status. */
int function_stop(struct function *fn);

#endif /* __SPICE_FUNCTION_H */
