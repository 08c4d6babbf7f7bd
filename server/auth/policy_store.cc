#include "server/auth/policy_store.h"

#include "common/bounded_file.h"

namespace rexec::auth {

PolicyStore::PolicyStore(std::string path, std::string text,
                         std::shared_ptr<const Policy> policy)
    : path_(std::move(path)),
      text_(std::move(text)),
      policy_(std::move(policy)) {}

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(
    std::string path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, Policy::kMaxBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::shared_ptr<const Policy>> policy =
      Policy::Parse(*text, path);
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<PolicyStore>(
      new PolicyStore(std::move(path), *std::move(text), *std::move(policy)));
}

std::shared_ptr<const Policy> PolicyStore::Current() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

absl::StatusOr<bool> PolicyStore::Reload() {
  absl::StatusOr<std::string> text = ReadFinishedFile(path_, Policy::kMaxBytes);
  if (!text.ok()) return text.status();
  {
    absl::MutexLock lock(&mu_);
    if (*text == text_) return false;
  }
  absl::StatusOr<std::shared_ptr<const Policy>> policy =
      Policy::Parse(*text, path_);
  if (!policy.ok()) return policy.status();
  absl::MutexLock lock(&mu_);
  text_ = *std::move(text);
  policy_ = *std::move(policy);
  return true;
}

}  // namespace rexec::auth
