# SPDX-License-Identifier: BSD-2-Clause
"""Shared fixtures of the integration tests that run whole Isles systems.

    built            session: `make -j2` once and `build/isles image` once;
                     the repository root (a Path).
    run_dir          a short run dir (mktemp -d /tmp/isl.XXXX: Unix socket
                     paths are limited to 108 bytes), removed afterwards.
    make_system      factory: make_system(conf_text, name=...) -> System,
                     brought up by the test and always torn down (down,
                     then a check that no process names its run dir).
    hugetlbfs        factory: hugetlbfs(pages) -> a private hugetlbfs
                     mount with that many free 2 MiB pages reserved;
                     unmounted and the reservation given back afterwards.

    wait_for(pred, what, secs)   poll until pred() is true, else fail.
    proc_status(pid)             /proc/PID/status of every thread.
    sanitizer_build(pid)         does PID run an ASan build?

A System is also usable directly, e.g. from a module-scoped fixture:

    with System.create(conf_text, name="found") as s:
        s.up()                      # isles up --detach; raises if it fails
        rc, out, err = s.exec("vm0", "uname", "-m", timeout=30)
        out = s.ok("vm0", "uname", "-m")   # must exit 0; its stdout
        p = s.bg("vm0", "sleep", "5")      # a Popen of isles exec
        s.status()                  # isles status --json as a dict
        s.daemon("linkd")           # one daemon's entry of it
    # leaving the block: isles down, assert nothing survives, rm -rf

Every isles command runs with ISLES_RUN_DIR set to the system's own run dir
base, so systems of different tests never see each other.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# ISLES_BIN=build/asan/isles runs these tests against the sanitizer build
# (set ISLES_IMAGE_DIR=build/image too, so that it reuses the image).
ISLES = Path(os.environ.get("ISLES_BIN", ROOT / "build" / "isles"))

_build_result = {}


def build_tree():
    """make -j2 and isles image, once per session; returns ROOT."""
    if "err" in _build_result:
        pytest.fail(_build_result["err"])
    if "ok" in _build_result:
        return ROOT
    r = subprocess.run(["make", "-j2"], cwd=ROOT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        _build_result["err"] = "build failed:\n" + r.stdout[-3000:] + r.stderr[-3000:]
        pytest.fail(_build_result["err"])
    r = subprocess.run([str(ISLES), "image"], cwd=ROOT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        _build_result["err"] = "isles image failed:\n" + r.stderr[-3000:]
        pytest.fail(_build_result["err"])
    _build_result["ok"] = True
    return ROOT


@pytest.fixture(scope="session")
def built():
    return build_tree()


def procs_mentioning(path):
    """Pids (not ours) whose command line mentions path + '/' or has path
    as an argument (the supervisor's --run-dir)."""
    exact = str(path).rstrip("/").encode()
    needle = exact + b"/"
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd or exact in cmd.split(b"\0"):
            found.append(int(d))
    return found


def proc_status(pid):
    """/proc/PID/status of every thread of PID: {tid: {field: value}}."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            out[int(tid)] = dict(l.rstrip("\n").split(":\t", 1)
                                 for l in f if ":\t" in l)
    return out


def sanitizer_build(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def wait_for(pred, what, secs=120):
    """Poll pred() every half second until true; fail after secs."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.5)
    pytest.fail("timed out waiting for " + what)


def new_run_dir():
    return Path(tempfile.mkdtemp(prefix="isl.", dir="/tmp"))


@pytest.fixture
def run_dir():
    d = new_run_dir()
    yield d
    left = procs_mentioning(d)
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    shutil.rmtree(d, ignore_errors=True)
    assert not left, f"processes left behind under {d}: {left}"


class System:
    """One Isles system in a private run dir base (see the module doc)."""

    def __init__(self, base, conf_text, name="sys", conf_name=None):
        self.base = Path(base)
        self.name = name
        self.r = self.base / name
        self.conf = self.base / (conf_name or f"{name}.conf")
        self.conf.write_text(conf_text)
        self.env = dict(os.environ, ISLES_RUN_DIR=str(self.base))
        self.upped = False

    @classmethod
    def create(cls, conf_text, name="sys", **kw):
        build_tree()
        return cls(new_run_dir(), conf_text, name=name, **kw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def isles(self, *args, timeout=300, input=None, env=None):
        """Run build/isles ARGS; returns CompletedProcess (text)."""
        e = dict(self.env)
        if env:
            e.update(env)
        return subprocess.run([str(ISLES), *map(str, args)], env=e,
                              capture_output=True, text=True, timeout=timeout,
                              input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def up(self, check=True, env=None, timeout=400):
        """isles up --detach; with check, raise (with the log) on failure."""
        t0 = time.monotonic()
        r = self.isles("up", "--detach", self.conf, env=env, timeout=timeout)
        self.up_seconds = time.monotonic() - t0
        self.upped = True
        if check and r.returncode != 0:
            raise AssertionError(f"isles up failed ({r.returncode}):\n{r.stderr}"
                                 f"\n--- supervisor.log:\n{self.log('supervisor.log')}")
        return r

    def exec(self, vm, *cmd, timeout=None, input=None, limit=120):
        """isles exec [-t timeout] [-i] VM -- CMD; returns (rc, out, err)."""
        args = ["exec", "--system", self.name]
        if timeout is not None:
            args += ["-t", timeout]
        if input is not None:
            args.append("-i")
        args += [vm, "--", *cmd]
        r = self.isles(*args, input=input, timeout=limit)
        return r.returncode, r.stdout, r.stderr

    def ok(self, vm, *cmd, timeout=60):
        """exec that must succeed; returns its stdout."""
        rc, out, err = self.exec(vm, *cmd, timeout=timeout,
                                 limit=timeout + 30)
        assert rc == 0, f"{vm}: {cmd}: exit {rc}\n{out}\n{err}"
        return out

    def bg(self, vm, *cmd, timeout=60):
        """isles exec in the background: a Popen (text pipes)."""
        return subprocess.Popen(
            [str(ISLES), "exec", "--system", self.name, "-t", str(timeout),
             vm, "--", *map(str, cmd)], env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def daemon(self, name):
        return next(d for d in self.status()["daemons"] if d["name"] == name)

    def status(self):
        r = self.isles("status", "--json", "--system", self.name, timeout=30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def vm(self, name):
        return next(v for v in self.status()["vms"] if v["name"] == name)

    def log(self, rel):
        p = self.r / rel
        return p.read_text(errors="replace") if p.exists() else ""

    def down(self, timeout=None):
        args = ["down", "--system", self.name]
        if timeout:
            args += ["--timeout", timeout]
        return self.isles(*args, timeout=120)

    def procs(self):
        return procs_mentioning(self.r)

    def assert_nothing_running(self):
        left = self.procs()
        assert not left, f"processes left behind: {left}"
        if (self.r / "supervisor.pid").exists():
            pid = int((self.r / "supervisor.pid").read_text())
            assert not os.path.exists(f"/proc/{pid}"), "supervisor survived"

    def teardown(self):
        """Always: down (if it was brought up), check, remove the dir."""
        try:
            if self.upped:
                self.down(timeout=5)
            left = self.procs()
            for pid in left:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            assert not left, f"processes left behind under {self.r}: {left}"
            self.assert_no_sanitizer_reports()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def assert_no_sanitizer_reports(self):
        """Under a sanitizer build (ISLES_BIN), the supervisor's and the
        daemons' logs must not hold an ASan/UBSan/LSan report."""
        bad = []
        for log in list(self.r.glob("*.log")) + list(self.r.glob("*/*/*.log")):
            if log.name == "console.log":     # guest output: anything goes
                continue
            text = log.read_text(errors="replace")
            if "Sanitizer" in text or "runtime error:" in text:
                bad.append(f"{log}:\n{text[-3000:]}")
        assert not bad, "sanitizer reports:\n" + "\n".join(bad)


@pytest.fixture
def make_system(built):
    made = []

    def make(conf_text, name="sys", **kw):
        s = System(new_run_dir(), conf_text, name=name, **kw)
        made.append(s)
        return s

    yield make
    errors = []
    for s in made:
        try:
            s.teardown()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "; ".join(errors)


def free_hugepages():
    with open("/proc/meminfo") as f:
        return int(re.search(r"HugePages_Free:\s+(\d+)", f.read()).group(1))


@pytest.fixture
def hugetlbfs():
    nr = "/proc/sys/vm/nr_hugepages"
    with open(nr) as f:
        before = int(f.read())
    mounts = []

    def make(pages):
        if free_hugepages() < pages:
            with open(nr) as f:
                cur = int(f.read())
            with open(nr, "w") as f:
                f.write(str(cur + pages - free_hugepages()))
        assert free_hugepages() >= pages, "cannot reserve %d hugepages" % pages
        d = tempfile.mkdtemp(prefix="isl.hp.", dir="/tmp")
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M",
                        "nodev", d], check=True)
        mounts.append(d)
        return d

    yield make
    for d in mounts:
        subprocess.run(["umount", d], check=False)
        os.rmdir(d)
    with open(nr, "w") as f:
        f.write(str(before))
