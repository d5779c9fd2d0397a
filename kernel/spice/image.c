// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process(): reading and checking an image's metadata.
 *
 * These are the checks of Documentation/spice/image-format.rst, in its
 * order and with its errors; libspice's reader makes the same ones, so that
 * a tool can explain a rejection before the kernel makes it.  Nothing in
 * the image is trusted: counts are bounded before use, sums are checked for
 * overflow, and the metadata is copied in once and never read again from
 * the file.
 */

#include <linux/bitops.h>
#include <linux/bsearch.h>
#include <linux/bits.h>
#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/oom.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stat.h>
#include <linux/string.h>
#include <linux/elf-em.h>
#include <linux/eventpoll.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/un.h>

#include <linux/spice.h>

#include "image.h"

/* The highest user address an image may name: x86_64 with 5-level paging. */
#define SPICE_USER_MAX		BIT_ULL(56)
#define SPICE_IMAGE_PAGE	4096U
#define SPICE_PROT		(PROT_READ | PROT_WRITE | PROT_EXEC)
#define SPICE_VMA_FLAGS		(SPICE_VMA_SHARED | SPICE_VMA_GROWSDOWN | \
				 SPICE_VMA_NORESERVE | SPICE_VMA_LOCKED | \
				 SPICE_VMA_LOCKONFAULT | SPICE_VMA_DONTFORK | \
				 SPICE_VMA_WIPEONFORK | SPICE_VMA_DONTDUMP | \
				 SPICE_VMA_HUGEPAGE | SPICE_VMA_NOHUGEPAGE | \
				 SPICE_VMA_SEQUENTIAL | SPICE_VMA_RANDOM | \
				 SPICE_VMA_HEAP | SPICE_VMA_STACK | SPICE_VMA_VDSO | \
				 SPICE_VMA_VVAR | SPICE_VMA_MAYWRITE)

static const struct {
	u32 entry_size;
	u64 max;
} spice_sect_info[SPICE_SECT_MAX + 1] = {
	[SPICE_SECT_PROCESS] = { sizeof(struct spice_image_process), 1 },
	[SPICE_SECT_THREADS] = { sizeof(struct spice_image_thread),
				 SPICE_IMAGE_MAX_THREADS },
	[SPICE_SECT_SIGACTIONS] = { sizeof(struct spice_image_sigaction), 64 },
	[SPICE_SECT_FILES] = { sizeof(struct spice_image_file),
			       SPICE_IMAGE_MAX_FILES },
	[SPICE_SECT_FDS] = { sizeof(struct spice_image_fd), SPICE_IMAGE_MAX_FDS },
	[SPICE_SECT_VMAS] = { sizeof(struct spice_image_vma),
			      SPICE_IMAGE_MAX_VMAS },
	[SPICE_SECT_INTERVALS] = { sizeof(struct mmap_restore_interval),
				   SPICE_IMAGE_MAX_INTERVALS },
	[SPICE_SECT_WS] = { sizeof(struct mmap_restore_ws_range),
			    SPICE_IMAGE_MAX_WS },
	[SPICE_SECT_BLOBS] = { 1, SPICE_IMAGE_MAX_BLOBS },
	[SPICE_SECT_EPOLL] = { sizeof(struct spice_image_epoll_watch),
			       SPICE_IMAGE_MAX_EPOLL_WATCHES },
	[SPICE_SECT_RLIMITS] = { sizeof(struct spice_image_rlimit),
				 SPICE_IMAGE_NR_RLIMITS },
	[SPICE_SECT_ITIMERS] = { sizeof(struct spice_image_itimer),
				 SPICE_IMAGE_NR_ITIMERS },
	[SPICE_SECT_SIGNALS] = { sizeof(struct spice_image_signal),
				 SPICE_IMAGE_MAX_SIGNALS },
	[SPICE_SECT_POSIX_TIMERS] = { sizeof(struct spice_image_posix_timer),
				      SPICE_IMAGE_MAX_POSIX_TIMERS },
	[SPICE_SECT_LOCKS] = { sizeof(struct spice_image_lock),
			       SPICE_IMAGE_MAX_LOCKS },
	[SPICE_SECT_TIMERFDS] = { sizeof(struct spice_image_timerfd),
				  SPICE_IMAGE_MAX_FDS },
	[SPICE_SECT_SOCKETS] = { sizeof(struct spice_image_socket),
				 SPICE_IMAGE_MAX_FDS },
	[SPICE_SECT_MADE_FILES] = { sizeof(struct spice_image_made_file),
				    SPICE_IMAGE_MAX_FILES },
	[SPICE_SECT_FILE_DATA] = { sizeof(struct spice_image_file_extent),
				   SPICE_IMAGE_MAX_FILE_EXTENTS },
};

#define SPICE_PROC_FLAGS	(SPICE_PROC_UNDUMPABLE | SPICE_PROC_NO_NEW_PRIVS | \
				 SPICE_PROC_CHILD_SUBREAPER | SPICE_PROC_THP_DISABLE | \
				 SPICE_PROC_MDWE_REFUSE_EXEC_GAIN | \
				 SPICE_PROC_MDWE_NO_INHERIT)

/*
 * EPOLLEXCLUSIVE and the bits it may be combined with, as do_epoll_ctl()
 * allows: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLWAKEUP, EPOLLET.  As
 * plain numbers, since the image holds a u32 (checked against the
 * __poll_t constants in spice_check_epoll()).
 */
#define SPICE_EPOLLEXCLUSIVE		BIT(28)
#define SPICE_EPOLL_EXCLUSIVE_OK	0xb000001dU

static bool spice_page_aligned(u64 v)
{
	return !(v & (SPICE_IMAGE_PAGE - 1));
}

/* @a + @b, or 0 on overflow (0 is never a valid end). */
static u64 spice_end_of(u64 a, u64 b)
{
	u64 e;

	return check_add_overflow(a, b, &e) ? 0 : e;
}

/* CRC-32C of the metadata with the checksum field taken as zero. */
static u32 spice_image_csum(const void *meta, size_t len)
{
	const size_t at = offsetof(struct spice_image_header, metadata_csum);
	static const u8 zero[4];
	u32 crc;

	crc = __crc32c_le(~0U, meta, at);
	crc = __crc32c_le(crc, zero, sizeof(zero));
	crc = __crc32c_le(crc, meta + at + 4, len - at - 4);
	return ~crc;
}

