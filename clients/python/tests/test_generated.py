"""The committed stubs are what generate.sh makes of the proto now: a proto
change without a regeneration fails here."""
import pathlib
import subprocess

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent
STUBS = ("rexec/v1/child_process_pb2.py", "rexec/v1/child_process_pb2_grpc.py")


def test_committed_stubs_match_the_proto(tmp_path):
    subprocess.run(["bash", str(PACKAGE_ROOT / "generate.sh"), str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    for stub in STUBS:
        assert (tmp_path / stub).read_bytes() == (PACKAGE_ROOT / stub).read_bytes(), (
            f"{stub} is stale: run clients/python/generate.sh")
