# SPDX-License-Identifier: BSD-2-Clause
"""Fault injection: kill -9 each daemon and each VM in turn while the
others run a disk and network workload (docs/security.md).

System "faults": vm0 and vm1, each with its own partition of disk d0
(ext4, mounted on /mnt) and a NIC on switch lan; the daemons are
isles-consoled, isles-diskd (d0) and isles-switchd (lan).  In each
running VM a workload loops: write a file of random bytes, sync, print
"ok NAME MD5" (from then on the write was acknowledged after a flush),
ping the other VM.  Then, in turn:

  diskd:d0, switchd:lan, consoled   kill -9; the supervisor restarts it
                                    after a back-off and `isles status`
                                    shows the restart and the kill; no
                                    VM was restarted (same QEMU pid); the
                                    workloads go on (new acknowledged
                                    writes after the restart); pings
                                    resume
  vm0's QEMU, then vm1's            kill -9; the other VM keeps writing
                                    meanwhile; `isles restart` brings the
                                    victim back; its file system is clean
                                    (mount to replay the journal, umount,
                                    e2fsck -fn) and every file it had
                                    acknowledged has its checksum

At the end every acknowledged file of both VMs is checked and both file
systems are fsck-clean.  No timing assertion: every wait is a wait_for
with a generous limit.

Run: /usr/bin/python3 -m pytest -v tests/integration/test_faults.py
"""

import os
import signal
import threading

import pytest

from conftest import System, wait_for

PEER = {"vm0": "192.168.7.2", "vm1": "192.168.7.1"}
ADDR = {"vm0": "192.168.7.1", "vm1": "192.168.7.2"}

# Runs in the guest until /tmp/stop exists; files are named by a prefix
# per workload run, so a restarted VM does not overwrite acknowledged ones.
WORKLOAD = r"""
i=0
while [ ! -e /tmp/stop ]; do
  i=$((i+1)); f=/mnt/$1-$i
  if dd if=/dev/urandom of=$f bs=64k count=4 2>/dev/null && sync; then
    echo "ok $1-$i $(md5sum < $f | cut -d' ' -f1)"
  fi
  if ping -c 1 -W 1 $2 >/dev/null 2>&1; then echo ping-ok; else echo ping-lost; fi
done
echo done
"""


class Workload:
    """One guest workload: its acknowledged files, read by a thread."""

    def __init__(self, sysm, vm, tag):
        self.vm, self.tag = vm, tag
        self.acked = {}          # file -> md5, acknowledged after sync
        self.pings = 0
        self.lines = 0
        self.p = sysm.bg(vm, "sh", "-c", WORKLOAD, "workload", tag, PEER[vm],
                         timeout=900)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            w = line.split()
            if len(w) == 3 and w[0] == "ok":
                self.acked[w[1]] = w[2]
            elif w == ["ping-ok"]:
                self.pings += 1
            self.lines += 1

    def progress(self):
        return len(self.acked)

    def stop(self, sysm):
        sysm.ok(self.vm, "touch", "/tmp/stop")
        self.p.wait(timeout=120)
        self.t.join(timeout=30)
        sysm.ok(self.vm, "rm", "-f", "/tmp/stop")


@pytest.fixture(scope="module")
def fsys(built):
    s = System.create("", name="faults")
    img = s.base / "d0.img"
    s.conf.write_text(f"""
name = "faults";
disks = ( {{ name = "d0"; path = "{img}"; size = "160M";
             partitions = ( {{ size = "64M"; }}, {{ size = "64M"; }} ); }} );
switches = ( {{ name = "lan"; }} );
vms = (
  {{ name = "vm0"; disks = ( {{ disk = "d0"; partitions = [ 1 ]; }} );
     nics = ( {{ switch = "lan"; }} ); }},
  {{ name = "vm1"; disks = ( {{ disk = "d0"; partitions = [ 2 ]; }} );
     nics = ( {{ switch = "lan"; }} ); }}
);
""")
    with s:
        s.up()
        for vm in ("vm0", "vm1"):
            s.ok(vm, "sh", "-c", "modprobe ext4 2>/dev/null; "
                 "mkfs.ext4 -q -F /dev/vda1 && mount /dev/vda1 /mnt",
                 timeout=120)
            net_up(s, vm)
        s.work = {vm: [Workload(s, vm, "a")] for vm in ("vm0", "vm1")}
        yield s


def net_up(s, vm):
    s.ok(vm, "sh", "-c", f"ip link set eth0 up && "
         f"ip addr add {ADDR[vm]}/24 dev eth0")


def pings(s, vm):
    rc, _, _ = s.exec(vm, "ping", "-c", "1", "-W", "2", PEER[vm], limit=60)
    return rc == 0


def running(s):
    return [w for ws in s.work.values() for w in ws if w.p.poll() is None]


