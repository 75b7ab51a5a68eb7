/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * graph: a loaded system as a Graphviz graph (`isles graph`,
 * docs/system-file.md): what the file shares and with whom.
 *
 *   VM           box: name, arch, memory, vsock CID
 *   disk         cylinder, its partitions as records; edges partition ->
 *                VM labelled with the VM's device (vda1 ...); whole SATA
 *                disks -> the driver VM (sda)
 *   switch       diamond; VM -- switch labelled eth N and MAC; the uplink
 *                TAP as its own node
 *   dataport     note; to each peer; a driver-VM disk's dataport joins
 *                the driver VM and its client (vda served by the driver)
 *   console link dashed VM -- VM (hvcK on each side)
 *   vsock rule   dotted client -> server, "vsock :PORT"
 *   passthrough  component node per host PCI device -> its VM
 *   console      the multiplexed console (terminal, or the host serial
 *                device) to every VM's ttyS0, in grey
 *
 * Output is deterministic (file order), so tests compare it byte for
 * byte.  Every name was validated by the loader ([a-z0-9_-]); paths are
 * quoted with " and \ escaped.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "sysconf.h"

#define PATH_MAX_LABEL	(PATH_MAX + 128)

/* A quoted dot string of s. */
static void
q(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* 268435456 -> "256 MiB" */
static void
size_str(char *out, size_t len, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (u < 4 && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	snprintf(out, len, "%" PRIu64 " %s", b, unit[u]);
}

static const char *
arch_str(enum sc_arch a)
{
	return a == SC_ARCH_I386 ? "i386" : "x86_64";
}

static void
graph_vms(const struct sc_system *sys, FILE *f)
{
	char mem[32];

	fputs("  node [shape=box, style=\"rounded,filled\", "
	    "fillcolor=\"#dbe8f6\"];\n", f);
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];
		char label[160];
		int n;

		size_str(mem, sizeof(mem), vm->memory);
		n = snprintf(label, sizeof(label), "%s (@%u)\n%s, %s, %u vCPU",
		    vm->name, vm->index, arch_str(vm->arch), mem, vm->vcpus);
		if (vm->cid != 0 && n > 0 && (size_t)n < sizeof(label))
			snprintf(label + n, sizeof(label) - (size_t)n,
			    "\nvsock CID %" PRIu32, vm->cid);
		fprintf(f, "  \"vm:%s\" [label=", vm->name);
		q(f, label);
		fputs("];\n", f);
	}
}

static void
graph_disks(const struct sc_system *sys, FILE *f)
{
	char sz[32];

	for (size_t d = 0; d < sys->ndisks; d++) {
		const struct sc_disk *dk = &sys->disks[d];
		char label[PATH_MAX_LABEL];

		if (dk->size != 0)
			size_str(sz, sizeof(sz), dk->size);
		snprintf(label, sizeof(label), "disk %s\n%s%s%s", dk->name,
		    dk->path_as_written, dk->size != 0 ? "\n" : "",
		    dk->size != 0 ? sz : "");
		fprintf(f, "  \"disk:%s\" [shape=cylinder, fillcolor="
		    "\"#f3e2c7\", label=", dk->name);
		q(f, label);
		fputs("];\n", f);
	}
	/* The partitions VMs are given, each once. */
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		for (size_t k = 0; k < vm->ndisks; k++) {
			const struct sc_vm_disk *vd = &vm->disks[k];
			char dev[16];

			snprintf(dev, sizeof(dev), "vd%c", (char)('a' + k));
			if (vd->driver >= 0) {
				fprintf(f, "  \"vm:%s\" -- \"vm:%s\" [dir=forward, "
				    "color=\"#8a5a00\", label=\"%s via dataport "
				    "%s\"];\n", sys->vms[vd->driver].name,
				    vm->name, dev, vd->dataport_name);
				continue;
			}
			for (size_t p = 0; p < vd->npartitions; p++) {
				const char *dn = sys->disks[vd->disk].name;

				fprintf(f, "  \"part:%s:%u\" [shape=folder, "
				    "fillcolor=\"#f3e2c7\", label=\"%s "
				    "partition %u\"];\n", dn,
				    vd->partitions[p], dn, vd->partitions[p]);
				fprintf(f, "  \"disk:%s\" -- \"part:%s:%u\";\n",
				    dn, dn, vd->partitions[p]);
				fprintf(f, "  \"part:%s:%u\" -- \"vm:%s\" "
				    "[dir=forward, label=\"%s%zu%s\"];\n", dn,
				    vd->partitions[p], vm->name, dev, p + 1,
				    vd->readonly ? " (ro)" : "");
			}
		}
		for (size_t k = 0; k < vm->nsata; k++)
			fprintf(f, "  \"disk:%s\" -- \"vm:%s\" [dir=forward, "
			    "label=\"sd%c (SATA)\"];\n",
			    sys->disks[vm->sata[k]].name, vm->name,
			    (char)('a' + k));
	}
}

