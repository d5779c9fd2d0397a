// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Files with no name to open them by at restore: memfds, and regular files
 * deleted while open or made with O_TMPFILE.  Their contents go into the
 * image (holes skipped with SEEK_DATA and SEEK_HOLE) and the restore makes
 * them anew.  A file is read through /proc/PID/fd or /proc/PID/map_files,
 * which open the inode itself; the process's own offsets are not moved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <dirent.h>
#include <unistd.h>
#include <linux/magic.h>
#include "dump_internal.h"

#define PAGE SPICE_PAGE_SIZE
#define CHUNK (256 * PAGE)

/*
 * The device of the kernel's internal tmpfs, where memfds, shared anonymous
 * memory and System V segments live: that of a memfd of our own.
 */
static int internal_shm_dev(struct dump *d, uint64_t *dev)
{
	struct stat st;
	int fd;

	if (d->shm_dev_known) {
		*dev = d->shm_dev;
		return 0;
	}
	fd = memfd_create("spice-probe", MFD_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	d->shm_dev = st.st_dev;
	d->shm_dev_known = 1;
	*dev = st.st_dev;
	return 0;
}

/*
 * What kind of made file @proc_path is; <0 (refused, by name) if none.
 * The kernel's internal tmpfs holds memfds (named "memfd:..."), shared
 * anonymous memory (handled before), System V segments ("SYSV" and the
 * key) and the unlinked files a restore makes.
 */
static int made_kind(struct dump *d, const char *proc_path, const char *path,
		     const struct stat *st, const char *what)
{
	struct statfs sfs;
	uint64_t shm = 0;
	int err;

	err = internal_shm_dev(d, &shm);
	if (err)
		return dump_fail(d, err, "%s: memfd_create", what);
	if (!statfs(proc_path, &sfs) && sfs.f_type == HUGETLBFS_MAGIC)
		return dump_fail(d, -EOPNOTSUPP, "%s: %s: a hugetlb file is not restored",
				 what, path);
	if (!S_ISREG(st->st_mode))
		return dump_fail(d, -EOPNOTSUPP, "%s: %s (deleted) is not restored",
				 what, path);
	if (st->st_dev == shm && !strncmp(path, "/memfd:", 7))
		return SPICE_MADE_MEMFD;
	if (st->st_dev == shm && !strncmp(path, "/SYSV", 5))
		return dump_fail(d, -EOPNOTSUPP,
				 "%s: %s (deleted): System V shared memory is not restored",
				 what, path);
	if (st->st_nlink)
		return dump_fail(d, -EOPNOTSUPP,
				 "%s: %s was deleted but has another link: not restored",
				 what, path);
	return SPICE_MADE_UNLINKED;
}

/* Read [@pos, @pos + @len) of @fd whole, or to its end; the bytes read. */
static ssize_t read_full(int fd, char *buf, size_t len, uint64_t pos)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, buf + done, len - done, pos + done);
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

/*
 * Store the contents of made file @idx, @size bytes, read from @fd, whole
 * pages at a time: a hole may end, and data start, inside a page on a
 * filesystem with blocks smaller than a page.
 */
static int store_contents(struct dump *d, int fd, uint32_t idx, uint64_t size,
			  const char *what)
{
	uint64_t pos = 0, end, stored = 0;
	off_t data, hole;
	ssize_t n;
	size_t len;
	char *buf;
	int err = 0;

	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	while (pos < size && !err) {
		data = lseek(fd, pos, SEEK_DATA);
		if ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= size))
			break;	/* a hole to the end, or data past the size read */
		hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			err = dump_fail(d, -errno, "%s: seeking its data", what);
			break;
		}
		if ((uint64_t)data / PAGE * PAGE > pos)
			pos = (uint64_t)data / PAGE * PAGE;
		end = (uint64_t)hole < size ? (uint64_t)hole : size;
		end = (end + PAGE - 1) / PAGE * PAGE;
		stored += end - pos;
		if (stored > SPICE_DUMP_MAX_MADE_DATA) {
			err = dump_fail(d, -EFBIG, "%s: over %llu bytes of data", what,
					(unsigned long long)SPICE_DUMP_MAX_MADE_DATA);
			break;
		}
		for (; pos < end && !err; pos += len) {
			len = end - pos < CHUNK ? end - pos : CHUNK;
			n = read_full(fd, buf, len, pos);
			if (n < 0) {
				err = dump_fail(d, n, "%s: reading", what);
				break;
			}
			/* Past the end of the file: zero. */
			memset(buf + n, 0, len - n);
			d->stats->bytes_read += n;
			err = spice_writer_add_file_data(d->w, idx, pos, buf, len);
			if (err)
				err = dump_fail(d, err, "%s: storing its contents", what);
		}
	}
	free(buf);
	return err;
}

