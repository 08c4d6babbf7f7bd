// The policy file: JSON and YAML, errors that point at a line, and what a
// rule allows.
#include "server/auth/policy.h"

#include <unistd.h>

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace rexec::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const Policy> MustParse(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Policy>> policy =
      Policy::Parse(text, "p.json");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : nullptr;
}

std::string ParseError(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const Policy>> policy =
      Policy::Parse(text, "p.json");
  EXPECT_FALSE(policy.ok()) << text;
  if (policy.ok()) return "";
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

constexpr char kEchoForAlice[] = R"({
  "rules": [
    {
      "name": "echo-only",
      "identities": ["alice", "spiffe://example.org/ci/*"],
      "rpcs": ["Spawn"],
      "programs": ["/usr/bin/echo"],
      "env": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
      "pass_env": ["REXEC_POLICY_TEST_*"],
      "client_env": ["GREETING", "LC_*"],
      "cwd_roots": ["/tmp/", "/var/tmp"],
      "max_timeout": "60s",
      "default_timeout": "10s",
      "max_kill_grace": "2s",
      "maxProcesses": 3
    }
  ]
})";

TEST(Policy, TheFirstRuleForAnIdentityDecides) {
  auto policy = MustParse(R"({"rules": [
      {"name": "one", "identities": ["a*"], "rpcs": ["Exec"]},
      {"name": "two", "identities": ["alice"], "rpcs": ["Spawn"]}]})");
  ASSERT_NE(policy, nullptr);
  absl::StatusOr<const PolicyRule*> rule = policy->RuleFor("alice");
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ((*rule)->name(), "one");
  EXPECT_TRUE((*rule)->CheckRpc("alice", Rpc::kExec).ok());
  absl::Status refused = (*rule)->CheckRpc("alice", Rpc::kSpawn);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(),
            "identity \"alice\": rule \"one\" does not allow Spawn calls "
            "(rpcs)");
  absl::StatusOr<const PolicyRule*> none = policy->RuleFor("bob");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(none.status().message(),
            "identity \"bob\": no rule of the policy is for it");
}

// As policy.proto documents: fnmatch without FNM_PATHNAME, so a program
// glob's `*` crosses `/`; a rule that means one directory says so with
// `?` and names, not `*`.
TEST(Policy, AProgramGlobsStarCrossesSlashes) {
  auto policy = MustParse(R"({"rules": [{"identities": ["a"],
      "rpcs": ["Spawn"], "programs": ["/opt/tools/*"]}]})");
  ASSERT_NE(policy, nullptr);
  const PolicyRule* rule = *policy->RuleFor("a");
  for (const char* path : {"/opt/tools/x", "/opt/tools/sub/dir/x"}) {
    EXPECT_TRUE(rule->CheckExecutable("a", Rpc::kSpawn, path, "x").ok())
        << path;
  }
  EXPECT_FALSE(
      rule->CheckExecutable("a", Rpc::kSpawn, "/opt/toolsx/y", "y").ok());
}

