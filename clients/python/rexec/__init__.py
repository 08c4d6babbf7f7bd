"""rexec: child processes on a rexecd, through Python's own process API.

    from rexec import subprocess   # instead of: import subprocess

rexec.subprocess is the standard library's subprocess with its children on
the server $REXEC_SERVER (or `server=`); rexec.asyncio has asyncio's
create_subprocess_exec and create_subprocess_shell; `python3 -m
rexec.remote app.py` runs a program unchanged with both remote.
rexec.Client is a connection with explicit credentials; rexec.RemoteError
is how a failed call is raised. The generated API stubs are in rexec.v1.
"""
from rexec import subprocess
from rexec.client import Client
from rexec.errors import RemoteError

__all__ = ["Client", "RemoteError", "subprocess"]
__version__ = "0.11.0"
