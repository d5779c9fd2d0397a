// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Checking an image's metadata: every check of
 * Documentation/spice/image-format.rst, in the order it lists them, with
 * the reason of the first failure in words.  Nothing in the image is
 * trusted: every count is bounded before use and every sum checked for
 * overflow.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include <spice/image.h>
#include "internal.h"
#include "image_internal.h"

#define EM_X86_64 62
/* Highest user address of x86_64 with 5-level paging. */
#define SPICE_USER_MAX 0x100000000000000ULL
#define SPICE_PROT (PROT_READ | PROT_WRITE | PROT_EXEC)
#define SPICE_VMA_FLAGS (SPICE_VMA_SHARED | SPICE_VMA_GROWSDOWN | \
			 SPICE_VMA_NORESERVE | SPICE_VMA_LOCKED | \
			 SPICE_VMA_LOCKONFAULT | SPICE_VMA_DONTFORK | \
			 SPICE_VMA_WIPEONFORK | SPICE_VMA_DONTDUMP | \
			 SPICE_VMA_HUGEPAGE | SPICE_VMA_NOHUGEPAGE | \
			 SPICE_VMA_SEQUENTIAL | SPICE_VMA_RANDOM | \
			 SPICE_VMA_HEAP | SPICE_VMA_STACK | SPICE_VMA_VDSO | \
			 SPICE_VMA_VVAR | SPICE_VMA_MAYWRITE)
#define SPICE_PROC_FLAGS (SPICE_PROC_UNDUMPABLE | SPICE_PROC_NO_NEW_PRIVS | \
			  SPICE_PROC_CHILD_SUBREAPER | SPICE_PROC_THP_DISABLE | \
			  SPICE_PROC_MDWE_REFUSE_EXEC_GAIN | SPICE_PROC_MDWE_NO_INHERIT)
/* OOM_SCORE_ADJ_MAX; OOM_SCORE_ADJ_MIN is its negative. */
#define SPICE_OOM_SCORE_ADJ_MAX 1000

/* What each section type holds: entry size and count limit. */
static const struct {
	uint32_t entry_size;
	uint64_t max;
	const char *name;
} sect_info[SPICE_SECT_MAX + 1] = {
	[SPICE_SECT_PROCESS] = { sizeof(struct spice_image_process), 1,
				 "process" },
	[SPICE_SECT_THREADS] = { sizeof(struct spice_image_thread),
				 SPICE_IMAGE_MAX_THREADS, "threads" },
	[SPICE_SECT_SIGACTIONS] = { sizeof(struct spice_image_sigaction), 64,
				    "sigactions" },
	[SPICE_SECT_FILES] = { sizeof(struct spice_image_file),
			       SPICE_IMAGE_MAX_FILES, "files" },
	[SPICE_SECT_FDS] = { sizeof(struct spice_image_fd),
			     SPICE_IMAGE_MAX_FDS, "fds" },
	[SPICE_SECT_VMAS] = { sizeof(struct spice_image_vma),
			      SPICE_IMAGE_MAX_VMAS, "vmas" },
	[SPICE_SECT_INTERVALS] = { sizeof(struct mmap_restore_interval),
				   SPICE_IMAGE_MAX_INTERVALS, "intervals" },
	[SPICE_SECT_WS] = { sizeof(struct mmap_restore_ws_range),
			    SPICE_IMAGE_MAX_WS, "ws" },
	[SPICE_SECT_BLOBS] = { 1, SPICE_IMAGE_MAX_BLOBS, "blobs" },
	[SPICE_SECT_EPOLL] = { sizeof(struct spice_image_epoll_watch),
			       SPICE_IMAGE_MAX_EPOLL_WATCHES, "epoll" },
	[SPICE_SECT_RLIMITS] = { sizeof(struct spice_image_rlimit),
				 SPICE_IMAGE_NR_RLIMITS, "rlimits" },
	[SPICE_SECT_ITIMERS] = { sizeof(struct spice_image_itimer),
				 SPICE_IMAGE_NR_ITIMERS, "itimers" },
	[SPICE_SECT_SIGNALS] = { sizeof(struct spice_image_signal),
				 SPICE_IMAGE_MAX_SIGNALS, "signals" },
	[SPICE_SECT_POSIX_TIMERS] = { sizeof(struct spice_image_posix_timer),
				      SPICE_IMAGE_MAX_POSIX_TIMERS, "posix_timers" },
	[SPICE_SECT_LOCKS] = { sizeof(struct spice_image_lock),
			       SPICE_IMAGE_MAX_LOCKS, "locks" },
	[SPICE_SECT_TIMERFDS] = { sizeof(struct spice_image_timerfd),
				  SPICE_IMAGE_MAX_FDS, "timerfds" },
	[SPICE_SECT_SOCKETS] = { sizeof(struct spice_image_socket),
				 SPICE_IMAGE_MAX_FDS, "sockets" },
	[SPICE_SECT_MADE_FILES] = { sizeof(struct spice_image_made_file),
				    SPICE_IMAGE_MAX_FILES, "made_files" },
	[SPICE_SECT_FILE_DATA] = { sizeof(struct spice_image_file_extent),
				   SPICE_IMAGE_MAX_FILE_EXTENTS, "file_data" },
};

/* The bits epoll_ctl(2) lets EPOLLEXCLUSIVE be combined with. */
#define SPICE_EPOLL_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				  EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

const char *spice_image_section_name(unsigned int type)
{
	if (type < 1 || type > SPICE_SECT_MAX)
		return "unknown";
	return sect_info[type].name;
}

static int fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why, SPICE_IMAGE_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int aligned(uint64_t v)
{
	return !(v & (SPICE_PAGE_SIZE - 1));
}

/* @a + @b, or 0 on overflow (0 is never a valid end). */
static uint64_t end_of(uint64_t a, uint64_t b)
{
	uint64_t e;

	return __builtin_add_overflow(a, b, &e) ? 0 : e;
}

static int all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++)
			return 0;
	return 1;
}

static int check_header(const struct spice_image_header *h, size_t len,
			uint64_t file_size, char *why)
{
	uint64_t table_end;

	if (len < sizeof(*h) || memcmp(h->magic, SPICE_IMAGE_MAGIC,
				       SPICE_IMAGE_MAGIC_LEN))
		return fail(why, -ENOEXEC, "not a Spice image (bad magic)");
	if (h->version != SPICE_IMAGE_VERSION)
		return fail(why, -ENOEXEC, "format version %u, expected %u",
			    h->version, SPICE_IMAGE_VERSION);
	if (h->header_size != sizeof(*h))
		return fail(why, -EINVAL, "header size %u, expected %zu",
			    h->header_size, sizeof(*h));
	if (h->arch != EM_X86_64)
		return fail(why, -ENOEXEC, "image of ELF machine %u, not x86_64",
			    h->arch);
	if (h->page_size != SPICE_PAGE_SIZE)
		return fail(why, -ENOEXEC, "page size %u, expected %llu",
			    h->page_size, SPICE_PAGE_SIZE);
	if (h->incompat_features & ~SPICE_IMAGE_INCOMPAT_KNOWN)
		return fail(why, -ENOEXEC, "unknown incompatible features %#llx",
			    (unsigned long long)(h->incompat_features &
						 ~SPICE_IMAGE_INCOMPAT_KNOWN));
	if (!all_zero(h->reserved, sizeof(h->reserved)))
		return fail(why, -EINVAL, "header: reserved field not zero");
	if (h->metadata_size > SPICE_IMAGE_MAX_METADATA)
		return fail(why, -E2BIG, "metadata of %llu bytes, limit %llu",
			    (unsigned long long)h->metadata_size,
			    SPICE_IMAGE_MAX_METADATA);
	if (h->metadata_size < sizeof(*h) || h->metadata_size > len)
		return fail(why, -EINVAL, "metadata size %llu outside [%zu, %zu]",
			    (unsigned long long)h->metadata_size, sizeof(*h),
			    len);
	if (!h->nr_sections || h->nr_sections > SPICE_IMAGE_MAX_SECTIONS)
		return fail(why, h->nr_sections ? -E2BIG : -EINVAL,
			    "%u sections, expected 1 to %u", h->nr_sections,
			    SPICE_IMAGE_MAX_SECTIONS);
	table_end = end_of(h->section_table, (uint64_t)h->nr_sections *
			   sizeof(struct spice_image_section));
	if (h->section_table < sizeof(*h) || h->section_table % 8 ||
	    !table_end || table_end > h->metadata_size)
		return fail(why, -EINVAL, "section table at %llu outside the metadata",
			    (unsigned long long)h->section_table);
	if (!aligned(h->data_offset) || h->data_offset < h->metadata_size ||
	    !aligned(h->data_size) || !aligned(h->ws_data_size) ||
	    h->ws_data_size > h->data_size)
		return fail(why, -EINVAL,
			    "data area (offset %llu, %llu bytes, working set %llu) misplaced or unaligned",
			    (unsigned long long)h->data_offset,
			    (unsigned long long)h->data_size,
			    (unsigned long long)h->ws_data_size);
	if (!end_of(h->data_offset, h->data_size) ||
	    h->data_offset + h->data_size > file_size)
		return fail(why, -EINVAL, "truncated: data ends at %llu, file has %llu bytes",
			    (unsigned long long)(h->data_offset + h->data_size),
			    (unsigned long long)file_size);
	if (spice_crc32c_skip(h, h->metadata_size,
			      offsetof(struct spice_image_header,
				       metadata_csum)) != h->metadata_csum)
		return fail(why, -EBADMSG, "metadata checksum mismatch");
	return 0;
}

