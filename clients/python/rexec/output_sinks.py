"""Where a remote child's stdout or stderr goes when it is not a pipe: a file
descriptor (a file, or DEVNULL) or one of our own streams (None: the
parent's sys.stdout or sys.stderr).

Each has write(data) -> bool (False: the destination is gone, so the caller
may send SIGPIPE as a closed local fd would earn the child) and finish(),
like PipeBuffer. Used by the one thread that receives a call's output; not
thread-safe.
"""
import codecs
import os


class DiscardSink:
    """DEVNULL: nothing is kept."""

    def write(self, data):
        return True

    def finish(self):
        pass


class FdSink:
    """Writes to a file descriptor (a file's fileno(), or an int) at its
    current offset, as a local child writing to it would. It writes to a
    duplicate, so the caller may close its file once the process started,
    as with a local child."""

    def __init__(self, fd):
        self._fd = os.dup(fd)

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:
            return False
        return True

    def finish(self):
        os.close(self._fd)


class StreamSink:
    """Copies output to a Python stream (sys.stdout or sys.stderr as they
    were when the process started): its binary buffer when it has one, else
    decoded text. Flushes after every chunk, so output shows as it arrives."""

    def __init__(self, stream):
        self._stream = stream
        self._decoder = None
        if stream is not None and getattr(stream, "buffer", None) is None:
            encoding = getattr(stream, "encoding", None) or "utf-8"
            self._decoder = codecs.getincrementaldecoder(encoding)("replace")

    def write(self, data):
        stream = self._stream
        if stream is None:  # no stdout at all (pythonw): like a closed fd 1
            return True
        try:
            if self._decoder is None:
                # What print() left in the text layer goes first.
                stream.flush()
                stream.buffer.write(data)
                stream.buffer.flush()
            else:
                stream.write(self._decoder.decode(data))
                stream.flush()
        except (OSError, ValueError):
            return False
        return True

    def finish(self):
        if self._decoder is not None and self._stream is not None:
            try:
                self._stream.write(self._decoder.decode(b"", final=True))
                self._stream.flush()
            except (OSError, ValueError):
                pass
