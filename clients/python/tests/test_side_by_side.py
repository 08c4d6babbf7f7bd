"""The same cases through the standard library's subprocess and through
rexec.subprocess (to the session's rexecd, on this machine): what a program
observes must be the same, exceptions and their fields included.

Each case takes the module (and a scratch directory) and returns what it
observed; the test runs it both ways and compares.
"""
import gc
import hashlib
import os
import pathlib
import select
import selectors
import signal
import subprocess
import sys
import time
import warnings

import pytest

CASES = []


def case(function):
    CASES.append(function)
    return function


def outcome(function, *args, **kwargs):
    """What a call returned, or the type and fields of what it raised."""
    try:
        return ("returned", function(*args, **kwargs))
    except subprocess.TimeoutExpired as e:
        return (type(e), e.cmd, e.timeout, e.stdout, e.stderr, str(e))
    except subprocess.CalledProcessError as e:
        return (type(e), e.returncode, e.cmd, e.output, e.stderr, str(e))
    except OSError as e:
        return (type(e), e.errno, e.strerror, e.filename, str(e))
    except (ValueError, TypeError, subprocess.SubprocessError) as e:
        return (type(e), str(e))


def completed(result):
    return (result.args, result.returncode, result.stdout, result.stderr)


def digest(data):
    return (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("run_case", CASES, ids=lambda f: f.__name__)
def test_same_as_local(run_case, remote, tmp_path):
    local = run_case(subprocess, tmp_path)
    observed = run_case(remote, tmp_path)
    assert observed == local


# ---- exit status and output ------------------------------------------------

@case
def exit_code_and_both_streams(sp, tmp):
    return completed(sp.run(["sh", "-c", "echo out; echo err >&2; exit 3"],
                            capture_output=True))


@case
def text_mode_decodes_and_translates_newlines(sp, tmp):
    return completed(sp.run(["printf", "h\u00e9\\r\\nx\\ry\\n"], capture_output=True,
                            encoding="utf-8"))


@case
def errors_replace_and_universal_newlines(sp, tmp):
    return completed(sp.run(["printf", "\\377ok\\r\\n"], stdout=sp.PIPE,
                            universal_newlines=True, encoding="utf-8", errors="replace"))


@case
def bytes_and_path_arguments(sp, tmp):
    return completed(sp.run([b"echo", pathlib.Path("a/b"), "c"], stdout=sp.PIPE))


@case
def killed_by_a_signal_is_negative(sp, tmp):
    return sp.run(["sh", "-c", "kill -TERM $$"]).returncode


@case
def check_raises_called_process_error(sp, tmp):
    return outcome(sp.run, ["sh", "-c", "echo o; echo e >&2; exit 2"],
                   capture_output=True, check=True)


@case
def check_output_returns_stdout(sp, tmp):
    return (outcome(sp.check_output, ["echo", "hi"]),
            outcome(sp.check_output, ["sh", "-c", "echo partial; exit 5"]),
            outcome(sp.check_output, ["cat"], input=None, text=True),
            outcome(sp.check_output, ["echo"], stdout=sp.PIPE))


@case
def call_and_check_call(sp, tmp):
    return (sp.call(["sh", "-c", "exit 4"]),
            outcome(sp.check_call, ["sh", "-c", "exit 4"]),
            outcome(sp.check_call, ["true"]))


@case
def getstatusoutput_merges_and_strips(sp, tmp):
    return (sp.getstatusoutput("echo out; echo err >&2; exit 3"),
            sp.getoutput("echo hi"))


@case
def pid_is_the_childs(sp, tmp):
    with sp.Popen(["sh", "-c", "echo $$"], stdout=sp.PIPE) as p:
        return (int(p.stdout.read()) == p.pid, p.wait(timeout=10))


# ---- start errors ------------------------------------------------------------

@case
def missing_program(sp, tmp):
    return outcome(sp.run, ["no-such-program-of-rexec", "x"])


@case
def program_not_executable(sp, tmp):
    script = tmp / "not-executable"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    return (outcome(sp.run, [str(script)]), outcome(sp.run, [str(tmp)]))


@case
def missing_or_wrong_cwd(sp, tmp):
    (tmp / "file").write_text("")
    return (outcome(sp.run, ["true"], cwd=tmp / "no-such-dir"),
            outcome(sp.run, ["true"], cwd=tmp / "file"))


@case
def bad_arguments(sp, tmp):
    return (outcome(sp.run, ["echo", "a\0b"]),
            outcome(sp.run, ["true"], env={"A=B": "1"}),
            outcome(sp.run, ["cat"], input=b"x", stdin=sp.PIPE),
            outcome(sp.run, ["true"], text=True, universal_newlines=False),
            outcome(sp.run, pathlib.Path("/bin/true"), shell=True),
            outcome(sp.run, ["true"], capture_output=True, stdout=sp.PIPE))


# ---- environment, directory, shell, executable ------------------------------

@case
def env_is_the_whole_environment(sp, tmp):
    result = sp.run(["env"], env={"A": "1", "B": "two words", "C": ""}, capture_output=True)
    return (result.returncode, sorted(result.stdout.splitlines()), result.stderr)


@case
def program_found_in_the_path_of_env(sp, tmp):
    (tmp / "bin").mkdir(exist_ok=True)
    tool = tmp / "bin" / "rexec-test-tool"
    tool.write_text("#!/bin/sh\necho tool \"$@\"\n")
    tool.chmod(0o755)
    return completed(sp.run(["rexec-test-tool", "x"], env={"PATH": str(tmp / "bin")},
                            capture_output=True))


@case
def bytes_and_undecodable_environment(sp, tmp):
    env = {b"A\xff": b"v\xfe", "B": "x\udcff", b"C": "plain", "D": b"\x80"}
    result = sp.run(["env"], env=env, capture_output=True)
    return (result.returncode, sorted(result.stdout.splitlines()),
            outcome(sp.run, ["true"], env={b"A=B": b"1"}),
            outcome(sp.run, ["true"], env={"A": "a\0b"}))


@case
def start_new_session_process_group_and_umask(sp, tmp):
    script = ("import os; print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid(),"
              " oct(os.umask(0)))")
    return [sp.run([sys.executable, "-c", script], capture_output=True, text=True, **options).stdout
            for options in ({"start_new_session": True, "umask": 0o027},
                            {"process_group": 0, "umask": 0o1077},
                            {"process_group": 0, "umask": 0})]


@case
def cwd(sp, tmp):
    return completed(sp.run(["pwd"], cwd=tmp, capture_output=True))


@case
def shell(sp, tmp):
    return completed(sp.run('echo "$0" "$X" $((1+2)); exit 7', shell=True,
                            env={"X": "x"}, capture_output=True))


@case
def executable_replaces_the_program_not_its_name(sp, tmp):
    return (completed(sp.run(["seen-name", "-c", 'echo "$0"'], executable="/bin/sh",
                             capture_output=True)),
            completed(sp.run('echo "$0"', shell=True, executable="/bin/bash",
                             capture_output=True)))


# ---- stdin, input, communicate ---------------------------------------------

@case
def input_through_run(sp, tmp):
    return (completed(sp.run(["cat"], input=b"abc", capture_output=True)),
            completed(sp.run(["cat"], input="h\u00e9\r\n", capture_output=True, text=True,
                             encoding="utf-8")))


@case
def communicate_with_text(sp, tmp):
    with sp.Popen(["sh", "-c", "tr a-z A-Z; echo done >&2"], stdin=sp.PIPE,
                  stdout=sp.PIPE, stderr=sp.PIPE, text=True) as p:
        out, err = p.communicate("hello\n")
        return (out, err, p.returncode, p.stdout.closed, p.stderr.closed, p.stdin.closed)


@case
def communicate_once_all_output_is_in(sp, tmp):
    with sp.Popen(["sh", "-c", "echo out; echo err >&2"], stdout=sp.PIPE,
                  stderr=sp.PIPE) as p:
        err = p.stderr.read()  # to EOF: stdout's data and EOF are in too
        began = time.monotonic()
        # Nothing more will happen: it must return at once, not at the
        # deadline (which would wake a waiter that missed what was in).
        return (err, outcome(p.communicate, timeout=5), time.monotonic() - began < 4)


@case
def communicate_after_closing_stdin(sp, tmp):
    with sp.Popen(["sh", "-c", "cat >&2"], stdin=sp.PIPE, stderr=sp.DEVNULL) as alone:
        alone.stdin.write(b"x")
        alone.stdin.close()
        only_stdin = (outcome(alone.communicate), alone.returncode)
    with sp.Popen(["cat"], stdin=sp.PIPE, stdout=sp.PIPE) as p:
        p.stdin.write(b"x")
        p.stdin.close()
        with_stdout = outcome(p.communicate)
        rest = (p.stdout.read(), p.wait(timeout=10))
    return (only_stdin, with_stdout, rest)


@case
def communicate_after_a_readline(sp, tmp):
    with sp.Popen(["printf", "a\\nb\\n"], stdout=sp.PIPE) as p:
        return (p.stdout.readline(), p.communicate())


@case
def stdin_and_stdout_as_pipes_interactively(sp, tmp):
    with sp.Popen(["cat"], stdin=sp.PIPE, stdout=sp.PIPE) as p:
        p.stdin.write(b"line one\n")
        p.stdin.flush()
        first = p.stdout.readline()
        p.stdin.write(b"two\n")
        p.stdin.close()
        return (first, p.stdout.read(), p.wait(timeout=10))


@case
def stdout_iterates_by_line(sp, tmp):
    with sp.Popen(["printf", "a\\nb\\nc"], stdout=sp.PIPE, text=True) as p:
        return (list(p.stdout), p.wait(timeout=10))


@case
def unbuffered_and_line_buffered_pipes(sp, tmp):
    with sp.Popen(["cat"], stdin=sp.PIPE, stdout=sp.PIPE, bufsize=0) as p:
        p.stdin.write(b"raw\n")
        raw = (type(p.stdin).__name__ != "BufferedWriter", p.stdout.read(4))
        p.stdin.close()
    with sp.Popen(["cat"], stdin=sp.PIPE, stdout=sp.PIPE, bufsize=1, text=True) as p:
        p.stdin.write("line\n")  # line buffering: no flush needed
        line = p.stdout.readline()
        p.stdin.close()
    return (raw, line)


@case
def stdin_and_stdout_as_files(sp, tmp):
    source = tmp / "in"
    source.write_bytes(b"from a file\n")
    with open(source, "rb") as f:
        from_file = completed(sp.run(["cat"], stdin=f, capture_output=True))
    with open(tmp / "out", "wb") as f:
        f.write(b"before\n")
        f.flush()
        sp.run(["sh", "-c", "echo out; echo err >&2"], stdout=f, stderr=sp.DEVNULL)
        sp.run(["sh", "-c", "echo out; echo err >&2"], stdout=sp.DEVNULL, stderr=f.fileno())
    return (from_file, (tmp / "out").read_bytes())


@case
def devnull(sp, tmp):
    return (completed(sp.run(["cat"], stdin=sp.DEVNULL, capture_output=True)),
            completed(sp.run(["sh", "-c", "echo o; echo e >&2"], stdout=sp.DEVNULL,
                             stderr=sp.PIPE)))


@case
def pipeline(sp, tmp):
    p1 = sp.Popen(["printf", "b\\nc\\na\\n"], stdout=sp.PIPE)
    p2 = sp.Popen(["sort"], stdin=p1.stdout, stdout=sp.PIPE)
    p1.stdout.close()  # as the subprocess docs say: p1 may get SIGPIPE
    out = p2.communicate(timeout=10)[0]
    return (out, p1.wait(timeout=10), p2.returncode)


@case
def pipes_are_file_descriptors(sp, tmp):
    """select, selectors and os.read on the pipes, as programs do with them."""
    with sp.Popen(["sh", "-c", "read x; echo got $x; echo err >&2; sleep 0.2; echo late"],
                  stdin=sp.PIPE, stdout=sp.PIPE, stderr=sp.PIPE, bufsize=0) as p:
        idle = select.select([p.stdout, p.stderr], [], [], 0.1)[0]
        os.write(p.stdin.fileno(), b"it\n")
        got = []
        with selectors.DefaultSelector() as selector:
            selector.register(p.stdout, selectors.EVENT_READ, "out")
            selector.register(p.stderr, selectors.EVENT_READ, "err")
            for _ in range(200):  # until both are at EOF (a few events each)
                if not selector.get_map():
                    break
                for key, _ in selector.select(timeout=10):
                    data = os.read(key.fd, 100)
                    if data:
                        got.append((key.data, data))
                    else:
                        selector.unregister(key.fileobj)
        p.stdin.close()
        lines = {name: b"".join(d for n, d in got if n == name) for name in ("out", "err")}
        return (idle, lines, p.wait(timeout=10))


@case
def writing_to_a_child_that_is_gone(sp, tmp):
    with sp.Popen(["true"], stdin=sp.PIPE) as p:
        p.wait(timeout=10)
        try:
            p.stdin.write(b"x")
            p.stdin.flush()
            written = "written"
        except BrokenPipeError as e:
            written = (type(e), e.errno)
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
    return written


@case
def a_failed_start_leaves_nothing_to_say(sp, tmp):
    """Nothing from __del__ (no ResourceWarning, no ignored exception) once
    a constructor has failed, and its pipes are closed."""
    unraisable = []
    gc.collect()  # what earlier tests left is not this one's
    pipes_before = open_pipes()
    old_hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            failed = (outcome(sp.Popen, ["no-such-program-of-rexec"], stdin=sp.PIPE,
                              stdout=sp.PIPE, stderr=sp.PIPE),
                      outcome(sp.Popen, ["true"], stdout=sp.PIPE, no_such_argument=1),
                      outcome(sp.Popen, ["true"], stdout=sp.PIPE, bufsize="x"))
            gc.collect()
    finally:
        sys.unraisablehook = old_hook
    return (failed, unraisable, [str(w.message) for w in caught],
            open_pipes() == pipes_before)


def open_pipes():
    """The pipes this process has open (not the sockets and eventfds a gRPC
    connection opens and closes as it pleases)."""
    pipes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:
            continue  # the listing's own fd
        if target.startswith("pipe:"):
            pipes.add((name, target))
    return pipes


@case
def list2cmdline(sp, tmp):
    return sp.list2cmdline(["a b", 'c"d', "", "e\\", "f"])


# ---- large data ------------------------------------------------------------

@case
def several_mib_out(sp, tmp):
    result = sp.run(["sh", "-c", "yes 0123456789abcdef | head -c 8388608; echo end >&2"],
                    capture_output=True)
    with sp.Popen(["head", "-c", "6000000", "/dev/zero"], stdout=sp.PIPE) as p:
        read = digest(p.stdout.read())
    return (result.returncode, digest(result.stdout), result.stderr, read)


@case
def several_mib_in(sp, tmp):
    data = bytes(range(256)) * (8 * 4096 + 17)
    echoed = sp.run(["cat"], input=data, capture_output=True)
    with sp.Popen(["wc", "-c"], stdin=sp.PIPE, stdout=sp.PIPE) as p:
        for start in range(0, len(data), 100000):
            p.stdin.write(data[start:start + 100000])
        p.stdin.close()
        counted = p.stdout.read()
    return (digest(echoed.stdout) == digest(data), echoed.returncode, counted)


# ---- stderr=STDOUT -----------------------------------------------------------

@case
def stderr_to_stdout(sp, tmp):
    only_stderr = sp.run(["sh", "-c", "echo e >&2; exit 1"], stdout=sp.PIPE,
                         stderr=sp.STDOUT)
    failing = outcome(sp.check_output, ["sh", "-c", "echo o; echo e >&2; exit 2"],
                      stderr=sp.STDOUT)
    both = sp.run(["sh", "-c", "for i in 1 2 3; do echo o$i; echo e$i >&2; done"],
                  stdout=sp.PIPE, stderr=sp.STDOUT).stdout.splitlines()
    # The interleaving of two streams is not promised (see the README); each
    # stream's own order and every line are.
    return (completed(only_stderr), failing[0], sorted(failing[3].splitlines()),
            sorted(both), [l for l in both if l.startswith(b"o")],
            [l for l in both if l.startswith(b"e")])


# ---- timeouts, waiting, signals --------------------------------------------

@case
def run_timeout_kills_and_reports_the_output_so_far(sp, tmp):
    began = time.monotonic()
    observed = outcome(sp.run, ["sh", "-c", "echo so far; exec sleep 30"],
                       capture_output=True, timeout=1)
    return (observed, time.monotonic() - began < 10)


@case
def wait_timeout_leaves_it_running(sp, tmp):
    p = sp.Popen(["sleep", "30"])
    timed_out = outcome(p.wait, timeout=0.2)
    still = p.poll()
    p.kill()
    return (timed_out, still, p.wait(timeout=10), p.returncode, p.poll())


@case
def communicate_timeout_then_again(sp, tmp):
    go_on = tmp / "go-on"
    if go_on.exists():
        go_on.unlink()
    p = sp.Popen(["sh", "-c", f"echo a; while [ ! -e {go_on} ]; do sleep 0.02; done; echo b"],
                 stdout=sp.PIPE, stderr=sp.PIPE)
    seen = []
    for _ in range(100):  # until the first line is in (at most 20 s)
        try:
            p.communicate(timeout=0.2)
        except subprocess.TimeoutExpired as e:
            seen.append((e.cmd, e.timeout, e.stdout, e.stderr))
            if e.stdout is not None:
                break
    go_on.touch()
    return (seen[-1], p.communicate(timeout=10), p.returncode,
            outcome(p.communicate, b"late input"))


@case
def signals(sp, tmp):
    codes = []
    for send in (lambda p: p.terminate(), lambda p: p.kill(),
                 lambda p: p.send_signal(signal.SIGUSR1),
                 lambda p: p.send_signal(signal.SIGINT)):
        with sp.Popen(["sleep", "30"]) as p:
            send(p)
            codes.append(p.wait(timeout=10))
            send(p)  # after the end: nothing, no error
    return codes


@case
def kill_while_its_output_fills_the_pipe(sp, tmp):
    with sp.Popen(["yes"], stdout=sp.PIPE) as p:
        first = p.stdout.read(4)
        p.kill()
        return (first, outcome(p.wait, timeout=10))


@case
def poll_while_running(sp, tmp):
    with sp.Popen(["sh", "-c", "read x; exit 6"], stdin=sp.PIPE) as p:
        running = p.poll()
        p.send_signal(0)  # sends nothing (kill(2)'s check)
        p.stdin.write(b"\n")
        p.stdin.close()
        return (running, p.wait(timeout=10), p.poll(), p.returncode)


@case
def closed_stdout_earns_sigpipe(sp, tmp):
    p = sp.Popen(["yes"], stdout=sp.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    try:
        return (first, p.wait(timeout=10))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        return (first, "still running after its stdout was closed")


@case
def context_manager_closes_and_waits(sp, tmp):
    with sp.Popen(["sh", "-c", "exit 9"], stdin=sp.PIPE, stdout=sp.PIPE,
                  stderr=sp.PIPE) as p:
        pass
    return (p.returncode, p.stdin.closed, p.stdout.closed, p.stderr.closed,
            p.args, repr(p))


def test_parent_streams_get_the_output_of_none(remote, capfd):
    """stdout=None and stderr=None: the local child writes our fds 1 and 2,
    the remote one's output is written to them here."""
    observed = []
    for sp in (subprocess, remote):
        sp.run(["sh", "-c", "echo out; echo err >&2"])
        captured = capfd.readouterr()
        observed.append((captured.out, captured.err))
    assert observed[1] == observed[0] == ("out\n", "err\n")
