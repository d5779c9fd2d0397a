// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dumper's side of pending signals: each thread's queue and the
 * process's, read with PTRACE_PEEKSIGINFO in the order they were sent,
 * after the signal a thread had already taken when it stopped for the
 * dump (held back from it, so it is still to be delivered).  A standard
 * signal that the kernel marked pending without an entry (it had no
 * memory for one, or a real-time signal was over RLIMIT_SIGPENDING) is
 * recorded as the kernel would deliver it: SI_USER, with no sender.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "dump_internal.h"

#define FIRST_RT_SIGNAL	32	/* the kernel's SIGRTMIN */
#define PEEK_BATCH	32

_Static_assert(sizeof(siginfo_t) == sizeof(((struct spice_image_signal *)0)->info),
	       "the image holds a whole siginfo_t");

/* One queue being recorded: whose it is, and its standard signals so far. */
struct queue {
	uint32_t thread;	/* index, or SPICE_IMAGE_NONE */
	pid_t tid;		/* for messages; 0 for the process */
	uint64_t standard;	/* bit n - 1 for signal n */
	uint64_t seen;		/* every signal recorded, the same way */
};

static int add(struct dump *d, struct queue *q, const siginfo_t *si)
{
	struct spice_image_signal s = { .thread = q->thread };
	int sig = si->si_signo;

	if (sig == SIGKILL || sig == SIGSTOP) {
		if (q->tid)
			return dump_fail(d, -EBUSY, "thread %d: %s is pending",
					 q->tid, sig == SIGKILL ? "SIGKILL" : "SIGSTOP");
		return dump_fail(d, -EBUSY, "the process has %s pending",
				 sig == SIGKILL ? "SIGKILL" : "SIGSTOP");
	}
	if (sig < FIRST_RT_SIGNAL) {
		/* The signal held back may be pending again: it is one. */
		if (q->standard & 1ULL << (sig - 1))
			return 0;
		q->standard |= 1ULL << (sig - 1);
	}
	q->seen |= 1ULL << (sig - 1);
	memcpy(s.info, si, sizeof(s.info));
	return spice_writer_add_signal(d->w, &s);
}

/* The queue of thread @tid, or the process's with @shared, in order. */
static int peek_queue(struct dump *d, struct queue *q, pid_t tid, int shared)
{
	struct __ptrace_peeksiginfo_args a = {
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		.nr = PEEK_BATCH,
	};
	siginfo_t si[PEEK_BATCH];
	long n, i;
	int err;

	do {
		n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, si);
		if (n < 0)
			return dump_fail(d, -errno, "%s: pending signals",
					 shared ? "the process" : "a thread");
		for (i = 0; i < n; i++) {
			err = add(d, q, &si[i]);
			if (err)
				return err;
		}
		a.off += n;
	} while (n == PEEK_BATCH);
	return 0;
}

/*
 * Signals in the pending set @set with no entry in the queue: sent when
 * the kernel had no entry to give them (over RLIMIT_SIGPENDING, for a
 * real-time one sent with kill()).
 */
static int add_unqueued(struct dump *d, struct queue *q, uint64_t set)
{
	siginfo_t si;
	int sig, err;

	for (sig = 1; sig <= 64; sig++) {
		if (!(set & 1ULL << (sig - 1)) || q->seen & 1ULL << (sig - 1))
			continue;
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_USER;
		err = add(d, q, &si);
		if (err)
			return err;
	}
	return 0;
}

/* The hexadecimal signal set after @key in a /proc status file, or 0. */
static uint64_t status_sigset(const char *status, const char *key)
{
	const char *s = strstr(status, key);

	return s ? strtoull(s + strlen(key), NULL, 16) : 0;
}

int dump_pending_signals(struct dump *d)
{
	char name[64], status[4096];
	struct dump_thread *t;
	uint64_t shared = 0;
	struct queue q;
	int i, n, err;

	for (i = 0; i < d->nr_threads; i++) {
		t = &d->threads[i];
		snprintf(name, sizeof(name), "task/%d/status", t->tid);
		n = dump_read_file(d->pid, name, status, sizeof(status));
		if (n < 0)
			return dump_fail(d, n, "thread %d: status", t->tid);
		shared = status_sigset(status, "\nShdPnd:");
		q = (struct queue){ .thread = i, .tid = t->tid };
		err = t->pending_signal ? add(d, &q, &t->pending_info) : 0;
		if (!err)
			err = peek_queue(d, &q, t->tid, 0);
		if (!err)
			err = add_unqueued(d, &q, status_sigset(status, "\nSigPnd:"));
		if (err)
			return err;
	}
	q = (struct queue){ .thread = SPICE_IMAGE_NONE };
	err = peek_queue(d, &q, d->threads[0].tid, 1);
	return err ? err : add_unqueued(d, &q, shared);
}
