// SPDX-License-Identifier: GPL-2.0
/*
 * The order in which a process first touched its pages, for spice record:
 * the x86 page-fault tracepoints (exceptions:page_fault_user, and
 * page_fault_kernel for a system call touching user memory) traced for us
 * and the children we fork (set_event_pid with the event-fork option).
 * Only the faults after the child's restore count: the spice_restore_done
 * event marks where its launcher's own faults end.  Without tracefs the
 * working set stays in address order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include "commands.h"
#include "touch_order.h"

#define TRACEFS "/sys/kernel/tracing"

static const char *const events[] = {
	"events/exceptions/page_fault_user/enable",
	"events/exceptions/page_fault_kernel/enable",
	"events/spice/spice_restore_done/enable",
};

static int tracefs_write(const char *file, const char *s)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		err = -errno;
	close(fd);
	return err;
}

int touch_trace_start(void)
{
	char pid[16];
	unsigned int i;
	int err;

	if (access(TRACEFS "/events", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	snprintf(pid, sizeof(pid), "%d", getpid());
	err = tracefs_write("set_event_pid", pid);
	if (!err)
		err = tracefs_write("options/event-fork", "1");
	if (!err)
		err = tracefs_write("trace", "");
	for (i = 0; !err && i < ARRAY_SIZE(events); i++)
		err = tracefs_write(events[i], "1");
	if (err)
		touch_trace_stop();
	return err;
}

void touch_trace_stop(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(events); i++)
		tracefs_write(events[i], "0");
	tracefs_write("options/event-fork", "0");
	tracefs_write("set_event_pid", "");
}

int touch_trace_read(pid_t pid, uint64_t **addrs, size_t *nr)
{
	FILE *f = fopen(TRACEFS "/trace", "re");
	size_t n = 0, cap = 0;
	unsigned long long a;
	char line[512], *p, *end;
	uint64_t *v = NULL, *q;
	long who;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* "           <comm>-<pid>  [cpu] ... page_fault_user: address=0x..." */
		p = strchr(line, '[');
		while (p && p > line && p[-1] == ' ')
			p--;
		while (p && p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		if (!p)
			continue;
		who = strtol(p, &end, 10);
		if (end == p || who != pid)
			continue;
		if (strstr(line, " spice_restore_done: ")) {
			n = 0;	/* what came before was the launcher's */
			continue;
		}
		p = strstr(line, ": address=");
		if (!p || !strstr(line, " page_fault_") || sscanf(p, ": address=%llx", &a) != 1)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			q = realloc(v, cap * sizeof(*v));
			if (!q) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = q;
		}
		v[n++] = a;
	}
	fclose(f);
	*addrs = v;
	*nr = n;
	return 0;
}
