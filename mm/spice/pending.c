// SPDX-License-Identifier: GPL-2.0
/*
 * Pages that mmap_restore() leaves to be read on first touch.
 *
 * Such a page's page-table entry is a SWP_SPICE swap entry whose offset
 * holds an image slot and a page index in that image.  The slots live in a
 * table per mm (mm->spice), shared with forked children, so that an entry
 * copied by fork or moved by mremap still means the same page.  A slot holds
 * a reference to its image file until the last mm that may hold entries for
 * it is freed.
 *
 * On first touch, spice_restore_fault() reads the image page through the
 * image's page cache, with readahead, and installs a private copy, as a
 * swap-in would, then the copies of the pending pages after it that the
 * readahead brought in (fault-around).  Everything else follows from the entry being in the page
 * table: munmap and MADV_DONTNEED drop it, mprotect keeps it.
 */

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "../internal.h"
#include "internal.h"

/* The page index takes the low bits of the entry's offset, the slot the rest. */
#define SPICE_ENTRY_PAGE_BITS	40
#define SPICE_ENTRY_PAGE_MASK	((1ULL << SPICE_ENTRY_PAGE_BITS) - 1)
#define SPICE_MM_SLOTS		256

/* Pages read ahead of a fault, around it in the image. */
#define SPICE_FAULT_READAHEAD	16

struct spice_mm {
	refcount_t ref;
	struct mutex lock;	/* serialises adding slots */
	unsigned int nr;	/* slots in use; they are never removed */
	struct file *images[SPICE_MM_SLOTS];
};

/* Whether this arch's swap entries carry the offsets we need (checked once). */
static bool spice_entries_fit __ro_after_init;

static int __init spice_check_entries(void)
{
	pgoff_t max = ((pgoff_t)(SPICE_MM_SLOTS - 1) << SPICE_ENTRY_PAGE_BITS) |
		      SPICE_ENTRY_PAGE_MASK;
	swp_entry_t e = pte_to_swp_entry(swp_entry_to_pte(make_spice_entry(max)));

	spice_entries_fit = is_spice_entry(e) && swp_offset(e) == max;
	if (!spice_entries_fit)
		pr_info("spice: swap entries too small, pages are restored eagerly\n");
	return 0;
}
late_initcall(spice_check_entries);

/**
 * spice_pending_possible - Whether pages can be left for first touch.
 * @image_page: The page's index in its image.
 *
 * Return: true if a pending entry can name @image_page.
 */
bool spice_pending_possible(u64 image_page)
{
	return spice_entries_fit && image_page <= SPICE_ENTRY_PAGE_MASK;
}

/**
 * spice_pending_pte - The page-table entry of a page left for first touch.
 * @slot:       The image's slot, from spice_mm_add_image().
 * @image_page: The page's index in the image.
 *
 * Return: A non-present PTE holding a SWP_SPICE entry.
 */
pte_t spice_pending_pte(unsigned int slot, u64 image_page)
{
	return swp_entry_to_pte(make_spice_entry(((pgoff_t)slot << SPICE_ENTRY_PAGE_BITS) |
						 image_page));
}

/**
 * spice_mm_add_image - Give an image a slot in an mm's table.
 * @mm:    The mm; its mmap_lock is held for writing.
 * @image: The image file.
 *
 * An image whose inode already has a slot reuses it.
 *
 * Return: The slot, or -ENOMEM (no memory, or every slot taken).
 */
int spice_mm_add_image(struct mm_struct *mm, struct file *image)
{
	struct spice_mm *t = mm->spice;
	unsigned int i;
	int slot = -ENOMEM;

	mmap_assert_write_locked(mm);
	if (!t) {
		t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
		if (!t)
			return -ENOMEM;
		refcount_set(&t->ref, 1);
		mutex_init(&t->lock);
		/* Pairs with the acquire in spice_restore_fault(). */
		smp_store_release(&mm->spice, t);
	}

	mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++) {
		if (file_inode(t->images[i]) == file_inode(image)) {
			slot = i;
			goto out;
		}
	}
	if (t->nr < SPICE_MM_SLOTS) {
		t->images[t->nr] = get_file(image);
		/* The file before the count that makes it visible. */
		smp_store_release(&t->nr, t->nr + 1);
		slot = t->nr - 1;
	}
out:
	mutex_unlock(&t->lock);
	return slot;
}

/* The image of @slot, or NULL if the table has no such slot. */
static struct file *spice_mm_image(struct mm_struct *mm, unsigned int slot)
{
	/* Pairs with the release in spice_mm_add_image(): a set table. */
	struct spice_mm *t = smp_load_acquire(&mm->spice);

	/* Pairs with the release of the count: the slot's file is set. */
	if (!t || slot >= smp_load_acquire(&t->nr))
		return NULL;
	return t->images[slot];
}

/**
 * spice_mm_fork - Share the image table with a forked child.
 * @mm:    The child's mm.
 * @oldmm: The parent's mm, whose mmap_lock is held for writing.
 */
