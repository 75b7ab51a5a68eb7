/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diskprep: the disks `isles up` makes itself before the supervisor
 * starts: a missing disk that a VM gets whole over SATA (a driver VM's,
 * docs/driver-vm.md), or that has partitions to format (format = "ext4",
 * with images inside).  Other missing disks are created by their
 * isles-diskd, as before.  An existing path is never touched.
 *
 * A disk is built under PATH.isles-new and renamed to PATH only when it
 * is complete, so a failure (or a kill) never leaves a half-made disk
 * that a later `isles up` would take as the user's.  File systems are
 * made by e2fsprogs' mke2fs (-E offset= writes a partition of an image
 * file; -d fills it from a staging directory, keeping holes), the one
 * tool that does this well; the partition tables by src/diskd/ptable.c,
 * the same code isles-diskd uses.
 */
#include "diskprep.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diskd/ptable.h"

/* Paths in messages are cut to this (a message is at most a line). */
#define P "%.160s"


#define MIB (1024ull * 1024)

static int
fd_read(void *ctx, uint64_t lba, void *buf)
{
	int fd = *(int *)ctx;

	return pread(fd, buf, PT_SECTOR, (off_t)(lba * PT_SECTOR)) ==
	    PT_SECTOR ? 0 : -1;
}

static int
fd_write(void *ctx, uint64_t lba, const void *buf)
{
	int fd = *(int *)ctx;

	return pwrite(fd, buf, PT_SECTOR, (off_t)(lba * PT_SECTOR)) ==
	    PT_SECTOR ? 0 : -1;
}

/*
 * A new sparse file of size bytes at path with a table of parts, then
 * its table as read back into t.  Leaves the file open in *fdp.
 */
static int
make_table(const char *path, uint64_t size, enum pt_kind kind,
    const struct pt_newpart *parts, size_t n, struct pt_table *t, int *fdp,
    char *err, size_t len)
{
	uint8_t seed[16];
	char why[160];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, len, P ": %s", path, strerror(errno));
		return -1;
	}
	*fdp = fd;
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		memset(seed, 0x5a, sizeof(seed));
	if (ftruncate(fd, (off_t)size) < 0) {
		snprintf(err, len, P ": %s", path, strerror(errno));
		return -1;
	}
	if (pt_create(kind, parts, n, size / PT_SECTOR, seed, fd_write, &fd,
	    why, sizeof(why)) < 0 || pt_parse(fd_read, &fd, size / PT_SECTOR,
	    t, why, sizeof(why)) < 0) {
		snprintf(err, len, P ": partition table: %s", path, why);
		return -1;
	}
	return 0;
}

/* Run argv (mke2fs), its output to our stderr; 0 if it exits 0. */
static int
run(char *const argv[], const char *what, char *err, size_t len)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(err, len, "%s: %s (install the Debian package "
		    "e2fsprogs)", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, len, "%s: %s", argv[0], strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, len, "%s failed (%s %d) making " P, argv[0],
		    WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ?
		    WEXITSTATUS(st) : WTERMSIG(st), what);
		return -1;
	}
	return 0;
}

/*
 * mke2fs -t TYPE [-d DIR] in partition p of the file at path: -E offset=
 * and a size in KiB place it; -m 0: no blocks kept for root (the images
 * must fit whole, sysconf checked with that).
 */
static int
mkfs(const char *type, const char *path, const struct pt_part *p,
    const char *dir, char *err, size_t len)
{
	char off[48], size[32], what[PATH_MAX + 64];
	char *argv[16];
	size_t i = 0;

	snprintf(off, sizeof(off), "offset=%llu",
	    (unsigned long long)(p->start * PT_SECTOR));
	snprintf(size, sizeof(size), "%lluk",
	    (unsigned long long)(p->size * PT_SECTOR / 1024));
	snprintf(what, sizeof(what), "%s in partition %u of %s", type, p->num,
	    path);
	argv[i++] = (char *)"mke2fs";
	argv[i++] = (char *)"-q";
	argv[i++] = (char *)"-F";
	argv[i++] = (char *)"-t";
	argv[i++] = (char *)type;
	argv[i++] = (char *)"-m";
	argv[i++] = (char *)"0";
	argv[i++] = (char *)"-E";
	argv[i++] = off;
	if (dir != NULL) {
		argv[i++] = (char *)"-d";
		argv[i++] = (char *)dir;
	}
	argv[i++] = (char *)path;
	argv[i++] = size;
	argv[i] = NULL;
	return run(argv, what, err, len);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * An image file as the seed's README prepares one: one partition from
 * 1 MiB to the end, an ext2 file system in it.
 */
static int
make_image(const char *path, uint64_t size, char *err, size_t len)
{
	struct pt_newpart part = { .size = 0, .type = 0x83 };
	struct pt_table t;
	int fd = -1, rc;

	rc = make_table(path, size, PT_MBR, &part, 1, &t, &fd, err, len);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return -1;
	return mkfs("ext2", path, &t.p[0], NULL, err, len);
}

/* Make the image files of partition lp in a staging directory. */
static int
stage_images(const struct sc_layout_part *lp, const char *dir, char *err,
    size_t len)
{
	for (size_t i = 0; i < lp->nimages; i++) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s", dir,
		    lp->images[i].path) >= (int)sizeof(path)) {
			snprintf(err, len, "image path too long");
			return -1;
		}
		/* Its directories (sysconf allowed only plain relative ones). */
		for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/'));
		    s++) {
			*s = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
				snprintf(err, len, P ": %s", path,
				    strerror(errno));
				return -1;
			}
			*s = '/';
		}
		if (make_image(path, lp->images[i].size, err, len) < 0)
			return -1;
	}
	return 0;
}

