// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Writing an image.  Pages are classified as they are given (zero, same as
 * the backing file, same as a page stored before, or new data spooled to a
 * temporary file); the layout is decided at the end, when the working set
 * is known: its data first and in its order, then the rest by address.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <spice/image.h>
#include "internal.h"

#define PAGE SPICE_PAGE_SIZE
#define NO_PLACE UINT32_MAX

/* A page whose contents differ from the VMA's default source. */
struct page_rec {
	uint64_t addr;
	uint32_t source;	/* MMAP_RESTORE_SRC_IMAGE or _ZERO */
	uint32_t spool;		/* page index in the spool, for IMAGE */
};

/* A page of a made file's contents, stored in the spool. */
struct made_rec {
	uint64_t pos;
	uint32_t file;
	uint32_t spool;
};

struct spice_writer {
	int spool_fd;
	uint32_t nr_spool;		/* pages in the spool */
	/* Dedup table: open addressing, hash of each spooled page. */
	uint64_t *hash;
	uint32_t *hash_page;
	uint32_t hash_cap;

	struct spice_image_process proc;
	int have_proc;
	struct spice_image_sigaction act[64];
	int have_act;
	struct spice_image_rlimit rlim[SPICE_IMAGE_NR_RLIMITS];
	int have_rlim;
	struct spice_image_itimer itimers[SPICE_IMAGE_NR_ITIMERS];
	int have_itimers;
	struct spice_image_thread *threads;
	uint32_t nr_threads;
	struct spice_image_file *files;
	int *file_fds;
	uint32_t nr_files;
	struct spice_image_fd *fds;
	uint32_t nr_fds;
	struct spice_image_epoll_watch *epoll;
	uint32_t nr_epoll;
	struct spice_image_signal *signals;
	uint32_t nr_signals;
	struct spice_image_posix_timer *timers;
	uint32_t nr_timers;
	struct spice_image_lock *locks;
	uint32_t nr_locks;
	struct spice_image_timerfd *timerfds;
	uint32_t nr_timerfds;
	struct spice_image_socket *sockets;
	uint32_t nr_sockets;
	struct spice_image_made_file *made;
	uint32_t nr_made;
	struct made_rec *made_pages;
	uint64_t nr_made_pages;
	struct spice_image_vma *vmas;
	uint32_t nr_vmas;
	struct page_rec *pages;
	uint64_t nr_pages, cap_pages;
	struct mmap_restore_ws_range *ws;
	uint32_t nr_ws;
	char *blobs;
	uint32_t blobs_size;
	struct spice_writer_stats stats;
};

static int is_zero_page(const void *p);
static int store_page(struct spice_writer *w, const void *page, uint32_t *idx);

