// TokenFile is the set of bearer tokens rexecd accepts (--token-file): one
// `NAME SHA256HEX` per line, the name being the identity a call with that
// token gets. The file holds SHA-256 hashes, never tokens, so a copy of it
// (a backup, a ConfigMap dump) grants nothing. Blank lines and lines
// starting with '#' are skipped; a name may appear on several lines, so
// that an old and a new token both work while a client rotates.
//
// Immutable once loaded; thread-safe.
#ifndef REXEC_SERVER_AUTH_TOKEN_FILE_H_
#define REXEC_SERVER_AUTH_TOKEN_FILE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec::auth {

using Sha256 = std::array<uint8_t, 32>;

Sha256 HashToken(absl::string_view token);

class TokenFile {
 public:
  // Files larger than this are refused: a token file is a few lines.
  static constexpr size_t kMaxBytes = 1 << 20;

  // INVALID_ARGUMENT "FILE:LINE: what is wrong" for a line that is not
  // `NAME SHA256HEX`, or for one hash given to two names; NOT_FOUND etc.
  // for a file that cannot be read.
  static absl::StatusOr<TokenFile> Load(const std::string& path);
  // The same for text already read; `source` names it in errors.
  static absl::StatusOr<TokenFile> Parse(absl::string_view text,
                                         absl::string_view source);

  // The name whose hash is the token's. Every entry is compared, each in
  // constant time, so the time taken says nothing of how close a guess was
  // or which entry matched.
  std::optional<std::string> Find(absl::string_view token) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    Sha256 hash;
  };
  std::vector<Entry> entries_;
};

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_TOKEN_FILE_H_
