// SPDX-License-Identifier: GPL-2.0
/* spice inspect and spice verify: what an image holds, and whether it is
 * sound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spice/image.h>

#include "commands.h"
#include "diagnose.h"
#include "sockets.h"

const char usage_inspect[] =
	"usage: spice inspect IMAGE [--json] [--vmas] [--threads] [--fds] [--limits]\n"
	"\n"
	"Describe an image: header, process (its prctl() flags and oom_score_adj),\n"
	"threads, files, fds, mappings and where its pages come from (stored, zero,\n"
	"backing file, working set).\n"
	"  --json      print one JSON object (with the resource limits)\n"
	"  --vmas      list every mapping, with its flags (locked, dontfork, ...)\n"
	"  --threads   list every thread's main registers and state, timer slack\n"
	"              and parent-death signal\n"
	"  --fds       list every fd, its file locks, and what each epoll fd watches\n"
	"  --limits    list every resource limit, soft and hard\n";

const char usage_verify[] =
	"usage: spice verify IMAGE [--files]\n"
	"\n"
	"Make every check restore_process() makes on IMAGE and print the first\n"
	"problem found, or \"IMAGE: ok\".  Exits 1 if the image is unsound.\n"
	"  --files  also check that every file it references is still the one\n"
	"           dumped (type, size, modification time, inode generation,\n"
	"           contents when the image has their SHA-256)\n";

struct page_counts {
	uint64_t total, image, zero, file, special, ws, ws_write;
};

static void count_vma(const struct spice_image *img,
		      const struct spice_image_vma *v, struct page_counts *c)
{
	const struct mmap_restore_interval *iv;
	uint64_t covered = 0, pages, i;

	pages = (v->end - v->start) / 4096;
	c->total += pages;
	if (v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)) {
		c->special += pages;
		return;
	}
	iv = spice_image_table(img, SPICE_SECT_INTERVALS, NULL);
	for (i = v->first_interval; i < v->first_interval + v->nr_intervals; i++) {
		uint64_t n = iv[i].len / 4096;

		covered += n;
		if (iv[i].source == MMAP_RESTORE_SRC_IMAGE)
			c->image += n;
		else if (iv[i].source == MMAP_RESTORE_SRC_ZERO)
			c->zero += n;
		else
			c->file += n;
	}
	if (v->file == SPICE_IMAGE_NONE)
		c->zero += pages - covered;
	else
		c->file += pages - covered;
}

static const char *file_path(const struct spice_image *img, uint32_t idx,
			     char *buf, size_t len)
{
	const struct spice_image_file *f;

	buf[0] = '\0';
	if (idx == SPICE_IMAGE_NONE)
		return buf;
	f = spice_image_table(img, SPICE_SECT_FILES, NULL);
	snprintf(buf, len, "%.*s", (int)f[idx].path.len,
		 (const char *)spice_image_blob(img, f[idx].path));
	return buf;
}

static const char *vma_kind(const struct spice_image_vma *v)
{
	if (v->flags & SPICE_VMA_HEAP)
		return "[heap]";
	if (v->flags & SPICE_VMA_STACK)
		return "[stack]";
	if (v->flags & SPICE_VMA_VDSO)
		return "[vdso]";
	if (v->flags & SPICE_VMA_VVAR)
		return "[vvar]";
	return "";
}

/* Each VMA flag by name; in the text listing, those no other column shows. */
static const struct {
	uint32_t flag;
	const char *name;
} vma_flags[] = {
	{ SPICE_VMA_SHARED, "shared" },
	{ SPICE_VMA_GROWSDOWN, "growsdown" },
	{ SPICE_VMA_NORESERVE, "noreserve" },
	{ SPICE_VMA_LOCKED, "locked" },
	{ SPICE_VMA_LOCKONFAULT, "lockonfault" },
	{ SPICE_VMA_DONTFORK, "dontfork" },
	{ SPICE_VMA_WIPEONFORK, "wipeonfork" },
	{ SPICE_VMA_DONTDUMP, "dontdump" },
	{ SPICE_VMA_HUGEPAGE, "hugepage" },
	{ SPICE_VMA_NOHUGEPAGE, "nohugepage" },
	{ SPICE_VMA_SEQUENTIAL, "sequential" },
	{ SPICE_VMA_RANDOM, "random" },
	{ SPICE_VMA_HEAP, "heap" },
	{ SPICE_VMA_STACK, "stack" },
	{ SPICE_VMA_VDSO, "vdso" },
	{ SPICE_VMA_VVAR, "vvar" },
	{ SPICE_VMA_MAYWRITE, "maywrite" },
};

