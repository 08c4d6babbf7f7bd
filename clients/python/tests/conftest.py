"""Fixtures: a real rexecd (the binary $REXECD) on 127.0.0.1:0, started once
for the session, and the ways a test reaches it.

Run as: cd clients/python && REXECD=/path/to/rexecd python3 -m pytest tests
"""
import sys

# Nothing of ours may leave __pycache__ in the source tree.
sys.dont_write_bytecode = True

import faulthandler  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))  # the package as it is, not installed

import rexec.subprocess  # noqa: E402
from rexecd_server import Rexecd  # noqa: E402


@pytest.fixture(scope="session")
def rexecd():
    try:
        server = Rexecd()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
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
