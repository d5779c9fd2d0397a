/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libspice: user space side of restore_process(2) and mmap_restore(2).
 *
 * Every function returns a non-negative value on success and a negative
 * errno on failure; none of them sets errno.
 */
#ifndef __LIBSPICE_SPICE_H
#define __LIBSPICE_SPICE_H

#include <stddef.h>
#include <linux/spice.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LIBSPICE_API
#define LIBSPICE_API __attribute__((visibility("default")))
#endif

/* Version of libspice itself, "MAJOR.MINOR.PATCH". */
LIBSPICE_API const char *spice_version(void);

/*
 * Version of the Spice ABI the running kernel offers (SPICE_ABI_VERSION or
 * later), or -ENOSYS on a kernel without Spice.  The answer is probed once
 * and cached.  On a kernel without Spice the wrappers below return -ENOSYS
 * without making the call: system call numbers are only reserved for Spice
 * in a Spice kernel, and other kernels use them for other calls.
 */
LIBSPICE_API int spice_abi_version(void);

/* mmap_restore(2); 0 or a negative errno. */
LIBSPICE_API int spice_mmap_restore(const struct mmap_restore_args *args,
				    size_t size, unsigned int flags);

/*
 * restore_process(2); does not return on success, else a negative errno
 * with the caller unchanged.
 */
LIBSPICE_API int spice_restore_process(int image_fd,
				       const struct restore_process_args *args,
				       size_t size, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* __LIBSPICE_SPICE_H */
