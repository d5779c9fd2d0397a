// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's fd table: what each fd of the stopped process is, from
 * /proc/PID/fd and /proc/PID/fdinfo, which of its pipes and sockets are
 * internal (dump_channels.c), how its other sockets are made again
 * (dump_sockets.c), the state of its eventfds and signalfds, and the
 * interest lists of its epoll instances (fdinfo "tfd:" lines).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "dump_internal.h"

#ifndef KCMP_FILE
#define KCMP_FILE	0	/* <linux/kcmp.h> */
#endif

/* fdinfo of an epoll fd: a line per watch; more than this is refused. */
#define EPOLL_FDINFO_MAX	0x100000

/* Parse "key:\tvalue" out of an fdinfo file. */
static int fdinfo_field(const char *info, const char *key, int base,
			uint64_t *val)
{
	const char *p = strstr(info, key);

	if (!p)
		return 0;
	*val = strtoull(p + strlen(key), NULL, base);
	return 1;
}

/*
 * The thread a pidfd refers to (fdinfo "Pid:"), as its index among the
 * process's threads: 0 for the process itself; with PIDFD_THREAD (O_EXCL)
 * any of its threads.  A pidfd of another process, or of one that exited,
 * is refused: only the one process is restored.
 */
static int pidfd_thread(struct dump *d, int fd, const char *info,
			uint64_t flags, uint32_t *index)
{
	const char *p = strstr(info, "\nPid:");
	long pid = p ? strtol(p + 5, NULL, 10) : -1;
	int i;

	if (pid < 0)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a pidfd of a process that exited is not restored", fd);
	if (!pid)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a pidfd of a process outside the dumper's pid namespace is not restored",
				 fd);
	for (i = 0; i < d->nr_threads; i++) {
		if (d->threads[i].tid != pid || (i && !(flags & O_EXCL)))
			continue;
		*index = i;
		return 0;
	}
	return dump_fail(d, -EOPNOTSUPP,
			 "fd %d: a pidfd of process %ld, not this one, is not restored",
			 fd, pid);
}

/* Whether the launcher supplies fd @fd again (spice_dump_opts.supplied). */
static int supplied(const struct dump *d, int fd)
{
	int i;

	for (i = 0; i < d->opts->nr_supplied; i++)
		if (d->opts->supplied[i] == fd)
			return 1;
	return 0;
}

/* Read fd @fd into @e: 1, 0 if it was closed meanwhile, or an error. */
static int dump_one_fd(struct dump *d, int fd, struct dump_fd *e)
{
	struct spice_image_fd f = { .fd = fd, .file = SPICE_IMAGE_NONE };
	char name[64], link[4096], info[4096], what[32];
	uint64_t flags = 0, val;
	struct stat st;
	int n, idx, err;

	snprintf(name, sizeof(name), "fd/%d", fd);
	n = dump_read_link(d->pid, name, link, sizeof(link));
	if (n < 0)
		return n == -ENOENT ? 0 : dump_fail(d, n, "fd %d: readlink", fd);
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	n = dump_read_file(d->pid, name, info, sizeof(info));
	if (n < 0)
		return dump_fail(d, n, "fd %d: fdinfo", fd);
	e->locked = !!strstr(info, "\nlock:");
	fdinfo_field(info, "flags:", 8, &flags);
	f.fd_flags = flags & O_CLOEXEC ? 1 : 0;	/* FD_CLOEXEC */
	f.open_flags = flags & ~(uint64_t)O_CLOEXEC;
	/* stat() follows the magic link to the open file itself. */
	snprintf(name, sizeof(name), "/proc/%d/fd/%d", d->pid, fd);
	if (stat(name, &st))
		return dump_fail(d, -errno, "fd %d: stat", fd);
	e->st_dev = st.st_dev;
	e->st_ino = st.st_ino;
	e->supplied = supplied(d, fd);
	if (e->supplied || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		/*
		 * Supplied: asked to be (whatever it is), or a pipe or socket
		 * that dump_channels() and dump_sockets() do not make anew.
		 */
		f.type = SPICE_FD_SUPPLIED;
		/* An O_PATH fd is no end of anything. */
		if ((!strncmp(link, "pipe:", 5) || !strncmp(link, "socket:", 7)) &&
		    !(flags & O_PATH))
			e->ino = st.st_ino;
		e->is_socket = S_ISSOCK(st.st_mode);
	} else if (link[0] == '/') {
		if (dump_ends_with(link, " (deleted)")) {
			/* A memfd or a deleted file: made anew. */
			snprintf(what, sizeof(what), "fd %d", fd);
			idx = dump_made_file(d, name, link, what);
			if (idx < 0)
				return idx;
		} else {
			/* Hashed if read: the restore reads it to check it. */
			idx = spice_writer_add_file(d->w, link,
						    (flags & O_ACCMODE) == O_WRONLY ||
						    (flags & O_PATH) ? 0 : dump_file_flags(d));
			if (idx < 0)
				return dump_fail(d, idx, "fd %d: %s", fd, link);
		}
		f.type = SPICE_FD_FILE;
		f.file = idx;
		if (fdinfo_field(info, "pos:", 10, &val))
			f.pos = val;
	} else if (!strcmp(link, "anon_inode:[eventfd]")) {
		f.type = SPICE_FD_EVENTFD;
		if (fdinfo_field(info, "eventfd-count:", 16, &val))
			f.pos = val;
		if (fdinfo_field(info, "eventfd-semaphore:", 10, &val) && val)
			f.type_flags = SPICE_EVENTFD_SEMAPHORE;
	} else if (!strcmp(link, "anon_inode:[eventpoll]")) {
		f.type = SPICE_FD_EPOLL;
		e->is_epoll = 1;
	} else if (!strcmp(link, "anon_inode:[pidfd]")) {
		f.type = SPICE_FD_PIDFD;
		err = pidfd_thread(d, fd, info, flags, &f.object);
		if (err)
			return err;
	} else if (!strcmp(link, "anon_inode:[timerfd]")) {
		f.type = SPICE_FD_TIMERFD;	/* its timer: dump_timerfds() */
	} else if (!strcmp(link, "anon_inode:[signalfd]")) {
		f.type = SPICE_FD_SIGNALFD;
		if (!fdinfo_field(info, "sigmask:", 16, &val))
			return dump_fail(d, -EIO, "fd %d: signalfd without a sigmask", fd);
		f.pos = val;
	} else {
		return dump_fail(d, -EOPNOTSUPP, "fd %d: %s cannot be dumped yet",
				 fd, link);
	}
	if (f.type == SPICE_FD_PIDFD &&
	    (f.open_flags & ~(uint64_t)(O_NONBLOCK | O_EXCL)) != O_RDWR)
		return dump_fail(d, -EOPNOTSUPP, "fd %d: a pidfd with open flags %#o",
				 fd, f.open_flags);
	if ((f.type == SPICE_FD_EVENTFD || f.type == SPICE_FD_EPOLL ||
	     f.type == SPICE_FD_SIGNALFD || f.type == SPICE_FD_TIMERFD) &&
	    (f.open_flags & ~(uint64_t)O_NONBLOCK) != O_RDWR)
		return dump_fail(d, -EOPNOTSUPP, "fd %d: %s with open flags %#o",
				 fd, link, f.open_flags);
	e->f = f;
	return 1;
}