static int spice_check_header(const struct spice_image_header *h, size_t len,
			      loff_t file_size)
{
	u64 table_end, data_end;

	if (len < sizeof(*h) ||
	    memcmp(h->magic, SPICE_IMAGE_MAGIC, SPICE_IMAGE_MAGIC_LEN) ||
	    h->version != SPICE_IMAGE_VERSION || h->arch != EM_X86_64 ||
	    h->page_size != SPICE_IMAGE_PAGE ||
	    (h->incompat_features & ~SPICE_IMAGE_INCOMPAT_KNOWN))
		return -ENOEXEC;
	if (h->header_size != sizeof(*h) || memchr_inv(h->reserved, 0, sizeof(h->reserved)))
		return -EINVAL;
	if (h->metadata_size > SPICE_IMAGE_MAX_METADATA)
		return -E2BIG;
	if (h->metadata_size < sizeof(*h) || h->metadata_size > len)
		return -EINVAL;
	if (h->nr_sections > SPICE_IMAGE_MAX_SECTIONS)
		return -E2BIG;
	table_end = spice_end_of(h->section_table, (u64)h->nr_sections *
				 sizeof(struct spice_image_section));
	if (!h->nr_sections || h->section_table < sizeof(*h) ||
	    h->section_table % 8 || !table_end || table_end > h->metadata_size)
		return -EINVAL;
	data_end = spice_end_of(h->data_offset, h->data_size);
	if (!spice_page_aligned(h->data_offset) ||
	    h->data_offset < h->metadata_size || !spice_page_aligned(h->data_size) ||
	    !spice_page_aligned(h->ws_data_size) || h->ws_data_size > h->data_size ||
	    !data_end || data_end > file_size)
		return -EINVAL;
	if (spice_image_csum(h, h->metadata_size) != h->metadata_csum)
		return -EBADMSG;
	return 0;
}

static int spice_check_sections(struct spice_image *img,
				const struct spice_image_section **sect)
{
	const struct spice_image_header *h = img->hdr;
	const struct spice_image_section *s = img->meta + h->section_table;
	u64 lo = h->section_table + (u64)h->nr_sections * sizeof(*s);
	u32 i, j;

	for (i = 0; i < h->nr_sections; i++) {
		u64 end;

		if (s[i].type < 1 || s[i].type > SPICE_SECT_MAX || sect[s[i].type])
			return -EINVAL;
		if (s[i].entry_size != spice_sect_info[s[i].type].entry_size)
			return -EINVAL;
		if (s[i].nr_entries > spice_sect_info[s[i].type].max)
			return -E2BIG;
		/* Bounded above, so the product cannot overflow. */
		end = spice_end_of(s[i].offset, s[i].size);
		if (s[i].size != s[i].nr_entries * s[i].entry_size ||
		    s[i].offset % 8 || s[i].offset < lo || !end ||
		    end > h->metadata_size)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (s[i].size && s[j].size &&
			    s[i].offset < s[j].offset + s[j].size &&
			    s[j].offset < end)
				return -EINVAL;
		sect[s[i].type] = &s[i];
	}
	if (!sect[SPICE_SECT_PROCESS] || sect[SPICE_SECT_PROCESS]->nr_entries != 1 ||
	    !sect[SPICE_SECT_VMAS] || !sect[SPICE_SECT_THREADS] ||
	    !sect[SPICE_SECT_THREADS]->nr_entries ||
	    (sect[SPICE_SECT_SIGACTIONS] &&
	     sect[SPICE_SECT_SIGACTIONS]->nr_entries != 64) ||
	    (sect[SPICE_SECT_RLIMITS] &&
	     sect[SPICE_SECT_RLIMITS]->nr_entries != SPICE_IMAGE_NR_RLIMITS) ||
	    (sect[SPICE_SECT_ITIMERS] &&
	     sect[SPICE_SECT_ITIMERS]->nr_entries != SPICE_IMAGE_NR_ITIMERS))
		return -EINVAL;
	return 0;
}

static bool spice_ref_ok(const struct spice_image *img,
			 struct spice_image_ref r, u32 max)
{
	return r.len <= max && (u64)r.offset + r.len <= img->nr[SPICE_SECT_BLOBS];
}

/* An absolute path without NUL bytes. */
static bool spice_path_ok(const struct spice_image *img,
			  struct spice_image_ref r)
{
	const char *p;

	if (!r.len || !spice_ref_ok(img, r, SPICE_IMAGE_MAX_PATH))
		return false;
	p = spice_image_blob(img, r);
	return p[0] == '/' && !memchr(p, 0, r.len);
}

