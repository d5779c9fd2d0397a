// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's side of a process's timers: the three interval timers of
 * setitimer(2), asked of the stopped process with getitimer(), which
 * answers only for its caller.  The time each has left is what the
 * restored process gets, counted from its restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>

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
