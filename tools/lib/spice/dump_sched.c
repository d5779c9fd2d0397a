// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread's scheduling state, read from outside: its policy and
 * real-time priority (sched_getattr()), its nice value (getpriority()).
 * What an image cannot hold is refused by name: SCHED_DEADLINE and
 * sched_ext policies, utilization clamps, a custom time slice and an I/O
 * priority set with ioprio_set().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "dump_internal.h"

/* struct sched_attr, as sched_getattr(2) fills its first 56 bytes. */
struct dump_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

#define DUMP_SCHED_FLAG_RESET_ON_FORK	0x01
#define DUMP_UCLAMP_MAX			1024
#define DUMP_IOPRIO_WHO_PROCESS		1

static int rt_policy(uint32_t policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/*
 * The minimum utilization clamp a thread that set none has: zero, or for
 * a real-time one kernel.sched_util_clamp_min_rt_default (1024 unless
 * changed); without CONFIG_UCLAMP_TASK none is reported.
 */
static uint32_t default_util_min(uint32_t policy)
{
	unsigned int v = DUMP_UCLAMP_MAX;
	FILE *f;

	if (!rt_policy(policy))
		return 0;
	f = fopen("/proc/sys/kernel/sched_util_clamp_min_rt_default", "re");
	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = DUMP_UCLAMP_MAX;
		fclose(f);
	}
	return v;
}

static int clamps_set(const struct dump_sched_attr *a)
{
	/* Both zero: a kernel that reports no clamps. */
	if (!a->util_min && !a->util_max)
		return 0;
	return a->util_max != DUMP_UCLAMP_MAX || a->util_min != default_util_min(a->policy);
}

/*
 * The time slice of a fair thread that asked for none: the dumper's own,
 * if it is a fair thread itself; 0 when it cannot tell.
 */
static uint64_t default_slice(void)
{
	struct dump_sched_attr a = { 0 };

	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) || rt_policy(a.policy))
		return 0;
	return a.runtime;
}

int dump_thread_sched(struct dump *d, pid_t tid, struct spice_image_thread *it)
{
	struct dump_sched_attr a = { 0 };
	uint64_t slice;
	long ioprio;
	int nice;

	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0))
		return dump_fail(d, -errno, "thread %d: sched_getattr", tid);
	if (a.policy != SCHED_OTHER && a.policy != SCHED_BATCH && a.policy != SCHED_IDLE &&
	    !rt_policy(a.policy))
		return dump_fail(d, -EOPNOTSUPP,
				 "thread %d: scheduling policy %u is not restored", tid, a.policy);
	if (clamps_set(&a))
		return dump_fail(d, -EOPNOTSUPP,
				 "thread %d: utilization clamps (%u-%u) are not restored",
				 tid, a.util_min, a.util_max);
	slice = rt_policy(a.policy) ? 0 : default_slice();
	if (slice && a.runtime && a.runtime != slice)
		return dump_fail(d, -EOPNOTSUPP,
				 "thread %d: a time slice of %llu ns is not restored",
				 tid, (unsigned long long)a.runtime);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, tid);
	if (errno)
		return dump_fail(d, -errno, "thread %d: getpriority", tid);
	/* Zero when none was set (or no CONFIG_BLOCK, ENOSYS). */
	ioprio = syscall(SYS_ioprio_get, DUMP_IOPRIO_WHO_PROCESS, tid);
	if (ioprio < 0 && errno != ENOSYS)
		return dump_fail(d, -errno, "thread %d: ioprio_get", tid);
	if (ioprio > 0)
		return dump_fail(d, -EOPNOTSUPP,
				 "thread %d: an I/O priority set with ioprio_set() (%#lx) is not restored",
				 tid, ioprio);
	it->sched_policy = a.policy;
	if (a.flags & DUMP_SCHED_FLAG_RESET_ON_FORK)
		it->sched_policy |= SCHED_RESET_ON_FORK;
	it->sched_priority = a.priority;
	it->nice = nice;
	return 0;
}
