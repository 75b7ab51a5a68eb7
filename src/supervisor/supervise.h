/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * supervise: the supervisor of one running system, the process `isles
 * supervise` (a hidden subcommand of the isles binary, which links
 * libsupervisor), started detached by `isles up` and alive until the
 * system is down.  The modules it joins, each with its own header:
 *   child.h      the child table: starting a process with only its fds
 *   daemons.h    the daemon rows of the table, their sockets and files
 *   qemu.h       the QEMU rows: one VM's command line
 *   vm.h         one VM's life cycle (QEMU, agent link, QMP, deadlines)
 *   agentlink.h  the link to a VM's guest agent, exec sessions
 *   qmp.h        the QMP client of a VM (reset events, power button)
 *   control.h    the control socket and its clients
 *   status.h     what `isles status` shows
 *   rundir.h     the run dir (shared with the CLI: lock, sweep, clean)
 *   accel.h      KVM or TCG (decided by `isles up`)
 */
#ifndef ISLES_SUPERVISOR_SUPERVISE_H
#define ISLES_SUPERVISOR_SUPERVISE_H

/*
 * The supervisor process: `isles supervise --run-dir R --ctl-fd N --accel
 * kvm|tcg [--kernel K --initrd I] [--verbose] FILE`, with R's lock held
 * (fd 3) and R/control.sock listening on fd N.  Returns the process exit
 * status: 0 after `isles down`, 1 if starting failed, 2 on bad usage.
 */
int sup_main(int argc, char **argv);

#endif
