// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64's half of restore_process(): the restored thread's registers,
 * extended state and TLS bases, and the vDSO at its saved address.
 *
 * Everything applies to the calling task, which becomes the restored one.
 * The checks run before restore_process()'s point of no return and reject
 * whatever the setters would refuse, so that the setters cannot fail on the
 * image's contents.
 */

#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/security.h>
#include <linux/spice.h>
#include <linux/string.h>
#include <linux/user.h>
#include <asm/fpu/api.h>
#include <asm/fpu/signal.h>
#include <asm/fpu/xstate.h>
#include <asm/fsgsbase.h>
#include <asm/prctl.h>
#include <uapi/asm/prctl.h>
#include <asm/proto.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/sighandling.h>
#include <asm/vdso.h>

#include "fpu/internal.h"
#include "fpu/context.h"
#include "fpu/legacy.h"
#include "fpu/xstate.h"

/* The image holds struct user_regs_struct, as PTRACE_GETREGSET gives it. */
static const struct user_regs_struct *spice_regs(const struct spice_image_thread *t)
{
	BUILD_BUG_ON(sizeof(struct user_regs_struct) > sizeof(t->regs));
	return (const struct user_regs_struct *)t->regs;
}

static bool spice_user_addr(u64 v)
{
	return v < TASK_SIZE_MAX;
}

/* A data segment selector a 64-bit task may hold: null or the user one. */
static bool spice_data_selector(u64 sel)
{
	return sel == 0 || sel == __USER_DS;
}

static int spice_check_xstate(const void *xstate, u32 len)
{
	const struct xregs_state *xs = xstate;
	u64 mask = XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM;
	struct xstate_header hdr;
	u32 mxcsr;

	if (!len)
		return 0;	/* the initial FPU state */
	/* The same XSAVE layout as this machine's: same size, standard format. */
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE) || len != fpu_user_cfg.max_size)
		return -EINVAL;
	memcpy(&hdr, &xs->header, sizeof(hdr));
	if ((hdr.xfeatures & ~current->thread.fpu.fpstate->user_xfeatures) ||
	    hdr.xcomp_bv || memchr_inv(hdr.reserved, 0, sizeof(hdr.reserved)))
		return -EINVAL;
	memcpy(&mxcsr, &xs->i387.mxcsr, sizeof(mxcsr));
	if ((hdr.xfeatures & mask) && (mxcsr & ~mxcsr_feature_mask))
		return -EINVAL;
	return 0;
}

/**
 * spice_arch_check_thread - Can the calling task take this thread's state?
 * @t: The thread, from a checked image.
 * @xstate: Its extended state (NT_X86_XSTATE layout), @xstate_len bytes.
 * @xstate_len: Zero for the initial FPU state, else this CPU's XSAVE size.
 *
 * Return: 0; -EOPNOTSUPP for a 32-bit thread; -EINVAL for a non-canonical
 * address, a bad selector or an extended state this CPU cannot load.
 */
int spice_arch_check_thread(const struct spice_image_thread *t,
			    const void *xstate, u32 xstate_len)
{
	const struct user_regs_struct *r = spice_regs(t);
	size_t used = sizeof(*r) / sizeof(t->regs[0]);

	/* 64-bit threads, restored into a 64-bit address space. */
	if (r->cs != __USER_CS || r->ss != __USER_DS ||
	    test_thread_flag(TIF_ADDR32))
		return -EOPNOTSUPP;
#ifdef CONFIG_X86_USER_SHADOW_STACK
	/* The caller's shadow stack lives in the memory that goes. */
	if (current->thread.features & ARCH_SHSTK_SHSTK)
		return -EOPNOTSUPP;
#endif
	if (!spice_data_selector(r->ds) || !spice_data_selector(r->es) ||
	    !spice_data_selector(r->fs) || !spice_data_selector(r->gs))
		return -EINVAL;
	if (!spice_user_addr(r->ip) || !spice_user_addr(r->sp) ||
	    !spice_user_addr(r->fs_base) || !spice_user_addr(r->gs_base))
		return -EINVAL;
	if (memchr_inv(&t->regs[used], 0, sizeof(t->regs) - sizeof(*r)))
		return -EINVAL;
	return spice_check_xstate(xstate, xstate_len);
}

/*
 * Load the extended state into the calling task.  As sigreturn does: mark
 * the registers as needing a load, so that no context switch saves the
 * live registers over the new state, then write the task's buffer.
 */
static void spice_set_xstate(const void *xstate)
{
	struct fpu *fpu = &current->thread.fpu;

	if (!xstate) {
		fpu__clear_user_states(fpu);
		return;
	}
	fpregs_lock();
	if (!test_thread_flag(TIF_NEED_FPU_LOAD)) {
		if (xfeatures_mask_supervisor())
			os_xsave(fpu->fpstate);
		set_thread_flag(TIF_NEED_FPU_LOAD);
	}
	__fpu_invalidate_fpregs_state(fpu);
	__cpu_invalidate_fpregs_state();
	fpregs_unlock();
	/* Checked by spice_check_xstate(): cannot fail. */
	WARN_ON_ONCE(copy_uabi_from_kernel_to_xstate(fpu->fpstate, xstate,
						     &current->thread.pkru));
}

