"""Runs a Python program, unmodified, with its children on a rexecd.

    python3 -m rexec.remote app.py ARGS...
    python3 -m rexec.remote -m package.module ARGS...

The program runs here as `python3 app.py ARGS...` would run it (as
__main__, with that sys.argv and the script's directory first in sys.path),
except that its `subprocess` is rexec.subprocess and asyncio's
create_subprocess_exec and create_subprocess_shell are rexec.asyncio's: the
children it starts run on the server of REXEC_SERVER, with the TLS and token
variables the `rexec` CLI reads (REXEC_TLS_CA, REXEC_TLS_CERT,
REXEC_TLS_KEY, REXEC_TLS_SERVER_NAME, REXEC_TOKEN_FILE).

It holds for every module the program imports: whatever uses subprocess
(os.popen too, which is built on it) starts its children on the server.
os.system, os.spawn*, os.fork and os.exec* stay local: they are not
subprocess. asyncio's event loops keep the standard subprocess for their
own low-level subprocess_exec and subprocess_shell.
"""
from __future__ import annotations

import os
import runpy
import sys

USAGE = """usage: python3 -m rexec.remote app.py [ARGS...]
       python3 -m rexec.remote -m module [ARGS...]
Runs the program with its subprocess children on the rexecd of $REXEC_SERVER."""


def install() -> None:
    """Makes `import subprocess` give rexec.subprocess from now on, and
    asyncio's subprocess functions rexec.asyncio's."""
    # asyncio first, so that its own modules keep the standard subprocess.
    import asyncio
    import asyncio.subprocess

    from rexec import asyncio as remote_asyncio
    from rexec import subprocess as remote_subprocess

    sys.modules["subprocess"] = remote_subprocess
    for module in (asyncio, asyncio.subprocess):
        for name in ("create_subprocess_exec", "create_subprocess_shell"):
            setattr(module, name, getattr(remote_asyncio, name))


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if argv in ([], ["-m"]):
        print(USAGE, file=sys.stderr)
        return 2
    install()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
