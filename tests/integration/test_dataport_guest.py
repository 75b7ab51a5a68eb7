# SPDX-License-Identifier: BSD-2-Clause
"""Dataports, guest side, with stock QEMU and a test ivshmem server.

The Isles ivshmem daemon and the system-file wiring are not used: two
IvshmemServer test doubles (ivshmem_server.py, the server protocol of
QEMU's ivshmem-spec) serve two dataports, and four VMs boot Isles' guest
image with QEMU directly, each dataport as the host contract of
docs/dataports.md says (`-device ivshmem-doorbell,chardev=dpK,vectors=1,
addr=0x1K` on pcie.0, isles.dataports= and pci=resource_alignment= on the
kernel command line):

    vm0, vm1   ctl (64 KiB, slot 10, VMs vm0+vm1) and bulk (1 MiB, slot 11,
               VMs vm1+vm0: the peer IDs differ per dataport)
    vm2        no dataport device at all
    vm3        an ivshmem-plain device at slot 10, booted WITHOUT the
               alignment parameter

What a user sees is checked: the module binds and /dev/uio0, /dev/uio1
and /dev/dataport/NAME exist; bytes written with dataport_write on one VM
are read with dataport_read on the other (and land in the server's
memory); dataport_emit / dataport_wait; 1000 strict ping-pong round trips
with none lost (each side waits for the other's doorbell before ringing
back, so coalescing cannot hide a loss), with their latency under TCG
printed; a VM without the device has no /dev/uio*; a missing alignment
parameter is named; rmmod + modprobe and the dataports work again with
the links refreshed; a doorbell to a peer that is gone is dropped and the
wait for its answer times out.

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_dataport_guest.py
(-s shows the measured figures).
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from agentclient import AgentClient, EXIT, STDERR, STDOUT  # noqa: E402
from dataportd import Dataportd  # noqa: E402
from ivshmem_server import IvshmemServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISLES = os.environ.get("ISLES_BIN", os.path.join(ROOT, "build", "isles"))
ALIGN = "pci=resource_alignment=12@pci:1af4:1110"
CTL_SIZE = 64 << 10
BULK_SIZE = 1 << 20
DATAPORTS = "isles.dataports=ctl:10:vm0+vm1,bulk:11:vm1+vm0"
ROUNDS = 1000


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


@pytest.fixture(scope="module")
def image():
    if not os.access(ISLES, os.X_OK):
        pytest.fail("build/isles is not built: run make")
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    return lines["kernel"], lines["initrd"]


def dataport_device(k, sock):
    """The host side of the contract: the VM's K-th dataport."""
    return ["-chardev", "socket,id=dp%d,path=%s" % (k, sock),
            "-device", "ivshmem-doorbell,chardev=dp%d,vectors=1,addr=0x%02x" % (k, 0x10 + k)]


