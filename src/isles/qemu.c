/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qemu: one VM's QEMU command line from the plan; see qemu.h.  Pure:
 * builds strings only.  Trusts the plan (validated by sysconf).
 */
#include "qemu.h"

#include <stdio.h>
#include <stdlib.h>

static void
add_machine(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-M");
	strv_add(a, "q35");
	strv_add(a, "-accel");
	strv_add(a, q->accel == SC_ACCEL_KVM ? "kvm" : "tcg");
	if (q->accel == SC_ACCEL_KVM) {
		strv_add(a, "-cpu");
		strv_add(a, "host");
	}
	strv_add(a, "-smp");
	strv_addf(a, "%u", q->vm->vcpus);
	strv_add(a, "-nodefaults");
	strv_add(a, "-no-user-config");
	strv_add(a, "-display");
	strv_add(a, "none");
	strv_add(a, "-name");
	strv_addf(a, "%s,process=isles-%s", q->vm->name, q->vm->name);
}

/* Guest RAM is a shared memfd: vhost-user back-ends map it. */
static void
add_memory(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-m");
	strv_addf(a, "%lluM", (unsigned long long)(q->vm->memory >> 20));
	strv_add(a, "-object");
	strv_addf(a, "memory-backend-memfd,id=mem,size=%llu,share=on",
	    (unsigned long long)q->vm->memory);
	strv_add(a, "-numa");
	strv_add(a, "node,memdev=mem");
}

static void
add_kernel(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-kernel");
	strv_add(a, q->kernel);
	if (q->initrd != NULL) {
		strv_add(a, "-initrd");
		strv_add(a, q->initrd);
	}
	strv_add(a, "-append");
	strv_addf(a, "console=ttyS0 isles.name=%s panic=-1%s%s", q->vm->name,
	    q->vm->cmdline ? " " : "", q->vm->cmdline ? q->vm->cmdline : "");
}

static void
add_serial(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=ser0,path=%s/vm/%s/serial.sock,server=on,"
	    "wait=off,logfile=%s/vm/%s/console.log,logappend=on", q->rundir,
	    q->vm->name, q->rundir, q->vm->name);
	strv_add(a, "-serial");
	strv_add(a, "chardev:ser0");
}

static void
add_agent(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-device");
	strv_add(a, "virtio-serial-pci,id=vser0");
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=agent,path=%s/vm/%s/agent.sock,server=on,"
	    "wait=off", q->rundir, q->vm->name);
	strv_add(a, "-device");
	strv_add(a, "virtserialport,bus=vser0.0,chardev=agent,"
	    "name=org.isles.agent");
}

static void
add_qmp(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-qmp");
	strv_addf(a, "unix:%s/vm/%s/qmp.sock,server=on,wait=off", q->rundir,
	    q->vm->name);
}

/* One vhost-user-blk per virtual disk, served by isles-diskd. */
static void
add_disks(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->ndisks; i++) {
		const struct sc_disk *d = &q->sys->disks[q->vm->disks[i].disk];

		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=d%zu,path=%s/disk/%s/%s.sock,"
		    "reconnect=1", i, q->rundir, d->name, q->vm->name);
		strv_add(a, "-device");
		strv_addf(a, "vhost-user-blk-pci,chardev=d%zu,num-queues=%u",
		    i, d->queues ? d->queues : 1);
	}
}

static const struct qemu_dev {
	const char *kind;
	void (*add)(const struct qemu_vm *, struct strv *);
} qemu_devs[] = {
	{ "machine", add_machine },
	{ "memory", add_memory },
	{ "kernel", add_kernel },
	{ "serial", add_serial },
	{ "agent", add_agent },
	{ "qmp", add_qmp },
	{ "disks", add_disks },
};

const char *
qemu_binary(void)
{
	const char *q = getenv("ISLES_QEMU");

	return q != NULL && *q != '\0' ? q : "qemu-system-x86_64";
}

int
qemu_check(const struct sc_system *sys, char *err, size_t errlen)
{
	for (size_t i = 0; i < sys->nvms; i++) {
		const struct sc_vm *vm = &sys->vms[i];

		/*
		 * Disks and NICs need their daemons (isles-diskd,
		 * isles-switchd) in the child table; until they are wired,
		 * refuse rather than start a VM with less than its file says.
		 */
		if (vm->ndisks > 0) {
			snprintf(err, errlen, "%s:%d: vm %s: disks are not "
			    "supported by this version of isles up yet",
			    sys->file, vm->disks[0].line, vm->name);
			return -1;
		}
		if (vm->nnics > 0) {
			snprintf(err, errlen, "%s:%d: vm %s: NICs are not "
			    "supported by this version of isles up yet",
			    sys->file, vm->nics[0].line, vm->name);
			return -1;
		}
		if (vm->arch != SC_ARCH_X86_64) {
			snprintf(err, errlen, "%s:%d: vm %s: only x86_64 "
			    "guests are supported yet", sys->file, vm->line,
			    vm->name);
			return -1;
		}
	}
	return 0;
}

int
qemu_build(const struct qemu_vm *q, struct strv *out, char *err,
    size_t errlen)
{
	strv_add(out, qemu_binary());
	for (size_t i = 0; i < sizeof(qemu_devs) / sizeof(qemu_devs[0]); i++)
		qemu_devs[i].add(q, out);
	if (out->oom) {
		snprintf(err, errlen, "out of memory building the QEMU "
		    "command line");
		return -1;
	}
	return 0;
}