static bool
needs_prep(const struct sc_system *sys, size_t d)
{
	const struct sc_disk *disk = &sys->disks[d];

	for (size_t p = 0; p < disk->nparts; p++)
		if (disk->parts[p].ext4)
			return true;
	for (size_t v = 0; v < sys->nvms; v++)
		for (size_t i = 0; i < sys->vms[v].nsata; i++)
			if (sys->vms[v].sata[i] == d)
				return true;
	return false;
}

static int
prep_disk(const struct sc_disk *disk, char *err, size_t len)
{
	struct pt_newpart parts[SC_MAX_PARTS];
	char tmp[PATH_MAX], stage[PATH_MAX] = "";
	struct pt_table t;
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.isles-new", disk->path) >=
	    (int)sizeof(tmp)) {
		snprintf(err, len, P ": path too long", disk->path);
		return -1;
	}
	(void)unlink(tmp);	/* what an interrupted run left */
	for (size_t p = 0; p < disk->nparts; p++)
		parts[p] = (struct pt_newpart){ .size = disk->parts[p].size,
		    .type = disk->parts[p].type, .boot = disk->parts[p].boot,
		    .logical = disk->parts[p].logical };
	fprintf(stderr, "isles up: creating disk %s (%s)\n", disk->name,
	    disk->path_as_written);
	if (make_table(tmp, disk->size, disk->layout == SC_PT_GPT ? PT_GPT :
	    PT_MBR, parts, disk->nparts, &t, &fd, err, len) < 0)
		goto fail;
	for (size_t p = 0; p < disk->nparts; p++) {
		const struct sc_layout_part *lp = &disk->parts[p];
		const struct pt_part *pp = pt_find(&t, lp->number);

		if (!lp->ext4)
			continue;
		if (pp == NULL) {
			snprintf(err, len, "partition %u not in the new table",
			    lp->number);
			goto fail;
		}
		if (lp->nimages > 0) {
			snprintf(stage, sizeof(stage), "/tmp/isles-stage.XXXXXX");
			if (mkdtemp(stage) == NULL) {
				snprintf(err, len, P ": %s", stage,
				    strerror(errno));
				stage[0] = '\0';
				goto fail;
			}
			if (stage_images(lp, stage, err, len) < 0)
				goto fail;
		}
		fprintf(stderr, "isles up: disk %s: ext4 on partition %u%s\n",
		    disk->name, lp->number, lp->nimages > 0 ?
		    ", with its images" : "");
		if (mkfs("ext4", tmp, pp, stage[0] ? stage : NULL, err,
		    len) < 0)
			goto fail;
		if (stage[0] != '\0') {
			(void)nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
			stage[0] = '\0';
		}
	}
	if (fsync(fd) < 0 || rename(tmp, disk->path) < 0) {
		snprintf(err, len, P ": %s", disk->path, strerror(errno));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	if (stage[0] != '\0')
		(void)nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return -1;
}

int
disks_prepare(const struct sc_system *sys, char *err, size_t len)
{
	for (size_t d = 0; d < sys->ndisks; d++) {
		const struct sc_disk *disk = &sys->disks[d];
		char why[400];

		if (disk->size == 0 || access(disk->path, F_OK) == 0 ||
		    !needs_prep(sys, d))
			continue;
		if (prep_disk(disk, why, sizeof(why)) < 0) {
			snprintf(err, len, "%s:%d: disk '%s': cannot create "
			    "it: %s", sys->file, disk->line, disk->name, why);
			return -1;
		}
	}
	return 0;
}
