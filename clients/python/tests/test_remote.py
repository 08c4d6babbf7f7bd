"""What only a remote child has: choosing the server, the package's own
errors, the options a remote child cannot take, stdin=None, and bounded
buffering both ways."""
import os
import select
import signal
import subprocess
import sys
import threading
import time

import grpc
import pytest

import conftest
import rexec
import rexec.remote_child
from rexec import subprocess as rsp
from rexecd_server import Rexecd


def test_server_by_argument(server):
    result = rsp.run(["echo", "hi"], capture_output=True, server=server)
    assert result.stdout == b"hi\n"


def test_server_from_rexec_server(monkeypatch, server):
    monkeypatch.setenv("REXEC_SERVER", server)
    assert rsp.check_output(["echo", "hi"]) == b"hi\n"


def test_server_as_a_client(server):
    with rexec.Client(server) as client:
        assert rsp.check_output(["echo", "hi"], server=client) == b"hi\n"
        with rsp.Popen(["cat"], stdin=rsp.PIPE, stdout=rsp.PIPE, server=client) as p:
            assert p.communicate(b"x")[0] == b"x"


def test_the_default_server_is_the_clis(monkeypatch):
    assert rexec.Client().server == "unix:/run/rexec/rexecd.sock"
    monkeypatch.setenv("REXEC_SERVER", "unix:/nowhere")
    assert rexec.Client().server == "unix:/nowhere"


def test_check_call_raises_for_a_child_killed_by_a_signal(server):
    """A signal's returncode is negative: not 0, so not a success."""
    with pytest.raises(subprocess.CalledProcessError) as caught:
        rsp.check_call(["sh", "-c", "kill -9 $$"], server=server)
    assert caught.value.returncode == -signal.SIGKILL


def test_an_unreachable_server_is_a_remote_error():
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(["true"], server="127.0.0.1:1")
    assert isinstance(caught.value, subprocess.SubprocessError)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert caught.value.details
    assert str(caught.value).startswith("UNAVAILABLE: ")


def test_a_refused_start_is_a_remote_error(server):
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(["true"], user="no-such-user-of-rexec", server=server)
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert "no-such-user-of-rexec" in caught.value.details


def test_a_call_that_breaks_off_raises_once():
    """The server dies under running children (one of them kills it):
    wait() and poll() raise the call's RemoteError, run() raises it, and
    kill() has nothing left to signal."""
    doomed = Rexecd()
    try:
        p = rsp.Popen(["sleep", "3"], server=doomed.address)
        with pytest.raises(rexec.RemoteError):
            rsp.run(["sh", "-c", "kill -KILL $PPID; sleep 3"], server=doomed.address,
                    timeout=30)
        with pytest.raises(rexec.RemoteError) as caught:
            p.wait(timeout=30)
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(rexec.RemoteError):
            p.poll()
        p.kill()  # nothing left to signal: no error
        assert p.returncode is None
    finally:
        doomed.process.wait(timeout=30)


def test_start_errors_carry_the_status(server):
    with pytest.raises(FileNotFoundError) as caught:
        rsp.run(["no-such-program-of-rexec"], server=server)
    assert caught.value.grpc_code == grpc.StatusCode.NOT_FOUND
    assert caught.value.grpc_details.endswith("(ENOENT)")


@pytest.mark.parametrize("option, value", [
    ("preexec_fn", os.getpid), ("pass_fds", (3,)),
    ("restore_signals", False), ("process_group", 5)])
def test_local_only_options_are_refused_by_name(server, option, value):
    with pytest.raises(ValueError, match=f"{option}="):
        rsp.Popen(["true"], server=server, **{option: value})


MARK = "REXEC_TEST_CALLERS_OWN"


@pytest.mark.parametrize("child_env, seen", [("server", b"unset"), ("caller", b"ours")])
def test_env_none_is_the_servers_environment_or_ours_by_one_switch(
        monkeypatch, server, child_env, seen):
    # The session's rexecd started before this variable was set here.
    monkeypatch.setenv(MARK, "ours")
    script = f"import os; print(os.environ.get({MARK!r}, 'unset'))"
    with rexec.Client(server, child_env=child_env) as client:
        assert rsp.check_output([sys.executable, "-c", script], server=client).strip() == seen
    # The default clients read REXEC_CHILD_ENV.
    monkeypatch.setenv("REXEC_CHILD_ENV", child_env)
    monkeypatch.setenv("REXEC_SERVER", server)
    assert rsp.check_output([sys.executable, "-c", script]).strip() == seen
    # env={...} is the whole environment either way.
    assert rsp.check_output(["env"], env={"ONLY": "1"}) == b"ONLY=1\n"


