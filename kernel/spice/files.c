// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): the files a restored process maps or holds open.
 *
 * Files are opened by path with the caller's credentials and root, and
 * must still be the ones dumped: same type and size, same modification
 * time, same inode generation and contents (SHA-256) when the image has
 * them.  A changed file fails the restore (-ESTALE) instead of being
 * mapped.  Files without a name are made anew (made_files.c), sockets
 * too (sockets.c), and pipes and socket pairs internal to the process
 * (channels.c); other pipes and objects come from the launcher's fd map.
 */

#include <crypto/sha2.h>
#include <linux/bsearch.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spice.h>

#include "rebuild.h"

/* Open flags an fd keeps; creation and truncation never replay. */
#define SPICE_FD_OPEN_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | \
				 O_DIRECT | O_LARGEFILE | O_DIRECTORY | \
				 O_NOFOLLOW | O_NOATIME | __O_SYNC | O_PATH)

static int spice_check_identity(struct file *file,
				const struct spice_image_file *f)
{
	struct inode *inode = file_inode(file);
	struct timespec64 mtime;

	if ((inode->i_mode & S_IFMT) != (f->mode & S_IFMT))
		return -ESTALE;
	if (S_ISCHR(inode->i_mode))
		return inode->i_rdev == new_decode_dev(f->rdev) ? 0 : -ESTALE;
	if (S_ISDIR(inode->i_mode))
		return 0;
	mtime = inode_get_mtime(inode);
	if (i_size_read(inode) != f->size || mtime.tv_sec != f->mtime_sec ||
	    mtime.tv_nsec != f->mtime_nsec)
		return -ESTALE;
	if ((f->flags & SPICE_FILE_HAS_GENERATION) &&
	    inode->i_generation != f->generation)
		return -ESTALE;
	return 0;
}

/* Bytes read at a time to hash a file. */
#define SPICE_HASH_CHUNK	SZ_64K

/*
 * Read the file at @path through the page cache, as the caller opening it
 * for reading: it must have exactly the dumped size and SHA-256.  The file
 * read stays held, so that a later open of the same image file is checked
 * again only if the path now leads to another inode (renamed over since).
 * A signal restarts the call: nothing has changed yet.
 */
static int spice_check_contents(struct spice_rebuild *rb, u32 idx,
				const struct path *path)
{
	const struct spice_image_file *f = &rb->img.files[idx];
	struct file *file, **hashed = &rb->hashed[idx];
	u8 digest[SHA256_DIGEST_SIZE];
	struct sha256_state sctx;
	loff_t pos = 0;
	ssize_t n;
	int err;

	if (*hashed && file_inode(*hashed) == d_inode(path->dentry))
		return 0;
	err = path_permission(path, MAY_OPEN | MAY_READ);
	if (err)
		return err;
	file = dentry_open(path, O_RDONLY | O_LARGEFILE, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);
	sha256_init(&sctx);
	do {
		err = -ERESTARTNOINTR;
		if (signal_pending(current))
			goto out;
		cond_resched();
		n = kernel_read(file, rb->hash_buf, SPICE_HASH_CHUNK, &pos);
		if (n > 0)
			sha256_update(&sctx, rb->hash_buf, n);
	} while (n > 0 && pos <= f->size);
	sha256_final(&sctx, digest);
	err = n < 0 ? n : 0;
	if (!err && (pos != f->size || memcmp(digest, f->sha256, sizeof(digest))))
		err = -ESTALE;
	if (!err) {
		swap(*hashed, file);
		if (!file)
			return 0;
	}
out:
	fput(file);
	return err;
}

/**
 * spice_open_image_file - Open file @idx of the image and check it, or
 * open the file made for it.
 * @rb: The rebuild.
 * @idx: Index in the image's file table.
 * @flags: Open flags.
 * @out: The file, on success.
 *
 * Return: 0, -ESTALE if the file is not the one dumped, -EACCES if its
 * contents are to be checked and the caller may not read it,
 * -ERESTARTNOINTR on a signal while it is read, or filp_open()'s errors
 * (-ENOENT, -EACCES, ...).
 */
int spice_open_image_file(struct spice_rebuild *rb, u32 idx, int flags,
			  struct file **out)
{
	const struct spice_image_file *f = &rb->img.files[idx];
	struct file *file, *probe;
	char *path;
	int err;

