// DataError: the one exception type of the data layer. Its message always says where (file, 1-based
// line, 1-based field number when one applies) and what was wrong, so a user can fix the input file.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ncf::data {

class DataError : public std::runtime_error {
 public:
  // A problem with no particular place in a file (e.g. "cannot open", an inconsistent option).
  DataError(const std::string& file, const std::string& what);
  // A problem at a line (1-based); column is the 1-based field number, 0 when the whole line is meant.
  DataError(const std::string& file, int64_t line, int column, const std::string& what);

  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string file_;
  int64_t line_ = 0;
  int column_ = 0;
};

}  // namespace ncf::data
