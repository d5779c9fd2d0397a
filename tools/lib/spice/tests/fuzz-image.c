// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz the image reader: mutate a valid image (fields set to boundary
 * values, bit flips, truncation), mostly with the checksum recomputed so
 * that the mutation reaches the checks behind it.  Every case must end in
 * success or a documented errno with a reason; built with ASan and UBSan,
 * which abort on any bad access.  FUZZ=N sets the number of cases (default
 * 20000), FUZZ_SEED the seed.  Prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image_fixture.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the printed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static const uint64_t boundary[] = {
	0, 1, 2, 7, 8, 63, 64, 4095, 4096, 4097, 65536, 0x7fffffff,
	0x80000000, 0xffffffff, 0x100000000ULL, 1ULL << 47, 1ULL << 56,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~0ULL - 4095,
};

static void mutate(unsigned char *buf, size_t meta, size_t *file_size)
{
	uint64_t v, off;
	int k, kinds = 1 + rnd() % 3;

	while (kinds--) {
		off = rnd() % meta;
		switch (rnd() % 5) {
		case 0:	/* a boundary value in an aligned 8-byte field */
		case 1:
			off &= ~7ULL;
			if (off + 8 > meta)
				break;
			v = boundary[rnd() % ARRAY_SIZE(boundary)];
			memcpy(buf + off, &v, 8);
			break;
		case 2:	/* a small change to a 4-byte field */
			off &= ~3ULL;
			if (off + 4 > meta)
				break;
			memcpy(&v, buf + off, 4);
			v += (int)(rnd() % 9) - 4;
			memcpy(buf + off, &v, 4);
			break;
		case 3:	/* bit flips */
			for (k = 0; k < 1 + (int)(rnd() % 8); k++)
				buf[rnd() % meta] ^= 1 << (rnd() % 8);
			break;
		case 4:	/* a shorter file */
			*file_size = rnd() % (*file_size + 1);
			break;
		}
	}
}

int main(void)
{
	const char *env = getenv("FUZZ");
	long cases = 20000, i, accepted = 0;
	int seen[256] = { 0 }, bad = 0, e;
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img;
	struct fixture fx;
	unsigned char *file, *buf;
	size_t file_len, meta, size;
	struct timespec t0, t1;
	double secs;

	if (env)
		cases = atol(env);
	rng_state = getenv("FUZZ_SEED") ? strtoull(getenv("FUZZ_SEED"), NULL, 0) :
					  (uint64_t)time(NULL);
	rng_state |= 1;
	printf("TAP version 13\n# seed %llu, %ld cases\n",
	       (unsigned long long)rng_state, cases);
	if (fx_build(&fx)) {
		printf("not ok 1 libspice fuzz: fixture\n1..1\n");
		return 1;
	}
	file = fx_slurp(fx.image, &file_len);
	meta = ((struct spice_image_header *)file)->metadata_size;
	buf = malloc(meta);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cases; i++) {
		memcpy(buf, file, meta);
		size = file_len;
		mutate(buf, meta, &size);
		if (rnd() % 10) {
			((struct spice_image_header *)buf)->metadata_csum = 0;
			((struct spice_image_header *)buf)->metadata_csum =
				fx_crc32c(buf, meta);
		}
		why[0] = 'x';
		e = spice_image_parse(buf, meta, size, &img, why);
		if (!e) {
			accepted++;
			spice_image_free(img);
			continue;
		}
		if (img || !why[0] || (e != -ENOEXEC && e != -EBADMSG &&
				       e != -E2BIG && e != -EINVAL)) {
			if (!bad++)
				printf("# case %ld: %d \"%s\"\n", i, e, why);
			continue;
		}
		seen[-e & 255]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# %ld cases in %.2f s (%.0f/s): %ld accepted, ",
	       cases, secs, cases / secs, accepted);
	printf("EINVAL %d, E2BIG %d, ENOEXEC %d, EBADMSG %d\n",
	       seen[EINVAL], seen[E2BIG], seen[ENOEXEC], seen[EBADMSG]);
	printf("%sok 1 libspice fuzz: %ld mutated images, ", bad ? "not " : "",
	       cases);
	printf("each accepted or rejected with a documented errno and a reason\n");
	printf("1..1\n");
	free(buf);
	free(file);
	fx_cleanup(&fx);
	return bad != 0;
}
