/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice selftests: building mmap_restore() calls and checking their result.
 */
#ifndef MMAP_RESTORE_UTIL_H
#define MMAP_RESTORE_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "spice_test.h"

#define PS 4096UL

/* The 64-bit words of page @page of pattern @seed. */
static inline uint64_t pattern_word(uint32_t seed, uint64_t page, unsigned int i)
{
	return ((uint64_t)seed << 48) ^ (page << 16) ^ i ^ 0x5a5a000000000000ULL;
}

static inline void fill_page(void *dst, uint32_t seed, uint64_t page)
{
	uint64_t *w = dst;
	unsigned int i;

	for (i = 0; i < PS / sizeof(*w); i++)
		w[i] = pattern_word(seed, page, i);
}

/* Whether @p holds page @page of pattern @seed. */
static inline int page_has_pattern(const void *p, uint32_t seed, uint64_t page)
{
	const uint64_t *w = p;
	unsigned int i;

	for (i = 0; i < PS / sizeof(*w); i++)
		if (w[i] != pattern_word(seed, page, i))
			return 0;
	return 1;
}

static inline int page_is_zero(const void *p)
{
	const uint64_t *w = p;
	unsigned int i;

	for (i = 0; i < PS / sizeof(*w); i++)
		if (w[i])
			return 0;
	return 1;
}

/*
 * Create a file of @pages pages of pattern @seed in @dir, unlinked; return
 * a descriptor opened with @flags, or -1.
 */
static inline int make_pattern_file(const char *dir, uint32_t seed,
				    unsigned long pages, int flags)
{
	char path[256], *buf;
	unsigned long i;
	int fd, rfd;

	snprintf(path, sizeof(path), "%s/spice-test-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	buf = malloc(PS);
	for (i = 0; buf && i < pages; i++) {
		fill_page(buf, seed, i);
		if (pwrite(fd, buf, PS, i * PS) != (ssize_t)PS)
			break;
	}
	free(buf);
	rfd = i == pages ? open(path, flags) : -1;
	unlink(path);
	close(fd);
	return rfd;
}

/* An address range of @len bytes that nothing maps. */
static inline char *free_range(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, len);
	return p;
}

/* Whether every page of [addr, addr + len) is unmapped. */
static inline int all_unmapped(void *addr, size_t len)
{
	int saved = errno, ret = 1;
	size_t off;

	/* msync() says ENOMEM for an unmapped page; keep the caller's errno. */
	for (off = 0; off < len && ret; off += PS)
		if (msync((char *)addr + off, PS, MS_ASYNC) != -1 || errno != ENOMEM)
			ret = 0;
	errno = saved;
	return ret;
}

static inline long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/* The /proc/self/pagemap entry of @addr: bit 63 present, bit 62 swapped. */
static inline uint64_t pagemap_entry(void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &e, sizeof(e), (uintptr_t)addr / PS * sizeof(e)) != sizeof(e))
			e = 0;
		close(fd);
	}
	return e;
}

#define PAGEMAP_PRESENT	0x8000000000000000ULL
#define PAGEMAP_SWAPPED	0x4000000000000000ULL

/* The /proc/self/maps line of @addr, or "" if none. */
static inline const char *maps_line(void *addr)
{
	static char line[512];
	unsigned long start, end;
	FILE *f = fopen("/proc/self/maps", "r");

	line[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    (unsigned long)addr >= start && (unsigned long)addr < end)
			break;
		line[0] = 0;
	}
	if (f)
		fclose(f);
	return line;
}

/* Whether the smaps VmFlags line of the mapping at @addr has @flag. */
static inline int has_vmflag(void *addr, const char *flag)
{
	unsigned long start, end;
	char line[512], want[8];
	int in = 0, ret = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	snprintf(want, sizeof(want), " %s", flag);
	while (f && fgets(line, sizeof(line), f)) {
		/* A mapping's first line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = (unsigned long)addr >= start && (unsigned long)addr < end;
		else if (in && !strncmp(line, "VmFlags:", 8))
			ret = !!strstr(line, want);
	}
	if (f)
		fclose(f);
	return ret;
}

/* A call under construction: up to 8 regions, 32 intervals, 32 ws ranges. */
struct restore_call {
	struct mmap_restore_region regions[8];
	struct mmap_restore_interval intervals[32];
	struct mmap_restore_ws_range ws[32];
	struct mmap_restore_stats stats;
	struct mmap_restore_args args;
};

static inline void call_init(struct restore_call *c, int image_fd)
{
	memset(c, 0, sizeof(*c));
	c->args.image_fd = image_fd;
	c->args.regions = (uintptr_t)c->regions;
	c->args.intervals = (uintptr_t)c->intervals;
	c->args.ws = (uintptr_t)c->ws;
	c->args.stats = (uintptr_t)&c->stats;
	c->args.stats_size = sizeof(c->stats);
}

static inline struct mmap_restore_region *
add_region(struct restore_call *c, void *start, unsigned long pages, int prot,
	   int fd, unsigned long pgoff_pages, unsigned int flags)
{
	struct mmap_restore_region *r = &c->regions[c->args.nr_regions++];

	r->start = (uintptr_t)start;
	r->len = pages * PS;
	r->prot = prot;
	r->fd = fd;
	r->pgoff = pgoff_pages * PS;
	r->flags = flags;
	r->first_interval = c->args.nr_intervals;
	return r;
}

/* Add an interval to the last region added. */
static inline void add_interval(struct restore_call *c, unsigned long first_page,
				unsigned long pages, unsigned int source,
				unsigned long image_page)
{
	struct mmap_restore_region *r = &c->regions[c->args.nr_regions - 1];
	struct mmap_restore_interval *iv = &c->intervals[c->args.nr_intervals++];

	iv->addr = r->start + first_page * PS;
	iv->len = pages * PS;
	iv->source = source;
	iv->offset = source == MMAP_RESTORE_SRC_IMAGE ? image_page * PS : 0;
	r->nr_intervals++;
}

static inline void add_ws(struct restore_call *c, void *start,
			  unsigned long first_page, unsigned long pages, int write)
{
	struct mmap_restore_ws_range *w = &c->ws[c->args.nr_ws++];

	w->addr = (uintptr_t)start + first_page * PS;
	w->nr_pages = pages;
	w->flags = write ? MMAP_RESTORE_WS_WRITE : 0;
}

static inline long call_restore(struct restore_call *c, unsigned int flags)
{
	return sys_mmap_restore(&c->args, sizeof(c->args), flags);
}

/*
 * The test harness shares its results page with this process: drop it
 * from a dumpee (the dumper refuses memory another process shares).
 */
static inline void unmap_shared_anonymous(void)
{
	unsigned long long start, end;
	char line[512], perms[5], name[256];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		name[0] = '\0';
		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %255s", &start, &end,
			   perms, name) >= 3 && perms[3] == 's' &&
		    (!name[0] || !strcmp(name, "/dev/zero")))
			munmap((void *)(uintptr_t)start, end - start);
	}
	if (f)
		fclose(f);
}

#endif /* MMAP_RESTORE_UTIL_H */
