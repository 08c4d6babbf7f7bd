// What a call may run under a policy: the program by PATH lookup, by
// absolute path, through a symlink and through "..", the environment, the
// cwd and the timeouts; and that a refusal never says whether a file exists.
#include "server/plan/launch_plan.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::plan {
namespace {

using ::testing::HasSubstr;

class LaunchPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/rexec-plan-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // A symlink to echo and one named "echo" that is really cat.
    ASSERT_EQ(symlink("/bin/echo", (dir_ + "/my-echo").c_str()), 0);
    ASSERT_EQ(mkdir((dir_ + "/fake").c_str(), 0755), 0);
    ASSERT_EQ(symlink("/bin/cat", (dir_ + "/fake/echo").c_str()), 0);
    ASSERT_EQ(mkdir((dir_ + "/work").c_str(), 0755), 0);
    ASSERT_EQ(symlink("/etc", (dir_ + "/work/escape").c_str()), 0);
    absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
        auth::Policy::Parse(R"({"rules": [{
            "name": "echo-for-a",
            "identities": ["A"],
            "rpcs": ["Spawn"],
            "programs": ["/usr/bin/echo"],
            "env": {"PATH": "/usr/bin:/bin"},
            "client_env": ["PATH", "GREETING"],
            "cwd_roots": [")" + dir_ +
                                R"(/work"],
            "max_timeout": "30s",
            "max_kill_grace": "3s"}]})",
                            "policy.json");
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *policy;
  }
  void TearDown() override {
    std::string rm = "rm -rf " + dir_;
    ASSERT_EQ(system(rm.c_str()), 0);
  }

  absl::StatusOr<LaunchPlan> Plan(const std::string& identity,
                                  std::vector<std::string> argv,
                                  v1::ProcessOptions options = {}) {
    LaunchContext context;
    context.identity = identity;
    context.policy = policy_.get();
    return PlanLaunch(context, std::move(argv), options);
  }

  std::string dir_;
  std::shared_ptr<const auth::Policy> policy_;
};

TEST_F(LaunchPlanTest, EchoIsAllowedHoweverItIsNamed) {
  char echo[PATH_MAX];
  ASSERT_NE(realpath("/bin/echo", echo), nullptr);
  for (const std::string& program :
       {std::string("echo"), std::string("/bin/echo"),
        std::string("/usr/bin/echo"), std::string("/usr/bin/../bin/echo"),
        dir_ + "/my-echo"}) {
    absl::StatusOr<LaunchPlan> plan = Plan("A", {program, "hi"});
    ASSERT_TRUE(plan.ok()) << program << ": " << plan.status();
    // What runs is the file that was allowed, whatever the name said.
    EXPECT_EQ(plan->spawn.executable, echo) << program;
    EXPECT_EQ(plan->spawn.argv[0], program);
    EXPECT_EQ(plan->rule->name(), "echo-for-a");
  }
}

TEST_F(LaunchPlanTest, AnythingElseIsRefusedNamingTheIdentityAndField) {
  char cat[PATH_MAX];
  ASSERT_NE(realpath("/bin/cat", cat), nullptr);
  for (const std::string& program :
       {std::string("cat"), std::string("/usr/bin/../bin/cat"),
        dir_ + "/fake/echo", std::string("/bin/sh")}) {
    absl::StatusOr<LaunchPlan> plan = Plan("A", {program});
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied)
        << program;
    EXPECT_THAT(
        std::string(plan.status().message()),
        HasSubstr("identity \"A\": rule \"echo-for-a\" does not allow "))
        << program;
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr("(programs)"));
    // What was asked, never where it led nor the rule's own list.
    EXPECT_THAT(std::string(plan.status().message()),
                HasSubstr("does not allow " + program + " (programs)"));
    EXPECT_THAT(std::string(plan.status().message()),
                ::testing::Not(HasSubstr("/usr/bin/echo")));
  }
  // A client's PATH cannot smuggle another file in under the name "echo".
  v1::ProcessOptions options;
  (*options.mutable_env())["PATH"] = dir_ + "/fake";
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(plan.status().message()),
              ::testing::Not(HasSubstr(cat)));
}

TEST_F(LaunchPlanTest, RefusalsDoNotTellWhereSymlinksLead) {
  for (const std::string& program :
       {std::string("/proc/self/exe"), std::string("/proc/self/cwd"),
        std::string("/etc/./passwd"), std::string("/etc/./no-such")}) {
    absl::StatusOr<LaunchPlan> plan = Plan("A", {program});
    EXPECT_EQ(plan.status().message(),
              "identity \"A\": rule \"echo-for-a\" does not allow " + program +
                  " (programs)");
  }
  v1::ProcessOptions options;
  options.set_cwd("/proc/self/root/etc");
  EXPECT_EQ(Plan("A", {"echo"}, options).status().message(),
            "identity \"A\": rule \"echo-for-a\" does not allow cwd "
            "/proc/self/root/etc (cwd_roots)");
}

