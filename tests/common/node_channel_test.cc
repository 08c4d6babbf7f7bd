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

TEST(DecoderTest, AnErrorQuotesLittleOfAHugeBadToken) {
  Decoder decoder;
  absl::Status status;
  Decode(decoder, "[" + std::string(1 << 20, '1') + "e99999]\n", &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_LT(status.message().size(), 512u);
}

TEST(DecoderTest, RefusesAnOverlongLine) {
  Decoder decoder;
  absl::Status status;
  Decode(decoder, std::string(kMaxMessageBytes + 1, ' '), &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(EncodeTest, NumbersAsJsonStringifyWritesThem) {
  EXPECT_EQ(*Encode(Json("[1.0,-0.0,0.5,1e21,-3,9007199254740993]")),
            "[1,0,0.5,1e+21,-3,9007199254740992]\n");
}

// A Value nested `depth` arrays deep around a 1.
std::string Nested(int depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

TEST(EncodeTest, RefusesAMessageNestedTooDeep) {
  EXPECT_TRUE(Encode(Json(Nested(kMaxDepth))).ok());
  google::protobuf::Value deep = Json(Nested(kMaxDepth));
  google::protobuf::Value wrapper;
  *wrapper.mutable_list_value()->add_values() = deep;
  absl::Status status = Encode(wrapper).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("deeper than 32"));
}

TEST(DecoderTest, RefusesDeepNestingWithoutParsingIt) {
  Decoder decoder;
  absl::Status status;
  EXPECT_THAT(Decode(decoder, Nested(kMaxDepth) + "\n", &status),
              ElementsAre(Nested(kMaxDepth) + "\n"));
  EXPECT_TRUE(status.ok());
  // The probe that once pinned a worker thread for minutes: 100,000 levels.
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  for (const std::string& line :
       {Nested(kMaxDepth + 1), std::string(100000, '['), objects}) {
    Decoder fresh;
    Decode(fresh, line + "\n", &status);
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("at byte offset 0 of the IPC channel is nested "
                          "deeper than 32 levels"));
  }
}

TEST(DecoderTest, ALineTricklingInByteByByteIsScannedOnce) {
  // Searching the whole line for a newline on each byte would take hours
  // for a line this long (the test's timeout fails it); once is instant.
  Decoder decoder;
  const std::string line =
      "\"" + std::string(kMaxMessageBytes - 3, 'x') + "\"\n";
  int messages = 0;
  for (char c : line) {
    ASSERT_TRUE(decoder
                    .Feed(absl::string_view(&c, 1),
                          [&](google::protobuf::Value v) {
                            ++messages;
                            return true;
                          })
                    .ok());
  }
  EXPECT_EQ(messages, 1);
}

TEST(DecoderTest, LinesLeftAfterAStopAreStillFound) {
  Decoder decoder;
  std::vector<double> seen;
  auto take = [&](google::protobuf::Value v) {
    seen.push_back(v.number_value());
    return seen.size() != 1;
  };
  EXPECT_TRUE(decoder.Feed("1\n2\n", take).ok());
  EXPECT_TRUE(decoder.Feed("3\n", take).ok());
  EXPECT_THAT(seen, ElementsAre(1, 2, 3));
}

TEST(DecoderTest, ABacklogTakenALineAtATimeIsOnePass) {
  // 2 MiB of "1\n" taken one message per Feed: dropping the decoded bytes
  // on each call would move a megabyte a million times.
  Decoder decoder;
  std::string lines;
  for (int i = 0; i < (1 << 20); ++i) lines += "1\n";
  int taken = 0;
  auto one = [&](google::protobuf::Value) {
    ++taken;
    return false;
  };
  ASSERT_TRUE(decoder.Feed(lines, one).ok());
  while (taken < (1 << 20)) {
    const int before = taken;
    ASSERT_TRUE(decoder.Feed("", one).ok());
    ASSERT_EQ(taken, before + 1);
  }
  EXPECT_TRUE(decoder.Finish().ok());
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
