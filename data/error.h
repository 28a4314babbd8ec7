// DataError: the error of a data file. Its message always says where (file, 1-based line, 1-based
// field number when one applies) and what was wrong, so a user can fix the input file. It is an
// ncf::Error (base/error.h), like every error of the project; problems that are not about a file
// (a bad argument, an inconsistent option) are plain NCF_CHECK failures naming the values.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace ncf::data {

class DataError : public Error {
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
