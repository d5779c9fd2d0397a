// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): turning the calling process into the image's.
 *
 * Like execve(), the work is split at a point of no return.  Before it,
 * spice_rebuild_prepare() checks everything and takes everything: the
 * files the process maps and holds open, the launcher's supplied fds, and
 * the contents of every page to populate, read from the image.  Nothing of
 * the caller changes; a failure returns an error.  After it,
 * spice_rebuild_commit() replaces the caller's address space, fds, signal
 * state and registers; it only fails on allocation, and then the process
 * is killed.
 *
 * The caller becomes the image's first thread; the others are made with
 * copy_process() and get their state before they first run, with the
 * tids they had (tids.c).  Resource limits, prctl state and the OOM score
 * come from the image (rlimits.c, attrs.c), and so do the pending signals
 * (sigpending.c) and the timers (timers.c).  Credentials, namespaces,
 * cgroups and the parent stay the launcher's, and so do its own pending
 * signals, which the image's join.
 */

#include <linux/binfmts.h>
#include <linux/capability.h>
#include <linux/cn_proc.h>
#include <linux/fdtable.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/hw_breakpoint.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/perf_event.h>
#include <linux/personality.h>
#include <linux/posix-timers.h>
#include <linux/ptrace.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/spice.h>
#include <linux/syscall_user_dispatch.h>
#include <linux/thread_info.h>
#include <linux/user_events.h>
#include <linux/userfaultfd_k.h>
#include <uapi/linux/futex.h>
#include <uapi/linux/rseq.h>

#include "rebuild.h"

/* The VMA flags that are mmap_restore() region flags (the uapi's bits 0-15). */
#define SPICE_VMA_REGION_FLAGS	0xffffU

/* The smallest rseq area, as sys_rseq() accepts it (kernel/rseq.c). */
#define SPICE_RSEQ_MIN_SIZE	32

/*
 * The caller must be alone in its address space, which it will replace:
 * no other thread, no vfork() parent or CLONE_VM sibling.  mm_users alone
 * would also count the passing references of /proc readers (ps, top,
 * monitoring agents), which must not make a restore fail; as unshare(2)
 * does, current_is_single_threaded() looks for tasks using the mm.
 */
static int spice_check_caller(void)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int err = 0;

	VMA_ITERATOR(vmi, mm, 0);

	if (!current_is_single_threaded())
		return -EBUSY;
#ifdef CONFIG_UPROBES
	/* Uprobes' out-of-line area and task state would name old memory. */
	if (mm->uprobes_state.xol_area || current->utask)
		return -EBUSY;
#endif
	/* Sealed mappings cannot be unmapped (mseal(2)). */
	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		if (vma->vm_flags & VM_SEALED) {
			err = -EPERM;
			break;
		}
		/*
		 * Memory a userfaultfd monitor serves is refused rather than
		 * taken from it unannounced (spice_commit_unmap() tells no
		 * monitor; it could not wait for one).
		 */
		if (userfaultfd_armed(vma)) {
			err = -EBUSY;
			break;
		}
	}
	mmap_read_unlock(mm);
	return err;
}

/* A thread's state beyond its registers, as the setters will apply it. */
static int spice_check_thread_state(const struct spice_image_thread *t)
{
	if (t->ss_flags & ~(SS_ONSTACK | SS_DISABLE | SS_AUTODISARM))
		return -EINVAL;
	if (!(t->ss_flags & SS_DISABLE) && t->ss_size &&
	    (t->ss_sp >= TASK_SIZE || t->ss_size < MINSIGSTKSZ))
		return -EINVAL;
	if (t->robust_list && t->robust_list_len != sizeof(struct robust_list_head))
		return -EINVAL;
	if (t->rseq && (!IS_ALIGNED(t->rseq, SPICE_RSEQ_MIN_SIZE) ||
			t->rseq_len < SPICE_RSEQ_MIN_SIZE || t->rseq_len > PAGE_SIZE ||
			t->rseq + t->rseq_len > TASK_SIZE))
		return -EINVAL;
	if (t->clear_child_tid >= TASK_SIZE)
		return -EINVAL;
	return 0;
}

