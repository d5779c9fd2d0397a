// SPDX-License-Identifier: GPL-2.0
/*
 * restore_process() gives each thread back its scheduling policy,
 * real-time priority, reset-on-fork flag and nice value, as
 * sched_setattr(2) and setpriority(2) would let the launcher set them on
 * itself: a real-time policy or a priority raised needs CAP_SYS_NICE or
 * room under the image's RLIMIT_RTPRIO and RLIMIT_NICE (EPERM otherwise).
 * A launcher with SCHED_RESET_ON_FORK gets no more real-time threads than
 * it could make.  What an image cannot hold (SCHED_DEADLINE, an I/O
 * priority set with ioprio_set()) fails the dump by name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "../kselftest_harness.h"
#include "channel.h"
#include "spice_test.h"

#define CMD_FD		10	/* the dumpee's requests */
#define ACK_FD		11	/* and its replies */

/* What the dumpee holds. */
#define WITH_FIFO	1	/* a SCHED_FIFO thread, priority 5 */
#define WITH_RTPRIO	2	/* RLIMIT_RTPRIO of 10 */
#define WITH_DEADLINE	4	/* a SCHED_DEADLINE thread */
#define WITH_IOPRIO	8	/* an idle-class I/O priority */
#define WITH_RR_RESET	16	/* SCHED_RR|SCHED_RESET_ON_FORK and a SCHED_RR thread */

#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK	0x01
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE	6
#endif

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

/* A thread's scheduling state, as the dumpee sets it and checks it. */
struct want {
	uint32_t policy, priority;
	uint64_t flags;
	int nice;
	pid_t tid;
};

enum { W_MAIN, W_BATCH, W_IDLE, W_FIFO, W_NR };

static struct want want[W_NR] = {
	[W_MAIN] = { SCHED_OTHER, 0, 0, 4 },
	[W_BATCH] = { SCHED_BATCH, 0, SCHED_FLAG_RESET_ON_FORK, 7 },
	[W_IDLE] = { SCHED_IDLE, 0, 0, 9 },
	[W_FIFO] = { SCHED_FIFO, 5, 0, 3 },
};

static int set_sched(const struct want *w)
{
	struct attr a = {
		.size = sizeof(a), .policy = w->policy, .flags = w->flags,
		.nice = w->nice, .priority = w->priority,
	};

	/* sched_setattr() keeps a real-time or idle thread's nice value. */
	return syscall(SYS_sched_setattr, w->tid, &a, 0) ||
	       setpriority(PRIO_PROCESS, w->tid, w->nice);
}

static bool sched_is(const struct want *w)
{
	struct attr a = { 0 };
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, w->tid);
	return !syscall(SYS_sched_getattr, w->tid, &a, sizeof(a), 0) && !errno &&
	       a.policy == w->policy && a.priority == w->priority &&
	       (a.flags & SCHED_FLAG_RESET_ON_FORK) == w->flags && nice == w->nice;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;