void spice_mm_fork(struct mm_struct *mm, struct mm_struct *oldmm)
{
	struct spice_mm *t = oldmm->spice;

	if (t)
		refcount_inc(&t->ref);
	mm->spice = t;
}

/**
 * spice_mm_release - Drop an mm's reference to its image table.
 * @mm: The mm being freed: no page table refers to the images any more.
 */
void spice_mm_release(struct mm_struct *mm)
{
	struct spice_mm *t = mm->spice;
	unsigned int i;

	mm->spice = NULL;
	if (!t || !refcount_dec_and_test(&t->ref))
		return;
	for (i = 0; i < t->nr; i++)
		fput(t->images[i]);
	kfree(t);
}

/*
 * Read one image page into the page cache, with readahead around it, and
 * return it uptodate with a reference, or an ERR_PTR.
 */
static struct folio *spice_read_image_page(struct file *image, pgoff_t index)
{
	struct address_space *mapping = image->f_mapping;
	struct folio *folio = filemap_get_folio(mapping, index);

	if (!IS_ERR(folio) && folio_test_uptodate(folio))
		return folio;
	if (!IS_ERR(folio))
		folio_put(folio);
	page_cache_sync_readahead(mapping, &image->f_ra, image, index,
				  SPICE_FAULT_READAHEAD);
	return read_mapping_folio(mapping, index, image);
}

/*
 * A private copy of image page @index (in @src), for @addr of @vma, charged
 * to the mm's memcg; NULL if memory or the copy fails.
 */
static struct folio *spice_copy_for(struct vm_area_struct *vma, unsigned long addr,
				    struct folio *src, pgoff_t index)
{
	struct folio *folio;

	folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE, 0, vma, addr, false);
	if (!folio)
		return NULL;
	if (mem_cgroup_charge(folio, vma->vm_mm, GFP_KERNEL) ||
	    copy_mc_highpage(&folio->page, folio_file_page(src, index))) {
		folio_put(folio);
		return NULL;
	}
	folio_throttle_swaprate(folio, GFP_KERNEL);
	/* The contents, flushed for aliasing caches, before the PTE. */
	flush_dcache_folio(folio);
	__folio_mark_uptodate(folio);
	return folio;
}

/*
 * Map a private copy at @addr, as do_anonymous_page() would: the PTE lock
 * is held and the entry is the pending one.  Takes a folio reference.
 */
static void spice_map_copy(struct vm_area_struct *vma, unsigned long addr,
			   pte_t *pte, struct folio *folio)
{
	pte_t entry;

	entry = pte_sw_mkyoung(mk_pte(&folio->page, vma->vm_page_prot));
	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry), vma);
	folio_get(folio);
	inc_mm_counter(vma->vm_mm, MM_ANONPAGES);
	folio_add_new_anon_rmap(folio, vma, addr, RMAP_EXCLUSIVE);
	folio_add_lru_vma(folio, vma);
	set_pte_at(vma->vm_mm, addr, pte, entry);
}

/* Map @folio at the fault's address; the PTE lock is held. */
static void spice_set_faulted_pte(struct vm_fault *vmf, struct folio *folio)
{
	/* Another thread restored it, or it was zapped: just refault. */
	if (!pte_same(ptep_get(vmf->pte), vmf->orig_pte))
		return;
	spice_map_copy(vmf->vma, vmf->address, vmf->pte, folio);
	update_mmu_cache_range(vmf, vmf->vma, vmf->address, vmf->pte, 1);
}

/* Install @folio at the fault's address if the entry is still the one seen. */
static void spice_install_faulted(struct vm_fault *vmf, struct folio *folio)
{
	spinlock_t *ptl;	/* the fault's page-table lock */
	pte_t *pte;

	pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &ptl);
	if (!pte)
		return;
	vmf->pte = pte;
	vmf->ptl = ptl;
	spice_set_faulted_pte(vmf, folio);
	pte_unmap_unlock(pte, ptl);
}

/* Map the copies whose entries are still the pending ones seen; locked. */
static void spice_map_copies_locked(struct vm_area_struct *vma, pte_t *pte,
				    unsigned long addr, struct folio **folios,
				    const pte_t *expect, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!folios[i] || !pte_same(ptep_get(pte + i), expect[i]))
			continue;
		spice_map_copy(vma, addr + i * PAGE_SIZE, pte + i, folios[i]);
		update_mmu_cache_range(NULL, vma, addr + i * PAGE_SIZE, pte + i, 1);
	}
}

/* Copy the @n entries from @addr on into @entries; locked. */
static void spice_read_entries_locked(pte_t *pte, pte_t *entries, int n)
{
	int i;

	for (i = 0; i < n; i++)
		entries[i] = ptep_get(pte + i);
}

/* Read the @n entries from @addr on (in one page table) under its lock. */
static void spice_read_entries(struct vm_area_struct *vma, pmd_t *pmd,
			       unsigned long addr, pte_t *entries, int n)
{
	spinlock_t *ptl;	/* the page table's lock */
	pte_t *pte;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	if (!pte)
		return;
	spice_read_entries_locked(pte, entries, n);
	pte_unmap_unlock(pte, ptl);
}

