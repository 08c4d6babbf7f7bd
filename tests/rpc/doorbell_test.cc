// Doorbell: rings from other threads reach the completion queue as one tag
// with every bit rung since the last Take(); after Close() nothing more
// comes, except the one ring that was already on its way.
#include "server/rpc/doorbell.h"

#include <grpcpp/completion_queue.h>

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace rexec::rpc {
namespace {

void* const kTag = reinterpret_cast<void*>(0x5eed);

// The next tag within `ms`, or nullptr.
void* NextTag(grpc::CompletionQueue& cq, bool* ok, int ms = 2000) {
  void* tag = nullptr;
  const auto status = cq.AsyncNext(
      &tag, ok,
      std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  return status == grpc::CompletionQueue::GOT_EVENT ? tag : nullptr;
}

class DoorbellTest : public ::testing::Test {
 protected:
  ~DoorbellTest() override {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  grpc::CompletionQueue cq_;
};

TEST_F(DoorbellTest, RingsCoalesceIntoOneTagWithEveryBit) {
  Doorbell bell(&cq_, kTag);
  std::vector<std::thread> ringers;
  for (int i = 0; i < 8; ++i) {
    ringers.emplace_back([&bell, i] { bell.Ring(1u << i); });
  }
  for (std::thread& t : ringers) t.join();
  bool ok = false;
  ASSERT_EQ(NextTag(cq_, &ok), kTag);
  EXPECT_TRUE(ok);
  EXPECT_EQ(bell.Take(), 0xffu);
  // Nothing more was posted for the rings that found one on its way.
  EXPECT_EQ(NextTag(cq_, &ok, 100), nullptr);
  EXPECT_FALSE(bell.Close());
}

TEST_F(DoorbellTest, ARingAfterTakeComesBackAgain) {
  Doorbell bell(&cq_, kTag);
  bool ok;
  for (uint32_t bit : {1u, 4u, 2u}) {
    bell.Ring(bit);
    ASSERT_EQ(NextTag(cq_, &ok), kTag);
    EXPECT_EQ(bell.Take(), bit);
  }
  EXPECT_EQ(bell.Take(), 0u);
  EXPECT_FALSE(bell.Close());
}

TEST_F(DoorbellTest, CloseWithARingOnItsWaySaysSoAndItComesBackOnce) {
  Doorbell bell(&cq_, kTag);
  bell.Ring(1);
  EXPECT_TRUE(bell.Close());
  EXPECT_TRUE(bell.Close()) << "closing again says the same";
  bool ok;
  EXPECT_EQ(NextTag(cq_, &ok), kTag);
  bell.Take();
  bell.Ring(2);  // closed: posts nothing
  EXPECT_EQ(NextTag(cq_, &ok, 100), nullptr);
}

TEST_F(DoorbellTest, CloseWithNothingOnItsWayPostsNothing) {
  Doorbell bell(&cq_, kTag);
  EXPECT_FALSE(bell.Close());
  bell.Ring(1);
  bool ok;
  EXPECT_EQ(NextTag(cq_, &ok, 100), nullptr);
}

}  // namespace
}  // namespace rexec::rpc
