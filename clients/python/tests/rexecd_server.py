"""A rexecd child of the tests: the binary $REXECD (or another server that
logs as it does, clients/hostile_server.py), listening on 127.0.0.1:0 (or
what it is told), with the addresses it chose read from its log.

Used by conftest.py's fixtures and by cpython_suite.py. Not thread-safe: one
owner starts and stops it.
"""
import collections
import os
import re
import subprocess
import threading


class Rexecd:
    """A rexecd listening on each of `listen`; its `addresses` (and
    `address`, the first) are read from its log. The log is drained all
    along (a server blocked on a full stderr pipe would stall every call),
    and its last lines kept for failures."""

    def __init__(self, *flags, listen=("127.0.0.1:0",), cwd=None, binary=None):
        # The host's PID namespace, not one of rexecd's own: these tests look
        # up the pids a child reports, and its parent, in this machine's
        # /proc, and stop rexecd by its pid. A server's own namespace (its
        # default as root) is tested by tests/e2e/crash_test.cc; what a
        # client sees does not change with it but for the numbers.
        if binary is None:
            flags = ("--pid-namespace", "host", *flags)
        binary = binary or os.environ.get("REXECD")
        if not binary:
            raise RuntimeError("set REXECD to the rexecd binary to test against")
        self.addresses = []
        self.log = collections.deque(maxlen=200)
        self._expected = len(listen)
        self._ready = threading.Event()
        listen_flags = [flag for address in listen for flag in ("--listen", address)]
        # As root, rexecd serves TCP without a way to know its callers only
        # with --insecure; a test that gives a credential flag means it.
        if not {"--token-file", "--tls-client-ca", "--insecure"} & set(flags):
            listen_flags.append("--insecure")
        self.process = subprocess.Popen(
            [binary, *listen_flags, *flags], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd)
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(20) or len(self.addresses) < self._expected:
            self.stop()
            raise RuntimeError("rexecd did not start:\n" + "\n".join(self.log))
        self.address = self.addresses[0]

    def _drain(self):
        with self.process.stderr:
            for line in self.process.stderr:
                self.log.append(line.rstrip("\n"))
                match = re.search(r"listening on (\S+)", line)
                if match:
                    self.addresses.append(match.group(1))
                    if len(self.addresses) == self._expected:
                        self._ready.set()
        self._ready.set()

    def stop(self):
        """SIGTERM, as an operator stops it; its exit status (0 when it
        drained cleanly)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)
