// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2): which pages to populate, and their contents.
 *
 * Everything here runs before mmap_lock is taken: the image is read into
 * new folios, charged to the caller's memcg, and backing-file pages are
 * brought into the page cache.  install.c then only sets page-table
 * entries, so no I/O ever happens under mmap_lock.
 */

#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/swap.h>
#include <linux/uio.h>

#include "../internal.h"
#include "internal.h"

#include <trace/events/spice.h>

/* Largest single read of image data: 1 MiB of contiguous pages. */
#define SPICE_READ_BATCH	256

static bool spice_region_is_file(const struct mmap_restore_region *r)
{
	return r->fd != -1;
}

static bool spice_region_is_shmem(const struct mmap_restore_region *r)
{
	return r->fd == -1 && (r->flags & MMAP_RESTORE_REGION_SHARED);
}

/* Locked, not on fault: every page is to be resident when the call returns. */
static bool spice_region_is_locked(const struct mmap_restore_region *r)
{
	return (r->flags & (MMAP_RESTORE_REGION_LOCKED | MMAP_RESTORE_REGION_LOCKONFAULT)) ==
	       MMAP_RESTORE_REGION_LOCKED;
}

/*
 * Classify one page of region @ri; @write is the working-set write bit,
 * @async that the page is in the working set past the synchronous budget.
 */
static void spice_classify(const struct spice_restore *sr, u32 ri,
			   unsigned long addr, bool write, bool ws, bool async,
			   struct spice_page *p)
{
	const struct mmap_restore_region *r = &sr->t.regions[ri];
	const struct mmap_restore_interval *iv;
	u32 source;

	iv = spice_find_interval(&sr->t, r, addr);
	if (iv)
		source = iv->source;
	else
		source = spice_region_is_file(r) ? MMAP_RESTORE_SRC_FILE :
						  MMAP_RESTORE_SRC_ZERO;

	p->addr = addr;
	p->region = ri;
	p->ws = ws;
	p->folio = NULL;
	/*
	 * A fault on shared anonymous memory looks in its shmem object only:
	 * every page of image data goes there now, never pending.
	 */
	if (spice_region_is_shmem(r)) {
		p->kind = source == MMAP_RESTORE_SRC_IMAGE ?
			  SPICE_PAGE_SHMEM_IMAGE : SPICE_PAGE_SHMEM_ZERO;
		p->offset = source == MMAP_RESTORE_SRC_IMAGE ?
			    iv->offset + (addr - iv->addr) : 0;
		return;
	}
	switch (source) {
	case MMAP_RESTORE_SRC_IMAGE:
		p->offset = iv->offset + (addr - iv->addr);
		/*
		 * Outside the working set, image data waits for first touch;
		 * past the synchronous budget, for the worker or first touch.
		 * Locked memory is read now: mlock() promises it resident.
		 */
		if (((!ws && !(sr->flags & MMAP_RESTORE_EAGER)) || async) &&
		    !spice_region_is_locked(r) &&
		    spice_pending_possible(p->offset >> PAGE_SHIFT))
			p->kind = SPICE_PAGE_PENDING;
		else
			p->kind = SPICE_PAGE_IMAGE;
		break;
	case MMAP_RESTORE_SRC_ZERO:
		/*
		 * In a file mapping a missing page would show the file: give
		 * it a zeroed private copy.  In anonymous memory an unwritten
		 * page can share the zero page, as a read fault would.
		 */
		p->kind = spice_region_is_file(r) || write ||
			  mm_forbids_zeropage(current->mm) ? SPICE_PAGE_ZERO :
							     SPICE_PAGE_ZERO_RO;
		p->offset = 0;
		break;
	default:
		p->offset = r->pgoff + (addr - r->start);
		/* Writes to a shared mapping go to the file itself. */
		if (write && !(r->flags & MMAP_RESTORE_REGION_SHARED))
			p->kind = SPICE_PAGE_FILE_COPY;
		else
			p->kind = SPICE_PAGE_FILE_RO;
		break;
	}
}

/*
 * Pages whose contents an ordinary fault could not produce: image data,
 * and zero runs of file mappings.  They get an entry whether or not the
 * working set names them: populated, or (image data outside the working
 * set) a pending entry that a fault resolves.
 */
static bool spice_interval_is_eager(const struct mmap_restore_region *r,
				    const struct mmap_restore_interval *iv)
{
	return iv->source == MMAP_RESTORE_SRC_IMAGE ||
	       (iv->source == MMAP_RESTORE_SRC_ZERO && spice_region_is_file(r));
}

