"""A connection to one rexecd: the gRPC channels that the calls of its
children share (as many as it takes for each to have room for its call),
and the credentials those calls carry.

Thread-safe: any number of threads may start processes through one Client.
A Client made by hand owns its channels and is its owner's to close
(close(), or `with`); the clients behind `server="host:port"` and REXEC_SERVER are
made once per server and environment, shared, and closed at exit.
"""
from __future__ import annotations

import atexit
import os
import threading
from typing import Any, Callable

import grpc

from rexec import credentials as _credentials
from rexec.v1 import child_process_pb2_grpc

# rexecd's default --listen, as docker's clients find docker's socket.
DEFAULT_SERVER = "unix:/run/rexec/rexecd.sock"
# The largest message a call takes from its server: 4 times rexecd's
# largest output chunk (1 MiB), so that a server sending more (a hostile
# one) ends the call instead of growing this process.
DEFAULT_RECEIVE_LIMIT = 4 << 20
# rexecd's default --max-streams-per-connection.
DEFAULT_CALLS_PER_CONNECTION = 100
# While a call is open, a ping after this many seconds without a byte from
# the server, and the connection given up when no answer comes within the
# timeout: what ends a call to a server that froze or vanished (a host
# gone, a SIGSTOP), which TCP would notice late or, for a silent call,
# never. 30 s is half of what idle NATs and load balancers commonly keep,
# and three times rexecd's --keepalive-min-time (10 s), the most often it
# takes pings without closing the connection (GOAWAY too_many_pings).
DEFAULT_KEEPALIVE_TIME = 30.0
DEFAULT_KEEPALIVE_TIMEOUT = 20.0

# What a default client is made of, so a change of any makes another one.
_ENVIRONMENT = ("REXEC_SERVER", "REXEC_TLS_CA", "REXEC_TLS_CERT", "REXEC_TLS_KEY",
                "REXEC_TLS_SERVER_NAME", "REXEC_TOKEN_FILE", "REXEC_CHILD_ENV")

# What a child's environment is when the call gives none (env=None).
CHILD_ENV_CHOICES = ("server", "caller")


def child_env_from_environment(environ: "os._Environ[str] | dict[str, str]") -> str:
    """REXEC_CHILD_ENV, checked; "server" when unset or empty."""
    value = environ.get("REXEC_CHILD_ENV") or "server"
    if value not in CHILD_ENV_CHOICES:
        raise ValueError(f"REXEC_CHILD_ENV={value!r}: it must be 'server' or 'caller'")
    return value


