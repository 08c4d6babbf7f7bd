#include "server/process/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/bounded_file.h"
#include "common/errno_status.h"
#include "common/status_macros.h"

namespace rexec::process {
namespace {

constexpr const char* kControllers[] = {"memory", "pids", "cpu"};
// cgroup files are small; cgroup.procs of a busy root is the largest.
constexpr size_t kMaxCgroupFile = 1 << 20;
// How long a dying cgroup's processes get to leave before its removal is
// put off (SIGKILLed processes leave in microseconds; one in an
// uninterruptible sleep may take longer).
constexpr int kRemoveTries = 100;
constexpr absl::Duration kRemovePause = absl::Milliseconds(1);

absl::Status WriteCgroupFile(const std::string& path, absl::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  const ssize_t n = write(fd, text.data(), text.size());
  const int error = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return ErrnoStatus(error, absl::StrCat("write \"", text, "\" to ", path));
  }
  return absl::OkStatus();
}

std::string ReadCgroupFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadBoundedFile(path, kMaxCgroupFile);
  return text.ok() ? *std::move(text) : std::string();
}

// "KEY VALUE" lines (cgroup.events, memory.events): VALUE of KEY, or -1.
int64_t KeyedValue(const std::string& text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t value;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &value)) return value;
  }
  return -1;
}

// A directory name for an identity: readable, and distinct for distinct
// identities (the hash), whatever bytes the identity holds.
std::string GroupDirName(const std::string& group) {
  std::string readable;
  for (char c : group.substr(0, 40)) {
    readable += absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                        c == '-' || c == '.' || c == '_'
                    ? c
                    : '_';
  }
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : group) hash = (hash ^ c) * 1099511628211ull;
  return absl::StrCat("id-", readable.empty() ? "anonymous" : readable, "-",
                      absl::Hex(hash & 0xffffffff, absl::kZeroPad8));
}

// rmdir of the subdirectories of `dir` named `prefix`*: only empty
// cgroups go.
void RemoveEmptyLeaves(const std::string& dir, absl::string_view prefix) {
  DIR* entries = opendir(dir.c_str());
  if (entries == nullptr) return;
  while (const dirent* entry = readdir(entries)) {
    if (entry->d_type == DT_DIR && absl::StartsWith(entry->d_name, prefix)) {
      rmdir(absl::StrCat(dir, "/", entry->d_name).c_str());
    }
  }
  closedir(entries);
}

// Every child's cgroup under `children` (ROOT/children/id-*/c*), with the
// identities' directories: what a run before this one left. Each leaf is
// killed (cgroup.kill: its processes, in whatever session or group, and
// those forking meanwhile) and removed once empty. One whose processes are
// too slow to die stays (Create passes over a name that exists). Returns
// how many leaves there were.
int SweepLeftovers(const std::string& children) {
  int found = 0;
  DIR* groups = opendir(children.c_str());
  if (groups == nullptr) return 0;
  while (const dirent* group = readdir(groups)) {
    if (group->d_type != DT_DIR || !absl::StartsWith(group->d_name, "id-")) {
      continue;
    }
    const std::string group_dir = absl::StrCat(children, "/", group->d_name);
    DIR* leaves = opendir(group_dir.c_str());
    if (leaves == nullptr) continue;
    while (const dirent* leaf = readdir(leaves)) {
      if (leaf->d_type != DT_DIR || leaf->d_name[0] != 'c') continue;
      const std::string dir = absl::StrCat(group_dir, "/", leaf->d_name);
      ++found;
      for (int i = 0; i < kRemoveTries; ++i) {
        if (KeyedValue(ReadCgroupFile(dir + "/cgroup.events"), "populated") <=
            0) {
          break;
        }
        WriteCgroupFile(dir + "/cgroup.kill", "1").IgnoreError();
        absl::SleepFor(kRemovePause);
      }
      rmdir(dir.c_str());
    }
    closedir(leaves);
    rmdir(group_dir.c_str());
  }
  closedir(groups);
  return found;
}

}  // namespace

CgroupRoot::CgroupRoot(std::string path, std::vector<std::string> controllers)
    : path_(std::move(path)), controllers_(std::move(controllers)) {}

