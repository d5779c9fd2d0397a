/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice selftests: raw system call wrappers and common helpers.
 */
#ifndef SPICE_TEST_H
#define SPICE_TEST_H

#include <errno.h>
#include <linux/capability.h>
#include <linux/spice.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* Drop @cap from the effective and permitted sets; 0, or -1 with errno. */
static inline int spice_test_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, data);
}

/*
 * Reap the child *@pid and set *@pid to -1: its exit status, 1000 + the
 * signal that killed it, or -1.
 */
static inline int spice_test_reap(pid_t *pid)
{
	int status;

	if (waitpid(*pid, &status, 0) != *pid)
		return -1;
	*pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
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
