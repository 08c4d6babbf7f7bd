// rexecd over TLS and mTLS, with certificates the test makes with Debian's
// openssl (tests/e2e/tls/make_certs.sh): who a certificate names, which
// certificates are refused, a server certificate rotated on disk while a
// call streams, tokens over TLS, and what the CLI says when TLS fails.
// Each test runs twice: with gRPC's own TLS, and with HAProxy's before
// rexecd (--front haproxy), which must be the same to a client.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("REXEC_SOURCE_DIR");
  return dir != nullptr ? dir : "..";
}

// A line of a token file: NAME and the SHA-256 of TOKEN.
std::string TokenLine(const std::string& name, const std::string& token) {
  return name + " " + Sha256Hex(token) + "\n";
}

class TlsTest : public ::testing::TestWithParam<bool> {
 protected:
  static bool Front() { return GetParam(); }
  // rexecd with `flags`, behind HAProxy when the test's parameter says so.
  static std::unique_ptr<RexecdProcess> Start(std::vector<std::string> flags) {
    if (Front()) {
      flags.push_back("--front");
      flags.push_back("haproxy");
    }
    return RexecdProcess::Start(flags);
  }

  static void SetUpTestSuite() {
    certs_ = new TempDir;
    const std::string make = "bash '" + SourceDir() +
                             "/tests/e2e/tls/make_certs.sh' '" +
                             certs_->path() + "'";
    ASSERT_EQ(system(make.c_str()), 0) << make;
  }
  static void TearDownTestSuite() { delete certs_; }

  static std::string Cert(const std::string& name) {
    return certs_->path() + "/" + name;
  }

  // A server with mTLS on 127.0.0.1.
  std::unique_ptr<RexecdProcess> StartMutualTls(
      std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--tls-cert",      Cert("server.pem"),
                                      "--tls-key",       Cert("server.key"),
                                      "--tls-client-ca", Cert("ca.pem")};
    flags.insert(flags.end(), more.begin(), more.end());
    return Start(flags);
  }

  // `echo ok` through a channel made from `options`; the status, and the
  // output when it ran.
  static grpc::Status EchoOk(client::ConnectOptions options,
                             std::string* out = nullptr) {
    absl::StatusOr<client::Connection> connection = client::Connect(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (!connection.ok()) return grpc::Status::CANCELLED;
    auto stub = v1::ChildProcess::NewStub(connection->channel);
    v1::SpawnStart start;
    start.add_argv("echo");
    start.add_argv("ok");
    client::SessionOptions session(absl::Now() + absl::Seconds(30));
    session.bearer_token = connection->bearer_token;
    client::SpawnSession call(*stub, start, session);
    call.WritesDone();
    v1::SpawnResponse response;
    std::string stdout_text;
    while (call.Read(&response)) stdout_text += response.stdout();
    if (out != nullptr) *out = stdout_text;
    return call.Finish();
  }

  static client::ConnectOptions As(const RexecdProcess& server,
                                   const std::string& client) {
    client::ConnectOptions options;
    options.address = server.address();
    options.tls_ca = Cert("ca.pem");
    if (!client.empty()) {
      options.tls_cert = Cert(client + ".pem");
      options.tls_key = Cert(client + ".key");
    }
    return options;
  }

  static TempDir* certs_;
};

TempDir* TlsTest::certs_ = nullptr;

TEST_P(TlsTest, MutualTlsNamesTheCallerByItsCertificate) {
  auto server = StartMutualTls();
  ASSERT_NE(server, nullptr);
  struct Case {
    std::string client, identity;
  };
  for (const Case& c : std::vector<Case>{
           {"client-uri", "spiffe://rexec.test/a"},  // URI SAN first
           {"client-dns", "b.rexec.test"},           // else the first DNS SAN
           {"client-cn", "cn-only"}}) {              // else the CN
    std::string out;
    grpc::Status status = EchoOk(As(*server, c.client), &out);
    EXPECT_TRUE(status.ok()) << c.client << ": " << status.error_message();
    EXPECT_EQ(out, "ok\n");
    EXPECT_THAT(server->WaitForLogLine("identity=\"" + c.identity + "\""),
                HasSubstr("status=OK"));
  }
}

