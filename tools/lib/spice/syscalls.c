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
	int saved = errno;
	long ret = syscall(__NR_mmap_restore, NULL, 0, MMAP_RESTORE_ABI_VERSION);

	errno = saved;

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

/* syscall(2) with the error returned as -errno and errno left alone. */
static int spice_syscall(long nr, long a, long b, long c, long d)
{
	int saved = errno;
	long ret = syscall(nr, a, b, c, d);

	if (ret < 0) {
		ret = -errno;
		errno = saved;
	}
	return (int)ret;
}

int spice_mmap_restore(const struct mmap_restore_args *args, size_t size,
		       unsigned int flags)
{
	int v = spice_abi_version();

	if (v < 0)
		return v;
	return spice_syscall(__NR_mmap_restore, (long)args, (long)size, flags, 0);
}

int spice_restore_process(int image_fd, const struct restore_process_args *args,
			  size_t size, unsigned int flags)
{
	int v = spice_abi_version();

	if (v < 0)
		return v;
	return spice_syscall(__NR_restore_process, image_fd, (long)args,
			     (long)size, flags);
}
