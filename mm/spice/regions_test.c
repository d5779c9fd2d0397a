// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the mmap_restore() table checks (regions.c): every rule,
 * on both sides of its boundary, and the interval lookup.
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/minmax.h>
#include <linux/mman.h>

#include "internal.h"

#define T_BASE		0x10000000UL
#define T_TASK_SIZE	BIT(47)
#define T_IMAGE_SIZE	(64 * PAGE_SIZE)

struct tables {
	struct mmap_restore_region r[3];
	struct mmap_restore_interval iv[4];
	struct mmap_restore_ws_range ws[3];
	struct mmap_restore_tables t;
};

/*
 * A valid set: an anonymous region of 16 pages with two intervals (image,
 * zero), a private file region of 8 pages with one image interval, two
 * working-set ranges.
 */
static void tables_init(struct tables *x)
{
	memset(x, 0, sizeof(*x));
	x->r[0] = (struct mmap_restore_region) {
		.start = T_BASE, .len = 16 * PAGE_SIZE, .fd = -1,
		.prot = PROT_READ | PROT_WRITE, .nr_intervals = 2,
	};
	x->iv[0] = (struct mmap_restore_interval) {
		.addr = T_BASE, .len = 4 * PAGE_SIZE, .offset = 0,
		.source = MMAP_RESTORE_SRC_IMAGE,
	};
	x->iv[1] = (struct mmap_restore_interval) {
		.addr = T_BASE + 8 * PAGE_SIZE, .len = 2 * PAGE_SIZE,
		.source = MMAP_RESTORE_SRC_ZERO,
	};
	x->r[1] = (struct mmap_restore_region) {
		.start = T_BASE + 32 * PAGE_SIZE, .len = 8 * PAGE_SIZE, .fd = 3,
		.pgoff = 16 * PAGE_SIZE, .prot = PROT_READ, .first_interval = 2,
		.nr_intervals = 1,
	};
	x->iv[2] = (struct mmap_restore_interval) {
		.addr = T_BASE + 33 * PAGE_SIZE, .len = PAGE_SIZE,
		.offset = 10 * PAGE_SIZE, .source = MMAP_RESTORE_SRC_IMAGE,
	};
	x->ws[0] = (struct mmap_restore_ws_range) {
		.addr = T_BASE, .nr_pages = 4, .flags = MMAP_RESTORE_WS_WRITE,
	};
	x->ws[1] = (struct mmap_restore_ws_range) {
		.addr = T_BASE + 32 * PAGE_SIZE, .nr_pages = 2,
	};
	x->t = (struct mmap_restore_tables) {
		.regions = x->r, .nr_regions = 2,
		.intervals = x->iv, .nr_intervals = 3,
		.ws = x->ws, .nr_ws = 2,
	};
}

static int check(struct tables *x)
{
	return spice_check_tables(&x->t, T_IMAGE_SIZE, true, T_TASK_SIZE);
}

static void valid_tables(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	/* Without an image, image data is -EBADF. */
	KUNIT_EXPECT_EQ(test, -EBADF,
			spice_check_tables(&x.t, 0, false, T_TASK_SIZE));
}

static void region_geometry(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	x.r[0].start += 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[1].len = 0;
	x.r[1].nr_intervals = 0;
	x.t.nr_intervals = 2;
	x.t.nr_ws = 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[1].len += 8;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	/* The last page of the address space is fine; one more is not. */
	tables_init(&x);
	x.t.nr_regions = 1;
	x.t.nr_intervals = 0;
	x.t.nr_ws = 0;
	x.r[0].nr_intervals = 0;
	x.r[0].start = T_TASK_SIZE - x.r[0].len;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.r[0].start += PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	/* Wrapping around the top of the 64-bit space. */
	x.r[0].start = -PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			spice_check_tables(&x.t, 0, false, ULONG_MAX));
}

static void region_order(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	/* Touching is fine, overlapping by one page is not. */
	x.r[0].len = 32 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.r[0].len += PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	swap(x.r[0], x.r[1]);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
}

