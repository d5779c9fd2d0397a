// SPDX-License-Identifier: GPL-2.0
/*
 * spice-bench-populate: how fast each way of getting a snapshot's memory
 * back makes its working set usable, measured side by side in one run.
 *
 * A region of --mib MiB is saved in two images on --dir: a flat one (page i
 * at offset i * 4096, as CRIU stores pages) and a Spice one (the working
 * set first, in first-touch order, then the rest).  Half of the pages form
 * the working set, a quarter of those written.  For each method, access
 * pattern (sequential or random first-touch order) and cache state (cold:
 * page cache dropped before each run; warm: image cached), a fresh child
 * process restores the region and touches the working set once, in order;
 * the time from the start of the restore to the last touch, the page
 * faults taken, and the reads the block device served are recorded.
 *
 * Output: a JSON document on stdout (see print_json()).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <spice/spice.h>

#include "bench_util.h"

#define PS		4096UL
#define MAX_REPS	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct setup {
	const char *dir;
	const char *device;	/* block device name in /sys/block, or "" */
	unsigned long pages;
	int reps;
	char flat_path[256];
	char spice_path[256];
	uint64_t *image_pos;	/* per page: its offset in the Spice image */
	unsigned long *ws;	/* the working set, in first-touch order */
	bool *written;		/* per page */
	unsigned long nws;
	void *at;		/* where the region is restored */
};

struct sample {
	double ms;
	long faults;
	long read_ios;
	long read_kib;
};

struct method {
	const char *name;
	/* Restore the region; return its address or NULL. */
	char *(*restore)(const struct setup *s, bool random);
};

static uint64_t word_of(unsigned long page)
{
	return 0x5ace000000000000ULL | page;
}

