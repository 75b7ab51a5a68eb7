# SPDX-License-Identifier: BSD-2-Clause
"""Isles issue 2: the supervisor and `isles up/down/status/restart/exec`.

One two-VM system is shared by the tests that can share it (module
fixture); the bad-input cases start their own, and each checks that
nothing it started is left running.  Tests run in file order: the ones
that kill or stop VMs of the shared system come last.
"""

import os
import signal
import subprocess
import threading
import time

import pexpect
import pytest

from conftest import ISLES, System, procs_mentioning

MIB = 1 << 20
CONF = """
name = "found";
vms = (
  { name = "vm0"; memory = "256M"; },
  { name = "vm1"; memory = "160M"; }
);
"""
MEMORY = {"vm0": 256 * MIB, "vm1": 160 * MIB}


@pytest.fixture(scope="module")
def sysm():
    with System.create(CONF, name="found") as s:
        s.up()
        yield s


def test_up_detached_every_vm_ready(sysm):
    st = sysm.status()
    assert st["system"] == "found"
    assert [v["name"] for v in st["vms"]] == ["vm0", "vm1"]
    for v in st["vms"]:
        assert v["state"] == "ready"
        assert os.path.exists(f"/proc/{v['pid']}")
        assert v["memory"] == MEMORY[v["name"]]
    # Serial consoles go to a socket and a log file in the run dir.
    for vm in ("vm0", "vm1"):
        assert (sysm.r / "vm" / vm / "serial.sock").exists()
        assert "Linux version" in sysm.log(f"vm/{vm}/console.log")
    text = sysm.isles("status", "--system", "found").stdout
    assert "vm0" in text and "ready" in text


@pytest.mark.parametrize("vm", ["vm0", "vm1"])
def test_exec_uname_and_meminfo(sysm, vm):
    rc, out, err = sysm.exec(vm, "uname", "-m")
    assert (rc, out) == (0, "x86_64\n"), err
    rc, out, err = sysm.exec(vm, "cat", "/proc/meminfo")
    assert rc == 0, err
    total_kib = int(next(l.split()[1] for l in out.splitlines()
                         if l.startswith("MemTotal:")))
    # The kernel and the initramfs keep ~50 MiB: MemTotal is below the
    # configured size, but by less than 64 MiB (the VMs differ by 96 MiB).
    assert MEMORY[vm] - 64 * MIB < total_kib * 1024 <= MEMORY[vm]
    rc, out, _ = sysm.exec(vm, "hostname")
    assert out == f"{vm}\n"


