"""A connection to one rexecd: the gRPC channel that the calls of its
children share, and the credentials those calls carry.

Thread-safe: any number of threads may start processes through one Client.
A Client made by hand owns its channel and is its owner's to close (close(),
or `with`); the clients behind `server="host:port"` and REXEC_SERVER are
made once per server and environment, shared, and closed at exit.
"""
import atexit
import os
import threading

import grpc

from rexec import credentials as _credentials
from rexec.v1 import child_process_pb2_grpc

DEFAULT_SERVER = "127.0.0.1:50051"

# What a default client is made of, so a change of any makes another one.
_ENVIRONMENT = ("REXEC_SERVER", "REXEC_TLS_CA", "REXEC_TLS_CERT", "REXEC_TLS_KEY",
                "REXEC_TLS_SERVER_NAME", "REXEC_TOKEN_FILE")


class Client:
    """Runs processes on the rexecd at `server` ("host:port" or
    "unix:/path"; default $REXEC_SERVER, else 127.0.0.1:50051).

    credentials: grpc.ChannelCredentials for TLS or mTLS (e.g.
      grpc.ssl_channel_credentials(ca, key, cert)); default from
      REXEC_TLS_CA, REXEC_TLS_CERT, REXEC_TLS_KEY, else plaintext.
    token: a bearer token for every call; default the first line of the
      file REXEC_TOKEN_FILE names. Never sent in plaintext off loopback.
    server_name: the name to expect in the server's certificate when it is
      not the host of `server`; default REXEC_TLS_SERVER_NAME.

    Pass it as `server=` to any function of rexec.subprocess.
    """

    def __init__(self, server=None, *, credentials=None, token=None, server_name=None):
        environ = os.environ
        self.server = server or environ.get("REXEC_SERVER") or DEFAULT_SERVER
        if credentials is None:
            credentials = _credentials.tls_from_environment(environ)
        if token is None:
            token = _credentials.token_from_environment(environ)
        if server_name is None:
            server_name = environ.get("REXEC_TLS_SERVER_NAME")
        channel_credentials = _credentials.channel_credentials(
            self.server, credentials, token)
        # Output comes in chunks of up to a pipe-full (1 MiB), below gRPC's
        # 4 MiB default; no limit keeps that true of any server's choice.
        options = [("grpc.max_receive_message_length", -1)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if channel_credentials is None:
            self._channel = grpc.insecure_channel(self.server, options=options)
        else:
            self._channel = grpc.secure_channel(
                self.server, channel_credentials, options=options)
        self.stub = child_process_pb2_grpc.ChildProcessStub(self._channel)

    def close(self):
        """Closes the channel: calls still running end with CANCELLED, and the
        server stops their children."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"rexec.Client({self.server!r})"


_lock = threading.Lock()
_default_clients = {}


def client_for(server):
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
def _close_default_clients():
    with _lock:
        clients = list(_default_clients.values())
        _default_clients.clear()
    for client in clients:
        client.close()
