"""One client, many children: calls spread over as many connections as
rexecd's per-connection stream limit asks for, so none waits unannounced."""
import threading

import pytest

import rexec
from rexec import subprocess as rsp

from rexecd_server import Rexecd


def start_all(client, count):
    """Starts `count` long-running children in a thread; the ones that
    started once it ended or 30 s passed (a start held back by the
    server's stream limit never returns)."""
    started = []

    def start():
        for _ in range(count):
            started.append(rsp.Popen(["sleep", "60"], stdout=rsp.DEVNULL, server=client))

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    starter.join(timeout=30)
    return started


def stop_all(children):
    for child in children:
        child.kill()
    for child in children:
        child.wait(timeout=20)


def test_300_children_of_one_client_all_start(rexecd):
    """rexecd takes 100 calls per connection by default."""
    with rexec.Client(rexecd.address) as client:
        children = start_all(client, 300)
        try:
            assert len(children) == 300
            assert all(child.pid for child in children)
        finally:
            stop_all(children)


def test_a_lower_server_limit_is_set_on_the_client():
    server = Rexecd("--max-streams-per-connection", "5")
    try:
        with rexec.Client(server.address, calls_per_connection=5) as client:
            children = start_all(client, 12)
            try:
                assert len(children) == 12
            finally:
                stop_all(children)
    finally:
        assert server.stop() == 0, "\n".join(server.log)


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError),
                                          ("5", TypeError), (True, TypeError)])
def test_calls_per_connection_is_checked(value, error):
    with pytest.raises(error, match="calls_per_connection"):
        rexec.Client("127.0.0.1:1", calls_per_connection=value)
