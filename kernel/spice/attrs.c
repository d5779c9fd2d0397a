// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): the process's prctl(2) state and its OOM score.
 *
 * Each comes back as the call that sets it would set it for the caller:
 * what only restricts the process (no_new_privs, MDWE, THP disabled, the
 * parent-death signal, the timer slack, being a child subreaper) needs no
 * privilege; an OOM score below the caller's floor needs CAP_SYS_RESOURCE,
 * as /proc/PID/oom_score_adj does.  What the caller has that cannot be
 * taken back (no_new_privs, MDWE) stays, as it would across execve().
 */

#include <linux/capability.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/sched/rt.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <trace/events/oom.h>

#include "rebuild.h"

/* The MDWE bits of prctl(PR_GET_MDWE) that an image's flags stand for. */
static unsigned long spice_image_mdwe(const struct spice_image_process *p)
{
	unsigned long bits = 0;

	if (p->flags & SPICE_PROC_MDWE_REFUSE_EXEC_GAIN)
		bits |= PR_MDWE_REFUSE_EXEC_GAIN;
	if (p->flags & SPICE_PROC_MDWE_NO_INHERIT)
		bits |= PR_MDWE_NO_INHERIT;
	return bits;
}

/*
 * The caller's MDWE bits as a new program would inherit them: none when
 * it asked for PR_MDWE_NO_INHERIT (mmf_init_flags()).
 */
static unsigned long spice_kept_mdwe(void)
{
	unsigned long flags = current->mm->flags;

	if (!test_bit(MMF_HAS_MDWE, &flags) ||
	    test_bit(MMF_HAS_MDWE_NO_INHERIT, &flags))
		return 0;
	return PR_MDWE_REFUSE_EXEC_GAIN;
}

/**
 * spice_mdwe_applies - Whether the restored memory is mapped under MDWE.
 *
 * Return: true if the caller's MDWE survives the rebuild; the image's own
 * is set once its memory is mapped, as the process had mapped it before.
 */
bool spice_mdwe_applies(void)
{
	return spice_kept_mdwe();
}

/**
 * spice_prepare_attrs - Check the image's prctl state and OOM score.
 * @rb: The rebuild.
 *
 * Return: 0; -EACCES for an OOM score below the caller's oom_score_adj_min
 * without CAP_SYS_RESOURCE; -EPERM for MDWE bits other than those the
 * caller keeps (they cannot be unset), -EINVAL where MDWE is not
 * supported.
 */
int spice_prepare_attrs(const struct spice_rebuild *rb)
{
	const struct spice_image_process *p = rb->img.proc;
	unsigned long mdwe = spice_image_mdwe(p), kept = spice_kept_mdwe();

	if (p->oom_score_adj < current->signal->oom_score_adj_min &&
	    !capable(CAP_SYS_RESOURCE))
		return -EACCES;
	if (mdwe && !arch_memory_deny_write_exec_supported())
		return -EINVAL;
	if (mdwe && kept && mdwe != kept)
		return -EPERM;
	return 0;
}

/**
 * spice_commit_mm_attrs_early - The mm flags the memory is mapped under.
 * @p: The image's process entry.
 *
 * Past the point of no return, before the memory is mapped: THP disabled
 * or not as the image says (mapping and populating consult it, and
 * khugepaged registers regions then), and the MDWE a new program would
 * start with: PR_MDWE_NO_INHERIT ends with the caller's program.
 */
void spice_commit_mm_attrs_early(const struct spice_image_process *p)
{
	struct mm_struct *mm = current->mm;

	mmap_assert_write_locked(mm);
	if (p->flags & SPICE_PROC_THP_DISABLE)
		set_bit(MMF_DISABLE_THP, &mm->flags);
	else
		clear_bit(MMF_DISABLE_THP, &mm->flags);
	if (test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags)) {
		clear_bit(MMF_HAS_MDWE, &mm->flags);
		clear_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags);
	}
}

/* The image's MDWE, once the memory is mapped as the process had mapped it. */
static void spice_commit_mm_attrs(const struct spice_image_process *p)
{
	struct mm_struct *mm = current->mm;

	mmap_write_lock(mm);
	if (p->flags & SPICE_PROC_MDWE_NO_INHERIT)
		set_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags);
	if (p->flags & SPICE_PROC_MDWE_REFUSE_EXEC_GAIN)
		set_bit(MMF_HAS_MDWE, &mm->flags);
	mmap_write_unlock(mm);
}

/* As prctl(PR_SET_CHILD_SUBREAPER): descendants learn they have one. */
static int spice_propagate_subreaper(struct task_struct *p, void *data)
{
	if (p->signal->has_child_subreaper || is_child_reaper(task_pid(p)))
		return 0;
	p->signal->has_child_subreaper = 1;
	return 1;
}

/*
 * As a write to /proc/self/oom_score_adj (__set_oom_adj()), checked by
 * spice_prepare_attrs().  A floor a privileged writer raised since then
 * keeps the score it set, as if its write had come after the restore.
 */
static void spice_commit_oom_score_adj(short adj)
{
	struct signal_struct *sig = current->signal;
	bool privileged = has_capability_noaudit(current, CAP_SYS_RESOURCE);

	mutex_lock(&oom_adj_mutex);
	if (adj >= sig->oom_score_adj_min || privileged) {
		sig->oom_score_adj = adj;
		if (privileged)
			sig->oom_score_adj_min = adj;
		trace_oom_score_adj_update(current);
	}
	mutex_unlock(&oom_adj_mutex);
}

/**
 * spice_commit_attrs - Give the caller the image's process-wide state.
 * @rb: A rebuild past its point of no return, its memory mapped.
 */
void spice_commit_attrs(const struct spice_rebuild *rb)
{
	const struct spice_image_process *p = rb->img.proc;

	lockdep_assert_held_write(&current->signal->exec_update_lock);
	spice_commit_mm_attrs(p);
	if (p->flags & SPICE_PROC_NO_NEW_PRIVS)
		task_set_no_new_privs(current);
	current->signal->is_child_subreaper = !!(p->flags & SPICE_PROC_CHILD_SUBREAPER);
	if (p->flags & SPICE_PROC_CHILD_SUBREAPER)
		walk_process_tree(current, spice_propagate_subreaper, NULL);
	spice_commit_oom_score_adj(p->oom_score_adj);
}

/**
 * spice_commit_thread_attrs - A thread's parent-death signal.
 * @p: The caller, or a new thread that has not run yet.
 * @t: Its image entry.
 */
void spice_commit_thread_attrs(struct task_struct *p,
			       const struct spice_image_thread *t)
{
	p->pdeath_signal = t->pdeath_signal;
}

/**
 * spice_commit_thread_sched - A thread's scheduling state and timer slack.
 * @p: The caller, holding no lock, or a new thread that has not run yet.
 * @t: Its image entry.
 *
 * The policy first: as prctl(PR_SET_TIMERSLACK), a real-time thread
 * ignores the slack; zero keeps the thread's default slack.
 */
void spice_commit_thread_sched(struct task_struct *p,
			       const struct spice_image_thread *t)
{
	spice_commit_sched(p, t);
	if (t->timer_slack_ns && !rt_or_dl_task_policy(p))
		p->timer_slack_ns = t->timer_slack_ns;
	/* fork() took the first thread's restored slack as the default. */
	if (p != current)
		p->default_timer_slack_ns = current->default_timer_slack_ns;
}
