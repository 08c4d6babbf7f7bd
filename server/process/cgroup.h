// Cgroups v2 for children: CgroupRoot is the delegated directory rexecd is
// given (--cgroup-root: what a container or a systemd unit with Delegate=
// gets); Cgroup is the directory of one child, made under it before the
// child starts (clone3 CLONE_INTO_CGROUP puts it there from its first
// instruction), holding every descendant however it detaches (setsid,
// setpgid, double fork), and removed once empty.
//
// Layout: ROOT/rexecd-PID holds rexecd and its launcher when they started
// inside ROOT (a cgroup with controllers for its children may hold no
// process itself); ROOT/children/<group>/<child> for each child, where
// <group> names the caller's identity. With the pids controller, pids.max
// of ROOT/children (--max-processes) and of each group (the rule's
// max_processes) count every process, descendants included.
//
// CgroupRoot is thread-safe; a Cgroup is owned by one thread.
#ifndef REXEC_SERVER_PROCESS_CGROUP_H_
#define REXEC_SERVER_PROCESS_CGROUP_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

// Limits written to a cgroup's memory.max, pids.max and cpu.max.
struct CgroupLimits {
  std::optional<uint64_t> memory_max_bytes;
  std::optional<uint64_t> pids_max;
  std::optional<uint32_t> cpu_millis;  // 1000: one core
  bool empty() const { return !memory_max_bytes && !pids_max && !cpu_millis; }
};

class Cgroup;

class CgroupRoot {
 public:
  // Checks that `dir` is a writable cgroup v2 directory, moves `own_pids`
  // (rexecd, before it forks: what it forks follows) out of it if they are
  // in it, and enables for children the controllers among memory, pids and
  // cpu that it has. What a run before this one left in it (a rexecd that
  // was killed, or died, with children running) is killed with cgroup.kill
  // and its directories removed: no child outlives its rexecd here, and
  // this run's names are free. Errors name `dir` and what is wrong with it.
  static absl::StatusOr<std::unique_ptr<CgroupRoot>> Open(
      const std::string& dir, const std::vector<pid_t>& own_pids,
      uint64_t max_processes);

  // ROOT/children.
  const std::string& path() const { return path_; }
  // The children's cgroups a run before this one left, found by Open():
  // each was killed, and removed once empty.
  int leftovers() const { return leftovers_; }
  // "memory", "pids", "cpu": whether children's cgroups can set it.
  bool HasController(const std::string& name) const;
  // The controllers children's cgroups can set, e.g. "memory pids".
  std::string Controllers() const;

  // A cgroup for one child, in `group`'s (an identity; made on first use,
  // with `group_pids_max` as its pids.max when the controller is there).
  // FAILED_PRECONDITION when a limit needs a controller this root lacks.
  absl::StatusOr<Cgroup> Create(const std::string& group,
                                std::optional<uint64_t> group_pids_max,
                                const CgroupLimits& limits);

 private:
  friend class Cgroup;
  CgroupRoot(std::string path, std::vector<std::string> controllers);
  // Called by a Cgroup that could not be removed yet (a process in it was
  // slow to die): tried again at later Creates.
  void Bury(std::string path);
  void RemoveBuried();

  const std::string path_;
  const std::vector<std::string> controllers_;
  int leftovers_ = 0;
  std::atomic<uint64_t> next_id_{0};
  absl::Mutex mu_;
  std::vector<std::string> buried_ ABSL_GUARDED_BY(mu_);
};

class Cgroup {
 public:
  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&&) = delete;
  // Kills what is left in it and removes it.
  ~Cgroup();

  // The directory, for CLONE_INTO_CGROUP: opened for the launch and closed
  // after it, so that a running child costs the server no fd for it.
  absl::StatusOr<UniqueFd> OpenDir() const;
  const std::string& path() const { return path_; }
  // SIGKILL to every process in it (cgroup.kill).
  absl::Status Kill() const;
  // Whether any process is in it (cgroup.events "populated").
  bool Populated() const;
  // memory.peak, when the memory controller is on.
  std::optional<int64_t> MemoryPeak() const;
  // How many processes the OOM killer killed in it (memory.events).
  int64_t OomKills() const;

 private:
  friend class CgroupRoot;
  Cgroup(CgroupRoot* root, std::string path);

  CgroupRoot* root_;
  std::string path_;
};

// The memory limit this process runs under: the least memory.max of its
// cgroup v2 (from /proc/self/cgroup, under the cgroup2 mount `mount`) and
// of that cgroup's ancestors; nullopt when none has one (no memory
// controller, no limit, or no cgroup v2).
std::optional<uint64_t> OwnMemoryLimit(
    const std::string& mount = "/sys/fs/cgroup");

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_CGROUP_H_