TEST(Policy, ARuleAllowsWhatItSaysAndNothingMore) {
  auto policy = MustParse(kEchoForAlice);
  ASSERT_NE(policy, nullptr);
  const PolicyRule* rule = *policy->RuleFor("spiffe://example.org/ci/job-7");
  EXPECT_EQ(rule->name(), "echo-only");
  const std::string who = "alice";
  EXPECT_EQ(*rule->CheckExecutable(who, Rpc::kSpawn, "/usr/bin/echo", "echo"),
            "");
  absl::Status cat =
      rule->CheckExecutable(who, Rpc::kSpawn, "/usr/bin/cat", "cat").status();
  // What the call asked for, not where it led.
  EXPECT_EQ(cat.message(),
            "identity \"alice\": rule \"echo-only\" does not allow cat "
            "(programs)");
  // No shells and no runtimes were named.
  EXPECT_FALSE(
      rule->CheckExecutable(who, Rpc::kExec, "/usr/bin/echo", "echo").ok());
  EXPECT_TRUE(rule->CheckClientEnv(who, "LC_ALL").ok());
  EXPECT_THAT(std::string(rule->CheckClientEnv(who, "LD_PRELOAD").message()),
              HasSubstr("does not allow setting LD_PRELOAD (client_env)"));
  EXPECT_TRUE(rule->CheckCwd(who, "/tmp", "/tmp").ok());
  EXPECT_TRUE(rule->CheckCwd(who, "/var/tmp/x/y", "/var/tmp/x/y").ok());
  EXPECT_FALSE(rule->CheckCwd(who, "/tmpfoo", "/tmpfoo").ok());
  EXPECT_THAT(std::string(rule->CheckCwd(who, "/etc", "/x/../etc").message()),
              HasSubstr("does not allow cwd /x/../etc (cwd_roots)"));
  EXPECT_EQ(rule->DefaultCwd(), "/tmp");
  EXPECT_EQ(*rule->Timeout(who, absl::ZeroDuration()), absl::Seconds(10));
  EXPECT_EQ(*rule->Timeout(who, absl::Seconds(60)), absl::Seconds(60));
  EXPECT_THAT(
      std::string(rule->Timeout(who, absl::Seconds(61)).status().message()),
      HasSubstr("does not allow a timeout of 1m1s (max_timeout)"));
  EXPECT_TRUE(rule->CheckKillGrace(who, absl::Seconds(2)).ok());
  EXPECT_FALSE(rule->CheckKillGrace(who, absl::Seconds(3)).ok());
  EXPECT_EQ(rule->max_processes(), 3u);
}

TEST(Policy, TheBaseEnvironmentIsTheRulesNotTheServers) {
  setenv("REXEC_POLICY_TEST_PASSED", "yes", 1);
  setenv("REXEC_POLICY_TEST_SECRET_NOT", "no", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "hunter2", 1);
  auto policy = MustParse(kEchoForAlice);
  ASSERT_NE(policy, nullptr);
  const PolicyRule* rule = *policy->RuleFor("alice");
  EXPECT_THAT(
      rule->Environment(),
      ::testing::UnorderedElementsAre(
          std::pair<std::string, std::string>("LANG", "C.UTF-8"),
          std::pair<std::string, std::string>("PATH", "/usr/bin:/bin")));
  EXPECT_THAT(
      rule->PassedEnvironment(environ),
      ::testing::UnorderedElementsAre(
               std::pair<std::string, std::string>("REXEC_POLICY_TEST_PASSED",
                                                   "yes"),
               std::pair<std::string, std::string>(
                   "REXEC_POLICY_TEST_SECRET_NOT", "no")));
}

TEST(Policy, RulePathsAreMadeCanonicalWhenLoaded) {
  // /bin is a symlink to /usr/bin on Debian 12: "/bin/echo" in a policy
  // means the file that runs, /usr/bin/echo.
  char resolved[PATH_MAX];
  ASSERT_NE(realpath("/bin/echo", resolved), nullptr);
  auto policy = MustParse(R"({"rules": [{"identities": ["a"],
      "rpcs": ["Spawn"], "programs": ["/bin/echo", "/bin/t*"]}]})");
  ASSERT_NE(policy, nullptr);
  const PolicyRule* rule = *policy->RuleFor("a");
  EXPECT_TRUE(rule->CheckExecutable("a", Rpc::kSpawn, resolved, "echo").ok());
  ASSERT_NE(realpath("/bin/true", resolved), nullptr);
  EXPECT_TRUE(rule->CheckExecutable("a", Rpc::kSpawn, resolved, "true").ok());
  EXPECT_EQ(rule->name(), "rules[0]");
}

TEST(Policy, AProgramAllowedByASymlinkRunsUnderThatName) {
  // /bin/rbash is bash, restricted because of its name: allowing it must
  // not allow bash by any other name.
  char bash[PATH_MAX];
  ASSERT_NE(realpath("/bin/rbash", bash), nullptr);
  ASSERT_STRNE(bash, "/bin/rbash");
  auto policy = MustParse(R"({"rules": [{"identities": ["a"],
      "rpcs": ["Exec"], "shells": ["/bin/rbash"]},
      {"identities": ["b"], "rpcs": ["Exec"],
       "shells": ["/bin/rbash", "/usr/bin/b*"]}]})");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(*(*policy->RuleFor("a"))
                 ->CheckExecutable("a", Rpc::kExec, bash, "/bin/bash"),
            "/bin/rbash");
  // Where bash itself is allowed, the call's name stands.
  EXPECT_EQ(*(*policy->RuleFor("b"))
                 ->CheckExecutable("b", Rpc::kExec, bash, "/bin/bash"),
            "");
}

