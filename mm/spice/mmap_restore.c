// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2): argument handling.
 *
 * This file only copies and checks what user space passed; it changes no
 * state.  The memory restore itself lives beside it in mm/spice/.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <uapi/linux/spice.h>

#define MMAP_RESTORE_FLAGS	(MMAP_RESTORE_REPLACE | MMAP_RESTORE_ASYNC)

/* The user arrays, copied in; freed by mmap_restore_free_tables(). */
struct mmap_restore_tables {
	struct mmap_restore_region *regions;
	struct mmap_restore_interval *intervals;
	struct mmap_restore_ws_range *ws;
};

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
	if (!args->stats != !args->stats_size)
		return -EINVAL;
	if (args->image_fd < -1)
		return -EBADF;
	return 0;
}

static void mmap_restore_free_tables(struct mmap_restore_tables *t)
{
	kvfree(t->regions);
	kvfree(t->intervals);
	kvfree(t->ws);
}

/* vmemdup_array_user() with NULL for an empty array instead of ZERO_SIZE_PTR. */
static void *mmap_restore_dup_array(u64 uptr, u32 nr, size_t size)
{
	if (!nr)
		return NULL;
	return vmemdup_array_user(u64_to_user_ptr(uptr), nr, size);
}

static int mmap_restore_copy_tables(struct mmap_restore_tables *t,
				    const struct mmap_restore_args *args)
{
	void *p;

	memset(t, 0, sizeof(*t));
	p = mmap_restore_dup_array(args->regions, args->nr_regions,
				   sizeof(*t->regions));
	if (IS_ERR(p))
		goto fail;
	t->regions = p;
	p = mmap_restore_dup_array(args->intervals, args->nr_intervals,
				   sizeof(*t->intervals));
	if (IS_ERR(p))
		goto fail;
	t->intervals = p;
	p = mmap_restore_dup_array(args->ws, args->nr_ws, sizeof(*t->ws));
	if (IS_ERR(p))
		goto fail;
	t->ws = p;
	return 0;
fail:
	mmap_restore_free_tables(t);
	return PTR_ERR(p);
}

/* The image must be open for reading, as read(2) would require. */
static int mmap_restore_check_image(int image_fd)
{
	CLASS(fd, f)(image_fd);

	if (image_fd == -1)
		return 0;
	if (fd_empty(f))
		return -EBADF;
	if (!(fd_file(f)->f_mode & FMODE_READ))
		return -EBADF;
	return 0;
}

/**
 * sys_mmap_restore - Restore memory mappings from a snapshot image.
 * @uargs: Pointer to a &struct mmap_restore_args.
 * @usize: Size of *@uargs as the caller knows it; at least
 *         %MMAP_RESTORE_ARGS_SIZE_VER0 and at most %PAGE_SIZE.
 * @flags: Bitmask of MMAP_RESTORE_* flags.
 *
 * Maps every region of @uargs into the caller's address space, with its
 * pages taken from the image, from zero or from the region's backing file,
 * and populates the working set before returning.  Nothing changes before
 * every argument has been checked.
 *
 * Return: %SPICE_ABI_VERSION for %MMAP_RESTORE_ABI_VERSION, else 0 on
 * success or a negative error:
 *
 * - -EINVAL: @flags has an unknown bit; %MMAP_RESTORE_ABI_VERSION with other
 *   arguments; @usize is below %MMAP_RESTORE_ARGS_SIZE_VER0; a reserved field
 *   is not zero; @nr_regions is zero; @sync_pages without
 *   %MMAP_RESTORE_ASYNC; @stats and @stats_size disagree on being zero.
 * - -E2BIG: @usize is above %PAGE_SIZE, or the caller's struct is larger
 *   than the kernel's and the extra bytes are not zero; a count is above its
 *   MMAP_RESTORE_MAX_* limit.
 * - -EFAULT: @uargs or one of the arrays it points to is not readable.
 * - -EBADF: @image_fd is neither -1 nor a descriptor open for reading.
 * - -ENOMEM: The arrays could not be copied into the kernel.
 * - -EOPNOTSUPP: Valid arguments: the memory restore is not built yet.
 */
SYSCALL_DEFINE3(mmap_restore, const struct mmap_restore_args __user *, uargs,
		size_t, usize, unsigned int, flags)
{
	struct mmap_restore_tables tables;
	struct mmap_restore_args args;
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
	err = mmap_restore_copy_tables(&tables, &args);
	if (err)
		return err;
	err = mmap_restore_check_image(args.image_fd);
	if (!err)
		err = -EOPNOTSUPP;
	mmap_restore_free_tables(&tables);
	return err;
}
