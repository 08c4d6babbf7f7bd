"""The standard library's subprocess, with the children on a rexecd.

`import subprocess` becomes `from rexec import subprocess`: run, Popen, call,
check_call, check_output, getstatusoutput and getoutput take the standard
arguments and behave as the standard ones do, and the exceptions,
CompletedProcess, PIPE, DEVNULL and STDOUT are the standard library's own
objects (so `except subprocess.CalledProcessError` catches ours too).

Each function also takes `server=`: an address ("host:port", "unix:/path")
or a rexec.Client; by default $REXEC_SERVER, else 127.0.0.1:50051, with TLS
and a token from the environment as the `rexec` CLI reads them (see
rexec.Client).

What differs, because the child runs elsewhere:
- The child sees the server's filesystem, users and environment: env=None
  gives it rexecd's environment (not ours), env={...} exactly that
  environment; cwd=None is rexecd's working directory. `pid` is its pid on
  that machine.
- stdin=None gives it an empty stdin (at EOF at once): it cannot share ours,
  and reading ours in the background would take input from the parent.
  stdout=None and stderr=None copy its output to our sys.stdout and
  sys.stderr (their binary buffers) as it arrives. A file or fd as stdin is
  read and sent; as stdout or stderr, written to. A Popen's stdout can be
  another Popen's stdin, for a pipeline.
- stderr=STDOUT merges the two streams here, in the order the chunks
  arrive: each stream keeps its own order, but how they interleave may
  differ from a shared descriptor's (rexecd reads the two separately).
- Options that act on a local process are refused with ValueError, never
  ignored: preexec_fn, pass_fds, close_fds=False, restore_signals=False,
  start_new_session=True, process_group other than 0 (the child leads a
  process group of its own already), umask. user, group and extra_groups
  are names or ids on the server, which must be allowed to switch to them.
  pipesize bounds what is buffered here per pipe (default 1 MiB).
- Signals go to the child's process group, by name (a real-time one as
  "SIG34", as rexecd names it). A returncode of -N uses this machine's
  numbering. kill() that cannot reach the child within a few seconds (the
  server takes requests in order, and stdin the child does not read holds
  back what follows it) cancels the call; the server then stops the child.
- The child lives as long as its call: when this program exits or loses
  the connection, rexecd stops it.
- A failed call raises rexec.RemoteError (a SubprocessError with the gRPC
  `code` and `details`); a program or cwd that cannot be used raises the
  OSError a local one would (FileNotFoundError, PermissionError...), with
  `grpc_code` and `grpc_details` too.

Thread-safety: as the standard Popen, one Popen is for one thread, except
that poll(), wait() and the signal methods may be called from any.
"""
import errno
import io
import locale
import os
import signal
import subprocess as _stdlib
import sys
import threading
import time
import types
import warnings

from rexec import client as _client
from rexec import errors as _errors
from rexec import exit_status as _exit_status
from rexec import output_sinks as _sinks
from rexec import stdin_sources as _sources
from rexec.input_pipe import InputPipe
from rexec.output_pipe import PipeBuffer, PipeReader
from rexec.remote_child import RemoteChild
from rexec.v1 import child_process_pb2 as pb

__all__ = ["Popen", "PIPE", "STDOUT", "call", "check_call", "getstatusoutput",
           "getoutput", "check_output", "run", "CalledProcessError", "DEVNULL",
           "SubprocessError", "TimeoutExpired", "CompletedProcess", "RemoteError",
           "Client"]

PIPE = _stdlib.PIPE
STDOUT = _stdlib.STDOUT
DEVNULL = _stdlib.DEVNULL
SubprocessError = _stdlib.SubprocessError
CalledProcessError = _stdlib.CalledProcessError
TimeoutExpired = _stdlib.TimeoutExpired
CompletedProcess = _stdlib.CompletedProcess
RemoteError = _errors.RemoteError
Client = _client.Client

# What a pipe buffers here before the child is made to wait: a local pipe's
# size as rexecd makes them.
_DEFAULT_PIPE_BYTES = 1 << 20


def _refuse(option, value, why):
    raise ValueError(f"rexec.subprocess: {option}={value!r} is not supported: {why}")


def _text(value, what):
    """An argument, path or variable as the protobuf string it travels as."""
    text = os.fsdecode(value)
    if "\0" in text:
        raise ValueError("embedded null byte")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {value!r} is not UTF-8, which rexec needs") from None
    return text


