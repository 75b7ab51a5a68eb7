# SPDX-License-Identifier: BSD-2-Clause
"""The guest image and the guest agent, without the supervisor.

Builds the image with `build/isles image`, boots one VM with QEMU directly
(the same command line the supervisor uses, plus a scratch virtio-blk disk)
and checks what a user relies on: the serial login as root/root with the
VM's name in the prompt, the agent's protocol (HELLO, exec with stdout,
stderr, exit codes, stdin, KILL, the session limit, reconnection), no busy
loop while no host is connected, ext4 tools on a virtio disk, and power-off
on the ACPI power button (QMP system_powerdown).

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_image.py
(-s shows the measured build and boot times).
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pexpect
import pexpect.fdpexpect
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from agentclient import AgentClient, ERROR, EXEC, EXIT, KILL, STDOUT  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISLES = os.environ.get("ISLES_BIN", os.path.join(ROOT, "build", "isles"))
VM_NAME = "t0"


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


def next_of(agent, ftype, timeout=20):
    """The next frame of type ftype (others are skipped): (chan, payload)."""
    deadline = time.monotonic() + timeout
    while True:
        t, _, chan, payload = agent.recv(max(0.0, deadline - time.monotonic()))
        if t == ftype:
            return chan, payload


@pytest.fixture(scope="module")
def image():
    """Build the image (if needed), then time a rebuild with nothing changed."""
    if not os.access(ISLES, os.X_OK):
        pytest.fail("build/isles is not built: run make")
    t = time.monotonic()
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=900)
    first = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    kernel, initrd = lines["kernel"], lines["initrd"]
    assert os.path.isabs(kernel) and os.path.getsize(kernel) > 1 << 20
    assert os.path.isabs(initrd) and os.path.getsize(initrd) > 1 << 20

    t = time.monotonic()
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=60)
    again = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    report("isles image: first call %.2f s, again with nothing changed %.3f s, "
           "initrd.img %d KiB" % (first, again, os.path.getsize(initrd) // 1024))
    return kernel, initrd


class VM:
    def __init__(self, kernel, initrd):
        self.dir = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
        self.disk = os.path.join(self.dir, "disk.img")
        with open(self.disk, "wb") as f:
            f.truncate(64 << 20)
        d = self.dir
        self.cmd = [
            "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-numa", "node,memdev=mem",
            "-kernel", kernel, "-initrd", initrd,
            # no_timer_check: under TCG on a busy host the kernel's IO-APIC
            # timer check can fail and panic (seen here after a reboot).
            "-append", "console=ttyS0 isles.name=%s panic=-1 no_timer_check" % VM_NAME,
            "-chardev", "socket,id=ser0,path=%s/serial.sock,server=on,wait=off,"
            "logfile=%s/console.log" % (d, d),
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci",
            "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % d,
            "-device", "virtserialport,chardev=agent,name=org.isles.agent",
            "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % d,
            "-drive", "file=%s,if=none,id=d0,format=raw" % self.disk,
            "-device", "virtio-blk-pci,drive=d0",
            # A NIC with QEMU's own DHCP server, cut off from the host.
            "-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-pci,netdev=n0",
        ]
        self.log = open(os.path.join(d, "qemu.log"), "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def path(self, name):
        return os.path.join(self.dir, name)

    def agent(self, timeout=90):
        c = AgentClient.connect(self.path("agent.sock"), timeout=30)
        version, host = c.hello(timeout=timeout)
        return c, version, host

    def cpu_ticks(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])   # utime + stime

    def qmp(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path("qmp.sock"))
        f = s.makefile("rwb")
        json.loads(f.readline())
        self.qmp_cmd(f, "qmp_capabilities")
        return s, f

    @staticmethod
    def qmp_cmd(f, name):
        f.write(json.dumps({"execute": name}).encode() + b"\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                return msg

    def console_tail(self, lines=40):
        try:
            with open(self.path("console.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def vm(image):
    v = VM(*image)
    try:
        c, version, host = v.agent()
        report("boot to agent ready (HELLO_ACK): %.1f s" % (time.monotonic() - v.started))
        c.close()
        yield v
    finally:
        v.kill()


@pytest.fixture
def agent(vm):
    c, _, _ = vm.agent(timeout=30)
    yield c
    c.close()


def test_rebuild_is_fast(image):
    t = time.monotonic()
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t < 2.0
    assert r.stderr == ""   # nothing to report: nothing was rebuilt


def test_hello_names_the_vm(vm):
    c, version, host = vm.agent()
    c.close()
    assert version.startswith("isles-agent")
    assert host == VM_NAME


def test_exec_uname(agent):
    r = agent.run(["uname", "-m"])
    assert (r.code, r.signal, r.out, r.err) == (0, 0, b"x86_64\n", b"")


def test_exec_stderr_and_exit_code(agent):
    r = agent.run(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert r.code == 3 and r.signal == 0
    assert r.out == b"to-out\n"
    assert r.err == b"to-err\n"


def test_exec_environment(agent):
    r = agent.run(["sh", "-c", 'echo "$PATH $HOME $TERM $(pwd) $(hostname)"'])
    assert r.out == b"/usr/sbin:/usr/bin:/sbin:/bin /root dumb / %s\n" % VM_NAME.encode()


def test_exec_missing_command(agent):
    r = agent.run(["no-such-command-here"])
    assert r.code == 127
    assert b"no-such-command-here" in r.err and b"not found" in r.err
    r = agent.run(["/etc/passwd"])      # not executable
    assert r.code == 126


def test_exec_stdin(agent):
    data = os.urandom(300 * 1024)       # more than one frame, more than a pipe
    r = agent.run(["sha256sum"], stdin=data)
    assert r.code == 0
    assert r.out.split()[0].decode() == hashlib.sha256(data).hexdigest()
    r = agent.run(["cat"], stdin=data)
    assert r.out == data


def test_stdin_not_read_does_not_wedge_the_agent(agent):
    # More stdin than the agent buffers, for commands that read none or a
    # little of it: they end normally and the agent keeps answering.
    big = b"x" * (1024 * 1024)
    r = agent.run(["true"], stdin=big)
    assert r.code == 0
    r = agent.run(["head", "-c", "10"], stdin=big)
    assert (r.code, r.out) == (0, b"x" * 10)
    assert agent.ping(b"after") == b"after"


def test_large_output_on_both_streams(agent):
    r = agent.run(["sh", "-c", "head -c 3000000 /dev/zero; head -c 1000000 /dev/zero >&2"])
    assert r.code == 0
    assert len(r.out) == 3000000 and len(r.err) == 1000000


def test_concurrent_sessions_keep_their_output_apart(agent):
    script = 'i=0; while [ $i -lt 2000 ]; do echo %s$i; i=$((i+1)); done'
    chans = {agent.start(["sh", "-c", script % tag]): tag for tag in ("a", "b", "c")}
    outs = {c: [] for c in chans}
    pending = set(chans)
    while pending:
        ftype, _, c, payload = agent.recv(60)
        if ftype == STDOUT:
            outs[c].append(payload)
        elif ftype == EXIT:
            assert struct.unpack("<ii", payload) == (0, 0)
            pending.discard(c)
    for c, tag in chans.items():
        expect = "".join("%s%d\n" % (tag, i) for i in range(2000)).encode()
        assert b"".join(outs[c]) == expect


def test_exec_without_stdin_reads_dev_null(agent):
    r = agent.run(["cat"])
    assert (r.code, r.out) == (0, b"")


def test_kill_ends_sleep(agent):
    chan = agent.start(["sleep", "100"])
    time.sleep(0.5)
    t = time.monotonic()
    agent.kill(chan, signal.SIGTERM)
    r = agent.wait(chan, timeout=10)
    assert time.monotonic() - t < 10
    assert r.code == -1 and r.signal == signal.SIGTERM


def test_kill_reaches_the_process_group(agent):
    chan = agent.start(["sh", "-c", "sleep 101 & sleep 102; echo not-reached"])
    time.sleep(0.5)
    agent.kill(chan, signal.SIGKILL)
    r = agent.wait(chan, timeout=10)
    assert r.signal == signal.SIGKILL and b"not-reached" not in r.out
    ps = agent.run(["ps"]).out
    assert b"sleep 101" not in ps and b"sleep 102" not in ps


def test_concurrent_sessions_and_limit(agent):
    chans = [agent.start(["sleep", "100"]) for _ in range(32)]
    extra = agent.start(["true"])
    chan, payload = next_of(agent, ERROR)
    assert chan == extra and b"too many" in payload
    for c in chans:
        agent.kill(c, signal.SIGKILL)
    pending = set(chans)
    while pending:
        c, payload = next_of(agent, EXIT)
        assert struct.unpack("<ii", payload) == (-1, signal.SIGKILL)
        pending.discard(c)
    assert agent.run(["echo", "ok"]).out == b"ok\n"


def test_malformed_frames_are_rejected(agent):
    agent.send(EXEC, chan=0, payload=b"true\0")         # channel 0
    assert next_of(agent, ERROR)[0] == 0
    agent.send(EXEC, chan=77, payload=b"no-terminator")  # argv not NUL-terminated
    assert next_of(agent, ERROR)[0] == 77
    agent.send(EXEC, chan=78, payload=b"\0")            # empty argv[0]
    assert next_of(agent, ERROR)[0] == 78
    # Frames that are not EXECs are answered on channel 0, so that a
    # live session is not mistaken for a failed one.
    agent.send(KILL, chan=79, payload=b"\x01")          # short KILL
    chan, text = next_of(agent, ERROR)
    assert chan == 0 and b"79" in text
    agent.send(200, chan=80, payload=b"")               # unknown type
    chan, text = next_of(agent, ERROR)
    assert chan == 0 and b"unknown" in text
    agent.sock.sendall(b"garbage that is not a frame" * 10)
    assert agent.ping(b"still-alive") == b"still-alive"


def test_disconnect_kills_sessions_and_reconnect_works(vm):
    c, _, _ = vm.agent()
    c.start(["sleep", "1234"])
    c.run(["true"])                     # the sleep has started
    c.close()
    time.sleep(1)
    c, _, host = vm.agent()
    try:
        assert host == VM_NAME
        assert b"sleep 1234" not in c.run(["ps"]).out
    finally:
        c.close()


def test_no_busy_loop_without_host(vm):
    # Nobody is connected to agent.sock now: the guest must stay idle.
    time.sleep(1)
    a = vm.cpu_ticks()
    time.sleep(5)
    used = (vm.cpu_ticks() - a) / os.sysconf("SC_CLK_TCK")
    report("QEMU CPU with no host on the agent port: %.2f s in 5 s" % used)
    assert used < 1.5       # a spinning agent costs a whole core (5 s)


def test_ext4_on_virtio_disk(agent):
    r = agent.run(["sh", "-c", "mkfs.ext4 -q /dev/vda && mount /dev/vda /mnt && "
                   "echo hello > /mnt/f && umount /mnt && e2fsck -fn /dev/vda"])
    assert r.code == 0, r.err
    r = agent.run(["sh", "-c", "mount /dev/vda /mnt && cat /mnt/f; umount /mnt"])
    assert r.out == b"hello\n"


def test_network_dhcp_and_hosts(agent):
    r = agent.run(["udhcpc", "-i", "eth0", "-n", "-q", "-t", "5"], timeout=60)
    assert r.code == 0, r.err
    assert b"inet addr:10.0.2.15" in agent.run(["ifconfig", "eth0"]).out
    # QEMU's restricted DHCP offers no router or DNS: apply a lease that has
    # them the way udhcpc does, through its hook's environment.
    r = agent.run(["env", "interface=eth0", "ip=10.0.2.16", "subnet=255.255.255.0",
                   "router=10.0.2.2", "dns=10.0.2.3 10.0.2.4", "domain=isles.test",
                   "/etc/udhcpc/default.script", "bound"])
    assert r.code == 0, r.err
    assert b"inet addr:10.0.2.16" in agent.run(["ifconfig", "eth0"]).out
    routes = agent.run(["route", "-n"]).out
    assert any(l.split()[:2] == [b"0.0.0.0", b"10.0.2.2"] for l in routes.splitlines())
    assert agent.run(["cat", "/etc/resolv.conf"]).out == \
        b"search isles.test\nnameserver 10.0.2.3\nnameserver 10.0.2.4\n"
    r = agent.run(["ping", "-c", "1", "-W", "5", VM_NAME])     # /etc/hosts
    assert r.code == 0 and b"127.0.1.1" in r.out


def test_modules_for_isles_devices(agent):
    # Present devices got their drivers at boot; the others are in the image.
    lsmod = agent.run(["lsmod"]).out
    for m in (b"virtio_pci", b"virtio_console", b"virtio_blk", b"virtio_net", b"button"):
        assert b"\n" + m + b" " in lsmod
    wanted = ["vsock", "vmw_vsock_virtio_transport", "uio", "uio_pci_generic",
              "virtio_net", "ext4", "crc32c_generic"]
    r = agent.run(["modprobe", "-a"] + wanted)
    assert r.code == 0, r.err
    lsmod = agent.run(["lsmod"]).out
    for m in wanted:
        assert b"\n" + m.encode() + b" " in lsmod


def test_iperf3_in_the_guest(agent):
    # The host's iperf3 with its shared libraries (libiperf, libcrypto,
    # libsctp) and the loader: it must start and move data over loopback.
    r = agent.run(["iperf3", "--version"])
    assert r.code == 0, r.err
    assert r.out.startswith(b"iperf 3."), r.out
    # One-off server in the background; the client retries until it listens.
    r = agent.run(["sh", "-c", "iperf3 -s -1 -B 127.0.0.1 >/dev/null 2>&1 & "
                   "for i in 1 2 3 4 5 6 7 8 9 10; do "
                   "iperf3 -c 127.0.0.1 -t 1 -J >/tmp/ip.json && "
                   "{ cat /tmp/ip.json; wait; exit 0; }; sleep 0.5; done; exit 1"],
                  timeout=60)
    assert r.code == 0, r.err
    end = json.loads(r.out)["end"]
    assert end["sum_received"]["bytes"] > 0


def test_serial_login_while_agent_runs_commands(vm):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(vm.path("serial.sock"))
    con = pexpect.fdpexpect.fdspawn(s.fileno(), timeout=30)
    try:
        con.send(b"\r")
        con.expect(b"%s login: " % VM_NAME.encode())
        con.send(b"root\r")
        con.expect(b"Password: ")
        con.send(b"root\r")
        con.expect(b"root@%s:" % VM_NAME.encode())
        con.send(b"echo $((6*7))\r")
        con.expect(b"42")
        # The agent works while someone uses the console.
        c, _, _ = vm.agent()
        try:
            assert c.run(["sh", "-c", "ps | grep -c '[-]sh'"]).out.strip() != b"0"
        finally:
            c.close()
        con.send(b"echo still-here\r")
        con.expect(b"still-here")
        con.send(b"exit\r")
        con.expect(b"login: ")
    finally:
        s.close()


def test_reboot_from_guest(vm):
    c, _, _ = vm.agent()
    boot_id = c.run(["cat", "/proc/sys/kernel/random/boot_id"]).out
    # Wait for reboot(8) to return: closing the connection kills sessions.
    assert c.wait(c.start(["reboot"]), timeout=30).code == 0
    c.close()
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, \
            "the VM did not come back; console:\n" + vm.console_tail()
        assert vm.proc.poll() is None, "QEMU exited instead of rebooting"
        try:
            c, _, host = vm.agent(timeout=10)
            try:
                now = c.run(["cat", "/proc/sys/kernel/random/boot_id"],
                            timeout=10).out
            finally:
                c.close()
        except (OSError, TimeoutError):
            continue
        if now and now != boot_id:
            assert host == VM_NAME
            break
        time.sleep(1)


def test_powerdown_over_qmp(vm):
    # Last: the VM is gone afterwards.
    s, f = vm.qmp()
    try:
        t = time.monotonic()
        assert "return" in vm.qmp_cmd(f, "system_powerdown")
        vm.proc.wait(30)
        report("system_powerdown to QEMU exit: %.1f s" % (time.monotonic() - t))
        assert vm.proc.returncode == 0
    finally:
        s.close()


def test_bzimage_kernel_boots(image):
    # The default is the uncompressed kernel (PVH); ISLES_PVH=0 selects the
    # compressed bzImage, which must boot the same image.
    assert image[0].endswith("/vmlinux")
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, ISLES_PVH="0"))
    assert r.returncode == 0, r.stderr
    kernel = dict(l.split(" ", 1) for l in r.stdout.splitlines())["kernel"]
    assert kernel.endswith("/vmlinuz")
    with open(kernel, "rb") as f:
        assert f.read(4) != b"\x7fELF"
    release = open(os.path.join(os.path.dirname(kernel), "kernel.release")).read().strip()
    v = VM(kernel, image[1])
    try:
        c, _, host = v.agent()
        report("bzImage kernel: boot to agent ready %.1f s" % (time.monotonic() - v.started))
        try:
            assert host == VM_NAME
            assert c.run(["uname", "-r"]).out.decode().strip() == release
        finally:
            c.close()
        s, f = v.qmp()
        try:
            assert "return" in v.qmp_cmd(f, "system_powerdown")
            v.proc.wait(30)
        finally:
            s.close()
    finally:
        v.kill()
