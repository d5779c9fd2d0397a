// SPDX-License-Identifier: GPL-2.0
/* spice run --snapshot: start a function, warm it up, dump it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <spice/dump.h>

#include "commands.h"
#include "function.h"
#include "http.h"

const char usage_run[] =
	"usage: spice run --snapshot IMAGE [--http ADDR [--path PATH]] [--warmup N]\n"
	"                 [--request BODY] [--timeout SEC] [--hash-files]\n"
	"                 [--close-connections] [--json] -- CMD [ARG...]\n"
	"\n"
	"Start the function CMD, wait until it is ready, send it N warm-up\n"
	"requests (default 1) and read their replies (shown on stderr), then\n"
	"dump it to IMAGE and end it.  It has no fd but 0, 1 and 2.  Its request\n"
	"channel (Documentation/spice/tools.rst) is JSON lines on pipes as its\n"
	"stdin and stdout, ready once it prints a line with \"ready\"; or, with\n"
	"--http, HTTP on ADDR (127.0.0.1:8080, [::1]:8080), which it listens on\n"
	"itself, ready once it answers a GET; its stdin is then /dev/null, its\n"
	"stdout our stderr, and it is dumped once it holds no connection.\n"
	"  --http ADDR     the HTTP channel, at ADDR\n"
	"  --path PATH     the HTTP requests' path (default /)\n"
	"  --request BODY  the warm-up request: a line (default {}), or for HTTP\n"
	"                  a body to POST (default: a GET)\n"
	"  --timeout SEC   for readiness and each reply (default 60)\n"
	"  --hash-files    record the SHA-256 of every file it maps or reads\n"
	"  --close-connections  record its other connections as reset\n"
	"  --json          print what was dumped as JSON\n";

/*
 * The HTTP channel's address and path, or the reason they are not;
 * shared with spice record.
 */
int parse_http(struct http_target *t, const char *addr, const char *path)
{
	if (http_parse_address(addr, t)) {
		fprintf(stderr, "spice: --http %s: not IPV4:PORT or [IPV6]:PORT (no host names)\n",
			addr);
		return -1;
	}
	if (path && http_set_path(t, path)) {
		fprintf(stderr, "spice: --path %s: not /... without spaces\n", path);
		return -1;
	}
	return 0;
}

/* Why the function is gone before it was ready. */
static void print_end(const char *cmd, int status)
{
	if (WIFEXITED(status))
		fprintf(stderr, "spice run: %s exited with status %d before it was ready\n",
			cmd, WEXITSTATUS(status));
	else
		fprintf(stderr, "spice run: %s was killed by signal %d before it was ready\n",
			cmd, WTERMSIG(status));
}

static int warm_up(struct function *fn, const char *cmd, const char *request,
		   long n, int timeout_ms)
{
	char line[65536], why[256];
	int err;

	err = function_wait_ready(fn, line, sizeof(line), timeout_ms);
	if (err == -ESRCH)
		print_end(cmd, function_stop(fn));
	else if (err)
		fprintf(stderr, "spice run: %s is not ready: %s\n", cmd, strerror(-err));
	while (!err && n-- > 0) {
		err = function_request(fn, request, line, sizeof(line), timeout_ms);
		if (err && err != -EREMOTEIO)
			fprintf(stderr, "spice run: no reply: %s\n", strerror(-err));
		else
			fprintf(stderr, "spice run: reply%s %s\n",
				err ? " (not 2xx)" : "", line);
	}
	if (!err && fn->http) {
		err = function_wait_idle(fn, timeout_ms, why, sizeof(why));
		if (err)
			fprintf(stderr, "spice run: %s\n", why);
	}
	return err;
}

int cmd_run(int argc, char **argv)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	const char *image = NULL, *request = NULL, *path = NULL, *http_addr = NULL;
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_dump_stats stats;
	long warmup = 1, timeout = 60;
	struct http_target http;
	struct function fn;
	int i, fd, err, json = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--snapshot") && i + 1 < argc)
			image = argv[++i];
		else if (!strcmp(argv[i], "--http") && i + 1 < argc)
			http_addr = argv[++i];
		else if (!strcmp(argv[i], "--path") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--request") && i + 1 < argc)
			request = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--hash-files"))
			opts.flags |= SPICE_DUMP_HASH_FILES;
		else if (!strcmp(argv[i], "--close-connections"))
			opts.flags |= SPICE_DUMP_RESET_CONNECTIONS;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return fprintf(stderr, "spice run: bad argument %s\n%s",
				       argv[i], usage_run), EXIT_USAGE;
	}
	if (!image || i + 1 >= argc || warmup < 0 || timeout <= 0 ||
	    (request && strchr(request, '\n')) || (path && !http_addr))
		return fputs(usage_run, stderr), EXIT_USAGE;
	if (http_addr && parse_http(&http, http_addr, path))
		return EXIT_USAGE;
	if (!request)
		request = http_addr ? "" : "{}";
	fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spice run: %s: %s\n", image, strerror(errno));
		return 1;
	}
	fflush(stdout);
	err = function_exec(&fn, http_addr ? &http : NULL, argv + i + 1);
	if (err)
		fprintf(stderr, "spice run: cannot run %s: %s\n", argv[i + 1], strerror(-err));
	else
		err = warm_up(&fn, argv[i + 1], request, warmup, timeout * 1000);
	if (!err) {
		fflush(stdout);
		err = spice_dump(fn.pid, fd, &opts, &stats, why);
		if (err)
			fprintf(stderr, "spice run: dump of %s: %s (%s)\n", argv[i + 1],
				why[0] ? why : "failed", strerror(-err));
	}
	function_stop(&fn);
	close(fd);
	if (err) {
		unlink(image);
		return 1;
	}
	print_dump_stats(&stats, json);
	return 0;
}
