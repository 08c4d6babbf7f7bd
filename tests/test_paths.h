// Where the binaries under test are: ctest sets REXEC_BIN_DIR to the build
// directory, and REXEC_SOURCE_DIR to the source tree (for test scripts).
#ifndef REXEC_TESTS_TEST_PATHS_H_
#define REXEC_TESTS_TEST_PATHS_H_

#include <cstdlib>
#include <string>

namespace rexec::testing {

inline std::string BinDir() {
  const char* dir = std::getenv("REXEC_BIN_DIR");
  return dir != nullptr ? dir : ".";
}
inline std::string HelperPath() { return BinDir() + "/tests/child_helper"; }
inline std::string RexecdPath() { return BinDir() + "/server/rexecd"; }
inline std::string RexecPath() { return BinDir() + "/client/rexec"; }
// The Node and Python children of the Fork tests.
inline std::string ForkScriptsDir() {
  const char* dir = std::getenv("REXEC_SOURCE_DIR");
  return std::string(dir != nullptr ? dir : "..") + "/tests/e2e/fork";
}

}  // namespace rexec::testing

#endif  // REXEC_TESTS_TEST_PATHS_H_
