"""Fixtures: a real rexecd (the binary $REXECD) on 127.0.0.1:0, started once
for the session, and the ways a test reaches it.

Run as: cd clients/python && REXECD=/path/to/rexecd python3 -m pytest tests
"""
import sys

# Nothing of ours may leave __pycache__ in the source tree.
sys.dont_write_bytecode = True

import collections  # noqa: E402
import faulthandler  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))  # the package as it is, not installed

import rexec.subprocess  # noqa: E402


class Rexecd:
    """A rexecd child of the tests, listening on each of `listen`; its
    `addresses` (and `address`, the first) are read from its log. The log
    is drained all along (a server blocked on a full stderr pipe would stall
    every call), and its last lines kept for failures."""

    def __init__(self, *flags, listen=("127.0.0.1:0",)):
        binary = os.environ.get("REXECD")
        if not binary:
            pytest.fail("set REXECD to the rexecd binary to test against", pytrace=False)
        self.addresses = []
        self.log = collections.deque(maxlen=200)
        self._expected = len(listen)
        self._ready = threading.Event()
        listen_flags = [flag for address in listen for flag in ("--listen", address)]
        self.process = subprocess.Popen(
            [binary, *listen_flags, *flags], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(20) or len(self.addresses) < self._expected:
            self.stop()
            raise RuntimeError("rexecd did not start:\n" + "\n".join(self.log))
        self.address = self.addresses[0]

    def _drain(self):
        for line in self.process.stderr:
            self.log.append(line.rstrip("\n"))
            match = re.search(r"listening on (\S+)", line)
            if match:
                self.addresses.append(match.group(1))
                if len(self.addresses) == self._expected:
                    self._ready.set()
        self._ready.set()

    def stop(self):
        """SIGTERM, as an operator stops it; its exit status (0 when it
        drained cleanly)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def rexecd():
    server = Rexecd()
    yield server
    assert server.stop() == 0, "\n".join(server.log)


@pytest.fixture
def server(rexecd):
    """The session's rexecd address, for `server=`."""
    return rexecd.address


@pytest.fixture(autouse=True)
def _bounded_in_time():
    """A test that hangs (a wait that a broken feature never ends) fails the
    run with every thread's stack instead of holding it forever."""
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _no_rexec_environment(monkeypatch):
    """Whatever REXEC_* the caller's shell has does not reach a test."""
    for name in list(os.environ):
        if name.startswith("REXEC_"):
            monkeypatch.delenv(name)


@pytest.fixture
def remote(monkeypatch, server):
    """rexec.subprocess, reaching the session's rexecd through REXEC_SERVER."""
    monkeypatch.setenv("REXEC_SERVER", server)
    return rexec.subprocess