static long faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void die(const char *what)
{
	fprintf(stderr, "spice-bench-populate: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* xorshift64*: a fixed sequence, so every run picks the same pages. */
static uint64_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Random half of the pages, a quarter of them written. */
static void pick_working_set(struct setup *s)
{
	unsigned long i;

	s->ws = calloc(s->pages, sizeof(*s->ws));
	s->written = calloc(s->pages, sizeof(*s->written));
	s->image_pos = calloc(s->pages, sizeof(*s->image_pos));
	if (!s->ws || !s->written || !s->image_pos)
		die("calloc");
	for (i = 0; i < s->pages; i++)
		if (rnd() & 1)
			s->ws[s->nws++] = i;
	for (i = 0; i < s->nws; i++)
		s->written[s->ws[i]] = !(rnd() & 3);
}

/* First-touch order: ascending, or a fixed shuffle. */
static void touch_order(const struct setup *s, bool random, unsigned long *order)
{
	unsigned long i, j, t;

	memcpy(order, s->ws, s->nws * sizeof(*order));
	if (!random)
		return;
	for (i = s->nws - 1; i > 0; i--) {
		j = rnd() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

static void write_image(const char *path, const struct setup *s, bool spice,
			const unsigned long *order)
{
	char *page = aligned_alloc(PS, PS);
	bool *placed = calloc(s->pages, 1);
	unsigned long i, n = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !page || !placed)
		die(path);
	memset(page, 0x5a, PS);
	/* Spice layout: the working set first, in touch order, then the rest. */
	for (i = 0; spice && i < s->nws; i++) {
		s->image_pos[order[i]] = n++ * PS;
		placed[order[i]] = true;
	}
	for (i = 0; i < s->pages; i++) {
		if (spice && placed[i])
			continue;
		if (spice)
			s->image_pos[i] = n++ * PS;
	}
	for (i = 0; i < s->pages; i++) {
		*(uint64_t *)page = word_of(i);
		if (pwrite(fd, page, PS, spice ? s->image_pos[i] : i * PS) != (ssize_t)PS)
			die(path);
	}
	fsync(fd);
	close(fd);
	free(placed);
	free(page);
}

/*
 * The methods.  Each opens what it needs itself: opening is part of the
 * cost a launcher pays.
 */

static char *restore_read(const struct setup *s, bool random)
{
	size_t len = s->pages * PS;
	char *p = mmap(s->at, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	int fd = open(s->flat_path, O_RDONLY);

	(void)random;
	if (p == MAP_FAILED || fd < 0 || pread(fd, p, len, 0) != (ssize_t)len)
		return NULL;
	close(fd);
	return p;
}

static char *map_private(const struct setup *s, int extra_flags)
{
	int fd = open(s->flat_path, O_RDONLY);
	char *p;

	if (fd < 0)
		return NULL;
	p = mmap(s->at, s->pages * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | extra_flags, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static char *restore_mmap_touch(const struct setup *s, bool random)
{
	(void)random;
	return map_private(s, 0);
}

static char *restore_map_populate(const struct setup *s, bool random)
{
	(void)random;
	return map_private(s, MAP_POPULATE);
}

static char *restore_willneed(const struct setup *s, bool random)
{
	char *p = map_private(s, 0);

	(void)random;
	if (p && madvise(p, s->pages * PS, MADV_WILLNEED))
		return NULL;
	return p;
}

static char *restore_populate_write(const struct setup *s, bool random)
{
	char *p = map_private(s, 0);

	(void)random;
	if (p && madvise(p, s->pages * PS, MADV_POPULATE_WRITE))
		return NULL;
	return p;
}

/* Eager UFFDIO_COPY of the whole image, 64 pages per copy. */
static char *restore_uffd_copy(const struct setup *s, bool random)
{
	const size_t chunk = 64 * PS;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	size_t len = s->pages * PS, off;
	char *p, *buf = aligned_alloc(PS, chunk);
	int uffd, fd;

	(void)random;
	p = mmap(s->at, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	fd = open(s->flat_path, O_RDONLY);
	if (p == MAP_FAILED || uffd < 0 || fd < 0 || !buf ||
	    ioctl(uffd, UFFDIO_API, &api))
		return NULL;
	reg.range.start = (uintptr_t)p;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return NULL;
	for (off = 0; off < len; off += chunk) {
		struct uffdio_copy copy = {
			.dst = (uintptr_t)p + off,
			.src = (uintptr_t)buf,
			.len = chunk,
		};

		if (pread(fd, buf, chunk, off) != (ssize_t)chunk ||
		    ioctl(uffd, UFFDIO_COPY, &copy))
			return NULL;
	}
	close(fd);
	free(buf);
	return p;
}

/*
 * mmap_restore(): the tables come from the image's metadata in real use,
 * so they are built before the clock starts (see bench_one()).  By default
 * the pages outside the working set are left for first touch, which this
 * benchmark never makes; MMAP_RESTORE_EAGER reads them too.
 */
static struct restore_tables {
	struct mmap_restore_region region;
	struct mmap_restore_interval *iv;
	struct mmap_restore_ws_range *ws;
	struct mmap_restore_args args;
} tables;

static void build_tables(const struct setup *s, const unsigned long *order)
{
	unsigned long i, n = 0;

	free(tables.iv);
	free(tables.ws);
	tables.iv = calloc(s->pages, sizeof(*tables.iv));
	tables.ws = calloc(s->nws, sizeof(*tables.ws));
	if (!tables.iv || !tables.ws)
		die("calloc");
	for (i = 0; i < s->pages; i++) {
		struct mmap_restore_interval *last = n ? &tables.iv[n - 1] : NULL;
		uint64_t addr = (uintptr_t)s->at + i * PS;

		if (last && last->addr + last->len == addr &&
		    last->offset + last->len == s->image_pos[i]) {
			last->len += PS;
			continue;
		}
		tables.iv[n++] = (struct mmap_restore_interval) {
			.addr = addr, .len = PS, .offset = s->image_pos[i],
			.source = MMAP_RESTORE_SRC_IMAGE,
		};
	}
	for (i = 0; i < s->nws; i++)
		tables.ws[i] = (struct mmap_restore_ws_range) {
			.addr = (uintptr_t)s->at + order[i] * PS,
			.nr_pages = 1,
			.flags = s->written[order[i]] ? MMAP_RESTORE_WS_WRITE : 0,
		};
	tables.region = (struct mmap_restore_region) {
		.start = (uintptr_t)s->at, .len = s->pages * PS, .fd = -1,
		.prot = PROT_READ | PROT_WRITE, .nr_intervals = n,
	};
	tables.args = (struct mmap_restore_args) {
		.nr_regions = 1, .regions = (uintptr_t)&tables.region,
		.nr_intervals = n, .intervals = (uintptr_t)tables.iv,
		.nr_ws = s->nws, .ws = (uintptr_t)tables.ws,
	};
}

static char *mmap_restore_from(const struct setup *s, int open_flags,
			       unsigned int flags)
{
	int fd = open(s->spice_path, O_RDONLY | open_flags);
	int err;

	if (fd < 0)
		return NULL;
	tables.args.image_fd = fd;
	/* With MMAP_RESTORE_ASYNC: the first 1 MiB, then the worker. */
	tables.args.sync_pages = flags & MMAP_RESTORE_ASYNC ? 256 : 0;
	err = spice_mmap_restore(&tables.args, sizeof(tables.args), flags);
	close(fd);
	if (err) {
		errno = -err;
		return NULL;
	}
	return s->at;
}

static char *restore_mmap_restore(const struct setup *s, bool random)
{
	(void)random;
	return mmap_restore_from(s, 0, 0);
}

/* The image opened O_DIRECT: read into the pages, not the page cache. */
static char *restore_mmap_restore_direct(const struct setup *s, bool random)
{
	(void)random;
	return mmap_restore_from(s, O_DIRECT, 0);
}

/* 1 MiB of the working set before returning, a kernel worker the rest. */
static char *restore_mmap_restore_async(const struct setup *s, bool random)
{
	(void)random;
	return mmap_restore_from(s, 0, MMAP_RESTORE_ASYNC);
}

/* Every image page read before returning, the working set's and the rest. */
static char *restore_mmap_restore_eager(const struct setup *s, bool random)
{
	(void)random;
	return mmap_restore_from(s, 0, MMAP_RESTORE_EAGER);
}

static const struct method methods[] = {
	{ "read", restore_read },
	{ "mmap+touch", restore_mmap_touch },
	{ "MAP_POPULATE", restore_map_populate },
	{ "MADV_WILLNEED", restore_willneed },
	{ "MADV_POPULATE_WRITE", restore_populate_write },
	{ "UFFDIO_COPY", restore_uffd_copy },
	{ "mmap_restore+EAGER", restore_mmap_restore_eager },
	{ "mmap_restore+ASYNC", restore_mmap_restore_async },
	{ "mmap_restore+O_DIRECT", restore_mmap_restore_direct },
	{ "mmap_restore", restore_mmap_restore },
};

/* One restore in a fresh child; returns false if the method failed. */
static bool bench_one(const struct setup *s, const struct method *m,
		      const unsigned long *order, bool random, struct sample *out)
{
	long ios0, sec0, ios1, sec1;
	int pfd[2], status;
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	bench_block_stat(s->device, &ios0, &sec0);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		struct sample r = {};
		long f0 = faults();
		double t0 = bench_now_ms();
		unsigned long i;
		char *p;

		p = m->restore(s, random);
		if (!p)
			_exit(2);
		for (i = 0; i < s->nws; i++) {
			uint64_t *w = (uint64_t *)(p + order[i] * PS);

			if (s->written[order[i]])
				__atomic_store_n(&w[1], 1, __ATOMIC_RELAXED);
			else if (__atomic_load_n(w, __ATOMIC_RELAXED) != word_of(order[i]))
				_exit(3);
		}
		r.ms = bench_now_ms() - t0;
		r.faults = faults() - f0;
		/* Check what was written over too: the restore is correct. */
		for (i = 0; i < s->nws; i++)
			if (*(uint64_t *)(p + order[i] * PS) != word_of(order[i]))
				_exit(3);
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(4);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], out, sizeof(*out)) != sizeof(*out))
		memset(out, 0, sizeof(*out));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	bench_block_stat(s->device, &ios1, &sec1);
	out->read_ios = ios1 - ios0;
	out->read_kib = (sec1 - sec0) / 2;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "spice-bench-populate: %s failed (status %#x)\n",
			m->name, status);
		return false;
	}
	return true;
}

/* One element of the "runs" array; sorts the samples. */
static void print_run(bool first, const char *method, bool random, bool cold,
		      int n, double *ms, double *f, double *ios, double *kib)
{
	printf("%s{\"method\":\"%s\",", first ? "" : ",", method);
	printf("\"access\":\"%s\",", random ? "random" : "sequential");
	printf("\"cache\":\"%s\",\"n\":%d,", cold ? "cold" : "warm", n);
	printf("\"ms_median\":%.3f,", bench_median(ms, n));
	printf("\"ms_min\":%.3f,\"ms_max\":%.3f,", ms[0], ms[n - 1]);
	printf("\"faults_median\":%.0f,", bench_median(f, n));
	printf("\"read_ios_median\":%.0f,", bench_median(ios, n));
	printf("\"read_kib_median\":%.0f}", bench_median(kib, n));
}

static const char usage[] =
	"usage: spice-bench-populate [-d DIR] [-m MIB] [-r REPS]\n";

int main(int argc, char **argv)
{
	struct setup s = { .dir = "/images", .pages = 16384, .reps = 10 };
	unsigned long *order;
	bool first = true;
	int opt, mi, pat, cold;

	while ((opt = getopt(argc, argv, "d:m:r:")) != -1) {
		switch (opt) {
		case 'd':
			s.dir = optarg;
			break;
		case 'm':
			s.pages = strtoul(optarg, NULL, 0) * 256;
			break;
		case 'r':
			s.reps = atoi(optarg);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (s.reps < 1 || s.reps > MAX_REPS || s.pages < 256) {
		fprintf(stderr, "spice-bench-populate: 1..%d reps, at least 1 MiB\n", MAX_REPS);
		return 2;
	}
	if (spice_abi_version() < 0) {
		fprintf(stderr, "spice-bench-populate: kernel without Spice\n");
		return 1;
	}
	s.device = bench_find_device(s.dir);
	snprintf(s.flat_path, sizeof(s.flat_path), "%s/bench-flat.img", s.dir);
	snprintf(s.spice_path, sizeof(s.spice_path), "%s/bench-spice.img", s.dir);
	pick_working_set(&s);
	order = calloc(s.nws, sizeof(*order));
	s.at = mmap(NULL, s.pages * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!order || s.at == MAP_FAILED)
		die("setup");
	munmap(s.at, s.pages * PS);

	printf("{\"mib\":%lu,\"pages\":%lu,\"ws_pages\":%lu,", s.pages / 256,
	       s.pages, s.nws);
	printf("\"reps\":%d,\"device\":\"%s\",\"runs\":[", s.reps, s.device);
	for (pat = 0; pat < 2; pat++) {
		touch_order(&s, pat, order);
		write_image(s.flat_path, &s, false, order);
		write_image(s.spice_path, &s, true, order);
		build_tables(&s, order);
		for (cold = 1; cold >= 0; cold--) {
			for (mi = 0; mi < (int)ARRAY_SIZE(methods); mi++) {
				double ms[MAX_REPS], f[MAX_REPS], ios[MAX_REPS], kib[MAX_REPS];
				struct sample r;
				int i, ok = 0;

				/* Warm: one unmeasured run fills the cache. */
				if (!cold)
					bench_one(&s, &methods[mi], order, pat, &r);
				for (i = 0; i < s.reps; i++) {
					if (cold && bench_drop_page_cache())
						die("dropping the page cache (run as root)");
					if (!bench_one(&s, &methods[mi], order, pat, &r))
						break;
					ms[ok] = r.ms;
					f[ok] = r.faults;
					ios[ok] = r.read_ios;
					kib[ok] = r.read_kib;
					ok++;
				}
				if (!ok)
					continue;
				print_run(first, methods[mi].name, pat, cold, ok,
					  ms, f, ios, kib);
				fflush(stdout);
				first = false;
			}
		}
	}
	printf("]}\n");
	unlink(s.flat_path);
	unlink(s.spice_path);
	return 0;
}
