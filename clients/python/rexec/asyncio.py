"""asyncio's subprocess functions with the children on a rexecd.

    import rexec.asyncio
    proc = await rexec.asyncio.create_subprocess_exec("ls", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()

create_subprocess_exec and create_subprocess_shell take asyncio's arguments
(and `server=`, as rexec.subprocess's functions) and return asyncio's own
asyncio.subprocess.Process, over a transport whose child is a
rexec.subprocess.Popen: its pipes are read and written by the event loop
as a local child's are, and its exit comes from the call, not from a child
watcher. What differs from a local child is what differs for
rexec.subprocess.Popen. A call that breaks off makes wait() (and
communicate()) raise its rexec.RemoteError, and returncode stays None.

The Popen is made on a thread of its own, so the loop does not wait for the
server's answer to the start. A transport belongs to its event loop's
thread, as asyncio's own.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any
from asyncio import base_subprocess as _base_subprocess
from asyncio import subprocess as _asyncio_subprocess

from rexec import subprocess as _subprocess

__all__ = ["create_subprocess_exec", "create_subprocess_shell"]

# asyncio's default buffer limit of its StreamReaders (streams._DEFAULT_LIMIT).
_DEFAULT_LIMIT = 2 ** 16


class _RemoteSubprocessTransport(_base_subprocess.BaseSubprocessTransport):
    """asyncio's subprocess transport over a Popen started already."""

    def _start(self, args, shell, stdin, stdout, stderr, bufsize, popen=None, **kwargs):
        self._proc = popen
        self._failure = None

    def _child_done(self):
        """On the loop's thread, once the remote child has ended or its call
        has failed."""
        try:
            returncode = self._proc.poll()
        except (_subprocess.RemoteError, OSError) as e:
            self._failure = e
            returncode = -1  # for asyncio's bookkeeping; get_returncode() says None
        self._process_exited(returncode)

    def get_returncode(self):
        return None if self._failure is not None else super().get_returncode()

    async def _wait(self):
        returncode = await super()._wait()
        if self._failure is not None:
            raise self._failure
        return returncode


def _start_popen(loop, args, kwargs):
    """A future of rexec.subprocess.Popen(args, **kwargs), made on a thread of
    its own. Should the future be cancelled before the child started, the
    child is killed once it has."""
    future = loop.create_future()

    def settle(popen, error):
        if future.cancelled():
            if popen is not None:
                _abandon(popen)
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(popen)

    def start():
        try:
            popen = _subprocess.Popen(args, **kwargs)
        except BaseException as e:  # handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, e)
        else:
            try:
                loop.call_soon_threadsafe(settle, popen, None)
            except RuntimeError:  # the loop has closed meanwhile
                _abandon(popen)

    threading.Thread(target=start, daemon=True, name="rexec start").start()
    return future


def _abandon(popen):
    """A child nobody will own: stopped, its pipes closed."""
    popen.kill()
    for stream in (popen.stdin, popen.stdout, popen.stderr):
        if stream is not None:
            stream.close()
    threading.Thread(target=popen.wait, daemon=True, name="rexec abandoned").start()


def _tell_loop(loop, callback):
    """Runs callback on the loop, from another thread: unless the loop has
    closed meanwhile (a child that outlived its loop), as asyncio's own
    child watchers then only forget it."""
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:
        pass


async def _create(args, shell, stdin, stdout, stderr, limit, kwargs):
    loop = asyncio.get_running_loop()
    popen = await _start_popen(loop, args, dict(kwargs, shell=shell, stdin=stdin,
                                                stdout=stdout, stderr=stderr, bufsize=0))
    protocol = _asyncio_subprocess.SubprocessStreamProtocol(limit=limit, loop=loop)
    waiter = loop.create_future()
    transport = _RemoteSubprocessTransport(loop, protocol, args, shell, stdin, stdout,
                                           stderr, 0, waiter=waiter, popen=popen)
    popen._child.add_done_callback(lambda: _tell_loop(loop, transport._child_done))
    try:
        await waiter
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        transport.close()
        await transport._wait()
        raise
    return _asyncio_subprocess.Process(transport, protocol, loop)


def _check_bytes_only(universal_newlines, bufsize, text, encoding, errors):
    """What asyncio's loop.subprocess_exec and subprocess_shell refuse, as
    they refuse it: the streams are bytes and unbuffered."""
    if universal_newlines:
        raise ValueError("universal_newlines must be False")
    if bufsize != 0:
        raise ValueError("bufsize must be 0")
    if text:
        raise ValueError("text must be False")
    if encoding is not None:
        raise ValueError("encoding must be None")
    if errors is not None:
        raise ValueError("errors must be None")


async def create_subprocess_exec(program: Any, *args: Any, stdin: Any = None,
                                 stdout: Any = None, stderr: Any = None,
                                 limit: int = _DEFAULT_LIMIT, universal_newlines: bool = False,
                                 shell: bool = False, bufsize: int = 0,
                                 encoding: None = None, errors: None = None,
                                 text: bool | None = None,
                                 **kwds: Any) -> asyncio.subprocess.Process:
    """Create a remote subprocess: asyncio.create_subprocess_exec, with
    `server=` among the keyword arguments it passes to Popen."""
    if shell:
        raise ValueError("shell must be False")
    _check_bytes_only(universal_newlines, bufsize, text, encoding, errors)
    return await _create((program,) + args, False, stdin, stdout, stderr, limit, kwds)


async def create_subprocess_shell(cmd: str | bytes, stdin: Any = None, stdout: Any = None,
                                  stderr: Any = None, limit: int = _DEFAULT_LIMIT,
                                  universal_newlines: bool = False, shell: bool = True,
                                  bufsize: int = 0, encoding: None = None, errors: None = None,
                                  text: bool | None = None,
                                  **kwds: Any) -> asyncio.subprocess.Process:
    """Run the remote shell command cmd: asyncio.create_subprocess_shell,
    with `server=` among the keyword arguments it passes to Popen."""
    if not isinstance(cmd, (bytes, str)):
        raise ValueError("cmd must be a string")
    if not shell:
        raise ValueError("shell must be True")
    _check_bytes_only(universal_newlines, bufsize, text, encoding, errors)
    return await _create(cmd, True, stdin, stdout, stderr, limit, kwds)
