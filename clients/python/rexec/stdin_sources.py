"""Where a remote child's stdin comes from when it is not a pipe that the
caller writes: nothing (EOF at once), a file descriptor, or the output pipe
of another remote child (a pipeline).

Each has start(outbox), called once the child runs, and stop(), called when
its call is over or could not start, which ends the source's thread and
frees what it holds. A source's thread reads to EOF and blocks while the
child's stdin is full, like the child reading the source itself would.
Thread-safe.
"""
import os
import select
import threading

from rexec import outbox as _outbox


class ClosedStdin:
    """None or DEVNULL: the child's stdin is at EOF from the start. (A
    remote child cannot share our stdin, and reading it for the child in
    the background would take input the parent itself may want.)"""

    def start(self, outbox):
        outbox.close_stdin()

    def stop(self):
        pass


class FdStdin:
    """Copies a file descriptor to EOF. It works on a duplicate, so the caller
    may close its file once the process started, as with a local child."""

    def __init__(self, fd):
        self._fd = os.dup(fd)
        self._wake_read, self._wake_write = os.pipe()
        self._lock = threading.Lock()
        self._closed = False
        self._started = False

    def start(self, outbox):
        self._started = True
        threading.Thread(target=self._copy, args=(outbox,), daemon=True,
                         name="rexec stdin").start()

    def _copy(self, outbox):
        try:
            # poll, not epoll (which refuses regular files) nor select (which
            # refuses fds past 1023).
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            poller.register(self._wake_read, select.POLLIN)
            while True:
                ready = dict(poller.poll())
                if self._wake_read in ready:
                    return
                data = os.read(self._fd, _outbox.CHUNK_BYTES)
                if not data:
                    break
                if not outbox.put_stdin(data):
                    return
        except OSError:
            pass  # a source that fails reads as its end, as EIO would to the child
        finally:
            self._close()
        outbox.close_stdin()

    def stop(self):
        with self._lock:
            if not self._closed:
                os.write(self._wake_write, b"\0")
        if not self._started:
            self._close()

    def _close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._fd, self._wake_read, self._wake_write):
                os.close(fd)


class PipeStdin:
    """Copies another remote child's output pipe (a PipeReader of its own,
    so the caller may close theirs, as the subprocess docs' pipeline does)."""

    def __init__(self, reader):
        self._reader = reader

    def start(self, outbox):
        threading.Thread(target=self._copy, args=(outbox,), daemon=True,
                         name="rexec stdin").start()

    def _copy(self, outbox):
        try:
            while True:
                data = self._reader.read(_outbox.CHUNK_BYTES)
                if not data:
                    outbox.close_stdin()
                    return
                if not outbox.put_stdin(data):
                    return
        finally:
            self._reader.close()

    def stop(self):
        # Ends a read blocked in it; closing our reader may leave the
        # upstream child with no reader, and so earn it SIGPIPE.
        self._reader.close()
