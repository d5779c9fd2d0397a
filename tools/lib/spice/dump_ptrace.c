// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's ptrace side: stop every thread of a process, read each
 * thread's registers, and ask the stopped process for state that /proc
 * does not show by making it execute system calls.
 *
 * Injection needs no code in the target: the thread's registers are set to
 * the call's number and arguments with the instruction pointer on a
 * `syscall` instruction found in the vDSO, the thread is single-stepped
 * over it, and its registers are put back.  orig_rax is set to -1 for the
 * injected call so that the kernel's restart logic leaves it alone, and is
 * restored with the rest, so that a call interrupted by the stop (a
 * blocking read, say) restarts when the thread resumes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>

#include "dump_internal.h"

static int read_tids(pid_t pid, pid_t **tids, int *nr)
{
	char path[64];
	struct dirent *de;
	pid_t *t = NULL, *q;

	*tids = NULL;
	*nr = 0;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		q = realloc(t, (n + 1) * sizeof(*t));
		if (!q) {
			free(t);
			closedir(d);
			return -ENOMEM;
		}
		t = q;
		t[n++] = atoi(de->d_name);
	}
	closedir(d);
	*tids = t;
	*nr = n;
	return 0;
}

/* The parent of @pid, from /proc/PID/stat (field 4), or -1. */
static pid_t getppid_of(pid_t pid)
{
	char buf[512], *p;
	int ppid;

	if (dump_read_file(pid, "stat", buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static int known(const struct dump *d, pid_t tid)
{
	int i;

	for (i = 0; i < d->nr_threads; i++)
		if (d->threads[i].tid == tid)
			return 1;
	return 0;
}

/*
 * Wait for @t's interrupt stop, keeping a signal it stopped for instead,
 * with its information: the thread had taken it from its queue.
 */
static int wait_stop(struct dump_thread *t)
{
	pid_t tid = t->tid;
	int status;

	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;	/* it exited */
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/*
		 * A signal-delivery stop came first: hold the signal back
		 * (it is handed back at detach, and the image has it
		 * pending) and wait for the interrupt.  Only one can be
		 * handed back.
		 */
		if (t->pending_signal)
			return -EAGAIN;
		t->pending_signal = WSTOPSIG(status);
		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &t->pending_info) ||
		    ptrace(PTRACE_CONT, tid, NULL, NULL))
			return -errno;
	}
}

int dump_seize(struct dump *d)
{
	struct dump_thread *t;
	int i, nr = 0, err, again = 1;
	pid_t *tids = NULL;

	/* Threads can be created while we stop the others: loop until stable. */
	while (again) {
		again = 0;
		err = read_tids(d->pid, &tids, &nr);
		if (err)
			return dump_fail(d, err, "cannot list the threads of %d", d->pid);
		for (i = 0; i < nr; i++) {
			if (known(d, tids[i]))
				continue;
			if (d->nr_threads >= SPICE_IMAGE_MAX_THREADS) {
				free(tids);
				return dump_fail(d, -E2BIG, "more than %d threads",
						 SPICE_IMAGE_MAX_THREADS);
			}
			if (ptrace(PTRACE_SEIZE, tids[i], NULL, NULL)) {
				if (errno == ESRCH)
					continue;
				err = -errno;
				free(tids);
				return dump_fail(d, err, "cannot seize thread %d", tids[i]);
			}
			t = &d->threads[d->nr_threads++];
			memset(t, 0, sizeof(*t));
			t->tid = tids[i];
			t->seized = 1;
			again = 1;
			err = ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) ?
			      -ESRCH : wait_stop(t);
			if (err) {
				free(tids);
				return dump_fail(d, err == -EAGAIN ? err : -ESRCH,
						 err == -EAGAIN ?
						 "thread %d: two signals arrived during the dump" :
						 "thread %d exited during the dump", t->tid);
			}
		}
		free(tids);
	}
	/* The thread group leader comes first in an image. */
	for (i = 0; i < d->nr_threads; i++) {
		if (d->threads[i].tid == d->pid) {
			struct dump_thread tmp = d->threads[0];

			d->threads[0] = d->threads[i];
			d->threads[i] = tmp;
		}
	}
	return 0;
}

