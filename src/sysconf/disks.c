/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * disks: the system file's disks = ( ... ): each physical disk (an image
 * file or a block device, served by one isles-diskd) and the partition
 * layout `isles up` creates on a new image.  Whether a layout fits is
 * judged by the placement rules of src/diskd/ptable.c (pt_room), the
 * ones isles-diskd creates it with.  Called by sc_parse_top (load.c)
 * before the VMs, whose grants name these disks.
 */
#include "loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diskd/ptable.h"

static const char *const sc_disk_keys[] = { "name", "path", "size", "layout",
	"partitions", "queues", "cache", NULL };
static const char *const sc_part_keys[] = { "size", "type", "boot", "logical",
	"format", "images", NULL };
static const char *const sc_image_keys[] = { "path", "size", NULL };

/*
 * format = "ext4"; images = ( { path = "data/file-image-1"; size =
 * "100M"; } ): what a new partition is made with.
 */
static void
sc_parse_format(struct sc_ctx *c, struct sc_layout_part *p, const char *subj,
    const config_setting_t *g)
{
	const config_setting_t *list;
	const char *fmt;
	size_t n;

	if (sc_get_str(c, g, "format", subj, &fmt) == 1) {
		if (strcmp(fmt, "ext4") == 0)
			p->ext4 = true;
		else
			sc_err(c, config_setting_get_member(g, "format"),
			    "%s: format must be \"ext4\", not \"%.20s\"", subj,
			    fmt);
	}
	if (config_setting_get_member(g, "images") == NULL)
		return;
	if (!p->ext4) {
		sc_err(c, config_setting_get_member(g, "images"), "%s: images "
		    "go into a file system: add format = \"ext4\";", subj);
		return;
	}
	list = sc_get_list(c, g, "images", subj, "images = ( { path = "
	    "\"data/file-image-1\"; size = \"100M\"; } )");
	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > 16) {
		sc_err(c, list, "%s: at most 16 images", subj);
		return;
	}
	if ((p->images = sc_calloc(c, n, sizeof(*p->images))) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *ig = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_image_file *f = &p->images[p->nimages];
		char isubj[128], where[144];
		const char *path;
		bool bad;

		snprintf(isubj, sizeof(isubj), "%s, image %zu", subj, i + 1);
		if (config_setting_type(ig) != CONFIG_TYPE_GROUP) {
			sc_err(c, ig, "%s must be a group { path = ...; size "
			    "= ...; }", isubj);
			continue;
		}
		snprintf(where, sizeof(where), "in %s", isubj);
		sc_check_keys(c, ig, sc_image_keys, where, NULL);
		if (sc_get_str(c, ig, "path", isubj, &path) != 1) {
			sc_err(c, ig, "%s: path is required", isubj);
			continue;
		}
		/* A plain relative path inside the file system. */
		bad = path[0] == '\0' || path[0] == '/' ||
		    strstr(path, "..") != NULL || strlen(path) > 200;
		for (const char *q = path; !bad && *q != '\0'; q++)
			bad = !((*q >= 'a' && *q <= 'z') ||
			    (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') ||
			    strchr("/._-", *q) != NULL);
		if (bad) {
			sc_err(c, config_setting_get_member(ig, "path"), "%s: "
			    "path must be relative, of A-Z a-z 0-9 / . _ -, "
			    "without ..", isubj);
			continue;
		}
		if (sc_get_size(c, ig, "size", isubj, &f->size) != 1 ||
		    f->size < 4 * SC_MIB || f->size % SC_MIB != 0) {
			sc_err(c, ig, "%s: size is required, a whole number of "
			    "MiB from 4M", isubj);
			continue;
		}
		f->path = sc_strdup(c, path);
		p->nimages++;
	}
}

/*
 * Sectors as bytes rounded up to whole MiB, the unit a layout is declared
 * in: the smallest disk of whole MiB that holds them (the GPT backup
 * table, 33 sectors, is shown as the 1 MiB it costs such a disk).
 */
static uint64_t
sc_mib_up(uint64_t sectors)
{
	return (sectors * PT_SECTOR + SC_MIB - 1) / SC_MIB * SC_MIB;
}

/*
 * The journal mke2fs gives an ext4 file system of `bytes` (4 KiB blocks),
 * by its own size table, so a check here agrees with what `isles up` makes.
 */