TEST_F(LaunchPlanTest, OtherIdentitiesHaveNoRule) {
  absl::StatusOr<LaunchPlan> plan = Plan("B", {"echo"});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(plan.status().message(),
            "identity \"B\": no rule of the policy is for it");
}

TEST_F(LaunchPlanTest, AMissingProgramIsOnlyNotFoundWhereItWouldBeAllowed) {
  // Allowed if it existed: the client may learn it does not.
  absl::StatusOr<LaunchPlan> allowed = Plan("A", {"/usr/bin/echo-not-here"});
  EXPECT_EQ(allowed.status().code(), absl::StatusCode::kPermissionDenied);
  // Not allowed: the same answer whether the file exists or not.
  absl::StatusOr<LaunchPlan> exists = Plan("A", {"/etc/passwd"});
  absl::StatusOr<LaunchPlan> missing = Plan("A", {"/etc/no-such-file"});
  EXPECT_EQ(exists.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<LaunchPlan> nosuch = Plan("A", {"no-such-program"});
  EXPECT_EQ(nosuch.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(LaunchPlanTest, TheEnvironmentIsTheRulesPlusAllowedClientNames) {
  setenv("REXEC_PLAN_TEST_SECRET", "hunter2", 1);
  v1::ProcessOptions options;
  (*options.mutable_env())["GREETING"] = "hello";
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::string> env = process::BuildEnvironment(plan->spawn);
  EXPECT_THAT(env, ::testing::UnorderedElementsAre("PATH=/usr/bin:/bin",
                                                   "GREETING=hello"));
  (*options.mutable_env())["LD_PRELOAD"] = "/tmp/evil.so";
  plan = Plan("A", {"echo"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("does not allow setting LD_PRELOAD (client_env)"));
}

// clear_env clears what the rule passes from rexecd's environment, never
// the rule's own variables: those only client_env lets a caller change.
TEST_F(LaunchPlanTest, ClearEnvKeepsTheRulesOwnEnvironment) {
  setenv("REXEC_PLAN_TEST_PASSED", "passed", 1);
  absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
      auth::Policy::Parse(R"({"rules": [{"identities": ["A"],
          "rpcs": ["Spawn"], "programs": ["/usr/bin/echo"],
          "env": {"PATH": "/usr/bin:/bin", "NODE_OPTIONS": "--max-old-space-size=64"},
          "pass_env": ["REXEC_PLAN_TEST_PASSED"],
          "client_env": ["GREETING"]}]})",
                          "policy.json");
  ASSERT_TRUE(policy.ok()) << policy.status();
  policy_ = *policy;
  v1::ProcessOptions options;
  options.set_clear_env(true);
  (*options.mutable_env())["GREETING"] = "hello";
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::UnorderedElementsAre(
                  "PATH=/usr/bin:/bin", "NODE_OPTIONS=--max-old-space-size=64",
                  "GREETING=hello"));
  options.set_clear_env(false);
  plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::Contains("REXEC_PLAN_TEST_PASSED=passed"));
  (*options.mutable_env())["NODE_OPTIONS"] = "";
  plan = Plan("A", {"echo"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(LaunchPlanTest, TheCallersEnvironmentIsFilteredByTheRuleNotRefused) {
  v1::ProcessOptions options;
  for (const auto& [name, value] :
       {std::pair{"GREETING", "from the caller"}, std::pair{"HOME", "/Users/x"},
        std::pair{"LD_PRELOAD", "/tmp/evil.so"}}) {
    v1::EnvVar* var = options.add_caller_env();
    var->set_name(name);
    var->set_value(value);
  }
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::UnorderedElementsAre("PATH=/usr/bin:/bin",
                                              "GREETING=from the caller"));
  // The call's own env still wins, and is still refused for what the rule
  // does not allow.
  (*options.mutable_env())["GREETING"] = "hello";
  plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::Contains("GREETING=hello"));
  v1::EnvVar* refused = options.add_env_bytes();
  refused->set_name("HOME");
  refused->set_value("/Users/x");
  EXPECT_EQ(Plan("A", {"echo"}, options).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(LaunchPlanTest, LookPathAnswersForTheRuleAsSpawnWould) {
  LaunchContext context;
  context.identity = "A";
  context.policy = policy_.get();
  // The rule's PATH, and the path as found, not as canonical.
  absl::StatusOr<FoundProgram> found = LookPath(context, "echo", {});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->path, "/usr/bin/echo");
  EXPECT_EQ(found->rule->name(), "echo-for-a");
  EXPECT_EQ(LookPath(context, "cat", {}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(LookPath(context, "no-such-program", {}).status().code(),
            absl::StatusCode::kPermissionDenied);
  context.identity = "B";
  EXPECT_EQ(LookPath(context, "echo", {}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(LaunchPlanTest, DotDotIsTakenAwayAsWrittenNotThroughTheFilesystem) {
  // Resolving ".." as rexecd would tell whether the directory it passes
  // through exists, whoever may search it: the answer is the same for a
  // directory that exists and one that does not.
  char work[PATH_MAX];
  ASSERT_NE(realpath((dir_ + "/work").c_str(), work), nullptr);
  for (const std::string& through :
       {dir_ + "/fake/echo", dir_ + "/no-such/dir"}) {
    const std::string up = through + "/../../../../../../../";
    absl::StatusOr<LaunchPlan> plan = Plan("A", {up + "usr/bin/echo"});
    ASSERT_TRUE(plan.ok()) << through << ": " << plan.status();
    EXPECT_EQ(plan->found, "/usr/bin/echo");
    v1::ProcessOptions options;
    options.set_cwd(through + "/../../work");
    plan = Plan("A", {"echo"}, options);
    ASSERT_TRUE(plan.ok()) << through << ": " << plan.status();
    EXPECT_EQ(plan->spawn.cwd, work);
    // Through the PATH the client may set.
    v1::ProcessOptions path;
    (*path.mutable_env())["PATH"] = up + "usr/bin";
    plan = Plan("A", {"echo"}, path);
    ASSERT_TRUE(plan.ok()) << through << ": " << plan.status();
    EXPECT_EQ(plan->found, "/usr/bin/echo");
    // And where the name as written is not allowed, the refusal is the
    // same whether what lies behind exists.
    plan = Plan("A", {through + "/../../../../../../../etc/passwd"});
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
  }
  // A name too long for any file is a malformed request, whatever exists.
  for (const std::string& parent : {dir_ + "/fake", dir_ + "/no-such-dir"}) {
    absl::StatusOr<LaunchPlan> plan =
        Plan("A", {parent + "/" + std::string(300, 'a')});
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(plan.status().message()),
                HasSubstr("argv[0] has a name of 300 bytes"));
  }
}

TEST_F(LaunchPlanTest, OnlyPortableNamesMatchClientEnvAndRefusalsAreEscaped) {
  v1::ProcessOptions options;
  v1::EnvVar* odd = options.add_env_bytes();
  odd->set_name("GREETING\n\x1b[31m");
  odd->set_value("x");
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("setting GREETING\\n\\x1b[31m (client_env)"));
  options.clear_env_bytes();
  v1::EnvVar* caller = options.add_caller_env();
  caller->set_name("GREETING\nLD_PRELOAD");
  caller->set_value("/tmp/evil.so");
  plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::ElementsAre("PATH=/usr/bin:/bin"));
}

TEST_F(LaunchPlanTest, TheCwdMustBeInsideARootAfterSymlinks) {
  v1::ProcessOptions options;
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok());
  char work[PATH_MAX];
  ASSERT_NE(realpath((dir_ + "/work").c_str(), work), nullptr);
  EXPECT_EQ(plan->spawn.cwd, work);  // the first root by default
  for (const std::string& cwd :
       {std::string("/etc"), dir_ + "/work/escape", dir_ + "/work/../fake",
        dir_ + "/work/../no-such-dir"}) {
    options.set_cwd(cwd);
    plan = Plan("A", {"echo"}, options);
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kPermissionDenied) << cwd;
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr("cwd_roots"));
  }
  options.set_cwd(dir_ + "/work/not-yet");
  plan = Plan("A", {"echo"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LaunchPlanTest, TimeoutsAndGraceAreBoundedByTheRuleAndServer) {
  v1::ProcessOptions options;
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo"}, options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->stop.timeout, absl::Seconds(30));    // max as the default
  EXPECT_EQ(plan->stop.kill_grace, absl::Seconds(3));  // bounded default
  options.mutable_timeout()->set_seconds(31);
  EXPECT_THAT(std::string(Plan("A", {"echo"}, options).status().message()),
              HasSubstr("(max_timeout)"));
  options.mutable_timeout()->set_seconds(5);
  options.mutable_kill_grace()->set_seconds(4);
  EXPECT_THAT(std::string(Plan("A", {"echo"}, options).status().message()),
              HasSubstr("(max_kill_grace)"));
}

TEST_F(LaunchPlanTest, Argv0IsRefusedUnderAPolicyButForTheRulesOwnName) {
  // bash run as "rbash", busybox as "sh": argv[0] chooses the program.
  absl::StatusOr<LaunchPlan> plan = Plan("A", {"echo", "hi"});
  ASSERT_TRUE(plan.ok()) << plan.status();
  absl::Status refused = UseArgv0("A", "sh", &*plan);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(),
              HasSubstr("identity \"A\": rule \"echo-for-a\" does not allow "
                        "argv0 \"sh\""));
  EXPECT_EQ(plan->spawn.argv[0], "echo");
  EXPECT_TRUE(UseArgv0("A", "echo", &*plan).ok());
}

TEST(LaunchPlan, Argv0IsWhatTheChildSeesOnceArgv0FoundTheFile) {
  LaunchContext context;
  absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {"sh", "-c", ""}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(UseArgv0("anonymous", "-not-sh", &*plan).ok());
  char sh[PATH_MAX];
  ASSERT_NE(realpath("/bin/sh", sh), nullptr);
  char found[PATH_MAX];
  ASSERT_NE(realpath(plan->spawn.executable.c_str(), found), nullptr);
  EXPECT_STREQ(found, sh);
  EXPECT_EQ(plan->spawn.argv[0], "-not-sh");

  plan = PlanLaunch(context, {"rexec-no-such-program"}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(UseArgv0("anonymous", "x", &*plan).code(),
            absl::StatusCode::kNotFound);
  plan = PlanLaunch(context, {"sh"}, {});
  EXPECT_EQ(UseArgv0("anonymous", std::string("a\0b", 3), &*plan).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LaunchPlan, WithoutAPolicyOnlyTheServersLimitsApply) {
  LaunchContext context;
  context.max_kill_grace = absl::Seconds(60);
  v1::ProcessOptions options;
  options.mutable_kill_grace()->set_seconds(100000);
  absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {"true"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            "options.kill_grace is 27h46m40s, over this server's limit of 1m "
            "(--max-kill-grace)");
  options.mutable_kill_grace()->set_seconds(60);
  plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->stop.kill_grace, absl::Seconds(60));
  EXPECT_FALSE(plan->spawn.base_env.has_value());  // rexecd's own
  options.mutable_timeout()->set_seconds(int64_t{1} << 50);
  EXPECT_EQ(PlanLaunch(context, {"true"}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LaunchPlan, UmaskNewSessionAndBytesEnvironmentReachTheSpawn) {
  LaunchContext context;
  v1::ProcessOptions options;
  options.set_umask(027);
  options.set_new_session(true);
  v1::EnvVar* var = options.add_env_bytes();
  var->set_name(std::string("N\xff", 2));
  var->set_value(std::string("v\xfe", 2));
  absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spawn.umask, 027);
  EXPECT_TRUE(plan->spawn.new_session);
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::Contains(std::string("N\xff=v\xfe", 5)));

  options.set_umask(01000);
  plan = PlanLaunch(context, {"true"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            "options.umask is 01000: a umask is 0 to 0777");
  options.clear_umask();
  var->set_name("A=B");
  plan = PlanLaunch(context, {"true"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("A=B"));
  options.clear_env_bytes();
  v1::EnvVar* caller = options.add_caller_env();
  caller->set_name(std::string("A\0B", 3));
  plan = PlanLaunch(context, {"true"}, options);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("options.caller_env[0] \"A\\x00\\x42\" is invalid"));
}

TEST(LaunchPlan, TheCallersEnvironmentGoesUnderTheCallsEnv) {
  LaunchContext context;
  v1::ProcessOptions options;
  options.set_clear_env(true);
  for (const auto& [name, value] :
       {std::pair{"A", "caller"}, std::pair{"B", "caller"}}) {
    v1::EnvVar* var = options.add_caller_env();
    var->set_name(name);
    var->set_value(value);
  }
  (*options.mutable_env())["B"] = "call";
  absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(process::BuildEnvironment(plan->spawn),
              ::testing::UnorderedElementsAre("A=caller", "B=call"));
}

TEST(LaunchPlan, LookPathFindsWhatSpawnWouldRunAndChecksANameWithASlash) {
  char dir[] = "/tmp/rexec-lookpath-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string bin = std::string(dir) + "/bin";
  ASSERT_EQ(mkdir(bin.c_str(), 0755), 0);
  for (const auto& [name, mode] :
       {std::pair{"/bin/tool", 0755}, std::pair{"/bin/data", 0644}}) {
    const std::string path = std::string(dir) + name;
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
  LaunchContext context;
  v1::ProcessOptions options;
  (*options.mutable_env())["PATH"] = "/nonexistent:" + bin;
  absl::StatusOr<FoundProgram> found = LookPath(context, "tool", options);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->path, bin + "/tool");
  EXPECT_EQ(found->rule, nullptr);
  EXPECT_EQ(LookPath(context, "data", options).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::Status missing = LookPath(context, "nosuch", options).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "LookPath nosuch: not found in PATH (ENOENT)");
  // A name with a slash is taken from the cwd, and must be a file that runs.
  options.set_cwd(dir);
  found = LookPath(context, "bin/tool", options);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->path, "bin/tool");
  EXPECT_EQ(LookPath(context, "bin/data", options).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(LookPath(context, "bin", options).status().code(),
            absl::StatusCode::kNotFound);  // no slash: a PATH lookup
  EXPECT_EQ(LookPath(context, "./bin", options).status().message(),
            "LookPath ./bin: is a directory (EISDIR)");
  EXPECT_EQ(LookPath(context, "./nosuch", options).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LookPath(context, "", options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // What a lookup does not depend on cannot fail it.
  options.set_user("no-such-user-here");
  EXPECT_TRUE(LookPath(context, "bin/tool", options).ok());
  ASSERT_EQ(system((std::string("rm -rf ") + dir).c_str()), 0);
}

TEST(LaunchPlan, TheRulesUmaskIsKeptWhateverTheCallAsks) {
  absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
      auth::Policy::Parse(R"({"rules": [{"identities": ["A"], "rpcs": ["Spawn"],
                                         "programs": ["/usr/bin/true"],
                                         "umask": "027"}]})",
                          "policy.json");
  ASSERT_TRUE(policy.ok()) << policy.status();
  LaunchContext context;
  context.identity = "A";
  context.policy = policy->get();
  v1::ProcessOptions options;
  absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spawn.umask, 027);
  options.set_umask(0);
  plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spawn.umask, 027);
  options.set_umask(0700);
  plan = PlanLaunch(context, {"true"}, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spawn.umask, 0727);
}

