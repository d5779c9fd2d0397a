// SPDX-License-Identifier: GPL-2.0
/*
 * Why a restore of an image fails, named by object.  Each check mirrors
 * one that restore_process() makes before its point of no return, here
 * against the launcher's own state: spice verify runs them before a
 * restore is tried, and spice restore after the kernel refused one, to
 * say which file, descriptor, limit or thread its errno was about.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include <spice/image.h>

#include "diagnose.h"
#include "sockets.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC	0x0020
#endif

static const char *const rlimit_names[SPICE_IMAGE_NR_RLIMITS] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO",
	"RTTIME",
};

/* Whether the launcher has capability @cap in its effective set. */
static int has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return !!(data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap));
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

struct report {
	const char *prefix;
	int all;		/* every problem, or the first */
	int found;
};

static int say(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->found && !r->all)
		return 1;
	fprintf(stderr, "%s", r->prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	r->found++;
	return 1;
}

static void check_files(const struct spice_image *img, struct report *r)
{
	const struct spice_image_file *f;
	char why[SPICE_IMAGE_WHY_LEN], path[4200];
	uint64_t i, nr;

	f = spice_image_table(img, SPICE_SECT_FILES, &nr);
	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%.*s", (int)f[i].path.len,
			 (const char *)spice_image_blob(img, f[i].path));
		if (spice_image_file_check(&f[i], path, why))
			say(r, "file %s: %s", path, why);
	}
}

static int in_map(const struct restore_process_fd *map, unsigned int nr,
		  int fd)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if ((int)map[i].image_fd == fd)
			return 1;
	return 0;
}

/* Pipes and sockets from outside the process, which only a launcher has. */
static void check_supplied(const struct spice_image *img,
			   const struct restore_process_fd *map,
			   unsigned int nr_map, struct report *r)
{
	const struct spice_image_fd *d;
	uint64_t i, nr;

	d = spice_image_table(img, SPICE_SECT_FDS, &nr);
	for (i = 0; i < nr; i++)
		if (d[i].type == SPICE_FD_SUPPLIED && !d[i].shares &&
		    !in_map(map, nr_map, d[i].fd))
			say(r,
			    "fd %d: a pipe or socket from outside the process, which the image cannot hold: give one with --fd %d=N",
			    d[i].fd, d[i].fd);
}

/* Each socket of the image made here, as the restore would make it. */
static void check_sockets(const struct spice_image *img,
			  const struct restore_process_fd *map,
			  unsigned int nr_map, struct report *r)
{
	const struct spice_image_socket *s;
	char desc[160], why[256];
	uint64_t i, nr;

	s = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	for (i = 0; i < nr; i++)
		if (!in_map(map, nr_map, s[i].fd) && socket_try(&s[i], why, sizeof(why)))
			say(r, "fd %d: %s socket: %s", s[i].fd,
			    socket_describe(&s[i], desc, sizeof(desc)), why);
}

/*
 * Whether another flock() lock on @path's inode conflicts with one of
 * @type, as /proc/locks lists them (nothing taken to find out); its
 * holder's pid in @pid, 0 if not visible here.
 */
static int flock_held(const char *path, uint32_t type, pid_t *pid)
{
	unsigned int dev_major, dev_minor;
	char line[256], kind[16], held[16];
	unsigned long long ino;
	struct stat st;
	int found = 0;
	FILE *f;

	if (stat(path, &st))
		return 0;	/* check_files() says why, if it matters */
	f = fopen("/proc/locks", "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*d: %15s %*s %15s %d %x:%x:%llu", kind, held,
			       pid, &dev_major, &dev_minor, &ino) == 6 &&
			!strcmp(kind, "FLOCK") && dev_major == major(st.st_dev) &&
			dev_minor == minor(st.st_dev) && ino == st.st_ino &&
			(type == SPICE_LOCK_WRITE || !strcmp(held, "WRITE"));
	if (f)
		fclose(f);
	return found;
}

/*
 * Whether a POSIX or OFD lock on @path conflicts with @l, as F_OFD_GETLK
 * sees it from an open file of its own: the restore's POSIX locks belong
 * to a new fd table, which the launcher's own locks conflict with too.
 * The holder's pid in @pid, -1 for an OFD lock.
 */
static int record_lock_held(const struct spice_image_lock *l, const char *path,
			    pid_t *pid)
{
	struct flock fl = {
		.l_type = l->type == SPICE_LOCK_WRITE ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET, .l_start = l->start,
		.l_len = l->end == SPICE_LOCK_EOF ? 0 : l->end - l->start + 1,
	};
	int fd = open(path, O_RDONLY | O_CLOEXEC), held;

	if (fd < 0)
		return 0;
	held = !fcntl(fd, F_OFD_GETLK, &fl) && fl.l_type != F_UNLCK;
	*pid = fl.l_pid;
	close(fd);
	return held;
}

