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
#include <linux/posix-timers.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/security.h>

#include "rebuild.h"

/**
 * spice_prepare_rlimits - Check the image's limits; note what applies.
 * @rb: The rebuild; @rb->rlim gets the limits the restored process will
 *      have (the caller's where the image has none).
 *
 * Return: 0, -EPERM (a hard limit the caller may not raise, or RLIMIT_NOFILE
 * above fs.nr_open) or an LSM's error.
 */
int spice_prepare_rlimits(struct spice_rebuild *rb)
{
	const struct spice_image_rlimit *lim = rb->img.rlimits;
	struct rlimit *cur = current->signal->rlim;
	unsigned int r;
	int err;

	BUILD_BUG_ON(RLIM_NLIMITS != SPICE_IMAGE_NR_RLIMITS);
	task_lock(current->group_leader);
	memcpy(rb->rlim, cur, sizeof(rb->rlim));
	task_unlock(current->group_leader);
	if (!lim)
		return 0;

	for (r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit new = {
			.rlim_cur = min_t(u64, lim[r].cur, RLIM_INFINITY),
			.rlim_max = min_t(u64, lim[r].max, RLIM_INFINITY),
		};

		if (r == RLIMIT_NOFILE && new.rlim_max > sysctl_nr_open)
			return -EPERM;
		/* As do_prlimit(): against init_user_ns. */
		if (new.rlim_max > rb->rlim[r].rlim_max && !capable(CAP_SYS_RESOURCE))
			return -EPERM;
		err = security_task_setrlimit(current, r, &new);
		if (err)
			return err;
		rb->rlim[r] = new;
	}
	return 0;
}

/* Past the point of no return, before any mapping: set them. */
void spice_commit_rlimits(const struct spice_rebuild *rb)
{
	struct task_struct *leader = current->group_leader;
	u64 cpu = rb->rlim[RLIMIT_CPU].rlim_cur;

	if (!rb->img.rlimits)
		return;
	task_lock(leader);
	memcpy(current->signal->rlim, rb->rlim, sizeof(rb->rlim));
	task_unlock(leader);
	/* As do_prlimit(): arm the CPU-time limit's process timer. */
	if (cpu != RLIM_INFINITY && IS_ENABLED(CONFIG_POSIX_TIMERS))
		update_rlimit_cpu(leader, cpu);
}
