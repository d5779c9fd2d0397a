// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libspice host tests of the image writer and reader: a round trip that
 * checks where every page went, then one test per reader check, each
 * breaking a valid image in one field (checksum recomputed, so that the
 * check itself is what rejects it).  Prints TAP.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "image_fixture.h"

static int n, failed;
static struct fixture fx;
static unsigned char *file;
static size_t file_len;

static void check(int ok, const char *what)
{
	printf("%sok %d libspice image: %s\n", ok ? "" : "not ", ++n, what);
	failed |= !ok;
}

static struct spice_image_header *hdr(unsigned char *buf)
{
	return (struct spice_image_header *)buf;
}

static uint32_t crc32c_without_field(const unsigned char *buf, size_t len)
{
	unsigned char *copy = malloc(len);
	uint32_t crc;

	memcpy(copy, buf, len);
	((struct spice_image_header *)copy)->metadata_csum = 0;
	crc = fx_crc32c(copy, len);
	free(copy);
	return crc;
}

/* A valid checksum over the original metadata, whatever was changed. */
static void reseal(unsigned char *buf, size_t meta_len)
{
	hdr(buf)->metadata_csum = 0;
	hdr(buf)->metadata_csum = fx_crc32c(buf, meta_len);
}

static struct spice_image_section *section(unsigned char *buf, uint32_t type)
{
	struct spice_image_section *s = (void *)(buf + hdr(buf)->section_table);
	uint32_t i;

	for (i = 0; i < hdr(buf)->nr_sections; i++)
		if (s[i].type == type)
			return &s[i];
	return NULL;
}

static void *entry(unsigned char *buf, uint32_t type, uint64_t i)
{
	struct spice_image_section *s = section(buf, type);

	return buf + s->offset + i * s->entry_size;
}

static void test_round_trip(void)
{
	const struct spice_writer_stats *s = &fx.stats;
	const struct spice_image_process *p;
	const struct spice_image_header *h;
	const struct spice_image_thread *t;
	const struct spice_image_file *f;
	const struct spice_image_sigaction *act;
	const struct spice_image_epoll_watch *watch;
	const struct spice_image_rlimit *lim;
	const struct spice_image_itimer *it;
	const struct spice_image_signal *sig;
	const struct spice_image_posix_timer *timer;
	const struct spice_image_lock *lock;
	const struct spice_image_timerfd *tfd;
	const struct spice_image_socket *sock;
	const struct spice_image_vma *v;
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	unsigned char page[FX_PAGE], zero[FX_PAGE] = { 0 };
	uint64_t nr, i;
	int fd, ok;

	fd = open(fx.image, O_RDONLY);
	check(spice_image_open(fd, &img, why) == 0, "the writer's image passes every check");
	if (!img) {
		printf("# %s\n", why);
		return;
	}
	h = spice_image_header(img);
	check(s->pages_given == 9 && s->pages_zero == 2 && s->pages_file == 2 &&
	      s->pages_dedup == 1 && s->pages_stored == 4,
	      "pages classified: 2 zero, 2 same as the file, 1 repeated, 4 stored");
	check(h->data_size == 4 * FX_PAGE && h->ws_data_size == 3 * FX_PAGE &&
	      s->ws_pages == 3 && s->ws_data_pages == 3,
	      "4 data pages, the first 3 for the working set");
	check(h->data_offset % FX_PAGE == 0 && h->data_offset >= h->metadata_size &&
	      s->file_size == h->data_offset + h->data_size,
	      "data area page-aligned after the metadata, file ends with it");

	/* The working set's data comes first, in its order: B, file page 1, A. */
	ok = pread(fd, page, FX_PAGE, h->data_offset) == FX_PAGE &&
	     !memcmp(page, fx.anon[2], FX_PAGE);
	ok &= pread(fd, page, FX_PAGE, h->data_offset + FX_PAGE) == FX_PAGE &&
	      !memcmp(page, fx.mapped[1], FX_PAGE);
	ok &= pread(fd, page, FX_PAGE, h->data_offset + 2 * FX_PAGE) == FX_PAGE &&
	      !memcmp(page, fx.anon[1], FX_PAGE);
	check(ok, "working-set data first and in first-touch order");

	ok = 1;
	for (i = 0; i < 8; i++)
		ok &= !fx_page_at(&fx, img, fd, FX_ANON + i * FX_PAGE, page) &&
		      !memcmp(page, i < 5 ? fx.anon[i] : zero, FX_PAGE);
	for (i = 0; i < 4; i++)
		ok &= !fx_page_at(&fx, img, fd, FX_FILE + i * FX_PAGE, page) &&
		      !memcmp(page, fx.mapped[i], FX_PAGE);
	check(ok, "every page reads back as the process held it");

	spice_image_table(img, SPICE_SECT_INTERVALS, &nr);
	/*
	 * Data order B, file 1, A, C: anon pages 1-4 sit at places 2, 0, 2
	 * (A stored once), 3, so the last two merge: 3 runs; file: 2.
	 */
	check(nr == 5, "intervals merge only contiguous runs of one source");

	p = spice_image_process(img);
	check(!strcmp(p->comm, "fixture") && p->pid == 42 && p->umask == 022 &&
	      p->cwd.len == 4 && !memcmp(spice_image_blob(img, p->cwd), "/tmp", 4) &&
	      p->auxv.len == 32 && p->flags == FX_PROC_FLAGS &&
	      p->oom_score_adj == FX_OOM_SCORE_ADJ,
	      "process state, flags, oom_score_adj, cwd and auxv survive");
	t = spice_image_table(img, SPICE_SECT_THREADS, &nr);
	check(nr == 2 && t[0].tid == 42 && t[1].tid == 43 &&
	      t[0].xstate.len == 64 &&
	      ((const unsigned char *)spice_image_blob(img, t[0].xstate))[63] == 0x5a &&
	      t[1].xstate.len == 0, "threads and their xstate survive");
	check(t[0].timer_slack_ns == FX_TIMER_SLACK &&
	      t[1].pdeath_signal == FX_PDEATH_SIGNAL,
	      "timer slack and parent-death signal survive");
	check(t[1].sched_policy == FX_SCHED_POLICY && t[1].nice == FX_NICE &&
	      !t[1].sched_priority, "scheduling policy and nice value survive");
	lim = spice_image_table(img, SPICE_SECT_RLIMITS, &nr);
	check(nr == SPICE_IMAGE_NR_RLIMITS && !memcmp(lim, fx.rlim, sizeof(fx.rlim)),
	      "resource limits survive");
	it = spice_image_table(img, SPICE_SECT_ITIMERS, &nr);
	check(nr == SPICE_IMAGE_NR_ITIMERS &&
	      !memcmp(it, fx.itimers, sizeof(fx.itimers)),
	      "interval timers survive");
	sig = spice_image_table(img, SPICE_SECT_SIGNALS, &nr);
	check(nr == 4 && !memcmp(sig, fx.signals, sizeof(fx.signals)),
	      "pending signals survive, in order");
	timer = spice_image_table(img, SPICE_SECT_POSIX_TIMERS, &nr);
	check(nr == 2 && !memcmp(timer, fx.timers, sizeof(fx.timers)),
	      "POSIX timers survive");
	lock = spice_image_table(img, SPICE_SECT_LOCKS, &nr);
	check(nr == 2 && !memcmp(lock, fx.locks, sizeof(fx.locks)),
	      "file locks survive");
	tfd = spice_image_table(img, SPICE_SECT_TIMERFDS, &nr);
	check(nr == 1 && !memcmp(tfd, &fx.timerfd, sizeof(fx.timerfd)),
	      "timerfd timers survive");
	sock = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	check(nr == 1 && !memcmp(sock, &fx.socket, sizeof(fx.socket)),
	      "sockets survive");
	f = spice_image_table(img, SPICE_SECT_FILES, &nr);
	check(nr == 1 && f->size == 4 * FX_PAGE && S_ISREG(f->mode) &&
	      f->path.len == strlen(fx.file) &&
	      !memcmp(spice_image_blob(img, f->path), fx.file, f->path.len),
	      "file identity: path, size, mode");
	act = spice_image_table(img, SPICE_SECT_SIGACTIONS, &nr);
	check(nr == 64 && act[1].handler == 0x401000, "signal actions survive");
	spice_image_table(img, SPICE_SECT_FDS, &nr);
	check(nr == 5 && spice_image_find_fd(img, 4)->pos == 5 &&
	      spice_image_find_fd(img, 4)->type_flags == SPICE_EVENTFD_SEMAPHORE &&
	      spice_image_find_fd(img, 5)->type == SPICE_FD_EPOLL &&
	      spice_image_find_fd(img, 6)->type == SPICE_FD_TIMERFD &&
	      spice_image_find_fd(img, 7)->type == SPICE_FD_SOCKET &&
	      !spice_image_find_fd(img, 8), "fd table survives");
	watch = spice_image_table(img, SPICE_SECT_EPOLL, &nr);
	check(nr == 1 && watch->epfd == 5 && watch->tfd == 4 && watch->data == 44,
	      "epoll watches survive");
	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	check(nr == 4 && v[0].flags == FX_ANON_FLAGS && !v[1].flags &&
	      v[3].flags == FX_SHARED_FLAGS && v[3].file == 0 && !v[3].nr_intervals,
	      "vma flags survive, a shared file mapping has no contents");
	spice_image_free(img);
	close(fd);
}

