// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pipes and socket pairs internal to the dumped process: those whose both
 * ends it holds, such as asyncio's self-pipe (a socket pair) or libuv's
 * signal pipe.  The kernel makes them anew on restore: a pipe with the
 * bytes it held (a self-pipe often holds a wake-up byte), a socket pair
 * empty, so a pair with data queued (or shut down) is refused rather than
 * restored without it.  Every other pipe or socket stays one the launcher
 * supplies.
 *
 * "Internal" means both ends are among this process's fds; an end that a
 * child or another process holds too is not looked for (it could not be
 * restored either way: only this process is).
 *
 * A pipe's two ends share an inode; a socket's peer comes from
 * NETLINK_SOCK_DIAG (unix_diag), which also says what is queued.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include "dump_internal.h"

/* Index of the first fd of @fds whose inode is @ino, or -1. */
static int first_with_ino(const struct dump_fd *fds, int n, uint64_t ino)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i].ino == ino)
			return i;
	return -1;
}

/*
 * Copy what the pipe of read end @fd holds into @e, without taking it
 * out: through a reader of our own, tee(2) into a pipe of ours with as
 * many slots (tee copies whole buffers, however full).  @packets: the
 * pipe is in packet mode, whose boundaries a refilled pipe would lose.
 */
static int pipe_data(struct dump *d, int fd, int packets, struct dump_fd *e)
{
	int r, p[2] = { -1, -1 }, queued = 0, size, err = 0;
	char path[64];
	ssize_t n, got;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", d->pid, fd);
	r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (r < 0)
		return dump_fail(d, -errno, "fd %d: pipe", fd);
	if (ioctl(r, FIONREAD, &queued))
		err = dump_fail(d, -errno, "fd %d: FIONREAD", fd);
	else if (queued > SPICE_IMAGE_MAX_PIPE_DATA)
		err = dump_fail(d, -EOPNOTSUPP, "fd %d: pipe holds %d bytes, over %u",
				fd, queued, SPICE_IMAGE_MAX_PIPE_DATA);
	else if (queued && packets)
		err = dump_fail(d, -EOPNOTSUPP,
				"fd %d: packet-mode pipe holds data (its packets would merge)",
				fd);
	if (err || !queued)
		goto out;
	size = fcntl(r, F_GETPIPE_SZ);
	e->data = malloc(queued);
	if (!e->data || size < 0 || pipe2(p, O_NONBLOCK | O_CLOEXEC) ||
	    fcntl(p[1], F_SETPIPE_SZ, size) < size) {
		err = dump_fail(d, e->data ? -errno : -ENOMEM, "fd %d: pipe", fd);
		goto out;
	}
	got = 0;
	if (tee(r, p[1], queued, SPLICE_F_NONBLOCK) == queued) {
		while (got < queued) {
			n = read(p[0], (char *)e->data + got, queued - got);
			if (n <= 0)
				break;
			got += n;
		}
	}
	if (got != queued)
		err = dump_fail(d, -EIO, "fd %d: copying what the pipe holds", fd);
	else
		e->data_len = queued;
out:
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	close(r);
	return err;
}

/*
 * Open flags of a channel's end that the restore keeps (@kept) or can do
 * without (O_LARGEFILE, which pipes and sockets ignore); any other, such
 * as O_ASYNC or O_APPEND, makes the dump fail rather than lose it.
 */
static int check_end_flags(struct dump *d, const struct spice_image_fd *f,
			   uint32_t kept)
{
	if (f->open_flags & ~(kept | O_LARGEFILE))
		return dump_fail(d, -EOPNOTSUPP, "fd %d: internal %s with open flags %#o",
				 f->fd, kept & O_DIRECT ? "pipe" : "socket pair",
				 f->open_flags);
	return 0;
}