static void *waiter(void *arg)
{
	struct want *w = arg;

	pthread_mutex_lock(&lock);
	w->tid = gettid();
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

/* A thread whose tid is in @w->tid once this returns; 0 or -1. */
static int start(struct want *w)
{
	pthread_t t;

	if (pthread_create(&t, NULL, waiter, w))
		return -1;
	pthread_mutex_lock(&lock);
	while (!w->tid)
		pthread_cond_wait(&ready, &lock);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int set_state(int with)
{
	struct want dl = { 0 };
	struct attr a = {
		.size = sizeof(a), .policy = SCHED_DEADLINE,
		.runtime = 1000000, .deadline = 10000000, .period = 10000000,
	};
	struct rlimit rtprio = { 10, 10 };
	int i, n = with & (WITH_FIFO | WITH_RR_RESET) ? W_NR : W_FIFO;

	want[W_MAIN].tid = gettid();
	if (with & WITH_RR_RESET) {
		/* What a launcher with reset-on-fork could not make: RR threads. */
		want[W_MAIN] = (struct want){ SCHED_RR, 5, SCHED_FLAG_RESET_ON_FORK, 0, gettid() };
		want[W_FIFO] = (struct want){ SCHED_RR, 5, 0, 0 };
	}
	for (i = W_BATCH; i < n; i++)
		if (start(&want[i]))
			return -1;
	for (i = 0; i < n; i++)
		if (set_sched(&want[i]))
			return -1;
	if ((with & WITH_RTPRIO) && setrlimit(RLIMIT_RTPRIO, &rtprio))
		return -1;
	if (with & WITH_DEADLINE &&
	    (start(&dl) || syscall(SYS_sched_setattr, dl.tid, &a, 0)))
		return -1;
	/* IOPRIO_WHO_PROCESS, IOPRIO_CLASS_IDLE */
	if (with & WITH_IOPRIO && syscall(SYS_ioprio_set, 1, 0, 3 << 13))
		return -1;
	return 0;
}

static char check_state(int with)
{
	int i, n = with & (WITH_FIFO | WITH_RR_RESET) ? W_NR : W_FIFO;

	/* The first thread is the launcher's now, under the launcher's id. */
	want[W_MAIN].tid = gettid();
	for (i = 0; i < n; i++)
		if (!sched_is(&want[i]))
			return 'a' + i;
	return 'A';
}

static void dumpee(int cmd, int ack, int with)
{
	channel_fds(cmd, ack, -1, CMD_FD, ACK_FD);
	if (set_state(with))
		_exit(21);
	channel_serve(check_state, with, CMD_FD, ACK_FD);
}

struct sched_ctx {
	char image_path[64];
	int image_fd;
	pid_t dumpee, restored;
	int cmd, ack;
	char why[SPICE_IMAGE_WHY_LEN];
};

FIXTURE(sched) {
	struct sched_ctx c;
};

FIXTURE_SETUP(sched)
{
	struct sched_ctx *sc = &self->c;

	sc->dumpee = -1;
	sc->restored = -1;
	if (!spice_supported())
		SKIP(return, "kernel without CONFIG_SPICE");
	snprintf(sc->image_path, sizeof(sc->image_path), "/tmp/spice-sched-XXXXXX");
	sc->image_fd = mkstemp(sc->image_path);
	ASSERT_LE(0, sc->image_fd);
}

FIXTURE_TEARDOWN(sched)
{
	struct sched_ctx *sc = &self->c;

	if (sc->restored > 0) {
		kill(sc->restored, SIGKILL);
		waitpid(sc->restored, NULL, 0);
	}
	if (sc->dumpee > 0) {
		kill(sc->dumpee, SIGKILL);
		waitpid(sc->dumpee, NULL, 0);
	}
	unlink(sc->image_path);
}

/* Start a dumpee holding @with and dump it; spice_dump()'s result. */
static int dump_with(struct sched_ctx *sc, int with)
{
	struct spice_dump_opts opts = { .flags = SPICE_DUMP_KILL };
	int cmd[2], ack[2], err = -ECHILD, status = 0;
	char c;

	if (pipe(cmd) || pipe(ack))
		return -errno;
	sc->dumpee = fork();
	if (!sc->dumpee)
		dumpee(cmd[0], ack[1], with);
	close(cmd[0]);
	close(ack[1]);
	if (read(ack[0], &c, 1) == 1 && c == 'R')
		err = spice_dump(sc->dumpee, sc->image_fd, &opts, NULL, sc->why);
	if (err)
		kill(sc->dumpee, SIGKILL);
	waitpid(sc->dumpee, &status, 0);
	if (err == -ECHILD && WIFEXITED(status))
		fprintf(stderr, "# the dumpee exited with %d\n", WEXITSTATUS(status));
	sc->dumpee = -1;
	close(cmd[1]);
	close(ack[0]);
	return err;
}

/* What a launcher does to itself before it restores. */
#define LAUNCH_NO_SYS_NICE	1	/* drops CAP_SYS_NICE */
#define LAUNCH_NICE_10		2	/* runs at nice 10 */
#define LAUNCH_RR_RESET		4	/* runs SCHED_RR|SCHED_RESET_ON_FORK, priority 5 */

/* A launcher that becomes the image's process; 100 + errno if it fails. */
static pid_t launch(struct sched_ctx *sc, int how)
{
	struct restore_process_fd map[2];
	struct restore_process_args args = { .fd_map = (uintptr_t)map, .nr_fd_map = 2 };
	const struct sched_param rr5 = { .sched_priority = 5 };
	int cmd[2], ack[2];

	if (pipe(cmd) || pipe(ack))
		return -1;
	sc->restored = fork();
	if (!sc->restored) {
		alarm(100);	/* never outlive the test */
		if ((how & LAUNCH_NICE_10) && setpriority(PRIO_PROCESS, 0, 10))
			_exit(98);
		if ((how & LAUNCH_RR_RESET) &&
		    sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &rr5))
			_exit(98);
		if ((how & LAUNCH_NO_SYS_NICE) && spice_test_drop_cap(CAP_SYS_NICE))
			_exit(97);
		map[0] = (struct restore_process_fd){ .image_fd = CMD_FD, .fd = cmd[0] };
		map[1] = (struct restore_process_fd){ .image_fd = ACK_FD, .fd = ack[1] };
		sys_restore_process(sc->image_fd, &args, sizeof(args), 0);
		_exit(100 + errno);
	}
	close(cmd[0]);
	close(ack[1]);
	sc->cmd = cmd[1];
	sc->ack = ack[0];
	return sc->restored;
}

/* The restored process's verdict: 'A', or the letter of a thread that differs. */
static char ask(struct __test_metadata *_metadata, struct sched_ctx *sc)
{
	char c = 'c';

	if (write(sc->cmd, &c, 1) != 1 || read(sc->ack, &c, 1) != 1) {
		TH_LOG("no answer: the launcher ended with %d", spice_test_reap(&sc->restored));
		return 0;
	}
	return c;
}

/*
 * The launcher's exit status once its channel is closed: 100 + errno if
 * the restore failed, 14 if it was restored after all.
 */
static int refused(struct sched_ctx *sc)
{
	close(sc->cmd);
	return spice_test_reap(&sc->restored);
}

static void end(struct __test_metadata *_metadata, struct sched_ctx *sc)
{
	ASSERT_EQ(1, write(sc->cmd, "e", 1));
	EXPECT_EQ(7, spice_test_reap(&sc->restored));
}

TEST_F(sched, each_threads_policy_priority_and_nice_come_back)
{
	struct sched_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_FIFO)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, 0));
	EXPECT_EQ('A', ask(_metadata, sc));
	end(_metadata, sc);
}

