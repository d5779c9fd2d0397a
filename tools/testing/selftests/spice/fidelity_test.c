// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() keeps what a process holds: resource limits, prctl
 * state, the OOM score, each thread's id, parent-death signal and timer
 * slack, each mapping's lock and advice, and tens of thousands of
 * mappings, the interval timers, pending signals with their siginfo,
 * POSIX timers with their ids, fds that share an open file, file locks,
 * timerfds; none of the launcher's timers.  A dumpee sets the state,
 * is dumped and restored by a launcher that does not have it, then checks
 * it from inside; the test checks it from /proc too.  A launcher that could not
 * give itself the state with the ordinary calls gets their error, and is
 * left as it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "channel.h"
#include "mmap_restore_util.h"
#include "proc_views.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE			65
#define PR_GET_MDWE			66
#define PR_MDWE_REFUSE_EXEC_GAIN	1UL
#define PR_MDWE_NO_INHERIT		2UL
#endif

#define CMD_FD		10	/* the dumpee's requests */
#define ACK_FD		11	/* and its replies */

/* What the dumpee sets before it is dumped. */
#define WITH_LIMITS	1
#define WITH_PRCTL	2	/* and a second thread with its own */
#define WITH_OOM_LOW	4	/* an OOM score only CAP_SYS_RESOURCE may set */
#define WITH_MAPS	8	/* MANY_VMAS mappings */
#define WITH_TIDS	16	/* a thread holding a robust mutex */
#define WITH_VMA_STATE	32	/* locked and advised mappings, see vma_state */
#define WITH_OVER_MEMLOCK 64	/* ... and more locked than RLIMIT_MEMLOCK */
#define WITH_NO_TIMERS	128	/* none: checks it got none of the launcher's */
#define WITH_ITIMERS	256	/* the three interval timers armed */
#define WITH_SIGNALS	512	/* signals pending for two threads and the process */
#define WITH_POSIX_TIMERS 1024	/* POSIX timers of each kind, one firing soon */
#define WITH_SHARED_FILES 2048	/* dup()ed fds: a file and an eventfd */
#define WITH_LOCKS	4096	/* flock, POSIX and OFD locks, see take_locks() */
#define WITH_TIMERFDS	8192	/* timerfds, see make_timerfds() */
#define WITH_PROC_VIEW	16384	/* dump_with() keeps its /proc view */
#define WITH_PIDFDS	32768	/* pidfds of itself and a thread, see make_pidfds() */

#define CORE_MAX	1048576
#define MSGQUEUE_CUR	4096
#define MSGQUEUE_MAX	8192
#define MAIN_SLACK	123456
#define WORKER_SLACK	654321
#define OOM_SCORE	321
#define OOM_LOW		-500
#define MDWE_BITS	(PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT)
#define MANY_VMAS	30000
/* Interval timers, in seconds: far enough that none fires during a test. */
#define REAL_LEFT	1000
#define REAL_EVERY	500
#define VIRTUAL_LEFT	200
#define PROF_LEFT	300
#define PROF_EVERY	7

/*
 * The real-time signals the other states send the process, blocked in the
 * threads that do not take them, made before those states are set.
 */
static void block_rt_signals(void)
{
	sigset_t rt;
	int sig;

	sigemptyset(&rt);
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(&rt, sig);
	if (pthread_sigmask(SIG_BLOCK, &rt, NULL))
		_exit(32);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool worker_ready, asked;
static char worker_verdict;	/* 'Y' or 'N' once asked */

/* A second thread with its own parent-death signal and timer slack. */
static void *worker(void *arg)
{
	int sig = 0;
	bool ok;

	(void)arg;
	block_rt_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) || prctl(PR_SET_TIMERSLACK, WORKER_SLACK))
		_exit(30);
	pthread_mutex_lock(&lock);
	worker_ready = true;
	pthread_cond_broadcast(&wake);
	while (!asked)
		pthread_cond_wait(&wake, &lock);
	ok = !prctl(PR_GET_PDEATHSIG, &sig) && sig == SIGUSR2 &&
	     prctl(PR_GET_TIMERSLACK) == WORKER_SLACK;
	worker_verdict = ok ? 'Y' : 'N';
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/*
 * Signals pending with their information: SIGUSR1 sent with tgkill() to
 * the main thread, SIGUSR2 and a real-time signal (with a value) to a
 * second thread, and a real-time signal queued twice to the process, with
 * two values, in order.  All blocked by every thread.
 */
#define RT_SHARED	(SIGRTMIN + 1)
#define RT_THREAD	(SIGRTMIN + 2)
static pid_t sender;		/* the dumpee's pid, in each siginfo */
static pthread_t sig_thread;
static bool sig_thread_ready, sig_thread_asked;
static char sig_thread_verdict;	/* 'Y' or 'N' once asked */

static sigset_t test_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, RT_SHARED);
	sigaddset(&set, RT_THREAD);
	return set;
}

/*
 * Take @sig now, if pending, and check who sent it, how and with what.
 * With the system call: glibc's sigtimedwait() turns SI_TKILL into SI_USER.
 */
static bool take(int sig, int code, int value)
{
	struct timespec now = { 0, 0 };
	uint64_t set = 1ULL << (sig - 1);
	siginfo_t si;

	return syscall(SYS_rt_sigtimedwait, &set, &si, &now, sizeof(set)) == sig &&
	       si.si_code == code &&
	       si.si_pid == sender && si.si_uid == getuid() &&
	       (code != SI_QUEUE || si.si_value.sival_int == value);
}

/* Whether nothing of @set is pending any more. */
static bool none_pending(void)
{
	sigset_t pending, set = test_signals();
	int sig;

	if (sigpending(&pending))
		return false;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) && sigismember(&pending, sig))
			return false;
	return true;
}

static void *sig_worker(void *arg)
{
	bool ok;

	(void)arg;
	block_rt_signals();	/* those of the other states: not its to take */
	pthread_mutex_lock(&lock);
	sig_thread_ready = true;
	pthread_cond_broadcast(&wake);
	while (!sig_thread_asked)
		pthread_cond_wait(&wake, &lock);
	ok = take(SIGUSR2, SI_TKILL, 0) && take(RT_THREAD, SI_QUEUE, 333);
	sig_thread_verdict = ok && none_pending() ? 'Y' : 'N';
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void make_signals_pending(void)
{
	union sigval first = { .sival_int = 111 }, second = { .sival_int = 222 };
	union sigval third = { .sival_int = 333 };
	sigset_t set = test_signals();

	sender = getpid();
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    pthread_create(&sig_thread, NULL, sig_worker, NULL))
		_exit(34);
	pthread_mutex_lock(&lock);
	while (!sig_thread_ready)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	if (raise(SIGUSR1) ||
	    sigqueue(sender, RT_SHARED, first) ||
	    sigqueue(sender, RT_SHARED, second) ||
	    pthread_kill(sig_thread, SIGUSR2) ||
	    pthread_sigqueue(sig_thread, RT_THREAD, third))
		_exit(35);
}

/* Each signal where it was, in order; then the second thread's: 'A' or why. */
static char signals_still_pending(void)
{
	if (!take(SIGUSR1, SI_TKILL, 0))
		return 'g';
	if (!take(RT_SHARED, SI_QUEUE, 111) || !take(RT_SHARED, SI_QUEUE, 222))
		return 'h';
	if (!none_pending())
		return 'u';
	pthread_mutex_lock(&lock);
	sig_thread_asked = true;
	pthread_cond_broadcast(&wake);
	while (!sig_thread_verdict)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	return sig_thread_verdict == 'Y' ? 'A' : 'G';
}

/*
 * POSIX timers: one that fires FIRE_SOON s after it is made (after the
 * restore), one SIGEV_NONE, a deleted one leaving a hole in the ids, one
 * signalling a second thread, one made without a sigevent (SIGALRM, its
 * id as value), and one every millisecond, whose blocked signal is
 * pending when the process is dumped.
 */
#define FIRE_SOON	10
#define RT_TIMER	(SIGRTMIN + 5)
#define RT_TIMER_THREAD	(SIGRTMIN + 6)
#define RT_TIMER_FAST	(SIGRTMIN + 7)
enum { T_SOON, T_NONE, T_THREAD, T_DEFAULT, T_FAST, T_NR };
static timer_t timer_ids[T_NR];
static char timers_before[2048];	/* /proc/self/timers, pids left out */
static pid_t timer_thread_tid;

