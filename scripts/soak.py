#!/usr/bin/python3
"""Soak test: mixed Spawn, Exec and Fork load on one rexecd from several
client processes for a given time, reporting calls, errors, and the server's
RSS and fd count as it goes.

    PYTHONPATH=build/tests/python /usr/bin/python3 scripts/soak.py \\
        --rexecd build/server/rexecd --duration 600

Starts its own rexecd on 127.0.0.1:0 (or uses --server ADDR). Each client
loops over five kinds of call, each checked for its exact result: Spawn of
cat with 64 KiB of stdin, Spawn of sleep cancelled once started, Exec of a
shell pipeline, Exec that passes max_buffer, and Fork of a Node module that
answers one message. Fails (exit 1) on any error, when the server's RSS at
the end is more than --max-rss-growth-mib over its RSS after the first
report, or when the server has more fds or any child left once the clients
are done.
"""
import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import grpc
from google.protobuf import json_format, struct_pb2
from rexec.v1 import child_process_pb2 as pb
from rexec.v1 import child_process_pb2_grpc as pb_grpc

FORK_MODULE = """
process.on('message', (m) => {
  process.send({echo: m}, () => process.disconnect());
});
"""

STDIN = bytes(range(256)) * 256  # 64 KiB


def spawn_cat(stub):
    def requests():
        yield pb.SpawnRequest(start=pb.SpawnStart(argv=["cat"]))
        yield pb.SpawnRequest(stdin=STDIN)
        yield pb.SpawnRequest(close_stdin=pb.CloseStdin())
    out, code = b"", None
    for r in stub.Spawn(requests(), timeout=60):
        if r.HasField("stdout"):
            out += r.stdout
        elif r.HasField("exit"):
            code = r.exit.code
    assert out == STDIN and code == 0, f"cat: {len(out)} bytes, code {code}"


def spawn_cancelled(stub):
    def requests():
        yield pb.SpawnRequest(start=pb.SpawnStart(argv=["sleep", "341"]))
        time.sleep(60)
    call = stub.Spawn(requests(), timeout=60)
    first = next(call)
    assert first.HasField("started"), first
    call.cancel()


def exec_pipeline(stub):
    def requests():
        yield pb.ExecRequest(start=pb.ExecStart(
            command="seq 1 1000 | tr -d '\\n' | wc -c; echo e >&2"))
    result = [r for r in stub.Exec(requests(), timeout=60)][-1].result
    assert result.stdout == b"2893\n" and result.stderr == b"e\n", result


def exec_max_buffer(stub):
    def requests():
        yield pb.ExecRequest(start=pb.ExecStart(command="yes", max_buffer=4096))
    result = [r for r in stub.Exec(requests(), timeout=60)][-1].result
    assert len(result.stdout) == 4096, len(result.stdout)
    assert result.exit.reason == pb.TERMINATION_REASON_MAX_BUFFER_EXCEEDED


def fork_echo(stub, module_dir):
    def requests():
        yield pb.ForkRequest(start=pb.ForkStart(
            module="soak_child.js", options=pb.ProcessOptions(cwd=module_dir)))
        message = struct_pb2.Value()
        json_format.ParseDict({"n": 1}, message)
        yield pb.ForkRequest(message=message)
    events = []
    for r in stub.Fork(requests(), timeout=60):
        kind = r.WhichOneof("event")
        if kind == "message":
            events.append(json_format.MessageToDict(r.message))
        elif kind in ("disconnected", "exit"):
            events.append(kind)
    assert events == [{"echo": {"n": 1}}, "disconnected", "exit"], events


def client(address, module_dir, deadline, results):
    channel = grpc.insecure_channel(address)
    stub = pb_grpc.ChildProcessStub(channel)
    kinds = [spawn_cat, spawn_cancelled, exec_pipeline, exec_max_buffer,
             lambda s: fork_echo(s, module_dir)]
    calls = errors = 0
    i = 0
    while time.time() < deadline:
        try:
            kinds[i % len(kinds)](stub)
        except Exception as e:  # noqa: BLE001 -- every failure counts
            errors += 1
            print(f"soak: error in {kinds[i % len(kinds)].__name__}: {e}",
                  file=sys.stderr)
        calls += 1
        i += 1
        if calls % 20 == 0:
            results.put((calls, errors))
            calls = errors = 0
    results.put((calls, errors))
    channel.close()


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def fd_targets(pid):
    """What each of the server's fds is, for a report of one left open."""
    targets = []
    for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            targets.append(f"{fd}:{os.readlink(f'/proc/{pid}/fd/{fd}')}")
        except OSError:
            pass
    return targets