TEST_P(TlsTest, MutualTlsRefusesMissingForeignAndExpiredCertificates) {
  auto server = StartMutualTls();
  ASSERT_NE(server, nullptr);
  for (const std::string& client : {std::string(), std::string("client-other"),
                                    std::string("client-expired")}) {
    grpc::Status status = EchoOk(As(*server, client));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << (client.empty() ? "no certificate" : client);
  }
  if (!Front()) {  // gRPC logs its failed handshakes; HAProxy does not
    EXPECT_THAT(server->WaitForLogLine("peer did not return a certificate"),
                HasSubstr("grpc: Handshake failed"));
    EXPECT_THAT(server->WaitForLogLine("certificate verify failed"),
                HasSubstr("grpc: Handshake failed"));
  }
  // Plaintext: refused at the handshake too.
  client::ConnectOptions plain;
  plain.address = server->address();
  EXPECT_EQ(EchoOk(plain).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Nothing else was disturbed.
  EXPECT_TRUE(EchoOk(As(*server, "client-uri")).ok());
}

TEST_P(TlsTest, TheHealthPortIsPlaintextNextToAnMtlsOnlyMainPort) {
  // What the kubelet's grpc probe needs: no certificate, no TLS.
  auto server = StartMutualTls({"--health-listen", "127.0.0.1:0"});
  ASSERT_NE(server, nullptr);
  const std::string health = server->LoggedAddress("health service on ");
  CliResult probe = RunRexec({"--server", health, "health"});
  EXPECT_EQ(probe.code, 0) << probe.err;
  EXPECT_EQ(probe.out, "SERVING\n");
  // The main port still wants TLS and a client certificate.
  CliResult plain = RunRexec({"--server", server->address(), "health"});
  EXPECT_EQ(plain.code, 255);
  CliResult mtls = RunRexec(
      {"--server", server->address(), "--tls-ca", Cert("ca.pem"), "--tls-cert",
       Cert("client-cn.pem"), "--tls-key", Cert("client-cn.key"), "health",
       "--service", "rexec.v1.ChildProcess"});
  EXPECT_EQ(mtls.code, 0) << mtls.err;
  EXPECT_EQ(mtls.out, "SERVING\n");
}

TEST_P(TlsTest, TheCliSaysWhatAFailedHandshakeMostLikelyMeans) {
  auto server = StartMutualTls();
  ASSERT_NE(server, nullptr);
  const std::string address = server->address();
  CliResult no_cert = RunRexec(
      {"--server", address, "--tls-ca", Cert("ca.pem"), "spawn", "--", "true"});
  EXPECT_EQ(no_cert.code, 255);
  EXPECT_THAT(no_cert.err, HasSubstr("rexec: UNAVAILABLE: "));
  EXPECT_THAT(no_cert.err,
              HasSubstr("rexec: the server ended the TLS handshake: it wants "
                        "a client certificate (--tls-cert, --tls-key)"));

  CliResult wrong_name = RunRexec(
      {"--server", address, "--tls-server-name", "wrong.example", "--tls-ca",
       Cert("ca.pem"), "--tls-cert", Cert("client-uri.pem"), "--tls-key",
       Cert("client-uri.key"), "spawn", "--", "true"});
  EXPECT_EQ(wrong_name.code, 255);
  EXPECT_THAT(wrong_name.err,
              HasSubstr("Peer name wrong.example is not in peer certificate"));
  EXPECT_THAT(wrong_name.err, HasSubstr("--tls-server-name"));

  CliResult untrusted =
      RunRexec({"--server", address, "--tls-ca", Cert("other-ca.pem"),
                "--tls-cert", Cert("client-uri.pem"), "--tls-key",
                Cert("client-uri.key"), "spawn", "--", "true"});
  EXPECT_EQ(untrusted.code, 255);
  EXPECT_THAT(untrusted.err,
              HasSubstr("the server's certificate is not signed by a CA of "
                        "--tls-ca, or has expired"));

  // The same flags from the environment, and a call that works.
  CliResult good = RunRexec({"spawn", "--", "echo", "via-env"},
                            {{"REXEC_SERVER", address},
                             {"REXEC_TLS_CA", Cert("ca.pem")},
                             {"REXEC_TLS_CERT", Cert("client-uri.pem")},
                             {"REXEC_TLS_KEY", Cert("client-uri.key")},
                             {"REXEC_TLS_SERVER_NAME", "localhost"}});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_EQ(good.out, "via-env\n");
}

// `true` on a bare Spawn stream with `ctx` (its metadata as the test set
// it), to its end.
grpc::Status RunTrue(v1::ChildProcess::Stub& stub, grpc::ClientContext* ctx) {
  auto stream = stub.Spawn(ctx);
  v1::SpawnRequest request;
  request.mutable_start()->add_argv("true");
  stream->Write(request);
  stream->WritesDone();
  v1::SpawnResponse response;
  while (stream->Read(&response)) {
  }
  return stream->Finish();
}

// The server's name in the certificate of a new connection.
std::string ServedName(const client::ConnectOptions& options) {
  absl::StatusOr<client::Connection> connection = client::Connect(options);
  if (!connection.ok()) return "";
  auto stub = v1::ChildProcess::NewStub(connection->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(10)));
  RunTrue(*stub, &ctx).IgnoreError();
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> cn =
      auth->FindPropertyValues("x509_common_name");
  return cn.empty() ? "" : std::string(cn[0].data(), cn[0].size());
}

