// SPDX-License-Identifier: GPL-2.0
/*
 * spice export-core: write an image as an ELF core file, so that gdb,
 * eu-stack and readelf can look at a snapshot.
 *
 * The core has what the kernel's own core dumps have for x86_64: an
 * NT_PRPSINFO note, per thread NT_PRSTATUS and NT_X86_XSTATE notes,
 * NT_AUXV, NT_FILE (the file-backed mappings), and one PT_LOAD segment per
 * mapping with its contents resolved from the image (stored data, zero, or
 * the backing file read at its offset).  The vDSO and vvar have no
 * contents in an image: their segments are empty.
 *
 * libelf (elfutils) writes the ELF header and the program headers; the
 * notes and the segments' contents, which have no sections, are written
 * at the offsets the program headers give, one page at a time, so that a
 * large image never needs its memory in ours.
 */
#define _GNU_SOURCE
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <unistd.h>

#include <spice/image.h>

#include "commands.h"

#define PAGE 4096UL

const char usage_export_core[] =
	"usage: spice export-core IMAGE -o CORE\n"
	"\n"
	"Write IMAGE as an ELF core file: `gdb EXECUTABLE CORE` then shows the\n"
	"snapshot's threads, registers and memory.  Pages of backing files are\n"
	"read from the files as they are now.\n";

/* A growing buffer for the notes. */
struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const void *data, size_t len)
{
	size_t want = b->len + ((len + 3) & ~3UL);
	char *q;

	if (want > b->cap) {
		q = realloc(b->p, want * 2);
		if (!q)
			return -1;
		b->p = q;
		b->cap = want * 2;
	}
	memcpy(b->p + b->len, data, len);
	memset(b->p + b->len + len, 0, want - b->len - len);
	b->len = want;
	return 0;
}

static int note(struct buf *b, const char *name, uint32_t type,
		const void *desc, size_t len)
{
	Elf64_Nhdr n = { .n_namesz = strlen(name) + 1, .n_descsz = len,
			 .n_type = type };

	return put(b, &n, sizeof(n)) || put(b, name, n.n_namesz) ||
	       put(b, desc, len);
}

static int thread_notes(struct buf *b, const struct spice_image *img,
			const struct spice_image_thread *t)
{
	struct elf_prstatus st;

	memset(&st, 0, sizeof(st));
	st.pr_pid = t->tid;
	st.pr_ppid = 0;
	memcpy(&st.pr_reg, t->regs, sizeof(st.pr_reg));
	st.pr_sighold = t->sigmask;
	if (note(b, "CORE", NT_PRSTATUS, &st, sizeof(st)))
		return -1;
	if (t->xstate.len &&
	    note(b, "LINUX", NT_X86_XSTATE, spice_image_blob(img, t->xstate),
		 t->xstate.len))
		return -1;
	return 0;
}

/* NT_FILE: count, page size, (start, end, offset in pages) each, names. */
static int file_note(struct buf *b, const struct spice_image *img)
{
	const struct spice_image_vma *v = spice_image_table(img, SPICE_SECT_VMAS, NULL);
	const struct spice_image_file *f = spice_image_table(img, SPICE_SECT_FILES, NULL);
	uint64_t nr, i, count = 0, *words, w = 2;
	size_t size, at;
	char *desc;
	int err;

	spice_image_table(img, SPICE_SECT_VMAS, &nr);
	size = 2 * sizeof(*words);
	for (i = 0; i < nr; i++) {
		if (v[i].file == SPICE_IMAGE_NONE)
			continue;
		count++;
		size += 3 * sizeof(*words) + f[v[i].file].path.len + 1;
	}
	desc = calloc(1, size);
	if (!desc)
		return -1;
	words = (uint64_t *)desc;
	words[0] = count;
	words[1] = PAGE;
	at = (2 + 3 * count) * sizeof(*words);
	for (i = 0; i < nr; i++) {
		const struct spice_image_file *file = &f[v[i].file];

		if (v[i].file == SPICE_IMAGE_NONE)
			continue;
		words[w++] = v[i].start;
		words[w++] = v[i].end;
		words[w++] = v[i].pgoff / PAGE;
		/* The names follow the table, each NUL-terminated, unpadded. */
		memcpy(desc + at, spice_image_blob(img, file->path), file->path.len);
		at += file->path.len + 1;
	}
	err = note(b, "CORE", NT_FILE, desc, size);
	free(desc);
	return err;
}

