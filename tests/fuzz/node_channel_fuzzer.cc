// Fuzzes the Node channel decoder, as a Fork child's bytes reach it: fed in
// chunks whose sizes come from the input, each decoded message encoded
// again (what a client's message meets on its way to the child).
#include <cstddef>
#include <cstdint>

#include "common/node_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  absl::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  rexec::node_channel::Decoder decoder;
  while (!bytes.empty()) {
    absl::string_view piece = bytes.substr(0, chunk);
    bytes.remove_prefix(piece.size());
    absl::Status status =
        decoder.Feed(piece, [](google::protobuf::Value message) {
          rexec::node_channel::InternalCommand(message);
          absl::StatusOr<std::string> line =
              rexec::node_channel::Encode(message);
          // What was decoded must encode, and decode to the same line.
          if (!line.ok()) __builtin_trap();
          rexec::node_channel::Decoder again;
          bool same = false;
          if (!again
                   .Feed(*line,
                         [&](google::protobuf::Value v) {
                           absl::StatusOr<std::string> twice =
                               rexec::node_channel::Encode(v);
                           same = twice.ok() && *twice == *line;
                           return true;
                         })
                   .ok() ||
              !same) {
            __builtin_trap();
          }
          return true;
        });
    if (!status.ok()) return 0;
  }
  decoder.Finish().IgnoreError();
  return 0;
}