#define VMA_FLAGS_SHOWN (SPICE_VMA_SHARED | SPICE_VMA_HEAP | SPICE_VMA_STACK | \
			 SPICE_VMA_VDSO | SPICE_VMA_VVAR)

/* The names of @flags: a JSON array, or comma-separated ("-" for none). */
static void print_vma_flags(uint32_t flags, int json)
{
	const char *sep = "";
	size_t i;

	if (!json)
		flags &= ~VMA_FLAGS_SHOWN;
	printf("%s", json ? "[" : flags ? "" : "-");
	for (i = 0; i < ARRAY_SIZE(vma_flags); i++) {
		if (!(flags & vma_flags[i].flag))
			continue;
		if (json)
			printf("%s\"%s\"", sep, vma_flags[i].name);
		else
			printf("%s%s", sep, vma_flags[i].name);
		sep = ",";
	}
	if (json)
		printf("]");
}

static void print_vmas(const struct spice_image *img, int json)
{
	const struct spice_image_vma *v;
	char path[4200];
	uint64_t nr, i;

	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	if (json)
		printf(",\"vma_list\":[");
	for (i = 0; i < nr; i++) {
		struct page_counts c = { 0 };

		count_vma(img, &v[i], &c);
		file_path(img, v[i].file, path, sizeof(path));
		if (json) {
			printf("%s{\"start\":%llu,\"end\":%llu,\"prot\":%u,\"flags\":%u,",
			       i ? "," : "", (unsigned long long)v[i].start,
			       (unsigned long long)v[i].end, v[i].prot, v[i].flags);
			printf("\"flag_names\":");
			print_vma_flags(v[i].flags, 1);
			printf(",");
			printf("\"file\":\"%s\",\"pgoff\":%llu,\"intervals\":%u,",
			       path, (unsigned long long)v[i].pgoff, v[i].nr_intervals);
			printf("\"image_pages\":%llu,\"zero_pages\":%llu,\"file_pages\":%llu}",
			       (unsigned long long)c.image, (unsigned long long)c.zero,
			       (unsigned long long)c.file);
			continue;
		}
		printf("  %012llx-%012llx %c%c%c%c %8llu image %8llu zero %8llu file  ",
		       (unsigned long long)v[i].start, (unsigned long long)v[i].end,
		       v[i].prot & PROT_READ ? 'r' : '-',
		       v[i].prot & PROT_WRITE ? 'w' : '-',
		       v[i].prot & PROT_EXEC ? 'x' : '-',
		       v[i].flags & SPICE_VMA_SHARED ? 's' : 'p',
		       (unsigned long long)c.image, (unsigned long long)c.zero,
		       (unsigned long long)c.file);
		print_vma_flags(v[i].flags, 0);
		printf("  %s%s\n", vma_kind(&v[i]), path);
	}
	if (json)
		printf("]");
}

static const char *sched_policy_name(uint32_t policy)
{
	static const char *const names[] = {
		[SCHED_OTHER] = "other", [SCHED_FIFO] = "fifo", [SCHED_RR] = "rr",
		[SCHED_BATCH] = "batch", [SCHED_IDLE] = "idle",
	};

	return policy < ARRAY_SIZE(names) && names[policy] ? names[policy] : "?";
}

