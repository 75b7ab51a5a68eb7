# SPDX-License-Identifier: BSD-2-Clause
"""The system file is the whole policy (docs/architecture.md, "Lock-down"):
a running system with every kind of daemon, each checked from /proc
against what the file grants it.

    disks      d0 (vm0's), d1 (vm1's): one isles-diskd each
    switches   lan (vm0, vm1), wan (vm0 and an uplink TAP)
    dataport   ctl (vm0, vm1)
    consoles   link0 (vm0, vm1)        vsock   vm0 cid 3, vm1 cid 4

For every child of the supervisor: /proc/PID/status of every thread
(Seccomp 2, NoNewPrivs 1; the daemons run as the user isles, QEMU as
root under its own -sandbox), and /proc/PID/fd: each fd of a daemon is one
the file grants it (its log, its disk, its sockets and the connections
QEMU made to them, its VMs' guest memory, its dataport, the TAP of its
uplink) or a private kernel object of its event loop; nothing of another
disk, switch, VM or daemon.  The supervisor itself runs under its filter.
Then: a system call outside a daemon's list (made from outside with ptrace)
ends a daemon whose filter kills, and the supervisor reports and restarts
it; in a daemon whose filter refuses with EPERM, socket() fails and the
daemon serves on.  Without the system: every daemon started by hand
closes an fd it was not given.

Needs root and the user isles (`make deps` creates it).
"""

import errno
import os
import pwd
import re
import signal
import subprocess
import time

import pytest

import inject
from conftest import ROOT, System, proc_status, sanitizer_build, wait_for

BUILD = ROOT / os.environ.get("ISLES_TEST_BUILD", "build")
MIB = 1 << 20
TAG = "%d" % (os.getpid() % 100000)
TAP = f"isllk{TAG}"

CONF = """
name = "lock";
accel = "tcg";
disks = (
  {{ name = "d0"; path = "{base}/d0.img"; size = "8M";
     partitions = ( {{ size = "4M"; }} ); }},
  {{ name = "d1"; path = "{base}/d1.img"; size = "8M";
     partitions = ( {{ size = "4M"; }} ); }}
);
switches = ( {{ name = "lan"; }}, {{ name = "wan"; uplink = "{tap}"; }} );
dataports = ( {{ name = "ctl"; size = "64K"; vms = [ "vm0", "vm1" ]; }} );
consoles = ( {{ name = "link0"; vms = [ "vm0", "vm1" ]; }} );
vsock = ( {{ client = "vm1"; server = "vm0"; port = 1234; }} );
vms = (
  {{ name = "vm0"; memory = "192M"; cid = 3;
     disks = ( {{ disk = "d0"; partitions = [ 1 ]; }} );
     nics = ( {{ switch = "lan"; }}, {{ switch = "wan"; }} ); }},
  {{ name = "vm1"; memory = "192M"; cid = 4;
     disks = ( {{ disk = "d1"; partitions = [ 1 ]; }} );
     nics = ( {{ switch = "lan"; }} ); }}
);
"""

# What the file grants each daemon, relative to the run dir R: files
# (besides /dev/null and its own log), the paths of its listening
# sockets (and of the connections accepted on them), and the VMs it
# serves over vhost-user: it may hold their guest memory and the
# back-end channels (socketpairs) their QEMUs give it, no other VM's.
# "disk:NAME" is disk NAME's image.
GRANTS = {
    "consoled": {
        "log": "consoled.log",
        "files": ["vm/vm0/console.log", "vm/vm1/console.log"],
        "sockets": ["console.sock", "vm/vm0/serial.sock",
                    "vm/vm1/serial.sock"],
        "vms": [],
    },
    "diskd:d0": {
        "log": "disk/d0/diskd.log", "files": ["disk:d0"],
        "sockets": ["disk/d0/vm0.sock"], "vms": ["vm0"],
    },
    "diskd:d1": {
        "log": "disk/d1/diskd.log", "files": ["disk:d1"],
        "sockets": ["disk/d1/vm1.sock"], "vms": ["vm1"],
    },
    "switchd:lan": {
        "log": "switch/lan/switchd.log", "files": [],
        "sockets": ["switch/lan/stats.sock", "switch/lan/vm0.0.sock",
                    "switch/lan/vm1.0.sock"],
        "vms": ["vm0", "vm1"],
    },
    "switchd:wan": {
        "log": "switch/wan/switchd.log", "files": ["tap"],
        "sockets": ["switch/wan/stats.sock", "switch/wan/vm0.1.sock"],
        "vms": ["vm0"],
    },
    "dataportd:ctl": {
        "log": "dataport/ctl/dataportd.log", "files": ["dataport:ctl"],
        "sockets": ["dataport/ctl/vm0.sock", "dataport/ctl/vm1.sock"],
        "vms": [],
    },
    "linkd": {
        "log": "link/linkd.log", "files": [],
        "sockets": ["link/stats.sock", "link/link0/vm0.sock",
                    "link/link0/vm1.sock"],
        "vms": [],
    },
    "vsockd": {
        "log": "vsock/vsockd.log", "files": [],
        "sockets": ["vsock/stats.sock", "vsock/vm0.sock", "vsock/vm1.sock"],
        "vms": ["vm0", "vm1"],
    },
}

