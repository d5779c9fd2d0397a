// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of restore_process()'s image checks (image.c): a minimal
 * valid image, then one broken field at a time with the checksum redone,
 * so that the check under test is the one that rejects it.
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/crc32.h>
#include <linux/elf-em.h>
#include <linux/fcntl.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/time.h>

#include "image.h"

#define T_META		3584	/* the sections of image_init() fit */
#define T_FILE_SIZE	8192
#define T_VMA		0x10000000ULL

enum { S_PROC, S_THREADS, S_VMAS, S_IV, S_BLOBS, S_FDS, S_EPOLL, S_RLIM,
	S_ITIM, S_SIG, S_TIMERS, S_FILES, S_LOCKS, S_TIMERFDS, S_SOCKETS, S_MADE,
	S_EXTENTS, S_NR };

struct test_image {
	u8 buf[T_META];
	struct spice_image img;
};

static struct spice_image_header *hdr(struct test_image *x)
{
	return (void *)x->buf;
}

static struct spice_image_section *sect(struct test_image *x, int i)
{
	return (void *)(x->buf + sizeof(struct spice_image_header)) + i * 32;
}

static void *body(struct test_image *x, int i)
{
	return x->buf + sect(x, i)->offset;
}

static void reseal(struct test_image *x)
{
	const size_t at = offsetof(struct spice_image_header, metadata_csum);
	static const u8 zero[4];
	u32 crc;

	crc = __crc32c_le(~0U, x->buf, at);
	crc = __crc32c_le(crc, zero, 4);
	crc = __crc32c_le(crc, x->buf + at + 4, T_META - at - 4);
	hdr(x)->metadata_csum = ~crc;
}

/* Section @i at @off; returns where the next one goes. */
static u64 add_sect(struct test_image *x, int i, u32 type, u32 esize,
		    u64 off, u64 nr)
{
	*sect(x, i) = (struct spice_image_section) {
		.type = type, .entry_size = esize, .offset = off,
		.nr_entries = nr, .size = nr * esize,
	};
	return off + ALIGN(nr * esize, 8);
}

/*
 * fd 3 an eventfd, fd 4 an epoll instance watching fds 3 and 5, fd 5 a
 * pipe the launcher supplies, fd 7 file 0 open for reading and writing,
 * fd 8 a timerfd armed with TFD_TIMER_ABSTIME on the realtime clock.
 */
static void image_init_fds(struct test_image *x)
{
	struct spice_image_epoll_watch *w = body(x, S_EPOLL);
	struct spice_image_fd *d = body(x, S_FDS);

	d[0] = (struct spice_image_fd) {
		.fd = 3, .type = SPICE_FD_EVENTFD, .open_flags = O_RDWR,
		.file = SPICE_IMAGE_NONE, .type_flags = SPICE_EVENTFD_SEMAPHORE,
		.pos = 5,
	};
	d[1] = (struct spice_image_fd) {
		.fd = 4, .type = SPICE_FD_EPOLL, .file = SPICE_IMAGE_NONE,
		.open_flags = O_RDWR | O_NONBLOCK,
	};
	d[2] = (struct spice_image_fd) {
		.fd = 5, .type = SPICE_FD_SUPPLIED, .file = SPICE_IMAGE_NONE,
	};
	w[0] = (struct spice_image_epoll_watch) {
		.epfd = 4, .tfd = 3, .events = 1 /* EPOLLIN */, .data = 42,
	};
	w[1] = (struct spice_image_epoll_watch) { .epfd = 4, .tfd = 5, .events = 1 };
	d[3] = (struct spice_image_fd) {
		.fd = 7, .type = SPICE_FD_FILE, .file = 0, .open_flags = O_RDWR,
	};
	d[4] = (struct spice_image_fd) {
		.fd = 8, .type = SPICE_FD_TIMERFD, .file = SPICE_IMAGE_NONE,
		.open_flags = O_RDWR | O_NONBLOCK,
	};
	*(struct spice_image_timerfd *)body(x, S_TIMERFDS) = (struct spice_image_timerfd) {
		.fd = 8, .clock = CLOCK_REALTIME, .flags = SPICE_TIMERFD_ABSTIME,
		.ticks = 2, .value_ns = KTIME_MAX, .interval_ns = 1,
	};
}

/* fd 7 holds a flock lock and a POSIX write lock on bytes 0 to 99. */
static void image_init_locks(struct test_image *x)
{
	struct spice_image_lock *l = body(x, S_LOCKS);
	struct spice_image_file *f = body(x, S_FILES);

	f->path.len = 4;	/* "/tmp", the first bytes of the blobs */
	f->mode = S_IFREG | 0644;
	l[0] = (struct spice_image_lock) {
		.fd = 7, .kind = SPICE_LOCK_FLOCK, .type = SPICE_LOCK_READ,
		.end = SPICE_LOCK_EOF,
	};
	l[1] = (struct spice_image_lock) {
		.fd = 7, .kind = SPICE_LOCK_POSIX, .type = SPICE_LOCK_WRITE,
		.end = 99,
	};
}

/* Pending signal @i: @sig, for thread @thread. */
static void set_signal(struct test_image *x, int i, u32 thread, int sig)
{
	struct spice_image_signal *s = (struct spice_image_signal *)body(x, S_SIG) + i;

	memset(s, 0, sizeof(*s));
	s->thread = thread;
	memcpy(s->info, &sig, sizeof(sig));
}

/*
 * One thread, one anonymous VMA of 2 pages, its first page stored, the
 * fds of image_init_fds(), a signal pending for the thread and one for
 * the process, and two POSIX timers.
 */