static void region_fields(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	x.r[0].prot |= 0x10;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[0].flags = 1U << 15;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[0].reserved = 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[0].pgoff = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[0].flags = MMAP_RESTORE_REGION_SHARED;	/* shared anonymous */
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_SHARED | MMAP_RESTORE_REGION_GROWSDOWN;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_NORESERVE;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_LOCKED | MMAP_RESTORE_REGION_LOCKONFAULT |
		       MMAP_RESTORE_REGION_DONTFORK | MMAP_RESTORE_REGION_WIPEONFORK |
		       MMAP_RESTORE_REGION_DONTDUMP | MMAP_RESTORE_REGION_HUGEPAGE |
		       MMAP_RESTORE_REGION_SEQUENTIAL;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_LOCKONFAULT;	/* without LOCKED */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_NOHUGEPAGE | MMAP_RESTORE_REGION_HUGEPAGE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_RANDOM | MMAP_RESTORE_REGION_SEQUENTIAL;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.r[0].flags = MMAP_RESTORE_REGION_WIPEONFORK | MMAP_RESTORE_REGION_SHARED;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[1].flags = MMAP_RESTORE_REGION_WIPEONFORK;	/* a file region */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[1].fd = -2;
	KUNIT_EXPECT_EQ(test, -EBADF, check(&x));
	tables_init(&x);
	x.r[1].flags = MMAP_RESTORE_REGION_GROWSDOWN;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[1].pgoff = MAX_LFS_FILESIZE & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, -EOVERFLOW, check(&x));
}

static void intervals(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	x.iv[1].addr = T_BASE + 15 * PAGE_SIZE;	/* one page past the end */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[1].addr = T_BASE + 3 * PAGE_SIZE;	/* overlaps iv[0] */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	swap(x.iv[0], x.iv[1]);
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[1].len = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[1].source = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[1].offset = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[1].source = MMAP_RESTORE_SRC_FILE;	/* in an anonymous region */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.iv[2].source = MMAP_RESTORE_SRC_FILE;	/* in a file region: fine */
	x.iv[2].offset = 0;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	tables_init(&x);
	x.r[1].flags = MMAP_RESTORE_REGION_SHARED;	/* image data, shared file */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.r[0].first_interval = 2;		/* past the array */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.t.nr_intervals = 4;			/* one belongs to no region */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
}

static void image_bounds(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	/* The image's last page is fine, the page after it is not. */
	x.iv[2].offset = T_IMAGE_SIZE - PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.iv[2].offset = T_IMAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.iv[2].offset = -PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	x.iv[2].offset = 8;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
}

static void working_set(struct kunit *test)
{
	struct tables x;

	tables_init(&x);
	x.ws[1].nr_pages = 8;			/* the whole file region */
	KUNIT_EXPECT_EQ(test, 0, check(&x));
	x.ws[1].nr_pages = 9;			/* one past its end */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.ws[1].addr = T_BASE + 20 * PAGE_SIZE;	/* between regions */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.ws[1] = x.ws[0];			/* overlapping */
	x.ws[1].addr += PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.ws[1].nr_pages = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.ws[1].flags = MMAP_RESTORE_WS_WRITE;	/* in a read-only region */
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
	tables_init(&x);
	x.ws[1].flags = 1U << 3;
	KUNIT_EXPECT_EQ(test, -EINVAL, check(&x));
}

static void find_interval(struct kunit *test)
{
	const struct mmap_restore_region *r;
	struct tables x;

	tables_init(&x);
	r = &x.r[0];
	KUNIT_EXPECT_PTR_EQ(test, &x.iv[0], spice_find_interval(&x.t, r, T_BASE));
	KUNIT_EXPECT_PTR_EQ(test, &x.iv[0],
			    spice_find_interval(&x.t, r, T_BASE + 3 * PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, spice_find_interval(&x.t, r, T_BASE + 4 * PAGE_SIZE));
	KUNIT_EXPECT_PTR_EQ(test, &x.iv[1],
			    spice_find_interval(&x.t, r, T_BASE + 9 * PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, spice_find_interval(&x.t, r, T_BASE + 10 * PAGE_SIZE));
	r = &x.r[1];
	KUNIT_EXPECT_PTR_EQ(test, &x.iv[2],
			    spice_find_interval(&x.t, r, T_BASE + 33 * PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, spice_find_interval(&x.t, r, T_BASE + 32 * PAGE_SIZE));
}

static struct kunit_case spice_regions_cases[] = {
	KUNIT_CASE(valid_tables),
	KUNIT_CASE(region_geometry),
	KUNIT_CASE(region_order),
	KUNIT_CASE(region_fields),
	KUNIT_CASE(intervals),
	KUNIT_CASE(image_bounds),
	KUNIT_CASE(working_set),
	KUNIT_CASE(find_interval),
	{}
};

static struct kunit_suite spice_regions_suite = {
	.name = "spice-regions",
	.test_cases = spice_regions_cases,
};

kunit_test_suite(spice_regions_suite);

MODULE_DESCRIPTION("KUnit tests of the mmap_restore() table checks");
MODULE_LICENSE("GPL");
