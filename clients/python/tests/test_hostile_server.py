"""Against a hostile server (clients/hostile_server.py): what it sends past
the limits fails the call with an error naming it, memory stays bounded by
what we read, and an exit no process can have is an error, not a
returncode."""
import pathlib
import re
import time

import grpc
import pytest

import rexec
from rexec import subprocess as rsp
from rexecd_server import Rexecd

HOSTILE_SERVER = pathlib.Path(__file__).resolve().parents[2] / "hostile_server.py"
MIB = 1 << 20


@pytest.fixture(scope="module")
def hostile():
    server = Rexecd(binary=str(HOSTILE_SERVER))
    yield server
    assert server.stop() == 0, "\n".join(server.log)


def resident_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def flood_sent(server):
    """How much the server's flood has sent so far, by its log."""
    sent = [int(m.group(1)) for m in map(re.compile(r"flood: sent (\d+)").search, server.log) if m]
    return max(sent, default=0)


def test_a_message_over_the_limit_fails_the_call_naming_server_and_limit(hostile):
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(["big-message"], stdout=rsp.PIPE, server=hostile.address, timeout=20)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.details == (
        f"rexec: a message from {hostile.address} of {64 * MIB + 5} bytes exceeds "
        f"the receive limit of {4 * MIB} bytes (Client's receive_limit)")


def test_receive_limit_raises_the_limit(hostile):
    with rexec.Client(hostile.address, receive_limit=65 * MIB) as client:
        result = rsp.run(["big-message"], stdout=rsp.PIPE, server=client, timeout=20)
    assert len(result.stdout) == 64 * MIB


def test_unread_output_of_a_flood_stays_on_the_server(hostile):
    """A server that sends as fast as it may: what we do not read holds it
    back (our pipe, then gRPC's flow control) instead of piling up here,
    which would take a GiB."""
    before = resident_bytes()
    with rsp.Popen(["flood"], stdout=rsp.PIPE, server=hostile.address) as p:
        # Until the server is held back (it has sent, and its count stands
        # still for a second) or has sent the GiB.
        sent, deadline = 0, time.monotonic() + 15
        while ((sent == 0 or flood_sent(hostile) != sent) and sent < 1 << 30
               and time.monotonic() < deadline):
            sent = flood_sent(hostile)
            time.sleep(1)
        grown = resident_bytes() - before
        assert 0 < sent < 256 * MIB, f"the server sent {sent} bytes that nobody read"
        assert grown < 200 * MIB, f"{grown} bytes more resident"
        p.kill()
        assert p.wait(timeout=20) == -9


@pytest.mark.parametrize("program, said", [
    (["exit", "300"], "exit code 300, outside 0-255"),
    (["exit", "256"], "exit code 256, outside 0-255"),
    (["exit", "-1"], "exit code -1, outside 0-255"),
    (["signal", "SIG99"], "signal 'SIG99', which this system does not have"),
    (["signal", "SIGNOPE"], "signal 'SIGNOPE', which this system does not have"),
    (["no-status"], "an exit with neither a code nor a signal"),
])
def test_an_exit_no_process_can_have_is_an_error(hostile, program, said):
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(program, server=hostile.address, timeout=20)
    assert caught.value.details == f"rexec: {hostile.address} sent {said}"