// Enables `controllers` for the children of `dir`.
absl::Status EnableControllers(const std::string& dir,
                               const std::vector<std::string>& controllers) {
  for (const std::string& name : controllers) {
    REXEC_RETURN_IF_ERROR(WriteCgroupFile(dir + "/cgroup.subtree_control",
                                          absl::StrCat("+", name)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CgroupRoot>> CgroupRoot::Open(
    const std::string& dir, const std::vector<pid_t>& own_pids,
    uint64_t max_processes) {
  const std::string what = absl::StrCat("--cgroup-root ", dir);
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) return ErrnoStatus(errno, what);
  if (fs.f_type != CGROUP2_SUPER_MAGIC) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     " is not a cgroup v2 directory (the unified hierarchy, "
                     "mounted as cgroup2)"));
  }
  if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) {
    return ErrnoStatus(errno, absl::StrCat(what,
                                           ": cannot move processes "
                                           "into it (cgroup.procs)"));
  }
  // A cgroup that gives its children controllers may hold no process: we
  // move to a leaf of our own.
  const std::string procs = ReadCgroupFile(dir + "/cgroup.procs");
  std::vector<std::string> inside;
  for (absl::string_view line :
       absl::StrSplit(procs, '\n', absl::SkipEmpty())) {
    inside.emplace_back(line);
  }
  // A leaf of this run's own: one a cgroup.kill was written to stays
  // marked, and Linux kills what its processes clone into another cgroup
  // (every child of a launcher there, seen on 6.18). Empty leaves of runs
  // before are removed.
  RemoveEmptyLeaves(dir, "rexecd-");
  const std::string own_dir = absl::StrCat(dir, "/rexecd-", getpid());
  for (pid_t pid : own_pids) {
    const std::string text = absl::StrCat(pid);
    if (std::find(inside.begin(), inside.end(), text) == inside.end()) continue;
    if (mkdir(own_dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir ", own_dir));
    }
    if (absl::Status moved = WriteCgroupFile(own_dir + "/cgroup.procs", text);
        !moved.ok()) {
      return absl::Status(moved.code(),
                          absl::StrCat(what, ": ", moved.message()));
    }
  }
  std::vector<std::string> controllers;
  const std::vector<std::string> offered = absl::StrSplit(
      absl::StripAsciiWhitespace(ReadCgroupFile(dir + "/cgroup.controllers")),
      ' ', absl::SkipEmpty());
  for (const char* name : kControllers) {
    if (std::find(offered.begin(), offered.end(), name) == offered.end()) {
      continue;
    }
    absl::Status enabled = WriteCgroupFile(dir + "/cgroup.subtree_control",
                                           absl::StrCat("+", name));
    if (!enabled.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": cannot enable the ", name, " controller for children (",
          enabled.message(),
          "); a directory of rexecd's own, holding no other process, is "
          "what it needs"));
    }
    controllers.push_back(name);
  }
  const std::string children = dir + "/children";
  if (mkdir(children.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir ", children));
  }
  const int leftovers = SweepLeftovers(children);
  REXEC_RETURN_IF_ERROR(EnableControllers(children, controllers));
  if (std::find(controllers.begin(), controllers.end(), "pids") !=
      controllers.end()) {
    REXEC_RETURN_IF_ERROR(
        WriteCgroupFile(children + "/pids.max", absl::StrCat(max_processes)));
  }
  std::unique_ptr<CgroupRoot> root(
      new CgroupRoot(children, std::move(controllers)));
  root->leftovers_ = leftovers;
  return root;
}

bool CgroupRoot::HasController(const std::string& name) const {
  return std::find(controllers_.begin(), controllers_.end(), name) !=
         controllers_.end();
}

std::string CgroupRoot::Controllers() const {
  return controllers_.empty() ? "none" : absl::StrJoin(controllers_, " ");
}

