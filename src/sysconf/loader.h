/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loader: what the files of the system-file loader share; callers use
 * sysconf.h, never this.  One walk over libconfig's tree fills a struct
 * sc_system; sc_parse_top (load.c) calls the concerns in this order:
 *   switches.c  switches = ( ... )
 *   disks.c     disks = ( ... ) and the layouts to create on them
 *   vms.c       vms = ( ... ): each VM, the disks it is granted, its NICs
 *   links.c     dataports, driver-VM disks, consoles, vsock, serial console
 *   rules.c     what must hold across VMs (sharing, MACs, CIDs, SATA)
 * with the vocabulary of values.c: the walk's context and its error list
 * (sc_err: one "FILE:LINE: text" each, sorted by line at the end, the walk
 * goes on), and the typed getters that read one key and report a wrong
 * type.  print.c prints a finished plan.
 *
 * Getters return 1 (present and of the right type, *out set), 0 (absent)
 * or -1 (present but wrong: the error is recorded).  Allocation failures
 * set ctx->oom (reported once at the end), never abort the walk.
 */
#ifndef ISLES_SYSCONF_LOADER_H
#define ISLES_SYSCONF_LOADER_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysconf.h"

#define SC_MIB (1ull << 20)

#define SC_NAME_RULE "1 to 31 characters of a-z 0-9 _ -, starting with a letter or digit"

/* An error before sorting: its source position and its text. */
struct sc_pending {
	const char *file;	/* NULL: the system file itself */
	int line;		/* 0: no line known */
	unsigned seq;		/* order of discovery, for a stable sort */
	char text[224];
};

/* The walk: the plan being filled and the errors found so far. */
struct sc_ctx {
	struct sc_system *sys;
	const char *file;		/* as given: used in every message */
	struct sc_pending errs[SC_MAX_ERRORS];
	size_t nerrs;
	size_t dropped;
	bool oom;
};

/* ---- values.c: errors ---- */

/* An error about setting s (NULL: no line known). */
void sc_err(struct sc_ctx *c, const config_setting_t *s, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* An error at a line of the system file (0: none). */
void sc_errl(struct sc_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sort the collected errors by line into err ("FILE:LINE: text"). */
void sc_flush_errors(struct sc_ctx *c, struct sc_errors *err);

/* ---- values.c: small helpers ---- */

/* strdup / calloc that set c->oom on failure (NULL returned). */
char *sc_strdup(struct sc_ctx *c, const char *s);
void *sc_calloc(struct sc_ctx *c, size_t n, size_t size);
/* A name of the file's objects: see SC_NAME_RULE. */
bool sc_name_ok(const char *s);
/* "256 MiB", "1000 bytes": exact, never rounded, into buf. */
void sc_fmt_size(uint64_t v, char *buf, size_t len);
/* The line of a setting in its file. */
int sc_line(const config_setting_t *s);
/* Absolute form of a path from the file (relative to its directory). */
char *sc_resolve(struct sc_ctx *c, const char *p);

/* ---- values.c: typed getters (1 / 0 / -1, see above) ---- */

/*
 * Messages name the subject: "SUBJ: KEY must be ..." ("KEY must be ..."
 * at top level, subj "").
 */
int sc_get_str(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, const char **out);
int sc_get_int(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, long long *out);
int sc_get_bool(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, bool *out);
/* A size string ("256M"), by host_parse_size's rules; zero refused. */
int sc_get_size(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, uint64_t *out);
/*
 * Report every key of group g not in `allowed` ("unknown key 'x' WHERE");
 * a key in `reserved` (may be NULL) is "not supported yet" instead.
 */
void sc_check_keys(struct sc_ctx *c, const config_setting_t *g,
    const char *const *allowed, const char *where,
    const char *const *reserved);
/* key as a list of groups (possibly empty); NULL if absent or not one. */
config_setting_t *sc_get_list(struct sc_ctx *c, const config_setting_t *g,
    const char *key, const char *subj, const char *example);
/*
 * The valid name of group g of kind `kind` ("vm", "disk"), or NULL after
 * an error; subj becomes "KIND 'NAME'" or "KIND #IDX" for later messages.
 */
const char *sc_name_of(struct sc_ctx *c, const config_setting_t *g,
    const char *kind, size_t idx, char *subj, size_t len);

/* ---- the concerns, in the order sc_parse_top calls them ---- */

void sc_parse_switches(struct sc_ctx *c, const config_setting_t *root);
/* Index of the switch / disk called name in the plan, or -1. */
int sc_switch_find(const struct sc_system *sys, const char *name);
void sc_parse_disks(struct sc_ctx *c, const config_setting_t *root);
int sc_disk_find(const struct sc_system *sys, const char *name);
void sc_parse_vms(struct sc_ctx *c, const config_setting_t *root);
/* links.c: dataports, driver-VM disks, consoles, vsock, the serial console. */
void sc_parse_links(struct sc_ctx *c, const config_setting_t *root);
void sc_check_rules(struct sc_ctx *c);

#endif
