// OutputChunk holds a block of any of its three kinds, hands it on whole,
// and frees it exactly once (the sanitizer build finds a leak or a double
// free).
#include "server/table/output_chunk.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace rexec::table {
namespace {

using std::string_literals::operator""s;

char* Malloced(const std::string& data) {
  char* block = static_cast<char*>(std::malloc(data.size() + 16));
  std::memcpy(block, data.data(), data.size());
  return block;
}

TEST(OutputChunk, EachKindViewsItsBytes) {
  const std::string data = "out\0put"s;
  EXPECT_EQ(OutputChunk::Copy(data).view(), data);
  EXPECT_EQ(OutputChunk(data).view(), data);
  EXPECT_EQ(OutputChunk::Adopt(Malloced(data), data.size()).view(), data);
  EXPECT_TRUE(OutputChunk::Copy("").empty());
  EXPECT_TRUE(OutputChunk().empty());
}

TEST(OutputChunk, AStringsBytesAreTakenNotCopied) {
  std::string data(1 << 16, 'x');
  const char* bytes = data.data();
  OutputChunk chunk(std::move(data));
  EXPECT_EQ(chunk.view().data(), bytes);
  EXPECT_EQ(chunk.size(), size_t{1} << 16);
}

TEST(OutputChunk, AMoveHandsTheBlockOnAndLeavesTheSourceEmpty) {
  char* block = Malloced("abc");
  OutputChunk a = OutputChunk::Adopt(block, 3);
  OutputChunk b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): what we test
  EXPECT_EQ(b.view().data(), block);
  OutputChunk c = OutputChunk::Copy("other");
  c = std::move(b);  // frees "other"'s block
  EXPECT_EQ(c.view(), "abc");
}

TEST(OutputChunk, ReleaseGivesUpTheBlockForTheCallerToFree) {
  OutputChunk chunks[] = {OutputChunk::Copy("x"), OutputChunk("yz"s)};
  for (OutputChunk& chunk : chunks) {
    const std::string before(chunk.view());
    OutputChunk::Block block = std::move(chunk).Release();
    EXPECT_TRUE(chunk.empty());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(std::string(block.data, block.size), before);
    ASSERT_NE(block.free, nullptr);
    block.free(block.owner);
  }
}

}  // namespace
}  // namespace rexec::table
