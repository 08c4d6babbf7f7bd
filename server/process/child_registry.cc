#include "server/process/child_registry.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>

namespace rexec::process {

ChildRegistry& ChildRegistry::Global() {
  static auto* registry = new ChildRegistry;
  return *registry;
}

void ChildRegistry::BeginSpawn() {
  std::lock_guard lock(mu_);
  ++spawns_in_flight_;
  ++generation_;
  changed_.notify_all();
}

void ChildRegistry::EndSpawn(pid_t pid) {
  std::lock_guard lock(mu_);
  --spawns_in_flight_;
  if (pid > 0) owned_.insert(pid);
  ++generation_;
  changed_.notify_all();
}

void ChildRegistry::Reaped(pid_t pid) {
  std::lock_guard lock(mu_);
  owned_.erase(pid);
  ++generation_;
  changed_.notify_all();
}

bool ChildRegistry::WaitUntilOrphan(pid_t pid) {
  std::unique_lock lock(mu_);
  // A zombie that appeared while a spawn was in flight may be that spawn's
  // child, whose pid is not registered yet.
  if (!owned_.contains(pid) && spawns_in_flight_ == 0) return true;
  uint64_t seen = generation_;
  changed_.wait(lock, [&] { return generation_ != seen; });
  return false;
}

uint64_t ChildRegistry::Generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

void ChildRegistry::WaitForChange(uint64_t seen) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return generation_ != seen; });
}

namespace {

void ReapOrphansForever() {
  ChildRegistry& registry = ChildRegistry::Global();
  for (;;) {
    // WNOWAIT: look at a zombie without reaping it, since it may be a child
    // whose owner must reap it through its pidfd.
    uint64_t generation = registry.Generation();
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
      if (errno == ECHILD) registry.WaitForChange(generation);
      continue;
    }
    if (registry.WaitUntilOrphan(info.si_pid)) {
      waitpid(info.si_pid, nullptr, WNOHANG);
    }
  }
}

}  // namespace

void StartOrphanReaper() {
  static std::once_flag once;
  std::call_once(once, [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::thread(ReapOrphansForever).detach();
  });
}

}  // namespace rexec::process