# Kernel objects a daemon makes for itself (its event loop, its rings):
# private, they name nothing of the system.
OWN_OBJECTS = {"anon_inode:[eventfd]", "anon_inode:[eventpoll]",
               "anon_inode:[signalfd]", "anon_inode:[timerfd]",
               "anon_inode:[io_uring]"}


@pytest.fixture(scope="module")
def lock(built):
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    try:
        pwd.getpwnam("isles")
    except KeyError:
        missing.append("the user isles (make deps)")
    if missing:
        pytest.fail("needs " + ", ".join(missing))
    s = System.create("", name="lock")
    s.conf.write_text(CONF.format(base=s.base, tap=TAP))
    with s:
        s.up()
        yield s


def children_of(pid):
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == pid:
            out.add(int(d))
    return out


def unix_sockets():
    """{inode: (bound path or None, peer inode)} of every Unix socket of
    the host, from ss (an accepted connection shows its listening
    socket's path; a socketpair end, none)."""
    r = subprocess.run(["ss", "-xan"], capture_output=True, text=True,
                       check=True)
    out = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if len(f) >= 8 and f[5].isdigit():
            out[int(f[5])] = (None if f[4] == "*" else f[4],
                              int(f[7]) if f[7].isdigit() else 0)
    return out


def socket_inodes(pid):
    return {int(t[8:-1]) for t, _, _ in fds(pid).values()
            if t.startswith("socket:[")}


def fds(pid):
    """{fd: (link target, st_ino, fdinfo text)} of PID."""
    out = {}
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{n}")
            ino = os.stat(f"/proc/{pid}/fd/{n}").st_ino
            with open(f"/proc/{pid}/fdinfo/{n}") as f:
                info = f.read()
        except OSError:
            continue                    # closed meanwhile
        out[int(n)] = (target, ino, info)
    return out


def memfd_inodes(pid):
    """Inodes of the memfds (guest RAM, dataports) PID holds."""
    return {ino for t, ino, _ in fds(pid).values() if t.startswith("/memfd:")}


def test_every_child_is_locked_down(lock):
    """Seccomp filter and no_new_privs in every thread of every child and
    of the supervisor; daemons not root, QEMU under its -sandbox."""
    st = lock.status()
    daemons = {d["name"]: d for d in st["daemons"]}
    assert set(daemons) == set(GRANTS), sorted(daemons)
    sup = int((lock.r / "supervisor.pid").read_text())
    vm_pids = {v["pid"] for v in st["vms"]}
    daemon_pids = {d["pid"] for d in daemons.values()}
    # Every child of the supervisor is one of these: nothing unchecked.
    assert children_of(sup) == vm_pids | daemon_pids
    isles = pwd.getpwnam("isles")
    san = sanitizer_build(sup)
    seccomp = "0" if san else "2"
    for tid, f in proc_status(sup).items():
        assert (f["NoNewPrivs"], f["Seccomp"]) == ("1", seccomp), \
            ("supervisor", tid, f["NoNewPrivs"], f["Seccomp"])
    for name, d in sorted(daemons.items()):
        assert d["state"] == "running" and d["pid"] > 0, d
        for tid, f in proc_status(d["pid"]).items():
            assert f["NoNewPrivs"] == "1", (name, tid, f["NoNewPrivs"])
            assert f["Seccomp"] == seccomp, (name, tid, f["Seccomp"])
            # Real, effective, saved and file system ids; no groups.
            assert f["Uid"].split() == [str(isles.pw_uid)] * 4, (name, f["Uid"])
            assert f["Gid"].split() == [str(isles.pw_gid)] * 4, (name, f["Gid"])
            assert f["Groups"].strip() == "", (name, f["Groups"])
            assert f["CapEff"] == "0000000000000000", (name, f["CapEff"])
    for v in st["vms"]:
        # Its QEMU found consoled's serial socket (the supervisor bound it).
        wait_for(lambda: b"login: " in (lock.r / "vm" / v["name"] /
                                       "console.log").read_bytes(),
                 f"{v['name']}'s console.log", 120)
        for tid, f in proc_status(v["pid"]).items():
            # QEMU's own filter (-sandbox on,...): seccomp in every thread.
            assert (f["NoNewPrivs"], f["Seccomp"]) == ("1", "2"), \
                (v["name"], tid, f["NoNewPrivs"], f["Seccomp"])