/* /proc/self/timers without the process's pid, which a restore changes. */
static void read_timers(char *buf, size_t len)
{
	int fd = open("/proc/self/timers", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	char *s, *e;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (s = strstr(buf, "pid."); s; s = strstr(s, "pid.")) {
		e = s + 4 + strspn(s + 4, "0123456789");
		memmove(s + 3, e, strlen(e) + 1);
		s += 3;
	}
}

static void *timer_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	timer_thread_tid = syscall(SYS_gettid);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

static int make_timer(int which, clockid_t clock, struct sigevent *sev,
		      long left, long every)
{
	struct itimerspec its = { { every, 0 }, { left, 0 } };

	return timer_create(clock, sev, &timer_ids[which]) ||
	       timer_settime(timer_ids[which], 0, &its, NULL);
}

static void make_posix_timers(void)
{
	struct sigevent soon = { .sigev_notify = SIGEV_SIGNAL,
				 .sigev_signo = RT_TIMER,
				 .sigev_value.sival_int = 41 };
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	struct sigevent fast = { .sigev_notify = SIGEV_SIGNAL,
				 .sigev_signo = RT_TIMER_FAST };
	struct itimerspec every_ms = { { 0, 1000000 }, { 0, 1000000 } };
	struct sigevent to_thread = { .sigev_notify = SIGEV_THREAD_ID,
				      .sigev_signo = RT_TIMER_THREAD,
				      .sigev_value.sival_int = 43 };
	sigset_t set;
	timer_t hole;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, RT_TIMER);
	sigaddset(&set, RT_TIMER_THREAD);
	sigaddset(&set, RT_TIMER_FAST);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    pthread_create(&t, NULL, timer_thread, NULL))
		_exit(36);
	pthread_mutex_lock(&lock);
	while (!timer_thread_tid)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	to_thread._sigev_un._tid = timer_thread_tid;
	if (make_timer(T_SOON, CLOCK_MONOTONIC, &soon, FIRE_SOON, 0) ||
	    make_timer(T_NONE, CLOCK_REALTIME, &none, 500, 250) ||
	    timer_create(CLOCK_MONOTONIC, NULL, &hole) || timer_delete(hole) ||
	    make_timer(T_THREAD, CLOCK_BOOTTIME, &to_thread, 400, 7) ||
	    make_timer(T_DEFAULT, CLOCK_TAI, NULL, 300, 0) ||
	    timer_create(CLOCK_MONOTONIC, &fast, &timer_ids[T_FAST]) ||
	    timer_settime(timer_ids[T_FAST], 0, &every_ms, NULL))
		_exit(37);
	usleep(20000);		/* its signal is pending from now on */
	read_timers(timers_before, sizeof(timers_before));
}

/*
 * Whether timer @which has at most @left s left (and more than half) and
 * an interval of @every s.
 */
static bool posix_timer_is(int which, long left, long every)
{
	struct itimerspec its;

	return !timer_gettime(timer_ids[which], &its) &&
	       its.it_interval.tv_sec == every && !its.it_interval.tv_nsec &&
	       its.it_value.tv_sec <= left && its.it_value.tv_sec >= left / 2;
}

/* The same timers, with their times; then the first one fires. */
static char posix_timers_kept(void)
{
	struct timespec wait = { 60, 0 };
	char now[sizeof(timers_before)];
	siginfo_t si;
	sigset_t set;

	read_timers(now, sizeof(now));
	if (strcmp(now, timers_before))
		return 'T';
	if (!posix_timer_is(T_NONE, 500, 250) || !posix_timer_is(T_THREAD, 400, 7) ||
	    !posix_timer_is(T_DEFAULT, 300, 0))
		return 'U';
	sigemptyset(&set);
	sigaddset(&set, RT_TIMER_FAST);
	if (sigtimedwait(&set, &si, &wait) != RT_TIMER_FAST || si.si_code != SI_TIMER ||
	    si.si_timerid != (long)timer_ids[T_FAST])
		return 'P';
	sigemptyset(&set);
	sigaddset(&set, RT_TIMER);
	if (sigtimedwait(&set, &si, &wait) != RT_TIMER || si.si_code != SI_TIMER ||
	    si.si_timerid != (long)timer_ids[T_SOON] || si.si_value.sival_int != 41)
		return 'F';
	return 'A';
}

static pthread_mutex_t robust;
static pid_t holder_tid;	/* as gettid() said before the dump */
static pthread_t holder;
static bool holder_exits;

/* Takes the robust mutex, says its id, and exits when told (holding it). */
static void *robust_holder(void *arg)
{
	(void)arg;
	block_rt_signals();
	if (pthread_mutex_lock(&robust))
		_exit(31);
	pthread_mutex_lock(&lock);
	holder_tid = syscall(SYS_gettid);
	pthread_cond_broadcast(&wake);
	while (!holder_exits)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Caught, so that a SIGUSR1 pending for the launcher is not ignored. */
static void on_usr1(int sig)
{
}

static void start_robust_holder(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	pthread_mutexattr_t a;

	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(33);

	if (pthread_mutexattr_init(&a) ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutex_init(&robust, &a) ||
	    pthread_create(&holder, NULL, robust_holder, NULL))
		_exit(32);
	pthread_mutex_lock(&lock);
	while (!holder_tid)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
}

/*
 * The holder still has its id: glibc's pthread_kill() sends to the id it
 * cached ('i' if that fails), and once the holder exits, the kernel finds
 * its id in the mutex's owner word and marks the mutex for the next owner
 * ('r' if the mutex is not handed over as EOWNERDEAD).
 */
static char check_tids(void)
{
	struct timespec ts;

	if (pthread_kill(holder, 0))
		return 'i';
	pthread_mutex_lock(&lock);
	holder_exits = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	if (pthread_join(holder, NULL))
		return 'j';
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	return pthread_mutex_timedlock(&robust, &ts) == EOWNERDEAD ? 'A' : 'r';
}

/* Ask the worker for its verdict: its state, and futexes across a restore. */
static bool worker_says_ok(void)
{
	pthread_mutex_lock(&lock);
	asked = true;
	pthread_cond_broadcast(&wake);
	while (!worker_verdict)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	return worker_verdict == 'Y';
}

static int write_oom_score_adj(int v)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY), n, ok;

	n = snprintf(buf, sizeof(buf), "%d", v);
	ok = fd >= 0 && write(fd, buf, n) == n;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int read_int_file(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY), n;

	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : -9999;
}

/* The number of lines of /proc/PID/maps. */
static int count_maps(pid_t pid)
{
	char path[64], buf[65536];
	int fd, n, i, lines = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	if (fd >= 0)
		close(fd);
	return lines;
}

/*
 * One mapping per lock or advice, then a shared mapping of a file opened
 * for writing but mapped read-only; and the VmFlags each must show.
 */
enum {
	V_LOCKED, V_ONFAULT, V_DONTFORK, V_WIPEONFORK, V_DONTDUMP, V_HUGEPAGE,
	V_SEQUENTIAL, V_RANDOM, V_SHARED_FILE, V_NR
};

static const char *const vma_flag[V_NR] = {
	"lo", "lf", "dc", "wf", "dd", "hg", "sr", "rr", "mw",
};

static char *vma_state[V_NR];
static bool have_thp;
#define SHARED_TEMPLATE	"/tmp/spice-fidelity-shared-XXXXXX"
static char shared_path[] = SHARED_TEMPLATE;
#define VMA_PAGES	4
#define MEMLOCK_LOW	(VMA_PAGES * 4096)	/* below what is locked */

static void set_vma_state(int with)
{
	static const int advice[V_NR] = {
		[V_DONTFORK] = MADV_DONTFORK, [V_WIPEONFORK] = MADV_WIPEONFORK,
		[V_DONTDUMP] = MADV_DONTDUMP, [V_HUGEPAGE] = MADV_HUGEPAGE,
		[V_SEQUENTIAL] = MADV_SEQUENTIAL, [V_RANDOM] = MADV_RANDOM,
	};
	int i, fd;

	for (i = 0; i < V_SHARED_FILE; i++) {
		vma_state[i] = mmap(NULL, VMA_PAGES * 4096, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vma_state[i] == MAP_FAILED)
			_exit(40);
		memset(vma_state[i], 'x', 4096);
	}
	if (mlock(vma_state[V_LOCKED], VMA_PAGES * 4096) ||
	    syscall(SYS_mlock2, vma_state[V_ONFAULT], VMA_PAGES * 4096, MLOCK_ONFAULT))
		_exit(41);
	for (i = V_DONTFORK; i < V_SHARED_FILE; i++)
		if (madvise(vma_state[i], VMA_PAGES * 4096, advice[i]) &&
		    !(i == V_HUGEPAGE && errno == EINVAL))
			_exit(42);
	have_thp = !madvise(vma_state[V_HUGEPAGE], VMA_PAGES * 4096, MADV_HUGEPAGE);
	fd = open(shared_path, O_RDWR);
	vma_state[V_SHARED_FILE] = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (fd < 0 || vma_state[V_SHARED_FILE] == MAP_FAILED)
		_exit(43);
	close(fd);
	/* Root may lock more than its limit says; a launcher without CAP_IPC_LOCK may not. */
	if ((with & WITH_OVER_MEMLOCK) &&
	    setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ MEMLOCK_LOW, MEMLOCK_LOW }))
		_exit(44);
}