def _text_encoding():
    if sys.flags.utf8_mode:
        return "utf-8"
    if hasattr(locale, "getencoding"):
        return locale.getencoding()
    return locale.getpreferredencoding(False)


def _spawn_start(args, executable, shell):
    """The SpawnStart for Popen's arguments, and the program as given (for
    the filename of an error)."""
    if isinstance(args, (str, bytes)):
        args = [args]
    elif isinstance(args, os.PathLike):
        if shell:
            raise TypeError("path-like args is not allowed when shell is true")
        args = [args]
    else:
        args = list(args)
    if shell:
        # A stream of output as it comes, so Spawn a shell rather than Exec.
        args = ["/bin/sh", "-c"] + args
        if executable:
            args[0] = executable
    argv = [_text(arg, "argument") for arg in args]
    program = argv[0] if executable is None else _text(executable, "executable")
    # subprocess's `executable` is the file that runs, args[0] what the child
    # sees as its name: rexec's argv[0] and argv0.
    start = pb.SpawnStart(argv=[program] + argv[1:],
                          argv0=argv[0] if program != argv[0] else "")
    return start, args[0] if executable is None else executable


def _identity(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what} must be a string or an integer, not {type(value)}")
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{what} ID cannot be negative, got {value}")
    return _text(str(value), what)


def _process_options(cwd, env, user, group, extra_groups):
    options = pb.ProcessOptions()
    if cwd is not None:
        options.cwd = _text(cwd, "cwd")
        if not options.cwd:  # rexecd would take "" for its own directory
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "")
    if env is not None:
        options.clear_env = True
        for name, value in env.items():
            name = _text(name, "environment variable")
            if "=" in name:
                raise ValueError("illegal environment variable name")
            options.env[name] = _text(value, "environment variable")
    if user is not None:
        options.user = _identity(user, "User")
    if group is not None:
        options.group = _identity(group, "Group")
    if extra_groups is not None:
        if isinstance(extra_groups, str):
            raise ValueError("Groups must be a list, not a string")
        options.groups.extend(_identity(g, "Group") for g in extra_groups)
    return options


def _refuse_local_only(preexec_fn, close_fds, pass_fds, restore_signals,
                       start_new_session, umask, process_group):
    if preexec_fn is not None:
        _refuse("preexec_fn", preexec_fn, "it would run here, not in the remote child")
    if pass_fds:
        _refuse("pass_fds", pass_fds, "a remote child gets only stdin, stdout and stderr")
    if not close_fds:
        _refuse("close_fds", close_fds, "a remote child gets only stdin, stdout and stderr")
    if not restore_signals:
        _refuse("restore_signals", restore_signals,
                "rexecd always starts a child with default signal dispositions")
    if start_new_session:
        _refuse("start_new_session", start_new_session,
                "rexecd starts a child in a process group of its own, not a session")
    if process_group not in (None, 0):
        _refuse("process_group", process_group,
                "rexecd starts a child in a process group of its own")
    if umask != -1:
        _refuse("umask", umask, "rexecd has no option for it")


def _pipe_reader_of(stream):
    """The PipeReader under one of our output streams, or None."""
    while stream is not None and not isinstance(stream, PipeReader):
        stream = getattr(stream, "buffer", None) or getattr(stream, "raw", None)
    return stream


def _stdin_source(stdin):
    if stdin is None or stdin == DEVNULL:
        return _sources.ClosedStdin()
    reader = _pipe_reader_of(stdin)
    if reader is not None:
        if reader.closed:
            raise ValueError("I/O operation on closed file")
        return _sources.PipeStdin(reader.open_sibling())
    return _sources.FdStdin(stdin if isinstance(stdin, int) else stdin.fileno())


def _output_target(spec, cond, limit, stream):
    """Where output goes, and the reader of it when that is a pipe."""
    if spec is None:
        return _sinks.StreamSink(stream), None
    if spec == PIPE:
        pipe = PipeBuffer(cond, limit)
        return pipe, pipe.open_reader()
    if spec == DEVNULL:
        return _sinks.DiscardSink(), None
    if spec == STDOUT:
        raise ValueError("STDOUT is for stderr only")
    return _sinks.FdSink(spec if isinstance(spec, int) else spec.fileno()), None