TEST_P(TlsTest, ARotatedServerCertificateIsServedWithoutDroppingCalls) {
  TempDir live;
  auto copy = [&](const std::string& from, const std::string& to) {
    std::ifstream in(Cert(from), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return live.Write(to, text.str());
  };
  const std::string cert = copy("server.pem", "tls.crt");
  const std::string key = copy("server.key", "tls.key");
  auto server = Start({"--tls-cert", cert, "--tls-key", key,
                                      "--tls-client-ca", Cert("ca.pem"),
                                      "--tls-reload-interval", "1s"});
  ASSERT_NE(server, nullptr);
  client::ConnectOptions options = As(*server, "client-uri");
  EXPECT_EQ(ServedName(options), "rexecd-test");

  // A call that streams across the rotation.
  absl::StatusOr<client::Connection> connection = client::Connect(options);
  ASSERT_TRUE(connection.ok());
  auto stub = v1::ChildProcess::NewStub(connection->channel);
  v1::SpawnStart start;
  start.add_argv("cat");
  client::SpawnSession cat(*stub, start, absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  ASSERT_TRUE(cat.Read(&response));  // started
  ASSERT_TRUE(cat.WriteStdin("before\n"));
  ASSERT_TRUE(cat.Read(&response));
  EXPECT_EQ(response.stdout(), "before\n");

  // As cert-manager does: new files renamed into place.
  copy("server2.key", "tls.key");
  copy("server2.pem", "tls.crt");
  EXPECT_TRUE(
      Eventually([&] { return ServedName(options) == "rexecd-rotated"; },
                 absl::Seconds(30)));

  ASSERT_TRUE(cat.WriteStdin("after\n"));
  ASSERT_TRUE(cat.Read(&response));
  EXPECT_EQ(response.stdout(), "after\n");
  cat.WritesDone();
  ASSERT_TRUE(cat.Read(&response));
  EXPECT_TRUE(response.has_exit());
  EXPECT_EQ(response.exit().code(), 0);
  EXPECT_TRUE(cat.Finish().ok());
}

TEST_P(TlsTest, TokensOverTls) {
  TempDir dir;
  const std::string tokens =
      dir.Write("tokens", TokenLine("deploy-bot", "tls-token-a"));
  const std::string good = dir.Write("good-token", "tls-token-a\n");
  const std::string bad = dir.Write("bad-token", "tls-token-b\n");
  auto server = Start({"--tls-cert", Cert("server.pem"), "--tls-key",
                       Cert("server.key"), "--token-file", tokens});
  ASSERT_NE(server, nullptr);
  client::ConnectOptions options = As(*server, "");
  options.token_file = good;
  EXPECT_TRUE(EchoOk(options).ok());
  EXPECT_THAT(server->WaitForLogLine("identity=\"deploy-bot\""),
              HasSubstr("status=OK"));
  options.token_file = bad;
  grpc::Status wrong = EchoOk(options);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "the bearer token is not valid");
  options.token_file.clear();
  grpc::Status missing = EchoOk(options);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.error_message(),
              HasSubstr("requires a bearer token (authorization: Bearer "
                        "TOKEN), and the call came with none"));
  // Each refusal left a record, with no token in it.
  EXPECT_THAT(server->WaitForLogLine("status=UNAUTHENTICATED"),
              ::testing::Not(HasSubstr("tls-token")));
}

