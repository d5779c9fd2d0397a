// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_restore(2): create the mappings and install their pages.
 *
 * Everything happens under one hold of mmap_lock for writing, so no other
 * thread of the caller can fault on a new mapping before its pages are in
 * place, and a failure can take every new mapping away again before anyone
 * sees it.  The page contents were read beforehand (load.c): no I/O here.
 *
 * Page-table entries go in by runs: one page-table lock per run of pages
 * that share a page table, as do_anonymous_page() and filemap_map_pages()
 * would set them one fault at a time.
 */

#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/rmap.h>
#include <linux/swap.h>
#include <linux/userfaultfd_k.h>

#include "../internal.h"
#include "internal.h"

/* Counters to add to the mm once a run is in. */
struct spice_counts {
	long anon;
	long file;
	long shmem;
};

/* The file a region maps: its backing file, or its shmem object. */
static struct file *spice_map_file(const struct spice_region *sreg)
{
	return sreg->file ?: sreg->shmem;
}

static unsigned long spice_map_flags(const struct spice_region *sreg)
{
	const struct mmap_restore_region *r = sreg->uregion;
	unsigned long flags = MAP_FIXED;

	flags |= r->flags & MMAP_RESTORE_REGION_SHARED ? MAP_SHARED : MAP_PRIVATE;
	if (!spice_map_file(sreg))
		flags |= MAP_ANONYMOUS;
	if (r->flags & MMAP_RESTORE_REGION_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (r->flags & MMAP_RESTORE_REGION_NORESERVE)
		flags |= MAP_NORESERVE;
	return flags;
}

/* A region's lock and advice flags as the VMA flags mlock2() and madvise() set. */
static vm_flags_t spice_region_vm_flags(const struct mmap_restore_region *r)
{
	static const struct {
		u32 region;
		vm_flags_t vm;
	} map[] = {
		{ MMAP_RESTORE_REGION_LOCKED, VM_LOCKED },
		{ MMAP_RESTORE_REGION_LOCKONFAULT, VM_LOCKONFAULT },
		{ MMAP_RESTORE_REGION_DONTFORK, VM_DONTCOPY },
		{ MMAP_RESTORE_REGION_WIPEONFORK, VM_WIPEONFORK },
		{ MMAP_RESTORE_REGION_DONTDUMP, VM_DONTDUMP },
		{ MMAP_RESTORE_REGION_HUGEPAGE, VM_HUGEPAGE },
		{ MMAP_RESTORE_REGION_NOHUGEPAGE, VM_NOHUGEPAGE },
		{ MMAP_RESTORE_REGION_SEQUENTIAL, VM_SEQ_READ },
		{ MMAP_RESTORE_REGION_RANDOM, VM_RAND_READ },
	};
	vm_flags_t vm_flags = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (r->flags & map[i].region)
			vm_flags |= map[i].vm;
	return vm_flags;
}

/*
 * What do_mmap() built must be a VMA whose pages we may install as the
 * faults would: not hugetlb, not a raw PFN or I/O mapping.  Some ->mmap()
 * methods put another file in the VMA (overlayfs, FUSE passthrough: the
 * backing file); private copies do not care, and page-cache pages are only
 * mapped when they belong to the VMA's file (spice_file_page_ok()).
 */
static bool spice_vma_usable(struct vm_area_struct *vma, struct file *file)
{
	if (is_vm_hugetlb_page(vma) ||
	    (vma->vm_flags & (VM_PFNMAP | VM_IO | VM_MIXEDMAP)))
		return false;
	return file ? !!vma->vm_file : vma_is_anonymous(vma);
}

/*
 * The most VMAs mapping the regions can add, undoing them included, so
 * that the call is refused early rather than failing half-way.  Into an
 * empty address space (restore_process(), after unmapping everything)
 * each region adds at most one and nothing is split: the regions do not
 * overlap, and unmapping some of several merged regions leaves at most
 * one VMA per region left.  Otherwise a region may split the VMA it lands
 * in and undoing it may split again.
 */
static u64 spice_map_count_needed(const struct spice_restore *sr, int map_count)
{
	return map_count ? 3ULL * sr->t.nr_regions : sr->t.nr_regions;
}

/* Map every region; mmap_lock is held for writing. */
static int spice_map_regions(struct spice_restore *sr, struct list_head *uf)
{
	struct mm_struct *mm = current->mm;
	u32 i;

	mmap_assert_write_locked(mm);
	if (mm->map_count + spice_map_count_needed(sr, mm->map_count) >
	    sysctl_max_map_count)
		return -ENOMEM;

	/* Without MMAP_RESTORE_REPLACE, check every region before any change. */
	if (!(sr->flags & MMAP_RESTORE_REPLACE)) {
		for (i = 0; i < sr->t.nr_regions; i++) {
			const struct mmap_restore_region *r = &sr->t.regions[i];

			if (find_vma_intersection(mm, r->start, r->start + r->len))
				return -EEXIST;
		}
	}

	for (i = 0; i < sr->t.nr_regions; i++) {
		const struct mmap_restore_region *r = &sr->t.regions[i];
		struct spice_region *sreg = &sr->regions[i];
		unsigned long populate, addr;
		struct vm_area_struct *vma;

		/*
		 * A shmem object unlinked at mmap() time makes shared
		 * anonymous memory (shmem_mmap()), as shmem_zero_setup().
		 */
		addr = do_mmap(spice_map_file(sreg), r->start, r->len, r->prot,
			       spice_map_flags(sreg), spice_region_vm_flags(r),
			       r->pgoff >> PAGE_SHIFT, &populate, uf);
		if (IS_ERR_VALUE(addr))
			return (int)addr;
		sreg->mapped = true;
		/* Locked: the whole region is to be resident. */
		sreg->populate = populate;
		vma = vma_lookup(mm, addr);
		if (WARN_ON_ONCE(addr != r->start || !vma))
			return -EINVAL;
		if (!spice_vma_usable(vma, spice_map_file(sreg)))
			return -ENODEV;
	}
	return 0;
}

static void spice_unmap_regions(struct spice_restore *sr, struct list_head *uf)
{
	u32 i;

	for (i = 0; i < sr->t.nr_regions; i++) {
		const struct mmap_restore_region *r = &sr->t.regions[i];

		if (sr->regions[i].mapped &&
		    do_munmap(current->mm, r->start, r->len, uf))
			pr_warn_ratelimited("spice: %s[%d]: could not undo a mapping at %#llx\n",
					    current->comm, task_pid_nr(current), r->start);
		sr->regions[i].mapped = false;
	}
}

/*
 * A page-cache page may have been truncated or replaced since it was read:
 * map it only if it is still the file's, uptodate, inside the file and not
 * poisoned, as next_uptodate_folio() checks.  Returns with the folio locked.
 */
static bool spice_file_page_ok(struct vm_area_struct *vma, struct spice_page *p,
			       struct page *page)
{
	struct folio *folio = p->folio;
	struct address_space *mapping = vma->vm_file->f_mapping;
	pgoff_t eof;

	/* Filesystems that map faulted pages themselves keep their pages. */
	if (!vma->vm_ops || vma->vm_ops->map_pages != filemap_map_pages)
		return false;
	if (!folio_trylock(folio))
		return false;
	eof = DIV_ROUND_UP(i_size_read(mapping->host), PAGE_SIZE);
	if (folio->mapping != mapping || !folio_test_uptodate(folio) ||
	    (p->offset >> PAGE_SHIFT) >= eof || PageHWPoison(page)) {
		folio_unlock(folio);
		return false;
	}
	return true;
}

/*
 * Set one page's entry; the PTE lock is held and the entry is none.
 * Returns false when the page is left to a fault instead.
 */
static bool spice_set_pte(struct spice_restore *sr, struct vm_area_struct *vma,
			  struct spice_page *p, pte_t *pte, struct spice_counts *c)
{
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio = p->folio;
	struct page *page;
	pte_t entry;

	switch (p->kind) {
	case SPICE_PAGE_PENDING:
		set_pte_at(mm, p->addr, pte,
			   spice_pending_pte(sr->image_slot, p->offset >> PAGE_SHIFT));
		sr->stats.pages_deferred++;
		return true;
	case SPICE_PAGE_ZERO_RO:
		entry = pte_mkspecial(pfn_pte(my_zero_pfn(p->addr), vma->vm_page_prot));
		set_pte_at(mm, p->addr, pte, entry);
		return true;
	case SPICE_PAGE_FILE_RO:
		/* As filemap_map_pages() maps a cached page. */
		page = folio_file_page(folio, p->offset >> PAGE_SHIFT);
		if (!spice_file_page_ok(vma, p, page))
			return false;
		flush_icache_pages(vma, page, 1);
		entry = pte_sw_mkyoung(mk_pte(page, vma->vm_page_prot));
		folio_add_file_rmap_ptes(folio, page, 1, vma);
		folio_unlock(folio);
		if (mm_counter_file(folio) == MM_SHMEMPAGES)
			c->shmem++;
		else
			c->file++;
		break;
	default:
		/* A private copy, exclusive to this mm: as do_anonymous_page(). */
		page = &folio->page;
		flush_icache_pages(vma, page, 1);
		entry = pte_sw_mkyoung(mk_pte(page, vma->vm_page_prot));
		if (vma->vm_flags & VM_WRITE)
			entry = pte_mkwrite(pte_mkdirty(entry), vma);
		folio_add_new_anon_rmap(folio, vma, p->addr, RMAP_EXCLUSIVE);
		folio_add_lru_vma(folio, vma);
		c->anon++;
		break;
	}
	/* The page's reference now belongs to the page table. */
	p->folio = NULL;
	set_pte_at(mm, p->addr, pte, entry);
	return true;
}

/*
 * Private contents need the VMA's anon_vma, pending ones too: fork copies
 * the page tables of a private VMA only if it has one (vma_needs_copy()),
 * and khugepaged frees those of a file VMA that has none.
 */
static bool spice_page_needs_anon_vma(const struct spice_page *p)
{
	return p->kind == SPICE_PAGE_IMAGE || p->kind == SPICE_PAGE_ZERO ||
	       p->kind == SPICE_PAGE_FILE_COPY || p->kind == SPICE_PAGE_PENDING;
}

/* Install pages[from..to), which share one page table; its lock is held. */
static void spice_install_locked(struct spice_restore *sr, struct vm_area_struct *vma,
				 size_t from, size_t to, pte_t *start_pte,
				 struct spice_counts *c)
{
	unsigned long base = sr->pages[from].addr;
	size_t j;

	for (j = from; j < to; j++) {
		struct spice_page *p = &sr->pages[j];
		pte_t *pte = start_pte + ((p->addr - base) >> PAGE_SHIFT);

		/* Past the end of a file, or left to an ordinary fault. */
		if (!p->folio && p->kind != SPICE_PAGE_ZERO_RO &&
		    p->kind != SPICE_PAGE_PENDING)
			continue;
		/*
		 * A new mapping's entries are none, unless ->mmap() or
		 * uprobe_mmap() filled some: those stay.
		 */
		if (!pte_none(ptep_get(pte)))
			continue;
		if (!spice_set_pte(sr, vma, p, pte, c) ||
		    p->kind == SPICE_PAGE_PENDING)
			continue;
		update_mmu_cache_range(NULL, vma, p->addr, pte, 1);
		sr->stats.pages_populated++;
	}
}

/*
 * Install pages[*i...] that share a page table and a VMA, under one PTE
 * lock.  Advances *i past them.
 */
static int spice_install_run(struct spice_restore *sr, size_t *i)
{
	struct mm_struct *mm = current->mm;
	unsigned long addr = sr->pages[*i].addr;
	unsigned long end_addr = pmd_addr_end(addr, ULONG_MAX);
	struct spice_counts c = {};
	struct vm_area_struct *vma;
	bool need_anon_vma = false;
	spinlock_t *ptl;	/* the lock of the page table of the run */
	size_t end;
	pte_t *pte;

	vma = vma_lookup(mm, addr);
	if (WARN_ON_ONCE(!vma))
		return -EINVAL;
	end_addr = min(end_addr, vma->vm_end);
	for (end = *i; end < sr->nr_pages && sr->pages[end].addr < end_addr; end++)
		need_anon_vma |= spice_page_needs_anon_vma(&sr->pages[end]);
	if (need_anon_vma && anon_vma_prepare(vma))
		return -ENOMEM;

	pte = get_locked_pte(mm, addr, &ptl);
	if (!pte)
		return -ENOMEM;
	spice_install_locked(sr, vma, *i, end, pte, &c);
	pte_unmap_unlock(pte, ptl);

	add_mm_counter(mm, MM_ANONPAGES, c.anon);
	add_mm_counter(mm, MM_FILEPAGES, c.file);
	add_mm_counter(mm, MM_SHMEMPAGES, c.shmem);
	*i = end;
	return 0;
}

/*
 * The image's slot in the mm's table, for pending entries.  A slot taken
 * by a call that then fails stays: it only holds a file reference.
 */
static int spice_get_slot(struct spice_restore *sr)
{
	size_t i;
	int slot;

	for (i = 0; i < sr->nr_pages; i++)
		if (sr->pages[i].kind == SPICE_PAGE_PENDING)
			break;
	if (i == sr->nr_pages)
		return 0;
	slot = spice_mm_add_image(current->mm, sr->image);
	if (slot < 0)
		return slot;
	sr->image_slot = slot;
	return 0;
}

/**
 * spice_install - Map the regions and install the loaded pages.
 * @sr: The call, with its pages loaded.
 *
 * Return: 0, or -EEXIST (a region overlaps a mapping and
 * %MMAP_RESTORE_REPLACE is not set), -EINTR (fatal signal while waiting for
 * mmap_lock), -ENOMEM, or an error of mmap().  On error no new mapping is
 * left; with %MMAP_RESTORE_REPLACE the replaced ranges stay unmapped.
 */
int spice_install(struct spice_restore *sr)
{
	struct mm_struct *mm = current->mm;
	LIST_HEAD(uf);
	size_t i = 0;
	u32 j;
	int err;

	if (mmap_write_lock_killable(mm))
		return -EINTR;

	err = spice_map_regions(sr, &uf);
	if (!err)
		err = spice_get_slot(sr);
	while (!err && i < sr->nr_pages) {
		err = spice_install_run(sr, &i);
		if (!err && fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	if (err)
		spice_unmap_regions(sr, &uf);

	mmap_write_unlock(mm);
	userfaultfd_unmap_complete(mm, &uf);
	if (!err && sr->async) {
		spice_async_start(sr->async, mm, sr->image, sr->image_slot);
		sr->async = NULL;
	}
	/* As vm_mmap_pgoff() does for mlocked mappings. */
	for (j = 0; !err && j < sr->t.nr_regions; j++)
		if (sr->regions[j].populate)
			mm_populate(sr->t.regions[j].start, sr->regions[j].populate);
	return err;
}