/* Grow *@arr of @n elements of @size to hold one more. */
static int grow(void *arr, uint64_t n, size_t size)
{
	void **p = arr;
	void *q;

	/* Capacity: powers of two from 16. */
	if (n && (n < 16 || (n & (n - 1))))
		return 0;
	q = realloc(*p, (n ? 2 * n : 16) * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

static int add_blob(struct spice_writer *w, const void *p, size_t len,
		    struct spice_image_ref *ref)
{
	char *b;

	ref->offset = 0;
	ref->len = 0;
	if (!len)
		return 0;
	if (len > SPICE_IMAGE_MAX_BLOBS - w->blobs_size)
		return -E2BIG;
	b = realloc(w->blobs, w->blobs_size + len);
	if (!b)
		return -ENOMEM;
	memcpy(b + w->blobs_size, p, len);
	w->blobs = b;
	ref->offset = w->blobs_size;
	ref->len = len;
	w->blobs_size += len;
	return 0;
}

struct spice_writer *spice_writer_new(const char *spool_dir)
{
	struct spice_writer *w = calloc(1, sizeof(*w));
	char tmpl[4096];

	if (!w)
		return NULL;
	if (!spool_dir)
		spool_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	w->spool_fd = open(spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->spool_fd < 0 && strlen(spool_dir) < sizeof(tmpl) - 16) {
		/* No O_TMPFILE on this filesystem: unlink a named one. */
		snprintf(tmpl, sizeof(tmpl), "%s/.spiceXXXXXX", spool_dir);
		w->spool_fd = mkostemp(tmpl, O_CLOEXEC);
		if (w->spool_fd >= 0)
			unlink(tmpl);
	}
	if (w->spool_fd < 0) {
		free(w);
		return NULL;
	}
	return w;
}

void spice_writer_free(struct spice_writer *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->nr_files; i++)
		if (w->file_fds[i] >= 0)
			close(w->file_fds[i]);
	close(w->spool_fd);
	free(w->hash);
	free(w->hash_page);
	free(w->threads);
	free(w->files);
	free(w->file_fds);
	free(w->fds);
	free(w->epoll);
	free(w->signals);
	free(w->timers);
	free(w->locks);
	free(w->timerfds);
	free(w->sockets);
	free(w->made);
	free(w->made_pages);
	free(w->vmas);
	free(w->pages);
	free(w->ws);
	free(w->blobs);
	free(w);
}

int spice_writer_set_process(struct spice_writer *w,
			     const struct spice_image_process *proc,
			     const char *cwd, const void *auxv, size_t auxv_len)
{
	int err;

	if (auxv_len > SPICE_IMAGE_MAX_AUXV || auxv_len % 16 ||
	    (cwd && strlen(cwd) > SPICE_IMAGE_MAX_PATH))
		return -EINVAL;
	w->proc = *proc;
	err = add_blob(w, cwd, cwd ? strlen(cwd) : 0, &w->proc.cwd);
	if (!err)
		err = add_blob(w, auxv, auxv_len, &w->proc.auxv);
	w->have_proc = !err;
	return err;
}

int spice_writer_add_thread(struct spice_writer *w,
			    const struct spice_image_thread *t,
			    const void *xstate, size_t xstate_len)
{
	struct spice_image_thread *n;
	int err;

	if (w->nr_threads >= SPICE_IMAGE_MAX_THREADS)
		return -E2BIG;
	if (xstate_len > SPICE_IMAGE_MAX_XSTATE)
		return -EINVAL;
	err = grow(&w->threads, w->nr_threads, sizeof(*t));
	if (err)
		return err;
	n = &w->threads[w->nr_threads];
	*n = *t;
	err = add_blob(w, xstate, xstate_len, &n->xstate);
	if (!err)
		w->nr_threads++;
	return err;
}

int spice_writer_set_sigactions(struct spice_writer *w,
				const struct spice_image_sigaction act[64])
{
	memcpy(w->act, act, sizeof(w->act));
	w->have_act = 1;
	return 0;
}

int spice_writer_set_rlimits(struct spice_writer *w,
			     const struct spice_image_rlimit lim[SPICE_IMAGE_NR_RLIMITS])
{
	memcpy(w->rlim, lim, sizeof(w->rlim));
	w->have_rlim = 1;
	return 0;
}

int spice_writer_set_itimers(struct spice_writer *w,
			     const struct spice_image_itimer it[SPICE_IMAGE_NR_ITIMERS])
{
	memcpy(w->itimers, it, sizeof(w->itimers));
	w->have_itimers = 1;
	return 0;
}

/* Record the SHA-256 of file @i's contents, read through its kept fd. */
static int hash_file(struct spice_writer *w, uint32_t i)
{
	struct spice_image_file *f = &w->files[i];
	int err;

	if (w->file_fds[i] < 0)
		return -EACCES;
	err = spice_sha256_fd(w->file_fds[i], f->size, f->sha256);
	if (!err)
		f->flags |= SPICE_FILE_HAS_SHA256;
	return err;
}

/* A zeroed entry at the end of the file table, with @path; not counted yet. */
static int new_file(struct spice_writer *w, const char *path,
		    struct spice_image_file **out)
{
	int err = grow(&w->files, w->nr_files, sizeof(**out));

	if (!err)
		err = grow(&w->file_fds, w->nr_files, sizeof(int));
	if (err)
		return err;
	*out = &w->files[w->nr_files];
	memset(*out, 0, sizeof(**out));
	return add_blob(w, path, strlen(path), &(*out)->path);
}

int spice_writer_add_file(struct spice_writer *w, const char *path,
			  uint32_t flags)
{
	struct spice_image_file *f;
	const char *p;
	struct stat st;
	unsigned int gen;
	uint32_t i;
	int fd, err;

	if ((flags & ~SPICE_FILE_HAS_SHA256) || path[0] != '/' ||
	    strlen(path) > SPICE_IMAGE_MAX_PATH)
		return -EINVAL;
	for (i = 0; i < w->nr_files; i++) {
		f = &w->files[i];
		p = w->blobs + f->path.offset;
		if (f->flags & SPICE_FILE_MADE)
			continue;	/* no longer at that path */
		if (f->path.len != strlen(path) || memcmp(p, path, f->path.len))
			continue;
		if ((flags & ~f->flags) && S_ISREG(f->mode)) {
			err = hash_file(w, i);
			if (err)
				return err;
		}
		return i;
	}
	if (w->nr_files >= SPICE_IMAGE_MAX_FILES)
		return -E2BIG;
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EINVAL;
	err = new_file(w, path, &f);
	if (err)
		return err;
	f->mode = st.st_mode;
	f->size = S_ISREG(st.st_mode) ? st.st_size : 0;
	f->mtime_sec = st.st_mtim.tv_sec;
	f->mtime_nsec = st.st_mtim.tv_nsec;
	f->ino = st.st_ino;
	f->rdev = S_ISCHR(st.st_mode) ? st.st_rdev : 0;
	fd = -1;
	if (S_ISREG(st.st_mode)) {
		/* Kept open to compare pages with the file's contents. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !ioctl(fd, FS_IOC_GETVERSION, &gen)) {
			f->generation = gen;
			f->flags |= SPICE_FILE_HAS_GENERATION;
		}
	}
	w->file_fds[w->nr_files] = fd;
	if ((flags & SPICE_FILE_HAS_SHA256) && S_ISREG(st.st_mode)) {
		err = hash_file(w, w->nr_files);
		if (err) {
			if (fd >= 0)
				close(fd);
			return err;
		}
	}
	return w->nr_files++;
}

int spice_writer_add_made_file(struct spice_writer *w, const char *path,
			       const struct spice_image_file *file,
			       const struct spice_image_made_file *made, int fd)
{
	struct spice_image_file *f;
	int err;

	if (path[0] != '/' || strlen(path) > SPICE_IMAGE_MAX_PATH ||
	    !S_ISREG(file->mode))
		return -EINVAL;
	if (w->nr_files >= SPICE_IMAGE_MAX_FILES)
		return -E2BIG;
	err = grow(&w->made, w->nr_made, sizeof(*w->made));
	if (!err)
		err = new_file(w, path, &f);
	if (err)
		return err;
	f->mode = file->mode;
	f->flags = SPICE_FILE_MADE;
	f->size = file->size;
	f->mtime_sec = file->mtime_sec;
	f->mtime_nsec = file->mtime_nsec;
	f->ino = file->ino;
	w->made[w->nr_made] = *made;
	w->made[w->nr_made].file = w->nr_files;
	w->made[w->nr_made].reserved = 0;
	w->file_fds[w->nr_files] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd >= 0 && w->file_fds[w->nr_files] < 0)
		return -errno;
	w->nr_made++;
	return w->nr_files++;
}

int spice_writer_add_file_data(struct spice_writer *w, uint32_t file,
			       uint64_t pos, const void *buf, size_t len)
{
	const struct made_rec *last;
	struct made_rec *r;
	const char *page = buf;
	uint32_t idx;
	int err;

	if (file >= w->nr_files || !(w->files[file].flags & SPICE_FILE_MADE) ||
	    ((pos | len) & (PAGE - 1)))
		return -EINVAL;
	for (; len; len -= PAGE, pos += PAGE, page += PAGE) {
		last = w->nr_made_pages ? &w->made_pages[w->nr_made_pages - 1] : NULL;
		if (last && (file < last->file || (file == last->file && pos <= last->pos)))
			return -EINVAL;
		if (is_zero_page(page))
			continue;	/* a hole reads as zero */
		err = store_page(w, page, &idx);
		if (!err)
			err = grow(&w->made_pages, w->nr_made_pages, sizeof(*r));
		if (err)
			return err;
		r = &w->made_pages[w->nr_made_pages++];
		r->pos = pos;
		r->file = file;
		r->spool = idx;
	}
	return 0;
}

int spice_writer_add_fd_data(struct spice_writer *w,
			     const struct spice_image_fd *fd, const void *data,
			     size_t len)
{
	struct spice_image_fd *n;
	int err;

	if (w->nr_fds >= SPICE_IMAGE_MAX_FDS)
		return -E2BIG;
	if (w->nr_fds && fd->fd <= w->fds[w->nr_fds - 1].fd)
		return -EINVAL;
	if (len > SPICE_IMAGE_MAX_PIPE_DATA)
		return -E2BIG;
	err = grow(&w->fds, w->nr_fds, sizeof(*fd));
	if (err)
		return err;
	n = &w->fds[w->nr_fds];
	*n = *fd;
	err = add_blob(w, data, len, &n->data);
	if (err)
		return err;
	w->nr_fds++;
	return 0;
}

int spice_writer_add_fd(struct spice_writer *w, const struct spice_image_fd *fd)
{
	return spice_writer_add_fd_data(w, fd, NULL, 0);
}

int spice_writer_add_epoll_watch(struct spice_writer *w,
				 const struct spice_image_epoll_watch *ew)
{
	int err;

	if (w->nr_epoll >= SPICE_IMAGE_MAX_EPOLL_WATCHES)
		return -E2BIG;
	err = grow(&w->epoll, w->nr_epoll, sizeof(*ew));
	if (err)
		return err;
	w->epoll[w->nr_epoll++] = *ew;
	return 0;
}

int spice_writer_add_lock(struct spice_writer *w,
			  const struct spice_image_lock *l)
{
	int err;

	if (w->nr_locks >= SPICE_IMAGE_MAX_LOCKS)
		return -E2BIG;
	err = grow(&w->locks, w->nr_locks, sizeof(*l));
	if (err)
		return err;
	w->locks[w->nr_locks++] = *l;
	return 0;
}

int spice_writer_add_timerfd(struct spice_writer *w,
			     const struct spice_image_timerfd *t)
{
	int err;

	if (w->nr_timerfds >= SPICE_IMAGE_MAX_FDS)
		return -E2BIG;
	err = grow(&w->timerfds, w->nr_timerfds, sizeof(*t));
	if (err)
		return err;
	w->timerfds[w->nr_timerfds++] = *t;
	return 0;
}

int spice_writer_add_socket(struct spice_writer *w,
			    const struct spice_image_socket *s)
{
	int err;

	if (w->nr_sockets >= SPICE_IMAGE_MAX_FDS)
		return -E2BIG;
	err = grow(&w->sockets, w->nr_sockets, sizeof(*s));
	if (err)
		return err;
	w->sockets[w->nr_sockets++] = *s;
	return 0;
}

int spice_writer_add_signal(struct spice_writer *w,
			    const struct spice_image_signal *s)
{
	int err;

	if (w->nr_signals >= SPICE_IMAGE_MAX_SIGNALS)
		return -E2BIG;
	err = grow(&w->signals, w->nr_signals, sizeof(*s));
	if (err)
		return err;
	w->signals[w->nr_signals++] = *s;
	return 0;
}

int spice_writer_add_posix_timer(struct spice_writer *w,
				 const struct spice_image_posix_timer *t)
{
	int err;

	if (w->nr_timers >= SPICE_IMAGE_MAX_POSIX_TIMERS)
		return -E2BIG;
	err = grow(&w->timers, w->nr_timers, sizeof(*t));
	if (err)
		return err;
	w->timers[w->nr_timers++] = *t;
	return 0;
}

int spice_writer_add_vma(struct spice_writer *w,
			 const struct spice_image_vma *vma)
{
	int err;

	if (w->nr_vmas >= SPICE_IMAGE_MAX_VMAS)
		return -E2BIG;
	if ((vma->start | vma->end) & (PAGE - 1) || vma->start >= vma->end ||
	    (w->nr_vmas && vma->start < w->vmas[w->nr_vmas - 1].end) ||
	    (vma->file != SPICE_IMAGE_NONE && vma->file >= w->nr_files))
		return -EINVAL;
	err = grow(&w->vmas, w->nr_vmas, sizeof(*vma));
	if (err)
		return err;
	w->vmas[w->nr_vmas] = *vma;
	w->vmas[w->nr_vmas].first_interval = 0;
	w->vmas[w->nr_vmas].nr_intervals = 0;
	return w->nr_vmas++;
}

static const struct spice_image_vma *find_vma(const struct spice_writer *w,
					      uint64_t addr)
{
	uint32_t lo = 0, hi = w->nr_vmas, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < w->vmas[mid].start)
			hi = mid;
		else if (addr >= w->vmas[mid].end)
			lo = mid + 1;
		else
			return &w->vmas[mid];
	}
	return NULL;
}