static int check_sections(struct spice_image *img, char *why)
{
	const struct spice_image_header *h = img->hdr;
	const struct spice_image_section *s, *t;
	uint64_t lo = h->section_table + (uint64_t)h->nr_sections * sizeof(*s);
	uint32_t i, j;

	s = (const void *)((const char *)img->meta + h->section_table);
	for (i = 0; i < h->nr_sections; i++) {
		uint64_t end;

		if (s[i].type < 1 || s[i].type > SPICE_SECT_MAX)
			return fail(why, -EINVAL, "section %u: unknown type %u",
				    i, s[i].type);
		if (img->sect[s[i].type])
			return fail(why, -EINVAL, "section %u: second %s section",
				    i, sect_info[s[i].type].name);
		if (s[i].entry_size != sect_info[s[i].type].entry_size)
			return fail(why, -EINVAL, "%s section: entry size %u, expected %u",
				    sect_info[s[i].type].name, s[i].entry_size,
				    sect_info[s[i].type].entry_size);
		if (s[i].nr_entries > sect_info[s[i].type].max)
			return fail(why, -E2BIG, "%s section: %llu entries, limit %llu",
				    sect_info[s[i].type].name,
				    (unsigned long long)s[i].nr_entries,
				    (unsigned long long)sect_info[s[i].type].max);
		/* Bounded above, so the product cannot overflow. */
		end = end_of(s[i].offset, s[i].size);
		if (s[i].size != s[i].nr_entries * s[i].entry_size ||
		    s[i].offset % 8 || s[i].offset < lo || !end ||
		    end > h->metadata_size)
			return fail(why, -EINVAL,
				    "%s section: %llu bytes at %llu outside the metadata or misaligned",
				    sect_info[s[i].type].name,
				    (unsigned long long)s[i].size,
				    (unsigned long long)s[i].offset);
		for (j = 0; j < i; j++) {
			t = &s[j];
			if (s[i].size && t->size && s[i].offset < t->offset + t->size &&
			    t->offset < end)
				return fail(why, -EINVAL, "%s section overlaps %s section",
					    sect_info[s[i].type].name,
					    sect_info[t->type].name);
		}
		img->sect[s[i].type] = &s[i];
	}
	if (!img->sect[SPICE_SECT_PROCESS] ||
	    img->sect[SPICE_SECT_PROCESS]->nr_entries != 1)
		return fail(why, -EINVAL, "no process section");
	if (!img->sect[SPICE_SECT_VMAS])
		return fail(why, -EINVAL, "no vmas section");
	if (!img->sect[SPICE_SECT_THREADS] ||
	    !img->sect[SPICE_SECT_THREADS]->nr_entries)
		return fail(why, -EINVAL, "no threads");
	if (img->sect[SPICE_SECT_SIGACTIONS] &&
	    img->sect[SPICE_SECT_SIGACTIONS]->nr_entries != 64)
		return fail(why, -EINVAL, "sigactions: %llu entries, expected 0 or 64",
			    (unsigned long long)img->sect[SPICE_SECT_SIGACTIONS]->nr_entries);
	if (img->sect[SPICE_SECT_RLIMITS] &&
	    img->sect[SPICE_SECT_RLIMITS]->nr_entries != SPICE_IMAGE_NR_RLIMITS)
		return fail(why, -EINVAL, "rlimits: %llu entries, expected %u",
			    (unsigned long long)img->sect[SPICE_SECT_RLIMITS]->nr_entries,
			    SPICE_IMAGE_NR_RLIMITS);
	if (img->sect[SPICE_SECT_ITIMERS] &&
	    img->sect[SPICE_SECT_ITIMERS]->nr_entries != SPICE_IMAGE_NR_ITIMERS)
		return fail(why, -EINVAL, "itimers: %llu entries, expected %u",
			    (unsigned long long)img->sect[SPICE_SECT_ITIMERS]->nr_entries,
			    SPICE_IMAGE_NR_ITIMERS);
	return 0;
}

/* A reference into the blobs section of at most @max bytes. */
static int check_ref(const struct spice_image *img, struct spice_image_ref r,
		     uint32_t max)
{
	return r.len <= max && (uint64_t)r.offset + r.len <= img->blobs_size;
}

/* An absolute path without NUL bytes. */
static int check_path(const struct spice_image *img, struct spice_image_ref r)
{
	const char *p = spice_image_blob(img, r);

	return r.len && check_ref(img, r, SPICE_IMAGE_MAX_PATH) && p[0] == '/' &&
	       !memchr(p, 0, r.len);
}

static int check_process(const struct spice_image *img, char *why)
{
	const struct spice_image_process *p = img->process;
	uint64_t nr_files = img->nr[SPICE_SECT_FILES];
	uint64_t at_type;

	if ((p->flags & ~SPICE_PROC_FLAGS) ||
	    !all_zero(p->reserved, sizeof(p->reserved)))
		return fail(why, -EINVAL, "process: unknown flags or reserved field set");
	/* prctl(PR_SET_MDWE) refuses NO_INHERIT alone. */
	if ((p->flags & SPICE_PROC_MDWE_NO_INHERIT) &&
	    !(p->flags & SPICE_PROC_MDWE_REFUSE_EXEC_GAIN))
		return fail(why, -EINVAL,
			    "process: MDWE_NO_INHERIT without MDWE_REFUSE_EXEC_GAIN");
	if (p->oom_score_adj < -SPICE_OOM_SCORE_ADJ_MAX ||
	    p->oom_score_adj > SPICE_OOM_SCORE_ADJ_MAX)
		return fail(why, -EINVAL, "process: oom_score_adj %d out of range",
			    p->oom_score_adj);
	if (p->start_code > p->end_code || p->start_data > p->end_data ||
	    p->start_brk > p->brk || p->arg_start > p->arg_end ||
	    p->env_start > p->env_end || p->end_code > SPICE_USER_MAX ||
	    p->end_data > SPICE_USER_MAX || p->brk > SPICE_USER_MAX ||
	    p->start_stack > SPICE_USER_MAX || p->arg_end > SPICE_USER_MAX ||
	    p->env_end > SPICE_USER_MAX || p->vdso > SPICE_USER_MAX)
		return fail(why, -EINVAL, "process: mm layout out of order or range");
	if (!memchr(p->comm, 0, sizeof(p->comm)))
		return fail(why, -EINVAL, "process: comm not NUL-terminated");
	if (p->exe_file != SPICE_IMAGE_NONE && p->exe_file >= nr_files)
		return fail(why, -EINVAL, "process: exe file %u of %llu files",
			    p->exe_file, (unsigned long long)nr_files);
	if (p->cwd.len && !check_path(img, p->cwd))
		return fail(why, -EINVAL, "process: cwd is not an absolute path in the blobs");
	if (p->auxv.len > SPICE_IMAGE_MAX_AUXV)
		return fail(why, -E2BIG, "process: auxv of %u bytes, limit %u",
			    p->auxv.len, SPICE_IMAGE_MAX_AUXV);
	if (!check_ref(img, p->auxv, SPICE_IMAGE_MAX_AUXV) || p->auxv.len % 16)
		return fail(why, -EINVAL, "process: auxv outside the blobs or not pairs of words");
	if (p->auxv.len) {
		/* The last pair is AT_NULL; blobs are only byte-aligned. */
		memcpy(&at_type, (const char *)spice_image_blob(img, p->auxv) +
		       p->auxv.len - 16, sizeof(at_type));
		if (at_type)
			return fail(why, -EINVAL, "process: auxv does not end with AT_NULL");
	}
	return 0;
}

