#include "server/ops/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/bounded_file.h"
#include "server/ops/metrics.h"

namespace rexec::ops {
namespace {

// /proc/self/stat is one line of about 300 bytes; /proc/stat grows with
// the cores (a line each) and interrupts.
constexpr size_t kMaxStatBytes = 4096;
constexpr size_t kMaxSystemStatBytes = 1 << 20;

// The fields of /proc/self/stat after the command's name, which may hold
// spaces and parentheses: [0] is field 3 (state) of proc(5).
std::vector<absl::string_view> StatFields(const std::string& stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  return absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ',
                        absl::SkipEmpty());
}

bool Field(const std::vector<absl::string_view>& fields, int proc5_number,
           double* value) {
  const size_t index = proc5_number - 3;
  return index < fields.size() && absl::SimpleAtod(fields[index], value);
}

// The system's boot, in seconds since the epoch ("btime" of /proc/stat).
bool BootTime(double* seconds) {
  absl::StatusOr<std::string> stat =
      ReadBoundedFile("/proc/stat", kMaxSystemStatBytes);
  if (!stat.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      return absl::SimpleAtod(line, seconds);
    }
  }
  return false;
}

bool OpenFds(double* count) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  double n = 0;
  while (dirent* entry = readdir(dir)) {
    int fd = 0;
    // Not ".", "..", nor the fd this listing itself holds open.
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd != dirfd(dir)) ++n;
  }
  closedir(dir);
  *count = n;
  return true;
}

}  // namespace

void RenderProcessMetrics(std::string* out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  absl::StatusOr<std::string> stat =
      ReadBoundedFile("/proc/self/stat", kMaxStatBytes);
  const std::vector<absl::string_view> fields =
      stat.ok() ? StatFields(*stat) : std::vector<absl::string_view>();
  double start, vsize, rss, boot, fds;
  // In microseconds, where /proc/self/stat counts clock ticks.
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
    };
    RenderSample(out, "process_cpu_seconds_total",
                 "Total user and system CPU time spent in seconds.", "counter",
                 {}, seconds(usage.ru_utime) + seconds(usage.ru_stime));
  }
  if (Field(fields, 23, &vsize)) {
    RenderSample(out, "process_virtual_memory_bytes",
                 "Virtual memory size in bytes.", "gauge", {}, vsize);
  }
  if (Field(fields, 24, &rss)) {
    RenderSample(out, "process_resident_memory_bytes",
                 "Resident memory size in bytes.", "gauge", {},
                 rss * static_cast<double>(sysconf(_SC_PAGESIZE)));
  }
  if (Field(fields, 22, &start) && BootTime(&boot)) {
    RenderSample(out, "process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.",
                 "gauge", {}, boot + start / ticks);
  }
  if (OpenFds(&fds)) {
    RenderSample(out, "process_open_fds", "Number of open file descriptors.",
                 "gauge", {}, fds);
  }
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    RenderSample(out, "process_max_fds",
                 "Maximum number of open file descriptors.", "gauge", {},
                 files.rlim_cur == RLIM_INFINITY
                     ? -1
                     : static_cast<double>(files.rlim_cur));
  }
}

}  // namespace rexec::ops