/* struct user_regs_struct: rip is word 16, rsp word 19, orig_rax word 15. */
static void print_threads(const struct spice_image *img)
{
	const struct spice_image_thread *t;
	uint64_t nr, i;

	t = spice_image_table(img, SPICE_SECT_THREADS, &nr);
	for (i = 0; i < nr; i++) {
		printf("  thread %d: rip %#llx rsp %#llx orig_rax %lld sigmask %#llx",
		       t[i].tid, (unsigned long long)t[i].regs[16],
		       (unsigned long long)t[i].regs[19],
		       (long long)t[i].regs[15],
		       (unsigned long long)t[i].sigmask);
		printf(" altstack %#llx+%llu rseq %#llx robust %#llx",
		       (unsigned long long)t[i].ss_sp,
		       (unsigned long long)t[i].ss_size,
		       (unsigned long long)t[i].rseq,
		       (unsigned long long)t[i].robust_list);
		printf(" tid_address %#llx xstate %u bytes",
		       (unsigned long long)t[i].clear_child_tid, t[i].xstate.len);
		/* A zero slack is restored as the new thread's default. */
		if (t[i].timer_slack_ns)
			printf(" timer_slack %llu ns",
			       (unsigned long long)t[i].timer_slack_ns);
		else
			printf(" timer_slack default");
		printf(" pdeath_signal %u", t[i].pdeath_signal);
		printf(" sched %s%s priority %u nice %d\n",
		       sched_policy_name(t[i].sched_policy & ~SCHED_RESET_ON_FORK),
		       t[i].sched_policy & SCHED_RESET_ON_FORK ? "|reset_on_fork" : "",
		       t[i].sched_priority, t[i].nice);
	}
}

/*
 * The file locks held through fd @fd; @next walks the locks, sorted by fd
 * as the fds are.
 */
static void print_locks(const struct spice_image *img, int32_t fd,
			uint64_t *next)
{
	static const char *const kind[] = {
		[SPICE_LOCK_FLOCK] = "flock", [SPICE_LOCK_POSIX] = "POSIX",
		[SPICE_LOCK_OFD] = "OFD",
	};
	const struct spice_image_lock *l;
	uint64_t nr, i;

	l = spice_image_table(img, SPICE_SECT_LOCKS, &nr);
	for (i = *next; i < nr && l[i].fd <= fd; i++) {
		*next = i + 1;
		if (l[i].fd != fd)
			continue;
		printf("    %s %s lock", kind[l[i].kind],
		       l[i].type == SPICE_LOCK_WRITE ? "write" : "read");
		if (l[i].kind != SPICE_LOCK_FLOCK && l[i].end == SPICE_LOCK_EOF)
			printf(" from byte %llu on", (unsigned long long)l[i].start);
		else if (l[i].kind != SPICE_LOCK_FLOCK)
			printf(" on bytes %llu-%llu", (unsigned long long)l[i].start,
			       (unsigned long long)l[i].end);
		printf("\n");
	}
}

/* The timer of timerfd @fd; @next walks the timers, sorted by fd. */
static void print_timerfd(const struct spice_image *img, int32_t fd,
			  uint64_t *next)
{
	const struct spice_image_timerfd *t;
	uint64_t nr, i;

	t = spice_image_table(img, SPICE_SECT_TIMERFDS, &nr);
	for (i = *next; i < nr && t[i].fd <= fd; i++) {
		*next = i + 1;
		if (t[i].fd != fd)
			continue;
		printf(" clock %d%s%s, %.6f s left, interval %.6f s, %llu unread",
		       t[i].clock, t[i].flags & SPICE_TIMERFD_ABSTIME ? " abstime" : "",
		       t[i].flags & SPICE_TIMERFD_CANCEL_ON_SET ? " cancel-on-set" : "",
		       t[i].value_ns / 1e9, t[i].interval_ns / 1e9,
		       (unsigned long long)t[i].ticks);
	}
}

