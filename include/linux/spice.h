/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Spice: interfaces between the parts of the series.
 *
 * mm/spice/ restores memory for mmap_restore() and, through the functions
 * below, for restore_process() in kernel/spice/.  The architecture provides
 * the per-thread state (registers, extended state, TLS bases) and the vDSO
 * placement; x86_64 implements them in arch/x86/kernel/spice.c.
 */
#ifndef _LINUX_SPICE_H
#define _LINUX_SPICE_H

#include <linux/types.h>
#include <uapi/linux/spice.h>

struct file;
struct spice_restore;
struct task_struct;

/* The tables of one memory restore, in kernel memory. */
struct mmap_restore_tables {
	struct mmap_restore_region *regions;
	struct mmap_restore_interval *intervals;
	struct mmap_restore_ws_range *ws;
	u32 nr_regions;
	u32 nr_intervals;
	u32 nr_ws;
};

/* mm/spice/regions.c */
bool mmap_restore_advice_ok(u32 flags, bool file);

/* mm/spice/mmap_restore.c */
struct spice_restore *spice_memory_prepare(const struct mmap_restore_tables *t,
					   struct file *image,
					   struct file **files);
int spice_memory_commit(struct spice_restore *sr);
const struct mmap_restore_stats *spice_memory_stats(const struct spice_restore *sr);
void spice_memory_free(struct spice_restore *sr);

/*
 * The architecture's half of restore_process(), for the calling task.
 * spice_arch_check_*() run before the point of no return and must reject
 * whatever spice_arch_set_*() would fail on; the setters run after it.
 */
int spice_arch_check_thread(const struct spice_image_thread *t,
			    const void *xstate, u32 xstate_len);
/* Returns the value the restored thread sees in its return register. */
long spice_arch_set_thread(const struct spice_image_thread *t,
			   const void *xstate);
/* The same for a new thread that has not run yet. */
void spice_arch_set_task(struct task_struct *p, const struct spice_image_thread *t,
			 const void *xstate);
/* The range the vDSO (and its data pages) will occupy at @vdso, or -errno. */
int spice_arch_vdso_range(u64 vdso, u64 *start, u64 *end);
int spice_arch_map_vdso(u64 vdso);

#endif /* _LINUX_SPICE_H */
