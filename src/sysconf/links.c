/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * links: what the system file connects across VMs, read once every VM is
 * known: dataports (memory and doorbells shared by named VMs), the
 * dataport of each disk a driver VM serves (docs/driver-vm.md), console
 * links (/dev/hvcN in two VMs), vsock rules (who may connect to whom, on
 * which port), and the multiplexed console's host serial device.  Called
 * by sc_parse_top (load.c) after vms.c, before rules.c.
 */
#include "loader.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>

static const char *const sc_dataport_keys[] = { "name", "size", "vms",
	NULL };
static const char *const sc_console_keys[] = { "name", "vms", NULL };
static const char *const sc_vsock_keys[] = { "client", "server", "port",
	NULL };
static const char *const sc_serial_keys[] = { "device", "speed", "format",
	NULL };

static int
sc_dataport_find(const struct sc_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->ndataports; i++)
		if (sys->dataports[i].name != NULL &&
		    strcmp(sys->dataports[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
sc_dataport_peer(const struct sc_dataport *d, size_t v)
{
	for (size_t i = d->host ? 1 : 0; i < d->npeers; i++)
		if (d->peers[i] == v)
			return (int)i;
	return -1;
}

/* A new dataport entry (the array is sized for the worst case). */
static struct sc_dataport *
sc_dataport_new(struct sc_ctx *c, const char *name, int line)
{
	struct sc_system *sys = c->sys;
	int prev = sc_dataport_find(sys, name);

	if (prev >= 0) {
		sc_errl(c, line, "dataport '%s' is defined twice (first at "
		    "line %d)", name, sys->dataports[prev].line);
		return NULL;
	}
	if (sys->ndataports == SC_MAX_DATAPORTS) {
		sc_errl(c, line, "too many dataports (at most %d)",
		    SC_MAX_DATAPORTS);
		return NULL;
	}
	return &sys->dataports[sys->ndataports];
}

/* Each disk a driver VM serves: its driver, and its dataport. */
static void
sc_driver_disks(struct sc_ctx *c)
{
	struct sc_system *sys = c->sys;

	for (size_t v = 0; v < sys->nvms; v++) {
		for (size_t k = 0; k < sys->vms[v].ndisks; k++) {
			struct sc_vm_disk *vd = &sys->vms[v].disks[k];
			struct sc_dataport *dp;
			int drv;

			if (vd->driver_name == NULL || vd->dataport_name == NULL)
				continue;
			drv = sc_vm_find(sys, vd->driver_name);
			if (drv < 0) {
				sc_errl(c, vd->line, "vm '%s', vd%c: driver "
				    "'%s' is not a VM of this system",
				    sys->vms[v].name, (int)('a' + k),
				    vd->driver_name);
				continue;
			}
			if ((size_t)drv == v) {
				sc_errl(c, vd->line, "vm '%s', vd%c: a VM "
				    "cannot be the driver of its own disk",
				    sys->vms[v].name, (int)('a' + k));
				continue;
			}
			dp = sc_dataport_new(c, vd->dataport_name, vd->line);
			if (dp == NULL)
				continue;
			dp->peers = sc_calloc(c, 2, sizeof(*dp->peers));
			dp->name = sc_strdup(c, vd->dataport_name);
			if (dp->peers == NULL || dp->name == NULL)
				return;
			dp->size = vd->dataport_size;
			dp->peers[0] = SIZE_MAX;	/* the disk daemon */
			dp->peers[1] = (size_t)drv;
			dp->npeers = 2;
			dp->host = true;
			dp->client = v;
			dp->client_disk = k;
			dp->line = vd->line;
			vd->driver = drv;
			vd->dataport = sys->ndataports++;
		}
	}
}

/* dataports = ( { name = "ctl"; size = "64K"; vms = [ "vm0", "vm1" ]; } ) */
static void
sc_parse_dataports(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "dataports", "",
	    "dataports = ( { name = \"ctl\"; size = \"64K\"; "
	    "vms = [ \"vm0\", \"vm1\" ]; } );");
	size_t n = list != NULL ? (size_t)config_setting_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i), *vs;
		char subj[64], where[80];
		const char *name;
		struct sc_dataport *dp;
		uint64_t size = 0;
		size_t nv;

		name = sc_name_of(c, g, "dataport", i, subj, sizeof(subj));
		if (name == NULL)
			continue;
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_dataport_keys, where, NULL);
		if ((dp = sc_dataport_new(c, name, sc_line(g))) == NULL)
			continue;
		if (sc_get_size(c, g, "size", subj, &size) == 0)
			sc_err(c, g, "%s: size is required, like size = "
			    "\"64K\";", subj);
		else if (size != 0 && (size < SC_MIN_DATAPORT ||
		    size > SC_MAX_DATAPORT || (size & (size - 1)) != 0)) {
			sc_err(c, config_setting_get_member(g, "size"), "%s: "
			    "size must be a power of two from 4K to 1G", subj);
			size = 0;
		}
		vs = config_setting_get_member(g, "vms");
		if (vs == NULL || config_setting_type(vs) != CONFIG_TYPE_ARRAY ||
		    (config_setting_length(vs) > 0 &&
		    config_setting_type(config_setting_get_elem(vs, 0)) !=
		    CONFIG_TYPE_STRING)) {
			sc_err(c, vs != NULL ? vs : g, "%s: vms must be an "
			    "array of two or more VM names, like vms = "
			    "[ \"vm0\", \"vm1\" ];", subj);
			continue;
		}
		nv = (size_t)config_setting_length(vs);
		if (nv < 2 || nv > SC_MAX_VMS) {
			sc_err(c, vs, "%s: vms must name 2 to %d VMs, not %zu",
			    subj, SC_MAX_VMS, nv);
			continue;
		}
		dp->peers = sc_calloc(c, nv, sizeof(*dp->peers));
		if (dp->peers == NULL)
			return;
		for (size_t k = 0; k < nv; k++) {
			const char *vm = config_setting_get_string_elem(vs,
			    (unsigned)k);
			int vi = sc_vm_find(sys, vm);

			if (vi < 0) {
				sc_err(c, vs, "%s: vm '%.40s' is not defined",
				    subj, vm);
				continue;
			}
			if (sc_dataport_peer(dp, (size_t)vi) >= 0) {
				sc_err(c, vs, "%s: vm '%s' is listed twice",
				    subj, vm);
				continue;
			}
			dp->peers[dp->npeers++] = (size_t)vi;
		}
		if (dp->npeers != nv || size == 0) {
			free(dp->peers);
			dp->peers = NULL;
			dp->npeers = 0;
			continue;
		}
		dp->name = sc_strdup(c, name);
		dp->size = size;
		dp->line = sc_line(g);
		sys->ndataports++;
	}
}