struct mutation {
	const char *what;
	void (*apply)(unsigned char *buf, size_t *len);
	int reseal;
	int err;
	const char *why;	/* a word the explanation must contain */
};

#define VMA(b, i) ((struct spice_image_vma *)entry(b, SPICE_SECT_VMAS, i))
#define IV(b, i) ((struct mmap_restore_interval *)entry(b, SPICE_SECT_INTERVALS, i))
#define WS(b, i) ((struct mmap_restore_ws_range *)entry(b, SPICE_SECT_WS, i))
#define THR(b, i) ((struct spice_image_thread *)entry(b, SPICE_SECT_THREADS, i))
#define PROC(b) ((struct spice_image_process *)entry(b, SPICE_SECT_PROCESS, 0))
#define FILE0(b) ((struct spice_image_file *)entry(b, SPICE_SECT_FILES, 0))
#define FD0(b) ((struct spice_image_fd *)entry(b, SPICE_SECT_FDS, 0))
#define EFD(b) ((struct spice_image_fd *)entry(b, SPICE_SECT_FDS, 1))
#define EPFD(b) ((struct spice_image_fd *)entry(b, SPICE_SECT_FDS, 2))
#define WATCH(b) ((struct spice_image_epoll_watch *)entry(b, SPICE_SECT_EPOLL, 0))
#define RLIM(b, i) ((struct spice_image_rlimit *)entry(b, SPICE_SECT_RLIMITS, i))
#define ITIMER(b, i) ((struct spice_image_itimer *)entry(b, SPICE_SECT_ITIMERS, i))
#define SIG(b, i) ((struct spice_image_signal *)entry(b, SPICE_SECT_SIGNALS, i))
#define LOCK(b, i) ((struct spice_image_lock *)entry(b, SPICE_SECT_LOCKS, i))
#define TIMERFD(b) ((struct spice_image_timerfd *)entry(b, SPICE_SECT_TIMERFDS, 0))
#define SOCK(b) ((struct spice_image_socket *)entry(b, SPICE_SECT_SOCKETS, 0))
#define TIMER(b, i) \
	((struct spice_image_posix_timer *)entry(b, SPICE_SECT_POSIX_TIMERS, i))

static void m_magic(unsigned char *b, size_t *l)
{
	(void)l;
	b[0] = 'X';
}

static void m_version(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->version = 2;
}

static void m_arch(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->arch = 183;
}

static void m_page(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->page_size = 65536;
}

static void m_incompat(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->incompat_features = 1;
}

static void m_compat(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->compat_features = 1ULL << 63;
}

static void m_reserved(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->reserved[4] = 1;
}

static void m_csum(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->umask ^= 1;
}

static void m_meta_big(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->metadata_size = 1ULL << 40;
}

static void m_no_sections(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->nr_sections = 0;
}

static void m_many_sections(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->nr_sections = SPICE_IMAGE_MAX_SECTIONS + 1;
}

static void m_truncated(unsigned char *b, size_t *l)
{
	(void)b;
	*l -= FX_PAGE;
}

static void m_data_unaligned(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->data_offset += 8;
}

static void m_ws_data(unsigned char *b, size_t *l)
{
	(void)l;
	hdr(b)->ws_data_size = hdr(b)->data_size + FX_PAGE;
}

static void m_sect_type(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_FDS)->type = 99;
}

static void m_sect_dup(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_FDS)->type = SPICE_SECT_FILES;
}

static void m_sect_esize(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_VMAS)->entry_size = 40;
}

static void m_sect_outside(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_BLOBS)->offset = hdr(b)->metadata_size;
}

static void m_sect_overlap(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_FDS)->offset = section(b, SPICE_SECT_FILES)->offset;
}

static void m_sect_size(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_VMAS)->size -= 8;
}

static void m_sect_count(unsigned char *b, size_t *l)
{
	struct spice_image_section *s = section(b, SPICE_SECT_VMAS);

	(void)l;
	s->nr_entries = SPICE_IMAGE_MAX_VMAS + 1ULL;
	s->size = s->nr_entries * s->entry_size;
}

static void m_count_overflow(unsigned char *b, size_t *l)
{
	struct spice_image_section *s = section(b, SPICE_SECT_INTERVALS);

	(void)l;
	s->nr_entries = 1ULL << 60;
	s->size = 0;
}

static void m_no_process(unsigned char *b, size_t *l)
{
	(void)l;
	section(b, SPICE_SECT_PROCESS)->nr_entries = 0;
	section(b, SPICE_SECT_PROCESS)->size = 0;
}

static void m_sigactions(unsigned char *b, size_t *l)
{
	struct spice_image_section *s = section(b, SPICE_SECT_SIGACTIONS);

	(void)l;
	s->nr_entries = 63;
	s->size = 63 * s->entry_size;
}

static void m_mm_order(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->brk = PROC(b)->start_brk - 1;
}