absl::StatusOr<Cgroup> CgroupRoot::Create(
    const std::string& group, std::optional<uint64_t> group_pids_max,
    const CgroupLimits& limits) {
  struct Need {
    bool wanted;
    const char* controller;
    const char* field;
  };
  for (const Need& need :
       {Need{limits.memory_max_bytes.has_value(), "memory",
             "cgroup.memory_max_bytes"},
        Need{limits.pids_max.has_value(), "pids", "cgroup.pids_max"},
        Need{limits.cpu_millis.has_value(), "cpu", "cgroup.cpu_millis"}}) {
    if (need.wanted && !HasController(need.controller)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the rule sets ", need.field, ", and --cgroup-root ", path_,
          " has no ", need.controller,
          " controller for children (it has: ", Controllers(), ")"));
    }
  }
  RemoveBuried();
  const std::string group_dir = absl::StrCat(path_, "/", GroupDirName(group));
  std::string dir;
  // The group's directory may be removed by the last child of another
  // call between our two mkdirs: then make it again. A leaf of a run
  // before this one that could not be removed yet keeps its name: take
  // the next.
  for (int attempt = 0;; ++attempt) {
    dir = absl::StrCat(group_dir, "/c", next_id_++);
    if (mkdir(group_dir.c_str(), 0755) == 0) {
      // Should this fail, the child's limits below will say so.
      EnableControllers(group_dir, controllers_).IgnoreError();
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir ", group_dir));
    }
    if (mkdir(dir.c_str(), 0755) == 0) break;
    if ((errno != ENOENT && errno != EEXIST) || attempt == 2) {
      return ErrnoStatus(errno, absl::StrCat("mkdir ", dir));
    }
  }
  Cgroup cgroup(this, dir);
  std::vector<std::pair<std::string, std::string>> writes;
  if (group_pids_max && HasController("pids")) {
    writes.emplace_back(group_dir + "/pids.max", absl::StrCat(*group_pids_max));
  }
  if (limits.memory_max_bytes) {
    writes.emplace_back(dir + "/memory.max",
                        absl::StrCat(*limits.memory_max_bytes));
    // Without swap limited too, a process over memory.max swaps instead
    // of meeting the OOM killer.
    writes.emplace_back(dir + "/memory.swap.max", "0");
  }
  if (limits.pids_max) {
    writes.emplace_back(dir + "/pids.max", absl::StrCat(*limits.pids_max));
  }
  if (limits.cpu_millis) {
    constexpr uint64_t kPeriodMicros = 100'000;
    writes.emplace_back(dir + "/cpu.max",
                        absl::StrCat(*limits.cpu_millis * kPeriodMicros / 1000,
                                     " ", kPeriodMicros));
  }
  for (const auto& [file, text] : writes) {
    absl::Status written = WriteCgroupFile(file, text);
    // memory.swap.max is absent on a kernel without swap accounting.
    if (!written.ok() && !absl::EndsWith(file, "memory.swap.max")) {
      return written;  // ~Cgroup removes the directory
    }
  }
  return cgroup;
}

void CgroupRoot::Bury(std::string path) {
  absl::MutexLock lock(&mu_);
  buried_.push_back(std::move(path));
}

void CgroupRoot::RemoveBuried() {
  absl::MutexLock lock(&mu_);
  buried_.erase(std::remove_if(buried_.begin(), buried_.end(),
                               [](const std::string& path) {
                                 return rmdir(path.c_str()) == 0 ||
                                        errno == ENOENT;
                               }),
                buried_.end());
}

Cgroup::Cgroup(CgroupRoot* root, std::string path)
    : root_(root), path_(std::move(path)) {}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : root_(other.root_), path_(std::exchange(other.path_, std::string())) {}

Cgroup::~Cgroup() {
  if (path_.empty()) return;
  for (int i = 0; i < kRemoveTries && Populated(); ++i) {
    Kill().IgnoreError();
    absl::SleepFor(kRemovePause);
  }
  if (rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    root_->Bury(path_);
    return;
  }
  // The identity's directory goes with its last child (EBUSY otherwise).
  rmdir(path_.substr(0, path_.rfind('/')).c_str());
}

absl::StatusOr<UniqueFd> Cgroup::OpenDir() const {
  UniqueFd fd(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.Valid()) return ErrnoStatus(errno, absl::StrCat("open ", path_));
  return fd;
}

absl::Status Cgroup::Kill() const {
  return WriteCgroupFile(path_ + "/cgroup.kill", "1");
}

bool Cgroup::Populated() const {
  return KeyedValue(ReadCgroupFile(path_ + "/cgroup.events"), "populated") > 0;
}

std::optional<int64_t> Cgroup::MemoryPeak() const {
  int64_t peak;
  std::string text = std::string(
      absl::StripAsciiWhitespace(ReadCgroupFile(path_ + "/memory.peak")));
  if (!absl::SimpleAtoi(text, &peak)) return std::nullopt;
  return peak;
}

int64_t Cgroup::OomKills() const {
  return std::max<int64_t>(
      0, KeyedValue(ReadCgroupFile(path_ + "/memory.events"), "oom_kill"));
}

std::optional<uint64_t> OwnMemoryLimit(const std::string& mount) {
  // cgroup v2's line is "0::/PATH".
  std::string path;
  for (absl::string_view line :
       absl::StrSplit(ReadCgroupFile("/proc/self/cgroup"), '\n')) {
    if (absl::ConsumePrefix(&line, "0::")) path = std::string(line);
  }
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::optional<uint64_t> limit;
  // From the cgroup up to the mount's root, which has no memory.max.
  for (;;) {
    uint64_t value;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadCgroupFile(
                             absl::StrCat(mount, path, "/memory.max"))),
                         &value)) {
      limit = std::min(limit.value_or(value), value);
    }
    if (path == "/") break;
    const size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return limit;
}

}  // namespace rexec::process
