// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * spice_dump(): stop the process, collect its state, read the memory it
 * has touched, let it go (or kill it), then write the image.  The process
 * is stopped only while its state and memory are read; classifying pages
 * and writing the image happen after it resumes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dump_internal.h"
#include "internal.h"

#define PAGE SPICE_PAGE_SIZE
/* pagemap bits: present, swapped, page cache or shared anonymous */
#define PM_PRESENT	0x8000000000000000ULL
#define PM_SWAP		0x4000000000000000ULL
#define PM_FILE		0x2000000000000000ULL
#define CHUNK_PAGES	256		/* read memory 1 MiB at a time */
#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

int dump_fail(struct dump *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d->why && !d->why[0]) {
		va_start(ap, fmt);
		vsnprintf(d->why, SPICE_IMAGE_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

int dump_read_mem(struct dump *d, uint64_t addr, void *buf, size_t len)
{
	int err = spice_pread_full(d->mem_fd, buf, len, addr);

	if (!err)
		d->stats->bytes_read += len;
	return err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Signal actions, the program break and dumpability, asked of the leader. */
static int dump_signals(struct dump *d, struct spice_image_process *p)
{
	struct spice_image_sigaction act[64];
	struct dump_thread *t = &d->threads[0];
	uint64_t scratch = dump_scratch(t, sizeof(act[0]));
	long ret;
	int sig;

	memset(act, 0, sizeof(act));
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* struct kernel_sigaction has the image's layout. */
		ret = dump_inject(d, t, SYS_rt_sigaction, sig, 0, scratch, 8);
		if (ret)
			return dump_fail(d, ret < 0 ? (int)ret : -EIO,
					 "rt_sigaction(%d) in the process: %ld", sig, ret);
		if (dump_read_mem(d, scratch, &act[sig - 1], sizeof(act[0])))
			return dump_fail(d, -EIO, "reading a signal action");
	}
	ret = dump_inject(d, t, SYS_brk, 0, 0, 0, 0);
	if (ret < 0)
		return dump_fail(d, ret, "brk(0) in the process");
	p->brk = ret;
	/* Dumpable 0 (or 2: root only): the restored one will not be. */
	ret = dump_inject(d, t, SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0);
	if (ret < 0)
		return dump_fail(d, ret, "PR_GET_DUMPABLE in the process");
	if (ret != 1)
		p->flags |= SPICE_PROC_UNDUMPABLE;
	return spice_writer_set_sigactions(d->w, act);
}

/* What /proc cannot tell about a thread, and what it can. */
static int dump_thread_state(struct dump *d, struct dump_thread *t,
			     struct spice_image_thread *it)
{
	struct { uint64_t sp; int32_t flags; uint32_t pad; uint64_t size; } ss;
	struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rseq;
	uint64_t scratch = dump_scratch(t, sizeof(ss));
	uint64_t head = 0;
	size_t len = 0;
	long ret;

	memset(it, 0, sizeof(*it));
	it->tid = t->tid;
	memcpy(it->regs, &t->regs, sizeof(t->regs));
	it->sigmask = t->sigmask;
	ret = dump_inject(d, t, SYS_sigaltstack, 0, scratch, 0, 0);
	if (ret || dump_read_mem(d, scratch, &ss, sizeof(ss)))
		return dump_fail(d, ret < 0 ? (int)ret : -EIO,
				 "thread %d: sigaltstack", t->tid);
	it->ss_sp = ss.sp;
	it->ss_size = ss.size;
	it->ss_flags = ss.flags;
	ret = dump_inject(d, t, SYS_prctl, PR_GET_TID_ADDRESS, scratch, 0, 0);
	if (ret || dump_read_mem(d, scratch, &it->clear_child_tid, 8))
		return dump_fail(d, ret < 0 ? (int)ret : -EIO,
				 "thread %d: PR_GET_TID_ADDRESS (CONFIG_CHECKPOINT_RESTORE)",
				 t->tid);
	if (syscall(SYS_get_robust_list, t->tid, &head, &len))
		return dump_fail(d, -errno, "thread %d: get_robust_list", t->tid);
	it->robust_list = head;
	it->robust_list_len = len;
	memset(&rseq, 0, sizeof(rseq));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof(rseq),
		   &rseq) < 0 && errno != EIO && errno != EINVAL)
		return dump_fail(d, -errno, "thread %d: rseq", t->tid);
	it->rseq = rseq.ptr;
	it->rseq_len = rseq.size;
	it->rseq_sig = rseq.sig;
	ret = dump_thread_sched(d, t->tid, it);
	return ret ? ret : dump_thread_prctl(d, t, it);
}

