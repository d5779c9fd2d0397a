/* SPDX-License-Identifier: GPL-2.0 */
/* A launcher's part of a restore (launch.c). */
#ifndef __SPICE_LAUNCH_H
#define __SPICE_LAUNCH_H

#include <sys/types.h>
#include <spice/image.h>

/*
 * Give each pipe or socket of @map the O_NONBLOCK that the image recorded
 * for the fd it becomes (the open file's flag, shared with whoever else
 * holds it; terminals and files are left alone); 0 or -errno.
 */
int launch_set_fd_flags(const struct spice_image *img,
			const struct restore_process_fd *map, unsigned int n);

/*
 * Fork a child whose pid is @pid in our pid namespace (the dumper's, for
 * the pid to mean the same): 0 in the child, its pid in the parent, or
 * -errno: -EEXIST if @pid is taken, -EPERM without CAP_CHECKPOINT_RESTORE
 * over the pid namespace.  A raw clone3(): glibc's fork handlers do not
 * run, so the caller must be single-threaded and its child should call
 * little more than restore_process().
 */
pid_t launch_fork_as(pid_t pid);

/*
 * The same in a new pid namespace (needs CAP_SYS_ADMIN), for when @pid is
 * taken in ours: the child is that namespace's init, which forks the one
 * that gets @pid there (0 returns in it), reaps the namespace's orphans,
 * and exits with the status of the restored process, ending the namespace.
 * The init's pid, or -errno, returns in the parent.
 */
pid_t launch_fork_in_pid_ns(pid_t pid);

/*
 * Wait for @child, passing it the signals a supervisor would (HUP, INT,
 * QUIT, TERM, USR1, USR2), reaping any other child meanwhile; its exit
 * status, or 128 + its killing signal.
 */
int launch_wait(pid_t child);

#endif /* __SPICE_LAUNCH_H */