def test_daemons_hold_only_what_the_file_grants(lock):
    st = lock.status()
    daemons = {d["name"]: d["pid"] for d in st["daemons"]}
    qemu = {v["name"]: v["pid"] for v in st["vms"]}
    guest_ram = {vm: memfd_inodes(pid) for vm, pid in qemu.items()}
    qemu_socks = {vm: socket_inodes(pid) for vm, pid in qemu.items()}
    dataport = {i for p in (daemons["dataportd:ctl"],)
                for t, i, _ in fds(p).values()
                if t.startswith("/memfd:isles-dataport:ctl")}
    assert dataport, "dataportd holds no dataport memory"
    socks = unix_sockets()
    r = str(lock.r)
    disk = {"disk:d0": str(lock.base / "d0.img"),
            "disk:d1": str(lock.base / "d1.img")}
    problems = []
    for name, g in sorted(GRANTS.items()):
        pid = daemons[name]
        files = {"/dev/null", f"{r}/{g['log']}"}
        tap = dataports = False
        for f in g["files"]:
            if f == "tap":
                tap = True
            elif f.startswith("dataport:"):
                dataports = True
            else:
                files.add(disk[f] if f in disk else f"{r}/{f}")
        sock_ok = {f"{r}/{p}" for p in g["sockets"]}
        mem_ok = set().union(*[guest_ram[vm] for vm in g["vms"]])
        peers_ok = set().union(*[qemu_socks[vm] for vm in g["vms"]])
        if dataports:
            mem_ok |= dataport
        seen_socks, seen_files, seen_tap = set(), set(), False
        for n, (t, ino, info) in sorted(fds(pid).items()):
            if t in OWN_OBJECTS:
                continue
            if t.startswith("socket:["):
                path, peer = socks.get(int(t[8:-1]), (None, 0))
                if path is None and peer in peers_ok:
                    continue            # a back-end channel of its VM
                if path not in sock_ok:
                    problems.append(f"{name}: fd {n}: socket {path} "
                                    f"(peer {peer})")
                seen_socks.add(path)
            elif t.startswith("/memfd:"):
                if ino not in mem_ok:
                    problems.append(f"{name}: fd {n}: {t}, not its VMs' "
                                    "memory")
            elif t == "/dev/net/tun":
                m = re.search(r"iff:\s*(\S+)", info)
                if not tap or m is None or m.group(1) != TAP:
                    problems.append(f"{name}: fd {n}: TAP {m and m.group(1)}")
                seen_tap = True
            elif t in files:
                seen_files.add(t)
            else:
                problems.append(f"{name}: fd {n}: {t}")
        # And it has what it was given (the check sees the real fds).
        if not sock_ok <= seen_socks:
            problems.append(f"{name}: missing sockets "
                            f"{sorted(sock_ok - seen_socks)}")
        if not files - {"/dev/null"} <= seen_files:
            problems.append(f"{name}: missing files "
                            f"{sorted(files - seen_files - {'/dev/null'})}")
        if tap != seen_tap:
            problems.append(f"{name}: TAP held: {seen_tap}")
    assert not problems, "\n".join(problems)


# socket(AF_UNIX, SOCK_STREAM, 0): in no daemon's list.
def call_socket(pid):
    """Have PID's main thread (idle in epoll_wait) call socket()."""
    return inject.syscall(pid, 41, 1, 1, 0)


@pytest.mark.parametrize("name", ["consoled", "linkd", "dataportd:ctl"])
def test_refused_call_ends_a_daemon_and_is_reported(lock, name):
    """A daemon whose filter kills: socket() ends it with SIGSYS; the
    supervisor reports it and starts it again; the system keeps going."""
    if sanitizer_build(lock.daemon(name)["pid"]):
        pytest.skip("sanitizer builds load no filter (src/host/sandbox.c)")
    before = lock.daemon(name)
    out = call_socket(before["pid"])
    assert out == ("killed", signal.SIGSYS), out
    wait_for(lambda: lock.daemon(name)["restarts"] == before["restarts"] + 1
             and lock.daemon(name)["state"] == "running",
             f"{name} restarted", 60)
    log = lock.log("supervisor.log")
    assert re.search(rf"{re.escape(name)}: pid {before['pid']} killed by "
                     r"signal 31 \(Bad system call\)", log), log[-2000:]
    st = lock.daemon(name)
    assert st["pid"] != before["pid"]
    assert "Bad system call" in str(st), st
    for tid, f in proc_status(st["pid"]).items():
        assert f["Seccomp"] == "2", (name, tid)


