/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemons: the daemon entries of the supervisor's child table, one
 * builder per kind (console server, one disk server per disk, one switch
 * per switch, ..., the console's host serial line), so that a new kind of daemon is a new row of `kinds`.
 *
 * Every socket a daemon serves to QEMU is bound here, by the supervisor,
 * and handed down as an inherited fd (`=fd:N`): the socket exists before
 * any QEMU starts (QEMU waits for vhost-user back-ends at start-up), a
 * restarted daemon gets the very same listening socket, and the daemon
 * receives exactly the endpoints the system file gives it, no path it
 * could choose itself.  The same for files and devices: each VM's
 * console.log (isles-consoled writes and caps it), each disk's image or
 * block device (isles-diskd) and each switch's uplink TAP (isles-switchd)
 * are opened here, so that no daemon needs open, socket, bind, connect or
 * unlink once it runs (docs/architecture.md, "Lock-down"), and a daemon
 * runs as the unprivileged user isles where there is one (child.h).
 * Called by supervise.c (building the table) and by `isles up`
 * (daemons_check, before anything starts).  Trusts the plan.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "daemons.h"
#include "host/listen.h"
#include "log.h"
#include "qemu.h"
#include "rundir.h"
#include "switchd/sw_tap.h"

bool
daemon_prog(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	if (rd_path(out, len, "%s/%s", self, name) < 0)
		return false;
	return access(out, X_OK) == 0;
}

/*
 * Listen on R/<fmt...> (host_listen's policy: a stale socket is replaced,
 * a live one never stolen).  Returns the fd (CLOEXEC) or -1 (logged).
 */
static int listen_at(const char *rundir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
listen_at(const char *rundir, const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    rd_path(path, sizeof(path), "%s/%s", rundir, rel) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = host_listen(path, 0600);
	if (fd < 0)
		log_warn("%s", path);
	return fd;
}

/* Hand fd down to c; returns its number in the child or -1. */
static int
child_pass(struct child *c, int fd)
{
	if (fd < 0)
		return -1;
	if (c->nfds == CHILD_MAX_FDS) {
		close(fd);
		errno = E2BIG;
		return -1;
	}
	c->fds[c->nfds].fd = fd;
	c->fds[c->nfds].target = 3 + (int)c->nfds;
	return c->fds[c->nfds++].target;
}

/* ---- isles-consoled: every VM's serial console ---- */

static size_t
one(const struct sc_system *sys)
{
	return 1;
}

static bool
always(const struct sc_system *sys, size_t i)
{
	return true;
}

/*
 * Open R/vm/VM/console.log for isles-consoled, which caps it (conlog.h).
 * Read-write, not O_APPEND: keeping the newest part moves it to the start
 * with pread/pwrite, and Linux's pwrite ignores the offset under O_APPEND.
 */
static int
open_console_log(const char *rundir, const char *vm)
{
	char path[PATH_MAX];

	if (rd_path(path, sizeof(path), "%s/vm/%s/console.log", rundir,
	    vm) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
}

static int
build_consoled(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t i, const char *bin)
{
	int n;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "consoled");
	(void)rd_path(c->log, sizeof(c->log), "%s/consoled.log", rundir);
	n = child_pass(c, listen_at(rundir, "console.sock"));
	if (n < 0)
		return -1;
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--fd");
	strv_addf(&c->argv, "%d", n);
	strv_add(&c->argv, "--log-max");
	strv_addf(&c->argv, "%llu",
	    (unsigned long long)sys->console_log_max);
	for (size_t v = 0; v < sys->nvms; v++) {
		const char *vm = sys->vms[v].name;

		n = child_pass(c, open_console_log(rundir, vm));
		if (n < 0)
			return -1;
		strv_add(&c->argv, "--log");
		strv_addf(&c->argv, "%s=fd:%d", vm, n);
	}
	/* Serial sockets: consoled listens, each VM's QEMU connects. */
	for (size_t v = 0; v < sys->nvms; v++) {
		const char *vm = sys->vms[v].name;

		n = child_pass(c, listen_at(rundir, "vm/%s/serial.sock", vm));
		if (n < 0)
			return -1;
		strv_addf(&c->argv, "%s=fd:%d", vm, n);
	}
	return 0;
}

/* ---- isles-diskd: one per physical disk, one export per virtual disk ---- */

static size_t
ndisks(const struct sc_system *sys)
{
	return sys->ndisks;
}

static bool
disk_used(const struct sc_system *sys, size_t d)
{
	for (size_t v = 0; v < sys->nvms; v++)
		for (size_t i = 0; i < sys->vms[v].ndisks; i++)
			if (sys->vms[v].disks[i].driver < 0 &&
			    sys->vms[v].disks[i].disk == d)
				return true;
	return false;
}

/*
 * Disk d's image or block device for its isles-diskd: read-only if every
 * grant of it is, else read-write; a disk the file gives a size is
 * created (empty, mode 0600) if missing, and isles-diskd lays an empty
 * file out.  Kept for the supervisor's life: a restarted diskd gets the
 * same open file, and with it the lock it took on it (flock is per open
 * file), so no other disk server can take the disk in between.
 * Returns the fd or -1 (logged).
 */
static int
open_disk(const struct sc_system *sys, size_t d)
{
	const struct sc_disk *disk = &sys->disks[d];
	bool rw = false;
	int fd;

	for (size_t v = 0; v < sys->nvms; v++)
		for (size_t i = 0; i < sys->vms[v].ndisks; i++)
			if (sys->vms[v].disks[i].driver < 0 &&
			    sys->vms[v].disks[i].disk == d &&
			    !sys->vms[v].disks[i].readonly)
				rw = true;
	if (disk->size > 0)
		fd = open(disk->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else
		fd = open(disk->path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		log_warn("disk %s: %s", disk->name, disk->path);
	return fd;
}

static int
build_diskd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t d, const char *bin)
{
	const struct sc_disk *disk = &sys->disks[d];
	char dir[PATH_MAX];
	int fd;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "diskd:%s", disk->name);
	if (rd_path(dir, sizeof(dir), "%s/disk/%s", rundir,
	    disk->name) < 0 || rd_mkdirs(dir, 0700) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/diskd.log", dir);
	if ((fd = child_pass(c, open_disk(sys, d))) < 0)
		return -1;
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--disk");
	strv_addf(&c->argv, "fd:%d", fd);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, disk->name);
	if (disk->cache_none) {
		strv_add(&c->argv, "--cache");
		strv_add(&c->argv, "none");
	}
	if (disk->size > 0) {
		strv_add(&c->argv, "--create");
		strv_addf(&c->argv, "%llu", (unsigned long long)disk->size);
		strv_add(&c->argv, "--layout");
		strv_add(&c->argv, disk->layout == SC_PT_GPT ? "gpt" : "mbr");
		for (size_t p = 0; p < disk->nparts; p++) {
			const struct sc_layout_part *lp = &disk->parts[p];
			char size[32];

			if (lp->size == 0)
				snprintf(size, sizeof(size), "rest");
			else
				snprintf(size, sizeof(size), "%llu",
				    (unsigned long long)lp->size);
			strv_add(&c->argv, "--part");
			strv_addf(&c->argv, "%s:%02x%s%s", size, lp->type,
			    lp->boot ? ":boot" : "",
			    lp->logical ? ":logical" : "");
		}
	}
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		for (size_t i = 0; i < vm->ndisks; i++) {
			const struct sc_vm_disk *vd = &vm->disks[i];
			char exp[48], parts[64] = "";
			size_t off = 0;
			int n;

			if (vd->driver >= 0 || vd->disk != d)
				continue;
			qemu_disk_export(vm, i, exp, sizeof(exp));
			for (size_t k = 0; k < vd->npartitions &&
			    off < sizeof(parts); k++)
				off += (size_t)snprintf(parts + off,
				    sizeof(parts) - off, "%s%u", k ? "," : "",
				    vd->partitions[k]);
			n = child_pass(c, listen_at(rundir, "disk/%s/%s.sock",
			    disk->name, exp));
			if (n < 0)
				return -1;
			strv_add(&c->argv, "--export");
			if (disk->queues > 1)
				strv_addf(&c->argv, "%s:%s%s:queues=%u=fd:%d",
				    exp, parts, vd->readonly ? ":ro" : "",
				    disk->queues, n);
			else
				strv_addf(&c->argv, "%s:%s%s=fd:%d", exp, parts,
				    vd->readonly ? ":ro" : "", n);
		}
	}
	return 0;
}

/* ---- isles-switchd: one per switch, one port per NIC ---- */

static size_t
nswitches(const struct sc_system *sys)
{
	return sys->nswitches;
}

static bool
switch_used(const struct sc_system *sys, size_t sw)
{
	for (size_t v = 0; v < sys->nvms; v++)
		for (size_t i = 0; i < sys->vms[v].nnics; i++)
			if (sys->vms[v].nics[i].sw == sw)
				return true;
	return false;
}

static int
build_switchd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t sw, const char *bin)
{
	const struct sc_switch *swc = &sys->switches[sw];
	char dir[PATH_MAX];
	int fd;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "switchd:%s",
	    swc->name);
	if (rd_path(dir, sizeof(dir), "%s/switch/%s", rundir,
	    swc->name) < 0 || rd_mkdirs(dir, 0700) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/switchd.log", dir);
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, swc->name);
	if (swc->uplink_tap != NULL) {
		/*
		 * Opened (or created) here, in the supervisor's network
		 * namespace; it lives as long as the supervisor holds it,
		 * across switch restarts.
		 */
		int tap = sw_tap_open(swc->uplink_tap);

		if (tap < 0)
			log_warn("switch %s: uplink %s", swc->name,
			    swc->uplink_tap);
		if ((fd = child_pass(c, tap)) < 0)
			return -1;
		strv_add(&c->argv, "--uplink");
		strv_addf(&c->argv, "%s=fd:%d", swc->uplink_tap, fd);
	}
	if ((fd = child_pass(c, listen_at(rundir, "switch/%s/stats.sock",
	    swc->name))) < 0)
		return -1;
	strv_add(&c->argv, "--stats");
	strv_addf(&c->argv, "fd:%d", fd);
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		for (size_t i = 0; i < vm->nnics; i++) {
			const uint8_t *m = vm->nics[i].mac;
			int n;

			if (vm->nics[i].sw != sw)
				continue;
			n = child_pass(c, listen_at(rundir,
			    "switch/%s/%s.%zu.sock", swc->name, vm->name, i));
			if (n < 0)
				return -1;
			strv_add(&c->argv, "--port");
			strv_addf(&c->argv, "%s.%zu:%02x:%02x:%02x:%02x:%02x:"
			    "%02x=fd:%d", vm->name, i, m[0], m[1], m[2], m[3],
			    m[4], m[5], n);
		}
	}
	return 0;
}

