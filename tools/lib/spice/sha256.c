// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * SHA-256 (FIPS 180-4), for the content hashes of the image's file table:
 * the kernel checks them with its own lib/crypto/sha256.c.  A plain
 * portable implementation; hashing is opt-in and reads whole files, so
 * the disk, not this loop, sets the cost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], s[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | p[4 * i + 1] << 16 |
		       p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + w[i - 7] +
		       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) +
		       (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	memcpy(s, h, sizeof(s));
	for (i = 0; i < 64; i++) {
		t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) +
		     ((s[4] & s[5]) ^ (~s[4] & s[6])) + k[i] + w[i];
		t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) +
		     ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
		memmove(s + 1, s, 7 * sizeof(s[0]));
		s[4] += t1;
		s[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += s[i];
}

void spice_sha256_init(struct spice_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

void spice_sha256_update(struct spice_sha256 *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t used = c->len % 64, n;

	c->len += len;
	while (len) {
		n = 64 - used < len ? 64 - used : len;
		memcpy(c->block + used, p, n);
		used += n;
		p += n;
		len -= n;
		if (used == 64) {
			sha256_block(c->h, c->block);
			used = 0;
		}
	}
}

void spice_sha256_final(struct spice_sha256 *c, unsigned char out[32])
{
	static const unsigned char pad[64] = { 0x80 };
	uint64_t bits = c->len * 8;
	unsigned char len_be[8];
	int i;

	for (i = 0; i < 8; i++)
		len_be[i] = bits >> (56 - 8 * i);
	spice_sha256_update(c, pad, 1 + (119 - c->len % 64) % 64);
	spice_sha256_update(c, len_be, sizeof(len_be));
	for (i = 0; i < 32; i++)
		out[i] = c->h[i / 4] >> (24 - 8 * (i % 4));
}

/*
 * Hash the file open at @fd from offset 0.  Returns 0, -ESTALE if it does
 * not hold exactly @size bytes (it changed while it was read), or -errno.
 */
int spice_sha256_fd(int fd, uint64_t size, unsigned char out[32])
{
	const size_t chunk = 1 << 16;
	struct spice_sha256 c;
	uint64_t off = 0;
	unsigned char *buf;
	ssize_t n;

	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	spice_sha256_init(&c);
	do {
		n = pread(fd, buf, chunk, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		spice_sha256_update(&c, buf, n);
		off += n;
	} while (n > 0 && off <= size);
	free(buf);
	spice_sha256_final(&c, out);
	return off == size ? 0 : -ESTALE;
}
