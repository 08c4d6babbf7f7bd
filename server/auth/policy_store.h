// PolicyStore holds the policy in force (--policy FILE) and replaces it on
// Reload(): a file that does not load is refused with a log line naming the
// file, line and field, and the policy in force stays. A call takes the
// policy once, when it starts, and keeps that rule to its end.
//
// Thread-safe.
#ifndef REXEC_SERVER_AUTH_POLICY_STORE_H_
#define REXEC_SERVER_AUTH_POLICY_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/policy.h"

namespace rexec::auth {

class PolicyStore {
 public:
  // Loads `path` (errors as Policy::Load).
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(std::string path);

  std::shared_ptr<const Policy> Current() const;
  const std::string& path() const { return path_; }

  // Loads the file again: true when a new policy is in force, false when
  // the file is unchanged; the load error, with the old policy still in
  // force, otherwise.
  absl::StatusOr<bool> Reload();

 private:
  PolicyStore(std::string path, std::string text,
              std::shared_ptr<const Policy> policy);

  const std::string path_;
  mutable absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_POLICY_STORE_H_
