// The process metrics every Prometheus client library exports
// (process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds), read from /proc when scraped, as the Go and
// Python clients read them: dashboards and alerts written for any
// Prometheus target work on rexecd. Thread-safe (it keeps nothing).
#ifndef REXEC_SERVER_OPS_PROCESS_METRICS_H_
#define REXEC_SERVER_OPS_PROCESS_METRICS_H_

#include <string>

namespace rexec::ops {

// Appends them; one that cannot be read is left out (on a system without
// /proc, say), not made up.
void RenderProcessMetrics(std::string* out);

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_PROCESS_METRICS_H_
