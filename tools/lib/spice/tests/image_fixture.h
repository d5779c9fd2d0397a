/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small image built with the writer, for the reader tests and the
 * fuzzer: two threads, a file, a private file mapping, anonymous memory
 * with zero, repeated and unique pages and madvise() flags, a vDSO, a
 * shared file mapping that may be made writable, a working set and
 * resource limits.
 */
#ifndef __LIBSPICE_TEST_IMAGE_FIXTURE_H
#define __LIBSPICE_TEST_IMAGE_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <spice/image.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FX_PAGE 4096
#define FX_ANON 0x10000000ULL	/* 8 pages of anonymous memory */
#define FX_FILE 0x20000000ULL	/* 4 pages of a private file mapping */
#define FX_VDSO 0x30000000ULL
#define FX_SHARED 0x40000000ULL	/* the file again, shared, read-only */

struct fixture {
	char dir[64];
	char file[96];
	char image[96];
	unsigned char anon[8][FX_PAGE];	/* what the process held */
	unsigned char mapped[4][FX_PAGE];
	unsigned char ondisk[4][FX_PAGE];
	struct spice_image_rlimit rlim[SPICE_IMAGE_NR_RLIMITS];
	struct spice_image_itimer itimers[SPICE_IMAGE_NR_ITIMERS];
	struct spice_image_signal signals[4];
	struct spice_image_posix_timer timers[2];
	struct spice_image_lock locks[2];
	struct spice_image_timerfd timerfd;
	struct spice_image_socket socket;
	struct spice_writer_stats stats;
};

#define FX_OOM_SCORE_ADJ	-500
#define FX_PROC_FLAGS		(SPICE_PROC_NO_NEW_PRIVS | SPICE_PROC_CHILD_SUBREAPER)
#define FX_TIMER_SLACK		123456
#define FX_SCHED_POLICY		3	/* SCHED_BATCH */
#define FX_NICE			5
#define FX_PDEATH_SIGNAL	10	/* SIGUSR1 */
#define FX_NOFILE		7	/* RLIMIT_NOFILE */
#define FX_ANON_FLAGS		(SPICE_VMA_HEAP | SPICE_VMA_DONTFORK | SPICE_VMA_HUGEPAGE)
#define FX_SHARED_FLAGS		(SPICE_VMA_SHARED | SPICE_VMA_MAYWRITE | SPICE_VMA_DONTDUMP)

/* CRC-32C written out again, to check libspice's against. */
static inline uint32_t fx_crc32c(const unsigned char *p, size_t len)
{
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	return ~crc;
}

/* A pending signal for @thread: its number, code and a sender's pid. */
static inline void fx_signal(struct spice_image_signal *s, uint32_t thread,
			     int32_t sig, int32_t code)
{
	int32_t info[4] = { sig, 0, code, 4242 };

	memset(s, 0, sizeof(*s));
	s->thread = thread;
	memcpy(s->info, info, sizeof(info));
}

static inline void fx_fill(unsigned char *p, int c)
{
	memset(p, c, FX_PAGE);
	p[7] = (unsigned char)(c * 3 + 1);
}

