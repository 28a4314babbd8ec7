// Formatting of DataError messages: "FILE:LINE: column C: WHAT" (line and column only when known).
#include "data/error.h"

namespace ncf::data {

static std::string format_message(const std::string& file, int64_t line, int column,
                                  const std::string& what) {
  std::string message = file;
  if (line > 0) message += ":" + std::to_string(line);
  message += ": ";
  if (column > 0) message += "column " + std::to_string(column) + ": ";
  return message + what;
}

DataError::DataError(const std::string& file, const std::string& what)
    : Error(format_message(file, 0, 0, what)), file_(file) {}

DataError::DataError(const std::string& file, int64_t line, int column, const std::string& what)
    : Error(format_message(file, line, column, what)), file_(file), line_(line), column_(column) {}

}  // namespace ncf::data