/* How socket @fd is made again; @next walks the sockets, sorted by fd. */
static void print_socket(const struct spice_image *img, int32_t fd,
			 uint64_t *next)
{
	static const char *const state[] = {
		[SPICE_SOCKET_UNBOUND] = "unbound", [SPICE_SOCKET_BOUND] = "bound",
		[SPICE_SOCKET_LISTENING] = "listening", [SPICE_SOCKET_RESET] = "reset",
	};
	static const char *const opt[] = {
		"reuseaddr", "reuseport", "keepalive", "broadcast", "oobinline",
		"passcred", "linger", "nodelay", "v6only", "freebind",
	};
	const struct spice_image_socket *s;
	char desc[160];
	uint64_t nr, i;
	unsigned int b;

	s = spice_image_table(img, SPICE_SECT_SOCKETS, &nr);
	for (i = *next; i < nr && s[i].fd <= fd; i++) {
		*next = i + 1;
		if (s[i].fd != fd)
			continue;
		printf(" %s %s", socket_describe(&s[i], desc, sizeof(desc)),
		       state[s[i].state]);
		if (s[i].state == SPICE_SOCKET_LISTENING)
			printf(" backlog %u", s[i].backlog);
		for (b = 0; b < ARRAY_SIZE(opt); b++)
			if (s[i].options & (1U << b))
				printf(" %s", opt[b]);
		if (s[i].bind_dev[0])
			printf(" dev %.16s", s[i].bind_dev);
	}
}

static void print_fds(const struct spice_image *img)
{
	static const char *const type[] = {
		[SPICE_FD_FILE] = "file", [SPICE_FD_SUPPLIED] = "supplied",
		[SPICE_FD_EVENTFD] = "eventfd", [SPICE_FD_EPOLL] = "epoll",
		[SPICE_FD_PIPE] = "pipe", [SPICE_FD_SOCKETPAIR] = "socketpair",
		[SPICE_FD_SIGNALFD] = "signalfd", [SPICE_FD_TIMERFD] = "timerfd",
		[SPICE_FD_PIDFD] = "pidfd", [SPICE_FD_SOCKET] = "socket",
	};
	const struct spice_image_epoll_watch *w;
	const struct spice_image_fd *d;
	uint64_t nr, nw, i, k, next_lock = 0, next_timerfd = 0, next_socket = 0;
	char path[4200];

	d = spice_image_table(img, SPICE_SECT_FDS, &nr);
	w = spice_image_table(img, SPICE_SECT_EPOLL, &nw);
	for (i = 0; i < nr; i++) {
		printf("  fd %d: %s flags %#o%s", d[i].fd, type[d[i].type],
		       d[i].open_flags, d[i].fd_flags ? " cloexec" : "");
		if (d[i].type == SPICE_FD_FILE) {
			file_path(img, d[i].file, path, sizeof(path));
			printf(" %s pos %llu", path, (unsigned long long)d[i].pos);
		} else if (d[i].type == SPICE_FD_EVENTFD) {
			printf(" count %llu%s", (unsigned long long)d[i].pos,
			       d[i].type_flags & SPICE_EVENTFD_SEMAPHORE ?
			       " semaphore" : "");
		} else if (d[i].type == SPICE_FD_SIGNALFD) {
			printf(" mask %#llx", (unsigned long long)d[i].pos);
		} else if (d[i].type == SPICE_FD_PIDFD) {
			if (d[i].open_flags & O_EXCL)
				printf(" of thread %u", d[i].object);
			else
				printf(" of the process");
		} else if (d[i].type == SPICE_FD_TIMERFD) {
			print_timerfd(img, d[i].fd, &next_timerfd);
		} else if (d[i].type == SPICE_FD_SOCKET) {
			print_socket(img, d[i].fd, &next_socket);
		} else if (d[i].type == SPICE_FD_PIPE) {
			printf(" %s end of pipe %u", d[i].type_flags &
			       SPICE_FD_SECOND_END ? "write" : "read", d[i].object);
		} else if (d[i].type == SPICE_FD_SOCKETPAIR) {
			printf(" %s of pair %u",
			       d[i].type_flags & SPICE_FD_SECOND_END ? "second" : "first",
			       d[i].object);
		}
		printf("\n");
		print_locks(img, d[i].fd, &next_lock);
		for (k = 0; k < nw; k++)
			if (w[k].epfd == d[i].fd)
				printf("    watches fd %d: events %#x data %#llx\n",
				       w[k].tfd, w[k].events,
				       (unsigned long long)w[k].data);
	}
}