/*
 * Each VM's dataports, in the order that gives their PCI slots: the
 * dataports = ( ... ) entries it is on, in file order, then those of the
 * disks it drives, in the order of the VMs that own them.
 */
static void
sc_vm_dataports(struct sc_ctx *c)
{
	struct sc_system *sys = c->sys;

	for (size_t v = 0; v < sys->nvms; v++) {
		struct sc_vm *vm = &sys->vms[v];
		size_t n = 0;

		for (int pass = 0; pass < 2; pass++)
			for (size_t d = 0; d < sys->ndataports; d++)
				if (sys->dataports[d].host == (pass == 1) &&
				    sc_dataport_peer(&sys->dataports[d], v) >= 0)
					n++;
		if (n == 0)
			continue;
		if (n > SC_MAX_DATAPORTS_PER_VM) {
			sc_errl(c, vm->line, "vm '%s' is on %zu dataports (at "
			    "most %d, counting the disks it drives)", vm->name,
			    n, SC_MAX_DATAPORTS_PER_VM);
			continue;
		}
		vm->dataports = sc_calloc(c, n, sizeof(*vm->dataports));
		if (vm->dataports == NULL)
			return;
		for (int pass = 0; pass < 2; pass++)
			for (size_t d = 0; d < sys->ndataports; d++)
				if (sys->dataports[d].host == (pass == 1) &&
				    sc_dataport_peer(&sys->dataports[d], v) >= 0)
					vm->dataports[vm->ndataports++] = d;
	}
}