static void image_init(struct test_image *x)
{
	struct spice_image_process *p;
	struct spice_image_thread *t;
	struct spice_image_vma *v;
	struct mmap_restore_interval *iv;
	struct spice_image_posix_timer *tm;
	u64 off = sizeof(struct spice_image_header) +
		  S_NR * sizeof(struct spice_image_section);

	memset(x, 0, sizeof(*x));
	memcpy(hdr(x)->magic, SPICE_IMAGE_MAGIC, SPICE_IMAGE_MAGIC_LEN);
	hdr(x)->version = SPICE_IMAGE_VERSION;
	hdr(x)->header_size = sizeof(struct spice_image_header);
	hdr(x)->arch = EM_X86_64;
	hdr(x)->page_size = 4096;
	hdr(x)->section_table = sizeof(struct spice_image_header);
	hdr(x)->nr_sections = S_NR;
	hdr(x)->metadata_size = T_META;
	hdr(x)->data_offset = 4096;
	hdr(x)->data_size = 4096;
	off = add_sect(x, S_PROC, SPICE_SECT_PROCESS, sizeof(*p), off, 1);
	off = add_sect(x, S_THREADS, SPICE_SECT_THREADS, sizeof(*t), off, 1);
	off = add_sect(x, S_VMAS, SPICE_SECT_VMAS, sizeof(*v), off, 1);
	off = add_sect(x, S_IV, SPICE_SECT_INTERVALS, sizeof(*iv), off, 1);
	off = add_sect(x, S_BLOBS, SPICE_SECT_BLOBS, 1, off, 4);
	off = add_sect(x, S_FDS, SPICE_SECT_FDS, sizeof(struct spice_image_fd),
		       off, 5);
	off = add_sect(x, S_EPOLL, SPICE_SECT_EPOLL,
		       sizeof(struct spice_image_epoll_watch), off, 2);
	off = add_sect(x, S_RLIM, SPICE_SECT_RLIMITS,
		       sizeof(struct spice_image_rlimit), off,
		       SPICE_IMAGE_NR_RLIMITS);
	off = add_sect(x, S_ITIM, SPICE_SECT_ITIMERS,
		       sizeof(struct spice_image_itimer), off,
		       SPICE_IMAGE_NR_ITIMERS);
	off = add_sect(x, S_SIG, SPICE_SECT_SIGNALS,
		       sizeof(struct spice_image_signal), off, 2);
	off = add_sect(x, S_TIMERS, SPICE_SECT_POSIX_TIMERS,
		       sizeof(struct spice_image_posix_timer), off, 2);
	off = add_sect(x, S_FILES, SPICE_SECT_FILES,
		       sizeof(struct spice_image_file), off, 1);
	off = add_sect(x, S_LOCKS, SPICE_SECT_LOCKS,
		       sizeof(struct spice_image_lock), off, 2);
	off = add_sect(x, S_TIMERFDS, SPICE_SECT_TIMERFDS,
		       sizeof(struct spice_image_timerfd), off, 1);
	/* Empty; sockets() and made_files() fill them in. */
	off = add_sect(x, S_SOCKETS, SPICE_SECT_SOCKETS,
		       sizeof(struct spice_image_socket), off, 0);
	add_sect(x, S_MADE, SPICE_SECT_MADE_FILES,
		 sizeof(struct spice_image_made_file), off, 0);
	add_sect(x, S_EXTENTS, SPICE_SECT_FILE_DATA,
		 sizeof(struct spice_image_file_extent), off, 0);
	p = body(x, S_PROC);
	p->exe_file = SPICE_IMAGE_NONE;
	p->cwd.len = 4;
	strscpy(p->comm, "test", sizeof(p->comm));
	t = body(x, S_THREADS);
	t->tid = 1;
	set_signal(x, 0, 0, SIGUSR1);
	set_signal(x, 1, SPICE_IMAGE_NONE, 34);
	tm = body(x, S_TIMERS);
	tm[0] = (struct spice_image_posix_timer) {
		.id = 0, .clock = CLOCK_MONOTONIC, .notify = SIGEV_NONE,
		.thread = SPICE_IMAGE_NONE,
	};
	tm[1] = (struct spice_image_posix_timer) {
		.id = 5, .clock = CLOCK_BOOTTIME,
		.notify = SIGEV_SIGNAL | SIGEV_THREAD_ID, .signo = 64, .thread = 0,
		.value_ns = KTIME_MAX, .interval_ns = 1,
	};
	v = body(x, S_VMAS);
	v->start = T_VMA;
	v->end = T_VMA + 2 * 4096;
	v->prot = PROT_READ | PROT_WRITE;
	v->file = SPICE_IMAGE_NONE;
	v->nr_intervals = 1;
	iv = body(x, S_IV);
	iv->addr = T_VMA;
	iv->len = 4096;
	iv->offset = 4096;
	iv->source = MMAP_RESTORE_SRC_IMAGE;
	memcpy(body(x, S_BLOBS), "/tmp", 4);
	image_init_fds(x);
	image_init_locks(x);
	reseal(x);
}

static int check(struct test_image *x, loff_t file_size)
{
	return spice_image_check(&x->img, x->buf, T_META, file_size);
}

static void valid_image(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 1, x->img.nr[SPICE_SECT_VMAS]);
	KUNIT_EXPECT_EQ(test, T_VMA, x->img.vmas[0].start);
	KUNIT_EXPECT_STREQ(test, "test", x->img.proc->comm);
	KUNIT_EXPECT_PTR_EQ(test, &x->img.vmas[0],
			    spice_image_find_vma(&x->img, T_VMA + 4096));
	KUNIT_EXPECT_NULL(test, spice_image_find_vma(&x->img, T_VMA + 8192));
}

static void not_an_image(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	image_init(x);
	hdr(x)->magic[0] = 'X';
	reseal(x);
	KUNIT_EXPECT_EQ(test, -ENOEXEC, check(x, T_FILE_SIZE));
	image_init(x);
	hdr(x)->version = 2;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -ENOEXEC, check(x, T_FILE_SIZE));
	image_init(x);
	hdr(x)->incompat_features = 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -ENOEXEC, check(x, T_FILE_SIZE));
	image_init(x);
	hdr(x)->compat_features = 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	/* Shorter than a header. */
	KUNIT_EXPECT_EQ(test, -ENOEXEC,
			spice_image_check(&x->img, x->buf, 100, T_FILE_SIZE));
}

