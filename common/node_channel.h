// The wire protocol of Node's IPC channel in json serialization mode, as
// child_process.fork() sets it up (NODE_CHANNEL_FD, and
// NODE_CHANNEL_SERIALIZATION_MODE=json): each message is one JSON value on
// one line, ending in "\n", both ways. rexecd speaks it to Fork children and
// rexec speaks it to a local Node parent.
//
// Every byte of the channel comes from a process we do not trust, and the
// server decodes it on a completion-queue thread shared with other calls: so
// a line is bounded in size (kMaxMessageBytes) and nesting (kMaxDepth) and
// decoded in one linear pass that stops at the first byte past a bound.
// Decoder is not thread-safe.
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

// Arrays and objects nested deeper than this are refused. Node's own parser
// goes much further, but a message must also reach a gRPC client, and
// protobuf's default recursion limit (100 message levels, in C++, Python and
// Java) lets a client parse a Value nested 33 objects deep inside a
// ForkResponse and no deeper (measured): a deeper message could never arrive.
inline constexpr int kMaxDepth = 32;

// The answer to a handle that cannot be accepted; the sender's queue, which
// waits for an answer, then goes on.
inline constexpr absl::string_view kHandleNack =
    "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

// The message as one line of JSON with its "\n", as JSON.stringify writes
// it: object keys sorted (a Struct keeps no order), integers without a
// fraction, NaN and the infinities as null. INVALID_ARGUMENT for a Value
// with no kind set or nested deeper than kMaxDepth.
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
  // RESOURCE_EXHAUSTED for a line over kMaxMessageBytes or nested deeper
  // than kMaxDepth. Each byte is looked at a bounded number of times,
  // however the line is split into chunks.
  absl::Status Feed(
      absl::string_view data,
      absl::FunctionRef<bool(google::protobuf::Value)> on_message);
  // At the end of the channel: DATA_LOSS if it stopped inside a message.
  absl::Status Finish() const;
  // Bytes it holds: lines not decoded yet, and a part of one.
  size_t held() const { return buffer_.size(); }

 private:
  // Bytes from start_ on are not decoded yet: lines a stopped Feed left,
  // then at most one incomplete line. [start_, scanned_) holds no newline.
  std::string buffer_;
  size_t start_ = 0;
  size_t scanned_ = 0;
  uint64_t offset_ = 0;  // the channel offset of buffer_[start_]
};

}  // namespace rexec::node_channel

#endif  // REXEC_COMMON_NODE_CHANNEL_H_