static int is_zero_page(const void *p)
{
	const uint64_t *q = p;
	size_t i;

	for (i = 0; i < PAGE / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/* Is the page at @addr of @v identical to the backing file there? */
static int same_as_file(struct spice_writer *w, const struct spice_image_vma *v,
			uint64_t addr, const void *page)
{
	char buf[PAGE];
	int fd;

	if (v->file == SPICE_IMAGE_NONE)
		return 0;
	fd = w->file_fds[v->file];
	/* A short read (past the end of the file) is never identical. */
	if (fd < 0 || spice_pread_full(fd, buf, PAGE,
				       v->pgoff + (addr - v->start)))
		return 0;
	return !memcmp(buf, page, PAGE);
}

/* FNV-1a over 64-bit words; only picks candidates, memcmp decides. */
static uint64_t page_hash(const void *p)
{
	const uint64_t *q = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < PAGE / 8; i++)
		h = (h ^ q[i]) * 0x100000001b3ULL;
	return h | 1;	/* 0 marks a free slot */
}

static int hash_grow(struct spice_writer *w)
{
	uint32_t cap = w->hash_cap ? 2 * w->hash_cap : 1024, i, j;
	uint64_t *hash = calloc(cap, sizeof(*hash));
	uint32_t *pg = calloc(cap, sizeof(*pg));

	if (!hash || !pg) {
		free(hash);
		free(pg);
		return -ENOMEM;
	}
	for (i = 0; i < w->hash_cap; i++) {
		if (!w->hash[i])
			continue;
		for (j = w->hash[i] & (cap - 1); hash[j]; j = (j + 1) & (cap - 1))
			;
		hash[j] = w->hash[i];
		pg[j] = w->hash_page[i];
	}
	free(w->hash);
	free(w->hash_page);
	w->hash = hash;
	w->hash_page = pg;
	w->hash_cap = cap;
	return 0;
}

/* The spool index of data identical to @page, stored now if new. */
static int store_page(struct spice_writer *w, const void *page, uint32_t *idx)
{
	uint64_t h = page_hash(page);
	char buf[PAGE];
	uint32_t j;
	ssize_t n;
	int err;

	if (2 * (uint64_t)w->nr_spool >= w->hash_cap) {
		err = hash_grow(w);
		if (err)
			return err;
	}
	for (j = h & (w->hash_cap - 1); w->hash[j]; j = (j + 1) & (w->hash_cap - 1)) {
		if (w->hash[j] != h)
			continue;
		/* A hash match is not enough: compare the bytes. */
		err = spice_pread_full(w->spool_fd, buf, PAGE,
				       (uint64_t)w->hash_page[j] * PAGE);
		if (err)
			return err;
		if (!memcmp(buf, page, PAGE)) {
			*idx = w->hash_page[j];
			w->stats.pages_dedup++;
			return 0;
		}
	}
	if (w->nr_spool == UINT32_MAX - 1)
		return -E2BIG;
	n = pwrite(w->spool_fd, page, PAGE, (uint64_t)w->nr_spool * PAGE);
	if (n != (ssize_t)PAGE)
		return n < 0 ? -errno : -EIO;
	w->hash[j] = h;
	w->hash_page[j] = w->nr_spool;
	*idx = w->nr_spool++;
	return 0;
}

static int add_rec(struct spice_writer *w, uint64_t addr, uint32_t source,
		   uint32_t spool)
{
	int err = grow(&w->pages, w->nr_pages, sizeof(*w->pages));

	if (err)
		return err;
	w->pages[w->nr_pages].addr = addr;
	w->pages[w->nr_pages].source = source;
	w->pages[w->nr_pages].spool = spool;
	w->nr_pages++;
	return 0;
}

int spice_writer_add_pages(struct spice_writer *w, uint64_t addr,
			   const void *buf, size_t len)
{
	const struct spice_image_vma *v;
	const char *page = buf;
	uint32_t idx;
	int err;

	if ((addr | len) & (PAGE - 1))
		return -EINVAL;
	for (; len; len -= PAGE, addr += PAGE, page += PAGE) {
		v = find_vma(w, addr);
		if (!v || (v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)))
			return -EINVAL;
		if (w->nr_pages && addr <= w->pages[w->nr_pages - 1].addr)
			return -EINVAL;
		w->stats.pages_given++;
		/* A shared file mapping shows the file: nothing to store. */
		if ((v->flags & SPICE_VMA_SHARED) && v->file != SPICE_IMAGE_NONE)
			continue;
		if (same_as_file(w, v, addr, page)) {
			w->stats.pages_file++;
			continue;
		}
		if (is_zero_page(page)) {
			w->stats.pages_zero++;
			if (v->file == SPICE_IMAGE_NONE)
				continue;
			err = add_rec(w, addr, MMAP_RESTORE_SRC_ZERO, 0);
		} else {
			err = store_page(w, page, &idx);
			if (!err)
				err = add_rec(w, addr, MMAP_RESTORE_SRC_IMAGE, idx);
		}
		if (err)
			return err;
	}
	return 0;
}