/* Whether @flag is among the VmFlags of the mapping at @addr. */
static bool vma_has_flag(void *addr, const char *flag)
{
	char line[512], want[32], tok[4];
	bool in = false, found = false;
	const char *p;
	FILE *f = fopen("/proc/self/smaps", "r");
	int n;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (f && fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ')) {
			in = !strncmp(line, want, strlen(want));
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		for (p = line + 8; sscanf(p, " %3s%n", tok, &n) == 1; p += n)
			found |= !strcmp(tok, flag);
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * Each mapping has its flag; the locked one is resident and counted; a
 * child does not get the DONTFORK mapping and sees the WIPEONFORK one
 * zeroed; the shared mapping can still be made writable.
 */
static char check_vma_state(void)
{
	int i, status;
	pid_t child;

	for (i = 0; i < V_NR; i++)
		if ((i != V_HUGEPAGE || have_thp) && !vma_has_flag(vma_state[i], vma_flag[i]))
			return 'a' + i;
	if (!vma_has_flag(vma_state[V_ONFAULT], "lo"))
		return 'L';
	child = fork();
	if (!child)
		_exit(msync(vma_state[V_DONTFORK], 4096, MS_ASYNC) == 0 ||
		      vma_state[V_WIPEONFORK][0] != 0);
	if (child < 0 || waitpid(child, &status, 0) != child || status)
		return 'F';
	if (vma_state[V_WIPEONFORK][0] != 'x' || vma_state[V_LOCKED][0] != 'x')
		return 'W';
	if (mprotect(vma_state[V_SHARED_FILE], 4096, PROT_READ | PROT_WRITE))
		return 'M';
	vma_state[V_SHARED_FILE][0] = 's';
	return 'A';
}

/*
 * Fds that share an open file: SHARED_FD and its dup, at offset 5; an
 * eventfd and its dup; and the same file opened again, which shares
 * nothing.
 */
#define SHARED_FD	20
#define SHARED_DUP	21
#define EVENT_FD	22
#define EVENT_DUP	23
#define OTHER_OPEN	24

static void share_files(void)
{
	if (dup2(open(shared_path, O_RDWR), SHARED_FD) != SHARED_FD ||
	    dup2(SHARED_FD, SHARED_DUP) != SHARED_DUP ||
	    lseek(SHARED_FD, 5, SEEK_SET) != 5 ||
	    dup2(eventfd(0, 0), EVENT_FD) != EVENT_FD ||
	    dup2(EVENT_FD, EVENT_DUP) != EVENT_DUP ||
	    dup2(open(shared_path, O_RDWR), OTHER_OPEN) != OTHER_OPEN)
		_exit(38);
}

static bool same_file(int a, int b)
{
	return !syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, a, b);
}

/* One offset for the dups, moved by either; one counter for the eventfds. */
static char files_still_shared(void)
{
	uint64_t v = 7;

	if (!same_file(SHARED_FD, SHARED_DUP) || !same_file(EVENT_FD, EVENT_DUP) ||
	    same_file(SHARED_FD, OTHER_OPEN))
		return 'K';
	if (lseek(SHARED_DUP, 0, SEEK_CUR) != 5 ||
	    lseek(SHARED_FD, 100, SEEK_SET) != 100 ||
	    lseek(SHARED_DUP, 0, SEEK_CUR) != 100 ||
	    lseek(OTHER_OPEN, 0, SEEK_CUR) != 0)
		return 'L';
	if (write(EVENT_FD, &v, sizeof(v)) != sizeof(v) ||
	    read(EVENT_DUP, &v, sizeof(v)) != sizeof(v) || v != 7)
		return 'M';
	return 'A';
}

/*
 * File locks on the shared file, each through its own open file: a flock
 * lock, POSIX locks on bytes 0-99 (write) and from 200 on (read), and an
 * OFD read lock on bytes 100-149 through a read-only fd.
 */
#define FLOCK_FD	25
#define POSIX_FD	26
#define OFD_FD		27

static int open_at(const char *path, int flags, int fd)
{
	int got = open(path, flags);

	if (got < 0 || dup2(got, fd) != fd)
		return -1;
	return close(got);
}

static int set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* All opened first: any close() of the file drops the POSIX locks. */
static void take_locks(void)
{
	if (open_at(shared_path, O_RDWR, FLOCK_FD) ||
	    open_at(shared_path, O_RDWR, POSIX_FD) ||
	    open_at(shared_path, O_RDONLY, OFD_FD) ||
	    flock(FLOCK_FD, LOCK_EX | LOCK_NB) ||
	    set_lock(POSIX_FD, F_SETLK, F_WRLCK, 0, 100) ||
	    set_lock(POSIX_FD, F_SETLK, F_RDLCK, 200, 0) ||
	    set_lock(OFD_FD, F_OFD_SETLK, F_RDLCK, 100, 50))
		_exit(39);
}

/*
 * The first lock that conflicts with a @type lock on bytes @start to
 * @start + @len - 1 of the shared file, as fcntl(@cmd) (F_GETLK or
 * F_OFD_GETLK) reports it: its type, and its owner in @pid.
 */
static short lock_seen(int cmd, short type, off_t start, off_t len, pid_t *pid)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };
	int fd = open(shared_path, O_RDWR);

	if (fd < 0 || fcntl(fd, cmd, &fl))
		fl.l_type = -1;
	close(fd);
	*pid = fl.l_pid;
	return fl.l_type;
}

/* Whether a flock() lock of @how can be taken on the shared file now. */
static bool flock_free(int how)
{
	int fd = open(shared_path, O_RDONLY);
	bool free = fd >= 0 && !flock(fd, how | LOCK_NB);

	close(fd);
	return free;
}

/*
 * The "lock:" lines of fdinfo of the lock fds of @pid, without the lock's
 * pid (the launcher's once restored): kind, type, device, inode, range.
 */
static void lock_lines(pid_t pid, char *out, size_t len)
{
	char path[64], buf[4096], kind[16], mode[16], type[16], dev[64], from[32], to[32];
	size_t used = 0;
	ssize_t got;
	char *line;
	int fd, n;

	out[0] = '\0';
	for (fd = FLOCK_FD; fd <= OFD_FD; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
		n = open(path, O_RDONLY);
		got = n >= 0 ? read(n, buf, sizeof(buf) - 1) : -1;
		buf[got > 0 ? got : 0] = '\0';
		if (n >= 0)
			close(n);
		for (line = buf; (line = strstr(line, "lock:")); line++)
			if (sscanf(line, "lock: %*d: %15s %15s %15s %*d %63s %31s %31s",
				   kind, mode, type, dev, from, to) == 6)
				used += snprintf(out + used, len - used, "%d: %s %s %s %s %s %s\n",
						 fd, kind, mode, type, dev, from, to);
	}
}

/*
 * Its own view of its locks: its POSIX locks are its own (F_GETLK through
 * its fd finds no conflict there), the OFD lock is another owner's.  No
 * fd of the file is closed: that would drop the POSIX locks.
 */
static char locks_are_mine(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 100 };

	if (fcntl(POSIX_FD, F_GETLK, &fl) || fl.l_type != F_UNLCK)
		return 'F';
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET,
			     .l_start = 100, .l_len = 50 };
	if (fcntl(POSIX_FD, F_GETLK, &fl) || fl.l_type != F_RDLCK || fl.l_pid != -1)
		return 'G';
	return 'A';
}

/*
 * Timerfds: periodic on CLOCK_MONOTONIC (1000 s left, every 300 s, with a
 * TFD_TIMER_CANCEL_ON_SET that means nothing there but is kept) and a dup
 * of it, absolute on CLOCK_REALTIME with TFD_TIMER_CANCEL_ON_SET (2000 s
 * from now), one-shot on CLOCK_BOOTTIME that fired and was not read, with
 * an epoll instance watching it, and periodic every 50 ms, which has fired
 * before the dump and fires many times around it.
 */
#define TFD_PERIODIC	28
#define TFD_ABSOLUTE	29
#define TFD_FIRED	30
#define TFD_FAST	31
#define TFD_DUP		32
#define TFD_EPOLL	33
#define TFD_FAST_NS	50000000

