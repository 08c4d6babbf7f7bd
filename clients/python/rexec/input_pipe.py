"""The write end of a remote child's stdin: what a local pipe is to
subprocess. Writes become stdin messages of the call; close() is EOF.

A write returns once its bytes are queued, and waits while the queue is
full (the child is not reading), as a write to a full local pipe blocks.
Writing after the call ended raises BrokenPipeError, as writing to a local
pipe whose reader is gone does.

Thread-safe as far as the Outbox is: wrap it in io.BufferedWriter (and
io.TextIOWrapper) as subprocess wraps a pipe's fd, and those are not.
"""
import errno
import io
import os


class InputPipe(io.RawIOBase):
    def __init__(self, outbox):
        super().__init__()
        self._outbox = outbox

    def writable(self):
        return True

    def write(self, data):
        # Copied: the caller (BufferedWriter) reuses its buffer once we return.
        data = bytes(data)
        if not self._outbox.put_stdin(data):
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        return len(data)

    def write_nowait(self, data):
        """Queues `data` whatever the queue holds (communicate()'s input, which
        is in memory already), without copying it. False once the call has
        ended."""
        return self._outbox.put_stdin(data, block=False)

    def close(self):
        if not self.closed:
            self._outbox.close_stdin()
        super().close()