TEST(LaunchPlan, NamesNoFileCanHaveAreRefusedBeforeAnyLookup) {
  // Each PATH entry makes a candidate of cwd, entry and program: the
  // request's size, not a thousand times it, bounds what a lookup holds.
  LaunchContext context;
  v1::ProcessOptions options;
  (*options.mutable_env())["PATH"] = std::string(1023, ':');
  for (const auto& [argv0, why] :
       {std::pair{std::string(256, 'a'), "argv[0] has a name of 256 bytes"},
        std::pair{"/x/" + std::string(300, 'a'),
                  "argv[0] has a name of 300 bytes"},
        std::pair{std::string(5000, '/'), "argv[0] is 5000 bytes"}}) {
    absl::StatusOr<LaunchPlan> plan = PlanLaunch(context, {argv0}, options);
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr(why));
  }
  options.set_cwd("/" + std::string(4000, 'd'));
  EXPECT_THAT(
      std::string(PlanLaunch(context, {"true"}, options).status().message()),
      HasSubstr("cwd has a name of 4000 bytes"));
  // Candidates no file can have are left out, not made.
  process::SpawnOptions spawn;
  spawn.argv = {std::string(255, 'p')};
  spawn.cwd = "/" + std::string(250, 'd') + "/" + std::string(250, 'd') + "/" +
              std::string(250, 'd');
  spawn.env = {{"PATH", std::string(20, ':') + std::string(3500, 'e')}};
  absl::StatusOr<std::vector<std::string>> candidates =
      process::CandidateExecutables(spawn);
  ASSERT_TRUE(candidates.ok()) << candidates.status();
  EXPECT_EQ(candidates->size(), 20u);  // the 21st would be over PATH_MAX
}

TEST(LaunchPlan, ABadRequestIsInvalidBeforeThePolicyIsAsked) {
  LaunchContext context;
  absl::StatusOr<std::shared_ptr<const auth::Policy>> policy =
      auth::Policy::Parse("{}", "p");
  context.policy = policy->get();
  context.identity = "nobody";
  absl::StatusOr<LaunchPlan> plan =
      PlanLaunch(context, {"echo", std::string("a\0b", 3)}, {});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rexec::plan
