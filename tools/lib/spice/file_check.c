// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Is a file of the image still the one dumped?  The checks
 * restore_process() makes before it maps or opens the file, made from
 * userspace so that `spice verify --files` and `spice record` can say
 * which file changed and how.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <spice/image.h>

#include "internal.h"

static int changed(char *why, const char *what)
{
	if (why)
		snprintf(why, SPICE_IMAGE_WHY_LEN, "%s", what);
	return -ESTALE;
}

/* The generation and contents of regular file @f, read through @fd. */
static int check_open(int fd, const struct spice_image_file *f, char *why)
{
	unsigned char sha[32];
	unsigned int gen;
	int err;

	if ((f->flags & SPICE_FILE_HAS_GENERATION) &&
	    (ioctl(fd, FS_IOC_GETVERSION, &gen) || gen != f->generation))
		return changed(why, "inode generation changed");
	if (!(f->flags & SPICE_FILE_HAS_SHA256))
		return 0;
	err = spice_sha256_fd(fd, f->size, sha);
	if (err == -ESTALE || (!err && memcmp(sha, f->sha256, sizeof(sha))))
		return changed(why, "contents changed (SHA-256)");
	return err ? changed(why, strerror(-err)) : 0;
}

int spice_image_file_check(const struct spice_image_file *f, const char *path,
			   char *why)
{
	struct stat st;
	int fd, err;

	if (f->flags & SPICE_FILE_MADE)
		return 0;	/* made anew from the image: nothing to find */
	if (stat(path, &st))
		return changed(why, strerror(errno));
	if ((st.st_mode & S_IFMT) != (f->mode & S_IFMT))
		return changed(why, "type changed");
	if (S_ISDIR(st.st_mode))
		return 0;
	if (S_ISCHR(st.st_mode))
		return st.st_rdev == f->rdev ? 0 : changed(why, "device number changed");
	if ((uint64_t)st.st_size != f->size)
		return changed(why, "size changed");
	if (st.st_mtim.tv_sec != f->mtime_sec ||
	    (uint32_t)st.st_mtim.tv_nsec != f->mtime_nsec)
		return changed(why, "modification time changed");
	if (!(f->flags & (SPICE_FILE_HAS_GENERATION | SPICE_FILE_HAS_SHA256)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return changed(why, strerror(errno));
	err = check_open(fd, f, why);
	close(fd);
	return err;
}
