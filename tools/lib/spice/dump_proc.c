// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The dumper's /proc side: mappings, mm layout, process state. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump_internal.h"

/* Read /proc/PID/@name into @buf (NUL-terminated); its length or -errno. */
int dump_read_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

int dump_read_link(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int dump_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Turn one smaps header line into a VMA; 1 to skip it, <0 on error. */
static int parse_vma(struct dump *d, const char *line, struct dump_vma *v)
{
	char perms[8];
	const char *path;
	unsigned long long start, end, pgoff, ino;
	unsigned int maj, min;
	int n = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms,
		   &pgoff, &maj, &min, &ino, &n) < 7 || !n)
		return dump_fail(d, -EINVAL, "cannot parse smaps line: %s", line);
	path = line + n;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->ino = ino;
	v->dev = (uint64_t)maj << 32 | min;
	v->prot = (perms[0] == 'r' ? PROT_READ : 0) |
		  (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	if (perms[3] == 's')
		v->flags |= SPICE_VMA_SHARED;
	if (!strcmp(path, "[vsyscall]"))
		return 1;	/* fixed by the kernel, above user space */
	if (!strcmp(path, "[vdso]")) {
		v->flags |= SPICE_VMA_VDSO;
		d->vdso_start = start;
		d->vdso_end = end;
	} else if (!strncmp(path, "[vvar", 5)) {
		v->flags |= SPICE_VMA_VVAR;
	} else if (!strcmp(path, "[heap]")) {
		v->flags |= SPICE_VMA_HEAP;
	} else if (!strcmp(path, "[stack]")) {
		v->flags |= SPICE_VMA_STACK;
	} else if (path[0] == '/' && (v->flags & SPICE_VMA_SHARED) &&
		   !strcmp(path, "/dev/zero (deleted)")) {
		/* Shared anonymous memory: where in its object, for aliases. */
		v->pgoff = pgoff;
	} else if (path[0] == '/') {
		/* A memfd or a deleted file: made anew (dump_made.c). */
		v->deleted = dump_ends_with(path, " (deleted)");
		v->path = strdup(path);
		if (!v->path)
			return -ENOMEM;
		v->pgoff = pgoff;
	} else if (path[0] && strncmp(path, "[anon:", 6) &&
		   strncmp(path, "[stack:", 7)) {
		return dump_fail(d, -EOPNOTSUPP, "[%#llx, %#llx): cannot dump %s",
				 start, end, path);
	}
	return 0;
}

/*
 * The VmFlags tokens of show_smap_vma_flags() and what the dumper does with
 * each: records it (@flag), refuses the mapping (@refuse), or, with
 * neither, knows it to be harmless.  A token not listed is refused too, so
 * that state a newer kernel shows is never dropped silently; "bt" and "mt"
 * (arm64) and "??" (a bit without a name) are among those.
 */
static const struct vm_flag {
	char name[3];
	uint32_t flag;
	const char *refuse;
} vm_flags[] = {
#define HARMLESS(n)		{ .name = n }
#define RECORD(n, f)		{ .name = n, .flag = f }
#define REFUSE(n, why)		{ .name = n, .refuse = why }
	/* Protection and sharing: the maps line has them. */
	HARMLESS("rd"), HARMLESS("wr"), HARMLESS("ex"), HARMLESS("sh"),
	HARMLESS("ms"),
	/* May-read and may-exec follow from the file and its mount. */
	HARMLESS("mr"), HARMLESS("me"),
	/* Commit accounting, which mmap() derives again; soft-dirty tracking. */
	HARMLESS("ac"), HARMLESS("sd"),
	/* Recorded on a shared file mapping only: see dump_vm_flags(). */
	RECORD("mw", SPICE_VMA_MAYWRITE),
	RECORD("gd", SPICE_VMA_GROWSDOWN),
	RECORD("nr", SPICE_VMA_NORESERVE),
	RECORD("lo", SPICE_VMA_LOCKED),
	RECORD("lf", SPICE_VMA_LOCKONFAULT),
	RECORD("dc", SPICE_VMA_DONTFORK),
	RECORD("wf", SPICE_VMA_WIPEONFORK),
	RECORD("dd", SPICE_VMA_DONTDUMP),
	RECORD("hg", SPICE_VMA_HUGEPAGE),
	RECORD("nh", SPICE_VMA_NOHUGEPAGE),
	RECORD("sr", SPICE_VMA_SEQUENTIAL),
	RECORD("rr", SPICE_VMA_RANDOM),
	REFUSE("mg", "KSM (MADV_MERGEABLE)"),
	REFUSE("um", "a userfaultfd registration (missing pages)"),
	REFUSE("uw", "a userfaultfd registration (write-protect)"),
	REFUSE("ui", "a userfaultfd registration (minor faults)"),
	REFUSE("ht", "hugetlb memory"),
	/* A driver's or the kernel's pages, not the process's memory. */
	REFUSE("pf", "a PFN mapping (VM_PFNMAP)"),
	REFUSE("io", "an I/O mapping (VM_IO)"),
	REFUSE("mm", "a mixed mapping (VM_MIXEDMAP)"),
	REFUSE("de", "a mapping that must not grow (VM_DONTEXPAND)"),
	/* x86: VM_PAT, the memory type of a driver's PFN mapping. */
	REFUSE("ar", "a mapping with a memory type (VM_ARCH_1)"),
	REFUSE("sf", "MAP_SYNC"),
	REFUSE("ss", "a shadow stack"),
	REFUSE("dp", "MAP_DROPPABLE"),
	REFUSE("sl", "a sealed mapping (mseal)"),
#undef HARMLESS
#undef RECORD
#undef REFUSE
};

