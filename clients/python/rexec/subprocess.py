"""The standard library's subprocess, with the children on a rexecd.

`import subprocess` becomes `from rexec import subprocess`: run, Popen, call,
check_call, check_output, getstatusoutput and getoutput take the standard
arguments and behave as the standard ones do. Popen is a subclass of the
standard one that starts its child on the server instead of here, so its
pipes are real pipes (fileno(), select, os.read), and its methods and
errors are the standard ones; the exceptions, CompletedProcess, PIPE,
DEVNULL, STDOUT and list2cmdline are the standard library's own objects (so
`except subprocess.CalledProcessError` catches ours too).

Each function also takes `server=`: an address ("host:port", "unix:/path")
or a rexec.Client; by default $REXEC_SERVER, else unix:/run/rexec/rexecd.sock, with TLS
and a token from the environment as the `rexec` CLI reads them (see
rexec.Client).

What differs, because the child runs elsewhere:
- The child sees the server's filesystem, users and environment: env=None
  gives it rexecd's environment (not ours; ours with the client's
  child_env="caller" or REXEC_CHILD_ENV=caller), env={...} exactly that
  environment; cwd=None is rexecd's working directory. `pid` is its pid on
  that machine. user, group and extra_groups are names or ids there.
- stdin=None gives it an empty stdin (at EOF at once): it cannot share ours,
  and reading ours in the background would take input from the parent.
  Otherwise each of its standard streams is a file descriptor here, as it
  would be for a local child: this process reads it and sends it (stdin),
  or writes what arrives to it (stdout, stderr; None is our fd 1 or 2).
- stderr=STDOUT merges the two streams here, in the order the chunks
  arrive: each stream keeps its own order, but how they interleave may
  differ from a shared descriptor's (rexecd reads the two separately).
- Options that act on this process or its fds are refused with ValueError,
  never ignored: preexec_fn, pass_fds, restore_signals=False,
  process_group other than 0 (the child leads a process group of its own
  already; 0 asks just that). close_fds=False is taken, and
  the child still has only its standard three fds.
- Signals go to the child's process group, by name (a real-time one as
  "SIG34", as rexecd names it). A returncode of -N uses this machine's
  numbering. kill() of a child whose unread stdin holds the signal back
  (the server takes a call's requests in order) cancels the call; the
  server then stops the child, and returncode is -9.
- The child lives as long as its call: when this program exits or loses
  the connection, rexecd stops it.
- A failed call raises rexec.RemoteError (a SubprocessError with the gRPC
  `code` and `details`); a program or cwd that cannot be used raises the
  OSError a local one would (FileNotFoundError, PermissionError...), with
  `grpc_code` and `grpc_details` too.

Thread-safety: as the standard Popen, one Popen is for one thread, except
that poll(), wait() and the signal methods may be called from any. Each
child has a thread here that writes its output to its pipes, and one that
reads its stdin when that is a pipe or a file.
"""
import errno
import os
import subprocess as _stdlib
import sys
import types
import typing

from rexec import client as _client
from rexec import errors as _errors
from rexec import exit_status as _exit_status
from rexec import output_sinks as _sinks
from rexec import remote_child as _remote_child
from rexec import stdin_sources as _sources
from rexec.v1 import child_process_pb2 as pb

if typing.TYPE_CHECKING:  # the module's names are the standard module's
    from typing import IO, Any, Callable, Collection, Iterable, Mapping, Sequence

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
list2cmdline = _stdlib.list2cmdline



def __getattr__(name: str) -> "Any":
    """The standard module's private names (_active, _cleanup,
    _PopenSelector, _args_from_interpreter_flags, _USE_VFORK...): Popen runs
    the standard one's machinery, and the standard library's own modules
    (multiprocessing, distutils) import them from `subprocess`."""
    if name.startswith("_") and not name.startswith("__"):
        try:
            return getattr(_stdlib, name)
        except AttributeError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# uid_t and gid_t are 32 bits.
_ID_MAX = (1 << 32) - 1


# What the standard functions take, as typeshed names it.
_Path = typing.Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_Command = typing.Union[_Path, "Sequence[_Path]"]
_File = typing.Union[None, int, "IO[Any]"]
_Environment = typing.Union["Mapping[bytes, _Path]", "Mapping[str, _Path]"]
_Server = typing.Union[str, _client.Client, None]


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


def _identity(value, what, overflow):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what} must be a string or an integer, not {type(value)}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what} ID cannot be negative, got {value}")
        if value > _ID_MAX:  # what the standard Popen's C conversion raises
            raise overflow
    return _text(str(value), what)


def _identity_options(user, group, extra_groups):
    """user, group and extra_groups as the server takes them (names or
    ids), checked as the standard Popen checks them."""
    options = pb.ProcessOptions()
    if user is not None:
        options.user = _identity(user, "User", OverflowError("uid is greater than maximum"))
    if group is not None:
        options.group = _identity(group, "Group", OverflowError("gid is greater than maximum"))
    if extra_groups is not None:
        if isinstance(extra_groups, str):
            raise ValueError("Groups must be a list, not a string")
        options.groups.extend(_identity(g, "Group", ValueError("invalid group id"))
                              for g in extra_groups)
    return options


