// Reloading the policy: only a whole file is ever taken. A file caught
// half-written could hold a rule that allows more than the whole one
// would (a glob cut short, a default_user not yet written).
#include "server/auth/policy_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kNarrow[] =
    "rules:\n  - identities: [a]\n    rpcs: [Spawn]\n"
    "    programs: [/usr/bin/echo]\n";
// Its first half allows every program under /usr/bin.
constexpr char kHalf[] =
    "rules:\n  - identities: [a]\n    rpcs: [Spawn]\n"
    "    programs:\n      - /usr/bin/*";
constexpr char kRest[] = "-safe\n";

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/rexec-policy-store-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/policy.yaml";
    Write(path_, kNarrow);
    absl::StatusOr<std::unique_ptr<PolicyStore>> store =
        PolicyStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  static void Write(const std::string& path, const std::string& text) {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(text.c_str(), f);
    fclose(f);
  }
  bool Allows(const std::string& program) {
    absl::StatusOr<const PolicyRule*> rule = store_->Current()->RuleFor("a");
    return rule.ok() && (*rule)->MayAllowAnyOf(Rpc::kSpawn, {program});
  }

  std::string dir_, path_;
  std::unique_ptr<PolicyStore> store_;
};

TEST_F(PolicyStoreTest, AFileOpenForWritingIsNotTakenUntilItIsClosed) {
  ASSERT_FALSE(Allows("/usr/bin/rm"));
  const int fd = open(path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kHalf, sizeof kHalf - 1),
            static_cast<ssize_t>(sizeof kHalf - 1));
  // The half file parses, and would allow /usr/bin/rm.
  ASSERT_TRUE(Policy::Parse(kHalf, "half").ok());
  absl::StatusOr<bool> reload = store_->Reload();
  EXPECT_EQ(reload.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(reload.status().message()),
              HasSubstr("open for writing"));
  EXPECT_FALSE(Allows("/usr/bin/rm"));
  ASSERT_EQ(write(fd, kRest, sizeof kRest - 1),
            static_cast<ssize_t>(sizeof kRest - 1));
  close(fd);
  reload = store_->Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_TRUE(*reload);
  EXPECT_FALSE(Allows("/usr/bin/rm"));
  EXPECT_TRUE(Allows("/usr/bin/x-safe"));
}

TEST_F(PolicyStoreTest, AFileOfMoreThanOneDocumentIsRefused) {
  Write(path_, std::string(kNarrow) + "---\nrules: []\n");
  absl::StatusOr<bool> reload = store_->Reload();
  EXPECT_EQ(reload.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reload.status().message()),
              HasSubstr("holds more than one YAML document; a policy is "
                        "exactly one"));
  Write(path_, std::string(kNarrow) + "...\nrules: []\n");
  EXPECT_FALSE(store_->Reload().ok());
  EXPECT_TRUE(Allows("/usr/bin/echo"));
}

}  // namespace
}  // namespace rexec::auth
