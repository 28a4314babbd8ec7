#include "base/error.h"

namespace ncf {

void throw_error(const char* file, int line, const std::string& message) {
  throw Error(message + " [" + file + ":" + std::to_string(line) + "]");
}

}  // namespace ncf
