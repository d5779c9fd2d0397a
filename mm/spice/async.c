// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2) with MMAP_RESTORE_ASYNC: the working set past the
 * synchronous budget is populated by a worker after the call returns.
 *
 * Those pages get pending entries (pending.c) like the pages left for first
 * touch, so that a fault never sees a page the worker has not reached: it
 * restores the page itself.  The worker goes through the pages in
 * first-touch order, a batch at a time:
 *  - it reads the batch through the image's page cache, holding no lock; a
 *    fault on a page whose read is in flight finds its folio locked in the
 *    page cache and waits for that read instead of issuing another;
 *  - it copies each page into a new folio, charged to the mm's memcg;
 *  - under mmap_lock for reading, it installs each copy where the pending
 *    entry is still the one it left.
 * A page a fault restored, or that munmap(), mremap() or MADV_DONTNEED took
 * away, no longer has that entry and is skipped.  The worker stops when the
 * mm has no users left (exit, exec, death by signal), and on the first
 * failure: what it leaves stays pending, for faults to restore.
 */

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/workqueue.h>

#include "../internal.h"
#include "internal.h"

/* Pages per batch: read in one go, installed under one hold of mmap_lock. */
#define SPICE_ASYNC_BATCH	64

struct spice_async_page {
	unsigned long addr;
	pgoff_t index;		/* in the image */
};

struct spice_async {
	struct work_struct work;
	struct mm_struct *mm;	/* mmgrab()ed */
	struct file *image;	/* a reference of our own */
	struct file_ra_state ra;
	unsigned int slot;
	size_t nr;
	struct spice_async_page pages[] __counted_by(nr);
};

/**
 * spice_async_alloc - Prepare a worker for @nr pages.
 * @nr: Pages of the working set left to the worker.
 *
 * Allocated before the address space changes, so that starting the worker
 * cannot fail once it has.
 *
 * Return: The worker's state, or NULL.
 */
struct spice_async *spice_async_alloc(size_t nr)
{
	struct spice_async *a;

	a = kvzalloc(struct_size(a, pages, nr), GFP_KERNEL_ACCOUNT);
	if (a)
		a->nr = nr;
	return a;
}

/**
 * spice_async_free - Free a worker that was never started.
 * @a: The worker, or NULL.
 */
void spice_async_free(struct spice_async *a)
{
	kvfree(a);
}

/**
 * spice_async_set - Say which page the worker restores at position @i.
 * @a:     The worker.
 * @i:     Position in first-touch order.
 * @addr:  The page's address.
 * @index: Its page index in the image.
 */
void spice_async_set(struct spice_async *a, size_t i, unsigned long addr,
		     pgoff_t index)
{
	a->pages[i].addr = addr;
	a->pages[i].index = index;
}

/* A private copy of image page @index, charged to @mm's memcg, or NULL. */
static struct folio *spice_async_copy(struct spice_async *a, pgoff_t index)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct folio *src, *folio;

	src = spice_read_image_folio(a->image, index);
	if (IS_ERR(src))
		return NULL;
	folio = folio_alloc(gfp, 0);
	if (folio && mem_cgroup_charge(folio, a->mm, GFP_KERNEL | __GFP_RETRY_MAYFAIL)) {
		folio_put(folio);
		folio = NULL;
	}
	if (folio && copy_mc_highpage(&folio->page, folio_file_page(src, index))) {
		folio_put(folio);
		folio = NULL;
	}
	folio_put(src);
	if (folio) {
		flush_dcache_folio(folio);
		__folio_mark_uptodate(folio);
	}
	return folio;
}

/* Map @folio at @p->addr if the entry is still ours; the PTE lock is held. */
static bool spice_async_set_pte(struct spice_async *a, struct vm_area_struct *vma,
				struct spice_async_page *p, pte_t *pte,
				struct folio *folio)
{
	struct mm_struct *mm = a->mm;
	pte_t entry;

	if (!pte_same(ptep_get(pte), spice_pending_pte(a->slot, p->index)))
		return false;
	entry = pte_sw_mkyoung(mk_pte(&folio->page, vma->vm_page_prot));
	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry), vma);
	inc_mm_counter(mm, MM_ANONPAGES);
	folio_add_new_anon_rmap(folio, vma, p->addr, RMAP_EXCLUSIVE);
	folio_add_lru_vma(folio, vma);
	set_pte_at(mm, p->addr, pte, entry);
	update_mmu_cache_range(NULL, vma, p->addr, pte, 1);
	return true;
}

