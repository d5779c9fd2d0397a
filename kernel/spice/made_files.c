// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): files made anew, with the contents the image holds.
 *
 * A memfd, or a regular file deleted while open or made with O_TMPFILE,
 * has no name to open it by again.  Its contents are in the image, and
 * the file is made before the point of no return as the caller would make
 * it, memfd_create(2) for a memfd, an unlinked tmpfs file otherwise (as
 * shared anonymous memory is made): sized, filled, given its permission
 * bits, then sealed.  Every fd and mapping of it then opens the one file,
 * as reopening it through /proc/self/fd would.
 */

#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memfd.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spice.h>
#include <uapi/linux/memfd.h>

#include "rebuild.h"

/* Bytes copied from the image at a time. */
#define SPICE_COPY_CHUNK	SZ_64K

/*
 * An unlinked file with execute bits is a file one could run; where
 * vm.memfd_noexec forbids executable memfds to the caller (2), it is
 * refused as memfd_create() would refuse one.
 */
static int spice_check_unlinked_exec(const struct spice_image_file *f)
{
#if defined(CONFIG_SYSCTL) && defined(CONFIG_MEMFD_CREATE)
	if ((f->mode & 0111) &&
	    pidns_memfd_noexec_scope(task_active_pid_ns(current)) >=
	    MEMFD_NOEXEC_SCOPE_NOEXEC_ENFORCED)
		return -EACCES;
#endif
	return 0;
}

static struct file *spice_new_made_file(const struct spice_image *img,
					const struct spice_image_made_file *m)
{
	const struct spice_image_file *f = &img->files[m->file];
	unsigned int flags;
	struct file *file;
	const char *name;
	char *s;
	u32 len;
	int err;

	name = spice_image_made_name(img, f, m->kind, &len);
	s = kmemdup_nul(name, len, GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	if (m->kind == SPICE_MADE_MEMFD) {
		/* Sealing allowed: the seals the memfd had are set last. */
		flags = MFD_ALLOW_SEALING;
		flags |= (m->seals & F_SEAL_EXEC) && !(f->mode & 0111) ?
			 MFD_NOEXEC_SEAL : MFD_EXEC;
		file = memfd_file_create(s, flags);
	} else {
		err = spice_check_unlinked_exec(f);
		file = err ? ERR_PTR(err) : shmem_file_setup(s, 0, VM_NORESERVE);
	}
	kfree(s);
	/* No inode for it (shmem says -ENOSPC) is no memory, here. */
	if (IS_ERR(file) && PTR_ERR(file) == -ENOSPC)
		return ERR_PTR(-ENOMEM);
	return file;
}

/*
 * Copy extent @e from the image into @file through @buf, up to the file's
 * size @size: nothing is written past it.
 */
static int spice_fill_extent(struct spice_rebuild *rb, struct file *file,
			     const struct spice_image_file_extent *e, u64 size,
			     void *buf)
{
	u64 end = min(e->pos + e->len, size);
	loff_t from, to = e->pos;
	ssize_t n;

	while (to < end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		/* Where the bytes for @to are, whatever was written short. */
		from = e->offset + (to - e->pos);
		n = kernel_read(rb->image, buf, min_t(u64, end - to, SPICE_COPY_CHUNK), &from);
		if (n <= 0)
			return n ? n : -EIO;
		n = kernel_write(file, buf, n, &to);
		/* The tmpfs has no blocks to run out of: its memory ran out. */
		if (n == -ENOSPC)
			return -ENOMEM;
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
	}
	return 0;
}

/* Make file @m, filled from its extents from index *@next on. */
static int spice_make_file(struct spice_rebuild *rb,
			   const struct spice_image_made_file *m, u64 *next,
			   void *buf)
{
	const struct spice_image *img = &rb->img;
	const struct spice_image_file_extent *e = img->file_extents;
	const struct spice_image_file *f = &img->files[m->file];
	struct file *file;
	int err;

	/* Checked first: past it, a write or truncate sends SIGXFSZ. */
	if (f->size > rlimit(RLIMIT_FSIZE))
		return -EFBIG;
	file = spice_new_made_file(img, m);
	if (IS_ERR(file))
		return PTR_ERR(file);
	rb->made[m->file] = file;
	err = vfs_truncate(&file->f_path, f->size);
	for (; *next < img->nr[SPICE_SECT_FILE_DATA] && e[*next].file == m->file;
	     (*next)++)
		if (!err)
			err = spice_fill_extent(rb, file, &e[*next], f->size, buf);
	/* The permission bits it had, as chmod(2) by its owner sets them. */
	if (!err && (file_inode(file)->i_mode & 07777) != (f->mode & 07777))
		err = vfs_fchmod(file, f->mode & 07777);
	if (!err && m->seals)
		err = memfd_fcntl(file, F_ADD_SEALS, m->seals);
	return err;
}

/**
 * spice_prepare_made_files - Make the files that had no name.
 * @rb: The rebuild.
 *
 * Return: 0; -ENOMEM when memory runs out; -EFBIG for a size over the
 * caller's RLIMIT_FSIZE (checked first: no SIGXFSZ); -EACCES when
 * vm.memfd_noexec forbids an executable memfd or unlinked file;
 * -EOPNOTSUPP for a memfd without CONFIG_MEMFD_CREATE; -EINTR on a fatal
 * signal; -EIO if the image cannot be read.
 */
int spice_prepare_made_files(struct spice_rebuild *rb)
{
	const struct spice_image *img = &rb->img;
	u64 i, next = 0;
	void *buf;
	int err = 0;

	if (!img->nr[SPICE_SECT_MADE_FILES])
		return 0;
	rb->made = kvcalloc(img->nr[SPICE_SECT_FILES], sizeof(*rb->made),
			    GFP_KERNEL_ACCOUNT);
	buf = kvmalloc(SPICE_COPY_CHUNK, GFP_KERNEL_ACCOUNT);
	if (!rb->made || !buf)
		err = -ENOMEM;
	for (i = 0; !err && i < img->nr[SPICE_SECT_MADE_FILES]; i++)
		err = spice_make_file(rb, &img->made_files[i], &next, buf);
	kvfree(buf);
	return err;
}

/**
 * spice_open_made_file - Open a file made by spice_prepare_made_files().
 * @rb: The rebuild.
 * @idx: Its index in the image's file table.
 * @flags: Open flags.
 *
 * A new open file of it, with the flags open(2) would leave it: the
 * caller made the file, so it may open it as the process had it open.
 *
 * Return: The file, or an ERR_PTR: -ENOTDIR for %O_DIRECTORY without
 * %O_TMPFILE, or dentry_open()'s errors.
 */
struct file *spice_open_made_file(struct spice_rebuild *rb, u32 idx, int flags)
{
	/* O_TMPFILE's own O_DIRECTORY stays, as the file made so keeps it. */
	if ((flags & O_DIRECTORY) && !(flags & __O_TMPFILE))
		return ERR_PTR(-ENOTDIR);
	if (flags & O_PATH)
		flags &= O_PATH | O_NOFOLLOW;
	else if (flags & __O_SYNC)
		flags |= O_DSYNC;
	return dentry_open(&rb->made[idx]->f_path, flags | O_LARGEFILE,
			   current_cred());
}

void spice_release_made_files(struct spice_rebuild *rb)
{
	u64 i;

	for (i = 0; rb->made && i < rb->img.nr[SPICE_SECT_FILES]; i++)
		if (rb->made[i])
			fput(rb->made[i]);
	kvfree(rb->made);
	rb->made = NULL;
}
