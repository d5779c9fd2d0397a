// SPDX-License-Identifier: GPL-2.0
/*
 * spice-fn-heap MIB: the synthetic function of the scaling benchmark.
 *
 * It fills a heap of MIB MiB (every page written, so that every page is in
 * a snapshot), prints {"ready":true}, then answers each request line on
 * stdin by reading a fixed working set of WS_PAGES pages spread evenly over
 * the heap, whatever its size, and replies with a checksum of what it read.
 * A restore whose time follows the working set, not the image, takes the
 * same time for every MIB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE_WORDS	(4096 / sizeof(uint64_t))
#define WS_PAGES	64	/* 256 KiB read per request */

static uint64_t checksum(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	size_t pages = mib * 256, stride, i, p;
	char line[4096];
	uint64_t *heap, h;

	if (mib < 1 || mib > 4096) {
		fprintf(stderr, "usage: spice-fn-heap MIB (1 to 4096)\n");
		return 2;
	}
	heap = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED)
		return 1;
	for (i = 0; i < pages * PAGE_WORDS; i++)
		heap[i] = i * 0x9e3779b97f4a7c15ULL;
	stride = pages > WS_PAGES ? pages / WS_PAGES : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("{\"ready\":true}\n");
	while (fgets(line, sizeof(line), stdin)) {
		h = checksum(line, 0xcbf29ce484222325ULL);
		for (p = 0; p < WS_PAGES && p * stride < pages; p++)
			for (i = 0; i < PAGE_WORDS; i++)
				h = (h ^ heap[p * stride * PAGE_WORDS + i]) *
				    0x100000001b3ULL;
		printf("{\"reply\":%zu,\"checksum\":%llu}\n", mib,
		       (unsigned long long)h);
	}
	return 0;
}
