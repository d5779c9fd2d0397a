// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading an image's metadata from a file and checking it. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spice/image.h>
#include "internal.h"

/* Read exactly @len bytes at @off, or fail with -EIO on a short file. */
int spice_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int spice_image_open(int fd, struct spice_image **img, char *why)
{
	struct spice_image_header h;
	struct stat st;
	void *meta;
	int err;

	*img = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		if (why)
			snprintf(why, SPICE_IMAGE_WHY_LEN, "not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < sizeof(h))
		return spice_image_parse("", 0, st.st_size, img, why);
	err = spice_pread_full(fd, &h, sizeof(h), 0);
	if (err)
		return err;
	/* Let the checker judge a size that is out of bounds. */
	if (h.metadata_size < sizeof(h) ||
	    h.metadata_size > SPICE_IMAGE_MAX_METADATA ||
	    h.metadata_size > (uint64_t)st.st_size)
		return spice_image_parse(&h, sizeof(h), st.st_size, img, why);
	meta = malloc(h.metadata_size);
	if (!meta)
		return -ENOMEM;
	err = spice_pread_full(fd, meta, h.metadata_size, 0);
	if (!err)
		err = spice_image_parse(meta, h.metadata_size, st.st_size, img,
					why);
	free(meta);
	return err;
}
