"""What a remote child's end means here: subprocess's returncode (the exit
code, or minus the signal number), and the signal names rexecd reads.

Signals cross the wire by name, so they mean the same on both machines; a
returncode uses this machine's numbering (-signal.SIGUSR1 is the same test
on Linux and macOS).

Pure functions; thread-safe.
"""
import errno
import os
import re
import signal


def returncode(exit_status):
    """The returncode for an ExitStatus; ValueError, saying what was wrong,
    for one that no process can end with (a server's error or lie): an
    exit code outside 0-255, a signal this system has no number for, or
    neither. Never wrapped into range: exit code 256 would read as 0."""
    status = exit_status.WhichOneof("status")
    if status == "signal":
        try:
            return -signal_number(exit_status.signal)
        except ValueError:
            raise ValueError(f"signal {exit_status.signal!r}, which this system does not have") from None
    if status is None:
        raise ValueError("an exit with neither a code nor a signal")
    if not 0 <= exit_status.code <= 255:
        raise ValueError(f"exit code {exit_status.code}, outside 0-255")
    return exit_status.code


def signal_number(name):
    """The number of "SIGKILL", or of "SIG34" (rexecd's name for a signal
    that has none, e.g. a real-time one, from 1 to SIGRTMAX)."""
    try:
        return signal.Signals[name].value
    except KeyError:
        match = re.fullmatch(r"SIG([1-9][0-9]*)", name)
        if match is None or int(match.group(1)) > signal.SIGRTMAX:
            raise ValueError(f"{name}: no such signal on this system") from None
        return int(match.group(1))


def signal_name(sig):
    """The name rexecd takes for a signal number (or signal.Signals): its
    own, or "SIG34" for a real-time one, which has no abbreviation. OSError
    EINVAL for a number that is no signal, as kill(2) answers."""
    number = int(sig)  # signal.Signals has no member for SIGRTMIN + n
    if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
        return f"SIG{number}"
    try:
        return signal.Signals(number).name
    except ValueError:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL)) from None