static int make_timerfd(int fd, int clock, int flags, time_t left, long left_ns,
			time_t every, long every_ns)
{
	struct itimerspec its = { { every, every_ns }, { left, left_ns } };
	int got = timerfd_create(clock, TFD_NONBLOCK);

	if (flags & TFD_TIMER_ABSTIME) {
		clock_gettime(clock, &its.it_value);
		its.it_value.tv_sec += left;
	}
	if (got < 0 || dup2(got, fd) != fd || close(got))
		return -1;
	return timerfd_settime(fd, flags, &its, NULL);
}

static void make_timerfds(void)
{
	struct pollfd p[2] = { { .fd = TFD_FIRED, .events = POLLIN },
			       { .fd = TFD_FAST, .events = POLLIN } };
	struct epoll_event ev = { .events = EPOLLIN };
	int ep;

	if (make_timerfd(TFD_PERIODIC, CLOCK_MONOTONIC, TFD_TIMER_CANCEL_ON_SET,
			 1000, 0, 300, 0) ||
	    dup2(TFD_PERIODIC, TFD_DUP) != TFD_DUP ||
	    make_timerfd(TFD_ABSOLUTE, CLOCK_REALTIME,
			 TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, 2000, 0, 0, 0) ||
	    make_timerfd(TFD_FIRED, CLOCK_BOOTTIME, 0, 0, 1, 0, 0) ||
	    make_timerfd(TFD_FAST, CLOCK_MONOTONIC, 0, 0, TFD_FAST_NS, 0, TFD_FAST_NS) ||
	    poll(&p[0], 1, 10000) != 1 || poll(&p[1], 1, 10000) != 1)
		_exit(40);
	ep = epoll_create1(0);
	if (ep < 0 || dup2(ep, TFD_EPOLL) != TFD_EPOLL || close(ep) ||
	    epoll_ctl(TFD_EPOLL, EPOLL_CTL_ADD, TFD_FIRED, &ev))
		_exit(41);
}

/* Field @name of /proc/self/fdinfo/@fd, or -1. */
static long fdinfo_value(int fd, const char *name, int base)
{
	char path[64], buf[512], *s;
	int f, n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	n = f >= 0 ? read(f, buf, sizeof(buf) - 1) : -1;
	if (f >= 0)
		close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	s = strstr(buf, name);
	return s ? strtol(s + strlen(name), NULL, base) : -1;
}

/* Whether timerfd @fd is on @clock with @flags, @left_s s left at most
 * (at least half of it), and an interval of @every_ns.
 */
static bool timerfd_is(int fd, int clock, int flags, long left_s, long long every_ns)
{
	struct itimerspec its;

	return !timerfd_gettime(fd, &its) &&
	       fdinfo_value(fd, "clockid:", 10) == clock &&
	       fdinfo_value(fd, "settime flags:", 8) == flags &&
	       its.it_interval.tv_sec * 1000000000LL + its.it_interval.tv_nsec == every_ns &&
	       its.it_value.tv_sec <= left_s && its.it_value.tv_sec >= left_s / 2;
}

/*
 * Each as it was; the one that fired has its expiration to read, once,
 * and its epoll instance says so; the fast one fires again.
 */
static char timerfds_kept(void)
{
	struct pollfd p = { .fd = TFD_FAST, .events = POLLIN };
	struct epoll_event ev;
	struct itimerspec its;
	uint64_t ticks = 0;

	if (!timerfd_is(TFD_PERIODIC, CLOCK_MONOTONIC, TFD_TIMER_CANCEL_ON_SET,
			1000, 300000000000LL) || !same_file(TFD_PERIODIC, TFD_DUP) ||
	    !timerfd_is(TFD_ABSOLUTE, CLOCK_REALTIME,
			TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, 2000, 0))
		return 'T';
	if (epoll_wait(TFD_EPOLL, &ev, 1, 0) != 1 ||
	    read(TFD_FIRED, &ticks, sizeof(ticks)) != sizeof(ticks) || ticks != 1 ||
	    read(TFD_FIRED, &ticks, sizeof(ticks)) != -1 || errno != EAGAIN ||
	    !timerfd_is(TFD_FIRED, CLOCK_BOOTTIME, 0, 0, 0))
		return 'U';
	/* Its expirations counted; still armed: it fires again. */
	if (timerfd_gettime(TFD_FAST, &its) || its.it_interval.tv_nsec != TFD_FAST_NS)
		return 'W';
	if (read(TFD_FAST, &ticks, sizeof(ticks)) != sizeof(ticks) || !ticks)
		return 'X';
	if (poll(&p, 1, 5000) != 1)
		return 'Y';
	return 'A';
}

/*
 * pidfds: of the process, a dup of it, and of a second thread
 * (PIDFD_THREAD | PIDFD_NONBLOCK), whose id a restore keeps.
 */
#define PIDFD_PROCESS	34
#define PIDFD_DUP	35
#define PIDFD_THREAD_FD	36
#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

static pid_t pidfd_tid;

static void *pidfd_thread(void *arg)
{
	(void)arg;
	block_rt_signals();
	pthread_mutex_lock(&lock);
	pidfd_tid = syscall(SYS_gettid);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

static int pidfd_at(pid_t pid, unsigned int flags, int fd)
{
	int got = syscall(SYS_pidfd_open, pid, flags);

	if (got < 0 || dup2(got, fd) != fd)
		return -1;
	return close(got);
}

static void make_pidfds(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, pidfd_thread, NULL))
		_exit(42);
	pthread_mutex_lock(&lock);
	while (!pidfd_tid)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	if (pidfd_at(getpid(), 0, PIDFD_PROCESS) ||
	    dup2(PIDFD_PROCESS, PIDFD_DUP) != PIDFD_DUP ||
	    pidfd_at(pidfd_tid, PIDFD_THREAD | O_NONBLOCK, PIDFD_THREAD_FD))
		_exit(43);
}

/* Each names what it named: the process (its pid now), and the thread. */
static char pidfds_kept(void)
{
	if (fdinfo_value(PIDFD_PROCESS, "Pid:", 10) != getpid() ||
	    !same_file(PIDFD_PROCESS, PIDFD_DUP) ||
	    (fdinfo_value(PIDFD_PROCESS, "flags:", 8) & (O_EXCL | O_NONBLOCK)))
		return 'I';
	if (fdinfo_value(PIDFD_THREAD_FD, "Pid:", 10) != pidfd_tid)
		return 'K';
	if ((fdinfo_value(PIDFD_THREAD_FD, "flags:", 8) & (O_EXCL | O_NONBLOCK)) !=
	    (O_EXCL | O_NONBLOCK))
		return 'L';
	if (syscall(SYS_pidfd_send_signal, PIDFD_PROCESS, 0, NULL, 0) ||
	    syscall(SYS_pidfd_send_signal, PIDFD_THREAD_FD, 0, NULL, 0))
		return 'J';
	return 'A';
}

static void set_state(int with)
{
	struct rlimit r;
	pthread_t t;
	char *p;
	int i;

	if (with & WITH_LIMITS) {
		if (getrlimit(RLIMIT_NOFILE, &r))
			_exit(21);
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) ||
		    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, CORE_MAX }) ||
		    setrlimit(RLIMIT_MSGQUEUE,
			      &(struct rlimit){ MSGQUEUE_CUR, MSGQUEUE_MAX }))
			_exit(22);
	}
	if (with & WITH_PRCTL) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_CHILD_SUBREAPER, 1) ||
		    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
		    prctl(PR_SET_MDWE, MDWE_BITS, 0, 0, 0) ||
		    prctl(PR_SET_PDEATHSIG, SIGUSR1) ||
		    prctl(PR_SET_TIMERSLACK, MAIN_SLACK) ||
		    write_oom_score_adj(OOM_SCORE))
			_exit(23);
		if (pthread_create(&t, NULL, worker, NULL))
			_exit(24);
		pthread_mutex_lock(&lock);
		while (!worker_ready)
			pthread_cond_wait(&wake, &lock);
		pthread_mutex_unlock(&lock);
	}
	if ((with & WITH_OOM_LOW) && write_oom_score_adj(OOM_LOW))
		_exit(25);
	if (with & WITH_TIDS)
		start_robust_holder();
	if (with & WITH_VMA_STATE)
		set_vma_state(with);
	if ((with & WITH_ITIMERS) &&
	    (setitimer(ITIMER_REAL, &(struct itimerval){
			{ REAL_EVERY, 0 }, { REAL_LEFT, 0 } }, NULL) ||
	     setitimer(ITIMER_VIRTUAL, &(struct itimerval){
			{ 0, 0 }, { VIRTUAL_LEFT, 0 } }, NULL) ||
	     setitimer(ITIMER_PROF, &(struct itimerval){
			{ PROF_EVERY, 0 }, { PROF_LEFT, 0 } }, NULL)))
		_exit(30);
	if (with & WITH_SIGNALS)
		make_signals_pending();
	if (with & WITH_POSIX_TIMERS)
		make_posix_timers();
	if (with & WITH_SHARED_FILES)
		share_files();
	if (with & WITH_LOCKS)
		take_locks();
	if (with & WITH_TIMERFDS)
		make_timerfds();
	if (with & WITH_PIDFDS)
		make_pidfds();
	if (with & WITH_MAPS) {
		/* Every other page readable: one VMA per page. */
		p = mmap(NULL, MANY_VMAS * 4096UL, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			_exit(26);
		for (i = 1; i < MANY_VMAS; i += 2)
			if (mprotect(p + i * 4096UL, 4096, PROT_READ))
				_exit(27);
	}
}

