// ResourceUsage is what a reaped child used: its CPU times and its peak
// resident set. ResourceUsageOf reads it from the rusage of the child's
// wait, leaving out a peak that may be only the launcher's. A plain value
// type; ResourceUsageOf may be called from any thread.
#ifndef REXEC_SERVER_PROCESS_RESOURCE_USAGE_H_
#define REXEC_SERVER_PROCESS_RESOURCE_USAGE_H_

#include <sys/resource.h>

#include <cstdint>

#include "absl/time/time.h"

namespace rexec::process {

struct ResourceUsage {
  absl::Duration user_cpu;
  absl::Duration system_cpu;
  int64_t max_rss_bytes = 0;
};

// max_rss_bytes is 0 (not known) when the rusage peak is no higher than
// the launcher's: until exec a child runs in the launcher's memory, and
// exec carries that peak over.
ResourceUsage ResourceUsageOf(const struct rusage& usage);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_RESOURCE_USAGE_H_