/* Page @pos of made file @file, from its extents; zero in a hole. */
static void made_page(const struct spice_image *img, int image_fd, uint32_t file,
		      uint64_t pos, char *page)
{
	const struct spice_image_file_extent *e;
	uint64_t k, nr;

	e = spice_image_table(img, SPICE_SECT_FILE_DATA, &nr);
	for (k = 0; k < nr; k++)
		if (e[k].file == file && pos >= e[k].pos && pos < e[k].pos + e[k].len) {
			if (pread(image_fd, page, PAGE, e[k].offset + pos - e[k].pos) !=
			    (ssize_t)PAGE)
				memset(page, 0, PAGE);
			return;
		}
}

/* The contents of page @addr of @v: stored data, zero, or the file's. */
static void page_of(const struct spice_image *img, int image_fd,
		    const struct spice_image_vma *v, uint64_t addr, char *page)
{
	const struct mmap_restore_interval *iv = spice_image_table(img,
						SPICE_SECT_INTERVALS, NULL);
	const struct spice_image_file *f;
	char path[4200];
	uint64_t k;
	int fd;

	memset(page, 0, PAGE);
	for (k = v->first_interval; k < (uint64_t)v->first_interval + v->nr_intervals; k++) {
		if (addr < iv[k].addr || addr >= iv[k].addr + iv[k].len)
			continue;
		if (iv[k].source == MMAP_RESTORE_SRC_IMAGE &&
		    pread(image_fd, page, PAGE, iv[k].offset + addr - iv[k].addr) != (ssize_t)PAGE)
			memset(page, 0, PAGE);
		if (iv[k].source != MMAP_RESTORE_SRC_FILE)
			return;
		break;
	}
	if (v->file == SPICE_IMAGE_NONE)
		return;
	f = (const struct spice_image_file *)spice_image_table(img, SPICE_SECT_FILES, NULL) +
	    v->file;
	if (f->flags & SPICE_FILE_MADE) {
		made_page(img, image_fd, v->file, v->pgoff + addr - v->start, page);
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)f->path.len,
		 (const char *)spice_image_blob(img, f->path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, page, PAGE, v->pgoff + addr - v->start) < 0)
			memset(page, 0, PAGE);
		close(fd);
	}
}

/*
 * The ELF header and the @n program headers @ph, through libelf: the
 * file then ends after them, and the rest is written past that.
 */
static int write_elf_headers(int out, const GElf_Phdr *ph, size_t n)
{
	GElf_Ehdr eh;
	size_t i;
	Elf *e;
	int err = -1;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	e = elf_begin(out, ELF_C_WRITE, NULL);
	if (!e)
		return -1;
	if (!gelf_newehdr(e, ELFCLASS64) || !gelf_getehdr(e, &eh))
		goto out;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	if (!gelf_update_ehdr(e, &eh) || !gelf_newphdr(e, n))
		goto out;
	for (i = 0; i < n; i++)
		if (!gelf_update_phdr(e, i, (GElf_Phdr *)&ph[i]))
			goto out;
	if (elf_update(e, ELF_C_WRITE) >= 0)
		err = 0;
out:
	if (err)
		fprintf(stderr, "spice export-core: libelf: %s\n", elf_errmsg(-1));
	elf_end(e);
	return err;
}

