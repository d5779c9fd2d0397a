/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libspice: dumping a running process to a Spice image, from outside, as
 * `criu dump` does: every thread is stopped with ptrace, memory is read
 * through /proc/PID/mem with /proc/PID/pagemap to skip pages never
 * touched, and state that /proc does not show (signal actions, the
 * alternate signal stack, the program break, prctl() settings) is asked of
 * the stopped process itself.  The caller needs ptrace access to the
 * process (PTRACE_MODE_ATTACH: same user and ptrace_scope allowing it, or
 * CAP_SYS_PTRACE), and prlimit(2)'s to read its resource limits (the same
 * user and group, or CAP_SYS_RESOURCE).  Shared anonymous memory is read
 * from its shmem object through /proc/PID/map_files, which also needs
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN); the same shared pages mapped
 * twice, and shared pages another process maps too, are refused.
 */
#ifndef __LIBSPICE_DUMP_H
#define __LIBSPICE_DUMP_H

#include <stdint.h>
#include <sys/types.h>

#include <spice/spice.h>
#include <spice/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Dump flags (struct spice_dump_opts.flags):
 * - SPICE_DUMP_KILL: kill the process once it is dumped (the default of
 *   `spice dump`); without it the process resumes where it stopped.
 * - SPICE_DUMP_WS_NONE: record no working set (every page is then read on
 *   first touch after a restore); by default the working set is the
 *   process's resident pages, by address, until `spice record` orders it.
 * - SPICE_DUMP_HASH_FILES: record the SHA-256 of every regular file the
 *   process maps, runs or holds open for reading (each is read whole), so
 *   that a restore refuses a file whose contents changed even if its size
 *   and times did not.  A file open only for writing is not hashed: the
 *   restore would need read permission to check it.
 * - SPICE_DUMP_RESET_CONNECTIONS: record a socket connected to a peer
 *   outside the process (or connecting) as reset: the restore makes a socket
 *   whose next read or write fails with ECONNRESET, so that the process
 *   connects again.  Without it such a socket fails the dump, which names
 *   the fd and the peer: a connection's state cannot be restored into many
 *   instances of one image, and its peer would not know them.
 */
#define SPICE_DUMP_KILL			0x1U
#define SPICE_DUMP_WS_NONE		0x2U
#define SPICE_DUMP_HASH_FILES		0x4U
#define SPICE_DUMP_RESET_CONNECTIONS	0x8U

struct spice_dump_opts {
	uint32_t flags;
	/* Where the writer spools data pages; NULL for $TMPDIR or /tmp. */
	const char *spool_dir;
	/* Called now and then with the bytes of memory read so far. */
	void (*progress)(uint64_t done, uint64_t total, void *arg);
	void *progress_arg;
	/*
	 * Fds the launcher supplies again at restore (restore_process()'s fd
	 * map), @nr_supplied of them: each is recorded as "supplied" whatever
	 * it holds (a socket connected to the platform, say), so that neither
	 * its state nor its kind fails the dump.
	 */
	const int *supplied;
	int nr_supplied;
};

struct spice_dump_stats {
	struct spice_writer_stats image;
	uint32_t threads;
	uint32_t vmas;
	uint32_t fds;
	uint64_t bytes_read;	/* memory read from the process */
	uint64_t ns_frozen;	/* from the first stop to the last read */
	uint64_t ns_total;
};

/*
 * Dump process @pid to the image file open at @fd (truncated first).
 * Returns 0 or a negative errno; *@why (SPICE_IMAGE_WHY_LEN bytes, may be
 * NULL) says what failed.  Whatever happens the process is left running
 * or, with SPICE_DUMP_KILL and after a successful dump, killed.
 */
LIBSPICE_API int spice_dump(pid_t pid, int fd, const struct spice_dump_opts *opts,
			    struct spice_dump_stats *stats, char *why);

#ifdef __cplusplus
}
#endif

#endif /* __LIBSPICE_DUMP_H */
