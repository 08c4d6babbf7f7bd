"""Where a remote child's stdout or stderr goes: a file descriptor (the
write end of a Popen's pipe, a file, or one of ours that the child would
inherit locally) or nowhere (DEVNULL).

Each has write(data) -> bool (False: the destination is a pipe with no
reader left, so the caller sends SIGPIPE, as a local child writing to it
would get) and finish(), which closes what it holds: for a pipe, its
reader sees EOF once every writer has finished. Used by the one thread that
receives a call's output; not thread-safe.
"""
import errno
import os
import select


class DiscardSink:
    """DEVNULL: nothing is kept."""

    def write(self, data):
        return True

    def finish(self):
        pass


class FdSink:
    """Writes to a duplicate of a file descriptor at its current offset, as a
    local child writing to it would; the caller may close its own once the
    process started. A full pipe makes write() wait, and so the child: the
    receiving thread stops, gRPC's flow control stops the server, the server
    stops reading the child's pipe."""

    def __init__(self, fd):
        self._fd = os.dup(fd)

    def write(self, data):
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                # A non-blocking fd of the caller's: wait as a blocking one would.
                poller = select.poll()
                poller.register(self._fd, select.POLLOUT)
                poller.poll()
            except BrokenPipeError:
                return False
            except OSError as e:
                if e.errno == errno.EPIPE:
                    return False
                # What a local child would be told by its write(2) (ENOSPC,
                # EIO...): this chunk is lost, as it would be to the child.
                return True
        return True

    def finish(self):
        os.close(self._fd)
