// Node's IPC channel protocol: encoding, decoding, internal messages.
#include "common/node_channel.h"

#include <cmath>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace rexec::node_channel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

google::protobuf::Value Json(const std::string& text) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &value).ok())
      << text;
  return value;
}

std::vector<std::string> Decode(Decoder& decoder, absl::string_view bytes,
                                absl::Status* status) {
  std::vector<std::string> out;
  *status = decoder.Feed(bytes, [&](google::protobuf::Value v) {
    out.push_back(*Encode(v));
    return true;
  });
  return out;
}

TEST(EncodeTest, OneLineOfJsonWithSortedKeys) {
  EXPECT_EQ(*Encode(Json(R"({"zeta":1,"alpha":"ü\n\"x","mid":null})")),
            "{\"alpha\":\"ü\\n\\\"x\",\"mid\":null,\"zeta\":1}\n");
  EXPECT_EQ(*Encode(Json(R"([1.5,true,"s",[],{}])")),
            "[1.5,true,\"s\",[],{}]\n");
}

TEST(EncodeTest, NonFiniteNumbersBecomeNullAsInJsonStringify) {
  google::protobuf::Value value = Json(R"({"a":[1,2],"b":3})");
  (*value.mutable_struct_value()->mutable_fields())["a"]
      .mutable_list_value()
      ->mutable_values(1)
      ->set_number_value(NAN);
  (*value.mutable_struct_value()->mutable_fields())["b"].set_number_value(
      -INFINITY);
  EXPECT_EQ(*Encode(value), "{\"a\":[1,null],\"b\":null}\n");
}

TEST(EncodeTest, RefusesAValueWithNoKind) {
  absl::Status empty = Encode(google::protobuf::Value()).status();
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.message()), HasSubstr("no kind set"));
}

TEST(DecoderTest, SplitsLinesAcrossChunks) {
  Decoder decoder;
  absl::Status status;
  EXPECT_THAT(Decode(decoder, "{\"a\":[1,", &status), ElementsAre());
  EXPECT_THAT(Decode(decoder, "2]}\n\"\\ud83d\\ude00\"\n7", &status),
              ElementsAre("{\"a\":[1,2]}\n", "\"😀\"\n"));
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(decoder.Finish().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Decode(decoder, "\n", &status), ElementsAre("7\n"));
  EXPECT_TRUE(decoder.Finish().ok());
}

TEST(DecoderTest, NamesTheOffsetOfALineThatIsNotJson) {
  Decoder decoder;
  absl::Status status;
  EXPECT_THAT(Decode(decoder, "1\n{oops\n2\n", &status), ElementsAre("1\n"));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("not JSON at byte offset 2 of the IPC channel: "
                        "\"{oops\""));
}

TEST(DecoderTest, RefusesAnOverlongLine) {
  Decoder decoder;
  absl::Status status;
  Decode(decoder, std::string(kMaxMessageBytes + 1, ' '), &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(DecoderTest, StopsWhenTheCallbackSaysSo) {
  Decoder decoder;
  int calls = 0;
  EXPECT_TRUE(decoder
                  .Feed("1\n2\n3\n",
                        [&](google::protobuf::Value) { return ++calls < 2; })
                  .ok());
  EXPECT_EQ(calls, 2);
}

TEST(InternalCommandTest, FollowsNodesRule) {
  EXPECT_EQ(InternalCommand(Json(R"({"cmd":"NODE_HANDLE","type":"x"})")),
            "NODE_HANDLE");
  EXPECT_EQ(InternalCommand(Json(R"({"cmd":"NODE_"})")), std::nullopt);
  EXPECT_EQ(InternalCommand(Json(R"({"cmd":"node_x"})")), std::nullopt);
  EXPECT_EQ(InternalCommand(Json(R"({"cmd":1})")), std::nullopt);
  EXPECT_EQ(InternalCommand(Json(R"("NODE_HANDLE")")), std::nullopt);
}

}  // namespace
}  // namespace rexec::node_channel
