// REXEC_RETURN_IF_ERROR and REXEC_ASSIGN_OR_RETURN with the semantics of later
// Abseil releases (20220623 has neither).
#ifndef REXEC_COMMON_STATUS_MACROS_H_
#define REXEC_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define REXEC_CONCAT_INNER_(a, b) a##b
#define REXEC_CONCAT_(a, b) REXEC_CONCAT_INNER_(a, b)

#define REXEC_RETURN_IF_ERROR(expr)                                 \
  do {                                                              \
    if (::absl::Status rexec_status_ = (expr); !rexec_status_.ok()) \
      return rexec_status_;                                         \
  } while (0)

#define REXEC_ASSIGN_OR_RETURN(lhs, expr)                                     \
  REXEC_ASSIGN_OR_RETURN_IMPL_(REXEC_CONCAT_(rexec_statusor_, __LINE__), lhs, \
                               expr)

#define REXEC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // REXEC_COMMON_STATUS_MACROS_H_