/* snprintf into buf at *off, counting what it needs even past len. */
static void
sc_app(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
sc_app(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (buf != NULL && *off < len)
		n = vsnprintf(buf + *off, len - *off, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*off += (size_t)(n > 0 ? n : 0);
}

int
sc_dataport_param(const struct sc_system *sys, size_t v, char *buf,
    size_t len)
{
	const struct sc_vm *vm = &sys->vms[v];
	size_t off = 0;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (size_t k = 0; k < vm->ndataports; k++) {
		const struct sc_dataport *d = &sys->dataports[vm->dataports[k]];

		sc_app(buf, len, &off, "%s%s:%02zx:", k ? "," : "", d->name,
		    0x10 + k);
		for (size_t p = 0; p < d->npeers; p++)
			sc_app(buf, len, &off, "%s%s", p ? "+" : "",
			    d->host && p == 0 ? SC_HOST_PEER :
			    sys->vms[d->peers[p]].name);
	}
	return (int)off;
}

int
sc_console_param(const struct sc_system *sys, size_t v, char *buf,
    size_t len)
{
	size_t off = 0, k = 0;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < sys->nconsoles; i++)
		if (sys->consoles[i].vm[0] == v || sys->consoles[i].vm[1] == v)
			sc_app(buf, len, &off, "%s%s", k++ ? "," : "",
			    sys->consoles[i].name);
	return (int)off;
}

/* consoles = ( { name = "hvc"; vms = [ "vm0", "vm1" ]; } ) */
static void
sc_parse_consoles(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "consoles", "",
	    "consoles = ( { name = \"hvc\"; vms = [ \"vm0\", \"vm1\" ]; } );");
	size_t n = list != NULL ? (size_t)config_setting_length(list) : 0;

	if (n > SC_MAX_CONSOLES) {
		sc_err(c, list, "too many consoles (at most %d)",
		    SC_MAX_CONSOLES);
		return;
	}
	if (n > 0 && (sys->consoles = sc_calloc(c, n,
	    sizeof(*sys->consoles))) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i), *vs;
		struct sc_console_link *l = &sys->consoles[sys->nconsoles];
		char subj[64], where[80];
		const char *name;
		int vi[2] = { -1, -1 };

		name = sc_name_of(c, g, "console", i, subj, sizeof(subj));
		if (name == NULL)
			continue;
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_console_keys, where, NULL);
		for (size_t k = 0; k < sys->nconsoles; k++)
			if (strcmp(sys->consoles[k].name, name) == 0)
				sc_err(c, g, "console '%s' is defined twice "
				    "(first at line %d)", name,
				    sys->consoles[k].line);
		vs = config_setting_get_member(g, "vms");
		if (vs == NULL || config_setting_type(vs) != CONFIG_TYPE_ARRAY ||
		    config_setting_length(vs) != 2 ||
		    config_setting_type(config_setting_get_elem(vs, 0)) !=
		    CONFIG_TYPE_STRING) {
			sc_err(c, vs != NULL ? vs : g, "%s: vms must name the "
			    "two VMs of the link, like vms = [ \"vm0\", "
			    "\"vm1\" ];", subj);
			continue;
		}
		for (int k = 0; k < 2; k++) {
			const char *vm = config_setting_get_string_elem(vs,
			    (unsigned)k);

			if ((vi[k] = sc_vm_find(sys, vm)) < 0)
				sc_err(c, vs, "%s: vm '%.40s' is not defined",
				    subj, vm);
		}
		if (vi[0] < 0 || vi[1] < 0)
			continue;
		if (vi[0] == vi[1]) {
			sc_err(c, vs, "%s: a console links two different VMs",
			    subj);
			continue;
		}
		l->name = sc_strdup(c, name);
		l->vm[0] = (size_t)vi[0];
		l->vm[1] = (size_t)vi[1];
		l->line = sc_line(g);
		sys->nconsoles++;
	}
}