int spice_writer_set_ws(struct spice_writer *w,
			const struct mmap_restore_ws_range *ws, size_t nr)
{
	void *p;

	if (nr > SPICE_IMAGE_MAX_WS)
		return -E2BIG;
	p = malloc(nr * sizeof(*ws) + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, ws, nr * sizeof(*ws));
	free(w->ws);
	w->ws = p;
	w->nr_ws = nr;
	return 0;
}

static int rec_cmp(const void *key, const void *elt)
{
	const uint64_t *addr = key;
	const struct page_rec *r = elt;

	return *addr < r->addr ? -1 : *addr > r->addr;
}

/*
 * Give each spooled page its place in the data area: the working set's
 * pages first, in its order, then the others by address.  Returns the
 * number placed for the working set.
 */
static uint64_t place_data(struct spice_writer *w, uint32_t *place,
			   uint32_t *order)
{
	uint32_t next = 0, k;
	uint64_t i;
	const struct page_rec *r;
	uint64_t addr, ws_pages = 0;

	for (i = 0; i < w->nr_ws; i++) {
		for (k = 0; k < w->ws[i].nr_pages; k++) {
			addr = w->ws[i].addr + (uint64_t)k * PAGE;
			ws_pages++;
			r = bsearch(&addr, w->pages, w->nr_pages, sizeof(*r),
				    rec_cmp);
			if (!r || r->source != MMAP_RESTORE_SRC_IMAGE ||
			    place[r->spool] != NO_PLACE)
				continue;
			order[next] = r->spool;
			place[r->spool] = next++;
		}
	}
	w->stats.ws_pages = ws_pages;
	w->stats.ws_data_pages = next;
	for (i = 0; i < w->nr_pages; i++) {
		r = &w->pages[i];
		if (r->source != MMAP_RESTORE_SRC_IMAGE ||
		    place[r->spool] != NO_PLACE)
			continue;
		order[next] = r->spool;
		place[r->spool] = next++;
	}
	for (i = 0; i < w->nr_made_pages; i++) {
		k = w->made_pages[i].spool;
		if (place[k] != NO_PLACE)
			continue;
		order[next] = k;
		place[k] = next++;
	}
	return w->stats.ws_data_pages;
}