/* Whether /proc/self/timers lists no POSIX timer. */
static bool no_posix_timers(void)
{
	char buf[256];
	int fd = open("/proc/self/timers", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

	if (fd >= 0)
		close(fd);
	return n == 0;
}

/*
 * Whether interval timer @which has an interval of @every s and at most
 * @left s left, and has not lost more than half of that (the dump and
 * restore take seconds, of real time more than of CPU time).  Zero and
 * zero for a disarmed one.
 */
static bool itimer_is(int which, long left, long every)
{
	struct itimerval v;

	if (!left)
		return !getitimer(which, &v) && !v.it_value.tv_sec &&
		       !v.it_value.tv_usec && !v.it_interval.tv_sec;
	return !getitimer(which, &v) && v.it_interval.tv_sec == every &&
	       !v.it_interval.tv_usec && v.it_value.tv_sec <= left &&
	       v.it_value.tv_sec >= left / 2;
}

/* Its verdict on its own state: 'A', or a letter naming what is wrong. */
static char check_state(int with, int nr_maps)
{
	struct rlimit r, nofile_max;
	int v = 0;

	if (with & WITH_LIMITS) {
		if (getrlimit(RLIMIT_NOFILE, &nofile_max) ||
		    nofile_max.rlim_cur != nofile_max.rlim_max)
			return 'n';
		if (getrlimit(RLIMIT_CORE, &r) || r.rlim_cur || r.rlim_max != CORE_MAX)
			return 'k';
		if (getrlimit(RLIMIT_MSGQUEUE, &r) || r.rlim_cur != MSGQUEUE_CUR ||
		    r.rlim_max != MSGQUEUE_MAX)
			return 'q';
	}
	if (with & WITH_PRCTL) {
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			return 'p';
		if (prctl(PR_GET_CHILD_SUBREAPER, &v) || v != 1)
			return 's';
		if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
			return 't';
		if (prctl(PR_GET_MDWE, 0, 0, 0, 0) != MDWE_BITS)
			return 'm';
		if (prctl(PR_GET_PDEATHSIG, &v) || v != SIGUSR1)
			return 'd';
		if (prctl(PR_GET_TIMERSLACK) != MAIN_SLACK)
			return 'l';
		if (read_int_file("/proc/self/oom_score_adj") != OOM_SCORE)
			return 'o';
		if (!worker_says_ok())
			return 'w';
	}
	if ((with & WITH_OOM_LOW) &&
	    read_int_file("/proc/self/oom_score_adj") != OOM_LOW)
		return 'o';
	if ((with & WITH_MAPS) && count_maps(getpid()) != nr_maps)
		return 'v';
	if ((with & WITH_NO_TIMERS) &&
	    (!no_posix_timers() || !itimer_is(ITIMER_REAL, 0, 0)))
		return 'x';
	v = with & WITH_SIGNALS ? signals_still_pending() : 'A';
	if (v != 'A')
		return v;
	v = with & WITH_POSIX_TIMERS ? posix_timers_kept() : 'A';
	if (v != 'A')
		return v;
	v = with & WITH_SHARED_FILES ? files_still_shared() : 'A';
	if (v != 'A')
		return v;
	v = with & WITH_LOCKS ? locks_are_mine() : 'A';
	if (v != 'A')
		return v;
	v = with & WITH_TIMERFDS ? timerfds_kept() : 'A';
	if (v != 'A')
		return v;
	v = with & WITH_PIDFDS ? pidfds_kept() : 'A';
	if (v != 'A')
		return v;
	if ((with & WITH_ITIMERS) &&
	    (!itimer_is(ITIMER_REAL, REAL_LEFT, REAL_EVERY) ||
	     !itimer_is(ITIMER_VIRTUAL, VIRTUAL_LEFT, 0) ||
	     !itimer_is(ITIMER_PROF, PROF_LEFT, PROF_EVERY)))
		return 'i';
	if (with & WITH_TIDS)
		return check_tids();
	if (with & WITH_VMA_STATE)
		return check_vma_state();
	return 'A';
}

static void dumpee(int cmd, int ack, int with)
{
	int nr_maps;
	char c;

	channel_fds(cmd, ack, -1, CMD_FD, ACK_FD);
	set_state(with);
	nr_maps = count_maps(getpid());
	if (write(ACK_FD, "R", 1) != 1)
		_exit(28);
	while (read(CMD_FD, &c, 1) == 1) {
		if (c == 'e')
			_exit(7);
		/* 'p': here, running, nothing checked (nor consumed). */
		c = c == 'p' ? 'P' : check_state(with, nr_maps);
		if (write(ACK_FD, &c, 1) != 1)
			_exit(29);
	}
	_exit(14);
}

struct fidelity_ctx {
	char image_path[64];
	int image_fd;
	pid_t dumpee, launcher;
	int cmd, ack;
	int dumpee_maps;
	pid_t dumpee_tid;	/* its last thread's id */
	char lock_lines[1024];	/* its locks, with WITH_LOCKS */
	char *view;		/* its /proc view, with WITH_PROC_VIEW */
	pid_t squatter;		/* a process holding that id */
};

FIXTURE(fidelity) {
	struct fidelity_ctx c;
};

FIXTURE_SETUP(fidelity)
{
	struct fidelity_ctx *fc = &self->c;
	int fd;

	fc->dumpee = -1;
	fc->launcher = -1;
	fc->view = NULL;
	fc->cmd = -1;
	fc->ack = -1;
	signal(SIGPIPE, SIG_IGN);
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	snprintf(fc->image_path, sizeof(fc->image_path),
		 "/tmp/spice-fidelity-XXXXXX");
	fc->image_fd = mkstemp(fc->image_path);
	ASSERT_LE(0, fc->image_fd);
	memcpy(shared_path, SHARED_TEMPLATE, sizeof(shared_path));
	fd = mkstemp(shared_path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	close(fd);
}

FIXTURE_TEARDOWN(fidelity)
{
	struct fidelity_ctx *fc = &self->c;

	if (fc->dumpee > 0) {
		kill(fc->dumpee, SIGKILL);
		waitpid(fc->dumpee, NULL, 0);
	}
	if (fc->launcher > 0) {
		kill(fc->launcher, SIGKILL);
		waitpid(fc->launcher, NULL, 0);
	}
	if (fc->squatter > 0) {
		kill(fc->squatter, SIGKILL);
		waitpid(fc->squatter, NULL, 0);
	}
	unlink(fc->image_path);
	unlink(shared_path);
	free(fc->view);
}

/* The highest thread id of @pid. */
static pid_t last_tid(pid_t pid)
{
	char path[64], buf[4096];
	pid_t tid, last = 0;
	int fd, n;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	while (fd >= 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (s = buf; s < buf + n; s += *(unsigned short *)(s + 16)) {
			tid = atoi(s + 19);
			if (tid > last)
				last = tid;
		}
	if (fd >= 0)
		close(fd);
	return last;
}

/* Start a dumpee that sets @with, and dump it; 0 or -1. */
static int dump_with(struct fidelity_ctx *fc, int with)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	char why[SPICE_IMAGE_WHY_LEN];
	int cmd[2], ack[2], err = -1, status = 0;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -1;
	fc->dumpee = fork();
	if (!fc->dumpee)
		dumpee(cmd[0], ack[1], with);
	close(cmd[0]);
	close(ack[1]);
	if (read(ack[0], &c, 1) == 1 && c == 'R') {
		fc->dumpee_maps = count_maps(fc->dumpee);
		fc->dumpee_tid = last_tid(fc->dumpee);
		lock_lines(fc->dumpee, fc->lock_lines, sizeof(fc->lock_lines));
		if (with & WITH_PROC_VIEW) {
			fc->view = malloc(VIEW_MAX);
			/* Unreadable or cut short: no view to compare. */
			if (fc->view && proc_view(fc->dumpee, fc->view, VIEW_MAX)) {
				free(fc->view);
				fc->view = NULL;
			}
		}
		err = spice_dump(fc->dumpee, fc->image_fd, &opts, NULL, why);
		if (err)
			fprintf(stderr, "# spice_dump: %s\n", why);
	}
	if (err)	/* SPICE_DUMP_KILL killed it otherwise */
		kill(fc->dumpee, SIGKILL);
	waitpid(fc->dumpee, &status, 0);
	if (err && WIFEXITED(status))	/* set_state() failed */
		fprintf(stderr, "# the dumpee exited with %d\n", WEXITSTATUS(status));
	else if (err && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		fprintf(stderr, "# the dumpee was killed by signal %d\n", WTERMSIG(status));
	fc->dumpee = -1;
	close(cmd[1]);
	close(ack[0]);
	return err;
}

/* What a launcher does to itself before it restores. */
#define LAUNCH_NO_SYS_RESOURCE	1	/* drops CAP_SYS_RESOURCE */
#define LAUNCH_LOW_NOFILE	2	/* RLIMIT_NOFILE 64/64 */
#define LAUNCH_MDWE		4	/* PR_MDWE_REFUSE_EXEC_GAIN, inherited */
#define LAUNCH_NEW_TIDS		8	/* RESTORE_PROCESS_NEW_TIDS */
#define LAUNCH_NO_IPC_LOCK	16	/* drops CAP_IPC_LOCK */
#define LAUNCH_USR1_PENDING	32	/* has SIGUSR1 pending, blocked */
#define LAUNCH_TIMERS		64	/* has a POSIX timer armed */
#define LAUNCH_LOW_SIGPENDING	128	/* RLIMIT_SIGPENDING 1/1 */
#define LAUNCH_FLOCK_FREE	256	/* checks, if it fails, that no flock is left */
#define LAUNCH_RECORDS_FREE	512	/* ... nor a record lock below byte 149 */
#define LAUNCH_SUPPLY_LOCKED	1024	/* its own files for FLOCK_FD and POSIX_FD */
#define LAUNCHER_CHANGED	99	/* its exit status if a failed call changed it */

/* Whether the launcher still has what it set up and nothing of the image. */
static bool launcher_unchanged(int how, int oom_score_adj)
{
	struct rlimit r;
	int v = 0;

	sigset_t pending;
	pid_t holder;

	if ((how & LAUNCH_LOW_NOFILE) &&
	    (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur != 64 || r.rlim_max != 64))
		return false;
	if ((how & LAUNCH_LOW_SIGPENDING) &&
	    (sigpending(&pending) || !sigisemptyset(&pending)))
		return false;
	/* While it still runs: its exit would drop what it held anyway. */
	if (((how & LAUNCH_FLOCK_FREE) && !flock_free(LOCK_EX)) ||
	    ((how & LAUNCH_RECORDS_FREE) &&
	     lock_seen(F_OFD_GETLK, F_WRLCK, 0, 149, &holder) != F_UNLCK))
		return false;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 &&
	       !prctl(PR_GET_CHILD_SUBREAPER, &v) && v == 0 &&
	       prctl(PR_GET_MDWE, 0, 0, 0, 0) ==
			(how & LAUNCH_MDWE ? PR_MDWE_REFUSE_EXEC_GAIN : 0) &&
	       read_int_file("/proc/self/oom_score_adj") == oom_score_adj;
}

/*
 * The launcher's timers: a POSIX timer, which a restore drops as exec
 * does, and ITIMER_REAL, which the image's value replaces.
 */
static int arm_timers(void)
{
	struct itimerval itv = { .it_value = { 100, 0 } };
	struct itimerspec its = { .it_value = { 100, 0 } };
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2,
	};
	timer_t timer;

	return timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
	       timer_settime(timer, 0, &its, NULL) ||
	       setitimer(ITIMER_REAL, &itv, NULL);
}

/*
 * Fork a launcher that becomes the image's process with fresh pipes as its
 * channel.  If restore_process() fails it exits with 100 + errno, or
 * LAUNCHER_CHANGED if the failure changed it.
 */
static pid_t launch(struct fidelity_ctx *fc, int how)
{
	struct restore_process_fd map[4];
	struct restore_process_args args = {};
	int cmd[2], ack[2], err, oom;

	if (pipe(cmd) || pipe(ack))
		return -1;
	fc->launcher = fork();
	if (!fc->launcher) {
		alarm(100);	/* never outlive the test */
		if ((how & LAUNCH_LOW_NOFILE) &&
		    setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 64, 64 }))
			_exit(98);
		if ((how & LAUNCH_MDWE) &&
		    prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0))
			_exit(97);
		if ((how & LAUNCH_NO_SYS_RESOURCE) && spice_test_drop_cap(CAP_SYS_RESOURCE))
			_exit(96);
		if ((how & LAUNCH_NO_IPC_LOCK) && spice_test_drop_cap(CAP_IPC_LOCK))
			_exit(95);
		if (how & LAUNCH_USR1_PENDING) {
			sigset_t usr1;

			sigemptyset(&usr1);
			sigaddset(&usr1, SIGUSR1);
			if (sigprocmask(SIG_BLOCK, &usr1, NULL) || raise(SIGUSR1))
				_exit(94);
		}
		if ((how & LAUNCH_TIMERS) && arm_timers())
			_exit(93);
		if ((how & LAUNCH_LOW_SIGPENDING) &&
		    setrlimit(RLIMIT_SIGPENDING, &(struct rlimit){ 1, 1 }))
			_exit(92);
		map[0] = (struct restore_process_fd){ .image_fd = CMD_FD, .fd = cmd[0] };
		map[1] = (struct restore_process_fd){ .image_fd = ACK_FD, .fd = ack[1] };
		args.fd_map = (uintptr_t)map;
		args.nr_fd_map = 2;
		if (how & LAUNCH_SUPPLY_LOCKED) {
			map[2] = (struct restore_process_fd){
				.image_fd = FLOCK_FD, .fd = open(shared_path, O_RDWR) };
			map[3] = (struct restore_process_fd){
				.image_fd = POSIX_FD, .fd = open(shared_path, O_RDWR) };
			args.nr_fd_map = 4;
		}
		oom = read_int_file("/proc/self/oom_score_adj");
		sys_restore_process(fc->image_fd, &args, sizeof(args),
				    how & LAUNCH_NEW_TIDS ? RESTORE_PROCESS_NEW_TIDS : 0);
		err = errno;
		_exit(launcher_unchanged(how, oom) ? 100 + err : LAUNCHER_CHANGED);
	}
	close(cmd[0]);
	close(ack[1]);
	fc->cmd = cmd[1];
	fc->ack = ack[0];
	return fc->launcher;
}

