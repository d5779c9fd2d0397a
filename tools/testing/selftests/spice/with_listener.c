// SPDX-License-Identifier: GPL-2.0
/*
 * with_listener PORT PROG [ARG]...: listen on TCP 127.0.0.1:PORT on fd 3,
 * and run PROG, which inherits the listening socket.  For the selftests'
 * shell scripts: the guest has no tool that hands a socket to a program.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in in = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd;

	if (argc < 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: with_listener PORT PROG [ARG]...\n");
		return 2;
	}
	in.sin_port = htons(atoi(argv[1]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) || listen(fd, 8) ||
	    dup2(fd, 3) != 3) {
		perror("with_listener");
		return 2;
	}
	if (fd != 3)
		close(fd);
	execvp(argv[2], argv + 2);
	perror("with_listener");
	return 127;
}
