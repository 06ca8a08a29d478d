// Flat error propagation for absl::Status / absl::StatusOr call sites.
//
//   RETURN_IF_ERROR(DoThing());
//   ASSIGN_OR_RETURN(auto value, ComputeValue());
#ifndef CBX_CORE_UTIL_STATUS_MACROS_H_
#define CBX_CORE_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CBX_CONCAT_INNER_(a, b) a##b
#define CBX_CONCAT_(a, b) CBX_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status cbx_status_ = (expr);       \
    if (!cbx_status_.ok()) return cbx_status_; \
  } while (0)

#define CBX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  CBX_ASSIGN_OR_RETURN_IMPL_(CBX_CONCAT_(cbx_statusor_, __LINE__), lhs, expr)

#endif  // CBX_CORE_UTIL_STATUS_MACROS_H_