/* Signal actions, and every thread's state. */
static int spice_check_signals(const struct spice_image *img)
{
	const struct spice_image_thread *t;
	unsigned int sig;
	u64 i;
	int err;

	for (sig = 1; img->sigactions && sig <= 64; sig++) {
		const struct spice_image_sigaction *a = &img->sigactions[sig - 1];

		if ((sig_kernel_only(sig) && a->handler) ||
		    a->handler >= TASK_SIZE || a->restorer >= TASK_SIZE)
			return -EINVAL;
	}
	for (i = 0; i < img->nr[SPICE_SECT_THREADS]; i++) {
		t = &img->threads[i];
		err = spice_arch_check_thread(t, t->xstate.len ?
					      spice_image_blob(img, t->xstate) : NULL,
					      t->xstate.len);
		if (!err)
			err = spice_check_thread_state(t);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Locked mappings as mmap(MAP_LOCKED) counts them (can_do_mlock(),
 * mlock_future_ok()), against the restored process's RLIMIT_MEMLOCK: the
 * address space they go into holds nothing locked.
 */
static int spice_check_memlock(const struct spice_rebuild *rb)
{
	unsigned long limit = rb->rlim[RLIMIT_MEMLOCK].rlim_cur;
	const struct spice_image *img = &rb->img;
	unsigned long locked = 0;
	u64 i;

	for (i = 0; i < img->nr[SPICE_SECT_VMAS]; i++)
		if (img->vmas[i].flags & SPICE_VMA_LOCKED)
			locked += (img->vmas[i].end - img->vmas[i].start) >> PAGE_SHIFT;
	if (!locked || capable(CAP_IPC_LOCK))
		return 0;
	if (!limit)
		return -EPERM;
	return locked > limit >> PAGE_SHIFT ? -EAGAIN : 0;
}

/*
 * What mapping the regions would refuse after the point of no return: the
 * map count, RLIMIT_AS and RLIMIT_DATA (the restored process's, set before
 * its memory is mapped), and writable-executable regions under an MDWE
 * the caller keeps.  Checked here, with the numbers the commit uses, so
 * that it cannot fail on them.  The regions are mapped into an empty
 * address space, where each adds at most one VMA and nothing is split
 * (spice_memory_commit()); the vDSO adds its own and its data's.
 */
static int spice_check_limits(const struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	unsigned long pages = 0, data = 0;
	bool mdwe = spice_mdwe_applies();
	u64 i;

	if (img->nr[SPICE_SECT_VMAS] + 2 > sysctl_max_map_count)
		return -ENOMEM;
	for (i = 0; i < img->nr[SPICE_SECT_VMAS]; i++) {
		const struct spice_image_vma *v = &img->vmas[i];
		unsigned long n = (v->end - v->start) >> PAGE_SHIFT;

		if ((v->prot & PROT_WRITE) && (v->prot & PROT_EXEC) && mdwe)
			return -EPERM;
		pages += n;
		/* As is_data_mapping(): private and writable, not a stack. */
		if ((v->prot & PROT_WRITE) &&
		    !(v->flags & (SPICE_VMA_SHARED | SPICE_VMA_GROWSDOWN | SPICE_VMA_STACK)))
			data += n;
	}
	if (pages > rb->rlim[RLIMIT_AS].rlim_cur >> PAGE_SHIFT ||
	    data > rb->rlim[RLIMIT_DATA].rlim_cur >> PAGE_SHIFT)
		return -ENOMEM;
	return spice_check_memlock(rb);
}

/* Build mmap_restore() regions from the image's VMAs, vDSO apart. */
static int spice_prepare_memory(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	u64 i, nr = 0, vdso_start = 0, vdso_end = 0;
	int err;

	if (img->proc->vdso) {
		err = spice_arch_vdso_range(img->proc->vdso, &vdso_start, &vdso_end);
		if (err)
			return err;
		rb->vdso = img->proc->vdso;
	}
	rb->t.regions = kvcalloc(img->nr[SPICE_SECT_VMAS], sizeof(*rb->t.regions),
				 GFP_KERNEL_ACCOUNT);
	rb->region_files = kvcalloc(img->nr[SPICE_SECT_VMAS],
				    sizeof(*rb->region_files), GFP_KERNEL_ACCOUNT);
	if (!rb->t.regions || !rb->region_files)
		return -ENOMEM;
	for (i = 0; i < img->nr[SPICE_SECT_VMAS]; i++) {
		const struct spice_image_vma *v = &img->vmas[i];
		struct mmap_restore_region *r = &rb->t.regions[nr];
		int flags;

		/* Placed by spice_arch_map_vdso(), as this kernel lays it out. */
		if (v->flags & SPICE_VMA_VDSO) {
			if (v->start != rb->vdso || v->end != vdso_end)
				return -EINVAL;
			continue;
		}
		if (v->flags & SPICE_VMA_VVAR) {
			if (v->start < vdso_start || v->end > rb->vdso)
				return -EINVAL;
			continue;
		}
		if (vdso_end && v->start < vdso_end && vdso_start < v->end)
			return -EINVAL;
		r->start = v->start;
		r->len = v->end - v->start;
		r->prot = v->prot;
		r->flags = v->flags & SPICE_VMA_REGION_FLAGS;
		r->first_interval = v->first_interval;
		r->nr_intervals = v->nr_intervals;
		r->fd = -1;
		if (v->file != SPICE_IMAGE_NONE) {
			/*
			 * A shared mapping that is or may become writable
			 * writes to its file: opened for writing, it gets
			 * VM_MAYWRITE, as the dumped process's had.
			 */
			flags = (v->flags & SPICE_VMA_SHARED) &&
				((v->prot & PROT_WRITE) || (v->flags & SPICE_VMA_MAYWRITE)) ?
				O_RDWR : O_RDONLY;
			err = spice_open_image_file(rb, v->file, flags,
						    &rb->region_files[nr]);
			if (err)
				return err;
			r->fd = 0;	/* any fd >= 0: the file is in region_files */
			r->pgoff = v->pgoff;
		}
		nr++;
	}
	if (!nr)
		return -EINVAL;
	rb->t.nr_regions = nr;
	/* The image's tables as they are: same structures, file offsets. */
	rb->t.intervals = (struct mmap_restore_interval *)img->intervals;
	rb->t.nr_intervals = img->nr[SPICE_SECT_INTERVALS];
	rb->t.ws = (struct mmap_restore_ws_range *)img->ws;
	rb->t.nr_ws = img->nr[SPICE_SECT_WS];
	rb->mem = spice_memory_prepare(&rb->t, rb->image, rb->region_files);
	if (IS_ERR(rb->mem)) {
		err = PTR_ERR(rb->mem);
		rb->mem = NULL;
		return err;
	}
	return 0;
}

/**
 * spice_rebuild_prepare - Everything before the point of no return.
 * @rb: Holds the checked image and its file; filled in.
 * @map: The launcher's fd map, checked, @nr_map entries.
 * @nr_map: Entries in @map.
 *
 * Return: 0, or an error with the caller unchanged (see restore_process()).
 */
int spice_rebuild_prepare(struct spice_rebuild *rb,
			  const struct restore_process_fd *map, u32 nr_map)
{
	const struct spice_image *img = &rb->img;
	int err;

	if (img->proc->auxv.len > sizeof(current->mm->saved_auxv))
		return -EINVAL;
	err = spice_check_caller();
	if (err)
		return err;
	if (img->nr[SPICE_SECT_THREADS] > 1) {
		rb->new_threads = kcalloc(img->nr[SPICE_SECT_THREADS] - 1,
					  sizeof(*rb->new_threads), GFP_KERNEL);
		if (!rb->new_threads)
			return -ENOMEM;
	}
	err = spice_check_signals(img);
	if (!err)
		err = spice_prepare_tids(rb);
	if (!err)
		err = spice_prepare_rlimits(rb);
	if (!err)
		err = spice_prepare_attrs(rb);
	if (!err)
		err = spice_prepare_sched(rb);
	if (!err)
		err = spice_check_limits(rb);
	if (!err)
		err = spice_prepare_sigpending(rb);
	if (!err)
		err = spice_prepare_posix_timers(rb);
	if (!err)
		err = spice_prepare_made_files(rb);
	if (err)
		return err;
	err = spice_prepare_fds(rb, map, nr_map);
	if (err)
		return err;
	err = spice_prepare_exe_cwd(rb);
	if (err)
		return err;
	spice_phase_end(rb, &rb->stats.files_ns);
	err = spice_prepare_memory(rb);
	/*
	 * Last but for the locks and the socket binds: its error path closes
	 * the supplied files, flushing them.
	 */
	if (!err)
		err = spice_prepare_fd_table(rb);
	spice_phase_end(rb, &rb->stats.memory_ns);
	/* On the installed files: a POSIX lock's owner is their table. */
	if (!err)
		err = spice_prepare_locks(rb);
	/* Last: a bound socket takes what is sent to it. */
	if (!err)
		err = spice_bind_sockets(rb);
	if (!err)
		spice_phase_add(rb, &rb->stats.files_ns);
	return err;
}

static void spice_commit_mm_layout(const struct spice_image *img)
{
	const struct spice_image_process *p = img->proc;
	struct mm_struct *mm = current->mm;

	mmap_write_lock(mm);
	mm->start_code = p->start_code;
	mm->end_code = p->end_code;
	mm->start_data = p->start_data;
	mm->end_data = p->end_data;
	mm->start_brk = p->start_brk;
	mm->brk = p->brk;
	mm->start_stack = p->start_stack;
	/* arg_lock protects the argument and environment bounds. */
	spin_lock(&mm->arg_lock);
	mm->arg_start = p->arg_start;
	mm->arg_end = p->arg_end;
	mm->env_start = p->env_start;
	mm->env_end = p->env_end;
	spin_unlock(&mm->arg_lock);
	memset(mm->saved_auxv, 0, sizeof(mm->saved_auxv));
	memcpy(mm->saved_auxv, spice_image_blob(img, p->auxv), p->auxv.len);
	mmap_write_unlock(mm);
}

static void spice_commit_signals(const struct spice_image *img)
{
	const struct spice_image_thread *t = &img->threads[0];
	struct k_sigaction ka;
	sigset_t blocked;
	unsigned int sig;

	/* An absent table means every signal at its default. */
	flush_signal_handlers(current, 1);
	for (sig = 1; img->sigactions && sig <= 64; sig++) {
		const struct spice_image_sigaction *a = &img->sigactions[sig - 1];

		if (sig_kernel_only(sig))
			continue;
		memset(&ka, 0, sizeof(ka));
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)a->handler;
		ka.sa.sa_flags = a->flags;
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)a->restorer;
		siginitset(&ka.sa.sa_mask, a->mask);
		do_sigaction(sig, &ka, NULL);
	}
	siginitset(&blocked, t->sigmask);
	set_current_blocked(&blocked);
}

