// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Files made anew at restore (a memfd, an unlinked file): the writer
 * stores their contents with holes left out and merges pages into
 * extents, the reader gives them back, spice_image_copy() keeps them, and
 * each broken field of the two sections is rejected with a reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image_fixture.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define MEMFD_SIZE (3 * FX_PAGE + 10)

static int n, failed;
static char dir[64], image[96], copy[96];
static unsigned char pages[4][FX_PAGE];	/* the memfd's; page 1 a hole */

static void check(int ok, const char *what)
{
	printf("%sok %d libspice made files: %s\n", ok ? "" : "not ", ++n, what);
	failed |= !ok;
}

static int build(void)
{
	struct spice_image_process proc = { .exe_file = SPICE_IMAGE_NONE };
	struct spice_image_thread t = { .tid = 7 };
	struct spice_image_file memfd = { .mode = S_IFREG | 0777, .size = MEMFD_SIZE };
	struct spice_image_file unlinked = { .mode = S_IFREG | 0600, .size = 100 };
	struct spice_image_made_file m1 = { .kind = SPICE_MADE_MEMFD,
					    .seals = F_SEAL_SHRINK | F_SEAL_GROW };
	struct spice_image_made_file m2 = { .kind = SPICE_MADE_UNLINKED };
	struct spice_image_vma v = { .start = FX_ANON, .end = FX_ANON + FX_PAGE,
				     .prot = PROT_READ, .file = 0 };
	struct spice_image_fd fd = { .fd = 3, .type = SPICE_FD_FILE, .file = 1,
				     .open_flags = O_RDWR };
	struct spice_writer *w = spice_writer_new(dir);
	int err, out;

	memset(pages, 0, sizeof(pages));
	memset(pages[0], 'a', FX_PAGE);
	memset(pages[2], 'c', FX_PAGE);
	memset(pages[3], 'd', 10);
	err = w ? 0 : -ENOMEM;
	if (!err)
		err = spice_writer_add_made_file(w, "/memfd:code", &memfd, &m1, -1) != 0;
	if (!err)
		err = spice_writer_add_made_file(w, "/tmp/#123", &unlinked, &m2, -1) != 1;
	if (!err)
		err = spice_writer_add_file_data(w, 0, 0, pages, sizeof(pages));
	if (!err)
		err = spice_writer_add_file_data(w, 1, 0, pages[2], FX_PAGE);
	if (!err)
		err = spice_writer_set_process(w, &proc, "/tmp", NULL, 0);
	if (!err)
		err = spice_writer_add_thread(w, &t, NULL, 0);
	if (!err)
		err = spice_writer_add_fd(w, &fd);
	if (!err)
		err = spice_writer_add_vma(w, &v) < 0;
	out = open(image, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (!err)
		err = out < 0 ? -errno : spice_writer_write(w, out, NULL, NULL);
	if (out >= 0)
		close(out);
	spice_writer_free(w);
	return err;
}

/* The image at @path holds both files, their extents and their bytes. */
static void check_image(const char *path, const char *what)
{
	const struct spice_image_file_extent *e;
	const struct spice_image_made_file *m;
	const struct spice_image_file *f;
	char why[SPICE_IMAGE_WHY_LEN], buf[80];
	unsigned char page[FX_PAGE];
	struct spice_image *img = NULL;
	uint64_t nr_m, nr_e, nr_f;
	int fd = open(path, O_RDONLY), ok;

	snprintf(buf, sizeof(buf), "%s: passes every check", what);
	check(fd >= 0 && !spice_image_open(fd, &img, why), buf);
	if (!img)
		return;
	f = spice_image_table(img, SPICE_SECT_FILES, &nr_f);
	m = spice_image_table(img, SPICE_SECT_MADE_FILES, &nr_m);
	e = spice_image_table(img, SPICE_SECT_FILE_DATA, &nr_e);
	snprintf(buf, sizeof(buf), "%s: both files made, with kind, seals, size", what);
	check(nr_f == 2 && nr_m == 2 && f[0].flags == SPICE_FILE_MADE &&
	      f[1].flags == SPICE_FILE_MADE && f[0].size == MEMFD_SIZE &&
	      m[0].file == 0 && m[0].kind == SPICE_MADE_MEMFD &&
	      m[0].seals == (F_SEAL_SHRINK | F_SEAL_GROW) && m[1].file == 1 &&
	      m[1].kind == SPICE_MADE_UNLINKED && !spice_image_file_check(&f[0], "/x", NULL), buf);
	/* Page 0, a hole, pages 2-3 together; the unlinked file's page. */
	snprintf(buf, sizeof(buf), "%s: the hole is left out, runs merged", what);
	check(nr_e == 3 && e[0].file == 0 && e[0].pos == 0 && e[0].len == FX_PAGE &&
	      e[1].file == 0 && e[1].pos == 2 * FX_PAGE && e[1].len == 2 * FX_PAGE &&
	      e[2].file == 1 && e[2].pos == 0 && e[2].len == FX_PAGE, buf);
	ok = nr_e == 3;
	ok = ok && pread(fd, page, FX_PAGE, e[0].offset) == FX_PAGE &&
	     !memcmp(page, pages[0], FX_PAGE);
	ok = ok && pread(fd, page, FX_PAGE, e[1].offset + FX_PAGE) == FX_PAGE &&
	     !memcmp(page, pages[3], FX_PAGE);
	/* The same bytes as memfd page 2: stored once. */
	ok = ok && e[2].offset == e[1].offset;
	snprintf(buf, sizeof(buf), "%s: every extent's bytes, repeated ones once", what);
	check(ok, buf);
	spice_image_free(img);
	close(fd);
}

static void test_copy(void)
{
	char why[SPICE_IMAGE_WHY_LEN];
	struct spice_image *img = NULL;
	int fd = open(image, O_RDONLY), out;

	out = open(copy, O_CREAT | O_RDWR | O_TRUNC, 0600);
	check(fd >= 0 && out >= 0 && !spice_image_open(fd, &img, why) &&
	      !spice_image_copy(img, fd, out, NULL, 0, dir, NULL, why),
	      "spice_image_copy() copies made files");
	spice_image_free(img);
	close(fd);
	close(out);
	check_image(copy, "the copy");
}

/* Break one field of @buf (the image, @len bytes) and expect @err, @reason. */
static void expect_rejected(const unsigned char *orig, size_t len, int field,
			    const char *reason, const char *what)
{
	unsigned char *buf = malloc(len);
	const struct spice_image_header *h = (const void *)orig;
	struct spice_image_section *s;
	struct spice_image_made_file *m = NULL;
	struct spice_image_file_extent *e = NULL;
	struct spice_image_file *f = NULL;
	char why[SPICE_IMAGE_WHY_LEN] = "";
	struct spice_image *img = NULL;
	uint32_t i;
	int err;

	memcpy(buf, orig, len);
	s = (void *)(buf + h->section_table);
	for (i = 0; i < h->nr_sections; i++) {
		if (s[i].type == SPICE_SECT_FILES)
			f = (void *)(buf + s[i].offset);
		else if (s[i].type == SPICE_SECT_MADE_FILES)
			m = (void *)(buf + s[i].offset);
		else if (s[i].type == SPICE_SECT_FILE_DATA)
			e = (void *)(buf + s[i].offset);
	}
	if (field == 0)
		f[1].flags = 0;
	else if (field == 1)
		m[1].kind = SPICE_MADE_MEMFD;
	else if (field == 2)
		m[1].seals = F_SEAL_SEAL;
	else if (field == 3)
		e[2].pos = FX_PAGE;
	else if (field == 4)
		e[1].pos = 0;
	else if (field == 5)
		e[0].offset = h->data_offset + h->data_size;
	else if (field == 6)
		f[0].flags |= SPICE_FILE_HAS_SHA256;
	else if (field == 7)
		m[1].file = 0;
	else if (field == 8)
		m[0].reserved = 1;
	else if (field == 9)
		e[1].reserved = 1;
	else if (field == 10)
		e[1].len = 0;
	else if (field == 11)
		e[1].pos = 100;
	else if (field == 12)
		m[1].kind = 3;
	else if (field == 13)
		f[0].generation = 1;
	else if (field == 14)
		f[0].size = 1ULL << 63;
	else if (field == 15)
		e[0].file = 1;		/* before file 0's */
	else if (field == 16)
		m[0].seals = F_SEAL_EXEC;	/* on a 0777 memfd, alone */
	else
		e[0].len = ~0ULL << 12;	/* wraps */
	((struct spice_image_header *)buf)->metadata_csum = 0;
	((struct spice_image_header *)buf)->metadata_csum = fx_crc32c(buf, h->metadata_size);
	err = spice_image_parse(buf, len, len, &img, why);
	spice_image_free(img);
	check(err == -EINVAL && strstr(why, reason), what);
	if (err != -EINVAL || !strstr(why, reason))
		printf("# %d: %s\n", err, why);
	free(buf);
}

static void test_rejected(void)
{
	unsigned char *buf;
	size_t len;

	buf = fx_slurp(image, &len);
	if (!buf)
		return;
	expect_rejected(buf, len, 0, "2 made-file entries", "a made entry for a file not made");
	expect_rejected(buf, len, 1, "gives no name", "a memfd whose path is not /memfd:");
	expect_rejected(buf, len, 2, "kind 2, seals 0x1", "seals on an unlinked file");
	expect_rejected(buf, len, 3, "outside the file", "an extent past the file's size");
	expect_rejected(buf, len, 4, "overlaps", "overlapping extents");
	expect_rejected(buf, len, 5, "outside the data area", "data past the data area");
	expect_rejected(buf, len, 6, "a made file must be", "a made file with a hash");
	expect_rejected(buf, len, 7, "not the next made file", "two entries for one file");
	expect_rejected(buf, len, 8, "made file 0: kind 1", "a made entry's reserved field");
	expect_rejected(buf, len, 9, "file extent 1", "an extent's reserved field");
	expect_rejected(buf, len, 10, "outside the file", "an empty extent");
	expect_rejected(buf, len, 11, "outside the file", "an unaligned extent");
	expect_rejected(buf, len, 12, "kind 3", "an unknown kind");
	expect_rejected(buf, len, 13, "a made file must be", "a made file's generation");
	expect_rejected(buf, len, 14, "a made file must be", "a size of 2^63");
	expect_rejected(buf, len, 15, "file 0 is not a made file in order",
			"extents out of file order");
	expect_rejected(buf, len, 16, "without the seals it implies",
			"F_SEAL_EXEC alone on an executable memfd");
	expect_rejected(buf, len, 17, "outside the file", "an extent that wraps");
	free(buf);
}

static void test_writer_errors(void)
{
	struct spice_image_file f = { .mode = S_IFREG | 0600, .size = FX_PAGE };
	struct spice_image_made_file m = { .kind = SPICE_MADE_UNLINKED };
	struct spice_writer *w = spice_writer_new(dir);

	check(w && spice_writer_add_made_file(w, "/tmp/x", &f, &m, -1) == 0 &&
	      spice_writer_add_file_data(w, 0, FX_PAGE, pages[0], FX_PAGE) == 0,
	      "writer: a made file and a page of it");
	check(w && spice_writer_add_file_data(w, 0, 0, pages[0], FX_PAGE) == -EINVAL,
	      "writer: data out of order is refused");
	check(w && spice_writer_add_file_data(w, 0, 2 * FX_PAGE, pages[0], 100) == -EINVAL,
	      "writer: a partial page is refused");
	check(w && spice_writer_add_file(w, "/tmp", 0) == 1 &&
	      spice_writer_add_file_data(w, 1, 0, pages[0], FX_PAGE) == -EINVAL,
	      "writer: data of a file not made is refused");
	check(w && spice_writer_add_made_file(w, "/tmp", &f, &m, -1) == 2,
	      "writer: a made file and a file at its path are two files");
	f.mode = S_IFDIR | 0700;
	check(w && spice_writer_add_made_file(w, "/tmp/d", &f, &m, -1) == -EINVAL,
	      "writer: a made directory is refused");
	spice_writer_free(w);
}

int main(void)
{
	printf("TAP version 13\n");
	snprintf(dir, sizeof(dir), "/tmp/libspice-made-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(image, sizeof(image), "%s/image", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	check(build() == 0, "the writer writes an image with made files");
	check_image(image, "the image");
	test_copy();
	test_rejected();
	test_writer_errors();
	unlink(image);
	unlink(copy);
	rmdir(dir);
	printf("1..%d\n", n);
	return failed;
}