def test_a_wrong_child_env_is_refused_naming_it(monkeypatch, server):
    with pytest.raises(ValueError, match="child_env='ours'"):
        rexec.Client(server, child_env="ours")
    monkeypatch.setenv("REXEC_CHILD_ENV", "local")
    with pytest.raises(ValueError, match="REXEC_CHILD_ENV='local'"):
        rsp.run(["true"], server=server)


def test_close_fds_false_still_gives_only_the_standard_three(server, tmp_path):
    """No fd of ours can reach the server: an inheritable one that a local
    child would get with close_fds=False is not the remote child's."""
    with open(tmp_path / "kept", "wb") as f:
        os.set_inheritable(f.fileno(), True)
        listing = rsp.check_output(["ls", "/proc/self/fd"], close_fds=False, server=server)
    # ls's own directory fd is the one past 2.
    assert sorted(int(fd) for fd in listing.split()) == [0, 1, 2, 3]


def test_stdin_none_is_empty(server):
    """Not ours: a program whose own stdin has data gives its remote child
    none of it (a local child would read it)."""
    program = ("import sys; sys.path.insert(0, sys.argv[1]); from rexec import subprocess; "
               "r = subprocess.run(['cat'], capture_output=True, timeout=10, server=sys.argv[2]); "
               "print(r.returncode, r.stdout)")
    result = subprocess.run([sys.executable, "-c", program, str(conftest.PACKAGE_ROOT), server],
                            input=b"ours\n", capture_output=True, timeout=60)
    assert (result.stdout, result.stderr) == (b"0 b''\n", b"")


def test_the_environment_is_the_servers_without_env(server, monkeypatch):
    monkeypatch.setenv("REXEC_ONLY_HERE", "1")
    remote_env = rsp.check_output(["env"], server=server)
    assert b"REXEC_ONLY_HERE" not in remote_env
    assert b"PATH=" in remote_env


def test_cwd_none_is_the_servers_directory(tmp_path):
    """A rexecd of its own in another directory than ours."""
    server = Rexecd(cwd=tmp_path)
    try:
        assert os.getcwd() != str(tmp_path)
        assert rsp.check_output(["pwd"], text=True, server=server.address) == f"{tmp_path}\n"
    finally:
        assert server.stop() == 0


def test_signals_reach_the_process_group(server):
    """terminate() ends the shell's background child too: the signal goes
    to the child's process group, which the child leads."""
    with rsp.Popen(["sh", "-c", "sleep 30 & echo $!; wait"], stdout=rsp.PIPE,
                   server=server) as p:
        grandchild = int(p.stdout.readline())
        p.terminate()
        assert p.wait(timeout=20) == -signal.SIGTERM
    assert gone(grandchild)


