#include "server/table/memory_budget.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rexec::table {

absl::StatusOr<MemoryBudget::Hold> MemoryBudget::Reserve(
    uint64_t bytes, absl::string_view what) {
  uint64_t now = used_.load(std::memory_order_relaxed);
  do {
    if (now > limit_ || bytes > limit_ - now) {
      return absl::ResourceExhaustedError(absl::StrCat(
          name_, " is spent: calls hold ", SizeText(now), " of ",
          SizeText(limit_), " (", flag_, "), and ", what, " would need ",
          SizeText(bytes),
          " more; retry when calls have ended, or on another server"));
    }
  } while (!used_.compare_exchange_weak(now, now + bytes,
                                        std::memory_order_relaxed));
  return Hold(this, bytes);
}

std::string SizeText(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024, kMiB = kKiB << 10, kGiB = kMiB << 10;
  auto unit = [bytes](uint64_t size, const char* name) {
    if (bytes % size == 0) return absl::StrCat(bytes / size, " ", name);
    return absl::StrFormat("%.1f %s", static_cast<double>(bytes) / size, name);
  };
  if (bytes >= kGiB) return unit(kGiB, "GiB");
  if (bytes >= kMiB) return unit(kMiB, "MiB");
  if (bytes >= kKiB) return unit(kKiB, "KiB");
  return absl::StrCat(bytes, " bytes");
}

}  // namespace rexec::table
