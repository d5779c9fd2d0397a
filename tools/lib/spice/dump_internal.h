/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The dumper's state, shared by its /proc, ptrace and memory parts. */
#ifndef __LIBSPICE_DUMP_INTERNAL_H
#define __LIBSPICE_DUMP_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <spice/dump.h>
#include <spice/image.h>

#include "internal.h"

struct dump_thread {
	pid_t tid;
	int seized;
	int pending_signal;	/* a signal it stopped for, handed back */
	siginfo_t pending_info;	/* and its information */
	struct user_regs_struct regs;
	void *xstate;
	size_t xstate_len;
	uint64_t sigmask;
};

/* A line of /proc/PID/maps with what smaps adds. */
struct dump_vma {
	uint64_t start, end, pgoff;	/* pgoff in bytes, as maps shows it */
	uint32_t prot, flags;	/* SPICE_VMA_* */
	uint64_t ino, dev;	/* as maps shows them (dev: major << 32 | minor) */
	uint64_t shared_kb;	/* smaps Shared_Clean + Shared_Dirty */
	char *path;		/* file path, or NULL */
	int deleted;		/* the path ends with " (deleted)" */
};

/* A file made anew at restore (dump_made.c), by its inode. */
struct dump_made {
	uint64_t dev, ino;
	int idx;		/* in the image's file table */
	uint32_t seals;		/* of a memfd */
	char *path;		/* as /proc shows it, without " (deleted)" */
};

/* Bytes of data a made file may hold in the image. */
#define SPICE_DUMP_MAX_MADE_DATA	(1024ULL * 1024 * 1024)

struct dump {
	pid_t pid;
	int mem_fd;		/* /proc/PID/mem */
	char *why;
	struct dump_thread threads[SPICE_IMAGE_MAX_THREADS];
	int nr_threads;
	struct dump_vma *vmas;
	int nr_vmas;
	uint64_t vdso_start, vdso_end, syscall_insn;
	struct spice_writer *w;
	struct dump_made *made;
	int nr_made;
	struct { uint64_t dev, ino; } *own;	/* unlinked files the dumper held */
	int nr_own;
	long own_pid;		/* the dumper, as /proc names it */
	uint64_t shm_dev;	/* of the kernel's internal tmpfs, once known */
	int shm_dev_known;
	const struct spice_dump_opts *opts;
	struct spice_dump_stats *stats;
};

int dump_fail(struct dump *d, int err, const char *fmt, ...);
int dump_read_mem(struct dump *d, uint64_t addr, void *buf, size_t len);

/* What spice_writer_add_file() records of the files the process uses. */
static inline uint32_t dump_file_flags(const struct dump *d)
{
	return d->opts->flags & SPICE_DUMP_HASH_FILES ? SPICE_FILE_HAS_SHA256 : 0;
}

/* Working-set ranges, built in address order as pages are found. */
struct dump_ws {
	struct mmap_restore_ws_range *r;
	size_t nr, cap;
};

int dump_ws_add(struct dump_ws *ws, const struct dump_vma *v, uint64_t addr,
		uint32_t flags);

/* dump_ptrace.c */
int dump_seize(struct dump *d);
void dump_release(struct dump *d, int kill_it);
int dump_read_regs(struct dump *d, struct dump_thread *t);
int dump_find_syscall_insn(struct dump *d);
long dump_inject(struct dump *d, struct dump_thread *t, long nr, long a1,
		 long a2, long a3, long a4);
uint64_t dump_scratch(const struct dump_thread *t, size_t len);

/* dump_proc.c */
int dump_read_maps(struct dump *d);
int dump_process(struct dump *d, struct spice_image_process *p);
int dump_read_file(pid_t pid, const char *name, char *buf, size_t len);
int dump_read_link(pid_t pid, const char *name, char *buf, size_t len);
int dump_ends_with(const char *s, const char *suffix);

/* An fd of the process as dump_fds() reads it, before it is written. */
struct dump_fd {
	struct spice_image_fd f;
	uint64_t ino;		/* of an anonymous pipe or a socket; else 0 */
	uint64_t st_dev, st_ino;	/* of the open file, whatever it is */
	int is_socket;
	int is_epoll;
	int locked;		/* fdinfo lists file locks */
	int supplied;		/* in spice_dump_opts.supplied */
	struct spice_image_socket *sock;	/* on a socket's first fd */
	void *data;		/* what its pipe holds, on a pipe's first fd */
	size_t data_len;
};

/* dump_fds.c */
int dump_fds(struct dump *d);
int dump_ino_supplied(const struct dump_fd *fds, int n, uint64_t ino);

/* dump_locks.c */
int dump_locks(struct dump *d, const struct dump_fd *e, int nr);

/* dump_timerfd.c */
int dump_timerfds(struct dump *d, const struct dump_fd *e, int nr);

/* dump_made.c */
int dump_made_file(struct dump *d, const char *proc_path, const char *link,
		   const char *what);
const struct dump_made *dump_find_made(const struct dump *d, int idx);
int dump_note_own_files(struct dump *d);
int dump_check_made_shared(struct dump *d);

/* dump_shmem.c */
int dump_vma_is_shmem(const struct dump_vma *v);
int dump_check_shmem(struct dump *d);
int dump_shmem_pages(struct dump *d, const struct dump_vma *v,
		     struct dump_ws *ws, char *buf, size_t buf_len);

/* dump_sigpending.c */
int dump_pending_signals(struct dump *d);

/* dump_timers.c */
int dump_itimers(struct dump *d);
int dump_posix_timers(struct dump *d);

/* dump_channels.c */
int dump_channels(struct dump *d, struct dump_fd *fds, int n);

/* dump_sockets.c */
int dump_sockets(struct dump *d, struct dump_fd *fds, int n);
int dump_write_sockets(struct dump *d, const struct dump_fd *fds, int n);

/* dump_sockdiag.c: what unix_diag says of one AF_UNIX socket. */
struct dump_unix_info {
	uint32_t peer;		/* peer's inode, 0 if none */
	uint32_t queued;	/* bytes to read, or sent and not yet read */
	uint32_t backlog;	/* of a listening socket */
	uint8_t type;		/* SOCK_STREAM, ... */
	uint8_t shutdown;	/* SHUT_RD/SHUT_WR done on it, as a mask */
	int named;		/* bound to a path or an abstract name */
};

/* TCP states as NETLINK_SOCK_DIAG numbers them (<net/tcp_states.h>). */
#define DUMP_TCP_CLOSE		7
#define DUMP_TCP_LISTEN		10
#define DUMP_TCP_BOUND_INACTIVE	13

int dump_unix_diag(int nl, uint32_t ino, struct dump_unix_info *out);
int dump_tcp_diag(int nl, int family, uint64_t ino, uint32_t states,
		  uint32_t *backlog);
int dump_tcp_state(int sfd, int *state);

/* dump_sched.c */
int dump_thread_sched(struct dump *d, pid_t tid, struct spice_image_thread *it);

/* dump_settings.c */
int dump_rlimits(struct dump *d);
int dump_proc_flags(struct dump *d, struct spice_image_process *p);
int dump_thread_prctl(struct dump *d, struct dump_thread *t,
		      struct spice_image_thread *it);

#endif /* __LIBSPICE_DUMP_INTERNAL_H */