def _buffered(raw, kind, bufsize):
    """raw wrapped as io.open(fd, mode, bufsize) wraps a pipe's fd."""
    if bufsize == 0:
        return raw
    if bufsize == 1:
        warnings.warn("line buffering (buffering=1) isn't supported in binary mode, "
                      "the default buffer size will be used", RuntimeWarning, 3)
    size = bufsize if bufsize > 1 else io.DEFAULT_BUFFER_SIZE
    return kind(raw, size)


class Popen:
    """A child process on a rexecd, with the interface of subprocess.Popen
    (see the module's docstring for what differs); `server=` chooses the
    rexecd."""

    def __init__(self, args, bufsize=-1, executable=None,
                 stdin=None, stdout=None, stderr=None,
                 preexec_fn=None, close_fds=True,
                 shell=False, cwd=None, env=None, universal_newlines=None,
                 startupinfo=None, creationflags=0,
                 restore_signals=True, start_new_session=False,
                 pass_fds=(), *, user=None, group=None, extra_groups=None,
                 encoding=None, errors=None, text=None, umask=-1, pipesize=-1,
                 process_group=None, server=None):
        self._child = None
        if bufsize is None:
            bufsize = -1
        if not isinstance(bufsize, int):
            raise TypeError("bufsize must be an integer")
        if pipesize is None:
            pipesize = -1
        if not isinstance(pipesize, int):
            raise TypeError("pipesize must be an integer")
        if startupinfo is not None:
            raise ValueError("startupinfo is only supported on Windows platforms")
        if creationflags != 0:
            raise ValueError("creationflags is only supported on Windows platforms")
        _refuse_local_only(preexec_fn, close_fds, pass_fds, restore_signals,
                           start_new_session, umask, process_group)

        self.args = args
        self.stdin = None
        self.stdout = None
        self.stderr = None
        self.pid = None
        self.returncode = None
        self.encoding = encoding
        self.errors = errors
        self.pipesize = pipesize
        if (text is not None and universal_newlines is not None
                and bool(universal_newlines) != bool(text)):
            raise SubprocessError("Cannot disambiguate when both text "
                                  "and universal_newlines are supplied but "
                                  "different. Pass one or the other.")
        self.text_mode = encoding or errors or text or universal_newlines
        if self.text_mode and encoding is None:
            self.encoding = encoding = _text_encoding()
        line_buffering = False
        if self.text_mode and bufsize == 1:
            line_buffering = True
            bufsize = -1
        self._communication_started = False
        self._outputs = None

        start, program = _spawn_start(args, executable, shell)
        start.options.CopyFrom(_process_options(cwd, env, user, group, extra_groups))
        client = _client.client_for(server)
        limit = pipesize if pipesize > 0 else _DEFAULT_PIPE_BYTES
        cond = threading.Condition()
        made = []  # what holds fds or threads until the child owns it
        try:
            stdout_target, self._stdout_reader = _output_target(stdout, cond, limit, sys.stdout)
            made.append(stdout_target)
            if stderr == STDOUT:
                stderr_target, self._stderr_reader = stdout_target, None
            else:
                stderr_target, self._stderr_reader = _output_target(
                    stderr, cond, limit, sys.stderr)
                made.append(stderr_target)
            stdin_source = None if stdin == PIPE else _stdin_source(stdin)
        except BaseException:
            for target in made:
                target.finish()
            raise
        self._child = RemoteChild(
            client, start, cond=cond, stdout=stdout_target, stderr=stderr_target,
            stdin_source=stdin_source, stdin_limit=limit, program=program, cwd=cwd)
        self.pid = self._child.pid

        if stdin == PIPE:
            self._stdin_raw = InputPipe(self._child.outbox)
            self.stdin = _buffered(self._stdin_raw, io.BufferedWriter, bufsize)
            if self.text_mode:
                self.stdin = io.TextIOWrapper(self.stdin, write_through=True,
                                              line_buffering=line_buffering,
                                              encoding=encoding, errors=errors)
        if self._stdout_reader is not None:
            self.stdout = _buffered(self._stdout_reader, io.BufferedReader, bufsize)
            if self.text_mode:
                self.stdout = io.TextIOWrapper(self.stdout, encoding=encoding, errors=errors)
        if self._stderr_reader is not None:
            self.stderr = _buffered(self._stderr_reader, io.BufferedReader, bufsize)
            if self.text_mode:
                self.stderr = io.TextIOWrapper(self.stderr, encoding=encoding, errors=errors)

    __class_getitem__ = classmethod(types.GenericAlias)

    def __repr__(self):
        obj_repr = (f"<{self.__class__.__name__}: "
                    f"returncode: {self.returncode} args: {self.args!r}>")
        if len(obj_repr) > 80:
            obj_repr = obj_repr[:76] + "...>"
        return obj_repr

    @property
    def universal_newlines(self):
        return self.text_mode

    @universal_newlines.setter
    def universal_newlines(self, universal_newlines):
        self.text_mode = bool(universal_newlines)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, value, traceback):
        if self.stdout:
            self.stdout.close()
        if self.stderr:
            self.stderr.close()
        try:  # Flushing a BufferedWriter may raise an error
            if self.stdin:
                self.stdin.close()
        finally:
            # A ^C here did not reach the remote child, as it would reach a
            # local one in our process group: do not wait for it to end.
            if exc_type is not KeyboardInterrupt:
                self.wait()

    def __del__(self, _warn=warnings.warn):
        child = self._child
        if child is None:
            return
        with child.cond:
            running = not child.done()
        if running:
            _warn(f"subprocess {self.pid} is still running", ResourceWarning, source=self)

    def poll(self):
        """Check if child process has terminated. Set and return returncode
        attribute."""
        if self.returncode is None:
            self.returncode = self._child.poll()
        return self.returncode

    def wait(self, timeout=None):
        """Wait for child process to terminate; returns self.returncode."""
        if self.returncode is None:
            returncode = self._child.wait(timeout)
            if returncode is None:
                raise TimeoutExpired(self.args, timeout)
            self.returncode = returncode
        return self.returncode

    def send_signal(self, sig):
        """Send a signal to the process (to its process group)."""
        if self.returncode is not None or sig == 0:  # 0 sends nothing, as kill(2)
            return
        if sig == signal.SIGKILL:
            self._child.kill()
        else:
            self._child.signal(_exit_status.signal_name(sig))

    def terminate(self):
        """Terminate the process with SIGTERM"""
        self.send_signal(signal.SIGTERM)

    def kill(self):
        """Kill the process with SIGKILL"""
        self.send_signal(signal.SIGKILL)

    def communicate(self, input=None, timeout=None):
        """Interact with process: Send data to stdin and close it.
        Read data from stdout and stderr, until end-of-file is
        reached.  Wait for process to terminate.

        Returns (stdout, stderr), as subprocess.Popen.communicate does; on a
        timeout the process goes on, and calling it again continues."""
        if self._communication_started and input:
            raise ValueError("Cannot send input after starting communication")
        if (timeout is None and not self._communication_started
                and [self.stdin, self.stdout, self.stderr].count(None) >= 2):
            # subprocess's own shortcut, kept for what it does differently:
            # it reads through self.stdout (so what a readline() buffered
            # there counts), and writes input straight through self.stdin.
            stdout = None
            stderr = None
            if self.stdin:
                self._stdin_write(input)
            elif self.stdout:
                stdout = self.stdout.read()
                self.stdout.close()
            elif self.stderr:
                stderr = self.stderr.read()
                self.stderr.close()
            self.wait()
            return (stdout, stderr)

        endtime = None if timeout is None else time.monotonic() + timeout
        if not self._communication_started:
            self._communication_started = True
            self._outputs = {reader: [] for reader in (self._stdout_reader, self._stderr_reader)
                             if reader is not None}
            self._send_input(input)
        self._gather(endtime, timeout)
        self.wait(timeout=None if endtime is None else max(endtime - time.monotonic(), 0))
        return (self._output(self._stdout_reader, self.stdout),
                self._output(self._stderr_reader, self.stderr))

    def _stdin_write(self, input):
        if input:
            try:
                self.stdin.write(input)
            except BrokenPipeError:
                pass  # communicate() must ignore broken pipe errors.
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass  # communicate() must ignore broken pipe errors.

    def _send_input(self, input):
        if not self.stdin:
            return
        try:
            self.stdin.flush()
        except BrokenPipeError:
            pass  # communicate() must ignore broken pipe errors.
        if input:
            if self.text_mode:
                input = input.encode(self.stdin.encoding, self.stdin.errors)
            # Queued whole: it is in memory already, and goes as gRPC's flow
            # control lets it while we wait for the output.
            self._stdin_raw.write_nowait(input)
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass  # communicate() must ignore broken pipe errors.

    def _gather(self, endtime, orig_timeout):
        """Collects output until every pipe is at EOF and the child has ended;
        TimeoutExpired with what was collected when endtime passes."""
        child = self._child
        at_eof = []
        with child.cond:
            reading = [r for r in self._outputs if not r.closed]
            while True:
                for reader in list(reading):
                    # Until nothing is left: the EOF may already be behind
                    # the data, and nothing would wake us for it again.
                    data = reader.take_nowait()
                    while data is not None:
                        self._outputs[reader].append(data)
                        if not data:
                            reading.remove(reader)
                            at_eof.append(reader)
                            break
                        data = reader.take_nowait()
                if not reading and child.done():
                    break
                remaining = None if endtime is None else endtime - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                child.cond.wait(remaining)
        # As subprocess closes a pipe it read to EOF (outside the lock: a
        # close may wait for a read in another thread).
        for reader, stream in ((self._stdout_reader, self.stdout),
                               (self._stderr_reader, self.stderr)):
            if reader in at_eof:
                stream.close()
        if reading or not child.done():
            stdout_seq = self._outputs.get(self._stdout_reader)
            stderr_seq = self._outputs.get(self._stderr_reader)
            raise TimeoutExpired(
                self.args, orig_timeout,
                output=b"".join(stdout_seq) if stdout_seq else None,
                stderr=b"".join(stderr_seq) if stderr_seq else None)

    def _output(self, reader, stream):
        if reader is None:
            return None
        data = b"".join(self._outputs[reader])
        if self.text_mode:
            data = data.decode(stream.encoding, stream.errors)
            data = data.replace("\r\n", "\n").replace("\r", "\n")
        return data


