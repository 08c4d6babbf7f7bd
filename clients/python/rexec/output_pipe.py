"""The read end of a remote child's stdout or stderr: what a local pipe is to
subprocess.

A PipeBuffer holds output that has arrived and not been read, at most about
`limit` bytes: while it is full, the thread that receives the call's
messages waits, gRPC's flow control stops the server, the server stops
reading the child's pipe, and the child blocks on its write, as it would on
a local pipe nobody reads. Readers are PipeReader streams (a Popen's
stdout, and the stdin feeder of a process downstream in a pipeline); once
every reader is closed, output is dropped and write() says so, for the
caller to send SIGPIPE as a closed local pipe would.

Thread-safe; shares the child's Condition, so one wait can watch a child's
pipes and its exit together.
"""
import collections
import io


class PipeBuffer:
    def __init__(self, cond, limit):
        self._cond = cond
        self._limit = limit
        self._chunks = collections.deque()
        self._offset = 0  # into _chunks[0]: reads take slices, never copies of the rest
        self._size = 0
        self._eof = False
        self._readers = 0

    def open_reader(self):
        """A new reader; the pipe stays open while any reader is."""
        with self._cond:
            self._readers += 1
        return PipeReader(self)

    def write(self, data):
        """Appends output, first waiting while the buffer is full. False when
        no reader is left (the data was dropped)."""
        if not data:
            return True  # an empty chunk in the buffer would read as EOF
        with self._cond:
            while self._size >= self._limit and self._readers:
                self._cond.wait()
            if not self._readers:
                return False
            self._chunks.append(data)
            self._size += len(data)
            self._cond.notify_all()
            return True

    def finish(self):
        """End of file, after what is buffered."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def take(self, size=-1):
        """Up to `size` buffered bytes (all with -1), b"" at end of file, or
        None when there are none yet. Call with the Condition held."""
        if not self._chunks:
            return b"" if self._eof else None
        if size < 0:
            parts = [memoryview(self._chunks.popleft())[self._offset:]]
            parts.extend(self._chunks)
            self._chunks.clear()
            data = b"".join(parts)
            self._offset = 0
        else:
            head = self._chunks[0]
            data = head[self._offset:self._offset + size]
            self._offset += len(data)
            if self._offset == len(head):
                self._chunks.popleft()
                self._offset = 0
        self._size -= len(data)
        self._cond.notify_all()
        return data

    def release_reader(self):
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._chunks.clear()
                self._offset = 0
                self._size = 0
            self._cond.notify_all()

    @property
    def cond(self):
        return self._cond


class PipeReader(io.RawIOBase):
    """A blocking, readable raw stream over a PipeBuffer: wrap it in
    io.BufferedReader and io.TextIOWrapper as subprocess wraps a pipe's fd.
    Closing it from another thread ends a read blocked in it (at EOF)."""

    def __init__(self, pipe):
        super().__init__()
        self._pipe = pipe
        self._released = False

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def read(self, size=-1):
        """Blocks until at least one byte (all bytes to EOF with -1) or EOF."""
        if size is None or size < 0:
            return self.readall()
        with self._pipe.cond:
            while True:
                if self._released:
                    return b""
                data = self._pipe.take(size)
                if data is not None:
                    return data
                self._pipe.cond.wait()

    def readall(self):
        parts = []
        while True:
            data = self.read(1 << 30)
            if not data:
                return b"".join(parts)
            parts.append(data)

    def open_sibling(self):
        """Another reader of the same pipe (for a process downstream that
        takes this one's output as its stdin)."""
        return self._pipe.open_reader()

    def take_nowait(self):
        """What has arrived (b"" at EOF, None if nothing yet), without
        waiting. Call with the pipe's Condition held."""
        return None if self._released else self._pipe.take()

    def close(self):
        with self._pipe.cond:
            released, self._released = self._released, True
        if not released:
            self._pipe.release_reader()
        super().close()