static int spice_check_process(const struct spice_image *img)
{
	const struct spice_image_process *p = img->proc;
	u64 at_type;

	if ((p->flags & ~SPICE_PROC_FLAGS) ||
	    memchr_inv(p->reserved, 0, sizeof(p->reserved)))
		return -EINVAL;
	/* As prctl(PR_SET_MDWE) and /proc/PID/oom_score_adj accept them. */
	if ((p->flags & SPICE_PROC_MDWE_NO_INHERIT) &&
	    !(p->flags & SPICE_PROC_MDWE_REFUSE_EXEC_GAIN))
		return -EINVAL;
	if (p->oom_score_adj < OOM_SCORE_ADJ_MIN ||
	    p->oom_score_adj > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	if (p->start_code > p->end_code || p->start_data > p->end_data ||
	    p->start_brk > p->brk || p->arg_start > p->arg_end ||
	    p->env_start > p->env_end || p->end_code > SPICE_USER_MAX ||
	    p->end_data > SPICE_USER_MAX || p->brk > SPICE_USER_MAX ||
	    p->start_stack > SPICE_USER_MAX || p->arg_end > SPICE_USER_MAX ||
	    p->env_end > SPICE_USER_MAX || p->vdso > SPICE_USER_MAX)
		return -EINVAL;
	if (!memchr(p->comm, 0, sizeof(p->comm)))
		return -EINVAL;
	if (p->exe_file != SPICE_IMAGE_NONE && p->exe_file >= img->nr[SPICE_SECT_FILES])
		return -EINVAL;
	if (p->cwd.len && !spice_path_ok(img, p->cwd))
		return -EINVAL;
	if (p->auxv.len > SPICE_IMAGE_MAX_AUXV)
		return -E2BIG;
	if (!spice_ref_ok(img, p->auxv, SPICE_IMAGE_MAX_AUXV) || p->auxv.len % 16)
		return -EINVAL;
	if (p->auxv.len) {
		/* The last pair is AT_NULL; blobs are only byte-aligned. */
		memcpy(&at_type, spice_image_blob(img, p->auxv) + p->auxv.len - 16,
		       sizeof(at_type));
		if (at_type)
			return -EINVAL;
	}
	return 0;
}

/*
 * A policy, priority and nice value sched_setattr(2) takes: the policies
 * that need no admission (not SCHED_DEADLINE), a priority only with a
 * real-time one.
 */
static bool spice_sched_ok(const struct spice_image_thread *t)
{
	u32 policy = t->sched_policy & ~SCHED_RESET_ON_FORK;

	if (t->nice < MIN_NICE || t->nice > MAX_NICE)
		return false;
	switch (policy) {
	case SCHED_FIFO:
	case SCHED_RR:
		return t->sched_priority >= 1 && t->sched_priority <= MAX_RT_PRIO - 1;
	case SCHED_NORMAL:
	case SCHED_BATCH:
	case SCHED_IDLE:
		return !t->sched_priority;
	default:
		return false;
	}
}

static int spice_check_threads(const struct spice_image *img)
{
	const struct spice_image_thread *t = img->threads;
	u64 i, j, n = img->nr[SPICE_SECT_THREADS];

	for (i = 0; i < n; i++) {
		if (t[i].flags || t[i].reserved0 || t[i].reserved ||
		    t[i].tid <= 0 || !valid_signal(t[i].pdeath_signal) ||
		    !spice_sched_ok(&t[i]))
			return -EINVAL;
		if (t[i].xstate.len > SPICE_IMAGE_MAX_XSTATE)
			return -E2BIG;
		if (!spice_ref_ok(img, t[i].xstate, SPICE_IMAGE_MAX_XSTATE) ||
		    (t[i].ss_size && !spice_end_of(t[i].ss_sp, t[i].ss_size)) ||
		    spice_end_of(t[i].ss_sp, t[i].ss_size) > SPICE_USER_MAX ||
		    (t[i].rseq && !t[i].rseq_len))
			return -EINVAL;
		/* Quadratic, but bounded by SPICE_IMAGE_MAX_THREADS. */
		for (j = 0; j < i; j++)
			if (t[j].tid == t[i].tid)
				return -EINVAL;
	}
	return 0;
}

/* Each soft limit at most its hard limit, as setrlimit(2) requires. */
static int spice_check_rlimits(const struct spice_image *img)
{
	u64 i;

	for (i = 0; i < img->nr[SPICE_SECT_RLIMITS]; i++)
		if (img->rlimits[i].cur > img->rlimits[i].max)
			return -EINVAL;
	return 0;
}

/* Times a ktime_t holds, as setitimer(2) takes them. */
static int spice_check_itimers(const struct spice_image *img)
{
	u64 i;

	for (i = 0; i < img->nr[SPICE_SECT_ITIMERS]; i++)
		if (img->itimers[i].value_ns > KTIME_MAX ||
		    img->itimers[i].interval_ns > KTIME_MAX)
			return -EINVAL;
	return 0;
}

/*
 * Pending signals: each for a thread of the image or for the process,
 * sorted by it; a signal that can be pending (not SIGKILL or SIGSTOP,
 * which end or stop the process as they are sent), a standard one at most
 * once per queue; nothing past the kernel's siginfo.
 */
static int spice_check_pending_signals(const struct spice_image *img)
{
	const struct spice_image_signal *s = img->signals;
	const size_t tail = sizeof(s->info) - sizeof(kernel_siginfo_t);
	u64 standard = 0, i;
	int sig;

	BUILD_BUG_ON(sizeof(kernel_siginfo_t) > sizeof(s->info));
	BUILD_BUG_ON(offsetof(kernel_siginfo_t, si_signo) != 0);
	for (i = 0; i < img->nr[SPICE_SECT_SIGNALS]; i++, s++) {
		if (s->reserved ||
		    (s->thread != SPICE_IMAGE_NONE &&
		     s->thread >= img->nr[SPICE_SECT_THREADS]) ||
		    (i && s->thread < s[-1].thread) ||
		    memchr_inv(s->info + sizeof(kernel_siginfo_t), 0, tail))
			return -EINVAL;
		if (i && s->thread != s[-1].thread)
			standard = 0;
		memcpy(&sig, s->info, sizeof(sig));
		if (sig < 1 || sig > _NSIG || sig_kernel_only(sig))
			return -EINVAL;
		if (sig < SIGRTMIN) {
			if (standard & BIT_ULL(sig))
				return -EINVAL;
			standard |= BIT_ULL(sig);
		}
	}
	return 0;
}

/* A clock whose timers hold no reference to a thread (not CPU time). */
static bool spice_timer_clock_ok(s32 clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return true;
	}
	return false;
}

/*
 * POSIX timers, as timer_create() would make them: ids in order, each
 * once; a clock above; a signal for the kinds that send one (SIGEV_NONE
 * keeps the one it was given, unsent), and a thread of the image for
 * SIGEV_THREAD_ID; times a ktime_t holds.
 */
static int spice_check_posix_timers(const struct spice_image *img)
{
	const struct spice_image_posix_timer *t = img->posix_timers;
	u64 i;

	/* The layout image-format.rst gives. */
	BUILD_BUG_ON(sizeof(struct spice_image_posix_timer) != 48);
	for (i = 0; i < img->nr[SPICE_SECT_POSIX_TIMERS]; i++, t++) {
		bool to_thread = t->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID);
		bool sends = to_thread || t->notify == SIGEV_SIGNAL ||
			     t->notify == SIGEV_THREAD;

		if (t->id < 0 || (i && t->id <= t[-1].id) || t->reserved ||
		    !spice_timer_clock_ok(t->clock) ||
		    t->value_ns > KTIME_MAX || t->interval_ns > KTIME_MAX)
			return -EINVAL;
		if ((!sends && t->notify != SIGEV_NONE) || t->signo < sends ||
		    t->signo > _NSIG)
			return -EINVAL;
		if (to_thread ? t->thread >= img->nr[SPICE_SECT_THREADS] :
		    t->thread != SPICE_IMAGE_NONE)
			return -EINVAL;
	}
	return 0;
}

/*
 * The lock and advice flags as mmap_restore() takes them, and MAYWRITE
 * only where it means something: on a shared file mapping.
 */
static bool spice_vma_flags_agree(const struct spice_image_vma *v)
{
	bool file = v->file != SPICE_IMAGE_NONE;

	if ((v->flags & SPICE_VMA_MAYWRITE) &&
	    (!file || !(v->flags & SPICE_VMA_SHARED)))
		return false;
	return mmap_restore_advice_ok(v->flags, file);
}

static int spice_check_files(const struct spice_image *img)
{
	const struct spice_image_file *f = img->files;
	u64 i, n = img->nr[SPICE_SECT_FILES];

	for (i = 0; i < n; i++) {
		if (f[i].flags & ~(SPICE_FILE_HAS_SHA256 | SPICE_FILE_HAS_GENERATION |
				   SPICE_FILE_MADE))
			return -EINVAL;
		if (!S_ISREG(f[i].mode) && !S_ISDIR(f[i].mode) && !S_ISCHR(f[i].mode))
			return -EINVAL;
		if ((f[i].flags & SPICE_FILE_MADE) &&
		    (f[i].flags != SPICE_FILE_MADE || !S_ISREG(f[i].mode) ||
		     (f[i].mode & ~(S_IFMT | 07777)) || f[i].rdev || f[i].generation ||
		     f[i].size > MAX_LFS_FILESIZE))
			return -EINVAL;
		if (f[i].mtime_nsec >= NSEC_PER_SEC || !spice_path_ok(img, f[i].path))
			return -EINVAL;
		/* Only a regular file has contents to hash. */
		if ((f[i].flags & SPICE_FILE_HAS_SHA256) ? !S_ISREG(f[i].mode) :
		    !!memchr_inv(f[i].sha256, 0, sizeof(f[i].sha256)))
			return -EINVAL;
	}
	return 0;
}

