/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysconf: the system file parser and validator (see sysconf.h and
 * docs/system-file.md, which is the schema this file implements).
 *
 * Called by `isles check` and by the supervisor before it starts anything.
 * libconfig does the parsing; this file walks the resulting tree, checks
 * every key, type and rule, and builds a struct sc_system.  The file is
 * user input, not trusted: every value is range-checked, every string is
 * bounded, and an error never stops the walk, so the user sees all
 * problems at once.  Errors are collected with their line, sorted by line,
 * and returned as "FILE:LINE: message"; the functions here return a
 * pointer or NULL (sc_load*) or 0 / -1 with errno (sc_parse_size).
 */
#include "sysconf.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define SC_MIB (1ull << 20)

/* An error before sorting: its source position and its text. */
struct sc_pending {
	const char *file;
	int line;
	unsigned seq;
	char text[224];
};

struct sc_ctx {
	struct sc_system *sys;
	const char *file;		/* as given: used in every message */
	struct sc_pending errs[SC_MAX_ERRORS];
	size_t nerrs;
	size_t dropped;
	bool oom;
};

static const char *const sc_top_keys[] = { "name", "accel",
	"console_log_max", "vms", "disks", "switches", NULL };
static const char *const sc_reserved_keys[] = { "dataports", "consoles",
	"vsock", "passthrough", NULL };
static const char *const sc_vm_keys[] = { "name", "memory", "vcpus", "arch",
	"hugepages", "kernel", "initrd", "cmdline", "disks", "nics", NULL };
static const char *const sc_grant_keys[] = { "disk", "partitions", "readonly",
	NULL };
static const char *const sc_nic_keys[] = { "switch", "mac", NULL };
static const char *const sc_disk_keys[] = { "name", "path", "size", "layout",
	"partitions", "queues", NULL };
static const char *const sc_part_keys[] = { "size", "type", "boot", "logical",
	NULL };
static const char *const sc_switch_keys[] = { "name", "uplink", NULL };

/* ---- errors ---------------------------------------------------------- */

