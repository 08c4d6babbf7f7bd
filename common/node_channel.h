// The wire protocol of Node's IPC channel in json serialization mode, as
// child_process.fork() sets it up (NODE_CHANNEL_FD, and
// NODE_CHANNEL_SERIALIZATION_MODE=json): each message is one JSON value on
// one line, ending in "\n", both ways. rexecd speaks it to Fork children and
// rexec speaks it to a local Node parent. Decoder is not thread-safe.
#ifndef REXEC_COMMON_NODE_CHANNEL_H_
#define REXEC_COMMON_NODE_CHANNEL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace rexec::node_channel {

// The fd a forked Node child expects its channel on.
inline constexpr int kFd = 3;

// A line longer than this is refused rather than buffered: gRPC clients
// receive 4 MiB messages by default, so a larger one could not be delivered.
inline constexpr size_t kMaxMessageBytes = 4 << 20;

// The answer to a handle that cannot be accepted; the sender's queue, which
// waits for an answer, then goes on.
inline constexpr absl::string_view kHandleNack =
    "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

// The message as one line of JSON with its "\n". NaN and the infinities
// become null, as JSON.stringify makes them; INVALID_ARGUMENT for a Value
// with no kind set.
absl::StatusOr<std::string> Encode(const google::protobuf::Value& message);

// Node's test for its own traffic (lib/internal/child_process.js): an object
// whose "cmd" is a string longer than, and starting with, "NODE_". Returns
// that cmd.
std::optional<std::string> InternalCommand(
    const google::protobuf::Value& message);

class Decoder {
 public:
  // Takes the next bytes of the channel and calls `on_message` for each
  // complete line, in order, until it returns false. Errors: DATA_LOSS for a
  // line that is not JSON, naming its byte offset in the channel;
  // RESOURCE_EXHAUSTED for a line over kMaxMessageBytes.
  absl::Status Feed(
      absl::string_view data,
      absl::FunctionRef<bool(google::protobuf::Value)> on_message);
  // At the end of the channel: DATA_LOSS if it stopped inside a message.
  absl::Status Finish() const;

 private:
  std::string partial_;  // at most one incomplete line
  uint64_t offset_ = 0;  // the channel offset of partial_[0]
};

}  // namespace rexec::node_channel

#endif  // REXEC_COMMON_NODE_CHANNEL_H_
