#include "server/process/resource_usage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "server/process/launcher.h"
#include "server/process/unique_fd.h"

namespace rexec::process {
namespace {

absl::Duration FromTimeval(const timeval& tv) {
  return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
}

// The launcher's peak resident set (VmHWM), in bytes, or 0, read from
// /proc. A child's rusage peak starts from it: until exec the child runs in
// the launcher's memory (shared, or a copy), and exec carries that peak
// over.
int64_t ReadLauncherPeakRss() {
  const Launcher* launcher = Launcher::Global();
  if (launcher == nullptr) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", launcher->pid());
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.Valid()) return 0;
  char text[4096];
  const ssize_t n = read(fd.Get(), text, sizeof text - 1);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* line = strstr(text, "VmHWM:");
  return line == nullptr ? 0 : int64_t{atoll(line + 6)} * 1024;
}

// How far the kernel's two readings of one address space's peak may be
// apart. The child shares the launcher's memory until exec (CLONE_VM), so
// its rusage peak is the launcher's peak as exec read it; the kernel keeps
// resident pages in per-CPU counters (anon, file, shmem) and reads them
// approximately there, each off by up to its batch (max(32, 2 x CPUs)
// pages) on every CPU: on a loaded machine a `true` came out above the
// VmHWM read after it. Capped: past that a big machine would hide small
// children's own peaks (and one may then show the launcher's).
int64_t RssCounterSlack() {
  static const int64_t slack = [] {
    const int64_t cpus = std::max(1L, sysconf(_SC_NPROCESSORS_CONF));
    const int64_t batch = std::max<int64_t>(32, 2 * cpus);
    return std::min<int64_t>(3 * batch * cpus * sysconf(_SC_PAGESIZE),
                             16 << 20);
  }();
  return slack;
}

// Whether a child's rusage peak may be only the launcher's. The peak only
// grows, so a value at or below one read before is the launcher's for
// sure; /proc (about 10 us on a completion-queue thread) is read again only
// for a value above it, which is the usual child's at most once.
bool AtMostLauncherPeak(int64_t rss) {
  static std::atomic<int64_t> known_peak{0};
  if (rss <= known_peak.load(std::memory_order_relaxed)) return true;
  const int64_t peak = ReadLauncherPeakRss() + RssCounterSlack();
  int64_t seen = known_peak.load(std::memory_order_relaxed);
  while (peak > seen && !known_peak.compare_exchange_weak(seen, peak)) {
  }
  return rss <= peak;
}

}  // namespace

ResourceUsage ResourceUsageOf(const struct rusage& usage) {
  ResourceUsage used;
  used.user_cpu = FromTimeval(usage.ru_utime);
  used.system_cpu = FromTimeval(usage.ru_stime);
  used.max_rss_bytes = int64_t{usage.ru_maxrss} * 1024;
  // A peak no higher than the launcher's may be the launcher's: not known
  // (0). Above it, it is the program's own.
  if (AtMostLauncherPeak(used.max_rss_bytes)) used.max_rss_bytes = 0;
  return used;
}

}  // namespace rexec::process
