#include "common/node_channel.h"

#include <cmath>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace rexec::node_channel {
namespace {

using Json = nlohmann::json;

// Of the parser's own error text, what a status message repeats.
constexpr size_t kMaxErrorBytes = 200;
// What an empty decoder keeps of its buffer's room.
constexpr size_t kKeptCapacity = 64 << 10;

// Integral doubles below this convert to int64 exactly, and print without
// the ".0" nlohmann gives a double, as JavaScript prints them.
constexpr double kTwoTo63 = 9223372036854775808.0;

absl::Status TooDeep(absl::string_view what) {
  return absl::ResourceExhaustedError(
      absl::StrCat(what, " nested deeper than ", kMaxDepth, " levels"));
}

absl::StatusOr<Json> ToJson(const google::protobuf::Value& value, int depth) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNullValue:
      return Json(nullptr);
    case google::protobuf::Value::kBoolValue:
      return Json(value.bool_value());
    case google::protobuf::Value::kStringValue:
      return Json(value.string_value());
    case google::protobuf::Value::kNumberValue: {
      const double n = value.number_value();
      if (!std::isfinite(n)) return Json(nullptr);  // as JSON.stringify
      if (std::trunc(n) == n && std::fabs(n) < kTwoTo63) {
        return Json(static_cast<int64_t>(n));  // 1, not 1.0; -0 becomes 0
      }
      return Json(n);
    }
    case google::protobuf::Value::kListValue: {
      if (depth >= kMaxDepth) return TooDeep("message cannot be sent: it is");
      Json list = Json::array();
      for (const google::protobuf::Value& item : value.list_value().values()) {
        absl::StatusOr<Json> json = ToJson(item, depth + 1);
        if (!json.ok()) return json.status();
        list.push_back(*std::move(json));
      }
      return list;
    }
    case google::protobuf::Value::kStructValue: {
      if (depth >= kMaxDepth) return TooDeep("message cannot be sent: it is");
      // A std::map underneath: keys come out sorted.
      Json object = Json::object();
      for (const auto& [key, item] : value.struct_value().fields()) {
        absl::StatusOr<Json> json = ToJson(item, depth + 1);
        if (!json.ok()) return json.status();
        object[key] = *std::move(json);
      }
      return object;
    }
    default:
      return absl::InvalidArgumentError(
          "message cannot be sent as JSON: a Value with no kind set");
  }
}

// Builds a google.protobuf.Value from nlohmann's SAX events, refusing to go
// deeper than kMaxDepth. The parser itself is iterative (a stack of bits,
// not recursion), so neither it nor this ever recurses on input.
class ValueBuilder final : public nlohmann::json_sax<Json> {
 public:
  google::protobuf::Value& root() { return root_; }
  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }

  bool null() override {
    Next()->set_null_value(google::protobuf::NULL_VALUE);
    return true;
  }
  bool boolean(bool b) override {
    Next()->set_bool_value(b);
    return true;
  }
  // JSON.parse gives every number as a double; so does Value.
  bool number_integer(number_integer_t n) override {
    Next()->set_number_value(static_cast<double>(n));
    return true;
  }
  bool number_unsigned(number_unsigned_t n) override {
    Next()->set_number_value(static_cast<double>(n));
    return true;
  }
  bool number_float(number_float_t n, const string_t&) override {
    Next()->set_number_value(n);
    return true;
  }
  bool string(string_t& s) override {
    Next()->set_string_value(std::move(s));
    return true;
  }
  bool binary(binary_t&) override { return false; }  // not in JSON text
  bool start_object(std::size_t) override {
    google::protobuf::Value* v = Open();
    if (v != nullptr) v->mutable_struct_value();
    return v != nullptr;
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override {
    google::protobuf::Value* v = Open();
    if (v != nullptr) v->mutable_list_value();
    return v != nullptr;
  }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at ...": keep the text,
    // but not all of it: it quotes the token it failed on, which may be
    // megabytes of the child's (a number of 4 MB), and it ends up in a
    // status message, whose size a client limits.
    absl::string_view what = e.what();
    size_t bracket = what.find("] ");
    if (bracket != absl::string_view::npos) what.remove_prefix(bracket + 2);
    for (char c : what.substr(0, kMaxErrorBytes)) {
      if (c >= 0x20 && c < 0x7f) {
        error_ += c;
      } else {
        absl::StrAppend(&error_, "\\x",
                        absl::Hex(static_cast<uint8_t>(c), absl::kZeroPad2));
      }
    }
    if (what.size() > kMaxErrorBytes) error_ += "...";
    return false;
  }

 private:
  // Where the next value goes: the root, the next array item, or the value
  // of the last key read.
  google::protobuf::Value* Next() {
    if (open_.empty()) return &root_;
    google::protobuf::Value* top = open_.back();
    if (top->has_list_value()) return top->mutable_list_value()->add_values();
    return &(*top->mutable_struct_value()->mutable_fields())[key_];
  }
  // The slot of a new array or object; nullptr (which stops the parse) past
  // kMaxDepth.
  google::protobuf::Value* Open() {
    if (static_cast<int>(open_.size()) >= kMaxDepth) {
      too_deep_ = true;
      return nullptr;
    }
    google::protobuf::Value* v = Next();
    open_.push_back(v);
    return v;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  google::protobuf::Value root_;
  std::vector<google::protobuf::Value*> open_;
  std::string key_;
  bool too_deep_ = false;
  std::string error_;
};

}  // namespace

