// The parallel delimited-text parser behind the readers, returning raw (not yet densified) ids.
// Internal to data/: used by readers.cpp (which densifies) and ncf_format.cpp (whose ids are dense).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/readers.h"

namespace ncf::data {

struct RawTable {
  std::vector<int64_t> user, item;  // raw ids as written in the file
  std::vector<float> rating;
  std::vector<int64_t> timestamp;
  int64_t size() const { return static_cast<int64_t>(user.size()); }
};

// Parses every data row. With dense_ids, ids must lie in [0, 2^31-1) (the NCF files), else the error
// names the line and column.
RawTable parse_delimited(const std::string& path, const DelimitedFormat& format, bool dense_ids);

// The 1-based line number of data row `row` (blank lines and the header skipped), for error messages
// about rows found bad after parsing. 0 if the file has fewer rows.
int64_t line_of_row(const std::string& path, bool header, int64_t row);

}  // namespace ncf::data