/* Build the fixture's image; 0 or a negative errno. */
static inline int fx_build(struct fixture *fx)
{
	const struct mmap_restore_ws_range ws[] = {
		{ FX_ANON + 2 * FX_PAGE, 1, MMAP_RESTORE_WS_WRITE },
		{ FX_FILE + 1 * FX_PAGE, 1, 0 },
		{ FX_ANON + 1 * FX_PAGE, 1, 0 },
	};
	struct spice_image_process proc = {
		.start_code = FX_FILE, .end_code = FX_FILE + FX_PAGE,
		.start_brk = FX_ANON, .brk = FX_ANON + 8 * FX_PAGE,
		.vdso = FX_VDSO, .exe_file = 0, .umask = 022, .pid = 42,
		.comm = "fixture", .flags = FX_PROC_FLAGS,
		.oom_score_adj = FX_OOM_SCORE_ADJ,
	};
	const uint64_t auxv[] = { 6 /* AT_PAGESZ */, FX_PAGE, 0, 0 };
	struct spice_image_thread t = { .tid = 42, .sigmask = 1,
					.timer_slack_ns = FX_TIMER_SLACK,
					.pdeath_signal = FX_PDEATH_SIGNAL,
					.sched_policy = FX_SCHED_POLICY,
					.nice = FX_NICE };
	struct spice_image_sigaction act[64] = { { 0 } };
	struct spice_image_fd fd0 = { .fd = 3, .type = SPICE_FD_FILE,
				      .open_flags = O_RDONLY, .file = 0,
				      .pos = 100 };
	/* fd 4 an eventfd (semaphore, counter 5), fd 5 an epoll watching it */
	struct spice_image_fd efd = { .fd = 4, .type = SPICE_FD_EVENTFD,
				      .open_flags = O_RDWR, .file = SPICE_IMAGE_NONE,
				      .type_flags = SPICE_EVENTFD_SEMAPHORE,
				      .pos = 5 };
	struct spice_image_fd epfd = { .fd = 5, .type = SPICE_FD_EPOLL,
				       .open_flags = O_RDWR | O_NONBLOCK,
				       .file = SPICE_IMAGE_NONE };
	struct spice_image_epoll_watch watch = { .epfd = 5, .tfd = 4,
						 .events = 1, .data = 44 };
	/* fd 6 a timerfd */
	struct spice_image_fd tfd = { .fd = 6, .type = SPICE_FD_TIMERFD,
				      .open_flags = O_RDWR | O_NONBLOCK,
				      .file = SPICE_IMAGE_NONE };
	/* fd 7 a listening TCP socket on [::1]:8080 */
	struct spice_image_fd sfd = { .fd = 7, .type = SPICE_FD_SOCKET,
				      .open_flags = O_RDWR, .fd_flags = 1,
				      .file = SPICE_IMAGE_NONE };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(8080),
				     .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct spice_image_vma v;
	unsigned char xstate[64];
	struct spice_writer *w;
	int fd, i, err;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/libspice-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->file, sizeof(fx->file), "%s/lib.so", fx->dir);
	snprintf(fx->image, sizeof(fx->image), "%s/image", fx->dir);
	for (i = 0; i < 4; i++)
		fx_fill(fx->ondisk[i], 0x50 + i);
	fd = open(fx->file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, fx->ondisk, sizeof(fx->ondisk)) !=
	    sizeof(fx->ondisk))
		return -1;
	close(fd);

	memset(fx->anon, 0, sizeof(fx->anon));	/* page 0: zero */
	fx_fill(fx->anon[1], 'A');
	fx_fill(fx->anon[2], 'B');
	fx_fill(fx->anon[3], 'A');		/* same as page 1 */
	fx_fill(fx->anon[4], 'C');
	/* pages 5-7 never touched: not given to the writer */
	memcpy(fx->mapped, fx->ondisk, sizeof(fx->ondisk));
	fx->mapped[1][100] ^= 0xff;		/* written after mapping */
	memset(fx->mapped[2], 0, FX_PAGE);	/* zeroed */
	/* Soft limits below hard ones, unlimited ones, and one equal pair. */
	for (i = 0; i < SPICE_IMAGE_NR_RLIMITS; i++) {
		fx->rlim[i].cur = i % 2 ? 1000ULL + i : ~0ULL;
		fx->rlim[i].max = i % 3 ? ~0ULL : fx->rlim[i].cur;
	}
	fx->rlim[FX_NOFILE].cur = 1024;
	fx->rlim[FX_NOFILE].max = 4096;
	/* ITIMER_REAL periodic, ITIMER_VIRTUAL disarmed, ITIMER_PROF once. */
	fx->itimers[0] = (struct spice_image_itimer){ 2500000000ULL, 1000000 };
	fx->itimers[1] = (struct spice_image_itimer){ 0, 0 };
	fx->itimers[2] = (struct spice_image_itimer){ INT64_MAX, 0 };
	/* SIGUSR1 for the first thread, SIGRTMIN+6 twice for the second, SIGTERM. */
	fx_signal(&fx->signals[0], 0, 10, -6);
	fx_signal(&fx->signals[1], 1, 40, -1);
	fx_signal(&fx->signals[2], 1, 40, -1);
	fx_signal(&fx->signals[3], SPICE_IMAGE_NONE, 15, 0);
	/* Timer 0 signals the process; timer 3, the second thread. */
	fx->timers[0] = (struct spice_image_posix_timer){
		.id = 0, .clock = CLOCK_MONOTONIC, .notify = SIGEV_SIGNAL,
		.signo = 14, .thread = SPICE_IMAGE_NONE, .value = 0x1234,
		.value_ns = 5000000000ULL,
	};
	fx->timers[1] = (struct spice_image_posix_timer){
		.id = 3, .clock = CLOCK_REALTIME,
		.notify = SIGEV_SIGNAL | SIGEV_THREAD_ID, .signo = 34,
		.thread = 1, .value_ns = 1000, .interval_ns = 1000,
	};
	/* fd 3 holds a flock lock and a POSIX read lock on bytes 0-99. */
	fx->locks[0] = (struct spice_image_lock){
		.fd = 3, .kind = SPICE_LOCK_FLOCK, .type = SPICE_LOCK_WRITE,
		.end = SPICE_LOCK_EOF,
	};
	fx->locks[1] = (struct spice_image_lock){
		.fd = 3, .kind = SPICE_LOCK_POSIX, .type = SPICE_LOCK_READ,
		.end = 99,
	};
	/* Absolute, on the realtime clock, with an expiration unread. */
	fx->timerfd = (struct spice_image_timerfd){
		.fd = 6, .clock = CLOCK_REALTIME, .ticks = 1,
		.flags = SPICE_TIMERFD_ABSTIME | SPICE_TIMERFD_CANCEL_ON_SET,
		.value_ns = 3000000000ULL, .interval_ns = 1000000,
	};

	fx->socket = (struct spice_image_socket){
		.fd = 7, .family = AF_INET6, .state = SPICE_SOCKET_LISTENING,
		.type = SOCK_STREAM, .protocol = IPPROTO_TCP, .backlog = 128,
		.options = SPICE_SOCKOPT_REUSEADDR | SPICE_SOCKOPT_V6ONLY |
			   SPICE_SOCKOPT_LINGER,
		.linger = 5, .tcp_defer_accept = 3, .rcvtimeo_us = 1500000,
		.addr_len = sizeof(sin6), .bind_dev = "lo",
	};
	memcpy(fx->socket.addr, &sin6, sizeof(sin6));

	w = spice_writer_new(fx->dir);
	if (!w)
		return -1;
	memset(xstate, 0x5a, sizeof(xstate));
	act[1].handler = 0x401000;		/* SIGINT */
	act[1].flags = 0x04000000;		/* SA_RESTORER */
	err = spice_writer_add_file(w, fx->file, 0);
	if (err == 0)
		err = spice_writer_set_process(w, &proc, "/tmp", auxv,
					       sizeof(auxv));
	if (!err)
		err = spice_writer_add_thread(w, &t, xstate, sizeof(xstate));
	t.tid = 43;
	if (!err)
		err = spice_writer_add_thread(w, &t, NULL, 0);
	if (!err)
		err = spice_writer_set_sigactions(w, act);
	if (!err)
		err = spice_writer_set_rlimits(w, fx->rlim);
	if (!err)
		err = spice_writer_set_itimers(w, fx->itimers);
	for (i = 0; i < 4 && !err; i++)
		err = spice_writer_add_signal(w, &fx->signals[i]);
	for (i = 0; i < 2 && !err; i++)
		err = spice_writer_add_posix_timer(w, &fx->timers[i]);
	if (!err)
		err = spice_writer_add_fd(w, &fd0);
	if (!err)
		err = spice_writer_add_fd(w, &efd);
	if (!err)
		err = spice_writer_add_fd(w, &epfd);
	if (!err)
		err = spice_writer_add_fd(w, &tfd);
	if (!err)
		err = spice_writer_add_fd(w, &sfd);
	if (!err)
		err = spice_writer_add_epoll_watch(w, &watch);
	if (!err)
		err = spice_writer_add_timerfd(w, &fx->timerfd);
	if (!err)
		err = spice_writer_add_socket(w, &fx->socket);
	for (i = 0; i < 2 && !err; i++)
		err = spice_writer_add_lock(w, &fx->locks[i]);
	v = (struct spice_image_vma){ .start = FX_ANON,
		.end = FX_ANON + 8 * FX_PAGE, .prot = PROT_READ | PROT_WRITE,
		.flags = FX_ANON_FLAGS, .file = SPICE_IMAGE_NONE };
	if (!err)
		err = spice_writer_add_vma(w, &v) < 0;
	v = (struct spice_image_vma){ .start = FX_FILE,
		.end = FX_FILE + 4 * FX_PAGE, .prot = PROT_READ | PROT_WRITE,
		.file = 0 };
	if (!err)
		err = spice_writer_add_vma(w, &v) < 0;
	v = (struct spice_image_vma){ .start = FX_VDSO,
		.end = FX_VDSO + FX_PAGE, .prot = PROT_READ | PROT_EXEC,
		.flags = SPICE_VMA_VDSO, .file = SPICE_IMAGE_NONE };
	if (!err)
		err = spice_writer_add_vma(w, &v) < 0;
	v = (struct spice_image_vma){ .start = FX_SHARED,
		.end = FX_SHARED + 4 * FX_PAGE, .prot = PROT_READ,
		.flags = FX_SHARED_FLAGS, .file = 0 };
	if (!err)
		err = spice_writer_add_vma(w, &v) < 0;
	if (!err)
		err = spice_writer_add_pages(w, FX_ANON, fx->anon, 5 * FX_PAGE);
	if (!err)
		err = spice_writer_add_pages(w, FX_FILE, fx->mapped,
					     sizeof(fx->mapped));
	if (!err)
		err = spice_writer_set_ws(w, ws, 3);
	fd = open(fx->image, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (!err && fd < 0)
		err = -1;
	if (!err)
		err = spice_writer_write(w, fd, &fx->stats, NULL);
	if (fd >= 0)
		close(fd);
	spice_writer_free(w);
	return err;
}

