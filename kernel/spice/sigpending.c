// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): pending signals.
 *
 * Each signal the image records as pending, for a thread or for the
 * process, is pending again after the restore with its siginfo, in its
 * queue's order, as if it had been sent while blocked.  A process may
 * queue any signal with any information to itself (rt_tgsigqueueinfo(2)
 * does for the caller's own pid), so this grants nothing; what it costs is
 * charged as sigqueue(3) would charge it: each entry counts against the
 * caller's RLIMIT_SIGPENDING, and a real-time signal over that limit fails
 * the call with EAGAIN.  The entries are allocated before the point of no
 * return and only queued after it, once the threads exist, which cannot
 * fail.
 */

#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "rebuild.h"

/**
 * spice_prepare_sigpending - Allocate the queue entries of the signals.
 * @rb: The rebuild; @rb->sigqueues gets one entry per pending signal.
 *
 * Return: 0, -EAGAIN (a real-time signal over the caller's
 * RLIMIT_SIGPENDING, or no memory for an entry) or -ENOMEM.
 */
int spice_prepare_sigpending(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	u64 i, n = img->nr[SPICE_SECT_SIGNALS];
	kernel_siginfo_t info;

	if (!n)
		return 0;
	rb->sigqueues = kvcalloc(n, sizeof(*rb->sigqueues), GFP_KERNEL_ACCOUNT);
	if (!rb->sigqueues)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(&info, img->signals[i].info, sizeof(info));
		rb->sigqueues[i] = sigqueue_alloc_info(&info);
		if (!rb->sigqueues[i])
			return -EAGAIN;
	}
	return 0;
}

/**
 * spice_commit_sigpending - Make the image's signals pending.
 * @rb: A rebuild past its point of no return, its threads made.
 *
 * A signal that no thread blocks wakes one that takes it, as sending it
 * would; the new threads take theirs when they first run.
 */
void spice_commit_sigpending(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	struct task_struct *t;
	u64 i;
	u32 k;

	for (i = 0; i < img->nr[SPICE_SECT_SIGNALS]; i++) {
		k = img->signals[i].thread;
		t = (k == SPICE_IMAGE_NONE || !k) ? current : rb->new_threads[k - 1];
		sigqueue_queue_info(rb->sigqueues[i], t,
				    k == SPICE_IMAGE_NONE ? PIDTYPE_TGID : PIDTYPE_PID);
		rb->sigqueues[i] = NULL;
	}
}

/* The entries never queued: the call failed before it could. */
void spice_release_sigpending(struct spice_rebuild *rb)
{
	u64 i;

	for (i = 0; rb->sigqueues && i < rb->img.nr[SPICE_SECT_SIGNALS]; i++)
		if (rb->sigqueues[i])
			sigqueue_free_info(rb->sigqueues[i]);
	kvfree(rb->sigqueues);
	rb->sigqueues = NULL;
}
