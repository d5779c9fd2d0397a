/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libspice: reading, checking and writing Spice snapshot images.
 *
 * The format is struct spice_image_* in <linux/spice.h>, described in
 * Documentation/spice/image-format.rst.  Functions return a non-negative
 * value on success and a negative errno on failure.
 */
#ifndef __LIBSPICE_IMAGE_H
#define __LIBSPICE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/spice.h>

#include <spice/spice.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A checked image's metadata in memory. */
struct spice_image;

/* Room for the reason a check failed, "vma 3: ..." */
#define SPICE_IMAGE_WHY_LEN 256

/*
 * Check the metadata in @buf (@len bytes from the start of an image file of
 * @file_size bytes) and return a copy of it in *@img.  On failure *@why
 * (if not NULL) explains the first problem found, and the result is:
 *   -ENOEXEC   not a Spice image: magic, version, architecture, page size
 *              or an unknown incompatible feature
 *   -EBADMSG   the metadata checksum does not match
 *   -E2BIG     a count or size is beyond its SPICE_IMAGE_MAX_* limit
 *   -EINVAL    any other malformed field or table
 *   -ENOMEM    out of memory
 * These are the checks and errors of restore_process().
 */
LIBSPICE_API int spice_image_parse(const void *buf, size_t len,
				   uint64_t file_size,
				   struct spice_image **img, char *why);

/* Read and check the image open at @fd; errors as above, or -EIO. */
LIBSPICE_API int spice_image_open(int fd, struct spice_image **img,
				  char *why);

/*
 * Is @f, a file of an image, still the one dumped at @path?  The checks
 * restore_process() makes: type, size, modification time, and the inode
 * generation and SHA-256 when the image has them (the file is then read).
 * A SPICE_FILE_MADE file, made anew by the restore, always passes.
 * Returns 0, or -ESTALE with *@why (SPICE_IMAGE_WHY_LEN bytes, may be
 * NULL) saying what changed or why the file could not be looked at.
 */
LIBSPICE_API int spice_image_file_check(const struct spice_image_file *f,
					const char *path, char *why);

LIBSPICE_API void spice_image_free(struct spice_image *img);

LIBSPICE_API const struct spice_image_header *
spice_image_header(const struct spice_image *img);

LIBSPICE_API const struct spice_image_process *
spice_image_process(const struct spice_image *img);

/*
 * The entries of section @type (enum spice_image_section_type) and their
 * number in *@nr; NULL with *@nr = 0 for an absent section.
 */
LIBSPICE_API const void *spice_image_table(const struct spice_image *img,
					   unsigned int type, uint64_t *nr);

/* The entry of descriptor @fd in the fd table, or NULL. */
LIBSPICE_API const struct spice_image_fd *
spice_image_find_fd(const struct spice_image *img, int32_t fd);

/* The bytes @ref points at in the blobs section (checked at parse). */
LIBSPICE_API const void *spice_image_blob(const struct spice_image *img,
					  struct spice_image_ref ref);

/*
 * The writer.  Build an image in memory (data pages are spooled to a
 * temporary file next to the output), then write it in one pass:
 *
 *	w = spice_writer_new(dir)
 *	spice_writer_set_process(w, &proc)
 *	spice_writer_add_thread(w, &thread, xstate, xstate_len)   (each)
 *	spice_writer_set_sigactions(w, act), _set_rlimits(w, lim),
 *	_set_itimers(w, it) (optional)
 *	spice_writer_add_signal(w, &sig)        (each pending signal, if any)
 *	spice_writer_add_posix_timer(w, &timer) (each POSIX timer, if any)
 *	spice_writer_add_file(w, path, &st) -> file index         (each)
 *	spice_writer_add_made_file(w, path, &f, &m, fd) -> file index (each)
 *	spice_writer_add_file_data(w, file, pos, buf, len)  (ascending)
 *	spice_writer_add_fd(w, &fd) or _add_fd_data()            (each)
 *	spice_writer_add_epoll_watch(w, &watch)   (each; after its fds)
 *	spice_writer_add_lock(w, &lock)    (each file lock; after its fds)
 *	spice_writer_add_timerfd(w, &timer)   (each timerfd; after its fd)
 *	spice_writer_add_socket(w, &socket)   (each socket; after its fd)
 *	spice_writer_add_vma(w, &vma) -> vma index  (sorted; intervals unset)
 *	spice_writer_add_pages(w, addr, buf, len)   (ascending per vma)
 *	spice_writer_set_ws(w, ranges, n)
 *	spice_writer_write(w, out_fd, &stats, why); spice_writer_free(w)
 *
 * add_pages() classifies each page: an all-zero page and a page identical
 * to the backing file (for a private file mapping) cost no data; a page
 * identical to one already stored (compared byte by byte) is stored once.
 * Pages never given keep the VMA's default: the file's contents or zero.
 */
struct spice_writer;

struct spice_writer_stats {
	uint64_t pages_given;	/* pages passed to add_pages() */
	uint64_t pages_zero;	/* ... that were all zero */
	uint64_t pages_file;	/* ... identical to the backing file */
	uint64_t pages_dedup;	/* ... identical to a page stored before */
	uint64_t pages_stored;	/* pages of data in the image */
	uint64_t ws_pages;	/* pages in the working set */
	uint64_t ws_data_pages;	/* stored pages placed first for it */
	uint64_t metadata_size;
	uint64_t file_size;
};