absl::StatusOr<std::string> Encode(const google::protobuf::Value& message) {
  absl::StatusOr<Json> json = ToJson(message, 0);
  if (!json.ok()) return json.status();
  // Values parsed by protobuf hold valid UTF-8; replace rather than throw
  // should one ever not.
  std::string line = json->dump(-1, ' ', false, Json::error_handler_t::replace);
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
  buffer_.append(data.data(), data.size());
  bool stopped = false;
  // Only bytes not searched before: a line that trickles in a byte at a
  // time must not be searched again from its start on every byte.
  for (size_t end; (end = buffer_.find('\n', std::max(start_, scanned_))) !=
                   std::string::npos;) {
    absl::string_view line =
        absl::string_view(buffer_).substr(start_, end - start_);
    ValueBuilder builder;
    if (!Json::sax_parse(line, &builder)) {
      if (builder.too_deep()) {
        return TooDeep(absl::StrCat("a message at byte offset ", offset_,
                                    " of the IPC channel is"));
      }
      return absl::DataLossError(absl::StrCat(
          "a line that is not JSON at byte offset ", offset_,
          " of the IPC channel: \"", absl::CHexEscape(line.substr(0, 64)),
          line.size() > 64 ? "...\"" : "\"", ": ", builder.error()));
    }
    offset_ += end + 1 - start_;
    start_ = end + 1;
    if (!on_message(std::move(builder.root()))) {
      stopped = true;
      break;
    }
  }
  // After a stop, what follows may hold whole lines not yet looked at.
  scanned_ = stopped ? start_ : buffer_.size();
  // Decoded bytes are dropped once they are most of the buffer: a backlog
  // taken a few lines at a time costs one pass over it, not one per line.
  if (start_ > buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scanned_ -= start_;
    start_ = 0;
  }
  // A large message's room is not kept for the small ones after it.
  if (buffer_.empty() && buffer_.capacity() > kKeptCapacity) {
    std::string().swap(buffer_);
  }
  if (buffer_.size() - start_ > kMaxMessageBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a message over ", kMaxMessageBytes,
                     " bytes at byte offset ", offset_, " of the IPC channel"));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Finish() const {
  if (buffer_.size() == start_) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("the IPC channel closed in the middle of a message: ",
                   buffer_.size() - start_,
                   " bytes without a newline at byte offset ", offset_));
}

}  // namespace rexec::node_channel