/*
 * A thread's alternate stack and the registrations that name memory of
 * the old address space, on the caller or on a new thread that has not
 * run yet (whose fields only it and this code can see).
 */
static void spice_commit_thread(struct task_struct *p,
				const struct spice_image_thread *t)
{
	if (t->ss_flags & SS_DISABLE || !t->ss_size) {
		p->sas_ss_sp = 0;
		p->sas_ss_size = 0;
		p->sas_ss_flags = SS_DISABLE;
	} else {
		p->sas_ss_sp = t->ss_sp;
		p->sas_ss_size = t->ss_size;
		p->sas_ss_flags = t->ss_flags & SS_AUTODISARM;
	}
	p->clear_child_tid = u64_to_user_ptr(t->clear_child_tid);
	p->set_child_tid = NULL;
	spice_commit_thread_attrs(p, t);
#ifdef CONFIG_FUTEX
	p->robust_list = u64_to_user_ptr(t->robust_list);
#ifdef CONFIG_COMPAT
	p->compat_robust_list = NULL;
#endif
#endif
#ifdef CONFIG_RSEQ
	p->rseq = u64_to_user_ptr(t->rseq);
	p->rseq_len = t->rseq ? t->rseq_len : 0;
	p->rseq_sig = t->rseq ? t->rseq_sig : 0;
	if (t->rseq)
		rseq_set_notify_resume(p);
#endif
}