/*
 * Merge page records into intervals: a run of consecutive pages of one
 * source, and for image data of consecutive places.  Offsets are relative
 * to the data area until the layout is known.
 */
static int build_intervals(struct spice_writer *w, const uint32_t *place,
			   struct mmap_restore_interval **out, uint64_t *nr)
{
	struct mmap_restore_interval *iv = NULL, *last;
	uint64_t n = 0, i = 0, off;
	struct spice_image_vma *v;
	const struct page_rec *r;
	uint32_t k;
	int err;

	for (k = 0; k < w->nr_vmas; k++) {
		v = &w->vmas[k];
		v->first_interval = n;
		for (; i < w->nr_pages && w->pages[i].addr < v->end; i++) {
			r = &w->pages[i];
			off = r->source == MMAP_RESTORE_SRC_IMAGE ?
				(uint64_t)place[r->spool] * PAGE : 0;
			last = n > v->first_interval ? &iv[n - 1] : NULL;
			if (last && last->addr + last->len == r->addr &&
			    last->source == r->source &&
			    (r->source != MMAP_RESTORE_SRC_IMAGE ||
			     last->offset + last->len == off)) {
				last->len += PAGE;
				continue;
			}
			if (n >= SPICE_IMAGE_MAX_INTERVALS) {
				free(iv);
				return -E2BIG;
			}
			err = grow(&iv, n, sizeof(*iv));
			if (err) {
				free(iv);
				return err;
			}
			memset(&iv[n], 0, sizeof(iv[n]));
			iv[n].addr = r->addr;
			iv[n].len = PAGE;
			iv[n].offset = off;
			iv[n].source = r->source;
			n++;
		}
		v->nr_intervals = n - v->first_interval;
	}
	*out = iv;
	*nr = n;
	return 0;
}

