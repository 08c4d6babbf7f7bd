#include "server/auth/authenticator.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/front_headers.h"
#include "server/auth/front_call.h"
#include "server/auth/peer.h"

namespace rexec::auth {
namespace {

std::vector<std::string> Values(const grpc::AuthContext& context,
                                const char* property) {
  std::vector<std::string> values;
  for (const grpc::string_ref& value : context.FindPropertyValues(property)) {
    values.emplace_back(value.data(), value.size());
  }
  return values;
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(why);
}

}  // namespace

void Authenticator::SetTokens(std::shared_ptr<const TokenFile> tokens) {
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(tokens);
}

absl::StatusOr<Authenticator::CallFacts> Authenticator::ConnectionFacts(
    const grpc::ServerContext& context) const {
  if (options_.front_listeners.has_value()) {
    Headers headers;
    for (const auto& [key, value] : context.client_metadata()) {
      if (absl::StartsWith(absl::string_view(key.data(), key.size()),
                           kFrontHeaderPrefix)) {
        headers.emplace(std::string(key.data(), key.size()),
                        std::string(value.data(), value.size()));
      }
    }
    absl::StatusOr<CallFacts> facts =
        FrontCallFacts(headers, *options_.front_listeners);
    if (facts.ok() && !options_.client_certificates) {
      facts->uri_sans.clear();
      facts->dns_sans.clear();
      facts->common_name.clear();
    }
    return facts;
  }
  CallFacts facts;
  facts.peer = context.peer();
  if (std::shared_ptr<const grpc::AuthContext> auth = context.auth_context()) {
    std::vector<std::string> type =
        Values(*auth, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
    // "tls" from TlsServerCredentials, "ssl" from SslServerCredentials.
    facts.tls = !type.empty() && (type[0] == "tls" || type[0] == "ssl");
    if (facts.tls && options_.client_certificates) {
      facts.uri_sans = Values(*auth, GRPC_PEER_URI_PROPERTY_NAME);
      facts.dns_sans = Values(*auth, GRPC_PEER_DNS_PROPERTY_NAME);
      std::vector<std::string> cn = Values(*auth, GRPC_X509_CN_PROPERTY_NAME);
      if (!cn.empty()) facts.common_name = cn[0];
    }
  }
  return facts;
}

std::string Authenticator::Peer(const grpc::ServerContext& context) const {
  if (!options_.front_listeners.has_value()) return context.peer();
  absl::StatusOr<CallFacts> facts = ConnectionFacts(context);
  return facts.ok() ? facts->peer : context.peer();
}

absl::StatusOr<Identity> Authenticator::Authenticate(
    const grpc::ServerContext& context) const {
  absl::StatusOr<CallFacts> facts = ConnectionFacts(context);
  if (!facts.ok()) return facts.status();
  auto [begin, end] = context.client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    facts->authorization.emplace_back(it->second.data(), it->second.size());
  }
  return Authenticate(*facts);
}

absl::StatusOr<Identity> Authenticator::Authenticate(
    const CallFacts& facts) const {
  absl::StatusOr<std::optional<std::string>> token = TokenIdentity(facts);
  if (!token.ok()) return token.status();

  Identity identity;
  if (!facts.uri_sans.empty()) {
    identity = {facts.uri_sans[0], Identity::Source::kCertificate};
  } else if (!facts.dns_sans.empty()) {
    identity = {facts.dns_sans[0], Identity::Source::kCertificate};
  } else if (!facts.common_name.empty()) {
    identity = {facts.common_name, Identity::Source::kCertificate};
  } else if (token->has_value()) {
    identity = {**token, Identity::Source::kToken};
  }
  if (identity.source == Identity::Source::kNone && options_.required) {
    std::string wanted;
    if (options_.client_certificates && options_.tokens) {
      wanted = "a client certificate or a bearer token";
    } else if (options_.client_certificates) {
      wanted = "a client certificate";
    } else {
      wanted = "a bearer token (authorization: Bearer TOKEN)";
    }
    return Unauthenticated(absl::StrCat("no identity: this server requires ",
                                        wanted,
                                        ", and the call came with none"));
  }
  return identity;
}

absl::StatusOr<std::optional<std::string>> Authenticator::TokenIdentity(
    const CallFacts& facts) const {
  if (facts.authorization.empty()) return std::nullopt;
  if (facts.authorization.size() > 1) {
    return Unauthenticated("more than one authorization header");
  }
  absl::string_view value = facts.authorization[0];
  if (value.size() < 7 ||
      !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return Unauthenticated("the authorization header is not \"Bearer TOKEN\"");
  }
  absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
  if (!options_.tokens) {
    return Unauthenticated(
        "a bearer token was sent, but this server takes none (no "
        "--token-file)");
  }
  // A token sent in the clear over a network is as good as published:
  // refuse it, so that such a client is told at once and fixed.
  if (!facts.tls && ClassifyPeer(facts.peer) == PeerKind::kNetwork) {
    return Unauthenticated(absl::StrCat(
        "a bearer token is accepted only over TLS, a unix socket or "
        "loopback; this call came in plaintext from ",
        facts.peer));
  }
  std::shared_ptr<const TokenFile> tokens;
  {
    absl::MutexLock lock(&mu_);
    tokens = tokens_;
  }
  std::optional<std::string> name;
  if (tokens != nullptr) name = tokens->Find(token);
  if (!name.has_value()) {
    return Unauthenticated("the bearer token is not valid");
  }
  return name;
}

}  // namespace rexec::auth