/*
 * A policy sched_setattr(2) takes without admission, a priority only with
 * a real-time one, a nice value in range.
 */
static int sched_ok(const struct spice_image_thread *t)
{
	uint32_t policy = t->sched_policy & ~(uint32_t)SCHED_RESET_ON_FORK;

	if (t->nice < -20 || t->nice > 19)
		return 0;
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return t->sched_priority >= 1 && t->sched_priority <= 99;
	return (policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE) &&
	       !t->sched_priority;
}

static int check_threads(const struct spice_image *img, char *why)
{
	const struct spice_image_thread *t = spice_image_table(img,
						SPICE_SECT_THREADS, NULL);
	uint64_t i, j, n = img->nr[SPICE_SECT_THREADS];

	for (i = 0; i < n; i++) {
		if (t[i].flags || t[i].reserved0 || t[i].reserved)
			return fail(why, -EINVAL,
				    "thread %llu: unknown flags or reserved field set",
				    (unsigned long long)i);
		if (!sched_ok(&t[i]))
			return fail(why, -EINVAL,
				    "thread %llu: scheduling policy %#x, priority %u, nice %d",
				    (unsigned long long)i, t[i].sched_policy,
				    t[i].sched_priority, t[i].nice);
		if (t[i].tid <= 0)
			return fail(why, -EINVAL, "thread %llu: tid %d",
				    (unsigned long long)i, t[i].tid);
		if (t[i].pdeath_signal > 64)
			return fail(why, -EINVAL, "thread %llu: pdeath_signal %u",
				    (unsigned long long)i, t[i].pdeath_signal);
		if (t[i].xstate.len > SPICE_IMAGE_MAX_XSTATE)
			return fail(why, -E2BIG, "thread %llu: xstate of %u bytes, limit %u",
				    (unsigned long long)i, t[i].xstate.len,
				    SPICE_IMAGE_MAX_XSTATE);
		if (!check_ref(img, t[i].xstate, SPICE_IMAGE_MAX_XSTATE))
			return fail(why, -EINVAL, "thread %llu: xstate outside the blobs",
				    (unsigned long long)i);
		if ((t[i].ss_size && !end_of(t[i].ss_sp, t[i].ss_size)) ||
		    end_of(t[i].ss_sp, t[i].ss_size) > SPICE_USER_MAX ||
		    (t[i].rseq && !t[i].rseq_len))
			return fail(why, -EINVAL, "thread %llu: bad sigaltstack or rseq",
				    (unsigned long long)i);
		/* Quadratic, but bounded by SPICE_IMAGE_MAX_THREADS. */
		for (j = 0; j < i; j++)
			if (t[j].tid == t[i].tid)
				return fail(why, -EINVAL, "thread %llu: tid %d repeated",
					    (unsigned long long)i, t[i].tid);
	}
	return 0;
}

/* Each soft limit at most its hard limit, as setrlimit(2) requires. */
static int check_rlimits(const struct spice_image *img, char *why)
{
	const struct spice_image_rlimit *r = spice_image_table(img,
						SPICE_SECT_RLIMITS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_RLIMITS];

	for (i = 0; i < n; i++)
		if (r[i].cur > r[i].max)
			return fail(why, -EINVAL, "rlimit %llu: soft limit above hard limit",
				    (unsigned long long)i);
	return 0;
}

/* Times a ktime_t holds (at most 2^63 - 1 ns), as the kernel requires. */
static int check_itimers(const struct spice_image *img, char *why)
{
	const struct spice_image_itimer *it = spice_image_table(img,
						SPICE_SECT_ITIMERS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_ITIMERS];

	for (i = 0; i < n; i++)
		if (it[i].value_ns > INT64_MAX || it[i].interval_ns > INT64_MAX)
			return fail(why, -EINVAL, "itimer %llu: time over 2^63 - 1 ns",
				    (unsigned long long)i);
	return 0;
}

/*
 * Pending signals, as restore_process() takes them: for a thread of the
 * image or the process, sorted by it; a signal that can be pending, a
 * standard one once per queue; nothing after the kernel's 48-byte siginfo.
 */
static int check_signals(const struct spice_image *img, char *why)
{
	const struct spice_image_signal *s = spice_image_table(img,
						SPICE_SECT_SIGNALS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_SIGNALS], standard = 0;
	static const uint8_t zero[sizeof(s->info) - 48];
	int32_t sig;

	for (i = 0; i < n; i++, s++) {
		if (s->reserved)
			return fail(why, -EINVAL, "signal %llu: reserved field set",
				    (unsigned long long)i);
		if (s->thread != SPICE_IMAGE_NONE &&
		    s->thread >= img->nr[SPICE_SECT_THREADS])
			return fail(why, -EINVAL, "signal %llu: no thread %u",
				    (unsigned long long)i, s->thread);
		if (i && s->thread < s[-1].thread)
			return fail(why, -EINVAL, "signal %llu: not sorted by thread",
				    (unsigned long long)i);
		if (memcmp(s->info + 48, zero, sizeof(zero)))
			return fail(why, -EINVAL, "signal %llu: bytes set after the siginfo",
				    (unsigned long long)i);
		if (i && s->thread != s[-1].thread)
			standard = 0;
		memcpy(&sig, s->info, sizeof(sig));
		if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
			return fail(why, -EINVAL, "signal %llu: signal %d cannot be pending",
				    (unsigned long long)i, sig);
		if (sig < 32 && (standard & 1ULL << sig))
			return fail(why, -EINVAL, "signal %llu: signal %d twice in one queue",
				    (unsigned long long)i, sig);
		if (sig < 32)
			standard |= 1ULL << sig;
	}
	return 0;
}

/* A clock whose timers restore_process() makes: not a CPU-time clock. */
static int timer_clock_ok(int32_t clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
	       clock == CLOCK_BOOTTIME || clock == CLOCK_REALTIME_ALARM ||
	       clock == CLOCK_BOOTTIME_ALARM || clock == CLOCK_TAI;
}

/*
 * POSIX timers, as restore_process() takes them: ids in order, each once;
 * a clock above; a signal for the kinds that send one, a thread of the
 * image for SIGEV_THREAD_ID; times of at most 2^63 - 1 ns.
 */
static int check_posix_timers(const struct spice_image *img, char *why)
{
	const struct spice_image_posix_timer *t = spice_image_table(img,
						SPICE_SECT_POSIX_TIMERS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_POSIX_TIMERS];
	int to_thread, sends;

	for (i = 0; i < n; i++, t++) {
		to_thread = t->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID);
		sends = t->notify == SIGEV_SIGNAL || t->notify == SIGEV_THREAD ||
			to_thread;
		if (t->id < 0 || (i && t->id <= t[-1].id))
			return fail(why, -EINVAL, "posix timer %llu: id %d out of order",
				    (unsigned long long)i, t->id);
		if (t->reserved)
			return fail(why, -EINVAL, "posix timer %d: reserved field set", t->id);
		if (!timer_clock_ok(t->clock))
			return fail(why, -EINVAL, "posix timer %d: clock %d", t->id, t->clock);
		if ((!sends && t->notify != SIGEV_NONE) || t->signo < !!sends ||
		    t->signo > 64)
			return fail(why, -EINVAL, "posix timer %d: notify %d with signal %d",
				    t->id, t->notify, t->signo);
		if (to_thread ? t->thread >= img->nr[SPICE_SECT_THREADS] :
		    t->thread != SPICE_IMAGE_NONE)
			return fail(why, -EINVAL, "posix timer %d: thread %u", t->id,
				    t->thread);
		if (t->value_ns > INT64_MAX || t->interval_ns > INT64_MAX)
			return fail(why, -EINVAL, "posix timer %d: time over 2^63 - 1 ns",
				    t->id);
	}
	return 0;
}