def test_exit_code_and_streams_propagate(sysm):
    rc, out, err = sysm.exec("vm0", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (rc, out, err) == (7, "out\n", "err\n")
    rc, _, _ = sysm.exec("vm1", "sh", "-c", "kill -TERM $$")
    assert rc == 128 + signal.SIGTERM
    rc, _, err = sysm.exec("vm0", "/no/such/program")
    assert rc != 0 and err


def test_exec_stdin_and_large_output(sysm):
    data = "".join(f"line {i}\n" for i in range(20000))   # ~200 KB
    rc, out, err = sysm.exec("vm1", "cat", input=data)
    assert rc == 0, err
    assert out == data
    rc, out, err = sysm.exec("vm0", "sh", "-c",
                             "head -c 3000000 /dev/zero | tr '\\0' x")
    assert rc == 0, err
    assert out == "x" * 3000000


def test_exec_timeout(sysm):
    t0 = time.monotonic()
    rc, _, err = sysm.exec("vm0", "sleep", "60", timeout=2)
    assert rc == 124
    assert "timed out" in err
    assert time.monotonic() - t0 < 20
    assert sysm.exec("vm0", "true")[0] == 0


def test_concurrent_execs(sysm):
    results = {}

    def run(i):
        vm = f"vm{i % 2}"
        results[i] = sysm.exec(vm, "sh", "-c", f"sleep 2; echo {i}-$(hostname)")

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for i in range(8):
        assert results[i] == (0, f"{i}-vm{i % 2}\n", ""), results[i]
    # Four 2-second sleeps per VM ran side by side, not one after another.
    assert elapsed < 12, elapsed


def test_exec_bad_input(sysm):
    rc, _, err = sysm.exec("nosuchvm", "true")
    assert rc == 2
    assert "no VM named 'nosuchvm'" in err and "vm0 vm1" in err
    r = sysm.isles("exec", "--system", "found", "vm0")
    assert r.returncode == 2 and "no command" in r.stderr
    r = sysm.isles("exec", "--system", "nothere", "vm0", "--", "true")
    assert r.returncode == 1 and "not running" in r.stderr


def test_up_twice_is_refused(sysm):
    r = sysm.isles("up", "--detach", sysm.conf, timeout=60)
    assert r.returncode == 1
    assert "already running" in r.stderr
    assert sysm.vm("vm0")["state"] == "ready"


def test_exec_while_console_attached(sysm):
    con = pexpect.spawn(str(ISLES), ["console", "--system", "found", "vm0"],
                        env=sysm.env, timeout=30)
    try:
        con.send(b"\r")
        con.expect(b"login:|# ")
        rc, out, _ = sysm.exec("vm0", "echo", "side by side")
        assert (rc, out) == (0, "side by side\n")
        con.send(b"\r")
        con.expect(b"login:|# ")      # the console still answers
    finally:
        con.terminate(force=True)


def test_killed_vm_does_not_stop_the_other(sysm):
    victim = sysm.vm("vm1")["pid"]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while sysm.vm("vm1")["state"] != "crashed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    v1 = sysm.vm("vm1")
    assert "signal 9" in v1["last_exit"]
    assert sysm.vm("vm0")["state"] == "ready"
    assert sysm.exec("vm0", "echo", "alive") == (0, "alive\n", "")
    rc, _, err = sysm.exec("vm1", "true")
    assert rc == 1 and "crashed" in err
    # restart brings it back
    r = sysm.isles("restart", "--system", "found", "vm1", timeout=300)
    assert r.returncode == 0, r.stderr
    v1 = sysm.vm("vm1")
    assert v1["state"] == "ready" and v1["restarts"] == 1
    assert sysm.exec("vm1", "hostname") == (0, "vm1\n", "")


def test_down_leaves_nothing(sysm):
    assert sysm.procs()
    r = sysm.down()
    assert r.returncode == 0, r.stderr
    assert "is down" in r.stdout
    sysm.assert_nothing_running()
    assert not (sysm.r / "control.sock").exists()
    assert "Linux version" in sysm.log("vm/vm0/console.log")  # logs kept
    r = sysm.isles("status", "--system", "found")
    assert r.returncode == 1 and "not running" in r.stderr


# ---- bad input: each starts (at most) its own system -----------------------

def test_bad_file_starts_nothing(make_system):
    s = make_system('name = "bad";\nvms = (\n  { name = "vm0"; memory = "12Q"; }\n);\n',
                    name="bad")
    r = s.up(check=False)
    assert r.returncode == 1
    assert f"{s.conf}:3:" in r.stderr
    assert not s.r.exists() or not s.procs()


def test_missing_kernel_starts_nothing(make_system):
    s = make_system('vms = ( { name = "vm0"; kernel = "/nonexistent/bzImage"; } );\n',
                    name="nokernel")
    r = s.up(check=False)
    assert r.returncode == 1
    assert "/nonexistent/bzImage" in r.stderr and f"{s.conf}:1" in r.stderr
    assert not s.procs()


def test_missing_qemu_package(make_system):
    s = make_system('vms = ( { name = "vm0"; } );\n', name="noqemu")
    r = s.up(check=False, env={"ISLES_QEMU": "/nonexistent/qemu-system-x86_64"})
    assert r.returncode == 1
    assert "QEMU not found" in r.stderr and "qemu-system-x86" in r.stderr
    assert not s.procs()


def test_vm_that_fails_to_boot(make_system):
    # Not a kernel: QEMU refuses it at once; the good VM is stopped again.
    s = make_system("", name="noboot")
    junk = s.base / "junk.bin"
    junk.write_bytes(b"this is not a kernel\n" * 100)
    initrd = s.base / "junk.img"
    initrd.write_bytes(b"\0" * 4096)
    s.conf.write_text(f"""
vms = (
  {{ name = "good"; }},
  {{ name = "bad"; kernel = "{junk}"; initrd = "{initrd}"; }}
);
""")
    t0 = time.monotonic()
    r = s.up(check=False)
    assert r.returncode == 1
    assert "bad: qemu exited with status 1" in r.stderr
    assert time.monotonic() - t0 < 60
    s.assert_nothing_running()


def test_vm_without_agent_times_out(make_system):
    # A kernel that boots but never reaches the agent (init exits, the
    # kernel panics and reboots): up gives up after the boot timeout.
    s = make_system('vms = ( { name = "vm0"; cmdline = "rdinit=/bin/false"; } );\n',
                    name="noagent")
    r = s.up(check=False, env={"ISLES_BOOT_TIMEOUT": "12"})
    assert r.returncode == 1
    assert "vm0: agent not ready after 12 s" in r.stderr
    assert "console.log" in r.stderr
    s.assert_nothing_running()


def test_down_after_supervisor_was_killed(make_system):
    # Even if the supervisor dies (kill -9), down leaves nothing behind.
    s = make_system('vms = ( { name = "vm0"; cmdline = "rdinit=/bin/false"; } );\n',
                    name="orphan")
    p = subprocess.Popen([str(ISLES), "up", "--detach", str(s.conf)], env=s.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s.upped = True
    deadline = time.monotonic() + 30
    while not (s.r / "supervisor.pid").exists() or len(s.procs()) < 2:
        assert time.monotonic() < deadline, "system did not start"
        time.sleep(0.1)
    os.kill(int((s.r / "supervisor.pid").read_text()), signal.SIGKILL)
    p.wait(timeout=60)
    assert p.returncode == 1
    r = s.down()
    assert r.returncode == 0, r.stderr
    s.assert_nothing_running()
    assert not procs_mentioning(s.r)
