/* SPDX-License-Identifier: GPL-2.0 */
/*
 * restore_process(): rebuilding the calling process from a checked image.
 *
 * spice_rebuild_prepare() checks everything the image refers to and takes
 * every resource the rebuild needs (files, fds, the memory's contents)
 * without changing the caller; spice_rebuild_commit() is the point of no
 * return: it replaces the caller's address space, fds and state.
 */
#ifndef _KERNEL_SPICE_REBUILD_H
#define _KERNEL_SPICE_REBUILD_H

#include <linux/ktime.h>
#include <linux/path.h>
#include <linux/resource.h>
#include <linux/workqueue.h>
#include <linux/spice.h>

#include "image.h"

struct k_itimer;
struct restore_process_fd;
struct socket;
struct spice_channel;

/* An fd of the restored process and the file it gets. */
struct spice_new_fd {
	unsigned int fd;
	bool cloexec;
	bool supplied;		/* by the launcher's fd map */
	struct file *file;	/* reference held */
};

struct spice_rebuild {
	struct spice_image img;
	struct file *image;		/* reference held */

	/* Memory: regions built from the image's VMAs. */
	struct mmap_restore_tables t;
	struct file **region_files;	/* per region, or NULL; references held */
	struct spice_restore *mem;
	u64 vdso;			/* 0: no vDSO */

	/* Files and fds. */
	struct spice_new_fd *fds;	/* sorted by fd once prepared */
	unsigned int nr_fds;
	struct spice_channel *channels;	/* per fd of the image, or NULL */
	struct files_struct *files;	/* the new fd table, or NULL */
	struct files_struct *old_files;	/* the caller's, once swapped out */
	struct file *exe;		/* reference held, write access denied */
	struct path cwd;		/* reference held if cwd.mnt */
	struct file **hashed;		/* per image file: the one hashed, held */
	struct file **made;		/* per image file: the one made, held */
	void *hash_buf;			/* SPICE_HASH_CHUNK bytes, to hash */

	/* The limits the restored process gets: the image's or the caller's. */
	struct rlimit rlim[RLIM_NLIMITS];
	struct rlimit caller_rlim[RLIM_NLIMITS];	/* as checked */

	/* Threads made after the point of no return, not woken yet. */
	struct task_struct **new_threads;	/* room for all but the first */
	u32 nr_new_threads;
	struct pid **tids;		/* their ids, taken beforehand, or NULL */
	unsigned int flags;		/* RESTORE_PROCESS_* */

	/* Per pending signal of the image, its queue entry until queued. */
	struct sigqueue **sigqueues;
	/* Per POSIX timer of the image, the timer until installed. */
	struct k_itimer **posix_timers;

	/* Where the time went; sent with RESTORE_PROCESS_STATS. */
	struct restore_process_stats stats;
	u64 phase_start;		/* ktime_get_ns() at the current phase */
	struct spice_report *report;	/* or NULL */
};

/* A stats record on its way to the launcher's pipe. */
struct spice_report {
	struct work_struct work;
	struct file *file;		/* reference held */
	struct restore_process_stats stats;
};

/* Close the current phase into @phase_ns; start the next one. */
static inline void spice_phase_end(struct spice_rebuild *rb, u64 *phase_ns)
{
	u64 now = ktime_get_ns();

	*phase_ns = now - rb->phase_start;
	rb->phase_start = now;
}

/* Add the time since the current phase began to @phase_ns; start anew. */
static inline void spice_phase_add(struct spice_rebuild *rb, u64 *phase_ns)
{
	u64 now = ktime_get_ns();

	*phase_ns += now - rb->phase_start;
	rb->phase_start = now;
}

/* files.c */
int spice_open_image_file(struct spice_rebuild *rb, u32 idx, int flags,
			  struct file **out);
int spice_prepare_fds(struct spice_rebuild *rb,
		      const struct restore_process_fd *map, u32 nr_map);
