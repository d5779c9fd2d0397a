// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): interval timers and POSIX timers.
 *
 * The three timers of setitimer(2) come back with the time each had left
 * and its interval, counted again from the restore: ITIMER_REAL in real
 * time, ITIMER_VIRTUAL and ITIMER_PROF in the restored process's CPU
 * time.  setitimer() needs no privilege and its values are checked with
 * the image, so nothing here can fail; the caller's are disarmed at the
 * point of no return (exec would keep them), so an image without timers
 * leaves all three disarmed.
 *
 * POSIX timers come back with their ids, clocks, notification, signal and
 * value, the time each had left and its interval, counted again from the
 * restore.  They are made before the point of no return, as timer_create()
 * would make them for the caller, and installed after it, once the
 * caller's own timers are gone and the threads they may signal exist.
 */

#include <linux/ktime.h>
#include <linux/posix-timers.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

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

/**
 * spice_prepare_posix_timers - Make the image's POSIX timers, not installed.
 * @rb: The rebuild; @rb->posix_timers gets one timer per image entry.
 *
 * As timer_create() would make them for the caller: each one's signal
 * entry counts against the caller's RLIMIT_SIGPENDING, and an alarm
 * clock needs CAP_WAKE_ALARM.
 *
 * Return: 0, -EAGAIN (over RLIMIT_SIGPENDING, or no memory for a timer),
 * -EPERM (an alarm clock without CAP_WAKE_ALARM), -EOPNOTSUPP (an alarm
 * clock without an RTC) or -ENOMEM.
 */
int spice_prepare_posix_timers(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	u64 i, n = img->nr[SPICE_SECT_POSIX_TIMERS];
	struct k_itimer *timer;
	sigval_t value;

	if (!n)
		return 0;
	rb->posix_timers = kvcalloc(n, sizeof(*rb->posix_timers),
				    GFP_KERNEL_ACCOUNT);
	if (!rb->posix_timers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct spice_image_posix_timer *t = &img->posix_timers[i];

		value.sival_ptr = u64_to_user_ptr(t->value);
		timer = posix_timer_prepare(t->clock, t->notify, t->signo, value);
		if (IS_ERR(timer))
			return PTR_ERR(timer);
		rb->posix_timers[i] = timer;
	}
	return 0;
}

/**
 * spice_commit_posix_timers - Install and arm the image's POSIX timers.
 * @rb: A rebuild past its point of no return, its threads made; the
 *      caller's own timers are gone (posixtimer_exec()).
 */
void spice_commit_posix_timers(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	struct itimerspec64 setting;
	struct pid *pid;
	u64 i;

	for (i = 0; i < img->nr[SPICE_SECT_POSIX_TIMERS]; i++) {
		const struct spice_image_posix_timer *t = &img->posix_timers[i];

		if (t->thread == SPICE_IMAGE_NONE)
			pid = task_tgid(current);
		else if (!t->thread)
			pid = task_pid(current);
		else
			pid = task_pid(rb->new_threads[t->thread - 1]);
		setting.it_value = ns_to_timespec64(t->value_ns);
		setting.it_interval = ns_to_timespec64(t->interval_ns);
		posix_timer_install(rb->posix_timers[i], t->id, pid, &setting);
		rb->posix_timers[i] = NULL;
	}
}

/* The timers never installed: the call failed before it could. */
void spice_release_posix_timers(struct spice_rebuild *rb)
{
	u64 i;

	for (i = 0; rb->posix_timers && i < rb->img.nr[SPICE_SECT_POSIX_TIMERS]; i++)
		if (rb->posix_timers[i])
			posix_timer_discard(rb->posix_timers[i]);
	kvfree(rb->posix_timers);
	rb->posix_timers = NULL;
}
