// A fresh cgroup v2 directory for a test's --cgroup-root, and its removal.
#ifndef REXEC_TESTS_E2E_CGROUP_DIR_H_
#define REXEC_TESTS_E2E_CGROUP_DIR_H_

#include <string>

namespace rexec::testing {

// A fresh directory in this machine's cgroup v2 hierarchy, or why there is
// none.
struct CgroupDir {
  std::string path;
  std::string why_not;
};

CgroupDir MakeCgroupDir();

// Removes a cgroup tree, leaves first (a test failure if it cannot).
void RemoveCgroupDir(const std::string& dir);

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_CGROUP_DIR_H_
