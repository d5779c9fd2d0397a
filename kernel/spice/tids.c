// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): the threads' ids.
 *
 * Runtimes cache thread ids: glibc keeps each thread's in its descriptor
 * for pthread_kill() and writes it into the owner word of robust and PI
 * mutexes, which the kernel compares with the exiting thread's id.  So
 * the threads after the first get back the ids they had, as clone3()'s
 * set_tid gives them, with its rules: CAP_CHECKPOINT_RESTORE over the
 * caller's pid namespace, and ids that are free.  The ids are allocated
 * before the point of no return and handed to copy_process() after it, so
 * that no other process can take one in between.  The first thread is the
 * caller, whose pid the process keeps.
 */

#include <linux/fcntl.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/pidfs.h>
#include <uapi/linux/pidfd.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "rebuild.h"

/**
 * spice_prepare_tids - Take the thread ids the new threads will have.
 * @rb: The rebuild; @rb->tids gets one pid per thread after the first,
 *      unless %RESTORE_PROCESS_NEW_TIDS asked for new ids.
 *
 * Return: 0, or alloc_pid()'s errors for clone3()'s set_tid: -EINVAL if
 * the caller's children would be in another pid namespace than its own
 * (after unshare(CLONE_NEWPID), which threads cannot join), an id is
 * beyond pid_max or the namespace has no init yet; -EPERM without
 * CAP_CHECKPOINT_RESTORE over the caller's pid namespace; -EEXIST if an
 * id is taken; -EAGAIN if an ancestor namespace has no free id; -ENOMEM,
 * also for a dying namespace.
 */
int spice_prepare_tids(struct spice_rebuild *rb)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	u64 i, n = rb->img.nr[SPICE_SECT_THREADS];
	struct pid *pid;
	pid_t tid;

	if (n < 2)
		return 0;
	/* As copy_process() refuses CLONE_THREAD into another namespace. */
	if (current->nsproxy->pid_ns_for_children != ns)
		return -EINVAL;
	if (rb->flags & RESTORE_PROCESS_NEW_TIDS)
		return 0;
	rb->tids = kcalloc(n - 1, sizeof(*rb->tids), GFP_KERNEL_ACCOUNT);
	if (!rb->tids)
		return -ENOMEM;
	for (i = 1; i < n; i++) {
		tid = rb->img.threads[i].tid;
		pid = alloc_pid(ns, &tid, 1);
		if (IS_ERR(pid))
			return PTR_ERR(pid);
		rb->tids[i - 1] = pid;
	}
	return 0;
}

/**
 * spice_pidfd_file - Make a pidfd of the restored process or a thread of it.
 * @rb: The rebuild, its thread ids taken.
 * @d: An fd of type %SPICE_FD_PIDFD, checked.
 * @out: The file, on success.
 *
 * A pidfd of the process is one of the caller's tgid, which the restored
 * process keeps; one of its main thread (PIDFD_THREAD), of the caller's
 * own id; one of another thread, of the id taken for it, which it gets at
 * its creation after the point of no return.  As
 * pidfd_open(2) gives them to a process for itself: no privilege needed.
 *
 * Return: 0, -ENOMEM, -ENFILE, or -EOPNOTSUPP for a pidfd of a thread
 * with %RESTORE_PROCESS_NEW_TIDS (its id is not known before that point).
 */
int spice_pidfd_file(struct spice_rebuild *rb, const struct spice_image_fd *d,
		     struct file **out)
{
	struct pid *pid = task_tgid(current);
	struct file *file;

	/* The caller may be a thread whose leader exited: it is thread 0. */
	if (d->open_flags & PIDFD_THREAD)
		pid = task_pid(current);
	if (d->object) {
		if (!rb->tids)
			return -EOPNOTSUPP;
		pid = rb->tids[d->object - 1];
	}
	file = pidfs_alloc_file(pid, O_RDWR | (d->open_flags & (O_NONBLOCK | O_EXCL)));
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* Opening strips O_EXCL; set PIDFD_THREAD again, as pidfd_open() does. */
	file->f_flags |= d->open_flags & PIDFD_THREAD;
	*out = file;
	return 0;
}

/* The ids no thread took: not restored, or copy_process() failed early. */
void spice_release_tids(struct spice_rebuild *rb)
{
	u64 i;

	for (i = 0; rb->tids && i + 1 < rb->img.nr[SPICE_SECT_THREADS]; i++)
		if (rb->tids[i])
			free_pid(rb->tids[i]);
	kfree(rb->tids);
	rb->tids = NULL;
}
