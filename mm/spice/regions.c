// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2): checks of the region, interval and working-set tables.
 *
 * Pure functions of the tables: no locks, no files, no state.  Every count,
 * offset and sum is checked for overflow, since the tables come from an
 * image that nobody vouches for.
 */

#include <linux/bsearch.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "internal.h"

#define SPICE_REGION_FLAGS \
	(MMAP_RESTORE_REGION_SHARED | MMAP_RESTORE_REGION_GROWSDOWN | \
	 MMAP_RESTORE_REGION_NORESERVE | MMAP_RESTORE_REGION_LOCKED | \
	 MMAP_RESTORE_REGION_LOCKONFAULT | MMAP_RESTORE_REGION_DONTFORK | \
	 MMAP_RESTORE_REGION_WIPEONFORK | MMAP_RESTORE_REGION_DONTDUMP | \
	 MMAP_RESTORE_REGION_HUGEPAGE | MMAP_RESTORE_REGION_NOHUGEPAGE | \
	 MMAP_RESTORE_REGION_SEQUENTIAL | MMAP_RESTORE_REGION_RANDOM)
#define SPICE_PROT (PROT_READ | PROT_WRITE | PROT_EXEC)

static bool spice_aligned(u64 v)
{
	return !(v & ~PAGE_MASK);
}

/* [addr, addr + len) as an end address, or 0 when it overflows. */
static u64 spice_end(u64 addr, u64 len)
{
	u64 end;

	if (check_add_overflow(addr, len, &end))
		return 0;
	return end;
}

/**
 * mmap_restore_advice_ok - Whether a region's lock and advice flags agree.
 * @flags: Its MMAP_RESTORE_REGION_* flags.
 * @file: Whether it is file-backed.
 *
 * The rules mlock2() and madvise() apply: MLOCK_ONFAULT locks, so
 * LOCKONFAULT comes with LOCKED; MADV_WIPEONFORK is for private anonymous
 * memory; opposite advice cannot hold at once.  restore_process() checks
 * an image's VMAs with it too.
 *
 * Return: true if they do.
 */
bool mmap_restore_advice_ok(u32 flags, bool file)
{
	if ((flags & MMAP_RESTORE_REGION_LOCKONFAULT) &&
	    !(flags & MMAP_RESTORE_REGION_LOCKED))
		return false;
	if ((flags & MMAP_RESTORE_REGION_WIPEONFORK) &&
	    (file || (flags & MMAP_RESTORE_REGION_SHARED)))
		return false;
	if ((flags & MMAP_RESTORE_REGION_HUGEPAGE) &&
	    (flags & MMAP_RESTORE_REGION_NOHUGEPAGE))
		return false;
	return !((flags & MMAP_RESTORE_REGION_SEQUENTIAL) &&
		 (flags & MMAP_RESTORE_REGION_RANDOM));
}

static int spice_check_region(const struct mmap_restore_region *r,
			      u64 prev_end, unsigned long task_size)
{
	u64 end = spice_end(r->start, r->len);

	if (r->reserved || (r->flags & ~SPICE_REGION_FLAGS) ||
	    (r->prot & ~SPICE_PROT) || !mmap_restore_advice_ok(r->flags, r->fd != -1))
		return -EINVAL;
	if (!r->len || !spice_aligned(r->start) || !spice_aligned(r->len) ||
	    !spice_aligned(r->pgoff))
		return -EINVAL;
	if (!end || end > task_size || r->start < prev_end)
		return -EINVAL;

	if (r->fd == -1) {
		if (r->pgoff)
			return -EINVAL;
		/* As mmap(): shared anonymous memory does not grow. */
		if ((r->flags & MMAP_RESTORE_REGION_SHARED) &&
		    (r->flags & MMAP_RESTORE_REGION_GROWSDOWN))
			return -EINVAL;
		return 0;
	}
	if (r->fd < 0)
		return -EBADF;
	if (r->flags & MMAP_RESTORE_REGION_GROWSDOWN)
		return -EINVAL;
	/* The file offset of the last byte must fit, as for mmap(). */
	end = spice_end(r->pgoff, r->len);
	if (!end || end > MAX_LFS_FILESIZE)
		return -EOVERFLOW;
	return 0;
}