static void checksum_and_bounds(struct test_image *x, struct kunit *test)
{
	image_init(x);
	((struct spice_image_process *)body(x, S_PROC))->umask = 1;
	KUNIT_EXPECT_EQ(test, -EBADMSG, check(x, T_FILE_SIZE));
	image_init(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE - 1));
	hdr(x)->metadata_size = SPICE_IMAGE_MAX_METADATA + 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -E2BIG, check(x, T_FILE_SIZE));
	image_init(x);
	hdr(x)->nr_sections = SPICE_IMAGE_MAX_SECTIONS + 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -E2BIG, check(x, T_FILE_SIZE));
}

static void header(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	checksum_and_bounds(x, test);
	image_init(x);
	hdr(x)->data_offset = 2048;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	hdr(x)->reserved[0] = 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
}

static void sections(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	image_init(x);
	sect(x, S_BLOBS)->type = SPICE_SECT_VMAS;	/* twice */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	sect(x, S_IV)->offset = sect(x, S_VMAS)->offset;	/* overlaps */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	sect(x, S_VMAS)->entry_size = 40;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	sect(x, S_IV)->nr_entries = 1ULL << 60;	/* size would overflow */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -E2BIG, check(x, T_FILE_SIZE));
	image_init(x);
	sect(x, S_THREADS)->nr_entries = 0;
	sect(x, S_THREADS)->size = 0;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
}

static void tables(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct mmap_restore_interval *iv;
	struct spice_image_vma *v;

	image_init(x);
	v = body(x, S_VMAS);
	v->start += 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	iv = body(x, S_IV);
	iv->offset = 0;				/* inside the metadata */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	iv = body(x, S_IV);
	iv->len = 3 * 4096;			/* past the VMA and the data */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	iv = body(x, S_IV);
	iv->source = MMAP_RESTORE_SRC_FILE;	/* in an anonymous VMA */
	iv->offset = 0;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	v = body(x, S_VMAS);
	v->flags |= SPICE_VMA_SHARED;		/* shared anonymous: fine */
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	v->flags |= SPICE_VMA_GROWSDOWN;	/* but it does not grow */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	((struct spice_image_process *)body(x, S_PROC))->cwd.offset = 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	((struct spice_image_process *)body(x, S_PROC))->flags = SPICE_PROC_UNDUMPABLE;
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	((struct spice_image_process *)body(x, S_PROC))->flags = BIT(6);	/* unknown */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	((struct spice_image_thread *)body(x, S_THREADS))->xstate.len =
		SPICE_IMAGE_MAX_XSTATE + 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -E2BIG, check(x, T_FILE_SIZE));
}

#define EXPECT_CHECK(test, image, want, what) do {			\
	struct test_image *__x = (image);				\
									\
	image_init(__x);						\
	what;								\
	reseal(__x);							\
	KUNIT_EXPECT_EQ(test, want, check(__x, T_FILE_SIZE));		\
} while (0)

/* Pending signals: for a thread of the image or the process, in order. */
static void pending_signals(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct spice_image_signal *s;

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 2, x->img.nr[SPICE_SECT_SIGNALS]);
	KUNIT_EXPECT_EQ(test, SPICE_IMAGE_NONE, x->img.signals[1].thread);
	s = body(x, S_SIG);
	/* The same standard signal in two queues; a real-time one twice. */
	EXPECT_CHECK(test, x, 0, set_signal(x, 1, SPICE_IMAGE_NONE, SIGUSR1));
	EXPECT_CHECK(test, x, 0, { set_signal(x, 0, 0, 64);
				     set_signal(x, 1, 0, 64); });
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 1, 0, SIGUSR1));
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 0, 1, SIGUSR1));
	EXPECT_CHECK(test, x, -EINVAL, { set_signal(x, 0, SPICE_IMAGE_NONE, 1);
					   set_signal(x, 1, 0, 2); });
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 0, 0, SIGKILL));
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 0, 0, SIGSTOP));
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 0, 0, 0));
	EXPECT_CHECK(test, x, -EINVAL, set_signal(x, 0, 0, 65));
	EXPECT_CHECK(test, x, -EINVAL, s[1].info[48] = 1);
	EXPECT_CHECK(test, x, -EINVAL, s[1].info[127] = 1);
	EXPECT_CHECK(test, x, -EINVAL, s[0].reserved = 1);
}

/* POSIX timers: ids in order, clocks with timers, whom they signal. */
static void posix_timers(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct spice_image_posix_timer *t;

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 5, x->img.posix_timers[1].id);
	t = body(x, S_TIMERS);
	EXPECT_CHECK(test, x, 0, t[0].signo = 64);	/* kept, never sent */
	EXPECT_CHECK(test, x, 0, { t[0].notify = SIGEV_SIGNAL; t[0].signo = 1; });
	EXPECT_CHECK(test, x, 0, t[0].clock = CLOCK_TAI);
	EXPECT_CHECK(test, x, 0, t[0].clock = CLOCK_REALTIME_ALARM);
	EXPECT_CHECK(test, x, -EINVAL, t[1].id = 0);
	EXPECT_CHECK(test, x, -EINVAL, t[0].id = -1);
	EXPECT_CHECK(test, x, -EINVAL, t[0].clock = CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_CHECK(test, x, -EINVAL, t[0].clock = CLOCK_MONOTONIC_RAW);
	EXPECT_CHECK(test, x, 0, { t[0].notify = SIGEV_THREAD; t[0].signo = 2; });
	EXPECT_CHECK(test, x, -EINVAL, t[0].notify = SIGEV_THREAD);	/* signal 0 */
	EXPECT_CHECK(test, x, -EINVAL, t[0].notify = 3);
	EXPECT_CHECK(test, x, -EINVAL, t[0].notify = SIGEV_SIGNAL);	/* signal 0 */
	EXPECT_CHECK(test, x, -EINVAL, t[0].signo = 65);
	EXPECT_CHECK(test, x, -EINVAL, t[0].thread = 0);
	EXPECT_CHECK(test, x, -EINVAL, t[1].thread = 1);
	EXPECT_CHECK(test, x, -EINVAL, t[1].thread = SPICE_IMAGE_NONE);
	EXPECT_CHECK(test, x, -EINVAL, t[1].interval_ns = (u64)KTIME_MAX + 1);
	EXPECT_CHECK(test, x, -EINVAL, t[1].reserved = 1);
}

