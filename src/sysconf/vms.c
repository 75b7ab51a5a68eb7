/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vms: the system file's vms = ( ... ): each VM's own settings (memory,
 * vCPUs, kernel, hugepages, command line), the disks it is granted
 * (partitions of a declared disk) and its NICs (one per switch, with
 * their MACs).  Called by sc_parse_top (load.c) after the switches and
 * disks; the rules that span several VMs are in rules.c.
 */
#include "loader.h"

#include "host/pcidev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static const char *const sc_vm_keys[] = { "name", "memory", "vcpus", "arch",
	"hugepages", "kernel", "initrd", "cmdline", "disks", "nics", "sata",
	"passthrough", "cid", NULL };
static const char *const sc_grant_keys[] = { "disk", "partitions", "readonly",
	NULL };
static const char *const sc_driver_keys[] = { "driver", "dataport",
	"dataport_size", "timeout", "readonly", NULL };
static const char *const sc_nic_keys[] = { "switch", "mac", NULL };

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

/*
 * { driver = "VM"; dataport = "NAME"; [dataport_size = "4M";]
 * [timeout = 60;] [readonly = true;] }: a disk served by a driver VM.
 * The driver's name is resolved once every VM is read (links.c).
 * 0 / -1 (errors recorded).
 */
static int
sc_parse_driver_disk(struct sc_ctx *c, struct sc_vm_disk *vd,
    const char *subj, const config_setting_t *g)
{
	const char *drv, *dp;
	long long t;
	int r, ok = 0;

	vd->disk = SIZE_MAX;
	vd->dataport_size = SC_DRIVER_DATAPORT;
	vd->timeout = SC_DRIVER_TIMEOUT;
	vd->line = sc_line(g);
	if (sc_get_str(c, g, "driver", subj, &drv) == 1) {
		if (!sc_name_ok(drv)) {
			sc_err(c, config_setting_get_member(g, "driver"),
			    "%s: driver '%.40s' is not a VM name", subj, drv);
			ok = -1;
		} else {
			vd->driver_name = sc_strdup(c, drv);
		}
	} else {
		ok = -1;
	}
	r = sc_get_str(c, g, "dataport", subj, &dp);
	if (r == 0) {
		sc_err(c, g, "%s: dataport is required with driver (the name "
		    "its backend finds, like \"client1\")", subj);
		ok = -1;
	} else if (r == 1 && !sc_name_ok(dp)) {
		sc_err(c, config_setting_get_member(g, "dataport"),
		    "%s: dataport name '%.40s' is not valid (" SC_NAME_RULE
		    ")", subj, dp);
		ok = -1;
	} else if (r == 1) {
		vd->dataport_name = sc_strdup(c, dp);
	} else {
		ok = -1;
	}
	r = sc_get_size(c, g, "dataport_size", subj, &vd->dataport_size);
	if (r == 1 && (vd->dataport_size < (256ull << 10) ||
	    vd->dataport_size > SC_MAX_DATAPORT ||
	    (vd->dataport_size & (vd->dataport_size - 1)) != 0)) {
		sc_err(c, config_setting_get_member(g, "dataport_size"),
		    "%s: dataport_size must be a power of two from 256K to "
		    "1G", subj);
		ok = -1;
	}
	r = sc_get_int(c, g, "timeout", subj, &t);
	if (r == 1 && (t < 1 || t > 3600)) {
		sc_err(c, config_setting_get_member(g, "timeout"),
		    "%s: timeout must be 1 to 3600 seconds, not %lld", subj,
		    t);
		ok = -1;
	} else if (r == 1) {
		vd->timeout = (unsigned)t;
	}
	sc_get_bool(c, g, "readonly", subj, &vd->readonly);
	return ok;
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
		vd->driver = -1;
		if (config_setting_get_member(g, "driver") != NULL) {
			sc_check_keys(c, g, sc_driver_keys, where, NULL);
			if (sc_parse_driver_disk(c, vd, gsubj, g) == 0) {
				vm->ndisks++;
			} else {
				/* The next entry reuses a refused one's slot. */
				free(vd->driver_name);
				free(vd->dataport_name);
				memset(vd, 0, sizeof(*vd));
			}
			continue;
		}
		sc_check_keys(c, g, sc_grant_keys, where, NULL);
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
		sc_check_keys(c, g, sc_nic_keys, where, NULL);
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
	} else if ((uint32_t)fs.f_type != HUGETLBFS_MAGIC) {
		/* f_type is a long or, for 32-bit builds, an int: file system
		 * magics are 32-bit (this one does not fit in an int). */
		sc_err(c, s, "%s: hugepages '%.80s' is not a hugetlbfs mount "
		    "(mount -t hugetlbfs nodev %.80s)", subj, str, str);
	} else if (fs.f_bsize <= 0 || vm->memory % (uint64_t)fs.f_bsize != 0) {
		sc_err(c, s, "%s: memory must be a multiple of the huge page "
		    "size of '%.80s' (%ld KiB)", subj, str,
		    (long)fs.f_bsize / 1024);
	}
}

