"""A Python client (Debian's python3-grpcio) against a real rexecd.

Usage: python_spawn_test.py PATH_TO_REXECD   (PYTHONPATH has the stubs)
"""
import re
import subprocess
import sys
import unittest

import grpc
from rexec.v1 import child_process_pb2 as pb
from rexec.v1 import child_process_pb2_grpc as pb_grpc

REXECD = sys.argv.pop(1)


class PythonSpawnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen(
            [REXECD, "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
        for line in cls.server.stderr:
            m = re.search(r"listening on (\S+)", line)
            if m:
                cls.address = m.group(1)
                break
        else:
            raise RuntimeError("rexecd did not start")
        cls.channel = grpc.insecure_channel(cls.address)
        cls.stub = pb_grpc.ChildProcessStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.terminate()
        cls.server.wait(timeout=30)

    def test_spawn_with_stdin(self):
        def requests():
            yield pb.SpawnRequest(start=pb.SpawnStart(
                argv=["sh", "-c", "tr a-z A-Z; echo done >&2; exit 3"]))
            yield pb.SpawnRequest(stdin=b"hello ")
            yield pb.SpawnRequest(stdin=b"python\n")
            yield pb.SpawnRequest(close_stdin=pb.CloseStdin())

        out, err, events = b"", b"", []
        for response in self.stub.Spawn(requests(), timeout=60):
            kind = response.WhichOneof("event")
            events.append(kind)
            if kind == "stdout":
                out += response.stdout
            elif kind == "stderr":
                err += response.stderr
            elif kind == "exit":
                exit_status = response.exit
        self.assertEqual(events[0], "started")
        self.assertEqual(events[-1], "exit")
        self.assertEqual(out, b"HELLO PYTHON\n")
        self.assertEqual(err, b"done\n")
        self.assertEqual(exit_status.WhichOneof("status"), "code")
        self.assertEqual(exit_status.code, 3)
        self.assertEqual(exit_status.reason, pb.TERMINATION_REASON_EXITED)

    def test_bad_input_is_invalid_argument(self):
        def requests():
            yield pb.SpawnRequest(stdin=b"no start")
        with self.assertRaises(grpc.RpcError) as ctx:
            list(self.stub.Spawn(requests(), timeout=60))
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
