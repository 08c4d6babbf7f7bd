"""Keepalive: a call to a server that froze (SIGSTOP) fails UNAVAILABLE
within a bounded time, and the default keepalive is within a default
rexecd's ping policy (no GOAWAY too_many_pings)."""
import os
import signal
import time

import grpc
import pytest

import rexec
from rexec import subprocess as rsp

from rexecd_server import Rexecd


def gone(pid):
    """Whether `pid` is gone, polled for up to 10 s: the server runs here."""
    for _ in range(500):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("after", [0, 4.5])
def test_a_call_to_a_server_that_froze_fails_unavailable(after):
    # gRPC sends two pings, by default, and then none until a data or header
    # frame comes back: a silent call would not see the server freeze after
    # them. The server takes a ping a second here.
    server = Rexecd("--keepalive-min-time", "1s")
    try:
        with rexec.Client(server.address, keepalive_time=1, keepalive_timeout=1) as client:
            child = rsp.Popen(["sleep", "1000"], server=client)  # returns once it runs
            time.sleep(after)  # what is waited for is time itself: pings, answered
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                with pytest.raises(rexec.RemoteError) as failure:
                    child.wait(timeout=30)
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            assert failure.value.code == grpc.StatusCode.UNAVAILABLE, failure.value
            # Running again, the server finds the connection gone and stops
            # the child.
            assert gone(child.pid)
    finally:
        assert server.stop() == 0, "\n".join(server.log)


def test_the_default_keepalive_keeps_a_silent_call_to_a_default_rexecd(rexecd):
    # Pings come in seconds if a default were off by a unit, and the fourth
    # too soon would close the connection (GOAWAY too_many_pings).
    with rexec.Client(rexecd.address) as client:
        assert rsp.run(["sleep", "12"], server=client, timeout=60).returncode == 0


@pytest.mark.parametrize("options, error", [
    ({"keepalive_time": -1}, ValueError),
    ({"keepalive_time": float("nan")}, ValueError),
    ({"keepalive_time": "30"}, TypeError),
    ({"keepalive_timeout": 0}, ValueError),
    ({"keepalive_timeout": 2.0 ** 31}, ValueError),
])
def test_keepalive_options_are_checked(options, error):
    with pytest.raises(error):
        rexec.Client("127.0.0.1:1", **options)


def test_a_keepalive_time_of_0_sends_no_pings():
    rexec.Client("127.0.0.1:1", keepalive_time=0).close()
