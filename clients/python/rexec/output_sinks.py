"""Where a remote child's stdout or stderr goes: a file descriptor (the
write end of a Popen's pipe, a file, or one of ours that the child would
inherit locally) or nowhere (DEVNULL).

Each has write(data) -> bool (False: the destination is a pipe with no
reader left, so the caller sends SIGPIPE, as a local child writing to it
would get), drop_the_rest() and finish(), which closes what it holds: for
a pipe, its reader sees EOF once every writer has finished. Used by the one
thread that receives a call's output, but for drop_the_rest(), which any
thread may call.
"""
import os
import select
import stat
import threading


class DiscardSink:
    """DEVNULL: nothing is kept."""

    def write(self, data):
        return True

    def drop_the_rest(self):
        pass

    def finish(self):
        pass


class FdSink:
    """Writes to a duplicate of a file descriptor at its current offset, as a
    local child writing to it would; the caller may close its own once the
    process started. A full pipe makes write() wait, and so the child: the
    receiving thread stops, gRPC's flow control stops the server, the server
    stops reading the child's pipe. drop_the_rest() (from any thread) ends
    such a wait: for a child being killed, whose output past what the pipe
    holds would never have been written."""

    def __init__(self, fd):
        self._fd = os.dup(fd)
        try:
            # A regular file takes every write at once; anything else (a
            # pipe, a terminal, a socket) is written no more than it has
            # room for, so that a wait for room can be ended.
            self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)
            self._wake_read, self._wake_write = os.pipe()
        except BaseException:
            os.close(self._fd)
            raise
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLOUT)
        self._poller.register(self._wake_read, select.POLLIN)
        self._dropping = False
        self._lock = threading.Lock()  # finish() against drop_the_rest()
        self._finished = False
        self._woken = False

    def write(self, data):
        view = memoryview(data)
        try:
            while view and not self._dropping:
                if not self._regular and not self._wait_for_room():
                    self._dropping = True
                    break
                size = len(view) if self._regular else min(len(view), select.PIPE_BUF)
                try:
                    view = view[os.write(self._fd, view[:size]):]
                except BlockingIOError:
                    pass  # a non-blocking fd of the caller's: poll again
        except BrokenPipeError:
            return False
        except OSError:
            # What a local child would be told by its write(2) (ENOSPC,
            # EIO...): this chunk is lost, as it would be to the child.
            pass
        return True

    def _wait_for_room(self):
        """True once the fd can take PIPE_BUF bytes without blocking (or has
        no reader, which the write then says); False when told to drop the
        rest instead and the fd has no room: output that fits is still
        written, as a local child's writes before its kill are."""
        ready = dict(self._poller.poll())
        return self._fd in ready or self._wake_read not in ready

    def drop_the_rest(self):
        with self._lock:
            if not self._finished and not self._woken:
                self._woken = True  # once: nobody drains the wake pipe
                os.write(self._wake_write, b"\0")

    def finish(self):
        with self._lock:
            self._finished = True
            for fd in (self._fd, self._wake_read, self._wake_write):
                os.close(fd)
