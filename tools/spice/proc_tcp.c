// SPDX-License-Identifier: GPL-2.0
/*
 * A process's TCP sockets on a port, as /proc/PID/net/tcp and tcp6 list
 * them (its network namespace's), matched to its fds by inode: whether a
 * function listens on its port yet, or still holds a connection there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_tcp.h"

/* A line of /proc/PID/net/tcp: its ports (hex), state and inode. */
#define TCP_LINE	"%*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %*s %*s %*s %*d %*d %lu"

/* The sockets of a function looked at, at most. */
#define SOCKETS_MAX	4096

/* Add the socket inode of each fd of @pid to @ino (at most @max); how many. */
static int socket_inodes(pid_t pid, unsigned long *ino, int *fds, int max)
{
	char path[320], link[64];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	while (dir && n < max && (de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		memset(link, 0, sizeof(link));
		if (readlink(path, link, sizeof(link) - 1) > 0 &&
		    sscanf(link, "socket:[%lu]", &ino[n]) == 1)
			fds[n++] = atoi(de->d_name);
	}
	if (dir)
		closedir(dir);
	return n;
}

/*
 * A TCP socket of @pid on local @port, as its /proc/PID/net/tcp{,6} list
 * them: one of @ino listening (state 0A) if @listening, else in a state
 * other than listening and closed (07), a connection; its fd and what it
 * is in @why, or 0.
 */
static int find_tcp(pid_t pid, const unsigned long *ino, const int *fds, int n,
		    unsigned int port, int listening, char *why, size_t len)
{
	static const char *const files[] = { "tcp", "tcp6" };
	unsigned int st, local_port, peer_port;
	char path[64], line[512];
	unsigned long inode;
	int i, k, found = 0;
	FILE *f;

	for (k = 0; k < 2 && !found; k++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, files[k]);
		f = fopen(path, "re");
		while (f && !found && fgets(line, sizeof(line), f)) {
			/* "sl: local:port remote:port st ... uid timeout inode" */
			if (sscanf(line, TCP_LINE, &local_port, &peer_port, &st, &inode) != 4 ||
			    local_port != port ||
			    (listening ? st != 0x0a : st == 0x0a || st == 0x07))
				continue;
			for (i = 0; i < n && !found; i++)
				if (ino[i] == inode) {
					snprintf(why, len,
						 "fd %d: a TCP connection from port %u is open (state %02X)",
						 fds[i], peer_port, st);
					found = 1;
				}
		}
		if (f)
			fclose(f);
	}
	return found;
}

int proc_tcp_find(pid_t pid, unsigned int port, int listening, char *why,
		  size_t len)
{
	unsigned long ino[SOCKETS_MAX];
	int fds[SOCKETS_MAX], n;

	n = socket_inodes(pid, ino, fds, SOCKETS_MAX);
	return find_tcp(pid, ino, fds, n, port, listening, why, len);
}
