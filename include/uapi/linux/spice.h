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
 *   it the region is private (as MAP_PRIVATE).
 * - %MMAP_RESTORE_REGION_GROWSDOWN: A stack that grows down (as
 *   MAP_GROWSDOWN).
 */
#define MMAP_RESTORE_REGION_SHARED	(1U << 0)
#define MMAP_RESTORE_REGION_GROWSDOWN	(1U << 1)

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
};

#define RESTORE_PROCESS_ARGS_SIZE_VER0	16 /* sizeof first published struct */

/*
 * restore_process() flags:
 *
 * - %RESTORE_PROCESS_ABI_VERSION: Return %SPICE_ABI_VERSION; @image_fd must
 *   be -1, the other arguments NULL, 0 and no other flag.
 */
#define RESTORE_PROCESS_ABI_VERSION	(1U << 31)

/* Limit on &struct restore_process_args.nr_fd_map; more fail with -E2BIG. */
#define RESTORE_PROCESS_MAX_FD_MAP	1024

#endif /* _UAPI_LINUX_SPICE_H */