static void m_comm(unsigned char *b, size_t *l)
{
	(void)l;
	memset(PROC(b)->comm, 'x', 16);
}

static void m_exe(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->exe_file = 1;
}

static void m_cwd(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->cwd.offset = 1u << 30;
}

static void m_auxv_null(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->auxv.len = 16;
}

static void m_auxv_odd(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->auxv.len = 24;
}

static void m_tid(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 1)->tid = 42;
}

static void m_tid0(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->tid = 0;
}

static void m_thread_flags(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->flags = 1;
}

static void m_xstate(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->xstate.len = SPICE_IMAGE_MAX_XSTATE + 1;
}

static void m_file_rel(unsigned char *b, size_t *l)
{
	(void)l;
	((char *)b + section(b, SPICE_SECT_BLOBS)->offset + FILE0(b)->path.offset)[0] = 'x';
}

static void m_file_nul(unsigned char *b, size_t *l)
{
	(void)l;
	((char *)b + section(b, SPICE_SECT_BLOBS)->offset + FILE0(b)->path.offset)[2] = 0;
}

static void m_file_mode(unsigned char *b, size_t *l)
{
	(void)l;
	FILE0(b)->mode = S_IFIFO | 0644;
}

static void m_file_hash(unsigned char *b, size_t *l)
{
	(void)l;
	FILE0(b)->sha256[5] = 1;
}

static void m_proc_flags(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->flags |= 1U << 6;	/* above SPICE_PROC_MDWE_NO_INHERIT */
}

static void m_proc_reserved(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->reserved[0] = 1;
}

static void m_mdwe_no_inherit(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->flags |= SPICE_PROC_MDWE_NO_INHERIT;
}

static void m_oom_high(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->oom_score_adj = 2000;
}

static void m_oom_low(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->oom_score_adj = -1001;
}

static void m_thread_reserved(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->reserved = 1;
}

static void m_sched_deadline(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 1)->sched_policy = 6;	/* SCHED_DEADLINE */
}

static void m_sched_fifo_no_priority(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->sched_policy = 1 | 0x40000000;	/* FIFO, reset on fork */
}

static void m_sched_nice(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 1)->nice = -21;
}

static void m_pdeath(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 1)->pdeath_signal = 99;
}

static void m_pdeath_65(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->pdeath_signal = 65;
}

static void set_rlimits_count(unsigned char *b, uint64_t nr)
{
	struct spice_image_section *s = section(b, SPICE_SECT_RLIMITS);

	s->nr_entries = nr;
	s->size = nr * s->entry_size;
}

static void m_rlimits_3(unsigned char *b, size_t *l)
{
	(void)l;
	set_rlimits_count(b, 3);
}

static void m_rlimits_0(unsigned char *b, size_t *l)
{
	(void)l;
	set_rlimits_count(b, 0);
}

/* Over the limit: refused before its size is looked at. */
static void m_rlimits_17(unsigned char *b, size_t *l)
{
	(void)l;
	set_rlimits_count(b, 17);
}

static void m_rlimit_soft(unsigned char *b, size_t *l)
{
	(void)l;
	RLIM(b, FX_NOFILE)->cur = RLIM(b, FX_NOFILE)->max + 1;
}

static void m_rlimit_finite_hard(unsigned char *b, size_t *l)
{
	(void)l;
	RLIM(b, 0)->max = 0;	/* soft unlimited */
}

static void m_itimers_2(unsigned char *b, size_t *l)
{
	struct spice_image_section *s = section(b, SPICE_SECT_ITIMERS);

	(void)l;
	s->nr_entries = 2;
	s->size = 2 * s->entry_size;
}

static void m_itimer_value(unsigned char *b, size_t *l)
{
	(void)l;
	ITIMER(b, 1)->value_ns = (uint64_t)INT64_MAX + 1;
}

static void m_itimer_interval(unsigned char *b, size_t *l)
{
	(void)l;
	ITIMER(b, 2)->interval_ns = ~0ULL;
}

static void m_signal_thread(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 1)->thread = 2;
}

static void m_signals_unsorted(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 0)->thread = 1;
	SIG(b, 1)->thread = 0;
}

static void m_signal_kill(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 3)->info[0] = 9;
}

static void m_signal_65(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 2)->info[0] = 65;
}

static void m_signal_standard_twice(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 1)->info[0] = 12;
	SIG(b, 2)->info[0] = 12;
}

static void m_signal_tail(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 0)->info[48] = 1;
}

static void m_signal_reserved(unsigned char *b, size_t *l)
{
	(void)l;
	SIG(b, 3)->reserved = 1;
}

static void m_lock_order(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 1)->fd = 2;
}

static void m_lock_on_eventfd(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 1)->fd = 4;
}

static void m_lock_not_writable(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 1)->type = SPICE_LOCK_WRITE;
}

static void m_lock_flock_range(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 0)->start = 1;
}

static void m_lock_two_flocks(unsigned char *b, size_t *l)
{
	(void)l;
	*LOCK(b, 1) = *LOCK(b, 0);
}

static void m_lock_no_access(unsigned char *b, size_t *l)
{
	(void)l;
	FD0(b)->open_flags = O_ACCMODE;
}

static void m_lock_kind(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 1)->kind = 4;
}

static void m_lock_range(unsigned char *b, size_t *l)
{
	(void)l;
	LOCK(b, 1)->start = 100;
}

static void m_pidfd_thread(unsigned char *b, size_t *l)
{
	(void)l;
	EFD(b)->type = SPICE_FD_PIDFD;
	EFD(b)->type_flags = 0;
	EFD(b)->pos = 0;
	EFD(b)->open_flags = O_RDWR | O_EXCL;
	EFD(b)->object = 5;
}

static void m_timerfd_fd(unsigned char *b, size_t *l)
{
	(void)l;
	TIMERFD(b)->fd = 4;
}

static void m_timerfd_tai(unsigned char *b, size_t *l)
{
	(void)l;
	TIMERFD(b)->clock = CLOCK_TAI;
}

static void m_timerfd_flags(unsigned char *b, size_t *l)
{
	(void)l;
	TIMERFD(b)->flags |= 4;
}

static void m_timerfd_time(unsigned char *b, size_t *l)
{
	(void)l;
	TIMERFD(b)->value_ns = (uint64_t)INT64_MAX + 1;
}

static void m_socket_fd(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->fd = 6;
}

static void m_socket_kind(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->protocol = IPPROTO_UDP;
}

static void m_socket_addr_family(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->addr[0] = AF_INET;
}

static void m_socket_unbound_addr(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->state = SPICE_SOCKET_RESET;
	SOCK(b)->backlog = 0;
}

static void m_socket_relative_path(unsigned char *b, size_t *l)
{
	struct spice_image_socket *s = SOCK(b);

	(void)l;
	memset(s->addr, 0, sizeof(s->addr));
	s->family = AF_UNIX;
	s->protocol = 0;
	s->options = 0;
	s->linger = 0;
	s->tcp_defer_accept = 0;
	memset(s->bind_dev, 0, sizeof(s->bind_dev));
	s->addr[0] = AF_UNIX;
	memcpy(s->addr + 2, "run/s", 6);
	s->addr_len = 8;
}

