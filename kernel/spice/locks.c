// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): the file locks the process held, set again on its
 * new files before the point of no return.
 */
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>

#include "rebuild.h"

static const unsigned int spice_lock_flags[] = {
	[SPICE_LOCK_FLOCK] = FL_FLOCK,
	[SPICE_LOCK_POSIX] = FL_POSIX,
	[SPICE_LOCK_OFD] = FL_OFDLCK,
};

/**
 * spice_prepare_locks - Set the image's file locks on the new files.
 * @rb: A rebuild whose fd table is prepared.
 *
 * As flock(LOCK_NB) and fcntl(F_SETLK) would set them for the caller: a
 * conflicting lock that another process holds fails the restore instead
 * of being waited for.  A POSIX lock is owned by the new fd table, so that
 * it is the process's once the table is, and goes when the table is put
 * if the restore fails; a flock or OFD lock goes with its file.  On an fd
 * the launcher supplies, a POSIX lock is set too (it is the process's,
 * not the file's), a flock or OFD lock is not: it would belong to the
 * launcher's open file, which holds its own.
 *
 * Return: 0, -EAGAIN if another process holds a conflicting lock, -EINTR
 * on a fatal signal, or locks_set_nowait()'s other errors.
 */
int spice_prepare_locks(struct spice_rebuild *rb)
{
	const struct spice_image_lock *l = rb->img.locks;
	const struct spice_new_fd *n;
	u64 i;
	int err;

	for (i = 0; i < rb->img.nr[SPICE_SECT_LOCKS]; i++, l++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		n = spice_find_new_fd(rb, l->fd);
		if (WARN_ON_ONCE(!n))
			return -EINVAL;
		if (n->supplied && l->kind != SPICE_LOCK_POSIX)
			continue;
		err = locks_set_nowait(n->file, rb->files, spice_lock_flags[l->kind],
				       l->type == SPICE_LOCK_WRITE ? F_WRLCK : F_RDLCK,
				       l->start, l->end);
		if (err)
			return err;
	}
	return 0;
}
