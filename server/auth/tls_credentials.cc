#include "server/auth/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/bounded_file.h"

namespace rexec::auth {
namespace {

// Certificates and keys are a few KiB; a CA bundle can be a few hundred.
constexpr size_t kMaxPemBytes = 4 << 20;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::Status Bad(absl::string_view flag, const std::string& path,
                 absl::string_view what) {
  ERR_clear_error();
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": ", what));
}

absl::StatusOr<std::string> Read(absl::string_view flag,
                                 const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxPemBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat(flag, ": ", text.status().message()));
  }
  return text;
}

std::unique_ptr<BIO, BioDeleter> BioOf(const std::string& text) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files) {
  absl::StatusOr<std::string> cert_pem = Read("--tls-cert", files.cert);
  if (!cert_pem.ok()) return cert_pem.status();
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(BioOf(*cert_pem).get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return Bad("--tls-cert", files.cert, "no PEM certificate in the file");
  }
  absl::StatusOr<std::string> key_pem = Read("--tls-key", files.key);
  if (!key_pem.ok()) return key_pem.status();
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(PEM_read_bio_PrivateKey(
      BioOf(*key_pem).get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return Bad("--tls-key", files.key,
               "no PEM private key in the file (or it is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Bad("--tls-key", files.key,
               absl::StrCat("the key does not belong to the certificate in ",
                            files.cert));
  }
  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> ca_pem =
        Read("--tls-client-ca", files.client_ca);
    if (!ca_pem.ok()) return ca_pem.status();
    std::unique_ptr<X509, X509Deleter> ca(
        PEM_read_bio_X509(BioOf(*ca_pem).get(), nullptr, nullptr, nullptr));
    if (ca == nullptr) {
      return Bad("--tls-client-ca", files.client_ca,
                 "no PEM certificate in the file");
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> TlsServerCredentials(
    const TlsFiles& files) {
  const auto refresh = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(files.refresh)));
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (files.client_ca.empty()) {
    provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            files.key, files.cert, refresh);
  } else {
    provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            files.key, files.cert, files.client_ca, refresh);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!files.client_ca.empty()) {
    options.watch_root_certs();
    // With tokens too, a client may bring either: a certificate, if given,
    // must verify, and the Authenticator requires one or the other.
    options.set_cert_request_type(
        files.tokens_too
            ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace rexec::auth
