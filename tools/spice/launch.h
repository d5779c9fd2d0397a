/* SPDX-License-Identifier: GPL-2.0 */
/* A launcher's part of a restore (launch.c). */
#ifndef __SPICE_LAUNCH_H
#define __SPICE_LAUNCH_H

#include <sys/types.h>
#include <spice/image.h>

/*
 * Give each file of @map the O_NONBLOCK that the image recorded for the fd
 * it becomes; 0 or -errno.
 */
int launch_set_fd_flags(const struct spice_image *img,
			const struct restore_process_fd *map, unsigned int n);

/*
 * Fork a child whose pid is @pid in our pid namespace: 0 in the child, its
 * pid in the parent, or -errno: -EEXIST if @pid is taken, -EPERM without
 * CAP_CHECKPOINT_RESTORE over the pid namespace.
 */
pid_t launch_fork_as(pid_t pid);

/* Wait for @child; its exit status, or 128 + the signal that killed it. */
int launch_wait(pid_t child);

#endif /* __SPICE_LAUNCH_H */
