# SPDX-License-Identifier: BSD-2-Clause
"""`isles up` wiring the devices of the system file: one isles-diskd per
disk (a partition per VM) and one isles-switchd per switch, started by the
supervisor before the QEMUs, stopped after them, and every daemon running
locked down (no_new_privs and a seccomp filter)."""

import os

import pytest

from conftest import System, proc_status, sanitizer_build

MIB = 1 << 20


@pytest.fixture(scope="module")
def devsys(built):
    s = System.create("", name="dev")
    img = s.base / "d0.img"
    s.conf.write_text(f"""
name = "dev";
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
    s.img = img
    with s:
        s.up()
        yield s


def test_daemons_run_under_the_supervisor(devsys):
    st = devsys.status()
    daemons = {d["name"]: d for d in st["daemons"]}
    assert daemons["diskd:d0"]["state"] == "running"
    assert daemons["switchd:lan"]["state"] == "running"
    assert devsys.img.stat().st_size == 160 * MIB   # created from the file


@pytest.mark.parametrize("vm,part", [("vm0", 1), ("vm1", 2)])
def test_each_vm_sees_and_writes_its_partition(devsys, vm, part):
    rc, out, err = devsys.exec(vm, "cat", "/proc/partitions")
    assert rc == 0, err
    sizes = {l.split()[3]: int(l.split()[2]) for l in out.splitlines()[2:] if l.split()}
    assert sizes.get("vda1") == 64 * 1024          # KiB: only its partition
    assert "vda2" not in sizes
    marker = f"isles-{vm}-was-here"
    rc, _, err = devsys.exec(vm, "sh", "-c",
                             f"printf {marker} | dd of=/dev/vda1 conv=fsync 2>/dev/null")
    assert rc == 0, err
    # Partitions start on 1 MiB boundaries of the physical disk.
    with open(devsys.img, "rb") as f:
        f.seek(MIB + (part - 1) * 64 * MIB)
        assert f.read(len(marker)) == marker.encode()


def test_vms_reach_each_other_over_the_switch(devsys):
    for i, vm in enumerate(("vm0", "vm1")):
        rc, _, err = devsys.exec(vm, "sh", "-c",
                                 f"ip link set eth0 up && ip addr add 192.168.1.{i + 1}/24 dev eth0")
        assert rc == 0, err
    rc, out, err = devsys.exec("vm0", "ping", "-c", "2", "-W", "5", "192.168.1.2",
                               limit=60)
    assert rc == 0, out + err
    assert "2 packets received" in out or " 0% packet loss" in out


def test_guest_reboot_keeps_the_vm_and_its_disk(devsys):
    import time
    pid = devsys.vm("vm0")["pid"]
    rc, _, _ = devsys.exec("vm0", "reboot")
    assert rc == 0
    # The supervisor sees the reset (QMP) and waits for the agent again.
    deadline = time.monotonic() + 180
    seen = set()
    while True:
        v = devsys.vm("vm0")
        seen.add(v["state"])
        if v["state"] == "ready" and seen & {"starting", "booting"}:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.3)
    assert v["pid"] == pid                   # same QEMU, rebooted guest
    rc, out, err = devsys.exec("vm0", "sh", "-c",
                               "dd if=/dev/vda1 bs=18 count=1 2>/dev/null")
    assert (rc, out) == (0, "isles-vm0-was-here"), err
    assert devsys.vm("vm1")["state"] == "ready"


def procs_of_run_dir(run_dir):
    """Pids whose environment holds ISLES_RUN=run_dir (the supervisor's
    children: rundir.c finds them the same way)."""
    want = f"ISLES_RUN={run_dir}".encode()
    found = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env:
            found.add(int(d))
    return found




def test_daemons_run_locked_down(devsys):
    """Every daemon of the system (the console server, the disk server, the
    switch) runs with no_new_privs and, in every thread, seccomp in filter
    mode (docs/architecture.md, Lock-down).  A daemon missing from the
    status, not running, or not locked down fails the test."""
    st = devsys.status()
    daemons = {d["name"]: d for d in st["daemons"]}
    assert set(daemons) == {"consoled", "diskd:d0", "switchd:lan"}, daemons
    vm_pids = {v["pid"] for v in st["vms"]}
    # Every child of the system is a VM or one of these daemons: nothing
    # runs beside them unchecked.
    children = procs_of_run_dir(devsys.r)
    daemon_pids = {d["pid"] for d in daemons.values()}
    assert children == vm_pids | daemon_pids, (children, vm_pids, daemons)
    for name, d in sorted(daemons.items()):
        assert d["state"] == "running" and d["pid"] > 0, d
        # Sanitizer builds load no filter, by design (src/host/sandbox.c):
        # the runtime makes system calls of its own.  Run against them
        # (ISLES_BIN=build/asan/isles), this test cannot see a daemon that
        # skips its lockdown, since no_new_privs is also set for every child
        # by child.c; against the plain build it can.
        seccomp = "0" if sanitizer_build(d["pid"]) else "2"
        for tid, f in proc_status(d["pid"]).items():
            assert f.get("NoNewPrivs") == "1", (name, tid, f.get("NoNewPrivs"))
            assert f.get("Seccomp") == seccomp, (name, tid, f.get("Seccomp"))


def test_down_stops_daemons_after_vms(devsys):
    r = devsys.down()
    assert r.returncode == 0, r.stderr
    devsys.assert_nothing_running()
    log = devsys.log("supervisor.log")
    assert log.index("vm0: stopped") < log.index("diskd:d0: pid")


def test_disk_server_that_cannot_start(make_system):
    # The image exists but has no partition table: isles-diskd refuses to
    # export partition 1; up says so at once and stops what it started.
    s = make_system("", name="nodisk")
    img = s.base / "blank.img"
    img.write_bytes(b"\0" * MIB)
    s.conf.write_text(f"""
disks = ( {{ name = "blank"; path = "{img}"; }} );
vms = ( {{ name = "vm0"; disks = ( {{ disk = "blank"; partitions = [ 1 ]; }} ); }} );
""")
    r = s.up(check=False)
    assert r.returncode == 1
    assert "diskd:blank exited with status 1" in r.stderr, r.stderr
    assert "no partition table" in r.stderr
    s.assert_nothing_running()
