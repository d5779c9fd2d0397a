/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process as /proc shows it, field by field, to compare a dumped
 * process with the one restored from it: status (of the process and of
 * each thread), stat, limits, timers, each mapping with its smaps fields,
 * and each fd with its target and fdinfo.  Every field is kept, but those
 * a restore cannot or need not keep, each named below with why; a field
 * /proc gains later is compared until it is named here.  The process's
 * own pid (the caller's once restored) reads "P" where a field names it.
 */
#ifndef SPICE_PROC_VIEWS_H
#define SPICE_PROC_VIEWS_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VIEW_MAX	(256 << 10)

struct view {
	char *out;
	size_t len, used;
	pid_t pid;	/* the process viewed */
	bool bad;	/* a file unreadable, or the view cut short */
};

/* status fields that differ by nature, not by loss. */
static const char *const status_skipped[] = {
	/* The ids are the caller's (threads keep theirs: compared per task). */
	"Tgid", "Pid", "PPid", "TracerPid", "NStgid", "NSpid", "NSpgid",
	"NSsid", "Ngid",
	/* Scheduling and usage: what the process did, not what it holds. */
	"State", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
	/* Residency: which pages are in memory, and high-water marks. */
	"VmPeak", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmPTE",
	"VmSwap",
	/* The fd table's capacity, sized anew for the highest fd. */
	"FDSize",
	/* The user's queued signals, every process of the user's counted. */
	"SigQ",
	NULL,
};

/* stat fields (1-based, as proc(5) numbers them) that differ by nature. */
static const int stat_skipped[] = {
	1,		/* pid: the caller's */
	3, 4, 5, 6, 8,	/* state, ppid, pgrp, session, tpgid: the caller's */
	9,		/* kernel task flags: a restore is an exec */
	10, 11, 12, 13, 14, 15, 16, 17,	/* faults and CPU times: usage */
	22, 24,		/* start time, resident pages */
	39, 42, 43, 44,	/* CPU, block I/O delay and guest times */
	0,
};

/* smaps fields of residency: which pages are in memory, not the mapping. */
static const char *const smaps_skipped[] = {
	"Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
	"Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM",
	"LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
	"Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked",
	NULL,
};

static int view_read(struct view *v, const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n, got = 0;

	while (fd >= 0 && (size_t)got < len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	if (fd >= 0)
		close(fd);
	buf[got] = '\0';
	if (fd < 0 || (size_t)got >= len - 1)
		v->bad = true;
	return fd < 0 ? -1 : got;
}

static bool view_skipped(const char *line, const char *const *skip, char end)
{
	size_t n;

	for (; skip && *skip; skip++) {
		n = strlen(*skip);
		if (!strncmp(line, *skip, n) && (!end || line[n] == end))
			return true;
	}
	return false;
}

/* Append @n bytes of @line, as a line of @what. */
static void view_add(struct view *v, const char *what, const char *line, size_t n)
{
	int got = snprintf(v->out + v->used, v->len - v->used, "%s: %.*s\n",
			   what, (int)n, line);

	if (got < 0 || (size_t)got >= v->len - v->used)
		v->bad = true;
	else
		v->used += got;
}

/* Replace the word at @p, @n bytes, by "P" if it is the process's pid. */
static void view_own_pid(struct view *v, char *p, size_t n)
{
	if (n && (size_t)snprintf(NULL, 0, "%d", v->pid) == n && atoi(p) == v->pid) {
		*p = 'P';
		memmove(p + 1, p + n, strlen(p + n) + 1);
	}
}

/*
 * An fdinfo line as compared: a lock's locker is "P" if it is the
 * process, an epoll watch is without the watched file's inode (a new
 * pipe's).
 */
static void view_fdinfo_line(struct view *v, char *line)
{
	char *p = line, *q;
	int field;

	if (!strncmp(line, "lock:", 5)) {
		/* "lock:\t1: POSIX  ADVISORY  WRITE 1234 00:1f:42 0 EOF" */
		for (field = 0; field < 5 && (p = strpbrk(p, " \t")); field++)
			p += strspn(p, " \t");
		if (p)
			view_own_pid(v, p, strcspn(p, " "));
		return;
	}
	p = strncmp(line, "tfd:", 4) ? NULL : strstr(line, " ino:");
	if (p) {
		q = strchr(p + 1, ' ');
		memmove(p, q ? q : p + strlen(p), strlen(q ? q : "") + 1);
	}
}

/* The lines of file @path, but those @skip names (key before @end). */
static void view_lines(struct view *v, const char *what, const char *path,
		       const char *const *skip, char end)
{
	char *buf = malloc(VIEW_MAX), *line, *nl, *next, *pid;

	if (!buf || view_read(v, path, buf, VIEW_MAX) < 0) {
		v->bad = true;
		free(buf);
		return;
	}
	for (line = buf; *line; line = next) {
		nl = strchrnul(line, '\n');
		next = nl + !!*nl;
		*nl = '\0';
		/* A process-directed timer names the pid. */
		pid = strcmp(what, "timers") ? NULL : strstr(line, "/pid.");
		if (pid)
			view_own_pid(v, pid + 5, strlen(pid + 5));
		if (!view_skipped(line, skip, end))
			view_add(v, what, line, strlen(line));
	}
	free(buf);
}

/* stat: the fields after the command name, but those skipped. */
static void view_stat(struct view *v)
{
	char path[64], buf[1024], *f, *save;
	int i = 3, k;

	snprintf(path, sizeof(path), "/proc/%d/stat", v->pid);
	if (view_read(v, path, buf, sizeof(buf)) < 0 || !strrchr(buf, ')')) {
		v->bad = true;
		return;
	}
	for (f = strtok_r(strrchr(buf, ')') + 1, "\n ", &save); f;
	     f = strtok_r(NULL, "\n ", &save), i++) {
		for (k = 0; stat_skipped[k] && stat_skipped[k] != i; k++)
			;
		if (!stat_skipped[k])
			view_add(v, "stat", f, strlen(f));
	}
}

/*
 * VmFlags, without "ac" on a read-only private mapping: the commit charge
 * of one made read-only after it was writable (RELRO) is not kept, and is
 * taken again if it is made writable (Documentation/spice).
 */
static void view_vmflags(struct view *v, const char *line, size_t n,
			 bool ro_private)
{
	char flags[256], *ac;

	snprintf(flags, sizeof(flags), "%.*s ", (int)n, line);
	ac = ro_private ? strstr(flags, " ac ") : NULL;
	if (ac)
		memmove(ac, ac + 3, strlen(ac + 3) + 1);
	view_add(v, "smaps", flags, strlen(flags));
}

/*
 * Each mapping: its maps line (shared anonymous memory without its
 * device and inode: a new object's) and its smaps fields but residency.
 */
static void view_smaps(struct view *v)
{
	char path[64], *buf = malloc(VIEW_MAX), *line, *nl, *space;
	bool ro_private = false;

	snprintf(path, sizeof(path), "/proc/%d/smaps", v->pid);
	if (!buf || view_read(v, path, buf, VIEW_MAX) < 0) {
		v->bad = true;
		free(buf);
		return;
	}
	for (line = buf; *line; line = nl + !!*nl) {
		nl = strchrnul(line, '\n');
		space = memchr(line, ' ', nl - line);
		if (space && memchr(line, '-', space - line)) {
			/* "start-end perms offset dev inode path" */
			ro_private = space[2] != 'w' && space[4] == 'p';
			if (memmem(line, nl - line, "/dev/zero (deleted)", 19))
				view_add(v, "maps", line, space + 15 - line);
			else
				view_add(v, "maps", line, nl - line);
		} else if (!strncmp(line, "VmFlags:", 8)) {
			view_vmflags(v, line, nl - line, ro_private);
		} else if (!view_skipped(line, smaps_skipped, ':')) {
			view_add(v, "smaps", line, nl - line);
		}
	}
	free(buf);
}

/*
 * An fd's fdinfo: all of it but a new object's inode (of a file, kept),
 * an eventfd's id, and a running timerfd's time left and count.
 */
static void view_fdinfo(struct view *v, const char *what, const char *target,
			const char *path)
{
	char *buf = malloc(VIEW_MAX), *line, *nl, *next;
	bool running;

	if (!buf || view_read(v, path, buf, VIEW_MAX) < 0) {
		v->bad = true;
		free(buf);
		return;
	}
	/* Armed, or periodic (an expired one shows no time left until read). */
	running = strstr(buf, "\nit_value:") &&
		  (!strstr(buf, "\nit_value: (0, 0)") ||
		   !strstr(buf, "\nit_interval: (0, 0)"));
	for (line = buf; *line; line = next) {
		nl = strchrnul(line, '\n');
		next = nl + !!*nl;
		*nl = '\0';
		view_fdinfo_line(v, line);
		if ((!strncmp(line, "ino:", 4) && target[0] != '/') ||
		    !strncmp(line, "eventfd-id:", 11) ||
		    (running && (!strncmp(line, "ticks:", 6) ||
				 !strncmp(line, "it_value:", 9))))
			continue;
		view_add(v, what, line, strlen(line));
	}
	free(buf);
}

/* Each fd: its number, target (a pipe's or socket's inode left out), fdinfo. */
static void view_fds(struct view *v)
{
	char path[64], target[256], what[64], *bracket;
	struct dirent *de;
	DIR *dir;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/fd", v->pid);
	dir = opendir(path);
	if (!dir)
		v->bad = true;
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", v->pid, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		bracket = strchr(target, '[');
		if (bracket && (!strncmp(target, "pipe:", 5) ||
				!strncmp(target, "socket:", 7)))
			bracket[1] = '\0';
		snprintf(what, sizeof(what), "fd %s", de->d_name);
		view_add(v, what, target, strlen(target));
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", v->pid, de->d_name);
		view_fdinfo(v, what, target, path);
	}
	if (dir)
		closedir(dir);
}

/*
 * The view of @pid into @out (@len bytes): fds in fd order, threads in
 * the order they were made (the main thread first, by name: its id is the
 * pid).  Returns 0, or -1 if a file was unreadable or the view cut short.
 */
static int proc_view(pid_t pid, char *out, size_t len)
{
	struct view v = { .out = out, .len = len, .pid = pid };
	char path[64];
	struct dirent *de;
	DIR *dir;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	view_lines(&v, "status", path, status_skipped, ':');
	view_stat(&v);
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	view_lines(&v, "limits", path, NULL, 0);
	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	view_lines(&v, "timers", path, NULL, 0);
	view_smaps(&v);
	view_fds(&v);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, pid);
	view_lines(&v, "main thread", path, status_skipped, ':');
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		v.bad = true;
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, de->d_name);
		view_lines(&v, de->d_name, path, status_skipped, ':');
	}
	if (dir)
		closedir(dir);
	return v.bad ? -1 : 0;
}

/* The first line where @a and @b differ, in @why; 0 if none. */
static int proc_view_diff(const char *a, const char *b, char *why, size_t len)
{
	const char *ea, *eb;

	while (*a || *b) {
		ea = strchrnul(a, '\n');
		eb = strchrnul(b, '\n');
		if (ea - a != eb - b || strncmp(a, b, ea - a)) {
			snprintf(why, len, "\"%.*s\" became \"%.*s\"", (int)(ea - a), a,
				 (int)(eb - b), b);
			return 1;
		}
		a = ea + !!*ea;
		b = eb + !!*eb;
	}
	return 0;
}

#endif /* SPICE_PROC_VIEWS_H */