class Client:
    """Runs processes on the rexecd at `server` ("host:port" or
    "unix:/path"; default $REXEC_SERVER, else unix:/run/rexec/rexecd.sock).

    credentials: grpc.ChannelCredentials for TLS or mTLS (e.g.
      grpc.ssl_channel_credentials(ca, key, cert)); default from
      REXEC_TLS_CA, REXEC_TLS_CERT, REXEC_TLS_KEY, else plaintext.
    token: a bearer token for every call; default the first line of the
      file REXEC_TOKEN_FILE names. Never sent in plaintext off loopback.
    server_name: the name to expect in the server's certificate when it is
      not the host of `server`; default REXEC_TLS_SERVER_NAME.
    calls_per_connection: how many children share one connection; a child
      beyond that opens another. rexecd takes at most its
      --max-streams-per-connection (default 100) calls on a connection and
      would hold any more back, unannounced, until one ends: a server with
      a lower setting needs it here too.
    child_env: what a child started with env=None gets: "server" (rexecd's
      environment, or under a policy its rule's) or "caller" (this
      process's os.environ, as a local child inherits it; the server
      leaves out what the rule's client_env does not allow). Default
      $REXEC_CHILD_ENV, else "server": our HOME, PATH and secrets describe
      this machine, and go to the server only when asked.
    keepalive_time: while a call is open, seconds without a byte from the
      server after which gRPC pings it (default DEFAULT_KEEPALIVE_TIME, 30;
      0: never); keepalive_timeout: seconds the answer may take (default
      DEFAULT_KEEPALIVE_TIMEOUT, 20) before the connection is given up and
      its calls fail with a RemoteError (UNAVAILABLE). A server that froze
      or vanished is found that way; without pings a call whose child
      prints nothing would wait for it for ever.
    receive_limit: the largest message, in bytes, taken from the server
      (default DEFAULT_RECEIVE_LIMIT, 4 MiB); a larger one fails the call
      with a RemoteError (RESOURCE_EXHAUSTED) that names the server and
      the limit. gRPC's C core reads a message whole before it checks its
      size (grpc/grpc#43012), so one message over the limit still takes
      its own size in memory, once, before the call fails.

    Pass it as `server=` to any function of rexec.subprocess.
    """

    def __init__(self, server: str | None = None, *,
                 credentials: grpc.ChannelCredentials | None = None,
                 token: str | None = None, server_name: str | None = None,
                 calls_per_connection: int = DEFAULT_CALLS_PER_CONNECTION,
                 child_env: str | None = None,
                 receive_limit: int = DEFAULT_RECEIVE_LIMIT,
                 keepalive_time: float = DEFAULT_KEEPALIVE_TIME,
                 keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT) -> None:
        environ = os.environ
        self.server = server or environ.get("REXEC_SERVER") or DEFAULT_SERVER
        if child_env is None:
            child_env = child_env_from_environment(environ)
        elif child_env not in CHILD_ENV_CHOICES:
            raise ValueError(f"child_env={child_env!r}: it must be 'server' or 'caller'")
        self.child_env = child_env
        if isinstance(calls_per_connection, bool) or not isinstance(calls_per_connection, int):
            raise TypeError("calls_per_connection must be an integer")
        if calls_per_connection < 1:
            raise ValueError(f"calls_per_connection must be at least 1, got {calls_per_connection}")
        self._calls_per_connection = calls_per_connection
        if isinstance(receive_limit, bool) or not isinstance(receive_limit, int):
            raise TypeError("receive_limit must be an integer")
        if not 0 < receive_limit < 1 << 31:
            raise ValueError(f"receive_limit must be from 1 to 2**31 - 1 bytes, got {receive_limit}")
        self.receive_limit = receive_limit
        if credentials is None:
            credentials = _credentials.tls_from_environment(environ)
        if token is None:
            token = _credentials.token_from_environment(environ)
        if server_name is None:
            server_name = environ.get("REXEC_TLS_SERVER_NAME")
        self._channel_credentials = _credentials.channel_credentials(
            self.server, credentials, token)
        self._options: list[tuple[str, Any]] = [
            # One limit for every call: the library makes Spawn calls only,
            # whose messages are output chunks of at most 1 MiB.
            ("grpc.max_receive_message_length", receive_limit),
            # Each channel its own connection: gRPC would otherwise share one
            # among the channels to a server, and its stream limit with it.
            ("grpc.use_local_subchannel_pool", 1),
        ]
        self._options += _keepalive_options(keepalive_time, keepalive_timeout)
        if server_name:
            self._options.append(("grpc.ssl_target_name_override", server_name))
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []  # the first one is kept when idle
        self._closed = False

    def _connect(self) -> _Connection:
        if self._channel_credentials is None:
            return _Connection(grpc.insecure_channel(self.server, options=self._options))
        return _Connection(grpc.secure_channel(self.server, self._channel_credentials,
                                               options=self._options))

    def spawn(self, requests: Any) -> tuple[Any, Callable[[], None]]:
        """Starts a Spawn call that sends `requests`, on a connection with
        room for it. Returns the call and a function to call once it is over
        (which frees its place)."""
        with self._lock:
            if self._closed:
                raise ValueError("rexec.Client: the client is closed")
            connection = next((c for c in self._connections
                               if c.calls < self._calls_per_connection), None)
            if connection is None:
                connection = self._connect()
                self._connections.append(connection)
            connection.calls += 1
        try:
            call = connection.stub.Spawn(requests)
        except BaseException:
            self._ended(connection)
            raise
        ended: list[bool] = []

        def end():
            if not ended:
                ended.append(True)
                self._ended(connection)
        return call, end

    def _ended(self, connection: _Connection) -> None:
        with self._lock:
            connection.calls -= 1
            # One connection stays for the next call; another that empties
            # is closed, so a burst of children leaves none behind.
            idle = (connection.calls == 0 and connection in self._connections
                    and connection is not self._connections[0])
            if idle:
                self._connections.remove(connection)
        if idle:
            connection.channel.close()  # not under the lock: it waits for its threads

    def close(self) -> None:
        """Closes the connections: calls still running end with CANCELLED,
        and the server stops their children."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"rexec.Client({self.server!r})"


def _seconds(name: str, value: float, *, zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds")
    if not (0 <= value if zero else 0 < value) or value * 1000 >= 1 << 31:
        raise ValueError(f"{name} must be {'from 0' if zero else 'more than 0'} "
                         f"to 2**31 - 1 ms in seconds, got {value}")
    return value


def _keepalive_options(time: float, timeout: float) -> list[tuple[str, Any]]:
    """gRPC's channel options for a keepalive of `time` seconds (0: none)
    and `timeout` seconds, checked."""
    time = _seconds("keepalive_time", time, zero=True)
    timeout = _seconds("keepalive_timeout", timeout, zero=False)
    if time == 0:
        return []
    return [
        ("grpc.keepalive_time_ms", max(1, round(time * 1000))),
        ("grpc.keepalive_timeout_ms", max(1, round(timeout * 1000))),
        # Only while a call is open: rexecd holds pings on a connection
        # without calls to one in two hours.
        ("grpc.keepalive_permit_without_calls", 0),
        # gRPC sends at most two pings, by default, until a data or header
        # frame comes back: a call whose child prints nothing would stop
        # being watched after its second ping. rexecd's ping policy
        # (--keepalive-min-time) is what bounds them.
        ("grpc.http2.max_pings_without_data", 0),
    ]


class _Connection:
    """One channel, so one HTTP/2 connection, and how many calls it carries
    now. Guarded by its Client's lock."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.stub = child_process_pb2_grpc.ChildProcessStub(channel)
        self.calls = 0


_lock = threading.Lock()
_default_clients: dict[tuple[str | None, ...], Client] = {}


def client_for(server: str | Client | None) -> Client:
    """The Client for a `server=` argument: a Client as is, else the shared
    one for that address (None: REXEC_SERVER) and the environment now."""
    if isinstance(server, Client):
        return server
    key = (server,) + tuple(os.environ.get(name) for name in _ENVIRONMENT)
    with _lock:
        client = _default_clients.get(key)
        if client is None:
            client = _default_clients[key] = Client(server)
        return client


@atexit.register
def _close_default_clients() -> None:
    with _lock:
        clients = list(_default_clients.values())
        _default_clients.clear()
    for client in clients:
        client.close()
