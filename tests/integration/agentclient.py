# SPDX-License-Identifier: BSD-2-Clause
"""A small client of the Isles guest agent protocol (src/proto/proto.h).

It talks to the agent through QEMU's chardev socket of the virtserialport
"org.isles.agent" (R/vm/<vm>/agent.sock).  Tests use it to check the
agent directly, without the supervisor; other tests may reuse it.

    c = AgentClient.connect("/tmp/isl.x/agent.sock", timeout=60)
    version, hostname = c.hello()
    r = c.run(["uname", "-m"])          # -> Result(code, signal, out, err)
    c.close()

Frames: a 16-byte little-endian header (magic "ISLE", type u16, flags u16,
chan u32, len u32) and len payload bytes.
"""

import os
import select
import socket
import struct
import time
from collections import namedtuple

MAGIC = 0x454C5349
HDR = struct.Struct("<IHHII")
MAX_PAYLOAD = 64 * 1024

HELLO, HELLO_ACK, PING, PONG, EXEC, STDIN, STDOUT, STDERR, EXIT, KILL, ERROR = range(1, 12)
EXEC_STDIN = 0x0001

Result = namedtuple("Result", "code signal out err")


class AgentError(Exception):
    """The agent answered ERROR, or the connection failed."""


class AgentClient:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.next_chan = 1

    @classmethod
    def connect(cls, path, timeout=30.0):
        """Connect to QEMU's agent socket, retrying until it exists."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return cls(s)
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        self.sock.close()

    # --- framing -------------------------------------------------------
    def send(self, ftype, chan=0, payload=b"", flags=0):
        self.sock.sendall(HDR.pack(MAGIC, ftype, flags, chan, len(payload)) + payload)

    def recv(self, timeout):
        """Next frame as (type, flags, chan, payload); TimeoutError if none.

        Bytes before a valid header are skipped, as the agent does.
        """
        deadline = time.monotonic() + timeout
        while True:
            while len(self.buf) >= HDR.size:
                magic, ftype, flags, chan, length = HDR.unpack_from(self.buf)
                if magic != MAGIC or length > MAX_PAYLOAD or ftype == 0:
                    self.buf = self.buf[1:]
                    continue
                if len(self.buf) < HDR.size + length:
                    break
                payload = self.buf[HDR.size:HDR.size + length]
                self.buf = self.buf[HDR.size + length:]
                return ftype, flags, chan, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame from the agent")
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            data = self.sock.recv(65536)
            if not data:
                raise AgentError("agent socket closed")
            self.buf += data

    # --- requests ------------------------------------------------------
    def hello(self, timeout=60.0, retry=1.0):
        """Send HELLO until HELLO_ACK arrives; returns (version, hostname).

        HELLO is resent every `retry` seconds: the agent may still be
        starting, and whatever it sent earlier is ignored.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.send(HELLO)
            end = min(deadline, time.monotonic() + retry)
            while True:
                try:
                    ftype, _, _, payload = self.recv(max(0.0, end - time.monotonic()))
                except TimeoutError:
                    break
                if ftype == HELLO_ACK:
                    parts = payload.split(b"\0")
                    if len(parts) < 3:
                        raise AgentError("malformed HELLO_ACK %r" % payload)
                    return parts[0].decode(), parts[1].decode()
            if time.monotonic() >= deadline:
                raise TimeoutError("agent did not answer HELLO")

    def ping(self, data=b"ping", timeout=10.0):
        self.send(PING, 0, data)
        while True:
            ftype, _, _, payload = self.recv(timeout)
            if ftype == PONG:
                return payload

    def start(self, argv, stdin=False):
        """Start argv (list of str) on a new channel; returns the channel."""
        chan = self.next_chan
        self.next_chan += 1
        payload = b"".join(a.encode() + b"\0" for a in argv)
        self.send(EXEC, chan, payload, EXEC_STDIN if stdin else 0)
        return chan

    def write_stdin(self, chan, data):
        for i in range(0, len(data), MAX_PAYLOAD):
            self.send(STDIN, chan, data[i:i + MAX_PAYLOAD])

    def close_stdin(self, chan):
        self.send(STDIN, chan, b"")

    def kill(self, chan, sig):
        self.send(KILL, chan, struct.pack("<I", sig))

    def wait(self, chan, timeout=60.0, on_frame=None):
        """Collect a channel's output until EXIT; returns a Result.

        Frames of other channels are passed to on_frame (or dropped).
        Raises AgentError if the agent answers ERROR on this channel.
        """
        out, err = [], []
        deadline = time.monotonic() + timeout
        while True:
            ftype, flags, c, payload = self.recv(max(0.0, deadline - time.monotonic()))
            if c != chan:
                if on_frame:
                    on_frame(ftype, flags, c, payload)
                continue
            if ftype == STDOUT:
                out.append(payload)
            elif ftype == STDERR:
                err.append(payload)
            elif ftype == EXIT:
                code, sig = struct.unpack("<ii", payload)
                return Result(code, sig, b"".join(out), b"".join(err))
            elif ftype == ERROR:
                raise AgentError(payload.decode(errors="replace"))

    def run(self, argv, stdin=None, timeout=60.0):
        """Run argv to completion; stdin (bytes) is sent then closed."""
        chan = self.start(argv, stdin is not None)
        if stdin is not None:
            self.write_stdin(chan, stdin)
            self.close_stdin(chan)
        return self.wait(chan, timeout)


if __name__ == "__main__":
    import sys
    c = AgentClient.connect(sys.argv[1])
    print(c.hello())
    r = c.run(sys.argv[2:] or ["uname", "-a"])
    os.write(1, r.out)
    os.write(2, r.err)
    sys.exit(r.code if r.code >= 0 else 128 + r.signal)