/*
 * Install the copy of page @p where its pending entry still is; mmap_lock
 * is held for reading.  Returns whether the folio's reference was taken.
 */
static bool spice_async_install(struct spice_async *a, struct spice_async_page *p,
				struct folio *folio)
{
	struct vm_area_struct *vma = vma_lookup(a->mm, p->addr);
	spinlock_t *ptl;	/* the page table's lock */
	bool done;
	pmd_t *pmd;
	pte_t *pte;

	/*
	 * The region may have been replaced: only a private, ordinary VMA can
	 * hold our entries, and mm_find_pmd() is only safe there (no hugetlb).
	 */
	if (!vma || is_vm_hugetlb_page(vma) ||
	    (vma->vm_flags & (VM_SHARED | VM_PFNMAP | VM_MIXEDMAP | VM_IO)) ||
	    anon_vma_prepare(vma))
		return false;
	/* A pending entry means the page table exists; if not, it went away. */
	pmd = mm_find_pmd(a->mm, p->addr);
	if (!pmd)
		return false;
	pte = pte_offset_map_lock(a->mm, pmd, p->addr, &ptl);
	if (!pte)
		return false;
	done = spice_async_set_pte(a, vma, p, pte, folio);
	pte_unmap_unlock(pte, ptl);
	return done;
}

/* Restore pages [first, first + nr); false when the worker should stop. */
static bool spice_async_batch(struct spice_async *a, size_t first, size_t nr)
{
	struct folio *folios[SPICE_ASYNC_BATCH];
	struct address_space *mapping = a->image->f_mapping;
	struct mem_cgroup *memcg, *old_memcg;
	bool ok = true;
	size_t i;

	/* The page cache it fills is the process's, not the kworker's. */
	memcg = get_mem_cgroup_from_mm(a->mm);
	old_memcg = set_active_memcg(memcg);
	/*
	 * Start the reads of each run of pages contiguous in the image (the
	 * working set is stored in first-touch order, so usually one run),
	 * then wait for them page by page.  shmem has nothing to read ahead.
	 */
	for (i = 0; !shmem_mapping(mapping) && i < nr; i++) {
		pgoff_t index = a->pages[first + i].index;

		if (i && index == a->pages[first + i - 1].index + 1)
			continue;
		page_cache_sync_readahead(mapping, &a->ra, a->image, index, nr - i);
	}
	for (i = 0; i < nr; i++) {
		folios[i] = spice_async_copy(a, a->pages[first + i].index);
		ok &= !!folios[i];
	}
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);

	mmap_read_lock(a->mm);
	for (i = 0; i < nr; i++)
		if (folios[i] && spice_async_install(a, &a->pages[first + i], folios[i]))
			folios[i] = NULL;
	mmap_read_unlock(a->mm);

	for (i = 0; i < nr; i++)
		if (folios[i])
			folio_put(folios[i]);
	return ok;
}

static void spice_async_work(struct work_struct *work)
{
	struct spice_async *a = container_of(work, struct spice_async, work);
	size_t i, n;

	for (i = 0; i < a->nr; i += n) {
		n = min_t(size_t, a->nr - i, SPICE_ASYNC_BATCH);
		/* Exit or exec: nobody will touch these pages any more. */
		if (!mmget_not_zero(a->mm))
			break;
		if (!spice_async_batch(a, i, n)) {
			mmput(a->mm);
			break;
		}
		mmput(a->mm);
		cond_resched();
	}
	fput(a->image);
	mmdrop(a->mm);
	kvfree(a);
}

/**
 * spice_async_start - Hand the pages to a worker.
 * @a:     The worker, with every page set.
 * @mm:    The mm the pages belong to.
 * @image: The image they are read from.
 * @slot:  The image's slot in @mm's table, named by the pending entries.
 */
void spice_async_start(struct spice_async *a, struct mm_struct *mm,
		       struct file *image, unsigned int slot)
{
	mmgrab(mm);
	a->mm = mm;
	a->image = get_file(image);
	a->slot = slot;
	file_ra_state_init(&a->ra, image->f_mapping);
	INIT_WORK(&a->work, spice_async_work);
	queue_work(system_unbound_wq, &a->work);
}
