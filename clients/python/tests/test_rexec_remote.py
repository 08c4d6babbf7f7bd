"""python3 -m rexec.remote: an unmodified program, its children remote."""
import os
import pathlib
import subprocess
import sys

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent

# Written for the standard library only: it prints the parent pid of each
# child it starts, the ways programs start them.
PROGRAM = '''\
import asyncio
import multiprocessing
import os
import subprocess
import sys
from subprocess import check_output

import helper_next_to_it


async def children_of_asyncio():
    proc = await asyncio.create_subprocess_exec(
        "sh", "-c", "echo $PPID", stdout=asyncio.subprocess.PIPE)
    print("asyncio", (await proc.communicate())[0].decode().strip())
    proc = await asyncio.create_subprocess_shell(
        "echo $PPID", stdout=asyncio.subprocess.PIPE)
    print("asyncio shell", (await proc.communicate())[0].decode().strip())


def main():
    print("argv", *sys.argv[1:])
    print("run", subprocess.run(["sh", "-c", "echo $PPID"], capture_output=True,
                                text=True).stdout.strip())
    print("check_output", check_output("echo $PPID", shell=True, text=True).strip())
    with os.popen("echo $PPID") as pipe:
        print("os.popen", pipe.read().strip())
    asyncio.run(children_of_asyncio())
    # multiprocessing takes private names of subprocess's for its own
    # workers, which stay local (a spawned one imports this file again).
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        print("multiprocessing", pool.apply(abs, (-3,)))
    print("this process", os.getpid())
    sys.exit(helper_next_to_it.CODE)


if __name__ == "__main__":
    main()
'''


def run_program(tmp_path, *prefix, server=None):
    (tmp_path / "app.py").write_text(PROGRAM)
    (tmp_path / "helper_next_to_it.py").write_text("CODE = 7\n")
    environment = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), PYTHONDONTWRITEBYTECODE="1")
    if server:
        environment["REXEC_SERVER"] = server
    result = subprocess.run([sys.executable, *prefix, str(tmp_path / "app.py"), "a", "b c"],
                            capture_output=True, text=True, env=environment, timeout=60,
                            cwd="/")
    assert result.stderr == ""
    lines = dict(line.rsplit(" ", 1) if not line.startswith("argv") else ("argv", line[5:])
                 for line in result.stdout.splitlines())
    return result.returncode, lines


def test_the_programs_children_run_on_the_server(rexecd, tmp_path):
    code, seen = run_program(tmp_path, "-m", "rexec.remote", server=rexecd.address)
    assert code == 7
    assert seen.pop("argv") == "a b c"
    assert seen.pop("this process") != str(rexecd.process.pid)
    assert seen.pop("multiprocessing") == "3"
    assert seen == dict.fromkeys(("run", "check_output", "os.popen", "asyncio",
                                  "asyncio shell"), str(rexecd.process.pid))


def test_without_it_they_are_local(tmp_path):
    code, seen = run_program(tmp_path)
    assert code == 7
    parent = seen.pop("this process")
    seen.pop("argv")
    assert seen.pop("multiprocessing") == "3"
    assert set(seen.values()) == {parent}


def test_a_module_by_name(rexecd, tmp_path):
    (tmp_path / "tool.py").write_text(
        "import subprocess, sys\n"
        "print(sys.argv[1:], subprocess.check_output('echo $PPID', shell=True, text=True).strip())\n")
    environment = dict(os.environ, PYTHONPATH=f"{PACKAGE_ROOT}:{tmp_path}",
                       REXEC_SERVER=rexecd.address, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-m", "rexec.remote", "-m", "tool", "x"],
                            capture_output=True, text=True, env=environment, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"['x'] {rexecd.process.pid}\n"


def test_usage():
    environment = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-m", "rexec.remote"], capture_output=True,
                            text=True, env=environment, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python3 -m rexec.remote app.py")
