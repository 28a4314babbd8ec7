// Helpers for the data tests: a scratch folder removed at the end of a test, small files written into it,
// and a check that an expression throws DataError whose message contains given pieces.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/error.h"
#include "tests/test_util.h"

namespace ncf::test {

// Runs `call`, requiring a DataError whose message contains every piece.
template <class Call>
void check_data_error(Call call, const std::vector<std::string>& pieces) {
  try {
    call();
    FAIL_CHECK("no DataError thrown; expected one mentioning " << pieces.front());
  } catch (const ncf::data::DataError& e) {
    const std::string message = e.what();
    for (const std::string& piece : pieces) {
      CHECK_MESSAGE(message.find(piece) != std::string::npos,
                    "message '" << message << "' lacks '" << piece << "'");
    }
  }
}

}  // namespace ncf::test
