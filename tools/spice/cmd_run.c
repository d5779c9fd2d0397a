// SPDX-License-Identifier: GPL-2.0
/* spice run --snapshot: start a function, warm it up, dump it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spice/dump.h>

#include "commands.h"
#include "function.h"

const char usage_run[] =
	"usage: spice run --snapshot IMAGE [--warmup N] [--request JSON]\n"
	"                 [--timeout SEC] [--hash-files] [--json] -- CMD [ARG...]\n"
	"\n"
	"Start the function CMD with pipes as its stdin and stdout (and no fd\n"
	"but those and stderr), wait for\n"
	"its ready line, send it N warm-up requests (default 1) and read their\n"
	"replies (shown on stderr), then dump it to IMAGE and end it.\n"
	"  --request JSON  the warm-up request line (default {})\n"
	"  --timeout SEC   for the ready line and each reply (default 60)\n"
	"  --hash-files    record the SHA-256 of every file it maps or reads\n"
	"  --json          print what was dumped as JSON\n";

static int warm_up(struct function *fn, const char *request, long n,
		   int timeout_ms)
{
	char line[65536];
	int err;

	err = function_read_line(fn, line, sizeof(line), timeout_ms);
	if (!err && !strstr(line, "\"ready\""))
		err = -EPROTO;
	if (err) {
		fprintf(stderr, "spice run: no ready line: %s\n", strerror(-err));
		return err;
	}
	while (n-- > 0) {
		err = function_request(fn, request, line, sizeof(line), timeout_ms);
		if (err) {
			fprintf(stderr, "spice run: no reply: %s\n", strerror(-err));
			return err;
		}
		fprintf(stderr, "spice run: reply %s\n", line);
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	const char *image = NULL, *request = "{}";
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_dump_stats stats;
	long warmup = 1, timeout = 60;
	struct function fn;
	int i, fd, err, json = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--snapshot") && i + 1 < argc)
			image = argv[++i];
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--request") && i + 1 < argc)
			request = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--hash-files"))
			opts.flags |= SPICE_DUMP_HASH_FILES;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return fprintf(stderr, "spice run: bad argument %s\n%s",
				       argv[i], usage_run), EXIT_USAGE;
	}
	if (!image || i + 1 >= argc || warmup < 0 || timeout <= 0 ||
	    strchr(request, '\n'))
		return fputs(usage_run, stderr), EXIT_USAGE;
	fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spice run: %s: %s\n", image, strerror(errno));
		return 1;
	}
	fflush(stdout);
	err = function_exec(&fn, argv + i + 1);
	if (!err)
		err = warm_up(&fn, request, warmup, timeout * 1000);
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