/* The image's file locks, against those other processes hold. */
static void check_locks(const struct spice_image *img,
			const struct restore_process_fd *map,
			unsigned int nr_map, struct report *r)
{
	static const char *const kind[] = {
		[SPICE_LOCK_FLOCK] = "flock", [SPICE_LOCK_POSIX] = "POSIX",
		[SPICE_LOCK_OFD] = "OFD",
	};
	const struct spice_image_file *f;
	const struct spice_image_lock *l;
	char path[4200];
	uint64_t i, nr;
	pid_t pid;

	l = spice_image_table(img, SPICE_SECT_LOCKS, &nr);
	for (i = 0; i < nr; i++) {
		if (in_map(map, nr_map, l[i].fd))
			continue;	/* the launcher's own file */
		f = spice_image_table(img, SPICE_SECT_FILES, NULL);
		f += spice_image_find_fd(img, l[i].fd)->file;
		if (f->flags & SPICE_FILE_MADE)
			continue;	/* made anew: nobody else has it */
		snprintf(path, sizeof(path), "%.*s", (int)f->path.len,
			 (const char *)spice_image_blob(img, f->path));
		if (!(l[i].kind == SPICE_LOCK_FLOCK ? flock_held(path, l[i].type, &pid) :
		      record_lock_held(&l[i], path, &pid)))
			continue;
		if (pid > 0)
			say(r, "fd %d: file %s: its %s %s lock is held by process %d",
			    l[i].fd, path, kind[l[i].kind],
			    l[i].type == SPICE_LOCK_WRITE ? "write" : "read", pid);
		else
			say(r, "fd %d: file %s: its %s %s lock is held by another %s",
			    l[i].fd, path, kind[l[i].kind],
			    l[i].type == SPICE_LOCK_WRITE ? "write" : "read",
			    pid < 0 ? "open file" : "process, not visible here");
	}
}

/* setrlimit()'s rules for the limits the image sets. */
static void check_rlimits(const struct spice_image *img, struct report *r)
{
	const struct spice_image_rlimit *lim;
	long nr_open = read_long("/proc/sys/fs/nr_open");
	int may_raise = has_cap(CAP_SYS_RESOURCE);
	struct rlimit cur;
	uint64_t nr, i;

	lim = spice_image_table(img, SPICE_SECT_RLIMITS, &nr);
	for (i = 0; i < nr; i++) {
		if (getrlimit(i, &cur))
			continue;
		if (i == RLIMIT_NOFILE && nr_open > 0 && lim[i].max > (uint64_t)nr_open)
			say(r, "resource limit NOFILE: hard limit %llu above fs.nr_open %ld",
			    (unsigned long long)lim[i].max, nr_open);
		else if (lim[i].max > cur.rlim_max && !may_raise)
			say(r,
			    "resource limit %s: hard limit %llu above the launcher's %llu, which only CAP_SYS_RESOURCE may raise",
			    rlimit_names[i], (unsigned long long)lim[i].max,
			    (unsigned long long)cur.rlim_max);
	}
}

/* Thread ids the image's threads need, held by another task. */
static void check_tids(const struct spice_image *img, struct report *r)
{
	const struct spice_image_thread *t;
	uint64_t i, nr;

	t = spice_image_table(img, SPICE_SECT_THREADS, &nr);
	for (i = 1; i < nr; i++)
		if (!kill(t[i].tid, 0) || errno == EPERM)
			say(r,
			    "thread id %d of the image is taken (another instance?): restore with --pid-ns, or --new-tids",
			    t[i].tid);
}

/* What the memory needs: mappings, locked memory. */
static void check_memory(const struct spice_image *img, struct report *r)
{
	const struct spice_image_rlimit *lim;
	const struct spice_image_vma *v;
	long max_maps = read_long("/proc/sys/vm/max_map_count");
	uint64_t nr, nlim, i, locked = 0, memlock;
	struct rlimit cur;

	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	if (max_maps > 0 && nr + 2 > (uint64_t)max_maps)
		say(r, "%llu mappings: over vm.max_map_count %ld",
		    (unsigned long long)nr, max_maps);
	for (i = 0; i < nr; i++)
		if (v[i].flags & SPICE_VMA_LOCKED)
			locked += v[i].end - v[i].start;
	lim = spice_image_table(img, SPICE_SECT_RLIMITS, &nlim);
	if (getrlimit(RLIMIT_MEMLOCK, &cur))
		return;
	memlock = nlim ? lim[RLIMIT_MEMLOCK].cur : cur.rlim_cur;
	if (locked && locked > memlock && !has_cap(CAP_IPC_LOCK))
		say(r,
		    "locked mappings: %llu KiB over RLIMIT_MEMLOCK %llu KiB, without CAP_IPC_LOCK",
		    (unsigned long long)locked >> 10, (unsigned long long)memlock >> 10);
}

