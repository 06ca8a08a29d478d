// The spec vector of spec/cooperation.md §7 (spec/vectors/report.json): a
// month's audit entries, the report computed from them, its signing input
// and its signature by the test federation's RS/node/1 key
// (core/directory/testing/test_federation.h). Deterministic.
#ifndef CBX_CORE_REPORT_TESTING_REPORT_VECTORS_H_
#define CBX_CORE_REPORT_TESTING_REPORT_VECTORS_H_

#include "nlohmann/json.hpp"

namespace cbx::report::testing {

nlohmann::json MakeReportVectors();

}  // namespace cbx::report::testing

#endif  // CBX_CORE_REPORT_TESTING_REPORT_VECTORS_H_
