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
    """The returncode for an ExitStatus; ValueError for a signal this system
    has no number for."""
    if exit_status.WhichOneof("status") == "signal":
        return -signal_number(exit_status.signal)
    return exit_status.code


def signal_number(name):
    """The number of "SIGKILL", or of "SIG34" (rexecd's name for a signal
    that has none, e.g. a real-time one)."""
    try:
        return signal.Signals[name].value
    except KeyError:
        match = re.fullmatch(r"SIG([0-9]+)", name)
        if match is None:
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