static int check_files(const struct spice_image *img, char *why)
{
	const struct spice_image_file *f = spice_image_table(img,
						SPICE_SECT_FILES, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_FILES];

	for (i = 0; i < n; i++) {
		if (f[i].flags & ~(SPICE_FILE_HAS_SHA256 |
				   SPICE_FILE_HAS_GENERATION | SPICE_FILE_MADE))
			return fail(why, -EINVAL, "file %llu: unknown flags %#x",
				    (unsigned long long)i, f[i].flags);
		if ((f[i].flags & SPICE_FILE_MADE) &&
		    (f[i].flags != SPICE_FILE_MADE || !S_ISREG(f[i].mode) ||
		     (f[i].mode & ~(S_IFMT | 07777)) || f[i].rdev ||
		     f[i].generation || f[i].size > INT64_MAX))
			return fail(why, -EINVAL,
				    "file %llu: a made file must be a regular file with no other flag, rdev or generation",
				    (unsigned long long)i);
		if (!S_ISREG(f[i].mode) && !S_ISDIR(f[i].mode) &&
		    !S_ISCHR(f[i].mode))
			return fail(why, -EINVAL,
				    "file %llu: mode %#o is not a regular file, directory or character device",
				    (unsigned long long)i, f[i].mode);
		if (f[i].mtime_nsec >= 1000000000U)
			return fail(why, -EINVAL, "file %llu: mtime nanoseconds %u",
				    (unsigned long long)i, f[i].mtime_nsec);
		if (!check_path(img, f[i].path))
			return fail(why, -EINVAL,
				    "file %llu: path is not an absolute path in the blobs",
				    (unsigned long long)i);
		if (!(f[i].flags & SPICE_FILE_HAS_SHA256) &&
		    !all_zero(f[i].sha256, sizeof(f[i].sha256)))
			return fail(why, -EINVAL, "file %llu: hash without SPICE_FILE_HAS_SHA256",
				    (unsigned long long)i);
		if ((f[i].flags & SPICE_FILE_HAS_SHA256) && !S_ISREG(f[i].mode))
			return fail(why, -EINVAL,
				    "file %llu: a content hash on a file that is not regular",
				    (unsigned long long)i);
	}
	return 0;
}

const char *spice_image_made_name(const struct spice_image *img,
				  const struct spice_image_file *f,
				  uint32_t kind, uint32_t *len)
{
	static const char memfd[] = "/memfd:";
	const char *p = spice_image_blob(img, f->path), *name;

	if (kind == SPICE_MADE_MEMFD) {
		if (f->path.len < sizeof(memfd) - 1 ||
		    memcmp(p, memfd, sizeof(memfd) - 1))
			return NULL;
		*len = f->path.len - (sizeof(memfd) - 1);
		/* memfd_create() takes NAME_MAX less its "memfd:" prefix. */
		return *len <= NAME_MAX - 6 ? p + sizeof(memfd) - 1 : NULL;
	}
	for (*len = 0; p[f->path.len - *len - 1] != '/'; )
		(*len)++;
	name = p + f->path.len - *len;
	return *len && *len <= NAME_MAX ? name : NULL;
}

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define SEALS_EXEC_IMPLIES (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

static int check_made_files(const struct spice_image *img, char *why)
{
	const struct spice_image_made_file *m = spice_image_table(img,
						SPICE_SECT_MADE_FILES, NULL);
	const struct spice_image_file *files = spice_image_table(img,
						SPICE_SECT_FILES, NULL);
	uint64_t i, nr_made = 0, nr_files = img->nr[SPICE_SECT_FILES];
	uint32_t len;

	for (i = 0; i < nr_files; i++)
		nr_made += !!(files[i].flags & SPICE_FILE_MADE);
	if (nr_made != img->nr[SPICE_SECT_MADE_FILES])
		return fail(why, -EINVAL, "%llu made files, %llu made-file entries",
			    (unsigned long long)nr_made,
			    (unsigned long long)img->nr[SPICE_SECT_MADE_FILES]);
	for (i = 0; i < nr_made; i++, m++) {
		if ((i && m->file <= m[-1].file) || m->file >= nr_files ||
		    !(files[m->file].flags & SPICE_FILE_MADE))
			return fail(why, -EINVAL,
				    "made file %llu: file %u is not the next made file",
				    (unsigned long long)i, m->file);
		if ((m->kind != SPICE_MADE_MEMFD && m->kind != SPICE_MADE_UNLINKED) ||
		    m->reserved || (m->seals & ~SPICE_MADE_SEALS) ||
		    (m->kind != SPICE_MADE_MEMFD && m->seals))
			return fail(why, -EINVAL, "made file %llu: kind %u, seals %#x",
				    (unsigned long long)i, m->kind, m->seals);
		if (!spice_image_made_name(img, &files[m->file], m->kind, &len))
			return fail(why, -EINVAL,
				    "made file %llu: its path gives no name to make it with",
				    (unsigned long long)i);
		/* As F_ADD_SEALS gives them: sealing an executable one seals writes. */
		if ((m->seals & F_SEAL_EXEC) && (files[m->file].mode & 0111) &&
		    (m->seals & SEALS_EXEC_IMPLIES) != SEALS_EXEC_IMPLIES)
			return fail(why, -EINVAL,
				    "made file %llu: F_SEAL_EXEC on an executable memfd without the seals it implies",
				    (unsigned long long)i);
	}
	return 0;
}

static int check_file_data(const struct spice_image *img, char *why)
{
	const struct spice_image_file_extent *e = spice_image_table(img,
						SPICE_SECT_FILE_DATA, NULL);
	const struct spice_image_file *files = spice_image_table(img,
						SPICE_SECT_FILES, NULL);
	const struct spice_image_header *h = img->hdr;
	uint64_t i, prev_end = 0, end, size;

	for (i = 0; i < img->nr[SPICE_SECT_FILE_DATA]; i++, e++) {
		if (e->file >= img->nr[SPICE_SECT_FILES] ||
		    !(files[e->file].flags & SPICE_FILE_MADE) ||
		    (i && e->file < e[-1].file) || e->reserved)
			return fail(why, -EINVAL,
				    "file extent %llu: file %u is not a made file in order",
				    (unsigned long long)i, e->file);
		if (i && e->file != e[-1].file)
			prev_end = 0;
		size = files[e->file].size;
		end = end_of(e->pos, e->len);
		if (!e->len || !aligned(e->pos | e->len | e->offset) ||
		    e->pos < prev_end || !end ||
		    end > end_of(size, SPICE_PAGE_SIZE - 1) / SPICE_PAGE_SIZE * SPICE_PAGE_SIZE)
			return fail(why, -EINVAL,
				    "file extent %llu: [%#llx, +%#llx) overlaps or is outside the file",
				    (unsigned long long)i, (unsigned long long)e->pos,
				    (unsigned long long)e->len);
		prev_end = end;
		end = end_of(e->offset, e->len);
		if (e->offset < h->data_offset || !end ||
		    end > h->data_offset + h->data_size)
			return fail(why, -EINVAL,
				    "file extent %llu: data outside the data area",
				    (unsigned long long)i);
	}
	return 0;
}

/*
 * An eventfd, signalfd, timerfd, epoll file or socket: O_RDWR, maybe
 * O_NONBLOCK.
 */
static int check_anon_fd(const struct spice_image_fd *d, char *why)
{
	if ((d->open_flags & ~O_NONBLOCK) != O_RDWR)
		return fail(why, -EINVAL, "fd %d: open flags %#x, not O_RDWR [| O_NONBLOCK]",
			    d->fd, d->open_flags);
	if (d->file != SPICE_IMAGE_NONE)
		return fail(why, -EINVAL, "fd %d: a file index on a non-file fd", d->fd);
	if ((d->type == SPICE_FD_EPOLL || d->type == SPICE_FD_TIMERFD ||
	     d->type == SPICE_FD_SOCKET) && d->pos)
		return fail(why, -EINVAL, "fd %d: an epoll fd, timerfd or socket with a position",
			    d->fd);
	/* A mask signalfd(2) would not keep is not one it made. */
	if (d->type == SPICE_FD_SIGNALFD &&
	    (d->pos & (1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1))))
		return fail(why, -EINVAL, "fd %d: a signalfd mask with SIGKILL or SIGSTOP",
			    d->fd);
	return 0;
}

/*
 * A pidfd: O_RDWR, maybe O_NONBLOCK and O_EXCL (PIDFD_THREAD), of a thread
 * of the image; one of the process (no O_EXCL) is of its main thread.
 */
static int check_pidfd(const struct spice_image *img,
		       const struct spice_image_fd *d, char *why)
{
	if ((d->open_flags & ~(O_NONBLOCK | O_EXCL)) != O_RDWR)
		return fail(why, -EINVAL,
			    "fd %d: open flags %#x, not O_RDWR [| O_NONBLOCK] [| O_EXCL]",
			    d->fd, d->open_flags);
	if (d->file != SPICE_IMAGE_NONE || d->pos || d->type_flags ||
	    d->data.offset || d->data.len)
		return fail(why, -EINVAL, "fd %d: a pidfd with a file, position or data",
			    d->fd);
	if (d->open_flags & O_EXCL ? d->object >= img->nr[SPICE_SECT_THREADS] :
	    d->object != 0)
		return fail(why, -EINVAL, "fd %d: a pidfd of thread %u", d->fd, d->object);
	return 0;
}