static int open_image(const char *cmd, const char *path,
		      struct spice_image **img)
{
	char why[SPICE_IMAGE_WHY_LEN];
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "spice %s: %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	err = spice_image_open(fd, img, why);
	close(fd);
	if (err) {
		fprintf(stderr, "spice %s: %s: %s (%s)\n", cmd, path,
			why[0] ? why : "cannot read", strerror(-err));
		return -1;
	}
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	const struct spice_image_process *p;
	const struct spice_image_header *h;
	const struct mmap_restore_ws_range *ws;
	const struct spice_image_vma *v;
	struct page_counts c = { 0 };
	const char *path = NULL;
	struct spice_image *img;
	uint64_t nr, nthreads, nfiles, nfds, nws, i, hashed = 0, made = 0;
	const struct spice_image_file *f;
	int json = 0, vmas = 0, threads = 0, fds = 0, limits = 0;
	char exe[4200];

	for (i = 1; i < (uint64_t)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--vmas"))
			vmas = 1;
		else if (!strcmp(argv[i], "--threads"))
			threads = 1;
		else if (!strcmp(argv[i], "--fds"))
			fds = 1;
		else if (!strcmp(argv[i], "--limits"))
			limits = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			return fprintf(stderr, "spice inspect: bad argument %s\n%s",
				       argv[i], usage_inspect), EXIT_USAGE;
	}
	if (!path)
		return fputs(usage_inspect, stderr), EXIT_USAGE;
	if (open_image("inspect", path, &img))
		return 1;
	h = spice_image_header(img);
	p = spice_image_process(img);
	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	for (i = 0; i < nr; i++)
		count_vma(img, &v[i], &c);
	ws = spice_image_table(img, SPICE_SECT_WS, &nws);
	for (i = 0; i < nws; i++) {
		c.ws += ws[i].nr_pages;
		if (ws[i].flags & MMAP_RESTORE_WS_WRITE)
			c.ws_write += ws[i].nr_pages;
	}
	spice_image_table(img, SPICE_SECT_THREADS, &nthreads);
	f = spice_image_table(img, SPICE_SECT_FILES, &nfiles);
	for (i = 0; i < nfiles; i++) {
		hashed += !!(f[i].flags & SPICE_FILE_HAS_SHA256);
		made += !!(f[i].flags & SPICE_FILE_MADE);
	}
	spice_image_table(img, SPICE_SECT_FDS, &nfds);
	file_path(img, p->exe_file, exe, sizeof(exe));
	if (json) {
		printf("{\"version\":%u,\"metadata_bytes\":%llu,\"data_bytes\":%llu,",
		       h->version, (unsigned long long)h->metadata_size,
		       (unsigned long long)h->data_size);
		printf("\"ws_data_bytes\":%llu,\"comm\":\"%s\",\"pid\":%d,\"exe\":\"%s\",",
		       (unsigned long long)h->ws_data_size, p->comm, p->pid, exe);
		printf("\"threads\":%llu,\"vmas\":%llu,\"files\":%llu,\"fds\":%llu,",
		       (unsigned long long)nthreads, (unsigned long long)nr,
		       (unsigned long long)nfiles, (unsigned long long)nfds);
		printf("\"files_hashed\":%llu,\"files_made\":%llu,",
		       (unsigned long long)hashed, (unsigned long long)made);
		print_proc_settings(img, 1);
		printf("\"pages\":{\"total\":%llu,\"image\":%llu,\"stored\":%llu,",
		       (unsigned long long)c.total, (unsigned long long)c.image,
		       (unsigned long long)(h->data_size / 4096));
		printf("\"zero\":%llu,\"file\":%llu,\"special\":%llu,",
		       (unsigned long long)c.zero, (unsigned long long)c.file,
		       (unsigned long long)c.special);
		printf("\"ws\":%llu,\"ws_written\":%llu},", (unsigned long long)c.ws,
		       (unsigned long long)c.ws_write);
		print_itimers(img, 1);
		print_signals(img, 1);
		print_posix_timers(img, 1);
		print_rlimits(img, 1);
		if (vmas)
			print_vmas(img, 1);
		printf("}\n");
	} else {
		printf("%s: Spice image version %u, ", path, h->version);
		printf("%llu bytes of metadata, %llu of data (working set first: %llu)\n",
		       (unsigned long long)h->metadata_size,
		       (unsigned long long)h->data_size,
		       (unsigned long long)h->ws_data_size);
		printf("process %d \"%s\" %s: %llu threads, %llu mappings, ",
		       p->pid, p->comm, exe, (unsigned long long)nthreads,
		       (unsigned long long)nr);
		printf("%llu files (%llu with SHA-256, %llu made anew), %llu fds\n",
		       (unsigned long long)nfiles, (unsigned long long)hashed,
		       (unsigned long long)made, (unsigned long long)nfds);
		print_proc_settings(img, 0);
		print_itimers(img, 0);
		print_signals(img, 0);
		print_posix_timers(img, 0);
		printf("pages: %llu mapped = %llu image (%llu stored) + ",
		       (unsigned long long)c.total, (unsigned long long)c.image,
		       (unsigned long long)(h->data_size / 4096));
		printf("%llu zero + %llu file + %llu vdso/vvar\n",
		       (unsigned long long)c.zero, (unsigned long long)c.file,
		       (unsigned long long)c.special);
		printf("working set: %llu pages in %llu ranges, %llu written\n",
		       (unsigned long long)c.ws, (unsigned long long)nws,
		       (unsigned long long)c.ws_write);
		if (threads)
			print_threads(img);
		if (fds)
			print_fds(img);
		if (limits)
			print_rlimits(img, 0);
		if (vmas)
			print_vmas(img, 0);
	}
	spice_image_free(img);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	unsigned int what = DIAGNOSE_ALL | DIAGNOSE_TIDS | DIAGNOSE_SOCKETS;
	const struct spice_image_fd *d;
	const char *path = NULL;
	struct spice_image *img;
	char prefix[4200];
	uint64_t nr, i;
	int bad;

	for (i = 1; i < (uint64_t)argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "--files"))
			what |= DIAGNOSE_FILES;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			return fprintf(stderr, "spice verify: bad argument %s\n%s",
				       argv[i], usage_verify), EXIT_USAGE;
	}
	if (!path)
		return fputs(usage_verify, stderr), EXIT_USAGE;
	if (open_image("verify", path, &img))
		return 1;
	snprintf(prefix, sizeof(prefix), "spice verify: %s: ", path);
	bad = diagnose(img, NULL, 0, what, prefix);
	/* What a restore will need from its launcher. */
	d = spice_image_table(img, SPICE_SECT_FDS, &nr);
	for (i = 0; i < nr; i++)
		if (d[i].type == SPICE_FD_SUPPLIED && !d[i].shares)
			printf("%s: fd %d: to be supplied by the launcher (--fd %d=N)\n",
			       path, d[i].fd, d[i].fd);
	spice_image_free(img);
	if (!bad)
		printf("%s: ok\n", path);
	return !!bad;
}