def _put_environment(env, options):
    """env (str or bytes names and values, as the standard Popen takes them)
    into options: as text where it is UTF-8, else as bytes (an environment
    is bytes; os.environb may hold any)."""
    for name, value in env.items():
        name, value = os.fsencode(name), os.fsencode(value)
        if b"=" in name:
            raise ValueError("illegal environment variable name")
        if b"\0" in name or b"\0" in value:
            raise ValueError("embedded null byte")
        try:
            options.env[name.decode("utf-8")] = value.decode("utf-8")
        except UnicodeDecodeError:
            options.env_bytes.add(name=name, value=value)


def _process_options(cwd, env, child_env, session):
    """ProcessOptions for Popen's cwd and env, over `session` (the options
    made before the standard Popen ran: ids, umask, new session)."""
    options = pb.ProcessOptions()
    options.MergeFrom(session)
    if cwd is not None:
        options.cwd = _text(cwd, "cwd")
        if not options.cwd:  # rexecd would take "" for its own directory
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "")
    if env is not None:
        options.clear_env = True
        _put_environment(env, options)
    elif child_env == "caller":
        # What a local child would inherit; the server leaves out what the
        # policy does not let a client set.
        options.clear_env = True
        for name, value in os.environb.items():
            options.caller_env.add(name=name, value=value)
    return options


def _session_options(start_new_session, umask, process_group):
    """start_new_session, umask and process_group as the server takes them."""
    options = pb.ProcessOptions()
    options.new_session = bool(start_new_session)
    # The child leads a process group of its own already: 0 asks just that.
    if process_group not in (None, 0):
        _refuse("process_group", process_group,
                "rexecd starts a child leading a process group of its own, and "
                "cannot put it in another")
    if umask >= 0:  # as the standard Popen: a negative one leaves ours
        options.umask = umask & 0o777
    return options


def _refuse_local_only(preexec_fn, pass_fds, restore_signals):
    if preexec_fn is not None:
        _refuse("preexec_fn", preexec_fn, "it would run here, not in the remote child")
    if pass_fds:
        _refuse("pass_fds", pass_fds, "a remote child gets only stdin, stdout and stderr")
    if not restore_signals:
        _refuse("restore_signals", restore_signals,
                "rexecd always starts a child with default signal dispositions")


def _output_sink(fd, devnull, inherited):
    """Where the child's output goes, for the fd the standard Popen gives
    the child as its stdout or stderr (-1: none, so ours, `inherited`)."""
    if devnull is not None and fd == devnull:
        return _sinks.DiscardSink()
    try:
        return _sinks.FdSink(inherited if fd == -1 else fd)
    except OSError as e:
        if fd == -1 and e.errno == errno.EBADF:
            return _sinks.DiscardSink()  # ours is closed: so is the child's
        raise