static void m_socket_v6only_on_v4(unsigned char *b, size_t *l)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct spice_image_socket *s = SOCK(b);

	(void)l;
	s->family = AF_INET;
	memset(s->addr, 0, sizeof(s->addr));
	memcpy(s->addr, &sin, sizeof(sin));
	s->addr_len = sizeof(sin);
}

static void m_socket_tcp_option_on_udp(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->type = SOCK_DGRAM;
	SOCK(b)->protocol = IPPROTO_UDP;
	SOCK(b)->state = SPICE_SOCKET_BOUND;
	SOCK(b)->backlog = 0;
}

static void m_socket_dgram_listening(unsigned char *b, size_t *l)
{
	(void)l;
	SOCK(b)->type = SOCK_DGRAM;
	SOCK(b)->protocol = IPPROTO_UDP;
	SOCK(b)->tcp_defer_accept = 0;
}

static void m_socket_dev_unterminated(unsigned char *b, size_t *l)
{
	(void)l;
	memset(SOCK(b)->bind_dev, 'x', sizeof(SOCK(b)->bind_dev));
}

static void m_timer_id_order(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 1)->id = 0;
}

static void m_timer_cpu_clock(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 0)->clock = CLOCK_PROCESS_CPUTIME_ID;
}

static void m_timer_thread_none(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 1)->thread = SPICE_IMAGE_NONE;
}

static void m_timer_thread_kind(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 0)->thread = 0;
}

static void m_timer_signal_65(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 0)->notify = SIGEV_NONE;
	TIMER(b, 0)->signo = 65;
}

static void m_timer_notify(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 0)->notify = 3;
}

static void m_timer_time(unsigned char *b, size_t *l)
{
	(void)l;
	TIMER(b, 1)->interval_ns = ~0ULL;
}

static void m_fd_shares_later(unsigned char *b, size_t *l)
{
	(void)l;
	FD0(b)->shares = 2;
}

static void m_fd_shares_differs(unsigned char *b, size_t *l)
{
	(void)l;
	EFD(b)->shares = 1;
}

static void m_dir_hash(unsigned char *b, size_t *l)
{
	(void)l;
	FILE0(b)->mode = S_IFDIR | 0755;
	FILE0(b)->flags |= SPICE_FILE_HAS_SHA256;
}

static void m_fd_neg(unsigned char *b, size_t *l)
{
	(void)l;
	FD0(b)->fd = -1;
}

static void m_fd_type(unsigned char *b, size_t *l)
{
	(void)l;
	FD0(b)->type = 0;
}

static void m_fd_file(unsigned char *b, size_t *l)
{
	(void)l;
	FD0(b)->file = 7;
}

static void m_efd_flags(unsigned char *b, size_t *l)
{
	(void)l;
	EFD(b)->type_flags = 2;
}

static void m_efd_open(unsigned char *b, size_t *l)
{
	(void)l;
	EFD(b)->open_flags |= O_APPEND;
}

/* fd 4, the eventfd, as a signalfd reading SIGUSR2 (bit 11). */
static void as_signalfd(struct spice_image_fd *d)
{
	d->type = SPICE_FD_SIGNALFD;
	d->type_flags = 0;
	d->pos = 1ULL << 11;
}

static void m_signalfd(unsigned char *b, size_t *l)
{
	(void)l;
	as_signalfd(EFD(b));
}

static void m_signalfd_kill(unsigned char *b, size_t *l)
{
	(void)l;
	as_signalfd(EFD(b));
	EFD(b)->pos |= 1ULL << 8;	/* SIGKILL */
}

static void m_signalfd_flags(unsigned char *b, size_t *l)
{
	(void)l;
	as_signalfd(EFD(b));
	EFD(b)->type_flags = SPICE_EVENTFD_SEMAPHORE;
}

/* fd 4, the eventfd, as the read end of a pipe of its own (index 1). */
static void as_pipe(struct spice_image_fd *d)
{
	d->type = SPICE_FD_PIPE;
	d->type_flags = 0;
	d->open_flags = O_RDONLY;
	d->pos = 0;
	d->object = 1;
}

static void m_pipe_object(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	EFD(b)->object = 0;	/* fd 3, a file */
}

static void m_pipe_rdwr(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	EFD(b)->open_flags = O_RDWR;
}

static void m_pair_type(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	EFD(b)->type = SPICE_FD_SOCKETPAIR;
	EFD(b)->open_flags = O_RDWR;
}

static void m_efd_object(unsigned char *b, size_t *l)
{
	(void)l;
	EFD(b)->object = 1;
}

static void m_pipe_mixed(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	as_pipe(EPFD(b));	/* a second read end of the same pipe */
	EPFD(b)->open_flags |= O_NONBLOCK;
}

static void m_pipe_data(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	EFD(b)->data.len = SPICE_IMAGE_MAX_PIPE_DATA + 1;
}

static void m_epfd_pos(unsigned char *b, size_t *l)
{
	(void)l;
	EPFD(b)->pos = 1;
}

static void m_watch_epfd(unsigned char *b, size_t *l)
{
	(void)l;
	WATCH(b)->epfd = 4;
}

static void m_watch_self(unsigned char *b, size_t *l)
{
	(void)l;
	WATCH(b)->tfd = 5;
}

static void m_watch_missing(unsigned char *b, size_t *l)
{
	(void)l;
	WATCH(b)->tfd = 9;
}

static void m_watch_events(unsigned char *b, size_t *l)
{
	(void)l;
	WATCH(b)->events |= 0x800;
}

static void m_watch_exclusive(unsigned char *b, size_t *l)
{
	(void)l;
	WATCH(b)->events |= EPOLLEXCLUSIVE | EPOLLPRI;
}

static void m_vma_align(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->start += 1;
}

static void m_vma_empty(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 2)->end = VMA(b, 2)->start;
}

static void m_vma_order(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->start = VMA(b, 0)->start;
}

static void m_vma_high(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 2)->end = 1ULL << 60;
}

static void m_vma_prot(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->prot |= 0x10;
}

/* The first bit of neither mmap_restore() nor the image, and the last. */
static void m_vma_flags(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= 1U << 12;
}

static void m_vma_flags_high(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= 1U << 31;
}

static void m_lockonfault(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_LOCKONFAULT;
}

static void m_wipeonfork_file(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->flags |= SPICE_VMA_WIPEONFORK;
}

static void m_wipeonfork_shared(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_SHARED | SPICE_VMA_WIPEONFORK;
}

/* The fixture's anonymous VMA has HUGEPAGE already. */
static void m_nohugepage(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_NOHUGEPAGE;
}

static void m_seq_random(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->flags |= SPICE_VMA_SEQUENTIAL | SPICE_VMA_RANDOM;
}

static void m_maywrite_anon(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_MAYWRITE;
}

static void m_maywrite_shared_anon(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_SHARED | SPICE_VMA_MAYWRITE;
}

static void m_maywrite_private_file(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 3)->flags &= ~SPICE_VMA_SHARED;
}

