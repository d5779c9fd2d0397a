// SPDX-License-Identifier: GPL-2.0
/*
 * with_flock sh|ex FILE PROG [ARG]...: open FILE read-only on fd 3, take a
 * shared or exclusive flock() lock on it, and run PROG, which inherits
 * the fd and so holds the lock.  For the selftests' shell scripts: the
 * guest has no flock(1).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 4 || (strcmp(argv[1], "sh") && strcmp(argv[1], "ex"))) {
		fprintf(stderr, "usage: with_flock sh|ex FILE PROG [ARG]...\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY);
	if (fd < 0 || dup2(fd, 3) != 3 ||
	    flock(3, strcmp(argv[1], "sh") ? LOCK_EX : LOCK_SH)) {
		perror("with_flock");
		return 2;
	}
	if (fd != 3)
		close(fd);
	execvp(argv[3], argv + 3);
	perror("with_flock");
	return 127;
}
