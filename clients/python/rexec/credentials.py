"""How a Client proves who it is and whom it talks to: TLS or mTLS channel
credentials, a bearer token, and the environment variables the `rexec` CLI
reads for them (REXEC_TLS_CA, REXEC_TLS_CERT, REXEC_TLS_KEY,
REXEC_TLS_SERVER_NAME, REXEC_TOKEN_FILE).

A token travels as gRPC call credentials (`authorization: Bearer TOKEN`),
which gRPC only attaches to a secure channel: over TLS, or over gRPC's
"local" credentials, which it grants to a unix socket or a loopback
connection alone. So a token can never leave in plaintext for a network,
and it is refused at once rather than at the first call when the address
already says it would.

Functions of their arguments, the files they name and the environment;
thread-safe.
"""
import grpc

from rexec import address as _address


def _read(variable, path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{variable} {path}: {e.strerror}") from e


def tls_from_environment(environ):
    """grpc.ChannelCredentials from REXEC_TLS_CA, REXEC_TLS_CERT and
    REXEC_TLS_KEY, or None when neither a CA nor a certificate is named (the
    CLI's rule: either turns TLS on)."""
    ca_path = environ.get("REXEC_TLS_CA")
    cert_path = environ.get("REXEC_TLS_CERT")
    key_path = environ.get("REXEC_TLS_KEY")
    if not ca_path and not cert_path:
        return None
    if bool(cert_path) != bool(key_path):
        raise ValueError("REXEC_TLS_CERT and REXEC_TLS_KEY go together")
    return grpc.ssl_channel_credentials(
        root_certificates=_read("REXEC_TLS_CA", ca_path) if ca_path else None,
        private_key=_read("REXEC_TLS_KEY", key_path) if key_path else None,
        certificate_chain=_read("REXEC_TLS_CERT", cert_path) if cert_path else None)


def token_from_file(path, variable="REXEC_TOKEN_FILE"):
    """The bearer token on the first line of the file at `path`."""
    first_line = _read(variable, path).split(b"\n", 1)[0].strip()
    if not first_line:
        raise ValueError(f"{variable} {path}: the first line is empty")
    return first_line.decode("ascii")


def token_from_environment(environ):
    """The token of REXEC_TOKEN_FILE, or None when it is not set."""
    path = environ.get("REXEC_TOKEN_FILE")
    return token_from_file(path) if path else None


def channel_credentials(address, tls, token):
    """The credentials of a channel to `address`: `tls` (or None) with
    `token` (or None) as call credentials; None means a plaintext channel.
    ValueError when a token would travel in plaintext over a network."""
    if token is None:
        return tls
    if tls is None:
        if _address.is_unix(address):
            tls = grpc.local_channel_credentials(grpc.LocalConnectionType.UDS)
        elif _address.is_loopback(address):
            tls = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        else:
            raise ValueError(
                f"not sending a bearer token in plaintext to {address}: use TLS "
                "(credentials=, REXEC_TLS_CA), a unix socket or a loopback address")
    return grpc.composite_channel_credentials(
        tls, grpc.access_token_call_credentials(token))