/* The made file of index @idx, or NULL. */
const struct dump_made *dump_find_made(const struct dump *d, int idx)
{
	int i;

	for (i = 0; i < d->nr_made; i++)
		if (d->made[i].idx == idx)
			return &d->made[i];
	return NULL;
}

/**
 * dump_made_file - The file index of a file with no name, added if new.
 * @d: The dump.
 * @proc_path: /proc/PID/fd/N or /proc/PID/map_files/START-END.
 * @link: What its link reads, " (deleted)" included.
 * @what: How to name it in a refusal ("fd 5", "mapping [a, b)").
 *
 * Return: The index, or a negative errno (the dump fails with a reason).
 */
int dump_made_file(struct dump *d, const char *proc_path, const char *link,
		   const char *what)
{
	struct spice_image_made_file m = { 0 };
	struct spice_image_file f = { 0 };
	struct dump_made *dm;
	char *path = NULL;
	struct stat st;
	int fd = -1, i, idx, kind;

	/* Looked at before it is opened: some of these are not to be. */
	if (stat(proc_path, &st))
		return dump_fail(d, -errno, "%s: %s: stat", what, link);
	for (i = 0; i < d->nr_made; i++)
		if (d->made[i].dev == st.st_dev && d->made[i].ino == st.st_ino)
			return d->made[i].idx;
	path = strndup(link, strlen(link) - strlen(" (deleted)"));
	if (!path)
		return -ENOMEM;
	kind = made_kind(d, proc_path, path, &st, what);
	idx = kind;
	if (kind < 0)
		goto out;
	fd = open(proc_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		idx = dump_fail(d, -errno, "%s: cannot open %s to read it", what, link);
		goto out;
	}
	m.kind = kind;
	if (kind == SPICE_MADE_MEMFD) {
		m.seals = fcntl(fd, F_GET_SEALS);
		if ((int)m.seals < 0) {
			idx = dump_fail(d, -errno, "%s: F_GET_SEALS", what);
			goto out;
		}
	}
	f.mode = st.st_mode;
	f.size = st.st_size;
	f.mtime_sec = st.st_mtim.tv_sec;
	f.mtime_nsec = st.st_mtim.tv_nsec;
	f.ino = st.st_ino;
	idx = spice_writer_add_made_file(d->w, path, &f, &m, fd);
	if (idx < 0) {
		dump_fail(d, idx, "%s: %s", what, link);
		goto out;
	}
	i = store_contents(d, fd, idx, st.st_size, what);
	dm = i ? NULL : realloc(d->made, (d->nr_made + 1) * sizeof(*d->made));
	if (!i && !dm)
		i = -ENOMEM;
	if (i < 0) {
		idx = i;
		goto out;
	}
	d->made = dm;
	dm[d->nr_made].dev = st.st_dev;
	dm[d->nr_made].ino = st.st_ino;
	dm[d->nr_made].idx = idx;
	dm[d->nr_made].seals = m.seals;
	dm[d->nr_made++].path = path;
	path = NULL;
out:
	free(path);
	if (fd >= 0)
		close(fd);
	return idx;
}

/* The made file of device @dev and inode @ino, or NULL. */
static const struct dump_made *made_of(const struct dump *d, uint64_t dev,
				       uint64_t ino)
{
	int i;

	for (i = 0; i < d->nr_made; i++)
		if (d->made[i].dev == dev && d->made[i].ino == ino)
			return &d->made[i];
	return NULL;
}

/*
 * A made file an fd of /proc/@pid holds.  Only links that say
 * " (deleted)" are looked at, by stat(): every made file's do, and a
 * stat() of anything else could wait on its filesystem.
 */
