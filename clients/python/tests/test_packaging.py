"""pip install ./clients/python on a machine with no package index (Debian's
python3, python3-venv and python3-setuptools; the README's command), and the
type hints the installed package carries (py.typed), as mypy reads them."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent

# pip as on a machine that reaches no index: whatever this one's pip is set
# up with is left out.
OFFLINE = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS="",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
OFFLINE.pop("PYTHONPATH", None)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The python of a venv (seeing Debian's grpcio and protobuf) into which
    a copy of the package was pip-installed: setuptools builds in the tree
    it is given, and this one stays clean."""
    root = tmp_path_factory.mktemp("install")
    source = root / "rexec-source"
    shutil.copytree(PACKAGE_ROOT, source,
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")],
                   check=True, capture_output=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-build-isolation",
                             str(source)], capture_output=True, text=True, env=OFFLINE,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def test_installed_it_runs_children(installed, server, tmp_path):
    script = ("import rexec, sys\n"
              "from rexec import subprocess\n"
              "print(rexec.__file__)\n"
              "print(subprocess.check_output(['echo', 'hi'], text=True, server=sys.argv[1]), end='')\n")
    result = subprocess.run([str(installed), "-c", script, server], capture_output=True,
                            text=True, env=OFFLINE, cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    location, output = result.stdout.splitlines()
    package = pathlib.Path(location).parent
    assert package.is_relative_to(installed.parent.parent)
    assert (package / "py.typed").is_file()
    assert output == "hi"


WELL_TYPED = '''\
import asyncio
import subprocess as standard

import rexec
import rexec.asyncio
from rexec import subprocess

process: "standard.Popen[bytes]" = subprocess.Popen(["ls"], stdout=subprocess.PIPE)
result: "standard.CompletedProcess[str]" = subprocess.run(["ls"], text=True, timeout=5)
code: int = subprocess.call(["true"], server=rexec.Client("unix:/x", calls_per_connection=5))
output: str = subprocess.getoutput("ls", server="127.0.0.1:1")


async def main() -> bytes:
    proc: asyncio.subprocess.Process = await rexec.asyncio.create_subprocess_exec("ls")
    return (await proc.communicate())[0]
'''

BADLY_TYPED = '''\
import rexec
from rexec import subprocess

subprocess.Popen(["ls"], server=42)
text: str = subprocess.call(["true"])
rexec.Client(calls_per_connection="5")
'''


def mypy(python, directory, source):
    (directory / "program.py").write_text(source)
    return subprocess.run([str(python), "-m", "mypy", "--cache-dir", str(directory / "cache"),
                           "program.py"], capture_output=True, text=True, env=OFFLINE,
                          cwd=directory, timeout=300)


def test_type_hints_are_read(installed, tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    good = mypy(installed, tmp_path / "good", WELL_TYPED)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy(installed, tmp_path / "bad", BADLY_TYPED)
    errors = [line.split(": error: ")[1] for line in bad.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'Argument "server" to "Popen" has incompatible type "int"; expected '
        '"Union[str, Client, None]"  [arg-type]',
        'Incompatible types in assignment (expression has type "int", variable has type '
        '"str")  [assignment]',
        'Argument "calls_per_connection" to "Client" has incompatible type "str"; expected '
        '"int"  [arg-type]',
    ], bad.stdout


def test_the_package_is_consistent_with_its_hints(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), "rexec"],
                            capture_output=True, text=True, cwd=PACKAGE_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
