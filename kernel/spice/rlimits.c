// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): resource limits.
 *
 * The image's limits replace the caller's, as if the restored process had
 * called setrlimit(2) for each: a hard limit above the caller's needs
 * CAP_SYS_RESOURCE, RLIMIT_NOFILE stays within fs.nr_open, and the LSMs
 * are asked.  All of that is checked before the point of no return; the
 * limits are set right after it, before any memory is mapped, so that
 * every limit the rebuild obeys (RLIMIT_AS, RLIMIT_DATA, RLIMIT_NOFILE) is
 * the one checked beforehand.  An image without limits keeps the caller's.
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/posix-timers.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/security.h>

#include "rebuild.h"

/**
 * spice_prepare_rlimits - Check the image's limits; note what applies.
 * @rb: The rebuild; @rb->rlim gets the limits the restored process will
 *      have (the caller's where the image has none), @rb->caller_rlim
 *      the caller's as they were checked.
 *
 * As do_prlimit(), each check is made under the group leader's task lock,
 * against the limits it protects.
 *
 * Return: 0, -EPERM (a hard limit the caller may not raise, or RLIMIT_NOFILE
 * above fs.nr_open) or an LSM's error.
 */
int spice_prepare_rlimits(struct spice_rebuild *rb)
{
	const struct spice_image_rlimit *lim = rb->img.rlimits;
	struct task_struct *leader = current->group_leader;
	bool may_raise = capable(CAP_SYS_RESOURCE);
	unsigned int r;
	int err = 0;

	BUILD_BUG_ON(RLIM_NLIMITS != SPICE_IMAGE_NR_RLIMITS);
	task_lock(leader);
	memcpy(rb->caller_rlim, current->signal->rlim, sizeof(rb->caller_rlim));
	memcpy(rb->rlim, rb->caller_rlim, sizeof(rb->rlim));
	for (r = 0; lim && r < RLIM_NLIMITS && !err; r++) {
		struct rlimit new = {
			.rlim_cur = min_t(u64, lim[r].cur, RLIM_INFINITY),
			.rlim_max = min_t(u64, lim[r].max, RLIM_INFINITY),
		};

		/* As do_prlimit(): the capability against init_user_ns. */
		if ((r == RLIMIT_NOFILE && new.rlim_max > sysctl_nr_open) ||
		    (new.rlim_max > rb->caller_rlim[r].rlim_max && !may_raise))
			err = -EPERM;
		else
			err = security_task_setrlimit(current, r, &new);
		rb->rlim[r] = new;
	}
	task_unlock(leader);
	return err;
}

/**
 * spice_commit_rlimits - Past the point of no return, before any mapping.
 * @rb: The rebuild.
 *
 * A limit that another process changed with prlimit() since it was
 * checked keeps that value, as if the change had come after the restore:
 * the image's would have been checked against a limit no longer in force.
 */
void spice_commit_rlimits(const struct spice_rebuild *rb)
{
	struct task_struct *leader = current->group_leader;
	struct rlimit *live = current->signal->rlim;
	u64 cpu = RLIM_INFINITY;
	unsigned int r;

	lockdep_assert_held_write(&current->signal->exec_update_lock);
	if (!rb->img.rlimits)
		return;
	task_lock(leader);
	for (r = 0; r < RLIM_NLIMITS; r++) {
		if (memcmp(&live[r], &rb->caller_rlim[r], sizeof(live[r])))
			continue;
		live[r] = rb->rlim[r];
		if (r == RLIMIT_CPU)
			cpu = live[r].rlim_cur;
	}
	task_unlock(leader);
	/* As do_prlimit(): arm the CPU-time limit's process timer. */
	if (cpu != RLIM_INFINITY && IS_ENABLED(CONFIG_POSIX_TIMERS))
		update_rlimit_cpu(leader, cpu);
}
