"""rexec.asyncio side by side with asyncio's own subprocess functions: the
same coroutine, given asyncio or rexec.asyncio (to the session's rexecd),
must observe the same."""
import asyncio
import signal

import pytest

import rexec
import rexec.asyncio

from rexecd_server import Rexecd

PIPE = asyncio.subprocess.PIPE
STDOUT = asyncio.subprocess.STDOUT
CASES = []


def case(function):
    CASES.append(function)
    return function


async def outcome(awaitable):
    try:
        return ("returned", await awaitable)
    except OSError as e:
        return (type(e), e.errno, e.filename)
    except (ValueError, TypeError) as e:
        return (type(e), str(e))


@pytest.mark.parametrize("run_case", CASES, ids=lambda f: f.__name__)
def test_same_as_local(run_case, remote):
    local = asyncio.run(asyncio.wait_for(run_case(asyncio), 30))
    observed = asyncio.run(asyncio.wait_for(run_case(rexec.asyncio), 30))
    assert observed == local


@case
async def communicate_through_pipes(aio):
    proc = await aio.create_subprocess_exec("sh", "-c", "tr a-z A-Z; echo err >&2; exit 3",
                                            stdin=PIPE, stdout=PIPE, stderr=PIPE)
    out, err = await proc.communicate(b"hello\n")
    return (type(proc), out, err, proc.returncode, await proc.wait())


@case
async def shell_with_stderr_to_stdout(aio):
    proc = await aio.create_subprocess_shell("echo $((6 * 7)) >&2", stdout=PIPE, stderr=STDOUT)
    return (await proc.stdout.read(), await proc.wait(), proc.stderr)


@case
async def a_conversation_line_by_line(aio):
    proc = await aio.create_subprocess_exec("sh", "-c", "while read x; do echo got $x; done",
                                            stdin=PIPE, stdout=PIPE)
    lines = []
    for word in (b"one", b"two"):
        proc.stdin.write(word + b"\n")
        await proc.stdin.drain()
        lines.append(await proc.stdout.readline())
    proc.stdin.close()
    return (lines, await proc.stdout.read(), await proc.wait())


@case
async def signals_end_it(aio):
    codes = []
    for send in (lambda p: p.terminate(), lambda p: p.kill(),
                 lambda p: p.send_signal(signal.SIGUSR1)):
        proc = await aio.create_subprocess_exec("sleep", "30")
        send(proc)
        codes.append(await proc.wait())
    return codes


@case
async def large_output(aio):
    proc = await aio.create_subprocess_exec("head", "-c", "3000000", "/dev/zero", stdout=PIPE)
    out, _ = await proc.communicate()
    return (len(out), proc.returncode)


@case
async def refused_as_asyncio_refuses(aio):
    return (await outcome(aio.create_subprocess_exec("nosuch-program-of-rexec")),
            await outcome(aio.create_subprocess_exec("true", text=True)),
            await outcome(aio.create_subprocess_exec("true", bufsize=1)),
            await outcome(aio.create_subprocess_shell(["true"])),
            await outcome(aio.create_subprocess_exec("true", shell=True)))


def test_the_children_run_on_the_server(rexecd):
    async def parent_of_child():
        proc = await rexec.asyncio.create_subprocess_exec(
            "sh", "-c", "echo $PPID", stdout=PIPE, server=rexecd.address)
        out, _ = await proc.communicate()
        return int(out)

    assert asyncio.run(parent_of_child()) == rexecd.process.pid


def test_a_broken_call_raises_from_wait():
    """The server dies: wait() raises the call's RemoteError, and returncode
    stays None (as rexec.subprocess's wait() and poll())."""
    doomed = Rexecd()

    async def run():
        proc = await rexec.asyncio.create_subprocess_exec("sleep", "3", server=doomed.address)
        doomed.process.kill()
        with pytest.raises(rexec.RemoteError):
            await proc.wait()
        return proc.returncode

    try:
        assert asyncio.run(asyncio.wait_for(run(), 30)) is None
    finally:
        doomed.process.wait(timeout=30)
