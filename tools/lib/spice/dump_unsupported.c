// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * State a process can hold that an image does not restore yet: POSIX
 * timers (file locks are found with the fds).  A restore without them
 * would go on as if they had never been, so the dump is refused, naming
 * what was found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_internal.h"

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
