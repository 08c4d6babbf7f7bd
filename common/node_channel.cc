#include "common/node_channel.h"

#include <cmath>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace rexec::node_channel {
namespace {

// Replaces NaN and the infinities with null, as JSON.stringify does, in
// `out` (a copy of `in`), or with `out` null only looks. Returns whether
// there were any.
bool NullNonFinite(const google::protobuf::Value& in,
                   google::protobuf::Value* out) {
  bool found = false;
  switch (in.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      found = !std::isfinite(in.number_value());
      if (found && out != nullptr) {
        out->set_null_value(google::protobuf::NULL_VALUE);
      }
      break;
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, field] : in.struct_value().fields()) {
        auto* fields = out == nullptr
                           ? nullptr
                           : out->mutable_struct_value()->mutable_fields();
        found |= NullNonFinite(field, fields ? &(*fields)[key] : nullptr);
      }
      break;
    case google::protobuf::Value::kListValue:
      for (int i = 0; i < in.list_value().values_size(); ++i) {
        found |= NullNonFinite(
            in.list_value().values(i),
            out ? out->mutable_list_value()->mutable_values(i) : nullptr);
      }
      break;
    default:
      break;
  }
  return found;
}

}  // namespace

absl::StatusOr<std::string> Encode(const google::protobuf::Value& message) {
  // Messages are copied only in the rare case that needs it.
  std::optional<google::protobuf::Value> finite;
  if (NullNonFinite(message, nullptr)) {
    finite = message;
    NullNonFinite(message, &*finite);
  }
  // Through a deterministic binary form, so that object keys come out
  // sorted: a Struct is a map and keeps no order, and a stable one is
  // easier on logs and tests than the hash map's.
  std::string binary;
  {
    google::protobuf::io::StringOutputStream bytes(&binary);
    google::protobuf::io::CodedOutputStream out(&bytes);
    out.SetSerializationDeterministic(true);
    (finite ? *finite : message).SerializeToCodedStream(&out);
  }
  static google::protobuf::util::TypeResolver* const resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com",
          google::protobuf::DescriptorPool::generated_pool());
  std::string line;
  auto status = google::protobuf::util::BinaryToJsonString(
      resolver, "type.googleapis.com/google.protobuf.Value", binary, &line);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message cannot be sent as JSON: ", status.message().ToString()));
  }
  if (line.empty()) {
    return absl::InvalidArgumentError(
        "message cannot be sent as JSON: a Value with no kind set");
  }
  line += '\n';
  return line;
}

std::optional<std::string> InternalCommand(
    const google::protobuf::Value& message) {
  if (!message.has_struct_value()) return std::nullopt;
  const auto& fields = message.struct_value().fields();
  auto it = fields.find("cmd");
  if (it == fields.end() || !it->second.has_string_value()) return std::nullopt;
  const std::string& cmd = it->second.string_value();
  if (cmd.size() <= 5 || !absl::StartsWith(cmd, "NODE_")) return std::nullopt;
  return cmd;
}

absl::Status Decoder::Feed(
    absl::string_view data,
    absl::FunctionRef<bool(google::protobuf::Value)> on_message) {
  partial_.append(data.data(), data.size());
  size_t begin = 0;
  for (size_t end; (end = partial_.find('\n', begin)) != std::string::npos;
       begin = end + 1) {
    absl::string_view line =
        absl::string_view(partial_).substr(begin, end - begin);
    google::protobuf::Value value;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &value);
    if (!status.ok()) {
      return absl::DataLossError(
          absl::StrCat("a line that is not JSON at byte offset ", offset_,
                       " of the IPC "
                       "channel: \"",
                       absl::CHexEscape(line.substr(0, 64)),
                       line.size() > 64 ? "...\"" : "\"", ": ",
                       status.message().ToString()));
    }
    offset_ += end + 1 - begin;
    if (!on_message(std::move(value))) {
      begin = end + 1;
      break;
    }
  }
  partial_.erase(0, begin);
  if (partial_.size() > kMaxMessageBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a message over ", kMaxMessageBytes,
                     " bytes at byte offset ", offset_, " of the IPC channel"));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Finish() const {
  if (partial_.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      "the IPC channel closed in the middle of a message: ", partial_.size(),
      " bytes without a newline at byte offset ", offset_));
}

}  // namespace rexec::node_channel