static void sc_verr(struct sc_ctx *c, const char *file, int line,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
sc_verr(struct sc_ctx *c, const char *file, int line, const char *fmt,
    va_list ap)
{
	struct sc_pending *p;

	if (c->nerrs == SC_MAX_ERRORS) {
		c->dropped++;
		return;
	}
	p = &c->errs[c->nerrs];
	p->file = file;	/* NULL: c->file */
	p->line = line;
	p->seq = (unsigned)c->nerrs++;
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	/* Strings from the file may hold escapes: keep messages one line. */
	for (char *s = p->text; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

static void sc_err(struct sc_ctx *c, const config_setting_t *s,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* An error about setting s (NULL: no line known). */
static void
sc_err(struct sc_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_verr(c, s != NULL ? config_setting_source_file(s) : NULL,
	    s != NULL ? (int)config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
}

static void sc_errl(struct sc_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sc_errl(struct sc_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_verr(c, NULL, line, fmt, ap);
	va_end(ap);
}

static int
sc_pending_cmp(const void *a, const void *b)
{
	const struct sc_pending *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the collected errors by line and hand them to the caller. */
static void
sc_flush_errors(struct sc_ctx *c, struct sc_errors *err)
{
	qsort(c->errs, c->nerrs, sizeof(c->errs[0]), sc_pending_cmp);
	err->n = 0;
	err->dropped = c->dropped;
	for (size_t i = 0; i < c->nerrs; i++) {
		const struct sc_pending *p = &c->errs[i];

		const char *f = p->file != NULL ? p->file : c->file;

		if (p->line > 0)
			snprintf(err->msg[i], sizeof(err->msg[i]), "%s:%d: %s",
			    f, p->line, p->text);
		else
			snprintf(err->msg[i], sizeof(err->msg[i]), "%s: %s", f,
			    p->text);
		err->n++;
	}
}

/* ---- small helpers --------------------------------------------------- */

static char *
sc_strdup(struct sc_ctx *c, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		c->oom = true;
	return d;
}

static void *
sc_calloc(struct sc_ctx *c, size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		c->oom = true;
	return p;
}

static bool
sc_in(const char *const *set, const char *s)
{
	for (; *set != NULL; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

static void
sc_join(const char *const *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *set != NULL && off < len; set++) {
		int n = snprintf(buf + off, len - off, "%s%s",
		    off == 0 ? "" : ", ", *set);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static bool
sc_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SC_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '_' || ch == '-'))
			continue;
		return false;
	}
	return true;
}

#define SC_NAME_RULE "1 to 31 characters of a-z 0-9 _ -, starting with a letter or digit"

/* Linux interface names: 1..15 of [A-Za-z0-9_.-] (no '/', no space). */
static bool
sc_tap_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* 0 ok, -EINVAL garbage, -ERANGE too large, -EDOM zero. */
static int
sc_size_parse(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "K", 10 }, { "M", 20 }, { "G", 30 }, { "T", 40 },
		{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (units[i].shift > 0 && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		v <<= units[i].shift;
		if (v == 0)
			return -EDOM;
		*out = v;
		return 0;
	}
	return -EINVAL;
}

int
sc_parse_size(const char *s, uint64_t *out)
{
	int r;

	if (s == NULL || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	r = sc_size_parse(s, out);
	if (r == 0)
		return 0;
	errno = r == -ERANGE ? ERANGE : EINVAL;
	return -1;
}

/* "256 MiB", "3 GiB", "1536 KiB", "1000 bytes": exact, never rounded. */
static void
sc_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

	for (unsigned i = 0; i < 4; i++) {
		unsigned shift = 40 - 10 * i;

		if (v != 0 && v % (1ull << shift) == 0) {
			snprintf(buf, len, "%" PRIu64 " %s", v >> shift,
			    units[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 " bytes", v);
}

static int
sc_line(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* ---- typed getters: 1 present and right type, 0 absent, -1 error ------ */

/* Messages read "SUBJ: KEY ..." or, at top level (subj ""), "KEY ...". */
static const char *
sc_sep(const char *subj)
{
	return *subj != '\0' ? ": " : "";
}

static int
sc_get_str(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		sc_err(c, s, "%s%s%s must be a string", subj, sc_sep(subj),
		    key);
		return -1;
	}
	*out = config_setting_get_string(s);
	return 1;
}

static int
sc_get_int(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		sc_err(c, s, "%s%s%s must be an integer", subj, sc_sep(subj),
		    key);
		return -1;
	}
	*out = config_setting_get_int64(s);
	return 1;
}

static int
sc_get_bool(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		sc_err(c, s, "%s%s%s must be true or false", subj,
		    sc_sep(subj), key);
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

static int
sc_get_size(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	int r;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		sc_err(c, s, "%s%s%s must be a size string like \"256M\"",
		    subj, sc_sep(subj), key);
		return -1;
	}
	v = config_setting_get_string(s);
	r = sc_size_parse(v, out);
	if (r == -EDOM) {
		sc_err(c, s, "%s%s%s must not be zero", subj, sc_sep(subj), key);
		return -1;
	}
	if (r == -ERANGE) {
		sc_err(c, s, "%s%s%s \"%.40s\" is too large", subj,
		    sc_sep(subj), key, v);
		return -1;
	}
	if (r != 0) {
		sc_err(c, s, "%s%s%s \"%.40s\" is not a size (digits and an "
		    "optional unit K, M, G or T, like \"256M\")", subj,
		    sc_sep(subj), key, v);
		return -1;
	}
	return 1;
}

/*
 * Report every key of group g that is not in `allowed`.  `where` completes
 * "unknown key 'x' ...", e.g. "in vm 'vm0'".
 */
static void
sc_check_keys(struct sc_ctx *c, const config_setting_t *g,
    const char *const *allowed, const char *where, bool top)
{
	char list[256];

	sc_join(allowed, list, sizeof(list));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g,
		    (unsigned)i);
		const char *k = config_setting_name(s);

		if (k == NULL || sc_in(allowed, k))
			continue;
		if (top && sc_in(sc_reserved_keys, k))
			sc_err(c, s, "'%s' is not supported yet", k);
		else
			sc_err(c, s, "unknown key '%s' %s (expected one of: %s)",
			    k, where, list);
	}
}

/* A list of groups (possibly empty), or an error. NULL if absent/bad. */
static config_setting_t *
sc_get_list(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, const char *example)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		sc_err(c, s, "%s%s%s must be a list of groups, like %s", subj,
		    sc_sep(subj), key, example);
		return NULL;
	}
	return s;
}

/* Absolute form of a path from the file: relative to the file's dir. */
static char *
sc_resolve(struct sc_ctx *c, const char *p)
{
	char *r;

	if (p[0] == '/')
		return sc_strdup(c, p);
	if (asprintf(&r, "%s/%s", c->sys->dir, p) < 0) {
		c->oom = true;
		return NULL;
	}
	return r;
}

/* A name and its validity; sets subj to "KIND 'NAME'" or "KIND #N". */
static const char *
sc_name_of(struct sc_ctx *c, const config_setting_t *g, const char *kind,
    size_t idx, char *subj, size_t len)
{
	const char *name = NULL;
	const config_setting_t *s = config_setting_get_member(g, "name");

	if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING)
		name = config_setting_get_string(s);
	if (name != NULL)
		snprintf(subj, len, "%s '%.40s'", kind, name);
	else
		snprintf(subj, len, "%s #%zu", kind, idx);
	if (s == NULL) {
		sc_err(c, g, "%s: name is required", subj);
		return NULL;
	}
	if (name == NULL) {
		sc_err(c, s, "%s: name must be a string", subj);
		return NULL;
	}
	if (!sc_name_ok(name)) {
		sc_err(c, s, "%s name '%.40s' is not valid (" SC_NAME_RULE ")",
		    kind, name);
		return NULL;
	}
	return name;
}

/* ---- switches -------------------------------------------------------- */

static void
sc_parse_switches(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "switches", "",
	    "switches = ( { name = \"lan\"; } );");
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > SC_MAX_SWITCHES)
		sc_err(c, list, "too many switches: %zu (at most %d)", n,
		    SC_MAX_SWITCHES);
	sys->switches = sc_calloc(c, n, sizeof(*sys->switches));
	if (sys->switches == NULL)
		return;
	sys->nswitches = n;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_switch *sw = &sys->switches[i];
		char subj[64], where[80];
		const char *name, *up;

		sw->line = sc_line(g);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "switches: entry %zu must be a group "
			    "{ name = ...; }", i);
			continue;
		}
		name = sc_name_of(c, g, "switch", i, subj, sizeof(subj));
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_switch_keys, where, false);
		if (name != NULL) {
			for (size_t j = 0; j < i; j++)
				if (sys->switches[j].name != NULL &&
				    strcmp(sys->switches[j].name, name) == 0) {
					sc_err(c, config_setting_get_member(g,
					    "name"), "switch '%s' is defined "
					    "twice (first at line %d)", name,
					    sys->switches[j].line);
					break;
				}
			sw->name = sc_strdup(c, name);
		}
		if (sc_get_str(c, g, "uplink", subj, &up) == 1) {
			const config_setting_t *s = config_setting_get_member(g,
			    "uplink");

			if (!sc_tap_ok(up)) {
				sc_err(c, s, "%s: uplink '%.40s' is not a TAP "
				    "device name (1 to 15 characters of "
				    "A-Z a-z 0-9 _ . -)", subj, up);
				continue;
			}
			for (size_t j = 0; j < i; j++)
				if (sys->switches[j].uplink_tap != NULL &&
				    strcmp(sys->switches[j].uplink_tap, up) == 0)
					sc_err(c, s, "%s: uplink '%s' is "
					    "already the uplink of switch "
					    "'%s' (line %d)", subj, up,
					    sys->switches[j].name != NULL ?
					    sys->switches[j].name : "?",
					    sys->switches[j].line);
			sw->uplink_tap = sc_strdup(c, up);
		}
	}
}

