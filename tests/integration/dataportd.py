# SPDX-License-Identifier: BSD-2-Clause
"""isles-dataportd started the way the supervisor starts it, for tests.

The test makes the dataport's resources (the shared memfd, one eventfd
per peer) and the listening sockets, and hands them to the daemon as
inherited fds, as the supervisor does; so the test keeps its own mapping
of the shared memory and can restart the daemon on the same resources.
Same interface as ivshmem_server.IvshmemServer:

    srv = Dataportd("ctl", size=65536, sockets=[p0, p1], names=["vm0", "vm1"])
    srv.start(); srv.mem[0:16]; srv.connected(); srv.restart(); srv.stop()

connected() is read from the daemon's log (peer IDs of the peers whose
QEMU is set up and still connected).
"""

import mmap
import os
import re
import socket
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATAPORTD = os.path.join(ROOT, "build", "isles-dataportd")


class Dataportd:
    def __init__(self, name, size, sockets, names, log_dir=None):
        self.name = name
        self.size = size
        self.paths = list(sockets)
        self.names = list(names)
        self.shm = os.memfd_create("dataport-" + name,
                                   os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self.shm, size)
        self.mem = mmap.mmap(self.shm, size)
        self.ev = [os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
                   for _ in self.names]
        self.listeners = []
        self.log_path = os.path.join(log_dir or os.path.dirname(self.paths[0]),
                                     "dataportd-%s.log" % name)
        self.proc = None

    def start(self):
        for path in self.paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(4)
            self.listeners.append(s)
        self._spawn()

    def _spawn(self):
        fds = [self.shm] + [s.fileno() for s in self.listeners] + self.ev
        args = [DATAPORTD, "--name", self.name, "--shm", "fd:%d" % self.shm]
        for i, n in enumerate(self.names):
            args += ["--peer", "%s=fd:%d,fd:%d" % (
                n, self.listeners[i].fileno(), self.ev[i])]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, pass_fds=fds, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while "serving" not in self.text():
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.02)

    def restart(self, sig=9):
        """Kill the daemon and start it again on the same resources."""
        self.proc.send_signal(sig)
        self.proc.wait(10)
        self.log.close()
        self._spawn()

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connected(self):
        up = set()
        for m in re.finditer(r"peer (\S+): (set up|disconnected|gone)",
                             self.text()):
            i = self.names.index(m.group(1))
            if m.group(2) == "set up":
                up.add(i)
            else:
                up.discard(i)
        return sorted(up)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()
        for s in self.listeners:
            s.close()
        for fd in self.ev:
            os.close(fd)
        self.mem.close()
        os.close(self.shm)