static int watch_cmp(const void *a, const void *b)
{
	const struct spice_image_epoll_watch *x = a, *y = b;

	return x->tfd < y->tfd ? -1 : x->tfd > y->tfd;
}

/*
 * Check that fd @tfd of the process is still the file epoll registered
 * (its inode @ino on the kernel-encoded device @sdev).  Anonymous-inode
 * files (eventfd, signalfd, epoll) of one kind share an inode: one
 * replaced by another of its kind is not noticed.
 */
static int check_watch_target(struct dump *d, int epfd, int tfd,
			      unsigned long ino, unsigned int sdev)
{
	char name[64];
	struct stat st;

	snprintf(name, sizeof(name), "/proc/%d/fd/%d", d->pid, tfd);
	if (stat(name, &st) || st.st_ino != ino ||
	    major(st.st_dev) != sdev >> 20 || minor(st.st_dev) != (sdev & 0xfffff))
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: epoll watches fd %d, which now holds another file",
				 epfd, tfd);
	return 0;
}

/* The interest list of epoll fd @epfd, sorted by watched fd. */
static int dump_epoll(struct dump *d, int epfd)
{
	struct spice_image_epoll_watch *w = NULL, *q;
	unsigned int events, sdev;
	unsigned long long data;
	size_t n = 0, i;
	unsigned long ino;
	char name[64], *info, *line;
	int tfd, len, err = 0;

	info = malloc(EPOLL_FDINFO_MAX);
	if (!info)
		return -ENOMEM;
	snprintf(name, sizeof(name), "fdinfo/%d", epfd);
	len = dump_read_file(d->pid, name, info, EPOLL_FDINFO_MAX);
	if (len < 0)
		err = dump_fail(d, len, "fd %d: fdinfo", epfd);
	else if (len >= EPOLL_FDINFO_MAX - 1)
		err = dump_fail(d, -E2BIG, "fd %d: epoll interest list too long", epfd);
	for (line = info; !err && (line = strstr(line, "\ntfd:")); line++) {
		if (sscanf(line, "\ntfd: %d events: %x data: %llx pos:%*d ino:%lx sdev:%x",
			   &tfd, &events, &data, &ino, &sdev) != 5) {
			err = dump_fail(d, -EINVAL, "fd %d: cannot parse fdinfo", epfd);
			break;
		}
		if (events & ~SPICE_EPOLL_EVENTS) {
			err = dump_fail(d, -EOPNOTSUPP, "fd %d: epoll events %#x on fd %d",
					epfd, events, tfd);
			break;
		}
		err = check_watch_target(d, epfd, tfd, ino, sdev);
		if (err)
			break;
		q = realloc(w, (n + 1) * sizeof(*w));
		if (!q) {
			err = -ENOMEM;
			break;
		}
		w = q;
		w[n++] = (struct spice_image_epoll_watch) {
			.epfd = epfd, .tfd = tfd, .events = events, .data = data,
		};
	}
	free(info);
	if (!err)
		qsort(w, n, sizeof(*w), watch_cmp);
	for (i = 0; i < n && !err; i++) {
		err = spice_writer_add_epoll_watch(d->w, &w[i]);
		if (err)
			err = dump_fail(d, err, "fd %d: epoll watch of fd %d",
					epfd, w[i].tfd);
	}
	free(w);
	return err;
}

