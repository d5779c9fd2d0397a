/* SPDX-License-Identifier: GPL-2.0 */
/* The HTTP request channel of a function (http.c). */
#ifndef __SPICE_HTTP_H
#define __SPICE_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

/* Most bytes of a response read: 1 MiB. */
#define HTTP_REPLY_MAX	1048576

/* Where a function serves: an address and the path requests go to. */
struct http_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *path;
};

/* "127.0.0.1:8080" or "[::1]:8080" into @t, path "/"; 0 or -EINVAL. */
int http_parse_address(const char *arg, struct http_target *t);
/* Requests go to @path: "/..." without spaces; 0 or -EINVAL. */
int http_set_path(struct http_target *t, const char *path);
/* The port of @t's address. */
unsigned int http_port(const struct http_target *t);

/*
 * One request over a new connection: a POST of @body (JSON), or a GET
 * without one; the reply's body, up to @size - 1 bytes and a NUL, in
 * @reply.  Returns the HTTP status, or -errno (-ECONNREFUSED when nothing
 * listens, -ETIMEDOUT past @timeout_ms, -EPROTO for a reply that is not
 * HTTP, -EFBIG for one over HTTP_REPLY_MAX).
 */
int http_request(const struct http_target *t, const char *body, char *reply,
		 size_t size, int timeout_ms);

/*
 * GET requests until one is answered, while @alive(@arg) says the function
 * still runs: its status, -ESRCH if the function ended, -ETIMEDOUT.
 */
int http_wait_ready(const struct http_target *t, int (*alive)(void *), void *arg,
		    char *reply, size_t size, int timeout_ms);

#endif /* __SPICE_HTTP_H */
