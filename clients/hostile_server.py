#!/usr/bin/python3
"""A hostile rexecd for the client libraries' tests: it serves
rexec.v1.ChildProcess as a malicious server would, to check that a client
bounds what it receives and refuses what is not sane.

Usage: hostile_server.py [--listen 127.0.0.1:0]
It says "listening on ADDRESS" on stderr, as rexecd does, so the suites'
rexecd harnesses start it as they start rexecd; SIGTERM ends it with 0.

What a call gets is chosen by its program: Spawn's argv (or, for `sh -c
COMMAND`, the words of COMMAND), Fork's module, Exec's command:
  big-message     one stdout message of 64 MiB, then exit 0
  flood           stdout in 1 MiB messages as fast as the client takes
                  them, up to 1 GiB, then exit 0; a signal from the client
                  stops it with that signal. "flood: sent N bytes" on
                  stderr after each, so a test sees how far it got
  spill BYTES     BYTES of stdout in 1 MiB messages, then exit 0 at once,
                  whatever the client says (a maxBuffer ignored)
  exit CODE       exit with CODE, any int32 (300 is no exit code)
  signal NAME     killed by signal NAME ("SIG99" is no signal)
  no-status       an exit event with neither code nor signal
  deaf            a line of stdout every 10 ms for 60 s, whatever the
                  client sends (its signals ignored), then exit 0
  error-escape    the call fails with a message full of terminal escapes
  session-escape  `started` names a session with terminal escapes
  message-escape  (Fork) a message, a string of a C1 CSI and a DEL
Exec's `overflow`: a result with 10 times the max_buffer the call asked
for in stdout (a max_buffer ignored), exit 0; `over-by-one`: max_buffer + 1
bytes of it; its big-message, exit, signal and no-status are as above, in
the result. List answers one session whose name and argv hold terminal
escapes; Kill never answers (for 60 s).

Not for anything but tests: it runs nothing.
"""
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from rexec.v1 import child_process_pb2 as pb  # noqa: E402
from rexec.v1 import child_process_pb2_grpc as pb_grpc  # noqa: E402

MIB = 1 << 20
CHUNK = b"x" * MIB
FLOOD_BYTES = 1 << 30
PID = 4242
# Moves the cursor home, clears the screen and retitles the window.
ESCAPES = "\x1b[H\x1b[2J\x1b]0;pwned\x07"


def words(argv):
    """The program's words: COMMAND's for `SHELL -c COMMAND`."""
    if len(argv) >= 3 and argv[1] == "-c":
        return argv[2].split()
    return list(argv)


def exit_status(mode, argument):
    """The ExitStatus that `mode` ends with."""
    if mode == "exit":
        return pb.ExitStatus(code=int(argument))
    if mode == "signal":
        return pb.ExitStatus(signal=argument)
    if mode == "no-status":
        return pb.ExitStatus()
    return pb.ExitStatus(code=0)


class Signals:
    """The signals a call's client sends, read on a thread of their own so
    that output never waits for them."""

    def __init__(self, requests):
        self.received = None
        self.arrived = threading.Event()
        threading.Thread(target=self._read, args=(requests,), daemon=True).start()

    def _read(self, requests):
        try:
            for request in requests:
                if request.WhichOneof("request") == "signal":
                    self.received = request.signal.name
                    self.arrived.set()
        except grpc.RpcError:
            pass


def output(kind, mode, argument, signals, context):
    """The events of a streaming call (Spawn, Fork) after `started`:
    `kind` makes an output message."""
    if mode == "big-message":
        yield kind(stdout=b"x" * (64 * MIB))
    elif mode == "deaf":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and context.is_active():
            yield kind(stdout=b"still here\n")
            time.sleep(0.01)
    elif mode == "message-escape":
        yield kind(message=struct_pb2.Value(string_value="\u009b2J\x7f"))
    elif mode == "error-escape":
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad " + ESCAPES)
    elif mode == "spill":
        left = int(argument)
        while left > 0:
            yield kind(stdout=CHUNK[:min(left, MIB)])
            left -= MIB
    elif mode == "flood":
        sent = 0
        while sent < FLOOD_BYTES and context.is_active() and not signals.arrived.is_set():
            yield kind(stdout=CHUNK)
            sent += MIB
            print(f"flood: sent {sent} bytes", file=sys.stderr, flush=True)
        if signals.arrived.is_set():
            yield kind(exit=pb.ExitStatus(signal=signals.received))
            return
    yield kind(exit=exit_status(mode, argument))


class HostileChildProcess(pb_grpc.ChildProcessServicer):
    def Spawn(self, request_iterator, context):
        start = next(request_iterator).start
        program = words(start.argv) + [""]
        signals = Signals(request_iterator)
        session = "s" + ESCAPES if program[0] == "session-escape" else ""
        yield pb.SpawnResponse(started=pb.Started(pid=PID, session=session))
        yield from output(pb.SpawnResponse, program[0], program[1], signals, context)

    def Fork(self, request_iterator, context):
        start = next(request_iterator).start
        program = [start.module, *start.args, ""]
        signals = Signals(request_iterator)
        yield pb.ForkResponse(started=pb.Started(pid=PID))
        yield from output(pb.ForkResponse, program[0], program[1], signals, context)

    def Exec(self, request_iterator, context):
        start = next(request_iterator).start
        program = start.command.split() + [""]
        mode, argument = program[0], program[1]
        yield pb.ExecResponse(started=pb.Started(pid=PID))
        max_buffer = start.max_buffer or MIB
        stdout = b""
        if mode == "overflow":
            stdout = b"x" * (10 * max_buffer)
        elif mode == "over-by-one":
            stdout = b"x" * (max_buffer + 1)
        elif mode == "big-message":
            stdout = b"x" * (64 * MIB)
        yield pb.ExecResponse(result=pb.ExecResult(
            stdout=stdout, exit=exit_status(mode, argument)))

    def Kill(self, request, context):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and context.is_active():
            time.sleep(0.05)
        return pb.KillResponse()

    def List(self, request, context):
        return pb.ListResponse(sessions=[pb.SessionInfo(
            id="id" + ESCAPES, name="name" + ESCAPES, pid=PID,
            argv=["argv" + ESCAPES])])


def main():
    address = "127.0.0.1:0"
    if sys.argv[1:2] == ["--listen"]:
        address = sys.argv[2]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=[
        ("grpc.max_send_message_length", -1)])
    pb_grpc.add_ChildProcessServicer_to_server(HostileChildProcess(), server)
    port = server.add_insecure_port(address)
    host = address.rsplit(":", 1)[0]
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"hostile_server: listening on {host}:{port}", file=sys.stderr, flush=True)
    stopped.wait()
    server.stop(grace=0).wait()


if __name__ == "__main__":
    main()