/*
 * ---- isles-dataportd: one per dataport ----
 *
 * A dataport's resources, its memory and one interrupt eventfd per peer,
 * are made here once and kept by the supervisor for its whole life: a
 * restarted isles-dataportd, or a restarted VM, gets the very same ones
 * (docs/dataports.md, "Restarts"), and the disk daemon of a driver-VM
 * disk, peer 0, gets its own from here too.
 */
struct dp_res {
	bool made;
	int shm;
	int ev[SC_MAX_VMS + 1];
};

static struct dp_res dp_res[SC_MAX_DATAPORTS];

/* The memory and one doorbell per peer of a dataport; all or nothing. */
static int
dp_make(const struct sc_dataport *dp, struct dp_res *r)
{
	char name[64];
	size_t p;

	/* Named so that /proc/PID/maps tells who maps which dataport. */
	snprintf(name, sizeof(name), "isles-dataport:%s", dp->name);
	r->shm = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->shm < 0)
		return -1;
	if (ftruncate(r->shm, (off_t)dp->size) < 0 || fcntl(r->shm,
	    F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(r->shm);
		return -1;
	}
	for (p = 0; p < dp->npeers; p++)
		if ((r->ev[p] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			while (p-- > 0)
				close(r->ev[p]);
			close(r->shm);
			return -1;
		}
	r->made = true;
	return 0;
}

static int
dp_resources(const struct sc_system *sys, size_t d, struct dp_res **out)
{
	struct dp_res *r = &dp_res[d];

	if (!r->made && dp_make(&sys->dataports[d], r) < 0)
		return -1;
	*out = r;
	return 0;
}

static size_t
ndataports(const struct sc_system *sys)
{
	return sys->ndataports;
}

static int
build_dataportd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t d, const char *bin)
{
	const struct sc_dataport *dp = &sys->dataports[d];
	struct dp_res *r;
	char dir[PATH_MAX];
	int n;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "dataportd:%s",
	    dp->name);
	if (rd_path(dir, sizeof(dir), "%s/dataport/%s", rundir,
	    dp->name) < 0 || rd_mkdirs(dir, 0700) < 0 ||
	    dp_resources(sys, d, &r) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/dataportd.log", dir);
	if ((n = child_pass(c, r->shm)) < 0)
		return -1;
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, dp->name);
	strv_add(&c->argv, "--shm");
	strv_addf(&c->argv, "fd:%d", n);
	for (size_t p = 0; p < dp->npeers; p++) {
		int ev = child_pass(c, r->ev[p]), sock = -1;

		if (ev < 0)
			return -1;
		if (dp->host && p == 0) {
			strv_add(&c->argv, "--peer");
			strv_addf(&c->argv, "%s=-,fd:%d", SC_HOST_PEER, ev);
			continue;
		}
		sock = child_pass(c, listen_at(rundir, "dataport/%s/%s.sock",
		    dp->name, sys->vms[dp->peers[p]].name));
		if (sock < 0)
			return -1;
		strv_add(&c->argv, "--peer");
		strv_addf(&c->argv, "%s=fd:%d,fd:%d",
		    sys->vms[dp->peers[p]].name, sock, ev);
	}
	return 0;
}

