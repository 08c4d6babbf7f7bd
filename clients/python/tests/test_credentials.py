"""TLS, mTLS and bearer tokens, against rexecds started for them with the
e2e tests' certificates, and the rule that a token never travels in
plaintext over a network."""
import hashlib
import pathlib
import subprocess

import grpc
import pytest

import rexec
from rexec import address
from rexec import subprocess as rsp

from rexecd_server import Rexecd

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
GOOD_TOKEN = "a-token-of-the-python-client-tests"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("credentials")
    subprocess.run(["bash", str(REPOSITORY / "tests/e2e/tls/make_certs.sh"), str(directory)],
                   check=True, capture_output=True, timeout=60)
    digest = hashlib.sha256(GOOD_TOKEN.encode()).hexdigest()
    (directory / "tokens").write_text(f"python-tests {digest}\n")
    (directory / "good-token").write_text(GOOD_TOKEN + "\n")
    (directory / "bad-token").write_text("not-the-token\n")
    return directory


@pytest.fixture(scope="module")
def tls_server(files):
    """mTLS, or TLS with a token: a call must bring one or the other."""
    server = Rexecd("--tls-cert", str(files / "server.pem"), "--tls-key",
                    str(files / "server.key"), "--tls-client-ca", str(files / "ca.pem"),
                    "--token-file", str(files / "tokens"))
    yield server
    assert server.stop() == 0, "\n".join(server.log)


@pytest.fixture(scope="module")
def token_server(files, tmp_path_factory):
    """Plaintext on loopback and a unix socket, with a token required."""
    socket = tmp_path_factory.mktemp("socket") / "rexecd.sock"
    server = Rexecd("--token-file", str(files / "tokens"),
                    listen=("127.0.0.1:0", f"unix:{socket}"))
    yield server
    assert server.stop() == 0, "\n".join(server.log)


def test_mtls_from_the_environment(monkeypatch, files, tls_server):
    monkeypatch.setenv("REXEC_SERVER", tls_server.address)
    monkeypatch.setenv("REXEC_TLS_CA", str(files / "ca.pem"))
    monkeypatch.setenv("REXEC_TLS_CERT", str(files / "client-uri.pem"))
    monkeypatch.setenv("REXEC_TLS_KEY", str(files / "client-uri.key"))
    assert rsp.check_output(["echo", "over mTLS"]) == b"over mTLS\n"


def test_tls_and_token_from_the_environment(monkeypatch, files, tls_server):
    monkeypatch.setenv("REXEC_SERVER", tls_server.address)
    monkeypatch.setenv("REXEC_TLS_CA", str(files / "ca.pem"))
    monkeypatch.setenv("REXEC_TOKEN_FILE", str(files / "good-token"))
    assert rsp.check_output(["echo", "with a token"]) == b"with a token\n"
    monkeypatch.setenv("REXEC_TOKEN_FILE", str(files / "bad-token"))
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(["true"])
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_tls_without_an_identity_is_unauthenticated(monkeypatch, files, tls_server):
    monkeypatch.setenv("REXEC_TLS_CA", str(files / "ca.pem"))
    with pytest.raises(rexec.RemoteError) as caught:
        rsp.run(["true"], server=tls_server.address)
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_explicit_client_credentials(files, tls_server):
    tls = grpc.ssl_channel_credentials((files / "ca.pem").read_bytes())
    with rexec.Client(tls_server.address, credentials=tls, token=GOOD_TOKEN) as client:
        assert rsp.check_output(["echo", "ok"], server=client) == b"ok\n"
    with rexec.Client(tls_server.address, credentials=tls, token="wrong") as client:
        with pytest.raises(rexec.RemoteError) as caught:
            rsp.run(["true"], server=client)
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
        assert caught.value.details


def test_server_name_is_what_the_certificate_must_hold(monkeypatch, files, tls_server):
    tls = grpc.ssl_channel_credentials((files / "ca.pem").read_bytes())
    port = tls_server.address.rsplit(":", 1)[1]
    with rexec.Client(f"127.0.0.1:{port}", credentials=tls, token=GOOD_TOKEN,
                      server_name="localhost") as client:
        assert rsp.call(["true"], server=client) == 0
    monkeypatch.setenv("REXEC_TLS_SERVER_NAME", "not-in-the.certificate")
    with rexec.Client(tls_server.address, credentials=tls, token=GOOD_TOKEN) as client:
        with pytest.raises(rexec.RemoteError) as caught:
            rsp.run(["true"], server=client)
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_token_over_loopback_and_unix_socket(files, token_server):
    for server in token_server.addresses:
        with rexec.Client(server, token=GOOD_TOKEN) as client:
            assert rsp.check_output(["echo", server], server=client) == f"{server}\n".encode()
        with rexec.Client(server, token="wrong") as client:
            with pytest.raises(rexec.RemoteError) as caught:
                rsp.run(["true"], server=client)
            assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(rexec.RemoteError) as caught:
            rsp.run(["true"], server=server)  # no token at all
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_no_token_in_plaintext_over_a_network(monkeypatch, files):
    with pytest.raises(ValueError, match="not sending a bearer token in plaintext"):
        rexec.Client("192.0.2.1:50051", token=GOOD_TOKEN)
    monkeypatch.setenv("REXEC_TOKEN_FILE", str(files / "good-token"))
    with pytest.raises(ValueError, match="not sending a bearer token in plaintext"):
        rsp.run(["true"], server="rexec.example.org:50051")


def test_unusable_credential_files_name_the_variable(monkeypatch, files):
    monkeypatch.setenv("REXEC_TLS_CA", str(files / "no-such-file"))
    with pytest.raises(ValueError, match="REXEC_TLS_CA .*no-such-file"):
        rexec.Client("127.0.0.1:1")
    monkeypatch.setenv("REXEC_TLS_CA", str(files / "ca.pem"))
    monkeypatch.setenv("REXEC_TLS_CERT", str(files / "client-uri.pem"))
    with pytest.raises(ValueError, match="go together"):
        rexec.Client("127.0.0.1:1")


@pytest.mark.parametrize("target, loopback", [
    ("127.0.0.1:5", True), ("127.3.2.1:5", True), ("[::1]:5", True),
    ("localhost:5", True), ("dns:///localhost:5", True), ("ipv4:127.0.0.1:1,127.0.0.2:2", True),
    ("[::ffff:127.0.0.1]:5", True), ("10.0.0.1:5", False), ("ipv4:127.0.0.1:1,10.0.0.1:2", False),
    ("ipv4:localhost:5", False), ("127.0.0.1%2e:5", False), ("example.org:5", False)])
def test_what_is_loopback(target, loopback):
    assert address.is_loopback(target) == loopback
