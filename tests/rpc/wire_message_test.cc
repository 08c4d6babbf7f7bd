// Requests parsed from raw frames: a frame that is not a valid request says
// why.
#include "server/rpc/wire_message.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rexec/v1/child_process.pb.h"

namespace rexec::rpc {
namespace {

using ::testing::HasSubstr;

grpc::ByteBuffer Frame(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

TEST(WireMessage, RoundTrip) {
  v1::SpawnRequest request;
  request.mutable_start()->add_argv("echo");
  grpc::ByteBuffer frame;
  v1::SpawnResponse response;
  response.set_stdout("out");
  ASSERT_TRUE(SerializeResponse(response, &frame).ok());
  // Twice into the same buffer: the writer wants it empty each time.
  ASSERT_TRUE(SerializeResponse(response, &frame).ok());
  grpc::ByteBuffer in = Frame(request.SerializeAsString());
  v1::SpawnRequest parsed;
  ASSERT_TRUE(ParseRequest(in, 1, &parsed).ok());
  EXPECT_EQ(parsed.start().argv(0), "echo");
}

TEST(WireMessage, GarbageInvalidUtf8AndDepthAreNamed) {
  v1::SpawnRequest parsed;
  grpc::ByteBuffer garbage = Frame("\xff\xff\xff garbage");
  absl::Status status = ParseRequest(garbage, 2, &parsed);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "request 2 is not a valid rexec.v1.SpawnRequest: the bytes are "
            "not protobuf wire format");

  v1::SpawnRequest bad_text;
  bad_text.mutable_start()->add_argv("ok");
  bad_text.mutable_start()->add_argv("b\xc3");
  grpc::ByteBuffer utf8 = Frame(bad_text.SerializePartialAsString());
  status = ParseRequest(utf8, 3, &parsed);
  EXPECT_EQ(status.message(),
            "request 3 is not a valid rexec.v1.SpawnRequest: String field "
            "'rexec.v1.SpawnStart.argv' contains invalid UTF-8 data");

  v1::ForkRequest deep;
  google::protobuf::Value* v = deep.mutable_message();
  for (int i = 0; i < 120; ++i) v = v->mutable_list_value()->add_values();
  v->set_number_value(1);
  grpc::ByteBuffer nested = Frame(deep.SerializeAsString());
  v1::ForkRequest fork;
  EXPECT_THAT(std::string(ParseRequest(nested, 4, &fork).message()),
              HasSubstr("nested deeper than protobuf's limit of 100 levels"));

  // Field 1 (start) whose bytes are not wire format: said so, not called
  // too deep.
  const std::string not_wire = "\xff\xff\xff";
  grpc::ByteBuffer bad_start =
      Frame(std::string("\x0a") + static_cast<char>(not_wire.size()) + not_wire);
  status = ParseRequest(bad_start, 5, &parsed);
  EXPECT_EQ(status.message(),
            "request 5 is not a valid rexec.v1.SpawnRequest: a submessage is "
            "not protobuf wire format (or is nested deeper than 1000 levels)");
}

std::string Bytes(grpc::ByteBuffer& frame) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(frame.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

// A child's output is framed by hand, without protobuf: the frame must be
// exactly what serializing the response would give, for each response that
// carries output, for both fields, and for lengths whose varint takes one,
// two and three bytes, whatever block the chunk holds.
TEST(WireMessage, OutputFramesAreTheResponsesSerialized) {
  std::string pattern;
  for (int i = 0; i < (1 << 20) + 5; ++i) pattern += static_cast<char>(i * 7);
  for (size_t size : {size_t{0}, size_t{1}, size_t{127}, size_t{128},
                      size_t{300}, size_t{16384}, pattern.size()}) {
    const std::string data = pattern.substr(0, size);
    for (int kind = 0; kind < 3; ++kind) {
      auto chunk = [&] {
        switch (kind) {
          case 0:
            return table::OutputChunk::Copy(data);
          case 1:
            return table::OutputChunk(data);
          default: {
            char* block = static_cast<char*>(std::malloc(size + 1));
            std::memcpy(block, data.data(), size);
            return table::OutputChunk::Adopt(block, size);
          }
        }
      };
      SCOPED_TRACE(testing::Message() << "size " << size << ", kind " << kind);
      v1::SpawnResponse spawn;
      spawn.set_stdout(data);
      grpc::ByteBuffer frame =
          BytesFieldFrame(v1::SpawnResponse::kStdoutFieldNumber, chunk());
      EXPECT_EQ(frame.Length(), spawn.ByteSizeLong());
      EXPECT_TRUE(Bytes(frame) == spawn.SerializeAsString());

      v1::ForkResponse fork;
      fork.set_stderr(data);
      frame = BytesFieldFrame(v1::ForkResponse::kStderrFieldNumber, chunk());
      EXPECT_TRUE(Bytes(frame) == fork.SerializeAsString());

      v1::AttachResponse attach;
      attach.set_stdout(data);
      frame = BytesFieldFrame(v1::AttachResponse::kStdoutFieldNumber, chunk());
      EXPECT_TRUE(Bytes(frame) == attach.SerializeAsString());
      v1::AttachResponse parsed;
      ASSERT_TRUE(parsed.ParseFromString(Bytes(frame)));
      EXPECT_TRUE(parsed.has_stdout());
      EXPECT_EQ(parsed.stdout().size(), size);
    }
  }
}

}  // namespace
}  // namespace rexec::rpc
