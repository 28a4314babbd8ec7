// Strict parsing of numbers written as text (command-line values, config fragments, device names):
// the whole text must be the number, so "196abc" and "2.5" are not read as 196 and 2, as std::stoll
// would, and a failure says which of "not a number" and "out of range" it was.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ncf {

enum class ParseStatus { ok, not_a_number, out_of_range };

// Decimal integer with an optional sign; no spaces, no trailing characters.
ParseStatus parse_int64(std::string_view text, int64_t& out);
// Decimal or scientific floating-point number ("0.5", "1e-3"); "nan" and "inf" are not numbers here.
ParseStatus parse_double(std::string_view text, double& out);

// The same as optionals, for callers that only need to know whether it worked.
std::optional<int64_t> to_int64(std::string_view text);
std::optional<double> to_double(std::string_view text);

}  // namespace ncf
