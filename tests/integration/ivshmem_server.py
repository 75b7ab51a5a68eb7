# SPDX-License-Identifier: BSD-2-Clause
"""A small ivshmem server for tests: one dataport, one socket per VM.

It speaks the server side of QEMU's ivshmem protocol
(docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol") to the
`ivshmem-doorbell` devices of the VMs that share one dataport, the way the
Isles ivshmem server is to, so that the guest side (isles_dataport.ko,
libdataport, the dataport tools) can be tested before and apart from the
real daemon.  It is a test double, not the product: no sandbox, no limits
beyond what the tests need.

Peer IDs follow the Isles contract: the client on socket i gets ID i (its
position in the dataport's VM list), whatever the order of connection.
On connect, client i is sent, as 8-byte little-endian signed numbers with
an fd (SCM_RIGHTS) where noted:

    0                     protocol version
    i                     its ID
    -1 + shm fd           the shared memory (a memfd of the given size)
    j + eventfd, N times  for every other connected peer j: j's vectors
    i + eventfd, N times  its own vectors (it receives interrupts on them)

and every other connected peer is sent i + eventfd N times.  When client
i disconnects the others get i without an fd; its eventfds are replaced
before it may connect again.  QEMU never writes to the socket.

Beware reconnects: QEMU frees a peer's eventfd array on that disconnect
message without clearing the pointer, and the connect of the same ID
writes into it (hw/misc/ivshmem.c, close_peer_eventfds / process_msg_
connect).  Isles' IDs are fixed by list position, so a real server must
not announce a restarting VM's disconnect and reconnect to the others;
the tests that use this double never reconnect a VM.

    srv = IvshmemServer(size=65536, sockets=[p0, p1], vectors=1)
    srv.start()                 # listening when this returns
    srv.mem[0:16]               # the shared memory, mapped in the test
    srv.stop()

Also runnable: python3 ivshmem_server.py SIZE SOCK0 SOCK1 ... (until ^C).
"""

import mmap
import os
import selectors
import socket
import struct
import sys
import threading

MSG = struct.Struct("<q")


class IvshmemServer:
    def __init__(self, size, sockets, vectors=1):
        assert size >= 4096 and size & (size - 1) == 0, "size: a power of two"
        self.size = size
        self.paths = list(sockets)
        self.vectors = vectors
        self.shm = os.memfd_create("ivshmem-test", os.MFD_CLOEXEC)
        os.ftruncate(self.shm, size)
        self.mem = mmap.mmap(self.shm, size)
        self.listeners = []
        self.clients = {}          # id -> connected socket
        self.eventfds = {i: self._new_eventfds() for i in range(len(self.paths))}
        self.connects = [0] * len(self.paths)
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC)
        self.thread = None
        self.lock = threading.Lock()

    def _new_eventfds(self):
        return [os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
                for _ in range(self.vectors)]

    @staticmethod
    def _send(sock, value, fd=None):
        data = MSG.pack(value)
        if fd is None:
            sock.sendall(data)
        else:
            socket.send_fds(sock, [data], [fd])

    def start(self):
        for i, path in enumerate(self.paths):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(4)
            s.setblocking(False)
            self.listeners.append(s)
            self.sel.register(s, selectors.EVENT_READ, ("listen", i))
        self.sel.register(self.wake_r, selectors.EVENT_READ, ("stop", None))
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread is not None:
            os.write(self.wake_w, b"x")
            self.thread.join(10)
            self.thread = None
        for s in self.listeners:
            s.close()
        for s in self.clients.values():
            s.close()
        for fds in self.eventfds.values():
            for fd in fds:
                os.close(fd)
        self.eventfds = {}
        self.clients = {}
        self.mem.close()
        os.close(self.shm)
        os.close(self.wake_r)
        os.close(self.wake_w)

    def connected(self):
        with self.lock:
            return sorted(self.clients)

    def _loop(self):
        while True:
            for key, _ in self.sel.select():
                kind, i = key.data
                if kind == "stop":
                    return
                if kind == "listen":
                    self._accept(i)
                else:
                    self._readable(i, key.fileobj)

    def _accept(self, i):
        try:
            conn, _ = self.listeners[i].accept()
        except BlockingIOError:
            return
        with self.lock:
            if i in self.clients:       # the VM of socket i is connected
                conn.close()
                return
            try:
                self._greet(i, conn)
            except OSError:
                conn.close()
                return
            self.clients[i] = conn
            self.connects[i] += 1
            for j, other in self.clients.items():
                if j != i:
                    for fd in self.eventfds[i]:
                        self._send(other, i, fd)
        self.sel.register(conn, selectors.EVENT_READ, ("client", i))

    def _greet(self, i, conn):
        self._send(conn, 0)                 # version
        self._send(conn, i)                 # its ID
        self._send(conn, -1, self.shm)      # shared memory
        for j in self.clients:
            for fd in self.eventfds[j]:
                self._send(conn, j, fd)
        for fd in self.eventfds[i]:
            self._send(conn, i, fd)

    def _readable(self, i, conn):
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if data:
            return          # QEMU sends nothing; ignore it if it does
        self.sel.unregister(conn)
        conn.close()
        with self.lock:
            del self.clients[i]
            for fd in self.eventfds[i]:
                os.close(fd)
            self.eventfds[i] = self._new_eventfds()
            for other in self.clients.values():
                try:
                    self._send(other, i)
                except OSError:
                    pass


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: ivshmem_server.py SIZE SOCK0 SOCK1 ...")
    srv = IvshmemServer(int(sys.argv[1], 0), sys.argv[2:])
    srv.start()
    print("ready", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    srv.stop()
