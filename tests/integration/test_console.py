# SPDX-License-Identifier: BSD-2-Clause
"""The serial console: isles-consoled and its clients, driven from ptys.

A module fixture boots two real guests (Isles' guest image under QEMU,
TCG) and starts isles-consoled on R/console.sock *before* QEMU: consoled
listens on each VM's serial socket and QEMU connects to it (a client
chardev with reconnect=1, as under the supervisor); consoled writes each
R/vm/NAME/console.log through an fd it is given (QEMU has no logfile=).  Clients are `isles console VM` (one VM) and `isles console --all`
(the multiplexer that `isles up` shows in the foreground), run in
pseudo-terminals with pexpect, plus a raw protocol client that never reads
(a stalled terminal).
"""
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pexpect
import pytest

from conftest import System as IslesSystem

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "build" / "image"
# ISLES_TEST_BUILD=build/asan runs the first part with the sanitized builds.
BUILD = REPO / os.environ.get("ISLES_TEST_BUILD", "build")
ISLES = BUILD / "isles"
CONSOLED = BUILD / "isles-consoled"
KERNEL = IMAGE / "vmlinuz"
INITRD = IMAGE / "initrd.img"
VMS = ["vm0", "vm1"]



@pytest.fixture(autouse=True, scope="module")
def prerequisites(built):
    # Missing prerequisites fail the tests: a skipped test proves nothing.
    if not (KERNEL.exists() and INITRD.exists() and CONSOLED.exists()
            and shutil.which("qemu-system-x86_64")):
        pytest.fail("needs build/isles-consoled, the guest image (isles image) and QEMU")

# conproto.h
PROTO_MAGIC = 0x454C5349
CON_LIST, CON_VMS, CON_ATTACH, CON_ATTACHED, CON_OUTPUT, CON_INPUT, \
    CON_WINSIZE, CON_NOTICE, CON_ERROR = range(96, 105)
CON_NOTICE_DROPPED = 1
GREEN, YELLOW = "\x1b[32m", "\x1b[33m"


def frame(ftype, chan=0, payload=b"", flags=0):
    return struct.pack("<IHHII", PROTO_MAGIC, ftype, flags, chan,
                       len(payload)) + payload


def parse_frames(buf):
    """Split bytes into (type, flags, chan, payload) frames, rest."""
    out = []
    while len(buf) >= 16:
        magic, ftype, flags, chan, n = struct.unpack("<IHHII", buf[:16])
        assert magic == PROTO_MAGIC
        if len(buf) < 16 + n:
            break
        out.append((ftype, flags, chan, buf[16:16 + n]))
        buf = buf[16 + n:]
    return out, buf


