// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libspice host tests: the version, the ABI probe and its gating of the
 * wrappers.  Runs on any kernel; prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spice/spice.h>

static int n, failed;

static void check(int ok, const char *what)
{
	printf("%sok %d libspice: %s\n", ok ? "" : "not ", ++n, what);
	failed |= !ok;
}

int main(void)
{
	long direct = syscall(464, NULL, 0, MMAP_RESTORE_ABI_VERSION);
	int v;

	errno = 0;
	v = spice_abi_version();
	int r;

	printf("TAP version 13\n");
	check(!strcmp(spice_version(), "0.0.1"), "spice_version() is 0.0.1");
	check(errno == 0, "the probe leaves errno alone");
	check(spice_abi_version() == v, "the probe answers the same twice");

	if (direct > 0) {
		check(v == direct, "spice_abi_version() on a Spice kernel");
		errno = 0;
		r = spice_mmap_restore(NULL, 0, 1U << 30);
		check(r == -EINVAL && errno == 0,
		      "wrappers return -errno and leave errno alone");
	} else {
		check(v == -ENOSYS, "spice_abi_version() is -ENOSYS without Spice");
		errno = 0;
		r = spice_mmap_restore(NULL, 0, 0);
		check(r == -ENOSYS && errno == 0,
		      "spice_mmap_restore() makes no call without Spice");
		r = spice_restore_process(-1, NULL, 0, 0);
		check(r == -ENOSYS && errno == 0,
		      "spice_restore_process() makes no call without Spice");
	}
	printf("1..%d\n", n);
	return failed;
}
