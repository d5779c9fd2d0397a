// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): eventfds and epoll instances.
 *
 * Both are made before the point of no return, as files that no fd refers
 * to yet.  An epoll interest list can only be refilled after it, with
 * do_epoll_ctl() on the restored fd table, so everything that call could
 * refuse is checked first: the target can be polled and is not an epoll
 * instance (nested epoll is not restored, so neither the loop check nor
 * the wakeup-path check can fail).  What remains is -ENOMEM and the
 * per-user limit on watches (-ENOSPC), which kill the restored process.
 */

#include <linux/file.h>
#include <linux/fs.h>	/* first: <linux/eventpoll.h> uses struct file */
#include <linux/eventfd.h>
#include <linux/eventpoll.h>
#include <linux/poll.h>
#include <linux/spice.h>

#include "rebuild.h"

/**
 * spice_create_event_file - Make the eventfd or epoll file of an image fd.
 * @d: An fd of type %SPICE_FD_EVENTFD or %SPICE_FD_EPOLL, checked.
 * @out: The file, on success.
 *
 * An eventfd gets its counter and its semaphore and non-blocking modes;
 * an epoll instance starts empty, spice_commit_epoll() fills it.
 *
 * Return: 0 or -ENOMEM.
 */
int spice_create_event_file(const struct spice_image_fd *d, struct file **out)
{
	int nonblock = d->open_flags & O_NONBLOCK;
	struct file *file;

	if (d->type == SPICE_FD_EVENTFD)
		file = eventfd_file_create(d->pos, nonblock |
					   (d->type_flags & SPICE_EVENTFD_SEMAPHORE ?
					    EFD_SEMAPHORE : 0));
	else
		file = epoll_file_create(nonblock);
	if (IS_ERR(file))
		return PTR_ERR(file);
	*out = file;
	return 0;
}

/**
 * spice_prepare_epoll - Check that every epoll watch can be restored.
 * @rb: The rebuild, with its fds prepared and sorted.
 *
 * A watch whose epoll fd the launcher supplied is dropped with that
 * instance; a watch of an fd the launcher supplied watches the
 * launcher's file.
 *
 * Return: 0, -EPERM if a watched file cannot be polled (as epoll_ctl(2)),
 * or -EOPNOTSUPP if it is an epoll instance.
 */
int spice_prepare_epoll(struct spice_rebuild *rb)
{
	const struct spice_image_epoll_watch *w = rb->img.epoll;
	u64 i, n = rb->img.nr[SPICE_SECT_EPOLL];
	const struct spice_new_fd *ep, *t;

	for (i = 0; i < n; i++) {
		ep = spice_find_new_fd(rb, w[i].epfd);
		if (ep->supplied)
			continue;
		t = spice_find_new_fd(rb, w[i].tfd);
		/* ep->file is an epoll file: same f_op, another epoll. */
		if (t->file->f_op == ep->file->f_op)
			return -EOPNOTSUPP;
		if (!file_can_poll(t->file))
			return -EPERM;
	}
	return 0;
}

/**
 * spice_commit_epoll - Refill the interest lists of the restored epolls.
 * @rb: A prepared rebuild, past the point of no return, with the fds of
 *      the restored process installed.
 *
 * Return: 0, -ENOMEM, or -ENOSPC over the per-user watch limit.
 */
int spice_commit_epoll(struct spice_rebuild *rb)
{
	const struct spice_image_epoll_watch *w = rb->img.epoll;
	u64 i, n = rb->img.nr[SPICE_SECT_EPOLL];
	struct epoll_event ev;
	int err;

	for (i = 0; i < n; i++) {
		if (spice_find_new_fd(rb, w[i].epfd)->supplied)
			continue;
		ev.events = (__force __poll_t)w[i].events;
		ev.data = w[i].data;
		err = do_epoll_ctl(w[i].epfd, EPOLL_CTL_ADD, w[i].tfd, &ev, false);
		if (err)
			return err;
	}
	return 0;
}