TEST(Policy, YamlServesToo) {
  auto policy = MustParse(
      "rules:\n"
      "  - name: yaml\n"
      "    identities: [alice]\n"
      "    rpcs: [Exec]\n"
      "    shells:\n"
      "      - /bin/sh\n"
      "    max_processes: 2\n");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ((*policy->RuleFor("alice"))->max_processes(), 2u);
}

TEST(Policy, ErrorsNameTheFileLineColumnAndField) {
  EXPECT_EQ(ParseError("{\n  \"rules\": [\n    {\"identities\": [\"a\"]]\n}"),
            "p.json:3:25: illegal flow end");
  EXPECT_EQ(ParseError("{\"rules\": [{\n  \"identities\": [\"a\"],\n"
                       "  \"programz\": []}]}"),
            "p.json:3:3: rules[0]: unknown field \"programz\"");
  EXPECT_EQ(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n"
                       "  \"rpcs\": [\"Spawn\", \"spawn\"]}]}"),
            "p.json:2:21: rules[0].rpcs[1]: unknown RPC \"spawn\": expected "
            "Spawn, Exec, Fork, List, Attach or Kill");
  EXPECT_THAT(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n\n"
                         "  \"max_timeout\": \"10m\"}]}"),
              HasSubstr("p.json:3:18: rules[0].max_timeout: "));
  EXPECT_EQ(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n"
                       "  \"max_processes\": -1}]}"),
            "p.json:2:20: rules[0].max_processes: expected a whole number "
            "from 0 to 4294967295, got \"-1\"");
  EXPECT_EQ(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n"
                       "  \"programs\": [\"echo\"]}]}"),
            "p.json:2:16: rules[0].programs[0]: \"echo\" is not an absolute "
            "path or glob: a rule names the file that runs, after the PATH "
            "lookup");
  EXPECT_EQ(ParseError("{\"rules\": [{\"rpcs\": [\"Spawn\"]}]}"),
            "p.json:1:12: rules[0].identities: a rule needs at least one "
            "identity (a name or a glob)");
  EXPECT_EQ(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n"
                       " \"rpcs\": [\"Spawn\"], \"rpcs\": []}]}"),
            "p.json:2:21: rules[0]: field \"rpcs\" is given more than once");
  EXPECT_EQ(ParseError("{\"rules\": {}}"),
            "p.json:1:11: rules: expected a list");
  EXPECT_EQ(ParseError("[]"), "p.json:1:1: expected an object");
  EXPECT_THAT(ParseError("{\"rules\": [{\"identities\": [\"a\"],\n"
                         "  \"default_timeout\": \"20s\", \"max_timeout\": "
                         "\"10s\"}]}"),
              HasSubstr("rules[0].default_timeout: the default timeout is "
                        "over max_timeout"));
}

TEST(Policy, DeepOrHugeInputIsRefusedNotFollowed) {
  EXPECT_THAT(ParseError(std::string(100000, '[')), HasSubstr("p.json:"));
  EXPECT_THAT(ParseError("{\"rules\": [{\"identities\": " +
                         std::string(5000, '[') + "]}]}"),
              HasSubstr("p.json:"));
  absl::StatusOr<std::shared_ptr<const Policy>> huge =
      Policy::Parse(std::string(Policy::kMaxBytes + 1, ' '), "p.json");
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Policy, AnEmptyPolicyAllowsNobody) {
  auto policy = MustParse("{\"rules\": []}");
  ASSERT_NE(policy, nullptr);
  EXPECT_FALSE(policy->RuleFor("anyone").ok());
}

TEST(Policy, AnEmptyFileIsRefusedAsMostLikelyHalfWritten) {
  for (const char* text : {"", " \n\t\n"}) {
    EXPECT_EQ(ParseError(text),
              "p.json: the file is empty (a policy that allows nobody is "
              "{\"rules\": []})");
  }
}

}  // namespace
}  // namespace rexec::auth