def progresses(s, workloads, what, secs=240):
    """Each workload acknowledges at least two more writes."""
    start = {id(w): w.progress() for w in workloads}
    wait_for(lambda: all(w.progress() >= start[id(w)] + 2
                         for w in workloads), what, secs)


def check_files(s, vm):
    """Every file vm acknowledged, in every workload run, is intact."""
    want = {}
    for w in s.work[vm]:
        want.update(w.acked)
    assert want, f"{vm} acknowledged nothing"
    out = s.ok(vm, "sh", "-c", "cd /mnt && md5sum " + " ".join(sorted(want)),
               timeout=120)
    got = {}
    for line in out.splitlines():
        md5, name = line.split()
        got[name] = md5
    bad = [f for f in want if got.get(f) != want[f]]
    assert not bad, f"{vm}: acknowledged files lost or changed: {bad}"
    return len(want)


def fsck_clean(s, vm):
    """Unmounted, replay the journal by mounting, then a forced check."""
    s.ok(vm, "sh", "-c", "umount /mnt 2>/dev/null; mount /dev/vda1 /mnt && "
         "umount /mnt && e2fsck -fn /dev/vda1 >/tmp/fsck.out 2>&1; r=$?; "
         "cat /tmp/fsck.out; exit $r", timeout=180)


@pytest.mark.parametrize("name", ["diskd:d0", "switchd:lan", "consoled"])
def test_killed_daemon_is_restarted_and_nothing_is_lost(fsys, name):
    before = fsys.daemon(name)
    vms = {v["name"]: v for v in fsys.status()["vms"]}
    progresses(fsys, running(fsys), "the workloads to run")
    os.kill(before["pid"], signal.SIGKILL)

    def back():
        d = fsys.daemon(name)
        return d["state"] == "running" and d["pid"] != before["pid"]
    wait_for(back, name + " to be restarted", 120)
    d = fsys.daemon(name)
    assert d["restarts"] == before["restarts"] + 1
    assert "signal 9" in d["last_exit"]
    assert "restarting in" in fsys.log("supervisor.log")
    # No VM was restarted for it: the same QEMUs, still ready.
    for v in fsys.status()["vms"]:
        assert v["state"] == "ready" and v["pid"] == vms[v["name"]]["pid"]
    # The workloads go on: writes acknowledged after the restart.
    progresses(fsys, running(fsys), "the workloads to go on after " + name)
    for vm in ("vm0", "vm1"):
        wait_for(lambda: pings(fsys, vm), f"{vm}'s pings to resume", 120)


@pytest.mark.parametrize("victim", ["vm0", "vm1"])
def test_killed_vm_loses_no_acknowledged_write(fsys, victim):
    other = "vm1" if victim == "vm0" else "vm0"
    progresses(fsys, running(fsys), "the workloads to run")
    pid = fsys.vm(victim)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: fsys.vm(victim)["state"] == "crashed",
             victim + " to be reported crashed", 60)
    assert "signal 9" in fsys.vm(victim)["last_exit"]
    # The other VM keeps writing while the victim is down.
    assert fsys.vm(other)["state"] == "ready"
    progresses(fsys, [w for w in fsys.work[other] if w.p.poll() is None],
               other + " to go on writing")
    for w in fsys.work[victim]:
        w.p.wait(timeout=60)
        w.t.join(timeout=30)
    r = fsys.isles("restart", "--system", "faults", victim, timeout=400)
    assert r.returncode == 0, r.stderr
    assert fsys.vm(victim)["state"] == "ready"
    fsck_clean(fsys, victim)
    fsys.ok(victim, "mount", "/dev/vda1", "/mnt")
    n = check_files(fsys, victim)
    print(f"{victim}: {n} acknowledged files intact after kill -9")
    net_up(fsys, victim)
    wait_for(lambda: pings(fsys, other), f"{other}'s pings to resume", 120)
    # Its workload starts again, under new names.
    fsys.work[victim].append(Workload(fsys, victim,
                                      chr(ord("a") + len(fsys.work[victim]))))
    progresses(fsys, [fsys.work[victim][-1]], victim + " to write again")


def test_at_the_end_everything_acknowledged_is_there(fsys):
    for vm in ("vm0", "vm1"):
        for w in fsys.work[vm]:
            if w.p.poll() is None:
                w.stop(fsys)
    for vm in ("vm0", "vm1"):
        n = check_files(fsys, vm)
        fsck_clean(fsys, vm)
        print(f"{vm}: {n} acknowledged files intact, file system clean")
    st = {d["name"]: d for d in fsys.status()["daemons"]}
    for name in ("diskd:d0", "switchd:lan", "consoled"):
        assert st[name]["state"] == "running" and st[name]["restarts"] == 1
    for vm in ("vm0", "vm1"):
        assert pings(fsys, vm)
