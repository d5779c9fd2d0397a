/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice selftests: raw system call wrappers and common helpers.
 */
#ifndef SPICE_TEST_H
#define SPICE_TEST_H

#include <errno.h>
#include <linux/spice.h>
#include <stddef.h>
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

#endif /* SPICE_TEST_H */