/* SCHED_FIFO needs CAP_SYS_NICE, or room under the image's RLIMIT_RTPRIO. */
TEST_F(sched, a_real_time_thread_needs_cap_sys_nice_or_rlimit_rtprio)
{
	struct sched_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_FIFO)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, LAUNCH_NO_SYS_NICE));
	EXPECT_EQ(100 + EPERM, refused(sc));
	ASSERT_EQ(0, dump_with(sc, WITH_FIFO | WITH_RTPRIO)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, LAUNCH_NO_SYS_NICE));
	EXPECT_EQ('A', ask(_metadata, sc));
	end(_metadata, sc);
}

/* A launcher at nice 10 cannot give a thread nice 4 without CAP_SYS_NICE. */
TEST_F(sched, a_nicer_launcher_cannot_raise_priority_without_cap_sys_nice)
{
	struct sched_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, 0)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, LAUNCH_NICE_10 | LAUNCH_NO_SYS_NICE));
	EXPECT_EQ(100 + EPERM, refused(sc));
	ASSERT_LT(0, launch(sc, LAUNCH_NICE_10));
	EXPECT_EQ('A', ask(_metadata, sc));
	end(_metadata, sc);
}

/*
 * A launcher on SCHED_RR with reset-on-fork makes SCHED_NORMAL threads:
 * without CAP_SYS_NICE or RLIMIT_RTPRIO it cannot restore a SCHED_RR one.
 */
TEST_F(sched, reset_on_fork_gives_no_more_real_time_threads)
{
	struct sched_ctx *sc = &self->c;

	ASSERT_EQ(0, dump_with(sc, WITH_RR_RESET)) TH_LOG("%s", sc->why);
	ASSERT_LT(0, launch(sc, LAUNCH_RR_RESET | LAUNCH_NO_SYS_NICE));
	EXPECT_EQ(100 + EPERM, refused(sc));
	ASSERT_LT(0, launch(sc, LAUNCH_RR_RESET));
	EXPECT_EQ('A', ask(_metadata, sc));
	end(_metadata, sc);
}

/* Each is refused at dump time, by name. */
TEST_F(sched, what_an_image_cannot_hold_is_refused_by_name)
{
	struct sched_ctx *sc = &self->c;

	EXPECT_EQ(-EOPNOTSUPP, dump_with(sc, WITH_DEADLINE));
	EXPECT_NE(NULL, strstr(sc->why, "scheduling policy 6 is not restored"))
		TH_LOG("%s", sc->why);
	EXPECT_EQ(-EOPNOTSUPP, dump_with(sc, WITH_IOPRIO));
	EXPECT_NE(NULL, strstr(sc->why, "an I/O priority set with ioprio_set() (0x6000)"))
		TH_LOG("%s", sc->why);
}

TEST_HARNESS_MAIN
