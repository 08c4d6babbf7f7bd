#include "tests/e2e/cgroup_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace rexec::testing {

CgroupDir MakeCgroupDir() {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line, mount_point;
  while (std::getline(mounts, line)) {
    // "... MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> after = absl::StrSplit(line.substr(dash + 3), ' ');
    std::vector<std::string> before = absl::StrSplit(line.substr(0, dash), ' ');
    if (!after.empty() && after[0] == "cgroup2" && before.size() > 4) {
      mount_point = before[4];
      break;
    }
  }
  if (mount_point.empty()) return {"", "no cgroup v2 hierarchy is mounted"};
  const std::string dir = absl::StrCat(
      mount_point, "/rexec-test-", getpid(), "-",
      ::testing::UnitTest::GetInstance()->random_seed(), "-", rand());
  if (mkdir(dir.c_str(), 0755) != 0) {
    return {"", absl::StrCat("cannot make a cgroup in ", mount_point, ": ",
                             strerror(errno))};
  }
  return {dir, ""};
}

void RemoveCgroupDir(const std::string& dir) {
  std::string command = "find '" + dir + "' -depth -type d -exec rmdir {} +";
  EXPECT_EQ(system(command.c_str()), 0) << "cgroups left in " << dir;
}

}  // namespace rexec::testing