/* An array of strings at key; NULL (with an error if present) if not. */
static const config_setting_t *
sc_str_array(struct sc_ctx *c, const config_setting_t *g, const char *key,
    const char *subj, size_t max, const char *example)
{
	const config_setting_t *a = config_setting_get_member(g, key);

	if (a == NULL)
		return NULL;
	if (config_setting_type(a) != CONFIG_TYPE_ARRAY ||
	    (config_setting_length(a) > 0 &&
	    config_setting_type(config_setting_get_elem(a, 0)) !=
	    CONFIG_TYPE_STRING)) {
		sc_err(c, a, "%s: %s must be an array of strings, like %s",
		    subj, key, example);
		return NULL;
	}
	if ((size_t)config_setting_length(a) > max) {
		sc_err(c, a, "%s: %s has more than %zu entries", subj, key,
		    max);
		return NULL;
	}
	return a;
}

/* sata = [ "DISK", ... ]: disks given whole to this VM over AHCI. */
static void
sc_parse_sata(struct sc_ctx *c, struct sc_vm *vm, const char *subj,
    const config_setting_t *g)
{
	const config_setting_t *a = sc_str_array(c, g, "sata", subj,
	    SC_MAX_SATA_PER_VM, "[ \"sata\" ]");
	size_t n;

	if (a == NULL)
		return;
	n = (size_t)config_setting_length(a);
	vm->sata = sc_calloc(c, n, sizeof(*vm->sata));
	if (vm->sata == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *name = config_setting_get_string_elem(a,
		    (unsigned)i);
		int d = sc_disk_find(c->sys, name);
		bool dup = false;

		if (d < 0) {
			sc_err(c, a, "%s: sata disk '%.40s' is not defined",
			    subj, name);
			continue;
		}
		for (size_t k = 0; k < vm->nsata; k++)
			dup |= vm->sata[k] == (size_t)d;
		if (dup) {
			sc_err(c, a, "%s: sata disk '%s' is listed twice",
			    subj, name);
			continue;
		}
		vm->sata[vm->nsata++] = (size_t)d;
	}
}

/* passthrough = [ "0000:03:00.0", ... ]: host PCI devices (vfio-pci). */
static void
sc_parse_passthrough(struct sc_ctx *c, struct sc_vm *vm, const char *subj,
    const config_setting_t *g)
{
	const config_setting_t *a = sc_str_array(c, g, "passthrough", subj,
	    SC_MAX_PCI_PER_VM, "[ \"0000:03:00.0\" ]");
	size_t n;

	if (a == NULL)
		return;
	n = (size_t)config_setting_length(a);
	vm->pci = sc_calloc(c, n, sizeof(*vm->pci));
	if (vm->pci == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *s = config_setting_get_string_elem(a, (unsigned)i);
		char addr[PCI_ADDR_LEN];
		bool dup = false;

		if (pci_addr_parse(s, addr) < 0) {
			sc_err(c, a, "%s: passthrough '%.40s' is not a PCI "
			    "address like \"0000:03:00.0\"", subj, s);
			continue;
		}
		for (size_t k = 0; k < vm->npci; k++)
			dup |= strcmp(vm->pci[k], addr) == 0;
		if (dup) {
			sc_err(c, a, "%s: passthrough %s is listed twice",
			    subj, addr);
			continue;
		}
		memcpy(vm->pci[vm->npci++], addr, sizeof(addr));
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
	sc_check_keys(c, g, sc_vm_keys, where, NULL);
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
		vm->arch = SC_ARCH_I386;
	else if (r == 1 && strcmp(str, "x86_64") != 0)
		sc_err(c, config_setting_get_member(g, "arch"),
		    "%s: arch must be \"x86_64\" or \"i386\", not "
		    "\"%.20s\"", subj, str);

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
	sc_parse_sata(c, vm, subj, g);
	sc_parse_passthrough(c, vm, subj, g);
	r = sc_get_int(c, g, "cid", subj, &v);
	if (r == 1 && (v < 3 || v > 0xfffffffeLL))
		sc_err(c, config_setting_get_member(g, "cid"),
		    "%s: cid must be 3 to 4294967294 (0-2 are reserved), not "
		    "%lld", subj, v);
	else if (r == 1)
		vm->cid = (uint32_t)v;
}

void
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