/**
 * spice_image_made_name - The name a %SPICE_FILE_MADE file is made with.
 * @img: The image.
 * @f: The file.
 * @kind: Its &enum spice_image_made_kind.
 * @len: Set to the name's length.
 *
 * Return: A memfd's name (after "/memfd:"), or an unlinked file's last path
 * component; NULL if the path does not give one memfd_create(2) or a
 * directory entry would take.
 */
const char *spice_image_made_name(const struct spice_image *img,
				  const struct spice_image_file *f, u32 kind,
				  u32 *len)
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
	/* An absolute path: there is a '/'. */
	for (*len = 0; p[f->path.len - *len - 1] != '/'; )
		(*len)++;
	name = p + f->path.len - *len;
	return *len && *len <= NAME_MAX ? name : NULL;
}

/*
 * One made-file entry per %SPICE_FILE_MADE file, in file order; extents
 * in (file, position) order, not overlapping, inside the file's last page
 * and the data area.
 */
#define SPICE_SEALS_EXEC_IMPLIES	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
					 F_SEAL_FUTURE_WRITE)

static int spice_check_made_files(const struct spice_image *img)
{
	const struct spice_image_made_file *m = img->made_files;
	const struct spice_image_file_extent *e = img->file_extents;
	const struct spice_image_header *h = img->hdr;
	const struct spice_image_file *f;
	u64 i, nr_made = 0, prev_end = 0, end, data_end;
	u32 len;

	/* The layout image-format.rst gives. */
	BUILD_BUG_ON(sizeof(struct spice_image_made_file) != 16);
	BUILD_BUG_ON(sizeof(struct spice_image_file_extent) != 32);
	BUILD_BUG_ON(SPICE_MADE_SEALS != (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
					  F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC));

	for (i = 0; i < img->nr[SPICE_SECT_FILES]; i++)
		nr_made += !!(img->files[i].flags & SPICE_FILE_MADE);
	if (nr_made != img->nr[SPICE_SECT_MADE_FILES])
		return -EINVAL;
	for (i = 0; i < nr_made; i++, m++) {
		if ((i && m->file <= m[-1].file) || m->file >= img->nr[SPICE_SECT_FILES] ||
		    m->reserved || (m->seals & ~SPICE_MADE_SEALS))
			return -EINVAL;
		f = &img->files[m->file];
		if (!(f->flags & SPICE_FILE_MADE) ||
		    (m->kind != SPICE_MADE_MEMFD && m->kind != SPICE_MADE_UNLINKED) ||
		    (m->kind != SPICE_MADE_MEMFD && m->seals) ||
		    !spice_image_made_name(img, f, m->kind, &len))
			return -EINVAL;
		/* As F_ADD_SEALS gives them: sealing an executable one seals writes. */
		if ((m->seals & F_SEAL_EXEC) && (f->mode & 0111) &&
		    (m->seals & SPICE_SEALS_EXEC_IMPLIES) != SPICE_SEALS_EXEC_IMPLIES)
			return -EINVAL;
	}
	data_end = h->data_offset + h->data_size;
	for (i = 0; i < img->nr[SPICE_SECT_FILE_DATA]; i++, e++) {
		if (e->file >= img->nr[SPICE_SECT_FILES] || e->reserved ||
		    (i && e->file < e[-1].file))
			return -EINVAL;
		if (i && e->file != e[-1].file)
			prev_end = 0;
		f = &img->files[e->file];
		end = spice_end_of(e->pos, e->len);
		if (!(f->flags & SPICE_FILE_MADE) || !e->len ||
		    !spice_page_aligned(e->pos | e->len | e->offset) ||
		    e->pos < prev_end || !end ||
		    end > round_up(f->size, (u64)SPICE_IMAGE_PAGE))
			return -EINVAL;
		prev_end = end;
		end = spice_end_of(e->offset, e->len);
		if (e->offset < h->data_offset || !end || end > data_end)
			return -EINVAL;
	}
	return 0;
}

/*
 * Open flags an eventfd, epoll or signalfd file can have: O_RDWR, maybe
 * O_NONBLOCK.
 */
static bool spice_anon_fd_ok(const struct spice_image_fd *d)
{
	return (d->open_flags & ~O_NONBLOCK) == O_RDWR && d->file == SPICE_IMAGE_NONE;
}

/*
 * A pidfd: O_RDWR, maybe O_NONBLOCK (PIDFD_NONBLOCK) and O_EXCL
 * (PIDFD_THREAD), of a thread of the image; a pidfd of the process is of
 * its main thread, as pidfd_open(2) takes only a thread-group leader
 * without PIDFD_THREAD.
 */
static bool spice_pidfd_ok(const struct spice_image *img,
			   const struct spice_image_fd *d)
{
	if ((d->open_flags & ~(O_NONBLOCK | O_EXCL)) != O_RDWR ||
	    d->file != SPICE_IMAGE_NONE || d->pos || d->type_flags ||
	    d->data.offset || d->data.len)
		return false;
	return d->open_flags & O_EXCL ? d->object < img->nr[SPICE_SECT_THREADS] :
	       !d->object;
}

/*
 * A pipe's or socket pair's end: open flags that fit it (O_NONBLOCK, and
 * packet mode on a pipe), a type for a pair, an @object that is the first
 * fd of the same pipe or pair, and data only on a pipe's first fd.
 */
static bool spice_channel_fd_ok(const struct spice_image *img, u64 i)
{
	const struct spice_image_fd *fds = img->fds;
	const struct spice_image_fd *d = &fds[i], *first;
	u32 end = d->type_flags & SPICE_FD_SECOND_END;
	u32 kind = d->type_flags & ~SPICE_FD_SECOND_END;
	u32 mode, extra;

	if (d->type == SPICE_FD_PIPE) {
		mode = end ? O_WRONLY : O_RDONLY;
		extra = O_NONBLOCK | O_DIRECT;
		if (kind)
			return false;
	} else {
		mode = O_RDWR;
		extra = O_NONBLOCK;
		if (hweight32(kind) != 1 || (kind & ~SPICE_SOCKETPAIR_TYPES))
			return false;
	}
	if ((d->open_flags & O_ACCMODE) != mode ||
	    (d->open_flags & ~(O_ACCMODE | extra)) ||
	    d->file != SPICE_IMAGE_NONE || d->pos || d->object > i)
		return false;
	if ((d->data.offset || d->data.len) &&
	    (d->type != SPICE_FD_PIPE || d->object != i || !d->data.len ||
	     !spice_ref_ok(img, d->data, SPICE_IMAGE_MAX_PIPE_DATA)))
		return false;
	first = &fds[d->object];
	return first->type == d->type && first->object == d->object &&
	       (first->type_flags & ~SPICE_FD_SECOND_END) == kind;
}

