/* SPDX-License-Identifier: GPL-2.0 */
/* A process's TCP sockets on a port (proc_tcp.c). */
#ifndef __SPICE_PROC_TCP_H
#define __SPICE_PROC_TCP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Whether @pid holds a TCP socket on local @port that listens (@listening)
 * or, else, a connection there; 1 with what it is in @why, or 0.
 */
int proc_tcp_find(pid_t pid, unsigned int port, int listening, char *why,
		  size_t len);

#endif /* __SPICE_PROC_TCP_H */
