"""One child process on a rexecd, as its Spawn call carries it: the request
stream (an Outbox), one thread that receives the responses and writes each
chunk of output where it goes (a sink), and the exit.

The child's life: constructing a RemoteChild starts the call and returns
once the child runs (its pid known), or raises what stopped it from
starting. It is done when its exit arrived (returncode) or the call failed
(the error, raised by poll() and wait()). Every chunk of output comes before
the exit, so by the time it is done its sinks are finished (a pipe's reader
sees EOF) and its stdin source is closed (a writer gets BrokenPipeError).

Thread-safe: any thread may poll, wait or signal.
"""
import signal
import threading

import grpc

from rexec import errors as _errors
from rexec import exit_status as _exit_status
from rexec.outbox import Outbox

# How long kill() lets SIGKILL take before it cancels the call instead. The
# server takes a call's requests in order and reads past stdin the child's
# pipe has not taken only up to 16 MiB, so a signal behind more stdin than
# that cannot reach it; a cancel does (the server then stops the process
# group). When stdin is seen stuck here, kill() cancels at once; this is for
# what the server may hold unseen.
KILL_GRACE_SECONDS = 3.0


class RemoteChild:
    def __init__(self, client, start, *, stdout, stderr, stdin_source, program, cwd):
        """Starts `start` (a SpawnStart) on `client`. stdout and stderr: where
        output goes (sinks; the same object for both merges them).
        stdin_source: started once the child runs. Raises what
        errors.from_rpc_error makes of a start that failed, naming `program`
        or `cwd` as the caller gave them."""
        self.cond = threading.Condition()
        self.pid = None
        # A chunk queued, one in flight: the stdin source's own fd (a pipe, a file)
        # is where what the child has not read waits.
        self.outbox = Outbox(start)
        self._program = program
        self._server = client.server
        self._cwd = cwd
        self._sinks = {"stdout": stdout, "stderr": stderr}
        self._stdin_source = stdin_source
        self._returncode = None
        self._error = None
        self._sigpipe_sent = False
        self._kill_timer = None
        self._cancelled_by_kill = False
        self._released = False
        self._done_callbacks = []
        self._call = None
        self._end_call = None
        try:
            self._call, self._end_call = client.spawn(self.outbox)
            threading.Thread(target=self._receive, daemon=True,
                             name=f"rexec {start.argv[0]}").start()
        except BaseException:
            if self._call is not None:
                self._call.cancel()
                self._end_call()
            self._release()
            raise
        try:
            with self.cond:
                self.cond.wait_for(lambda: self.pid is not None or self._error is not None)
                if self._error is not None:
                    raise self._error
                # Under `cond`, so that a call already over stops it instead.
                if not self._released:
                    stdin_source.start(self.outbox)
        except BaseException:
            # ^C while it starts: nobody would own the child, so stop it.
            self._call.cancel()
            raise

    def _receive(self):
        failure = None
        returncode = None
        try:
            for response in self._call:
                kind = response.WhichOneof("event")
                if kind in ("stdout", "stderr"):
                    self._deliver(self._sinks[kind], getattr(response, kind))
                elif kind == "started":
                    with self.cond:
                        self.pid = response.started.pid
                        self.cond.notify_all()
                elif kind == "exit" and returncode is None:  # the first one counts
                    try:
                        returncode = _exit_status.returncode(response.exit)
                    except ValueError as e:
                        # Taken as no returncode, whatever follows: the call fails.
                        failure = _errors.RemoteError(
                            grpc.StatusCode.UNKNOWN, f"rexec: {self._server} sent {e}")
                        break
        except grpc.RpcError as e:
            with self.cond:
                started = self.pid is not None
                cancelled_by_kill = self._cancelled_by_kill
            if not cancelled_by_kill:
                failure = _errors.from_rpc_error(e, None if started else self._program, self._cwd,
                                                 self._server)
        except Exception as e:
            # Ours, or a destination's that was not an OSError: the call
            # cannot go on without its receiver, and the caller learns why.
            failure = e
        finally:
            # Before the end is known: whoever learns of it may rely on the
            # pipes being at EOF and closed.
            self._release()
            self._call.cancel()  # a no-op once the call has its status
            self._end_call()
            with self.cond:
                if returncode is None and failure is None:
                    if self._cancelled_by_kill:
                        returncode = -signal.SIGKILL
                    else:
                        failure = _errors.RemoteError(
                            grpc.StatusCode.UNKNOWN, "the call ended without the child's exit")
                self._returncode = returncode
                self._error = None if returncode is not None else failure
                if self._kill_timer is not None:
                    self._kill_timer.cancel()
                callbacks, self._done_callbacks = self._done_callbacks, None
                self.cond.notify_all()
            for callback in callbacks:
                callback()

    def _deliver(self, sink, data):
        if not sink.write(data) and not self._sigpipe_sent:
            # Its reader is gone: a local child writing to a closed pipe
            # would get SIGPIPE.
            self._sigpipe_sent = True
            self.outbox.signal("SIGPIPE")

    def _release(self):
        """What the call holds: the request stream, the stdin source, the
        sinks. Once, when the call is over or could not begin."""
        with self.cond:
            if self._released:
                return
            self._released = True
        self.outbox.end()
        self._stdin_source.stop()
        for sink in {id(s): s for s in self._sinks.values()}.values():
            sink.finish()

    def done(self):
        """Whether the child's end is known."""
        with self.cond:
            return self._returncode is not None or self._error is not None

    def add_done_callback(self, callback):
        """Calls `callback()` once the child is done: on the receiving thread,
        or at once if it is done already."""
        with self.cond:
            if self._done_callbacks is not None:
                self._done_callbacks.append(callback)
                return
        callback()

    def poll(self):
        """The returncode, or None while the child runs; raises the call's
        error."""
        with self.cond:
            if self._error is not None:
                raise self._error
            return self._returncode

    def wait(self, timeout=None):
        """The returncode once the child has ended, or None if `timeout`
        seconds passed first; raises the call's error."""
        with self.cond:
            self.cond.wait_for(self.done, timeout)
        return self.poll()

    def signal(self, name):
        """Sends a signal (by name) to the child's process group, unless it
        has ended."""
        if not self.done():
            self.outbox.signal(name)

    def kill(self):
        """SIGKILL; should stdin the child has not read hold it up, or should
        it not end the child within KILL_GRACE_SECONDS, the call is
        cancelled, and the child counts as killed."""
        with self.cond:
            # Once: a second kill() would only queue another SIGKILL.
            if self._returncode is not None or self._error is not None or self._kill_timer:
                return
            self._kill_timer = threading.Timer(KILL_GRACE_SECONDS, self._cancel)
            self._kill_timer.daemon = True
            self._kill_timer.start()
        # Output it has not written into a full pipe here it never will: what
        # arrives past that must not keep its exit from being seen.
        for sink in self._sinks.values():
            sink.drop_the_rest()
        # Its stdin dies with it; what is queued would only delay the signal.
        stuck = self.outbox.drop_stdin()
        self.outbox.signal("SIGKILL")
        if stuck:
            self._cancel()

    def _cancel(self):
        with self.cond:
            if self._returncode is not None or self._error is not None:
                return
            self._cancelled_by_kill = True
        self._call.cancel()