/* ---- disks ----------------------------------------------------------- */

/* Parse disk.partitions (the layout to create); numbers the entries. */
static void
sc_parse_layout(struct sc_ctx *c, struct sc_disk *d, const char *subj,
    const config_setting_t *dg, uint64_t cap)
{
	const config_setting_t *list = sc_get_list(c, dg, "partitions", subj,
	    "partitions = ( { size = \"64M\"; } )");
	unsigned nprimary = 0, nlogical = 0;
	uint64_t sum = 0, overhead;
	size_t n;
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
		sc_check_keys(c, g, sc_part_keys, where, false);
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
			sum += p->size;	/* at most 128 * 2^64: checked below */
			if (sum < p->size)
				sum = UINT64_MAX;
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
	}
	if (d->layout == SC_PT_MBR && nprimary + (nlogical > 0) > 4)
		sc_err(c, list, "%s: an mbr layout holds at most 4 primary "
		    "partitions; this one needs %u%s", subj,
		    nprimary + (nlogical > 0),
		    nlogical > 0 ? " (counting the extended partition that "
		    "holds the logical ones)" : "");
	/* 1 MiB before the first partition; MBR: 1 MiB for each logical's
	 * EBR; GPT: 1 MiB at the end for the backup table. */
	overhead = SC_MIB + (d->layout == SC_PT_GPT ? SC_MIB :
	    nlogical * SC_MIB);
	if (cap != 0 && (sum > SC_MAX_DISK_SIZE ||
	    sum + overhead + (rest ? SC_MIB : 0) > cap)) {
		char have[32], need[32], ovh[32];

		sc_fmt_size(cap, have, sizeof(have));
		sc_fmt_size(overhead, ovh, sizeof(ovh));
		if (sum > SC_MAX_DISK_SIZE)
			snprintf(need, sizeof(need), "more than 64 TiB");
		else
			sc_fmt_size(sum + overhead, need, sizeof(need));
		sc_err(c, list, "%s: the partitions need %s (%s of it for "
		    "the table and alignment)%s but the disk is %s", subj,
		    need, ovh, rest ? " plus at least 1 MiB for the last one" :
		    "", have);
	}
	if (d->layout == SC_PT_MBR && sum <= SC_MAX_DISK_SIZE &&
	    sum + overhead > (2ull << 40))
		sc_err(c, list, "%s: an mbr layout cannot address more than "
		    "2 TiB; use layout = \"gpt\"", subj);
}

static void
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
		sc_check_keys(c, g, sc_disk_keys, where, false);
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