/* In the thread group already: signal delivery reads the mask. */
static void spice_set_blocked(struct task_struct *p, const sigset_t *blocked)
{
	unsigned long flags;

	if (lock_task_sighand(p, &flags)) {
		p->blocked = *blocked;
		unlock_task_sighand(p, &flags);
	}
}

/*
 * Every thread but the first, as threads of the caller made by
 * copy_process(), given their state and the tids taken for them.  They
 * are not woken here: spice_rebuild_start() wakes them, after a tracer has
 * seen the exec event, so that none of the restored process runs before it.
 */
static int spice_commit_threads(struct spice_rebuild *rb)
{
	struct kernel_clone_args args = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM,
	};
	const struct spice_image *img = &rb->img;
	const struct spice_image_thread *t;
	struct task_struct *p;
	sigset_t blocked;
	u64 i;

	if (img->nr[SPICE_SECT_THREADS] < 2)
		return 0;
	/*
	 * copy_process() fails on any signal pending for the caller, which
	 * the image's handlers may now catch: hold them off until the
	 * threads are made (a fatal signal still ends it all).
	 */
	sigfillset(&blocked);
	set_current_blocked(&blocked);
	for (i = 1; i < img->nr[SPICE_SECT_THREADS]; i++) {
		t = &img->threads[i];
		args.pid = rb->tids ? rb->tids[i - 1] : NULL;
		p = copy_process(NULL, 0, NUMA_NO_NODE, &args);
		/* Cleared if copy_process() took it, freed or not. */
		if (rb->tids)
			rb->tids[i - 1] = args.pid;
		if (IS_ERR(p))
			return PTR_ERR(p);
		spice_arch_set_task(p, t, t->xstate.len ?
				    spice_image_blob(img, t->xstate) : NULL);
		spice_commit_thread(p, t);
		spice_commit_thread_sched(p, t);
		siginitset(&blocked, t->sigmask);
		sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
		spice_set_blocked(p, &blocked);
		rb->new_threads[rb->nr_new_threads++] = p;
	}
	siginitset(&blocked, img->threads[0].sigmask);
	set_current_blocked(&blocked);
	return 0;
}

