// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * State a process can hold that an image does not restore yet: pending
 * signals and POSIX timers (file locks are found with the fds).  A
 * restore without them would go on as if they had never been, so the dump
 * is refused, naming what was found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_internal.h"

/* The hexadecimal signal set after @key in a /proc status file, or 0. */
static uint64_t status_sigset(const char *status, const char *key)
{
	const char *s = strstr(status, key);

	return s ? strtoull(s + strlen(key), NULL, 16) : 0;
}

/* Its lowest signal, for the message. */
static int first_signal(uint64_t set)
{
	return __builtin_ctzll(set) + 1;
}

/*
 * Signals queued to the process or to one of its threads and not yet
 * delivered: blocked ones, or ones that arrived while it was stopped.
 */
int dump_refuse_pending_signals(struct dump *d)
{
	char name[64], status[4096];
	uint64_t set;
	int i, n;

	for (i = 0; i < d->nr_threads; i++) {
		snprintf(name, sizeof(name), "task/%d/status", d->threads[i].tid);
		n = dump_read_file(d->pid, name, status, sizeof(status));
		if (n < 0)
			return dump_fail(d, n, "thread %d: status", d->threads[i].tid);
		set = status_sigset(status, "\nShdPnd:");
		if (set)
			return dump_fail(d, -EOPNOTSUPP,
					 "a pending signal %d of the process (%#llx) is not restored",
					 first_signal(set), (unsigned long long)set);
		set = status_sigset(status, "\nSigPnd:");
		if (set)
			return dump_fail(d, -EOPNOTSUPP,
					 "thread %d: a pending signal %d (%#llx) is not restored",
					 d->threads[i].tid, first_signal(set),
					 (unsigned long long)set);
	}
	return 0;
}

/* POSIX timers, as /proc/PID/timers lists them ("ID: n" first). */
int dump_refuse_posix_timers(struct dump *d)
{
	char timers[4096], *line, *end;
	int n;

	n = dump_read_file(d->pid, "timers", timers, sizeof(timers));
	/* Without CONFIG_CHECKPOINT_RESTORE the file is missing: none known. */
	if (n <= 0)
		return n == -ENOENT || !n ? 0 : dump_fail(d, n, "/proc/%d/timers", d->pid);
	line = strstr(timers, "ID: ");
	if (!line)
		return 0;
	end = strchr(line, '\n');
	if (end)
		*end = '\0';
	return dump_fail(d, -EOPNOTSUPP, "POSIX timer %s is not restored", line + 4);
}