static int
sc_disk_find(const struct sc_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->ndisks; i++)
		if (sys->disks[i].name != NULL &&
		    strcmp(sys->disks[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
sc_switch_find(const struct sc_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->nswitches; i++)
		if (sys->switches[i].name != NULL &&
		    strcmp(sys->switches[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
sc_vm_find(const struct sc_system *sys, const char *name)
{
	if (sys == NULL || name == NULL)
		return -1;
	for (size_t i = 0; i < sys->nvms; i++)
		if (sys->vms[i].name != NULL &&
		    strcmp(sys->vms[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- VMs ------------------------------------------------------------- */

static bool
sc_part_declared(const struct sc_disk *d, unsigned num)
{
	for (size_t i = 0; i < d->nparts; i++)
		if (d->parts[i].number == num)
			return true;
	return false;
}

/* "1-3, 5-6": the partition numbers a declared layout creates. */
static void
sc_fmt_declared(const struct sc_disk *d, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->nparts && off < len; i++) {
		size_t j = i;
		int n;

		while (j + 1 < d->nparts &&
		    d->parts[j + 1].number == d->parts[j].number + 1)
			j++;
		if (j == i)
			n = snprintf(buf + off, len - off, "%s%u",
			    off ? ", " : "", d->parts[i].number);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u",
			    off ? ", " : "", d->parts[i].number,
			    d->parts[j].number);
		if (n < 0)
			break;
		off += (size_t)n;
		i = j;
	}
}

static void
sc_parse_grants(struct sc_ctx *c, struct sc_vm *vm, const char *subj,
    const config_setting_t *vg)
{
	const config_setting_t *list = sc_get_list(c, vg, "disks", subj,
	    "disks = ( { disk = \"sata\"; partitions = [ 1 ]; } )");
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > SC_MAX_DISKS_PER_VM) {
		sc_err(c, list, "%s: too many disks: %zu (at most %d)", subj,
		    n, SC_MAX_DISKS_PER_VM);
		return;
	}
	vm->disks = sc_calloc(c, n, sizeof(*vm->disks));
	if (vm->disks == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		const config_setting_t *ps;
		struct sc_vm_disk *vd = &vm->disks[vm->ndisks];
		char gsubj[80], where[96];
		const char *dname;
		const struct sc_disk *d = NULL;
		int r, di = -1;
		size_t np;

		memset(vd, 0, sizeof(*vd));
		snprintf(gsubj, sizeof(gsubj), "%s, vd%c", subj, (int)('a' + i));
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "%s must be a group { disk = ...; "
			    "partitions = [ ... ]; }", gsubj);
			continue;
		}
		snprintf(where, sizeof(where), "in %s", gsubj);
		sc_check_keys(c, g, sc_grant_keys, where, false);
		r = sc_get_str(c, g, "disk", gsubj, &dname);
		if (r == 0)
			sc_err(c, g, "%s: disk is required (the name of an "
			    "entry of disks)", gsubj);
		if (r == 1) {
			di = sc_disk_find(c->sys, dname);
			if (di < 0)
				sc_err(c, config_setting_get_member(g, "disk"),
				    "%s: disk '%.40s' is not defined", gsubj,
				    dname);
			else
				d = &c->sys->disks[di];
		}
		sc_get_bool(c, g, "readonly", gsubj, &vd->readonly);
		ps = config_setting_get_member(g, "partitions");
		if (ps == NULL) {
			sc_err(c, g, "%s: partitions is required, like "
			    "partitions = [ 1 ]", gsubj);
			continue;
		}
		if (config_setting_type(ps) != CONFIG_TYPE_ARRAY ||
		    (config_setting_length(ps) > 0 &&
		    config_setting_type(config_setting_get_elem(ps, 0)) !=
		    CONFIG_TYPE_INT &&
		    config_setting_type(config_setting_get_elem(ps, 0)) !=
		    CONFIG_TYPE_INT64)) {
			sc_err(c, ps, "%s: partitions must be an array of "
			    "partition numbers, like [ 1 ]", gsubj);
			continue;
		}
		np = (size_t)config_setting_length(ps);
		if (np == 0) {
			sc_err(c, ps, "%s: partitions must not be empty",
			    gsubj);
			continue;
		}
		if (np > SC_MAX_PARTS) {
			sc_err(c, ps, "%s: too many partitions", gsubj);
			continue;
		}
		vd->partitions = sc_calloc(c, np, sizeof(*vd->partitions));
		if (vd->partitions == NULL)
			return;
		for (size_t k = 0; k < np; k++) {
			long long v = config_setting_get_int64(
			    config_setting_get_elem(ps, (unsigned)k));
			char decl[96];
			bool dup = false;

			if (v < 1 || v > SC_MAX_PARTS) {
				sc_err(c, ps, "%s: partition number %lld is "
				    "out of range (1 to %d)", gsubj, v,
				    SC_MAX_PARTS);
				continue;
			}
			for (size_t m = 0; m < vd->npartitions; m++)
				dup |= vd->partitions[m] == (unsigned)v;
			if (dup) {
				sc_err(c, ps, "%s: partition %lld is listed "
				    "twice", gsubj, v);
				continue;
			}
			if (d != NULL && d->nparts > 0 &&
			    !sc_part_declared(d, (unsigned)v)) {
				sc_fmt_declared(d, decl, sizeof(decl));
				sc_err(c, ps, "%s: disk '%s' has no partition "
				    "%lld (its layout declares %s)", gsubj,
				    d->name, v, decl);
				continue;
			}
			vd->partitions[vd->npartitions++] = (unsigned)v;
		}
		vd->line = sc_line(g);
		if (di < 0 || vd->npartitions != np) {
			free(vd->partitions);
			vd->partitions = NULL;
			vd->npartitions = 0;
			continue;
		}
		vd->disk = (size_t)di;
		vm->ndisks++;
	}
}

/* "02:00:00:00:aa:01"; false if not six hex octets separated by ':'. */
static bool
sc_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = s[i * 3 + k];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v |= (unsigned)(ch - 'A' + 10);
			else
				return false;
		}
		if (i < 5 && s[i * 3 + 2] != ':')
			return false;
		mac[i] = (uint8_t)v;
	}
	return true;
}

static void
sc_parse_nics(struct sc_ctx *c, struct sc_vm *vm, const char *subj,
    const config_setting_t *vg)
{
	const config_setting_t *list = sc_get_list(c, vg, "nics", subj,
	    "nics = ( { switch = \"lan\"; } )");
	size_t n;

	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n > SC_MAX_NICS_PER_VM) {
		sc_err(c, list, "%s: too many nics: %zu (at most %d)", subj, n,
		    SC_MAX_NICS_PER_VM);
		return;
	}
	vm->nics = sc_calloc(c, n, sizeof(*vm->nics));
	if (vm->nics == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_nic *nic = &vm->nics[vm->nnics];
		char nsubj[80], where[96];
		const char *swname, *mac;
		int r, si = -1;
		bool ok = true;

		memset(nic, 0, sizeof(*nic));
		snprintf(nsubj, sizeof(nsubj), "%s, eth%zu", subj, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "%s must be a group { switch = ...; }",
			    nsubj);
			continue;
		}
		snprintf(where, sizeof(where), "in %s", nsubj);
		sc_check_keys(c, g, sc_nic_keys, where, false);
		r = sc_get_str(c, g, "switch", nsubj, &swname);
		if (r == 0)
			sc_err(c, g, "%s: switch is required (the name of an "
			    "entry of switches)", nsubj);
		if (r == 1) {
			si = sc_switch_find(c->sys, swname);
			if (si < 0)
				sc_err(c, config_setting_get_member(g,
				    "switch"), "%s: switch '%.40s' is not "
				    "defined", nsubj, swname);
		}
		for (size_t k = 0; si >= 0 && k < vm->nnics; k++)
			if (vm->nics[k].sw == (size_t)si) {
				sc_err(c, config_setting_get_member(g,
				    "switch"), "%s: a VM has at most one nic "
				    "per switch, and eth%zu (line %d) is "
				    "already on switch '%s'", nsubj, k,
				    vm->nics[k].line, swname);
				ok = false;
			}
		if (si >= 0) {
			nic->mac[0] = 0x02;
			nic->mac[4] = (uint8_t)(0xAA + si);
			nic->mac[5] = (uint8_t)(vm->index + 1);
		}
		r = sc_get_str(c, g, "mac", nsubj, &mac);
		if (r == 1) {
			const config_setting_t *ms =
			    config_setting_get_member(g, "mac");
			static const uint8_t zero[6];

			if (!sc_mac_parse(mac, nic->mac)) {
				sc_err(c, ms, "%s: mac '%.40s' is not a MAC "
				    "address like \"02:00:00:00:aa:01\"", nsubj,
				    mac);
				ok = false;
			} else if (nic->mac[0] & 1) {
				sc_err(c, ms, "%s: mac %s is a multicast "
				    "address (the first octet must be even)",
				    nsubj, mac);
				ok = false;
			} else if (memcmp(nic->mac, zero, 6) == 0) {
				sc_err(c, ms, "%s: mac must not be all zero",
				    nsubj);
				ok = false;
			}
		} else if (r < 0) {
			ok = false;
		}
		nic->line = sc_line(g);
		if (si < 0 || !ok)
			continue;
		nic->sw = (size_t)si;
		nic->uplink = c->sys->switches[si].uplink_tap != NULL;
		vm->nnics++;
	}
}