namespace rexec::auth {
namespace {

TEST(PolicyContainment, UsersGroupsLimitsCapabilitiesAndIsolation) {
  auto policy = MustParse(R"({"rules": [{
      "name": "contained", "identities": ["a"], "rpcs": ["Spawn"],
      "users": ["build-*", "1001"], "default_user": "build-a",
      "groups": ["docker"],
      "limits": {"open_files": 64, "cpu_seconds": 10},
      "cgroup": {"memory_max_bytes": 1000000, "pids_max": 50, "cpu_millis": 500},
      "capabilities": ["CAP_NET_BIND_SERVICE", "cap_kill"],
      "isolation": "PID_NAMESPACE"}]})");
  ASSERT_NE(policy, nullptr);
  const PolicyRule& rule = **policy->RuleFor("a");
  EXPECT_EQ(rule.default_user(), "build-a");
  EXPECT_TRUE(rule.CheckUser("a", "build-x", "build-x", 2000).ok());
  // An id entry allows the user of that id whatever name the call used.
  EXPECT_TRUE(rule.CheckUser("a", "someone", "someone", 1001).ok());
  EXPECT_EQ(rule.CheckUser("a", "root", "root", 0).message(),
            "identity \"a\": rule \"contained\" does not allow running as "
            "user root (users)");
  EXPECT_TRUE(rule.CheckGroup("a", "docker", "docker", 999).ok());
  EXPECT_FALSE(rule.CheckGroup("a", "0", "root", 0).ok());

  v1::ResourceLimits asked;
  asked.set_open_files(32);
  absl::StatusOr<v1::ResourceLimits> limits = rule.Limits("a", asked);
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->open_files(), 32u);
  EXPECT_EQ(limits->cpu_seconds(), 10u) << "the rule's is the default";
  EXPECT_FALSE(limits->has_core_size_bytes()) << "the rule says nothing";
  asked.set_cpu_seconds(11);
  EXPECT_EQ(rule.Limits("a", asked).status().message(),
            "identity \"a\": rule \"contained\" does not allow "
            "limits.cpu_seconds of 11 (limits.cpu_seconds)");

  EXPECT_EQ(rule.cgroup_limits().pids_max(), 50u);
  EXPECT_EQ(rule.capabilities(), (uint64_t{1} << 10) | (uint64_t{1} << 5));
  EXPECT_EQ(rule.isolation(), v1::PolicyRule::PID_NAMESPACE);
}

TEST(PolicyContainment, BadFieldsAreNamed) {
  const std::string head =
      R"({"rules": [{"identities": ["a"], "rpcs": ["Spawn"], )";
  EXPECT_THAT(ParseError(head + R"("capabilities": ["CAP_FLY"]}]})"),
              HasSubstr("rules[0].capabilities[0]: \"CAP_FLY\" is not a "
                        "capability"));
  EXPECT_THAT(ParseError(head + R"("users": ["a"], "default_user": "b"}]})"),
              HasSubstr("rules[0].default_user: \"b\" is not one of the "
                        "rule's users"));
  EXPECT_THAT(ParseError(head + R"("cgroup": {"pids_max": 0}}]})"),
              HasSubstr("rules[0].cgroup.pids_max"));
  EXPECT_THAT(
      ParseError(head + R"("users": [""]}]})"),
      HasSubstr("rules[0].users[0]: a name, id or glob cannot be empty"));
  EXPECT_THAT(ParseError(head + R"("isolation": "CHROOT"}]})"),
              HasSubstr("isolation"));
}

TEST(PolicyContainment, AUmaskIsKeptWhateverTheCallAsks) {
  std::shared_ptr<const Policy> policy = MustParse(
      R"({"rules": [{"identities": ["a"], "umask": "022"},
                    {"identities": ["b"]}]})");
  const PolicyRule* a = *policy->RuleFor("a");
  EXPECT_EQ(a->Umask(std::nullopt), 022);
  EXPECT_EQ(a->Umask(0), 022);
  EXPECT_EQ(a->Umask(0700), 0722);
  const PolicyRule* b = *policy->RuleFor("b");
  EXPECT_EQ(b->Umask(std::nullopt), std::nullopt);
  EXPECT_EQ(b->Umask(0), 0);
  const std::string head = R"({"rules": [{"identities": ["a"], )";
  for (const char* bad :
       {"\"0o22\"", "\"1000\"", "\"-1\"", "\"99\"", "\"00777\""}) {
    EXPECT_THAT(ParseError(head + R"("umask": )" + bad + "}]}"),
                HasSubstr("rules[0].umask: "))
        << bad;
  }
}

