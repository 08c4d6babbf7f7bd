// Defaults of the Exec RPC that both ends must agree on.
#ifndef REXEC_COMMON_EXEC_DEFAULTS_H_
#define REXEC_COMMON_EXEC_DEFAULTS_H_

#include <cstdint>

namespace rexec {

// The max_buffer (bytes per stream) of an Exec that asks for none: Node's.
inline constexpr uint64_t kDefaultExecMaxBuffer = 1 << 20;

}  // namespace rexec

#endif  // REXEC_COMMON_EXEC_DEFAULTS_H_