/* Process, thread and VMA attributes, resource limits, interval timers. */
static void attributes(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct spice_image_itimer *it;
	struct spice_image_process *p;
	struct spice_image_thread *t;
	struct spice_image_rlimit *r;
	struct spice_image_vma *v;

	image_init(x);
	p = body(x, S_PROC);
	p->flags = SPICE_PROC_NO_NEW_PRIVS | SPICE_PROC_CHILD_SUBREAPER |
		   SPICE_PROC_THP_DISABLE | SPICE_PROC_MDWE_REFUSE_EXEC_GAIN |
		   SPICE_PROC_MDWE_NO_INHERIT;
	p->oom_score_adj = -1000;
	t = body(x, S_THREADS);
	t->pdeath_signal = 64;
	t->timer_slack_ns = 1;
	r = body(x, S_RLIM);
	r[RLIMIT_NOFILE] = (struct spice_image_rlimit) { 1024, 4096 };
	r[RLIMIT_AS] = (struct spice_image_rlimit) { ~0ULL, ~0ULL };
	reseal(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 4096, x->img.rlimits[RLIMIT_NOFILE].max);

	p->flags = SPICE_PROC_MDWE_NO_INHERIT;	/* without REFUSE_EXEC_GAIN */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	p->flags = 0;
	p->oom_score_adj = 1001;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	p->oom_score_adj = 0;
	t->pdeath_signal = 65;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->pdeath_signal = 0;
	t->reserved = 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->reserved = 0;
	/* Scheduling: each policy with its priority, nice in range. */
	t->sched_policy = SCHED_FIFO | SCHED_RESET_ON_FORK;
	t->sched_priority = 99;
	t->nice = -20;
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	t->sched_priority = 100;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->sched_priority = 0;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->sched_policy = SCHED_IDLE;
	t->nice = 19;
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	t->nice = 20;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->nice = 0;
	t->sched_priority = 1;		/* not with a fair policy */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->sched_priority = 0;
	t->sched_policy = SCHED_DEADLINE;	/* needs admission: not kept */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->sched_policy = SCHED_BATCH | 0x100;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	t->sched_policy = 0;
	r[RLIMIT_STACK] = (struct spice_image_rlimit) { 2, 1 };	/* soft > hard */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));

	image_init(x);
	it = body(x, S_ITIM);
	it[ITIMER_REAL] = (struct spice_image_itimer) { KTIME_MAX, KTIME_MAX };
	it[ITIMER_PROF] = (struct spice_image_itimer) { 0, 1 };
	reseal(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 1, x->img.itimers[ITIMER_PROF].interval_ns);
	it[ITIMER_VIRTUAL].value_ns = (u64)KTIME_MAX + 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	it[ITIMER_VIRTUAL] = (struct spice_image_itimer) { 1, (u64)KTIME_MAX + 1 };
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	sect(x, S_ITIM)->nr_entries = 2;
	sect(x, S_ITIM)->size = 2 * sizeof(*it);
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));

	image_init(x);
	v = body(x, S_VMAS);
	v->flags = SPICE_VMA_LOCKED | SPICE_VMA_LOCKONFAULT | SPICE_VMA_DONTFORK |
		   SPICE_VMA_WIPEONFORK | SPICE_VMA_DONTDUMP | SPICE_VMA_NOHUGEPAGE |
		   SPICE_VMA_RANDOM;
	reseal(x);
	KUNIT_EXPECT_EQ(test, 0, check(x, T_FILE_SIZE));
	v->flags = SPICE_VMA_LOCKONFAULT;		/* without LOCKED */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	v->flags = SPICE_VMA_WIPEONFORK | SPICE_VMA_SHARED;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	v->flags = SPICE_VMA_MAYWRITE | SPICE_VMA_SHARED;	/* not a file */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	v->flags = BIT(21);				/* unknown */
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));

	image_init(x);
	sect(x, S_RLIM)->nr_entries = SPICE_IMAGE_NR_RLIMITS - 1;
	sect(x, S_RLIM)->size -= sizeof(*r);
	reseal(x);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(x, T_FILE_SIZE));
	image_init(x);
	sect(x, S_RLIM)->nr_entries = SPICE_IMAGE_NR_RLIMITS + 1;
	reseal(x);
	KUNIT_EXPECT_EQ(test, -E2BIG, check(x, T_FILE_SIZE));
}

/* Expect @err from the image after @mutate changed one field. */
#define EXPECT_FD_CHECK(test, image, err, mutate) do {			\
	struct test_image *__x = (image);				\
	struct spice_image_epoll_watch *w;				\
	struct spice_image_fd *d;					\
									\
	image_init(__x);						\
	d = body(__x, S_FDS);						\
	w = body(__x, S_EPOLL);						\
	mutate;								\
	reseal(__x);							\
	KUNIT_EXPECT_EQ(test, err, check(__x, T_FILE_SIZE));		\
} while (0)

