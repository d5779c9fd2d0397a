// SPDX-License-Identifier: GPL-2.0
/*
 * spice-fn-hello: the C function of the cold-start benchmark.
 *
 * It initialises (a table it builds once, standing in for the work a
 * runtime does at start), prints {"ready":true}, then answers each request
 * line on stdin with one JSON line on stdout that carries a checksum of
 * the reply, so that every way of starting it can be checked for the same
 * answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_WORDS (4 << 20)	/* 32 MiB built at start */

static uint64_t checksum(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

int main(void)
{
	uint64_t *table = malloc(TABLE_WORDS * sizeof(*table));
	char line[4096], reply[256];
	uint64_t h, n = 0;
	size_t i;

	if (!table)
		return 1;
	for (i = 0; i < TABLE_WORDS; i++)
		table[i] = i * 0x9e3779b97f4a7c15ULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("{\"ready\":true}\n");
	while (fgets(line, sizeof(line), stdin)) {
		n++;
		/* Touch a slice of the table, as a request would. */
		h = checksum(line, 0xcbf29ce484222325ULL);
		for (i = 0; i < 4096; i++)
			h ^= table[(h + i * 4099) % TABLE_WORDS];
		/* The checksum depends on the request only, not on n. */
		snprintf(reply, sizeof(reply), "hello");
		printf("{\"reply\":\"%s\",\"n\":%llu,\"checksum\":%llu}\n", reply,
		       (unsigned long long)n, (unsigned long long)checksum(reply, h));
	}
	free(table);
	return 0;
}
