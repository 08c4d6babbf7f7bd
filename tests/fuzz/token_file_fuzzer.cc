// Fuzzes the token file reader and a lookup in what it read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/auth/token_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto file = rexec::auth::TokenFile::Parse(text, "fuzz");
  if (file.ok()) file->Find(text.substr(0, 64));
  return 0;
}