static void event_fds(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 2, x->img.nr[SPICE_SECT_EPOLL]);
	KUNIT_EXPECT_PTR_EQ(test, &x->img.fds[1], spice_image_find_fd(&x->img, 4));
	KUNIT_EXPECT_NULL(test, spice_image_find_fd(&x->img, 6));
	KUNIT_EXPECT_NULL(test, spice_image_find_fd(&x->img, 9));
	KUNIT_EXPECT_NULL(test, spice_image_find_fd(&x->img, 0));

	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].type_flags = 2);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[1].type_flags = SPICE_EVENTFD_SEMAPHORE);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].open_flags |= O_APPEND);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].open_flags = O_RDONLY);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].file = 0);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[1].pos = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[1].type = 8);
	EXPECT_FD_CHECK(test, x, 0, d[0].pos = U64_MAX);
	/* fd 5 a dup of the eventfd on fd 3: the same fields, the first's. */
	EXPECT_FD_CHECK(test, x, 0, d[2] = d[0]; d[2].fd = 5; d[2].shares = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[2] = d[0]; d[2].fd = 5;
			d[2].shares = 1; d[2].pos = 6);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[2] = d[0]; d[2].fd = 5;
			d[2].shares = 3);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].shares = 2);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[2].shares = 2);	/* an epoll fd */
	/* A signalfd: its mask in @pos, never SIGKILL or SIGSTOP. */
	EXPECT_FD_CHECK(test, x, 0, d[0].type = SPICE_FD_SIGNALFD;
			d[0].type_flags = 0; d[0].pos = BIT_ULL(SIGUSR2 - 1));
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].type = SPICE_FD_SIGNALFD;
			d[0].type_flags = 0; d[0].pos = BIT_ULL(SIGKILL - 1));
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].type = SPICE_FD_SIGNALFD;
			d[0].type_flags = 0; d[0].pos = BIT_ULL(SIGSTOP - 1));
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].type = SPICE_FD_SIGNALFD;
			d[0].type_flags = SPICE_EVENTFD_SEMAPHORE);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].type = SPICE_FD_SIGNALFD;
			d[0].type_flags = 0; d[0].open_flags = O_WRONLY);

	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].epfd = 3);	/* an eventfd */
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].epfd = 6);	/* no such fd */
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].tfd = 4);	/* itself */
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].tfd = 6);
	EXPECT_FD_CHECK(test, x, -EINVAL, w[1].tfd = 3);	/* twice */
	EXPECT_FD_CHECK(test, x, -EINVAL, swap(w[0], w[1]));	/* unsorted */
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].reserved = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].events |= 0x800);
	EXPECT_FD_CHECK(test, x, -EINVAL, w[0].events |= BIT(28) | 2);
	EXPECT_FD_CHECK(test, x, 0, w[0].events |= BIT(28) | BIT(31));
	EXPECT_FD_CHECK(test, x, 0, w[0].events = BIT(30));	/* disarmed */
}

/* Expect @err from the image after @mutate changed its locks @l. */
#define EXPECT_LOCK_CHECK(test, image, err, mutate) do {		\
	struct test_image *__x = (image);				\
	struct spice_image_lock *l;					\
	struct spice_image_fd *d;					\
									\
	image_init(__x);						\
	d = body(__x, S_FDS);						\
	l = body(__x, S_LOCKS);						\
	mutate;								\
	reseal(__x);							\
	KUNIT_EXPECT_EQ(test, err, check(__x, T_FILE_SIZE));		\
} while (0)

static void locks(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 2, x->img.nr[SPICE_SECT_LOCKS]);
	KUNIT_EXPECT_EQ(test, 99, x->img.locks[1].end);

	EXPECT_LOCK_CHECK(test, x, 0, l[1].kind = SPICE_LOCK_OFD);
	EXPECT_LOCK_CHECK(test, x, 0, l[1].end = SPICE_LOCK_EOF);
	EXPECT_LOCK_CHECK(test, x, 0, { l[1].start = 99; l[0].type = SPICE_LOCK_WRITE; });
	EXPECT_LOCK_CHECK(test, x, 0, { d[3].open_flags = O_RDONLY;
					l[1].type = SPICE_LOCK_READ; });
	/* flock() needs neither mode; fcntl() the one its lock's type names. */
	EXPECT_LOCK_CHECK(test, x, 0, { d[3].open_flags = O_WRONLY; l[1].kind = SPICE_LOCK_OFD; });
	EXPECT_LOCK_CHECK(test, x, -EINVAL, d[3].open_flags = O_RDONLY);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, { d[3].open_flags = O_WRONLY;
					      l[1].type = SPICE_LOCK_READ; });
	EXPECT_LOCK_CHECK(test, x, -EINVAL, d[3].open_flags |= O_PATH);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, { d[3].open_flags = O_ACCMODE; l[1].kind = 0; });
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1] = l[0]);	/* two flock locks */
	EXPECT_LOCK_CHECK(test, x, -EINVAL, swap(l[0], l[1]));	/* flock not first */
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].fd = 3);	/* an eventfd */
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].fd = 6);	/* no such fd */
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[0].fd = 8);	/* unsorted */
	/* fd 7 shares fd 5's open file: its locks are fd 5's. */
	EXPECT_LOCK_CHECK(test, x, 0, { d[2] = d[3]; d[2].fd = 5; d[3].shares = 3;
					l[0].fd = 5; l[1].fd = 5; });
	EXPECT_LOCK_CHECK(test, x, -EINVAL, { d[2] = d[3]; d[2].fd = 5;
					      d[3].shares = 3; });
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[0].kind = 0);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].kind = 4);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].type = 2);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].reserved = 1);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].start = 100);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[1].end = SPICE_LOCK_EOF + 1);
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[0].end = 99);	/* flock: all */
	EXPECT_LOCK_CHECK(test, x, -EINVAL, l[0].start = 1);
}

static void pidfds(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	const struct spice_image_fd pidfd = {
		.fd = 3, .type = SPICE_FD_PIDFD, .file = SPICE_IMAGE_NONE,
		.open_flags = O_RDWR,
	};

	/* Of the process, of its thread 0 (the only one), non-blocking. */
	EXPECT_FD_CHECK(test, x, 0, d[0] = pidfd);
	EXPECT_FD_CHECK(test, x, 0, { d[0] = pidfd; d[0].open_flags |= O_EXCL; });
	EXPECT_FD_CHECK(test, x, 0, { d[0] = pidfd; d[0].open_flags |= O_NONBLOCK; });
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[0] = pidfd; d[0].open_flags |= O_EXCL;
					    d[0].object = 1; });	/* no thread 1 */
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[0] = pidfd; d[0].object = 1; });
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[0] = pidfd; d[0].open_flags = O_RDONLY; });
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[0] = pidfd; d[0].pos = 1; });
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[0] = pidfd; d[0].file = 0; });
}

