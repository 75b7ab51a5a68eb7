# SPDX-License-Identifier: BSD-2-Clause
"""Make a running process execute one system call, from outside, with
ptrace (x86-64): what test_lockdown needs to show that a call outside a
daemon's seccomp list is refused.

gdb's `print syscall(...)` did this before, but gdb 13 cannot restore the
registers of a process on a CPU with AMX state ("Couldn't write extended
state status: Bad address"), so the process went on with clobbered
registers.  Here only the general registers are read and written
(PTRACE_GETREGS/SETREGS): the call is made by pointing the stopped
thread's rip at the `syscall` instruction it is blocked behind, stepping
over it once, and putting every register back.
"""

import ctypes
import errno
import os
import signal
import time

PTRACE_PEEKTEXT = 1
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_ATTACH = 16
PTRACE_DETACH = 17
PTRACE_SINGLESTEP = 9
PTRACE_CONT = 7
WALL = 0x40000000
SYSCALL_INSN = b"\x0f\x05"


class Regs(ctypes.Structure):
    """struct user_regs_struct of <sys/user.h>, x86-64."""
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
        "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
        "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_int, ctypes.c_void_p,
                         ctypes.c_void_p)


def _ptrace(req, pid, addr=None, data=None):
    ctypes.set_errno(0)
    r = _libc.ptrace(req, pid, addr, data)
    e = ctypes.get_errno()
    if r == -1 and e != 0:
        raise OSError(e, f"ptrace({req}, {pid}): {os.strerror(e)}")
    return r


def _wait_stop(pid):
    """Wait for pid to stop or die: ("stopped", sig) or ("killed", sig) or
    ("exited", status)."""
    while True:
        _, st = os.waitpid(pid, WALL)
        if os.WIFSTOPPED(st):
            return "stopped", os.WSTOPSIG(st)
        if os.WIFSIGNALED(st):
            return "killed", os.WTERMSIG(st)
        if os.WIFEXITED(st):
            return "exited", os.WEXITSTATUS(st)


def syscall(pid, nr, *args, tries=100):
    """Have thread pid make system call nr with up to six args, at a moment
    it is blocked in a system call (as an idle daemon is in epoll_wait;
    caught elsewhere, it is let go and tried again, 10 ms later, up to
    `tries` times).  Returns ("ret", value) with the kernel's signed result
    (-errno on failure), or ("killed", signo) if the process died of it."""
    for _ in range(tries - 1):
        out = _syscall_once(pid, nr, args)
        if out is not None:
            return out
        time.sleep(0.01)
    out = _syscall_once(pid, nr, args)
    if out is None:
        raise RuntimeError(f"{pid} was never caught blocked in a system call")
    return out


def _syscall_once(pid, nr, args):
    """One try of syscall(); None if pid was not behind a syscall."""
    _ptrace(PTRACE_ATTACH, pid)
    try:
        how, sig = _wait_stop(pid)
        while how == "stopped" and sig != signal.SIGSTOP:
            # Another signal came first: let it through, wait for ours.
            _ptrace(PTRACE_CONT, pid, None, sig)
            how, sig = _wait_stop(pid)
        if how != "stopped":
            return how, sig
        saved = Regs()
        _ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(saved))
        word = _ptrace(PTRACE_PEEKTEXT, pid, ctypes.c_void_p(saved.rip - 2))
        if (word & 0xffff).to_bytes(2, "little") != SYSCALL_INSN:
            _ptrace(PTRACE_DETACH, pid)
            return None
        call = Regs.from_buffer_copy(saved)
        call.rip = saved.rip - 2
        call.rax = nr
        call.orig_rax = (1 << 64) - 1     # not in a system call: no restart
        for reg, val in zip(("rdi", "rsi", "rdx", "r10", "r8", "r9"), args):
            setattr(call, reg, val & ((1 << 64) - 1))
        _ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(call))
        _ptrace(PTRACE_SINGLESTEP, pid)
        how, sig = _wait_stop(pid)
        if how != "stopped":
            return how, sig
        done = Regs()
        _ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(done))
        # Everything back: the interrupted call restarts on detach.
        _ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(saved))
        _ptrace(PTRACE_DETACH, pid)
        ret = done.rax
        return "ret", ret - (1 << 64) if ret >= 1 << 63 else ret
    except OSError as e:
        if e.errno == errno.ESRCH:
            # Gone while we held it: how it ended, if we can still tell.
            try:
                return _wait_stop(pid)
            except ChildProcessError:
                return "killed", 0
        raise
