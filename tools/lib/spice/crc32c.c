// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CRC-32C (Castagnoli), as the kernel's crc32c() and the image checksum:
 * reflected polynomial 0x82f63b78, initial value and final xor 0xffffffff.
 * A table-driven byte loop; the table is built per call (2048 steps), which
 * costs nothing next to reading an image and needs no locking.
 */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

static void crc32c_table(uint32_t table[256])
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		table[i] = c;
	}
}

/* CRC-32C of @len bytes at @buf, counting the 4 bytes at @skip as zero. */
uint32_t spice_crc32c_skip(const void *buf, size_t len, size_t skip)
{
	const unsigned char *p = buf;
	uint32_t table[256], crc = ~0U;
	unsigned char b;
	size_t i;

	crc32c_table(table);
	for (i = 0; i < len; i++) {
		b = i >= skip && i < skip + 4 ? 0 : p[i];
		crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}