static void timerfds(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct spice_image_timerfd *t;

	image_init(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_PTR_EQ(test, &x->img.timerfds[0],
			    spice_image_find_timerfd(&x->img, 8));
	KUNIT_EXPECT_NULL(test, spice_image_find_timerfd(&x->img, 7));
	t = body(x, S_TIMERFDS);
	EXPECT_FD_CHECK(test, x, 0, t->flags |= SPICE_TIMERFD_CANCEL_ON_SET);
	EXPECT_FD_CHECK(test, x, 0, { t->clock = CLOCK_BOOTTIME_ALARM; t->flags = 0; });
	EXPECT_FD_CHECK(test, x, 0, t->value_ns = 0);	/* disarmed */
	EXPECT_FD_CHECK(test, x, -EINVAL, t->clock = CLOCK_TAI);
	EXPECT_FD_CHECK(test, x, -EINVAL, t->clock = CLOCK_PROCESS_CPUTIME_ID);
	/* As timerfd_settime() keeps them, meaningful or not. */
	EXPECT_FD_CHECK(test, x, 0, t->flags = SPICE_TIMERFD_CANCEL_ON_SET);
	EXPECT_FD_CHECK(test, x, 0, { t->clock = CLOCK_MONOTONIC;
				      t->flags |= SPICE_TIMERFD_CANCEL_ON_SET; });
	EXPECT_FD_CHECK(test, x, -EINVAL, t->flags = 4);
	EXPECT_FD_CHECK(test, x, -EINVAL, t->reserved = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, t->interval_ns = (u64)KTIME_MAX + 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, t->fd = 3);	/* an eventfd */
	EXPECT_FD_CHECK(test, x, -EINVAL, d[4].pos = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[4].open_flags = O_RDONLY);
	/* A timerfd without its timer, or two timers for one. */
	EXPECT_FD_CHECK(test, x, -EINVAL, { d[2] = d[4]; d[2].fd = 5; });
	EXPECT_FD_CHECK(test, x, -EINVAL, d[4].type = SPICE_FD_EVENTFD);
}

/* fd 5 becomes a TCP socket listening on 127.0.0.1:8080, @s its entry. */
static struct spice_image_socket *add_socket(struct test_image *x)
{
	struct spice_image_fd *d = body(x, S_FDS);
	struct spice_image_socket *s;
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(8080),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	sect(x, S_SOCKETS)->nr_entries = 1;
	sect(x, S_SOCKETS)->size = sizeof(*s);
	d[2] = (struct spice_image_fd) {
		.fd = 5, .type = SPICE_FD_SOCKET, .file = SPICE_IMAGE_NONE,
		.open_flags = O_RDWR | O_NONBLOCK,
	};
	s = body(x, S_SOCKETS);
	*s = (struct spice_image_socket) {
		.fd = 5, .family = AF_INET, .state = SPICE_SOCKET_LISTENING,
		.type = SOCK_STREAM, .protocol = IPPROTO_TCP, .backlog = 511,
		.options = SPICE_SOCKOPT_REUSEADDR | SPICE_SOCKOPT_TCP_NODELAY,
		.tcp_fastopen = 16, .addr_len = sizeof(sin), .bind_dev = "lo",
	};
	memcpy(s->addr, &sin, sizeof(sin));
	return s;
}

/* Expect @err from the image after @mutate changed its socket @s. */
#define EXPECT_SOCKET_CHECK(test, image, err, mutate) do {		\
	struct test_image *__x = (image);				\
	struct spice_image_socket *s;					\
	struct spice_image_fd *d;					\
									\
	image_init(__x);						\
	s = add_socket(__x);						\
	d = body(__x, S_FDS);						\
	mutate;								\
	reseal(__x);							\
	KUNIT_EXPECT_EQ(test, err, check(__x, T_FILE_SIZE));		\
} while (0)

