// What `--version` prints: the version CMake was given and, when the source
// was a git checkout at configure time, its commit.
#ifndef REXEC_COMMON_VERSION_H_
#define REXEC_COMMON_VERSION_H_

#include <string>

namespace rexec {

// "0.11.0".
const char* Version();
// "1a2b3c4d5e6f", or "" when not known.
const char* Commit();
// "rexecd 0.11.0 (commit 1a2b3c4d5e6f)", or without the commit.
std::string VersionLine(const std::string& program);

}  // namespace rexec

#endif  // REXEC_COMMON_VERSION_H_
