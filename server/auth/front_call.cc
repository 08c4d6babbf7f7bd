#include "server/auth/front_call.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/front_headers.h"

namespace rexec::auth {
namespace {

// One value of the header, or nullptr when there is none or more than one.
const std::string* One(const Headers& headers, absl::string_view name) {
  auto [begin, end] = headers.equal_range(std::string(name));
  if (begin == end || std::next(begin) != end) return nullptr;
  return &begin->second;
}

absl::Status NotFromTheFront(absl::string_view what) {
  return absl::UnauthenticatedError(
      absl::StrCat("the call did not come through rexecd's front as it "
                   "should: ", what));
}

std::string Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     ASN1_STRING_length(s));
}

}  // namespace

absl::Status ReadCertificateNames(absl::string_view base64,
                                  Authenticator::CallFacts* facts) {
  std::string der;
  if (!absl::Base64Unescape(base64, &der) || der.empty()) {
    return NotFromTheFront("its certificate header is not base64");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (cert == nullptr) {
    return NotFromTheFront("its certificate header is not a certificate");
  }
  using Names = std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)>;
  Names names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
                  cert.get(), NID_subject_alt_name, nullptr, nullptr)),
              [](GENERAL_NAMES* n) { GENERAL_NAMES_free(n); });
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get());
       ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_URI) {
      facts->uri_sans.push_back(Text(name->d.uniformResourceIdentifier));
    } else if (name->type == GEN_DNS) {
      facts->dns_sans.push_back(Text(name->d.dNSName));
    }
  }
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) {
    facts->common_name =
        Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Authenticator::CallFacts> FrontCallFacts(
    const Headers& headers, const std::vector<std::string>& listener_peers) {
  const std::string* listener = One(headers, kFrontListenerHeader);
  size_t index = 0;
  if (listener == nullptr || !absl::SimpleAtoi(*listener, &index) ||
      index >= listener_peers.size()) {
    return NotFromTheFront("no listener header");
  }
  Authenticator::CallFacts facts;
  if (!listener_peers[index].empty()) {  // a unix socket
    facts.peer = listener_peers[index];
    return facts;
  }
  const std::string* source = One(headers, kFrontSourceHeader);
  const std::string* port = One(headers, kFrontPortHeader);
  const std::string* tls = One(headers, kFrontTlsHeader);
  if (source == nullptr || port == nullptr || tls == nullptr) {
    return NotFromTheFront("no source, port or TLS header");
  }
  const bool v6 = source->find(':') != std::string::npos;
  facts.peer = v6 ? absl::StrCat("ipv6:[", *source, "]:", *port)
                  : absl::StrCat("ipv4:", *source, ":", *port);
  facts.tls = *tls == "1";
  if (const std::string* cert = One(headers, kFrontCertificateHeader)) {
    if (!facts.tls) return NotFromTheFront("a certificate without TLS");
    if (absl::Status read = ReadCertificateNames(*cert, &facts); !read.ok()) {
      return read;
    }
  }
  return facts;
}

}  // namespace rexec::auth
