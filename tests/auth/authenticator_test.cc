// Who a call is: certificates before tokens, tokens only where they cannot
// be read off a network, and anonymous refused when identity is required.
#include "server/auth/authenticator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/auth/peer.h"

namespace rexec::auth {
namespace {

using ::testing::HasSubstr;
using Facts = Authenticator::CallFacts;

std::string HexOf(absl::string_view token) {
  std::string hex;
  for (uint8_t b : HashToken(token)) {
    static const char kDigits[] = "0123456789abcdef";
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  return hex;
}

Authenticator::Options Opts(bool certificates, bool tokens, bool required) {
  Authenticator::Options options;
  options.client_certificates = certificates;
  options.tokens = tokens;
  options.required = required;
  return options;
}

std::unique_ptr<Authenticator> WithTokens(Authenticator::Options options) {
  auto authenticator = std::make_unique<Authenticator>(options);
  authenticator->SetTokens(std::make_shared<TokenFile>(
      *TokenFile::Parse("alice " + HexOf("s3cret") + "\n", "tokens")));
  return authenticator;
}

Facts Loopback() {
  Facts facts;
  facts.peer = "ipv4:127.0.0.1:40000";
  return facts;
}

TEST(Authenticator, CertificateNamesInOrderUriDnsCn) {
  Authenticator a(Opts(true, false, true));
  Facts facts = Loopback();
  facts.tls = true;
  facts.common_name = "the-cn";
  EXPECT_EQ(a.Authenticate(facts)->name, "the-cn");
  facts.dns_sans = {"b.example", "c.example"};
  EXPECT_EQ(a.Authenticate(facts)->name, "b.example");
  facts.uri_sans = {"spiffe://example.org/a"};
  absl::StatusOr<Identity> identity = a.Authenticate(facts);
  EXPECT_EQ(identity->name, "spiffe://example.org/a");
  EXPECT_EQ(identity->source, Identity::Source::kCertificate);
}

TEST(Authenticator, TokenGivesItsName) {
  std::unique_ptr<Authenticator> a = WithTokens(Opts(false, true, true));
  Facts facts = Loopback();
  facts.authorization = {"Bearer s3cret"};
  absl::StatusOr<Identity> identity = a->Authenticate(facts);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->name, "alice");
  EXPECT_EQ(identity->source, Identity::Source::kToken);
  facts.authorization = {"bearer   s3cret  "};  // scheme is case-insensitive
  EXPECT_EQ(a->Authenticate(facts)->name, "alice");
}

// As documented: the certificate names the caller even when a valid token
// comes too (the token is still checked, see BadCredentials...).
TEST(Authenticator, ACertificateOutranksAValidToken) {
  std::unique_ptr<Authenticator> a = WithTokens(Opts(true, true, true));
  Facts facts = Loopback();
  facts.tls = true;
  facts.common_name = "the-cn";
  facts.authorization = {"Bearer s3cret"};
  absl::StatusOr<Identity> identity = a->Authenticate(facts);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->name, "the-cn");
  EXPECT_EQ(identity->source, Identity::Source::kCertificate);
}

// Each byte of the SHA-256 counts: a file whose hash differs from the
// token's in the last byte only does not name it.
TEST(Authenticator, AHashWrongInItsLastByteIsRefused) {
  std::string hex = HexOf("s3cret");
  hex.back() = hex.back() == '0' ? '1' : '0';
  Authenticator a(Opts(false, true, true));
  a.SetTokens(std::make_shared<TokenFile>(
      *TokenFile::Parse("alice " + hex + "\n", "tokens")));
  Facts facts = Loopback();
  facts.authorization = {"Bearer s3cret"};
  absl::StatusOr<Identity> identity = a.Authenticate(facts);
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kUnauthenticated)
      << (identity.ok() ? identity->name : "");
}

