// Requests parsed from raw frames: a frame that is not a valid request says
// why.
#include "server/rpc/wire_message.h"

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

}  // namespace
}  // namespace rexec::rpc
