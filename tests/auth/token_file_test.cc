// The token file: its format, its errors, and lookups.
#include "server/auth/token_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string HexOf(absl::string_view token) {
  Sha256 hash = HashToken(token);
  std::string hex;
  for (uint8_t b : hash) {
    static const char kDigits[] = "0123456789abcdef";
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  return hex;
}

TEST(TokenFile, FindsTheNameOfEachTokenAndNothingElse) {
  const std::string text = "# tokens\n\nalice " + HexOf("alpha-secret") +
                           "\n  bob\t" + HexOf("beta-secret") + "  \n" +
                           "alice " + HexOf("alpha-next") + "\n";
  absl::StatusOr<TokenFile> file = TokenFile::Parse(text, "tokens");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 3u);
  EXPECT_EQ(file->Find("alpha-secret"), "alice");
  EXPECT_EQ(file->Find("alpha-next"), "alice");  // rotation: both work
  EXPECT_EQ(file->Find("beta-secret"), "bob");
  EXPECT_EQ(file->Find("beta-secret "), std::nullopt);
  EXPECT_EQ(file->Find(""), std::nullopt);
  // The hash itself is not a token.
  EXPECT_EQ(file->Find(HexOf("alpha-secret")), std::nullopt);
}

TEST(TokenFile, UppercaseHexIsTheSameHash) {
  std::string hex = HexOf("alpha-secret");
  for (char& c : hex) c = static_cast<char>(toupper(c));
  absl::StatusOr<TokenFile> file = TokenFile::Parse("alice " + hex, "t");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->Find("alpha-secret"), "alice");
}

TEST(TokenFile, ErrorsNameTheLineAndNeverEchoTheValue) {
  struct Case {
    std::string text, error;
  };
  const std::string good = HexOf("x");
  for (const Case& c : std::vector<Case>{
           {"alice\n", "tokens:1: expected NAME SHA256HEX, got 1 word"},
           {"\nalice a b\n", "tokens:2: expected NAME SHA256HEX, got 3 words"},
           {"alice my-plain-token\n",
            "tokens:1: the hash of alice is not 64 hex digits (14 "
            "characters)"},
           {"alice " + std::string(64, 'g'), "is not 64 hex digits"},
           {"alice " + good + "\nbob " + good,
            "tokens:2: the hash of bob is also the hash of alice"},
           {std::string("al\x01ice ") + good,
            "tokens:1: name has a character that is not printable ASCII"},
       }) {
    absl::StatusOr<TokenFile> file = TokenFile::Parse(c.text, "tokens");
    ASSERT_FALSE(file.ok()) << c.text;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.error));
    EXPECT_THAT(std::string(file.status().message()),
                Not(HasSubstr("my-plain-token")));
  }
}

TEST(TokenFile, AMissingFileSaysWhich) {
  absl::StatusOr<TokenFile> file = TokenFile::Load("/no/such/tokens");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file.status().message()),
              HasSubstr("/no/such/tokens"));
}

}  // namespace
}  // namespace rexec::auth