def call(*popenargs, timeout=None, **kwargs):
    """Run command with arguments.  Wait for command to complete or
    timeout, then return the returncode attribute."""
    with Popen(*popenargs, **kwargs) as p:
        try:
            return p.wait(timeout=timeout)
        except:  # Including KeyboardInterrupt, wait handled that.
            p.kill()
            raise


def check_call(*popenargs, **kwargs):
    """Run command with arguments.  Wait for command to complete.  If
    the exit code was zero then return, otherwise raise
    CalledProcessError."""
    retcode = call(*popenargs, **kwargs)
    if retcode:
        cmd = kwargs.get("args")
        if cmd is None:
            cmd = popenargs[0]
        raise CalledProcessError(retcode, cmd)
    return 0


def check_output(*popenargs, timeout=None, **kwargs):
    """Run command with arguments and return its output; CalledProcessError
    if it did not exit 0."""
    for kw in ("stdout", "check"):
        if kw in kwargs:
            raise ValueError(f"{kw} argument not allowed, it will be overridden.")
    if "input" in kwargs and kwargs["input"] is None:
        if (kwargs.get("universal_newlines") or kwargs.get("text")
                or kwargs.get("encoding") or kwargs.get("errors")):
            empty = ""
        else:
            empty = b""
        kwargs["input"] = empty
    return run(*popenargs, stdout=PIPE, timeout=timeout, check=True, **kwargs).stdout


