"""A Python client (Debian's python3-grpcio) against a real rexecd.

Usage: python_client_test.py PATH_TO_REXECD FORK_SCRIPTS_DIR
(PYTHONPATH has the stubs)
"""
import queue
import re
import subprocess
import sys
import threading
import unittest

import grpc
from google.protobuf import json_format, struct_pb2
from rexec.v1 import child_process_pb2 as pb
from rexec.v1 import child_process_pb2_grpc as pb_grpc

REXECD = sys.argv.pop(1)
FORK_SCRIPTS = sys.argv.pop(1)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen(
            [REXECD, "--listen", "127.0.0.1:0", "--insecure"], stderr=subprocess.PIPE,
            text=True)
        for line in cls.server.stderr:
            m = re.search(r"listening on (\S+)", line)
            if m:
                cls.address = m.group(1)
                break
        else:
            raise RuntimeError("rexecd did not start")
        # Exec results may be larger than gRPC's default 4 MiB.
        cls.channel = grpc.insecure_channel(
            cls.address, options=[("grpc.max_receive_message_length", -1)])
        cls.stub = pb_grpc.ChildProcessStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.terminate()
        cls.server.wait(timeout=30)

    def test_spawn_with_stdin(self):
        exited, gave_up = threading.Event(), threading.Event()

        def requests():
            yield pb.SpawnRequest(start=pb.SpawnStart(
                argv=["sh", "-c", "tr a-z A-Z; echo done >&2; exit 3"]))
            yield pb.SpawnRequest(stdin=b"hello ")
            yield pb.SpawnRequest(stdin=b"python\n")
            yield pb.SpawnRequest(close_stdin=pb.CloseStdin())
            # The request stream stays open: close_stdin alone is the EOF.
            # (Bounded, so that a server that ignores it fails the test.)
            if not exited.wait(timeout=20):
                gave_up.set()

        out, err, events = b"", b"", []
        for response in self.stub.Spawn(requests(), timeout=20):
            kind = response.WhichOneof("event")
            events.append(kind)
            if kind == "stdout":
                out += response.stdout
            elif kind == "stderr":
                err += response.stderr
            elif kind == "exit":
                exit_status = response.exit
                exited.set()
        self.assertFalse(gave_up.is_set(), "no exit: close_stdin was no EOF")
        self.assertEqual(events[0], "started")
        self.assertEqual(events[-1], "exit")
        self.assertEqual(out, b"HELLO PYTHON\n")
        self.assertEqual(err, b"done\n")
        self.assertEqual(exit_status.WhichOneof("status"), "code")
        self.assertEqual(exit_status.code, 3)
        self.assertEqual(exit_status.reason, pb.TERMINATION_REASON_EXITED)

    def test_exec_with_a_large_max_buffer(self):
        def requests():
            yield pb.ExecRequest(start=pb.ExecStart(
                command="head -c 8388608 /dev/zero; echo x >&2",
                max_buffer=8 << 20))

        responses = list(self.stub.Exec(requests(), timeout=20))
        self.assertEqual([r.WhichOneof("event") for r in responses],
                         ["started", "result"])
        result = responses[1].result
        self.assertEqual(len(result.stdout), 8 << 20)
        self.assertEqual(result.stderr, b"x\n")
        self.assertEqual(result.exit.code, 0)

    def test_fork_exchanges_messages_with_a_node_child(self):
        outgoing = queue.Queue()

        def requests():
            yield pb.ForkRequest(start=pb.ForkStart(
                module="child.js", args=["echo"],
                options=pb.ProcessOptions(cwd=FORK_SCRIPTS)))
            while True:
                request = outgoing.get(timeout=20)
                if request is None:
                    return
                yield request

        messages, events = [], []
        for response in self.stub.Fork(requests(), timeout=20):
            kind = response.WhichOneof("event")
            events.append(kind)
            if kind == "message":
                value = json_format.MessageToDict(response.message)
                messages.append(value)
                if value.get("ready"):
                    sent = struct_pb2.Value()
                    json_format.ParseDict({"n": 1, "s": "ü"}, sent)
                    outgoing.put(pb.ForkRequest(message=sent))
                else:
                    outgoing.put(pb.ForkRequest(disconnect=pb.Disconnect()))
            elif kind == "exit":
                exit_status = response.exit
        outgoing.put(None)
        self.assertEqual(messages, [{"argv": [], "ready": True},
                                    {"echo": {"n": 1, "s": "ü"}}])
        events = [e for e in events if e not in ("stdout", "stderr")]
        self.assertEqual(events[-2:], ["disconnected", "exit"])
        self.assertEqual(exit_status.code, 3)

    def test_bad_input_is_invalid_argument(self):
        def requests():
            yield pb.SpawnRequest(stdin=b"no start")
        with self.assertRaises(grpc.RpcError) as ctx:
            list(self.stub.Spawn(requests(), timeout=20))
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
