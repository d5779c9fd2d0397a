// SPDX-License-Identifier: GPL-2.0
/*
 * spice record: find the pages a function's first requests need.  The
 * image is restored with no working set, so that every page stays where
 * it is (image, file, zero) until touched; after the requests, the pages
 * mapped in the restored process (/proc/PID/pagemap) are the working set
 * of a new copy of the image, their data laid out first, in the order the
 * process first touched them when the page faults could be traced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <spice/image.h>

#include "commands.h"
#include "function.h"
#include "http.h"
#include "touch_order.h"

const char usage_record[] =
	"usage: spice record IMAGE -o OUT [--http ADDR [--path PATH]]\n"
	"                    [--request BODY]... [--timeout SEC] [--address-order] [--json]\n"
	"\n"
	"Restore IMAGE with no working set, send it the requests (default one:\n"
	"{}, or for HTTP a GET) and read the replies; the pages it touched\n"
	"meanwhile become the working set of OUT, a copy of IMAGE with their\n"
	"data laid out first.  Pages are recorded in first-touch order where\n"
	"tracefs shows the page faults (a page the kernel mapped around a fault\n"
	"takes that fault's place), else (or with --address-order, which traces\n"
	"nothing) in address order: the same pages.  Needs what spice restore\n"
	"needs, and a function on its request channel, as spice run --snapshot\n"
	"drove it (Documentation/spice/tools.rst): JSON lines on pipes to spice\n"
	"record as its fds 0 and 1, or with --http, HTTP on ADDR, where its\n"
	"listening socket comes back from the image, with /dev/null as its fd 0\n"
	"and spice record's stderr as fd 1; its fd 2 is spice record's stderr.\n";

/* /proc/PID/pagemap bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT	0x8000000000000000ULL	/* bit 63 */
#define PM_FILE		0x2000000000000000ULL	/* bit 61: file page or shared anon */
#define PM_EXCLUSIVE	0x0100000000000000ULL	/* bit 56: exclusively mapped */
#define PM_BATCH	4096

struct ws_list {
	struct mmap_restore_ws_range *r;
	size_t nr, cap;
	uint64_t pages, written;
	int ordered;		/* by first touch, not by address */
};

/* A recorded page, while the list is put in first-touch order. */
struct ws_page {
	uint64_t addr, vma_start;
	uint32_t flags;
	size_t touch;		/* index of the fault it came with */
	int around;		/* mapped around another page's fault */
};

/* Pages further than this from any traced fault keep address order. */
#define TOUCH_WINDOW	16

