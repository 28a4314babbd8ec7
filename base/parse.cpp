// Strict number parsing with std::from_chars: locale-free, no allocation, and it reports exactly how
// much of the text it consumed, which is what "the whole text is the number" needs.
#include "base/parse.h"

#include <charconv>
#include <cmath>

namespace ncf {

ParseStatus parse_int64(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // from_chars accepts only '-'
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec == std::errc::result_out_of_range) return ParseStatus::out_of_range;
  if (ec != std::errc() || ptr != end || text.empty()) return ParseStatus::not_a_number;
  return ParseStatus::ok;
}

ParseStatus parse_double(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return ParseStatus::out_of_range;
  if (ec != std::errc() || ptr != end || text.empty()) return ParseStatus::not_a_number;
  if (!std::isfinite(out)) return ParseStatus::not_a_number;  // "inf", "nan"
  return ParseStatus::ok;
}

std::optional<int64_t> to_int64(std::string_view text) {
  int64_t value = 0;
  if (parse_int64(text, value) != ParseStatus::ok) return std::nullopt;
  return value;
}

std::optional<double> to_double(std::string_view text) {
  double value = 0;
  if (parse_double(text, value) != ParseStatus::ok) return std::nullopt;
  return value;
}

}  // namespace ncf
