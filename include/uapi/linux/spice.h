/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Spice - restore processes and their memory from snapshot images.
 *
 * User space API of restore_process(2) and mmap_restore(2).  See
 * Documentation/spice/ for the semantics of each call.
 */

#ifndef _UAPI_LINUX_SPICE_H
#define _UAPI_LINUX_SPICE_H

#include <linux/types.h>

/**
 * define SPICE_ABI_VERSION - Version of the Spice user space API.
 *
 * Returned by mmap_restore(NULL, 0, %MMAP_RESTORE_ABI_VERSION) and
 * restore_process(-1, NULL, 0, %RESTORE_PROCESS_ABI_VERSION).  It grows by one
 * whenever a flag, a field or a behaviour is added.
 */
#define SPICE_ABI_VERSION	1

/*
 * mmap_restore(2)
 */

/**
 * enum mmap_restore_source - Where the pages of an interval come from.
 *
 * Pages of a region that no interval covers come from the region's default
 * source: the backing file for a file-backed region, zero for an anonymous
 * one.  Zero is not a valid source so that an all-zero record is rejected.
 */
enum mmap_restore_source {
	/**
	 * @MMAP_RESTORE_SRC_IMAGE: The pages are stored in the image file,
	 * starting at &struct mmap_restore_interval.offset.
	 */
	MMAP_RESTORE_SRC_IMAGE = 1,
	/** @MMAP_RESTORE_SRC_ZERO: The pages read as zero. */
	MMAP_RESTORE_SRC_ZERO = 2,
	/**
	 * @MMAP_RESTORE_SRC_FILE: The pages come from the region's backing
	 * file; only valid in a file-backed region.
	 */
	MMAP_RESTORE_SRC_FILE = 3,
};

/**
 * struct mmap_restore_interval - Source of a run of pages in a region.
 *
 * The intervals of one region are sorted by @addr, do not overlap and lie
 * inside the region.
 */