/*
 * ---- isles-diskd --dataport: one per disk a driver VM serves ----
 * Peer 0 of the disk's dataport; the driver VM is peer 1.
 */
static bool
dp_is_disk(const struct sc_system *sys, size_t d)
{
	return sys->dataports[d].host;
}

static int
build_dpdiskd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t d, const char *bin)
{
	const struct sc_dataport *dp = &sys->dataports[d];
	const struct sc_vm *vm = &sys->vms[dp->client];
	const struct sc_vm_disk *vd = &vm->disks[dp->client_disk];
	struct dp_res *r;
	char dir[PATH_MAX];
	int shm, in, out, sock;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "diskd:%s", dp->name);
	if (rd_path(dir, sizeof(dir), "%s/dpdisk/%s", rundir,
	    dp->name) < 0 || rd_mkdirs(dir, 0700) < 0 ||
	    dp_resources(sys, d, &r) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/diskd.log", dir);
	shm = child_pass(c, r->shm);
	in = child_pass(c, r->ev[0]);	/* ours: the driver rings it */
	out = child_pass(c, r->ev[1]);	/* the driver's: we ring it */
	sock = child_pass(c, listen_at(rundir, "dpdisk/%s/%s.sock", dp->name,
	    vm->name));
	if (shm < 0 || in < 0 || out < 0 || sock < 0)
		return -1;
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, dp->name);
	strv_add(&c->argv, "--dataport");
	strv_addf(&c->argv, "fd:%d,fd:%d,fd:%d", shm, in, out);
	strv_add(&c->argv, "--timeout");
	strv_addf(&c->argv, "%u", vd->timeout);
	strv_add(&c->argv, "--export");
	strv_addf(&c->argv, "%s%s=fd:%d", vm->name, vd->readonly ? ":ro" : "",
	    sock);
	return 0;
}