static int spice_check_interval(const struct mmap_restore_interval *iv,
				const struct mmap_restore_region *r,
				u64 prev_end, loff_t image_size,
				bool have_image)
{
	u64 end = spice_end(iv->addr, iv->len);
	bool file = r->fd != -1;

	if (iv->reserved || !iv->len || !spice_aligned(iv->addr) ||
	    !spice_aligned(iv->len) || !spice_aligned(iv->offset))
		return -EINVAL;
	if (iv->addr < r->start || !end || end > r->start + r->len ||
	    iv->addr < prev_end)
		return -EINVAL;

	switch (iv->source) {
	case MMAP_RESTORE_SRC_IMAGE:
		if (!have_image)
			return -EBADF;
		end = spice_end(iv->offset, iv->len);
		if (!end || end > image_size)
			return -EINVAL;
		break;
	case MMAP_RESTORE_SRC_ZERO:
		if (iv->offset)
			return -EINVAL;
		break;
	case MMAP_RESTORE_SRC_FILE:
		if (iv->offset || !file)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
	/* A shared file mapping shows its file: it has no other contents. */
	if (file && (r->flags & MMAP_RESTORE_REGION_SHARED))
		return -EINVAL;
	return 0;
}

static int spice_region_cmp(const void *key, const void *elt)
{
	const u64 *addr = key;
	const struct mmap_restore_region *r = elt;

	if (*addr < r->start)
		return -1;
	return *addr - r->start >= r->len ? 1 : 0;
}

static const struct mmap_restore_region *
spice_find_region(const struct mmap_restore_tables *t, u64 addr)
{
	return bsearch(&addr, t->regions, t->nr_regions, sizeof(*t->regions),
		       spice_region_cmp);
}

static int spice_check_ws_range(const struct mmap_restore_tables *t,
				const struct mmap_restore_ws_range *w)
{
	const struct mmap_restore_region *r;
	u64 len, end;

	if ((w->flags & ~MMAP_RESTORE_WS_WRITE) || !w->nr_pages ||
	    !spice_aligned(w->addr))
		return -EINVAL;
	len = (u64)w->nr_pages << PAGE_SHIFT;
	end = spice_end(w->addr, len);
	r = spice_find_region(t, w->addr);
	if (!end || !r || end > r->start + r->len)
		return -EINVAL;
	/* A page written after the snapshot lies in a writable region. */
	if ((w->flags & MMAP_RESTORE_WS_WRITE) && !(r->prot & PROT_WRITE))
		return -EINVAL;
	return 0;
}

static int spice_ws_cmp(const void *a, const void *b)
{
	const struct mmap_restore_ws_range *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* The working-set ranges must not overlap: sort a copy and compare. */
static int spice_check_ws_overlap(const struct mmap_restore_tables *t)
{
	struct mmap_restore_ws_range *ws;
	int err = 0;
	u32 i;

	if (t->nr_ws < 2)
		return 0;
	ws = kvmemdup(t->ws, array_size(t->nr_ws, sizeof(*ws)), GFP_KERNEL);
	if (!ws)
		return -ENOMEM;
	sort(ws, t->nr_ws, sizeof(*ws), spice_ws_cmp, NULL);
	for (i = 1; i < t->nr_ws; i++) {
		if (ws[i - 1].addr + ((u64)ws[i - 1].nr_pages << PAGE_SHIFT) >
		    ws[i].addr) {
			err = -EINVAL;
			break;
		}
	}
	kvfree(ws);
	return err;
}

/**
 * spice_check_tables - Check the tables of a mmap_restore() call.
 * @t:          The tables.
 * @image_size: Size of the image file; image data must lie inside it.
 * @have_image: Whether the call has an image file.
 * @task_size:  Top of the caller's address space.
 *
 * Regions must be page-aligned, inside the address space, sorted and
 * disjoint; each region's intervals sorted, disjoint, inside the region and
 * of a source the region can have, and every interval some region's;
 * working-set ranges inside one region each and disjoint.
 *
 * Return: 0, or -EINVAL, -EBADF (image data without an image),
 * -EOVERFLOW (file offset past the largest file) or -ENOMEM.
 */
int spice_check_tables(const struct mmap_restore_tables *t,
		       loff_t image_size, bool have_image,
		       unsigned long task_size)
{
	u64 prev_end = 0, referenced = 0;
	u32 i, j;
	int err;

	for (i = 0; i < t->nr_regions; i++) {
		const struct mmap_restore_region *r = &t->regions[i];
		u64 iv_prev_end = 0;

		err = spice_check_region(r, prev_end, task_size);
		if (err)
			return err;
		prev_end = r->start + r->len;

		if ((u64)r->first_interval + r->nr_intervals > t->nr_intervals)
			return -EINVAL;
		referenced += r->nr_intervals;
		for (j = 0; j < r->nr_intervals; j++) {
			const struct mmap_restore_interval *iv =
				&t->intervals[r->first_interval + j];

			err = spice_check_interval(iv, r, iv_prev_end,
						   image_size, have_image);
			if (err)
				return err;
			iv_prev_end = iv->addr + iv->len;
		}
	}

	/*
	 * An interval lies inside its region and regions are disjoint, so no
	 * interval belongs to two regions; with as many references as
	 * intervals, each belongs to exactly one and none goes unchecked.
	 */
	if (referenced != t->nr_intervals)
		return -EINVAL;

	for (i = 0; i < t->nr_ws; i++) {
		err = spice_check_ws_range(t, &t->ws[i]);
		if (err)
			return err;
	}
	return spice_check_ws_overlap(t);
}

static int spice_interval_cmp(const void *key, const void *elt)
{
	const unsigned long *addr = key;
	const struct mmap_restore_interval *iv = elt;

	if (*addr < iv->addr)
		return -1;
	return *addr - iv->addr >= iv->len ? 1 : 0;
}

/**
 * spice_find_interval - The interval of a region that holds an address.
 * @t:    Checked tables.
 * @r:    A region of @t.
 * @addr: An address inside @r.
 *
 * Return: The interval, or NULL when @addr takes the region's default
 * source (the backing file, or zero for anonymous memory).
 */
const struct mmap_restore_interval *
spice_find_interval(const struct mmap_restore_tables *t,
		    const struct mmap_restore_region *r, unsigned long addr)
{
	return bsearch(&addr, &t->intervals[r->first_interval],
		       r->nr_intervals, sizeof(*t->intervals),
		       spice_interval_cmp);
}