static int shareable(uint32_t type)
{
	return type == SPICE_FD_FILE || type == SPICE_FD_SUPPLIED ||
	       type == SPICE_FD_EVENTFD || type == SPICE_FD_SIGNALFD ||
	       type == SPICE_FD_TIMERFD || type == SPICE_FD_PIDFD ||
	       type == SPICE_FD_SOCKET;
}

/*
 * Fds that share one open file, offset and flags included (dup(), or
 * inherited that way): kcmp() tells, among fds on the same inode.  Each
 * later one records the first; a restore gives them one file again.  An
 * epoll instance under two fds is refused: its watches name one.
 */
static int find_shared_files(struct dump *d, struct dump_fd *e, int nr)
{
	long same;
	int i, j;

	for (i = 1; i < nr; i++) {
		for (j = 0; j < i && (shareable(e[i].f.type) ||
				      e[i].f.type == SPICE_FD_EPOLL); j++) {
			if (e[j].f.type != e[i].f.type || e[j].f.shares ||
			    e[j].st_dev != e[i].st_dev || e[j].st_ino != e[i].st_ino)
				continue;
			same = syscall(SYS_kcmp, d->pid, d->pid, KCMP_FILE,
				       e[j].f.fd, e[i].f.fd);
			if (same < 0)
				return dump_fail(d, -errno,
						 "fd %d: kcmp() cannot tell whether it shares fd %d's open file",
						 e[i].f.fd, e[j].f.fd);
			if (!same && e[i].f.type == SPICE_FD_EPOLL)
				return dump_fail(d, -EOPNOTSUPP,
						 "fd %d: shares fd %d's epoll instance, which is not restored",
						 e[i].f.fd, e[j].f.fd);
			if (!same) {
				e[i].f.shares = j + 1;
				break;
			}
		}
	}
	return 0;
}

/**
 * dump_ino_supplied - Whether an fd on pipe or socket @ino is supplied.
 * @fds: The process's fds.
 * @n: Entries in @fds.
 * @ino: The inode of an anonymous pipe or a socket.
 *
 * Every fd of a pipe or socket that the launcher supplies through one of
 * them stays supplied, so that they share the launcher's file.
 */
int dump_ino_supplied(const struct dump_fd *fds, int n, uint64_t ino)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i].ino == ino && fds[i].supplied)
			return 1;
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int dump_fds(struct dump *d)
{
	int *fds = NULL, *q, n = 0, nr = 0, i, err = 0;
	struct dump_fd *e = NULL;
	struct dirent *de;
	char path[64];
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", d->pid);
	dir = opendir(path);
	if (!dir)
		return dump_fail(d, -errno, "cannot list %s", path);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		q = realloc(fds, (n + 1) * sizeof(*fds));
		if (!q) {
			err = -ENOMEM;
			break;
		}
		fds = q;
		fds[n++] = atoi(de->d_name);
	}
	closedir(dir);
	if (!err) {
		qsort(fds, n, sizeof(*fds), int_cmp);
		e = calloc(n ? n : 1, sizeof(*e));
		if (!e)
			err = -ENOMEM;
	}
	for (i = 0; i < n && !err; i++) {
		err = dump_one_fd(d, fds[i], &e[nr]);
		if (err > 0) {
			nr++;
			err = 0;
		}
	}
	if (!err)
		err = dump_channels(d, e, nr);
	if (!err)
		err = dump_sockets(d, e, nr);
	if (!err)
		err = find_shared_files(d, e, nr);
	for (i = 0; i < nr && !err; i++) {
		err = spice_writer_add_fd_data(d->w, &e[i].f, e[i].data, e[i].data_len);
		d->stats->fds++;
	}
	if (!err)
		err = dump_locks(d, e, nr);
	if (!err)
		err = dump_timerfds(d, e, nr);
	if (!err)
		err = dump_write_sockets(d, e, nr);
	/* After every fd: the writer wants the watches' fds known. */
	for (i = 0; i < nr && !err; i++)
		if (e[i].is_epoll)
			err = dump_epoll(d, e[i].f.fd);
	for (i = 0; i < nr; i++) {
		free(e[i].data);
		free(e[i].sock);
	}
	free(e);
	free(fds);
	return err;
}