/* Two rules broken at once: the first in the documented order says why. */
static void m_flag_rules_order(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_MAYWRITE | SPICE_VMA_RANDOM |
			    SPICE_VMA_SEQUENTIAL | SPICE_VMA_LOCKONFAULT;
}

static void m_vma_file(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->file = 5;
}

static void m_vma_pgoff(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->pgoff = FX_PAGE;
}

static void m_vma_growsdown(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->flags |= SPICE_VMA_GROWSDOWN;
}

static void m_vma_shared_growsdown(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_SHARED | SPICE_VMA_GROWSDOWN;
}

static void m_vma_ivs(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->first_interval++;
}

static void m_vma_ivs_left(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->nr_intervals--;
	VMA(b, 2)->first_interval--;
	VMA(b, 3)->first_interval--;
}

static void m_vdso_contents(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 2)->file = 0;
}

static void m_iv_outside(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->addr = VMA(b, 0)->end;
}

static void m_iv_order(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 1)->addr = IV(b, 0)->addr;
}

static void m_iv_len(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->len = 0;
}

static void m_iv_source(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->source = 0;
}

static void m_iv_data(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->offset = hdr(b)->data_offset + hdr(b)->data_size;
}

static void m_iv_meta(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->offset = 0;
}

static void m_iv_file_anon(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->source = MMAP_RESTORE_SRC_FILE;
	IV(b, 0)->offset = 0;
}

static void m_iv_shared(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 1)->flags |= SPICE_VMA_SHARED;
}

static void m_iv_wrap(unsigned char *b, size_t *l)
{
	(void)l;
	IV(b, 0)->len = -FX_PAGE;
}

static void m_ws_overlap(unsigned char *b, size_t *l)
{
	(void)l;
	WS(b, 2)->addr = WS(b, 0)->addr;
}

static void m_ws_ro(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->prot = PROT_READ;
}

static void m_ws_outside(unsigned char *b, size_t *l)
{
	(void)l;
	WS(b, 0)->nr_pages = 100;
}

static void m_ws_flags(unsigned char *b, size_t *l)
{
	(void)l;
	WS(b, 0)->flags = 2;
}

static void m_ws_vdso(unsigned char *b, size_t *l)
{
	(void)l;
	WS(b, 1)->addr = FX_VDSO;
}