/* vsock = ( { client = "vm3"; server = "vm2"; port = 1234; } ) */
static void
sc_parse_vsock(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;
	const config_setting_t *list = sc_get_list(c, root, "vsock", "",
	    "vsock = ( { client = \"vm3\"; server = \"vm2\"; port = 1234; } );");
	size_t n = list != NULL ? (size_t)config_setting_length(list) : 0;

	if (n > SC_MAX_VSOCK_RULES) {
		sc_err(c, list, "too many vsock rules (at most %d)",
		    SC_MAX_VSOCK_RULES);
		return;
	}
	if (n > 0 && (sys->vsock = sc_calloc(c, n, sizeof(*sys->vsock))) ==
	    NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct sc_vsock_rule *r = &sys->vsock[sys->nvsock];
		char subj[48], where[64];
		const char *names[2];
		int vi[2] = { -1, -1 };
		long long port;
		bool ok = true;

		snprintf(subj, sizeof(subj), "vsock rule %zu", i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			sc_err(c, g, "%s must be a group { client = ...; "
			    "server = ...; port = ...; }", subj);
			continue;
		}
		snprintf(where, sizeof(where), "in %s", subj);
		sc_check_keys(c, g, sc_vsock_keys, where, NULL);
		for (int k = 0; k < 2; k++) {
			const char *key = k == 0 ? "client" : "server";
			int rr = sc_get_str(c, g, key, subj, &names[k]);

			if (rr == 0)
				sc_err(c, g, "%s: %s is required (a VM name)",
				    subj, key);
			if (rr != 1) {
				ok = false;
				continue;
			}
			vi[k] = sc_vm_find(sys, names[k]);
			if (vi[k] < 0) {
				sc_err(c, config_setting_get_member(g, key),
				    "%s: %s '%.40s' is not defined", subj, key,
				    names[k]);
				ok = false;
			} else if (sys->vms[vi[k]].cid == 0) {
				sc_err(c, config_setting_get_member(g, key),
				    "%s: vm '%s' has no cid (give it cid = N;)",
				    subj, names[k]);
				ok = false;
			}
		}
		if (ok && vi[0] == vi[1]) {
			sc_err(c, g, "%s: client and server are the same VM",
			    subj);
			ok = false;
		}
		switch (sc_get_int(c, g, "port", subj, &port)) {
		case 1:
			if (port < 0 || port > 0xffffffffLL) {
				sc_err(c, config_setting_get_member(g, "port"),
				    "%s: port must be 0 to 4294967295", subj);
				ok = false;
			}
			break;
		case 0:
			sc_err(c, g, "%s: port is required (the server's)",
			    subj);
			__attribute__((fallthrough));
		default:
			ok = false;
			break;
		}
		if (!ok)
			continue;
		r->client = (size_t)vi[0];
		r->server = (size_t)vi[1];
		r->port = (uint32_t)port;
		r->line = sc_line(g);
		for (size_t k = 0; k < sys->nvsock; k++)
			if (sys->vsock[k].client == r->client &&
			    sys->vsock[k].server == r->server &&
			    sys->vsock[k].port == r->port) {
				sc_err(c, g, "%s: the same as line %d", subj,
				    sys->vsock[k].line);
				ok = false;
			}
		if (ok)
			sys->nvsock++;
	}
}

