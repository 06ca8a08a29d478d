// The node's event log: one line per event on stderr, "key=value" fields.
//
// Rule (spec/lookup.md, "What a node may record"): no identifier value, no
// blinded or evaluated element and no OPRF output is ever passed to this log.
// Thread-safe.
#ifndef CBX_NODE_LOG_H_
#define CBX_NODE_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/util/clock.h"

namespace cbx::node {

using LogField = std::pair<std::string_view, std::string>;

// Writes "<UTC time> <member> <level> <event> k=v ..." to stderr, the time
// read from the log's clock (see SetLogClock).
void LogEvent(std::string_view member, std::string_view level,
              std::string_view event, std::initializer_list<LogField> fields);

// The clock LogEvent stamps lines with: the node's injected clock (Node
// sets it), SystemClock until then. `clock` must outlive every later
// LogEvent; nullptr restores SystemClock. Thread-safe.
void SetLogClock(const Clock* clock);

}  // namespace cbx::node

#endif  // CBX_NODE_LOG_H_