/* Add the page at @addr; a range never spans two VMAs (from @vma_start). */
static int ws_add(struct ws_list *l, uint64_t vma_start, uint64_t addr,
		  uint32_t flags)
{
	struct mmap_restore_ws_range *last = l->nr ? &l->r[l->nr - 1] : NULL, *r;

	l->pages++;
	l->written += !!flags;
	if (last && last->addr >= vma_start && last->flags == flags &&
	    last->nr_pages < UINT32_MAX &&
	    last->addr + (uint64_t)last->nr_pages * 4096 == addr) {
		last->nr_pages++;
		return 0;
	}
	if (l->nr == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		r = realloc(l->r, l->cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		l->r = r;
	}
	l->r[l->nr++] = (struct mmap_restore_ws_range){ addr, 1, flags };
	return 0;
}

/*
 * The pages of @v that @pid has mapped: present in its page table.  One
 * it holds as a private anonymous page in a writable mapping was written
 * (or read from image data, which makes the same private copy).
 */
static int record_vma(int pagemap, const struct spice_image_vma *v,
		      struct ws_list *l)
{
	uint64_t e[PM_BATCH], addr, n, i;
	uint32_t flags;
	ssize_t got;
	int err = 0;

	for (addr = v->start; addr < v->end && !err; addr += n * 4096) {
		n = (v->end - addr) / 4096;
		if (n > PM_BATCH)
			n = PM_BATCH;
		got = pread(pagemap, e, n * 8, addr / 4096 * 8);
		if (got != (ssize_t)(n * 8))
			return got < 0 ? -errno : -EIO;
		for (i = 0; i < n && !err; i++) {
			if (!(e[i] & PM_PRESENT))
				continue;
			flags = (v->prot & PROT_WRITE) && (e[i] & PM_EXCLUSIVE) &&
				!(e[i] & PM_FILE) ? MMAP_RESTORE_WS_WRITE : 0;
			err = ws_add(l, v->start, addr + i * 4096, flags);
		}
	}
	return err;
}

static int touch_cmp(const void *a, const void *b)
{
	const struct ws_page *x = a, *y = b;

	if (x->touch != y->touch)
		return x->touch < y->touch ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int addr_cmp(const void *key, const void *elem)
{
	uint64_t a = *(const uint64_t *)key, b = ((const struct ws_page *)elem)->addr;

	return a < b ? -1 : a > b;
}

/* The start of the VMA of @img that holds @addr (a recorded page). */
static uint64_t vma_start_of(const struct spice_image *img, uint64_t addr)
{
	const struct spice_image_vma *v;
	uint64_t nr, lo = 0, hi, mid;

	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	hi = nr;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return nr ? v[lo].start : 0;
}

/* Whether @b is within TOUCH_WINDOW pages of @a, in the same VMA. */
static int near(const struct ws_page *a, const struct ws_page *b)
{
	uint64_t d = a->addr > b->addr ? a->addr - b->addr : b->addr - a->addr;

	return a->vma_start == b->vma_start && d < TOUCH_WINDOW * 4096ULL;
}

/*
 * Put @l (in address order) in the order of @faults: a page faulted on
 * takes the index of its first fault; a page mapped around a fault (no
 * fault of its own) that of the nearest faulted page before it, else
 * after it, within TOUCH_WINDOW pages of its VMA; any other page goes
 * last, in address order.
 */
static int ws_order(struct ws_list *l, const struct spice_image *img,
		    const uint64_t *faults, size_t nr_faults)
{
	struct ws_page *p = calloc(l->pages + 1, sizeof(*p)), *hit;
	size_t n = 0, i, k, own;
	uint64_t page;
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < l->nr; i++)
		for (k = 0; k < l->r[i].nr_pages; k++, n++) {
			p[n].addr = l->r[i].addr + k * 4096;
			p[n].vma_start = vma_start_of(img, p[n].addr);
			p[n].flags = l->r[i].flags;
			p[n].touch = SIZE_MAX;
		}
	for (i = 0; i < nr_faults; i++) {
		page = faults[i] & ~4095ULL;
		hit = bsearch(&page, p, n, sizeof(*p), addr_cmp);
		if (hit && hit->touch == SIZE_MAX)
			hit->touch = i;
	}
	/* Faulted pages keep their own index; neighbours take one. */
	for (i = 0, own = SIZE_MAX; i < n; i++) {
		if (p[i].touch != SIZE_MAX) {
			own = i;
		} else if (own != SIZE_MAX && near(&p[own], &p[i])) {
			p[i].touch = p[own].touch;
			p[i].around = 1;
		}
	}
	for (i = n, own = SIZE_MAX; i-- > 0;) {
		if (p[i].touch != SIZE_MAX && !p[i].around) {
			own = i;
		} else if (p[i].touch == SIZE_MAX && own != SIZE_MAX &&
			   near(&p[own], &p[i])) {
			p[i].touch = p[own].touch;
			p[i].around = 1;
		}
	}
	qsort(p, n, sizeof(*p), touch_cmp);

	/* The ranges again, each within one VMA of the image. */
	l->nr = 0;
	l->pages = 0;
	l->written = 0;
	for (i = 0; i < n && !err; i++)
		err = ws_add(l, p[i].vma_start, p[i].addr, p[i].flags);
	l->ordered = !err;
	free(p);
	return err;
}

static int record_ws(pid_t pid, const struct spice_image *img, struct ws_list *l)
{
	const struct spice_image_vma *v;
	char path[64];
	uint64_t i, nr;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	for (i = 0; i < nr && !err; i++)
		if (!(v[i].flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR)))
			err = record_vma(fd, &v[i], l);
	close(fd);
	return err;
}

/* Restore @tmp (no working set), send the requests, record the pages. */
static int run_requests(const char *tmp, const struct spice_image *img,
			const struct http_target *http, char **requests,
			int nr_requests, int timeout_ms, int trace, struct ws_list *l)
{
	static char reply[65536];
	struct function fn;
	int fd, i, err;

	uint64_t *faults = NULL;
	size_t nr_faults = 0;
	int traced;

	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	traced = trace && !touch_trace_start();
	err = function_restore(&fn, http, fd, img);
	close(fd);
	if (!err && http) {
		err = function_wait_listening(&fn, timeout_ms);
		if (err)
			fprintf(stderr, "spice record: the restored function does not listen: %s\n",
				strerror(-err));
	}
	for (i = 0; !err && i < nr_requests; i++) {
		err = function_request(&fn, requests[i], reply, sizeof(reply),
				       timeout_ms);
		if (err == -EREMOTEIO)
			fprintf(stderr, "spice record: request %d: an HTTP error: %s\n",
				i + 1, reply);
		else if (err)
			fprintf(stderr, "spice record: request %d: no reply (%s)\n",
				i + 1, strerror(-err));
	}
	if (traced) {
		touch_trace_stop();
		traced = !err && !touch_trace_read(fn.pid, &faults, &nr_faults) &&
			 nr_faults;
	}
	if (!err)
		err = record_ws(fn.pid, img, l);
	if (!err && traced)
		err = ws_order(l, img, faults, nr_faults);
	free(faults);
	function_stop(&fn);
	return err;
}