/* The whole image file in memory; *@len is its size. */
static inline unsigned char *fx_slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* What the process would see at @addr, resolved through the image. */
static inline int fx_page_at(const struct fixture *fx,
			     const struct spice_image *img, int fd,
			     uint64_t addr, unsigned char *out)
{
	const struct spice_image_vma *v = NULL, *vmas;
	const struct mmap_restore_interval *iv;
	uint64_t i, nr;
	int ffd, r;

	vmas = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	for (i = 0; i < nr; i++)
		if (addr >= vmas[i].start && addr < vmas[i].end)
			v = &vmas[i];
	if (!v)
		return -1;
	iv = spice_image_table(img, SPICE_SECT_INTERVALS, NULL);
	for (i = v->first_interval; i < v->first_interval + v->nr_intervals; i++) {
		if (addr < iv[i].addr || addr >= iv[i].addr + iv[i].len)
			continue;
		if (iv[i].source == MMAP_RESTORE_SRC_ZERO) {
			memset(out, 0, FX_PAGE);
			return 0;
		}
		if (iv[i].source != MMAP_RESTORE_SRC_IMAGE)
			break;
		r = pread(fd, out, FX_PAGE, iv[i].offset + addr - iv[i].addr);
		return r == FX_PAGE ? 0 : -1;
	}
	if (v->file == SPICE_IMAGE_NONE) {
		memset(out, 0, FX_PAGE);
		return 0;
	}
	ffd = open(fx->file, O_RDONLY);
	r = pread(ffd, out, FX_PAGE, v->pgoff + addr - v->start);
	close(ffd);
	return r == FX_PAGE ? 0 : -1;
}

static inline void fx_cleanup(struct fixture *fx)
{
	unlink(fx->file);
	unlink(fx->image);
	rmdir(fx->dir);
}

#endif /* __LIBSPICE_TEST_IMAGE_FIXTURE_H */