/*
 * A pipe's or socket pair's end: open flags that fit it (O_NONBLOCK, and
 * packet mode on a pipe), a type for a pair, and an object that is the
 * first fd of the same pipe or pair.
 */
static int check_channel_fd(const struct spice_image *img,
			    const struct spice_image_fd *fds, uint64_t i, char *why)
{
	const struct spice_image_fd *d = &fds[i], *first;
	uint32_t kind = d->type_flags & ~SPICE_FD_SECOND_END;
	uint32_t mode = O_RDWR, extra = O_NONBLOCK;

	if (d->type == SPICE_FD_PIPE) {
		mode = d->type_flags & SPICE_FD_SECOND_END ? O_WRONLY : O_RDONLY;
		extra = O_NONBLOCK | O_DIRECT;
		if (kind)
			return fail(why, -EINVAL, "fd %d: a socket type on a pipe", d->fd);
	} else if (__builtin_popcount(kind) != 1 || (kind & ~SPICE_SOCKETPAIR_TYPES)) {
		return fail(why, -EINVAL, "fd %d: socket pair type flags %#x",
			    d->fd, d->type_flags);
	}
	if ((d->open_flags & O_ACCMODE) != mode ||
	    (d->open_flags & ~(O_ACCMODE | extra)))
		return fail(why, -EINVAL, "fd %d: open flags %#x on this end",
			    d->fd, d->open_flags);
	if (d->file != SPICE_IMAGE_NONE || d->pos)
		return fail(why, -EINVAL, "fd %d: a file index or position on a %s",
			    d->fd, d->type == SPICE_FD_PIPE ? "pipe" : "socket pair");
	if (d->object > i)
		return fail(why, -EINVAL, "fd %d: object %u after the fd", d->fd,
			    d->object);
	if ((d->data.offset || d->data.len) &&
	    (d->type != SPICE_FD_PIPE || d->object != i || !d->data.len ||
	     !check_ref(img, d->data, SPICE_IMAGE_MAX_PIPE_DATA)))
		return fail(why, -EINVAL,
			    "fd %d: data other than up to %u bytes inside the blobs on a pipe's first fd",
			    d->fd, SPICE_IMAGE_MAX_PIPE_DATA);
	first = &fds[d->object];
	if (first->type != d->type || first->object != d->object ||
	    (first->type_flags & ~SPICE_FD_SECOND_END) != kind)
		return fail(why, -EINVAL, "fd %d: object %u is not the first fd of the same kind",
			    d->fd, d->object);
	return 0;
}

/*
 * The fds of one end of a pipe or pair share one open file, so they must
 * agree on its flags.  The kernel finds out only while rebuilding (with
 * the same EINVAL); said here, spice verify catches it too.
 */
static int check_channel_flags(const struct spice_image_fd *d, uint64_t n,
			       char *why)
{
	uint32_t *flags = NULL, slot;
	uint64_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (d[i].type != SPICE_FD_PIPE && d[i].type != SPICE_FD_SOCKETPAIR)
			continue;
		if (!flags) {
			flags = malloc(2 * n * sizeof(*flags));
			if (!flags)
				return fail(why, -ENOMEM, "out of memory");
			memset(flags, 0xff, 2 * n * sizeof(*flags));
		}
		slot = 2 * d[i].object + (d[i].type_flags & SPICE_FD_SECOND_END ? 1 : 0);
		if (flags[slot] == ~0U)
			flags[slot] = d[i].open_flags;
		else if (flags[slot] != d[i].open_flags)
			err = fail(why, -EINVAL,
				   "fd %d: open flags %#x, another fd of the same end has %#x",
				   d[i].fd, d[i].open_flags, flags[slot]);
	}
	free(flags);
	return err;
}

/*
 * Fd @i shares the open file of an earlier fd (dup()): the first of that
 * file, of a kind shared this way, with the same fields.
 */
static int check_shared_fd(const struct spice_image_fd *d, uint64_t i, char *why)
{
	const struct spice_image_fd *first;

	if (d[i].shares - 1 >= i)
		return fail(why, -EINVAL, "fd %d: shares the file of a later fd",
			    d[i].fd);
	first = &d[d[i].shares - 1];
	if (first->shares || first->type != d[i].type ||
	    first->open_flags != d[i].open_flags || first->file != d[i].file ||
	    first->type_flags != d[i].type_flags || first->pos != d[i].pos ||
	    first->object != d[i].object)
		return fail(why, -EINVAL, "fd %d: differs from fd %d, whose file it shares",
			    d[i].fd, first->fd);
	if (d[i].type != SPICE_FD_FILE && d[i].type != SPICE_FD_SUPPLIED &&
	    d[i].type != SPICE_FD_EVENTFD && d[i].type != SPICE_FD_SIGNALFD &&
	    d[i].type != SPICE_FD_TIMERFD && d[i].type != SPICE_FD_PIDFD &&
	    d[i].type != SPICE_FD_SOCKET)
		return fail(why, -EINVAL, "fd %d: type %u cannot share a file this way",
			    d[i].fd, d[i].type);
	return 0;
}

static int check_fds(const struct spice_image *img, char *why)
{
	const struct spice_image_fd *d = spice_image_table(img, SPICE_SECT_FDS,
							   NULL);
	uint64_t i, n = img->nr[SPICE_SECT_FDS];
	uint64_t nr_files = img->nr[SPICE_SECT_FILES];
	int err;

	for (i = 0; i < n; i++) {
		if (d[i].fd_flags & ~1U)
			return fail(why, -EINVAL, "fd %d: unknown flags", d[i].fd);
		if (d[i].shares) {
			err = check_shared_fd(d, i, why);
			if (err)
				return err;
		}
		if (d[i].fd < 0 || d[i].fd >= SPICE_IMAGE_MAX_FD ||
		    (i && d[i].fd <= d[i - 1].fd))
			return fail(why, -EINVAL, "fd %d: out of range or out of order",
				    d[i].fd);
		if (d[i].type == SPICE_FD_PIPE || d[i].type == SPICE_FD_SOCKETPAIR) {
			err = check_channel_fd(img, d, i, why);
			if (err)
				return err;
			continue;
		}
		if (d[i].type == SPICE_FD_PIDFD) {
			err = check_pidfd(img, &d[i], why);
			if (err)
				return err;
			continue;
		}
		if (d[i].object || d[i].data.offset || d[i].data.len)
			return fail(why, -EINVAL, "fd %d: an object or data on type %u",
				    d[i].fd, d[i].type);
		if (d[i].type_flags &&
		    (d[i].type != SPICE_FD_EVENTFD ||
		     (d[i].type_flags & ~SPICE_EVENTFD_SEMAPHORE)))
			return fail(why, -EINVAL, "fd %d: type flags %#x on type %u",
				    d[i].fd, d[i].type_flags, d[i].type);
		switch (d[i].type) {
		case SPICE_FD_FILE:
			if (d[i].file >= nr_files)
				return fail(why, -EINVAL, "fd %d: file %u of %llu files",
					    d[i].fd, d[i].file,
					    (unsigned long long)nr_files);
			break;
		case SPICE_FD_SUPPLIED:
			if (d[i].file != SPICE_IMAGE_NONE)
				return fail(why, -EINVAL, "fd %d: a file index on a non-file fd",
					    d[i].fd);
			break;
		case SPICE_FD_EVENTFD:
		case SPICE_FD_EPOLL:
		case SPICE_FD_SIGNALFD:
		case SPICE_FD_TIMERFD:
		case SPICE_FD_SOCKET:
			err = check_anon_fd(&d[i], why);
			if (err)
				return err;
			break;
		default:
			return fail(why, -EINVAL, "fd %d: unknown type %u",
				    d[i].fd, d[i].type);
		}
	}
	return check_channel_flags(d, n, why);
}

