// SPDX-License-Identifier: GPL-2.0
/*
 * spice-bench-coldstart: how long a function takes to answer its first
 * request when started cold, restored by Spice, or already warm, measured
 * side by side in one run.
 *
 *   spice-bench-coldstart [-d DIR] [-r REPS] [-n NAME] [-m MODES] [-N COUNTS]
 *                         [-s] [-H ADDR] -- CMD [ARGS...]
 *
 * CMD is a function on the JSON-lines request channel (tools.rst): it
 * prints a ready line, then answers each request line on stdin with one
 * reply line on stdout holding a "checksum".  With -H, it serves HTTP on
 * ADDR instead (its stdin and stdout are still our pipes): a start is
 * ready when it answers, the request is a POST of the same line, sent
 * again every 2 ms while nothing listens yet (a start, a restore), and an
 * instance is dumped once no connection of a request is left; the density
 * measurement, N instances on one port, is not made.  One instance is started,
 * sent a warm-up request, dumped to DIR/NAME.img and stopped, so that
 * restores can take its pid (as spice restore --pid does; asyncio needs
 * it).  Then, REPS times and in
 * turn, with the page cache dropped before each cold measurement and no
 * instance of the function running (its mapped runtime files would stay
 * cached), the cold modes; then a second instance, started the same way,
 * is the warm instance for the warm mode, and CRIU's dump ends it.  The
 * dump is `spice record`ed with the benchmark's request into DIR/NAME-rec.img
 * (the spice tool must sit next to this program): its working set is the
 * pages that request touches, and it is the image Spice restores.
 *
 *   cold     fork + exec CMD, wait for ready, send the request, read the reply
 *   spice    fork a launcher (under the dumped pid) that calls
 *            restore_process() on the recorded image with fresh pipes as
 *            fds 0 and 1, send the request, read the reply
 *   spice-image-cold the same with the runtime's files cached and only the
 *            image cold (its page cache dropped with POSIX_FADV_DONTNEED)
 *   spice-dumped the same as spice from the dump itself, whose working set
 *            is every page the process had resident (the runtime's mapped
 *            files included), not yet recorded
 *   spice-lazy the same as spice from a second image dumped with no
 *            working set (SPICE_DUMP_WS_NONE): every page is read from the
 *            image on its first touch
 *   warm     send the request to the warm instance, read the reply
 *   criu     (when criu is installed) after the rest: the warm instance is
 *            dumped with `criu dump --shell-job` (which ends it), then each
 *            sample drops the page cache and runs `criu restore --shell-job`
 *            with the function's pipes handed over by --inherit-fd
 *
 * Each sample is the time from the start (fork or write) to the reply, the
 * child's page faults until then, and the disk's reads and sectors; then,
 * but for warm, the time of a second request to the started instance.  Every
 * reply's checksum must be the warm instance's.  -m MODES (a comma list)
 * picks modes; the default is every one but spice-lazy.
 *
 * -N COUNTS (a comma list, at most MAX_INSTANCES each) adds the density
 * measurement, before CRIU: for each count N, min(REPS, 3) times, the page
 * cache is dropped and N instances are restored by Spice at once, then N
 * are started cold at once; for each instance, the time from the start to
 * its reply, and, with every instance still alive, the sum of their
 * proportional set sizes (Pss in /proc/PID/smaps_rollup).
 *
 * -s counts system calls: one more, unmeasured, start in each of the cold,
 * spice and criu modes, under a seccomp filter that the child installs
 * before it execs or restores and that turns every system call into a
 * user notification, which a thread of ours counts and lets go on.
 * Children and restored processes keep the filter, so the count covers
 * every process of the start (criu and the tasks it forks) until the
 * reply, the few calls the child makes to set its fds up and the
 * function's own calls for the request included.  Output: JSON on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice/dump.h>
#include <spice/image.h>
#include <spice/spice.h>

#include "bench_util.h"
#include "../http.h"
#include "../launch.h"
#include "../proc_tcp.h"

#define MAX_REPS 64
#define MAX_INSTANCES 16
#define MAX_COUNTS 8
#define DENSITY_REPS 3
#define REQUEST "{\"request\":\"bench\"}\n"

enum mode { COLD, SPICE, SPICE_IMAGE_COLD, SPICE_DUMPED, SPICE_LAZY, WARM, CRIU,
	    NR_MODES };

static const char *const mode_name[NR_MODES] = {
	"cold", "spice", "spice-image-cold", "spice-dumped", "spice-lazy", "warm", "criu",
};

struct sample {
	double ms;
	double restore_ms;	/* Spice modes: until restore_process() ended */
	double next_ms;		/* the second request to the started instance */
	double faults;
	double read_kib;
	double reads;
};

