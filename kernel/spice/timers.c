// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): interval timers.
 *
 * The three timers of setitimer(2) come back with the time each had left
 * and its interval, counted again from the restore: ITIMER_REAL in real
 * time, ITIMER_VIRTUAL and ITIMER_PROF in the restored process's CPU
 * time.  setitimer() needs no privilege and its values are checked with
 * the image, so nothing here can fail; an image without timers leaves all
 * three disarmed, whatever the caller had armed (exec would keep them).
 */

#include <linux/ktime.h>
#include <linux/time.h>

#include "rebuild.h"

/**
 * spice_commit_itimers - Arm the image's interval timers.
 * @img: The checked image.
 *
 * After the point of no return, once the signal handlers are the image's.
 */
void spice_commit_itimers(const struct spice_image *img)
{
	struct itimerspec64 v = {};
	int which;

	/* The image's order is ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF. */
	for (which = 0; which < SPICE_IMAGE_NR_ITIMERS; which++) {
		if (img->itimers) {
			v.it_value = ns_to_timespec64(img->itimers[which].value_ns);
			v.it_interval =
				ns_to_timespec64(img->itimers[which].interval_ns);
		}
		do_setitimer(which, &v, NULL);
	}
}