int spice_prepare_exe_cwd(struct spice_rebuild *rb);
int spice_prepare_fd_table(struct spice_rebuild *rb);
void spice_commit_files(struct spice_rebuild *rb);
void spice_release_files(struct spice_rebuild *rb);
const struct spice_new_fd *spice_find_new_fd(const struct spice_rebuild *rb,
					     s32 fd);

/* made_files.c */
int spice_prepare_made_files(struct spice_rebuild *rb);
struct file *spice_open_made_file(struct spice_rebuild *rb, u32 idx, int flags);
void spice_release_made_files(struct spice_rebuild *rb);

/* channels.c */
int spice_channel_file(struct spice_rebuild *rb, const struct spice_image_fd *d,
		       struct file **out);
void spice_release_channels(struct spice_rebuild *rb);

/* events.c */
int spice_create_event_file(const struct spice_image *img,
			    const struct spice_image_fd *d, struct file **out);
int spice_prepare_epoll(struct spice_rebuild *rb);

/* rlimits.c */
int spice_prepare_rlimits(struct spice_rebuild *rb);
void spice_commit_rlimits(const struct spice_rebuild *rb);

/* attrs.c */
bool spice_mdwe_applies(void);
int spice_prepare_attrs(const struct spice_rebuild *rb);
void spice_commit_mm_attrs_early(const struct spice_image_process *p);
void spice_commit_attrs(const struct spice_rebuild *rb);
void spice_commit_thread_attrs(struct task_struct *p,
			       const struct spice_image_thread *t);
void spice_commit_thread_sched(struct task_struct *p,
			       const struct spice_image_thread *t);

/* sched.c */
int spice_prepare_sched(const struct spice_rebuild *rb);
void spice_commit_sched(struct task_struct *p, const struct spice_image_thread *t);

/* timers.c */
void spice_stop_itimers(void);
void spice_commit_itimers(const struct spice_image *img);
int spice_prepare_posix_timers(struct spice_rebuild *rb);
void spice_commit_posix_timers(struct spice_rebuild *rb);
void spice_release_posix_timers(struct spice_rebuild *rb);

/* sigpending.c */
int spice_prepare_sigpending(struct spice_rebuild *rb);
void spice_commit_sigpending(struct spice_rebuild *rb);
void spice_release_sigpending(struct spice_rebuild *rb);

/* sockets.c */
#ifdef CONFIG_NET
int spice_unix_socketpair(int type, struct socket **sock);
int spice_socket_file(const struct spice_image *img,
		      const struct spice_image_fd *d, struct file **out);
int spice_bind_sockets(struct spice_rebuild *rb);
#else
static inline int spice_unix_socketpair(int type, struct socket **sock)
{
	return -EAFNOSUPPORT;	/* as socketpair(AF_UNIX) would say */
}

static inline int spice_socket_file(const struct spice_image *img,
				    const struct spice_image_fd *d,
				    struct file **out)
{
	return -EAFNOSUPPORT;	/* as socket(2) would say */
}

static inline int spice_bind_sockets(struct spice_rebuild *rb)
{
	return 0;	/* none made */
}
#endif

/* locks.c */
int spice_prepare_locks(struct spice_rebuild *rb);

/* tids.c */
int spice_prepare_tids(struct spice_rebuild *rb);
int spice_pidfd_file(struct spice_rebuild *rb, const struct spice_image_fd *d,
		     struct file **out);
void spice_release_tids(struct spice_rebuild *rb);

/* rebuild.c */
int spice_rebuild_prepare(struct spice_rebuild *rb,
			  const struct restore_process_fd *map, u32 nr_map);
long spice_rebuild_commit(struct spice_rebuild *rb);
void spice_rebuild_start(struct spice_rebuild *rb);
void spice_rebuild_release(struct spice_rebuild *rb);

#endif /* _KERNEL_SPICE_REBUILD_H */