static void sockets(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	static const char path[] = "/run/fn.sock";
	static const char abstract[] = "\0fn";

	image_init(x);
	add_socket(x);
	KUNIT_ASSERT_LE(test, sect(x, S_SOCKETS)->offset + 2 * sizeof(struct spice_image_socket),
			T_META);
	reseal(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_PTR_EQ(test, &x->img.sockets[0],
			    spice_image_find_socket(&x->img, 5));
	KUNIT_EXPECT_NULL(test, spice_image_find_socket(&x->img, 3));

	/* The other states, families and kinds. */
	EXPECT_SOCKET_CHECK(test, x, 0, { s->state = SPICE_SOCKET_BOUND; s->backlog = 0; });
	EXPECT_SOCKET_CHECK(test, x, 0, { s->state = SPICE_SOCKET_RESET; s->backlog = 0;
					  s->addr_len = 0; memset(s->addr, 0, 16); });
	EXPECT_SOCKET_CHECK(test, x, 0, { s->family = AF_INET6; s->addr[0] = AF_INET6;
					  s->addr_len = 28;
					  s->options |= SPICE_SOCKOPT_V6ONLY; });
	EXPECT_SOCKET_CHECK(test, x, 0, { s->family = AF_UNIX; s->protocol = 0;
					  s->options = 0; s->tcp_fastopen = 0;
					  memset(s->bind_dev, 0, 16);
					  memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
					  memcpy(s->addr + 2, path, sizeof(path));
					  s->addr_len = 2 + sizeof(path); });
	EXPECT_SOCKET_CHECK(test, x, 0, { s->family = AF_UNIX; s->protocol = 0;
					  s->type = SOCK_SEQPACKET;
					  s->options = SPICE_SOCKOPT_PASSCRED;
					  s->tcp_fastopen = 0; memset(s->bind_dev, 0, 16);
					  memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
					  memcpy(s->addr + 2, abstract, 3);
					  s->addr_len = 5; });
	/* A relative path, one without its NUL, or with bytes past it. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->family = AF_UNIX; s->protocol = 0;
						s->options = 0; s->tcp_fastopen = 0;
						memset(s->bind_dev, 0, 16);
						memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
						memcpy(s->addr + 2, path + 1, sizeof(path) - 1);
						s->addr_len = 1 + sizeof(path); });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->family = AF_UNIX; s->protocol = 0;
						s->options = 0; s->tcp_fastopen = 0;
						memset(s->bind_dev, 0, 16);
						memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
						memcpy(s->addr + 2, path, sizeof(path) - 1);
						s->addr_len = 1 + sizeof(path); });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->addr[20] = 1);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->addr_len = 15);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->addr[0] = AF_INET6);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->addr_len = SPICE_SOCKET_ADDR_MAX + 1);
	/* Kinds socket(2) would not make, or Spice does not restore. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->protocol = IPPROTO_UDP);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->type = SOCK_RAW);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->family = AF_NETLINK);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->state = SPICE_SOCKET_RESET + 1);
	/* Options of another family or protocol. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->options |= SPICE_SOCKOPT_V6ONLY);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->options |= SPICE_SOCKOPT_PASSCRED);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->options |= SPICE_SOCKOPT_RCVBUFFORCE);
	EXPECT_SOCKET_CHECK(test, x, 0, { s->options |= SPICE_SOCKOPT_SNDBUFFORCE;
					  s->sndbuf = INT_MAX / 2; });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->sndbuf = INT_MAX / 2 + 1);
	/* Unbound, reset: no address, no backlog; a one-byte abstract name. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->state = SPICE_SOCKET_UNBOUND;
						s->backlog = 0; });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->state = SPICE_SOCKET_RESET;
						s->addr_len = 0; memset(s->addr, 0, 16); });
	EXPECT_SOCKET_CHECK(test, x, 0, { s->family = AF_UNIX; s->protocol = 0;
					  s->options = 0; s->tcp_fastopen = 0;
					  memset(s->bind_dev, 0, 16);
					  memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
					  s->addr_len = 3; });
	/* Options of the inet families or of TCP on AF_UNIX or UDP. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->family = AF_UNIX; s->protocol = 0;
						s->tcp_fastopen = 0;
						s->options = SPICE_SOCKOPT_REUSEPORT;
						memset(s->bind_dev, 0, 16);
						memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
						s->addr_len = 3; });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->family = AF_UNIX; s->protocol = 0;
						s->tcp_fastopen = 0; s->options = 0;
						memset(s->addr, 0, 16); s->addr[0] = AF_UNIX;
						s->addr_len = 3; });	/* bind_dev */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->type = SOCK_DGRAM;
						s->protocol = IPPROTO_UDP;
						s->state = SPICE_SOCKET_BOUND; s->backlog = 0;
						s->options = 0; s->tcp_fastopen = 0;
						s->tcp_keepcnt = 3; });
	/* Entries out of order or one more than the sockets. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { sect(__x, S_SOCKETS)->nr_entries = 2;
						sect(__x, S_SOCKETS)->size = 2 * sizeof(*s);
						s[1] = s[0]; });
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->options |= SPICE_SOCKOPTS + 1);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->linger = 1);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->rcvbuf = INT_MAX / 2 + 1);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, memset(s->bind_dev, 'x', 16));
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->bind_dev[5] = 'x');
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { s->type = SOCK_DGRAM;
						s->protocol = IPPROTO_UDP;
						s->state = SPICE_SOCKET_BOUND;
						s->backlog = 0; });
	/* A backlog only on a listening stream socket. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->state = SPICE_SOCKET_BOUND);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->backlog = (u32)INT_MAX + 1);
	/* A socket fd without its entry, an entry on another fd, flags. */
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, s->fd = 3);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, d[2].type = SPICE_FD_SUPPLIED);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, d[2].pos = 1);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, d[2].open_flags = O_RDONLY);
	EXPECT_SOCKET_CHECK(test, x, -EINVAL, { d[0] = d[2]; d[0].fd = 3; });
	/* A dup of it (fd 8, no timerfd now) shares its entry. */
	EXPECT_SOCKET_CHECK(test, x, 0, { d[4] = d[2]; d[4].fd = 8; d[4].shares = 3;
					  sect(__x, S_TIMERFDS)->nr_entries = 0;
					  sect(__x, S_TIMERFDS)->size = 0; });
}

/*
 * File 0 ("/tmp") made anew as an unlinked file of 5000 bytes, its first
 * page the data page the VMA's interval stores too.
 */
static void add_made_file(struct test_image *x)
{
	struct spice_image_file *f = body(x, S_FILES);
	u64 off = sect(x, S_SOCKETS)->offset;

	f->flags = SPICE_FILE_MADE;
	f->size = 5000;
	add_sect(x, S_MADE, SPICE_SECT_MADE_FILES,
		 sizeof(struct spice_image_made_file), off, 1);
	add_sect(x, S_EXTENTS, SPICE_SECT_FILE_DATA,
		 sizeof(struct spice_image_file_extent), off + 16, 1);
	*(struct spice_image_made_file *)body(x, S_MADE) = (struct spice_image_made_file) {
		.file = 0, .kind = SPICE_MADE_UNLINKED,
	};
	*(struct spice_image_file_extent *)body(x, S_EXTENTS) =
		(struct spice_image_file_extent) { .len = 4096, .offset = 4096 };
}

#define EXPECT_MADE_CHECK(test, image, err, mutate) do {		\
	struct test_image *__x = (image);				\
	struct spice_image_file_extent *e;				\
	struct spice_image_made_file *m;				\
	struct spice_image_file *f;					\
									\
	image_init(__x);						\
	add_made_file(__x);						\
	f = body(__x, S_FILES);						\
	m = body(__x, S_MADE);						\
	e = body(__x, S_EXTENTS);					\
	mutate;								\
	reseal(__x);							\
	KUNIT_EXPECT_EQ(test, err, check(__x, T_FILE_SIZE));		\
} while (0)