/*
 * Merge a made file's stored pages into extents: consecutive positions
 * at consecutive places.  Offsets are relative to the data area.
 */
static int build_extents(struct spice_writer *w, const uint32_t *place,
			 struct spice_image_file_extent **out, uint64_t *nr)
{
	struct spice_image_file_extent *ext = NULL, *last;
	const struct made_rec *r;
	uint64_t n = 0, i, off;
	int err;

	for (i = 0; i < w->nr_made_pages; i++) {
		r = &w->made_pages[i];
		off = (uint64_t)place[r->spool] * PAGE;
		last = n ? &ext[n - 1] : NULL;
		if (last && last->file == r->file && last->pos + last->len == r->pos &&
		    last->offset + last->len == off) {
			last->len += PAGE;
			continue;
		}
		err = n >= SPICE_IMAGE_MAX_FILE_EXTENTS ? -E2BIG :
		      grow(&ext, n, sizeof(*ext));
		if (err) {
			free(ext);
			return err;
		}
		memset(&ext[n], 0, sizeof(ext[n]));
		ext[n].file = r->file;
		ext[n].pos = r->pos;
		ext[n].len = PAGE;
		ext[n].offset = off;
		n++;
	}
	*out = ext;
	*nr = n;
	return 0;
}

struct layout {
	struct spice_image_section sect[SPICE_IMAGE_MAX_SECTIONS];
	uint32_t nr;
	uint64_t end;
	const void *src[SPICE_IMAGE_MAX_SECTIONS];
};