/* The launcher's exit status: 100 + errno if restore_process() failed. */
static int launcher_status(struct fidelity_ctx *fc)
{
	return spice_test_reap(&fc->launcher);
}

/* The restored process's verdict on its state ('A': all there). */
static char ask(struct __test_metadata *_metadata, struct fidelity_ctx *fc)
{
	char c = 'c';

	if (write(fc->cmd, &c, 1) != 1 || read(fc->ack, &c, 1) != 1) {
		TH_LOG("no reply: the launcher ended with %d", launcher_status(fc));
		return 0;
	}
	return c;
}

static void end_restored(struct __test_metadata *_metadata,
			 struct fidelity_ctx *fc)
{
	ASSERT_EQ(1, write(fc->cmd, "e", 1));
	EXPECT_EQ(7, launcher_status(fc));
}

/* The value of field @name in /proc/PID/status. */
static long status_field(pid_t pid, const char *name)
{
	char path[64], buf[4096], *s;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	s = strstr(buf, name);
	return s ? strtol(s + strlen(name) + 1, NULL, 10) : -1;
}

TEST_F(fidelity, resource_limits)
{
	struct fidelity_ctx *fc = &self->c;
	struct rlimit r, dumped_nofile;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &dumped_nofile));
	ASSERT_EQ(0, dump_with(fc, WITH_LIMITS));
	/* A launcher with lower limits, which it may raise as root. */
	ASSERT_LT(0, launch(fc, LAUNCH_LOW_NOFILE));
	ASSERT_EQ('A', ask(_metadata, fc));
	ASSERT_EQ(0, prlimit(fc->launcher, RLIMIT_NOFILE, NULL, &r));
	EXPECT_EQ(dumped_nofile.rlim_max, r.rlim_cur);
	EXPECT_EQ(dumped_nofile.rlim_max, r.rlim_max);
	ASSERT_EQ(0, prlimit(fc->launcher, RLIMIT_CORE, NULL, &r));
	EXPECT_EQ(0, r.rlim_cur);
	EXPECT_EQ(CORE_MAX, r.rlim_max);
	end_restored(_metadata, fc);
}