class System:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="isl.", dir="/tmp"))
        self.run = self.dir / "run"
        self.name = "contest"
        self.r = self.run / self.name
        self.sock = self.r / "console.sock"
        self.procs = []
        self.qemu = {}
        self.env = dict(os.environ, ISLES_RUN_DIR=str(self.run))

    def log(self, vm):
        p = self.r / "vm" / vm / "console.log"
        return p.read_bytes() if p.exists() else b""

    def start(self):
        args = [str(CONSOLED), "--socket", str(self.sock)]
        logs = []
        for vm in VMS:
            (self.r / "vm" / vm).mkdir(parents=True)
            # What the supervisor does (src/supervisor/daemons.c).
            fd = os.open(self.r / "vm" / vm / "console.log",
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
            logs.append(fd)
            args += ["--log", f"{vm}=fd:{fd}"]
        args += [f"{vm}={self.r}/vm/{vm}/serial.sock" for vm in VMS]
        self.consoled = subprocess.Popen(
            args, stderr=open(self.dir / "consoled.log", "wb"),
            pass_fds=logs)
        for fd in logs:
            os.close(fd)
        self.procs.append(self.consoled)
        for vm in VMS:
            self.start_vm(vm)
        deadline = time.time() + 240
        for vm in VMS:
            while f"{vm} login:".encode() not in self.log(vm):
                assert time.time() < deadline, f"{vm} did not boot"
                for p in self.procs:
                    assert p.poll() is None, f"{p.args[0]} exited"
                time.sleep(0.5)

    def start_vm(self, vm):
        d = self.r / "vm" / vm
        self.qemu[vm] = subprocess.Popen([
            "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-kernel", str(KERNEL), "-initrd", str(INITRD),
            "-append", f"console=ttyS0 isles.name={vm} panic=-1",
            "-chardev", f"socket,id=ser0,path={d}/serial.sock,reconnect=1",
            "-serial", "chardev:ser0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(d / "qemu.log", "ab"))
        self.procs.append(self.qemu[vm])

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def spawn(self, *args, **kw):
        return pexpect.spawn(str(ISLES), ["console", *args], env=self.env,
                             timeout=kw.pop("timeout", 30), **kw)


@pytest.fixture(scope="module")
def system():
    if not ISLES.exists():
        pytest.fail("build/isles missing")
    s = System()
    try:
        s.start()
        yield s
    finally:
        s.stop()


def shell(c, colour=b""):
    """Bring the VM with input to a root shell prompt."""
    c.send(b"\r")
    i = c.expect([b"login: ", b"# "])
    if i == 0:
        c.send(b"root\r")
        c.expect(b"assword: ")
        c.send(b"root\r")
        c.expect(b"# ")


def test_viewer_replays_prompt_and_logs_in(system):
    c = system.spawn("vm1")
    # Nothing typed yet: the prompt can only come from the replay ring.
    c.expect(b"console of vm1")
    c.expect(b"vm1 login: ")
    c.send(b"root\r")
    c.expect(b"assword: ")
    c.send(b"root\r")
    c.expect(b"# ")
    c.send(b"hostname\r")
    c.expect(b"\r\nvm1\r\n")
    c.send(b"@d")
    c.expect(b"detached")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0


def test_terminal_restored_after_detach_and_sigterm(system):
    c = system.spawn("vm0")
    c.expect(b"console of vm0")
    # Raw mode while it runs (pty termios read through the master).
    during = termios.tcgetattr(c.child_fd)
    assert during[3] & termios.ICANON == 0 and during[3] & termios.ECHO == 0
    c.send(b"@d")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    # Settings before and after, seen by a shell around the console, which
    # here ends by SIGTERM.
    out = system.dir / "stty"
    sh = pexpect.spawn("/bin/sh", ["-c", f"stty -g > {out}.0; {ISLES} console vm0;"
                       f" stty -g > {out}.1"], env=system.env, timeout=30)
    sh.expect(b"console of vm0")
    pid = int(subprocess.check_output(["pgrep", "-P", str(sh.pid)]).split()[0])
    os.kill(pid, signal.SIGTERM)
    sh.expect(pexpect.EOF)
    sh.close()
    assert Path(f"{out}.0").read_text() == Path(f"{out}.1").read_text()
    c2 = system.spawn("vm0")
    c2.expect(b"console of vm0")
    c2.kill(signal.SIGHUP)
    c2.expect(pexpect.EOF)
    c2.close()
    assert c2.signalstatus is None and c2.exitstatus == 128 + signal.SIGHUP


def test_multiplexer_colours_and_escapes(system):
    c = system.spawn("--all")
    c.expect(b"console of 2 VMs; input goes to 0 \\(vm0\\)")
    # Each VM's prompt (replayed) in its own colour.
    seen = set()
    while len(seen) < 2:
        i = c.expect([re.escape(GREEN.encode()) + rb"[^\x1b]*vm0 login: ",
                      re.escape(YELLOW.encode()) + rb"[^\x1b]*vm1 login: "])
        seen.add(i)
    for n in (0, 1):
        c.send(f"@{n}".encode())
        c.expect(f"Switching input to {n} \\(vm{n}\\)".encode())
        shell(c)
    # @1 then hostname: the second VM answers, in its colour.
    c.send(b"@1")
    c.expect(b"Switching input to 1 \\(vm1\\)")
    c.send(b"hostname\r")
    c.expect(re.escape(YELLOW.encode()) + rb"vm1\x1b\[0m")
    # @@ delivers one '@' to the guest: its shell says "@: not found".
    c.expect(b"# ")
    c.send(b"@@\r")
    c.expect(b"@: not found")
    # @m: one command in both VMs.
    c.send(b"@m0 1m")
    c.expect(b"Switching input to 0 \\(vm0\\), 1 \\(vm1\\)")
    c.send(b"echo MULTI-$(hostname)\r")
    got = set()
    while len(got) < 2:
        got.add(c.expect([re.escape(GREEN.encode()) + b"MULTI-vm0",
                          re.escape(YELLOW.encode()) + b"MULTI-vm1"]))
    # @? shows the help.
    c.send(b"@?")
    c.expect(b"console escapes")
    c.expect(b"@m N N m")
    # An unknown escape is refused and nothing reaches the guest.
    c.send(b"@0")
    c.expect(b"Switching input to 0")
    before = len(system.log("vm0"))
    c.send(b"@x")
    c.expect(b"unknown console command '@x'")
    c.send(b"echo Z$((6*7))\r")
    c.expect(re.escape(GREEN.encode()) + b"Z42")
    time.sleep(0.5)
    after = system.log("vm0")[before:]
    assert b"Z$((6*7))" in after and b"xecho" not in after and b"@x" not in after
    c.send(b"@d")
    c.expect(b"detached")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0


def test_prefix_mode(system):
    c = system.spawn("--all", "--prefix")
    c.expect(rb"\[vm0\] [^\r\n]*vm0 login: ")
    c.expect(rb"\[vm1\] ")
    c.send(b"@d")
    c.expect(pexpect.EOF)
    assert GREEN.encode() not in c.before
    # stdout not a terminal: prefixes automatically, no colour codes.
    p = subprocess.Popen([str(ISLES), "console", "--all"], env=system.env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    time.sleep(2)
    p.terminate()
    out, _ = p.communicate(timeout=10)
    assert b"[vm0] " in out and b"[vm1] " in out
    assert b"\x1b[" not in out


def test_console_finds_system_and_vm(system, tmp_path):
    r = subprocess.run([str(ISLES), "console", "nosuchvm"], env=system.env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "no VM 'nosuchvm'; VMs: 0=vm0 1=vm1" in r.stderr
    r = subprocess.run([str(ISLES), "console", "--system", "other", "vm0"],
                       env=system.env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "system other is not running" in r.stderr
    empty = dict(system.env, ISLES_RUN_DIR=str(tmp_path))
    r = subprocess.run([str(ISLES), "console", "vm0"], env=empty,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no running system" in r.stderr
    # A VM number works as well as its name.
    c = system.spawn("1", "--no-replay")
    c.expect(b"console of vm1;")
    c.send(b"@d")
    c.expect(pexpect.EOF)


def test_several_viewers_and_read_only(system):
    a = system.spawn("vm0", "--no-replay")
    b = system.spawn("vm0", "--no-replay", "--read-only")
    a.expect(b"console of vm0;")
    b.expect(b"console of vm0 \\(read-only\\)")
    shell(a)
    b.send(b"echo RO-$((5*5))\r")      # a read-only viewer never types
    b.expect(b"read-only console: typing is not sent")
    a.send(b"echo TWO-$((1+1))\r")
    a.expect(b"\r\nTWO-2\r\n")
    b.expect(b"\r\nTWO-2\r\n")          # every viewer sees the output
    time.sleep(1)
    assert b"RO-" not in system.log("vm0")
    for c in (a, b):
        c.send(b"@d")
        c.expect(pexpect.EOF)
        c.close()
        assert c.exitstatus == 0


def test_protocol_errors_refused(system):
    def conn():
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(system.sock))
        s.settimeout(10)
        return s

    def frames_until_close(s):
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                return parse_frames(buf)[0]
            buf += d

    s = conn()
    s.sendall(frame(CON_LIST))
    f, _ = parse_frames(s.recv(65536))
    assert f[0][0] == CON_VMS and f[0][3] == b"vm0\0vm1\0"
    # INPUT for a VM this client did not attach to: refused, kept open.
    s.sendall(frame(CON_ATTACH, 0, struct.pack("<I", 1)))
    s.sendall(frame(CON_INPUT, 1, b"echo SNEAK\r"))
    s.sendall(frame(CON_ATTACH, 0, struct.pack("<I", 1 << 5)))
    got = []
    while not any(t == CON_ERROR and b"ATTACH" in p for t, _, _, p in got):
        got += parse_frames(s.recv(65536))[0]
    assert any(t == CON_ERROR and b"not attached" in p for t, _, _, p in got)
    # An unknown type, and garbage: ERROR, then disconnected.
    s.sendall(frame(500))
    assert any(t == CON_ERROR for t, _, _, _ in frames_until_close(s))
    s = conn()
    s.sendall(b"\xff" * 64 + frame(CON_WINSIZE, 9, b"\0\0\0\0"))
    assert any(t == CON_ERROR for t, _, _, _ in frames_until_close(s))
    time.sleep(0.5)
    assert b"SNEAK" not in system.log("vm1")
    assert system.consoled.poll() is None
    s = conn()                         # still serving
    s.sendall(frame(CON_LIST))
    assert parse_frames(s.recv(65536))[0][0][0] == CON_VMS


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class StalledClient:
    """Attaches to every VM and does not read until told to."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.connect(str(path))
        self.s.sendall(frame(CON_ATTACH, 0, struct.pack("<I", 3)))

    def drain(self, quiet=2.0):
        buf = b""
        frames = []
        self.s.setblocking(False)
        last = time.time()
        while time.time() - last < quiet:
            r, _, _ = select.select([self.s], [], [], 0.2)
            if r:
                d = self.s.recv(1 << 16)
                if not d:
                    break
                buf += d
                last = time.time()
                f, buf = parse_frames(buf)
                frames += f
        return frames


def test_flood_does_not_stall_others(system):
    mux = system.spawn("--all", "--no-replay", timeout=60)
    mux.expect(b"console of 2 VMs")
    for n in (1, 0):
        mux.send(f"@{n}".encode())
        mux.expect(b"Switching input")
        shell(mux)
    viewer = system.spawn("vm0", "--no-replay", timeout=60)
    viewer.expect(b"console of vm0")
    viewer.kill(signal.SIGSTOP)            # a stopped terminal
    stalled = StalledClient(system.sock)
    log0 = len(system.log("vm0"))
    cpu0 = cpu_seconds(system.consoled.pid)
    t_start = time.time()

    # vm0 prints as fast as its serial port goes for 25 s (about 30 KB/s
    # under TCG here, far more than the 32 KiB + queue bound of a client).
    mux.send(b"timeout 25 yes; echo FLOOD-END\r")
    time.sleep(3)
    mux.send(b"@1")
    mux.expect(b"Switching input to 1")
    t0 = time.time()
    mux.send(b"echo ALIVE-$((3+4))\r")
    mux.expect(re.escape(YELLOW.encode()) + b"ALIVE-7")
    latency = time.time() - t0
    print(f"vm1 answered in {latency:.2f} s during vm0's flood")
    assert latency < 10
    mux.expect(re.escape(GREEN.encode()) + b"FLOOD-END", timeout=90)

    cpu = cpu_seconds(system.consoled.pid) - cpu0
    grown = len(system.log("vm0")) - log0
    print(f"vm0 printed {grown} bytes in {time.time() - t_start:.1f} s; "
          f"isles-consoled used {cpu:.2f} s of CPU meanwhile")
    frames = stalled.drain()
    dropped = sum(struct.unpack("<IIQ", p)[2] for t, _, ch, p in frames
                  if t == CON_NOTICE and ch == 0 and
                  struct.unpack("<IIQ", p)[0] == CON_NOTICE_DROPPED)
    received = sum(len(p) for t, _, ch, p in frames
                   if t == CON_OUTPUT and ch == 0)
    print(f"stalled client: {received} bytes received, {dropped} dropped")
    assert dropped > 0
    # The log kept everything the stalled client was sent or lost.
    time.sleep(1)
    assert len(system.log("vm0")) - log0 >= received + dropped

    viewer.kill(signal.SIGCONT)
    viewer.expect(b"bytes of output dropped", timeout=30)
    viewer.send(b"@d")
    viewer.expect(pexpect.EOF, timeout=60)
    mux.send(b"@d")
    mux.expect(pexpect.EOF, timeout=60)
    assert system.consoled.poll() is None


def test_vm_restart_reconnects(system):
    """QEMU of vm1 dies and comes back: consoled notices, and takes the new
    QEMU's connection."""
    mux = system.spawn("--all", "--no-replay", timeout=240)
    mux.expect(b"console of 2 VMs")
    q = system.qemu["vm1"]
    q.kill()
    q.wait()
    mux.expect(b"vm1: serial port closed")
    mux.send(b"@1")
    mux.send(b"\r")
    mux.expect(b"vm1: serial port not connected")
    time.sleep(1.5)                    # consoled waits while QEMU is away
    system.start_vm("vm1")
    mux.expect(b"vm1: serial port back")
    mux.expect(re.escape(YELLOW.encode()) + rb"[^\x1b]*vm1 login: ")
    mux.send(b"@d")
    mux.expect(pexpect.EOF)
    assert system.consoled.poll() is None


# ---- the foreground console of `isles up` -----------------------------------

FG_CONF = """
name = "fg";
vms = (
  { name = "vm0"; memory = "256M"; },
  { name = "vm1"; memory = "160M"; }
);
"""


def test_foreground_console_of_isles_up():
    with IslesSystem.create(FG_CONF, name="fg") as s:
        s.upped = True                  # teardown runs isles down
        stty = s.base / "stty"
        c = pexpect.spawn("/bin/sh", ["-c", f"stty -g > {stty}.0; {ISLES} up "
                          f"{s.conf}; echo UP-EXIT=$?; stty -g > {stty}.1"],
                          env=s.env, timeout=300)
        c.expect(b"console of 2 VMs; input goes to 0 \\(vm0\\)")
        seen = set()
        while len(seen) < 2:
            seen.add(c.expect([
                re.escape(GREEN.encode()) + rb"[^\x1b]*vm0 login: ",
                re.escape(YELLOW.encode()) + rb"[^\x1b]*vm1 login: "]))
        c.send(b"@1")
        c.expect(b"Switching input to 1 \\(vm1\\)")
        shell(c)
        c.send(b"hostname\r")
        c.expect(re.escape(YELLOW.encode()) + rb"vm1\x1b\[0m")
        c.expect(b"# ")
        c.send(b"@?")
        c.expect(b"@q +quit: leave the console and shut the system down")
        before = len(s.log("vm/vm1/console.log"))
        c.send(b"@z")
        c.expect(b"unknown console command '@z'")
        c.send(b"echo Q$((2*21))\r")
        c.expect(re.escape(YELLOW.encode()) + b"Q42")
        assert "zecho" not in s.log("vm/vm1/console.log")[before:]
        # @q leaves the console and shuts the system down.
        c.send(b"@q")
        c.expect(b"system fg is down", timeout=120)
        c.expect(b"UP-EXIT=0")
        c.expect(pexpect.EOF)
        assert Path(f"{stty}.0").read_text() == Path(f"{stty}.1").read_text()
        assert not s.procs()


HUP_CONF = """
name = "hup";
vms = ( { name = "vm0"; memory = "160M"; } );
"""


def test_foreground_terminal_hangup_stops_the_system():
    """The terminal of a foreground `isles up` goes away (window closed,
    ssh dropped) under a session leader that ignores SIGHUP (nohup, a
    script's trap): the kernel's SIGHUP reaches only that leader, which
    lives on, so no signal reaches isles; it sees its raw terminal hang
    up, and stops the system rather than leave it running unattended."""
    with IslesSystem.create(HUP_CONF, name="hup") as s:
        s.upped = True
        c = pexpect.spawn("/bin/sh", ["-c", f"trap '' HUP; {ISLES} up "
                          f"{s.conf}; echo X"], env=s.env, timeout=300)
        c.expect(b"console of 1 VM")
        c.expect(b"vm0 login: ")
        assert s.procs()
        c.ptyproc.fileobj.close()       # the terminal goes; no signal sent
        deadline = time.time() + 120
        while s.procs() and time.time() < deadline:
            time.sleep(0.5)
        assert not s.procs(), "the system kept running without a terminal"


def test_foreground_detach_then_isles_console():
    with IslesSystem.create(FG_CONF, name="fg") as s:
        s.upped = True
        c = pexpect.spawn(str(ISLES), ["up", str(s.conf)], env=s.env,
                          timeout=300)
        c.expect(b"console of 2 VMs")
        c.expect(b"vm0 login: ")
        c.send(b"@d")
        c.expect(b"detached")
        c.expect(pexpect.EOF)
        c.close()
        assert c.exitstatus == 0
        assert s.vm("vm0")["state"] == "ready"
        # From another pty: the prompt is replayed, and root/root logs in.
        v = pexpect.spawn(str(ISLES), ["console", "--system", "fg", "vm0"],
                          env=s.env, timeout=60)
        v.expect(b"vm0 login: ")
        v.send(b"root\r")
        v.expect(b"assword: ")
        v.send(b"root\r")
        v.expect(b"# ")
        v.send(b"cat /proc/sys/kernel/hostname\r")
        v.expect(b"\r\nvm0\r\n")
        v.send(b"@q")                   # a viewer only detaches
        v.expect(b"detached")
        v.expect(pexpect.EOF)
        v.close()
        assert v.exitstatus == 0
        assert s.vm("vm1")["state"] == "ready"


# ---- console.log is capped ------------------------------------------------

CAP = 128 * 1024
CAP_CONF = """
name = "cap";
console_log_max = "128K";
vms = ( { name = "vm0"; } );
"""


def test_console_log_capped(make_system):
    """A guest prints about 8 times console_log_max while no console client
    is attached: console.log never exceeds the cap, starts at a line and
    ends with the newest output; isles-consoled (seccomp on) survives."""
    s = make_system(CAP_CONF, name="cap")
    s.up()
    log = s.r / "vm" / "vm0" / "console.log"
    # Written by isles-consoled from the first line on, with no client.
    assert b"Linux version" in log.read_bytes()
    # 90909 whole lines of "0123456789", then a marker, on the serial port.
    rc, out, err = s.exec("vm0", "sh", "-c",
                          "yes 0123456789 | head -c 999999 > /dev/ttyS0; "
                          "echo CAP-END-$((6*7)) > /dev/ttyS0", limit=600)
    assert rc == 0, err
    deadline = time.time() + 300
    biggest = 0
    while True:
        data = log.read_bytes()
        biggest = max(biggest, len(data))
        if b"CAP-END-42" in data:
            break
        assert time.time() < deadline, f"marker not logged; {len(data)} bytes"
        time.sleep(0.2)
    print(f"console.log: {len(data)} bytes at the end, at most {biggest} "
          f"seen, cap {CAP}")
    assert biggest <= CAP
    assert len(data) >= CAP // 4
    # The newest output is last: nothing of the flood after the marker.
    tail = data[data.index(b"CAP-END-42"):]
    assert b"0123456789" not in tail and len(tail) < 4096
    # The kept part starts at a line: the flood's lines, whole.
    assert data.startswith(b"0123456789\r\n")
    assert data.count(b"0123456789\r\n") * 12 >= 0.9 * (len(data) - len(tail))
    d = next(d for d in s.status()["daemons"] if d["name"] == "consoled")
    assert d["state"] == "running" and d["restarts"] == 0


def test_console_log_complete_across_vm_restart(make_system):
    """isles-consoled is stopped (as if slow) while a VM restarts: the new
    QEMU connects to the serial socket the supervisor bound (its
    connection waits in the backlog) and the guest's first output waits in
    the socket until consoled, continued, accepts it: console.log has the
    second boot from its first line."""
    s = make_system('vms = ( { name = "vm0"; } );\n', name="relog")
    s.up()
    log = s.r / "vm" / "vm0" / "console.log"
    assert log.read_bytes().count(b"Linux version") == 1
    cpid = next(d for d in s.status()["daemons"]
                if d["name"] == "consoled")["pid"]
    old = s.vm("vm0")["pid"]
    os.kill(cpid, signal.SIGSTOP)
    try:
        r = subprocess.Popen([str(ISLES), "restart", "--system", "relog",
                              "vm0"], env=s.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Until the new QEMU runs, and a little longer: its guest starts
        # while nobody reads its serial port.
        deadline = time.time() + 120
        while time.time() < deadline:
            v = s.vm("vm0")
            if v["pid"] not in (0, old):
                break
            time.sleep(0.1)
        time.sleep(1)
    finally:
        os.kill(cpid, signal.SIGCONT)
    out, err = r.communicate(timeout=300)
    assert r.returncode == 0, err
    deadline = time.time() + 30
    while log.read_bytes().count(b"Linux version") < 2 and \
            time.time() < deadline:
        time.sleep(0.2)
    boots = log.read_bytes().count(b"Linux version")
    assert boots == 2, f"{boots} boot(s) in console.log, want 2"