static void spice_rebuild_start_threads(struct spice_rebuild *rb)
{
	u32 i;

	for (i = 0; i < rb->nr_new_threads; i++)
		wake_up_new_task(rb->new_threads[i]);
	rb->nr_new_threads = 0;
}

/**
 * spice_rebuild_start - Let the restored process run.
 * @rb: A rebuild past its point of no return.
 *
 * As exec reports it, a tracer that asked for %PTRACE_O_TRACEEXEC stops
 * the process here, with its new registers and before any other of its
 * threads has run (a tracer attached without it gets nothing: the
 * launcher never called execve(), and a SIGTRAP would reach the restored
 * program).  Then the other threads are woken; if the rebuild failed,
 * they only die of the SIGKILL it queued.
 */
void spice_rebuild_start(struct spice_rebuild *rb)
{
	struct task_struct *parent;
	pid_t vpid;

	if (!fatal_signal_pending(current) &&
	    ptrace_event_enabled(current, PTRACE_EVENT_EXEC)) {
		rcu_read_lock();
		parent = rcu_dereference(current->parent);
		vpid = task_pid_nr_ns(current, task_active_pid_ns(parent));
		rcu_read_unlock();
		ptrace_event(PTRACE_EVENT_EXEC, vpid);
	}
	spice_rebuild_start_threads(rb);
}

