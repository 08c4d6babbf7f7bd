// The launcher's wire form of a spawn: what goes in comes out, and bytes
// that are not a spec are refused rather than followed.
#include "server/process/launch_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::process {
namespace {

LaunchSpec Full() {
  LaunchSpec spec;
  spec.path = "/bin/echo";
  spec.argv = {"echo", "a b", ""};
  spec.envp = {"A=1", "EMPTY="};
  spec.cwd = "/tmp";
  spec.fd_targets = {0, 1, 2, 3};
  spec.controlling_tty = 1;
  spec.into_cgroup = true;
  spec.containment.credentials = Credentials{1001, 1002, {1002, 27}};
  spec.containment.limits = {{RLIMIT_NOFILE, 64, 64}, {RLIMIT_CPU, 1, 2}};
  spec.containment.no_new_privs = true;
  spec.containment.capabilities = uint64_t{1} << 10;
  spec.containment.pid_namespace = true;
  spec.new_session = true;
  spec.umask = 027;
  return spec;
}

TEST(LaunchSpec, RoundTripsEveryField) {
  const LaunchSpec in = Full();
  absl::StatusOr<LaunchSpec> out = DecodeLaunchSpec(EncodeLaunchSpec(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->path, in.path);
  EXPECT_EQ(out->argv, in.argv);
  EXPECT_EQ(out->envp, in.envp);
  EXPECT_EQ(out->cwd, in.cwd);
  EXPECT_EQ(out->fd_targets, in.fd_targets);
  EXPECT_EQ(out->controlling_tty, 1);
  EXPECT_TRUE(out->into_cgroup);
  const Containment& c = out->containment;
  ASSERT_TRUE(c.credentials.has_value());
  EXPECT_EQ(c.credentials->uid, 1001u);
  EXPECT_EQ(c.credentials->gid, 1002u);
  EXPECT_EQ(c.credentials->groups, (std::vector<gid_t>{1002, 27}));
  ASSERT_EQ(c.limits.size(), 2u);
  EXPECT_EQ(c.limits[1].resource, RLIMIT_CPU);
  EXPECT_EQ(c.limits[1].soft, 1u);
  EXPECT_EQ(c.limits[1].hard, 2u);
  EXPECT_TRUE(c.no_new_privs);
  EXPECT_EQ(c.capabilities, uint64_t{1} << 10);
  EXPECT_TRUE(c.pid_namespace);
  EXPECT_TRUE(out->new_session);
  EXPECT_EQ(out->umask, 027);

  absl::StatusOr<LaunchSpec> plain = DecodeLaunchSpec(EncodeLaunchSpec({}));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->containment.credentials.has_value());
  EXPECT_FALSE(plain->containment.capabilities.has_value());
  EXPECT_EQ(plain->controlling_tty, -1);
  EXPECT_FALSE(plain->new_session);
  EXPECT_FALSE(plain->umask.has_value());

  LaunchSpec wide = Full();
  wide.umask = 01000;  // not a umask: the launcher must not apply it
  EXPECT_EQ(DecodeLaunchSpec(EncodeLaunchSpec(wide)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LaunchSpec, AControllingTerminalMustBeOneOfTheTargets) {
  LaunchSpec spec = Full();
  spec.controlling_tty = 9;
  EXPECT_THAT(DecodeLaunchSpec(EncodeLaunchSpec(spec)).status().message(),
              ::testing::HasSubstr("controlling_tty"));
}

TEST(LaunchSpec, EveryTruncationAndAnyTrailingByteIsRefused) {
  const std::string bytes = EncodeLaunchSpec(Full());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeLaunchSpec(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeLaunchSpec(bytes + "x").ok());
}

TEST(LaunchSpec, CountsBeyondTheBytesAndNulsAreRefused) {
  // An argv count of 2^40 in 8 bytes: refused before any allocation.
  std::string bytes = EncodeLaunchSpec({});
  const uint64_t huge = uint64_t{1} << 40;
  bytes.replace(8, 8, reinterpret_cast<const char*>(&huge), 8);
  EXPECT_FALSE(DecodeLaunchSpec(bytes).ok());

  // One encoding per spec: a flag of 2, or a uid over 32 bits, is not one.
  std::string flag = EncodeLaunchSpec({});
  const uint64_t two = 2;
  flag.replace(40, 8, reinterpret_cast<const char*>(&two), 8);  // into_cgroup
  EXPECT_FALSE(DecodeLaunchSpec(flag).ok());
  LaunchSpec wide;
  wide.containment.credentials = Credentials{1, 1, {}};
  std::string uid = EncodeLaunchSpec(wide);
  const uint64_t huge_uid = uint64_t{1} << 32 | 1;
  uid.replace(56, 8, reinterpret_cast<const char*>(&huge_uid), 8);
  EXPECT_FALSE(DecodeLaunchSpec(uid).ok());
  ASSERT_TRUE(DecodeLaunchSpec(EncodeLaunchSpec(wide)).ok());

  LaunchSpec nul;
  nul.argv = {std::string("a\0b", 3)};
  EXPECT_FALSE(DecodeLaunchSpec(EncodeLaunchSpec(nul)).ok());
}

}  // namespace
}  // namespace rexec::process