static void add_section(struct layout *l, uint32_t type, uint32_t entry_size,
			const void *src, uint64_t nr)
{
	struct spice_image_section *s = &l->sect[l->nr];

	if (!nr && type != SPICE_SECT_VMAS)
		return;
	s->type = type;
	s->entry_size = entry_size;
	s->nr_entries = nr;
	s->size = nr * entry_size;
	s->offset = (l->end + 7) & ~7ULL;
	l->end = s->offset + s->size;
	l->src[l->nr++] = src;
}

/* Copy the spooled pages to the data area in their final order. */
static int write_data(struct spice_writer *w, int fd, const uint32_t *order,
		      uint64_t nr, uint64_t data_offset)
{
	const size_t batch = 256;
	char *buf = malloc(batch * PAGE);
	uint64_t i, k;
	ssize_t n;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < nr && !err; i += k) {
		for (k = 0; k < batch && i + k < nr && !err; k++)
			err = spice_pread_full(w->spool_fd, buf + k * PAGE, PAGE,
					       (uint64_t)order[i + k] * PAGE);
		if (err)
			break;
		n = pwrite(fd, buf, k * PAGE, data_offset + i * PAGE);
		if (n != (ssize_t)(k * PAGE))
			err = n < 0 ? -errno : -EIO;
	}
	free(buf);
	return err;
}

int spice_writer_write(struct spice_writer *w, int fd,
		       struct spice_writer_stats *stats, char *why)
{
	struct mmap_restore_interval *iv = NULL;
	struct spice_image_file_extent *ext = NULL;
	struct spice_image *check = NULL;
	struct spice_image_header *h;
	uint32_t *place, *order, i;
	struct layout l = { .nr = 0 };
	uint64_t nr_iv, nr_ext = 0, ws_data, k;
	size_t csum_at;
	char *meta = NULL;
	ssize_t n;
	int err;

	if (!w->have_proc || !w->nr_threads)
		return -EINVAL;
	place = malloc((w->nr_spool + 1) * sizeof(*place));
	order = malloc((w->nr_spool + 1) * sizeof(*order));
	err = place && order ? 0 : -ENOMEM;
	if (err)
		goto out;
	memset(place, 0xff, (w->nr_spool + 1) * sizeof(*place));
	ws_data = place_data(w, place, order);
	err = build_intervals(w, place, &iv, &nr_iv);
	if (!err)
		err = build_extents(w, place, &ext, &nr_ext);
	if (err)
		goto out;