/*
 * hugepages = "DIR": guest RAM in a file on that hugetlbfs mount (what
 * DPDK, SPDK and OVS document for vhost-user) instead of a memfd.
 */
static void
sc_parse_hugepages(struct sc_ctx *c, struct sc_vm *vm, const char *subj,
    const config_setting_t *g)
{
	const config_setting_t *s = config_setting_get_member(g, "hugepages");
	struct statfs fs;
	const char *str;
	char *abs;

	if (sc_get_str(c, g, "hugepages", subj, &str) != 1)
		return;
	if (str[0] == '\0' || strchr(str, ',') != NULL) {
		sc_err(c, s, "%s: hugepages must name a hugetlbfs mount (a "
		    "path without ',')", subj);
		return;
	}
	if ((abs = sc_resolve(c, str)) == NULL)
		return;
	vm->hugepages = abs;
	vm->hugepages_as_written = sc_strdup(c, str);
	if (statfs(abs, &fs) != 0) {
		sc_err(c, s, "%s: hugepages '%.80s': %s", subj, str,
		    strerror(errno));
	} else if (fs.f_type != HUGETLBFS_MAGIC) {
		sc_err(c, s, "%s: hugepages '%.80s' is not a hugetlbfs mount "
		    "(mount -t hugetlbfs nodev %.80s)", subj, str, str);
	} else if (fs.f_bsize <= 0 || vm->memory % (uint64_t)fs.f_bsize != 0) {
		sc_err(c, s, "%s: memory must be a multiple of the huge page "
		    "size of '%.80s' (%ld KiB)", subj, str,
		    (long)fs.f_bsize / 1024);
	}
}

static void
sc_parse_vm(struct sc_ctx *c, struct sc_vm *vm, const config_setting_t *g,
    size_t i)
{
	struct sc_system *sys = c->sys;
	char subj[64], where[80];
	const char *name, *str;
	long long v;
	int r;

	vm->index = (unsigned)i;
	vm->line = sc_line(g);
	vm->memory = 256 * SC_MIB;
	vm->vcpus = 1;
	vm->arch = SC_ARCH_X86_64;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		sc_err(c, g, "vms: entry %zu must be a group { name = ...; }",
		    i);
		return;
	}
	name = sc_name_of(c, g, "vm", i, subj, sizeof(subj));
	snprintf(where, sizeof(where), "in %s", subj);
	sc_check_keys(c, g, sc_vm_keys, where, false);
	if (name != NULL) {
		for (size_t j = 0; j < i; j++)
			if (sys->vms[j].name != NULL &&
			    strcmp(sys->vms[j].name, name) == 0) {
				sc_err(c, config_setting_get_member(g, "name"),
				    "vm '%s' is defined twice (first at line "
				    "%d)", name, sys->vms[j].line);
				break;
			}
		vm->name = sc_strdup(c, name);
	}
	r = sc_get_size(c, g, "memory", subj, &vm->memory);
	if (r == 1) {
		const config_setting_t *s = config_setting_get_member(g,
		    "memory");

		if (vm->memory < SC_MIN_MEMORY || vm->memory > SC_MAX_MEMORY)
			sc_err(c, s, "%s: memory must be 32M to 256G, not %s",
			    subj, config_setting_get_string(s));
		else if (vm->memory % SC_MIB != 0)
			sc_err(c, s, "%s: memory must be a whole number of MiB",
			    subj);
	}
	r = sc_get_int(c, g, "vcpus", subj, &v);
	if (r == 1 && (v < 1 || v > SC_MAX_VCPUS))
		sc_err(c, config_setting_get_member(g, "vcpus"),
		    "%s: vcpus must be 1 to %d, not %lld", subj, SC_MAX_VCPUS,
		    v);
	else if (r == 1)
		vm->vcpus = (unsigned)v;
	r = sc_get_str(c, g, "arch", subj, &str);
	if (r == 1 && strcmp(str, "i386") == 0)
		sc_err(c, config_setting_get_member(g, "arch"),
		    "%s: arch \"i386\" is not supported yet", subj);
	else if (r == 1 && strcmp(str, "x86_64") != 0)
		sc_err(c, config_setting_get_member(g, "arch"),
		    "%s: arch must be \"x86_64\", not \"%.20s\"", subj, str);

	sc_parse_hugepages(c, vm, subj, g);
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "kernel" : "initrd";
		const config_setting_t *s = config_setting_get_member(g, key);
		struct stat st;
		char *abs;

		if (sc_get_str(c, g, key, subj, &str) != 1)
			continue;
		if (str[0] == '\0') {
			sc_err(c, s, "%s: %s must not be empty", subj, key);
			continue;
		}
		abs = sc_resolve(c, str);
		if (abs == NULL)
			continue;
		if (stat(abs, &st) != 0 || access(abs, R_OK) != 0)
			sc_err(c, s, "%s: %s '%.80s': %s", subj, key, str,
			    strerror(errno));
		else if (!S_ISREG(st.st_mode))
			sc_err(c, s, "%s: %s '%.80s' is not a regular file",
			    subj, key, str);
		if (k == 0) {
			vm->kernel = abs;
			vm->kernel_as_written = sc_strdup(c, str);
		} else {
			vm->initrd = abs;
			vm->initrd_as_written = sc_strdup(c, str);
		}
	}
	if (config_setting_get_member(g, "initrd") != NULL &&
	    config_setting_get_member(g, "kernel") == NULL)
		sc_err(c, config_setting_get_member(g, "initrd"),
		    "%s: initrd needs a kernel (Isles' guest image brings "
		    "its own initramfs)", subj);

	if (sc_get_str(c, g, "cmdline", subj, &str) == 1) {
		const config_setting_t *s = config_setting_get_member(g,
		    "cmdline");
		bool ctl = false;

		for (const char *p = str; *p != '\0'; p++)
			ctl |= (unsigned char)*p < 0x20 ||
			    (unsigned char)*p == 0x7f;
		if (strlen(str) > SC_MAX_CMDLINE)
			sc_err(c, s, "%s: cmdline is longer than %d characters",
			    subj, SC_MAX_CMDLINE);
		else if (ctl)
			sc_err(c, s, "%s: cmdline must not contain control "
			    "characters", subj);
		else
			vm->cmdline = sc_strdup(c, str);
	}
	sc_parse_grants(c, vm, subj, g);
	sc_parse_nics(c, vm, subj, g);
}

