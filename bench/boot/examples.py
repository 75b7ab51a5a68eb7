# SPDX-License-Identifier: BSD-2-Clause
"""Bring-up benchmark of the shipped examples (reported, not a test; see
README.md): for examples/supermicro.conf and
examples/virtio_guest_driver.conf, the time from `isles up --detach` to
every VM answering `isles exec true`, beside, in the same round, the
slowest of the example's VMs booted alone (a one-VM system of the same
arch and memory, no devices).  Rounds alternate the cases.

    bench/boot/examples.sh            3 rounds (REPS=N to change)
"""

import os
import re
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
EXAMPLES = ["supermicro", "virtio_guest_driver"]


def up_and_exec(conf_text, name, vms):
    """Seconds from isles up --detach to every VM answering exec true."""
    base = tempfile.mkdtemp(prefix="isl.bench.", dir="/tmp")
    env = dict(os.environ, ISLES_RUN_DIR=base)
    conf = Path(base) / f"{name}.conf"
    conf.write_text(conf_text.replace("@BASE@", base))
    try:
        t0 = time.monotonic()
        r = subprocess.run([ISLES, "up", "--detach", str(conf)], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"isles up {name} failed: {r.stderr}")
        for vm in vms:
            r = subprocess.run([ISLES, "exec", "--system", name, vm, "--",
                                "true"], env=env, capture_output=True,
                               text=True)
            if r.returncode != 0:
                raise RuntimeError(f"exec true in {vm} failed: {r.stderr}")
        return time.monotonic() - t0
    finally:
        subprocess.run([ISLES, "down", "--timeout", "20", name], env=env,
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def example(name):
    """The shipped file with its disk image and TAP made private."""
    text = (ROOT / "examples" / f"{name}.conf").read_text()
    text = re.sub(r'path = "/var/tmp/[^"]*"', 'path = "@BASE@/disk.img"', text)
    text = text.replace('"isles-tap0"', f'"islbn{os.getpid() % 10000}"')
    vms = re.findall(r'\{ name = "(vm\d+)"', text)
    shapes = {}
    for m in re.finditer(r'\{ name = "(vm\d+)";([^}]*)', text):
        arch = re.search(r'arch = "([a-z0-9_]+)"', m.group(2))
        mem = re.search(r'memory = "([0-9A-Z]+)"', m.group(2))
        shapes[m.group(1)] = (arch.group(1) if arch else "x86_64",
                              mem.group(1) if mem else "256M")
    return text, vms, shapes


def alone(arch, mem):
    text = (f'name = "alone";\nvms = ( {{ name = "vm0"; arch = "{arch}"; '
            f'memory = "{mem}"; }} );\n')
    return up_and_exec(text, "alone", ["vm0"])


def main():
    subprocess.run([ISLES, "image"], check=True, capture_output=True)
    subprocess.run([ISLES, "image", "--arch", "i386"], check=True,
                   capture_output=True)
    res = {n: {"system": [], "alone": []} for n in EXAMPLES}
    for rnd in range(REPS):
        for n in EXAMPLES:
            text, vms, shapes = example(n)
            res[n]["system"].append(up_and_exec(text, n, vms))
            res[n]["alone"].append(max(alone(*s) for s in set(shapes.values())))
            print(f"round {rnd + 1}/{REPS}: {n}: {len(vms)} VMs "
                  f"{res[n]['system'][-1]:.2f} s, slowest VM alone "
                  f"{res[n]['alone'][-1]:.2f} s", file=sys.stderr)
    print(f"\nbring-up of the examples ({REPS} rounds; {os.cpu_count()} "
          f"host CPUs; load {os.getloadavg()[0]:.2f})")
    print(f"{'example':<22} {'all VMs ready s (runs)':<34} "
          f"{'slowest VM alone s (runs)':<34} {'ratio':>6}")
    for n in EXAMPLES:
        s, a = res[n]["system"], res[n]["alone"]
        print(f"{n:<22} {statistics.median(s):6.2f} ({' '.join(f'{x:.1f}' for x in s)})"
              f"{'':<10} {statistics.median(a):6.2f} ({' '.join(f'{x:.1f}' for x in a)})"
              f"{'':<10} {statistics.median(s) / statistics.median(a):6.2f}")


if __name__ == "__main__":
    main()