const struct spice_image_fd *spice_image_find_fd(const struct spice_image *img,
						 int32_t fd)
{
	const struct spice_image_fd *d = spice_image_table(img, SPICE_SECT_FDS,
							   NULL);
	uint64_t lo = 0, hi = img->nr[SPICE_SECT_FDS], mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (d[mid].fd == fd)
			return &d[mid];
		if (d[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int check_epoll(const struct spice_image *img, char *why)
{
	const struct spice_image_epoll_watch *w =
		spice_image_table(img, SPICE_SECT_EPOLL, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_EPOLL];
	const struct spice_image_fd *ep;

	for (i = 0; i < n; i++) {
		if (w[i].reserved || (w[i].events & ~SPICE_EPOLL_EVENTS))
			return fail(why, -EINVAL, "epoll watch %llu: events %#x or reserved field",
				    (unsigned long long)i, w[i].events);
		if ((w[i].events & EPOLLEXCLUSIVE) &&
		    (w[i].events & ~SPICE_EPOLL_EXCLUSIVE_OK))
			return fail(why, -EINVAL, "epoll watch %llu: EPOLLEXCLUSIVE with %#x",
				    (unsigned long long)i, w[i].events);
		if (i && (w[i].epfd < w[i - 1].epfd ||
			  (w[i].epfd == w[i - 1].epfd && w[i].tfd <= w[i - 1].tfd)))
			return fail(why, -EINVAL, "epoll watch %llu: out of order or repeated",
				    (unsigned long long)i);
		ep = spice_image_find_fd(img, w[i].epfd);
		if (!ep || ep->type != SPICE_FD_EPOLL)
			return fail(why, -EINVAL, "epoll watch %llu: fd %d is not an epoll fd",
				    (unsigned long long)i, w[i].epfd);
		if (w[i].tfd == w[i].epfd || !spice_image_find_fd(img, w[i].tfd))
			return fail(why, -EINVAL, "epoll watch %llu: fd %d watches fd %d, %s",
				    (unsigned long long)i, w[i].epfd, w[i].tfd,
				    w[i].tfd == w[i].epfd ? "itself" : "which is not in the image");
	}
	return 0;
}

/*
 * File locks, as restore_process() takes them: sorted by fd, each on the
 * first fd of an open file whose mode allows it; a flock lock covers the
 * whole file, and is the first lock of its fd (so the only flock one).
 */
static int check_locks(const struct spice_image *img, char *why)
{
	const struct spice_image_lock *l = spice_image_table(img,
						SPICE_SECT_LOCKS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_LOCKS];
	const struct spice_image_fd *d;
	uint32_t acc;

	for (i = 0; i < n; i++, l++) {
		if (i && l->fd < l[-1].fd)
			return fail(why, -EINVAL, "lock %llu: fd %d out of order",
				    (unsigned long long)i, l->fd);
		if (i && l->kind == SPICE_LOCK_FLOCK && l->fd == l[-1].fd)
			return fail(why, -EINVAL,
				    "lock %llu: a flock lock after another lock of fd %d",
				    (unsigned long long)i, l->fd);
		if (l->reserved ||
		    (l->type != SPICE_LOCK_READ && l->type != SPICE_LOCK_WRITE) ||
		    l->start > l->end || l->end > SPICE_LOCK_EOF)
			return fail(why, -EINVAL, "lock %llu on fd %d: type %u, range %llu-%llu",
				    (unsigned long long)i, l->fd, l->type,
				    (unsigned long long)l->start,
				    (unsigned long long)l->end);
		if (l->kind == SPICE_LOCK_FLOCK ?
		    l->start || l->end != SPICE_LOCK_EOF :
		    l->kind != SPICE_LOCK_POSIX && l->kind != SPICE_LOCK_OFD)
			return fail(why, -EINVAL, "lock %llu on fd %d: kind %u with that range",
				    (unsigned long long)i, l->fd, l->kind);
		d = spice_image_find_fd(img, l->fd);
		if (!d || d->type != SPICE_FD_FILE || d->shares ||
		    (d->open_flags & O_PATH))
			return fail(why, -EINVAL,
				    "lock %llu: fd %d is not the first fd of an open file",
				    (unsigned long long)i, l->fd);
		acc = d->open_flags & O_ACCMODE;
		if (acc == O_ACCMODE)
			return fail(why, -EINVAL,
				    "lock %llu: fd %d is open for neither reading nor writing",
				    (unsigned long long)i, l->fd);
		if (l->kind != SPICE_LOCK_FLOCK &&
		    (l->type == SPICE_LOCK_WRITE ? acc == O_RDONLY : acc == O_WRONLY))
			return fail(why, -EINVAL, "lock %llu: fd %d is not open for %s",
				    (unsigned long long)i, l->fd,
				    l->type == SPICE_LOCK_WRITE ? "writing" : "reading");
	}
	return 0;
}

/*
 * The timers of the timerfds, as restore_process() takes them: one per
 * timerfd open file (its first fd), in fd order; a clock timerfd_create(2)
 * takes, settime flags timerfd_settime(2) takes, times of at most
 * 2^63 - 1 ns.
 */
static int check_timerfds(const struct spice_image *img, char *why)
{
	const struct spice_image_timerfd *t = spice_image_table(img,
						SPICE_SECT_TIMERFDS, NULL);
	const struct spice_image_fd *d = spice_image_table(img, SPICE_SECT_FDS,
							   NULL);
	uint64_t i, n = img->nr[SPICE_SECT_TIMERFDS], files = 0;

	for (i = 0; i < img->nr[SPICE_SECT_FDS]; i++)
		files += d[i].type == SPICE_FD_TIMERFD && !d[i].shares;
	if (files != n)
		return fail(why, -EINVAL, "%llu timerfd timers for %llu timerfds",
			    (unsigned long long)n, (unsigned long long)files);
	for (i = 0; i < n; i++, t++) {
		d = spice_image_find_fd(img, t->fd);
		if (!d || d->type != SPICE_FD_TIMERFD || d->shares ||
		    (i && t->fd <= t[-1].fd))
			return fail(why, -EINVAL,
				    "timerfd timer %llu: fd %d is not the next timerfd",
				    (unsigned long long)i, t->fd);
		if (t->reserved)
			return fail(why, -EINVAL, "timerfd %d: reserved field set", t->fd);
		if (t->clock == CLOCK_TAI || !timer_clock_ok(t->clock))
			return fail(why, -EINVAL, "timerfd %d: clock %d", t->fd, t->clock);
		if (t->flags & ~(SPICE_TIMERFD_ABSTIME | SPICE_TIMERFD_CANCEL_ON_SET))
			return fail(why, -EINVAL, "timerfd %d: flags %#x", t->fd, t->flags);
		if (t->value_ns > INT64_MAX || t->interval_ns > INT64_MAX)
			return fail(why, -EINVAL, "timerfd %d: time over 2^63 - 1 ns", t->fd);
	}
	return 0;
}

/* A family, type and protocol that socket(2) takes and Spice restores. */
static int socket_kind_ok(const struct spice_image_socket *s)
{
	switch (s->family) {
	case AF_UNIX:
		return !s->protocol && (s->type == SOCK_STREAM || s->type == SOCK_DGRAM ||
					s->type == SOCK_SEQPACKET);
	case AF_INET:
	case AF_INET6:
		return s->type == SOCK_STREAM ? s->protocol == IPPROTO_TCP :
		       s->type == SOCK_DGRAM && s->protocol == IPPROTO_UDP;
	}
	return 0;
}

static int zero_from(const void *p, size_t from, size_t len)
{
	for (; from < len; from++)
		if (((const uint8_t *)p)[from])
			return 0;
	return 1;
}

/*
 * The address of a bound or listening socket, as getsockname(2) gives it:
 * of its family, and for AF_UNIX an abstract name or an absolute path
 * with its NUL; none for the other states.
 */
static int socket_addr_ok(const struct spice_image_socket *s)
{
	const size_t path = offsetof(struct sockaddr_un, sun_path);
	const uint8_t *end;
	sa_family_t family;

	if (s->addr_len > sizeof(s->addr) || !zero_from(s->addr, s->addr_len, sizeof(s->addr)))
		return 0;
	if (s->state != SPICE_SOCKET_BOUND && s->state != SPICE_SOCKET_LISTENING)
		return !s->addr_len;
	if (s->addr_len < sizeof(family))
		return 0;
	memcpy(&family, s->addr, sizeof(family));
	if (family != s->family)
		return 0;
	if (family == AF_INET)
		return s->addr_len == sizeof(struct sockaddr_in);
	if (family == AF_INET6)
		return s->addr_len == sizeof(struct sockaddr_in6);
	if (s->addr_len <= path || s->addr_len > sizeof(struct sockaddr_un))
		return 0;
	if (!s->addr[path])
		return 1;
	end = memchr(s->addr + path, 0, s->addr_len - path);
	return s->addr[path] == '/' && end == s->addr + s->addr_len - 1;
}

/* Options that the socket's family and protocol have. */
static int socket_options_ok(const struct spice_image_socket *s)
{
	size_t dev_len = strnlen(s->bind_dev, sizeof(s->bind_dev));
	int inet = s->family == AF_INET || s->family == AF_INET6;
	int tcp = inet && s->protocol == IPPROTO_TCP;

	if ((s->options & ~SPICE_SOCKOPTS) ||
	    (!(s->options & SPICE_SOCKOPT_LINGER) && s->linger) ||
	    s->rcvbuf > INT32_MAX / 2 || s->sndbuf > INT32_MAX / 2)
		return 0;
	if (s->family != AF_INET6 && (s->options & SPICE_SOCKOPT_V6ONLY))
		return 0;
	if (!inet && ((s->options & SPICE_SOCKOPT_FREEBIND) || dev_len))
		return 0;
	if (inet ? s->options & SPICE_SOCKOPT_PASSCRED :
	    s->options & SPICE_SOCKOPT_REUSEPORT)
		return 0;
	if (((s->options & SPICE_SOCKOPT_RCVBUFFORCE) && !s->rcvbuf) ||
	    ((s->options & SPICE_SOCKOPT_SNDBUFFORCE) && !s->sndbuf))
		return 0;
	if (!tcp && ((s->options & SPICE_SOCKOPT_TCP_NODELAY) || s->tcp_defer_accept ||
		     s->tcp_fastopen || s->tcp_keepidle || s->tcp_keepintvl ||
		     s->tcp_keepcnt || s->tcp_user_timeout))
		return 0;
	return dev_len < sizeof(s->bind_dev) &&
	       zero_from(s->bind_dev, dev_len, sizeof(s->bind_dev));
}

/*
 * The sockets, as restore_process() takes them: one per socket open file
 * (its first fd), in fd order; what socket(2) makes, options it takes, an
 * address for a bound or listening socket, a backlog for a listening
 * stream socket only.
 */
static int check_sockets(const struct spice_image *img, char *why)
{
	const struct spice_image_socket *s = spice_image_table(img,
						SPICE_SECT_SOCKETS, NULL);
	const struct spice_image_fd *d = spice_image_table(img, SPICE_SECT_FDS,
							   NULL);
	uint64_t i, n = img->nr[SPICE_SECT_SOCKETS], files = 0;

	for (i = 0; i < img->nr[SPICE_SECT_FDS]; i++)
		files += d[i].type == SPICE_FD_SOCKET && !d[i].shares;
	if (files != n)
		return fail(why, -EINVAL, "%llu socket entries for %llu sockets",
			    (unsigned long long)n, (unsigned long long)files);
	for (i = 0; i < n; i++, s++) {
		d = spice_image_find_fd(img, s->fd);
		if (!d || d->type != SPICE_FD_SOCKET || d->shares ||
		    (i && s->fd <= s[-1].fd))
			return fail(why, -EINVAL, "socket %llu: fd %d is not the next socket",
				    (unsigned long long)i, s->fd);
		if (s->state > SPICE_SOCKET_RESET || !socket_kind_ok(s))
			return fail(why, -EINVAL,
				    "socket %d: state %u, family %u, type %u, protocol %u",
				    s->fd, s->state, s->family, s->type, s->protocol);
		if (!socket_addr_ok(s))
			return fail(why, -EINVAL, "socket %d: address of %u bytes",
				    s->fd, s->addr_len);
		if (!socket_options_ok(s))
			return fail(why, -EINVAL, "socket %d: options its kind lacks",
				    s->fd);
		if (s->state == SPICE_SOCKET_LISTENING ?
		    s->type == SOCK_DGRAM || s->backlog > INT32_MAX : s->backlog)
			return fail(why, -EINVAL, "socket %d: backlog %u", s->fd,
				    s->backlog);
	}
	return 0;
}

static int check_interval(const struct spice_image *img, uint64_t vma_index,
			  const struct spice_image_vma *v, uint64_t k,
			  uint64_t prev_end, char *why)
{
	const struct mmap_restore_interval *iv = spice_image_table(img,
						SPICE_SECT_INTERVALS, NULL);
	const struct spice_image_header *h = img->hdr;
	uint64_t end;

	iv += k;
	end = end_of(iv->addr, iv->len);
	if (iv->reserved || !iv->len || !aligned(iv->addr) ||
	    !aligned(iv->len) || !aligned(iv->offset))
		return fail(why, -EINVAL,
			    "vma %llu: interval %llu empty, unaligned or reserved field set",
			    (unsigned long long)vma_index, (unsigned long long)k);
	if (iv->addr < prev_end || !end || end > v->end)
		return fail(why, -EINVAL,
			    "vma %llu: interval %llu [%#llx, +%#llx) outside the vma or out of order",
			    (unsigned long long)vma_index, (unsigned long long)k,
			    (unsigned long long)iv->addr,
			    (unsigned long long)iv->len);
	switch (iv->source) {
	case MMAP_RESTORE_SRC_IMAGE:
		end = end_of(iv->offset, iv->len);
		if (iv->offset < h->data_offset || !end ||
		    end > h->data_offset + h->data_size)
			return fail(why, -EINVAL,
				    "vma %llu: interval %llu: data at %llu outside the data area",
				    (unsigned long long)vma_index,
				    (unsigned long long)k,
				    (unsigned long long)iv->offset);
		break;
	case MMAP_RESTORE_SRC_ZERO:
		if (iv->offset)
			return fail(why, -EINVAL,
				    "vma %llu: interval %llu: zero interval with an offset",
				    (unsigned long long)vma_index,
				    (unsigned long long)k);
		break;
	case MMAP_RESTORE_SRC_FILE:
		if (iv->offset || v->file == SPICE_IMAGE_NONE)
			return fail(why, -EINVAL,
				    "vma %llu: interval %llu: file interval with an offset or without a file",
				    (unsigned long long)vma_index,
				    (unsigned long long)k);
		return 0;
	default:
		return fail(why, -EINVAL, "vma %llu: interval %llu: unknown source %u",
			    (unsigned long long)vma_index, (unsigned long long)k,
			    iv->source);
	}
	/* A shared file mapping shows the file; it has no contents of its own. */
	if ((v->flags & SPICE_VMA_SHARED) && v->file != SPICE_IMAGE_NONE)
		return fail(why, -EINVAL, "vma %llu: contents in a shared file mapping",
			    (unsigned long long)vma_index);
	return 0;
}

/*
 * The lock and advice flags under the rules of mlock2() and madvise(), and
 * MAYWRITE only where it means something: on a shared file mapping.
 */
static int check_vma_flags(uint64_t i, const struct spice_image_vma *v,
			   char *why)
{
	int file = v->file != SPICE_IMAGE_NONE;
	int shared = !!(v->flags & SPICE_VMA_SHARED);
	const char *what;

	if ((v->flags & SPICE_VMA_LOCKONFAULT) && !(v->flags & SPICE_VMA_LOCKED))
		what = "LOCKONFAULT without LOCKED";
	else if ((v->flags & SPICE_VMA_WIPEONFORK) && (shared || file))
		what = "WIPEONFORK on a shared or file mapping";
	else if ((v->flags & SPICE_VMA_HUGEPAGE) && (v->flags & SPICE_VMA_NOHUGEPAGE))
		what = "HUGEPAGE with NOHUGEPAGE";
	else if ((v->flags & SPICE_VMA_SEQUENTIAL) && (v->flags & SPICE_VMA_RANDOM))
		what = "SEQUENTIAL with RANDOM";
	else if ((v->flags & SPICE_VMA_MAYWRITE) && !(shared && file))
		what = "MAYWRITE on a mapping that is not a shared file mapping";
	else
		return 0;
	return fail(why, -EINVAL, "vma %llu: %s", (unsigned long long)i, what);
}

static int check_vmas(const struct spice_image *img, char *why)
{
	const struct spice_image_vma *v = spice_image_table(img,
						SPICE_SECT_VMAS, NULL);
	const struct spice_image_file *files = spice_image_table(img,
						SPICE_SECT_FILES, NULL);
	uint64_t i, k, n = img->nr[SPICE_SECT_VMAS];
	uint64_t next_iv = 0, prev_end = 0, iv_end;
	int err;

	for (i = 0; i < n; i++) {
		if (v[i].reserved || (v[i].flags & ~SPICE_VMA_FLAGS) ||
		    (v[i].prot & ~SPICE_PROT))
			return fail(why, -EINVAL,
				    "vma %llu: unknown prot, flags or reserved field set",
				    (unsigned long long)i);
		err = check_vma_flags(i, &v[i], why);
		if (err)
			return err;
		if (!aligned(v[i].start) || !aligned(v[i].end) ||
		    !aligned(v[i].pgoff) || v[i].start >= v[i].end ||
		    v[i].end > SPICE_USER_MAX || v[i].start < prev_end)
			return fail(why, -EINVAL,
				    "vma %llu: [%#llx, %#llx) unaligned, empty, out of range or out of order",
				    (unsigned long long)i,
				    (unsigned long long)v[i].start,
				    (unsigned long long)v[i].end);
		if (v[i].file == SPICE_IMAGE_NONE) {
			if (v[i].pgoff)
				return fail(why, -EINVAL, "vma %llu: anonymous with a file offset",
					    (unsigned long long)i);
			if ((v[i].flags & SPICE_VMA_SHARED) &&
			    (v[i].flags & SPICE_VMA_GROWSDOWN))
				return fail(why, -EINVAL, "vma %llu: shared and growing down",
					    (unsigned long long)i);
		} else if (v[i].file >= img->nr[SPICE_SECT_FILES] ||
			   !S_ISREG(files[v[i].file].mode)) {
			return fail(why, -EINVAL,
				    "vma %llu: file %u is not a regular file of the table",
				    (unsigned long long)i, v[i].file);
		} else if (!end_of(v[i].pgoff, v[i].end - v[i].start) ||
			   (v[i].flags & SPICE_VMA_GROWSDOWN)) {
			return fail(why, -EINVAL,
				    "vma %llu: file offset overflows or file-backed stack",
				    (unsigned long long)i);
		}
		if ((v[i].flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)) &&
		    (v[i].nr_intervals || v[i].file != SPICE_IMAGE_NONE))
			return fail(why, -EINVAL, "vma %llu: vdso or vvar with contents",
				    (unsigned long long)i);
		if (v[i].first_interval != next_iv)
			return fail(why, -EINVAL, "vma %llu: intervals start at %u, expected %llu",
				    (unsigned long long)i, v[i].first_interval,
				    (unsigned long long)next_iv);
		iv_end = (uint64_t)v[i].first_interval + v[i].nr_intervals;
		if (iv_end > img->nr[SPICE_SECT_INTERVALS])
			return fail(why, -EINVAL,
				    "vma %llu: intervals %u+%u beyond the table of %llu",
				    (unsigned long long)i, v[i].first_interval,
				    v[i].nr_intervals,
				    (unsigned long long)img->nr[SPICE_SECT_INTERVALS]);
		prev_end = v[i].start;
		for (k = v[i].first_interval; k < iv_end; k++) {
			const struct mmap_restore_interval *iv;

			err = check_interval(img, i, &v[i], k, prev_end, why);
			if (err)
				return err;
			iv = spice_image_table(img, SPICE_SECT_INTERVALS, NULL);
			prev_end = iv[k].addr + iv[k].len;
		}
		next_iv = iv_end;
		prev_end = v[i].end;
	}
	if (next_iv != img->nr[SPICE_SECT_INTERVALS])
		return fail(why, -EINVAL, "%llu intervals belong to no vma",
			    (unsigned long long)(img->nr[SPICE_SECT_INTERVALS] - next_iv));
	return 0;
}

static int vma_cmp(const void *key, const void *elt)
{
	const uint64_t *addr = key;
	const struct spice_image_vma *v = elt;

	if (*addr < v->start)
		return -1;
	return *addr >= v->end;
}

const struct spice_image_vma *spice_image_find_vma(const struct spice_image *img,
						   uint64_t addr)
{
	return bsearch(&addr, spice_image_table(img, SPICE_SECT_VMAS, NULL),
		       img->nr[SPICE_SECT_VMAS], sizeof(struct spice_image_vma),
		       vma_cmp);
}

static int ws_cmp(const void *a, const void *b)
{
	const struct mmap_restore_ws_range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int check_ws(const struct spice_image *img, char *why)
{
	const struct mmap_restore_ws_range *ws = spice_image_table(img,
						SPICE_SECT_WS, NULL);
	uint64_t i, n = img->nr[SPICE_SECT_WS];
	struct mmap_restore_ws_range *sorted;
	const struct spice_image_vma *v;
	uint64_t end;

	for (i = 0; i < n; i++) {
		if ((ws[i].flags & ~MMAP_RESTORE_WS_WRITE) || !ws[i].nr_pages ||
		    !aligned(ws[i].addr))
			return fail(why, -EINVAL, "ws %llu: unknown flags, empty or unaligned",
				    (unsigned long long)i);
		end = end_of(ws[i].addr, (uint64_t)ws[i].nr_pages * SPICE_PAGE_SIZE);
		v = spice_image_find_vma(img, ws[i].addr);
		if (!end || !v || end > v->end)
			return fail(why, -EINVAL, "ws %llu: [%#llx, +%u pages) not inside one vma",
				    (unsigned long long)i,
				    (unsigned long long)ws[i].addr,
				    ws[i].nr_pages);
		if ((ws[i].flags & MMAP_RESTORE_WS_WRITE) &&
		    !(v->prot & PROT_WRITE))
			return fail(why, -EINVAL, "ws %llu: written pages in a read-only vma",
				    (unsigned long long)i);
		if (v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR))
			return fail(why, -EINVAL, "ws %llu: in the vdso or vvar",
				    (unsigned long long)i);
	}
	if (!n)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, ws, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), ws_cmp);
	for (i = 1; i < n; i++) {
		end = sorted[i - 1].addr +
		      (uint64_t)sorted[i - 1].nr_pages * SPICE_PAGE_SIZE;
		if (end > sorted[i].addr)
			break;
	}
	end = i < n ? sorted[i].addr : 0;
	free(sorted);
	if (i < n)
		return fail(why, -EINVAL, "ws: ranges overlap at %#llx",
			    (unsigned long long)end);
	return 0;
}