def children_of(pid):
    """The server's children but its launcher, which lives as long as it."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if "(rexecd-launch)" in stat:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                out.append(int(entry))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rexecd", help="start this rexecd binary")
    parser.add_argument("--server", help="or use a running server")
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--report-every", type=float, default=10)
    parser.add_argument("--max-rss-growth-mib", type=float, default=32)
    args = parser.parse_args()

    server = None
    if args.rexecd:
        # --insecure: a root rexecd serves loopback TCP without credentials
        # only when told.
        server = subprocess.Popen([args.rexecd, "--listen", "127.0.0.1:0", "--insecure"],
                                  stderr=subprocess.PIPE, text=True)
        # The pid started, unless rexecd runs as init of a namespace of its
        # own, forked by it: then its memory, fds and children are the fork's.
        pid = server.pid
        for line in server.stderr:
            m = re.search(r"PID namespace of its own \(pid (\d+) outside it\)",
                          line)
            if m:
                pid = int(m.group(1))
            m = re.search(r"listening on (\S+)", line)
            if m:
                address = m.group(1)
                break
        else:
            sys.exit("soak: rexecd did not start")
        # Keep its log drained.
        drain = threading.Thread(target=lambda: [None for _ in server.stderr],
                                 daemon=True)
        drain.start()
    elif args.server:
        address = args.server
        pid = None
    else:
        sys.exit("soak: --rexecd or --server is required")

    module_dir = tempfile.mkdtemp(prefix="rexec-soak-")
    with open(os.path.join(module_dir, "soak_child.js"), "w") as f:
        f.write(FORK_MODULE)

    if pid:
        # The base is taken after one call and once the fds are still: the
        # server opens some of its own lazily, and later on a loaded machine.
        with grpc.insecure_channel(address) as channel:
            exec_pipeline(pb_grpc.ChildProcessStub(channel))
        base_fds = None
        for _ in range(20):
            time.sleep(0.25)
            base_rss, fds = proc_status(pid)
            if fds == base_fds and not children_of(pid):
                break
            base_fds = fds
        base_targets = fd_targets(pid)
    start = time.time()
    deadline = start + args.duration
    results = multiprocessing.Queue()
    clients = [multiprocessing.Process(
        target=client, args=(address, module_dir, deadline, results))
        for _ in range(args.clients)]
    for c in clients:
        c.start()

    calls = errors = 0
    first_rss = None
    next_report = start + args.report_every
    print(f"soak: {args.clients} clients for {args.duration:.0f} s "
          f"against {address}")
    while any(c.is_alive() for c in clients) or not results.empty():
        try:
            n, e = results.get(timeout=0.5)
            calls += n
            errors += e
        except Exception:  # noqa: BLE001 -- queue.Empty
            pass
        if time.time() >= next_report:
            next_report += args.report_every
            line = f"t={time.time() - start:5.0f}s calls={calls} errors={errors}"
            if pid:
                rss, fds = proc_status(pid)
                first_rss = first_rss or rss
                line += f" rss={rss / 2**20:.1f}MiB fds={fds}"
            print(line, flush=True)
    for c in clients:
        c.join()

    failures = []
    if errors:
        failures.append(f"{errors} of {calls} calls failed")
    if calls == 0:
        failures.append("no call completed")
    if pid:
        give_up = time.time() + 20
        while time.time() < give_up:
            rss, fds = proc_status(pid)
            if fds <= base_fds and not children_of(pid):
                break
            time.sleep(0.2)
        rss, fds = proc_status(pid)
        growth = (rss - (first_rss or base_rss)) / 2**20
        print(f"soak: {calls} calls, {errors} errors; rss {base_rss / 2**20:.1f}"
              f" -> {rss / 2**20:.1f} MiB, fds {base_fds} -> {fds}")
        if growth > args.max_rss_growth_mib:
            failures.append(f"server RSS grew {growth:.1f} MiB after warm-up")
        if fds > base_fds:
            failures.append(f"server fds {base_fds} -> {fds}: "
                            f"{' '.join(base_targets)} -> "
                            f"{' '.join(fd_targets(pid))}")
        if children_of(pid):
            failures.append(f"children left: {children_of(pid)}")
        server.terminate()
        code = server.wait(timeout=30)
        drain.join(timeout=5)
        if code != 0:
            failures.append(f"rexecd exited {code} on SIGTERM")
    for failure in failures:
        print(f"soak: FAILED: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
