"""The errors of rexec calls, as Python's own exceptions.

A call that could not start its child because of the program or the working
directory fails as a local one would: rexecd's message ends with the errno
name ("spawn nosuch: not found in PATH (ENOENT)"), which becomes the OSError
subclass that errno selects (FileNotFoundError, PermissionError...), with
the filename subprocess would give. Every other failure of a call is a
RemoteError. Both carry the gRPC status.

Immutable values and pure functions; thread-safe.
"""
from __future__ import annotations

import errno as _errno
import os
import re
import subprocess as _stdlib_subprocess

import grpc

_ERRNO_NAME = re.compile(r"\((E[A-Z0-9]+)\)$")
# gRPC's words for a message over the channel's receive limit.
_TOO_LARGE = re.compile(r"^Received message larger than max \((\d+) vs\. (\d+)\)$")


class RemoteError(_stdlib_subprocess.SubprocessError):
    """A call to rexecd failed: refused, unreachable, or broken off.

    code: the grpc.StatusCode; details: the server's (or gRPC's) message.
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, details)
        self.code = code
        self.details = details

    def __str__(self) -> str:
        return f"{self.code.name}: {self.details}"


def _start_error(code, details, program, cwd):
    match = _ERRNO_NAME.search(details)
    number = getattr(_errno, match.group(1), None) if match else None
    if number is None:
        return None
    # subprocess names the directory when the chdir failed, else the program,
    # each as it was given (str, bytes or path).
    chdir_failed = cwd is not None and f": cwd {os.fsdecode(cwd)}: " in details
    filename = cwd if chdir_failed else program
    error = OSError(number, os.strerror(number), filename)
    error.grpc_code = code
    error.grpc_details = details
    return error


def from_rpc_error(error, program=None, cwd=None, server=None):
    """The exception for a failed call to `server`: an OSError subclass
    when it failed to start `program` (in `cwd`, both as the caller gave
    them) for a reason errno names, else RemoteError. Pass `program` only
    for an error of the start."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    too_large = _TOO_LARGE.match(details) if code == grpc.StatusCode.RESOURCE_EXHAUSTED else None
    if too_large is not None:
        # gRPC's text names neither the server nor whose limit it is.
        size, limit = too_large.groups()
        return RemoteError(code, f"rexec: a message from {server} of {size} bytes exceeds "
                                 f"the receive limit of {limit} bytes (Client's receive_limit)")
    if program is not None:
        start_error = _start_error(code, details, program, cwd)
        if start_error is not None:
            return start_error
    return RemoteError(code, details)
