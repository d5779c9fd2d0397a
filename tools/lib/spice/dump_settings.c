// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's side of what a process sets about itself with setrlimit()
 * and prctl(): its resource limits, the process flags (no_new_privs, child
 * subreaper, THP disable, MDWE), and each thread's timer slack and
 * parent-death signal.  prctl() answers only for the caller, so those are
 * asked of the stopped threads with injected calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "dump_internal.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE			66
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN	0x1UL
#endif
#ifndef PR_MDWE_NO_INHERIT
#define PR_MDWE_NO_INHERIT		0x2UL
#endif

_Static_assert(RLIMIT_RTTIME + 1 == SPICE_IMAGE_NR_RLIMITS,
	       "one image entry per resource");

/* A system call's error, as the kernel returns it in a register. */
static int is_err(long ret)
{
	return (unsigned long)ret >= -4095UL;
}

int dump_rlimits(struct dump *d)
{
	struct spice_image_rlimit lim[SPICE_IMAGE_NR_RLIMITS];
	struct rlimit old;
	int r;

	for (r = 0; r < SPICE_IMAGE_NR_RLIMITS; r++) {
		if (prlimit(d->pid, r, NULL, &old))
			return dump_fail(d, -errno, "resource limit %d: prlimit", r);
		/* RLIM_INFINITY is ~0 in both. */
		lim[r].cur = old.rlim_cur;
		lim[r].max = old.rlim_max;
	}
	return spice_writer_set_rlimits(d->w, lim);
}

/* prctl(@option) in thread @t, for the options that answer in the result. */
static long ask(struct dump *d, struct dump_thread *t, int option)
{
	return dump_inject(d, t, SYS_prctl, option, 0, 0, 0);
}

/* prctl(@option, &int) in thread @t: 0 and *@val, or a negative errno. */
static int ask_int(struct dump *d, struct dump_thread *t, int option,
		   int32_t *val)
{
	uint64_t scratch = dump_scratch(t, sizeof(*val));
	long ret = dump_inject(d, t, SYS_prctl, option, scratch, 0, 0);

	if (ret)
		return ret < 0 ? (int)ret : -EIO;
	return dump_read_mem(d, scratch, val, sizeof(*val)) ? -EIO : 0;
}

int dump_proc_flags(struct dump *d, struct spice_image_process *p)
{
	struct dump_thread *t = &d->threads[0];
	int32_t reaper;
	long ret;

	ret = ask(d, t, PR_GET_NO_NEW_PRIVS);
	if (ret < 0)
		return dump_fail(d, ret, "PR_GET_NO_NEW_PRIVS in the process");
	if (ret)
		p->flags |= SPICE_PROC_NO_NEW_PRIVS;
	ret = ask_int(d, t, PR_GET_CHILD_SUBREAPER, &reaper);
	if (ret)
		return dump_fail(d, ret, "PR_GET_CHILD_SUBREAPER in the process");
	if (reaper)
		p->flags |= SPICE_PROC_CHILD_SUBREAPER;
	ret = ask(d, t, PR_GET_THP_DISABLE);
	if (ret < 0)
		return dump_fail(d, ret, "PR_GET_THP_DISABLE in the process");
	/* Later kernels have partial modes, which an image cannot hold. */
	if (ret > 1)
		return dump_fail(d, -EOPNOTSUPP,
				 "PR_GET_THP_DISABLE in the process: mode %ld", ret);
	if (ret)
		p->flags |= SPICE_PROC_THP_DISABLE;
	ret = ask(d, t, PR_GET_MDWE);
	if (ret == -EINVAL)
		ret = 0;	/* a kernel without MDWE */
	if (ret < 0)
		return dump_fail(d, ret, "PR_GET_MDWE in the process");
	if (ret & ~(PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT))
		return dump_fail(d, -EOPNOTSUPP,
				 "PR_GET_MDWE in the process: flags %#lx", ret);
	if (ret & PR_MDWE_REFUSE_EXEC_GAIN)
		p->flags |= SPICE_PROC_MDWE_REFUSE_EXEC_GAIN;
	if (ret & PR_MDWE_NO_INHERIT)
		p->flags |= SPICE_PROC_MDWE_NO_INHERIT;
	return 0;
}

int dump_thread_prctl(struct dump *d, struct dump_thread *t,
		      struct spice_image_thread *it)
{
	int32_t sig;
	long ret;

	/* The slack is unsigned: only the errno range is an error. */
	ret = ask(d, t, PR_GET_TIMERSLACK);
	if (is_err(ret))
		return dump_fail(d, ret, "thread %d: PR_GET_TIMERSLACK", t->tid);
	it->timer_slack_ns = (unsigned long)ret;
	ret = ask_int(d, t, PR_GET_PDEATHSIG, &sig);
	if (ret)
		return dump_fail(d, ret, "thread %d: PR_GET_PDEATHSIG", t->tid);
	it->pdeath_signal = sig;
	return 0;
}
