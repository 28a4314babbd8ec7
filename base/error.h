// The one error type of the project, and the checks that throw it.
//
// Every failed check throws ncf::Error with a message that names the shapes, values, file or key
// involved, so a user can tell what went wrong without a debugger. The layers' own errors derive
// from it (data::DataError adds file, line and column; ConfigError names the config key), so one
// `catch (const ncf::Error&)` sees them all.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ncf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("<message> [<file>:<line>]"); the location points a reader at the check that failed.
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace ncf

// NCF_CHECK(cond, "matmul: inner sizes differ, a " << a.shape() << " b " << b.shape());
#define NCF_CHECK(cond, message_stream)                           \
  do {                                                            \
    if (!(cond)) {                                                \
      std::ostringstream ncf_message_;                            \
      ncf_message_ << message_stream;                             \
      ::ncf::throw_error(__FILE__, __LINE__, ncf_message_.str()); \
    }                                                             \
  } while (0)

#define NCF_FAIL(message_stream) NCF_CHECK(false, message_stream)
