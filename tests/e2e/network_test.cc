// What crosses a network: a bearer token sent in plaintext to an address
// that is not loopback must be refused, even though it is right. Runs in a
// network namespace of its own (see tests/CMakeLists.txt) where 10.77.0.1
// is an address of this host that is not loopback, so nothing leaves the
// machine. Its ports are its own, so it may take rexecd's well-known one.
#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kAddress[] = "10.77.0.1";

grpc::Status EchoWithToken(std::shared_ptr<grpc::Channel> channel,
                           const std::string& token) {
  auto stub = v1::ChildProcess::NewStub(channel);
  v1::SpawnStart start;
  start.add_argv("true");
  client::SessionOptions options(absl::Now() + absl::Seconds(30));
  options.bearer_token = token;
  client::SpawnSession call(*stub, start, options);
  call.WritesDone();
  v1::SpawnResponse response;
  while (call.Read(&response)) {
  }
  return call.Finish();
}

TEST(Network, APlaintextTokenFromTheNetworkIsRefused) {
  TempDir dir;
  const std::string tokens =
      dir.Write("tokens", "ci " + Sha256Hex("net-token") + "\n");
  auto server = RexecdProcess::Start({"--listen", std::string(kAddress) + ":0",
                                      "--listen", "127.0.0.1:0", "--insecure",
                                      "--token-file", tokens});
  ASSERT_NE(server, nullptr);
  const std::string port =
      server->address().substr(server->address().rfind(':') + 1);
  grpc::Status network = EchoWithToken(
      client::Connect(std::string(kAddress) + ":" + port), "net-token");
  EXPECT_EQ(network.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(network.error_message(),
              HasSubstr("a bearer token is accepted only over TLS, a unix "
                        "socket or loopback; this call came in plaintext from "
                        "ipv4:10.77.0.1:"));
  EXPECT_THAT(server->WaitForLogLine("came in plaintext"),
              HasSubstr("status=UNAUTHENTICATED"));
}

TEST(Network, TheSameTokenOverTlsIsTaken) {
  TempDir dir;
  const std::string tokens =
      dir.Write("tokens", "ci " + Sha256Hex("net-token") + "\n");
  const char* source = std::getenv("REXEC_SOURCE_DIR");
  const std::string make = std::string("bash '") + (source ? source : "..") +
                           "/tests/e2e/tls/make_certs.sh' '" + dir.path() +
                           "/certs'";
  ASSERT_EQ(system(make.c_str()), 0);
  const std::string certs = dir.path() + "/certs/";
  auto server =
      RexecdProcess::Start({"--listen", std::string(kAddress) + ":0",
                            "--tls-cert", certs + "server.pem", "--tls-key",
                            certs + "server.key", "--token-file", tokens});
  ASSERT_NE(server, nullptr);
  client::ConnectOptions options;
  options.address = server->address();
  options.tls_ca = certs + "ca.pem";
  options.tls_server_name = "localhost";
  absl::StatusOr<client::Connection> tls = client::Connect(options);
  ASSERT_TRUE(tls.ok());
  grpc::Status status = EchoWithToken(tls->channel, "net-token");
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(server->WaitForLogLine("identity=\"ci\""),
              HasSubstr("peer=\"ipv4:10.77.0.1:"));
}

TEST(Network, AnAddressOffLoopbackIsNotServedInPlaintextUnasked) {
  process::SpawnOptions options;
  options.argv = {RexecdPath(), "--listen", std::string(kAddress) + ":0"};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  Result r = RunChild(*child);
  EXPECT_EQ(r.status.code(), 1);
  EXPECT_THAT(r.err, HasSubstr("--listen 10.77.0.1:0 is not a loopback "
                               "address"));
}

// `--server HOST` means rexecd's port, 50051 (gRPC's own default is 443):
// served here on this namespace's loopback.
TEST(Network, AServerNamedWithoutAPortIsOnPort50051) {
  auto server =
      RexecdProcess::Start({"--listen", "127.0.0.1:50051", "--insecure"});
  ASSERT_NE(server, nullptr);
  for (const char* host : {"127.0.0.1", "localhost", "dns:///127.0.0.1"}) {
    CliResult r = RunRexec({"--server", host, "spawn", "--", "echo", "hi"});
    EXPECT_EQ(r.code, 0) << host << ": " << r.err;
    EXPECT_EQ(r.out, "hi\n") << host;
  }
  // A port given is kept.
  CliResult other = RunRexec({"--server", "127.0.0.1:1", "spawn", "--", "true"});
  EXPECT_EQ(other.code, 255);
  EXPECT_THAT(other.err, HasSubstr("127.0.0.1:1"));
}

}  // namespace
}  // namespace rexec::testing