class VM:
    def __init__(self, d, name, kernel, initrd, append, devices):
        self.name = name
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir)
        cmd = [
            "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-numa", "node,memdev=mem",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 isles.name=%s panic=-1 no_timer_check %s"
            % (name, append),
            "-chardev", "socket,id=ser0,path=%s/serial.sock,server=on,wait=off,"
            "logfile=%s/console.log" % (self.dir, self.dir),
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci",
            "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % self.dir,
            "-device", "virtserialport,chardev=agent,name=org.isles.agent",
        ] + devices
        self.log = open(os.path.join(self.dir, "qemu.log"), "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.agent = None

    def connect(self, timeout=240):
        self.agent = AgentClient.connect(os.path.join(self.dir, "agent.sock"), timeout=30)
        self.agent.hello(timeout=timeout)
        return time.monotonic() - self.started

    def sh(self, script, stdin=None, timeout=120):
        return self.agent.run(["sh", "-c", script], stdin=stdin, timeout=timeout)

    def ok(self, script, stdin=None, timeout=120):
        r = self.sh(script, stdin=stdin, timeout=timeout)
        assert r.code == 0, "%s: %s: exit %d\n%s%s" % (
            self.name, script, r.code, r.out.decode(errors="replace"),
            r.err.decode(errors="replace"))
        return r.out.decode()

    def console(self):
        try:
            with open(os.path.join(self.dir, "console.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def kill(self):
        if self.agent is not None:
            self.agent.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module", params=["isles-dataportd", "test-double"])
def rig(image, request):
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    sock = lambda dp, vm: os.path.join(d, "%s.%s.sock" % (dp, vm))  # noqa: E731
    # Socket i of a server is peer ID i: the dataport's VM list order.
    if request.param == "isles-dataportd":
        ctl = Dataportd("ctl", CTL_SIZE, [sock("ctl", "vm0"), sock("ctl", "vm1")],
                        ["vm0", "vm1"])
        bulk = Dataportd("bulk", BULK_SIZE, [sock("bulk", "vm1"),
                                              sock("bulk", "vm0")], ["vm1", "vm0"])
    else:
        ctl = IvshmemServer(CTL_SIZE, [sock("ctl", "vm0"), sock("ctl", "vm1")])
        bulk = IvshmemServer(BULK_SIZE, [sock("bulk", "vm1"), sock("bulk", "vm0")])
    ctl.start()
    bulk.start()
    vms = {}
    try:
        for name in ("vm0", "vm1"):
            vms[name] = VM(d, name, *image, DATAPORTS + " " + ALIGN,
                           dataport_device(0, sock("ctl", name)) +
                           dataport_device(1, sock("bulk", name)))
        vms["vm2"] = VM(d, "vm2", *image, ALIGN, [])
        vms["vm3"] = VM(d, "vm3", *image, "isles.dataports=plain:10:vm3+vm0", [
            "-object", "memory-backend-memfd,id=plainmem,size=1M,share=on",
            "-device", "ivshmem-plain,memdev=plainmem,addr=0x10"])
        for v in vms.values():
            report("%s: QEMU start to agent ready %.1f s" % (v.name, v.connect()))
        yield dict(vms=vms, ctl=ctl, bulk=bulk)
    finally:
        for v in vms.values():
            v.kill()
        ctl.stop()
        bulk.stop()
        shutil.rmtree(d, ignore_errors=True)


def wait_open(vm, dev):
    """Until a process in vm has dev open (a waiter is ready): bounded."""
    vm.ok("for i in $(seq 600); do "
          "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q ' %s$' && exit 0; "
          "usleep 50000; done; echo nobody opened %s; exit 1" % (dev, dev))


def background(vm, cmd, tag):
    """Start cmd in vm's background; its output and status go to /tmp/TAG.*."""
    vm.ok("(%s >/tmp/%s.out 2>/tmp/%s.err; echo $? >/tmp/%s.rc) </dev/null "
          ">/dev/null 2>&1 &" % (cmd, tag, tag, tag))


def finished(vm, tag, timeout=60):
    """(exit code, stdout, stderr) of a background() command, once done."""
    vm.ok("for i in $(seq %d); do [ -s /tmp/%s.rc ] && exit 0; usleep 100000; "
          "done; exit 1" % (timeout * 10, tag), timeout=timeout + 30)
    out = vm.ok("cat /tmp/%s.rc; echo; cat /tmp/%s.out" % (tag, tag))
    rc, _, rest = out.partition("\n\n")
    return int(rc), rest, vm.ok("cat /tmp/%s.err" % tag)


def collect(agent, chan, until=None, timeout=60):
    """Output of a started command: until `until` is in its stdout
    (returns (None, out, err)), or until it exits (returns (code, ...))."""
    out, err = b"", b""
    deadline = time.monotonic() + timeout
    while True:
        ftype, _, c, payload = agent.recv(max(0.0, deadline - time.monotonic()))
        if c != chan:
            continue
        if ftype == STDOUT:
            out += payload
            if until is not None and until in out:
                return None, out, err
        elif ftype == STDERR:
            err += payload
        elif ftype == EXIT:
            return int.from_bytes(payload[:4], "little", signed=True), out, err


def test_module_binds_and_names_the_dataports(rig):
    vms = rig["vms"]
    assert rig["ctl"].connected() == [0, 1] and rig["bulk"].connected() == [0, 1]
    for name, ids in (("vm0", (0, 1)), ("vm1", (1, 0))):
        vm = vms[name]
        assert "\nisles_dataport " in "\n" + vm.ok("lsmod")
        # The K-th dataport is /dev/uioK (no other UIO device here) ...
        assert vm.ok("readlink /dev/dataport/ctl; readlink /dev/dataport/bulk") == \
            "/dev/uio0\n/dev/uio1\n"
        assert vm.ok("ls /dev/uio*") == "/dev/uio0\n/dev/uio1\n"
        # ... an isles-dataport UIO device on the contract's PCI slot.
        for uio, slot, size in ((0, 0x10, CTL_SIZE), (1, 0x11, BULK_SIZE)):
            base = "/sys/class/uio/uio%d" % uio
            assert vm.ok("cat %s/name" % base) == "isles-dataport\n"
            assert vm.ok("readlink %s/device" % base).strip().endswith(
                "0000:00:%02x.0" % slot)
            assert int(vm.ok("cat %s/maps/map0/size" % base), 16) == 4096
            assert int(vm.ok("cat %s/maps/map1/size" % base), 16) == size
        # Doorbells arrive through MSI-X.
        irqs = vm.ok("grep isles-dataport /proc/interrupts")
        assert "isles-dataport[0000:00:10.0]:0" in irqs and "MSI" in irqs
        assert "isles-dataport[0000:00:11.0]:0" in irqs
        info = vm.ok("dataport info")
        assert ("ctl: slot 10, /dev/uio0, %d bytes, this VM is %s (peer %d); "
                "VMs: vm0 (0), vm1 (1)" % (CTL_SIZE, name, ids[0])) in info
        assert ("bulk: slot 11, /dev/uio1, %d bytes, this VM is %s (peer %d); "
                "VMs: vm1 (0), vm0 (1)" % (BULK_SIZE, name, ids[1])) in info


def test_shared_memory_between_vms(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    data = os.urandom(3000)
    assert vm0.ok("dataport_write ctl 4096", stdin=data) == ""
    r = vm1.sh("dataport_read ctl 4096 3000")
    assert (r.code, r.out) == (0, data)
    assert bytes(rig["ctl"].mem[4096:7096]) == data      # the server's memory

    # The whole 1 MiB of the other dataport, the other way.
    big = os.urandom(BULK_SIZE)
    t = time.monotonic()
    assert vm1.ok("dataport_write bulk", stdin=big, timeout=300) == ""
    elapsed = time.monotonic() - t
    assert vm0.ok("dataport_read bulk | sha256sum").split()[0] == \
        hashlib.sha256(big).hexdigest()
    assert bytes(rig["bulk"].mem[:]) == big
    report("dataport_write of 1 MiB through the agent: %.2f s" % elapsed)


def test_read_and_write_stay_in_bounds(rig):
    vm0 = rig["vms"]["vm0"]
    tail = os.urandom(1000)
    r = vm0.sh("dataport_write ctl 65000", stdin=tail)
    assert r.code == 2
    assert b"stdin has more than the 536 bytes from OFFSET 65000 to the end of " \
        b"dataport ctl: wrote the first 536" in r.err
    assert bytes(rig["ctl"].mem[65000:]) == tail[:536]
    for cmd, msg in (
            ("dataport_read ctl 65537", "OFFSET 65537 is past the end of dataport ctl "
             "(65536 bytes)"),
            ("dataport_read ctl 0x100 65536", "LEN 65536 from OFFSET 256 is past the end"),
            ("dataport_read ctl 12x", "OFFSET '12x' is not a number"),
            ("dataport_write ctl 70000 </dev/null", "OFFSET 70000 is past the end"),
            ("dataport_read nope", "no dataport 'nope' on the kernel command line "
             "(this VM has: ctl bulk)"),
            ("dataport_emit ctl vm9", "dataport ctl has no VM 'vm9' (its VMs: vm0 (0), "
             "vm1 (1))"),
            ("dataport_wait", "usage: dataport_wait NAME [TIMEOUT_MS]")):
        r = vm0.sh(cmd)
        assert r.code == 2 and msg.encode() in r.err, (cmd, r)
    assert vm0.sh("dataport_read ctl 65536").out == b""     # the end is fine
    assert vm0.sh("dataport_read ctl 65535 1").out == tail[535:536]


def test_emit_and_wait(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    # Nothing rung: a wait times out (exit 1), it does not hang.
    r = vm1.sh("dataport_wait ctl 200")
    assert r.code == 1 and b"no doorbell on ctl within 200 ms" in r.err
    # PEER defaults to the other VM of the dataport, or is a name or an ID.
    for peer in ("", "vm1", "1"):
        tag = "w" + (peer or "default")
        background(vm1, "dataport_wait ctl 60000", tag)
        wait_open(vm1, "/dev/uio0")
        vm0.ok("dataport_emit ctl %s" % peer)
        assert finished(vm1, tag) == (0, "1\n", "")
    # On bulk vm1 is peer 0 and vm0 peer 1; vm1 rings vm0 there.
    background(vm0, "dataport_wait bulk 60000", "wb")
    wait_open(vm0, "/dev/uio1")
    vm1.ok("dataport_emit bulk 1")
    assert finished(vm0, "wb") == (0, "1\n", "")
    # A handle counts only what arrives after it opened: doorbells rung
    # while nobody waited are not reported to a later waiter.
    vm0.ok("dataport_emit ctl; dataport_emit ctl; dataport_emit ctl")
    r = vm1.sh("dataport_wait ctl 300")
    assert r.code == 1


def interrupts(vm, slot):
    """How many interrupts the dataport at slot took in vm (all CPUs)."""
    line = vm.ok("grep 'isles-dataport\\[0000:00:%02x.0\\]' /proc/interrupts" % slot)
    return sum(int(f) for f in line.split()[1:] if f.isdigit())


def pingpong(server, client, dp, rounds, timeout_ms=10000, limit=600):
    """server serves, client starts: both must finish every round, the
    whole run within limit seconds, each round within timeout_ms."""
    a = server.agent
    chan = a.start(["dataport_pingpong", dp, "serve", str(rounds), str(timeout_ms)])
    code, out, err = collect(a, chan, until=b"ready\n", timeout=60)
    assert code is None, (out, err)
    t = time.monotonic()
    r = client.agent.run(["dataport_pingpong", dp, "start", str(rounds), str(timeout_ms)],
                         timeout=limit)
    wall = time.monotonic() - t
    code, out, err = collect(a, chan, timeout=60)
    assert (code, err) == (0, b""), (out, err)
    assert out == b"served %d round trips\n" % rounds
    assert r.code == 0 and r.err == b"", r
    line = r.out.decode().strip()
    assert re.fullmatch(r"%d round trips with %s in [0-9.]+ s: min \d+ us, median \d+ us, "
                        r"p99 \d+ us, max \d+ us" % (rounds, server.name), line), line
    return line, wall


def test_pingpong_1000_round_trips_none_lost(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    before = interrupts(vm0, 0x10), interrupts(vm1, 0x10)
    line, wall = pingpong(vm1, vm0, "ctl", ROUNDS)
    # Exactly one interrupt per round on each side: none lost, none extra.
    assert (interrupts(vm0, 0x10) - before[0], interrupts(vm1, 0x10) - before[1]) == \
        (ROUNDS, ROUNDS)
    report("ping-pong on ctl under TCG, in vm0: %s; host wall clock %.2f s for the "
           "run (%.0f us a round trip, tool start included)" % (line, wall,
                                                               wall / ROUNDS * 1e6))
    # The other dataport, the other way: its own device and vectors.
    line, _ = pingpong(vm0, vm1, "bulk", 100)
    report("ping-pong on bulk, in vm1: %s" % line)


def test_vm_without_dataports(rig):
    vm2 = rig["vms"]["vm2"]
    r = vm2.sh("ls /dev/uio*")
    assert r.code != 0 and r.out == b""
    assert "isles_dataport" not in vm2.ok("lsmod")
    r = vm2.sh("dataport_read ctl")
    assert r.code == 2
    assert b"no dataport 'ctl' on the kernel command line (this VM has none)" in r.err
    r = vm2.sh("dataport-links")
    assert (r.code, r.out, r.err) == (0, b"", b"")
    assert vm2.sh("ls /dev/dataport").code != 0


def test_missing_alignment_parameter_is_named(rig):
    vm3 = rig["vms"]["vm3"]
    assert vm3.sh("ls /dev/uio0").code != 0
    assert ("BAR0 [mem 0x" in vm3.ok("dmesg") and
            "is not a page of its own, so UIO cannot map it: boot the guest with "
            "pci=resource_alignment=12@pci:1af4:1110" in vm3.ok("dmesg"))
    r = vm3.sh("dataport_read plain 0 4")
    assert r.code == 2
    assert b"register BAR is not a page of its own (boot the guest with " \
        b"pci=resource_alignment=12@pci:1af4:1110)" in r.err
    # rcS's dataport-links said so on the console at boot.
    assert "dataport-links: dataport plain: the ivshmem device at 0000:00:10.0 " \
        "has no isles_dataport driver" in vm3.console()
    # In a running guest the same alignment through sysfs and a rescan also
    # works.  ivshmem-plain has neither MSI-X nor INTx: no doorbells.
    vm3.ok("echo 12@pci:1af4:1110 >/sys/bus/pci/resource_alignment && "
           "echo 1 >/sys/bus/pci/devices/0000:00:10.0/remove && "
           "echo 1 >/sys/bus/pci/rescan && dataport-links -q")
    assert vm3.ok("readlink /dev/dataport/plain") == "/dev/uio0\n"
    vm3.ok("echo plain-memory | dataport_write plain 100")
    assert vm3.ok("dataport_read plain 100 13") == "plain-memory\n"
    r = vm3.sh("dataport_wait plain 100")
    assert r.code == 2 and b"the device has no interrupt" in r.err


def test_module_reload(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    data = os.urandom(2000)
    vm0.ok("dataport_write ctl 8192", stdin=data)
    # In use (a waiter holds /dev/uio0): rmmod refuses.
    background(vm1, "dataport_wait ctl 60000", "busy")
    wait_open(vm1, "/dev/uio0")
    r = vm1.sh("rmmod isles_dataport")
    assert r.code != 0 and b"can't unload module 'isles_dataport'" in r.err
    assert "\nisles_dataport " in "\n" + vm1.ok("lsmod")
    vm0.ok("dataport_emit ctl")
    assert finished(vm1, "busy") == (0, "1\n", "")
    for cycle in range(3):
        vm1.ok("rmmod isles_dataport")
        assert vm1.sh("ls /dev/uio*").code != 0
        r = vm1.sh("dataport-links")
        assert r.code == 2
        assert b"dataport ctl: the ivshmem device at 0000:00:10.0 has no " \
            b"isles_dataport driver" in r.err
        assert vm1.ok("ls /dev/dataport") == ""        # stale links removed
        vm1.ok("modprobe isles_dataport")
        assert vm1.ok("dataport-links") == \
            "/dev/dataport/ctl -> /dev/uio0\n/dev/dataport/bulk -> /dev/uio1\n"
    assert vm1.sh("dataport_read ctl 8192 2000").out == data
    assert "MSI" in vm1.ok("grep 'isles-dataport\\[0000:00:10.0\\]' /proc/interrupts")
    line, _ = pingpong(vm1, vm0, "ctl", 100)
    report("ping-pong after 3 reloads: %s" % line)
    line, _ = pingpong(vm0, vm1, "bulk", 100)


def test_peer_gone(rig):
    # Last: vm1 is powered off here.  Ringing a peer that is not connected
    # is dropped by QEMU without a word: emit succeeds, and a wait for an
    # answer ends at its timeout instead of hanging.
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    vm1.kill()
    deadline = time.monotonic() + 30
    while rig["ctl"].connected() != [0]:
        assert time.monotonic() < deadline, "the server did not see vm1 go"
        time.sleep(0.1)
    vm0.ok("dataport_emit ctl vm1")
    t = time.monotonic()
    r = vm0.sh("dataport_emit ctl && dataport_wait ctl 500")
    assert r.code == 1 and b"no doorbell on ctl within 500 ms" in r.err
    assert time.monotonic() - t < 60
    # The memory stays: vm0 still reads what is there.
    assert vm0.sh("dataport_read ctl 4096 4").code == 0