static const struct mutation mutations[] = {
	{ "bad magic", m_magic, 1, -ENOEXEC, "magic" },
	{ "another format version", m_version, 1, -ENOEXEC, "version" },
	{ "another architecture", m_arch, 1, -ENOEXEC, "machine" },
	{ "another page size", m_page, 1, -ENOEXEC, "page size" },
	{ "unknown incompatible feature", m_incompat, 1, -ENOEXEC, "incompatible" },
	{ "reserved header field set", m_reserved, 1, -EINVAL, "reserved" },
	{ "metadata changed without the checksum", m_csum, 0, -EBADMSG, "checksum" },
	{ "metadata beyond its limit", m_meta_big, 1, -E2BIG, "metadata" },
	{ "no sections", m_no_sections, 1, -EINVAL, "sections" },
	{ "more sections than the limit", m_many_sections, 1, -E2BIG, "sections" },
	{ "file shorter than its data area", m_truncated, 1, -EINVAL, "truncated" },
	{ "unaligned data offset", m_data_unaligned, 1, -EINVAL, "data area" },
	{ "working-set data larger than the data", m_ws_data, 1, -EINVAL, "data area" },
	{ "unknown section type", m_sect_type, 1, -EINVAL, "unknown type" },
	{ "section type twice", m_sect_dup, 1, -EINVAL, "second" },
	{ "wrong entry size", m_sect_esize, 1, -EINVAL, "entry size" },
	{ "section outside the metadata", m_sect_outside, 1, -EINVAL, "outside" },
	{ "sections overlap", m_sect_overlap, 1, -EINVAL, "overlaps" },
	{ "size not count times entry size", m_sect_size, 1, -EINVAL, "outside" },
	{ "vma count beyond the limit", m_sect_count, 1, -E2BIG, "limit" },
	{ "count whose size overflows", m_count_overflow, 1, -E2BIG, "limit" },
	{ "no process section", m_no_process, 1, -EINVAL, "process" },
	{ "63 signal actions", m_sigactions, 1, -EINVAL, "sigactions" },
	{ "brk below start_brk", m_mm_order, 1, -EINVAL, "mm layout" },
	{ "comm without NUL", m_comm, 1, -EINVAL, "comm" },
	{ "exe file out of range", m_exe, 1, -EINVAL, "exe" },
	{ "cwd outside the blobs", m_cwd, 1, -EINVAL, "cwd" },
	{ "auxv without AT_NULL", m_auxv_null, 1, -EINVAL, "AT_NULL" },
	{ "auxv not pairs", m_auxv_odd, 1, -EINVAL, "pairs" },
	{ "tid repeated", m_tid, 1, -EINVAL, "repeated" },
	{ "tid zero", m_tid0, 1, -EINVAL, "tid" },
	{ "unknown thread flag", m_thread_flags, 1, -EINVAL, "flags" },
	{ "xstate beyond its limit", m_xstate, 1, -E2BIG, "xstate" },
	{ "relative file path", m_file_rel, 1, -EINVAL, "absolute" },
	{ "NUL in a file path", m_file_nul, 1, -EINVAL, "absolute" },
	{ "a FIFO in the file table", m_file_mode, 1, -EINVAL, "mode" },
	{ "hash without its flag", m_file_hash, 1, -EINVAL, "hash" },
	{ "an unknown process flag", m_proc_flags, 1, -EINVAL, "unknown flags" },
	{ "a reserved process field set", m_proc_reserved, 1, -EINVAL, "reserved" },
	{ "MDWE_NO_INHERIT alone", m_mdwe_no_inherit, 1, -EINVAL,
	  "MDWE_NO_INHERIT without MDWE_REFUSE_EXEC_GAIN" },
	{ "oom_score_adj 2000", m_oom_high, 1, -EINVAL, "oom_score_adj 2000 out of range" },
	{ "oom_score_adj -1001", m_oom_low, 1, -EINVAL, "oom_score_adj -1001 out of range" },
	{ "thread reserved set", m_thread_reserved, 1, -EINVAL,
	  "thread 0: unknown flags or reserved" },
	{ "SCHED_DEADLINE", m_sched_deadline, 1, -EINVAL,
	  "thread 1: scheduling policy 0x6, priority 0, nice" },
	{ "SCHED_FIFO without a priority", m_sched_fifo_no_priority, 1, -EINVAL,
	  "thread 0: scheduling policy 0x40000001, priority 0" },
	{ "nice -21", m_sched_nice, 1, -EINVAL, "priority 0, nice -21" },
	{ "parent-death signal 99", m_pdeath, 1, -EINVAL, "thread 1: pdeath_signal 99" },
	{ "parent-death signal 65", m_pdeath_65, 1, -EINVAL, "thread 0: pdeath_signal 65" },
	{ "3 resource limits", m_rlimits_3, 1, -EINVAL, "rlimits: 3 entries, expected 16" },
	{ "an empty rlimits section", m_rlimits_0, 1, -EINVAL, "rlimits: 0 entries, expected 16" },
	{ "17 resource limits", m_rlimits_17, 1, -E2BIG, "rlimits section: 17 entries, limit 16" },
	{ "a soft limit above its hard limit", m_rlimit_soft, 1, -EINVAL,
	  "rlimit 7: soft limit above hard limit" },
	{ "an unlimited soft limit under a hard one", m_rlimit_finite_hard, 1, -EINVAL,
	  "rlimit 0: soft limit above hard limit" },
	{ "a signal for a thread not in the image", m_signal_thread, 1, -EINVAL,
	  "signal 1: no thread 2" },
	{ "signals not sorted by thread", m_signals_unsorted, 1, -EINVAL,
	  "signal 1: not sorted by thread" },
	{ "SIGKILL pending", m_signal_kill, 1, -EINVAL,
	  "signal 3: signal 9 cannot be pending" },
	{ "signal 65", m_signal_65, 1, -EINVAL, "signal 2: signal 65 cannot be pending" },
	{ "a standard signal twice in a thread's queue", m_signal_standard_twice, 1,
	  -EINVAL, "signal 2: signal 12 twice in one queue" },
	{ "bytes after the kernel's siginfo", m_signal_tail, 1, -EINVAL,
	  "signal 0: bytes set after the siginfo" },
	{ "a signal's reserved field", m_signal_reserved, 1, -EINVAL,
	  "signal 3: reserved field set" },
	{ "an fd sharing a later fd's file", m_fd_shares_later, 1, -EINVAL,
	  "fd 3: shares the file of a later fd" },
	{ "an fd sharing a file unlike its own", m_fd_shares_differs, 1, -EINVAL,
	  "fd 4: differs from fd 3, whose file it shares" },
	{ "locks out of fd order", m_lock_order, 1, -EINVAL, "lock 1: fd 2 out of order" },
	{ "a lock on an eventfd", m_lock_on_eventfd, 1, -EINVAL,
	  "lock 1: fd 4 is not the first fd of an open file" },
	{ "a write lock on a read-only fd", m_lock_not_writable, 1, -EINVAL,
	  "lock 1: fd 3 is not open for writing" },
	{ "a flock lock on a byte range", m_lock_flock_range, 1, -EINVAL,
	  "lock 0 on fd 3: kind 1 with that range" },
	{ "an unknown lock kind", m_lock_kind, 1, -EINVAL, "lock 1 on fd 3: kind 4" },
	{ "two flock locks on one fd", m_lock_two_flocks, 1, -EINVAL,
	  "lock 1: a flock lock after another lock of fd 3" },
	{ "a lock on an fd open for neither reading nor writing", m_lock_no_access, 1,
	  -EINVAL, "lock 0: fd 3 is open for neither reading nor writing" },
	{ "a lock ending before its start", m_lock_range, 1, -EINVAL,
	  "lock 1 on fd 3: type 0, range 100-99" },
	{ "a pidfd of a thread not in the image", m_pidfd_thread, 1, -EINVAL,
	  "fd 4: a pidfd of thread 5" },
	{ "a timerfd timer on an eventfd", m_timerfd_fd, 1, -EINVAL,
	  "timerfd timer 0: fd 4 is not the next timerfd" },
	{ "a timerfd on CLOCK_TAI", m_timerfd_tai, 1, -EINVAL, "timerfd 6: clock 11" },
	{ "an unknown timerfd flag", m_timerfd_flags, 1, -EINVAL, "timerfd 6: flags 0x7" },
	{ "a timerfd's time over 2^63 - 1 ns", m_timerfd_time, 1, -EINVAL,
	  "timerfd 6: time over 2^63 - 1 ns" },
	{ "a socket entry on a timerfd", m_socket_fd, 1, -EINVAL,
	  "socket 0: fd 6 is not the next socket" },
	{ "a TCP-type socket with UDP", m_socket_kind, 1, -EINVAL,
	  "socket 7: state 2, family 10, type 1, protocol 17" },
	{ "a socket address of another family", m_socket_addr_family, 1, -EINVAL,
	  "socket 7: address of 28 bytes" },
	{ "an address on a reset socket", m_socket_unbound_addr, 1, -EINVAL,
	  "socket 7: address of 28 bytes" },
	{ "an AF_UNIX socket on a relative path", m_socket_relative_path, 1, -EINVAL,
	  "socket 7: address of 8 bytes" },
	{ "IPV6_V6ONLY on an AF_INET socket", m_socket_v6only_on_v4, 1, -EINVAL,
	  "socket 7: options its kind lacks" },
	{ "a TCP option on a UDP socket", m_socket_tcp_option_on_udp, 1, -EINVAL,
	  "socket 7: options its kind lacks" },
	{ "a listening datagram socket", m_socket_dgram_listening, 1, -EINVAL,
	  "socket 7: backlog 128" },
	{ "an unterminated interface name", m_socket_dev_unterminated, 1, -EINVAL,
	  "socket 7: options its kind lacks" },
	{ "POSIX timer ids out of order", m_timer_id_order, 1, -EINVAL,
	  "posix timer 1: id 0 out of order" },
	{ "a POSIX timer on a CPU-time clock", m_timer_cpu_clock, 1, -EINVAL,
	  "posix timer 0: clock 2" },
	{ "a SIGEV_THREAD_ID timer without a thread", m_timer_thread_none, 1, -EINVAL,
	  "posix timer 3: thread 4294967295" },
	{ "a process timer naming a thread", m_timer_thread_kind, 1, -EINVAL,
	  "posix timer 0: thread 0" },
	{ "a SIGEV_NONE timer with signal 65", m_timer_signal_65, 1, -EINVAL,
	  "posix timer 0: notify 1 with signal 65" },
	{ "a timer's unknown notify", m_timer_notify, 1, -EINVAL,
	  "posix timer 0: notify 3 with signal 14" },
	{ "a POSIX timer's interval over 2^63 - 1 ns", m_timer_time, 1, -EINVAL,
	  "posix timer 3: time over 2^63 - 1 ns" },
	{ "2 interval timers", m_itimers_2, 1, -EINVAL, "itimers: 2 entries, expected 3" },
	{ "an interval timer's value over 2^63 - 1 ns", m_itimer_value, 1, -EINVAL,
	  "itimer 1: time over 2^63 - 1 ns" },
	{ "an interval timer's interval over 2^63 - 1 ns", m_itimer_interval, 1,
	  -EINVAL, "itimer 2: time over 2^63 - 1 ns" },
	{ "hash of a directory", m_dir_hash, 1, -EINVAL, "not regular" },
	{ "negative fd", m_fd_neg, 1, -EINVAL, "range" },
	{ "unknown fd type", m_fd_type, 1, -EINVAL, "type" },
	{ "fd of a file out of range", m_fd_file, 1, -EINVAL, "file 7" },
	{ "unknown eventfd flag", m_efd_flags, 1, -EINVAL, "type flags" },
	{ "eventfd opened O_APPEND", m_efd_open, 1, -EINVAL, "open flags" },
	{ "signalfd reading SIGKILL", m_signalfd_kill, 1, -EINVAL, "SIGKILL" },
	{ "signalfd with type flags", m_signalfd_flags, 1, -EINVAL, "type flags" },
	{ "epoll fd with a position", m_epfd_pos, 1, -EINVAL, "position" },
	{ "pipe end whose object is a file", m_pipe_object, 1, -EINVAL, "not the first fd" },
	{ "pipe read end opened O_RDWR", m_pipe_rdwr, 1, -EINVAL, "open flags" },
	{ "socket pair of no type", m_pair_type, 1, -EINVAL, "socket pair type" },
	{ "eventfd with an object", m_efd_object, 1, -EINVAL, "an object" },
	{ "pipe data over the limit", m_pipe_data, 1, -EINVAL, "data other than" },
	{ "one pipe end with two open flags", m_pipe_mixed, 1, -EINVAL, "same end" },
	{ "watch in an eventfd", m_watch_epfd, 1, -EINVAL, "not an epoll" },
	{ "epoll watching itself", m_watch_self, 1, -EINVAL, "itself" },
	{ "watch of a missing fd", m_watch_missing, 1, -EINVAL, "not in the image" },
	{ "unknown epoll event", m_watch_events, 1, -EINVAL, "events" },
	{ "EPOLLEXCLUSIVE with EPOLLPRI", m_watch_exclusive, 1, -EINVAL, "EXCLUSIVE" },
	{ "unaligned vma", m_vma_align, 1, -EINVAL, "unaligned" },
	{ "empty vma", m_vma_empty, 1, -EINVAL, "empty" },
	{ "overlapping vmas", m_vma_order, 1, -EINVAL, "order" },
	{ "vma above user space", m_vma_high, 1, -EINVAL, "range" },
	{ "unknown prot bit", m_vma_prot, 1, -EINVAL, "prot" },
	{ "unknown vma flag", m_vma_flags, 1, -EINVAL, "flags" },
	{ "unknown high vma flag", m_vma_flags_high, 1, -EINVAL, "flags" },
	{ "LOCKONFAULT without LOCKED", m_lockonfault, 1, -EINVAL,
	  "vma 0: LOCKONFAULT without LOCKED" },
	{ "WIPEONFORK on a private file mapping", m_wipeonfork_file, 1, -EINVAL,
	  "vma 1: WIPEONFORK on a shared or file mapping" },
	{ "WIPEONFORK on shared anonymous memory", m_wipeonfork_shared, 1, -EINVAL,
	  "vma 0: WIPEONFORK on a shared or file mapping" },
	{ "HUGEPAGE with NOHUGEPAGE", m_nohugepage, 1, -EINVAL,
	  "vma 0: HUGEPAGE with NOHUGEPAGE" },
	{ "SEQUENTIAL with RANDOM", m_seq_random, 1, -EINVAL,
	  "vma 1: SEQUENTIAL with RANDOM" },
	{ "MAYWRITE on private anonymous memory", m_maywrite_anon, 1, -EINVAL,
	  "vma 0: MAYWRITE on a mapping that is not a shared file mapping" },
	{ "MAYWRITE on shared anonymous memory", m_maywrite_shared_anon, 1, -EINVAL,
	  "vma 0: MAYWRITE on a mapping that is not a shared file mapping" },
	{ "MAYWRITE on a private file mapping", m_maywrite_private_file, 1, -EINVAL,
	  "vma 3: MAYWRITE on a mapping that is not a shared file mapping" },
	{ "LOCKONFAULT, SEQUENTIAL with RANDOM and MAYWRITE", m_flag_rules_order, 1,
	  -EINVAL, "vma 0: LOCKONFAULT without LOCKED" },
	{ "vma file out of range", m_vma_file, 1, -EINVAL, "file 5" },
	{ "anonymous vma with an offset", m_vma_pgoff, 1, -EINVAL, "offset" },
	{ "file-backed stack", m_vma_growsdown, 1, -EINVAL, "stack" },
	{ "shared anonymous stack", m_vma_shared_growsdown, 1, -EINVAL, "growing down" },
	{ "intervals not following on", m_vma_ivs, 1, -EINVAL, "expected" },
	{ "intervals of no vma", m_vma_ivs_left, 1, -EINVAL, "no vma" },
	{ "vdso with contents", m_vdso_contents, 1, -EINVAL, "vdso" },
	{ "interval outside its vma", m_iv_outside, 1, -EINVAL, "outside the vma" },
	{ "intervals out of order", m_iv_order, 1, -EINVAL, "order" },
	{ "empty interval", m_iv_len, 1, -EINVAL, "empty" },
	{ "unknown source", m_iv_source, 1, -EINVAL, "source" },
	{ "data past the data area", m_iv_data, 1, -EINVAL, "data area" },
	{ "data inside the metadata", m_iv_meta, 1, -EINVAL, "data area" },
	{ "file source in an anonymous vma", m_iv_file_anon, 1, -EINVAL, "without a file" },
	{ "contents in a shared file mapping", m_iv_shared, 1, -EINVAL, "shared" },
	{ "interval length wraps", m_iv_wrap, 1, -EINVAL, "outside" },
	{ "working-set ranges overlap", m_ws_overlap, 1, -EINVAL, "overlap" },
	{ "written pages in a read-only vma", m_ws_ro, 1, -EINVAL, "read-only" },
	{ "working set past its vma", m_ws_outside, 1, -EINVAL, "one vma" },
	{ "unknown working-set flag", m_ws_flags, 1, -EINVAL, "flags" },
	{ "working set in the vdso", m_ws_vdso, 1, -EINVAL, "vdso" },
};