static const struct dump_made *held_by_fd(const struct dump *d, const char *pid)
{
	const struct dump_made *m = NULL;
	char path[64], link[4096];
	struct dirent *e;
	struct stat st;
	ssize_t n;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	dir = opendir(path);
	if (!dir)
		return NULL;	/* gone, or not ours to look at */
	while (!m && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (dump_ends_with(link, " (deleted)") &&
		    !fstatat(dirfd(dir), e->d_name, &st, 0))
			m = made_of(d, st.st_dev, st.st_ino);
	}
	closedir(dir);
	return m;
}

/* A made file a mapping of /proc/@pid maps, from its maps lines. */
static const struct dump_made *held_by_map(const struct dump *d, const char *pid)
{
	const struct dump_made *m = NULL;
	unsigned long long ino;
	unsigned int maj, min;
	char path[64], line[4400];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (!m && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (dump_ends_with(line, " (deleted)") &&
		    sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) == 3)
			m = made_of(d, makedev(maj, min), ino);
	}
	fclose(f);
	return m;
}

/**
 * dump_note_own_files - Remember what the dumper itself holds, unlinked.
 * @d: The dump, before it opens any file of the process.
 *
 * The dumper later holds every made file it reads; what it held before
 * is sharing like any other process's, checked by dump_check_made_shared().
 *
 * Return: 0 or -ENOMEM.
 */
int dump_note_own_files(struct dump *d)
{
	char path[64], link[4096];
	struct dirent *e;
	struct stat st;
	ssize_t n;
	DIR *dir;
	void *p;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		n = readlinkat(dirfd(dir), e->d_name, link, sizeof(link) - 1);
		if (e->d_name[0] == '.' || n <= 0 || dirfd(dir) == atoi(e->d_name))
			continue;
		link[n] = '\0';
		if (!dump_ends_with(link, " (deleted)") || fstatat(dirfd(dir), e->d_name, &st, 0))
			continue;
		p = realloc(d->own, (d->nr_own + 1) * sizeof(*d->own));
		if (!p) {
			closedir(dir);
			return -ENOMEM;
		}
		d->own = p;
		d->own[d->nr_own].dev = st.st_dev;
		d->own[d->nr_own++].ino = st.st_ino;
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/self");
	n = readlink(path, link, sizeof(link) - 1);
	d->own_pid = n > 0 ? strtol(link, NULL, 10) : getpid();
	return 0;
}

/* A made file the dumper held before the dump: shared with it. */
static const struct dump_made *held_by_dumper(const struct dump *d)
{
	const struct dump_made *m;
	int i;

	for (i = 0; i < d->nr_own; i++) {
		m = made_of(d, d->own[i].dev, d->own[i].ino);
		if (m)
			return m;
	}
	return NULL;
}

/**
 * dump_check_made_shared - Refuse made files another process holds too.
 * @d: The dump, its made files known.
 *
 * A memfd or deleted file passed to or inherited by another process is
 * shared with it; the restored process would get a copy of its own, and
 * the sharing would be lost.  Every process the dumper may look at in
 * /proc is looked at, through its fds and its maps (a process it may not
 * look at, or in another pid namespace, is not); the dumper's own files
 * are those it held before the dump.
 *
 * Return: 0, or -EOPNOTSUPP naming the file and the other process.
 */
int dump_check_made_shared(struct dump *d)
{
	const struct dump_made *m;
	struct dirent *e;
	long pid = 0;
	DIR *proc;

	if (!d->nr_made)
		return 0;
	m = held_by_dumper(d);
	if (m)
		pid = d->own_pid;
	proc = m ? NULL : opendir("/proc");
	while (proc && !m && (e = readdir(proc))) {
		pid = strtol(e->d_name, NULL, 10);
		if (pid <= 0 || pid == d->pid || pid == d->own_pid)
			continue;
		m = held_by_fd(d, e->d_name);
		if (!m)
			m = held_by_map(d, e->d_name);
	}
	if (proc)
		closedir(proc);
	if (m)
		return dump_fail(d, -EOPNOTSUPP,
				 "%s is also held by process %ld, with which it would no longer be shared: not restored",
				 m->path, pid);
	return 0;
}