class Popen(_stdlib.Popen[typing.AnyStr]):
    """A child process on a rexecd: subprocess.Popen (a subclass of it, so
    its methods, pipes and errors are the standard ones) whose child is
    started by the server `server=` names. See the module's docstring for
    what differs."""

    _child: _remote_child.RemoteChild  # once the standard Popen has _child_created

    def __init__(self: "Popen[Any]", args: "_Command", bufsize: int = -1,
                 executable: "_Path | None" = None, stdin: "_File" = None,
                 stdout: "_File" = None, stderr: "_File" = None,
                 preexec_fn: "Callable[[], Any] | None" = None, close_fds: bool = True,
                 shell: bool = False, cwd: "_Path | None" = None,
                 env: "_Environment | None" = None, universal_newlines: "bool | None" = None,
                 startupinfo: "Any" = None, creationflags: int = 0,
                 restore_signals: bool = True, start_new_session: bool = False,
                 pass_fds: "Collection[int]" = (), *, user: "str | int | None" = None,
                 group: "str | int | None" = None,
                 extra_groups: "Iterable[str | int] | None" = None,
                 encoding: "str | None" = None, errors: "str | None" = None,
                 text: "bool | None" = None, umask: int = -1, pipesize: int = -1,
                 process_group: "int | None" = None, server: "_Server" = None) -> None:
        # close_fds is taken either way: no fd of ours can reach the server,
        # so the child has only stdin, stdout and stderr.
        _refuse_local_only(preexec_fn, pass_fds, restore_signals)
        # Names or ids on the server: the standard Popen would look names
        # up here.
        self._session = _identity_options(user, group, extra_groups)
        self._session.MergeFrom(_session_options(start_new_session, umask, process_group))
        self._client = _client.client_for(server)
        standard: "dict[str, Any]" = dict(
            bufsize=bufsize, executable=executable, stdin=stdin, stdout=stdout,
            stderr=stderr, shell=shell, cwd=cwd, env=env,
            universal_newlines=universal_newlines, startupinfo=startupinfo,
            creationflags=creationflags, encoding=encoding, errors=errors, text=text)
        if pipesize not in (-1, None):  # older Pythons' Popen does not take it
            standard["pipesize"] = pipesize
        super().__init__(args, **standard)

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env,
                       startupinfo, creationflags, shell, p2cread, p2cwrite, c2pread,
                       c2pwrite, errread, errwrite, *local_only):
        """Starts the child on the server instead of here. The standard Popen
        has made the pipes: the child's ends (p2cread, c2pwrite, errwrite)
        are read and written here for it."""
        made = []  # what holds fds until the child owns it
        try:
            start, program = _spawn_start(args, executable, shell)
            start.options.CopyFrom(
                _process_options(cwd, env, self._client.child_env, self._session))
            devnull = getattr(self, "_devnull", None)
            if p2cread == -1 or p2cread == devnull:
                stdin_source = _sources.ClosedStdin()
            else:
                stdin_source = _sources.FdStdin(p2cread)
            made.append(stdin_source.stop)
            stdout_sink = _output_sink(c2pwrite, devnull, 1)
            made.append(stdout_sink.finish)
            if errwrite == c2pwrite and c2pwrite != -1:
                stderr_sink = stdout_sink
            else:
                stderr_sink = _output_sink(errwrite, devnull, 2)
                made.append(stderr_sink.finish)
            made.clear()  # the RemoteChild owns them from here, started or not
            self._child = _remote_child.RemoteChild(
                self._client, start, stdout=stdout_sink, stderr=stderr_sink,
                stdin_source=stdin_source, program=program, cwd=cwd)
        finally:
            for release in made:
                release()
            self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)
        self.pid = self._child.pid
        self._child_created = True

    def _internal_poll(self, _deadstate=None, _failures=(_errors.RemoteError, OSError)):
        # Called by __del__, maybe as the interpreter shuts down: what it
        # needs is bound here.
        if self.returncode is None:
            try:
                self.returncode = self._child.poll()
            except _failures:
                # From __del__ (and the module's _cleanup), which must not
                # raise: the call is over, and its child with it.
                if _deadstate is None:
                    raise
                self.returncode = _deadstate
        return self.returncode

    def _wait(self, timeout):
        if self.returncode is None:
            returncode = self._child.wait(timeout)
            if returncode is None:
                raise TimeoutExpired(self.args, timeout)
            self.returncode = returncode
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Send a signal to the process (to its process group)."""
        try:
            self.poll()
        except (_errors.RemoteError, OSError):
            return  # the call broke off, and the server stopped the child
        if self.returncode is not None or sig == 0:  # 0 sends nothing, as kill(2)
            return
        name = _exit_status.signal_name(sig)
        if name == "SIGKILL":
            self._child.kill()
        else:
            self._child.signal(name)


def call(*popenargs: "Any", timeout: "float | None" = None, **kwargs: "Any") -> int:
    """Run command with arguments.  Wait for command to complete or
    timeout, then return the returncode attribute."""
    with Popen(*popenargs, **kwargs) as p:
        try:
            return p.wait(timeout=timeout)
        except:  # Including KeyboardInterrupt, wait handled that.
            p.kill()
            raise


def check_call(*popenargs: "Any", **kwargs: "Any") -> int:
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


def check_output(*popenargs: "Any", timeout: "float | None" = None,
                 **kwargs: "Any") -> "Any":
    """Run command with arguments and return its output; CalledProcessError
    if it did not exit 0."""
    for kw in ("stdout", "check"):
        if kw in kwargs:
            raise ValueError(f"{kw} argument not allowed, it will be overridden.")
    if "input" in kwargs and kwargs["input"] is None:
        if (kwargs.get("universal_newlines") or kwargs.get("text")
                or kwargs.get("encoding") or kwargs.get("errors")):
            empty: "str | bytes" = ""
        else:
            empty = b""
        kwargs["input"] = empty
    return run(*popenargs, stdout=PIPE, timeout=timeout, check=True, **kwargs).stdout


def run(*popenargs: "Any", input: "Any" = None, capture_output: bool = False,
        timeout: "float | None" = None, check: bool = False,
        **kwargs: "Any") -> "CompletedProcess[Any]":
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
        retcode = process.wait()  # at once: communicate() waited
        if check and retcode:
            raise CalledProcessError(retcode, process.args, output=stdout, stderr=stderr)
    return CompletedProcess(process.args, retcode, stdout, stderr)


def getstatusoutput(cmd: "_Command", *, encoding: "str | None" = None,
                    errors: "str | None" = None, server: "_Server" = None) -> "tuple[int, str]":
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


def getoutput(cmd: "_Command", *, encoding: "str | None" = None,
               errors: "str | None" = None, server: "_Server" = None) -> str:
    """Return output (stdout or stderr) of executing cmd in a shell."""
    return getstatusoutput(cmd, encoding=encoding, errors=errors, server=server)[1]


class _Module(types.ModuleType):
    """This module, whose _PopenSelector is the standard module's: Popen runs
    the standard communicate(), which reads it there (a program or test
    that swaps it, as for select() instead of poll(), swaps ours). Read, it
    is the standard one's through __getattr__ until set."""

    def __setattr__(self, name: str, value: "Any") -> None:
        if name == "_PopenSelector":
            setattr(_stdlib, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Module