static void m_lone_pipe(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
}

static void m_pipe_holding(unsigned char *b, size_t *l)
{
	(void)l;
	as_pipe(EFD(b));
	EFD(b)->data.len = 1;		/* the blobs' first byte */
}

/* The rlimits section's entry dropped from the table: the caller's limits. */
static void m_no_rlimits(unsigned char *b, size_t *l)
{
	struct spice_image_section *table = (void *)(b + hdr(b)->section_table);

	(void)l;
	*section(b, SPICE_SECT_RLIMITS) = table[hdr(b)->nr_sections - 1];
	hdr(b)->nr_sections--;
}

static void m_proc_edges(unsigned char *b, size_t *l)
{
	(void)l;
	PROC(b)->flags = SPICE_PROC_UNDUMPABLE | SPICE_PROC_NO_NEW_PRIVS |
			 SPICE_PROC_CHILD_SUBREAPER | SPICE_PROC_THP_DISABLE |
			 SPICE_PROC_MDWE_REFUSE_EXEC_GAIN | SPICE_PROC_MDWE_NO_INHERIT;
	PROC(b)->oom_score_adj = -1000;
}

/* Every lock and advice flag madvise() takes on private anonymous memory. */
static void m_vma_advice(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_LOCKED | SPICE_VMA_LOCKONFAULT |
			    SPICE_VMA_DONTFORK | SPICE_VMA_WIPEONFORK |
			    SPICE_VMA_DONTDUMP | SPICE_VMA_HUGEPAGE |
			    SPICE_VMA_SEQUENTIAL | SPICE_VMA_NORESERVE;
}

