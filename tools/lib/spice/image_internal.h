/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The parsed image, shared by the checker and the reader. */
#ifndef __LIBSPICE_IMAGE_INTERNAL_H
#define __LIBSPICE_IMAGE_INTERNAL_H

#include <stdint.h>
#include <linux/spice.h>

#define SPICE_SECT_MAX SPICE_SECT_FILE_DATA

struct spice_image {
	void *meta;		/* a copy of bytes [0, metadata_size) */
	const struct spice_image_header *hdr;
	const struct spice_image_process *process;
	/* Section of each type, or NULL; entries of each type. */
	const struct spice_image_section *sect[SPICE_SECT_MAX + 1];
	uint64_t nr[SPICE_SECT_MAX + 1];
	uint64_t blobs_size;
};

const char *spice_image_section_name(unsigned int type);
const struct spice_image_vma *spice_image_find_vma(const struct spice_image *img,
						   uint64_t addr);
const char *spice_image_made_name(const struct spice_image *img,
				  const struct spice_image_file *f,
				  uint32_t kind, uint32_t *len);

#endif /* __LIBSPICE_IMAGE_INTERNAL_H */
