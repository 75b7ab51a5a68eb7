/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load: the system-file loader's entry points (sc_load, sc_load_string,
 * sc_free; see sysconf.h) and the top level of the file.  libconfig does
 * the parsing; the walk over its tree is split by concern (loader.h):
 * the top-level keys here, then switches.c, disks.c, vms.c (VMs, their
 * grants and NICs) and rules.c (rules across VMs), all with the error
 * list and typed getters of values.c.  Called by `isles check`, `isles
 * up` and the supervisor before they start anything.  The file is user
 * input, not trusted: every value is range-checked, every string is
 * bounded, and an error never stops the walk, so the user sees all
 * problems at once.
 */
#include "loader.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Top-level keys, and those of later versions (told apart in errors). */
static const char *const sc_top_keys[] = { "name", "accel",
	"console_log_max", "vms", "disks", "switches", "dataports", "consoles",
	"vsock", "console", NULL };
static const char *const sc_reserved_keys[] = { NULL };

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

	sc_check_keys(c, root, sc_top_keys, "at top level",
	    sc_reserved_keys);
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
	sc_parse_links(c, root);
	sc_check_rules(c);
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

		for (size_t k = 0; k < vm->ndisks; k++) {
			free(vm->disks[k].partitions);
			free(vm->disks[k].driver_name);
			free(vm->disks[k].dataport_name);
		}
		free(vm->disks);
		free(vm->sata);
		free(vm->pci);
		free(vm->dataports);
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
		for (size_t p = 0; p < sys->disks[i].nparts; p++) {
			for (size_t f = 0; f < sys->disks[i].parts[p].nimages;
			    f++)
				free(sys->disks[i].parts[p].images[f].path);
			free(sys->disks[i].parts[p].images);
		}
		free(sys->disks[i].parts);
	}
	free(sys->disks);
	for (size_t i = 0; i < sys->nswitches; i++) {
		free(sys->switches[i].name);
		free(sys->switches[i].uplink_tap);
	}
	free(sys->switches);
	for (size_t i = 0; i < sys->ndataports; i++) {
		free(sys->dataports[i].name);
		free(sys->dataports[i].peers);
	}
	free(sys->dataports);
	for (size_t i = 0; i < sys->nconsoles; i++)
		free(sys->consoles[i].name);
	free(sys->consoles);
	free(sys->vsock);
	if (sys->serial != NULL)
		free(sys->serial->device);
	free(sys->serial);
	free(sys->file);
	free(sys->dir);
	free(sys->name);
	free(sys);
}
