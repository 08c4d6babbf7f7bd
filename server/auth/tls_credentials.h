// The server's TLS: its certificate and key, and with mTLS the CA that
// client certificates must chain to. gRPC's own FileWatcherCertificateProvider
// re-reads the files every `refresh` (as cert-manager rotates them on disk):
// new connections get the new certificate, running calls keep theirs.
//
// The files are checked with OpenSSL before the server starts, so that a
// wrong path, a key that does not match its certificate or an empty CA
// bundle stops rexecd with a message naming the flag and file, instead of
// failing every handshake later.
#ifndef REXEC_SERVER_AUTH_TLS_CREDENTIALS_H_
#define REXEC_SERVER_AUTH_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rexec::auth {

struct TlsFiles {
  std::string cert;       // --tls-cert: PEM chain, leaf first
  std::string key;        // --tls-key
  std::string client_ca;  // --tls-client-ca: empty means no mTLS
  // Bearer tokens are taken as well: a client certificate is then checked
  // when given, not required by the handshake.
  bool tokens_too = false;
  absl::Duration refresh = absl::Seconds(60);
};

// INVALID_ARGUMENT (or the read error) naming the flag and the file.
absl::Status CheckTlsFiles(const TlsFiles& files);

// Credentials that watch the files; with a client CA, a client certificate
// is verified, and required unless tokens_too.
std::shared_ptr<grpc::ServerCredentials> TlsServerCredentials(
    const TlsFiles& files);

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_TLS_CREDENTIALS_H_
