"""The README's example is examples/example.py, and it runs."""
import os
import pathlib
import re
import subprocess
import sys

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_readmes_show_the_example():
    example = (PACKAGE_ROOT / "examples/example.py").read_text()
    # This package's README, and the repository's.
    for readme in (PACKAGE_ROOT / "README.md", PACKAGE_ROOT.parent.parent / "README.md"):
        blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
        assert example in blocks, readme


def test_example_runs(server):
    environment = dict(os.environ, REXEC_SERVER=server, PYTHONPATH=str(PACKAGE_ROOT),
                       PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, str(PACKAGE_ROOT / "examples/example.py")],
                            capture_output=True, text=True, env=environment, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "Linux\n42\nexit status 3\na\nb\n"
