// The main of every test binary: starts the launcher while the process has
// one thread (children are created through it, as in rexecd), then runs
// the tests.
#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/process/launcher.h"

int main(int argc, char** argv) {
  if (absl::Status started = rexec::process::Launcher::Start(); !started.ok()) {
    std::fprintf(stderr, "%s\n", std::string(started.message()).c_str());
    return 1;
  }
  testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
