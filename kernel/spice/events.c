// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): eventfds, signalfds, timerfds and epoll instances.
 *
 * They are made before the point of no return, as files that no fd refers
 * to yet, and each epoll instance gets its interest list there too, with
 * epoll_ctl_file() keyed by the fd numbers the restored process will have:
 * every error epoll_ctl(2) can give still returns to the launcher, and a
 * failed restore tears the watches down with the epoll files.  Watches
 * are restored exactly as they were (events as dumped, EPOLLERR and
 * EPOLLHUP included or, for one EPOLLONESHOT disarmed, not).  An epoll
 * instance may watch another (nested epoll): epoll_ctl_file() makes the
 * loop and depth checks epoll_ctl(2) makes, whatever order the watches
 * come in, and readiness propagates as the inner lists fill.
 */

#include <linux/file.h>
#include <linux/fs.h>	/* first: <linux/eventpoll.h> uses struct file */
#include <linux/eventfd.h>
#include <linux/eventpoll.h>
#include <linux/signalfd.h>
#include <linux/timerfd.h>
#include <linux/spice.h>

#include "rebuild.h"

/* A timerfd with the clock, flags, timer and ticks of its image entry. */
static struct file *spice_create_timerfd(const struct spice_image *img,
					 const struct spice_image_fd *d)
{
	const struct spice_image_timerfd *t = spice_image_find_timerfd(img, d->fd);
	struct file *file;
	int flags = 0, err;

	if (WARN_ON_ONCE(!t))
		return ERR_PTR(-EINVAL);
	file = timerfd_file_create(t->clock, d->open_flags & O_NONBLOCK);
	if (IS_ERR(file))
		return file;
	if (t->flags & SPICE_TIMERFD_ABSTIME)
		flags |= TFD_TIMER_ABSTIME;
	if (t->flags & SPICE_TIMERFD_CANCEL_ON_SET)
		flags |= TFD_TIMER_CANCEL_ON_SET;
	err = timerfd_file_restore(file, flags, t->value_ns, t->interval_ns,
				   t->ticks);
	if (err) {
		fput(file);
		return ERR_PTR(err);
	}
	return file;
}

/**
 * spice_create_event_file - Make the eventfd, signalfd, timerfd or epoll
 * file of an image fd.
 * @img: The checked image.
 * @d: An fd of type %SPICE_FD_EVENTFD, %SPICE_FD_SIGNALFD,
 *     %SPICE_FD_TIMERFD or %SPICE_FD_EPOLL, of @img.
 * @out: The file, on success.
 *
 * An eventfd gets its counter and its semaphore and non-blocking modes, a
 * signalfd its mask and non-blocking mode, a timerfd its clock, timer and
 * unread expirations, armed now as timerfd_settime(2) would arm it; an
 * epoll instance starts empty, spice_prepare_epoll() fills it.
 *
 * Return: 0, -ENOMEM or -ENFILE; for a timerfd on an alarm clock -EPERM
 * without CAP_WAKE_ALARM, -ECANCELED if the clock of one armed with
 * TFD_TIMER_CANCEL_ON_SET was set meanwhile, -EOPNOTSUPP on a kernel
 * without timerfd.
 */
int spice_create_event_file(const struct spice_image *img,
			    const struct spice_image_fd *d, struct file **out)
{
	int nonblock = d->open_flags & O_NONBLOCK;
	struct file *file;
	sigset_t mask;

	if (d->type == SPICE_FD_EVENTFD) {
		file = eventfd_file_create(d->pos, nonblock |
					   (d->type_flags & SPICE_EVENTFD_SEMAPHORE ?
					    EFD_SEMAPHORE : 0));
	} else if (d->type == SPICE_FD_SIGNALFD) {
		/* Bit n - 1 for signal n, as the thread masks (64-bit). */
		siginitset(&mask, d->pos);
		file = signalfd_file_create(&mask, nonblock);
	} else if (d->type == SPICE_FD_TIMERFD) {
		file = spice_create_timerfd(img, d);
	} else {
		file = epoll_file_create(nonblock);
	}
	if (IS_ERR(file))
		return PTR_ERR(file);
	*out = file;
	return 0;
}

/**
 * spice_prepare_epoll - Fill the interest lists of the new epoll files.
 * @rb: The rebuild, with its fds prepared and sorted.
 *
 * A watch whose epoll fd the launcher supplied is dropped with that
 * instance; a watch of an fd the launcher supplied watches the
 * launcher's file.
 *
 * Return: 0, or epoll_ctl(2)'s errors: -EPERM (the file cannot be polled),
 * -ELOOP (epoll instances watching each other, or nested too deep),
 * -EINVAL (too many wakeup paths through nested instances), -ENOSPC (over
 * the per-user limit on watches), -ENOMEM.
 */
int spice_prepare_epoll(struct spice_rebuild *rb)
{
	const struct spice_image_epoll_watch *w = rb->img.epoll;
	u64 i, n = rb->img.nr[SPICE_SECT_EPOLL];
	const struct spice_new_fd *ep, *t;
	struct epoll_event ev;
	int err;

	for (i = 0; i < n; i++) {
		ep = spice_find_new_fd(rb, w[i].epfd);
		if (ep->supplied)
			continue;
		t = spice_find_new_fd(rb, w[i].tfd);
		ev.events = (__force __poll_t)w[i].events;
		ev.data = w[i].data;
		err = epoll_ctl_file(ep->file, EPOLL_CTL_ADD, t->file, w[i].tfd,
				     &ev, false, true);
		if (err)
			return err;
	}
	return 0;
}
