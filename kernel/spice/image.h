/* SPDX-License-Identifier: GPL-2.0 */
/*
 * restore_process(): a snapshot image's metadata, read and checked.
 */
#ifndef _KERNEL_SPICE_IMAGE_H
#define _KERNEL_SPICE_IMAGE_H

#include <linux/types.h>
#include <uapi/linux/spice.h>

struct file;

#define SPICE_SECT_MAX	SPICE_SECT_FILE_DATA

/*
 * The metadata of an image, copied into the kernel and checked: every
 * table below is inside @meta and every index and reference in it is in
 * range.
 */
struct spice_image {
	void *meta;
	size_t meta_size;
	loff_t file_size;
	const struct spice_image_header *hdr;
	const struct spice_image_process *proc;
	const struct spice_image_thread *threads;
	const struct spice_image_sigaction *sigactions;	/* 64 or NULL */
	const struct spice_image_file *files;
	const struct spice_image_fd *fds;
	const struct spice_image_vma *vmas;
	const struct mmap_restore_interval *intervals;
	const struct mmap_restore_ws_range *ws;
	const char *blobs;
	const struct spice_image_epoll_watch *epoll;
	const struct spice_image_rlimit *rlimits;	/* 16 or NULL */
	const struct spice_image_itimer *itimers;	/* 3 or NULL */
	const struct spice_image_signal *signals;
	const struct spice_image_posix_timer *posix_timers;
	const struct spice_image_lock *locks;
	const struct spice_image_timerfd *timerfds;
	const struct spice_image_socket *sockets;
	const struct spice_image_made_file *made_files;
	const struct spice_image_file_extent *file_extents;
	u64 nr[SPICE_SECT_MAX + 1];	/* entries per section type */
};

int spice_image_check(struct spice_image *img, void *meta, size_t len,
		      loff_t file_size);
int spice_image_read(struct spice_image *img, struct file *image);
void spice_image_release(struct spice_image *img);
const struct spice_image_vma *spice_image_find_vma(const struct spice_image *img,
						   u64 addr);
const struct spice_image_fd *spice_image_find_fd(const struct spice_image *img,
						 s32 fd);
const struct spice_image_timerfd *
spice_image_find_timerfd(const struct spice_image *img, s32 fd);
const struct spice_image_socket *
spice_image_find_socket(const struct spice_image *img, s32 fd);
const char *spice_image_made_name(const struct spice_image *img,
				  const struct spice_image_file *f, u32 kind,
				  u32 *len);

static inline const void *spice_image_blob(const struct spice_image *img,
					   struct spice_image_ref ref)
{
	return img->blobs + ref.offset;
}

#endif /* _KERNEL_SPICE_IMAGE_H */
