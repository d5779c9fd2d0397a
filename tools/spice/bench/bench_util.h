/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers the Spice benchmarks share: clocks, the page cache, the disk. */
#ifndef SPICE_BENCH_UTIL_H
#define SPICE_BENCH_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Write back and drop the page cache; 0, or -1 without the right. */
static inline int bench_drop_page_cache(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	int ok;

	sync();
	ok = fd >= 0 && write(fd, "3", 1) == 1;
	if (fd >= 0)
		close(fd);
	usleep(200 * 1000);	/* let the guest settle */
	return ok ? 0 : -1;
}

/* Reads completed and sectors read by block device @dev (/sys/block). */
static inline void bench_block_stat(const char *dev, long *ios, long *sectors)
{
	char path[128];
	FILE *f;

	*ios = 0;
	*sectors = 0;
	if (!*dev)
		return;
	snprintf(path, sizeof(path), "/sys/block/%s/stat", dev);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld %*d %ld", ios, sectors) != 2) {
		*ios = 0;
		*sectors = 0;
	}
	if (f)
		fclose(f);
}

/* The name of the block device holding @dir, or "". */
static inline const char *bench_find_device(const char *dir)
{
	static char name[64];
	struct stat st;
	char path[128];
	FILE *f;

	if (stat(dir, &st))
		return "";
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent",
		 major(st.st_dev), minor(st.st_dev));
	f = fopen(path, "r");
	name[0] = 0;
	while (f && fgets(path, sizeof(path), f))
		if (sscanf(path, "DEVNAME=%63s", name) == 1)
			break;
	if (f)
		fclose(f);
	return name;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values; sorts them. */
static inline double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* SPICE_BENCH_UTIL_H */