/* Make every fd of pipe @ino a SPICE_FD_PIPE if it has both ends here. */
static int classify_pipe(struct dump *d, struct dump_fd *fds, int n, int first)
{
	const uint32_t kept = O_ACCMODE | O_NONBLOCK | O_DIRECT;
	int i, rd = -1, wr = -1, packets = 0, err;
	uint32_t mode;

	for (i = first; i < n; i++) {
		if (fds[i].ino != fds[first].ino)
			continue;
		packets |= !!(fds[i].f.open_flags & O_DIRECT);
		mode = fds[i].f.open_flags & O_ACCMODE;
		if (mode == O_RDONLY && rd < 0)
			rd = i;
		else if (mode == O_WRONLY && wr < 0)
			wr = i;
		else if (mode == O_RDWR)
			return 0;	/* reopened through /proc: no end of its own */
	}
	if (rd < 0 || wr < 0)
		return 0;	/* the other end is elsewhere, or gone */
	for (i = first; i < n; i++)
		if (fds[i].ino == fds[first].ino && check_end_flags(d, &fds[i].f, kept))
			return -EOPNOTSUPP;
	err = pipe_data(d, fds[rd].f.fd, packets, &fds[first]);
	if (err)
		return err;
	for (i = first; i < n; i++) {
		struct spice_image_fd *f = &fds[i].f;

		if (fds[i].ino != fds[first].ino)
			continue;
		f->type = SPICE_FD_PIPE;
		f->object = first;
		if ((f->open_flags & O_ACCMODE) == O_WRONLY)
			f->type_flags = SPICE_FD_SECOND_END;
		f->open_flags &= kept;
	}
	return 0;
}

static uint32_t socketpair_type(uint8_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return SPICE_SOCKETPAIR_STREAM;
	case SOCK_DGRAM:
		return SPICE_SOCKETPAIR_DGRAM;
	case SOCK_SEQPACKET:
		return SPICE_SOCKETPAIR_SEQPACKET;
	}
	return 0;
}

/* Make both sockets of a pair SPICE_FD_SOCKETPAIR if both are here. */
static int classify_socket(struct dump *d, int nl, struct dump_fd *fds, int n,
			   int first)
{
	struct dump_unix_info a, b;
	uint32_t kind;
	int i, other, err;

	err = dump_unix_diag(nl, fds[first].ino, &a);
	if (err == -ENOENT)
		return 0;	/* not AF_UNIX, or not in our network namespace */
	if (err)
		return dump_fail(d, err, "fd %d: unix_diag", fds[first].f.fd);
	kind = socketpair_type(a.type);
	other = a.peer ? first_with_ino(fds, n, a.peer) : -1;
	if (a.named || !kind || other < 0)
		return 0;
	err = dump_unix_diag(nl, a.peer, &b);
	if (err)
		return dump_fail(d, err, "fd %d: unix_diag", fds[other].f.fd);
	if (b.peer != fds[first].ino || b.named)
		return 0;	/* a socket connected to a listener of ours */
	if (a.queued || b.queued)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: internal socket pair holds unread bytes (restored empty)",
				 fds[a.queued ? first : other].f.fd);
	if (a.shutdown || b.shutdown)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: internal socket pair shut down (restored open)",
				 fds[a.shutdown ? first : other].f.fd);
	for (i = first; i < n; i++)
		if ((fds[i].ino == fds[first].ino || fds[i].ino == a.peer) &&
		    check_end_flags(d, &fds[i].f, O_ACCMODE | O_NONBLOCK))
			return -EOPNOTSUPP;
	for (i = first; i < n; i++) {
		struct spice_image_fd *f = &fds[i].f;

		if (fds[i].ino != fds[first].ino && fds[i].ino != a.peer)
			continue;
		f->type = SPICE_FD_SOCKETPAIR;
		f->object = first;
		f->type_flags = kind;
		if (fds[i].ino == a.peer)
			f->type_flags |= SPICE_FD_SECOND_END;
		f->open_flags &= O_ACCMODE | O_NONBLOCK;
	}
	return 0;
}

/**
 * dump_channels - Find the pipes and socket pairs internal to the process.
 * @d: The dump.
 * @fds: The process's fds, in fd order, as dump_fds() read them.
 * @n: Entries in @fds.
 *
 * Return: 0, or the dump's error (-EOPNOTSUPP for one holding data).
 */
int dump_channels(struct dump *d, struct dump_fd *fds, int n)
{
	int i, nl = -1, err = 0;

	for (i = 0; i < n && !err; i++) {
		/* Only the first fd of each inode, still unclassified. */
		if (!fds[i].ino || fds[i].f.type != SPICE_FD_SUPPLIED ||
		    first_with_ino(fds, i, fds[i].ino) >= 0 ||
		    dump_ino_supplied(fds, n, fds[i].ino))
			continue;
		if (!fds[i].is_socket) {
			err = classify_pipe(d, fds, n, i);
			continue;
		}
		if (nl < 0)
			nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (nl < 0)
			return dump_fail(d, -errno, "cannot open NETLINK_SOCK_DIAG");
		err = classify_socket(d, nl, fds, n, i);
	}
	if (nl >= 0)
		close(nl);
	return err;
}