static const struct {
	unsigned baud;
	speed_t b;
} line_speeds[] = {
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
	{ 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
	{ 460800, B460800 }, { 921600, B921600 },
};

unsigned
sc_line_speed(unsigned baud)
{
	for (size_t i = 0; i < sizeof(line_speeds) / sizeof(line_speeds[0]);
	    i++)
		if (line_speeds[i].baud == baud)
			return line_speeds[i].b;
	return B0;
}

/* console = { device = "/dev/ttyS1"; speed = 115200; format = "8N1"; } */
static void
sc_parse_serial(struct sc_ctx *c, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "console");
	struct sc_serial *s;
	const char *dev, *fmt;
	struct stat st;
	long long speed;

	if (g == NULL)
		return;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		sc_err(c, g, "console must be a group { device = "
		    "\"/dev/ttyS1\"; }");
		return;
	}
	sc_check_keys(c, g, sc_serial_keys, "in console", NULL);
	if ((s = sc_calloc(c, 1, sizeof(*s))) == NULL)
		return;
	s->speed = 115200;
	memcpy(s->format, "8N1", 4);
	s->line = sc_line(g);
	if (sc_get_str(c, g, "device", "console", &dev) != 1) {
		if (config_setting_get_member(g, "device") == NULL)
			sc_err(c, g, "console: device is required, like "
			    "device = \"/dev/ttyS1\";");
		free(s);
		return;
	}
	s->device = sc_resolve(c, dev);
	if (s->device != NULL && stat(s->device, &st) != 0)
		sc_err(c, config_setting_get_member(g, "device"), "console: "
		    "device '%.80s': %s", dev, strerror(errno));
	else if (s->device != NULL && !S_ISCHR(st.st_mode))
		sc_err(c, config_setting_get_member(g, "device"), "console: "
		    "device '%.80s' is not a character device", dev);
	if (sc_get_int(c, g, "speed", "console", &speed) == 1) {
		if (speed <= 0 || speed > UINT_MAX ||
		    sc_line_speed((unsigned)speed) == B0) {
			char list[128];
			size_t n = 0;

			for (size_t i = 0; i < sizeof(line_speeds) /
			    sizeof(line_speeds[0]) && n < sizeof(list); i++)
				n += (size_t)snprintf(list + n, sizeof(list) - n,
				    "%s%u", i ? ", " : "", line_speeds[i].baud);
			sc_err(c, config_setting_get_member(g, "speed"),
			    "console: speed %lld is not one of %s", speed,
			    list);
		} else
			s->speed = (unsigned)speed;
	}
	if (sc_get_str(c, g, "format", "console", &fmt) == 1) {
		if (strlen(fmt) != 3 || fmt[0] < '5' || fmt[0] > '8' ||
		    strchr("NEO", fmt[1]) == NULL || (fmt[2] != '1' &&
		    fmt[2] != '2'))
			sc_err(c, config_setting_get_member(g, "format"),
			    "console: format must be data bits, parity and "
			    "stop bits, like \"8N1\" (5-8, N/E/O, 1-2)");
		else
			memcpy(s->format, fmt, 4);
	}
	c->sys->serial = s;
}

/* The kernel command line Isles builds must fit the kernel's limit. */
static void
sc_check_cmdlines(struct sc_ctx *c)
{
	const struct sc_system *sys = c->sys;

	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];
		/* What qemu.c adds around the VM's own cmdline, generously. */
		size_t n = 160 + (vm->name ? strlen(vm->name) : 0) +
		    (vm->cmdline ? strlen(vm->cmdline) : 0);

		if (vm->ndataports > 0)
			n += strlen(" isles.dataports=") + 48 +
			    (size_t)sc_dataport_param(sys, v, NULL, 0);
		n += strlen(" isles.consoles=") +
		    (size_t)sc_console_param(sys, v, NULL, 0);
		if (n > SC_KERNEL_CMDLINE_MAX)
			sc_errl(c, vm->line, "vm '%s': its kernel command line "
			    "would be about %zu bytes, more than the kernel's "
			    "%d (shorter dataport, console or VM names, or "
			    "fewer of them)", vm->name, n, SC_KERNEL_CMDLINE_MAX);
	}
}

void
sc_parse_links(struct sc_ctx *c, const config_setting_t *root)
{
	struct sc_system *sys = c->sys;

	sys->dataports = sc_calloc(c, SC_MAX_DATAPORTS,
	    sizeof(*sys->dataports));
	if (sys->dataports == NULL)
		return;
	sc_parse_dataports(c, root);
	sc_driver_disks(c);
	sc_vm_dataports(c);
	sc_parse_consoles(c, root);
	sc_parse_vsock(c, root);
	sc_parse_serial(c, root);
	sc_check_cmdlines(c);
}