def test_the_child_ends_with_the_program_that_started_it(server, tmp_path):
    """A local child outlives a parent that exits; a remote one is stopped
    with its call."""
    program = ("import sys\n"
               "from rexec import subprocess\n"
               "p = subprocess.Popen(['sleep', '60'], server=sys.argv[1])\n"
               "print(p.pid, flush=True)\n")
    environment = dict(os.environ, PYTHONPATH=str(conftest.PACKAGE_ROOT),
                       PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-c", program, server], capture_output=True,
                            text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    assert gone(int(result.stdout))


def gone(pid):
    """Whether the process `pid` (on this machine, where the tests' rexecd
    runs) has ended, waiting up to 20 s for its pidfd to say so."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], 20)[0])
    finally:
        os.close(pidfd)


def test_real_time_signals_go_by_number(server):
    with rsp.Popen(["sleep", "30"], server=server) as p:
        p.send_signal(signal.SIGRTMIN + 2)
        assert p.wait(timeout=20) == -(signal.SIGRTMIN + 2)


def test_unread_output_makes_the_child_wait(server):
    """64 MiB nobody reads: the child blocks (on its pipe, the server's
    outbox, gRPC's window, our pipe buffer) instead of all of it piling up
    here; once read, it all arrives."""
    size = 64 << 20
    with rsp.Popen(["head", "-c", str(size), "/dev/zero"], stdout=rsp.PIPE,
                   server=server) as p:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=2)
        total = 0
        while True:
            chunk = p.stdout.read1(1 << 20)
            if not chunk:
                break
            total += len(chunk)
        assert total == size
        assert p.wait(timeout=10) == 0


def test_a_child_that_does_not_read_blocks_the_writer_and_kill_frees_it(server):
    """stdin the child never reads holds up writes, as a full pipe does; and
    it would hold up a signal behind it, so kill() ends the call, and the
    writer gets BrokenPipeError."""
    p = rsp.Popen(["sleep", "30"], stdin=rsp.PIPE, server=server)
    outcome = []

    def write():
        try:
            for _ in range(64):
                p.stdin.write(b"x" * (1 << 20))
            outcome.append("wrote it all")
        except BrokenPipeError:
            outcome.append("broken pipe")

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=2)
    assert writer.is_alive(), "64 MiB went into a child that does not read"
    began = time.monotonic()
    p.kill()
    assert p.wait(timeout=20) == -signal.SIGKILL
    assert time.monotonic() - began < 15
    writer.join(timeout=10)
    assert outcome == ["broken pipe"]
    with pytest.raises(BrokenPipeError):
        p.stdin.write(b"more")
        p.stdin.flush()



def test_run_timeout_with_input_the_child_never_reads(server, monkeypatch):
    """The SIGKILL that run() sends at its timeout cannot get past the stdin
    the child does not read; the call is cancelled at once instead of after
    kill()'s grace (made too long here to be what ends it)."""
    monkeypatch.setattr(rexec.remote_child, "KILL_GRACE_SECONDS", 600)
    outcome = []

    def run():
        try:
            rsp.run(["sleep", "60"], input=b"x" * (8 << 20), timeout=1, server=server)
        except subprocess.TimeoutExpired as e:
            outcome.append(type(e))

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert outcome == [subprocess.TimeoutExpired]


def test_nothing_left_behind(server, tmp_path):
    """Each process's threads end and the fds it held (duplicates of the
    caller's files, wake-up pipes) are closed: only the connection stays."""
    def threads():
        return {t for t in threading.enumerate() if t.name.startswith("rexec")}

    with rexec.Client(server) as client:
        rsp.run(["true"], server=client)  # the connection is made
        fds_before = set(os.listdir("/proc/self/fd"))
        (tmp_path / "in").write_bytes(b"data\n")
        for _ in range(3):
            with open(tmp_path / "in", "rb") as source, open(tmp_path / "out", "wb") as sink:
                rsp.run(["cat"], stdin=source, stdout=sink, stderr=sink, server=client)
            p1 = rsp.Popen(["printf", "x"], stdout=rsp.PIPE, server=client)
            p2 = rsp.Popen(["cat"], stdin=p1.stdout, stdout=rsp.PIPE, server=client)
            p1.stdout.close()
            assert p2.communicate(timeout=10) == (b"x", None)
            assert p1.wait(timeout=10) == 0
            with open(tmp_path / "in", "rb") as source, pytest.raises(FileNotFoundError):
                rsp.run(["no-such-program-of-rexec"], stdin=source, stdout=source.fileno(),
                        server=client)
        for thread in threads():
            thread.join(timeout=10)
        assert not threads()
        assert set(os.listdir("/proc/self/fd")) == fds_before


def test_a_kill_is_not_stuck_behind_stdin_the_child_does_not_read(server):
    """10 MB to a child that never reads, then kill(): rexecd reads past the
    stdin that waits for the pipe, so the signal reaches the child."""
    p = rsp.Popen(["sleep", "1000"], stdin=rsp.PIPE, server=server)
    writer = threading.Thread(
        target=lambda: p.stdin.write(b"x" * (10 << 20)), daemon=True)
    writer.start()
    writer.join(timeout=20)
    assert not writer.is_alive(), "the write of 10 MB never returned"
    p.kill()
    assert p.wait(timeout=20) == -signal.SIGKILL
