// PlanContainment and PlanCgroup alone: how a child is fenced in from what
// the call asked within its rule (or without a policy), with no server. The
// tests run as root (the suite's machine), so that switching users is
// possible and what decides is the rule.
#include "server/plan/containment_plan.h"

#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::plan {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const auth::Policy> MustParse(const std::string& json) {
  absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
      auth::Policy::Parse(json, "policy.json");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : nullptr;
}

const std::string kRule = R"({"rules": [{
    "name": "contained", "identities": ["a"], "rpcs": ["Spawn"],
    "users": ["nobody"], "default_user": "nobody",
    "limits": {"cpu_seconds": 10},
    "cgroup": {"pids_max": 50},
    "isolation": "PID_NAMESPACE"}]})";

TEST(ContainmentPlan, WithoutAPolicyNothingIsAddedUnlessAsked) {
  process::SpawnOptions spawn;
  ASSERT_TRUE(PlanContainment("anyone", nullptr, {}, &spawn).ok());
  EXPECT_FALSE(spawn.containment.credentials.has_value());
  EXPECT_FALSE(spawn.containment.no_new_privs);
  EXPECT_FALSE(spawn.containment.seccomp);
  EXPECT_FALSE(spawn.containment.pid_namespace);
  EXPECT_TRUE(spawn.containment.limits.empty());
  EXPECT_FALSE(spawn.base_env.has_value());
}

TEST(ContainmentPlan, AUserAskedForIsRunAsWithItsVariables) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  v1::ProcessOptions options;
  options.set_user("nobody");
  process::SpawnOptions spawn;
  ASSERT_TRUE(PlanContainment("anyone", nullptr, options, &spawn).ok());
  ASSERT_TRUE(spawn.containment.credentials.has_value());
  EXPECT_EQ(spawn.containment.credentials->uid, nobody->pw_uid);
  EXPECT_EQ(spawn.containment.credentials->gid, nobody->pw_gid);
  ASSERT_TRUE(spawn.base_env.has_value());
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : *spawn.base_env) {
      if (n == name) return v;
    }
    return std::string("(unset)");
  };
  EXPECT_EQ(value("USER"), "nobody");
  EXPECT_EQ(value("LOGNAME"), "nobody");
  EXPECT_EQ(value("HOME"), nobody->pw_dir);
}

TEST(ContainmentPlan, MalformedFieldsAreRefusedByName) {
  process::SpawnOptions spawn;
  v1::ProcessOptions options;
  options.set_user(std::string("bad\0name", 8));
  absl::Status status = PlanContainment("anyone", nullptr, options, &spawn);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("options.user"));
  options.Clear();
  for (int i = 0; i < 1000; ++i) options.add_groups("g");
  status = PlanContainment("anyone", nullptr, options, &spawn);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("options.groups has 1000 entries"));
  options.Clear();
  options.set_user("no-such-user-here");
  status = PlanContainment("anyone", nullptr, options, &spawn);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("options.user"));
}

TEST(ContainmentPlan, UnderARuleTheChildIsFencedInAndRunsAsItsUser) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  std::shared_ptr<const auth::Policy> policy = MustParse(kRule);
  ASSERT_NE(policy, nullptr);
  const auth::PolicyRule* rule = *policy->RuleFor("a");
  process::SpawnOptions spawn;
  ASSERT_TRUE(PlanContainment("a", rule, {}, &spawn).ok());
  EXPECT_TRUE(spawn.containment.no_new_privs);
  EXPECT_TRUE(spawn.containment.seccomp);
  EXPECT_TRUE(spawn.containment.pid_namespace);
  ASSERT_TRUE(spawn.containment.credentials.has_value());
  EXPECT_EQ(spawn.containment.credentials->uid, getpwnam("nobody")->pw_uid);
  // The rule's CPU limit, with a second between SIGXCPU and SIGKILL.
  ASSERT_EQ(spawn.containment.limits.size(), 1u);
  EXPECT_EQ(spawn.containment.limits[0].resource, RLIMIT_CPU);
  EXPECT_EQ(spawn.containment.limits[0].soft, 10u);
  EXPECT_EQ(spawn.containment.limits[0].hard, 11u);

  v1::ProcessOptions options;
  options.set_user("root");
  absl::Status refused = PlanContainment("a", rule, options, &spawn);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(), HasSubstr("does not allow running as user root"));
  options.Clear();
  options.mutable_limits()->set_cpu_seconds(11);
  refused = PlanContainment("a", rule, options, &spawn);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(), HasSubstr("limits.cpu_seconds of 11"));
}

TEST(ContainmentPlan, CgroupLimitsNeedACgroupRoot) {
  std::shared_ptr<const auth::Policy> policy = MustParse(kRule);
  ASSERT_NE(policy, nullptr);
  process::SpawnOptions spawn;
  absl::Status status = PlanCgroup(nullptr, "a", *policy->RuleFor("a"), &spawn);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("contained"));
  // No limits and no root: nothing to do.
  EXPECT_TRUE(PlanCgroup(nullptr, "anyone", nullptr, &spawn).ok());
}

}  // namespace
}  // namespace rexec::plan