/* Map the copies over the entries still as seen, under one PTE lock. */
static void spice_map_copies(struct vm_area_struct *vma, pmd_t *pmd,
			     unsigned long addr, struct folio **folios,
			     const pte_t *expect, int n)
{
	spinlock_t *ptl;	/* the page table's lock */
	pte_t *pte;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	if (!pte)
		return;
	spice_map_copies_locked(vma, pte, addr, folios, expect, n);
	pte_unmap_unlock(pte, ptl);
}

/*
 * Fault-around: after restoring a page, restore the pending pages that
 * follow it in the same VMA and page table whose image pages the readahead
 * has already brought into the page cache, under one PTE lock, so that a
 * sequential first touch takes one fault per SPICE_FAULT_READAHEAD pages
 * instead of one per page.  No I/O: pages not cached are left pending.
 */
static void spice_fault_around(struct vm_fault *vmf, struct file *image,
			       pgoff_t payload)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address + PAGE_SIZE;
	unsigned long end = min3(vma->vm_end, pmd_addr_end(vmf->address, vma->vm_end),
				 vmf->address + SPICE_FAULT_READAHEAD * PAGE_SIZE);
	struct folio *folios[SPICE_FAULT_READAHEAD] = {};
	pte_t entries[SPICE_FAULT_READAHEAD];
	pgoff_t slot = payload >> SPICE_ENTRY_PAGE_BITS;
	int n, i;

	if (addr >= end)
		return;
	n = (end - addr) >> PAGE_SHIFT;
	/* Entries not read (the page table went away) count as none. */
	for (i = 0; i < n; i++)
		entries[i] = __pte(0);
	spice_read_entries(vma, vmf->pmd, addr, entries, n);

	for (i = 0; i < n; i++) {
		swp_entry_t entry;
		struct folio *src;
		pgoff_t index;

		if (pte_present(entries[i]) || pte_none(entries[i]))
			continue;
		entry = pte_to_swp_entry(entries[i]);
		if (!is_spice_entry(entry) ||
		    swp_offset(entry) >> SPICE_ENTRY_PAGE_BITS != slot)
			continue;
		index = swp_offset(entry) & SPICE_ENTRY_PAGE_MASK;
		src = filemap_get_folio(image->f_mapping, index);
		if (IS_ERR(src))
			continue;
		if (folio_test_uptodate(src))
			folios[i] = spice_copy_for(vma, addr + i * PAGE_SIZE, src, index);
		folio_put(src);
	}

	spice_map_copies(vma, vmf->pmd, addr, folios, entries, n);
	for (i = 0; i < n; i++)
		if (folios[i])
			folio_put(folios[i]);
}

/**
 * spice_restore_fault - Restore a page left for first touch.
 * @vmf: The fault; vmf->orig_pte holds a SWP_SPICE entry.
 *
 * Reads the page from its image through the page cache and installs a
 * private copy.  When the fault may be retried, the read happens with the
 * mmap (or VMA) lock dropped and the fault is retried, as filemap_fault()
 * does, so that no I/O runs under the lock.
 *
 * Return: 0 (also when another thread got there first, or the entry went
 * away: the access then faults again), VM_FAULT_RETRY, VM_FAULT_OOM, or
 * VM_FAULT_SIGBUS when the image cannot be read.
 */
vm_fault_t spice_restore_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pgoff_t payload = swp_offset(pte_to_swp_entry(vmf->orig_pte));
	pgoff_t index = payload & SPICE_ENTRY_PAGE_MASK;
	struct folio *src, *folio;
	struct file *image;
	vm_fault_t ret;

	image = spice_mm_image(vma->vm_mm, payload >> SPICE_ENTRY_PAGE_BITS);
	if (WARN_ON_ONCE(!image))
		return VM_FAULT_SIGBUS;

	ret = vmf_anon_prepare(vmf);
	if (ret)
		return ret;

	src = filemap_get_folio(image->f_mapping, index);
	if (IS_ERR(src) || !folio_test_uptodate(src)) {
		if (!IS_ERR(src))
			folio_put(src);
		if (fault_flag_allow_retry_first(vmf->flags)) {
			/* Read with the lock dropped, then fault again. */
			get_file(image);
			release_fault_lock(vmf);
			if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT)) {
				src = spice_read_image_page(image, index);
				if (!IS_ERR(src))
					folio_put(src);
			} else {
				page_cache_sync_readahead(image->f_mapping, &image->f_ra,
							  image, index, SPICE_FAULT_READAHEAD);
			}
			fput(image);
			return VM_FAULT_RETRY;
		}
		src = spice_read_image_page(image, index);
		if (IS_ERR(src))
			return PTR_ERR(src) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	}

	folio = spice_copy_for(vma, vmf->address, src, index);
	if (!folio) {
		ret = PageHWPoison(folio_file_page(src, index)) ? VM_FAULT_HWPOISON :
								  VM_FAULT_OOM;
		folio_put(src);
		return ret;
	}
	folio_put(src);

	spice_install_faulted(vmf, folio);
	folio_put(folio);
	spice_fault_around(vmf, image, payload);
	return 0;
}