static uint64_t
sc_ext4_journal(uint64_t bytes)
{
	uint64_t blocks = bytes / 4096, j;

	if (blocks < 32768)
		j = 1024;
	else if (blocks < 256 * 1024)
		j = 4096;
	else if (blocks < 512 * 1024)
		j = 8192;
	else if (blocks < 4096 * 1024)
		j = 16384;
	else if (blocks < 8192 * 1024)
		j = 32768;
	else if (blocks < 16384 * 1024)
		j = 65536;
	else if (blocks < 32768 * 1024)
		j = 131072;
	else
		j = 262144;
	return j * 4096;
}

/*
 * The images of an ext4 partition must fit it whole, as a client may
 * write every sector of its image: their sizes, plus the journal and
 * about 1/16 for inode tables, bitmaps and directories.  Image paths are
 * distinct.  part_bytes: the partition's size (0: not known).
 */
static void
sc_check_images(struct sc_ctx *c, const struct sc_layout_part *p,
    const char *subj, uint64_t part_bytes)
{
	uint64_t sum = 0, need;

	for (size_t i = 0; i < p->nimages; i++) {
		sum += p->images[i].size;
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->images[i].path, p->images[k].path) == 0)
				sc_errl(c, p->line, "%s: image %s is listed "
				    "twice", subj, p->images[i].path);
	}
	if (p->nimages == 0 || part_bytes == 0)
		return;
	need = sum + sc_ext4_journal(part_bytes) + part_bytes / 16;
	if (need > part_bytes) {
		char a[32], b[32], t[32];

		sc_fmt_size(sum, a, sizeof(a));
		sc_fmt_size(part_bytes / SC_MIB * SC_MIB, b, sizeof(b));
		sc_fmt_size((need - sum + SC_MIB - 1) / SC_MIB * SC_MIB, t,
		    sizeof(t));
		sc_errl(c, p->line, "%s: its images take %s and the file "
		    "system about %s more, but the partition is %s", subj, a,
		    t, b);
	}
}