/*
 * Fd @i shares the open file of an earlier fd: the first of that file, of
 * a kind that can be shared this way, with the same fields.
 */
static bool spice_shared_fd_ok(const struct spice_image *img, u64 i)
{
	const struct spice_image_fd *d = &img->fds[i], *first;

	if (d->shares - 1 >= i)
		return false;
	first = &img->fds[d->shares - 1];
	if (first->shares || first->type != d->type ||
	    first->open_flags != d->open_flags || first->file != d->file ||
	    first->type_flags != d->type_flags || first->pos != d->pos ||
	    first->object != d->object)
		return false;
	return d->type == SPICE_FD_FILE || d->type == SPICE_FD_SUPPLIED ||
	       d->type == SPICE_FD_EVENTFD || d->type == SPICE_FD_SIGNALFD ||
	       d->type == SPICE_FD_TIMERFD || d->type == SPICE_FD_PIDFD ||
	       d->type == SPICE_FD_SOCKET;
}

static int spice_check_fds(const struct spice_image *img)
{
	const struct spice_image_fd *d = img->fds;
	u64 i, n = img->nr[SPICE_SECT_FDS];
	bool channel;

	/* The layout image-format.rst gives; the reserved words went to @data. */
	BUILD_BUG_ON(sizeof(struct spice_image_fd) != 48);

	for (i = 0; i < n; i++) {
		if ((d[i].fd_flags & ~1U) ||
		    (d[i].shares && !spice_shared_fd_ok(img, i)))
			return -EINVAL;
		if (d[i].fd < 0 || d[i].fd >= SPICE_IMAGE_MAX_FD ||
		    (i && d[i].fd <= d[i - 1].fd))
			return -EINVAL;
		channel = d[i].type == SPICE_FD_PIPE || d[i].type == SPICE_FD_SOCKETPAIR;
		if (channel) {
			if (!spice_channel_fd_ok(img, i))
				return -EINVAL;
			continue;
		}
		if (d[i].type == SPICE_FD_PIDFD) {
			if (!spice_pidfd_ok(img, &d[i]))
				return -EINVAL;
			continue;
		}
		if (d[i].object || d[i].data.offset || d[i].data.len)
			return -EINVAL;
		if (d[i].type_flags &&
		    (d[i].type != SPICE_FD_EVENTFD ||
		     (d[i].type_flags & ~SPICE_EVENTFD_SEMAPHORE)))
			return -EINVAL;
		switch (d[i].type) {
		case SPICE_FD_FILE:
			if (d[i].file >= img->nr[SPICE_SECT_FILES])
				return -EINVAL;
			break;
		case SPICE_FD_SUPPLIED:
			if (d[i].file != SPICE_IMAGE_NONE)
				return -EINVAL;
			break;
		case SPICE_FD_EVENTFD:
			if (!spice_anon_fd_ok(&d[i]))
				return -EINVAL;
			break;
		case SPICE_FD_EPOLL:
		case SPICE_FD_TIMERFD:
		case SPICE_FD_SOCKET:
			if (!spice_anon_fd_ok(&d[i]) || d[i].pos)
				return -EINVAL;
			break;
		case SPICE_FD_SIGNALFD:
			/* A mask signalfd(2) would not keep is not one it made. */
			if (!spice_anon_fd_ok(&d[i]) ||
			    (d[i].pos & (BIT_ULL(SIGKILL - 1) | BIT_ULL(SIGSTOP - 1))))
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* An s32 fd against an entry that starts with its s32 fd, for bsearch(). */
static int spice_fd_cmp(const void *key, const void *entry)
{
	s32 a = *(const s32 *)key, b = *(const s32 *)entry;

	return a < b ? -1 : a > b;
}

/**
 * spice_image_find_fd - Look up an fd of a checked image.
 * @img: The image; its fd table is sorted.
 * @fd: Descriptor number.
 *
 * Return: The fd's entry, or NULL if the image has no such fd.
 */
const struct spice_image_fd *spice_image_find_fd(const struct spice_image *img,
						 s32 fd)
{
	BUILD_BUG_ON(offsetof(struct spice_image_fd, fd));
	return bsearch(&fd, img->fds, img->nr[SPICE_SECT_FDS], sizeof(*img->fds),
		       spice_fd_cmp);
}

static int spice_check_epoll(const struct spice_image *img)
{
	const struct spice_image_epoll_watch *w = img->epoll;
	u64 i, n = img->nr[SPICE_SECT_EPOLL];
	const struct spice_image_fd *ep;

	BUILD_BUG_ON((__force u32)EPOLLEXCLUSIVE != SPICE_EPOLLEXCLUSIVE);
	BUILD_BUG_ON((__force u32)(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
				   EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE) !=
		     SPICE_EPOLL_EXCLUSIVE_OK);
	BUILD_BUG_ON((__force u32)(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR |
				   EPOLLHUP | EPOLLNVAL | EPOLLRDNORM |
				   EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND |
				   EPOLLMSG | EPOLLRDHUP | EPOLLEXCLUSIVE |
				   EPOLLWAKEUP | EPOLLONESHOT | EPOLLET) !=
		     SPICE_EPOLL_EVENTS);
	for (i = 0; i < n; i++) {
		if (w[i].reserved || (w[i].events & ~SPICE_EPOLL_EVENTS))
			return -EINVAL;
		if ((w[i].events & SPICE_EPOLLEXCLUSIVE) &&
		    (w[i].events & ~SPICE_EPOLL_EXCLUSIVE_OK))
			return -EINVAL;
		if (i && (w[i].epfd < w[i - 1].epfd ||
			  (w[i].epfd == w[i - 1].epfd && w[i].tfd <= w[i - 1].tfd)))
			return -EINVAL;
		ep = spice_image_find_fd(img, w[i].epfd);
		if (!ep || ep->type != SPICE_FD_EPOLL || w[i].tfd == w[i].epfd ||
		    !spice_image_find_fd(img, w[i].tfd))
			return -EINVAL;
	}
	return 0;
}

/*
 * File locks, sorted by fd, each on the first fd of an open file of the
 * image (a file fd that shares no earlier one) whose mode allows it, as
 * flock() and fcntl() require; a flock lock covers the whole file, and is
 * the first lock of its fd (so the only flock one), as fdinfo lists them.
 */
static int spice_check_locks(const struct spice_image *img)
{
	const struct spice_image_lock *l = img->locks;
	const struct spice_image_fd *d;
	u32 acc;
	u64 i;

	/* The layout image-format.rst gives. */
	BUILD_BUG_ON(sizeof(struct spice_image_lock) != 32);
	BUILD_BUG_ON(SPICE_LOCK_EOF != OFFSET_MAX);
	for (i = 0; i < img->nr[SPICE_SECT_LOCKS]; i++, l++) {
		if ((i && l->fd < l[-1].fd) || l->reserved ||
		    (i && l->kind == SPICE_LOCK_FLOCK && l->fd == l[-1].fd) ||
		    (l->type != SPICE_LOCK_READ && l->type != SPICE_LOCK_WRITE) ||
		    l->start > l->end || l->end > SPICE_LOCK_EOF)
			return -EINVAL;
		if (l->kind == SPICE_LOCK_FLOCK ?
		    l->start || l->end != SPICE_LOCK_EOF :
		    l->kind != SPICE_LOCK_POSIX && l->kind != SPICE_LOCK_OFD)
			return -EINVAL;
		d = spice_image_find_fd(img, l->fd);
		if (!d || d->type != SPICE_FD_FILE || d->shares ||
		    (d->open_flags & O_PATH))
			return -EINVAL;
		/* O_ACCMODE itself: neither readable nor writable. */
		acc = d->open_flags & O_ACCMODE;
		if (acc == O_ACCMODE)
			return -EINVAL;
		if (l->kind != SPICE_LOCK_FLOCK &&
		    (l->type == SPICE_LOCK_WRITE ? acc == O_RDONLY : acc == O_WRONLY))
			return -EINVAL;
	}
	return 0;
}

/*
 * The timers of the timerfds, one per timerfd open file (its first fd),
 * sorted by fd: a clock and settime flags timerfd_create(2) and
 * timerfd_settime(2) take, times a ktime_t holds.
 */
static int spice_check_timerfds(const struct spice_image *img)
{
	const struct spice_image_timerfd *t = img->timerfds;
	const struct spice_image_fd *d;
	u64 i, files = 0;

	/* The layout image-format.rst gives. */
	BUILD_BUG_ON(sizeof(struct spice_image_timerfd) != 40);
	for (i = 0; i < img->nr[SPICE_SECT_FDS]; i++)
		files += img->fds[i].type == SPICE_FD_TIMERFD && !img->fds[i].shares;
	if (files != img->nr[SPICE_SECT_TIMERFDS])
		return -EINVAL;
	for (i = 0; i < img->nr[SPICE_SECT_TIMERFDS]; i++, t++) {
		d = spice_image_find_fd(img, t->fd);
		/* In fd order, each a timerfd's first fd: all of them, once. */
		if (!d || d->type != SPICE_FD_TIMERFD || d->shares ||
		    (i && t->fd <= t[-1].fd) || t->reserved)
			return -EINVAL;
		if (t->clock == CLOCK_TAI || !spice_timer_clock_ok(t->clock) ||
		    t->value_ns > KTIME_MAX || t->interval_ns > KTIME_MAX)
			return -EINVAL;
		/* Any of them on any clock, as timerfd_settime() keeps them. */
		if (t->flags & ~(SPICE_TIMERFD_ABSTIME | SPICE_TIMERFD_CANCEL_ON_SET))
			return -EINVAL;
	}
	return 0;
}

/**
 * spice_image_find_timerfd - The timer of a timerfd of a checked image.
 * @img: The image.
 * @fd: The first fd of the timerfd.
 *
 * Return: Its entry; every such fd of a checked image has one.
 */
const struct spice_image_timerfd *
spice_image_find_timerfd(const struct spice_image *img, s32 fd)
{
	BUILD_BUG_ON(offsetof(struct spice_image_timerfd, fd));
	return bsearch(&fd, img->timerfds, img->nr[SPICE_SECT_TIMERFDS],
		       sizeof(*img->timerfds), spice_fd_cmp);
}

/* A family, type and protocol that socket(2) takes and Spice restores. */
static bool spice_socket_kind_ok(const struct spice_image_socket *s)
{
	switch (s->family) {
	case AF_UNIX:
		return !s->protocol && (s->type == SOCK_STREAM ||
					s->type == SOCK_DGRAM ||
					s->type == SOCK_SEQPACKET);
	case AF_INET:
	case AF_INET6:
		return s->type == SOCK_STREAM ? s->protocol == IPPROTO_TCP :
		       s->type == SOCK_DGRAM && s->protocol == IPPROTO_UDP;
	}
	return false;
}

/*
 * The address of a bound or listening socket, as getsockname(2) gives it:
 * of the socket's family, and for AF_UNIX an abstract name or an absolute
 * path with its NUL; none for the other states.
 */
static bool spice_socket_addr_ok(const struct spice_image_socket *s)
{
	const size_t path = offsetof(struct sockaddr_un, sun_path);
	u16 family;

	if (s->addr_len > sizeof(s->addr) ||
	    memchr_inv(s->addr + s->addr_len, 0, sizeof(s->addr) - s->addr_len))
		return false;
	if (s->state != SPICE_SOCKET_BOUND && s->state != SPICE_SOCKET_LISTENING)
		return !s->addr_len;
	if (s->addr_len < sizeof(family))
		return false;
	memcpy(&family, s->addr, sizeof(family));
	if (family != s->family)
		return false;
	if (family == AF_INET)
		return s->addr_len == sizeof(struct sockaddr_in);
	if (family == AF_INET6)
		return s->addr_len == sizeof(struct sockaddr_in6);
	if (s->addr_len <= path || s->addr_len > sizeof(struct sockaddr_un))
		return false;
	if (!s->addr[path])
		return true;
	return s->addr[path] == '/' &&
	       memchr(s->addr + path, 0, s->addr_len - path) ==
	       s->addr + s->addr_len - 1;
}

/* Options that the socket's family and protocol have. */
static bool spice_socket_options_ok(const struct spice_image_socket *s)
{
	size_t dev_len = strnlen(s->bind_dev, sizeof(s->bind_dev));
	bool inet = s->family == AF_INET || s->family == AF_INET6;
	bool tcp = inet && s->protocol == IPPROTO_TCP;

	if ((s->options & ~SPICE_SOCKOPTS) ||
	    (!(s->options & SPICE_SOCKOPT_LINGER) && s->linger) ||
	    s->rcvbuf > INT_MAX / 2 || s->sndbuf > INT_MAX / 2)
		return false;
	if (s->family != AF_INET6 && (s->options & SPICE_SOCKOPT_V6ONLY))
		return false;
	if (!inet && ((s->options & SPICE_SOCKOPT_FREEBIND) || s->bind_dev[0]))
		return false;
	if (inet ? s->options & SPICE_SOCKOPT_PASSCRED :
	    s->options & SPICE_SOCKOPT_REUSEPORT)
		return false;
	if (((s->options & SPICE_SOCKOPT_RCVBUFFORCE) && !s->rcvbuf) ||
	    ((s->options & SPICE_SOCKOPT_SNDBUFFORCE) && !s->sndbuf))
		return false;
	if (!tcp && ((s->options & SPICE_SOCKOPT_TCP_NODELAY) ||
		     s->tcp_defer_accept || s->tcp_fastopen || s->tcp_keepidle ||
		     s->tcp_keepintvl || s->tcp_keepcnt || s->tcp_user_timeout))
		return false;
	/* An interface name, NUL-padded. */
	return dev_len < sizeof(s->bind_dev) &&
	       !memchr_inv(s->bind_dev + dev_len, 0, sizeof(s->bind_dev) - dev_len);
}

/*
 * The sockets, one per socket open file (its first fd), sorted by fd:
 * what socket(2) makes, options it takes, an address bound for a bound or
 * listening socket, a backlog for a listening stream socket only.
 */
static int spice_check_sockets(const struct spice_image *img)
{
	const struct spice_image_socket *s = img->sockets;
	const struct spice_image_fd *d;
	u64 i, files = 0;

	/* The layout image-format.rst gives. */
	BUILD_BUG_ON(sizeof(struct spice_image_socket) != 216);
	BUILD_BUG_ON(sizeof(struct sockaddr_un) > SPICE_SOCKET_ADDR_MAX);
	for (i = 0; i < img->nr[SPICE_SECT_FDS]; i++)
		files += img->fds[i].type == SPICE_FD_SOCKET && !img->fds[i].shares;
	if (files != img->nr[SPICE_SECT_SOCKETS])
		return -EINVAL;
	for (i = 0; i < img->nr[SPICE_SECT_SOCKETS]; i++, s++) {
		d = spice_image_find_fd(img, s->fd);
		if (!d || d->type != SPICE_FD_SOCKET || d->shares ||
		    (i && s->fd <= s[-1].fd))
			return -EINVAL;
		if (s->state > SPICE_SOCKET_RESET || !spice_socket_kind_ok(s) ||
		    !spice_socket_addr_ok(s) || !spice_socket_options_ok(s))
			return -EINVAL;
		if (s->state == SPICE_SOCKET_LISTENING ?
		    s->type == SOCK_DGRAM || s->backlog > INT_MAX : s->backlog)
			return -EINVAL;
	}
	return 0;
}

/**
 * spice_image_find_socket - The socket of a socket fd of a checked image.
 * @img: The image.
 * @fd: The first fd of the socket.
 *
 * Return: Its entry; every such fd of a checked image has one.
 */
const struct spice_image_socket *
spice_image_find_socket(const struct spice_image *img, s32 fd)
{
	BUILD_BUG_ON(offsetof(struct spice_image_socket, fd));
	return bsearch(&fd, img->sockets, img->nr[SPICE_SECT_SOCKETS],
		       sizeof(*img->sockets), spice_fd_cmp);
}

static int spice_check_interval(const struct spice_image *img,
				const struct spice_image_vma *v,
				const struct mmap_restore_interval *iv,
				u64 prev_end)
{
	const struct spice_image_header *h = img->hdr;
	u64 end = spice_end_of(iv->addr, iv->len);

	if (iv->reserved || !iv->len || !spice_page_aligned(iv->addr) ||
	    !spice_page_aligned(iv->len) || !spice_page_aligned(iv->offset) ||
	    iv->addr < prev_end || !end || end > v->end)
		return -EINVAL;
	switch (iv->source) {
	case MMAP_RESTORE_SRC_IMAGE:
		end = spice_end_of(iv->offset, iv->len);
		if (iv->offset < h->data_offset || !end ||
		    end > h->data_offset + h->data_size)
			return -EINVAL;
		break;
	case MMAP_RESTORE_SRC_ZERO:
		if (iv->offset)
			return -EINVAL;
		break;
	case MMAP_RESTORE_SRC_FILE:
		if (iv->offset || v->file == SPICE_IMAGE_NONE)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
	/* A shared file mapping shows the file; it has no contents of its own. */
	if ((v->flags & SPICE_VMA_SHARED) && v->file != SPICE_IMAGE_NONE)
		return -EINVAL;
	return 0;
}

static int spice_check_vmas(const struct spice_image *img)
{
	const struct spice_image_vma *v = img->vmas;
	u64 i, k, n = img->nr[SPICE_SECT_VMAS], next_iv = 0, prev_end = 0, iv_end;
	int err;

	for (i = 0; i < n; i++) {
		if (v[i].reserved || (v[i].flags & ~SPICE_VMA_FLAGS) ||
		    (v[i].prot & ~SPICE_PROT))
			return -EINVAL;
		if (!spice_vma_flags_agree(&v[i]))
			return -EINVAL;
		if (!spice_page_aligned(v[i].start) || !spice_page_aligned(v[i].end) ||
		    !spice_page_aligned(v[i].pgoff) || v[i].start >= v[i].end ||
		    v[i].end > SPICE_USER_MAX || v[i].start < prev_end)
			return -EINVAL;
		if (v[i].file == SPICE_IMAGE_NONE) {
			/* As mmap(): shared anonymous memory does not grow. */
			if (v[i].pgoff || ((v[i].flags & SPICE_VMA_SHARED) &&
					   (v[i].flags & SPICE_VMA_GROWSDOWN)))
				return -EINVAL;
		} else if (v[i].file >= img->nr[SPICE_SECT_FILES] ||
			   !S_ISREG(img->files[v[i].file].mode) ||
			   !spice_end_of(v[i].pgoff, v[i].end - v[i].start) ||
			   (v[i].flags & SPICE_VMA_GROWSDOWN)) {
			return -EINVAL;
		}
		if ((v[i].flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)) &&
		    (v[i].nr_intervals || v[i].file != SPICE_IMAGE_NONE))
			return -EINVAL;
		iv_end = (u64)v[i].first_interval + v[i].nr_intervals;
		if (v[i].first_interval != next_iv ||
		    iv_end > img->nr[SPICE_SECT_INTERVALS])
			return -EINVAL;
		prev_end = v[i].start;
		for (k = v[i].first_interval; k < iv_end; k++) {
			err = spice_check_interval(img, &v[i], &img->intervals[k],
						   prev_end);
			if (err)
				return err;
			prev_end = img->intervals[k].addr + img->intervals[k].len;
		}
		next_iv = iv_end;
		prev_end = v[i].end;
	}
	return next_iv == img->nr[SPICE_SECT_INTERVALS] ? 0 : -EINVAL;
}

/* The VMA holding @addr, by binary search of the sorted table. */
const struct spice_image_vma *spice_image_find_vma(const struct spice_image *img,
						   u64 addr)
{
	u64 lo = 0, hi = img->nr[SPICE_SECT_VMAS], mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < img->vmas[mid].start)
			hi = mid;
		else if (addr >= img->vmas[mid].end)
			lo = mid + 1;
		else
			return &img->vmas[mid];
	}
	return NULL;
}

static int spice_ws_cmp(const void *a, const void *b)
{
	const struct mmap_restore_ws_range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int spice_check_ws(const struct spice_image *img)
{
	const struct mmap_restore_ws_range *ws = img->ws;
	u64 i, n = img->nr[SPICE_SECT_WS], end;
	struct mmap_restore_ws_range *sorted;
	const struct spice_image_vma *v;
	int err = 0;

	for (i = 0; i < n; i++) {
		if ((ws[i].flags & ~MMAP_RESTORE_WS_WRITE) || !ws[i].nr_pages ||
		    !spice_page_aligned(ws[i].addr))
			return -EINVAL;
		end = spice_end_of(ws[i].addr, (u64)ws[i].nr_pages * SPICE_IMAGE_PAGE);
		v = spice_image_find_vma(img, ws[i].addr);
		if (!end || !v || end > v->end ||
		    ((ws[i].flags & MMAP_RESTORE_WS_WRITE) && !(v->prot & PROT_WRITE)) ||
		    (v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)))
			return -EINVAL;
	}
	if (n < 2)
		return 0;
	sorted = kvmemdup(ws, array_size(n, sizeof(*ws)), GFP_KERNEL_ACCOUNT);
	if (!sorted)
		return -ENOMEM;
	sort(sorted, n, sizeof(*sorted), spice_ws_cmp, NULL);
	for (i = 1; i < n && !err; i++)
		if (sorted[i - 1].addr + (u64)sorted[i - 1].nr_pages * SPICE_IMAGE_PAGE >
		    sorted[i].addr)
			err = -EINVAL;
	kvfree(sorted);
	return err;
}

static const void *spice_sect_start(const struct spice_image *img,
				    const struct spice_image_section *s)
{
	return s && s->nr_entries ? img->meta + s->offset : NULL;
}

/**
 * spice_image_check - Check an image's metadata in memory.
 * @img: Filled in on success; its tables point into @meta.
 * @meta: The first @len bytes of the image, at least its metadata.
 * @len: Bytes at @meta.
 * @file_size: Size of the image file.
 *
 * Return: 0, or -ENOEXEC (not an image this kernel reads), -EBADMSG (bad
 * checksum), -E2BIG (a count or size over its limit), -EINVAL (anything
 * else malformed) or -ENOMEM.
 */
int spice_image_check(struct spice_image *img, void *meta, size_t len,
		      loff_t file_size)
{
	const struct spice_image_section *sect[SPICE_SECT_MAX + 1] = {};
	unsigned int t;
	int err;

	memset(img, 0, sizeof(*img));
	err = spice_check_header(meta, len, file_size);
	if (err)
		return err;
	img->meta = meta;
	img->hdr = meta;
	img->meta_size = img->hdr->metadata_size;
	img->file_size = file_size;
	err = spice_check_sections(img, sect);
	if (err)
		return err;
	for (t = 1; t <= SPICE_SECT_MAX; t++)
		img->nr[t] = sect[t] ? sect[t]->nr_entries : 0;
	img->proc = spice_sect_start(img, sect[SPICE_SECT_PROCESS]);
	img->threads = spice_sect_start(img, sect[SPICE_SECT_THREADS]);
	img->sigactions = spice_sect_start(img, sect[SPICE_SECT_SIGACTIONS]);
	img->files = spice_sect_start(img, sect[SPICE_SECT_FILES]);
	img->fds = spice_sect_start(img, sect[SPICE_SECT_FDS]);
	img->vmas = spice_sect_start(img, sect[SPICE_SECT_VMAS]);
	img->intervals = spice_sect_start(img, sect[SPICE_SECT_INTERVALS]);
	img->ws = spice_sect_start(img, sect[SPICE_SECT_WS]);
	img->blobs = spice_sect_start(img, sect[SPICE_SECT_BLOBS]);
	img->epoll = spice_sect_start(img, sect[SPICE_SECT_EPOLL]);
	img->rlimits = spice_sect_start(img, sect[SPICE_SECT_RLIMITS]);
	img->itimers = spice_sect_start(img, sect[SPICE_SECT_ITIMERS]);
	img->signals = spice_sect_start(img, sect[SPICE_SECT_SIGNALS]);
	img->posix_timers = spice_sect_start(img, sect[SPICE_SECT_POSIX_TIMERS]);
	img->locks = spice_sect_start(img, sect[SPICE_SECT_LOCKS]);
	img->timerfds = spice_sect_start(img, sect[SPICE_SECT_TIMERFDS]);
	img->sockets = spice_sect_start(img, sect[SPICE_SECT_SOCKETS]);
	img->made_files = spice_sect_start(img, sect[SPICE_SECT_MADE_FILES]);
	img->file_extents = spice_sect_start(img, sect[SPICE_SECT_FILE_DATA]);

	err = spice_check_process(img);
	if (!err)
		err = spice_check_threads(img);
	if (!err)
		err = spice_check_rlimits(img);
	if (!err)
		err = spice_check_itimers(img);
	if (!err)
		err = spice_check_pending_signals(img);
	if (!err)
		err = spice_check_posix_timers(img);
	if (!err)
		err = spice_check_files(img);
	if (!err)
		err = spice_check_made_files(img);
	if (!err)
		err = spice_check_fds(img);
	if (!err)
		err = spice_check_epoll(img);
	if (!err)
		err = spice_check_locks(img);
	if (!err)
		err = spice_check_timerfds(img);
	if (!err)
		err = spice_check_sockets(img);
	if (!err)
		err = spice_check_vmas(img);
	if (!err)
		err = spice_check_ws(img);
	return err;
}

/**
 * spice_image_read - Read an image's metadata and check it.
 * @img: Filled in on success; release it with spice_image_release().
 * @image: The image file, open for reading.
 *
 * Return: 0, an error of spice_image_check(), or -EIO if the file cannot
 * be read.
 */
int spice_image_read(struct spice_image *img, struct file *image)
{
	struct spice_image_header h;
	loff_t size = i_size_read(file_inode(image)), pos = 0;
	void *meta;
	ssize_t n;
	int err;

	memset(img, 0, sizeof(*img));
	n = kernel_read(image, &h, sizeof(h), &pos);
	if (n < 0)
		return n == -EINTR ? -EINTR : -EIO;
	/* Short, out-of-bounds or bad headers: the checker says which error. */
	if (n < sizeof(h) || h.metadata_size < sizeof(h) ||
	    h.metadata_size > SPICE_IMAGE_MAX_METADATA || h.metadata_size > size) {
		err = spice_image_check(img, &h, n, size);
		memset(img, 0, sizeof(*img));	/* never points at @h */
		return err ?: -EINVAL;
	}
	meta = kvmalloc(h.metadata_size, GFP_KERNEL_ACCOUNT);
	if (!meta)
		return -ENOMEM;
	pos = 0;
	n = kernel_read(image, meta, h.metadata_size, &pos);
	if (n != h.metadata_size)
		err = n == -EINTR ? -EINTR : -EIO;
	else
		err = spice_image_check(img, meta, h.metadata_size, size);
	if (err) {
		kvfree(meta);
		memset(img, 0, sizeof(*img));
	}
	return err;
}

void spice_image_release(struct spice_image *img)
{
	kvfree(img->meta);
	memset(img, 0, sizeof(*img));
}
