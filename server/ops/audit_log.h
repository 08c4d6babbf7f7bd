// The audit log: one record per call, written when the call ends, whether
// it ran a child or was refused. Each record says who (identity, peer),
// what (RPC, argv, cwd, the policy rule), what became of it (pid, exit,
// wall time, bytes in and out) and how the call ended (its status).
//
// Records are bounded whatever the call sent: each argument is cut at
// kMaxArgBytes and the record at kMaxRecordBytes (arguments past that are
// counted, not written), so a 4 MB argv cannot become a 16 MB log line.
//
// Thread-safe (spdlog's logger is).
#ifndef REXEC_SERVER_OPS_AUDIT_LOG_H_
#define REXEC_SERVER_OPS_AUDIT_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace rexec::ops {

inline constexpr size_t kMaxArgBytes = 256;
inline constexpr size_t kMaxRecordBytes = 4096;

struct AuditRecord {
  std::string identity;
  std::string peer;
  std::string rpc;  // "Spawn", "Exec", "Fork", "Attach", "List", "Kill"
  std::vector<std::string> argv;
  std::string cwd;
  std::string rule;  // the policy rule that allowed it, if any
  int pid = 0;       // 0: no child was started
  // The session's id, for a detached process (it may outlive the call:
  // then the record has no exit) or an Attach, List or Kill of one.
  std::string session;
  // The child's end, when it has one: a code or a signal name, and why it
  // ended ("EXITED", "TIMED_OUT", "CLIENT_GONE"...).
  std::optional<int> exit_code;
  std::string exit_signal;
  std::string reason;
  absl::Duration wall_time = absl::ZeroDuration();
  uint64_t bytes_in = 0;   // to the child: stdin and channel messages
  uint64_t bytes_out = 0;  // from the child: stdout, stderr, messages
  std::string status;      // "OK", "PERMISSION_DENIED"...
  std::string message;     // the status message, for an error
};

enum class LogFormat { kText, kJson };

// The record as one line (without the newline), at most kMaxRecordBytes.
std::string FormatAuditRecord(const AuditRecord& record, LogFormat format);

// Writes the record to the "audit" logger set up by SetUpLogging().
void WriteAuditRecord(const AuditRecord& record);

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_AUDIT_LOG_H_