static u64 spice_count_pages(const struct spice_restore *sr)
{
	const struct mmap_restore_tables *t = &sr->t;
	u64 n = 0;
	u32 i, j;

	for (i = 0; i < t->nr_ws; i++)
		n += t->ws[i].nr_pages;
	for (i = 0; i < t->nr_regions; i++) {
		const struct mmap_restore_region *r = &t->regions[i];

		for (j = 0; j < r->nr_intervals; j++) {
			const struct mmap_restore_interval *iv =
				&t->intervals[r->first_interval + j];

			if (spice_interval_is_eager(r, iv))
				n += iv->len >> PAGE_SHIFT;
		}
	}
	return n;
}

static int spice_page_addr_cmp(const void *a, const void *b)
{
	const struct spice_page *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* The working-set entry of a page comes first and is kept. */
	return (int)y->ws - (int)x->ws;
}

static u32 spice_region_index(const struct spice_restore *sr, unsigned long addr)
{
	u32 lo = 0, hi = sr->t.nr_regions;

	/* The regions are sorted and @addr lies in one (checked). */
	while (hi - lo > 1) {
		u32 mid = lo + (hi - lo) / 2;

		if (addr < sr->t.regions[mid].start)
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/*
 * The working-set pages left pending are the worker's, in first-touch
 * order: @pages[0..nr) are the working set, in that order.
 */
static int spice_plan_async(struct spice_restore *sr, const struct spice_page *pages,
			    size_t nr, size_t nr_async)
{
	size_t i, k = 0;

	if (!nr_async)
		return 0;
	sr->async = spice_async_alloc(nr_async);
	if (!sr->async)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		if (pages[i].kind == SPICE_PAGE_PENDING)
			spice_async_set(sr->async, k++, pages[i].addr,
					pages[i].offset >> PAGE_SHIFT);
	return 0;
}

/**
 * spice_plan_pages - List the pages to populate.
 * @sr: The call, with checked tables.
 *
 * The working set, then every page whose contents an ordinary fault would
 * not give; sorted by address, each page once.  With %MMAP_RESTORE_ASYNC,
 * the working set past the synchronous budget is also handed to a worker.
 *
 * Return: 0, or -ENOMEM (also when more pages are asked for than the
 * machine has).
 */
int spice_plan_pages(struct spice_restore *sr)
{
	const struct mmap_restore_tables *t = &sr->t;
	struct spice_page *pages;
	u64 total = spice_count_pages(sr);
	size_t n = 0, nr_async = 0, i, out;
	u32 ri, j, k;
	int err;

	if (total > totalram_pages())
		return -ENOMEM;
	sr->nr_pages = 0;
	if (!total) {
		trace_spice_restore_plan(t->nr_regions, t->nr_intervals, t->nr_ws, 0,
					 sr->flags);
		return 0;
	}
	pages = kvmalloc_array(total, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;

	for (j = 0; j < t->nr_ws; j++) {
		const struct mmap_restore_ws_range *w = &t->ws[j];
		bool write = w->flags & MMAP_RESTORE_WS_WRITE;

		ri = spice_region_index(sr, w->addr);
		for (k = 0; k < w->nr_pages; k++) {
			bool async = (sr->flags & MMAP_RESTORE_ASYNC) && n >= sr->sync_pages;

			spice_classify(sr, ri, w->addr + ((unsigned long)k << PAGE_SHIFT),
				       write, true, async, &pages[n]);
			if (pages[n].kind == SPICE_PAGE_PENDING)
				nr_async++;
			n++;
		}
		cond_resched();
	}
	err = spice_plan_async(sr, pages, n, nr_async);
	if (err) {
		kvfree(pages);
		return err;
	}
	for (ri = 0; ri < t->nr_regions; ri++) {
		const struct mmap_restore_region *r = &t->regions[ri];

		for (j = 0; j < r->nr_intervals; j++) {
			const struct mmap_restore_interval *iv =
				&t->intervals[r->first_interval + j];
			unsigned long addr;

			if (!spice_interval_is_eager(r, iv))
				continue;
			for (addr = iv->addr; addr < iv->addr + iv->len; addr += PAGE_SIZE)
				spice_classify(sr, ri, addr, false, false, false, &pages[n++]);
			cond_resched();
		}
	}

	sort(pages, n, sizeof(*pages), spice_page_addr_cmp, NULL);
	for (i = 0, out = 0; i < n; i++) {
		if (out && pages[out - 1].addr == pages[i].addr)
			continue;
		pages[out++] = pages[i];
	}
	sr->pages = pages;
	sr->nr_pages = out;
	trace_spice_restore_plan(t->nr_regions, t->nr_intervals, t->nr_ws, out,
				 sr->flags);
	return 0;
}

static bool spice_kind_is_private(u8 kind)
{
	return kind == SPICE_PAGE_IMAGE || kind == SPICE_PAGE_ZERO ||
	       kind == SPICE_PAGE_FILE_COPY;
}

/* Pages whose contents are read from the image before the call returns. */
static bool spice_kind_reads_image(u8 kind)
{
	return kind == SPICE_PAGE_IMAGE || kind == SPICE_PAGE_SHMEM_IMAGE;
}

/* Allocation is done in batches of this many pages. */
#define SPICE_ALLOC_BATCH	64

struct spice_alloc_batch {
	struct page *pages[SPICE_ALLOC_BATCH];
	size_t idx[SPICE_ALLOC_BATCH];
};

/*
 * Allocate the private folios of one kind (zeroed or not) with the bulk
 * allocator, under the caller's memory policy, charged to its memcg.
 * __GFP_RETRY_MAYFAIL: running out of memory, or over the memcg limit, is
 * an error the caller gets back, not a reason to invoke the OOM killer.
 */
static int spice_alloc_private(struct spice_restore *sr, bool zero)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL | __GFP_NOWARN |
		    (zero ? __GFP_ZERO : 0);
	struct spice_alloc_batch *b;
	size_t i = 0;
	int err = 0;

	b = kmalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;

	while (!err) {
		unsigned long want = 0, k;

		for (; i < sr->nr_pages && want < SPICE_ALLOC_BATCH; i++) {
			u8 kind = sr->pages[i].kind;
			bool zeroed = kind == SPICE_PAGE_ZERO;

			if (spice_kind_is_private(kind) && zeroed == zero)
				b->idx[want++] = i;
		}
		if (!want)
			break;

		memset(b->pages, 0, sizeof(b->pages));
		/*
		 * The bulk allocator may return fewer pages than asked for
		 * (page_owner, pcp contention, watermarks); allocate the
		 * rest one by one, with reclaim.
		 */
		if (IS_ENABLED(CONFIG_NUMA))
			alloc_pages_bulk_array_mempolicy(gfp, want, b->pages);
		else
			alloc_pages_bulk_array(gfp, want, b->pages);
		for (k = 0; k < want; k++)
			if (!b->pages[k])
				b->pages[k] = alloc_page(gfp);
		for (k = 0; k < want; k++) {
			struct folio *folio;

			if (!b->pages[k]) {
				err = -ENOMEM;
				continue;
			}
			folio = page_folio(b->pages[k]);
			if (err || mem_cgroup_charge(folio, current->mm,
						     GFP_KERNEL | __GFP_RETRY_MAYFAIL)) {
				folio_put(folio);
				err = -ENOMEM;
				continue;
			}
			folio_throttle_swaprate(folio, gfp);
			sr->pages[b->idx[k]].folio = folio;
		}
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	kfree(b);
	return err;
}

static int spice_offset_cmp(const void *a, const void *b, const void *priv)
{
	const struct spice_page *pages = priv;
	u64 x = pages[*(const size_t *)a].offset;
	u64 y = pages[*(const size_t *)b].offset;

	return x == y ? 0 : (x < y ? -1 : 1);
}

/* Pages of a shared anonymous region, before they are put in place. */
static bool spice_kind_is_shmem(u8 kind)
{
	return kind == SPICE_PAGE_SHMEM_IMAGE || kind == SPICE_PAGE_SHMEM_ZERO;
}

/* Index in its shmem object of a page of a shared anonymous region. */
static pgoff_t spice_shmem_index(const struct spice_restore *sr,
				 const struct spice_page *p)
{
	return (p->addr - sr->regions[p->region].uregion->start) >> PAGE_SHIFT;
}

/* Where an image page is read to: its own folio, or its shmem object's. */
static struct page *spice_read_target(const struct spice_restore *sr,
				      const struct spice_page *p)
{
	if (p->kind == SPICE_PAGE_SHMEM_IMAGE)
		return folio_file_page(p->folio, spice_shmem_index(sr, p));
	return folio_page(p->folio, 0);
}

/*
 * Read @nr image pages, contiguous in the image from @pos, in one request.
 * An image opened with O_DIRECT is read straight into the new folios,
 * without the page cache; otherwise it goes through the cache, where
 * repeated restores of one image find it.
 */
static int spice_read_run(struct spice_restore *sr, struct bio_vec *bv,
			  unsigned int nr, loff_t pos)
{
	size_t len = (size_t)nr << PAGE_SHIFT;
	struct iov_iter iter;
	ssize_t ret;

	iov_iter_bvec(&iter, ITER_DEST, bv, nr, len);
	while (iov_iter_count(&iter)) {
		loff_t at = pos;

		ret = vfs_iter_read(sr->image, &iter, &pos, 0);
		trace_spice_restore_read(at, nr, ret);
		if (ret < 0)
			return ret;
		/* The image was checked to hold this data: it shrank. */
		if (!ret)
			return -EIO;
		sr->stats.io_requests++;
		sr->stats.bytes_read += ret;
	}
	sr->stats.pages_read += nr;
	return 0;
}

/*
 * Read the image pages into their folios in offset order, merging pages
 * that are contiguous in the image into one request: the working set is
 * stored contiguously, so it comes in few large reads.
 */
static int spice_read_image(struct spice_restore *sr)
{
	struct bio_vec *bv;
	size_t *order, n = 0, i;
	int err = 0;

	order = kvmalloc_array(sr->nr_pages, sizeof(*order), GFP_KERNEL);
	bv = kmalloc_array(SPICE_READ_BATCH, sizeof(*bv), GFP_KERNEL);
	if (!order || !bv) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sr->nr_pages; i++)
		if (spice_kind_reads_image(sr->pages[i].kind))
			order[n++] = i;
	sort_r(order, n, sizeof(*order), spice_offset_cmp, NULL, sr->pages);

	for (i = 0; i < n && !err;) {
		loff_t pos = sr->pages[order[i]].offset;
		unsigned int nr = 0;

		do {
			struct spice_page *p = &sr->pages[order[i]];

			bvec_set_page(&bv[nr++], spice_read_target(sr, p), PAGE_SIZE, 0);
			i++;
		} while (i < n && nr < SPICE_READ_BATCH &&
			 sr->pages[order[i]].offset == pos + ((u64)nr << PAGE_SHIFT));

		err = spice_read_run(sr, bv, nr, pos);
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
	}
out:
	kfree(bv);
	kvfree(order);
	return err;
}

/*
 * The uptodate page-cache folio of @index, read if needed; NULL when the
 * filesystem offers no way to read it outside a fault.
 */
static struct folio *spice_read_file_folio(struct address_space *mapping,
					   pgoff_t index, struct file *file)
{
	if (shmem_mapping(mapping))
		return shmem_read_folio(mapping, index);
	if (!mapping->a_ops->read_folio)
		return NULL;
	return read_mapping_folio(mapping, index, file);
}

/*
 * Bring the backing-file pages into the page cache, starting readahead
 * over each run of consecutive pages first, then take a reference on each
 * page (to map) or copy it into its private folio.  Pages past the end of
 * the file are left alone: touching them raises SIGBUS, as it did before.
 */
static int spice_get_file_pages(struct spice_restore *sr)
{
	size_t i, run_end = 0;

	for (i = 0; i < sr->nr_pages; i++) {
		struct spice_page *p = &sr->pages[i];
		struct file *file = sr->regions[p->region].file;
		struct address_space *mapping;
		pgoff_t index, eof;
		struct folio *folio;

		if (p->kind != SPICE_PAGE_FILE_RO && p->kind != SPICE_PAGE_FILE_COPY)
			continue;
		mapping = file->f_mapping;
		index = p->offset >> PAGE_SHIFT;
		eof = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE);
		if (index >= eof) {
			if (p->folio)
				folio_put(p->folio);
			p->folio = NULL;
			p->kind = SPICE_PAGE_FILE_RO;
			continue;
		}

		if (i >= run_end) {
			size_t j = i + 1;

			while (j < sr->nr_pages && sr->pages[j].region == p->region &&
			       sr->pages[j].addr == sr->pages[j - 1].addr + PAGE_SIZE)
				j++;
			run_end = j;
			force_page_cache_readahead(mapping, file, index,
						   min_t(unsigned long, j - i, eof - index));
		}

		/* As filemap_fault() reads: against truncation and hole punch. */
		filemap_invalidate_lock_shared(mapping);
		folio = spice_read_file_folio(mapping, index, file);
		filemap_invalidate_unlock_shared(mapping);
		if (!folio) {
			/* No way to read it here: a fault will. */
			if (p->folio)
				folio_put(p->folio);
			p->folio = NULL;
			p->kind = SPICE_PAGE_FILE_RO;
			continue;
		}
		if (IS_ERR(folio))
			return PTR_ERR(folio);
		if (p->kind == SPICE_PAGE_FILE_RO) {
			p->folio = folio;
			continue;
		}
		/* A poisoned page-cache page fails the call instead of the machine. */
		if (copy_mc_highpage(folio_page(p->folio, 0),
				     folio_file_page(folio, index))) {
			folio_put(folio);
			return -EIO;
		}
		folio_put(folio);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * The pages of shared anonymous regions live in their shmem objects, which
 * nothing else can see yet: take each page's page-cache folio now (a hole
 * gets a zeroed one), so that image data is read straight into it.  The
 * folio is new and clean, and the reference taken keeps reclaim,
 * migration and compaction away from it while it is read into unlocked;
 * only a dirty folio is ever written to swap.
 */
static int spice_get_shmem_folios(struct spice_restore *sr)
{
	size_t i;

	for (i = 0; i < sr->nr_pages; i++) {
		struct spice_page *p = &sr->pages[i];
		struct address_space *mapping;
		struct folio *folio;

		if (!spice_kind_is_shmem(p->kind))
			continue;
		mapping = sr->regions[p->region].shmem->f_mapping;
		folio = shmem_read_folio_gfp(mapping, spice_shmem_index(sr, p),
					     mapping_gfp_mask(mapping) |
					     __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
		/* A shmem object says -ENOSPC when it cannot allocate. */
		if (IS_ERR(folio))
			return PTR_ERR(folio) == -ENOSPC ? -ENOMEM : PTR_ERR(folio);
		p->folio = folio;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Image data now in a shmem folio lives in memory only: marked dirty, so
 * that reclaim swaps it rather than drops it.  Then every page of a shared
 * anonymous region is mapped as any page-cache page is.
 */
static int spice_finish_shmem(struct spice_restore *sr)
{
	size_t i;

	for (i = 0; i < sr->nr_pages; i++) {
		struct spice_page *p = &sr->pages[i];
		struct folio *folio = p->folio;

		if (!spice_kind_is_shmem(p->kind))
			continue;
		if (p->kind == SPICE_PAGE_SHMEM_IMAGE) {
			flush_dcache_folio(folio);
			folio_lock(folio);
			/* Clean and referenced, it cannot have left. */
			if (WARN_ON_ONCE(folio->mapping !=
					 sr->regions[p->region].shmem->f_mapping)) {
				folio_unlock(folio);
				return -EIO;
			}
			folio_mark_dirty(folio);
			folio_unlock(folio);
		}
		p->offset = (u64)spice_shmem_index(sr, p) << PAGE_SHIFT;
		p->kind = SPICE_PAGE_FILE_RO;
	}
	return 0;
}

/**
 * spice_load_pages - Give every planned page its contents.
 * @sr: The call, with its pages planned.
 *
 * Private pages get new folios, filled from the image, zeroed, or copied
 * from the backing file; read-only file pages get a page-cache reference,
 * and so do the pages of shared anonymous regions, once put in place.
 * On error the caller releases what was taken with spice_put_pages().
 *
 * Return: 0, or -ENOMEM, -EINTR (fatal signal), -EIO or another error of
 * reading the image or a backing file.
 */
int spice_load_pages(struct spice_restore *sr)
{
	size_t i;
	int err;

	err = spice_alloc_private(sr, false);
	if (!err)
		err = spice_alloc_private(sr, true);
	if (!err)
		err = spice_get_shmem_folios(sr);
	if (!err)
		err = spice_read_image(sr);
	if (!err)
		err = spice_get_file_pages(sr);
	if (!err)
		err = spice_finish_shmem(sr);
	if (err)
		return err;

	/*
	 * The kernel wrote the contents through its own mapping: flush it for
	 * aliasing caches, and order the contents before the PTEs.
	 */
	for (i = 0; i < sr->nr_pages; i++) {
		if (!spice_kind_is_private(sr->pages[i].kind))
			continue;
		flush_dcache_folio(sr->pages[i].folio);
		__folio_mark_uptodate(sr->pages[i].folio);
	}
	return 0;
}

/**
 * spice_put_pages - Drop the references of pages that were not installed.
 * @sr: The call.
 */
void spice_put_pages(struct spice_restore *sr)
{
	size_t i;

	for (i = 0; i < sr->nr_pages; i++) {
		if (sr->pages[i].folio)
			folio_put(sr->pages[i].folio);
		sr->pages[i].folio = NULL;
	}
	kvfree(sr->pages);
	sr->pages = NULL;
	sr->nr_pages = 0;
}
