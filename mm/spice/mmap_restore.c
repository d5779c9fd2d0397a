// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2): argument handling.
 *
 * This file copies and checks what user space passed, takes the files it
 * names, and runs the three steps of mm/spice/internal.h.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/memfd.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <linux/security.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <uapi/linux/spice.h>

#include "../internal.h"
#include "internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/spice.h>

#define MMAP_RESTORE_FLAGS	(MMAP_RESTORE_REPLACE | MMAP_RESTORE_ASYNC | MMAP_RESTORE_EAGER)

static void mmap_restore_abi_checks(void)
{
	/* Same layout on every arch: no holes, no compat handler needed. */
	BUILD_BUG_ON(sizeof(struct mmap_restore_args) != MMAP_RESTORE_ARGS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mmap_restore_region) != 48);
	BUILD_BUG_ON(sizeof(struct mmap_restore_interval) != 32);
	BUILD_BUG_ON(sizeof(struct mmap_restore_ws_range) != 16);
	BUILD_BUG_ON(sizeof(struct mmap_restore_stats) != 40);
}

static int mmap_restore_copy_args(struct mmap_restore_args *args,
				  const struct mmap_restore_args __user *uargs,
				  size_t usize, unsigned int flags)
{
	int err;

	if (usize < MMAP_RESTORE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(args, sizeof(*args), uargs, usize);
	if (err)
		return err;

	if (args->reserved)
		return -EINVAL;
	if (!args->nr_regions)
		return -EINVAL;
	if (args->nr_regions > MMAP_RESTORE_MAX_REGIONS ||
	    args->nr_intervals > MMAP_RESTORE_MAX_INTERVALS ||
	    args->nr_ws > MMAP_RESTORE_MAX_WS)
		return -E2BIG;
	if (args->sync_pages && !(flags & MMAP_RESTORE_ASYNC))
		return -EINVAL;
	if (!args->stats != !args->stats_size || args->stats_size > PAGE_SIZE)
		return -EINVAL;
	if (args->image_fd < -1)
		return -EBADF;
	return 0;
}

/*
 * Copy a user array in, charged to the caller's memcg: the counts are
 * bounded but large.  NULL for an empty array.
 */
static void *mmap_restore_dup_array(u64 uptr, u32 nr, size_t size)
{
	void *p;

	if (!nr)
		return NULL;
	p = kvmalloc_array(nr, size, GFP_KERNEL_ACCOUNT);
	if (!p)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(p, u64_to_user_ptr(uptr), array_size(nr, size))) {
		kvfree(p);
		return ERR_PTR(-EFAULT);
	}
	return p;
}

static int mmap_restore_copy_tables(struct mmap_restore_tables *t,
				    const struct mmap_restore_args *args)
{
	void *p;

	t->nr_regions = args->nr_regions;
	t->nr_intervals = args->nr_intervals;
	t->nr_ws = args->nr_ws;
	p = mmap_restore_dup_array(args->regions, args->nr_regions,
				   sizeof(*t->regions));
	if (IS_ERR(p))
		return PTR_ERR(p);
	t->regions = p;
	p = mmap_restore_dup_array(args->intervals, args->nr_intervals,
				   sizeof(*t->intervals));
	if (IS_ERR(p))
		return PTR_ERR(p);
	t->intervals = p;
	p = mmap_restore_dup_array(args->ws, args->nr_ws, sizeof(*t->ws));
	if (IS_ERR(p))
		return PTR_ERR(p);
	t->ws = p;
	return 0;
}

/*
 * The image must be a regular file open for reading, as read(2) needs,
 * with a page cache to read it through.
 */
static int mmap_restore_get_image(struct spice_restore *sr, int image_fd)
{
	struct file *file;

	if (image_fd == -1)
		return 0;
	file = fget(image_fd);
	if (!file)
		return -EBADF;
	sr->image = file;
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	/* Read through its page cache (first touch, worker): a real file. */
	if (!S_ISREG(file_inode(file)->i_mode) || !spice_image_usable(file))
		return -EINVAL;
	sr->image_size = i_size_read(file_inode(file));
	return 0;
}

/*
 * Shared anonymous memory is a shmem object of its own, as mmap() makes
 * it (shmem_zero_setup()), but made now: it is filled before it is mapped,
 * and a failure here leaves the address space untouched.  Its size is
 * charged to the commit limit as mmap()'s would be: unless
 * MMAP_RESTORE_REGION_NORESERVE says not to, as MAP_NORESERVE does for
 * mmap() when overcommit is allowed.
 */