static struct {
	char **cmd;
	const char *dir, *name, *device, *criu;
	char image[512], lazy_image[512], rec_image[512], criu_dir[512];
	char spice[512];	/* the spice tool, for spice record */
	const char *restore;	/* the image run_restore() restores */
	char pipes[2][64];	/* the warm instance's fds 0 and 1, for CRIU */
	pid_t criu_pid;		/* the pid CRIU restores it with */
	int reps;
	unsigned int modes;	/* bit per enum mode */
	bool count_syscalls;
	int count_pipe[2];	/* the child's listener fd number, to us */
	int stats_wr;		/* if > 0, run_restore() asks for stats there */
	int counts[MAX_COUNTS], nr_counts;
	const char *http_addr;	/* -H: the function serves HTTP there */
	struct http_target http;
} opt = { .dir = "/images", .name = "function", .reps = 10,
	  .criu = "/usr/sbin/criu", .modes = ~(1U << SPICE_LAZY) & ((1U << NR_MODES) - 1) };

static void die(const char *what)
{
	fprintf(stderr, "spice-bench-coldstart: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A function instance and our ends of its pipes. */
struct instance {
	pid_t pid;
	int req, rep;		/* we write requests, read replies */
	char buf[4096];
	size_t len;
};

/* Read one line of the instance's output into @line; false on EOF. */
static bool read_line(struct instance *in, char *line, size_t size)
{
	char *nl;
	ssize_t n;

	while (!(nl = memchr(in->buf, '\n', in->len))) {
		if (in->len == sizeof(in->buf))
			return false;
		n = read(in->rep, in->buf + in->len, sizeof(in->buf) - in->len);
		if (n <= 0)
			return false;
		in->len += n;
	}
	n = nl - in->buf + 1;
	snprintf(line, size, "%.*s", (int)(n - 1), in->buf);
	memmove(in->buf, in->buf + n, in->len - n);
	in->len -= n;
	return true;
}

/*
 * In the child: install a filter that makes every later system call a
 * user notification, and tell the parent which fd its listener is, so
 * that it takes a copy with pidfd_getfd().  The listener takes the lowest
 * free fd, found before the filter is installed (after it, every call
 * waits for the parent).
 */
static void count_install(void)
{
	struct sock_filter all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	struct sock_fprog prog = { .len = 1, .filter = &all };
	int fd = dup(0);

	if (fd < 0 || close(fd) ||
	    write(opt.count_pipe[1], &fd, sizeof(fd)) != sizeof(fd))
		_exit(123);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) != fd)
		_exit(122);
}

static void run_restore(int req, int rep);

/*
 * The image run_restore() restores, parsed once per path: a launcher
 * gives the restored process the pid it had when that pid is free
 * (asyncio checks getpid(), and CRIU restores pids too) and its supplied
 * fds their O_NONBLOCK, as spice restore --pid does.
 */
static const struct spice_image *restore_image(void)
{
	static struct spice_image *img;
	static char path[512];
	char why[SPICE_IMAGE_WHY_LEN];
	int fd;

	if (img && !strcmp(path, opt.restore))
		return img;
	spice_image_free(img);
	img = NULL;
	snprintf(path, sizeof(path), "%s", opt.restore);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || spice_image_open(fd, &img, why))
		fprintf(stderr, "spice-bench-coldstart: %s: cannot read the image\n", path);
	if (fd >= 0)
		close(fd);
	return img;
}

/* Fork a child with fresh pipes on fds 0 and 1; in the child, @run runs. */
static void spawn(struct instance *in, void (*run)(int req, int rep))
{
	const struct spice_image *img = run == run_restore ? restore_image() : NULL;
	int req[2], rep[2];

	if (pipe(req) || pipe(rep))
		die("pipe");
	memset(in, 0, sizeof(*in));
	in->pid = img ? launch_fork_as(spice_image_process(img)->pid) : -EEXIST;
	if (in->pid < 0 && in->pid != -EEXIST) {
		errno = -in->pid;
		die("clone3 with the dumped pid");
	}
	if (in->pid < 0)	/* taken: density's instances share one image */
		in->pid = fork();
	if (in->pid < 0)
		die("fork");
	if (!in->pid) {
		close(req[1]);
		close(rep[0]);
		if (opt.count_pipe[1] > 0)
			count_install();
		run(req[0], rep[1]);
		_exit(127);
	}
	close(req[0]);
	close(rep[1]);
	in->req = req[1];
	in->rep = rep[0];
}

/*
 * A session of its own (CRIU's --shell-job wants one), stderr on /dev/null
 * (CRIU cannot dump a terminal that is not the session's).
 */
