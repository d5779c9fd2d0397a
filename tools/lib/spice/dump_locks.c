// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The file locks a process holds: flock(), POSIX record and OFD locks,
 * read from the "lock:" lines of /proc/PID/fdinfo/FD.  Leases and
 * delegations are refused: a restored process could not get them back
 * without waiting for every other opener of the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <spice/image.h>
#include "dump_internal.h"

/* Room for about 16,000 locks on one open file. */
#define LOCKS_FDINFO_MAX	0x100000

/*
 * One "lock:" line of fdinfo, as lock_get_status() prints it:
 * "1: POSIX  ADVISORY  WRITE 1234 08:02:131073 0 EOF", on the inode of
 * @e.  Returns 0, -EOPNOTSUPP for a kind of lock that is not restored, or
 * -EINVAL for a line that does not read so.
 */
static int parse_lock(const char *line, const struct dump_fd *e,
		      struct spice_image_lock *l)
{
	char kind[16], mode[16], type[16], end[32], *tail;
	unsigned int dev_major, dev_minor;
	unsigned long long ino;
	long long start;

	if (sscanf(line, "%*d: %15s %15s %15s %*d %x:%x:%llu %lld %31s",
		   kind, mode, type, &dev_major, &dev_minor, &ino, &start, end) != 8)
		return -EINVAL;
	if (!strcmp(kind, "FLOCK"))
		l->kind = SPICE_LOCK_FLOCK;
	else if (!strcmp(kind, "POSIX"))
		l->kind = SPICE_LOCK_POSIX;
	else if (!strcmp(kind, "OFDLCK"))
		l->kind = SPICE_LOCK_OFD;
	else
		return -EOPNOTSUPP;
	if (strcmp(mode, "ADVISORY"))
		return -EOPNOTSUPP;
	if (!strcmp(type, "READ"))
		l->type = SPICE_LOCK_READ;
	else if (!strcmp(type, "WRITE"))
		l->type = SPICE_LOCK_WRITE;
	else
		return -EINVAL;
	if (dev_major != major(e->st_dev) || dev_minor != minor(e->st_dev) ||
	    ino != e->st_ino || start < 0)
		return -EINVAL;
	l->start = start;
	l->end = SPICE_LOCK_EOF;
	if (strcmp(end, "EOF")) {
		errno = 0;
		l->end = strtoull(end, &tail, 10);
		if (errno || *tail || l->end < l->start || l->end >= SPICE_LOCK_EOF)
			return -EINVAL;
	}
	return 0;
}

static const char *fd_kind(uint32_t type)
{
	switch (type) {
	case SPICE_FD_PIPE:
		return "a pipe";
	case SPICE_FD_SOCKETPAIR:
		return "a socket";
	case SPICE_FD_EVENTFD:
		return "an eventfd";
	case SPICE_FD_SIGNALFD:
		return "a signalfd";
	case SPICE_FD_TIMERFD:
		return "a timerfd";
	case SPICE_FD_EPOLL:
		return "an epoll instance";
	default:
		return "a pipe or socket of the launcher's";
	}
}

/* The locks of one open file, through its first fd @e. */
static int dump_fd_locks(struct dump *d, const struct dump_fd *e, char *info)
{
	struct spice_image_lock l;
	char name[64], *line, *nl;
	int len, err;

	snprintf(name, sizeof(name), "fdinfo/%d", e->f.fd);
	len = dump_read_file(d->pid, name, info, LOCKS_FDINFO_MAX);
	if (len < 0)
		return dump_fail(d, len, "fd %d: fdinfo", e->f.fd);
	if (len >= LOCKS_FDINFO_MAX - 1)
		return dump_fail(d, -E2BIG, "fd %d: too many file locks", e->f.fd);
	for (line = info; *line; line = nl) {
		nl = strchrnul(line, '\n');
		if (*nl)
			*nl++ = '\0';
		if (strncmp(line, "lock:", 5))
			continue;
		line += 5 + strspn(line + 5, " \t");
		if (e->f.type != SPICE_FD_FILE)
			return dump_fail(d, -EOPNOTSUPP,
					 "fd %d: a file lock on %s is not restored (%s)",
					 e->f.fd, fd_kind(e->f.type), line);
		l = (struct spice_image_lock){ .fd = e->f.fd };
		err = parse_lock(line, e, &l);
		if (err == -EOPNOTSUPP)
			return dump_fail(d, err, "fd %d: %s is not restored (%s)", e->f.fd,
					 strstr(line, "LEASE") || strstr(line, "DELEG") ?
					 "a lease" : "this kind of lock", line);
		if (err)
			return dump_fail(d, err, "fd %d: cannot parse a file lock (%s)",
					 e->f.fd, line);
		err = spice_writer_add_lock(d->w, &l);
		if (err)
			return dump_fail(d, err, "fd %d: file lock (%s)", e->f.fd, line);
	}
	return 0;
}

int dump_locks(struct dump *d, const struct dump_fd *e, int nr)
{
	char *info = NULL;
	int i, err = 0;

	for (i = 0; i < nr && !err; i++) {
		/* A dup()ed fd shows the locks of the open file it shares. */
		if (!e[i].locked || e[i].f.shares)
			continue;
		if (!info)
			info = malloc(LOCKS_FDINFO_MAX);
		if (!info)
			return -ENOMEM;
		err = dump_fd_locks(d, &e[i], info);
	}
	free(info);
	return err;
}
