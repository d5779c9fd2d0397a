// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's side of a process's timers: the three interval timers of
 * setitimer(2), asked of the stopped process with getitimer(), which
 * answers only for its caller; and its POSIX timers, as /proc/PID/timers
 * lists them, with timer_gettime() in the process.  The time each has
 * left is what the restored process gets, counted from its restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dump_internal.h"

_Static_assert(ITIMER_REAL == 0 && ITIMER_PROF + 1 == SPICE_IMAGE_NR_ITIMERS,
	       "one image entry per interval timer, in order");

static uint64_t timeval_ns(const int64_t tv[2])
{
	return (uint64_t)tv[0] * 1000000000ULL + (uint64_t)tv[1] * 1000ULL;
}

int dump_itimers(struct dump *d)
{
	static const char *const names[] = {
		"ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF",
	};
	struct spice_image_itimer it[SPICE_IMAGE_NR_ITIMERS];
	struct dump_thread *t = &d->threads[0];
	struct { int64_t interval[2], value[2]; } v;
	uint64_t scratch = dump_scratch(t, sizeof(v));
	long ret;
	int which;

	for (which = 0; which < SPICE_IMAGE_NR_ITIMERS; which++) {
		ret = dump_inject(d, t, SYS_getitimer, which, scratch, 0, 0);
		if (ret || dump_read_mem(d, scratch, &v, sizeof(v)))
			return dump_fail(d, ret < 0 ? (int)ret : -EIO,
					 "getitimer(%s) in the process", names[which]);
		it[which].value_ns = timeval_ns(v.value);
		it[which].interval_ns = timeval_ns(v.interval);
	}
	return spice_writer_set_itimers(d->w, it);
}

/* The index of thread @tid in the dump, or -1. */
static int thread_index(const struct dump *d, pid_t tid)
{
	int i;

	for (i = 0; i < d->nr_threads; i++)
		if (d->threads[i].tid == tid)
			return i;
	return -1;
}

static int is_timer_clock(int clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
	       clock == CLOCK_BOOTTIME || clock == CLOCK_REALTIME_ALARM ||
	       clock == CLOCK_BOOTTIME_ALARM || clock == CLOCK_TAI;
}

/*
 * The timer whose /proc/PID/timers record starts at @rec ("ID: ...",
 * "signal: ...", "notify: ...", "ClockID: ..."); its length in *@used.
 */
static int parse_timer(struct dump *d, const char *rec, int *used,
		       struct spice_image_posix_timer *t)
{
	char kind[16], target[8];
	unsigned long long value;
	int who, idx;

	*t = (struct spice_image_posix_timer){ .thread = SPICE_IMAGE_NONE };
	if (sscanf(rec, "ID: %d signal: %d/%llx notify: %15[a-z]/%7[a-z].%d ClockID: %d%n",
		   &t->id, &t->signo, &value, kind, target, &who, &t->clock,
		   used) != 7)
		return dump_fail(d, -EINVAL, "/proc/%d/timers: cannot parse %.40s",
				 d->pid, rec);
	t->value = value;
	if (!is_timer_clock(t->clock))
		return dump_fail(d, -EOPNOTSUPP,
				 "POSIX timer %d: clock %d (CPU time) is not restored",
				 t->id, t->clock);
	if (!strcmp(kind, "none")) {
		t->notify = SIGEV_NONE;
		/* timer_create() keeps whatever it was given here, unused. */
		if (t->signo < 0 || t->signo > 64)
			t->signo = 0;
	} else if (!strcmp(kind, "signal")) {
		t->notify = SIGEV_SIGNAL;
	} else if (!strcmp(kind, "thread")) {
		t->notify = SIGEV_THREAD;
	} else {
		return dump_fail(d, -EOPNOTSUPP, "POSIX timer %d: notify %s",
				 t->id, kind);
	}
	if (!strcmp(target, "tid")) {
		idx = thread_index(d, who);
		if (idx < 0)
			return dump_fail(d, -EOPNOTSUPP,
					 "POSIX timer %d: its thread %d is not in the process",
					 t->id, who);
		t->notify |= SIGEV_THREAD_ID;
		t->thread = idx;
	}
	return 0;
}

/* Its time left and interval, from timer_gettime() in the process. */
static int read_timer(struct dump *d, struct spice_image_posix_timer *t)
{
	struct dump_thread *main_thread = &d->threads[0];
	struct { int64_t interval[2], value[2]; } v;
	uint64_t scratch = dump_scratch(main_thread, sizeof(v));
	long ret;

	ret = dump_inject(d, main_thread, SYS_timer_gettime, t->id, scratch, 0, 0);
	if (ret || dump_read_mem(d, scratch, &v, sizeof(v)))
		return dump_fail(d, ret < 0 ? (int)ret : -EIO,
				 "timer_gettime(%d) in the process", t->id);
	t->value_ns = v.value[0] * 1000000000ULL + v.value[1];
	t->interval_ns = v.interval[0] * 1000000000ULL + v.interval[1];
	return 0;
}

static int cmp_timer_id(const void *a, const void *b)
{
	const struct spice_image_posix_timer *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The whole of /proc/PID/timers, NUL-terminated, or NULL with *@err set. */
static char *read_timers_file(struct dump *d, int *err)
{
	size_t cap = 1 << 16, len = 0;
	char path[64], *buf = NULL, *p;
	ssize_t r;
	int fd;

	*err = 0;
	snprintf(path, sizeof(path), "/proc/%d/timers", d->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Without CONFIG_CHECKPOINT_RESTORE: a kernel that says none. */
		*err = errno == ENOENT ? 0 : dump_fail(d, -errno, "%s", path);
		return NULL;
	}
	for (;;) {
		if (len == cap || !buf) {
			cap = buf ? cap * 2 : cap;
			p = realloc(buf, cap + 1);
			if (!p) {
				*err = -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = r < 0 ? dump_fail(d, -errno, "%s", path) : 0;
			break;
		}
		len += r;
	}
	close(fd);
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * The POSIX timers of /proc/PID/timers (which lists them newest first),
 * in id order, with their times.
 */
int dump_posix_timers(struct dump *d)
{
	struct spice_image_posix_timer *t = NULL, *q;
	int n = 0, i, used, err;
	char *buf, *s;

	buf = read_timers_file(d, &err);
	if (!buf)
		return err;
	for (s = strstr(buf, "ID: "); s; s = strstr(s + used, "ID: ")) {
		q = realloc(t, (n + 1) * sizeof(*t));
		err = q ? parse_timer(d, s, &used, &q[n]) : -ENOMEM;
		if (q)
			t = q;
		if (err)
			break;
		n++;
	}
	free(buf);
	if (!err)
		qsort(t, n, sizeof(*t), cmp_timer_id);
	for (i = 0; i < n && !err; i++) {
		err = read_timer(d, &t[i]);
		if (!err)
			err = spice_writer_add_posix_timer(d->w, &t[i]);
	}
	free(t);
	return err;
}
