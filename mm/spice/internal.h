/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice memory restore: what the parts of mm/spice/ share.
 *
 * A call goes through three steps, each in its own file:
 *  - regions.c checks the tables (pure logic, no state);
 *  - load.c decides which pages to populate and reads their contents into
 *    new folios, without holding mmap_lock;
 *  - install.c creates the mappings and installs the folios' page-table
 *    entries in batches, under one hold of mmap_lock for writing.
 * Pages left for first touch get a SWP_SPICE entry instead (pending.c), and
 * so do the working-set pages left to the worker of MMAP_RESTORE_ASYNC
 * (async.c).  A shared anonymous region is a shmem object made for the
 * call, filled before it is mapped; its pages are never left pending.
 */
#ifndef _MM_SPICE_INTERNAL_H
#define _MM_SPICE_INTERNAL_H

#include <linux/pgtable.h>
#include <linux/spice.h>
#include <linux/types.h>
#include <uapi/linux/spice.h>

struct file;
struct mm_struct;
struct folio;
struct vm_area_struct;

/* Where the contents of a populated page come from. */
enum spice_page_kind {
	SPICE_PAGE_IMAGE,	/* private copy, read from the image */
	SPICE_PAGE_ZERO,	/* private zeroed copy */
	SPICE_PAGE_ZERO_RO,	/* the shared zero page, read-only */
	SPICE_PAGE_FILE_COPY,	/* private copy of a backing-file page */
	SPICE_PAGE_FILE_RO,	/* the backing file's page-cache page, read-only */
	SPICE_PAGE_PENDING,	/* image data left to be read on first touch */
	SPICE_PAGE_SHMEM_IMAGE,	/* image data for a shared anonymous region */
	SPICE_PAGE_SHMEM_ZERO,	/* a zero page of a shared anonymous region */
};

/* One page to populate; @folio holds one reference until installed. */
struct spice_page {
	unsigned long addr;
	u64 offset;		/* image or file offset, per @kind */
	struct folio *folio;
	u32 region;
	u8 kind;
	u8 ws;			/* from the working-set list */
};

struct spice_async;

/* A checked region and what the call made of it. */
struct spice_region {
	const struct mmap_restore_region *uregion;
	struct file *file;	/* backing file (reference held), or NULL */
	struct file *shmem;	/* contents of a shared anonymous region */
	unsigned long populate;	/* bytes do_mmap() wants populated (mlock) */
	bool mapped;		/* created by this call: unmap on failure */
};

/* Everything one call works on. */
struct spice_restore {
	struct mmap_restore_tables t;
	struct spice_region *regions;
	struct file *image;
	loff_t image_size;
	unsigned int image_slot;	/* in the mm's table, for pending pages */
	unsigned int flags;

	struct spice_page *pages;
	size_t nr_pages;

	u64 sync_pages;			/* with MMAP_RESTORE_ASYNC */
	struct spice_async *async;	/* the working set past sync_pages */

	struct mmap_restore_stats stats;
	bool borrowed_tables;		/* @t belongs to the caller */
};

/* regions.c */
int spice_check_tables(const struct mmap_restore_tables *t,
		       loff_t image_size, bool have_image,
		       unsigned long task_size);
const struct mmap_restore_interval *
spice_find_interval(const struct mmap_restore_tables *t,
		    const struct mmap_restore_region *r, unsigned long addr);

/* load.c */
int spice_plan_pages(struct spice_restore *sr);
int spice_load_pages(struct spice_restore *sr);
void spice_put_pages(struct spice_restore *sr);

/* install.c */
int spice_install(struct spice_restore *sr);

/* async.c */
struct spice_async *spice_async_alloc(size_t nr);
void spice_async_free(struct spice_async *a);
void spice_async_set(struct spice_async *a, size_t i, unsigned long addr,
		     pgoff_t index);
void spice_async_start(struct spice_async *a, struct mm_struct *mm,
		       struct file *image, unsigned int slot);

/* pending.c */
bool spice_pending_possible(u64 image_page);
bool spice_image_usable(struct file *image);
struct folio *spice_read_image_folio(struct file *image, pgoff_t index);
pte_t spice_pending_pte(unsigned int slot, u64 image_page);
int spice_mm_add_image(struct mm_struct *mm, struct file *image);

#endif /* _MM_SPICE_INTERNAL_H */