TEST(PolicyContainment, YamlTakesEnumsAnd64BitNumbers) {
  absl::StatusOr<std::shared_ptr<const Policy>> policy = Policy::Parse(
      "rules:\n"
      "  - identities: [a]\n"
      "    isolation: PID_NAMESPACE\n"
      "    cgroup: {memory_max_bytes: 8589934592}\n",
      "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const PolicyRule& rule = **(*policy)->RuleFor("a");
  EXPECT_EQ(rule.isolation(), v1::PolicyRule::PID_NAMESPACE);
  EXPECT_EQ(rule.cgroup_limits().memory_max_bytes(), uint64_t{8} << 30);
  EXPECT_THAT(std::string(Policy::Parse("rules:\n  - identities: [a]\n"
                                        "    isolation: SOME\n",
                                        "p.yaml")
                              .status()
                              .message()),
              HasSubstr("\"SOME\" is not one of the values of Isolation"));
}

}  // namespace
}  // namespace rexec::auth

namespace rexec::auth {
namespace {

TEST(PolicyContainment, NumbersMatchIdsAndGlobsMatchNamesNeverCrossed) {
  auto policy = MustParse(R"({"rules": [
      {"name": "not-r", "identities": ["a"], "users": ["[!r]*", "1001"],
       "default_user": "nobody"},
      {"name": "any", "identities": ["b"], "users": ["*"],
       "default_user": "nobody"}]})");
  ASSERT_NE(policy, nullptr);
  const PolicyRule& rule = **policy->RuleFor("a");
  // "0" is root: the glob meant to keep root out must not let it in.
  EXPECT_FALSE(rule.CheckUser("a", "0", "root", 0).ok());
  EXPECT_TRUE(rule.CheckUser("a", "bob", "bob", 1002).ok());
  EXPECT_TRUE(rule.CheckUser("a", "1001", "", 1001).ok());
  // A glob does not match an id without a passwd entry.
  EXPECT_FALSE(
      policy->RuleFor("b").value()->CheckUser("b", "4242", "", 4242).ok());
  // A name nobody has is judged by what the call wrote, as a name.
  EXPECT_TRUE(rule.CheckUser("a", "ghost", "ghost", -1).ok());
}

// A rule that names users never runs a child as rexecd's own user (root)
// for want of a default_user: its first user is the default, and a glob
// there is refused at load, with the line.
TEST(PolicyContainment, UsersWithoutADefaultRunAsTheFirstOrAreRefused) {
  auto policy = MustParse(R"({"rules": [
      {"identities": ["a"], "users": ["alice", "b*"]}]})");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->RuleFor("a").value()->default_user(), "alice");
  EXPECT_TRUE(policy->RulesRunningAsRoot(true).empty());
  EXPECT_THAT(ParseError("rules:\n"
                         "  - identities: [a]\n"
                         "    rpcs: [Spawn]\n"
                         "    users: [\"build-*\", alice]\n"),
              AllOf(HasSubstr(":4:"),
                    HasSubstr("rules[0].users[0]: \"build-*\" is a glob, "
                              "and the rule has no default_user")));
}

TEST(PolicyContainment, RulesThatMayRunChildrenAsRootAreNamed) {
  auto policy = MustParse(R"({"rules": [
      {"name": "server-user", "identities": ["a"]},
      {"name": "alice", "identities": ["b"], "users": ["alice"],
       "default_user": "alice"},
      {"name": "root-allowed", "identities": ["c"], "users": ["alice", "r*"],
       "default_user": "alice"}]})");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->RulesRunningAsRoot(true),
            (std::vector<std::string>{"server-user", "root-allowed"}));
  EXPECT_EQ(policy->RulesRunningAsRoot(false),
            (std::vector<std::string>{"root-allowed"}));
}

}  // namespace
}  // namespace rexec::auth