	if (f->flags & SPICE_FILE_MADE) {
		file = spice_open_made_file(rb, idx, flags);
		if (IS_ERR(file))
			return PTR_ERR(file);
		*out = file;
		return 0;
	}
	if ((f->flags & SPICE_FILE_HAS_SHA256) && !rb->hashed) {
		rb->hashed = kvcalloc(rb->img.nr[SPICE_SECT_FILES],
				      sizeof(*rb->hashed), GFP_KERNEL);
		rb->hash_buf = kvmalloc(SPICE_HASH_CHUNK, GFP_KERNEL);
		if (!rb->hashed || !rb->hash_buf)
			return -ENOMEM;
	}
	/* Only a made file was made with O_TMPFILE; a named one is not. */
	flags &= ~__O_TMPFILE;
	path = kmemdup_nul(spice_image_blob(&rb->img, f->path), f->path.len,
			   GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	/*
	 * Check the identity on an O_PATH open first, so that a path that
	 * now names a device or a FIFO is refused before a driver's ->open()
	 * runs or the open blocks; then open it for real, with the
	 * permission checks of open(2), and make sure it is the same inode.
	 */
	probe = filp_open(path, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)), 0);
	if (IS_ERR(probe)) {
		kfree(path);
		return PTR_ERR(probe);
	}
	err = spice_check_identity(probe, f);
	if (!err && (f->flags & SPICE_FILE_HAS_SHA256))
		err = spice_check_contents(rb, idx, &probe->f_path);
	if (err || (flags & O_PATH)) {
		kfree(path);
		if (err)
			fput(probe);
		else
			*out = probe;
		return err;
	}
	file = filp_open(path, flags | O_LARGEFILE | O_NOCTTY, 0);
	kfree(path);
	if (IS_ERR(file)) {
		fput(probe);
		return PTR_ERR(file);
	}
	err = file_inode(file) == file_inode(probe) ? spice_check_identity(file, f) :
						       -ESTALE;
	fput(probe);
	if (err) {
		fput(file);
		return err;
	}
	*out = file;
	return 0;
}

static struct spice_new_fd *spice_add_fd(struct spice_rebuild *rb,
					 unsigned int fd)
{
	struct spice_new_fd *n = &rb->fds[rb->nr_fds++];

	n->fd = fd;
	return n;
}

static const struct restore_process_fd *
spice_find_map(const struct restore_process_fd *map, u32 nr, unsigned int fd)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (map[i].image_fd == fd)
			return &map[i];
	return NULL;
}

/* The entry of fd @fd, before the entries are sorted. */
static struct spice_new_fd *spice_added_fd(struct spice_rebuild *rb,
					   unsigned int fd)
{
	unsigned int i;

	for (i = 0; i < rb->nr_fds; i++)
		if (rb->fds[i].fd == fd)
			return &rb->fds[i];
	return NULL;
}

