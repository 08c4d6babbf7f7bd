// Policy::Load and Policy::Parse: from a file's text to a compiled Policy,
// with every error pointing at a line.
//
// JSON is YAML, so yaml-cpp reads both, and it remembers where every node
// came from, which protobuf's JSON parser does not. The node tree is walked
// along the schema (unknown and repeated keys, and scalars of the wrong
// kind, are reported at their line), written out as JSON with each scalar
// typed as its field wants, and given to protobuf's JSON parser, so that the
// schema in protos/ is the one source of truth. Errors from protobuf and
// from Policy::Compile name a field path; the walk recorded each path's
// line.
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/bounded_file.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "server/auth/policy.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace rexec::auth {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::json;

class SchemaWalk {
 public:
  explicit SchemaWalk(absl::string_view source) : source_(source) {}

  // Converts `node` (a `descriptor` message at `path`) into `out`.
  absl::Status Message(const YAML::Node& node, const Descriptor* descriptor,
                       const std::string& path, Json* out) {
    Remember(path, node);
    if (node.IsNull()) {
      *out = Json::object();
      return absl::OkStatus();
    }
    if (!node.IsMap()) return Error(node, path, "expected an object");
    *out = Json::object();
    absl::flat_hash_set<std::string> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      const FieldDescriptor* field = descriptor->FindFieldByName(name);
      if (field == nullptr) field = descriptor->FindFieldByCamelcaseName(name);
      if (field == nullptr) {
        return Error(key, path, absl::StrCat("unknown field \"", name, "\""));
      }
      if (!seen.insert(field->name()).second) {
        return Error(key, path,
                     absl::StrCat("field \"", field->name(),
                                  "\" is given more than once"));
      }
      const std::string field_path = Join(path, field->name());
      Remember(field_path, key);
      absl::Status status =
          Field(entry.second, field, field_path, &(*out)[field->name()]);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  // "FILE:LINE:COL: " for a field path, as near as the walk saw it.
  std::string Where(const std::string& path) const {
    std::string at = path;
    for (;;) {
      auto it = marks_.find(at);
      if (it != marks_.end()) return Prefix(it->second);
      size_t cut = at.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) {
        return absl::StrCat(source_, ": ");
      }
      at.resize(cut);
    }
  }

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Prefix(node.Mark()),
                     path.empty() ? "" : absl::StrCat(path, ": "), what));
  }

 private:
  static std::string Join(const std::string& path, absl::string_view name) {
    return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  }

  std::string Prefix(const YAML::Mark& mark) const {
    if (mark.is_null()) return absl::StrCat(source_, ": ");
    return absl::StrCat(source_, ":", mark.line + 1, ":", mark.column + 1,
                        ": ");
  }

  // The latest wins: a field's key first, then its value, which is where a
  // bad value is.
  void Remember(const std::string& path, const YAML::Node& node) {
    if (!path.empty()) marks_.insert_or_assign(path, node.Mark());
  }

  absl::Status Field(const YAML::Node& node, const FieldDescriptor* field,
                     const std::string& path, Json* out) {
    if (node.IsNull()) {
      *out = nullptr;  // protobuf's JSON: null is the default
      return absl::OkStatus();
    }
    if (field->is_map()) {
      if (!node.IsMap()) return Error(node, path, "expected an object");
      *out = Json::object();
      const FieldDescriptor* value = field->message_type()->map_value();
      absl::flat_hash_set<std::string> keys;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return Error(entry.first, path, "a key must be a string");
        }
        const std::string& key = entry.first.Scalar();
        if (!keys.insert(key).second) {
          return Error(
              entry.first, path,
              absl::StrCat("key \"", key, "\" is given more than once"));
        }
        const std::string key_path = absl::StrCat(path, "[\"", key, "\"]");
        Remember(key_path, entry.first);
        absl::Status status =
            Single(entry.second, value, key_path, &(*out)[key]);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (field->is_repeated()) {
      if (!node.IsSequence()) return Error(node, path, "expected a list");
      *out = Json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string item_path = absl::StrCat(path, "[", i, "]");
        Json item;
        absl::Status status = Single(node[i], field, item_path, &item);
        if (!status.ok()) return status;
        out->push_back(std::move(item));
      }
      return absl::OkStatus();
    }
    return Single(node, field, path, out);
  }

  template <typename T>
  absl::Status Number(const YAML::Node& node, const std::string& text,
                      const std::string& path, Json* out) {
    T n;
    if (absl::SimpleAtoi(text, &n)) {
      *out = n;
      return absl::OkStatus();
    }
    return Error(
        node, path,
        absl::StrCat("expected a whole number from 0 to ",
                     std::numeric_limits<T>::max(), ", got \"", text, "\""));
  }

  // One value of `field`'s type (an element, for a repeated field).
  absl::Status Single(const YAML::Node& node, const FieldDescriptor* field,
                      const std::string& path, Json* out) {
    Remember(path, node);
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      const Descriptor* type = field->message_type();
      if (type->full_name() == "google.protobuf.Duration") {
        if (!node.IsScalar()) {
          return Error(node, path, "expected a duration like \"30s\"");
        }
        *out = node.Scalar();  // protobuf checks its form
        return absl::OkStatus();
      }
      return Message(node, type, path, out);
    }
    if (!node.IsScalar()) return Error(node, path, "expected a single value");
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        *out = text;
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL:
        if (text == "true" || text == "false") {
          *out = text == "true";
          return absl::OkStatus();
        }
        return Error(node, path, "expected true or false");
      case FieldDescriptor::CPPTYPE_UINT32:
        return Number<uint32_t>(node, text, path, out);
      case FieldDescriptor::CPPTYPE_UINT64:
        return Number<uint64_t>(node, text, path, out);
      case FieldDescriptor::CPPTYPE_ENUM:
        if (field->enum_type()->FindValueByName(text) != nullptr) {
          *out = text;
          return absl::OkStatus();
        }
        return Error(node, path,
                     absl::StrCat("\"", text,
                                  "\" is not one of the values "
                                  "of ",
                                  field->enum_type()->name()));
      default:
        // The schema has no other kind; a new one needs a case here.
        return Error(node, path, "a field of a kind this reader lacks");
    }
  }

  const std::string source_;
  std::map<std::string, YAML::Mark> marks_;
};

