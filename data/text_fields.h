// Helpers shared by the text readers: splitting a line into fields in place (string_views into the
// mapped file, no allocation) and turning fields into numbers with std::from_chars.
// Internal to data/: the public entry points are in readers.h and ncf_format.h.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ncf::data::text {

enum class NumberStatus { kOk, kNotNumber, kOverflow };

// Drops spaces and tabs around a field (" 4.0" is accepted; "4.0x" is not).
inline std::string_view trim(std::string_view field) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  return field;
}

inline NumberStatus parse_int64(std::string_view field, int64_t& out) {
  field = trim(field);
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, out);
  if (ec == std::errc::result_out_of_range) return NumberStatus::kOverflow;
  if (ec != std::errc() || ptr != end || field.empty()) return NumberStatus::kNotNumber;
  return NumberStatus::kOk;
}

// Float parsing with an exact fast path for short decimals ("4", "3.5", "0.25"): when the digits form an
// integer m < 2^24 with k <= 10 fraction digits, m and 10^k are exact floats and one IEEE division
// rounds m / 10^k correctly -- the same float std::from_chars returns, several times faster.
inline NumberStatus parse_float(std::string_view field, float& out) {
  field = trim(field);
  {
    const char* p = field.data();
    const char* end = p + field.size();
    bool negative = false;
    if (p != end && (*p == '-' || *p == '+')) negative = (*p++ == '-');
    uint32_t mantissa = 0;
    int digits = 0, fraction_digits = -1;
    for (; p != end; ++p) {
      if (*p >= '0' && *p <= '9') {
        mantissa = mantissa * 10 + static_cast<uint32_t>(*p - '0');
        if (++digits > 7) break;  // 10^7 < 2^24: stop before the mantissa can lose exactness
        if (fraction_digits >= 0) ++fraction_digits;
      } else if (*p == '.' && fraction_digits < 0) {
        fraction_digits = 0;
      } else {
        break;
      }
    }
    if (p == end && digits > 0) {
      static constexpr float kPow10[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f};
      const float value = static_cast<float>(mantissa) / kPow10[fraction_digits < 0 ? 0 : fraction_digits];
      out = negative ? -value : value;
      return NumberStatus::kOk;
    }
  }
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, out);
  if (ec == std::errc::result_out_of_range) return NumberStatus::kOverflow;
  if (ec != std::errc() || ptr != end || field.empty()) return NumberStatus::kNotNumber;
  return NumberStatus::kOk;
}

// Position of the next separator in [p, end), or end. One-character separators use memchr.
inline const char* find_separator(const char* p, const char* end, std::string_view separator) {
  if (separator.size() == 1) {
    const void* hit = std::memchr(p, separator[0], static_cast<size_t>(end - p));
    return hit ? static_cast<const char*>(hit) : end;
  }
  while (p < end) {
    const void* hit = std::memchr(p, separator[0], static_cast<size_t>(end - p));
    if (!hit) return end;
    const char* at = static_cast<const char*>(hit);
    if (static_cast<size_t>(end - at) >= separator.size() &&
        std::memcmp(at, separator.data(), separator.size()) == 0)
      return at;
    p = at + 1;
  }
  return end;
}

// Splits [begin, end) into at most max_fields fields; returns how many were found (it stops early, so
// a count of max_fields means "at least"). Fields are views into the line.
inline int split_fields(const char* begin, const char* end, std::string_view separator,
                        std::string_view* fields, int max_fields) {
  int count = 0;
  const char* p = begin;
  while (count < max_fields) {
    const char* stop = find_separator(p, end, separator);
    fields[count++] = std::string_view(p, static_cast<size_t>(stop - p));
    if (stop == end) break;
    p = stop + separator.size();
  }
  return count;
}

// The fast path for one-character separators: splits the line starting at p into at most max_fields
// fields with one byte loop (no library call per field: MovieLens fields are a few bytes long) and sets
// `stop` to the line's '\n' (or end). A '\r' before the '\n' is removed from the last field.
inline int split_line(const char* p, const char* end, char separator, std::string_view* fields,
                      int max_fields, const char*& stop) {
  int count = 0;
  for (;;) {
    const char* q = p;
    while (q < end && *q != separator && *q != '\n') ++q;
    fields[count++] = std::string_view(p, static_cast<size_t>(q - p));
    if (q == end || *q == '\n') {
      stop = q;
      std::string_view& last = fields[count - 1];
      if (!last.empty() && last.back() == '\r') last.remove_suffix(1);
      return count;
    }
    if (count == max_fields) {
      const void* hit = std::memchr(q, '\n', static_cast<size_t>(end - q));
      stop = hit ? static_cast<const char*>(hit) : end;
      return count;
    }
    p = q + 1;
  }
}

// End of the line starting at p (the '\n' or end), and the line without a trailing '\r' (CRLF files).
inline const char* line_end(const char* p, const char* end) {
  const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
  return hit ? static_cast<const char*>(hit) : end;
}
inline const char* strip_cr(const char* begin, const char* stop) {
  return (stop > begin && stop[-1] == '\r') ? stop - 1 : stop;
}

// A short, printable excerpt of a bad field for error messages.
inline std::string excerpt(std::string_view field) {
  std::string text(field.substr(0, 40));
  if (field.size() > 40) text += "...";
  return "'" + text + "'";
}

}  // namespace ncf::data::text