TEST(Authenticator, TokenOnlyOverTlsUnixOrLoopback) {
  std::unique_ptr<Authenticator> a = WithTokens(Opts(false, true, true));
  Facts facts;
  facts.authorization = {"Bearer s3cret"};
  for (const char* peer :
       {"ipv4:127.0.0.1:1", "ipv4:127.9.9.9:1", "ipv6:[::1]:1",
        "ipv6:[::ffff:127.0.0.1]:1", "unix:/run/rexec.sock", "unix:"}) {
    facts.peer = peer;
    EXPECT_TRUE(a->Authenticate(facts).ok()) << peer;
  }
  for (const char* peer : {"ipv4:10.0.0.5:1", "ipv6:[2001:db8::1]:1",
                           "ipv6:[::ffff:10.0.0.5]:1", "vsock:3:1", ""}) {
    facts.peer = peer;
    absl::StatusOr<Identity> refused = a->Authenticate(facts);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated)
        << peer;
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("a bearer token is accepted only over TLS, a unix "
                          "socket or loopback"));
    facts.tls = true;
    EXPECT_TRUE(a->Authenticate(facts).ok()) << peer << " over TLS";
    facts.tls = false;
  }
}

TEST(Authenticator, BadCredentialsAreRefusedNeverIgnored) {
  std::unique_ptr<Authenticator> a = WithTokens(Opts(true, true, true));
  struct Case {
    std::vector<std::string> authorization;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{"Bearer wrong"}, "the bearer token is not valid"},
           {{"Bearer "}, "the bearer token is not valid"},
           {{"Basic YWxpY2U6eA=="}, "is not \"Bearer TOKEN\""},
           {{"Bearer s3cret", "Bearer s3cret"},
            "more than one authorization header"},
       }) {
    Facts facts = Loopback();
    facts.tls = true;
    facts.uri_sans = {"spiffe://example.org/a"};  // a good certificate too
    facts.authorization = c.authorization;
    absl::StatusOr<Identity> refused = a->Authenticate(facts);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr(c.error));
  }
}

TEST(Authenticator, AnonymousOnlyWhenNothingIsRequired) {
  Authenticator open({});
  EXPECT_EQ(open.Authenticate(Loopback())->name, "anonymous");
  for (auto [options, wanted] :
       std::vector<std::pair<Authenticator::Options, std::string>>{
           {Opts(true, false, true), "requires a client certificate,"},
           {Opts(false, true, true), "requires a bearer token"},
           {Opts(true, true, true),
            "requires a client certificate or a bearer token"}}) {
    Authenticator a(options);
    absl::StatusOr<Identity> refused = a.Authenticate(Loopback());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("no identity: this server " + wanted));
  }
}

TEST(Authenticator, ATokenToAServerWithoutTokensIsRefused) {
  Authenticator a(Opts(true, false, true));
  Facts facts = Loopback();
  facts.authorization = {"Bearer s3cret"};
  EXPECT_THAT(std::string(a.Authenticate(facts).status().message()),
              HasSubstr("this server takes none (no --token-file)"));
}

TEST(Peer, Classification) {
  EXPECT_EQ(ClassifyPeer("ipv4:127.0.0.1:5"), PeerKind::kLoopback);
  EXPECT_EQ(ClassifyPeer("ipv6:[::1]:5"), PeerKind::kLoopback);
  // As gRPC 1.51 reports a peer on [::1].
  EXPECT_EQ(ClassifyPeer("ipv6:%5B::1%5D:5"), PeerKind::kLoopback);
  EXPECT_EQ(ClassifyPeer("ipv6:%5b::ffff:127.0.0.1%5d:5"), PeerKind::kLoopback);
  EXPECT_EQ(ClassifyPeer("ipv6:%5B2001:db8::1%5D:5"), PeerKind::kNetwork);
  EXPECT_EQ(ClassifyPeer("ipv6:%5B%3A%3A1%5D:5"), PeerKind::kNetwork);
  EXPECT_EQ(ClassifyPeer("unix:/x"), PeerKind::kUnix);
  EXPECT_EQ(ClassifyPeer("unix-abstract:x"), PeerKind::kUnix);
  EXPECT_EQ(ClassifyPeer("ipv4:192.168.1.1:5"), PeerKind::kNetwork);
  EXPECT_EQ(ClassifyPeer("ipv4:128.0.0.1:5"), PeerKind::kNetwork);
  EXPECT_EQ(ClassifyPeer("garbage"), PeerKind::kNetwork);
}

}  // namespace
}  // namespace rexec::auth