LIBSPICE_API struct spice_writer *spice_writer_new(const char *spool_dir);
LIBSPICE_API void spice_writer_free(struct spice_writer *w);
LIBSPICE_API int spice_writer_set_process(struct spice_writer *w,
					  const struct spice_image_process *proc,
					  const char *cwd, const void *auxv,
					  size_t auxv_len);
LIBSPICE_API int spice_writer_add_thread(struct spice_writer *w,
					 const struct spice_image_thread *t,
					 const void *xstate, size_t xstate_len);
LIBSPICE_API int spice_writer_set_sigactions(struct spice_writer *w,
					     const struct spice_image_sigaction act[64]);
/*
 * The resource limits, indexed by RLIMIT_*; an image written without them
 * has no rlimits section, and its restore keeps the caller's limits.
 */
LIBSPICE_API int
spice_writer_set_rlimits(struct spice_writer *w,
			 const struct spice_image_rlimit lim[SPICE_IMAGE_NR_RLIMITS]);
/*
 * The interval timers, indexed by ITIMER_*; an image written without them
 * has no itimers section, and its restore leaves none armed.
 */
LIBSPICE_API int
spice_writer_set_itimers(struct spice_writer *w,
			 const struct spice_image_itimer it[SPICE_IMAGE_NR_ITIMERS]);
/*
 * A pending signal, after those of threads before its thread; the
 * process's (thread SPICE_IMAGE_NONE) last.  Each queue in its order.
 */
LIBSPICE_API int spice_writer_add_signal(struct spice_writer *w,
					 const struct spice_image_signal *s);
/* A POSIX timer, after those of lower ids. */
LIBSPICE_API int
spice_writer_add_posix_timer(struct spice_writer *w,
			     const struct spice_image_posix_timer *t);
/*
 * Returns the file's index; @path is opened to compare pages with it.
 * @flags: 0, or SPICE_FILE_HAS_SHA256 to record the SHA-256 of a regular
 * file's contents (the whole file is read; the kernel reads it again at
 * restore to check it).  -ESTALE if the file changed while it was read.
 */
LIBSPICE_API int spice_writer_add_file(struct spice_writer *w,
				       const char *path, uint32_t flags);
/*
 * A file that had no name to open it by (a memfd, or a regular file deleted
 * while open or made with O_TMPFILE), made anew at restore as
 * SPICE_FILE_MADE says.  @path: where /proc showed it, without
 * " (deleted)" ("/memfd:NAME" for a memfd); @file: its mode, size, mtime
 * and inode number; @made: its kind and seals.  @fd, or -1, is a
 * descriptor of it, duplicated to compare pages of its private mappings
 * with.  Returns the file's index.
 */
LIBSPICE_API int
spice_writer_add_made_file(struct spice_writer *w, const char *path,
			   const struct spice_image_file *file,
			   const struct spice_image_made_file *made, int fd);
/*
 * @len bytes of the contents of made file @file at @pos, both page-aligned
 * (the last page zero-padded), in ascending order of file and position;
 * all-zero pages are stored as holes.
 */
LIBSPICE_API int spice_writer_add_file_data(struct spice_writer *w,
					    uint32_t file, uint64_t pos,
					    const void *buf, size_t len);
/* @fd->data is ignored: an fd without data. */
LIBSPICE_API int spice_writer_add_fd(struct spice_writer *w,
				     const struct spice_image_fd *fd);
/* The same, with @len bytes of @data (what a pipe held) as @fd->data. */
LIBSPICE_API int spice_writer_add_fd_data(struct spice_writer *w,
					  const struct spice_image_fd *fd,
					  const void *data, size_t len);
LIBSPICE_API int spice_writer_add_epoll_watch(struct spice_writer *w,
					      const struct spice_image_epoll_watch *ew);
/* A file lock, after those of lower fds. */
LIBSPICE_API int spice_writer_add_lock(struct spice_writer *w,
				       const struct spice_image_lock *l);
/* The timer of a timerfd, after those of lower fds. */
LIBSPICE_API int spice_writer_add_timerfd(struct spice_writer *w,
					  const struct spice_image_timerfd *t);
/* How a socket is made again, after those of lower fds. */
LIBSPICE_API int spice_writer_add_socket(struct spice_writer *w,
					 const struct spice_image_socket *s);
LIBSPICE_API int spice_writer_add_vma(struct spice_writer *w,
				      const struct spice_image_vma *vma);
LIBSPICE_API int spice_writer_add_pages(struct spice_writer *w,
					uint64_t addr, const void *buf,
					size_t len);
LIBSPICE_API int spice_writer_set_ws(struct spice_writer *w,
				     const struct mmap_restore_ws_range *ws,
				     size_t nr);
/*
 * Lay out and write the image; before writing, the reader checks it, and
 * on -EINVAL or -E2BIG *@why (if not NULL) says which part of what was
 * given does not make a valid image.
 */
LIBSPICE_API int spice_writer_write(struct spice_writer *w, int fd,
				    struct spice_writer_stats *stats,
				    char *why);

/*
 * Write a copy of @img (read from @fd) to @out_fd with the working set
 * @ws (@nr_ws ranges; none when 0), its data laid out anew: the new
 * working set's pages first.  Data pages are spooled in @spool_dir.  The
 * files the image refers to must not have changed since the dump
 * (-ESTALE, with the path in *@why); else the writer's errors.
 */
LIBSPICE_API int spice_image_copy(const struct spice_image *img, int fd,
				  int out_fd,
				  const struct mmap_restore_ws_range *ws,
				  size_t nr_ws, const char *spool_dir,
				  struct spice_writer_stats *stats, char *why);

#ifdef __cplusplus
}
#endif

#endif /* __LIBSPICE_IMAGE_H */
