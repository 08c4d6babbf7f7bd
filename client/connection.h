// How the client reaches rexecd: the channel (plaintext, or TLS with a CA,
// an optional client certificate for mTLS and an optional name to expect
// in the server's certificate) and the bearer token its calls carry.
#ifndef REXEC_CLIENT_CONNECTION_H_
#define REXEC_CLIENT_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rexec::client {

// The largest message the CLI takes from a server: four times the largest
// the server sends on a stream (an output chunk or a replay, 1 MiB), so
// that a hostile server cannot make it hold more. An exec's result is one
// message: ExecReceiveLimit. The channel's buffers together may hold twice
// the limit and 16 MiB (a gRPC resource quota).
inline constexpr int kDefaultReceiveLimit = 4 << 20;

// For an exec whose output is held to `max_buffer` bytes per stream (0:
// the default): both streams and the exit status.
int ExecReceiveLimit(uint64_t max_buffer);

// Where rexecd listens when it is given no --listen, and so where rexec
// goes when it is given no --server (as docker's CLI goes to its socket).
inline constexpr char kDefaultServer[] = "unix:/run/rexec/rexecd.sock";
// The port of an address given without one: rexecd's, as the image and the
// manifests publish it.
inline constexpr int kDefaultPort = 50051;

// The client's keepalive: while a call is open, a ping after this long
// without a byte from the server, and the connection (with its calls,
// UNAVAILABLE) given up when no answer comes within the timeout. That is
// what ends a call to a server that froze or vanished without closing the
// connection (a host gone, a cable pulled, a SIGSTOP), which TCP would
// notice only after its retransmissions (15 minutes), or, for a silent
// call, never. 30 s is half of what idle NATs and load balancers commonly
// keep, and three times rexecd's --keepalive-min-time (10 s), so that
// rexecd never takes it for a flood of pings. Zero: no pings.
inline constexpr absl::Duration kDefaultKeepaliveTime = absl::Seconds(30);
inline constexpr absl::Duration kDefaultKeepaliveTimeout = absl::Seconds(20);

struct ConnectOptions {
  std::string address;   // host:port or unix:/path
  std::string tls_ca;    // PEM CA bundle; TLS when this or tls_cert is set
  std::string tls_cert;  // PEM client certificate (mTLS)...
  std::string tls_key;   // ...and its key
  std::string tls_server_name;  // expected in the server's certificate
  std::string token_file;       // the bearer token, on the file's first line
  int receive_limit = kDefaultReceiveLimit;  // bytes in one message
  absl::Duration keepalive_time = kDefaultKeepaliveTime;
  absl::Duration keepalive_timeout = kDefaultKeepaliveTimeout;
};

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::string bearer_token;  // empty: none
  bool tls = false;
};

// INVALID_ARGUMENT naming the flag for files that cannot be used, and for a
// token that would travel in plaintext over a network (a token is sent only
// with TLS, to a unix socket, or to loopback).
absl::StatusOr<Connection> Connect(const ConnectOptions& options);

// A plaintext channel to `address` (host:port or unix:/path) that accepts
// messages of any size (Exec results of any max_buffer): for tests and
// benchmarks of a server of their own, never for the CLI.
std::shared_ptr<grpc::Channel> Connect(const std::string& address);

// For a call that failed to connect: what it most likely means, as a line
// to print after gRPC's own message (which says "Socket closed" for every
// certificate the server refused), or "" when there is nothing to add.
std::string ExplainConnectFailure(const grpc::Status& status, bool tls);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_CONNECTION_H_
