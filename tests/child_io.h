// RunChild feeds a Child its stdin and reads both of its pipes to EOF, then
// reaps it: what most tests of real processes need.
#ifndef REXEC_TESTS_CHILD_IO_H_
#define REXEC_TESTS_CHILD_IO_H_

#include <string>

#include "server/process/child.h"

namespace rexec::testing {

struct Result {
  std::string out;
  std::string err;
  process::ExitStatus status = process::ExitStatus::Exited(-1);
};

// Fails the test if the child makes no progress for 60 s.
Result RunChild(process::Child& child, const std::string& input = "");

}  // namespace rexec::testing

#endif  // REXEC_TESTS_CHILD_IO_H_
