#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A stand-in for qemu-system-x86_64 whose "guest agent" is hostile.

Started by the supervisor in place of QEMU (ISLES_QEMU=this file).  It
reads the agent chardev path from its argv, serves the agent socket as
QEMU would, and answers HELLO like the real agent; EXEC argv[0] picks a
misbehaviour:
  junk          garbage bytes, frames for unknown channels, unknown types,
                an EXIT of the wrong size, then "ok\\n" and exit code 5
  flood N       N bytes of STDOUT as fast as the socket takes them, exit 0
  anything else "hello\\n", exit 0
"""

import os
import signal
import socket
import struct
import sys

MAGIC = 0x454C5349
HDR = struct.Struct("<IHHII")
HELLO, HELLO_ACK, EXEC, STDOUT, EXIT, KILL = 1, 2, 5, 7, 9, 10


def frame(t, chan=0, payload=b""):
    return HDR.pack(MAGIC, t, 0, chan, len(payload)) + payload


def agent_path(argv):
    for i, a in enumerate(argv):
        if a == "-chardev" and argv[i + 1].startswith("socket,id=agent,"):
            for kv in argv[i + 1].split(","):
                if kv.startswith("path="):
                    return kv[5:]
    raise SystemExit("fakeqemu: no agent chardev")


def handle_exec(c, chan, argv):
    if argv[0] == b"junk":
        c.sendall(b"\x00garbage\xffISL")                       # resync fodder
        c.sendall(frame(STDOUT, chan + 1000, b"not yours"))    # unknown chan
        c.sendall(frame(99, chan, b"what"))                    # unknown type
        c.sendall(frame(EXIT, chan, b"\x01\x00\x00\x00"))      # bad size
        c.sendall(HDR.pack(0x12345678, STDOUT, 0, chan, 4) + b"bad!")  # bad magic
        c.sendall(frame(STDOUT, chan, b"ok\n"))
        c.sendall(frame(EXIT, chan, struct.pack("<ii", 5, 0)))
    elif argv[0] == b"flood":
        left = int(argv[1])
        chunk = b"f" * 65536
        while left > 0:
            n = min(left, len(chunk))
            c.sendall(frame(STDOUT, chan, chunk[:n]))
            left -= n
        c.sendall(frame(EXIT, chan, struct.pack("<ii", 0, 0)))
    else:
        c.sendall(frame(STDOUT, chan, b"hello\n"))
        c.sendall(frame(EXIT, chan, struct.pack("<ii", 0, 0)))


def serve(c):
    buf = b""
    while True:
        data = c.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= HDR.size:
            magic, t, _flags, chan, n = HDR.unpack_from(buf)
            if len(buf) < HDR.size + n:
                break
            payload = buf[HDR.size:HDR.size + n]
            buf = buf[HDR.size + n:]
            if t == HELLO:
                c.sendall(frame(HELLO_ACK, 0, b"fake-agent 0\0fake\0"))
            elif t == EXEC:
                handle_exec(c, chan, payload.rstrip(b"\0").split(b"\0"))


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    path = agent_path(sys.argv)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    while True:
        c, _ = s.accept()
        try:
            serve(c)
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
