/* SPDX-License-Identifier: GPL-2.0 */
/* First-touch order from the page-fault tracepoints (touch_order.c). */
#ifndef __SPICE_TOUCH_ORDER_H
#define __SPICE_TOUCH_ORDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Trace the page faults of this process and of the children it forks from
 * now on; 0, or -errno without tracefs or its x86 page-fault events.
 */
int touch_trace_start(void);
/* Stop tracing and leave tracefs's filters as they were by default. */
void touch_trace_stop(void);
/*
 * The addresses @pid faulted on since its restore_process() ended, in the
 * order it did (malloc'd into *@addrs, *@nr of them); 0 or -errno.
 */
int touch_trace_read(pid_t pid, uint64_t **addrs, size_t *nr);

#endif /* __SPICE_TOUCH_ORDER_H */
