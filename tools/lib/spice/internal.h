/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libspice internals shared between its source files. */
#ifndef __LIBSPICE_INTERNAL_H
#define __LIBSPICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define SPICE_PAGE_SIZE 4096ULL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

uint32_t spice_crc32c_skip(const void *buf, size_t len, size_t skip);
int spice_pread_full(int fd, void *buf, size_t len, uint64_t off);

struct spice_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
};

void spice_sha256_init(struct spice_sha256 *c);
void spice_sha256_update(struct spice_sha256 *c, const void *buf, size_t len);
void spice_sha256_final(struct spice_sha256 *c, unsigned char out[32]);
int spice_sha256_fd(int fd, uint64_t size, unsigned char out[32]);

#endif /* __LIBSPICE_INTERNAL_H */
