#include "server/auth/token_file.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/bounded_file.h"

namespace rexec::auth {
namespace {

// A name is an identity: printable, without spaces, of a sane length.
absl::Status CheckName(absl::string_view name) {
  if (name.size() > 256)
    return absl::InvalidArgumentError("name is over 256 bytes");
  for (char c : name) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "name has a character that is not printable ASCII");
    }
  }
  return absl::OkStatus();
}

}  // namespace

Sha256 HashToken(absl::string_view token) {
  Sha256 hash;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         hash.data());
  return hash;
}

absl::StatusOr<TokenFile> TokenFile::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxBytes);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<TokenFile> TokenFile::Parse(absl::string_view text,
                                           absl::string_view source) {
  TokenFile file;
  absl::flat_hash_map<std::string, std::string> name_of_hash;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    auto fail = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": ", what));
    };
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 2) {
      return fail(absl::StrCat("expected NAME SHA256HEX, got ", words.size(),
                               words.size() == 1 ? " word" : " words"));
    }
    if (absl::Status name = CheckName(words[0]); !name.ok()) {
      return fail(name.message());
    }
    const absl::string_view hex = words[1];
    bool is_hex = hex.size() == 64;
    for (char c : hex) is_hex = is_hex && absl::ascii_isxdigit(c);
    if (!is_hex) {
      // Never echo the value: it may be a token pasted by mistake.
      return fail(absl::StrCat(
          "the hash of ", words[0], " is not 64 hex digits (", hex.size(),
          " characters): the file holds SHA-256 hashes of tokens, e.g. from "
          "`printf %s TOKEN | sha256sum`"));
    }
    Entry entry{std::string(words[0]), {}};
    const std::string bytes = absl::HexStringToBytes(hex);
    std::copy(bytes.begin(), bytes.end(), entry.hash.begin());
    auto [it, inserted] = name_of_hash.try_emplace(bytes, entry.name);
    if (!inserted && it->second != entry.name) {
      return fail(absl::StrCat("the hash of ", entry.name,
                               " is also the hash of ", it->second));
    }
    file.entries_.push_back(std::move(entry));
  }
  return file;
}

std::optional<std::string> TokenFile::Find(absl::string_view token) const {
  const Sha256 hash = HashToken(token);
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.hash.data(), hash.data(), hash.size()) == 0) {
      found = &entry;
    }
  }
  if (found == nullptr) return std::nullopt;
  return found->name;
}

}  // namespace rexec::auth
