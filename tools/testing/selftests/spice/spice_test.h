/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice selftests: raw system call wrappers and common helpers.
 */
#ifndef SPICE_TEST_H
#define SPICE_TEST_H

#include <errno.h>
#include <linux/spice.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_restore_process
#define __NR_restore_process 463
#endif
#ifndef __NR_mmap_restore
#define __NR_mmap_restore 464
#endif

static inline long sys_restore_process(int image_fd,
				       const struct restore_process_args *args,
				       size_t size, unsigned int flags)
{
	return syscall(__NR_restore_process, image_fd, args, size, flags);
}

static inline long sys_mmap_restore(const struct mmap_restore_args *args,
				    size_t size, unsigned int flags)
{
	return syscall(__NR_mmap_restore, args, size, flags);
}

/*
 * Whether this kernel has the Spice calls.  The ABI query cannot fail on a
 * kernel that has them; without CONFIG_SPICE the tests skip, not fail.
 */
static inline int spice_supported(void)
{
	return sys_mmap_restore(NULL, 0, MMAP_RESTORE_ABI_VERSION) >= 0;
}

/* An image's metadata checksum (CRC-32C), recomputed after an edit. */
static inline void spice_test_seal_metadata(unsigned char *meta, size_t len)
{
	struct spice_image_header *h = (struct spice_image_header *)meta;
	uint32_t crc = ~0U;
	int k;

	h->metadata_csum = 0;
	while (len--) {
		crc ^= *meta++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	h->metadata_csum = ~crc;
}

#endif /* SPICE_TEST_H */
