#include "server/rpc/table_events.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rpc/table_messages.h"
#include "spdlog/spdlog.h"

namespace rexec::rpc {

void TableEvents::ChildSpawned(pid_t pid, const std::vector<std::string>& argv,
                               absl::Duration latency) {
  metrics_->ChildSpawned(latency);
  if (!spdlog::should_log(spdlog::level::debug)) return;
  spdlog::debug("start pid={} argv=[{}]", pid,
                absl::StrJoin(argv, " ", [](std::string* out,
                                            const std::string& arg) {
                  absl::StrAppend(out, "\"", absl::CHexEscape(arg), "\"");
                }));
}

void TableEvents::ChildExited(pid_t pid, const table::ExitReport& exit) {
  metrics_->ChildExited(ToProto(exit.reason));
  spdlog::debug("exit pid={} {} reason={} wall={}", pid,
                exit.status.ToString(), table::ReasonName(exit.reason),
                absl::FormatDuration(exit.wall_time));
}

void TableEvents::Transferred(Bytes stream, uint64_t n) {
  metrics_->Transferred(stream, n);
}

void TableEvents::Trouble(pid_t pid, absl::string_view what) {
  spdlog::warn("pid {}: {}", pid, std::string(what));
}

}  // namespace rexec::rpc
