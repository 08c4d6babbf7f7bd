"""The request stream of one Spawn call: what the client has to tell its
remote child (the start, stdin, its end, signals), in order, for gRPC to
send.

gRPC's own thread iterates an Outbox (it is the call's request iterator) and
sends one message at a time, as flow control lets it; the client's threads
put into it. Stdin comes in chunks of at most CHUNK_BYTES (a read of the
source), each one message; a writer waits while a chunk's worth is queued,
which is what bounds memory when the child does not read.

Thread-safe.
"""
import collections
import threading

from rexec.v1 import child_process_pb2 as pb

# Large enough that a stream of stdin costs few messages, small enough that
# the server (which takes one message into the child's pipe at a time) keeps
# data moving.
CHUNK_BYTES = 256 * 1024


class Outbox:
    """Iterates SpawnRequests: `start`, then what is put, until end()."""

    def __init__(self, start):
        self._cond = threading.Condition()
        # Signals go before queued stdin: a local kill() does not wait for
        # the pipe to drain either.
        self._signals = collections.deque()
        self._queue = collections.deque([pb.SpawnRequest(start=start)])
        self._queued_bytes = 0
        self._ended = False
        # Whether gRPC's thread is in __next__ waiting for a request (so a
        # signal put now is taken at once), and whether what it took last
        # was stdin (which flow control may be holding up).
        self._waiting = False
        self._took_stdin = False

    def put_stdin(self, data):
        """Queues bytes (at most CHUNK_BYTES) for the child's stdin, first
        waiting while the queue is full. False once the call has ended
        (nothing was queued)."""
        with self._cond:
            while self._queued_bytes >= CHUNK_BYTES and not self._ended:
                self._cond.wait()
            if self._ended:
                return False
            if data:
                self._queue.append(bytes(data))
                self._queued_bytes += len(data)
                self._cond.notify_all()
            return True

    def close_stdin(self):
        """EOF on the child's stdin, after what is queued."""
        self._put(pb.SpawnRequest(close_stdin=pb.CloseStdin()))

    def signal(self, name):
        """A signal for the child's process group, ahead of queued stdin."""
        with self._cond:
            if not self._ended:
                self._signals.append(pb.SpawnRequest(signal=pb.Signal(name=name)))
                self._cond.notify_all()

    def drop_stdin(self):
        """Forgets the stdin not yet taken by gRPC (for a child being killed,
        whose pipe would be discarded anyway). True when stdin was stuck: a
        signal put now would wait behind it, here or in gRPC's send."""
        with self._cond:
            stuck = self._queued_bytes > 0 or (self._took_stdin and not self._waiting)
            self._queue = collections.deque(
                item for item in self._queue if not isinstance(item, bytes))
            self._queued_bytes = 0
            self._cond.notify_all()
            return stuck

    def end(self):
        """Ends the request stream once the call is over: gRPC's thread stops
        iterating, and blocked writers return False."""
        with self._cond:
            self._ended = True
            self._signals.clear()
            self._queue.clear()
            self._queued_bytes = 0
            self._cond.notify_all()

    def _put(self, request):
        with self._cond:
            if not self._ended:
                self._queue.append(request)
                self._cond.notify_all()

    def __iter__(self):
        return self

    def __next__(self):
        with self._cond:
            self._waiting = True
            while not (self._signals or self._queue or self._ended):
                self._cond.wait()
            self._waiting = False
            if self._ended:
                raise StopIteration
            self._took_stdin = False
            if self._signals:
                return self._signals.popleft()
            item = self._queue.popleft()
            if not isinstance(item, bytes):
                return item
            self._took_stdin = True
            self._queued_bytes -= len(item)
            self._cond.notify_all()
            return pb.SpawnRequest(stdin=item)
