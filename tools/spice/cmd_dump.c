// SPDX-License-Identifier: GPL-2.0
/* spice dump: checkpoint a running process to an image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spice/dump.h>

#include "commands.h"

const char usage_dump[] =
	"usage: spice dump PID -o IMAGE [--leave-running] [--no-ws] [--hash-files]\n"
	"                  [--close-connections] [--supplied FD]... [--json]\n"
	"\n"
	"Checkpoint process PID (all its threads) to IMAGE, then kill it.\n"
	"The caller needs ptrace access to PID.\n"
	"  -o IMAGE          the image to write (replaced)\n"
	"  --leave-running   let the process go on instead of killing it\n"
	"  --no-ws           record no working set (default: the resident pages)\n"
	"  --hash-files      record the SHA-256 of every file the process maps or\n"
	"                    reads (read whole now, and again at restore)\n"
	"  --close-connections\n"
	"                    record connected sockets as reset (their next read or\n"
	"                    write fails with ECONNRESET) instead of failing\n"
	"  --supplied FD     record FD as one the launcher hands in at restore\n"
	"                    (spice restore --fd FD=N), whatever it holds\n"
	"  --json            print what was dumped as JSON\n";

/* Most fds --supplied takes. */
#define MAX_SUPPLIED	64

/* At most five lines a second, each over the last. */
static void progress(uint64_t done, uint64_t total, void *arg)
{
	static struct timespec last;
	struct timespec now;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last.tv_sec) * 1000000000L +
	    (now.tv_nsec - last.tv_nsec) < 200000000L)
		return;
	last = now;
	fprintf(stderr, "\rspice dump: read %llu MiB of %llu MiB mapped",
		(unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
}

void print_dump_stats(const struct spice_dump_stats *s, int json)
{
	const struct spice_writer_stats *w = &s->image;

	if (json) {
		printf("{\"threads\":%u,\"vmas\":%u,\"fds\":%u,\"bytes_read\":%llu,",
		       s->threads, s->vmas, s->fds,
		       (unsigned long long)s->bytes_read);
		printf("\"pages_given\":%llu,\"pages_zero\":%llu,\"pages_file\":%llu,",
		       (unsigned long long)w->pages_given,
		       (unsigned long long)w->pages_zero,
		       (unsigned long long)w->pages_file);
		printf("\"pages_dedup\":%llu,\"pages_stored\":%llu,\"ws_pages\":%llu,",
		       (unsigned long long)w->pages_dedup,
		       (unsigned long long)w->pages_stored,
		       (unsigned long long)w->ws_pages);
		printf("\"image_bytes\":%llu,\"ms_frozen\":%.3f,\"ms_total\":%.3f}\n",
		       (unsigned long long)w->file_size, s->ns_frozen / 1e6,
		       s->ns_total / 1e6);
		return;
	}
	printf("dumped %u threads, %u mappings, %u fds in %.1f ms (%.1f ms frozen)\n",
	       s->threads, s->vmas, s->fds, s->ns_total / 1e6, s->ns_frozen / 1e6);
	printf("pages read %llu: %llu zero, %llu same as the file, %llu repeated, %llu stored\n",
	       (unsigned long long)w->pages_given, (unsigned long long)w->pages_zero,
	       (unsigned long long)w->pages_file, (unsigned long long)w->pages_dedup,
	       (unsigned long long)w->pages_stored);
	printf("working set %llu pages; image %llu bytes\n",
	       (unsigned long long)w->ws_pages, (unsigned long long)w->file_size);
}

/* One more fd for --supplied; -1 if @arg is not an fd number. */
static int parse_supplied(const char *arg, int *fds, struct spice_dump_opts *opts)
{
	char *end;
	long fd = strtol(arg, &end, 10);

	if (!*arg || *end || fd < 0 || fd >= SPICE_IMAGE_MAX_FD)
		return -1;
	fds[opts->nr_supplied++] = fd;
	opts->supplied = fds;
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	char why[SPICE_IMAGE_WHY_LEN];
	int supplied[MAX_SUPPLIED];
	struct spice_dump_stats stats;
	const char *out = NULL;
	int i, fd, err, json = 0;
	char *end = "";
	long pid = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--leave-running"))
			opts.flags &= ~SPICE_DUMP_KILL;
		else if (!strcmp(argv[i], "--no-ws"))
			opts.flags |= SPICE_DUMP_WS_NONE;
		else if (!strcmp(argv[i], "--hash-files"))
			opts.flags |= SPICE_DUMP_HASH_FILES;
		else if (!strcmp(argv[i], "--close-connections"))
			opts.flags |= SPICE_DUMP_RESET_CONNECTIONS;
		else if (!strcmp(argv[i], "--supplied") && i + 1 < argc &&
			 opts.nr_supplied < MAX_SUPPLIED)
			pid = parse_supplied(argv[++i], supplied, &opts) ? -1 : pid;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!pid && argv[i][0] != '-')
			pid = strtol(argv[i], &end, 10);
		else
			pid = -1;
		if (pid < 0 || (pid && *end)) {
			fprintf(stderr, "spice dump: bad argument %s\n%s", argv[i],
				usage_dump);
			return EXIT_USAGE;
		}
	}
	if (pid <= 0 || !out) {
		fputs(usage_dump, stderr);
		return EXIT_USAGE;
	}
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spice dump: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (isatty(2))
		opts.progress = progress;
	err = spice_dump(pid, fd, &opts, &stats, why);
	if (opts.progress)
		fputc('\n', stderr);
	close(fd);
	if (err) {
		fprintf(stderr, "spice dump: process %ld: %s (%s)\n", pid,
			why[0] ? why : "failed", strerror(-err));
		if (strstr(why, "can be recorded as reset"))
			fprintf(stderr, "spice dump: --close-connections records it as reset\n");
		unlink(out);
		return 1;
	}
	print_dump_stats(&stats, json);
	return 0;
}
