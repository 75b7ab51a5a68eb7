# SPDX-License-Identifier: BSD-2-Clause
"""Dataports brought up by `isles up` from the system file: the supervisor
makes each dataport's memory and doorbells, one isles-dataportd per
dataport serves them to the QEMUs of its VMs, and each guest sees its
dataports as /dev/uioN and /dev/dataport/NAME (docs/dataports.md).

    ctl   64 KiB  vm0 + vm1
    tri    1 MiB  vm0 + vm1 + vm2
    vm3   on no dataport

What a user sees is checked: each VM has exactly its dataports, in
system-file order; a VM on none has no device and its QEMU maps no
dataport memory (nor does any QEMU map a dataport it is not on); bytes
written by one VM are read by every other VM of that dataport; 1000
strict ping-pong round trips with none lost; the doorbells and memory
keep working while isles-dataportd is frozen and after it is killed and
restarted; a restarted VM rejoins with the memory as it was; rmmod and
modprobe of the guest module.

Run: /usr/bin/python3 -m pytest -p no:cacheprovider -v -s
     tests/integration/test_dataports_up.py   (-s shows the latency)
"""

import os
import re
import signal
import sys

import pytest

from conftest import System, wait_for

CONF = """
name = "dp";
accel = "tcg";
dataports = (
  { name = "ctl"; size = "64K"; vms = [ "vm0", "vm1" ]; },
  { name = "tri"; size = "1M"; vms = [ "vm0", "vm1", "vm2" ]; }
);
vms = (
  { name = "vm0"; memory = "192M"; },
  { name = "vm1"; memory = "192M"; },
  { name = "vm2"; memory = "192M"; },
  { name = "vm3"; memory = "192M"; }
);
"""


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


@pytest.fixture(scope="module")
def dpsys(built):
    with System.create(CONF, name="dp") as s:
        s.up()
        yield s


def qemu_maps(s, vm):
    pid = s.vm(vm)["pid"]
    with open(f"/proc/{pid}/maps") as f:
        return set(re.findall(r"memfd:isles-dataport:(\S+)", f.read()))


def pingpong(s, name, count, server="vm1", client="vm0"):
    """A strict ping-pong of count round trips; returns the client's line."""
    srv = s.bg(server, "dataport_pingpong", name, "serve", count, 20000,
               client, timeout=300)
    try:
        # The server prints "ready" once it waits for the first doorbell.
        line = srv.stdout.readline()
        assert line.strip() == "ready", line + srv.stderr.read()
        out = s.ok(client, "dataport_pingpong", name, "start", str(count),
                 "20000", server, timeout=300)
        sout, serr = srv.communicate(timeout=120)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert srv.returncode == 0, sout + serr
    assert f"served {count} round trips" in sout
    m = re.search(r"(\d+) round trips", out)
    assert m and int(m.group(1)) == count, out
    return out.strip()


def test_each_vm_has_exactly_its_dataports(dpsys):
    want = {"vm0": ["ctl", "tri"], "vm1": ["ctl", "tri"], "vm2": ["tri"],
            "vm3": []}
    for vm, names in want.items():
        out = dpsys.ok(vm, "sh", "-c",
                 "ls /dev/dataport 2>/dev/null; echo --; "
                 "ls /dev | grep '^uio' || true; echo --; "
                 "grep -l 0x1110 /sys/bus/pci/devices/*/device || true")
        links, uios, pci = out.split("--\n")
        assert links.split() == names, (vm, out)
        assert uios.split() == [f"uio{k}" for k in range(len(names))], out
        assert len(pci.split()) == len(names), (vm, out)
        for k, n in enumerate(names):
            tgt = dpsys.ok(vm, "readlink", f"/dev/dataport/{n}").strip()
            assert tgt == f"/dev/uio{k}", (vm, n, tgt)


def test_no_qemu_maps_a_dataport_it_is_not_on(dpsys):
    assert qemu_maps(dpsys, "vm0") == {"ctl", "tri"}
    assert qemu_maps(dpsys, "vm1") == {"ctl", "tri"}
    assert qemu_maps(dpsys, "vm2") == {"tri"}
    assert qemu_maps(dpsys, "vm3") == set()


def write_random(s, vm, name, size):
    out = s.ok(vm, "sh", "-c",
             f"head -c {size} /dev/urandom > /tmp/r && "
             f"dataport_write {name} 0 < /tmp/r && sha256sum < /tmp/r")
    return out.split()[0]


def read_sum(s, vm, name, size):
    out = s.ok(vm, "sh", "-c", f"dataport_read {name} 0 {size} | sha256sum")
    return out.split()[0]


def test_bytes_reach_every_vm_of_the_dataport(dpsys):
    h = write_random(dpsys, "vm2", "tri", 1 << 20)
    assert read_sum(dpsys, "vm0", "tri", 1 << 20) == h
    assert read_sum(dpsys, "vm1", "tri", 1 << 20) == h
    h2 = write_random(dpsys, "vm1", "ctl", 64 << 10)
    assert read_sum(dpsys, "vm0", "ctl", 64 << 10) == h2
    # ctl and tri are different memory.
    assert read_sum(dpsys, "vm0", "tri", 1 << 20) == h


def test_thousand_round_trips(dpsys):
    line = pingpong(dpsys, "ctl", 1000)
    report("ctl, vm0 <-> vm1 under TCG: " + line)
    line = pingpong(dpsys, "tri", 200, server="vm2", client="vm1")
    report("tri, vm1 <-> vm2 under TCG: " + line)


def test_doorbells_need_no_daemon_and_survive_its_restart(dpsys):
    d = dpsys.daemon("dataportd:ctl")
    os.kill(d["pid"], signal.SIGSTOP)
    try:
        pingpong(dpsys, "ctl", 200)
    finally:
        os.kill(d["pid"], signal.SIGCONT)
    os.kill(d["pid"], signal.SIGKILL)
    # One snapshot per poll: while it waits for its back-off the daemon
    # has pid 0, and two snapshots could mix its old and pending states.
    def back():
        now = dpsys.daemon("dataportd:ctl")
        return now["state"] == "running" and now["pid"] != d["pid"]
    wait_for(back, "dataportd:ctl to be restarted", 60)
    assert dpsys.daemon("dataportd:ctl")["restarts"] == d["restarts"] + 1
    pingpong(dpsys, "ctl", 200)


def test_restarted_vm_rejoins_with_the_memory_as_it_was(dpsys):
    h = write_random(dpsys, "vm0", "ctl", 64 << 10)
    r = dpsys.isles("restart", "--system", dpsys.name, "vm1", timeout=300)
    assert r.returncode == 0, r.stderr
    assert read_sum(dpsys, "vm1", "ctl", 64 << 10) == h
    pingpong(dpsys, "ctl", 200)
    pingpong(dpsys, "ctl", 100, server="vm0", client="vm1")


def test_module_reload(dpsys):
    out = dpsys.ok("vm0", "sh", "-c",
             "rmmod isles_dataport && ls /dev | grep -c '^uio'; "
             "modprobe isles_dataport && dataport-links -q && "
             "ls /dev | grep -c '^uio'")
    assert out.split() == ["0", "2"], out
    pingpong(dpsys, "ctl", 100)