/* Parse disk.partitions (the layout to create); numbers the entries. */
static void
sc_parse_layout(struct sc_ctx *c, struct sc_disk *d, const char *subj,
    const config_setting_t *dg, uint64_t cap)
{
	const config_setting_t *list = sc_get_list(c, dg, "partitions", subj,
	    "partitions = ( { size = \"64M\"; } )");
	struct pt_newpart np[SC_MAX_PARTS];
	unsigned nprimary = 0, nlogical = 0;
	uint64_t sum, want;
	struct pt_room room;
	size_t n, m = 0;
	bool rest = false;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n == 0) {
		sc_err(c, list, "%s: partitions must not be empty (leave it "
		    "out if the disk has no layout to create)", subj);
		return;
	}
	if (n > SC_MAX_PARTS) {
		sc_err(c, list, "%s: too many partitions: %zu (at most %d)",
		    subj, n, SC_MAX_PARTS);
		return;
	}
	d->parts = sc_calloc(c, n, sizeof(*d->parts));
	if (d->parts == NULL)
		return;
	d->nparts = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_layout_part *p = &d->parts[i];
		char psubj[96], where[112];
		uint64_t counted = 0;	/* a valid size, or 0 */
		long long type;
		int r;

		p->line = sc_line(g);
		p->type = 0x83;
		snprintf(psubj, sizeof(psubj), "%s, partition entry %zu", subj,
		    i + 1);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "%s must be a group { size = ...; }",
			    psubj);
			continue;
		}
		snprintf(where, sizeof(where), "in %s", psubj);
		sc_check_keys(c, g, sc_part_keys, where, NULL);
		r = sc_get_size(c, g, "size", psubj, &p->size);
		if (r == 0) {
			if (i + 1 != n)
				sc_err(c, g, "%s: only the last partition may "
				    "leave out size (the rest of the disk)",
				    psubj);
			rest = true;
		} else if (r == 1 && p->size % SC_MIB != 0) {
			sc_err(c, config_setting_get_member(g, "size"),
			    "%s: size must be a whole number of MiB (partitions "
			    "are 1 MiB aligned)", psubj);
		} else if (r == 1) {
			counted = p->size;
		}
		r = sc_get_int(c, g, "type", psubj, &type);
		if (r == 1 && (type < 0 || type > 255))
			sc_err(c, config_setting_get_member(g, "type"),
			    "%s: type %lld is not a partition type byte "
			    "(0 to 255, like 0x83)", psubj, type);
		else if (r == 1)
			p->type = (uint8_t)type;
		sc_get_bool(c, g, "boot", psubj, &p->boot);
		sc_get_bool(c, g, "logical", psubj, &p->logical);
		sc_parse_format(c, p, psubj, g);
		if (p->logical && d->layout == SC_PT_GPT) {
			sc_err(c, config_setting_get_member(g, "logical"),
			    "%s: logical partitions exist only in an mbr "
			    "layout", psubj);
			p->logical = false;
		}
		if (p->logical) {
			p->number = 5 + nlogical++;
		} else {
			if (nlogical > 0)
				sc_err(c, g, "%s: primary partitions must come "
				    "before the logical ones", psubj);
			p->number = ++nprimary;
		}
		np[m++] = (struct pt_newpart){ .size = counted,
		    .type = p->type, .boot = p->boot, .logical = p->logical };
	}
	/* Where isles-diskd would put them (sectors), by its own rules. */
	pt_room(d->layout == SC_PT_GPT ? PT_GPT : PT_MBR, np, m, &room);
	if (d->layout == SC_PT_MBR && room.slots > PT_MBR_SLOTS)
		sc_err(c, list, "%s: an mbr layout holds at most 4 primary "
		    "partitions; this one needs %u%s", subj, room.slots,
		    nlogical > 0 ? " (counting the extended partition that "
		    "holds the logical ones)" : "");
	/* Ours on top: the rest of the disk is whole MiB too, at least 1. */
	sum = room.need - room.overhead;
	want = room.need + (rest ? SC_MIB / PT_SECTOR : 0);
	if (cap != 0 && (sum > SC_MAX_DISK_SIZE / PT_SECTOR ||
	    want > cap / PT_SECTOR)) {
		char have[32], need[32], ovh[32];

		sc_fmt_size(cap, have, sizeof(have));
		sc_fmt_size(sc_mib_up(room.overhead), ovh, sizeof(ovh));
		if (sum > SC_MAX_DISK_SIZE / PT_SECTOR)
			snprintf(need, sizeof(need), "more than 64 TiB");
		else
			sc_fmt_size(sc_mib_up(room.need), need, sizeof(need));
		sc_err(c, list, "%s: the partitions need %s (%s of it for "
		    "the table and alignment)%s but the disk is %s", subj,
		    need, ovh, rest ? " plus at least 1 MiB for the last one" :
		    "", have);
	}
	if (d->layout == SC_PT_MBR && sum <= SC_MAX_DISK_SIZE / PT_SECTOR &&
	    want > room.limit)
		sc_err(c, list, "%s: an mbr layout cannot address more than "
		    "2 TiB; use layout = \"gpt\"", subj);
	for (size_t i = 0; m == n && i < n; i++) {
		char psubj[96];
		uint64_t bytes = d->parts[i].size;

		if (bytes == 0)		/* the rest of the disk */
			bytes = cap != 0 && want <= cap / PT_SECTOR ?
			    cap - room.need * PT_SECTOR : 0;
		snprintf(psubj, sizeof(psubj), "%s, partition entry %zu", subj,
		    i + 1);
		sc_check_images(c, &d->parts[i], psubj, bytes);
	}
}