/* Add page @addr of @v; a range never spans two VMAs. */
int dump_ws_add(struct dump_ws *ws, const struct dump_vma *v, uint64_t addr,
		uint32_t flags)
{
	struct mmap_restore_ws_range *last = ws->nr ? &ws->r[ws->nr - 1] : NULL;
	void *q;

	if (last && addr != v->start && last->flags == flags && last->nr_pages < UINT32_MAX &&
	    last->addr + (uint64_t)last->nr_pages * PAGE == addr) {
		last->nr_pages++;
		return 0;
	}
	if (ws->nr >= SPICE_IMAGE_MAX_WS)
		return -E2BIG;
	if (ws->nr == ws->cap) {
		ws->cap = ws->cap ? 2 * ws->cap : 256;
		q = realloc(ws->r, ws->cap * sizeof(*ws->r));
		if (!q)
			return -ENOMEM;
		ws->r = q;
	}
	ws->r[ws->nr].addr = addr;
	ws->r[ws->nr].nr_pages = 1;
	ws->r[ws->nr].flags = flags;
	ws->nr++;
	return 0;
}

/*
 * Which pages of @v to store, from pagemap: a page never touched (neither
 * present nor swapped) is zero or the file's; a page cache page mapped
 * from a private file mapping is the file's.  Everything else is read.
 */
static int need_page(const struct dump_vma *v, uint64_t pm)
{
	if (!(pm & (PM_PRESENT | PM_SWAP)))
		return 0;
	if (v->path && (pm & PM_FILE))
		return 0;
	return !(v->path && (v->flags & SPICE_VMA_SHARED));
}

static int dump_vma_pages(struct dump *d, const struct dump_vma *v, int pm_fd,
			  struct dump_ws *ws, char *buf, uint64_t total)
{
	uint64_t pm[CHUNK_PAGES], addr, first, i, n, run;
	uint32_t wflag;
	int err;

	wflag = (v->prot & PROT_WRITE) ? MMAP_RESTORE_WS_WRITE : 0;
	for (addr = v->start; addr < v->end; addr += n * PAGE) {
		n = (v->end - addr) / PAGE;
		if (n > CHUNK_PAGES)
			n = CHUNK_PAGES;
		err = spice_pread_full(pm_fd, pm, n * 8, addr / PAGE * 8);
		if (err)
			return dump_fail(d, err, "pagemap of %#llx",
					 (unsigned long long)addr);
		for (i = 0; i < n; i = run) {
			if (!need_page(v, pm[i])) {
				/* Resident file pages are worth mapping at restore. */
				if ((pm[i] & PM_PRESENT) && ws &&
				    !(v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR))) {
					err = dump_ws_add(ws, v, addr + i * PAGE, 0);
					if (err)
						return err;
				}
				run = i + 1;
				continue;
			}
			first = i;
			for (run = i; run < n && need_page(v, pm[run]); run++)
				;
			err = dump_read_mem(d, addr + first * PAGE, buf,
					    (run - first) * PAGE);
			if (err)
				return dump_fail(d, err, "reading [%#llx, +%llu pages)",
						 (unsigned long long)(addr + first * PAGE),
						 (unsigned long long)(run - first));
			err = spice_writer_add_pages(d->w, addr + first * PAGE, buf,
						     (run - first) * PAGE);
			if (err)
				return dump_fail(d, err, "storing pages at %#llx",
						 (unsigned long long)(addr + first * PAGE));
			for (; ws && first < run; first++) {
				err = dump_ws_add(ws, v, addr + first * PAGE, wflag);
				if (err)
					return err;
			}
		}
		if (d->opts->progress)
			d->opts->progress(d->stats->bytes_read, total,
					  d->opts->progress_arg);
	}
	return 0;
}