/* ... and the others elsewhere: all but WIPEONFORK on file and shared memory. */
static void m_vma_advice_file(unsigned char *b, size_t *l)
{
	(void)l;
	VMA(b, 0)->flags |= SPICE_VMA_SHARED | SPICE_VMA_LOCKED |
			    SPICE_VMA_DONTDUMP | SPICE_VMA_RANDOM;
	VMA(b, 1)->flags |= SPICE_VMA_LOCKED | SPICE_VMA_DONTFORK |
			    SPICE_VMA_NOHUGEPAGE | SPICE_VMA_RANDOM;
	VMA(b, 3)->flags |= SPICE_VMA_LOCKED | SPICE_VMA_LOCKONFAULT |
			    SPICE_VMA_SEQUENTIAL | SPICE_VMA_HUGEPAGE;
}

static void m_thread_edges(unsigned char *b, size_t *l)
{
	(void)l;
	THR(b, 0)->pdeath_signal = 64;
	THR(b, 0)->timer_slack_ns = ~0ULL;
	THR(b, 1)->pdeath_signal = 0;
	THR(b, 1)->timer_slack_ns = 0;
	PROC(b)->oom_score_adj = 1000;
}

/* The image changed by @apply, resealed, must still parse. */
static void check_accepts(void (*apply)(unsigned char *, size_t *), const char *what)
{
	unsigned char *buf = malloc(file_len);
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img = NULL;
	size_t len = file_len;

	memcpy(buf, file, file_len);
	apply(buf, &len);
	reseal(buf, hdr(file)->metadata_size);
	check(!spice_image_parse(buf, hdr(file)->metadata_size, len, &img, why), what);
	spice_image_free(img);
	free(buf);
}

static void test_mutations(void)
{
	char what[SPICE_IMAGE_WHY_LEN + 128], why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	unsigned char *buf = malloc(file_len);
	size_t i, len;
	int err;

	for (i = 0; i < ARRAY_SIZE(mutations); i++) {
		const struct mutation *m = &mutations[i];

		memcpy(buf, file, file_len);
		len = file_len;
		m->apply(buf, &len);
		if (m->reseal)
			reseal(buf, hdr(file)->metadata_size);
		err = spice_image_parse(buf, hdr(file)->metadata_size, len, &img, why);
		snprintf(what, sizeof(what), "rejects %s (%d, \"%s\")", m->what,
			 err, why);
		check(err == m->err && !img && strstr(why, m->why), what);
		spice_image_free(img);
	}
	free(buf);
	check_accepts(m_compat, "accepts an unknown compatible feature");
	check_accepts(m_lone_pipe, "accepts a pipe of which only the read end is left");
	check_accepts(m_pipe_holding, "accepts a pipe holding data");
	check_accepts(m_signalfd, "accepts a signalfd");
	check_accepts(m_no_rlimits, "accepts an image without resource limits");
	check_accepts(m_proc_edges, "accepts every process flag and oom_score_adj -1000");
	check_accepts(m_thread_edges,
		      "accepts pdeath_signal 64 and 0, any timer slack, oom_score_adj 1000");
	check_accepts(m_vma_advice,
		      "accepts LOCKED|LOCKONFAULT|DONTFORK|DONTDUMP|HUGEPAGE|SEQUENTIAL|WIPEONFORK on private anonymous memory");
	check_accepts(m_vma_advice_file,
		      "accepts lock and advice flags on shared and file mappings");
}

static void test_short_buffers(void)
{
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	size_t len;
	int ok = 1;

	/* Any prefix of the metadata is rejected, none read past its end. */
	for (len = 0; len < hdr(file)->metadata_size; len++) {
		unsigned char *copy = malloc(len + 1);

		memcpy(copy, file, len);
		ok &= spice_image_parse(copy, len, file_len, &img, why) < 0 && !img;
		free(copy);
	}
	check(ok, "every truncated metadata buffer is rejected");
}

/* Limits a reader would refuse are not written, and the reason says why. */
static void test_writer_rlimits(void)
{
	struct spice_writer *w = spice_writer_new(fx.dir);
	struct spice_image_process proc = { .exe_file = SPICE_IMAGE_NONE };
	struct spice_image_thread t = { .tid = 1 };
	struct spice_image_rlimit lim[SPICE_IMAGE_NR_RLIMITS];
	char why[SPICE_IMAGE_WHY_LEN] = "", path[128];
	int fd, err = -1;
	struct stat st;

	memcpy(lim, fx.rlim, sizeof(lim));
	lim[3].cur = lim[3].max + 1;
	snprintf(path, sizeof(path), "%s/bad-limits", fx.dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (w && fd >= 0 && !spice_writer_set_process(w, &proc, NULL, NULL, 0) &&
	    !spice_writer_add_thread(w, &t, NULL, 0) &&
	    !spice_writer_set_rlimits(w, lim))
		err = spice_writer_write(w, fd, NULL, why);
	check(err == -EINVAL && strstr(why, "rlimit 3: soft limit above hard limit") &&
	      !fstat(fd, &st) && st.st_size == 0,
	      "writer: a soft limit above its hard limit is refused, nothing written");
	if (fd >= 0)
		close(fd);
	unlink(path);
	spice_writer_free(w);
}

static void test_writer_errors(void)
{
	struct spice_writer *w = spice_writer_new(fx.dir);
	struct spice_image_vma v = { .start = FX_ANON, .end = FX_ANON + FX_PAGE,
				     .file = SPICE_IMAGE_NONE };
	unsigned char page[FX_PAGE] = { 1 };

	check(spice_writer_add_file(w, "relative", 0) == -EINVAL,
	      "writer: a relative path is refused");
	check(spice_writer_add_file(w, "/nonexistent/x", 0) == -ENOENT,
	      "writer: a missing file is refused");
	check(spice_writer_add_vma(w, &v) == 0, "writer: first vma");
	check(spice_writer_add_vma(w, &v) == -EINVAL,
	      "writer: an overlapping vma is refused");
	check(spice_writer_add_pages(w, FX_ANON + 8 * FX_PAGE, page, FX_PAGE) == -EINVAL,
	      "writer: pages outside every vma are refused");
	check(spice_writer_add_pages(w, FX_ANON, page, 100) == -EINVAL,
	      "writer: a partial page is refused");
	check(spice_writer_write(w, 1, NULL, NULL) == -EINVAL,
	      "writer: an image without process state is refused");
	spice_writer_free(w);
	test_writer_rlimits();
}

int main(void)
{
	int err;

	printf("TAP version 13\n");
	err = fx_build(&fx);
	check(err == 0, "the writer builds the fixture image");
	if (err) {
		printf("# error %d\n", err);
		return 1;
	}
	file = fx_slurp(fx.image, &file_len);
	check(fx_crc32c((const unsigned char *)"123456789", 9) == 0xe3069283 &&
	      hdr(file)->metadata_csum ==
	      crc32c_without_field(file, hdr(file)->metadata_size),
	      "checksum is CRC-32C over the metadata, its own field as zero");
	test_round_trip();
	test_mutations();
	test_short_buffers();
	test_writer_errors();
	free(file);
	fx_cleanup(&fx);
	printf("1..%d\n", n);
	return failed;
}