@pytest.mark.parametrize("name", ["diskd:d0", "switchd:lan", "vsockd"])
def test_refused_call_fails_with_eperm(lock, name):
    """A vhost-user daemon refuses with EPERM: socket() fails, the daemon
    lives on and still serves (its VMs still run commands)."""
    pid = lock.daemon(name)["pid"]
    if sanitizer_build(pid):
        pytest.skip("sanitizer builds load no filter (src/host/sandbox.c)")
    out = call_socket(pid)
    assert out == ("ret", -errno.EPERM), out
    d = lock.daemon(name)
    assert d["pid"] == pid and d["state"] == "running", d
    for vm in ("vm0", "vm1"):
        assert lock.ok(vm, "true", timeout=60) == ""


# Each daemon by hand, with a stray fd (an open file it is not told
# about): the argv that makes it start and serve.
def by_hand(tmp):
    shm = tmp / "shm"
    shm.write_bytes(b"\0" * 65536)
    img = tmp / "img"
    return {
        "isles-consoled": ["--socket", f"{tmp}/c.sock", f"vm0={tmp}/s.sock"],
        "isles-diskd": ["--disk", str(img), "--create", "4M", "--part",
                        "rest", "--export", f"vm0:1={tmp}/d.sock"],
        "isles-switchd": ["--port", f"vm0.0:02:00:00:00:aa:01={tmp}/n.sock",
                          "--stats", f"{tmp}/st.sock"],
        "isles-linkd": ["--link", f"l0:vm0={tmp}/a.sock,vm1={tmp}/b.sock"],
        "isles-vsockd": ["--vm", f"vm0:3={tmp}/v.sock"],
        "isles-dataportd": ["--name", "dp", "--size", "64K", "--peer",
                            f"vm0={tmp}/p0.sock", "--peer",
                            f"vm1={tmp}/p1.sock"],
    }


def test_daemons_close_fds_they_were_not_given(built, tmp_path):
    stray = os.open("/etc/hostname", os.O_RDONLY)
    problems = []
    try:
        for prog, args in by_hand(tmp_path).items():
            p = subprocess.Popen([str(BUILD / prog), *args],
                                 pass_fds=[stray], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=open(tmp_path / f"{prog}.log", "wb"))
            try:
                # Serving: its seccomp filter is on (set-up is over).
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and p.poll() is None:
                    if proc_status(p.pid)[p.pid]["Seccomp"] != "0" or \
                            sanitizer_build(p.pid):
                        break
                    time.sleep(0.1)
                time.sleep(0.2)
                assert p.poll() is None, (prog, (tmp_path / f"{prog}.log")
                                          .read_text())
                held = [t for t, _, _ in fds(p.pid).values()]
                if "/etc/hostname" in held:
                    problems.append(f"{prog} keeps an fd it was not given")
            finally:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    finally:
        os.close(stray)
    assert not problems, problems


DAEMON_SOURCES = {"consoled": "src/consoled/consoled.c",
                  "diskd": "src/diskd/main.c",
                  "switchd": "src/switchd/switchd.c",
                  "linkd": "src/linkd/linkd.c",
                  "vsockd": "src/vsockd/vsockd.c",
                  "dataportd": "src/dataportd/main.c"}


def test_architecture_lists_every_allowed_call():
    """The table of docs/architecture.md ("Lock-down") is each daemon's
    allowlist, call for call, and no list allows what the daemons leave
    to the supervisor."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    sec = doc[doc.index("## Lock-down"):doc.index("## Control channels")]
    rows = [l for l in sec.splitlines() if l.startswith("| `")]
    head = next(l for l in sec.splitlines() if l.startswith("| call |"))
    cols = [c.strip() for c in head.strip("|").split("|")][1:-1]
    assert cols == list(DAEMON_SOURCES), cols
    table = {d: set() for d in cols}
    for l in rows:
        cells = [c.strip() for c in l.strip("|").split("|")]
        call = cells[0].strip("`")
        for d, mark in zip(cols, cells[1:1 + len(cols)]):
            if mark == "x":
                table[d].add(call)
    for d, src in DAEMON_SOURCES.items():
        text = (ROOT / src).read_text()
        body = re.search(r"sandbox_allow allow\[\] = \{(.*?)\n\t\};", text,
                         re.S).group(1)
        calls = set(re.findall(r"SCMP_SYS\((\w+)\)", body))
        assert calls == table[d], (d, sorted(calls ^ table[d]))
        assert not calls & {"open", "openat", "socket", "connect", "bind",
                            "unlink", "unlinkat", "execve", "fork",
                            "clone"}, d