static void run_exec(int req, int rep)
{
	int null = open("/dev/null", O_WRONLY);

	setsid();
	if (dup2(req, 0) < 0 || dup2(rep, 1) < 0 || null < 0 || dup2(null, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	execvp(opt.cmd[0], opt.cmd);
	_exit(127);
}

/* criu restore, our pipes on its fds 10 and 11 standing for the dumped ones. */
static void run_criu(int req, int rep)
{
	char in[96], out[96];
	int null = open("/dev/null", O_RDWR);

	if (dup2(req, 10) < 0 || dup2(rep, 11) < 0 || null < 0 ||
	    dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(126);
	close_range(12, ~0U, 0);
	snprintf(in, sizeof(in), "fd[10]:%s", opt.pipes[0]);
	snprintf(out, sizeof(out), "fd[11]:%s", opt.pipes[1]);
	execl(opt.criu, "criu", "restore", "-D", opt.criu_dir, "--shell-job",
	      "--inherit-fd", in, "--inherit-fd", out, "-o", "restore.log",
	      (char *)NULL);
	_exit(127);
}

static void run_restore(int req, int rep)
{
	struct restore_process_fd map[2] = {
		{ .image_fd = 0, .fd = req },
		{ .image_fd = 1, .fd = rep },
	};
	struct restore_process_args args = {
		.fd_map = (uintptr_t)map, .nr_fd_map = 2, .stats_fd = opt.stats_wr,
	};
	int fd = open(opt.restore, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !restore_image() ||
	    launch_set_fd_flags(restore_image(), map, 2))
		_exit(125);
	spice_restore_process(fd, &args, sizeof(args),
			      opt.stats_wr > 0 ? RESTORE_PROCESS_STATS : 0);
	_exit(124);
}

static void stop(struct instance *in)
{
	close(in->req);
	close(in->rep);
	kill(in->pid, SIGKILL);
	waitpid(in->pid, NULL, 0);
}

/* Minor plus major faults of @pid so far (/proc/PID/stat fields 10, 12). */
static long faults_of(pid_t pid)
{
	unsigned long min = 0, maj = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %lu", &min, &maj);
	fclose(f);
	return min + maj;
}

/* The "checksum" field of a reply, as text. */
static void checksum_of(const char *reply, char *out, size_t size)
{
	const char *p = strstr(reply, "\"checksum\":");

	snprintf(out, size, "%.*s", p ? (int)strcspn(p + 11, ",}") : 0,
		 p ? p + 11 : "");
}

/* Whether a reply's checksum is the warm instance's; says so when not. */
static bool same_checksum(const char *what, const char *sum, const char *want)
{
	if (!strcmp(sum, want))
		return true;
	fprintf(stderr, "spice-bench-coldstart: %s: checksum %s, warm %s\n",
		what, sum, want);
	return false;
}

/*
 * The request over HTTP, a POST of the request line: while nothing
 * listens yet (a start, a restore), it connects again every 2 ms.
 */
static bool ask_http(char *reply, size_t size)
{
	double deadline = bench_now_ms() + 60000;
	char body[] = REQUEST;
	int status;

	body[strlen(body) - 1] = '\0';
	do {
		status = http_request(&opt.http, body, reply, size, 60000);
		if (status != -ECONNREFUSED)
			break;
		usleep(2000);
	} while (bench_now_ms() < deadline);
	return status >= 200 && status < 300;
}

/* Send the request and read the reply: the first request of a start. */
static bool ask(struct instance *in, char *reply, size_t size)
{
	if (opt.http_addr)
		return ask_http(reply, size);
	return write(in->req, REQUEST, strlen(REQUEST)) == (ssize_t)strlen(REQUEST) &&
	       read_line(in, reply, size);
}

/* A start's ready line; an HTTP function is ready once it answers. */
static bool ready(struct instance *in, char *line, size_t size)
{
	return opt.http_addr || (read_line(in, line, size) && strstr(line, "ready"));
}

/*
 * An HTTP function is dumped once the connections of its requests are
 * gone (their server side closes a moment after the reply is read).
 */
static bool wait_idle(pid_t pid)
{
	char why[128];
	int i;

	for (i = 0; opt.http_addr && i < 1000; i++) {
		if (!proc_tcp_find(pid, http_port(&opt.http), 0, why, sizeof(why)))
			return true;
		usleep(10000);
	}
	if (opt.http_addr)
		fprintf(stderr, "spice-bench-coldstart: %s\n", why);
	return !opt.http_addr;
}

static void evict_image(void)
{
	int fd = open(opt.restore, O_RDONLY);

	if (fd >= 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

static struct counter {
	int listener;
	long calls;
	int done;
} counter;

/* Count each notification and let the call go on, until no task is left. */
static void *count_thread(void *arg)
{
	struct counter *c = arg;
	struct pollfd pfd = { .fd = c->listener, .events = POLLIN };
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif_resp *resp;
	struct seccomp_notif *req;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes))
		return NULL;
	req = calloc(1, sizes.seccomp_notif);
	resp = calloc(1, sizes.seccomp_notif_resp);
	while (req && resp && !__atomic_load_n(&c->done, __ATOMIC_RELAXED)) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & (POLLHUP | POLLERR))
			break;	/* every task with the filter is gone */
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(c->listener, SECCOMP_IOCTL_NOTIF_RECV, req))
			continue;	/* the task died meanwhile */
		__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(c->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	free(req);
	free(resp);
	return NULL;
}

/* Fork a child as spawn() does, counting its system calls from its start. */
static bool spawn_counted(struct instance *in, void (*run)(int req, int rep),
			  pthread_t *thread)
{
	int fd, pidfd, i;

	if (pipe(opt.count_pipe))
		die("pipe");
	spawn(in, run);
	close(opt.count_pipe[1]);
	opt.count_pipe[1] = 0;
	i = read(opt.count_pipe[0], &fd, sizeof(fd));
	close(opt.count_pipe[0]);
	pidfd = i == sizeof(fd) ? syscall(SYS_pidfd_open, in->pid, 0) : -1;
	counter.listener = -1;
	counter.calls = 0;
	counter.done = 0;
	/* The fd exists once the child's seccomp() returns. */
	for (i = 0; pidfd >= 0 && counter.listener < 0 && i < 5000; i++) {
		counter.listener = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		if (counter.listener < 0)
			usleep(1000);
	}
	if (pidfd >= 0)
		close(pidfd);
	return counter.listener >= 0 &&
	       !pthread_create(thread, NULL, count_thread, &counter);
}

/*
 * One more start in mode @m, counting its system calls until the reply;
 * the count, or -1.
 */
static long count_syscalls(enum mode m, const char *want)
{
	char line[4096], sum[64];
	struct instance in;
	pthread_t thread;
	long calls;
	bool ok;

	opt.restore = opt.rec_image;
	if (!spawn_counted(&in, m == COLD ? run_exec : m == CRIU ? run_criu : run_restore,
			   &thread)) {
		stop(&in);
		return -1;
	}
	ok = m != COLD || ready(&in, line, sizeof(line));
	ok = ok && ask(&in, line, sizeof(line));
	calls = __atomic_load_n(&counter.calls, __ATOMIC_RELAXED);
	if (m == CRIU)
		kill(opt.criu_pid, SIGKILL);
	stop(&in);
	__atomic_store_n(&counter.done, 1, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	close(counter.listener);
	checksum_of(line, sum, sizeof(sum));
	return ok && same_checksum("syscalls", sum, want) ? calls : -1;
}

static bool has(enum mode m)
{
	return opt.modes & (1U << m);
}

/* The end of @name in CRIU's directory, on stderr. */
static void print_tail(const char *name)
{
	char path[600], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", opt.criu_dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf), lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) ?
		  lseek(fd, 0, SEEK_END) - (off_t)sizeof(buf) : 0);
	if (n > 0)
		fprintf(stderr, "%s:\n%.*s\n", path, (int)n, buf);
	close(fd);
}

/*
 * count_syscalls() for mode @m into @calls[m] if @m is measured.  A count
 * that fails is left out (it measures nothing else): said, not fatal.
 */
static void count_mode(enum mode m, const char *want, long *calls)
{
	if (!has(m))
		return;
	calls[m] = count_syscalls(m, want);
	if (calls[m] >= 0)
		return;
	fprintf(stderr, "spice-bench-coldstart: counting the calls of %s failed\n",
		mode_name[m]);
	if (m == CRIU)
		print_tail("restore.log");
}

/*
 * When restore_process() ended, in ms from @t0 (both CLOCK_MONOTONIC),
 * from the stats record the kernel wrote to @fd once the process started;
 * 0 if there is none.
 */
static double restore_end_ms(int fd, double t0)
{
	struct restore_process_stats st;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];		/* PIPE_BUF: a record is never longer */

	if (poll(&p, 1, 1000) != 1 || read(fd, buf, sizeof(buf)) < (ssize_t)sizeof(st))
		return 0;
	memcpy(&st, buf, sizeof(st));
	return (st.start_ns + st.total_ns) / 1e6 - t0;
}

/*
 * A second request to an instance that answered its first: how far from
 * warm it is once started (caches, TLB, and under TCG the code QEMU has
 * not translated yet for the pages read anew).
 */
static bool ask_next(struct instance *in, const char *want, double *ms)
{
	char line[4096], sum[64];
	double t0 = bench_now_ms();

	if (!ask(in, line, sizeof(line)))
		return false;
	*ms = bench_now_ms() - t0;
	checksum_of(line, sum, sizeof(sum));
	return same_checksum("second request", sum, want);
}

static bool measure(enum mode m, struct instance *warm, const char *want,
		    struct sample *s)
{
	bool spice = m != COLD && m != WARM && m != CRIU;
	char line[4096], sum[64];
	long ios0, sec0, ios1, sec1;
	int stats[2] = { -1, -1 };
	struct instance in;
	double t0;
	bool ok;

	s->next_ms = 0;
	if (m != SPICE_IMAGE_COLD && m != WARM)
		bench_drop_page_cache();
	opt.restore = m == SPICE_LAZY ? opt.lazy_image :
		      m == SPICE_DUMPED ? opt.image : opt.rec_image;
	if (m == SPICE_IMAGE_COLD)
		evict_image();
	if (spice && pipe2(stats, O_CLOEXEC))
		die("pipe");
	opt.stats_wr = stats[1];
	bench_block_stat(opt.device, &ios0, &sec0);
	t0 = bench_now_ms();
	if (m == WARM) {
		ok = ask(warm, line, sizeof(line));
		s->ms = bench_now_ms() - t0;
		s->faults = 0;
		bench_block_stat(opt.device, &ios1, &sec1);
	} else {
		spawn(&in, m == COLD ? run_exec : m == CRIU ? run_criu : run_restore);
		ok = m != COLD || ready(&in, line, sizeof(line));
		if (spice)
			close(stats[1]);
		ok = ok && ask(&in, line, sizeof(line));
		s->ms = bench_now_ms() - t0;
		s->restore_ms = spice ? restore_end_ms(stats[0], t0) : 0;
		if (spice)
			close(stats[0]);
		/* CRIU's child is criu; the function has its old pid. */
		s->faults = faults_of(m == CRIU ? opt.criu_pid : in.pid);
		bench_block_stat(opt.device, &ios1, &sec1);
		ok = ok && ask_next(&in, want, &s->next_ms);
		if (m == CRIU)
			kill(opt.criu_pid, SIGKILL);
		stop(&in);
	}
	opt.stats_wr = -1;
	s->reads = ios1 - ios0;
	s->read_kib = (sec1 - sec0) / 2.0;
	checksum_of(line, sum, sizeof(sum));
	return ok && same_checksum(mode_name[m], sum, want);
}

/* Run a command and wait; its exit status, or -1. */
static int run_wait(char *const argv[])
{
	int status, null;
	pid_t pid = fork();

	if (!pid) {
		null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Dump the warm instance with CRIU (which ends it), remembering its pipes
 * and pid; false if CRIU is not there or fails.
 */
static bool criu_dump(struct instance *warm)
{
	char pid[16], path[64], *argv[] = {
		(char *)opt.criu, "dump", "-t", pid, "-D", opt.criu_dir,
		"--shell-job", "-o", "dump.log", NULL,
	};
	ssize_t n;
	int i;

	if (access(opt.criu, X_OK) || !wait_idle(warm->pid))
		return false;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", warm->pid, i);
		n = readlink(path, opt.pipes[i], sizeof(opt.pipes[i]) - 1);
		if (n <= 0)
			return false;
		opt.pipes[i][n] = '\0';
	}
	snprintf(pid, sizeof(pid), "%d", warm->pid);
	snprintf(opt.criu_dir, sizeof(opt.criu_dir), "%s/%s.criu", opt.dir, opt.name);
	mkdir(opt.criu_dir, 0700);
	opt.criu_pid = warm->pid;
	if (run_wait(argv)) {
		fprintf(stderr, "spice-bench-coldstart: criu dump failed\n");
		print_tail("dump.log");
		return false;
	}
	waitpid(warm->pid, NULL, 0);
	close(warm->req);
	close(warm->rep);
	return true;
}

static double field(struct sample *v, int n, size_t off, double *lo, double *hi)
{
	double x[MAX_REPS];
	int i;

	for (i = 0; i < n; i++)
		x[i] = *(double *)((char *)&v[i] + off);
	qsort(x, n, sizeof(x[0]), bench_cmp_double);
	*lo = x[0];
	*hi = x[n - 1];
	return bench_median(x, n);
}

/* Pss of @pid in KiB (/proc/PID/smaps_rollup), or 0. */
static long pss_of(pid_t pid)
{
	char path[64], buf[256];
	long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "Pss: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

struct density {
	int n;
	double ms_median[2], ms_max[2], pss_kib[2];	/* [0] spice, [1] cold */
};

/*
 * Start @n instances at once (restored, or cold with @cold), each answering
 * one request; their latencies go to @ms, their Pss sum is returned (KiB),
 * or -1 on a failure.
 */
static long density_round(int n, bool cold, const char *want, double *ms)
{
	struct instance in[MAX_INSTANCES];
	struct pollfd pfd[MAX_INSTANCES];
	int state[MAX_INSTANCES];	/* 0: not ready, 1: asked, 2: replied */
	char line[4096], sum[64];
	int i, left = n;
	long pss = 0;
	double t0;

	bench_drop_page_cache();
	opt.restore = opt.rec_image;
	t0 = bench_now_ms();
	for (i = 0; i < n; i++) {
		spawn(&in[i], cold ? run_exec : run_restore);
		state[i] = 0;
		if (!cold) {
			if (write(in[i].req, REQUEST, strlen(REQUEST)) !=
			    (ssize_t)strlen(REQUEST))
				left = -1;
			state[i] = 1;
		}
		pfd[i].fd = in[i].rep;
		pfd[i].events = POLLIN;
	}
	while (left > 0) {
		if (poll(pfd, n, 60000) <= 0) {
			left = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) || state[i] == 2)
				continue;
			if (!read_line(&in[i], line, sizeof(line))) {
				left = -1;
				break;
			}
			if (state[i] == 0) {
				if (!strstr(line, "ready") ||
				    write(in[i].req, REQUEST, strlen(REQUEST)) !=
				    (ssize_t)strlen(REQUEST)) {
					left = -1;
					break;
				}
				state[i] = 1;
				continue;
			}
			ms[i] = bench_now_ms() - t0;
			checksum_of(line, sum, sizeof(sum));
			if (!same_checksum("density", sum, want)) {
				left = -1;
				break;
			}
			state[i] = 2;
			pfd[i].fd = -1;
			left--;
		}
	}
	for (i = 0; i < n; i++)
		pss += pss_of(in[i].pid);
	for (i = 0; i < n; i++)
		stop(&in[i]);
	return left ? -1 : pss;
}

static bool density(struct density *d, const char *want)
{
	double ms[DENSITY_REPS * MAX_INSTANCES], pss[DENSITY_REPS];
	int reps = opt.reps < DENSITY_REPS ? opt.reps : DENSITY_REPS;
	int c, r, k;
	long p;

	for (k = 0; k < 2; k++) {
		for (r = 0; r < reps; r++) {
			p = density_round(d->n, k, want, ms + r * d->n);
			if (p < 0)
				return false;
			pss[r] = p;
		}
		c = reps * d->n;
		qsort(ms, c, sizeof(ms[0]), bench_cmp_double);
		d->ms_max[k] = ms[c - 1];
		d->ms_median[k] = bench_median(ms, c);
		d->pss_kib[k] = bench_median(pss, reps);
	}
	return true;
}

static bool parse_modes(char *list)
{
	char *tok;
	int m;

	opt.modes = 0;
	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		for (m = 0; m < NR_MODES && strcmp(tok, mode_name[m]); m++)
			;
		if (m == NR_MODES)
			return false;
		opt.modes |= 1U << m;
	}
	return opt.modes;
}

