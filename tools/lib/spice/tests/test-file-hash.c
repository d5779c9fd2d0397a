// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Content hashes of the file table: libspice's SHA-256 gives the FIPS
 * 180-4 digests, the writer records one only when asked and only for a
 * regular file, and spice_image_file_check() finds a file whose contents
 * changed behind an unchanged size and modification time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spice/image.h>

#include "../internal.h"

static int n, failed;

static void check(int ok, const char *what)
{
	n++;
	failed += !ok;
	printf("%sok %d libspice file hash: %s\n", ok ? "" : "not ", n, what);
}

static int digest_is(const unsigned char d[32], const char *hex)
{
	char s[65];
	int i;

	for (i = 0; i < 32; i++)
		sprintf(s + 2 * i, "%02x", d[i]);
	return !strcmp(s, hex);
}

static void test_vectors(void)
{
	static const char abc56[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct spice_sha256 c;
	unsigned char d[32], a[1000];
	size_t i, step;

	spice_sha256_init(&c);
	spice_sha256_final(&c, d);
	check(digest_is(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	      "SHA-256 of nothing");
	spice_sha256_init(&c);
	spice_sha256_update(&c, "abc", 3);
	spice_sha256_final(&c, d);
	check(digest_is(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	      "SHA-256 of \"abc\"");
	spice_sha256_init(&c);
	spice_sha256_update(&c, abc56, strlen(abc56));
	spice_sha256_final(&c, d);
	check(digest_is(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	      "SHA-256 of the 448-bit message (two-block padding)");
	memset(a, 'a', sizeof(a));
	spice_sha256_init(&c);
	/* A million 'a's in uneven pieces: every block boundary case. */
	for (i = 0, step = 1; i < 1000000; i += step, step = step % 997 + 1)
		spice_sha256_update(&c, a, i + step > 1000000 ? 1000000 - i : step);
	spice_sha256_final(&c, d);
	check(digest_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
	      "SHA-256 of a million 'a's fed in uneven pieces");
}

/* A file entry as the writer makes it, for @path, without the writer. */
static int entry_of(const char *path, struct spice_image_file *f, int hash)
{
	struct stat st;
	int fd, err = 0;

	memset(f, 0, sizeof(*f));
	if (stat(path, &st))
		return -errno;
	f->mode = st.st_mode;
	f->size = st.st_size;
	f->mtime_sec = st.st_mtim.tv_sec;
	f->mtime_nsec = st.st_mtim.tv_nsec;
	if (!hash)
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	err = spice_sha256_fd(fd, f->size, f->sha256);
	close(fd);
	f->flags |= SPICE_FILE_HAS_SHA256;
	return err;
}

/* Overwrite @path with @c bytes, keeping its size and times. */
static int rewrite_same_times(const char *path, int c)
{
	struct timespec t[2];
	char buf[5000];
	struct stat st;
	int fd, ok;

	if (stat(path, &st))
		return 0;
	t[0] = st.st_atim;
	t[1] = st.st_mtim;
	memset(buf, c, sizeof(buf));
	fd = open(path, O_WRONLY);
	ok = fd >= 0 && pwrite(fd, buf, sizeof(buf), 0) == sizeof(buf);
	if (fd >= 0)
		close(fd);
	return ok && !utimensat(AT_FDCWD, path, t, 0);
}

static void test_files(void)
{
	char dir[] = "/tmp/spice-hash-XXXXXX", path[64];
	char why[SPICE_IMAGE_WHY_LEN] = "";
	struct spice_image_file f, plain;
	struct spice_writer *w;
	unsigned char d[32];
	struct spice_sha256 c;
	char buf[5000];
	int fd, idx;

	if (!mkdtemp(dir))
		return check(0, "a temporary directory");
	snprintf(path, sizeof(path), "%s/lib.so", dir);
	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	check(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf),
	      "a 5000-byte file");
	close(fd);

	spice_sha256_init(&c);
	spice_sha256_update(&c, buf, sizeof(buf));
	spice_sha256_final(&c, d);
	check(!entry_of(path, &f, 1) && !memcmp(f.sha256, d, sizeof(d)),
	      "a file's hash read through its fd is the hash of its bytes");
	fd = open(path, O_RDONLY);
	check(spice_sha256_fd(fd, 4999, d) == -ESTALE &&
	      spice_sha256_fd(fd, 5001, d) == -ESTALE,
	      "a file of another size than expected is ESTALE");
	close(fd);
	check(!entry_of(path, &plain, 0), "an entry without a hash");

	w = spice_writer_new(dir);
	idx = spice_writer_add_file(w, dir, SPICE_FILE_HAS_SHA256);
	check(idx == 0, "the writer takes the hash flag on a directory (no hash)");
	check(spice_writer_add_file(w, path, SPICE_FILE_HAS_GENERATION) == -EINVAL,
	      "the writer refuses other flags");
	check(spice_writer_add_file(w, path, SPICE_FILE_HAS_SHA256) == 1,
	      "the writer hashes a regular file");
	spice_writer_free(w);

	check(!spice_image_file_check(&f, path, why) &&
	      !spice_image_file_check(&plain, path, why),
	      "an unchanged file passes");
	check(rewrite_same_times(path, 'y'), "rewritten with the same size and times");
	check(!spice_image_file_check(&plain, path, why),
	      "without a hash the rewritten file still passes (the limitation)");
	check(spice_image_file_check(&f, path, why) == -ESTALE &&
	      strstr(why, "contents changed"),
	      "with a hash the rewritten file is ESTALE, contents changed");
	check(!utimensat(AT_FDCWD, path, NULL, 0) &&
	      spice_image_file_check(&plain, path, why) == -ESTALE &&
	      strstr(why, "modification time"),
	      "a touched file is ESTALE, modification time changed");
	unlink(path);
	check(spice_image_file_check(&f, path, why) == -ESTALE &&
	      strstr(why, "No such file"), "a removed file is ESTALE, and why");
	rmdir(dir);
}

int main(void)
{
	printf("TAP version 13\n");
	test_vectors();
	test_files();
	printf("1..%d\n", n);
	return failed;
}