void
sc_parse_disks(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "disks", "",
	    "disks = ( { name = \"sata\"; path = \"disk.img\"; size = \"1G\"; } );");
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > SC_MAX_DISKS)
		sc_err(c, list, "too many disks: %zu (at most %d)", n,
		    SC_MAX_DISKS);
	sys->disks = sc_calloc(c, n, sizeof(*sys->disks));
	if (sys->disks == NULL)
		return;
	sys->ndisks = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_disk *d = &sys->disks[i];
		char subj[64], where[80];
		const char *name, *path = NULL, *layout;
		long long q;
		struct stat st;
		uint64_t cap;
		bool sized;
		int r;

		d->line = sc_line(g);
		cap = 0;
		d->queues = 1;
		d->layout = SC_PT_MBR;
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "disks: entry %zu must be a group "
			    "{ name = ...; path = ...; }", i);
			continue;
		}
		name = sc_name_of(c, g, "disk", i, subj, sizeof(subj));
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_disk_keys, where, NULL);
		if (name != NULL) {
			for (size_t j = 0; j < i; j++)
				if (sys->disks[j].name != NULL &&
				    strcmp(sys->disks[j].name, name) == 0) {
					sc_err(c, config_setting_get_member(g,
					    "name"), "disk '%s' is defined "
					    "twice (first at line %d)", name,
					    sys->disks[j].line);
					break;
				}
			d->name = sc_strdup(c, name);
		}
		sized = sc_get_size(c, g, "size", subj, &d->size) != 0;
		if (d->size % 512 != 0) {
			sc_err(c, config_setting_get_member(g, "size"),
			    "%s: size must be a whole number of 512-byte "
			    "sectors", subj);
			d->size = 0;
		} else if (d->size > SC_MAX_DISK_SIZE) {
			sc_err(c, config_setting_get_member(g, "size"),
			    "%s: size is larger than 64T", subj);
			d->size = 0;
		}
		r = sc_get_str(c, g, "layout", subj, &layout);
		if (r == 1 && strcmp(layout, "gpt") == 0)
			d->layout = SC_PT_GPT;
		else if (r == 1 && strcmp(layout, "mbr") != 0)
			sc_err(c, config_setting_get_member(g, "layout"),
			    "%s: layout must be \"mbr\" or \"gpt\", not "
			    "\"%.20s\"", subj, layout);
		r = sc_get_str(c, g, "cache", subj, &layout);
		if (r == 1 && strcmp(layout, "none") == 0)
			d->cache_none = true;
		else if (r == 1 && strcmp(layout, "writeback") != 0)
			sc_err(c, config_setting_get_member(g, "cache"),
			    "%s: cache must be \"writeback\" (the host page "
			    "cache, the default) or \"none\" (O_DIRECT), not "
			    "\"%.20s\"", subj, layout);
		r = sc_get_int(c, g, "queues", subj, &q);
		if (r == 1 && (q < 1 || q > 16))
			sc_err(c, config_setting_get_member(g, "queues"),
			    "%s: queues must be 1 to 16, not %lld", subj, q);
		else if (r == 1)
			d->queues = (unsigned)q;

		r = sc_get_str(c, g, "path", subj, &path);
		if (r == 0)
			sc_err(c, g, "%s: path is required (an image file or "
			    "a block device)", subj);
		if (r == 1 && path[0] == '\0') {
			sc_err(c, config_setting_get_member(g, "path"),
			    "%s: path must not be empty", subj);
			r = 0;
		}
		if (r == 1) {
			const config_setting_t *ps =
			    config_setting_get_member(g, "path");

			d->path_as_written = sc_strdup(c, path);
			d->path = sc_resolve(c, path);
			if (d->path != NULL && stat(d->path, &st) == 0) {
				if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
					sc_err(c, ps, "%s: path '%.60s' is not "
					    "a regular file or a block device",
					    subj, path);
				else if (d->size == 0 && S_ISREG(st.st_mode))
					cap = (uint64_t)st.st_size;
			} else if (d->path != NULL && errno != ENOENT) {
				sc_err(c, ps, "%s: path '%.60s': %s", subj,
				    path, strerror(errno));
			} else if (d->path != NULL && !sized) {
				sc_err(c, ps, "%s: path '%.60s' does not exist "
				    "and no size is given to create it", subj,
				    path);
			} else if (d->path != NULL) {
				char *dir = sc_strdup(c, d->path);
				char *slash = dir != NULL ? strrchr(dir, '/') :
				    NULL;

				if (slash != NULL) {
					*(slash == dir ? slash + 1 : slash) = '\0';
					if (stat(dir, &st) != 0 ||
					    !S_ISDIR(st.st_mode))
						sc_err(c, ps, "%s: path '%.60s' "
						    "cannot be created: its "
						    "directory does not exist",
						    subj, path);
				}
				free(dir);
			}
			for (size_t j = 0; d->path != NULL && j < i; j++)
				if (sys->disks[j].path != NULL &&
				    strcmp(sys->disks[j].path, d->path) == 0) {
					sc_err(c, ps, "%s: path '%.60s' is also "
					    "the path of disk '%s' (line %d)",
					    subj, path, sys->disks[j].name !=
					    NULL ? sys->disks[j].name : "?",
					    sys->disks[j].line);
					break;
				}
		}
		sc_parse_layout(c, d, subj, g, d->size != 0 ? d->size : cap);
	}
}

int
sc_disk_find(const struct sc_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->ndisks; i++)
		if (sys->disks[i].name != NULL &&
		    strcmp(sys->disks[i].name, name) == 0)
			return (int)i;
	return -1;
}
