// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Copying an image with another working set: everything the image holds
 * goes through the writer again, so that the data is laid out anew with
 * the new working set's pages first.  spice record uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <spice/image.h>
#include "internal.h"

static int file_changed(char *why, const char *path, const char *what)
{
	if (why)
		snprintf(why, SPICE_IMAGE_WHY_LEN, "%.160s changed since the dump: %.64s",
			 path, what);
	return -ESTALE;
}

/* A NUL-terminated copy of a blob, or NULL. */
static char *blob_string(const struct spice_image *img, struct spice_image_ref r)
{
	char *s = malloc(r.len + 1);

	if (s) {
		memcpy(s, spice_image_blob(img, r), r.len);
		s[r.len] = '\0';
	}
	return s;
}

/*
 * The writer records each file's identity as it is now; the copy must
 * keep the one dumped, so a file that changed since is refused.
 */
static int copy_process(const struct spice_image *img, struct spice_writer *w,
			char *why)
{
	const struct spice_image_process *p = spice_image_process(img);
	const struct spice_image_sigaction *act;
	const struct spice_image_rlimit *lim;
	const struct spice_image_itimer *it;
	const struct spice_image_signal *sig;
	const struct spice_image_posix_timer *timer;
	const struct spice_image_made_file *m;
	const struct spice_image_thread *t;
	char what[SPICE_IMAGE_WHY_LEN];
	const struct spice_image_file *f;
	uint64_t i, nr;
	char *s;
	int err;

	m = spice_image_table(img, SPICE_SECT_MADE_FILES, NULL);
	f = spice_image_table(img, SPICE_SECT_FILES, &nr);
	for (i = 0; i < nr; i++) {
		s = blob_string(img, f[i].path);
		if (!s)
			return -ENOMEM;
		if (f[i].flags & SPICE_FILE_MADE)
			err = spice_writer_add_made_file(w, s, &f[i], m++, -1);
		else if (!spice_image_file_check(&f[i], s, what))
			err = spice_writer_add_file(w, s, f[i].flags &
						    SPICE_FILE_HAS_SHA256);
		else
			err = file_changed(why, s, what);
		free(s);
		if (err >= 0 && (uint64_t)err != i)
			err = -EINVAL;	/* a path twice: not a writer's image */
		if (err < 0)
			return err;
	}
	s = p->cwd.len ? blob_string(img, p->cwd) : NULL;
	if (p->cwd.len && !s)
		return -ENOMEM;
	err = spice_writer_set_process(w, p, s, spice_image_blob(img, p->auxv),
				       p->auxv.len);
	free(s);
	t = spice_image_table(img, SPICE_SECT_THREADS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_thread(w, &t[i], spice_image_blob(img, t[i].xstate),
					      t[i].xstate.len);
	act = spice_image_table(img, SPICE_SECT_SIGACTIONS, &nr);
	if (!err && nr)
		err = spice_writer_set_sigactions(w, act);
	lim = spice_image_table(img, SPICE_SECT_RLIMITS, &nr);
	if (!err && nr)
		err = spice_writer_set_rlimits(w, lim);
	it = spice_image_table(img, SPICE_SECT_ITIMERS, &nr);
	if (!err && nr)
		err = spice_writer_set_itimers(w, it);
	sig = spice_image_table(img, SPICE_SECT_SIGNALS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_signal(w, &sig[i]);
	timer = spice_image_table(img, SPICE_SECT_POSIX_TIMERS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_posix_timer(w, &timer[i]);
	return err;
}

/* The contents of the made files, page by page. */
static int copy_file_data(const struct spice_image *img, int fd,
			  struct spice_writer *w)
{
	const struct spice_image_file_extent *e;
	char buf[SPICE_PAGE_SIZE];
	uint64_t i, nr, off;
	int err = 0;

	e = spice_image_table(img, SPICE_SECT_FILE_DATA, &nr);
	for (i = 0; i < nr && !err; i++)
		for (off = 0; off < e[i].len && !err; off += SPICE_PAGE_SIZE) {
			err = spice_pread_full(fd, buf, sizeof(buf), e[i].offset + off);
			if (!err)
				err = spice_writer_add_file_data(w, e[i].file, e[i].pos + off,
								 buf, sizeof(buf));
		}
	return err;
}

static int copy_fds(const struct spice_image *img, struct spice_writer *w)
{
	const struct spice_image_epoll_watch *ew;
	const struct spice_image_lock *lock;
	const struct spice_image_timerfd *tfd;
	const struct spice_image_socket *sock;
	const struct spice_image_fd *d;
	uint64_t i, nr;
	int err = 0;

	d = spice_image_table(img, SPICE_SECT_FDS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_fd_data(w, &d[i], spice_image_blob(img, d[i].data),
					       d[i].data.len);
	ew = spice_image_table(img, SPICE_SECT_EPOLL, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_epoll_watch(w, &ew[i]);
	lock = spice_image_table(img, SPICE_SECT_LOCKS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_lock(w, &lock[i]);
	tfd = spice_image_table(img, SPICE_SECT_TIMERFDS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_timerfd(w, &tfd[i]);
	sock = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	for (i = 0; i < nr && !err; i++)
		err = spice_writer_add_socket(w, &sock[i]);
	return err;
}

/*
 * Every VMA, and the pages that are not its default (the backing file's,
 * or zero): image data, and zero pages of a file-backed VMA.
 */
static int copy_memory(const struct spice_image *img, int fd,
		       struct spice_writer *w)
{
	const struct mmap_restore_interval *iv;
	const struct spice_image_vma *v;
	static const char zero[SPICE_PAGE_SIZE];
	uint64_t i, k, nr, off;
	const char *page;
	char *buf;
	int err = 0;

	buf = malloc(SPICE_PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	iv = spice_image_table(img, SPICE_SECT_INTERVALS, NULL);
	for (i = 0; i < nr && !err; i++) {
		err = spice_writer_add_vma(w, &v[i]);
		if (err >= 0)
			err = 0;
		for (k = v[i].first_interval;
		     !err && k < (uint64_t)v[i].first_interval + v[i].nr_intervals; k++) {
			for (off = 0; !err && off < iv[k].len; off += SPICE_PAGE_SIZE) {
				page = buf;
				if (iv[k].source == MMAP_RESTORE_SRC_IMAGE)
					err = spice_pread_full(fd, buf, SPICE_PAGE_SIZE,
							       iv[k].offset + off);
				else if (iv[k].source == MMAP_RESTORE_SRC_ZERO &&
					 v[i].file != SPICE_IMAGE_NONE)
					page = zero;
				else
					break;	/* the VMA's default anyway */
				if (!err)
					err = spice_writer_add_pages(w, iv[k].addr + off, page,
								     SPICE_PAGE_SIZE);
			}
		}
	}
	free(buf);
	return err;
}

int spice_image_copy(const struct spice_image *img, int fd, int out_fd,
		     const struct mmap_restore_ws_range *ws, size_t nr_ws,
		     const char *spool_dir, struct spice_writer_stats *stats,
		     char *why)
{
	struct spice_writer *w = spice_writer_new(spool_dir);
	int err;

	if (why)
		why[0] = '\0';
	if (!w)
		return -errno ? -errno : -ENOMEM;
	err = copy_process(img, w, why);
	if (!err)
		err = copy_file_data(img, fd, w);
	if (!err)
		err = copy_fds(img, w);
	if (!err)
		err = copy_memory(img, fd, w);
	if (!err)
		err = spice_writer_set_ws(w, ws, nr_ws);
	if (!err)
		err = spice_writer_write(w, out_fd, stats, why);
	spice_writer_free(w);
	return err;
}