struct mmap_restore_interval {
	/** @addr: First address of the run; page-aligned. */
	__u64 addr;
	/** @len: Length of the run in bytes; page-aligned, not zero. */
	__u64 len;
	/**
	 * @offset: For %MMAP_RESTORE_SRC_IMAGE, the page-aligned offset in
	 * the image file of the data of @addr; zero for the other sources.
	 */
	__u64 offset;
	/** @source: One of &enum mmap_restore_source. */
	__u32 source;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

/*
 * Region flags (&struct mmap_restore_region.flags):
 *
 * - %MMAP_RESTORE_REGION_SHARED: A shared mapping (as MAP_SHARED); without
 *   it the region is private (as MAP_PRIVATE).  A shared anonymous region
 *   is a new shmem object, as mmap() makes one, holding the region's image
 *   data; a shared file region shows its file and has no intervals but
 *   %MMAP_RESTORE_SRC_FILE.
 * - %MMAP_RESTORE_REGION_GROWSDOWN: A stack that grows down (as
 *   MAP_GROWSDOWN); private anonymous regions only.
 * - %MMAP_RESTORE_REGION_NORESERVE: No swap space reserved (as
 *   MAP_NORESERVE): the region is not charged to the commit limit unless
 *   vm.overcommit_memory is 2.
 * - %MMAP_RESTORE_REGION_LOCKED: Locked in memory, as by mlock(2): every
 *   page is in memory when the call returns (image data the working set
 *   leaves out is read before it, never left pending), and the region
 *   counts against RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK.
 * - %MMAP_RESTORE_REGION_LOCKONFAULT: With %MMAP_RESTORE_REGION_LOCKED, as
 *   mlock2(MLOCK_ONFAULT): pages are locked as they come in, and the
 *   region is not populated beyond its working set.
 * - %MMAP_RESTORE_REGION_DONTFORK, %MMAP_RESTORE_REGION_WIPEONFORK,
 *   %MMAP_RESTORE_REGION_DONTDUMP, %MMAP_RESTORE_REGION_HUGEPAGE,
 *   %MMAP_RESTORE_REGION_NOHUGEPAGE, %MMAP_RESTORE_REGION_SEQUENTIAL,
 *   %MMAP_RESTORE_REGION_RANDOM: The madvise(2) advice of the same name,
 *   with its rules: WIPEONFORK on private anonymous regions only, and not
 *   HUGEPAGE with NOHUGEPAGE or SEQUENTIAL with RANDOM.
 */
#define MMAP_RESTORE_REGION_SHARED	(1U << 0)
#define MMAP_RESTORE_REGION_GROWSDOWN	(1U << 1)
#define MMAP_RESTORE_REGION_NORESERVE	(1U << 2)
#define MMAP_RESTORE_REGION_LOCKED	(1U << 3)
#define MMAP_RESTORE_REGION_LOCKONFAULT	(1U << 4)
#define MMAP_RESTORE_REGION_DONTFORK	(1U << 5)
#define MMAP_RESTORE_REGION_WIPEONFORK	(1U << 6)
#define MMAP_RESTORE_REGION_DONTDUMP	(1U << 7)
#define MMAP_RESTORE_REGION_HUGEPAGE	(1U << 8)
#define MMAP_RESTORE_REGION_NOHUGEPAGE	(1U << 9)
#define MMAP_RESTORE_REGION_SEQUENTIAL	(1U << 10)
#define MMAP_RESTORE_REGION_RANDOM	(1U << 11)

/**
 * struct mmap_restore_region - One mapping to restore.
 *
 * The region is mapped at @start whatever the hint and randomisation
 * settings of the caller, as with MAP_FIXED.
 */
struct mmap_restore_region {
	/** @start: First address; page-aligned. */
	__u64 start;
	/** @len: Length in bytes; page-aligned, not zero. */
	__u64 len;
	/**
	 * @pgoff: For a file-backed region, the page-aligned offset in the
	 * file of @start; zero for an anonymous region.
	 */
	__u64 pgoff;
	/**
	 * @fd: File descriptor of the backing file, or -1 for anonymous
	 * memory.
	 */
	__s32 fd;
	/** @prot: Final protection: PROT_READ, PROT_WRITE and PROT_EXEC. */
	__u32 prot;
	/** @flags: Bitmask of MMAP_RESTORE_REGION_* flags. */
	__u32 flags;
	/**
	 * @first_interval: Index in &struct mmap_restore_args.intervals of
	 * the region's first interval.
	 */
	__u32 first_interval;
	/** @nr_intervals: Number of intervals of the region; may be zero. */
	__u32 nr_intervals;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

/*
 * Working-set range flags (&struct mmap_restore_ws_range.flags):
 *
 * - %MMAP_RESTORE_WS_WRITE: The pages were written after the snapshot: they
 *   get a private writable copy when populated, instead of a read-only entry
 *   that would take a write fault on first use.
 */
#define MMAP_RESTORE_WS_WRITE		(1U << 0)

/**
 * struct mmap_restore_ws_range - A run of pages of the working set.
 *
 * The working-set list is ordered by first touch, as a recording saw it; an
 * image stores the working set's data contiguously in that order, so that
 * it comes back in few large reads.  A range lies inside one region.
 */
struct mmap_restore_ws_range {
	/** @addr: First address of the run; page-aligned. */
	__u64 addr;
	/** @nr_pages: Number of pages in the run; not zero. */
	__u32 nr_pages;
	/** @flags: Bitmask of MMAP_RESTORE_WS_* flags. */
	__u32 flags;
};

/**
 * struct mmap_restore_stats - What a call did; written back on return.
 */
struct mmap_restore_stats {
	/** @pages_populated: Pages whose page-table entries were installed. */
	__u64 pages_populated;
	/** @pages_read: Pages read from the image file. */
	__u64 pages_read;
	/** @bytes_read: Bytes read from the image file. */
	__u64 bytes_read;
	/** @io_requests: Read requests issued to the image file. */
	__u64 io_requests;
	/**
	 * @pages_deferred: Pages of image data left to be read on first
	 * touch (or by the asynchronous worker, %MMAP_RESTORE_ASYNC).
	 */
	__u64 pages_deferred;
};

/**
 * struct mmap_restore_args - Arguments of mmap_restore().
 *
 * This structure can grow; the caller passes its size to the call.
 */
struct mmap_restore_args {
	/**
	 * @image_fd: File descriptor of the image, open for reading; the
	 * source of %MMAP_RESTORE_SRC_IMAGE intervals.  -1 if no interval
	 * uses the image.
	 */
	__s32 image_fd;
	/** @nr_regions: Number of entries in @regions; not zero. */
	__u32 nr_regions;
	/** @regions: Pointer to an array of &struct mmap_restore_region. */
	__u64 regions;
	/** @intervals: Pointer to an array of &struct mmap_restore_interval. */
	__u64 intervals;
	/** @nr_intervals: Number of entries in @intervals. */
	__u32 nr_intervals;
	/** @nr_ws: Number of entries in @ws. */
	__u32 nr_ws;
	/**
	 * @ws: Pointer to the working-set list, an array of &struct
	 * mmap_restore_ws_range in first-touch order.
	 */
	__u64 ws;
	/**
	 * @sync_pages: With %MMAP_RESTORE_ASYNC, the number of working-set
	 * pages populated before the call returns; must be zero otherwise.
	 */
	__u64 sync_pages;
	/**
	 * @stats: Pointer to a &struct mmap_restore_stats to fill, or zero.
	 */
	__u64 stats;
	/**
	 * @stats_size: Size of the caller's &struct mmap_restore_stats, at
	 * most %PAGE_SIZE; the kernel zeroes that many bytes before it starts
	 * and fills in what it knows on success.  Zero when @stats is zero.
	 * The buffer must not overlap a region.
	 */
	__u32 stats_size;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

#define MMAP_RESTORE_ARGS_SIZE_VER0	64 /* sizeof first published struct */

/*
 * mmap_restore() flags:
 *
 * - %MMAP_RESTORE_REPLACE: Replace mappings that overlap the regions, as
 *   MAP_FIXED does; without it an overlap fails with -EEXIST.
 * - %MMAP_RESTORE_ASYNC: Return once the first &struct
 *   mmap_restore_args.sync_pages pages of the working set (in its order)
 *   are populated; a kernel worker populates the rest of the working set's
 *   image data, and a fault on a page it has not reached restores it.
 * - %MMAP_RESTORE_EAGER: Also read every page of image data outside the
 *   working set before returning, instead of on its first touch.
 * - %MMAP_RESTORE_ABI_VERSION: Return %SPICE_ABI_VERSION; the other
 *   arguments must be NULL, 0 and no other flag.
 */
#define MMAP_RESTORE_REPLACE		(1U << 0)
#define MMAP_RESTORE_ASYNC		(1U << 1)
#define MMAP_RESTORE_EAGER		(1U << 2)
#define MMAP_RESTORE_ABI_VERSION	(1U << 31)

/*
 * Limits on the counts in &struct mmap_restore_args; larger counts fail with
 * -E2BIG.
 */
#define MMAP_RESTORE_MAX_REGIONS	65536
#define MMAP_RESTORE_MAX_INTERVALS	(1U << 20)
#define MMAP_RESTORE_MAX_WS		(1U << 20)

/*
 * Snapshot images
 *
 * An image is one file: a header, a section table and the sections (the
 * metadata, covered by a checksum), then page-aligned memory data with the
 * working set's data first and contiguous.  Every field is little-endian.
 * Documentation/spice/image-format.rst describes it byte by byte and lists
 * every check a reader makes.
 */

/* "SPICEIMG" as bytes 0-7 of the file. */
#define SPICE_IMAGE_MAGIC	"SPICEIMG"
#define SPICE_IMAGE_MAGIC_LEN	8
#define SPICE_IMAGE_VERSION	1

/*
 * Feature flags.  A reader ignores compatible features it does not know and
 * rejects an image with an incompatible feature it does not know.  Version 1
 * defines none.
 */
#define SPICE_IMAGE_COMPAT_KNOWN	0ULL
#define SPICE_IMAGE_INCOMPAT_KNOWN	0ULL

/* Index value meaning "none" in the u32 index fields below. */
#define SPICE_IMAGE_NONE	0xffffffffU

/**
 * struct spice_image_header - The first 128 bytes of an image.
 */
struct spice_image_header {
	/** @magic: %SPICE_IMAGE_MAGIC, without a terminating NUL. */
	__u8 magic[8];
	/** @version: %SPICE_IMAGE_VERSION; other versions are rejected. */
	__u32 version;
	/** @header_size: sizeof(struct spice_image_header), 128. */
	__u32 header_size;
	/**
	 * @arch: ELF machine of the dumped process (EM_X86_64); a reader
	 * rejects an image of another architecture.
	 */
	__u32 arch;
	/** @page_size: Page size of the dumped system, 4096. */
	__u32 page_size;
	/** @compat_features: Bitmask; unknown bits are ignored. */
	__u64 compat_features;
	/** @incompat_features: Bitmask; unknown bits reject the image. */
	__u64 incompat_features;
	/** @section_table: Offset of the section table; 8-byte aligned. */
	__u64 section_table;
	/** @nr_sections: Entries in the section table. */
	__u32 nr_sections;
	/**
	 * @metadata_csum: CRC-32C (Castagnoli; initial value and final xor
	 * 0xffffffff) of bytes [0, @metadata_size) with this field as zero.
	 */
	__u32 metadata_csum;
	/** @metadata_size: Bytes of metadata from offset 0. */
	__u64 metadata_size;
	/**
	 * @data_offset: Offset of the memory data; page-aligned, at or after
	 * @metadata_size.
	 */
	__u64 data_offset;
	/** @data_size: Bytes of memory data; page-aligned. */
	__u64 data_size;
	/**
	 * @ws_data_size: Bytes at the start of the data that belong to the
	 * working set, stored in its order; page-aligned, at most @data_size.
	 */
	__u64 ws_data_size;
	/** @reserved: Must be zero. */
	__u64 reserved[5];
};

/**
 * enum spice_image_section_type - What a section holds.
 *
 * Each type appears at most once.  %SPICE_SECT_PROCESS, %SPICE_SECT_THREADS
 * and %SPICE_SECT_VMAS are required; an absent section is an empty table
 * (for %SPICE_SECT_SIGACTIONS: every signal at its default action).
 */
enum spice_image_section_type {
	/** @SPICE_SECT_PROCESS: One &struct spice_image_process. */
	SPICE_SECT_PROCESS = 1,
	/** @SPICE_SECT_THREADS: &struct spice_image_thread, at least one. */
	SPICE_SECT_THREADS = 2,
	/**
	 * @SPICE_SECT_SIGACTIONS: &struct spice_image_sigaction for signals
	 * 1 to 64 in order, or empty.
	 */
	SPICE_SECT_SIGACTIONS = 3,
	/** @SPICE_SECT_FILES: &struct spice_image_file. */
	SPICE_SECT_FILES = 4,
	/** @SPICE_SECT_FDS: &struct spice_image_fd, sorted by fd. */
	SPICE_SECT_FDS = 5,
	/** @SPICE_SECT_VMAS: &struct spice_image_vma, sorted by address. */
	SPICE_SECT_VMAS = 6,
	/** @SPICE_SECT_INTERVALS: &struct mmap_restore_interval. */
	SPICE_SECT_INTERVALS = 7,
	/**
	 * @SPICE_SECT_WS: &struct mmap_restore_ws_range, the working set in
	 * first-touch order.
	 */
	SPICE_SECT_WS = 8,
	/**
	 * @SPICE_SECT_BLOBS: Bytes that &struct spice_image_ref point into:
	 * paths, the auxiliary vector, extended register state.
	 */
	SPICE_SECT_BLOBS = 9,
	/**
	 * @SPICE_SECT_EPOLL: &struct spice_image_epoll_watch, the interest
	 * lists of the epoll fds, sorted by @epfd then @tfd.
	 */
	SPICE_SECT_EPOLL = 10,
	/**
	 * @SPICE_SECT_RLIMITS: &struct spice_image_rlimit for each resource
	 * of getrlimit(2) in order (%SPICE_IMAGE_NR_RLIMITS entries), or
	 * empty: the caller's limits are kept.
	 */
	SPICE_SECT_RLIMITS = 11,
	/**
	 * @SPICE_SECT_ITIMERS: &struct spice_image_itimer for ITIMER_REAL,
	 * ITIMER_VIRTUAL and ITIMER_PROF in order (%SPICE_IMAGE_NR_ITIMERS
	 * entries), or empty: none is armed.
	 */
	SPICE_SECT_ITIMERS = 12,
	/**
	 * @SPICE_SECT_SIGNALS: &struct spice_image_signal, the signals
	 * pending for each thread and for the process, sorted by @thread;
	 * those of one queue in the order they were sent.
	 */
	SPICE_SECT_SIGNALS = 13,
	/**
	 * @SPICE_SECT_POSIX_TIMERS: &struct spice_image_posix_timer, sorted
	 * by @id.
	 */
	SPICE_SECT_POSIX_TIMERS = 14,
	/**
	 * @SPICE_SECT_LOCKS: &struct spice_image_lock, the file locks the
	 * process held, sorted by @fd.
	 */
	SPICE_SECT_LOCKS = 15,
	/**
	 * @SPICE_SECT_TIMERFDS: &struct spice_image_timerfd, one per
	 * %SPICE_FD_TIMERFD fd that shares no earlier fd's file, sorted by @fd.
	 */
	SPICE_SECT_TIMERFDS = 16,
	/**
	 * @SPICE_SECT_SOCKETS: &struct spice_image_socket, one per
	 * %SPICE_FD_SOCKET fd that shares no earlier fd's file, sorted by @fd.
	 */
	SPICE_SECT_SOCKETS = 17,
	/**
	 * @SPICE_SECT_MADE_FILES: &struct spice_image_made_file, one per
	 * file of %SPICE_SECT_FILES with %SPICE_FILE_MADE, sorted by file.
	 */
	SPICE_SECT_MADE_FILES = 18,
	/**
	 * @SPICE_SECT_FILE_DATA: &struct spice_image_file_extent, the
	 * contents of the %SPICE_FILE_MADE files, sorted by file and position.
	 */
	SPICE_SECT_FILE_DATA = 19,
};

/**
 * struct spice_image_section - An entry of the section table.
 *
 * A section lies inside the metadata, after the section table, 8-byte
 * aligned, and overlaps no other.
 */
struct spice_image_section {
	/** @type: One of &enum spice_image_section_type. */
	__u32 type;
	/**
	 * @entry_size: Size of one entry, exactly the size of its structure
	 * in this version; 1 for %SPICE_SECT_BLOBS.
	 */
	__u32 entry_size;
	/** @offset: Offset of the section in the file. */
	__u64 offset;
	/** @nr_entries: Entries in the section. */
	__u64 nr_entries;
	/** @size: @nr_entries * @entry_size. */
	__u64 size;
};

/**
 * struct spice_image_ref - Bytes in the %SPICE_SECT_BLOBS section.
 */
struct spice_image_ref {
	/** @offset: Offset from the start of the blobs section. */
	__u32 offset;
	/** @len: Length in bytes; zero for nothing. */
	__u32 len;
};

/**
 * struct spice_image_process - Process-wide state.
 *
 * The mm layout fields are those of prctl(PR_SET_MM_MAP) and
 * /proc/PID/stat; each start lies at or below its end.
 */
struct spice_image_process {
	/** @start_code: Start of the text segment. */
	__u64 start_code;
	/** @end_code: End of the text segment. */
	__u64 end_code;
	/** @start_data: Start of the data segment. */
	__u64 start_data;
	/** @end_data: End of the data segment. */
	__u64 end_data;
	/** @start_brk: Start of the heap. */
	__u64 start_brk;
	/** @brk: Current program break. */
	__u64 brk;
	/** @start_stack: Start of the main thread's stack. */
	__u64 start_stack;
	/** @arg_start: Start of the argument strings. */
	__u64 arg_start;
	/** @arg_end: End of the argument strings. */
	__u64 arg_end;
	/** @env_start: Start of the environment strings. */
	__u64 env_start;
	/** @env_end: End of the environment strings. */
	__u64 env_end;
	/** @vdso: Address of the vDSO, or zero. */
	__u64 vdso;
	/**
	 * @auxv: The auxiliary vector as pairs of 64-bit words ending with
	 * AT_NULL; at most %SPICE_IMAGE_MAX_AUXV bytes.
	 */
	struct spice_image_ref auxv;
	/** @cwd: Absolute path of the working directory. */
	struct spice_image_ref cwd;
	/** @exe_file: Index of the executable in the file table, or none. */
	__u32 exe_file;
	/** @umask: File mode creation mask. */
	__u32 umask;
	/** @personality: Execution domain, as personality(2). */
	__u32 personality;
	/** @pid: Process id at dump time; informational. */
	__s32 pid;
	/** @comm: Command name, NUL-terminated. */
	char comm[16];
	/** @flags: Bitmask of SPICE_PROC_* flags. */
	__u32 flags;
	/**
	 * @oom_score_adj: /proc/PID/oom_score_adj, from -1000 (OOM_SCORE_ADJ_MIN)
	 * to 1000 (OOM_SCORE_ADJ_MAX).
	 */
	__s32 oom_score_adj;
	/** @reserved: Must be zero. */
	__u64 reserved[3];
};

/*
 * Process flags (&struct spice_image_process.flags):
 *
 * - %SPICE_PROC_UNDUMPABLE: The process was not dumpable (PR_GET_DUMPABLE
 *   other than 1) when it was dumped; the restored one is not dumpable
 *   either, whatever exec's rules would give.
 * - %SPICE_PROC_NO_NEW_PRIVS: prctl(PR_SET_NO_NEW_PRIVS) was set.
 * - %SPICE_PROC_CHILD_SUBREAPER: prctl(PR_SET_CHILD_SUBREAPER) was set.
 * - %SPICE_PROC_THP_DISABLE: prctl(PR_SET_THP_DISABLE) was set.
 * - %SPICE_PROC_MDWE_REFUSE_EXEC_GAIN, %SPICE_PROC_MDWE_NO_INHERIT: the
 *   flags of prctl(PR_SET_MDWE).  NO_INHERIT only with REFUSE_EXEC_GAIN.
 */
#define SPICE_PROC_UNDUMPABLE			(1U << 0)
#define SPICE_PROC_NO_NEW_PRIVS			(1U << 1)
#define SPICE_PROC_CHILD_SUBREAPER		(1U << 2)
#define SPICE_PROC_THP_DISABLE			(1U << 3)
#define SPICE_PROC_MDWE_REFUSE_EXEC_GAIN	(1U << 4)
#define SPICE_PROC_MDWE_NO_INHERIT		(1U << 5)

/* Thread flags (&struct spice_image_thread.flags): none in version 1. */

/**
 * struct spice_image_thread - One thread.
 */
struct spice_image_thread {
	/** @tid: Thread id at dump time; unique in the image. */
	__s32 tid;
	/** @flags: Must be zero. */
	__u32 flags;
	/**
	 * @regs: General registers in the layout of the architecture's
	 * NT_PRSTATUS regset (struct user_regs_struct: 27 words on x86_64,
	 * fs_base and gs_base included), zero-padded.
	 */
	__u64 regs[32];
	/**
	 * @xstate: Extended register state in the layout of the NT_X86_XSTATE
	 * regset; at most %SPICE_IMAGE_MAX_XSTATE bytes.
	 */
	struct spice_image_ref xstate;
	/** @sigmask: Blocked signals; bit n - 1 for signal n. */
	__u64 sigmask;
	/** @ss_sp: Alternate signal stack base (sigaltstack(2)). */
	__u64 ss_sp;
	/** @ss_size: Alternate signal stack size. */
	__u64 ss_size;
	/** @ss_flags: Alternate signal stack flags. */
	__u32 ss_flags;
	/** @rseq_len: Length of the rseq area, or zero if none. */
	__u32 rseq_len;
	/** @rseq: Address of the registered rseq area, or zero. */
	__u64 rseq;
	/** @rseq_sig: Signature of the rseq registration. */
	__u32 rseq_sig;
	/** @reserved0: Must be zero. */
	__u32 reserved0;
	/** @robust_list: Head of the robust futex list, or zero. */
	__u64 robust_list;
	/** @robust_list_len: Length of the robust list head. */
	__u64 robust_list_len;
	/** @clear_child_tid: Address set by set_tid_address(2), or zero. */
	__u64 clear_child_tid;
	/**
	 * @timer_slack_ns: prctl(PR_GET_TIMERSLACK); zero keeps the new
	 * thread's default.
	 */
	__u64 timer_slack_ns;
	/** @pdeath_signal: prctl(PR_GET_PDEATHSIG): a signal, or zero. */
	__u32 pdeath_signal;
	/**
	 * @sched_policy: SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH or
	 * SCHED_IDLE, with SCHED_RESET_ON_FORK if the thread had it, as
	 * sched_getscheduler(2) returns it.
	 */
	__u32 sched_policy;
	/** @sched_priority: 1 to 99 for SCHED_FIFO and SCHED_RR, else zero. */
	__u32 sched_priority;
	/** @nice: The nice value, -20 to 19, as getpriority(2) gives it. */
	__s32 nice;
	/** @reserved: Must be zero. */
	__u64 reserved;
};

/* Entries of a non-empty %SPICE_SECT_RLIMITS: RLIMIT_CPU to RLIMIT_RTTIME. */
#define SPICE_IMAGE_NR_RLIMITS	16

/**
 * struct spice_image_rlimit - One resource limit, as struct rlimit64.
 */
struct spice_image_rlimit {
	/** @cur: Soft limit; at most @max.  ~0 is RLIM_INFINITY. */
	__u64 cur;
	/** @max: Hard limit. */
	__u64 max;
};

/* Entries of a non-empty %SPICE_SECT_ITIMERS: ITIMER_REAL to ITIMER_PROF. */
#define SPICE_IMAGE_NR_ITIMERS	3

/**
 * struct spice_image_itimer - One interval timer, as setitimer(2) sets it.
 *
 * Times are in nanoseconds, at most 2^63 - 1: real time for ITIMER_REAL,
 * the process's CPU time for the others.
 */
struct spice_image_itimer {
	/**
	 * @value_ns: Time left until the timer expires, counted again from
	 * the restore; zero: disarmed.
	 */
	__u64 value_ns;
	/** @interval_ns: Reload value after an expiry; zero: once only. */
	__u64 interval_ns;
};

/**
 * struct spice_image_posix_timer - A POSIX timer, as timer_create(2) made it.
 *
 * Times are in nanoseconds, at most 2^63 - 1, counted again from the
 * restore (a timer armed with TIMER_ABSTIME comes back relative).
 */
struct spice_image_posix_timer {
	/** @id: Its id, from 0 to 2^31 - 1. */
	__s32 id;
	/**
	 * @clock: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
	 * CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM or CLOCK_TAI.
	 */
	__s32 clock;
	/**
	 * @notify: SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD (a signal to the
	 * process, for the kernel) or SIGEV_SIGNAL | SIGEV_THREAD_ID (which
	 * glibc's SIGEV_THREAD timers are).
	 */
	__s32 notify;
	/**
	 * @signo: The signal it sends, 1 to 64; for SIGEV_NONE, the one it
	 * was given (0 to 64), never sent.
	 */
	__s32 signo;
	/**
	 * @thread: Index in %SPICE_SECT_THREADS of the thread its signal goes
	 * to, for SIGEV_THREAD_ID; else %SPICE_IMAGE_NONE.
	 */
	__u32 thread;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @value: The sigev_value its signal carries. */
	__u64 value;
	/** @value_ns: Time left until it expires; zero: disarmed. */
	__u64 value_ns;
	/** @interval_ns: Its reload value after an expiry; zero: once only. */
	__u64 interval_ns;
};

/**
 * struct spice_image_signal - A pending signal and its information.
 */
struct spice_image_signal {
	/**
	 * @thread: Index in %SPICE_SECT_THREADS of the thread it is pending
	 * for (tgkill(2), a fault), or %SPICE_IMAGE_NONE for the process as a
	 * whole (kill(2)).
	 */
	__u32 thread;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/**
	 * @info: Its siginfo_t as PTRACE_PEEKSIGINFO reads it: si_signo from
	 * 1 to 64, neither SIGKILL nor SIGSTOP, and a standard signal (below
	 * SIGRTMIN) at most once per queue; bytes 48 to 127 zero.
	 */
	__u8 info[128];
};

/*
 * Kinds of file lock (&struct spice_image_lock.kind), as /proc/PID/fdinfo
 * names them: flock(2) (FLOCK), fcntl(2) record locks owned by the
 * process (POSIX) and by the open file (OFDLCK).
 */
#define SPICE_LOCK_FLOCK	1
#define SPICE_LOCK_POSIX	2
#define SPICE_LOCK_OFD		3

/* &struct spice_image_lock.type: a shared (read) or exclusive (write) lock. */
#define SPICE_LOCK_READ		0
#define SPICE_LOCK_WRITE	1

/* &struct spice_image_lock.end of a lock that runs to the end of any file. */
#define SPICE_LOCK_EOF		0x7fffffffffffffffULL

/**
 * struct spice_image_lock - A file lock the process held.
 *
 * Set again before the point of no return as flock(LOCK_NB) or
 * fcntl(F_SETLK) would set it on the restored fd, so that a conflicting
 * lock held by another process fails the restore instead of being waited
 * for.
 */
struct spice_image_lock {
	/**
	 * @fd: The %SPICE_FD_FILE fd it was set through, the first of its open
	 * file (&struct spice_image_fd.shares zero), open with a mode that
	 * allows the lock.  A flock or OFD lock belongs to the open file; a
	 * POSIX lock to the process, which drops it when it closes any fd of
	 * the file.  A flock lock, one at most, comes first among the locks of
	 * its fd.
	 */
	__s32 fd;
	/** @kind: %SPICE_LOCK_FLOCK, %SPICE_LOCK_POSIX or %SPICE_LOCK_OFD. */
	__u32 kind;
	/** @type: %SPICE_LOCK_READ or %SPICE_LOCK_WRITE. */
	__u32 type;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @start: First byte locked; zero for a flock lock. */
	__u64 start;
	/**
	 * @end: Last byte locked, at or above @start, or %SPICE_LOCK_EOF;
	 * %SPICE_LOCK_EOF for a flock lock.
	 */
	__u64 end;
};

/**
 * struct spice_image_sigaction - Disposition of one signal.
 */
struct spice_image_sigaction {
	/** @handler: SIG_DFL (0), SIG_IGN (1) or the handler's address. */
	__u64 handler;
	/** @flags: SA_* flags, as the kernel's struct sigaction. */
	__u64 flags;
	/** @restorer: SA_RESTORER trampoline, or zero. */
	__u64 restorer;
	/** @mask: Signals blocked during the handler. */
	__u64 mask;
};

/*
 * File flags (&struct spice_image_file.flags):
 *
 * - %SPICE_FILE_HAS_SHA256: @sha256 holds the SHA-256 of the contents.
 * - %SPICE_FILE_HAS_GENERATION: @generation holds the inode generation
 *   (FS_IOC_GETVERSION).
 * - %SPICE_FILE_MADE: The file had no name to open it by: a memfd, or a
 *   regular file deleted while open or made with O_TMPFILE.  It is made
 *   anew, as its entry of %SPICE_SECT_MADE_FILES says, @size bytes long,
 *   holding the data of its %SPICE_SECT_FILE_DATA extents (zero elsewhere),
 *   with the permission bits of @mode.  @path is where it was, as /proc
 *   showed it without " (deleted)"; @mtime_sec, @mtime_nsec and @ino are
 *   informational.  Not with the other flags.
 */
#define SPICE_FILE_HAS_SHA256		(1U << 0)
#define SPICE_FILE_HAS_GENERATION	(1U << 1)
#define SPICE_FILE_MADE			(1U << 2)

/**
 * struct spice_image_file - A file the process maps or has open.
 *
 * At restore the file is opened by @path and must still match: same type,
 * size and modification time, and the same content hash or generation when
 * the image records one.  A changed file fails the restore instead of being
 * mapped.
 */
struct spice_image_file {
	/** @path: Absolute path, without a terminating NUL. */
	struct spice_image_ref path;
	/** @mode: st_mode: a regular file, directory or character device. */
	__u32 mode;
	/** @flags: Bitmask of SPICE_FILE_* flags. */
	__u32 flags;
	/** @size: st_size. */
	__u64 size;
	/** @mtime_sec: st_mtim.tv_sec. */
	__s64 mtime_sec;
	/** @mtime_nsec: st_mtim.tv_nsec, below 10^9. */
	__u32 mtime_nsec;
	/** @generation: Inode generation, with %SPICE_FILE_HAS_GENERATION. */
	__u32 generation;
	/** @ino: st_ino at dump time; informational. */
	__u64 ino;
	/** @rdev: st_rdev of a character device, zero otherwise. */
	__u64 rdev;
	/** @sha256: SHA-256 of the contents, with %SPICE_FILE_HAS_SHA256. */
	__u8 sha256[32];
};

/**
 * enum spice_image_made_kind - What a %SPICE_FILE_MADE file is made as.
 */
enum spice_image_made_kind {
	/**
	 * @SPICE_MADE_MEMFD: A memfd, as memfd_create(2) makes one, named as
	 * the file's path after its "/memfd:" prefix, with the seals of
	 * &struct spice_image_made_file.seals.  Executable (MFD_EXEC) unless
	 * it has F_SEAL_EXEC and no execute permission (MFD_NOEXEC_SEAL),
	 * which is what vm.memfd_noexec allows or refuses.
	 */
	SPICE_MADE_MEMFD = 1,
	/**
	 * @SPICE_MADE_UNLINKED: A regular file with no link, on the kernel's
	 * internal tmpfs (as shared anonymous memory is), named as the last
	 * component of the file's path.
	 */
	SPICE_MADE_UNLINKED = 2,
};

/* Seals a %SPICE_MADE_MEMFD may have: F_SEAL_SEAL to F_SEAL_EXEC. */
#define SPICE_MADE_SEALS	0x3f

/**
 * struct spice_image_made_file - How a %SPICE_FILE_MADE file is made.
 *
 * Made before the point of no return, owned by the caller, charged as its
 * own memfd or tmpfs file would be; the fds and mappings of the file get
 * it, each fd its own open file as the image says.
 */
struct spice_image_made_file {
	/** @file: Index in %SPICE_SECT_FILES of a %SPICE_FILE_MADE file. */
	__u32 file;
	/** @kind: One of &enum spice_image_made_kind. */
	__u32 kind;
	/**
	 * @seals: For a %SPICE_MADE_MEMFD, what F_GET_SEALS returned: bits
	 * of %SPICE_MADE_SEALS, F_SEAL_SEAL for a memfd made without
	 * MFD_ALLOW_SEALING; F_SEAL_EXEC on an executable one comes with the
	 * seals F_ADD_SEALS adds with it (F_SEAL_SHRINK, F_SEAL_GROW,
	 * F_SEAL_WRITE, F_SEAL_FUTURE_WRITE).  Set once the contents are in.
	 * Zero otherwise.
	 */
	__u32 seals;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

/**
 * struct spice_image_file_extent - A run of a made file's contents.
 *
 * The extents of one file do not overlap and lie inside its size rounded
 * up to a page; bytes past the size are dropped.
 */
struct spice_image_file_extent {
	/** @file: Index in %SPICE_SECT_FILES of a %SPICE_FILE_MADE file. */
	__u32 file;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @pos: Position in the file; page-aligned. */
	__u64 pos;
	/** @len: Length in bytes; page-aligned, not zero. */
	__u64 len;
	/** @offset: Offset of the bytes in the image's data; page-aligned. */
	__u64 offset;
};

/**
 * enum spice_image_fd_type - How an fd is restored.
 */
enum spice_image_fd_type {
	/**
	 * @SPICE_FD_FILE: A regular file or directory (or character device),
	 * reopened by the path of &struct spice_image_fd.file.
	 */
	SPICE_FD_FILE = 1,
	/**
	 * @SPICE_FD_SUPPLIED: A pipe, socket or other object that the
	 * launcher supplies through &struct restore_process_args.fd_map.
	 */
	SPICE_FD_SUPPLIED = 2,
	/**
	 * @SPICE_FD_EVENTFD: An eventfd; @pos holds its counter and
	 * @type_flags its %SPICE_EVENTFD_SEMAPHORE mode.
	 */
	SPICE_FD_EVENTFD = 3,
	/**
	 * @SPICE_FD_EPOLL: An epoll instance; its interest list is the
	 * entries of %SPICE_SECT_EPOLL whose @epfd is this fd.
	 */
	SPICE_FD_EPOLL = 4,
	/**
	 * @SPICE_FD_PIPE: One end of a pipe whose both ends the process
	 * held: the read end, or the write end with %SPICE_FD_SECOND_END.
	 * The pipe is made anew, with the default capacity, holding the
	 * bytes of @data; the fds with the same @object share it.
	 */
	SPICE_FD_PIPE = 5,
	/**
	 * @SPICE_FD_SOCKETPAIR: One socket of an AF_UNIX socket pair whose
	 * both sockets the process held (socketpair(2)); the second with
	 * %SPICE_FD_SECOND_END.  The pair is made anew, with nothing queued
	 * and no socket options set; its type is in @type_flags.
	 */
	SPICE_FD_SOCKETPAIR = 6,
	/**
	 * @SPICE_FD_SIGNALFD: A signalfd; @pos holds the mask of the
	 * signals it reads (bit n - 1 for signal n; never SIGKILL or
	 * SIGSTOP).
	 */
	SPICE_FD_SIGNALFD = 7,
	/**
	 * @SPICE_FD_TIMERFD: A timerfd; its clock and timer are its entry of
	 * %SPICE_SECT_TIMERFDS.
	 */
	SPICE_FD_TIMERFD = 8,
	/**
	 * @SPICE_FD_PIDFD: A pidfd of the process (pidfd_open(2) of its
	 * pid) or, open with O_EXCL (PIDFD_THREAD), of one of its threads:
	 * @object is the index of that thread in %SPICE_SECT_THREADS, zero
	 * for the process.
	 */
	SPICE_FD_PIDFD = 9,
	/**
	 * @SPICE_FD_SOCKET: A TCP, UDP or AF_UNIX socket made anew, as
	 * socket(2), setsockopt(2), bind(2) and listen(2) would make it for
	 * the caller; its entry of %SPICE_SECT_SOCKETS says how.
	 */
	SPICE_FD_SOCKET = 10,
};

/* &struct spice_image_fd.type_flags of a %SPICE_FD_EVENTFD: EFD_SEMAPHORE. */
#define SPICE_EVENTFD_SEMAPHORE	(1U << 0)

/*
 * &struct spice_image_fd.type_flags of a %SPICE_FD_PIPE or a
 * %SPICE_FD_SOCKETPAIR: which end; for a socket pair, also exactly one of
 * its types, SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
 */
#define SPICE_FD_SECOND_END		(1U << 0)
#define SPICE_SOCKETPAIR_STREAM		(1U << 1)
#define SPICE_SOCKETPAIR_DGRAM		(1U << 2)
#define SPICE_SOCKETPAIR_SEQPACKET	(1U << 3)
#define SPICE_SOCKETPAIR_TYPES		(SPICE_SOCKETPAIR_STREAM | \
					 SPICE_SOCKETPAIR_DGRAM | \
					 SPICE_SOCKETPAIR_SEQPACKET)

/**
 * struct spice_image_fd - An open file descriptor.
 */
struct spice_image_fd {
	/** @fd: Descriptor number; unique, below %SPICE_IMAGE_MAX_FD. */
	__s32 fd;
	/** @type: One of &enum spice_image_fd_type. */
	__u32 type;
	/** @open_flags: O_* flags of the open file (fdinfo "flags"). */
	__u32 open_flags;
	/** @fd_flags: FD_CLOEXEC or zero. */
	__u32 fd_flags;
	/** @file: Index in the file table for %SPICE_FD_FILE, else none. */
	__u32 file;
	/**
	 * @type_flags: %SPICE_EVENTFD_SEMAPHORE for an eventfd; the end,
	 * and the type of a socket pair, for a pipe or socket pair
	 * (%SPICE_FD_SECOND_END, %SPICE_SOCKETPAIR_TYPES); zero for the
	 * other types.
	 */
	__u32 type_flags;
	/**
	 * @pos: File position; the counter of an eventfd; the signal mask of
	 * a signalfd.
	 */
	__u64 pos;
	/**
	 * @object: For a pipe or socket pair, the index in the fd table of
	 * the first fd (the lowest) that refers to it, the same for every
	 * fd of that pipe or pair; fds of the same end share one open file.
	 * For a pidfd, the index of its thread in %SPICE_SECT_THREADS.  Zero
	 * for the other types.
	 */
	__u32 object;
	/**
	 * @data: For the first fd of a pipe (the one at index @object), the
	 * bytes the pipe held unread, at most %SPICE_IMAGE_MAX_PIPE_DATA;
	 * empty for every other fd.
	 */
	struct spice_image_ref data;
	/**
	 * @shares: For an fd that shares its open file (offset, flags) with
	 * an earlier one, as dup(2) makes them: 1 + the index in the fd table
	 * of the first fd of that open file, whose fields it repeats; zero for
	 * the first.  For %SPICE_FD_FILE, %SPICE_FD_SUPPLIED, %SPICE_FD_EVENTFD
	 * and %SPICE_FD_SIGNALFD; fds of a pipe or socket pair say it with
	 * @object.
	 */
	__u32 shares;
};

/*
 * Settime flags of a timerfd (&struct spice_image_timerfd.flags), as
 * timerfd_settime(2) takes and keeps them: TFD_TIMER_ABSTIME,
 * TFD_TIMER_CANCEL_ON_SET (which acts only with the first, on a realtime
 * clock).
 */
#define SPICE_TIMERFD_ABSTIME		(1U << 0)
#define SPICE_TIMERFD_CANCEL_ON_SET	(1U << 1)

/**
 * struct spice_image_timerfd - The timer of a timerfd.
 *
 * Made again as timerfd_create(2) and timerfd_settime(2) would make it for
 * the caller; the time left counts from the restore, and a timer armed
 * with %SPICE_TIMERFD_ABSTIME is armed at the absolute time the restore's
 * "now" plus the time left.
 */
struct spice_image_timerfd {
	/** @fd: The %SPICE_FD_TIMERFD fd. */
	__s32 fd;
	/**
	 * @clock: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME,
	 * CLOCK_REALTIME_ALARM or CLOCK_BOOTTIME_ALARM.
	 */
	__s32 clock;
	/** @flags: Bitmask of SPICE_TIMERFD_* flags. */
	__u32 flags;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @ticks: Expirations not read yet (what read(2) would return). */
	__u64 ticks;
	/** @value_ns: Time left, in nanoseconds; zero for a disarmed timer. */
	__u64 value_ns;
	/** @interval_ns: Interval, in nanoseconds; zero for a one-shot timer. */
	__u64 interval_ns;
};

/**
 * enum spice_image_socket_state - What a socket was doing.
 */
enum spice_image_socket_state {
	/** @SPICE_SOCKET_UNBOUND: Made by socket(2), neither bound nor connected. */
	SPICE_SOCKET_UNBOUND = 0,
	/** @SPICE_SOCKET_BOUND: Bound to &struct spice_image_socket.addr. */
	SPICE_SOCKET_BOUND = 1,
	/**
	 * @SPICE_SOCKET_LISTENING: Bound to &struct spice_image_socket.addr
	 * and listening, with &struct spice_image_socket.backlog.
	 */
	SPICE_SOCKET_LISTENING = 2,
	/**
	 * @SPICE_SOCKET_RESET: Connected (or connecting) to a peer when
	 * dumped; restored unbound, with ECONNRESET pending, so that its user
	 * connects again: a TCP socket fails its next read or write with it,
	 * a datagram socket its next read (a write, unconnected, fails with
	 * EDESTADDRREQ or ENOTCONN); a stream or seqpacket AF_UNIX socket is
	 * one whose peer closed, the first read or write failing with it.
	 */
	SPICE_SOCKET_RESET = 3,
};

/*
 * On/off socket options (&struct spice_image_socket.options), each set with
 * setsockopt(2) to 1 before the socket is bound: SO_REUSEADDR,
 * SO_KEEPALIVE, SO_BROADCAST, SO_OOBINLINE; SO_PASSCRED on an AF_UNIX
 * socket; SO_REUSEPORT and IP_FREEBIND on an AF_INET or AF_INET6 one
 * (IPV6_FREEBIND is the same flag); TCP_NODELAY on a TCP one.  IPV6_V6ONLY,
 * on AF_INET6 only, is set to 0 or 1 either way: a new socket's default is
 * net.ipv6.bindv6only's.  %SPICE_SOCKOPT_LINGER: SO_LINGER on, for
 * &struct spice_image_socket.linger seconds.  %SPICE_SOCKOPT_RCVBUFFORCE
 * and %SPICE_SOCKOPT_SNDBUFFORCE: the buffer size, above what SO_RCVBUF or
 * SO_SNDBUF allowed when dumped, is set with SO_RCVBUFFORCE or
 * SO_SNDBUFFORCE (which need CAP_NET_ADMIN); without them SO_RCVBUF and
 * SO_SNDBUF set it, clamped to the restoring system's maximum.
 */
#define SPICE_SOCKOPT_REUSEADDR		(1U << 0)
#define SPICE_SOCKOPT_REUSEPORT		(1U << 1)
#define SPICE_SOCKOPT_KEEPALIVE		(1U << 2)
#define SPICE_SOCKOPT_BROADCAST		(1U << 3)
#define SPICE_SOCKOPT_OOBINLINE		(1U << 4)
#define SPICE_SOCKOPT_PASSCRED		(1U << 5)
#define SPICE_SOCKOPT_LINGER		(1U << 6)
#define SPICE_SOCKOPT_TCP_NODELAY	(1U << 7)
#define SPICE_SOCKOPT_V6ONLY		(1U << 8)
#define SPICE_SOCKOPT_FREEBIND		(1U << 9)
#define SPICE_SOCKOPT_RCVBUFFORCE	(1U << 10)
#define SPICE_SOCKOPT_SNDBUFFORCE	(1U << 11)
#define SPICE_SOCKOPTS			0xfffU

/* Bytes of &struct spice_image_socket.addr: a struct sockaddr_un. */
#define SPICE_SOCKET_ADDR_MAX		112

/**
 * struct spice_image_socket - A socket the restore makes anew.
 *
 * Made before the point of no return in the caller's network namespace,
 * with its credentials and security checks, as the caller would make it:
 * socket(2) with @family, @type and @protocol; setsockopt(2) for each
 * option set; then, once everything else that can fail has been checked,
 * bind(2) to @addr and listen(2) with @backlog.  The restore
 * fails with the errno of the first of them that fails (EADDRINUSE for an
 * address another socket holds).  A valued option of zero is left as a new socket
 * has it.  Nothing queued on the socket, and no connection, is restored.
 */
struct spice_image_socket {
	/** @fd: The %SPICE_FD_SOCKET fd. */
	__s32 fd;
	/** @family: AF_UNIX, AF_INET or AF_INET6. */
	__u16 family;
	/** @state: One of &enum spice_image_socket_state. */
	__u16 state;
	/**
	 * @type: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET (AF_UNIX only),
	 * without SOCK_NONBLOCK or SOCK_CLOEXEC (the fd's flags say them).
	 */
	__u32 type;
	/**
	 * @protocol: IPPROTO_TCP for an AF_INET or AF_INET6 stream socket,
	 * IPPROTO_UDP for a datagram one, 0 for AF_UNIX.
	 */
	__u32 protocol;
	/**
	 * @backlog: For %SPICE_SOCKET_LISTENING, the backlog the socket kept
	 * (listen(2)'s, at most net.core.somaxconn then); listen(2) clamps it
	 * to the caller's net.core.somaxconn again.  Zero otherwise.
	 */
	__u32 backlog;
	/** @options: Bitmask of SPICE_SOCKOPT_* flags. */
	__u32 options;
	/** @rcvbuf: SO_RCVBUF as set (half what getsockopt(2) returns). */
	__u32 rcvbuf;
	/** @sndbuf: SO_SNDBUF as set (half what getsockopt(2) returns). */
	__u32 sndbuf;
	/** @linger: SO_LINGER time in seconds, with %SPICE_SOCKOPT_LINGER. */
	__u32 linger;
	/** @priority: SO_PRIORITY. */
	__u32 priority;
	/** @mark: SO_MARK. */
	__u32 mark;
	/** @tcp_defer_accept: TCP_DEFER_ACCEPT, in seconds. */
	__u32 tcp_defer_accept;
	/** @tcp_fastopen: TCP_FASTOPEN: the queue of a listening socket. */
	__u32 tcp_fastopen;
	/** @tcp_keepidle: TCP_KEEPIDLE, in seconds. */
	__u32 tcp_keepidle;
	/** @tcp_keepintvl: TCP_KEEPINTVL, in seconds. */
	__u32 tcp_keepintvl;
	/** @tcp_keepcnt: TCP_KEEPCNT. */
	__u32 tcp_keepcnt;
	/** @tcp_user_timeout: TCP_USER_TIMEOUT, in milliseconds. */
	__u32 tcp_user_timeout;
	/**
	 * @addr_len: Bytes of @addr, as getsockname(2) gives them; zero for
	 * %SPICE_SOCKET_UNBOUND and %SPICE_SOCKET_RESET.
	 */
	__u32 addr_len;
	/** @rcvtimeo_us: SO_RCVTIMEO, in microseconds. */
	__u64 rcvtimeo_us;
	/** @sndtimeo_us: SO_SNDTIMEO, in microseconds. */
	__u64 sndtimeo_us;
	/**
	 * @bind_dev: SO_BINDTODEVICE: the name of the interface, NUL-padded;
	 * empty for none.
	 */
	char bind_dev[16];
	/**
	 * @addr: The address bound to: a struct sockaddr_in, sockaddr_in6 or
	 * sockaddr_un of @family, port included.  An AF_UNIX path is absolute;
	 * an abstract name starts with a NUL byte.  Zero past @addr_len.
	 */
	__u8 addr[SPICE_SOCKET_ADDR_MAX];
};

/*
 * Event bits an epoll watch may hold (&struct spice_image_epoll_watch):
 * EPOLLIN to EPOLLMSG (0x7ff), EPOLLRDHUP (0x2000) and the input flags
 * EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT and EPOLLET (bits 28 to 31).
 * A watch disarmed by EPOLLONESHOT holds no poll bit.
 */
#define SPICE_EPOLL_EVENTS	0xf00027ffU

/**
 * struct spice_image_epoll_watch - One entry of an epoll interest list.
 *
 * Restored with EPOLL_CTL_ADD once every fd of the process is in place,
 * so the watch sees the target's readiness as it is then; an edge that
 * fired and was consumed before the dump may be reported once more.
 */
struct spice_image_epoll_watch {
	/** @epfd: The %SPICE_FD_EPOLL fd whose list holds the watch. */
	__s32 epfd;
	/**
	 * @tfd: The watched fd, as registered (fdinfo "tfd"); an fd of the
	 * image other than @epfd.
	 */
	__s32 tfd;
	/** @events: EPOLL* bits of the watch, within %SPICE_EPOLL_EVENTS. */
	__u32 events;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @data: The user data returned with the watch's events. */
	__u64 data;
};

/*
 * VMA flags (&struct spice_image_vma.flags): bits 0 to 15 are those of
 * &struct mmap_restore_region.flags; the others say what a mapping is for.
 *
 * - %SPICE_VMA_SHARED, %SPICE_VMA_GROWSDOWN, %SPICE_VMA_NORESERVE,
 *   %SPICE_VMA_LOCKED, %SPICE_VMA_LOCKONFAULT, %SPICE_VMA_DONTFORK,
 *   %SPICE_VMA_WIPEONFORK, %SPICE_VMA_DONTDUMP, %SPICE_VMA_HUGEPAGE,
 *   %SPICE_VMA_NOHUGEPAGE, %SPICE_VMA_SEQUENTIAL, %SPICE_VMA_RANDOM: as
 *   MMAP_RESTORE_REGION_*.
 * - %SPICE_VMA_HEAP: the [heap] of brk(2).
 * - %SPICE_VMA_STACK: the main thread's [stack].
 * - %SPICE_VMA_VDSO, %SPICE_VMA_VVAR: the kernel's special mappings; they
 *   carry no contents and are placed by the kernel at restore.
 * - %SPICE_VMA_MAYWRITE: a shared file mapping that mprotect(2) may make
 *   writable (its file was open for writing); the file is opened for
 *   writing at restore.
 */
#define SPICE_VMA_SHARED	MMAP_RESTORE_REGION_SHARED
#define SPICE_VMA_GROWSDOWN	MMAP_RESTORE_REGION_GROWSDOWN
#define SPICE_VMA_NORESERVE	MMAP_RESTORE_REGION_NORESERVE
#define SPICE_VMA_LOCKED	MMAP_RESTORE_REGION_LOCKED
#define SPICE_VMA_LOCKONFAULT	MMAP_RESTORE_REGION_LOCKONFAULT
#define SPICE_VMA_DONTFORK	MMAP_RESTORE_REGION_DONTFORK
#define SPICE_VMA_WIPEONFORK	MMAP_RESTORE_REGION_WIPEONFORK
#define SPICE_VMA_DONTDUMP	MMAP_RESTORE_REGION_DONTDUMP
#define SPICE_VMA_HUGEPAGE	MMAP_RESTORE_REGION_HUGEPAGE
#define SPICE_VMA_NOHUGEPAGE	MMAP_RESTORE_REGION_NOHUGEPAGE
#define SPICE_VMA_SEQUENTIAL	MMAP_RESTORE_REGION_SEQUENTIAL
#define SPICE_VMA_RANDOM	MMAP_RESTORE_REGION_RANDOM
#define SPICE_VMA_HEAP		(1U << 16)
#define SPICE_VMA_STACK		(1U << 17)
#define SPICE_VMA_VDSO		(1U << 18)
#define SPICE_VMA_VVAR		(1U << 19)
#define SPICE_VMA_MAYWRITE	(1U << 20)

/**
 * struct spice_image_vma - One mapping.
 *
 * VMAs are sorted and disjoint.  The intervals of VMA n follow those of VMA
 * n - 1 in the interval table; together they cover the table.  A page no
 * interval covers comes from the backing file, or is zero when there is
 * none, as for mmap_restore().
 */
struct spice_image_vma {
	/** @start: First address; page-aligned. */
	__u64 start;
	/** @end: Address after the last byte; page-aligned, above @start. */
	__u64 end;
	/** @pgoff: Offset in the backing file of @start; zero if anonymous. */
	__u64 pgoff;
	/** @prot: PROT_READ, PROT_WRITE and PROT_EXEC. */
	__u32 prot;
	/** @flags: Bitmask of SPICE_VMA_* flags. */
	__u32 flags;
	/** @file: Index of the backing file in the file table, or none. */
	__u32 file;
	/** @first_interval: Index of the VMA's first interval. */
	__u32 first_interval;
	/** @nr_intervals: Number of intervals of the VMA. */
	__u32 nr_intervals;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

/* Limits that a reader enforces; an image beyond them is rejected. */
#define SPICE_IMAGE_MAX_SECTIONS	32
#define SPICE_IMAGE_MAX_METADATA	(256ULL << 20)
#define SPICE_IMAGE_MAX_THREADS		4096
#define SPICE_IMAGE_MAX_FILES		65536
#define SPICE_IMAGE_MAX_FDS		65536
#define SPICE_IMAGE_MAX_FD		(1 << 20)
#define SPICE_IMAGE_MAX_EPOLL_WATCHES	65536
#define SPICE_IMAGE_MAX_SIGNALS		65536
#define SPICE_IMAGE_MAX_POSIX_TIMERS	65536
#define SPICE_IMAGE_MAX_LOCKS		65536
#define SPICE_IMAGE_MAX_FILE_EXTENTS	(1U << 20)
#define SPICE_IMAGE_MAX_PIPE_DATA	65536
#define SPICE_IMAGE_MAX_VMAS		MMAP_RESTORE_MAX_REGIONS
#define SPICE_IMAGE_MAX_INTERVALS	MMAP_RESTORE_MAX_INTERVALS
#define SPICE_IMAGE_MAX_WS		MMAP_RESTORE_MAX_WS
#define SPICE_IMAGE_MAX_BLOBS		(16U << 20)
#define SPICE_IMAGE_MAX_XSTATE		(64U << 10)
#define SPICE_IMAGE_MAX_AUXV		4096
#define SPICE_IMAGE_MAX_PATH		4095

/*
 * restore_process(2)
 */

/**
 * struct restore_process_fd - An fd that the launcher supplies.
 *
 * The restored process gets a duplicate of the launcher's @fd as its
 * descriptor @image_fd, instead of what the image records for that number.
 */
struct restore_process_fd {
	/** @image_fd: Descriptor number in the restored process. */
	__s32 image_fd;
	/** @fd: The launcher's descriptor to install there. */
	__s32 fd;
	/** @flags: Must be zero. */
	__u32 flags;
	/** @reserved: Must be zero. */
	__u32 reserved;
};

/**
 * struct restore_process_args - Arguments of restore_process().
 *
 * This structure can grow; the caller passes its size to the call.
 */
struct restore_process_args {
	/**
	 * @fd_map: Pointer to an array of &struct restore_process_fd, or
	 * zero.  Each @image_fd appears at most once.
	 */
	__u64 fd_map;
	/** @nr_fd_map: Number of entries in @fd_map. */
	__u32 nr_fd_map;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/**
	 * @stats_fd: With %RESTORE_PROCESS_STATS, a pipe open for writing:
	 * once the process is restored, the kernel writes one &struct
	 * restore_process_stats to it.  Ignored without the flag.
	 */
	__s32 stats_fd;
	/** @reserved2: Must be zero. */
	__u32 reserved2;
};

#define RESTORE_PROCESS_ARGS_SIZE_VER0	24 /* sizeof first published struct */

/*
 * restore_process() flags:
 *
 * - %RESTORE_PROCESS_STATS: Report where the time went to
 *   &struct restore_process_args.stats_fd.
 * - %RESTORE_PROCESS_NEW_TIDS: Give the threads after the first new thread
 *   ids instead of the ones they had (which runtimes may have cached).
 * - %RESTORE_PROCESS_ABI_VERSION: Return %SPICE_ABI_VERSION; @image_fd must
 *   be -1, the other arguments NULL, 0 and no other flag.
 */
#define RESTORE_PROCESS_STATS		(1U << 0)
#define RESTORE_PROCESS_NEW_TIDS	(1U << 1)
#define RESTORE_PROCESS_ABI_VERSION	(1U << 31)

/**
 * struct restore_process_stats - Where a successful restore's time went.
 *
 * Times are in nanoseconds of CLOCK_MONOTONIC, each phase measured in the
 * kernel, in the order they run; a launcher can set them against its own
 * clock with @start_ns.  The structure can grow at its end: the kernel
 * writes @size bytes in one pipe write (at most PIPE_BUF, so never split);
 * a reader reads up to PIPE_BUF bytes and uses what both know.
 */
struct restore_process_stats {
	/** @size: sizeof(struct restore_process_stats) of the kernel. */
	__u32 size;
	/** @nr_threads: Threads restored. */
	__u32 nr_threads;
	/** @start_ns: CLOCK_MONOTONIC when the call started. */
	__u64 start_ns;
	/** @image_ns: Reading and checking the image's metadata. */
	__u64 image_ns;
	/** @files_ns: Opening files, making fds, checking the rest. */
	__u64 files_ns;
	/**
	 * @memory_ns: Preparing memory (reading the working set's data),
	 * then building the new fd table.
	 */
	__u64 memory_ns;
	/**
	 * @commit_ns: From the point of no return to the first thread's
	 * state: unmapping, installing the memory, fds, signal state.
	 */
	__u64 commit_ns;
	/** @threads_ns: Creating the other threads. */
	__u64 threads_ns;
	/** @total_ns: From the start to the end of the restore. */
	__u64 total_ns;
	/** @nr_fds: Fds the restored process holds. */
	__u32 nr_fds;
	/** @nr_vmas: Mappings restored, the vDSO and vvar included. */
	__u32 nr_vmas;
	/** @pages_populated: Pages whose page-table entries were installed. */
	__u64 pages_populated;
	/** @pages_read: Pages read from the image file. */
	__u64 pages_read;
	/** @bytes_read: Bytes read from the image file. */
	__u64 bytes_read;
	/** @io_requests: Read requests issued to the image file. */
	__u64 io_requests;
	/** @pages_deferred: Pages of image data left for first touch. */
	__u64 pages_deferred;
};

/* Limit on &struct restore_process_args.nr_fd_map; more fail with -E2BIG. */
#define RESTORE_PROCESS_MAX_FD_MAP	1024

#endif /* _UAPI_LINUX_SPICE_H */
