// Helpers for the data tests: a scratch folder removed at the end of a test, small files written into it,
// and a check that an expression throws DataError whose message contains given pieces.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/error.h"

namespace ncf::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ncf-data-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name, const std::string& content) const {
    const std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string path(const std::string& name) const { return path_ + "/" + name; }
  const std::string& dir() const { return path_; }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    return names;
  }

 private:
  std::string path_;
};

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
