# SPDX-License-Identifier: BSD-2-Clause
"""Boot benchmark driver; see run.sh.  Rounds alternate the three cases
(bare, 1 VM, 4 VMs) so that machine noise spreads over all of them."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISLES = str(ROOT / "build" / "isles")
REPS = int(os.environ.get("REPS", "3"))


def image():
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, check=True)
    paths = dict(line.split(None, 1) for line in r.stdout.splitlines())
    return paths["kernel"], paths["initrd"]


def accel():
    a = os.environ.get("ISLES_ACCEL", "tcg")
    return "kvm" if a == "kvm" else "tcg"


def bare_boot(kernel, initrd):
    """Seconds from starting QEMU to the kernel running /init."""
    args = ["qemu-system-x86_64", "-M", "q35", "-accel", accel(), "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1", "-serial", "stdio"]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    buf = b""
    try:
        while b"as init process" not in buf:
            chunk = p.stdout.read1(4096)
            if not chunk:
                raise RuntimeError("qemu exited before init")
            buf += chunk
        return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()


def isles_boot(nvms):
    """Seconds from `isles up --detach` to every VM answering exec true."""
    base = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    env = dict(os.environ, ISLES_RUN_DIR=base)
    conf = Path(base) / "bench.conf"
    conf.write_text('name = "bench";\nvms = (\n' + ",\n".join(
        f'  {{ name = "vm{i}"; memory = "256M"; vcpus = 1; }}'
        for i in range(nvms)) + "\n);\n")
    try:
        t0 = time.monotonic()
        r = subprocess.run([ISLES, "up", "--detach", str(conf)], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"isles up failed: {r.stderr}")
        t_up = time.monotonic() - t0
        for i in range(nvms):
            r = subprocess.run([ISLES, "exec", f"vm{i}", "--", "true"], env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"exec true in vm{i} failed: {r.stderr}")
        return time.monotonic() - t0, t_up
    finally:
        subprocess.run([ISLES, "down", "--timeout", "10"], env=env,
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def main():
    kernel, initrd = image()
    res = {"bare": [], "1": [], "4": []}
    ups = {"1": [], "4": []}
    for rnd in range(REPS):
        res["bare"].append(bare_boot(kernel, initrd))
        for n in ("1", "4"):
            total, up = isles_boot(int(n))
            res[n].append(total)
            ups[n].append(up)
        print(f"round {rnd + 1}/{REPS}: bare {res['bare'][-1]:.2f} s, "
              f"1 VM {res['1'][-1]:.2f} s, 4 VMs {res['4'][-1]:.2f} s",
              file=sys.stderr)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"\nboot benchmark ({accel()}, {REPS} rounds, medians; "
          f"{os.cpu_count()} host CPUs)")
    print(f"{'case':<44} {'median s':>9} {'min s':>7} {'max s':>7}")
    rows = [("bare qemu boot to init (1 VM)", "bare"),
            ("isles up --detach -> exec true, 1 VM", "1"),
            ("isles up --detach -> exec true, 4 VMs", "4")]
    for label, k in rows:
        print(f"{label:<44} {med[k]:>9.2f} {min(res[k]):>7.2f} {max(res[k]):>7.2f}")
    print(f"{'  of which isles up --detach, 1 VM':<44} "
          f"{statistics.median(ups['1']):>9.2f}")
    print(f"{'  of which isles up --detach, 4 VMs':<44} "
          f"{statistics.median(ups['4']):>9.2f}")
    print("\nratios:")
    print(f"  1 VM  / bare boot: {med['1'] / med['bare']:.2f}")
    print(f"  4 VMs / bare boot: {med['4'] / med['bare']:.2f}")
    print(f"  4 VMs / 1 VM:      {med['4'] / med['1']:.2f}")


if __name__ == "__main__":
    main()