int spice_image_parse(const void *buf, size_t len, uint64_t file_size,
		      struct spice_image **out, char *why)
{
	const struct spice_image_header *h = buf;
	struct spice_image *img;
	unsigned int t;
	int err;

	*out = NULL;
	if (why)
		why[0] = '\0';
	err = check_header(h, len, file_size, why);
	if (err)
		return err;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->meta = malloc(h->metadata_size);
	if (!img->meta) {
		free(img);
		return -ENOMEM;
	}
	memcpy(img->meta, buf, h->metadata_size);
	img->hdr = img->meta;
	err = check_sections(img, why);
	if (err)
		goto out;
	for (t = 1; t <= SPICE_SECT_MAX; t++)
		if (img->sect[t])
			img->nr[t] = img->sect[t]->nr_entries;
	img->blobs_size = img->nr[SPICE_SECT_BLOBS];
	img->process = spice_image_table(img, SPICE_SECT_PROCESS, NULL);
	err = check_process(img, why);
	if (!err)
		err = check_threads(img, why);
	if (!err)
		err = check_rlimits(img, why);
	if (!err)
		err = check_itimers(img, why);
	if (!err)
		err = check_signals(img, why);
	if (!err)
		err = check_posix_timers(img, why);
	if (!err)
		err = check_files(img, why);
	if (!err)
		err = check_made_files(img, why);
	if (!err)
		err = check_file_data(img, why);
	if (!err)
		err = check_fds(img, why);
	if (!err)
		err = check_epoll(img, why);
	if (!err)
		err = check_locks(img, why);
	if (!err)
		err = check_timerfds(img, why);
	if (!err)
		err = check_sockets(img, why);
	if (!err)
		err = check_vmas(img, why);
	if (!err)
		err = check_ws(img, why);
out:
	if (err) {
		spice_image_free(img);
		return err;
	}
	*out = img;
	return 0;
}

void spice_image_free(struct spice_image *img)
{
	if (!img)
		return;
	free(img->meta);
	free(img);
}

const struct spice_image_header *spice_image_header(const struct spice_image *img)
{
	return img->hdr;
}

const struct spice_image_process *spice_image_process(const struct spice_image *img)
{
	return img->process;
}

const void *spice_image_table(const struct spice_image *img, unsigned int type,
			      uint64_t *nr)
{
	const struct spice_image_section *s;

	s = type >= 1 && type <= SPICE_SECT_MAX ? img->sect[type] : NULL;
	if (nr)
		*nr = s ? s->nr_entries : 0;
	if (!s || !s->nr_entries)
		return NULL;
	return (const char *)img->meta + s->offset;
}

const void *spice_image_blob(const struct spice_image *img,
			     struct spice_image_ref ref)
{
	const char *blobs = spice_image_table(img, SPICE_SECT_BLOBS, NULL);

	return blobs ? blobs + ref.offset : "";
}
