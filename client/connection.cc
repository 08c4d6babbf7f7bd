#include "client/connection.h"

#include <algorithm>
#include <climits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/bounded_file.h"
#include "common/exec_defaults.h"

namespace rexec::client {
namespace {

constexpr size_t kMaxFileBytes = 4 << 20;

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", text.status().message()));
  }
  return text;
}

int Milliseconds(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT_MAX));
}

// Keepalive pings while a call is open (none on an idle connection: rexecd
// holds those to one in two hours, and closes an idle connection anyway).
void SetKeepalive(absl::Duration time, absl::Duration timeout,
                  grpc::ChannelArguments* args) {
  if (time <= absl::ZeroDuration()) return;  // gRPC's default: none
  args->SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Milliseconds(time));
  args->SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Milliseconds(timeout));
  // gRPC sends at most two pings, by default, until a data or header frame
  // comes back: a call whose child prints nothing would stop being watched
  // after its second ping. rexecd's ping policy (--keepalive-min-time) is
  // what bounds them.
  args->SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
}

grpc::ChannelArguments Arguments(int receive_limit) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(receive_limit);
  // gRPC 1.51 takes a message whole before it compares its size with the
  // limit: what bounds the memory a server can fill is the quota, on all
  // of the channel's buffers, past which the call fails ("Buffers full").
  // Near it, gRPC reclaims by cancelling a stream: the headroom over two
  // messages is what a fast sender fills while a starved client (a loaded
  // machine) is slow to write out what came. With 16 MiB it tripped on
  // output that never ends (hostile_server_test); 32 holds beside three
  // busy loops and keeps one huge message's peak under 64 MiB (48 did not).
  if (receive_limit > 0) {
    grpc::ResourceQuota quota("rexec");
    quota.Resize(2 * static_cast<size_t>(receive_limit) + (32 << 20));
    args.SetResourceQuota(quota);
  }
  return args;
}

}  // namespace

int ExecReceiveLimit(uint64_t max_buffer) {
  const uint64_t per_stream =
      max_buffer != 0 ? max_buffer : kDefaultExecMaxBuffer;
  return static_cast<int>(std::min<uint64_t>(
      std::max<uint64_t>(2 * per_stream + (64 << 10), kDefaultReceiveLimit),
      INT_MAX));
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   Arguments(-1));
}

absl::StatusOr<Connection> Connect(const ConnectOptions& options) {
  Connection connection;
  const bool tls = !options.tls_ca.empty() || !options.tls_cert.empty();
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> text =
        ReadFlagFile("--token-file", options.token_file);
    if (!text.ok()) return text.status();
    absl::string_view token = *text;
    token = token.substr(0, token.find('\n'));
    connection.bearer_token = std::string(absl::StripAsciiWhitespace(token));
    if (connection.bearer_token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--token-file ", options.token_file, ": the first line is empty"));
    }
    if (!tls && !IsUnixAddress(options.address) &&
        !IsLoopbackAddress(options.address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not sending a bearer token in plaintext to ", options.address,
          ": use TLS (--tls-ca), a unix socket or a loopback address"));
    }
  }
  grpc::ChannelArguments args = Arguments(options.receive_limit);
  SetKeepalive(options.keepalive_time, options.keepalive_timeout, &args);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadFlagFile("--tls-ca", options.tls_ca);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert =
          ReadFlagFile("--tls-cert", options.tls_cert);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key =
          ReadFlagFile("--tls-key", options.tls_key);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  connection.tls = tls;
  connection.channel =
      grpc::CreateCustomChannel(options.address, credentials, args);
  return connection;
}

std::string ExplainConnectFailure(const grpc::Status& status, bool tls) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  const std::string& message = status.error_message();
  if (absl::StrContains(message, "is not in peer certificate")) {
    return "the server's certificate is not for the name it was reached "
           "by: connect by a name it holds, or give that name with "
           "--tls-server-name";
  }
  if (absl::StrContains(message, "certificate verify failed")) {
    return "the server's certificate is not signed by a CA of --tls-ca, or "
           "has expired";
  }
  if (absl::StrContains(message, "wrong version number") ||
      absl::StrContains(message, "WRONG_VERSION_NUMBER")) {
    return "the server does not speak TLS on this address: leave out "
           "--tls-ca";
  }
  // gRPC's own TLS closes the connection; HAProxy's (--front) sends an
  // alert, which gRPC reports as a failed read.
  if (absl::StrContains(message, "Socket closed") ||
      absl::StrContains(message, "Connection reset") ||
      absl::StrContains(message, "Endpoint read failed")) {
    return tls ? "the server ended the TLS handshake: it wants a client "
                 "certificate (--tls-cert, --tls-key) or refused the one "
                 "given (not signed by a CA it trusts, or expired)"
               : "the server closed the connection: if it serves TLS, give "
                 "--tls-ca (and --tls-cert, --tls-key if it wants a client "
                 "certificate)";
  }
  return "";
}

}  // namespace rexec::client
