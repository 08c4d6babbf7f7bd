"""Where a remote child's stdin comes from: nothing (EOF at once), or a file
descriptor that is read and sent (the read end of a Popen's stdin pipe, a
file, or the read end of another Popen's stdout, for a pipeline).

Each has start(outbox), called once the child runs, and stop(), called when
its call is over or could not start: it returns once the source's thread
has ended and its fd is closed, so that a writer of a Popen's stdin pipe
gets BrokenPipeError from then on, as a local child's end would give it.
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
    may close its file once the process started, as with a local child. The
    copy waits while the child's stdin is full, as the child reading the
    source itself would."""

    def __init__(self, fd):
        self._fd = os.dup(fd)
        try:
            self._wake_read, self._wake_write = os.pipe()
        except BaseException:
            os.close(self._fd)
            raise
        self._lock = threading.Lock()
        self._closed = False
        self._woken = False
        self._thread = None

    def start(self, outbox):
        with self._lock:
            if self._closed:
                return
            self._thread = threading.Thread(target=self._copy, args=(outbox,), daemon=True,
                                            name="rexec stdin")
            self._thread.start()

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
                    outbox.close_stdin()
                    return
                if not outbox.put_stdin(data):
                    return
        except OSError:
            outbox.close_stdin()  # a source that fails reads as its end, as EIO would
        finally:
            self._close()

    def stop(self):
        """Ends the copy (the outbox must have ended already, so a put that
        waits returns) and closes the fd, then returns."""
        with self._lock:
            if not self._closed and not self._woken:
                self._woken = True  # once: nobody drains the wake pipe
                os.write(self._wake_write, b"\0")
            thread = self._thread
        if thread is None:
            self._close()
        elif thread is not threading.current_thread():
            thread.join()

    def _close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._fd, self._wake_read, self._wake_write):
                os.close(fd)