/*
 * Let the threads go, or kill them.  A killed thread leaves the ptrace
 * stop and exits still traced: the tracer must reap it, the other threads
 * first, since the leader is not reported before they are gone.  The
 * leader is left for its parent to reap (WNOWAIT when the parent is us).
 */
void dump_release(struct dump *d, int kill_it)
{
	pid_t parent = getppid_of(d->pid);
	siginfo_t info;
	int i, status;

	if (kill_it && d->nr_threads) {
		kill(d->pid, SIGKILL);
		for (i = 1; i < d->nr_threads; i++)
			if (d->threads[i].seized)
				waitpid(d->threads[i].tid, &status, __WALL);
		if (d->threads[0].seized)
			waitid(P_PID, d->pid, &info, WEXITED | __WALL |
			       (parent == getpid() ? WNOWAIT : 0));
		for (i = 0; i < d->nr_threads; i++)
			d->threads[i].seized = 0;
		return;
	}
	for (i = 0; i < d->nr_threads; i++) {
		if (!d->threads[i].seized)
			continue;
		ptrace(PTRACE_DETACH, d->threads[i].tid, NULL,
		       (void *)(long)d->threads[i].pending_signal);
		d->threads[i].seized = 0;
	}
}

int dump_read_regs(struct dump *d, struct dump_thread *t)
{
	struct iovec iov = { &t->regs, sizeof(t->regs) };
	uint64_t mask;

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &iov))
		return dump_fail(d, -errno, "thread %d: registers", t->tid);
	t->xstate = malloc(SPICE_IMAGE_MAX_XSTATE);
	if (!t->xstate)
		return -ENOMEM;
	iov.iov_base = t->xstate;
	iov.iov_len = SPICE_IMAGE_MAX_XSTATE;
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov))
		return dump_fail(d, -errno, "thread %d: xstate", t->tid);
	t->xstate_len = iov.iov_len;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)sizeof(mask), &mask))
		return dump_fail(d, -errno, "thread %d: signal mask", t->tid);
	t->sigmask = mask;
	return 0;
}

/* The address of a `syscall` instruction (0f 05) in the vDSO. */
int dump_find_syscall_insn(struct dump *d)
{
	unsigned char *buf;
	uint64_t len, i;

	if (!d->vdso_start)
		return dump_fail(d, -ENOEXEC, "no vDSO to run system calls from");
	len = d->vdso_end - d->vdso_start;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if (dump_read_mem(d, d->vdso_start, buf, len)) {
		free(buf);
		return dump_fail(d, -EIO, "cannot read the vDSO");
	}
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			d->syscall_insn = d->vdso_start + i;
			break;
		}
	}
	free(buf);
	if (!d->syscall_insn)
		return dump_fail(d, -ENOEXEC, "no syscall instruction in the vDSO");
	return 0;
}

long dump_inject(struct dump *d, struct dump_thread *t, long nr, long a1,
		 long a2, long a3, long a4)
{
	struct user_regs_struct regs = t->regs;
	struct iovec iov = { &regs, sizeof(regs) };
	int status;
	long ret;

	regs.rax = nr;
	regs.orig_rax = -1;
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	/* Unused arguments are zero: some prctl() options refuse others. */
	regs.r8 = 0;
	regs.r9 = 0;
	regs.rip = d->syscall_insn;
	if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_PRSTATUS, &iov))
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, t->tid, NULL, NULL))
			return -errno;
		if (waitpid(t->tid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP)
			break;
		/*
		 * The thread took a signal before the instruction: held
		 * back as wait_stop() holds one, and stepped again.
		 */
		if (t->pending_signal)
			return -EAGAIN;
		t->pending_signal = WSTOPSIG(status);
		if (ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &t->pending_info))
			return -errno;
	}
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &iov))
		return -errno;
	ret = regs.rax;
	/* Put everything back, orig_rax included (see the top comment). */
	iov.iov_base = &t->regs;
	iov.iov_len = sizeof(t->regs);
	if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_PRSTATUS, &iov))
		return -errno;
	return ret;
}

/* Scratch memory for injected calls: below the red zone of the stack. */
uint64_t dump_scratch(const struct dump_thread *t, size_t len)
{
	return ((uint64_t)t->regs.rsp - 128 - len) & ~63ULL;
}