/*
 * The made file a mapping of a memfd or deleted file maps.  A writable
 * shared mapping of a memfd sealed against future writes could not be
 * made again (mmap() refuses it once sealed): refused here.
 */
static int dump_made_vma(struct dump *d, const struct dump_vma *v)
{
	const struct dump_made *m;
	char path[96], what[64];
	int idx;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", d->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	snprintf(what, sizeof(what), "mapping [%#llx, %#llx)",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	idx = dump_made_file(d, path, v->path, what);
	m = idx < 0 ? NULL : dump_find_made(d, idx);
	if (m && (m->seals & F_SEAL_FUTURE_WRITE) && (v->flags & SPICE_VMA_SHARED) &&
	    ((v->prot & PROT_WRITE) || (v->flags & SPICE_VMA_MAYWRITE)))
		return dump_fail(d, -EOPNOTSUPP,
				 "%s: writable, of %s sealed F_SEAL_FUTURE_WRITE: not restored",
				 what, v->path);
	return idx;
}

static int dump_memory(struct dump *d)
{
	struct dump_ws ws = { NULL, 0, 0 }, *wsp;
	struct spice_image_vma iv;
	uint64_t total = 0;
	char path[64], *buf;
	int i, idx, pm_fd, err = 0;

	for (i = 0; i < d->nr_vmas; i++) {
		const struct dump_vma *v = &d->vmas[i];

		memset(&iv, 0, sizeof(iv));
		iv.start = v->start;
		iv.end = v->end;
		iv.prot = v->prot;
		iv.flags = v->flags;
		iv.file = SPICE_IMAGE_NONE;
		if (v->path) {
			idx = v->deleted ? dump_made_vma(d, v) :
			      spice_writer_add_file(d->w, v->path, dump_file_flags(d));
			if (idx < 0)
				return v->deleted ? idx : dump_fail(d, idx, "%s", v->path);
			iv.file = idx;
			iv.pgoff = v->pgoff;
		}
		err = spice_writer_add_vma(d->w, &iv);
		if (err < 0)
			return dump_fail(d, err, "mapping [%#llx, %#llx)",
					 (unsigned long long)v->start,
					 (unsigned long long)v->end);
		total += v->end - v->start;
	}
	d->stats->vmas = d->nr_vmas;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", d->pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0)
		return dump_fail(d, -errno, "cannot open %s", path);
	buf = malloc(CHUNK_PAGES * PAGE);
	err = buf ? 0 : -ENOMEM;
	for (i = 0; i < d->nr_vmas && !err; i++) {
		if (d->vmas[i].flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR))
			continue;
		wsp = d->opts->flags & SPICE_DUMP_WS_NONE ? NULL : &ws;
		if (dump_vma_is_shmem(&d->vmas[i]))
			err = dump_shmem_pages(d, &d->vmas[i], wsp, buf,
					       CHUNK_PAGES * PAGE);
		else
			err = dump_vma_pages(d, &d->vmas[i], pm_fd, wsp, buf, total);
	}
	free(buf);
	close(pm_fd);
	if (!err)
		err = spice_writer_set_ws(d->w, ws.r, ws.nr);
	free(ws.r);
	return err;
}

