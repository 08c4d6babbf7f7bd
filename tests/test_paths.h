// Where the binaries under test are: ctest sets REXEC_BIN_DIR to the build
// directory.
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

}  // namespace rexec::testing

#endif  // REXEC_TESTS_TEST_PATHS_H_
