// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(2): argument handling.
 *
 * This file copies and checks what the launcher passed, has the image read
 * and checked (image.c), then rebuilds the process (rebuild.c).
 */

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <uapi/linux/spice.h>

#include "rebuild.h"

static void restore_process_abi_checks(void)
{
	/* Same layout on every arch: no holes, no compat handler needed. */
	BUILD_BUG_ON(sizeof(struct restore_process_args) != RESTORE_PROCESS_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct restore_process_fd) != 16);
	BUILD_BUG_ON(sizeof(struct restore_process_stats) != 112);
	BUILD_BUG_ON(sizeof(struct restore_process_stats) > PIPE_BUF);
}

static int restore_process_copy_args(struct restore_process_args *args,
				     const struct restore_process_args __user *uargs,
				     size_t usize)
{
	int err;

	if (usize < RESTORE_PROCESS_ARGS_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(args, sizeof(*args), uargs, usize);
	if (err)
		return err;

	if (args->reserved || args->reserved2)
		return -EINVAL;
	if (args->nr_fd_map > RESTORE_PROCESS_MAX_FD_MAP)
		return -E2BIG;
	if (!args->nr_fd_map && args->fd_map)
		return -EINVAL;
	return 0;
}

/*
 * Copy the fd map and check each entry: numbers in range, no image fd twice,
 * every launcher fd open.  Returns the map (NULL when empty) or an ERR_PTR.
 */
static struct restore_process_fd *
restore_process_copy_fd_map(const struct restore_process_args *args)
{
	struct restore_process_fd *map;
	unsigned int i, j;
	int err = -EINVAL;

	if (!args->nr_fd_map)
		return NULL;
	map = vmemdup_array_user(u64_to_user_ptr(args->fd_map), args->nr_fd_map,
				 sizeof(*map));
	if (IS_ERR(map))
		return map;

	for (i = 0; i < args->nr_fd_map; i++) {
		struct restore_process_fd *e = &map[i];

		if (e->flags || e->reserved || e->image_fd < 0)
			goto fail;
		/* The map is at most RESTORE_PROCESS_MAX_FD_MAP long. */
		for (j = 0; j < i; j++)
			if (map[j].image_fd == e->image_fd)
				goto fail;
	}
	for (i = 0; i < args->nr_fd_map; i++) {
		CLASS(fd_raw, f)(map[i].fd);

		if (map[i].fd < 0 || fd_empty(f)) {
			err = -EBADF;
			goto fail;
		}
	}
	return map;
fail:
	kvfree(map);
	return ERR_PTR(err);
}

/*
 * The image must be a regular file open for reading; its metadata is read
 * and checked (image.c).  On success @rb holds the image and its file.
 */
static int restore_process_read_image(int image_fd, struct spice_rebuild *rb)
{
	struct file *file = fget(image_fd);
	int err;

	if (!file)
		return -EBADF;
	rb->image = file;
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (!S_ISREG(file_inode(file)->i_mode))
		return -EINVAL;
	err = spice_image_read(&rb->img, file);
	return err;
}

/*
 * With RESTORE_PROCESS_STATS: the stats fd must be a pipe open for
 * writing.  The report and its file reference are taken now, so that
 * nothing about them can fail after the point of no return.
 */
static int restore_process_stats_file(const struct restore_process_args *args,
				      struct spice_rebuild *rb)
{
	struct file *file = fget(args->stats_fd);
	int err = 0;

	if (!file)
		return -EBADF;
	if (!(file->f_mode & FMODE_WRITE))
		err = -EBADF;
	else if (!S_ISFIFO(file_inode(file)->i_mode))
		err = -EINVAL;
	if (err) {
		fput(file);
		return err;
	}
	rb->report = kzalloc(sizeof(*rb->report), GFP_KERNEL_ACCOUNT);
	if (!rb->report) {
		fput(file);
		return -ENOMEM;
	}
	rb->report->file = file;
	return 0;
}

/*
 * The write happens in a worker, not in the restored process: a pipe
 * write can block, and sends SIGPIPE to the writer when the reader has
 * gone, neither of which the restored process asked for.  It does not
 * wait for room (IOCB_NOWAIT): with a full pipe the record is lost, as
 * it is when the reader has gone.  The record is below PIPE_BUF, so it is
 * written whole or not at all.
 */
static void restore_process_report_work(struct work_struct *work)
{
	struct spice_report *r = container_of(work, struct spice_report, work);
	struct kvec kv = { .iov_base = &r->stats, .iov_len = sizeof(r->stats) };
	struct iov_iter iter;
	struct kiocb kiocb;

	init_sync_kiocb(&kiocb, r->file);
	kiocb.ki_flags |= IOCB_NOWAIT;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, sizeof(r->stats));
	vfs_iocb_iter_write(r->file, &kiocb, &iter);
	fput(r->file);
	kfree(r);
}

