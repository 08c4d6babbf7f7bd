// Fuzzes the launcher's decoding of a spawn. Its bytes come from rexecd, but
// a decoder in the process that creates every child must not be where a bug
// of the sender becomes a crash or a huge allocation.
#include <cstddef>
#include <cstdint>

#include "server/process/launch_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<rexec::process::LaunchSpec> spec =
      rexec::process::DecodeLaunchSpec(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (spec.ok()) {
    // What decodes must encode back to the same bytes.
    if (rexec::process::EncodeLaunchSpec(*spec) !=
        absl::string_view(reinterpret_cast<const char*>(data), size)) {
      __builtin_trap();
    }
  }
  return 0;
}