static void
graph_switches(const struct sc_system *sys, FILE *f)
{
	for (size_t s = 0; s < sys->nswitches; s++) {
		const struct sc_switch *sw = &sys->switches[s];

		fprintf(f, "  \"switch:%s\" [shape=diamond, fillcolor="
		    "\"#d8f0d8\", label=\"switch %s\"];\n", sw->name, sw->name);
		if (sw->uplink_tap != NULL) {
			fprintf(f, "  \"tap:%s\" [shape=cds, fillcolor="
			    "\"#eeeeee\", label=\"host TAP %s\"];\n",
			    sw->uplink_tap, sw->uplink_tap);
			fprintf(f, "  \"switch:%s\" -- \"tap:%s\" "
			    "[label=\"uplink\"];\n", sw->name, sw->uplink_tap);
		}
	}
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		for (size_t n = 0; n < vm->nnics; n++) {
			const uint8_t *m = vm->nics[n].mac;

			fprintf(f, "  \"vm:%s\" -- \"switch:%s\" [label=\"eth%zu"
			    "\\n%02x:%02x:%02x:%02x:%02x:%02x\"];\n", vm->name,
			    sys->switches[vm->nics[n].sw].name, n, m[0], m[1],
			    m[2], m[3], m[4], m[5]);
		}
	}
}

static void
graph_dataports(const struct sc_system *sys, FILE *f)
{
	char sz[32];

	for (size_t d = 0; d < sys->ndataports; d++) {
		const struct sc_dataport *dp = &sys->dataports[d];

		if (dp->host)
			continue;	/* drawn as the driver -> client edge */
		size_str(sz, sizeof(sz), dp->size);
		fprintf(f, "  \"dataport:%s\" [shape=note, fillcolor="
		    "\"#fbe3e3\", label=\"dataport %s\\n%s\"];\n", dp->name,
		    dp->name, sz);
	}
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];
		unsigned uio = 0;

		for (size_t k = 0; k < vm->ndataports; k++) {
			const struct sc_dataport *dp =
			    &sys->dataports[vm->dataports[k]];

			if (!dp->host)
				fprintf(f, "  \"vm:%s\" -- \"dataport:%s\" "
				    "[label=\"uio%u\"];\n", vm->name,
				    dp->name, uio);
			uio++;
		}
	}
}

static void
graph_links(const struct sc_system *sys, FILE *f)
{
	unsigned *hvc = calloc(sys->nvms + 1, sizeof(*hvc));

	for (size_t l = 0; l < sys->nconsoles; l++) {
		const struct sc_console_link *cl = &sys->consoles[l];
		unsigned a = hvc != NULL ? hvc[cl->vm[0]]++ : 0;
		unsigned b = hvc != NULL ? hvc[cl->vm[1]]++ : 0;

		fprintf(f, "  \"vm:%s\" -- \"vm:%s\" [style=dashed, "
		    "color=\"#5050a0\", label=\"console %s\\nhvc%u - hvc%u\"];\n",
		    sys->vms[cl->vm[0]].name, sys->vms[cl->vm[1]].name,
		    cl->name, a, b);
	}
	free(hvc);
	for (size_t r = 0; r < sys->nvsock; r++) {
		const struct sc_vsock_rule *vr = &sys->vsock[r];

		fprintf(f, "  \"vm:%s\" -- \"vm:%s\" [style=dotted, "
		    "dir=forward, color=\"#a05050\", label=\"vsock :%" PRIu32
		    "\"];\n", sys->vms[vr->client].name,
		    sys->vms[vr->server].name, vr->port);
	}
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		for (size_t k = 0; k < vm->npci; k++) {
			fprintf(f, "  \"pci:%s\" [shape=component, fillcolor="
			    "\"#eeeeee\", label=\"host PCI %s\\n(vfio-pci)\"];\n",
			    vm->pci[k], vm->pci[k]);
			fprintf(f, "  \"pci:%s\" -- \"vm:%s\" [dir=forward, "
			    "label=\"passthrough\"];\n", vm->pci[k], vm->name);
		}
	}
}

static void
graph_console(const struct sc_system *sys, FILE *f)
{
	fputs("  \"console\" [shape=plaintext, style=\"\", label=", f);
	if (sys->serial != NULL) {
		char label[PATH_MAX_LABEL];

		snprintf(label, sizeof(label), "console\n%s %u %s",
		    sys->serial->device, sys->serial->speed,
		    sys->serial->format);
		q(f, label);
	} else {
		q(f, "console\n(isles up terminal)");
	}
	fputs("];\n", f);
	for (size_t v = 0; v < sys->nvms; v++)
		fprintf(f, "  \"console\" -- \"vm:%s\" [color=\"#aaaaaa\", "
		    "fontcolor=\"#888888\", label=\"@%u\"];\n",
		    sys->vms[v].name, sys->vms[v].index);
}

int
sc_graph(const struct sc_system *sys, FILE *f)
{
	fputs("graph ", f);
	q(f, sys->name);
	fputs(" {\n  graph [fontname=\"Helvetica\", rankdir=LR, "
	    "nodesep=0.4, ranksep=0.9, label=", f);
	q(f, sys->name);
	fputs(", labelloc=t];\n  node [fontname=\"Helvetica\", "
	    "fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n", f);
	graph_vms(sys, f);
	graph_disks(sys, f);
	graph_switches(sys, f);
	graph_dataports(sys, f);
	graph_links(sys, f);
	graph_console(sys, f);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