/*
 * What exec drops with the old mm and this call does not get for free by
 * unmapping: the robust and PI futexes the caller holds, syscall user
 * dispatch (io_uring requests go before, outside the exec lock).  Its
 * POSIX timers and CPU timers, which would fire into the restored program,
 * and its interval timers, which exec keeps but the image replaces.
 * And what exec resets for a new program: breakpoints a debugger set, perf events
 * that end at exec (their SIGTRAPs would name old code), user_events
 * enable bits (the kernel would write them into the new memory), the mm's
 * membarrier registrations, the arch's per-program state (x86: CPUID
 * faulting, SSBD for PR_SPEC_DISABLE_NOEXEC, LAM), and the exec count that
 * tells this process's children their parent is another program.  Then the
 * personality, before anything is mapped: READ_IMPLIES_EXEC changes what a
 * mapping gets.
 */
static void spice_commit_exec_resets(const struct spice_image_process *p)
{
	futex_exec_release(current);
	clear_syscall_work_syscall_user_dispatch(current);
	posixtimer_exec(current);
	spice_stop_itimers();
	flush_ptrace_hw_breakpoint(current);
	perf_event_exec();
	user_events_execve(current);
	membarrier_exec_mmap(current->mm);
	arch_setup_new_exec();
	WRITE_ONCE(current->self_exec_id, current->self_exec_id + 1);
	set_personality(p->personality);
}

/*
 * Whether the restored process may be dumped or ptraced by its user.  As
 * exec decides for a new program: dumpable if the ids all match and the
 * caller may read what the memory came from (exec's would_dump(): here
 * the image, whose fd may have been passed by someone else; files are
 * opened with the caller's permissions), else fs.suid_dumpable.  But never
 * more than the dumped program was: one that made itself undumpable (key
 * agents do) stays so.  After the fd table is swapped: the launcher's fds
 * are out of /proc's sight by then.
 */
static void spice_commit_dumpable(const struct spice_rebuild *rb)
{
	struct file *image = rb->image;
	int value = SUID_DUMP_USER;

	if (!uid_eq(current_euid(), current_uid()) ||
	    !gid_eq(current_egid(), current_gid()) ||
	    inode_permission(file_mnt_idmap(image), file_inode(image), MAY_READ))
		value = suid_dumpable;
	if (rb->img.proc->flags & SPICE_PROC_UNDUMPABLE)
		value = SUID_DUMP_DISABLE;
	set_dumpable(current->mm, value);
}

/*
 * The old address space goes entirely, as at exec, and mlockall(MCL_FUTURE)
 * and an MDWE not inherited by new programs with it.  No userfaultfd
 * monitor is told (exec tells none either): it would be waited for here,
 * past the point of no return.
 */
static int spice_commit_unmap(const struct spice_image_process *p)
{
	struct mm_struct *mm = current->mm;
	int err;

	VMA_ITERATOR(vmi, mm, 0);

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	err = do_vmi_munmap(&vmi, mm, 0, TASK_SIZE, NULL, false);
	mm->def_flags &= ~VM_LOCKED_MASK;
	spice_commit_mm_attrs_early(p);
	mmap_write_unlock(mm);
	return err;
}