static bool parse_counts(char *list)
{
	char *tok;
	int n;

	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		n = atoi(tok);
		if (n < 1 || n > MAX_INSTANCES || opt.nr_counts == MAX_COUNTS)
			return false;
		opt.counts[opt.nr_counts++] = n;
	}
	return true;
}

/* Dump the warm instance, left running, to @path; false on a failure. */
static bool dump_to(struct instance *warm, const char *path, unsigned int flags,
		    struct spice_dump_stats *stats)
{
	struct spice_dump_opts dopts = { .flags = flags };
	char why[SPICE_IMAGE_WHY_LEN];
	int fd, err;

	if (!wait_idle(warm->pid))
		return false;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	err = spice_dump(warm->pid, fd, &dopts, stats, why);
	if (err)
		fprintf(stderr, "spice-bench-coldstart: dump: %s\n", why);
	fsync(fd);
	close(fd);
	return !err;
}

/*
 * `spice record` the image into opt.rec_image with the benchmark's request;
 * the new working set's pages in *@ws_pages and the image's size in *@bytes.
 */
static bool record_image(unsigned long long *ws_pages, unsigned long long *bytes)
{
	/*
	 * Address order: the pages are the same, and a synchronous restore
	 * reads them by image offset whatever their order.  Tracing the first
	 * touches would enable tracepoints, which patches kernel text while
	 * the other vCPU runs it; QEMU 7.2's multi-threaded TCG then let a
	 * guest run a stale int3 twice in this benchmark (an oops).
	 */
	char request[] = REQUEST, *argv[] = {
		opt.spice, "record", opt.image, "-o", opt.rec_image, "--request",
		request, "--address-order", NULL, NULL, NULL,
	};
	const struct mmap_restore_ws_range *ws;
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	uint64_t nr, i;
	struct stat st;
	int fd;

	request[strlen(request) - 1] = '\0';	/* one line, no newline */
	if (opt.http_addr) {
		argv[8] = "--http";
		argv[9] = (char *)opt.http_addr;
	}
	if (run_wait(argv))
		return fprintf(stderr, "spice-bench-coldstart: spice record failed (%s)\n",
			       opt.spice), false;
	fd = open(opt.rec_image, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || spice_image_open(fd, &img, why))
		return fprintf(stderr, "spice-bench-coldstart: %s\n", opt.rec_image), false;
	*bytes = st.st_size;
	*ws_pages = 0;
	ws = spice_image_table(img, SPICE_SECT_WS, &nr);
	for (i = 0; i < nr; i++)
		*ws_pages += ws[i].nr_pages;
	spice_image_free(img);
	close(fd);
	return true;
}

