/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of mmap_restore() and of the memory part of restore_process():
 * what a restore plans to install, each read of the image, what it did,
 * and each page left pending that a first touch then restored.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM spice

#if !defined(_TRACE_SPICE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_SPICE_H

#include <linux/tracepoint.h>

TRACE_EVENT(spice_restore_plan,
	    TP_PROTO(u32 nr_regions, u32 nr_intervals, u32 nr_ws, u64 nr_pages,
		     unsigned int flags),
	    TP_ARGS(nr_regions, nr_intervals, nr_ws, nr_pages, flags),
	    TP_STRUCT__entry(__field(u32, nr_regions)
			     __field(u32, nr_intervals)
			     __field(u32, nr_ws)
			     __field(u64, nr_pages)
			     __field(unsigned int, flags)),
	    TP_fast_assign(__entry->nr_regions = nr_regions;
			   __entry->nr_intervals = nr_intervals;
			   __entry->nr_ws = nr_ws;
			   __entry->nr_pages = nr_pages;
			   __entry->flags = flags;),
	    TP_printk("regions=%u intervals=%u ws=%u pages=%llu flags=%#x",
		      __entry->nr_regions, __entry->nr_intervals, __entry->nr_ws,
		      __entry->nr_pages, __entry->flags)
);

TRACE_EVENT(spice_restore_read,
	    TP_PROTO(loff_t pos, unsigned int nr_pages, long ret),
	    TP_ARGS(pos, nr_pages, ret),
	    TP_STRUCT__entry(__field(loff_t, pos)
			     __field(unsigned int, nr_pages)
			     __field(long, ret)),
	    TP_fast_assign(__entry->pos = pos;
			   __entry->nr_pages = nr_pages;
			   __entry->ret = ret;),
	    TP_printk("pos=%lld pages=%u ret=%ld",
		      __entry->pos, __entry->nr_pages, __entry->ret)
);

TRACE_EVENT(spice_restore_done,
	    TP_PROTO(const struct mmap_restore_stats *st, int err),
	    TP_ARGS(st, err),
	    TP_STRUCT__entry(__field(u64, pages_populated)
			     __field(u64, pages_read)
			     __field(u64, io_requests)
			     __field(u64, pages_deferred)
			     __field(int, err)),
	    TP_fast_assign(__entry->pages_populated = st->pages_populated;
			   __entry->pages_read = st->pages_read;
			   __entry->io_requests = st->io_requests;
			   __entry->pages_deferred = st->pages_deferred;
			   __entry->err = err;),
	    TP_printk("populated=%llu read=%llu ios=%llu deferred=%llu err=%d",
		      __entry->pages_populated, __entry->pages_read,
		      __entry->io_requests, __entry->pages_deferred, __entry->err)
);

TRACE_EVENT(spice_pending_fault,
	    TP_PROTO(unsigned long address, pgoff_t image_page, unsigned int ret),
	    TP_ARGS(address, image_page, ret),
	    TP_STRUCT__entry(__field(unsigned long, address)
			     __field(pgoff_t, image_page)
			     __field(unsigned int, ret)),
	    TP_fast_assign(__entry->address = address;
			   __entry->image_page = image_page;
			   __entry->ret = ret;),
	    TP_printk("address=%#lx image_page=%lu ret=%#x",
		      __entry->address, __entry->image_page, __entry->ret)
);

#endif /* _TRACE_SPICE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
