// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): each thread's scheduling policy, real-time priority
 * and nice value.
 *
 * Checked before the point of no return as sched_setattr(2) checks a
 * caller changing its own (user_check_sched_setscheduler()), against the
 * restored process's RLIMIT_NICE and RLIMIT_RTPRIO, which the caller could
 * have set first, and asked of the LSMs; set after it on each thread
 * before the thread first runs.
 */

#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>
#include <linux/security.h>
#include <uapi/linux/sched/types.h>

#include "rebuild.h"

static u32 spice_policy(const struct spice_image_thread *t)
{
	return t->sched_policy & ~SCHED_RESET_ON_FORK;
}

static bool spice_rt_policy(u32 policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

static bool spice_fair_policy(u32 policy)
{
	return policy == SCHED_NORMAL || policy == SCHED_BATCH;
}

/* The scheduling state a thread starts from, as the checks see it. */
struct spice_sched_base {
	u32 policy;
	u32 rt_priority;
	int nice;
	bool reset_on_fork;
};

/* As is_nice_reduction(), with the restored process's RLIMIT_NICE. */
static bool spice_nice_allowed(const struct spice_rebuild *rb, int nice)
{
	return nice_to_rlimit(nice) <= rb->rlim[RLIMIT_NICE].rlim_cur;
}

/*
 * What sched_fork() leaves a thread that @parent's state makes: with
 * reset-on-fork, a real-time one becomes SCHED_NORMAL at nice 0 and a
 * negative nice value 0, and the flag goes.
 */
static struct spice_sched_base spice_forked(const struct spice_sched_base *parent)
{
	struct spice_sched_base b = *parent;

	if (!b.reset_on_fork)
		return b;
	if (spice_rt_policy(b.policy)) {
		b.policy = SCHED_NORMAL;
		b.rt_priority = 0;
		b.nice = 0;
	} else if (b.nice < 0) {
		b.nice = 0;
	}
	b.reset_on_fork = false;
	return b;
}

/*
 * Would sched_setattr() and setpriority() let a thread in state @b go to
 * @t's unprivileged (user_check_sched_setscheduler(), can_nice())?
 */
static bool spice_sched_unprivileged(const struct spice_rebuild *rb,
				     const struct spice_sched_base *b,
				     const struct spice_image_thread *t)
{
	u32 policy = spice_policy(t);
	unsigned long rtprio = rb->rlim[RLIMIT_RTPRIO].rlim_cur;

	if (t->nice < b->nice && !spice_nice_allowed(rb, t->nice))
		return false;
	if (spice_rt_policy(policy) &&
	    ((policy != b->policy && !rtprio) ||
	     (t->sched_priority > b->rt_priority && t->sched_priority > rtprio)))
		return false;
	/* SCHED_IDLE counts as nice 20: leaving it is a nice reduction. */
	if (b->policy == SCHED_IDLE && policy != SCHED_IDLE &&
	    !spice_nice_allowed(rb, t->nice))
		return false;
	return !b->reset_on_fork || (t->sched_policy & SCHED_RESET_ON_FORK);
}

static bool spice_sched_differs(const struct spice_sched_base *b,
				const struct spice_image_thread *t)
{
	return spice_policy(t) != b->policy || t->nice != b->nice ||
	       t->sched_priority != b->rt_priority ||
	       !(t->sched_policy & SCHED_RESET_ON_FORK) != !b->reset_on_fork;
}

/**
 * spice_prepare_sched - Check the threads' scheduling state.
 * @rb: The rebuild, its resource limits prepared.
 *
 * The first thread is the caller, changing its own state.  The others are
 * threads it could make, before or after it took the first one's state,
 * as sched_fork() makes them, changing theirs: so a caller with
 * reset-on-fork gets no more real-time threads than it could make.
 *
 * Return: 0; -EPERM for a policy, priority or nice value the caller could
 * not set without CAP_SYS_NICE; -EOPNOTSUPP for a real-time policy with
 * CONFIG_RT_GROUP_SCHED, where the caller's group may have no real-time
 * runtime to run it with; an LSM's error.
 */
int spice_prepare_sched(const struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	const struct spice_image_thread *t = img->threads;
	struct spice_sched_base caller = {
		.policy = current->policy,
		.rt_priority = current->rt_priority,
		.nice = task_nice(current),
		.reset_on_fork = current->sched_reset_on_fork,
	}, first = {
		.policy = spice_policy(t),
		.rt_priority = t->sched_priority,
		.nice = t->nice,
		.reset_on_fork = t->sched_policy & SCHED_RESET_ON_FORK,
	}, early = spice_forked(&caller), late = spice_forked(&first);
	bool differs, ok;
	u64 i;

	ok = spice_sched_unprivileged(rb, &caller, t);
	differs = spice_sched_differs(&caller, t);
	for (i = 0; i < img->nr[SPICE_SECT_THREADS]; i++, t++) {
		if (IS_ENABLED(CONFIG_RT_GROUP_SCHED) && spice_rt_policy(spice_policy(t)))
			return -EOPNOTSUPP;
		if (!i)
			continue;
		ok &= spice_sched_unprivileged(rb, &early, t) ||
		      spice_sched_unprivileged(rb, &late, t);
		differs |= spice_sched_differs(&early, t);
	}
	if (!ok && !capable(CAP_SYS_NICE))
		return -EPERM;
	return differs ? security_task_setscheduler(current) : 0;
}

/**
 * spice_commit_sched - Give a thread its scheduling state.
 * @p: The caller, holding no lock (a lock it held could get it boosted,
 *     and the change refused), or a new thread that has not run yet.
 * @t: Its image entry, checked by spice_prepare_sched().
 *
 * The caller's first: the threads are made from it.
 */
void spice_commit_sched(struct task_struct *p, const struct spice_image_thread *t)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = spice_policy(t),
		.sched_flags = t->sched_policy & SCHED_RESET_ON_FORK ?
			       SCHED_FLAG_RESET_ON_FORK : 0,
		.sched_nice = t->nice,
		.sched_priority = t->sched_priority,
	};

	/* Checked; a policy that needs no admission is not refused. */
	WARN_ON_ONCE(sched_setattr_nocheck(p, &attr));
	/* sched_setattr() keeps a real-time or idle thread's nice value. */
	if (!spice_fair_policy(attr.sched_policy))
		set_user_nice(p, t->nice);
}
