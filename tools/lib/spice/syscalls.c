// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Raw system call wrappers, gated by a probe of the running kernel.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spice/spice.h>

#ifndef __NR_restore_process
#define __NR_restore_process 463
#endif
#ifndef __NR_mmap_restore
#define __NR_mmap_restore 464
#endif

#define LIBSPICE_VERSION "0.0.1"

const char *spice_version(void)
{
	return LIBSPICE_VERSION;
}

/* 0: not probed yet; > 0: the kernel's ABI version; < 0: no Spice. */
static int abi_version;

static int probe_abi_version(void)
{
	long ret = syscall(__NR_mmap_restore, NULL, 0, MMAP_RESTORE_ABI_VERSION);

	/*
	 * Only a Spice kernel answers the query with a positive version; a
	 * kernel where 464 is another call fails on the NULL arguments.
	 */
	return ret > 0 ? (int)ret : -ENOSYS;
}

int spice_abi_version(void)
{
	int v = __atomic_load_n(&abi_version, __ATOMIC_RELAXED);

	if (!v) {
		v = probe_abi_version();
		__atomic_store_n(&abi_version, v, __ATOMIC_RELAXED);
	}
	return v;
}

static int ret_or_errno(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

int spice_mmap_restore(const struct mmap_restore_args *args, size_t size,
		       unsigned int flags)
{
	int v = spice_abi_version();

	if (v < 0)
		return v;
	return ret_or_errno(syscall(__NR_mmap_restore, args, size, flags));
}

int spice_restore_process(int image_fd, const struct restore_process_args *args,
			  size_t size, unsigned int flags)
{
	int v = spice_abi_version();

	if (v < 0)
		return v;
	return ret_or_errno(syscall(__NR_restore_process, image_fd, args, size,
				    flags));
}
