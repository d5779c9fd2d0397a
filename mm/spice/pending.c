// SPDX-License-Identifier: GPL-2.0
/*
 * Pages that mmap_restore() leaves to be read on first touch.
 *
 * Such a page's page-table entry is a SWP_SPICE swap entry whose offset
 * holds an image slot and a page index in that image (spice_pending_pte()).
 * The slots live in a table per mm (mm->spice), shared with forked
 * children, so that an entry copied by fork or moved by mremap still means
 * the same page.  A slot holds a reference to its image file until the last
 * mm that may hold entries for it has torn down its page tables.
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
#include <linux/secretmem.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/swapfile.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>

#include "../internal.h"
#include "internal.h"

#include <trace/events/spice.h>

/*
 * The slot takes the low bits of the entry's offset, the page index the
 * rest.  The offset as a whole stays below the largest swap offset the
 * arch allows (arch_max_swapfile_size()): on x86 with the L1TF mitigation,
 * larger offsets would make the inverted non-present PTE point into RAM.
 */
#define SPICE_SLOT_BITS		8
#define SPICE_MM_SLOTS		BIT(SPICE_SLOT_BITS)

/* Pages read ahead of a fault, around it in the image. */
#define SPICE_FAULT_READAHEAD	16

struct spice_mm {
	refcount_t ref;
	struct mutex lock;	/* serialises adding slots */
	unsigned int nr;	/* slots in use; they are never removed */
	struct file *images[SPICE_MM_SLOTS];
};

/* One past the largest image page a pending entry can name; 0: none. */
static pgoff_t spice_max_page __ro_after_init;

static int __init spice_check_entries(void)
{
#ifdef CONFIG_SWAP
	pgoff_t limit = arch_max_swapfile_size();
	pgoff_t max = limit - 1;
	swp_entry_t e = pte_to_swp_entry(swp_entry_to_pte(make_spice_entry(max)));

	if (limit > SPICE_MM_SLOTS && is_spice_entry(e) && swp_offset(e) == max)
		spice_max_page = limit >> SPICE_SLOT_BITS;
#endif
	if (!spice_max_page)
		pr_info("spice: no room in swap entries, pages are restored eagerly\n");
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
	return image_page < spice_max_page;
}

static unsigned int spice_entry_slot(pgoff_t payload)
{
	return payload & (SPICE_MM_SLOTS - 1);
}

static pgoff_t spice_entry_page(pgoff_t payload)
{
	return payload >> SPICE_SLOT_BITS;
}

/**
 * spice_image_usable - Whether pages can be read from @image on first touch.
 * @image: A regular file open for reading.
 *
 * Pending pages are read through the image's page cache, so the file must
 * have one that can be read into: not DAX, not secret memory, not a file
 * without ->read_folio (procfs and the like).
 *
 * Return: true if so.
 */
bool spice_image_usable(struct file *image)
{
	struct address_space *mapping = image->f_mapping;

	if (IS_DAX(mapping->host) || secretmem_mapping(mapping))
		return false;
	return shmem_mapping(mapping) || mapping->a_ops->read_folio;
}

/**
 * spice_read_image_folio - An image page, read into the page cache.
 * @image: An image that spice_image_usable() accepted.
 * @index: The page's index.
 *
 * Return: The uptodate folio with a reference, or an ERR_PTR.
 */
struct folio *spice_read_image_folio(struct file *image, pgoff_t index)
{
	struct address_space *mapping = image->f_mapping;

	if (shmem_mapping(mapping))
		return shmem_read_folio(mapping, index);
	return read_mapping_folio(mapping, index, image);
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
	return swp_entry_to_pte(make_spice_entry((image_page << SPICE_SLOT_BITS) | slot));
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
 * @mm: An mm whose page tables are gone (__mmput() after exit_mmap()).
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

/* Start reading image pages from @index on; shmem has nothing to read. */
static void spice_readahead(struct file *image, pgoff_t index)
{
	struct address_space *mapping = image->f_mapping;

	if (!shmem_mapping(mapping))
		page_cache_sync_readahead(mapping, &image->f_ra, image, index,
					  SPICE_FAULT_READAHEAD);
}

/*
 * Read one image page into the page cache, with readahead around it, and
 * return it uptodate with a reference, or an ERR_PTR.
 */
static struct folio *spice_read_image_page(struct file *image, pgoff_t index)
{
	struct folio *folio = filemap_get_folio(image->f_mapping, index);

	if (!IS_ERR(folio) && folio_test_uptodate(folio))
		return folio;
	if (!IS_ERR(folio))
		folio_put(folio);
	spice_readahead(image, index);
	return spice_read_image_folio(image, index);
}

/*
 * A private copy of image page @index (in @src), for @addr of @vma, charged
 * to the mm's memcg; an ERR_PTR if memory (-ENOMEM) or the copy (-EIO, a
 * poisoned source) fails.  @speculative: for fault-around, which must not
 * reclaim hard or wake the OOM killer for pages nobody asked for yet.
 */
static struct folio *spice_copy_for(struct vm_area_struct *vma, unsigned long addr,
				    struct folio *src, pgoff_t index, bool speculative)
{
	gfp_t extra = speculative ? __GFP_NORETRY | __GFP_NOWARN : 0;
	struct folio *folio;

	folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE | extra, 0, vma, addr, false);
	if (!folio)
		return ERR_PTR(-ENOMEM);
	if (mem_cgroup_charge(folio, vma->vm_mm, GFP_KERNEL | extra)) {
		folio_put(folio);
		return ERR_PTR(-ENOMEM);
	}
	if (copy_mc_highpage(&folio->page, folio_file_page(src, index))) {
		folio_put(folio);
		return ERR_PTR(-EIO);
	}
	folio_throttle_swaprate(folio, GFP_KERNEL);
	/* The contents, flushed for aliasing caches, before the PTE. */
	flush_dcache_folio(folio);
	__folio_mark_uptodate(folio);
	return folio;
}

/*
 * Map a private copy at @addr over the pending entry @orig, as
 * do_swap_page() maps an exclusive page: the entry's soft-dirty and
 * uffd-wp bits carry over, and the page is writable only where neither
 * asks for a write fault.  The PTE lock is held.  Takes a folio reference.
 */
static void spice_map_copy(struct vm_area_struct *vma, unsigned long addr,
			   pte_t *pte, pte_t orig, struct folio *folio, bool write)
{
	pte_t entry = mk_pte(&folio->page, vma->vm_page_prot);

	if (pte_swp_soft_dirty(orig))
		entry = pte_mksoft_dirty(entry);
	if (pte_swp_uffd_wp(orig))
		entry = pte_mkuffd_wp(entry);
	entry = pte_sw_mkyoung(entry);
	if ((vma->vm_flags & VM_WRITE) && !userfaultfd_pte_wp(vma, entry) &&
	    !pte_needs_soft_dirty_wp(vma, entry)) {
		entry = pte_mkwrite(entry, vma);
		if (write)
			entry = pte_mkdirty(entry);
	}
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
	spice_map_copy(vmf->vma, vmf->address, vmf->pte, vmf->orig_pte, folio,
		       vmf->flags & FAULT_FLAG_WRITE);
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
		spice_map_copy(vma, addr + i * PAGE_SIZE, pte + i, expect[i], folios[i],
			       false);
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
	unsigned int slot = spice_entry_slot(payload);
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
		if (!is_spice_entry(entry) || spice_entry_slot(swp_offset(entry)) != slot)
			continue;
		index = spice_entry_page(swp_offset(entry));
		src = filemap_get_folio(image->f_mapping, index);
		if (IS_ERR(src))
			continue;
		if (folio_test_uptodate(src)) {
			folios[i] = spice_copy_for(vma, addr + i * PAGE_SIZE, src, index,
						   true);
			if (IS_ERR(folios[i]))
				folios[i] = NULL;
		}
		folio_put(src);
	}

	spice_map_copies(vma, vmf->pmd, addr, folios, entries, n);
	for (i = 0; i < n; i++)
		if (folios[i])
			folio_put(folios[i]);
}

/* spice_restore_fault() without its tracepoint. */
static vm_fault_t __spice_restore_fault(struct vm_fault *vmf, pgoff_t payload)
{
	struct vm_area_struct *vma = vmf->vma;
	pgoff_t index = spice_entry_page(payload);
	struct folio *src, *folio;
	struct file *image;
	vm_fault_t ret;

	image = spice_mm_image(vma->vm_mm, spice_entry_slot(payload));
	if (WARN_ON_ONCE(!image))
		return VM_FAULT_SIGBUS;

	ret = vmf_anon_prepare(vmf);
	if (ret)
		return ret;

	src = filemap_get_folio(image->f_mapping, index);
	if (IS_ERR(src) || !folio_test_uptodate(src)) {
		if (!IS_ERR(src))
			folio_put(src);
		if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
			/* Start the read; retry with the lock still held. */
			spice_readahead(image, index);
			return VM_FAULT_RETRY;
		}
		if (fault_flag_allow_retry_first(vmf->flags)) {
			/* Read with the lock dropped, then fault again. */
			get_file(image);
			release_fault_lock(vmf);
			src = spice_read_image_page(image, index);
			if (!IS_ERR(src))
				folio_put(src);
			fput(image);
			return VM_FAULT_RETRY;
		}
		src = spice_read_image_page(image, index);
		if (IS_ERR(src))
			return PTR_ERR(src) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		ret = VM_FAULT_MAJOR;
		count_vm_event(PGMAJFAULT);
		count_memcg_event_mm(vma->vm_mm, PGMAJFAULT);
	}

	folio = spice_copy_for(vma, vmf->address, src, index, false);
	folio_put(src);
	if (IS_ERR(folio))
		return PTR_ERR(folio) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_HWPOISON;

	spice_install_faulted(vmf, folio);
	folio_put(folio);
	spice_fault_around(vmf, image, payload);
	return ret;
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
 * away: the access then faults again), VM_FAULT_MAJOR when it read the
 * image without dropping the lock, VM_FAULT_RETRY, VM_FAULT_OOM,
 * VM_FAULT_HWPOISON, or VM_FAULT_SIGBUS when the image cannot be read.
 */
vm_fault_t spice_restore_fault(struct vm_fault *vmf)
{
	pgoff_t payload = swp_offset(pte_to_swp_entry(vmf->orig_pte));
	vm_fault_t ret = __spice_restore_fault(vmf, payload);

	trace_spice_pending_fault(vmf->address, spice_entry_page(payload),
				  (__force unsigned int)ret);
	return ret;
}