static void print_result(const struct ws_list *l, const struct spice_image *img,
			 const struct spice_writer_stats *st, int json)
{
	const struct mmap_restore_ws_range *old;
	uint64_t nr, i, before = 0;
	int ascending = 1;

	old = spice_image_table(img, SPICE_SECT_WS, &nr);
	for (i = 0; i < nr; i++)
		before += old[i].nr_pages;
	for (i = 1; i < l->nr; i++)
		ascending &= l->r[i - 1].addr < l->r[i].addr;
	if (json) {
		printf("{\"ws_pages\":%llu,\"ws_ranges\":%zu,\"ws_written\":%llu,",
		       (unsigned long long)l->pages, l->nr,
		       (unsigned long long)l->written);
		printf("\"ws_pages_before\":%llu,\"ws_data_pages\":%llu,\"image_bytes\":%llu,",
		       (unsigned long long)before,
		       (unsigned long long)st->ws_data_pages,
		       (unsigned long long)st->file_size);
		printf("\"order\":\"%s\",\"ascending\":%d}\n",
		       l->ordered ? "first-touch" : "address", ascending);
		return;
	}
	printf("working set %llu pages in %zu ranges, %llu written (was %llu pages), %s order\n",
	       (unsigned long long)l->pages, l->nr, (unsigned long long)l->written,
	       (unsigned long long)before, l->ordered ? "first-touch" : "address");
	printf("%llu of its pages stored first; image %llu bytes\n",
	       (unsigned long long)st->ws_data_pages,
	       (unsigned long long)st->file_size);
}

int cmd_record(int argc, char **argv)
{
	char *requests[64], *dflt[] = { "{}" }, *dflt_http[] = { "" };
	const char *path = NULL, *out = NULL, *http_addr = NULL, *http_path = NULL;
	char why[SPICE_IMAGE_WHY_LEN] = "";
	struct http_target http;
	struct spice_writer_stats st;
	struct ws_list l = { 0 };
	struct spice_image *img = NULL;
	int i, in = -1, fd = -1, err, json = 0, nr_req = 0, trace = 1;
	char *tmp = NULL, *out_copy = NULL;
	const char *dir;
	long timeout = 60;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--http") && i + 1 < argc)
			http_addr = argv[++i];
		else if (!strcmp(argv[i], "--path") && i + 1 < argc)
			http_path = argv[++i];
		else if (!strcmp(argv[i], "--request") && i + 1 < argc &&
			 nr_req < (int)ARRAY_SIZE(requests) && !strchr(argv[i + 1], '\n'))
			requests[nr_req++] = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--address-order"))
			trace = 0;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			return fprintf(stderr, "spice record: bad argument %s\n%s",
				       argv[i], usage_record), EXIT_USAGE;
	}
	if (!path || !out || timeout <= 0 || (http_path && !http_addr))
		return fputs(usage_record, stderr), EXIT_USAGE;
	if (http_addr && parse_http(&http, http_addr, http_path))
		return EXIT_USAGE;

	in = open(path, O_RDONLY | O_CLOEXEC);
	err = in < 0 ? -errno : spice_image_open(in, &img, why);
	if (err) {
		fprintf(stderr, "spice record: %s: %s\n", path,
			in >= 0 && why[0] ? why : strerror(-err));
		goto out;
	}
	/* The copy without a working set, next to OUT, its cache dropped. */
	out_copy = strdup(out);
	if (!out_copy || asprintf(&tmp, "%s.record-XXXXXX", out) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto out;
	}
	dir = dirname(out_copy);
	fd = mkostemp(tmp, O_CLOEXEC);
	err = fd < 0 ? -errno : spice_image_copy(img, in, fd, NULL, 0, dir, NULL, why);
	if (!err && (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (!err)
		err = run_requests(tmp, img, http_addr ? &http : NULL,
				   nr_req ? requests : http_addr ? dflt_http : dflt,
				   nr_req ? nr_req : 1, timeout * 1000, trace, &l);
	if (err) {
		fprintf(stderr, "spice record: %s: %s\n", path,
			why[0] ? why : strerror(-err));
		goto out;
	}
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = fd < 0 ? -errno : spice_image_copy(img, in, fd, l.r, l.nr, dir, &st, why);
	if (fd >= 0)
		close(fd);
	if (err) {
		fprintf(stderr, "spice record: %s: %s\n", out,
			why[0] ? why : strerror(-err));
		unlink(out);
		goto out;
	}
	print_result(&l, img, &st, json);
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(out_copy);
	free(l.r);
	spice_image_free(img);
	if (in >= 0)
		close(in);
	return err ? 1 : 0;
}