/* Past the point of no return, with the process restored: send the stats. */
static void restore_process_report(struct spice_rebuild *rb)
{
	const struct mmap_restore_stats *m = spice_memory_stats(rb->mem);
	struct spice_report *r = rb->report;
	struct restore_process_stats *st = &r->stats;

	*st = rb->stats;
	st->size = sizeof(*st);
	st->nr_threads = rb->img.nr[SPICE_SECT_THREADS];
	st->nr_fds = rb->nr_fds;
	st->nr_vmas = rb->img.nr[SPICE_SECT_VMAS];
	st->pages_populated = m->pages_populated;
	st->pages_read = m->pages_read;
	st->bytes_read = m->bytes_read;
	st->io_requests = m->io_requests;
	st->pages_deferred = m->pages_deferred;
	st->total_ns = ktime_get_ns() - st->start_ns;
	INIT_WORK(&r->work, restore_process_report_work);
	queue_work(system_unbound_wq, &r->work);
	rb->report = NULL;	/* the worker's now */
}

/**
 * sys_restore_process - Turn the calling process into one saved in an image.
 * @image_fd: Descriptor of the snapshot image, a regular file open for
 *            reading.
 * @uargs:    Pointer to a &struct restore_process_args.
 * @usize:    Size of *@uargs as the caller knows it; at least
 *            %RESTORE_PROCESS_ARGS_SIZE_VER0 and at most %PAGE_SIZE.
 * @flags:    Bitmask of RESTORE_PROCESS_* flags.
 *
 * Validates the image and everything it refers to, then replaces the
 * calling process with the one the image describes, as execve() replaces
 * the program.  The caller's credentials, namespaces and cgroups are kept;
 * the image's resource limits, prctl state and OOM score are set with the
 * rules of setrlimit(2), prctl(2) and /proc/PID/oom_score_adj, and its
 * threads get back their ids.  Before that point any failure returns an
 * error and leaves the caller unchanged.  As after execve(), the process
 * is dumpable if its ids all match, and a tracer with %PTRACE_O_TRACEEXEC
 * gets %PTRACE_EVENT_EXEC before the restored process runs.
 *
 * Return: %SPICE_ABI_VERSION for %RESTORE_PROCESS_ABI_VERSION; does not
 * return on success; else a negative error:
 *
 * - -EINVAL: @flags has an unknown bit; %RESTORE_PROCESS_ABI_VERSION with
 *   other arguments; @usize is below %RESTORE_PROCESS_ARGS_SIZE_VER0; a
 *   reserved field or fd-map flag is not zero; @fd_map is set without
 *   @nr_fd_map; an fd-map entry has a negative or repeated @image_fd; the
 *   image is not a regular file; with %RESTORE_PROCESS_STATS, @stats_fd
 *   is not a pipe.
 * - -EPERM: The caller lacks CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in
 *   its user namespace (checked first); an executable mapping of a file on
 *   a noexec mount; a sealed mapping in the caller; an epoll watch of a
 *   file that cannot be polled, which epoll_ctl(2) refuses too; a hard
 *   resource limit above the caller's without CAP_SYS_RESOURCE, or
 *   RLIMIT_NOFILE above fs.nr_open; MDWE bits other than the caller keeps,
 *   or a writable and executable mapping under them; a scheduling policy,
 *   priority or nice value the caller could not set on itself without
 *   CAP_SYS_NICE; a writable shared mapping of a write-sealed memfd.
 * - -EACCES: An OOM score below the caller's oom_score_adj_min without
 *   CAP_SYS_RESOURCE; an executable memfd or unlinked file where
 *   vm.memfd_noexec forbids one to the caller.
 * - -EFBIG: A memfd or unlinked file of the image over the caller's
 *   RLIMIT_FSIZE.
 * - -EAGAIN, -EPERM: Locked mappings over the image's RLIMIT_MEMLOCK, or
 *   with it zero, without CAP_IPC_LOCK.
 * - -EAGAIN: Pending real-time signals or POSIX timers over the caller's
 *   RLIMIT_SIGPENDING (as sigqueue() and timer_create() fail), or no
 *   memory for their queue entries.
 * - -EPERM, -EOPNOTSUPP: A POSIX timer on an alarm clock without
 *   CAP_WAKE_ALARM, or without an RTC to wake the system.
 * - -EAGAIN: Another process holds a lock that conflicts with a file
 *   lock of the image, as flock(LOCK_NB) and fcntl(F_SETLK) fail; -ENOLCK
 *   on a kernel without file locking.  An LSM or a filesystem may refuse a
 *   lock with its own error.
 * - -EEXIST: A thread id of the image is taken (unless
 *   %RESTORE_PROCESS_NEW_TIDS).
 * - -EPERM, -EINVAL, -EAGAIN: A thread id of the image needs
 *   CAP_CHECKPOINT_RESTORE over the caller's pid namespace, is beyond its
 *   pid_max, or an ancestor namespace has no free id, as clone3()'s
 *   set_tid; -EINVAL also for a multi-threaded image when the caller's
 *   children would be in another pid namespace than its own, or MDWE on
 *   an architecture without it.  An LSM may refuse a resource limit with
 *   its own error.
 * - -E2BIG: @usize is above %PAGE_SIZE, or the caller's struct is larger
 *   than the kernel's and the extra bytes are not zero; @nr_fd_map is above
 *   %RESTORE_PROCESS_MAX_FD_MAP.
 * - -EFAULT: @uargs or @fd_map is not readable.
 * - -EBADF: @image_fd is not open for reading, an fd-map @fd is not open,
 *   or the image has a pipe or other fd the map must supply and does not;
 *   with %RESTORE_PROCESS_STATS, @stats_fd is not open for writing.
 * - -ENOEXEC: The image is not a Spice image this kernel reads: magic,
 *   format version, architecture, page size or an incompatible feature.
 * - -EBADMSG: The image's metadata checksum does not match.
 * - -E2BIG, -EINVAL: The image breaks a limit, or another rule, of
 *   Documentation/spice/image-format.rst, or holds thread or signal state
 *   this kernel would refuse, or a mapping over the vDSO; two fds of one
 *   end of an internal pipe or socket pair with different open flags.
 * - -ESTALE: A file the image refers to is not the one dumped (type, size,
 *   modification time, inode generation or SHA-256 contents).
 * - -ENOENT, -EACCES, -ENOTDIR, ...: Opening a file of the image, or
 *   looking up its working directory, failed; -EACCES or -EPERM also from
 *   an LSM refusing an internal socket pair.
 * - -ETXTBSY: The image's executable is open for writing.
 * - -EBUSY: The caller has other threads or shares its address space, has
 *   uprobes state, or has memory registered with a userfaultfd.
 * - -EMFILE: An fd is at or above both the caller's and the image's
 *   RLIMIT_NOFILE.
 * - -EIO: The image or a backing file could not be read.
 * - -EINTR: A fatal signal arrived while reading or making the fds or
 *   filling a memfd or unlinked file.  Any signal while a file is read to
 *   check its SHA-256 restarts the call.
 * - -ENOMEM: Out of memory (the image's metadata, the tables and the
 *   memory restored are charged to the caller's memcg); more mappings than
 *   vm.max_map_count, or memory over the image's RLIMIT_AS or RLIMIT_DATA.
 * - -ENOSPC: The image's epoll watches go over the per-user limit
 *   (fs.epoll.max_user_watches), or an internal pipe's data does not fit
 *   in the new pipe (fs.pipe-user-pages-soft made it smaller).
 * - -ENFILE: The system limit on open files, or on pipe buffers for an
 *   internal pipe, was reached.
 * - -EAFNOSUPPORT: An internal socket pair on a kernel without AF_UNIX, or
 *   a socket of a family the kernel lacks.
 * - -EADDRINUSE, -EADDRNOTAVAIL, -ENODEV: A socket of the image could not
 *   be bound as bind(2) would bind it for the caller: another socket holds
 *   its address, the caller's network namespace lacks the address, or its
 *   SO_BINDTODEVICE interface.  -EACCES for a port below
 *   net.ipv4.ip_unprivileged_port_start without CAP_NET_BIND_SERVICE or an
 *   AF_UNIX path the caller may not create; -EPERM for a socket option it
 *   may not set (SO_MARK, SO_PRIORITY above 6, the FORCE buffer sizes);
 *   an LSM may refuse a socket with its own error.
 * - -ELOOP: The image's epoll instances watch each other, or nest deeper
 *   than epoll allows.
 * - -EOPNOTSUPP: A 32-bit thread or caller, a caller with a shadow stack;
 *   a pidfd of a thread with %RESTORE_PROCESS_NEW_TIDS; a memfd without
 *   CONFIG_MEMFD_CREATE; a real-time thread with CONFIG_RT_GROUP_SCHED.
 *
 * Past the point of no return only allocations and thread creation can
 * fail; the process is then killed with SIGKILL.
 */