static void
sc_parse_vms(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list;
	size_t n;

	if (config_setting_get_member(root, "vms") == NULL) {
		sc_errl(c, 0, "vms is required: vms = ( { name = \"vm0\"; } );");
		return;
	}
	list = sc_get_list(c, root, "vms", "",
	    "vms = ( { name = \"vm0\"; } );");
	if (list == NULL)
		return;
	n = (size_t)config_setting_length(list);
	if (n == 0)
		sc_err(c, list, "vms is empty: a system needs at least one VM");
	if (n > SC_MAX_VMS)
		sc_err(c, list, "too many VMs: %zu (at most %d)", n, SC_MAX_VMS);
	sys->vms = sc_calloc(c, n, sizeof(*sys->vms));
	if (sys->vms == NULL)
		return;
	sys->nvms = n;
	for (size_t i = 0; i < n; i++)
		sc_parse_vm(c, &sys->vms[i], config_setting_get_elem(list,
		    (unsigned)i), i);
}

/* ---- rules across VMs ------------------------------------------------ */

static bool
sc_has_part(const struct sc_vm_disk *g, unsigned p)
{
	for (size_t i = 0; i < g->npartitions; i++)
		if (g->partitions[i] == p)
			return true;
	return false;
}

/* A partition may be shared read-only, never while someone can write it. */
static void
sc_check_sharing(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t ga = 0; ga < sys->vms[a].ndisks; ga++)
			for (size_t b = a; b < sys->nvms; b++)
				for (size_t gb = b == a ? ga + 1 : 0;
				    gb < sys->vms[b].ndisks; gb++) {
		const struct sc_vm_disk *x = &sys->vms[a].disks[ga];
		const struct sc_vm_disk *y = &sys->vms[b].disks[gb];

		if (x->disk != y->disk || (x->readonly && y->readonly))
			continue;
		for (size_t k = 0; k < y->npartitions; k++) {
			if (!sc_has_part(x, y->partitions[k]))
				continue;
			sc_errl(c, y->line, "partition %u of disk '%s' is "
			    "granted %s to vm '%s' (line %d) and %s to vm "
			    "'%s' (line %d)", y->partitions[k],
			    sys->disks[y->disk].name, x->readonly ?
			    "read-only" : "writable", sys->vms[a].name ?
			    sys->vms[a].name : "?", x->line, y->readonly ?
			    "read-only" : "writable", sys->vms[b].name ?
			    sys->vms[b].name : "?", y->line);
		}
	}
}

static void
sc_check_macs(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t a = 0; a < sys->nvms; a++)
		for (size_t na = 0; na < sys->vms[a].nnics; na++)
			for (size_t b = a; b < sys->nvms; b++)
				for (size_t nb = b == a ? na + 1 : 0;
				    nb < sys->vms[b].nnics; nb++) {
		const struct sc_nic *x = &sys->vms[a].nics[na];
		const struct sc_nic *y = &sys->vms[b].nics[nb];
		const uint8_t *m = y->mac;

		if (memcmp(x->mac, y->mac, 6) != 0)
			continue;
		/* No ethN here: nics[] skips NICs that had errors. */
		sc_errl(c, y->line, "vm '%s': MAC "
		    "%02x:%02x:%02x:%02x:%02x:%02x is already the MAC of a "
		    "nic of vm '%s' (line %d)",
		    sys->vms[b].name ? sys->vms[b].name : "?", m[0], m[1],
		    m[2], m[3], m[4], m[5],
		    sys->vms[a].name ? sys->vms[a].name : "?", x->line);
	}
}