/* Start the function, wait until it is ready and answer one request. */
static void start_warm(struct instance *warm, char *line, size_t size)
{
	spawn(warm, run_exec);
	if (!ready(warm, line, size) || !ask(warm, line, size))
		die("starting the function");
}

static void print_ratio(const char *name, double *med, enum mode a, enum mode b,
			const char **sep)
{
	if (!has(a) || !has(b) || med[b] <= 0)
		return;		/* a zero: below the clock's resolution */
	printf("%s\"%s\":%.2f", *sep, name, med[a] / med[b]);
	*sep = ",";
}

static const char usage[] =
	"usage: spice-bench-coldstart [-d DIR] [-r REPS] [-n NAME] [-m MODES] [-N COUNTS] [-s]\n"
	"                             [-H ADDR] -- CMD [ARGS...]\n";

int main(int argc, char **argv)
{
	static struct sample samples[NR_MODES][MAX_REPS];
	struct spice_dump_stats dstats, lstats;
	unsigned long long rec_ws = 0, rec_bytes = 0;
	struct density dens[MAX_COUNTS];
	long calls[NR_MODES] = { 0 };
	int criu_failed = 0;
	char line[4096], want[64], got[64];
	double med[NR_MODES], lo, hi, flo, fhi, unused, f, k, r;
	const char *sep = "";
	struct instance warm;
	int c, i, m;

	while ((c = getopt(argc, argv, "d:r:n:m:N:sH:")) != -1) {
		if (c == 'd')
			opt.dir = optarg;
		else if (c == 'r')
			opt.reps = atoi(optarg);
		else if (c == 'n')
			opt.name = optarg;
		else if (c == 'm' && parse_modes(optarg))
			continue;
		else if (c == 'N' && parse_counts(optarg))
			continue;
		else if (c == 's')
			opt.count_syscalls = true;
		else if (c == 'H' && !http_parse_address(optarg, &opt.http))
			opt.http_addr = optarg;
		else
			return fputs(usage, stderr), 2;
	}
	/* N instances cannot all listen on one port. */
	if (optind >= argc || opt.reps < 1 || opt.reps > MAX_REPS ||
	    (opt.http_addr && opt.nr_counts))
		return fputs(usage, stderr), 2;
	opt.cmd = argv + optind;
	opt.device = bench_find_device(opt.dir);
	snprintf(opt.image, sizeof(opt.image), "%s/%s.img", opt.dir, opt.name);
	snprintf(opt.lazy_image, sizeof(opt.lazy_image), "%s/%s-lazy.img", opt.dir,
		 opt.name);
	snprintf(opt.rec_image, sizeof(opt.rec_image), "%s/%s-rec.img", opt.dir,
		 opt.name);
	/* The spice tool next to us: /mnt/spice/spice-bench-coldstart -> spice. */
	c = strrchr(argv[0], '/') ? strrchr(argv[0], '/') - argv[0] + 1 : 0;
	snprintf(opt.spice, sizeof(opt.spice), "%.*sspice", c, argv[0]);

	/*
	 * An instance warmed up and dumped, then stopped, so that its pid is
	 * free for the restored ones (as for CRIU's); then the warm instance.
	 */
	start_warm(&warm, line, sizeof(line));
	checksum_of(line, want, sizeof(want));
	if (!dump_to(&warm, opt.image, 0, &dstats))
		return 1;
	if (has(SPICE_LAZY) && !dump_to(&warm, opt.lazy_image, SPICE_DUMP_WS_NONE, &lstats))
		return 1;
	stop(&warm);
	if (!record_image(&rec_ws, &rec_bytes))
		return 1;

	/*
	 * The cold modes while no instance of the function runs: a running
	 * one keeps the runtime's mapped file pages in memory, which dropping
	 * the page cache cannot drop, and a cold start would find them.
	 */
	for (i = 0; i < opt.reps; i++)
		for (m = 0; m < WARM; m++)
			if (has(m) && !measure(m, NULL, want, &samples[m][i]))
				return fprintf(stderr, "spice-bench-coldstart: %s failed\n",
					       mode_name[m]), 1;
	for (m = COLD; opt.count_syscalls && m <= SPICE; m++)
		count_mode(m, want, calls);
	for (i = 0; i < opt.nr_counts; i++) {
		dens[i].n = opt.counts[i];
		if (!density(&dens[i], want))
			return fprintf(stderr, "spice-bench-coldstart: density failed\n"), 1;
	}

	start_warm(&warm, line, sizeof(line));
	checksum_of(line, got, sizeof(got));
	if (!same_checksum("warm instance", got, want))
		return 1;
	for (i = 0; has(WARM) && i < opt.reps; i++)
		if (!measure(WARM, &warm, want, &samples[WARM][i]))
			return fprintf(stderr, "spice-bench-coldstart: warm failed\n"), 1;
	/* CRIU dumps the warm instance, which ends it: nothing runs then either. */
	if (has(CRIU) && !criu_dump(&warm))
		opt.modes &= ~(1U << CRIU);
	if (!has(CRIU))
		stop(&warm);
	/* A failed CRIU restore drops the mode, not the other modes' figures. */
	for (i = 0; has(CRIU) && i < opt.reps; i++) {
		if (!measure(CRIU, &warm, want, &samples[CRIU][i])) {
			fprintf(stderr, "spice-bench-coldstart: criu restore %d failed\n", i + 1);
			print_tail("restore.log");
			opt.modes &= ~(1U << CRIU);
			criu_failed = i + 1;
		}
	}
	if (opt.count_syscalls)
		count_mode(CRIU, want, calls);

	printf("{\"function\":\"%s\",\"reps\":%d,\"cpus\":%ld,\"image_bytes\":%llu,",
	       opt.name, opt.reps, sysconf(_SC_NPROCESSORS_ONLN),
	       (unsigned long long)dstats.image.file_size);
	printf("\"image_pages_stored\":%llu,\"ws_pages\":%llu,\"dump_ms\":%.1f,",
	       (unsigned long long)dstats.image.pages_stored,
	       (unsigned long long)dstats.image.ws_pages, dstats.ns_total / 1e6);
	if (has(SPICE_LAZY))
		printf("\"lazy_image_bytes\":%llu,\"lazy_ws_pages\":%llu,",
		       (unsigned long long)lstats.image.file_size,
		       (unsigned long long)lstats.image.ws_pages);
	printf("\"rec_image_bytes\":%llu,\"rec_ws_pages\":%llu,", rec_bytes, rec_ws);
	printf("\"modes\":{");
	for (m = 0; m < NR_MODES; m++) {
		if (!has(m))
			continue;
		med[m] = field(samples[m], opt.reps, offsetof(struct sample, ms), &lo, &hi);
		f = field(samples[m], opt.reps, offsetof(struct sample, faults), &flo, &fhi);
		k = field(samples[m], opt.reps, offsetof(struct sample, read_kib),
			  &unused, &unused);
		r = field(samples[m], opt.reps, offsetof(struct sample, reads),
			  &unused, &unused);
		printf("%s\"%s\":{\"ms_median\":%.2f,\"ms_min\":%.2f,\"ms_max\":%.2f,",
		       sep, mode_name[m], med[m], lo, hi);
		printf("\"faults_median\":%.0f,\"faults_min\":%.0f,\"faults_max\":%.0f,",
		       f, flo, fhi);
		printf("\"read_kib_median\":%.0f,\"reads_median\":%.0f", k, r);
		/* Launcher start to the end of restore_process(): the rest is the request. */
		k = field(samples[m], opt.reps, offsetof(struct sample, restore_ms),
			  &unused, &unused);
		if (k > 0)
			printf(",\"restore_ms_median\":%.2f", k);
		k = field(samples[m], opt.reps, offsetof(struct sample, next_ms),
			  &unused, &unused);
		if (k > 0)
			printf(",\"next_ms_median\":%.2f", k);
		printf("}");
		sep = ",";
	}
	printf("},\"ratios\":{");
	sep = "";
	print_ratio("criu/spice", med, CRIU, SPICE, &sep);
	print_ratio("cold/spice", med, COLD, SPICE, &sep);
	print_ratio("spice/warm", med, SPICE, WARM, &sep);
	print_ratio("cold/spice-image-cold", med, COLD, SPICE_IMAGE_COLD, &sep);
	print_ratio("spice-dumped/spice", med, SPICE_DUMPED, SPICE, &sep);
	print_ratio("spice-lazy/spice", med, SPICE_LAZY, SPICE, &sep);
	print_ratio("criu/spice-dumped", med, CRIU, SPICE_DUMPED, &sep);
	printf("},\"syscalls\":{");
	sep = "";
	for (m = 0; m < NR_MODES; m++) {
		if (calls[m] > 0) {
			printf("%s\"%s\":%ld", sep, mode_name[m], calls[m]);
			sep = ",";
		}
	}
	printf("},\"density\":[");
	for (i = 0; i < opt.nr_counts; i++) {
		printf("%s{\"n\":%d,\"reps\":%d", i ? "," : "", dens[i].n,
		       opt.reps < DENSITY_REPS ? opt.reps : DENSITY_REPS);
		for (m = 0; m < 2; m++)
			printf(",\"%s\":{\"ms_median\":%.2f,\"ms_max\":%.2f,\"pss_kib\":%.0f}",
			       m ? "cold" : "spice", dens[i].ms_median[m], dens[i].ms_max[m],
			       dens[i].pss_kib[m]);
		printf("}");
	}
	printf("],\"criu_failed_at\":%d,\"criu_options\":\"%s\",\"channel\":\"%s\",",
	       criu_failed, has(CRIU) ? "--shell-job --inherit-fd (pipes)" : "",
	       opt.http_addr ? "http" : "json-lines");
	printf("\"checksums_match\":true}\n");
	return 0;
}