/* ---- isles-linkd: every console link of the system ---- */

static bool
have_links(const struct sc_system *sys, size_t i)
{
	return sys->nconsoles > 0;
}

static int
build_linkd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t i, const char *bin)
{
	char dir[PATH_MAX];
	int n;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "linkd");
	if (rd_path(dir, sizeof(dir), "%s/link", rundir) < 0 ||
	    rd_mkdirs(dir, 0700) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/linkd.log", dir);
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, sys->name);
	if ((n = child_pass(c, listen_at(rundir, "link/stats.sock"))) < 0)
		return -1;
	strv_add(&c->argv, "--stats");
	strv_addf(&c->argv, "fd:%d", n);
	for (size_t k = 0; k < sys->nconsoles; k++) {
		const struct sc_console_link *l = &sys->consoles[k];
		const char *a = sys->vms[l->vm[0]].name;
		const char *b = sys->vms[l->vm[1]].name;
		char ldir[PATH_MAX];
		int fa, fb;

		if (rd_path(ldir, sizeof(ldir), "%s/%s", dir, l->name) < 0 ||
		    rd_mkdirs(ldir, 0700) < 0)
			return -1;
		fa = child_pass(c, listen_at(rundir, "link/%s/%s.sock",
		    l->name, a));
		fb = child_pass(c, listen_at(rundir, "link/%s/%s.sock",
		    l->name, b));
		if (fa < 0 || fb < 0)
			return -1;
		strv_add(&c->argv, "--link");
		strv_addf(&c->argv, "%s:%s=fd:%d,%s=fd:%d", l->name, a, fa, b,
		    fb);
	}
	return 0;
}

