// How the client reaches rexecd: the channel (plaintext, or TLS with a CA,
// an optional client certificate for mTLS and an optional name to expect
// in the server's certificate) and the bearer token its calls carry.
#ifndef REXEC_CLIENT_CONNECTION_H_
#define REXEC_CLIENT_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace rexec::client {

struct ConnectOptions {
  std::string address;   // host:port or unix:/path
  std::string tls_ca;    // PEM CA bundle; TLS when this or tls_cert is set
  std::string tls_cert;  // PEM client certificate (mTLS)...
  std::string tls_key;   // ...and its key
  std::string tls_server_name;  // expected in the server's certificate
  std::string token_file;       // the bearer token, on the file's first line
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
// messages of any size, since Exec results can be large.
std::shared_ptr<grpc::Channel> Connect(const std::string& address);

// For a call that failed to connect: what it most likely means, as a line
// to print after gRPC's own message (which says "Socket closed" for every
// certificate the server refused), or "" when there is nothing to add.
std::string ExplainConnectFailure(const grpc::Status& status, bool tls);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_CONNECTION_H_
