// Names of enum values, written once per enum and used both ways: to_string() for messages and
// files, from_string() for configs and command lines.
//
// An enum opts in by declaring, next to itself, a function found by argument-dependent lookup:
//   enum class SplitKind { leave_one_out, ratio };
//   inline const EnumNames<SplitKind>& enum_names(SplitKind) {
//     static const EnumNames<SplitKind> names = {{SplitKind::leave_one_out, "leave_one_out"}, ...};
//     return names;
//   }
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ncf {

template <class E>
using EnumNames = std::vector<std::pair<E, const char*>>;

template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
const char* to_string(E value) {
  for (const auto& [v, name] : enum_names(E{}))
    if (v == value) return name;
  return "?";
}

template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
std::optional<E> from_string(const std::string& name) {
  for (const auto& [v, text] : enum_names(E{}))
    if (name == text) return v;
  return std::nullopt;
}

// Every name of E, in declaration order (for "expected one of ..." messages).
template <class E>
std::vector<std::string> all_names() {
  std::vector<std::string> out;
  for (const auto& [v, name] : enum_names(E{})) out.push_back(name);
  return out;
}

}  // namespace ncf