/*
 * ---- isles-vsockd: vsock between the VMs that have a cid ----
 *
 * QEMU 7.2's vhost-user-vsock never reconnects: when this daemon is
 * restarted, the VMs with vsock are restarted after it (restart_vms).
 */
static bool
have_vsock(const struct sc_system *sys, size_t i)
{
	for (size_t v = 0; v < sys->nvms; v++)
		if (sys->vms[v].cid != 0)
			return true;
	return false;
}

static int
build_vsockd(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t i, const char *bin)
{
	char dir[PATH_MAX];
	int n;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "vsockd");
	if (rd_path(dir, sizeof(dir), "%s/vsock", rundir) < 0 ||
	    rd_mkdirs(dir, 0700) < 0)
		return -1;
	(void)rd_path(c->log, sizeof(c->log), "%s/vsockd.log", dir);
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "--name");
	strv_add(&c->argv, sys->name);
	if ((n = child_pass(c, listen_at(rundir, "vsock/stats.sock"))) < 0)
		return -1;
	strv_add(&c->argv, "--stats");
	strv_addf(&c->argv, "fd:%d", n);
	for (size_t v = 0; v < sys->nvms; v++) {
		const struct sc_vm *vm = &sys->vms[v];

		if (vm->cid == 0)
			continue;
		if ((n = child_pass(c, listen_at(rundir, "vsock/%s.sock",
		    vm->name))) < 0)
			return -1;
		strv_add(&c->argv, "--vm");
		strv_addf(&c->argv, "%s:%u=fd:%d", vm->name, vm->cid, n);
		c->restart_vms |= 1u << v;
	}
	for (size_t k = 0; k < sys->nvsock; k++) {
		const struct sc_vsock_rule *r = &sys->vsock[k];

		strv_add(&c->argv, "--allow");
		strv_addf(&c->argv, "%s:%s:%u", sys->vms[r->client].name,
		    sys->vms[r->server].name, r->port);
	}
	return 0;
}

/*
 * ---- the multiplexer on a host serial line: console = { device ... } ----
 *
 * `isles console --line 3`, the same multiplexer as the foreground `isles
 * up`, on the device the system file names.  The device is opened and set
 * up here (raw, the file's speed and format, CLOCAL: no modem lines to
 * wait for; TIOCEXCL: no second opener), so the client gets the line, not
 * a path.
 */
static bool
have_serial(const struct sc_system *sys, size_t i)
{
	return sys->serial != NULL;
}

static speed_t
baud(unsigned speed)
{
	speed_t b = sc_line_speed(speed);

	return b != B0 ? b : B115200;	/* the loader allows no other */
}