/*
 * Queue entries charged to the user's RLIMIT_SIGPENDING: every pending
 * signal and every POSIX timer of the image, on top of what the user's
 * processes have queued already (SigQ), the launcher's own included.
 */
static void check_sigpending(const struct spice_image *img, struct report *r)
{
	unsigned long long used = 0, limit = ~0ULL;
	uint64_t nsig, ntimers;
	char line[256];
	FILE *f;

	spice_image_table(img, SPICE_SECT_SIGNALS, &nsig);
	spice_image_table(img, SPICE_SECT_POSIX_TIMERS, &ntimers);
	if (!nsig && !ntimers)
		return;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SigQ: %llu/%llu", &used, &limit) == 2)
			break;
	if (f)
		fclose(f);
	if (used + nsig + ntimers > limit)
		say(r,
		    "%llu pending signals and POSIX timers: over RLIMIT_SIGPENDING %llu, of which the user has %llu queued",
		    (unsigned long long)(nsig + ntimers), limit, used);
}

/* CAP_WAKE_ALARM for the timers and timerfds on an alarm clock. */
static void check_alarm_clocks(const struct spice_image *img, struct report *r)
{
	const struct spice_image_posix_timer *t;
	const struct spice_image_timerfd *tfd;
	uint64_t i, nr;

	if (has_cap(CAP_WAKE_ALARM))
		return;
	t = spice_image_table(img, SPICE_SECT_POSIX_TIMERS, &nr);
	for (i = 0; i < nr; i++)
		if (t[i].clock == CLOCK_REALTIME_ALARM || t[i].clock == CLOCK_BOOTTIME_ALARM)
			say(r, "POSIX timer %d: an alarm clock (%d) needs CAP_WAKE_ALARM",
			    t[i].id, t[i].clock);
	tfd = spice_image_table(img, SPICE_SECT_TIMERFDS, &nr);
	for (i = 0; i < nr; i++)
		if (tfd[i].clock == CLOCK_REALTIME_ALARM ||
		    tfd[i].clock == CLOCK_BOOTTIME_ALARM)
			say(r, "fd %d: a timerfd on an alarm clock (%d) needs CAP_WAKE_ALARM",
			    tfd[i].fd, tfd[i].clock);
}

/*
 * Files made anew: each as the launcher could make it, under its
 * RLIMIT_FSIZE, and executable only where vm.memfd_noexec allows.
 */
static void check_made_files(const struct spice_image *img, struct report *r)
{
	const struct spice_image_made_file *m;
	const struct spice_image_file *f;
	long noexec = read_long("/proc/sys/vm/memfd_noexec");
	struct rlimit fsize;
	uint64_t i, nr;
	int exec;

	m = spice_image_table(img, SPICE_SECT_MADE_FILES, &nr);
	f = spice_image_table(img, SPICE_SECT_FILES, NULL);
	for (i = 0; i < nr; i++) {
		const struct spice_image_file *fi = &f[m[i].file];

		if (!getrlimit(RLIMIT_FSIZE, &fsize) && fsize.rlim_cur != RLIM_INFINITY &&
		    fi->size > fsize.rlim_cur)
			say(r, "file %.*s: %llu bytes, over the launcher's RLIMIT_FSIZE (%llu)",
			    (int)fi->path.len, (const char *)spice_image_blob(img, fi->path),
			    (unsigned long long)fi->size,
			    (unsigned long long)fsize.rlim_cur);
		/* A memfd is made executable unless it was sealed not to be. */
		exec = m[i].kind == SPICE_MADE_MEMFD ?
		       !((m[i].seals & F_SEAL_EXEC) && !(fi->mode & 0111)) :
		       !!(fi->mode & 0111);
		if (exec && noexec >= 2)
			say(r, "file %.*s: executable, which vm.memfd_noexec=%ld forbids",
			    (int)fi->path.len, (const char *)spice_image_blob(img, fi->path),
			    noexec);
	}
}

int diagnose(const struct spice_image *img, const struct restore_process_fd *map,
	     unsigned int nr_map, unsigned int what, const char *prefix)
{
	struct report r = { prefix, !!(what & DIAGNOSE_ALL), 0 };

	/* In the order restore_process() checks them. */
	if (what & DIAGNOSE_TIDS)
		check_tids(img, &r);
	check_rlimits(img, &r);
	check_memory(img, &r);
	check_sigpending(img, &r);
	check_alarm_clocks(img, &r);
	check_made_files(img, &r);
	if (what & DIAGNOSE_FDS)
		check_supplied(img, map, nr_map, &r);
	if (what & DIAGNOSE_SOCKETS)
		check_sockets(img, map, nr_map, &r);
	if (what & DIAGNOSE_FILES) {
		check_files(img, &r);
		check_locks(img, map, nr_map, &r);
	}
	return r.found;
}