/* Record or refuse what the VmFlags line @s says of @v. */
static int dump_vm_flags(struct dump *d, struct dump_vma *v, const char *s)
{
	const struct vm_flag *f;
	size_t len, i;

	/* The kernel places the vDSO and vvar itself, with their own flags. */
	if (v->flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR))
		return 0;
	for (s += strspn(s, " "); *s; s += len, s += strspn(s, " ")) {
		len = strcspn(s, " ");
		f = NULL;
		for (i = 0; i < ARRAY_SIZE(vm_flags) && !f; i++)
			if (len == strlen(vm_flags[i].name) &&
			    !memcmp(s, vm_flags[i].name, len))
				f = &vm_flags[i];
		if (!f)
			return dump_fail(d, -EOPNOTSUPP,
					 "vma %llx-%llx: VmFlags \"%.*s\" is not restored",
					 (unsigned long long)v->start,
					 (unsigned long long)v->end, (int)len, s);
		if (f->refuse)
			return dump_fail(d, -EOPNOTSUPP, "vma %llx-%llx: %s is not restored",
					 (unsigned long long)v->start,
					 (unsigned long long)v->end, f->refuse);
		/* Every private or anonymous mapping shows "mw": no news there. */
		if (f->flag == SPICE_VMA_MAYWRITE &&
		    !(v->path && (v->flags & SPICE_VMA_SHARED)))
			continue;
		v->flags |= f->flag;
	}
	return 0;
}

int dump_read_maps(struct dump *d)
{
	struct dump_vma *v = NULL, *q;
	char path[64], *line = NULL, *dash, *space;
	size_t cap = 0;
	int n = 0, err = 0, skip = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", d->pid);
	f = fopen(path, "re");
	if (!f)
		return dump_fail(d, -errno, "cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "VmFlags:", 8)) {
			err = skip ? 0 : dump_vm_flags(d, &v[n - 1], line + 8);
			if (err)
				break;
			continue;
		}
		/* Pages another mapping maps too (dump_check_shmem()). */
		if (!strncmp(line, "Shared_Clean:", 13) ||
		    !strncmp(line, "Shared_Dirty:", 13)) {
			if (!skip)
				v[n - 1].shared_kb += strtoull(line + 13, NULL, 10);
			continue;
		}
		/* Header lines start with "start-end "; the others with a key. */
		dash = strchr(line, '-');
		space = strchr(line, ' ');
		if (!dash || !space || dash > space)
			continue;
		if (n >= SPICE_IMAGE_MAX_VMAS) {
			err = dump_fail(d, -E2BIG, "more than %d mappings",
					SPICE_IMAGE_MAX_VMAS);
			break;
		}
		q = realloc(v, (n + 1) * sizeof(*v));
		if (!q) {
			err = -ENOMEM;
			break;
		}
		v = q;
		err = parse_vma(d, line, &v[n]);
		if (err < 0)
			break;
		skip = err;
		err = 0;
		if (!skip)
			n++;
	}
	free(line);
	fclose(f);
	d->vmas = v;
	d->nr_vmas = n;
	return err;
}

/* Field @k (1-based, as in proc(5)) of /proc/PID/stat. */
static uint64_t stat_field(const char *stat, int k)
{
	const char *p = strrchr(stat, ')');
	int i;

	if (!p)
		return 0;
	p += 2;	/* field 3 starts here */
	for (i = 3; i < k && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

int dump_process(struct dump *d, struct spice_image_process *p)
{
	char buf[4096], *s;
	int n;

	n = dump_read_file(d->pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return dump_fail(d, n, "cannot read /proc/%d/stat", d->pid);
	p->start_code = stat_field(buf, 26);
	p->end_code = stat_field(buf, 27);
	p->start_stack = stat_field(buf, 28);
	p->start_data = stat_field(buf, 45);
	p->end_data = stat_field(buf, 46);
	p->start_brk = stat_field(buf, 47);
	p->arg_start = stat_field(buf, 48);
	p->arg_end = stat_field(buf, 49);
	p->env_start = stat_field(buf, 50);
	p->env_end = stat_field(buf, 51);
	p->pid = d->pid;
	n = dump_read_file(d->pid, "comm", buf, sizeof(buf));
	if (n > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		buf[sizeof(p->comm) - 1] = '\0';
		memcpy(p->comm, buf, sizeof(p->comm));
	}
	n = dump_read_file(d->pid, "status", buf, sizeof(buf));
	s = n > 0 ? strstr(buf, "\nUmask:") : NULL;
	p->umask = s ? strtoul(s + 7, NULL, 8) : 022;
	n = dump_read_file(d->pid, "personality", buf, sizeof(buf));
	p->personality = n > 0 ? strtoul(buf, NULL, 16) : 0;
	n = dump_read_file(d->pid, "oom_score_adj", buf, sizeof(buf));
	if (n <= 0)
		return dump_fail(d, n < 0 ? n : -EIO, "cannot read /proc/%d/oom_score_adj",
				 d->pid);
	p->oom_score_adj = strtol(buf, NULL, 10);
	p->vdso = d->vdso_start;
	return 0;
}
