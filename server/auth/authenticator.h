// Authenticator decides who a call is, from its connection and its
// metadata, before anything of the call runs:
//   1. with mTLS (--tls-client-ca), the verified client certificate: its
//      URI SAN (a SPIFFE ID, say), else its first DNS SAN, else its CN;
//   2. else a bearer token (`authorization: Bearer TOKEN`) found in the
//      token file, accepted only over TLS, a unix socket or loopback;
//   3. else "anonymous", which is refused when the server was asked to know
//      its callers (any of --tls-client-ca, --token-file, --policy).
// A token that is sent is always checked, even when a certificate already
// names the caller: a wrong credential is never ignored.
//
// Thread-safe: SetTokens() may swap the token file (a reload) while calls
// are authenticated.
#ifndef REXEC_SERVER_AUTH_AUTHENTICATOR_H_
#define REXEC_SERVER_AUTH_AUTHENTICATOR_H_

#include <grpcpp/server_context.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/token_file.h"

namespace rexec::auth {

inline constexpr absl::string_view kAnonymous = "anonymous";

struct Identity {
  enum class Source { kCertificate, kToken, kNone };
  std::string name{kAnonymous};
  Source source = Source::kNone;
};

class Authenticator {
 public:
  struct Options {
    // mTLS is on: the transport verified a client certificate.
    bool client_certificates = false;
    // Bearer tokens are taken (--token-file).
    bool tokens = false;
    // Anonymous calls are refused.
    bool required = false;
    // Set when every call comes through rexecd's front (--front): what it
    // says of the call (FrontCallFacts) stands for the connection's own
    // facts. Its Front::ListenerPeers().
    std::optional<std::vector<std::string>> front_listeners;
  };

  explicit Authenticator(Options options) : options_(options) {}

  void SetTokens(std::shared_ptr<const TokenFile> tokens);

  // UNAUTHENTICATED saying what was wrong or missing.
  absl::StatusOr<Identity> Authenticate(
      const grpc::ServerContext& context) const;
  // Where the call came from, in gRPC's words ("ipv4:10.0.0.7:5000"): the
  // front's account of it behind a front.
  std::string Peer(const grpc::ServerContext& context) const;
  // The same from the pieces, for tests and fuzzing: the transport's
  // security type ("ssl" for TLS), the peer string, the certificate's
  // properties by name, and the authorization header values.
  struct CallFacts {
    bool tls = false;
    std::string peer;
    std::vector<std::string> uri_sans, dns_sans;
    std::string common_name;
    std::vector<std::string> authorization;
  };
  absl::StatusOr<Identity> Authenticate(const CallFacts& facts) const;

 private:
  // The facts of the connection, from gRPC or from the front.
  absl::StatusOr<CallFacts> ConnectionFacts(
      const grpc::ServerContext& context) const;
  absl::StatusOr<std::optional<std::string>> TokenIdentity(
      const CallFacts& facts) const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenFile> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_AUTHENTICATOR_H_