/* Open and set up the line; the fd (CLOEXEC, blocking) or -1 (logged). */
static int
open_line(const struct sc_serial *s)
{
	static const tcflag_t size[] = { CS5, CS6, CS7, CS8 };
	struct termios t;
	int fd, fl;

	fd = open(s->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		log_warn("console: %s", s->device);
		return -1;
	}
	if (tcgetattr(fd, &t) == -1) {
		log_warn("console: %s: not a terminal", s->device);
		goto fail;
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	t.c_cflag |= size[s->format[0] - '5'] | CLOCAL | CREAD;
	if (s->format[1] != 'N')
		t.c_cflag |= PARENB | (s->format[1] == 'O' ? PARODD : 0);
	if (s->format[2] == '2')
		t.c_cflag |= CSTOPB;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, baud(s->speed)) == -1 ||
	    cfsetospeed(&t, baud(s->speed)) == -1 ||
	    tcsetattr(fd, TCSANOW, &t) == -1) {
		log_warn("console: %s: setting %u %s", s->device, s->speed,
		    s->format);
		goto fail;
	}
	(void)ioctl(fd, TIOCEXCL);
	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		log_warn("console: %s", s->device);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
build_serial(const struct sc_system *sys, const char *rundir,
    struct child *c, size_t i, const char *bin)
{
	int n;

	child_setup(c, CHILD_DAEMON, rundir, sys->name, "serial");
	(void)rd_path(c->log, sizeof(c->log), "%s/serial.log", rundir);
	if ((n = child_pass(c, open_line(sys->serial))) < 0)
		return -1;
	strv_add(&c->argv, bin);
	strv_add(&c->argv, "console");
	strv_add(&c->argv, "--line");
	strv_addf(&c->argv, "%d", n);
	return 0;
}

static const struct daemon_kind {
	const char *prog;	/* next to the isles binary */
	bool required;		/* an instance without its program: error */
	bool user;		/* runs as the daemon user (child.h); not the
				   line's console client, which reconnects to
				   R/console.sock by path */
	size_t (*count)(const struct sc_system *);
	bool (*used)(const struct sc_system *, size_t);
	int (*build)(const struct sc_system *, const char *, struct child *,
	    size_t, const char *);
} kinds[] = {
	{ "isles-consoled", true, true, one, always, build_consoled },
	{ "isles-diskd", true, true, ndisks, disk_used, build_diskd },
	{ "isles-switchd", true, true, nswitches, switch_used, build_switchd },
	{ "isles-dataportd", true, true, ndataports, always, build_dataportd },
	{ "isles-diskd", true, true, ndataports, dp_is_disk, build_dpdiskd },
	{ "isles-linkd", true, true, one, have_links, build_linkd },
	{ "isles-vsockd", true, true, one, have_vsock, build_vsockd },
	{ "isles", true, false, one, have_serial, build_serial },
};

size_t
daemons_max(const struct sc_system *sys)
{
	size_t n = 0;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		n += kinds[k].count(sys);
	return n;
}

int
daemons_check(const struct sc_system *sys, char *err, size_t len)
{
	char bin[PATH_MAX];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool needed = false;

		for (size_t i = 0; i < kinds[k].count(sys); i++)
			needed |= kinds[k].used(sys, i);
		if (needed && kinds[k].required &&
		    !daemon_prog(kinds[k].prog, bin, sizeof(bin))) {
			snprintf(err, len, "%s: not found next to the isles "
			    "binary (build it with make)", kinds[k].prog);
			return -1;
		}
	}
	return 0;
}

int
daemons_build(const struct sc_system *sys, const char *rundir,
    struct child *children, size_t *n)
{
	char bin[PATH_MAX];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const struct daemon_kind *dk = &kinds[k];

		if (!daemon_prog(dk->prog, bin, sizeof(bin)))
			continue;	/* daemons_check ran in `up` */
		for (size_t i = 0; i < dk->count(sys); i++) {
			struct child *c = &children[*n];

			if (!dk->used(sys, i))
				continue;
			(*n)++;
			c->restart = CHILD_RESTART_ON_FAILURE;
			c->max_restarts = 3;
			c->unprivileged = dk->user;
			if (dk->build(sys, rundir, c, i, bin) < 0 ||
			    c->argv.oom) {
				log_warn("%s", c->name[0] ? c->name : dk->prog);
				return -1;
			}
		}
	}
	return 0;
}
