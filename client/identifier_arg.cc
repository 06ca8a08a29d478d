#include "client/identifier_arg.h"

#include <vector>

#include "absl/status/status.h"
#include "client/names.h"
#include "client/strings.h"
#include "client/time_format.h"
#include "core/identifiers/identifiers.h"

namespace cbx::client {
namespace {

constexpr std::string_view kExample = "phone:+38970123456";
constexpr std::string_view kWindowExample =
    "phone@2025-01-01..2025-06-30:+38970123456";

absl::Status Error(std::string why) {
  return absl::InvalidArgumentError(std::move(why));
}

std::string TypeList() {
  std::vector<std::string_view> names;
  for (int t = v1::IdentifierType_MIN; t <= v1::IdentifierType_MAX; ++t) {
    std::string_view name =
        identifiers::TypeName(static_cast<v1::IdentifierType>(t));
    if (!name.empty()) names.push_back(name);
  }
  return Join(names, ", ");
}

// The trailing "@WINDOW" of a value, if it parses as a window: the form
// "TYPE:VALUE@WINDOW", which this syntax does not use.
bool EndsWithWindow(std::string_view value) {
  size_t at = value.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view tail = value.substr(at + 1);
  return tail.find("..") != std::string_view::npos && ParseWindow(tail).ok();
}

}  // namespace

absl::StatusOr<ObservedWindow> ParseWindow(std::string_view text) {
  ObservedWindow window;
  size_t dots = text.find("..");
  if (dots == std::string_view::npos) {
    // A single date: that whole day or month.
    auto from = ParseDate(text, DateBound::kStart);
    if (!from.ok()) {
      return Error("observed window " + std::string(from.status().message()));
    }
    window.from_ms = *from;
    window.to_ms = *ParseDate(text, DateBound::kEnd);
    return window;
  }
  std::string_view from_text = text.substr(0, dots);
  std::string_view to_text = text.substr(dots + 2);
  if (from_text.empty() && to_text.empty()) {
    return Error(
        "observed window '..' is open on both sides; leave the window out "
        "when it is unknown");
  }
  if (!from_text.empty()) {
    auto from = ParseDate(from_text, DateBound::kStart);
    if (!from.ok()) {
      return Error("observed window start " +
                   std::string(from.status().message()));
    }
    window.from_ms = *from;
  }
  if (!to_text.empty()) {
    auto to = ParseDate(to_text, DateBound::kEnd);
    if (!to.ok()) {
      return Error("observed window end " + std::string(to.status().message()));
    }
    window.to_ms = *to;
  }
  if (window.from_ms != 0 && window.to_ms != 0 &&
      window.from_ms > window.to_ms) {
    return Error("observed window " + Quoted(text) + " ends before it starts");
  }
  return window;
}

absl::StatusOr<v1::Identifier> ParseIdentifierArg(
    std::string_view arg, WindowPolicy policy, std::string_view home_member) {
  size_t colon = arg.find(':');
  if (colon == std::string_view::npos) {
    return Error("no identifier type: write TYPE:VALUE, e.g. " +
                 std::string(kExample) + "; types: " + TypeList());
  }
  std::string_view head = arg.substr(0, colon);
  std::string_view value = arg.substr(colon + 1);
  std::string_view type_name = head;
  std::string_view window_text;
  bool has_window = false;
  if (size_t at = head.find('@'); at != std::string_view::npos) {
    type_name = head.substr(0, at);
    window_text = head.substr(at + 1);
    has_window = true;
  }
  if (type_name.empty()) {
    return Error("no identifier type before ':'; types: " + TypeList());
  }
  auto type = identifiers::ParseType(type_name);
  if (!type.ok()) {
    return Error("unknown identifier type \"" + std::string(type_name) +
                 "\"; use one of " + TypeList());
  }
  if (value.empty()) {
    return Error("no value after '" + std::string(head) + ":'");
  }

  v1::Identifier id;
  id.set_type(*type);
  id.set_value(std::string(value));
  if (has_window) {
    if (policy == WindowPolicy::kForbidden) {
      return Error(
          "an observed window is not used here; write TYPE:VALUE (the "
          "identifier is matched on type and value)");
    }
    if (window_text.empty()) {
      return Error("empty observed window after '@'; e.g. " +
                   std::string(kWindowExample));
    }
    auto window = ParseWindow(window_text);
    if (!window.ok()) return window.status();
    id.set_observed_from_ms(window->from_ms);
    id.set_observed_to_ms(window->to_ms);
  } else if (EndsWithWindow(value)) {
    return Error("the observed window goes between the type and the ':', " +
                 std::string("e.g. ") + std::string(kWindowExample));
  }

  auto normalized = identifiers::Normalize(*type, value, home_member);
  if (!normalized.ok()) {
    return Error(std::string(normalized.status().message()));
  }
  return id;
}

std::string FormatWindow(int64_t from_ms, int64_t to_ms) {
  if (from_ms == 0 && to_ms == 0) return "";
  std::string out;
  if (from_ms != 0) out += FormatDate(from_ms);
  out += "..";
  if (to_ms != 0) out += FormatDate(to_ms);
  return out;
}

std::string FormatIdentifierArg(const v1::Identifier& id) {
  std::string out = IdentifierTypeName(id.type());
  std::string window = FormatWindow(id.observed_from_ms(), id.observed_to_ms());
  if (!window.empty()) out += "@" + window;
  out += ":" + id.value();
  return out;
}

}  // namespace cbx::client