/* ---- top level ------------------------------------------------------- */

/* sys->dir: the absolute directory of `file` (the cwd for a bare name). */
static int
sc_set_dir(struct sc_ctx *c, const char *file)
{
	char cwd[PATH_MAX];
	const char *slash = strrchr(file, '/');
	size_t dlen = slash == NULL ? 0 : (size_t)(slash - file);

	if (file[0] == '/') {
		c->sys->dir = strndup(file, dlen == 0 ? 1 : dlen);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		if (dlen == 0) {
			c->sys->dir = strdup(cwd);
		} else if (asprintf(&c->sys->dir, "%s/%.*s", cwd, (int)dlen,
		    file) < 0) {
			c->sys->dir = NULL;
		}
	}
	return c->sys->dir == NULL ? -1 : 0;
}

static void
sc_parse_top(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const char *str;
	int r;

	sc_check_keys(c, root, sc_top_keys, "at top level", true);
	r = sc_get_str(c, root, "name", "", &str);
	if (r == 1) {
		if (!sc_name_ok(str))
			sc_err(c, config_setting_get_member(root, "name"),
			    "system name '%.40s' is not valid (" SC_NAME_RULE
			    ")", str);
		else
			sys->name = sc_strdup(c, str);
	} else if (r == 0) {
		const char *base = strrchr(c->file, '/');
		size_t len;
		char buf[64];

		base = base != NULL ? base + 1 : c->file;
		len = strlen(base);
		if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
			len -= 5;
		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63),
		    base);
		if (!sc_name_ok(buf) || len > SC_MAX_NAME)
			sc_errl(c, 0, "system name '%s' (the file name) is not "
			    "valid (" SC_NAME_RULE "); set name = \"...\";",
			    buf);
		else
			sys->name = sc_strdup(c, buf);
	}
	r = sc_get_str(c, root, "accel", "", &str);
	if (r == 1) {
		if (strcmp(str, "auto") == 0)
			sys->accel = SC_ACCEL_AUTO;
		else if (strcmp(str, "kvm") == 0)
			sys->accel = SC_ACCEL_KVM;
		else if (strcmp(str, "tcg") == 0)
			sys->accel = SC_ACCEL_TCG;
		else
			sc_err(c, config_setting_get_member(root, "accel"),
			    "accel must be \"auto\", \"kvm\" or \"tcg\", not "
			    "\"%.20s\"", str);
	}
	sys->console_log_max = SC_DEFAULT_CONSOLE_LOG;
	r = sc_get_size(c, root, "console_log_max", "", &sys->console_log_max);
	if (r == 1 && (sys->console_log_max < SC_MIN_CONSOLE_LOG ||
	    sys->console_log_max > SC_MAX_CONSOLE_LOG))
		sc_err(c, config_setting_get_member(root, "console_log_max"),
		    "console_log_max must be 64K to 256M, not \"%.40s\"",
		    config_setting_get_string(config_setting_get_member(root,
		    "console_log_max")));
	sc_parse_switches(c, root);
	sc_parse_disks(c, root);
	sc_parse_vms(c, root);
	sc_check_sharing(c);
	sc_check_macs(c);
}

/*
 * Common path of sc_load and sc_load_string: `text` NULL means read the
 * file `file`.  Owns nothing on return but the plan.
 */