static void made_files(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	const char *name;
	u32 len;

	image_init(x);
	add_made_file(x);
	KUNIT_ASSERT_LE(test, sect(x, S_EXTENTS)->offset + 32, T_META);
	reseal(x);
	KUNIT_ASSERT_EQ(test, 0, check(x, T_FILE_SIZE));
	KUNIT_EXPECT_EQ(test, 1, x->img.nr[SPICE_SECT_FILE_DATA]);
	name = spice_image_made_name(&x->img, x->img.files, SPICE_MADE_UNLINKED, &len);
	KUNIT_ASSERT_NOT_NULL(test, name);
	KUNIT_EXPECT_EQ(test, 3, len);
	KUNIT_EXPECT_EQ(test, 0, memcmp("tmp", name, 3));
	/* "/tmp" names no memfd. */
	KUNIT_EXPECT_NULL(test, spice_image_made_name(&x->img, x->img.files,
						      SPICE_MADE_MEMFD, &len));

	/* A hole: no extent, or a size past the last one. */
	EXPECT_MADE_CHECK(test, x, 0, { sect(__x, S_EXTENTS)->nr_entries = 0;
					sect(__x, S_EXTENTS)->size = 0; });
	EXPECT_MADE_CHECK(test, x, 0, f->size = 1 << 20);
	EXPECT_MADE_CHECK(test, x, 0, e->pos = 4096);	/* in the last page */
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->pos = 8192);	/* past it */
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->size = 0);
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->len = 0);
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->pos = 1);
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->offset = 4097);
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->offset = 8192);	/* past the data */
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->offset = 0);	/* in the metadata */
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->len = ~0ULL << 12);	/* wraps */
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->reserved = 1);
	EXPECT_MADE_CHECK(test, x, -EINVAL, e->file = 1);	/* no file 1 */
	/* The file's flags, type and fields. */
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->flags |= SPICE_FILE_HAS_SHA256);
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->mode = S_IFDIR | 0755);
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->mode |= 0200000);	/* past 07777 */
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->generation = 1);
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->size = 1ULL << 63);
	/* One entry per made file, of a kind it can be made as. */
	EXPECT_MADE_CHECK(test, x, -EINVAL, f->flags = 0);
	EXPECT_MADE_CHECK(test, x, -EINVAL, { sect(__x, S_MADE)->nr_entries = 0;
					      sect(__x, S_MADE)->size = 0; });
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->file = 1);
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->kind = SPICE_MADE_MEMFD);
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->kind = 0);
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->kind = 3);
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->seals = 1);	/* not a memfd */
	EXPECT_MADE_CHECK(test, x, -EINVAL, m->reserved = 1);
	/* Still a regular file to fds and locks. */
	EXPECT_MADE_CHECK(test, x, 0, f->mode = S_IFREG);
}

/* fds 3 and 5 become the read and write ends of one pipe, or a pair. */
static void make_channel(struct spice_image_fd *d, u32 type, u32 kind)
{
	bool pipe = type == SPICE_FD_PIPE;

	d[0] = (struct spice_image_fd) {
		.fd = 3, .type = type, .file = SPICE_IMAGE_NONE,
		.open_flags = pipe ? O_RDONLY : O_RDWR, .type_flags = kind,
	};
	d[2] = (struct spice_image_fd) {
		.fd = 5, .type = type, .file = SPICE_IMAGE_NONE,
		.open_flags = (pipe ? O_WRONLY : O_RDWR) | O_NONBLOCK,
		.type_flags = kind | SPICE_FD_SECOND_END,
	};
}

#define PIPE(d)		make_channel(d, SPICE_FD_PIPE, 0)
#define STREAM(d)	make_channel(d, SPICE_FD_SOCKETPAIR, SPICE_SOCKETPAIR_STREAM)

static void channel_fds(struct kunit *test)
{
	struct test_image *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	EXPECT_FD_CHECK(test, x, 0, PIPE(d));
	EXPECT_FD_CHECK(test, x, 0, STREAM(d));
	EXPECT_FD_CHECK(test, x, 0,
			make_channel(d, SPICE_FD_SOCKETPAIR, SPICE_SOCKETPAIR_SEQPACKET));
	EXPECT_FD_CHECK(test, x, 0, PIPE(d); d[2].open_flags |= O_DIRECT);
	/* A pipe of which only the write end is left: its own object. */
	EXPECT_FD_CHECK(test, x, 0, PIPE(d); d[2].object = 2);

	/* The object: the first fd of the same kind, not after the fd. */
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[2].object = 1);	/* epoll */
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].object = 2);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].object = 3);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[2].type = SPICE_FD_SOCKETPAIR;
			d[2].type_flags |= SPICE_SOCKETPAIR_STREAM;
			d[2].open_flags = O_RDWR);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d);
			d[2].type_flags ^= SPICE_SOCKETPAIR_STREAM | SPICE_SOCKETPAIR_DGRAM);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[1].object = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].object = 0xffffffff);

	/* Each end's open flags, type flags and unused fields. */
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].open_flags = O_WRONLY);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[2].open_flags = O_RDWR);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].open_flags |= O_APPEND);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].open_flags |= O_DIRECT);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].open_flags = O_RDONLY);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].type_flags = SPICE_SOCKETPAIR_STREAM);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].type_flags = 1U << 4);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].type_flags = 0);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].type_flags = SPICE_SOCKETPAIR_TYPES);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].type_flags |= 1U << 4);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].pos = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].file = 0);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].shares = 1);

	/* What a pipe held: on its first fd only, inside the 4 bytes of blobs. */
	EXPECT_FD_CHECK(test, x, 0, PIPE(d); d[0].data.len = 4);
	EXPECT_FD_CHECK(test, x, 0, PIPE(d); d[0].data.offset = 3; d[0].data.len = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].data.offset = 3; d[0].data.len = 2);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].data.offset = U32_MAX;
			d[0].data.len = 2);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[0].data.offset = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, PIPE(d); d[2].data.len = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, STREAM(d); d[0].data.len = 1);
	EXPECT_FD_CHECK(test, x, -EINVAL, d[0].data.len = 1);	/* an eventfd */
}

static struct kunit_case spice_image_cases[] = {
	KUNIT_CASE(valid_image),
	KUNIT_CASE(not_an_image),
	KUNIT_CASE(header),
	KUNIT_CASE(sections),
	KUNIT_CASE(tables),
	KUNIT_CASE(event_fds),
	KUNIT_CASE(channel_fds),
	KUNIT_CASE(attributes),
	KUNIT_CASE(pending_signals),
	KUNIT_CASE(posix_timers),
	KUNIT_CASE(locks),
	KUNIT_CASE(timerfds),
	KUNIT_CASE(sockets),
	KUNIT_CASE(pidfds),
	KUNIT_CASE(made_files),
	{}
};

static struct kunit_suite spice_image_suite = {
	.name = "spice-image",
	.test_cases = spice_image_cases,
};

kunit_test_suite(spice_image_suite);

MODULE_DESCRIPTION("KUnit tests of the Spice image checks");
MODULE_LICENSE("GPL");