/*
 * The image's executable becomes /proc/PID/exe, while nothing is mapped
 * (the old one may be the new one).  An image without one leaves none, as
 * no program's file should name the restored process.  The mmap lock
 * orders this against prctl(PR_SET_MM_EXE_FILE); readers use RCU.
 */
static int spice_commit_exe(struct file *exe)
{
	struct mm_struct *mm = current->mm;
	int err;

	if (exe)
		return replace_mm_exe_file(mm, exe);
	mmap_write_lock(mm);
	err = set_mm_exe_file(mm, NULL);
	mmap_write_unlock(mm);
	return err;
}

/**
 * spice_rebuild_commit - The point of no return: become the image's process.
 * @rb: A prepared rebuild.
 *
 * Return: The restored thread's return register, which restore_process()
 * returns; or, if an allocation failed, a negative error with SIGKILL
 * queued, so that the half-built process never runs.
 */
long spice_rebuild_commit(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	const struct spice_image_process *p = img->proc;
	const struct spice_image_thread *t = &img->threads[0];
	int err;

	/*
	 * io_uring requests would complete into old memory; cancelled as exec
	 * does, before its lock, which an io_uring worker may need.
	 */
	io_uring_task_cancel();
	/*
	 * As exec holds it: no access to the process's memory or credentials
	 * through /proc (mm_access(), lock_trace()) and no perf_event_open()
	 * sees it half rebuilt, or adds a remove_on_exec event after
	 * perf_event_exec().
	 */
	if (down_write_killable(&current->signal->exec_update_lock)) {
		force_fatal_sig(SIGKILL);
		return -EINTR;
	}
	spice_commit_exec_resets(p);
	spice_commit_rlimits(rb);
	err = spice_commit_unmap(p);
	if (!err)
		err = spice_commit_exe(rb->exe);
	if (!err)
		err = spice_memory_commit(rb->mem);
	if (!err && rb->vdso)
		err = spice_arch_map_vdso(rb->vdso);
	if (err) {
		up_write(&current->signal->exec_update_lock);
		force_fatal_sig(SIGKILL);
		return err;
	}
	spice_commit_files(rb);
	spice_commit_dumpable(rb);
	spice_commit_mm_layout(img);
	xchg(&current->fs->umask, p->umask & 0777);
	__set_task_comm(current, p->comm, true);
	spice_commit_signals(img);
	spice_commit_thread(current, t);
	spice_commit_attrs(rb);
	up_write(&current->signal->exec_update_lock);
	proc_exec_connector(current);
	/* With no lock held; before the threads, which are made from it. */
	spice_commit_thread_sched(current, t);
	spice_phase_end(rb, &rb->stats.commit_ns);
	err = spice_commit_threads(rb);
	if (err) {
		force_fatal_sig(SIGKILL);
		return err;
	}
	spice_commit_sigpending(rb);
	spice_commit_itimers(img);
	spice_commit_posix_timers(rb);
	spice_phase_end(rb, &rb->stats.threads_ns);
	return spice_arch_set_thread(t, t->xstate.len ?
				     spice_image_blob(img, t->xstate) : NULL);
}

void spice_rebuild_release(struct spice_rebuild *rb)
{
	u32 i;

	/* Never left unwoken: they die at once if the rebuild failed. */
	spice_rebuild_start_threads(rb);
	kfree(rb->new_threads);
	spice_release_tids(rb);
	spice_release_sigpending(rb);
	spice_release_posix_timers(rb);
	spice_memory_free(rb->mem);
	for (i = 0; rb->region_files && i < rb->img.nr[SPICE_SECT_VMAS]; i++)
		if (rb->region_files[i])
			fput(rb->region_files[i]);
	kvfree(rb->region_files);
	kvfree(rb->t.regions);
	spice_release_files(rb);
	spice_image_release(&rb->img);
	if (rb->report) {
		fput(rb->report->file);
		kfree(rb->report);
	}
	if (rb->image)
		fput(rb->image);
}