static struct sc_system *
sc_load_common(const char *text, const char *file, struct sc_errors *err)
{
	struct sc_ctx *c;
	struct sc_system *sys;
	config_t cf;
	int ok;

	err->n = 0;
	err->dropped = 0;
	c = calloc(1, sizeof(*c));
	sys = calloc(1, sizeof(*sys));
	if (c == NULL || sys == NULL || (sys->file = strdup(file)) == NULL) {
		free(c);
		free(sys);
		snprintf(err->msg[0], sizeof(err->msg[0]), "%s: out of memory",
		    file);
		err->n = 1;
		return NULL;
	}
	c->sys = sys;
	c->file = sys->file;
	if (sc_set_dir(c, file) != 0) {
		sc_errl(c, 0, "cannot find the file's directory: %s",
		    strerror(errno));
		goto out;
	}
	if (text == NULL) {
		struct stat st;
		FILE *fp = fopen(file, "r");

		if (fp == NULL) {
			sc_errl(c, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		ok = fstat(fileno(fp), &st) == 0 && !S_ISDIR(st.st_mode);
		fclose(fp);
		if (!ok) {
			sc_errl(c, 0, "cannot read: is a directory");
			goto out;
		}
	}
	config_init(&cf);
	config_set_include_dir(&cf, sys->dir);
	ok = text == NULL ? config_read_file(&cf, file) :
	    config_read_string(&cf, text);
	if (ok != CONFIG_TRUE) {
		/* The error's file may be an @include: name it. */
		c->errs[0].file = config_error_file(&cf);
		c->errs[0].line = config_error_line(&cf);
		snprintf(c->errs[0].text, sizeof(c->errs[0].text), "%s",
		    config_error_text(&cf));
		c->nerrs = 1;
	} else {
		sc_parse_top(c, config_root_setting(&cf));
		if (c->oom)
			sc_errl(c, 0, "out of memory");
	}
	/* Messages point at file names libconfig owns: flush first. */
	if (c->nerrs > 0)
		sc_flush_errors(c, err);
	config_destroy(&cf);
out:
	if (c->nerrs > 0) {
		if (err->n == 0)
			sc_flush_errors(c, err);
		sc_free(sys);
		sys = NULL;
	}
	free(c);
	return sys;
}

struct sc_system *
sc_load(const char *path, struct sc_errors *err)
{
	return sc_load_common(NULL, path, err);
}

struct sc_system *
sc_load_string(const char *text, const char *name, struct sc_errors *err)
{
	return sc_load_common(text != NULL ? text : "",
	    name != NULL ? name : "<string>", err);
}

void
sc_free(struct sc_system *sys)
{
	if (sys == NULL)
		return;
	for (size_t i = 0; i < sys->nvms; i++) {
		struct sc_vm *vm = &sys->vms[i];

		for (size_t k = 0; k < vm->ndisks; k++)
			free(vm->disks[k].partitions);
		free(vm->disks);
		free(vm->nics);
		free(vm->name);
		free(vm->kernel);
		free(vm->initrd);
		free(vm->kernel_as_written);
		free(vm->hugepages);
		free(vm->hugepages_as_written);
		free(vm->initrd_as_written);
		free(vm->cmdline);
	}
	free(sys->vms);
	for (size_t i = 0; i < sys->ndisks; i++) {
		free(sys->disks[i].name);
		free(sys->disks[i].path);
		free(sys->disks[i].path_as_written);
		free(sys->disks[i].parts);
	}
	free(sys->disks);
	for (size_t i = 0; i < sys->nswitches; i++) {
		free(sys->switches[i].name);
		free(sys->switches[i].uplink_tap);
	}
	free(sys->switches);
	free(sys->file);
	free(sys->dir);
	free(sys->name);
	free(sys);
}

/* ---- the plan -------------------------------------------------------- */

void
sc_print(const struct sc_system *sys, FILE *out)
{
	static const char *const accel[] = { "auto", "kvm", "tcg" };
	char sz[32];

	fprintf(out, "system %s\n", sys->name);
	fprintf(out, "  file: %s\n", sys->file);
	fprintf(out, "  accel: %s\n", accel[sys->accel]);
	sc_fmt_size(sys->console_log_max, sz, sizeof(sz));
	fprintf(out, "  console log: newest %s per VM\n", sz);
	for (size_t i = 0; i < sys->nvms; i++) {
		const struct sc_vm *vm = &sys->vms[i];

		fprintf(out, "vm %u: %s\n", vm->index, vm->name);
		fprintf(out, "  memory: %" PRIu64 " MiB\n", (uint64_t)(vm->memory / SC_MIB));
		fprintf(out, "  vcpus: %u\n", vm->vcpus);
		fprintf(out, "  arch: x86_64\n");
		if (vm->hugepages_as_written != NULL)
			fprintf(out, "  hugepages: %s\n",
			    vm->hugepages_as_written);
		if (vm->kernel_as_written != NULL) {
			fprintf(out, "  kernel: %s\n", vm->kernel_as_written);
			fprintf(out, "  initrd: %s\n", vm->initrd_as_written ?
			    vm->initrd_as_written : "none");
		} else {
			fprintf(out, "  kernel: isles guest image\n");
		}
		fprintf(out, "  cmdline: %s\n", vm->cmdline ? vm->cmdline :
		    "(none)");
		for (size_t k = 0; k < vm->ndisks; k++) {
			const struct sc_vm_disk *vd = &vm->disks[k];

			fprintf(out, "  vd%c: disk %s, partition%s ",
			    (int)('a' + k), sys->disks[vd->disk].name,
			    vd->npartitions > 1 ? "s" : "");
			for (size_t p = 0; p < vd->npartitions; p++)
				fprintf(out, "%s%u", p ? " " : "",
				    vd->partitions[p]);
			fprintf(out, ", %s\n", vd->readonly ? "read-only" :
			    "read-write");
		}
		for (size_t k = 0; k < vm->nnics; k++) {
			const struct sc_nic *n = &vm->nics[k];

			fprintf(out, "  eth%zu: switch %s, mac "
			    "%02x:%02x:%02x:%02x:%02x:%02x\n", k,
			    sys->switches[n->sw].name, n->mac[0], n->mac[1],
			    n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		}
	}
	for (size_t i = 0; i < sys->ndisks; i++) {
		const struct sc_disk *d = &sys->disks[i];

		fprintf(out, "disk %s\n", d->name);
		fprintf(out, "  path: %s\n", d->path_as_written);
		if (d->size != 0) {
			sc_fmt_size(d->size, sz, sizeof(sz));
			fprintf(out, "  size: %s (created if missing)\n", sz);
		} else {
			fprintf(out, "  size: of the existing file\n");
		}
		if (d->nparts > 0) {
			fprintf(out, "  layout: %s\n", d->layout == SC_PT_GPT ?
			    "gpt" : "mbr");
			for (size_t p = 0; p < d->nparts; p++) {
				const struct sc_layout_part *lp = &d->parts[p];

				if (lp->size != 0)
					sc_fmt_size(lp->size, sz, sizeof(sz));
				else
					snprintf(sz, sizeof(sz), "rest of disk");
				fprintf(out, "    %u: %s, type 0x%02x%s%s\n",
				    lp->number, sz, lp->type,
				    lp->boot ? ", boot" : "",
				    lp->logical ? ", logical" : "");
			}
		} else {
			fprintf(out, "  layout: none declared (partitions are "
			    "checked by isles up)\n");
		}
		fprintf(out, "  queues: %u\n", d->queues);
	}
	for (size_t i = 0; i < sys->nswitches; i++) {
		const struct sc_switch *sw = &sys->switches[i];

		fprintf(out, "switch %s\n", sw->name);
		fprintf(out, "  uplink: %s\n", sw->uplink_tap ?
		    sw->uplink_tap : "none");
	}
}