static int mmap_restore_setup_shmem(struct spice_region *reg)
{
	unsigned long vm_flags = 0;
	struct file *shmem;

	if ((reg->uregion->flags & MMAP_RESTORE_REGION_NORESERVE) &&
	    sysctl_overcommit_memory != OVERCOMMIT_NEVER)
		vm_flags |= VM_NORESERVE;
	shmem = shmem_kernel_file_setup("dev/zero", reg->uregion->len, vm_flags);
	/* No inode for it (shmem says -ENOSPC) is no memory, here. */
	if (IS_ERR(shmem))
		return PTR_ERR(shmem) == -ENOSPC ? -ENOMEM : PTR_ERR(shmem);
	reg->shmem = shmem;
	return 0;
}

/*
 * The checks mmap() would make on region @i and its backing file @file (a
 * reference the region now owns, or NULL), so that mapping cannot fail on
 * them later.
 */
static int mmap_restore_check_region(struct spice_restore *sr, u32 i,
				     struct file *file)
{
	const struct mmap_restore_region *r = &sr->t.regions[i];
	bool shared = r->flags & MMAP_RESTORE_REGION_SHARED;
	unsigned long mflags = shared ? MAP_SHARED : MAP_PRIVATE;
	int err;

	sr->regions[i].uregion = r;
	sr->regions[i].file = file;
	err = security_mmap_addr(r->start);
	if (err)
		return err;
	if (!file && shared) {
		err = security_mmap_file(NULL, r->prot, mflags);
		if (err)
			return err;
		return mmap_restore_setup_shmem(&sr->regions[i]);
	}
	if (file) {
		if (!(file->f_mode & FMODE_READ))
			return -EACCES;
		if (shared && (r->prot & PROT_WRITE) &&
		    (!(file->f_mode & FMODE_WRITE) || IS_APPEND(file_inode(file))))
			return -EACCES;
		if ((r->prot & PROT_EXEC) && path_noexec(&file->f_path))
			return -EPERM;
		/* As mmap(): no writable shared mapping of a write-sealed memfd. */
		if (shared && (r->prot & PROT_WRITE)) {
			unsigned long vm_flags = VM_SHARED | VM_WRITE;

			err = memfd_check_seals_mmap(file, &vm_flags);
			if (err)
				return err;
		}
		/* hugetlbfs pages are not restored page by page. */
		if (!file->f_op->mmap || is_file_hugepages(file))
			return -ENODEV;
	}
	return security_mmap_file(file, r->prot, mflags);
}

/*
 * Locked regions count against RLIMIT_MEMLOCK as mmap(MAP_LOCKED) counts
 * them (can_do_mlock(), mlock_future_ok()), checked before anything is
 * mapped.  Locked memory the call replaces is counted as if it stayed.
 */
static int mmap_restore_check_memlock(const struct spice_restore *sr)
{
	struct mm_struct *mm = current->mm;
	unsigned long bytes = 0;
	bool ok;
	u32 i;

	for (i = 0; i < sr->t.nr_regions; i++)
		if (sr->t.regions[i].flags & MMAP_RESTORE_REGION_LOCKED)
			bytes = size_add(bytes, sr->t.regions[i].len);
	if (!bytes)
		return 0;
	if (!can_do_mlock())
		return -EPERM;
	mmap_read_lock(mm);
	ok = mlock_future_ok(mm, VM_LOCKED, bytes);
	mmap_read_unlock(mm);
	return ok ? 0 : -EAGAIN;
}

/* Take each region's backing file by its fd and check the region. */
static int mmap_restore_get_files(struct spice_restore *sr)
{
	struct file *file;
	u32 i;
	int err;

	sr->regions = kvcalloc(sr->t.nr_regions, sizeof(*sr->regions), GFP_KERNEL);
	if (!sr->regions)
		return -ENOMEM;

	for (i = 0; i < sr->t.nr_regions; i++) {
		file = NULL;
		if (sr->t.regions[i].fd != -1) {
			file = fget(sr->t.regions[i].fd);
			if (!file)
				return -EBADF;
		}
		err = mmap_restore_check_region(sr, i, file);
		if (err)
			return err;
	}
	return 0;
}

static bool mmap_restore_stats_overlap(const struct mmap_restore_tables *t,
				       u64 stats, u32 size)
{
	u32 i;

	for (i = 0; i < t->nr_regions; i++)
		if (stats < t->regions[i].start + t->regions[i].len &&
		    t->regions[i].start < stats + size)
			return true;
	return false;
}