	l.end = sizeof(*h);
	/* The table goes first; its size depends on the sections present. */
	add_section(&l, SPICE_SECT_PROCESS, sizeof(w->proc), &w->proc, 1);
	add_section(&l, SPICE_SECT_THREADS, sizeof(*w->threads), w->threads,
		    w->nr_threads);
	add_section(&l, SPICE_SECT_SIGACTIONS, sizeof(w->act[0]), w->act,
		    w->have_act ? 64 : 0);
	add_section(&l, SPICE_SECT_FILES, sizeof(*w->files), w->files,
		    w->nr_files);
	add_section(&l, SPICE_SECT_FDS, sizeof(*w->fds), w->fds, w->nr_fds);
	add_section(&l, SPICE_SECT_VMAS, sizeof(*w->vmas), w->vmas, w->nr_vmas);
	add_section(&l, SPICE_SECT_INTERVALS, sizeof(*iv), iv, nr_iv);
	add_section(&l, SPICE_SECT_WS, sizeof(*w->ws), w->ws, w->nr_ws);
	add_section(&l, SPICE_SECT_BLOBS, 1, w->blobs, w->blobs_size);
	add_section(&l, SPICE_SECT_EPOLL, sizeof(*w->epoll), w->epoll, w->nr_epoll);
	add_section(&l, SPICE_SECT_RLIMITS, sizeof(w->rlim[0]), w->rlim,
		    w->have_rlim ? SPICE_IMAGE_NR_RLIMITS : 0);
	add_section(&l, SPICE_SECT_ITIMERS, sizeof(w->itimers[0]), w->itimers,
		    w->have_itimers ? SPICE_IMAGE_NR_ITIMERS : 0);
	add_section(&l, SPICE_SECT_SIGNALS, sizeof(*w->signals), w->signals,
		    w->nr_signals);
	add_section(&l, SPICE_SECT_POSIX_TIMERS, sizeof(*w->timers), w->timers,
		    w->nr_timers);
	add_section(&l, SPICE_SECT_LOCKS, sizeof(*w->locks), w->locks, w->nr_locks);
	add_section(&l, SPICE_SECT_TIMERFDS, sizeof(*w->timerfds), w->timerfds,
		    w->nr_timerfds);
	add_section(&l, SPICE_SECT_SOCKETS, sizeof(*w->sockets), w->sockets,
		    w->nr_sockets);
	add_section(&l, SPICE_SECT_MADE_FILES, sizeof(*w->made), w->made, w->nr_made);
	add_section(&l, SPICE_SECT_FILE_DATA, sizeof(*ext), ext, nr_ext);
	for (i = 0; i < l.nr; i++)
		l.sect[i].offset += l.nr * sizeof(l.sect[0]);
	l.end += l.nr * sizeof(l.sect[0]);

	meta = calloc(1, l.end);
	err = meta ? 0 : -ENOMEM;
	if (err)
		goto out;
	h = (void *)meta;
	memcpy(h->magic, SPICE_IMAGE_MAGIC, SPICE_IMAGE_MAGIC_LEN);
	h->version = SPICE_IMAGE_VERSION;
	h->header_size = sizeof(*h);
	h->arch = 62;	/* EM_X86_64 */
	h->page_size = PAGE;
	h->section_table = sizeof(*h);
	h->nr_sections = l.nr;
	h->metadata_size = l.end;
	h->data_offset = (l.end + PAGE - 1) & ~(PAGE - 1);
	h->data_size = (uint64_t)w->nr_spool * PAGE;
	h->ws_data_size = ws_data * PAGE;
	for (k = 0; k < nr_iv; k++)
		if (iv[k].source == MMAP_RESTORE_SRC_IMAGE)
			iv[k].offset += h->data_offset;
	for (k = 0; k < nr_ext; k++)
		ext[k].offset += h->data_offset;
	memcpy(meta + sizeof(*h), l.sect, l.nr * sizeof(l.sect[0]));
	for (i = 0; i < l.nr; i++)
		if (l.sect[i].size)
			memcpy(meta + l.sect[i].offset, l.src[i], l.sect[i].size);
	csum_at = offsetof(struct spice_image_header, metadata_csum);
	h->metadata_csum = spice_crc32c_skip(meta, l.end, csum_at);

	/* Never write what a reader would reject. */
	err = spice_image_parse(meta, l.end, h->data_offset + h->data_size,
				&check, why);
	spice_image_free(check);
	if (err)
		goto out;
	if (ftruncate(fd, 0)) {
		err = -errno;
		goto out;
	}
	n = pwrite(fd, meta, l.end, 0);
	if (n != (ssize_t)l.end) {
		err = n < 0 ? -errno : -EIO;
		goto out;
	}
	err = write_data(w, fd, order, w->nr_spool, h->data_offset);
	if (!err && ftruncate(fd, h->data_offset + h->data_size))
		err = -errno;
	w->stats.pages_stored = w->nr_spool;
	w->stats.metadata_size = l.end;
	w->stats.file_size = h->data_offset + h->data_size;
	if (!err && stats)
		*stats = w->stats;
out:
	free(meta);
	free(iv);
	free(ext);
	free(place);
	free(order);
	return err;
}
