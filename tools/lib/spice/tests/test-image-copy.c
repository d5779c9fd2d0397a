// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * spice_image_copy(): a copy with another working set shows the process
 * the same memory, holds the same state, lays the new working set's data
 * out first, and is refused once a file it refers to has changed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "image_fixture.h"

static int n, failed;
static struct fixture fx;

static void check(int ok, const char *what)
{
	n++;
	failed += !ok;
	printf("%sok %d libspice image copy: %s\n", ok ? "" : "not ", n, what);
}

static struct spice_image *open_image(const char *path, int *fd)
{
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img = NULL;

	*fd = open(path, O_RDONLY);
	if (*fd < 0 || spice_image_open(*fd, &img, why))
		printf("# %s: %s\n", path, why);
	return img;
}

static void test_copy(void)
{
	const struct mmap_restore_ws_range ws = { FX_ANON + 4 * FX_PAGE, 1,
						  MMAP_RESTORE_WS_WRITE };
	unsigned char a[FX_PAGE], b[FX_PAGE], c[FX_PAGE];
	const struct mmap_restore_ws_range *got;
	const struct spice_image_epoll_watch *ew;
	const struct spice_image_thread *t;
	const struct spice_image_rlimit *lim;
	const struct spice_image_itimer *it;
	const struct spice_image_signal *sig;
	const struct spice_image_posix_timer *timer;
	const struct spice_image_lock *lock;
	const struct spice_image_timerfd *tfd;
	const struct spice_image_socket *sock;
	const struct spice_image_vma *v, *cv;
	struct spice_image *img, *copy;
	char path[128], why[SPICE_IMAGE_WHY_LEN];
	struct spice_writer_stats st;
	uint64_t addr, nr, cnr, nthreads, i;
	int fd, cfd, out, err, same = 1;

	img = open_image(fx.image, &fd);
	snprintf(path, sizeof(path), "%s/copy", fx.dir);
	out = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	err = spice_image_copy(img, fd, out, &ws, 1, fx.dir, &st, why);
	check(img && out >= 0 && err == 0, "an image copies with a new working set");
	close(out);
	copy = open_image(path, &cfd);
	check(!!copy, "the copy passes every check");
	if (!img || !copy)
		return;

	for (addr = FX_ANON; addr < FX_ANON + 8 * FX_PAGE; addr += FX_PAGE)
		same &= !fx_page_at(&fx, img, fd, addr, a) &&
			!fx_page_at(&fx, copy, cfd, addr, b) && !memcmp(a, b, FX_PAGE);
	for (addr = FX_FILE; addr < FX_FILE + 4 * FX_PAGE; addr += FX_PAGE)
		same &= !fx_page_at(&fx, img, fd, addr, a) &&
			!fx_page_at(&fx, copy, cfd, addr, b) && !memcmp(a, b, FX_PAGE);
	check(same, "every page reads the same through the copy");
	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	cv = spice_image_table(copy, SPICE_SECT_VMAS, &cnr);
	same = nr == cnr && nr == 4 && v[0].flags == FX_ANON_FLAGS &&
	       v[3].flags == FX_SHARED_FLAGS;
	for (i = 0; same && i < nr; i++)
		same = v[i].start == cv[i].start && v[i].end == cv[i].end &&
		       v[i].prot == cv[i].prot && v[i].flags == cv[i].flags &&
		       v[i].file == cv[i].file && v[i].pgoff == cv[i].pgoff;
	check(same, "every vma and its flags are kept");

	got = spice_image_table(copy, SPICE_SECT_WS, &nr);
	check(nr == 1 && !memcmp(got, &ws, sizeof(ws)), "the copy has the new working set");
	check(spice_image_header(copy)->ws_data_size == FX_PAGE &&
	      pread(cfd, c, FX_PAGE, spice_image_header(copy)->data_offset) == FX_PAGE &&
	      !memcmp(c, fx.anon[4], FX_PAGE), "its data comes first");
	spice_image_table(copy, SPICE_SECT_THREADS, &nthreads);
	ew = spice_image_table(copy, SPICE_SECT_EPOLL, &nr);
	check(nthreads == 2 && nr == 1 && ew->tfd == 4 &&
	      !strcmp(spice_image_process(copy)->comm, "fixture") &&
	      spice_image_find_fd(copy, 4)->pos == 5,
	      "threads, process, fds and epoll watches are kept");
	lim = spice_image_table(copy, SPICE_SECT_RLIMITS, &nr);
	check(nr == SPICE_IMAGE_NR_RLIMITS && !memcmp(lim, fx.rlim, sizeof(fx.rlim)),
	      "resource limits are kept");
	it = spice_image_table(copy, SPICE_SECT_ITIMERS, &nr);
	check(nr == SPICE_IMAGE_NR_ITIMERS &&
	      !memcmp(it, fx.itimers, sizeof(fx.itimers)),
	      "interval timers copied");
	sig = spice_image_table(copy, SPICE_SECT_SIGNALS, &nr);
	check(nr == 4 && !memcmp(sig, fx.signals, sizeof(fx.signals)),
	      "pending signals copied");
	timer = spice_image_table(copy, SPICE_SECT_POSIX_TIMERS, &nr);
	check(nr == 2 && !memcmp(timer, fx.timers, sizeof(fx.timers)),
	      "POSIX timers copied");
	lock = spice_image_table(copy, SPICE_SECT_LOCKS, &nr);
	check(nr == 2 && !memcmp(lock, fx.locks, sizeof(fx.locks)),
	      "file locks copied");
	tfd = spice_image_table(copy, SPICE_SECT_TIMERFDS, &nr);
	check(nr == 1 && !memcmp(tfd, &fx.timerfd, sizeof(fx.timerfd)),
	      "timerfd timers copied");
	sock = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	check(nr == 1 && !memcmp(sock, &fx.socket, sizeof(fx.socket)),
	      "sockets copied");
	t = spice_image_table(copy, SPICE_SECT_THREADS, NULL);
	check(spice_image_process(copy)->flags == FX_PROC_FLAGS &&
	      spice_image_process(copy)->oom_score_adj == FX_OOM_SCORE_ADJ &&
	      t[1].timer_slack_ns == FX_TIMER_SLACK &&
	      t[1].pdeath_signal == FX_PDEATH_SIGNAL,
	      "process flags, oom_score_adj, timer slack and pdeath signal are kept");

	/* A file touched since the dump: refused, with its path. */
	utimes(fx.file, NULL);
	out = open(path, O_RDWR | O_TRUNC);
	err = spice_image_copy(img, fd, out, NULL, 0, fx.dir, &st, why);
	check(err == -ESTALE && strstr(why, "lib.so"), "a changed file is refused");
	close(out);
	unlink(path);
	spice_image_free(img);
	spice_image_free(copy);
	close(fd);
	close(cfd);
}

int main(void)
{
	printf("TAP version 13\n");
	if (fx_build(&fx)) {
		printf("not ok 1 the writer builds the fixture image\n1..1\n");
		return 1;
	}
	test_copy();
	fx_cleanup(&fx);
	printf("1..%d\n", n);
	return failed;
}