static int spice_new_fd_cmp(const void *a, const void *b)
{
	const struct spice_new_fd *x = a, *y = b;

	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/* Open an image fd of type SPICE_FD_FILE at its offset. */
static int spice_open_fd(struct spice_rebuild *rb, const struct spice_image_fd *d,
			 struct spice_new_fd *n)
{
	loff_t pos;
	int err;

	err = spice_open_image_file(rb, d->file,
				    d->open_flags & (SPICE_FD_OPEN_FLAGS | __O_TMPFILE),
				    &n->file);
	if (err)
		return err;
	if (d->pos && (n->file->f_mode & FMODE_LSEEK)) {
		pos = vfs_llseek(n->file, d->pos, SEEK_SET);
		if (pos < 0)
			return pos;
		if (pos != d->pos)
			return -EINVAL;
	}
	return 0;
}

/**
 * spice_prepare_fd_table - Build the restored process's fd table.
 * @rb: The rebuild, with its fds prepared.
 *
 * Built last before the point of no return, and swapped in after it:
 * nothing is left there to allocate, and no RLIMIT_NOFILE lowered meanwhile
 * (prlimit() from another process) can fail it.  The highest fd goes in
 * first, so that the table is sized once.
 *
 * Return: 0, -ENOMEM, or -EMFILE for an fd at or above fs.nr_open.
 */
int spice_prepare_fd_table(struct spice_rebuild *rb)
{
	unsigned int i;
	int err;

	rb->files = files_create();
	if (IS_ERR(rb->files)) {
		err = PTR_ERR(rb->files);
		rb->files = NULL;
		return err;
	}
	for (i = rb->nr_fds; i-- > 0; ) {
		err = files_install(rb->files, rb->fds[i].fd, rb->fds[i].file,
				    rb->fds[i].cloexec ? O_CLOEXEC : 0);
		if (err)
			return err;
	}
	return 0;
}

/**
 * spice_prepare_fds - Take the file of every fd the restored process has.
 * @rb: The rebuild.
 * @map: The launcher's fd map (checked), @nr_map entries.
 * @nr_map: Entries in @map.
 *
 * An fd in the map gets the launcher's file, whatever the image says (one
 * end of an internal pipe or socket pair included: the other end then
 * belongs to a new pipe or pair of which that end is closed; a socket
 * included: the image's is then not made); other fds of the image are
 * reopened (files) or made anew (eventfds, epoll instances, sockets,
 * pipes and socket pairs internal to the process), or fail: a pipe or
 * other object the map does not supply (-EBADF).  An fd that shared its
 * open file with an earlier one (dup()) shares that fd's again, the
 * launcher's included.  Then the epoll instances get their watches.
 *
 * Return: 0 or a negative error: spice_socket_file()'s for a socket
 * (-EADDRINUSE, ...); -EMFILE if an fd is at or above both the caller's
 * and the restored process's RLIMIT_NOFILE (the caller could have raised
 * its own to the latter), -EINTR on a fatal signal.
 */
int spice_prepare_fds(struct spice_rebuild *rb,
		      const struct restore_process_fd *map, u32 nr_map)
{
	const struct spice_image_fd *d = rb->img.fds;
	unsigned long nofile = max(rlimit(RLIMIT_NOFILE),
				   rb->rlim[RLIMIT_NOFILE].rlim_cur);
	const struct restore_process_fd *m;
	struct spice_new_fd *n, *first;
	u64 i, nr = rb->img.nr[SPICE_SECT_FDS];
	int err;

	rb->fds = kvcalloc(nr + nr_map, sizeof(*rb->fds), GFP_KERNEL_ACCOUNT);
	if (!rb->fds && nr + nr_map)
		return -ENOMEM;
	for (i = 0; i < nr_map; i++) {
		if (map[i].image_fd >= nofile)
			return -EMFILE;
		n = spice_add_fd(rb, map[i].image_fd);
		n->file = fget_raw(map[i].fd);
		if (!n->file)
			return -EBADF;
		n->cloexec = false;
		n->supplied = true;
	}
	for (i = 0; i < nr; i++) {
		/* Up to 65536 fds, pipes refilled with up to 64 KiB each. */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		m = spice_find_map(map, nr_map, d[i].fd);
		if (m) {
			/* The launcher's file, with the image's close-on-exec. */
			rb->fds[m - map].cloexec = d[i].fd_flags & FD_CLOEXEC;
			continue;
		}
		if (d[i].fd >= nofile)
			return -EMFILE;
		if (d[i].shares) {
			/* The first fd of its open file came before: share it. */
			first = spice_added_fd(rb, d[d[i].shares - 1].fd);
			if (WARN_ON_ONCE(!first))
				return -EINVAL;
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			n->supplied = first->supplied;
			n->file = get_file(first->file);
			continue;
		}
		switch (d[i].type) {
		case SPICE_FD_FILE:
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			err = spice_open_fd(rb, &d[i], n);
			if (err)
				return err;
			break;
		case SPICE_FD_SUPPLIED:
			return -EBADF;
		case SPICE_FD_PIPE:
		case SPICE_FD_SOCKETPAIR:
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			err = spice_channel_file(rb, &d[i], &n->file);
			if (err)
				return err;
			break;
		case SPICE_FD_SOCKET:
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			err = spice_socket_file(&rb->img, &d[i], &n->file);
			if (err)
				return err;
			break;
		case SPICE_FD_PIDFD:
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			err = spice_pidfd_file(rb, &d[i], &n->file);
			if (err)
				return err;
			break;
		default:	/* eventfd, signalfd, timerfd, epoll */
			n = spice_add_fd(rb, d[i].fd);
			n->cloexec = d[i].fd_flags & FD_CLOEXEC;
			err = spice_create_event_file(&rb->img, &d[i], &n->file);
			if (err)
				return err;
			break;
		}
	}
	sort(rb->fds, rb->nr_fds, sizeof(*rb->fds), spice_new_fd_cmp, NULL);
	return spice_prepare_epoll(rb);
}

/**
 * spice_find_new_fd - The file an fd of the restored process gets.
 * @rb: A rebuild whose fds are prepared.
 * @fd: An fd of the image or of the fd map.
 *
 * Return: Its entry; every fd of the image has one once prepared.
 */
const struct spice_new_fd *spice_find_new_fd(const struct spice_rebuild *rb,
					     s32 fd)
{
	struct spice_new_fd key = { .fd = fd };

	return bsearch(&key, rb->fds, rb->nr_fds, sizeof(*rb->fds),
		       spice_new_fd_cmp);
}

/**
 * spice_prepare_exe_cwd - Open the executable and look up the cwd.
 * @rb: The rebuild.
 *
 * Return: 0, -ETXTBSY if the executable is open for writing, -ENOTDIR,
 * -EACCES and the lookup errors for the cwd, or spice_open_image_file()'s.
 */
int spice_prepare_exe_cwd(struct spice_rebuild *rb)
{
	const struct spice_image_process *p = rb->img.proc;
	struct file *exe;
	char *cwd;
	int err;

	if (p->exe_file != SPICE_IMAGE_NONE) {
		err = spice_open_image_file(rb, p->exe_file, O_RDONLY, &exe);
		if (err)
			return err;
		/* As prctl(PR_SET_MM_EXE_FILE): a file the caller may execute. */
		err = -EACCES;
		if (S_ISREG(file_inode(exe)->i_mode) && !path_noexec(&exe->f_path))
			err = file_permission(exe, MAY_EXEC);
		if (!err && exe_file_deny_write_access(exe))
			err = -ETXTBSY;
		if (err) {
			fput(exe);
			return err;
		}
		rb->exe = exe;
	}
	if (!p->cwd.len)
		return 0;
	cwd = kmemdup_nul(spice_image_blob(&rb->img, p->cwd), p->cwd.len, GFP_KERNEL);
	if (!cwd)
		return -ENOMEM;
	err = kern_path(cwd, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &rb->cwd);
	kfree(cwd);
	if (err)
		return err;
	/* As chdir(2) checks. */
	return path_permission(&rb->cwd, MAY_EXEC | MAY_CHDIR);
}

/**
 * spice_commit_files - Give the calling process its fds and cwd.
 * @rb: A prepared rebuild, past the point of no return.
 *
 * The prepared table replaces the caller's, as unshare(CLONE_FILES)
 * replaces it: under task_lock(), which /proc readers of the table take.
 * The old table goes to @rb->old_files, put by spice_release_files() once
 * the exec lock is dropped (as exec closes files before taking it): closing
 * runs ->flush(), which may wait on a FUSE server that reads /proc/PID.
 */
void spice_commit_files(struct spice_rebuild *rb)
{
	rb->old_files = current->files;
	task_lock(current);
	current->files = rb->files;
	task_unlock(current);
	rb->files = NULL;
	if (rb->cwd.mnt)
		set_fs_pwd(current->fs, &rb->cwd);
}

void spice_release_files(struct spice_rebuild *rb)
{
	unsigned int i;

	for (i = 0; i < rb->nr_fds; i++)
		if (rb->fds[i].file)
			fput(rb->fds[i].file);
	if (rb->files)
		put_files_struct(rb->files);
	/* A process that shared the old table keeps it; else its fds close. */
	if (rb->old_files)
		put_files_struct(rb->old_files);
	kvfree(rb->fds);
	for (i = 0; rb->hashed && i < rb->img.nr[SPICE_SECT_FILES]; i++)
		if (rb->hashed[i])
			fput(rb->hashed[i]);
	kvfree(rb->hashed);
	kvfree(rb->hash_buf);
	spice_release_made_files(rb);
	spice_release_channels(rb);
	if (rb->exe) {
		exe_file_allow_write_access(rb->exe);
		fput(rb->exe);
	}
	if (rb->cwd.mnt)
		path_put(&rb->cwd);
}
