// SPDX-License-Identifier: GPL-2.0
/*
 * spice inspect: what the process set about itself with prctl(),
 * setrlimit() and setitimer(): its process flags, oom_score_adj, resource
 * limits, interval timers and POSIX timers; and the signals pending for it.
 */
#include <stdio.h>
#include <string.h>

#include <spice/image.h>

#include "commands.h"

/* SPICE_PROC_* by bit, as prctl(2) names what each records. */
static const char *const proc_flag_names[] = {
	"undumpable", "no_new_privs", "child_subreaper", "thp_disable",
	"mdwe_refuse_exec_gain", "mdwe_no_inherit",
};

/* Resources in the order of the image's table (RLIMIT_CPU = 0 ...). */
static const char *const rlimit_names[SPICE_IMAGE_NR_RLIMITS] = {
	"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
	"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO",
	"RTTIME",
};

/* RLIM_INFINITY, as the image and prlimit(2) write it. */
#define SPICE_RLIM_INFINITY (~0ULL)

void print_proc_settings(const struct spice_image *img, int json)
{
	const struct spice_image_process *p = spice_image_process(img);
	uint64_t nr;
	size_t i;
	int n = 0;

	spice_image_table(img, SPICE_SECT_RLIMITS, &nr);
	if (json) {
		printf("\"oom_score_adj\":%d,\"process_flags\":[", p->oom_score_adj);
		for (i = 0; i < ARRAY_SIZE(proc_flag_names); i++)
			if (p->flags & (1U << i))
				printf("%s\"%s\"", n++ ? "," : "", proc_flag_names[i]);
		printf("],");
		return;
	}
	printf("flags:");
	for (i = 0; i < ARRAY_SIZE(proc_flag_names); i++) {
		if (p->flags & (1U << i)) {
			printf(" %s", proc_flag_names[i]);
			n++;
		}
	}
	printf("%s; oom_score_adj %d; resource limits: %s\n", n ? "" : " none",
	       p->oom_score_adj, nr ? "recorded" : "none (the launcher's are kept)");
}

/* A limit as text, or in JSON: a number, or "unlimited" as prlimit(1) says. */
static const char *limit_str(uint64_t v, int json, char *buf, size_t len)
{
	if (v == SPICE_RLIM_INFINITY)
		return json ? "\"unlimited\"" : "unlimited";
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

void print_rlimits(const struct spice_image *img, int json)
{
	const struct spice_image_rlimit *lim;
	char soft[24], hard[24];
	uint64_t nr, i;

	lim = spice_image_table(img, SPICE_SECT_RLIMITS, &nr);
	if (json) {
		printf("\"rlimits\":%s", nr ? "{" : "null");
		for (i = 0; i < nr; i++)
			printf("%s\"%s\":{\"soft\":%s,\"hard\":%s}", i ? "," : "",
			       rlimit_names[i],
			       limit_str(lim[i].cur, 1, soft, sizeof(soft)),
			       limit_str(lim[i].max, 1, hard, sizeof(hard)));
		printf("%s", nr ? "}" : "");
		return;
	}
	if (!nr)
		printf("  rlimits: none recorded, the launcher's are kept\n");
	for (i = 0; i < nr; i++)
		printf("  rlimit %-10s soft %-20s hard %s\n", rlimit_names[i],
		       limit_str(lim[i].cur, 0, soft, sizeof(soft)),
		       limit_str(lim[i].max, 0, hard, sizeof(hard)));
}

/* The armed interval timers: the time left and the interval. */
void print_itimers(const struct spice_image *img, int json)
{
	static const char *const names[SPICE_IMAGE_NR_ITIMERS] = {
		"real", "virtual", "prof",
	};
	const struct spice_image_itimer *it;
	uint64_t nr, i;

	it = spice_image_table(img, SPICE_SECT_ITIMERS, &nr);
	if (json) {
		printf("\"itimers\":%s", nr ? "{" : "null");
		for (i = 0; i < nr; i++)
			printf("%s\"%s\":{\"value_ns\":%llu,\"interval_ns\":%llu}",
			       i ? "," : "", names[i],
			       (unsigned long long)it[i].value_ns,
			       (unsigned long long)it[i].interval_ns);
		printf("%s,", nr ? "}" : "");
		return;
	}
	for (i = 0; i < nr; i++)
		if (it[i].value_ns)
			printf("interval timer ITIMER_%s: %.6f s left, interval %.6f s\n",
			       i == 0 ? "REAL" : i == 1 ? "VIRTUAL" : "PROF",
			       it[i].value_ns / 1e9, it[i].interval_ns / 1e9);
}

/* The pending signals: their numbers and codes, the thread's or the process's. */
void print_signals(const struct spice_image *img, int json)
{
	const struct spice_image_signal *s;
	int32_t info[3];
	uint64_t nr, i;

	s = spice_image_table(img, SPICE_SECT_SIGNALS, &nr);
	if (json)
		printf("\"signals\":[");
	for (i = 0; i < nr; i++) {
		memcpy(info, s[i].info, sizeof(info));	/* signo, errno, code */
		if (json && s[i].thread == SPICE_IMAGE_NONE)
			printf("%s{\"thread\":null,\"signo\":%d,\"code\":%d}",
			       i ? "," : "", info[0], info[2]);
		else if (json)
			printf("%s{\"thread\":%u,\"signo\":%d,\"code\":%d}",
			       i ? "," : "", s[i].thread, info[0], info[2]);
		else if (s[i].thread == SPICE_IMAGE_NONE)
			printf("pending signal %d (code %d) for the process\n",
			       info[0], info[2]);
		else
			printf("pending signal %d (code %d) for thread %u\n",
			       info[0], info[2], s[i].thread);
	}
	if (json)
		printf("],");
}

/* The POSIX timers: id, clock, whom they signal, time left and interval. */
void print_posix_timers(const struct spice_image *img, int json)
{
	const struct spice_image_posix_timer *t;
	uint64_t nr, i;

	t = spice_image_table(img, SPICE_SECT_POSIX_TIMERS, &nr);
	if (json)
		printf("\"posix_timers\":[");
	for (i = 0; i < nr; i++, t++) {
		if (json) {
			printf("%s{\"id\":%d,\"clock\":%d,\"notify\":%d,\"signo\":%d,",
			       i ? "," : "", t->id, t->clock, t->notify, t->signo);
			if (t->thread == SPICE_IMAGE_NONE)
				printf("\"thread\":null,");
			else
				printf("\"thread\":%u,", t->thread);
			printf("\"value_ns\":%llu,\"interval_ns\":%llu}",
			       (unsigned long long)t->value_ns,
			       (unsigned long long)t->interval_ns);
			continue;
		}
		printf("POSIX timer %d: clock %d, notify %d, signal %d", t->id,
		       t->clock, t->notify, t->signo);
		if (t->thread != SPICE_IMAGE_NONE)
			printf(" to thread %u", t->thread);
		printf(", %.6f s left, interval %.6f s\n", t->value_ns / 1e9,
		       t->interval_ns / 1e9);
	}
	if (json)
		printf("],");
}