static void mmap_restore_free(struct spice_restore *sr)
{
	u32 i;

	spice_put_pages(sr);
	spice_async_free(sr->async);
	if (sr->regions) {
		for (i = 0; i < sr->t.nr_regions; i++) {
			if (sr->regions[i].file)
				fput(sr->regions[i].file);
			if (sr->regions[i].shmem)
				fput(sr->regions[i].shmem);
		}
		kvfree(sr->regions);
	}
	if (sr->image)
		fput(sr->image);
	if (sr->borrowed_tables)
		return;
	kvfree(sr->t.regions);
	kvfree(sr->t.intervals);
	kvfree(sr->t.ws);
}

/**
 * sys_mmap_restore - Restore memory mappings from a snapshot image.
 * @uargs: Pointer to a &struct mmap_restore_args.
 * @usize: Size of *@uargs as the caller knows it; at least
 *         %MMAP_RESTORE_ARGS_SIZE_VER0 and at most %PAGE_SIZE.
 * @flags: Bitmask of MMAP_RESTORE_* flags.
 *
 * Maps every region of @uargs into the caller's address space at its
 * address, with its pages taken from the image, from zero or from the
 * region's backing file, and populates the working set and every page whose
 * contents only the image holds before returning.  Everything is checked
 * before anything changes; a failure leaves no new mapping behind.
 *
 * Return: %SPICE_ABI_VERSION for %MMAP_RESTORE_ABI_VERSION, else 0 on
 * success or a negative error:
 *
 * - -EINVAL: @flags has an unknown bit; %MMAP_RESTORE_ABI_VERSION with other
 *   arguments; @usize is below %MMAP_RESTORE_ARGS_SIZE_VER0; a reserved
 *   field is not zero; @nr_regions is zero; @sync_pages without
 *   %MMAP_RESTORE_ASYNC; @stats and @stats_size disagree on being zero,
 *   @stats_size is above %PAGE_SIZE or @stats overlaps a region; the image
 *   is not a regular file read through a page cache (DAX, secret memory,
 *   procfs files are not); a region, interval or working-set range is
 *   unaligned, empty, outside the address space or its region, unsorted or
 *   overlapping, has an unknown flag, protection bit or source, or a source
 *   its region cannot have; image data lies outside the image; a written
 *   working-set page lies in a region without %PROT_WRITE; a region is
 *   both shared or file-backed and %MMAP_RESTORE_REGION_GROWSDOWN; its lock
 *   and advice flags break a rule of mlock2() or madvise()
 *   (%MMAP_RESTORE_REGION_LOCKONFAULT without %MMAP_RESTORE_REGION_LOCKED,
 *   %MMAP_RESTORE_REGION_WIPEONFORK on shared or file memory, opposite
 *   advice).
 * - -E2BIG: @usize is above %PAGE_SIZE, or the caller's struct is larger
 *   than the kernel's and the extra bytes are not zero; a count is above its
 *   MMAP_RESTORE_MAX_* limit.
 * - -EFAULT: @uargs or one of the arrays it points to is not readable;
 *   @stats is not writable.
 * - -EBADF: @image_fd is neither -1 nor a descriptor open for reading; an
 *   interval uses the image but @image_fd is -1; a region's @fd is not open.
 * - -EACCES: A backing file is not open for reading, or a shared writable
 *   region's file is not open for writing or is append-only.
 * - -EPERM: %PROT_EXEC on a file from a noexec mount; a region below
 *   mmap_min_addr; a security module refused the mapping; locked regions
 *   with a zero RLIMIT_MEMLOCK and no CAP_IPC_LOCK; a shared writable
 *   region of a write-sealed memfd.
 * - -EAGAIN: Locked regions over RLIMIT_MEMLOCK, without CAP_IPC_LOCK.
 * - -ENODEV: A backing file cannot be memory-mapped, is on hugetlbfs, or
 *   maps as something other than page-cache pages (PFN or I/O memory).
 * - -EOVERFLOW: A region's file offset plus length passes the largest file.
 * - -EEXIST: A region overlaps a mapping and %MMAP_RESTORE_REPLACE is not
 *   set.
 * - -ENOMEM: Out of memory, over the memcg limit, over RLIMIT_AS, too close
 *   to the map count limit, more pages to populate than the machine has,
 *   every image slot of the process taken, or shared anonymous memory over
 *   the commit limit (or no memory for its shmem object).
 * - -EINTR: A fatal signal arrived.
 * - -EIO: Reading the image or a backing file failed, or the image shrank.
 */