TEST_P(TlsTest, WithTokensTooACertificateIsCheckedButNotRequired) {
  TempDir dir;
  const std::string tokens =
      dir.Write("tokens", TokenLine("deploy-bot", "tls-token-a"));
  auto server = StartMutualTls({"--token-file", tokens});
  ASSERT_NE(server, nullptr);
  client::ConnectOptions token_only = As(*server, "");
  token_only.token_file = dir.Write("good-token", "tls-token-a\n");
  EXPECT_TRUE(EchoOk(token_only).ok());
  EXPECT_TRUE(EchoOk(As(*server, "client-uri")).ok());
  // A certificate that is given must still be good, token or not.
  client::ConnectOptions foreign = As(*server, "client-other");
  foreign.token_file = token_only.token_file;
  EXPECT_EQ(EchoOk(foreign).error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status neither = EchoOk(As(*server, ""));
  EXPECT_EQ(neither.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(neither.error_message(),
              HasSubstr("requires a client certificate or a bearer token"));
}

// The headers a front sets are believed only from the front: a client
// that sends its own (a certificate it does not hold, a TLS it does not
// speak) is named by what it really presented.
TEST_P(TlsTest, FrontHeadersFromAClientAreNotBelieved) {
  TempDir dir;
  const std::string tokens =
      dir.Write("tokens", TokenLine("deploy-bot", "tls-token-a"));
  auto server = StartMutualTls({"--token-file", tokens});
  ASSERT_NE(server, nullptr);
  // client-uri's certificate, DER in base64, as the front would send it.
  TempDir der;
  const std::string command = "openssl x509 -in '" + Cert("client-uri.pem") +
                              "' -outform DER | base64 -w0 > '" + der.path() +
                              "/b64'";
  ASSERT_EQ(system(command.c_str()), 0);
  std::ifstream in(der.path() + "/b64");
  std::string b64;
  std::getline(in, b64);
  ASSERT_FALSE(b64.empty());

  client::ConnectOptions options = As(*server, "");
  absl::StatusOr<client::Connection> connection = client::Connect(options);
  ASSERT_TRUE(connection.ok());
  auto stub = v1::ChildProcess::NewStub(connection->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(30)));
  ctx.AddMetadata("authorization", "Bearer tls-token-a");
  ctx.AddMetadata("x-rexec-front-cert", b64);
  ctx.AddMetadata("x-rexec-front-tls", "1");
  ctx.AddMetadata("x-rexec-front-listener", "0");
  ctx.AddMetadata("x-rexec-front-src", "10.9.9.9");
  ctx.AddMetadata("x-rexec-front-port", "1");
  grpc::Status status = RunTrue(*stub, &ctx);
  EXPECT_TRUE(status.ok()) << status.error_message();
  const std::string line = server->WaitForLogLine("rpc=Spawn");
  EXPECT_THAT(line, HasSubstr("identity=\"deploy-bot\""));
  EXPECT_THAT(line, HasSubstr("peer=\"ipv4:127.0.0.1:"));
}

TEST_P(TlsTest, BadTlsFilesStopTheServerWithTheirName) {
  struct Case {
    std::vector<std::string> flags;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{"--tls-cert", Cert("server.pem"), "--tls-key",
             Cert("client-uri.key")},
            "--tls-key " + Cert("client-uri.key") +
                ": the key does not belong to the certificate in " +
                Cert("server.pem")},
           {{"--tls-cert", Cert("server.key"), "--tls-key", Cert("server.key")},
            "--tls-cert " + Cert("server.key") +
                ": no PEM certificate in the file"},
           {{"--tls-cert", "/no/such.pem", "--tls-key", Cert("server.key")},
            "--tls-cert: read /no/such.pem: No such file or directory"},
           {{"--tls-cert", Cert("server.pem")},
            "--tls-cert and --tls-key go together"},
           {{"--tls-client-ca", Cert("ca.pem")},
            "--tls-client-ca needs --tls-cert and --tls-key"}}) {
    process::SpawnOptions options;
    options.argv = {RexecdPath(), "--listen", "127.0.0.1:0", "--insecure"};
    options.argv.insert(options.argv.end(), c.flags.begin(), c.flags.end());
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    ASSERT_TRUE(child.ok());
    Result r = RunChild(*child);
    EXPECT_EQ(r.status.code(), 1) << c.error;
    EXPECT_THAT(r.err, HasSubstr("rexecd: " + c.error));
  }
}

INSTANTIATE_TEST_SUITE_P(GrpcOrFront, TlsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "BehindHaproxy" : "Grpc";
                         });

}  // namespace
}  // namespace rexec::testing