/* The general registers, for the calling task or a new one. */
static void spice_fill_regs(struct pt_regs *regs, const struct user_regs_struct *r)
{
	regs->r15 = r->r15;
	regs->r14 = r->r14;
	regs->r13 = r->r13;
	regs->r12 = r->r12;
	regs->bp = r->bp;
	regs->bx = r->bx;
	regs->r11 = r->r11;
	regs->r10 = r->r10;
	regs->r9 = r->r9;
	regs->r8 = r->r8;
	regs->ax = r->ax;
	regs->cx = r->cx;
	regs->dx = r->dx;
	regs->si = r->si;
	regs->di = r->di;
	regs->orig_ax = r->orig_ax;
	regs->ip = r->ip;
	regs->sp = r->sp;
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	regs->flags = (regs->flags & ~FIX_EFLAGS) | (r->flags & FIX_EFLAGS);
}

/*
 * Leave the restart of a system call the thread was in to the signal code
 * on the way out, which knows SA_RESTART and the handlers: it runs when a
 * signal is pending, and TIF_NOTIFY_SIGNAL makes it run when none is.
 */
static void spice_restart_syscall(struct task_struct *p, struct pt_regs *regs)
{
	if ((long)regs->orig_ax < 0)
		return;
	switch (regs->ax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		set_notify_signal(p);
		break;
	case -ERESTART_RESTARTBLOCK:
		regs->ax = -EINTR;
		break;
	}
}

/**
 * spice_arch_set_thread - Give the calling task a thread's state.
 * @t: The thread, accepted by spice_arch_check_thread().
 * @xstate: Its extended state, or NULL for the initial FPU state.
 *
 * A system call the thread was in when it was dumped is restarted by the
 * signal code on the way out, as it would have been (a handler that runs
 * first decides, by SA_RESTART); one that would restart through
 * restart_syscall() returns -EINTR instead, since its restart block was not
 * saved.
 *
 * Return: The value for the thread's return register, which the caller
 * returns from the system call.
 */
long spice_arch_set_thread(const struct spice_image_thread *t,
			   const void *xstate)
{
	struct pt_regs *regs = current_pt_regs();

	spice_fill_regs(regs, spice_regs(t));
	do_arch_prctl_64(current, ARCH_SET_FS, spice_regs(t)->fs_base);
	do_arch_prctl_64(current, ARCH_SET_GS, spice_regs(t)->gs_base);
	spice_set_xstate(xstate);
	spice_restart_syscall(current, regs);
	return regs->ax;
}

/**
 * spice_arch_set_task - Give a new thread, not yet running, a thread's state.
 * @p: A thread that copy_process() made of the caller and that has not run.
 * @t: The image's thread, accepted by spice_arch_check_thread().
 * @xstate: Its extended state, or NULL to keep the caller's.
 *
 * The same as spice_arch_set_thread(), on a task that cannot be running:
 * its saved state is written directly, as ptrace does on a stopped task.
 */
void spice_arch_set_task(struct task_struct *p, const struct spice_image_thread *t,
			 const void *xstate)
{
	const struct user_regs_struct *r = spice_regs(t);
	struct pt_regs *regs = task_pt_regs(p);
	struct fpu *fpu = &p->thread.fpu;

	spice_fill_regs(regs, r);
	p->thread.fsindex = 0;
	p->thread.gsindex = 0;
	x86_fsbase_write_task(p, r->fs_base);
	x86_gsbase_write_task(p, r->gs_base);
	if (xstate) {
		/* fpu_clone() set TIF_NEED_FPU_LOAD: loaded from here on return. */
		__fpu_invalidate_fpregs_state(fpu);
		WARN_ON_ONCE(copy_uabi_from_kernel_to_xstate(fpu->fpstate, xstate,
							     &p->thread.pkru));
	}
	spice_restart_syscall(p, regs);
}

/**
 * spice_arch_vdso_range - Where the vDSO and its data pages will go.
 * @vdso: Saved address of the vDSO's text.
 * @start: Set to the first address the vDSO's mappings take.
 * @end: Set to the address after them.
 *
 * Return: 0, or -EINVAL if @vdso is unaligned or the range leaves user
 * space.
 */
int spice_arch_vdso_range(u64 vdso, u64 *start, u64 *end)
{
	const struct vdso_image *image = &vdso_image_64;

	/* Where map_vdso()'s hint is taken as it is. */
	if (!PAGE_ALIGNED(vdso) || vdso < (u64)-image->sym_vvar_start ||
	    vdso + image->sym_vvar_start < mmap_min_addr ||
	    vdso + image->size > DEFAULT_MAP_WINDOW)
		return -EINVAL;
	*start = vdso + image->sym_vvar_start;
	*end = vdso + image->size;
	return 0;
}

/**
 * spice_arch_map_vdso - Map the vDSO with its text at @vdso.
 * @vdso: As accepted by spice_arch_vdso_range(), in a free range.
 *
 * Return: 0, or -ENOMEM if it could not be placed there.
 */
int spice_arch_map_vdso(u64 vdso)
{
	const struct vdso_image *image = &vdso_image_64;
	int err;

	err = map_vdso_once(image, vdso + image->sym_vvar_start);
	if (err)
		return err;
	return (u64)(unsigned long)current->mm->context.vdso == vdso ? 0 : -ENOMEM;
}
