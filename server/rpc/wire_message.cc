#include "server/rpc/wire_message.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "spdlog/spdlog.h"

namespace rexec::rpc {
namespace {

// Protobuf says why a string field was refused only in a log line. While a
// parse runs on this thread, its log lines are kept here instead.
thread_local std::string* captured_log = nullptr;

void OnProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                   const std::string& message) {
  if (captured_log != nullptr) {
    absl::StrAppend(captured_log, message);
    return;
  }
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    spdlog::error("protobuf: {}", message);
  } else {
    spdlog::warn("protobuf: {}", message);
  }
}

// How deep a second parse goes to tell depth from garbage: enough for any
// plausible nesting, and little stack.
constexpr int kDeepestTold = 1000;

// What a parse of `request` that failed ran into, for the client.
std::string WhyUnparsable(grpc::ByteBuffer& frame, const std::string& log,
                          const google::protobuf::Message& request) {
  if (!log.empty()) {
    // "String field 'rexec.v1.SpawnStart.argv' contains invalid UTF-8 data
    // when parsing a protocol buffer. Use the 'bytes' type if..."
    absl::string_view why = log;
    size_t cut = why.find(" when parsing");
    return std::string(why.substr(0, cut));
  }
  grpc::ProtoBufferReader reader(&frame);
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromZeroCopyStream(&reader)) {
    return "the bytes are not protobuf wire format";
  }
  // Valid wire format at the top: either too deep, or a submessage's bytes
  // are not wire format (they read as an opaque field above). Parsed again
  // with a deeper, still bounded, limit to tell which.
  std::unique_ptr<google::protobuf::Message> again(request.New());
  grpc::ProtoBufferReader deeper_reader(&frame);
  google::protobuf::io::CodedInputStream deeper(&deeper_reader);
  deeper.SetRecursionLimit(kDeepestTold);
  if (again->ParseFromCodedStream(&deeper)) {
    return "messages are nested deeper than protobuf's limit of 100 levels";
  }
  return absl::StrCat("a submessage is not protobuf wire format (or is "
                      "nested deeper than ",
                      kDeepestTold, " levels)");
}

}  // namespace

absl::Status ParseRequest(grpc::ByteBuffer& frame, int index,
                          google::protobuf::Message* request) {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(OnProtobufLog); });

  std::string log;
  bool parsed;
  {
    grpc::ProtoBufferReader reader(&frame);
    captured_log = &log;
    parsed = request->ParseFromZeroCopyStream(&reader);
    captured_log = nullptr;
  }
  if (parsed) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "request ", index, " is not a valid ",
      request->GetDescriptor()->full_name(), ": ",
      WhyUnparsable(frame, log, *request)));
}

absl::Status SerializeResponse(const google::protobuf::Message& response,
                               grpc::ByteBuffer* frame) {
  frame->Clear();  // the writer wants an empty buffer
  bool own_buffer;
  grpc::Status status =
      grpc::SerializationTraits<google::protobuf::Message>::Serialize(
          response, frame, &own_buffer);
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("serializing a response: ", status.error_message()));
}

grpc::ByteBuffer BytesFieldFrame(int field, table::OutputChunk data) {
  using google::protobuf::io::CodedOutputStream;
  // A tag (the field number, then wire type 2: length-delimited) and a
  // length: two varints of at most 5 bytes each.
  constexpr uint32_t kLengthDelimited = 2;
  uint8_t head[10];
  uint8_t* end = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(field) << 3 | kLengthDelimited, head);
  end = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(data.size()), end);
  grpc::Slice head_slice(head, end - head);
  if (data.empty()) return grpc::ByteBuffer(&head_slice, 1);
  table::OutputChunk::Block body = std::move(data).Release();
  grpc::Slice slices[] = {
      std::move(head_slice),
      grpc::Slice(body.data, body.size, body.free, body.owner)};
  return grpc::ByteBuffer(slices, 2);
}

}  // namespace rexec::rpc