TEST_F(fidelity, raising_a_hard_limit_needs_cap_sys_resource)
{
	struct fidelity_ctx *fc = &self->c;
	struct rlimit r;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &r));
	if (r.rlim_max <= 64)
		SKIP(return, "RLIMIT_NOFILE hard limit already at 64");
	ASSERT_EQ(0, dump_with(fc, WITH_LIMITS));
	ASSERT_LT(0, launch(fc, LAUNCH_LOW_NOFILE | LAUNCH_NO_SYS_RESOURCE));
	EXPECT_EQ(100 + EPERM, launcher_status(fc));
}

TEST_F(fidelity, prctl_state_and_oom_score)
{
	struct fidelity_ctx *fc = &self->c;
	char path[64];

	ASSERT_EQ(0, dump_with(fc, WITH_PRCTL));
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	EXPECT_EQ(1, status_field(fc->launcher, "NoNewPrivs:"));
	EXPECT_EQ(0, status_field(fc->launcher, "THP_enabled:"));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", fc->launcher);
	EXPECT_EQ(OOM_SCORE, read_int_file(path));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, mdwe_cannot_be_unset)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_PRCTL));
	/* The launcher's MDWE survives; the image's bits differ. */
	ASSERT_LT(0, launch(fc, LAUNCH_MDWE));
	EXPECT_EQ(100 + EPERM, launcher_status(fc));
}

TEST_F(fidelity, low_oom_score)
{
	struct fidelity_ctx *fc = &self->c;
	char path[64];

	ASSERT_EQ(0, dump_with(fc, WITH_OOM_LOW));
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", fc->launcher);
	EXPECT_EQ(OOM_LOW, read_int_file(path));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, low_oom_score_needs_cap_sys_resource)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_OOM_LOW));
	ASSERT_LT(0, launch(fc, LAUNCH_NO_SYS_RESOURCE));
	EXPECT_EQ(100 + EACCES, launcher_status(fc));
}

/*
 * Every limit is checked before the point of no return with the numbers
 * the commit uses: this many mappings restore, they are not refused (or
 * killed) by a stricter count after it.
 */
TEST_F_TIMEOUT(fidelity, thirty_thousand_mappings, 300)
{
	struct fidelity_ctx *fc = &self->c;
	struct timespec t0, t1, t2;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, dump_with(fc, WITH_MAPS));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_LT(MANY_VMAS / 2, fc->dumpee_maps);
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	TH_LOG("%d mappings: dump %ld s, restore and answer %ld s", fc->dumpee_maps,
	       (long)(t1.tv_sec - t0.tv_sec), (long)(t2.tv_sec - t1.tv_sec));
	EXPECT_EQ(fc->dumpee_maps, count_maps(fc->launcher));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, thread_ids)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_TIDS));
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

/*
 * A signal pending for the launcher, which the image's handler catches,
 * does not keep the threads from being made: it reaches the restored
 * process (the caller's pending signals stay).
 */
TEST_F(fidelity, threads_made_with_a_signal_pending)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_TIDS));
	ASSERT_LT(0, launch(fc, LAUNCH_USR1_PENDING));
	ASSERT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, new_thread_ids_when_asked)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_TIDS));
	ASSERT_LT(0, launch(fc, LAUNCH_NEW_TIDS));
	/* glibc's cached id names no thread of the process any more. */
	ASSERT_EQ('i', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

/* Fork a child whose pid is @pid (clone3() set_tid); it waits to be killed. */
static pid_t fork_as(pid_t pid)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
		uint64_t stack, stack_size, tls, set_tid, set_tid_size;
	} args = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&pid,
		   .set_tid_size = 1 };
	pid_t child = syscall(SYS_clone3, &args, sizeof(args));

	if (!child) {
		pause();
		_exit(0);
	}
	return child;
}

TEST_F(fidelity, thread_id_taken)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_TIDS));
	ASSERT_LT(0, fc->dumpee_tid);
	fc->squatter = fork_as(fc->dumpee_tid);
	ASSERT_EQ(fc->dumpee_tid, fc->squatter);
	ASSERT_LT(0, launch(fc, 0));
	EXPECT_EQ(100 + EEXIST, launcher_status(fc));
}

TEST_F(fidelity, launcher_timers_are_dropped)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_NO_TIMERS));
	ASSERT_LT(0, launch(fc, LAUNCH_TIMERS));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, interval_timers)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_ITIMERS));
	ASSERT_LT(0, launch(fc, LAUNCH_TIMERS));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

/* The signal set after @key in /proc/PID/task/TID/status. */
static unsigned long long task_sigset(pid_t pid, pid_t tid, const char *key)
{
	char path[64], buf[4096], *s;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return ~0ULL;
	buf[n] = '\0';
	s = strstr(buf, key);
	return s ? strtoull(s + strlen(key), NULL, 16) : ~0ULL;
}

#define BIT(sig) (1ULL << ((sig) - 1))

TEST_F(fidelity, pending_signals)
{
	struct fidelity_ctx *fc = &self->c;
	int tries;
	pid_t pid;

	ASSERT_EQ(0, dump_with(fc, WITH_SIGNALS));
	pid = launch(fc, 0);
	ASSERT_LT(0, pid);
	/* From outside first, once restored, before it takes them. */
	for (tries = 0; tries < 2000; tries++) {
		if (task_sigset(pid, pid, "ShdPnd:") == BIT(RT_SHARED))
			break;
		usleep(10000);
	}
	EXPECT_EQ(BIT(RT_SHARED), task_sigset(pid, pid, "ShdPnd:"));
	EXPECT_EQ(BIT(SIGUSR1), task_sigset(pid, pid, "SigPnd:"));
	EXPECT_EQ(BIT(SIGUSR2) | BIT(RT_THREAD),
		  task_sigset(pid, fc->dumpee_tid, "SigPnd:"));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, dup_fds_share_their_open_file)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_SHARED_FILES));
	ASSERT_LT(0, launch(fc, 0));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

TEST_F(fidelity, posix_timers)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_POSIX_TIMERS));
	/* A launcher with a timer of its own, which goes. */
	ASSERT_LT(0, launch(fc, LAUNCH_TIMERS));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

/* As sigqueue(): a real-time signal over RLIMIT_SIGPENDING is refused. */
TEST_F(fidelity, pending_signals_over_the_limit)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_SIGNALS));
	ASSERT_LT(0, launch(fc, LAUNCH_LOW_SIGPENDING));
	EXPECT_EQ(100 + EAGAIN, launcher_status(fc));
}

TEST_F(fidelity, lock_and_advice_of_each_mapping)
{
	struct fidelity_ctx *fc = &self->c;
	char c;
	int fd;

	ASSERT_EQ(0, dump_with(fc, WITH_VMA_STATE));
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	/* The write through the re-protected mapping reached the file. */
	fd = open(shared_path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('s', c);
	close(fd);
	end_restored(_metadata, fc);
}

TEST_F(fidelity, locked_over_the_limit)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_VMA_STATE | WITH_OVER_MEMLOCK));
	/* As mmap(MAP_LOCKED): CAP_IPC_LOCK may lock past RLIMIT_MEMLOCK... */
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
	/* ... a launcher without it may not. */
	ASSERT_LT(0, launch(fc, LAUNCH_NO_IPC_LOCK));
	EXPECT_EQ(100 + EAGAIN, launcher_status(fc));
}

