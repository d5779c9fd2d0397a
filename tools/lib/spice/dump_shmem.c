// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Shared anonymous memory.  Its contents live in a shmem object, not in the
 * page tables: a page whose entry is gone (MADV_DONTNEED, swapped out,
 * written only by a child) is absent from pagemap but not from the object.
 * So the object itself is read, through /proc/PID/map_files, skipping its
 * holes with SEEK_DATA and SEEK_HOLE; the process is not made to fault.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dump_internal.h"

#define PAGE SPICE_PAGE_SIZE

int dump_vma_is_shmem(const struct dump_vma *v)
{
	return !v->path && (v->flags & SPICE_VMA_SHARED) &&
	       !(v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR));
}

/*
 * Each shared anonymous VMA is restored as an object of its own, shared
 * with nobody yet.  Two VMAs of one object are restored right only while
 * they show disjoint parts of it (a mapping split by mprotect()); the same
 * pages mapped twice (mremap() with old_size 0) would come back as two
 * copies, and pages another process maps too would no longer be shared
 * with it: both are refused.  The latter is seen in smaps' Shared_*
 * counts, so a process that maps the object but has touched none of it
 * is not.
 */
int dump_check_shmem(struct dump *d)
{
	int i, j;

	for (i = 0; i < d->nr_vmas; i++) {
		const struct dump_vma *a = &d->vmas[i];

		if (!dump_vma_is_shmem(a))
			continue;
		for (j = i + 1; j < d->nr_vmas; j++) {
			const struct dump_vma *b = &d->vmas[j];

			if (!dump_vma_is_shmem(b) || b->ino != a->ino || b->dev != a->dev ||
			    b->pgoff >= a->pgoff + (a->end - a->start) ||
			    a->pgoff >= b->pgoff + (b->end - b->start))
				continue;
			return dump_fail(d, -EOPNOTSUPP,
					 "[%#llx, %#llx) and [%#llx, %#llx) map the same shared memory",
					 (unsigned long long)a->start,
					 (unsigned long long)a->end,
					 (unsigned long long)b->start,
					 (unsigned long long)b->end);
		}
	}
	/* Aliases aside, a page mapped twice is mapped by another process. */
	for (i = 0; i < d->nr_vmas; i++)
		if (dump_vma_is_shmem(&d->vmas[i]) && d->vmas[i].shared_kb)
			return dump_fail(d, -EOPNOTSUPP,
					 "[%#llx, %#llx) is shared memory another process maps too",
					 (unsigned long long)d->vmas[i].start,
					 (unsigned long long)d->vmas[i].end);
	return 0;
}

static int page_is_zero(const char *p)
{
	size_t i;

	for (i = 0; i < PAGE; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * Store [pos, end) of the object, seen at @addr, and list its pages as
 * working set but for zero ones (left by read faults): the writer stores
 * none of those, and a restore need not make them.
 */
static int store_range(struct dump *d, const struct dump_vma *v, int fd,
		       uint64_t addr, off_t pos, off_t end, struct dump_ws *ws,
		       char *buf, size_t buf_len)
{
	uint32_t wflag = (v->prot & PROT_WRITE) ? MMAP_RESTORE_WS_WRITE : 0;
	size_t n, i;
	int err;

	for (; pos < end; pos += n, addr += n) {
		n = end - pos < (off_t)buf_len ? (size_t)(end - pos) : buf_len;
		err = spice_pread_full(fd, buf, n, pos);
		if (err)
			return dump_fail(d, err, "reading shared memory at %#llx",
					 (unsigned long long)addr);
		d->stats->bytes_read += n;
		err = spice_writer_add_pages(d->w, addr, buf, n);
		if (err)
			return dump_fail(d, err, "storing pages at %#llx",
					 (unsigned long long)addr);
		for (i = 0; ws && i < n; i += PAGE) {
			if (page_is_zero(buf + i))
				continue;
			err = dump_ws_add(ws, v, addr + i, wflag);
			if (err)
				return err;
		}
	}
	return 0;
}

int dump_shmem_pages(struct dump *d, const struct dump_vma *v,
		     struct dump_ws *ws, char *buf, size_t buf_len)
{
	off_t base = v->pgoff, end = base + (v->end - v->start);
	off_t pos, data, hole;
	char path[80];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", d->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dump_fail(d, -errno,
				 "cannot open %s (CAP_CHECKPOINT_RESTORE)", path);
	for (pos = base; pos < end && !err; pos = hole) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0) {
			err = dump_fail(d, -errno, "SEEK_DATA in %s", path);
			break;
		}
		if (data >= end)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			err = dump_fail(d, -errno, "SEEK_HOLE in %s", path);
			break;
		}
		if (hole > end)
			hole = end;
		err = store_range(d, v, fd, v->start + (data - base), data, hole,
				  ws, buf, buf_len);
	}
	close(fd);
	return err;
}
