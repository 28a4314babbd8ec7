// Helpers shared by the text readers: splitting a line into fields in place (string_views into the
// mapped file, no allocation) and turning fields into numbers with std::from_chars.
// Internal to data/: the public entry points are in readers.h and ncf_format.h.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/parse.h"

namespace ncf::data::text {

using ncf::ParseStatus;

// Drops spaces and tabs around a field (" 4.0" is accepted; "4.0x" is not).
inline std::string_view trim(std::string_view field) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  return field;
}

// A field as an integer: the strict parse of base/parse.h after trimming spaces and tabs.
inline ParseStatus parse_int64(std::string_view field, int64_t& out) {
  return ncf::parse_int64(trim(field), out);
}

// The exact case of float parsing for short decimals ("4", "3.5", "0.25", "-1.5"): when the digits of
// [p, end) form an integer m with at most 7 digits (so m < 2^24) and k fraction digits, m and 10^k are
// exact floats and one IEEE division rounds m / 10^k correctly -- the same float std::from_chars returns,
// several times faster. Returns false, leaving `out` alone, for any other text.
inline bool parse_short_decimal(const char* p, const char* end, float& out) {
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) negative = (*p++ == '-');
  uint32_t mantissa = 0;
  int digits = 0, fraction_digits = -1;
  for (; p != end; ++p) {
    if (*p >= '0' && *p <= '9') {
      mantissa = mantissa * 10 + static_cast<uint32_t>(*p - '0');
      if (++digits > 7) return false;  // 10^7 < 2^24: more digits could lose exactness
      if (fraction_digits >= 0) ++fraction_digits;
    } else if (*p == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  static constexpr float kPow10[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f};
  const float value = static_cast<float>(mantissa) / kPow10[fraction_digits < 0 ? 0 : fraction_digits];
  out = negative ? -value : value;
  return true;
}

// Float parsing: short decimals through parse_short_decimal, anything else through std::from_chars.
// "nan" and "inf" are not numbers here (a rating must be finite), nor is a value beyond float's range.
inline ParseStatus parse_float(std::string_view field, float& out) {
  field = trim(field);
  if (parse_short_decimal(field.data(), field.data() + field.size(), out)) return ParseStatus::ok;
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, out);
  if (ec == std::errc::result_out_of_range) return ParseStatus::out_of_range;
  if (ec != std::errc() || ptr != end || field.empty() || !std::isfinite(out))
    return ParseStatus::not_a_number;
  return ParseStatus::ok;
}

// Past a UTF-8 byte-order mark (EF BB BF) at the start of a file, which some editors write.
inline const char* skip_byte_order_mark(const char* begin, const char* end) {
  return end - begin >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0 ? begin + 3 : begin;
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

// ---- fast scanners (eight bytes at a time) ----
//
// The parser's fast path reads plain decimal digits with SWAR ("SIMD within a register"): eight text
// bytes loaded into one uint64_t are tested and converted with a few integer operations, instead of a
// loop with a branch per digit. Byte i of the word is the byte at p + i: the byte order is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the SWAR scanners assume a little-endian machine");

// Mask with the high bit set in every byte of x that is not an ASCII digit. Taken byte by byte, b is a
// digit iff neither b + 0x46 (>= 0x80 for b > '9') nor b - 0x30 (wraps to >= 0x80 for b < '0') has its
// high bit set. Carries and borrows only travel towards higher bytes and digits cause none, so the
// lowest flagged byte -- the first non-digit -- is always exact; bytes after it may be wrong.
inline uint64_t non_digit_bytes(uint64_t x) {
  return ((x + 0x4646464646464646ull) | (x - 0x3030303030303030ull)) & 0x8080808080808080ull;
}

// The number written by the first n (1..8) bytes of x, all digits: the digits are shifted to the top
// (so the bytes after them drop out and zeros lead), then neighbours are combined pairwise: 2-digit
// numbers in 16-bit lanes, 4-digit numbers in 32-bit lanes, then the 8-digit number. No lane
// overflows (99 < 2^8, 9999 < 2^16, 99999999 < 2^32).
inline uint64_t digits_value(uint64_t x, int n) {
  uint64_t d = (x - 0x3030303030303030ull) << (8 * (8 - n));
  d = (d * 10 + (d >> 8)) & 0x00FF00FF00FF00FFull;
  d = (d * 100 + (d >> 16)) & 0x0000FFFF0000FFFFull;
  return (d * 10000 + (d >> 32)) & 0xFFFFFFFFull;
}

// Reads the digits starting at p into value and returns the position after them; digits is their count.
// Stops early, with digits > 18, on a longer run (the caller rejects those: 19 digits may not fit int64).
// Reads 8-byte words, the last one starting at the first non-digit at the latest: the caller guarantees
// that the 8 bytes from there on can be read.
inline const char* scan_digits(const char* p, uint64_t& value, int& digits) {
  static constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  value = 0;
  digits = 0;
  for (;;) {
    uint64_t x;
    std::memcpy(&x, p, 8);  // an unaligned load, as one instruction
    const uint64_t stops = non_digit_bytes(x);
    const int n = stops ? __builtin_ctzll(stops) / 8 : 8;
    if (n > 0) value = value * kPow10[n] + digits_value(x, n);
    digits += n;
    p += n;
    if (n < 8 || digits > 18) return p;
  }
}

// Number of '\n' bytes in [p, end). Blocks of 32 bytes are compared into 32 one-byte counters, a loop
// the compiler turns into a few vector compares and adds per block; the counters are summed and reset
// every 255 blocks, before one could overflow. (std::count keeps a 64-bit sum per byte, which
// vectorises poorly: about ten times slower.)
inline int64_t count_newlines(const char* p, const char* end) {
  int64_t total = 0;
  while (end - p >= 32) {
    uint8_t counters[32] = {};
    const int64_t blocks = std::min<int64_t>((end - p) / 32, 255);
    for (int64_t b = 0; b < blocks; ++b, p += 32)
      for (int k = 0; k < 32; ++k) counters[k] += p[k] == '\n';
    for (const uint8_t count : counters) total += count;
  }
  for (; p < end; ++p) total += *p == '\n';
  return total;
}

// A short, printable excerpt of a bad field for error messages.
inline std::string excerpt(std::string_view field) {
  std::string text(field.substr(0, 40));
  if (field.size() > 40) text += "...";
  return "'" + text + "'";
}

}  // namespace ncf::data::text