def run(*popenargs, input=None, capture_output=False, timeout=None, check=False, **kwargs):
    """Run command with arguments and return a CompletedProcess instance."""
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used.")
        kwargs["stdin"] = PIPE
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr arguments may not be used "
                             "with capture_output.")
        kwargs["stdout"] = PIPE
        kwargs["stderr"] = PIPE
    with Popen(*popenargs, **kwargs) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except TimeoutExpired:
            process.kill()
            process.wait()
            raise
        except:  # Including KeyboardInterrupt, communicate handled that.
            process.kill()
            raise
        retcode = process.poll()
        if check and retcode:
            raise CalledProcessError(retcode, process.args, output=stdout, stderr=stderr)
    return CompletedProcess(process.args, retcode, stdout, stderr)


def getstatusoutput(cmd, *, encoding=None, errors=None, server=None):
    """Return (exitcode, output) of executing cmd in a shell."""
    try:
        data = check_output(cmd, shell=True, text=True, stderr=STDOUT,
                            encoding=encoding, errors=errors, server=server)
        exitcode = 0
    except CalledProcessError as ex:
        data = ex.output
        exitcode = ex.returncode
    if data[-1:] == "\n":
        data = data[:-1]
    return exitcode, data


def getoutput(cmd, *, encoding=None, errors=None, server=None):
    """Return output (stdout or stderr) of executing cmd in a shell."""
    return getstatusoutput(cmd, encoding=encoding, errors=errors, server=server)[1]
