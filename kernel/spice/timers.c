// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): interval timers.
 *
 * The three timers of setitimer(2) come back with the time each had left
 * and its interval, counted again from the restore: ITIMER_REAL in real
 * time, ITIMER_VIRTUAL and ITIMER_PROF in the restored process's CPU
 * time.  setitimer() needs no privilege and its values are checked with
 * the image, so nothing here can fail; the caller's are disarmed at the
 * point of no return (exec would keep them), so an image without timers
 * leaves all three disarmed.
 */

#include <linux/ktime.h>
#include <linux/posix-timers.h>
#include <linux/sched/signal.h>

#include "rebuild.h"

/*
 * The caller's interval timers, disarmed at the point of no return: they
 * would fire at the image's signal handlers while the process is rebuilt.
 * A signal one of them queued already stays, as across exec.
 */
void spice_stop_itimers(void)
{
	struct itimerspec64 off = {};
	int which;

	for (which = 0; which < SPICE_IMAGE_NR_ITIMERS; which++)
		do_setitimer(which, &off, NULL);
}

/**
 * spice_commit_itimers - Arm the image's interval timers.
 * @img: The checked image.
 *
 * Last, once the process is rebuilt.  A periodic ITIMER_REAL that expired
 * waits, disarmed, for its SIGALRM to be taken (dequeue_signal() rearms
 * it then): it keeps its interval, and its pending SIGALRM is the image's.
 */
void spice_commit_itimers(const struct spice_image *img)
{
	const struct spice_image_itimer *real;
	struct itimerspec64 v;
	unsigned long flags;
	int which;

	if (!img->itimers)
		return;
	/* The image's order is ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
	for (which = 0; which < SPICE_IMAGE_NR_ITIMERS; which++) {
		v.it_value = ns_to_timespec64(img->itimers[which].value_ns);
		v.it_interval = ns_to_timespec64(img->itimers[which].interval_ns);
		do_setitimer(which, &v, NULL);
	}
	real = &img->itimers[ITIMER_REAL];
	if (!real->value_ns && real->interval_ns &&
	    lock_task_sighand(current, &flags)) {
		current->signal->it_real_incr = ns_to_ktime(real->interval_ns);
		unlock_task_sighand(current, &flags);
	}
}