/* Everything the process must be stopped for. */
static int dump_frozen(struct dump *d, struct spice_image_process *proc)
{
	struct spice_image_thread it;
	char buf[4096], exe[4096], cwd[4096];
	int i, n, err;

	err = dump_note_own_files(d);
	if (!err)
		err = dump_seize(d);
	if (!err)
		err = dump_read_maps(d);
	if (!err)
		err = dump_check_shmem(d);
	for (i = 0; i < d->nr_threads && !err; i++)
		err = dump_read_regs(d, &d->threads[i]);
	if (!err)
		err = dump_find_syscall_insn(d);
	if (!err)
		err = dump_process(d, proc);
	if (!err)
		err = dump_signals(d, proc);
	if (!err)
		err = dump_proc_flags(d, proc);
	if (!err)
		err = dump_rlimits(d);
	if (!err)
		err = dump_posix_timers(d);
	if (!err)
		err = dump_itimers(d);
	for (i = 0; i < d->nr_threads && !err; i++) {
		err = dump_thread_state(d, &d->threads[i], &it);
		if (!err)
			err = spice_writer_add_thread(d->w, &it, d->threads[i].xstate,
						      d->threads[i].xstate_len);
	}
	/* After the last injected call, which may have held a signal back. */
	if (!err)
		err = dump_pending_signals(d);
	d->stats->threads = d->nr_threads;
	if (err)
		return err;

	proc->exe_file = SPICE_IMAGE_NONE;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", d->pid);
	n = readlink(exe, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (dump_ends_with(buf, " (deleted)"))
			return dump_fail(d, -EOPNOTSUPP,
					 "executable %s: a deleted or memfd executable is not restored",
					 buf);
		n = spice_writer_add_file(d->w, buf, dump_file_flags(d));
		if (n < 0)
			return dump_fail(d, n, "executable %s", buf);
		proc->exe_file = n;
	}
	err = dump_memory(d);
	if (!err)
		err = dump_fds(d);
	if (!err)
		err = dump_check_made_shared(d);
	if (err)
		return err;
	n = dump_read_file(d->pid, "auxv", buf, sizeof(buf));
	snprintf(exe, sizeof(exe), "/proc/%d/cwd", d->pid);
	i = readlink(exe, cwd, sizeof(cwd) - 1);
	cwd[i > 0 ? i : 0] = '\0';
	/* auxv is binary: trust the length read, not a NUL. */
	return spice_writer_set_process(d->w, proc, i > 0 ? cwd : NULL, buf,
					n > 0 ? (size_t)n / 16 * 16 : 0);
}

int spice_dump(pid_t pid, int fd, const struct spice_dump_opts *opts,
	       struct spice_dump_stats *stats, char *why)
{
	static const struct spice_dump_opts no_opts;
	struct spice_dump_stats local;
	struct spice_image_process proc;
	uint64_t t0 = now_ns(), t1;
	char path[64];
	struct dump *d;
	int err, i;

	if (why)
		why[0] = '\0';
	if (!opts)
		opts = &no_opts;
	if (!stats)
		stats = &local;
	if (opts->flags & ~(SPICE_DUMP_KILL | SPICE_DUMP_WS_NONE |
			    SPICE_DUMP_HASH_FILES | SPICE_DUMP_RESET_CONNECTIONS) ||
	    pid <= 0 || opts->nr_supplied < 0 || (opts->nr_supplied && !opts->supplied))
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	memset(&proc, 0, sizeof(proc));
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pid = pid;
	d->why = why;
	d->opts = opts;
	d->stats = stats;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	d->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	d->w = spice_writer_new(opts->spool_dir);
	if (d->mem_fd < 0)
		err = dump_fail(d, -errno, "cannot open %s", path);
	else if (!d->w)
		err = dump_fail(d, -errno, "cannot create a spool file");
	else
		err = dump_frozen(d, &proc);
	t1 = now_ns();
	dump_release(d, !err && (opts->flags & SPICE_DUMP_KILL));
	if (!err) {
		err = spice_writer_write(d->w, fd, &stats->image, why);
		if (err)
			dump_fail(d, err, "writing the image");
	}
	stats->ns_frozen = t1 - t0;
	stats->ns_total = now_ns() - t0;
	for (i = 0; i < d->nr_threads; i++)
		free(d->threads[i].xstate);
	for (i = 0; i < d->nr_vmas; i++)
		free(d->vmas[i].path);
	free(d->vmas);
	for (i = 0; i < d->nr_made; i++)
		free(d->made[i].path);
	free(d->made);
	free(d->own);
	spice_writer_free(d->w);
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	free(d);
	return err;
}
