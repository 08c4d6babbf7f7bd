#include "client/printable.h"

#include "absl/strings/escaping.h"

namespace rexec::client {
namespace {

// The length of the UTF-8 sequence at the start of `text` (1 to 4), or 0
// when it is not one.
size_t Utf8Length(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  size_t n = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3
                          : (lead >> 3) == 30    ? 4
                                                 : 0;
  if (n == 0 || n > text.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  // No overlong forms, surrogates or code points past U+10FFFF.
  if ((n == 2 && lead < 0xc2) || (n == 3 && lead == 0xe0 && byte(1) < 0xa0) ||
      (n == 3 && lead == 0xed && byte(1) >= 0xa0) ||
      (n == 4 && lead == 0xf0 && byte(1) < 0x90) ||
      (n == 4 && (lead > 0xf4 || (lead == 0xf4 && byte(1) >= 0x90)))) {
    return 0;
  }
  return n;
}

}  // namespace

std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t n = Utf8Length(text);
    const uint8_t first = static_cast<uint8_t>(text[0]);
    // C1 controls are U+0080 to U+009F: 0xc2 0x80 to 0xc2 0x9f.
    const bool control =
        n == 0 || (n == 1 && (first < 0x20 || first == 0x7f)) ||
        (n == 2 && first == 0xc2 && static_cast<uint8_t>(text[1]) < 0xa0);
    const size_t take = n == 0 ? 1 : n;
    if (control) {
      out += absl::CHexEscape(text.substr(0, take));
    } else {
      out.append(text.data(), take);
    }
    text.remove_prefix(take);
  }
  return out;
}

}  // namespace rexec::client