SYSCALL_DEFINE3(mmap_restore, const struct mmap_restore_args __user *, uargs,
		size_t, usize, unsigned int, flags)
{
	struct mmap_restore_args args;
	struct spice_restore sr = { .flags = flags };
	void __user *ustats;
	int err;

	mmap_restore_abi_checks();

	if (flags & ~(MMAP_RESTORE_FLAGS | MMAP_RESTORE_ABI_VERSION))
		return -EINVAL;
	if (flags & MMAP_RESTORE_ABI_VERSION) {
		if (flags != MMAP_RESTORE_ABI_VERSION || uargs || usize)
			return -EINVAL;
		return SPICE_ABI_VERSION;
	}

	err = mmap_restore_copy_args(&args, uargs, usize, flags);
	if (err)
		return err;
	sr.sync_pages = args.sync_pages;
	err = mmap_restore_copy_tables(&sr.t, &args);
	if (err)
		goto out;
	err = mmap_restore_get_image(&sr, args.image_fd);
	if (err)
		goto out;
	err = spice_check_tables(&sr.t, sr.image_size, !!sr.image, TASK_SIZE);
	if (err)
		goto out;
	err = mmap_restore_get_files(&sr);
	if (!err)
		err = mmap_restore_check_memlock(&sr);
	if (err)
		goto out;
	/*
	 * The counters must not land in memory the call replaces, and an
	 * unwritable buffer must fail before anything changes: it is zeroed
	 * now and written on success.
	 */
	ustats = u64_to_user_ptr(args.stats);
	if (ustats && mmap_restore_stats_overlap(&sr.t, args.stats, args.stats_size)) {
		err = -EINVAL;
		goto out;
	}
	if (ustats && clear_user(ustats, args.stats_size)) {
		err = -EFAULT;
		goto out;
	}

	err = spice_plan_pages(&sr);
	if (!err)
		err = spice_load_pages(&sr);
	if (!err)
		err = spice_install(&sr);
	if (!err && ustats &&
	    copy_to_user(ustats, &sr.stats, min_t(size_t, args.stats_size,
						  sizeof(sr.stats))))
		err = -EFAULT;
	trace_spice_restore_done(&sr.stats, err);
out:
	mmap_restore_free(&sr);
	return err;
}

/**
 * spice_memory_prepare - Check and load a memory restore for the kernel.
 * @t: The tables, in kernel memory; they must outlive the result.  A
 *     file-backed region has @fd >= 0 and its file in @files.
 * @image: The image file; a reference is taken.
 * @files: The backing file of each region, or NULL; references are taken.
 *
 * Makes every check of mmap_restore() and reads the pages to populate, all
 * without touching the caller's address space: restore_process() calls
 * this before its point of no return and spice_memory_commit() after it.
 *
 * Return: The prepared restore, or an ERR_PTR() with mmap_restore()'s
 * errors.
 */
struct spice_restore *spice_memory_prepare(const struct mmap_restore_tables *t,
					   struct file *image,
					   struct file **files)
{
	struct spice_restore *sr;
	u32 i;
	int err;

	sr = kzalloc(sizeof(*sr), GFP_KERNEL_ACCOUNT);
	if (!sr)
		return ERR_PTR(-ENOMEM);
	sr->t = *t;
	sr->borrowed_tables = true;
	sr->image = get_file(image);
	if (!spice_image_usable(image)) {
		err = -EINVAL;
		goto fail;
	}
	sr->image_size = i_size_read(file_inode(image));
	err = spice_check_tables(&sr->t, sr->image_size, true, TASK_SIZE);
	if (err)
		goto fail;
	err = -ENOMEM;
	sr->regions = kvcalloc(t->nr_regions, sizeof(*sr->regions), GFP_KERNEL);
	if (!sr->regions)
		goto fail;
	for (i = 0; i < t->nr_regions; i++) {
		err = mmap_restore_check_region(sr, i, files[i] ? get_file(files[i]) : NULL);
		if (err)
			goto fail;
	}
	err = spice_plan_pages(sr);
	if (!err)
		err = spice_load_pages(sr);
	if (!err)
		return sr;
fail:
	spice_memory_free(sr);
	return ERR_PTR(err);
}

/**
 * spice_memory_commit - Map the regions of a prepared restore.
 * @sr: From spice_memory_prepare(), in the caller's context.
 *
 * Return: 0, or spice_install()'s errors; on error nothing new stays mapped.
 */
int spice_memory_commit(struct spice_restore *sr)
{
	int err = spice_install(sr);

	trace_spice_restore_done(&sr->stats, err);
	return err;
}

/**
 * spice_memory_stats - What a restore has done so far.
 * @sr: From spice_memory_prepare().
 *
 * Return: Its counters, as mmap_restore() reports them.
 */
const struct mmap_restore_stats *spice_memory_stats(const struct spice_restore *sr)
{
	return &sr->stats;
}

void spice_memory_free(struct spice_restore *sr)
{
	if (IS_ERR_OR_NULL(sr))
		return;
	mmap_restore_free(sr);
	kfree(sr);
}
