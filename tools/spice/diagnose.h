/* SPDX-License-Identifier: GPL-2.0 */
/* Why a restore of an image fails, named by object (diagnose.c). */
#ifndef __SPICE_DIAGNOSE_H
#define __SPICE_DIAGNOSE_H

struct spice_image;
struct restore_process_fd;

#define DIAGNOSE_ALL	1	/* every problem, not only the first */
#define DIAGNOSE_FILES	2	/* the image's files (may read them whole) */
#define DIAGNOSE_FDS	4	/* supplied fds missing from the map */
#define DIAGNOSE_TIDS	8	/* thread ids taken */
#define DIAGNOSE_SOCKETS 16	/* each socket made here and closed again */

/*
 * Print to stderr, each after @prefix, the problems found; returns how
 * many.  The limits, mappings and signals are always checked.
 */
int diagnose(const struct spice_image *img, const struct restore_process_fd *map,
	     unsigned int nr_map, unsigned int what, const char *prefix);

#endif /* __SPICE_DIAGNOSE_H */
