// MemoryBudget: what waits, what is taken in any case, what is reserved
// whole or refused, and the sizes its refusals name.
#include "server/table/memory_budget.h"

#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::table {
namespace {

using ::testing::HasSubstr;

TEST(MemoryBudget, HasRoomUntilTheLimitAndTakenBytesMayPassIt) {
  MemoryBudget budget(100, "the budget", "--budget");
  EXPECT_TRUE(budget.HasRoom(100));
  budget.Take(60);
  EXPECT_TRUE(budget.HasRoom(40));
  EXPECT_FALSE(budget.HasRoom(41));
  budget.Take(60);  // in hand already: counted, over the limit
  EXPECT_EQ(budget.used(), 120u);
  EXPECT_FALSE(budget.HasRoom(0));
  budget.Give(120);
  EXPECT_TRUE(budget.HasRoom(100));
}

TEST(MemoryBudget, AReservationIsWholeOrRefusedAndGivenBackWhenItGoes) {
  MemoryBudget budget(3 << 20, "rexecd's memory budget", "--memory-budget");
  {
    absl::StatusOr<MemoryBudget::Hold> first = budget.Reserve(2 << 20, "a");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(budget.used(), 2u << 20);
    absl::StatusOr<MemoryBudget::Hold> second =
        budget.Reserve((1 << 20) + 1, "an Exec's output buffers");
    EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(second.status().message(),
                HasSubstr("rexecd's memory budget is spent: calls hold 2 MiB "
                          "of 3 MiB (--memory-budget), and an Exec's output "
                          "buffers would need 1.0 MiB more"));
    EXPECT_EQ(budget.used(), 2u << 20) << "a refusal takes nothing";
    // Moved, it is given back once, by its last owner.
    MemoryBudget::Hold moved = *std::move(first);
    MemoryBudget::Hold again = std::move(moved);
    EXPECT_EQ(again.bytes(), 2u << 20);
    EXPECT_EQ(budget.used(), 2u << 20);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, SizesAreSaidInTheirLargestWholeUnit) {
  EXPECT_EQ(SizeText(100), "100 bytes");
  EXPECT_EQ(SizeText(64 << 10), "64 KiB");
  EXPECT_EQ(SizeText(256 << 20), "256 MiB");
  EXPECT_EQ(SizeText((256 << 20) + (512 << 10)), "256.5 MiB");
  EXPECT_EQ(SizeText(uint64_t{3} << 30), "3 GiB");
}

}  // namespace
}  // namespace rexec::table