static int write_core(const struct spice_image *img, int image_fd, int out)
{
	const struct spice_image_process *p = spice_image_process(img);
	const struct spice_image_thread *t;
	const struct spice_image_vma *v;
	struct elf_prpsinfo ps;
	struct buf notes = { 0 };
	uint64_t nr, nthreads, i, a, off;
	char page[PAGE];
	GElf_Phdr *ph;
	int err = -1;

	v = spice_image_table(img, SPICE_SECT_VMAS, &nr);
	t = spice_image_table(img, SPICE_SECT_THREADS, &nthreads);
	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = p->pid;
	memcpy(ps.pr_fname, p->comm, sizeof(ps.pr_fname));
	if (note(&notes, "CORE", NT_PRPSINFO, &ps, sizeof(ps)))
		return -1;
	/* The first thread's registers come first, as gdb expects. */
	for (i = 0; i < nthreads; i++)
		if (thread_notes(&notes, img, &t[i]))
			goto out;
	if (p->auxv.len &&
	    note(&notes, "CORE", NT_AUXV, spice_image_blob(img, p->auxv), p->auxv.len))
		goto out;
	if (file_note(&notes, img))
		goto out;

	ph = calloc(nr + 1, sizeof(*ph));
	if (!ph)
		goto out;
	/* libelf puts the program headers right after the ELF header. */
	off = sizeof(Elf64_Ehdr) + (nr + 1) * sizeof(Elf64_Phdr);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = off;
	ph[0].p_filesz = notes.len;
	off = (off + notes.len + PAGE - 1) & ~(PAGE - 1);
	for (i = 0; i < nr; i++) {
		bool special = v[i].flags & (SPICE_VMA_VDSO | SPICE_VMA_VVAR);

		ph[i + 1].p_type = PT_LOAD;
		ph[i + 1].p_vaddr = v[i].start;
		ph[i + 1].p_memsz = v[i].end - v[i].start;
		ph[i + 1].p_filesz = special ? 0 : v[i].end - v[i].start;
		ph[i + 1].p_offset = off;
		ph[i + 1].p_align = PAGE;
		ph[i + 1].p_flags = (v[i].prot & PROT_READ ? PF_R : 0) |
				    (v[i].prot & PROT_WRITE ? PF_W : 0) |
				    (v[i].prot & PROT_EXEC ? PF_X : 0);
		off += ph[i + 1].p_filesz;
	}
	if (write_elf_headers(out, ph, nr + 1) ||
	    pwrite(out, notes.p, notes.len, ph[0].p_offset) != (ssize_t)notes.len)
		goto out_ph;
	for (i = 0; i < nr; i++) {
		for (a = 0; a < ph[i + 1].p_filesz; a += PAGE) {
			page_of(img, image_fd, &v[i], v[i].start + a, page);
			if (pwrite(out, page, PAGE, ph[i + 1].p_offset + a) != (ssize_t)PAGE)
				goto out_ph;
		}
	}
	err = ftruncate(out, off);
out_ph:
	free(ph);
out:
	free(notes.p);
	return err;
}

int cmd_export_core(int argc, char **argv)
{
	char why[SPICE_IMAGE_WHY_LEN];
	const char *in = NULL, *out = NULL;
	struct spice_image *img;
	int i, fd, ofd, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!in && argv[i][0] != '-') {
			in = argv[i];
		} else {
			fprintf(stderr, "spice export-core: bad argument %s\n%s",
				argv[i], usage_export_core);
			return EXIT_USAGE;
		}
	}
	if (!in || !out) {
		fputs(usage_export_core, stderr);
		return EXIT_USAGE;
	}
	fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "spice export-core: %s: %s\n", in, strerror(errno));
		return 1;
	}
	err = spice_image_open(fd, &img, why);
	if (err) {
		fprintf(stderr, "spice export-core: %s: %s (%s)\n", in, why,
			strerror(-err));
		close(fd);
		return 1;
	}
	ofd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = ofd < 0 || write_core(img, fd, ofd);
	if (err)
		fprintf(stderr, "spice export-core: %s: %s\n", out, strerror(errno));
	if (ofd >= 0)
		close(ofd);
	spice_image_free(img);
	close(fd);
	return err ? 1 : 0;
}