SYSCALL_DEFINE4(restore_process, int, image_fd,
		const struct restore_process_args __user *, uargs,
		size_t, usize, unsigned int, flags)
{
	struct restore_process_args args;
	struct restore_process_fd *fd_map;
	struct spice_rebuild *rb;
	u64 start_ns;
	long ret = 0;
	int err;

	restore_process_abi_checks();

	if (flags & ~(RESTORE_PROCESS_ABI_VERSION | RESTORE_PROCESS_STATS |
		      RESTORE_PROCESS_NEW_TIDS))
		return -EINVAL;
	if (flags & RESTORE_PROCESS_ABI_VERSION) {
		if (image_fd != -1 || uargs || usize || flags != RESTORE_PROCESS_ABI_VERSION)
			return -EINVAL;
		return SPICE_ABI_VERSION;
	}
	start_ns = ktime_get_ns();

	if (!checkpoint_restore_ns_capable(current_user_ns()))
		return -EPERM;
	/* Images hold 64-bit processes; the call is for 64-bit launchers. */
	if (in_compat_syscall())
		return -EOPNOTSUPP;

	err = restore_process_copy_args(&args, uargs, usize);
	if (err)
		return err;
	fd_map = restore_process_copy_fd_map(&args);
	if (IS_ERR(fd_map))
		return PTR_ERR(fd_map);
	/* Too large for the stack of a system call. */
	rb = kzalloc(sizeof(*rb), GFP_KERNEL_ACCOUNT);
	if (!rb) {
		kvfree(fd_map);
		return -ENOMEM;
	}
	rb->stats.start_ns = start_ns;
	rb->flags = flags;
	if (flags & RESTORE_PROCESS_STATS)
		err = restore_process_stats_file(&args, rb);
	if (!err)
		err = restore_process_read_image(image_fd, rb);
	rb->phase_start = ktime_get_ns();
	rb->stats.image_ns = rb->phase_start - rb->stats.start_ns;
	if (!err)
		err = spice_rebuild_prepare(rb, fd_map, args.nr_fd_map);
	if (!err)
		ret = spice_rebuild_commit(rb);
	/*
	 * @ret is the restored thread's return register, any value; a
	 * failure past the point of no return left SIGKILL pending.
	 */
	if (!err && rb->report && !fatal_signal_pending(current))
		restore_process_report(rb);
	/* A tracer's exec event, then the other threads run. */
	if (!err)
		spice_rebuild_start(rb);
	spice_rebuild_release(rb);
	kfree(rb);
	kvfree(fd_map);
	return err ? err : ret;
}
