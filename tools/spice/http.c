// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP request channel: one HTTP/1.0 request per connection, a GET
 * or, with a body, a POST, and its reply read until the server closes
 * (HTTP/1.0: no chunked body, no kept connection).  Enough to drive a
 * function that serves HTTP, as a platform's proxy does; not a general
 * client.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"

unsigned int http_port(const struct http_target *t)
{
	const struct sockaddr_in *in = (const void *)&t->addr;

	/* sin6_port is where sin_port is. */
	return ntohs(in->sin_port);
}

int http_set_path(struct http_target *t, const char *path)
{
	/* One token of the request line. */
	if (path[0] != '/' || strpbrk(path, " \t\r\n"))
		return -EINVAL;
	t->path = path;
	return 0;
}

int http_parse_address(const char *arg, struct http_target *t)
{
	struct sockaddr_in6 *in6 = (void *)&t->addr;
	struct sockaddr_in *in = (void *)&t->addr;
	char host[64];
	const char *colon;
	char *end;
	long port;

	memset(t, 0, sizeof(*t));
	t->path = "/";
	colon = strrchr(arg, ':');
	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	memcpy(host, arg, colon - arg);
	host[colon - arg] = '\0';
	if (host[0] == '[' && host[colon - arg - 1] == ']') {
		host[colon - arg - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		t->addr_len = sizeof(*in6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	t->addr_len = sizeof(*in);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline; 0 or -ETIMEDOUT/-errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_by(const struct http_target *t, long long deadline)
{
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) &&
	    errno != EINPROGRESS)
		err = -errno;
	if (!err)
		err = wait_fd(fd, POLLOUT, deadline);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		close(fd);
		return err < 0 ? err : -err;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			err = wait_fd(fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read until the server closes; the bytes read, or -errno. */
static ssize_t recv_all(int fd, char *buf, size_t size, long long deadline)
{
	size_t got = 0;
	ssize_t n;
	int err;

	for (;;) {
		if (got == size)
			return -EFBIG;
		n = recv(fd, buf + got, size - got, 0);
		if (n == 0)
			return got;
		if (n > 0) {
			got += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
	}
}

/* Status code and body of the response in @buf (@len bytes, NUL after). */
static int parse_response(char *buf, size_t len, const char **body)
{
	int status;
	char *end;

	/* "HTTP/1.x NNN ": three digits, 100 to 599. */
	if (len < 13 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ' ||
	    buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9' || buf[12] != ' ')
		return -EPROTO;
	status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';
	end = strstr(buf, "\r\n\r\n");
	if (!end)
		return -EPROTO;
	*body = end + 4;
	return status;
}

int http_request(const struct http_target *t, const char *body, char *reply,
		 size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	const char *resp_body = "";
	char *req = NULL, *buf;
	int fd, n, status;
	ssize_t got = 0;

	fd = connect_by(t, deadline);
	if (fd < 0)
		return fd;
	if (body && *body)
		n = asprintf(&req, "POST %s HTTP/1.0\r\nHost: spice\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     t->path, strlen(body), body);
	else
		n = asprintf(&req, "GET %s HTTP/1.0\r\nHost: spice\r\n\r\n", t->path);
	if (n < 0)
		req = NULL;
	buf = malloc(HTTP_REPLY_MAX + 1);
	status = n < 0 || !buf ? -ENOMEM : send_all(fd, req, n, deadline);
	if (!status)
		got = recv_all(fd, buf, HTTP_REPLY_MAX, deadline);
	if (!status && got >= 0) {
		buf[got] = '\0';
		status = parse_response(buf, got, &resp_body);
	} else if (!status) {
		status = got;
	}
	if (status > 0)
		snprintf(reply, size, "%s", resp_body);
	free(buf);
	free(req);
	close(fd);
	return status;
}

int http_wait_ready(const struct http_target *t, int (*alive)(void *), void *arg,
		    char *reply, size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status;

	for (;;) {
		status = http_request(t, NULL, reply, size, deadline - now_ms() > 0 ?
				      (int)(deadline - now_ms()) : 1);
		if (status != -ECONNREFUSED)
			return status;
		if (!alive(arg))
			return -ESRCH;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(20000);
	}
}