// A document's events, dropped: to read past one without building it.
class NoEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Whether `text` goes on past its first document. Only the first two are
// read (not YAML::LoadAll, which would build every one of thousands of
// tiny documents: the fuzzer's 2 GiB).
bool HoldsASecondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  NoEvents none;
  return parser.HandleNextDocument(none) && parser.HandleNextDocument(none);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Load(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxBytes);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Parse(
    absl::string_view text, absl::string_view source) {
  if (text.size() > kMaxBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(source, ": the file is over ", kMaxBytes, " bytes"));
  }
  // Most likely a file caught half-written (write policies by renaming a
  // new file into place); a policy that allows nobody says so: {"rules": []}.
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": the file is empty (a policy that allows nobody is "
                     "{\"rules\": []})"));
  }
  SchemaWalk walk(source);
  Json json;
  try {
    const std::string whole(text);
    YAML::Node root = YAML::Load(whole);
    // What follows a "---" or "..." is not left unread: a policy is one
    // whole document.
    if (HoldsASecondDocument(whole)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source,
          ": the file holds more than one YAML document; a policy is "
          "exactly one"));
    }
    absl::Status status =
        walk.Message(root, v1::Policy::descriptor(), "", &json);
    if (!status.ok()) return status;
  } catch (const YAML::Exception& e) {
    // Syntax errors, and yaml-cpp's own nesting limit.
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }

  v1::Policy proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      json.dump(-1, ' ', false, Json::error_handler_t::replace), &proto,
      options);
  if (!parsed.ok()) {
    // "(rules[0].max_timeout): invalid value ..." names the field.
    const std::string text_message = parsed.message().ToString();
    absl::string_view message = text_message;
    std::string path;
    if (absl::ConsumePrefix(&message, "(")) {
      size_t close = message.find("): ");
      if (close != absl::string_view::npos) {
        path = std::string(message.substr(0, close));
        message.remove_prefix(close + 3);
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(walk.Where(path),
                     path.empty() ? "" : absl::StrCat(path, ": "), message));
  }
  FieldError error;
  absl::StatusOr<std::shared_ptr<const Policy>> policy = Compile(proto, &error);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(walk.Where(error.path), error.path, ": ", error.message));
  }
  return policy;
}

}  // namespace rexec::auth