TEST_F(fidelity, file_locks)
{
	struct fidelity_ctx *fc = &self->c;
	char after[sizeof(fc->lock_lines)];
	pid_t pid;

	ASSERT_EQ(0, dump_with(fc, WITH_LOCKS));
	ASSERT_LT(0, launch(fc, 0));
	ASSERT_EQ('A', ask(_metadata, fc));
	lock_lines(fc->launcher, after, sizeof(after));
	EXPECT_STREQ(fc->lock_lines, after);
	EXPECT_NE(NULL, strstr(after, "25: FLOCK ADVISORY WRITE"));
	EXPECT_NE(NULL, strstr(after, "26: POSIX ADVISORY WRITE"));
	EXPECT_NE(NULL, strstr(after, "27: OFDLCK ADVISORY READ"));
	/* Held against other processes, by the restored one. */
	EXPECT_FALSE(flock_free(LOCK_SH));
	EXPECT_EQ(F_WRLCK, lock_seen(F_GETLK, F_RDLCK, 99, 1, &pid));
	EXPECT_EQ(fc->launcher, pid);
	EXPECT_EQ(F_RDLCK, lock_seen(F_OFD_GETLK, F_WRLCK, 100, 50, &pid));
	EXPECT_EQ(-1, pid);
	EXPECT_EQ(F_UNLCK, lock_seen(F_GETLK, F_WRLCK, 150, 50, &pid));
	EXPECT_EQ(F_RDLCK, lock_seen(F_GETLK, F_WRLCK, 1 << 30, 1, &pid));
	EXPECT_EQ(fc->launcher, pid);
	EXPECT_EQ(F_UNLCK, lock_seen(F_GETLK, F_RDLCK, 100, 1 << 30, &pid));
	end_restored(_metadata, fc);
	EXPECT_TRUE(flock_free(LOCK_EX));
	EXPECT_EQ(F_UNLCK, lock_seen(F_GETLK, F_WRLCK, 0, 0, &pid));
}

TEST_F(fidelity, timerfds)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_TIMERFDS));
	ASSERT_LT(0, launch(fc, 0));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
}

/*
 * /proc shows the restored process as it showed the dumped one, field by
 * field, for a process holding one of each kind of state restored (the
 * fields that differ by nature are named in proc_views.h).
 */
TEST_F(fidelity, proc_views_match)
{
	struct fidelity_ctx *fc = &self->c;
	char *after = malloc(VIEW_MAX), why[1024], c, *p;
	int lines = 0;

	ASSERT_NE(NULL, after);
	ASSERT_EQ(0, dump_with(fc, WITH_LIMITS | WITH_PRCTL | WITH_TIDS |
			       WITH_VMA_STATE | WITH_ITIMERS | WITH_SIGNALS |
			       WITH_POSIX_TIMERS | WITH_SHARED_FILES | WITH_LOCKS |
			       WITH_TIMERFDS | WITH_PROC_VIEW));
	ASSERT_NE(NULL, fc->view);
	ASSERT_LT(0, launch(fc, 0));
	/*
	 * Restored once it answers; viewed before anything is checked.  (Each
	 * state's own test checks it from inside: here they cross, a timer's
	 * signal pending for the process where a thread expects none.)
	 */
	ASSERT_EQ(1, write(fc->cmd, "p", 1));
	ASSERT_EQ(1, read(fc->ack, &c, 1));
	ASSERT_EQ('P', c);
	ASSERT_EQ(0, proc_view(fc->launcher, after, VIEW_MAX));
	EXPECT_EQ(0, proc_view_diff(fc->view, after, why, sizeof(why)))
		TH_LOG("%s", why);
	for (p = after; (p = strchr(p, '\n')); p++)
		lines++;
	TH_LOG("%d lines of /proc compared", lines);
	EXPECT_LT(300, lines);
	free(after);
	end_restored(_metadata, fc);
}

TEST_F(fidelity, pidfds)
{
	struct fidelity_ctx *fc = &self->c;

	ASSERT_EQ(0, dump_with(fc, WITH_PIDFDS));
	ASSERT_LT(0, launch(fc, 0));
	EXPECT_EQ('A', ask(_metadata, fc));
	end_restored(_metadata, fc);
	/* New thread ids are not known before the point of no return. */
	ASSERT_LT(0, launch(fc, LAUNCH_NEW_TIDS));
	EXPECT_EQ(100 + EOPNOTSUPP, launcher_status(fc));
}

/*
 * A lock another process holds fails the restore before the point of no
 * return, as flock(LOCK_NB) and fcntl(F_SETLK) fail; the locks taken
 * before it go again, none left behind.
 */
TEST_F(fidelity, a_lock_held_elsewhere_fails_the_restore)
{
	struct fidelity_ctx *fc = &self->c;
	int blocker;

	/* With pidfds: a thread's is made on an id taken, then let go. */
	ASSERT_EQ(0, dump_with(fc, WITH_LOCKS | WITH_PIDFDS));
	/* Conflicts with the OFD lock only: the last one set. */
	blocker = open(shared_path, O_RDWR);
	ASSERT_LE(0, blocker);
	ASSERT_EQ(0, set_lock(blocker, F_OFD_SETLK, F_WRLCK, 149, 1));
	ASSERT_LT(0, launch(fc, LAUNCH_FLOCK_FREE | LAUNCH_RECORDS_FREE));
	EXPECT_EQ(100 + EAGAIN, launcher_status(fc));
	close(blocker);
	/* A flock lock held elsewhere: the first one set. */
	blocker = open(shared_path, O_RDONLY);
	ASSERT_EQ(0, flock(blocker, LOCK_SH));
	ASSERT_LT(0, launch(fc, LAUNCH_RECORDS_FREE));
	EXPECT_EQ(100 + EAGAIN, launcher_status(fc));
	close(blocker);
}

/*
 * On an fd the launcher supplies, a POSIX lock is set (it is the
 * process's), a flock lock is not (it would be the launcher's file's).
 */
TEST_F(fidelity, locks_on_supplied_fds)
{
	struct fidelity_ctx *fc = &self->c;
	pid_t pid;

	ASSERT_EQ(0, dump_with(fc, WITH_LOCKS));
	ASSERT_LT(0, launch(fc, LAUNCH_SUPPLY_LOCKED));
	ASSERT_EQ('A', ask(_metadata, fc));
	EXPECT_EQ(F_WRLCK, lock_seen(F_GETLK, F_RDLCK, 99, 1, &pid));
	EXPECT_EQ(fc->launcher, pid);
	EXPECT_EQ(F_RDLCK, lock_seen(F_OFD_GETLK, F_WRLCK, 100, 50, &pid));
	EXPECT_TRUE(flock_free(LOCK_EX));
	end_restored(_metadata, fc);
}

/* A child that waits until its parent dies. */
static pid_t child_that_waits(void)
{
	pid_t parent = getpid(), pid = fork();

	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(0);
		for (;;)
			pause();
	}
	return pid;
}

/* State no image holds yet, set by a child that then waits. */
enum { U_CPU_TIMER, U_LEASE, U_PIPE_FLOCK, U_CHILD_PIDFD, U_NR };

static void hold_unsupported(int what, int ready)
{
	struct itimerspec its = { .it_value = { 100, 0 } };
	int fd = open(shared_path, O_RDONLY), p[2];
	timer_t timer;

	/* The harness's shared memory would be refused first. */
	unmap_shared_anonymous();
	if (fd < 0 ||
	    (what == U_CPU_TIMER &&
	     (timer_create(CLOCK_PROCESS_CPUTIME_ID, NULL, &timer) ||
	      timer_settime(timer, 0, &its, NULL))) ||
	    (what == U_LEASE && fcntl(fd, F_SETLEASE, F_RDLCK)) ||
	    (what == U_CHILD_PIDFD && syscall(SYS_pidfd_open, child_that_waits(), 0) < 0) ||
	    (what == U_PIPE_FLOCK && (pipe(p) || flock(p[0], LOCK_EX))))
		_exit(50);
	if (write(ready, "R", 1) != 1)
		_exit(51);
	for (;;)
		pause();
}

/* Each is refused at dump time, by name, and the process goes on. */
TEST_F(fidelity, unsupported_state_is_refused_by_name)
{
	static const char *const names[U_NR] = {
		"(CPU time) is not restored", "a lease is not restored",
		"a file lock on a pipe is not restored", "not this one, is not restored",
	};
	struct fidelity_ctx *fc = &self->c;
	struct spice_dump_opts opts = {};
	char why[SPICE_IMAGE_WHY_LEN];
	int what, ready[2];
	char c;

	for (what = 0; what < U_NR; what++) {
		ASSERT_EQ(0, pipe(ready));
		fc->dumpee = fork();
		ASSERT_LE(0, fc->dumpee);
		if (!fc->dumpee)
			hold_unsupported(what, ready[1]);
		close(ready[1]);
		ASSERT_EQ(1, read(ready[0], &c, 1));
		close(ready[0]);
		EXPECT_EQ(-EOPNOTSUPP, spice_dump(fc->dumpee, fc->image_fd, &opts, NULL, why));
		EXPECT_NE(NULL, strstr(why, names[what]))
			TH_LOG("%s: %s", names[what], why);
		EXPECT_EQ(0, kill(fc->dumpee, 0));
		kill(fc->dumpee, SIGKILL);
		waitpid(fc->dumpee, NULL, 0);
		fc->dumpee = -1;
	}
}

TEST_HARNESS_MAIN
