// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The timers of a process's timerfds, from /proc/PID/fdinfo: the clock,
 * the settime flags, the time left, the interval and the expirations not
 * read, all from one read.  A timerfd_gettime() in the stopped process
 * comes first: it accounts the expirations of a periodic timer that fired
 * since it was last read and re-arms it, which fdinfo alone would show
 * expired, with no time left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <spice/image.h>
#include "dump_internal.h"

/* Reads before a timer that keeps expiring in between is taken as due. */
#define TIMERFD_TRIES	10

/* timerfd_gettime() in the process: whether the timer is armed. */
static int timerfd_rearm(struct dump *d, int fd, int *armed)
{
	struct dump_thread *main_thread = &d->threads[0];
	struct { int64_t interval[2], value[2]; } v;
	uint64_t scratch = dump_scratch(main_thread, sizeof(v));
	long ret;

	ret = dump_inject(d, main_thread, SYS_timerfd_gettime, fd, scratch, 0, 0);
	if (ret || dump_read_mem(d, scratch, &v, sizeof(v)))
		return dump_fail(d, ret < 0 ? (int)ret : -EIO,
				 "fd %d: timerfd_gettime() in the process", fd);
	*armed = v.value[0] || v.value[1];
	return 0;
}

/* The fdinfo of timerfd @fd into @t. */
static int timerfd_info(struct dump *d, int fd, struct spice_image_timerfd *t,
			unsigned int *flags)
{
	unsigned long long ticks, v_s, v_ns, i_s, i_ns;
	char name[64], info[1024], *p;
	int n;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	n = dump_read_file(d->pid, name, info, sizeof(info));
	if (n < 0)
		return dump_fail(d, n, "fd %d: fdinfo", fd);
	p = strstr(info, "\nclockid:");
	if (!p || sscanf(p, "\nclockid: %d\nticks: %llu\nsettime flags: %o\n"
			 "it_value: (%llu, %llu)\nit_interval: (%llu, %llu)",
			 &t->clock, &ticks, flags, &v_s, &v_ns, &i_s, &i_ns) != 7)
		return dump_fail(d, -EINVAL, "fd %d: cannot parse a timerfd's fdinfo", fd);
	t->ticks = ticks;
	t->value_ns = v_s * 1000000000ULL + v_ns;
	t->interval_ns = i_s * 1000000000ULL + i_ns;
	return 0;
}

static int dump_timerfd(struct dump *d, int fd)
{
	struct spice_image_timerfd t = { .fd = fd };
	unsigned int flags;
	int armed = 0, tries, err;

	/*
	 * A timer shown with no time left that timerfd_gettime() saw armed,
	 * or a periodic one, expired about then, its expiration maybe not
	 * counted yet: again, once it has been.  An armed one that keeps
	 * doing so is due: 1 ns left.  A periodic one never seen armed was
	 * disarmed with an interval set (timerfd_settime() keeps it).
	 */
	for (tries = 0; tries < TIMERFD_TRIES; tries++) {
		err = timerfd_rearm(d, fd, &armed);
		if (!err)
			err = timerfd_info(d, fd, &t, &flags);
		if (err)
			return err;
		if (t.value_ns || (!armed && !t.interval_ns))
			break;
		usleep(1000);
	}
	if (!t.value_ns && armed)
		t.value_ns = 1;
	if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return dump_fail(d, -EOPNOTSUPP, "fd %d: timerfd settime flags %#o", fd,
				 flags);
	/*
	 * A clock change cancels such a timer and counts an expiration that
	 * read() turns into ECANCELED; fdinfo does not say which.  Expired
	 * once with time still left, a one-shot one was cancelled.
	 */
	if ((flags & TFD_TIMER_CANCEL_ON_SET) && (flags & TFD_TIMER_ABSTIME) &&
	    (t.clock == CLOCK_REALTIME || t.clock == CLOCK_REALTIME_ALARM) &&
	    t.ticks && t.value_ns && !t.interval_ns)
		return dump_fail(d, -EOPNOTSUPP,
				 "fd %d: a timerfd cancelled by a clock change is not restored",
				 fd);
	t.flags = (flags & TFD_TIMER_ABSTIME ? SPICE_TIMERFD_ABSTIME : 0) |
		  (flags & TFD_TIMER_CANCEL_ON_SET ? SPICE_TIMERFD_CANCEL_ON_SET : 0);
	err = spice_writer_add_timerfd(d->w, &t);
	return err ? dump_fail(d, err, "fd %d: timerfd", fd) : 0;
}

int dump_timerfds(struct dump *d, const struct dump_fd *e, int nr)
{
	int i, err = 0;

	/* A dup()ed fd shares its first fd's timer. */
	for (i = 0; i < nr && !err; i++)
		if (e[i].f.type == SPICE_FD_TIMERFD && !e[i].f.shares)
			err = dump_timerfd(d, e[i].f.fd);
	return err;
}
