// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): pipes and socket pairs internal to the process.
 *
 * A pipe or AF_UNIX socket pair whose both ends the process held is made
 * anew before the point of no return, as pipe2(2) and socketpair(2) would
 * make it for the caller: its sockets in the caller's network namespace,
 * with the caller's LSM checks.  A pipe gets back the bytes it held; a
 * socket pair starts empty.  The fds of one end share one open file, as
 * dup(2) would leave them; an end no fd refers to is closed when the
 * rebuild ends, so the other end sees EOF or EPIPE as it did before the
 * dump.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/net.h>
#include <linux/pipe_fs_i.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/spice.h>

#include "rebuild.h"

/* Both ends of one pipe or socket pair; an end's flags once an fd took it. */
struct spice_channel {
	struct file *end[2];	/* references held */
	bool taken[2];
	unsigned int flags[2];	/* open flags of the fds of that end */
};

static int spice_sock_type(u32 type_flags)
{
	if (type_flags & SPICE_SOCKETPAIR_STREAM)
		return SOCK_STREAM;
	if (type_flags & SPICE_SOCKETPAIR_DGRAM)
		return SOCK_DGRAM;
	return SOCK_SEQPACKET;
}

/* As socketpair(AF_UNIX, type, 0): the caller's netns, LSM and limits. */
static int spice_make_socketpair(u32 type_flags, struct file **end)
{
	struct socket *sock[2];
	int err;

	err = spice_unix_socketpair(spice_sock_type(type_flags), sock);
	if (err)
		return err;
	/* sock_alloc_file() releases the socket if it fails. */
	end[0] = sock_alloc_file(sock[0], 0, NULL);
	if (IS_ERR(end[0])) {
		sock_release(sock[1]);
		return PTR_ERR(end[0]);
	}
	end[1] = sock_alloc_file(sock[1], 0, NULL);
	if (IS_ERR(end[1])) {
		fput(end[0]);
		return PTR_ERR(end[1]);
	}
	return 0;
}

/*
 * The open flags of an end are set once, by its first fd, on a file that
 * nothing else can see yet; as fcntl(F_SETFL) does, under f_lock.
 */
static void spice_set_end_flags(struct file *file, unsigned int flags)
{
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~(O_NONBLOCK | O_DIRECT)) |
			(flags & (O_NONBLOCK | O_DIRECT));
	spin_unlock(&file->f_lock);
}

/*
 * Put the bytes a pipe held back in it, before any fd refers to it: one
 * non-blocking write, which must take them all (the new pipe has the
 * default capacity, unless fs.pipe-user-pages-soft shrank it).
 */
static int spice_fill_pipe(struct spice_rebuild *rb, struct file *wr,
			   struct spice_image_ref data)
{
	loff_t pos = 0;
	ssize_t n;

	n = kernel_write(wr, spice_image_blob(&rb->img, data), data.len, &pos);
	if (n == data.len)
		return 0;
	return n < 0 && n != -EAGAIN ? n : -ENOSPC;
}

/**
 * spice_channel_file - The file of a pipe's or socket pair's fd.
 * @rb: The rebuild.
 * @d: An fd of type %SPICE_FD_PIPE or %SPICE_FD_SOCKETPAIR, checked.
 * @out: A new reference to the file of @d's end, on success.
 *
 * The first fd of a pipe or pair makes it (a pipe with the data of the
 * pipe's first fd in the image); the others take their end.
 *
 * Return: 0, -EINVAL if two fds of one end have different open flags
 * (one open file cannot have both), -ENOSPC if a pipe's data does not fit
 * in the new pipe, -ENOMEM, -ENFILE, or socketpair(2)'s errors
 * (-EAFNOSUPPORT without AF_UNIX, -EACCES from an LSM, ...).
 */
int spice_channel_file(struct spice_rebuild *rb, const struct spice_image_fd *d,
		       struct file **out)
{
	int end = d->type_flags & SPICE_FD_SECOND_END ? 1 : 0;
	struct spice_image_ref data;
	struct spice_channel *ch;
	int err;

	if (!rb->channels) {
		rb->channels = kvcalloc(rb->img.nr[SPICE_SECT_FDS],
					sizeof(*rb->channels), GFP_KERNEL_ACCOUNT);
		if (!rb->channels)
			return -ENOMEM;
	}
	ch = &rb->channels[d->object];
	if (!ch->end[0]) {
		struct file *files[2];

		/*
		 * Both ends or neither: on failure, @files holds nothing.
		 * Non-blocking until each end gets the flags of its fds.
		 */
		if (d->type == SPICE_FD_PIPE)
			err = create_pipe_files(files, O_NONBLOCK);
		else
			err = spice_make_socketpair(d->type_flags, files);
		if (err)
			return err;
		ch->end[0] = files[0];
		ch->end[1] = files[1];
		data = rb->img.fds[d->object].data;
		if (data.len) {
			err = spice_fill_pipe(rb, files[1], data);
			if (err)
				return err;
		}
	}
	if (ch->taken[end] && ch->flags[end] != d->open_flags)
		return -EINVAL;
	if (!ch->taken[end]) {
		spice_set_end_flags(ch->end[end], d->open_flags);
		ch->taken[end] = true;
		ch->flags[end] = d->open_flags;
	}
	*out = get_file(ch->end[end]);
	return 0;
}

/* Drop the rebuild's own references: an end no fd took closes here. */
void spice_release_channels(struct spice_rebuild *rb)
{
	u64 i, n = rb->img.nr[SPICE_SECT_FDS];

	if (!rb->channels)
		return;
	for (i = 0; i < n; i++) {
		if (rb->channels[i].end[0])
			fput(rb->channels[i].end[0]);
		if (rb->channels[i].end[1])
			fput(rb->channels[i].end[1]);
	}
	kvfree(rb->channels);
	rb->channels = NULL;
}
