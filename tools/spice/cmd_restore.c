// SPDX-License-Identifier: GPL-2.0
/* spice restore: become the process saved in an image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spice/image.h>
#include <spice/spice.h>

#include "commands.h"

const char usage_restore[] =
	"usage: spice restore IMAGE [--fd N=M]...\n"
	"\n"
	"Replace this process with the one saved in IMAGE (restore_process(2)).\n"
	"Prints nothing on success: the restored process runs in its place, with\n"
	"the same pid.  Needs CAP_CHECKPOINT_RESTORE.\n"
	"  --fd N=M   the restored process's fd N is this process's fd M (pipes,\n"
	"             sockets: whatever the image cannot reopen by path)\n";

/* Parse "N=M" into a map entry. */
static int parse_fd(const char *s, struct restore_process_fd *e)
{
	char *end;
	long n, m;

	n = strtol(s, &end, 10);
	if (end == s || *end != '=' || n < 0 || n > 1 << 20)
		return -1;
	s = end + 1;
	m = strtol(s, &end, 10);
	if (end == s || *end || m < 0 || m > 1 << 20)
		return -1;
	memset(e, 0, sizeof(*e));
	e->image_fd = n;
	e->fd = m;
	return 0;
}

/* Why the kernel refused the image, in libspice's words when it can say. */
static void explain(const char *path, int fd, int err)
{
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;

	if ((err == -EINVAL || err == -E2BIG || err == -ENOEXEC ||
	     err == -EBADMSG) && spice_image_open(fd, &img, why) < 0) {
		fprintf(stderr, "spice restore: %s: %s (%s)\n", path, why,
			strerror(-err));
		return;
	}
	fprintf(stderr, "spice restore: %s: %s\n", path, strerror(-err));
}

int cmd_restore(int argc, char **argv)
{
	struct restore_process_fd map[RESTORE_PROCESS_MAX_FD_MAP];
	struct restore_process_args args = {};
	const char *path = NULL;
	int i, fd, err;
	unsigned int n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--fd") && i + 1 < argc &&
		    n < RESTORE_PROCESS_MAX_FD_MAP && !parse_fd(argv[i + 1], &map[n])) {
			n++;
			i++;
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			fprintf(stderr, "spice restore: bad argument %s\n%s", argv[i],
				usage_restore);
			return EXIT_USAGE;
		}
	}
	if (!path) {
		fputs(usage_restore, stderr);
		return EXIT_USAGE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "spice restore: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (n) {
		args.fd_map = (uintptr_t)map;
		args.nr_fd_map = n;
	}
	fflush(NULL);
	err = spice_restore_process(fd, &args, sizeof(args), 0);
	explain(path, fd, err);
	close(fd);
	return 1;
}
