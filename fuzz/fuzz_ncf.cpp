// Fuzz target: the NCF paper's three files. The input holds them separated by two NUL bytes
// (train \0\0 test \0\0 negatives); a missing part is an empty file, or no negatives file at all.
#include <string>

#include "data/ncf_format.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string separator("\0\0", 2);
  const size_t first = input.find(separator);
  const size_t second = first == std::string::npos ? std::string::npos : input.find(separator, first + 2);
  const std::string train = input.substr(0, first);
  const std::string test = first == std::string::npos ? "" : input.substr(first + 2, second - first - 2);
  const std::string prefix = "/tmp/ncf-fuzz-ncf-" + std::to_string(::getpid());
  auto write = [](const std::string& path, const std::string& text) {
    ncf::fuzz::write_bytes(path, text.data(), text.size());
  };
  write(prefix + ".train.rating", train);
  write(prefix + ".test.rating", test);
  if (second != std::string::npos)
    write(prefix + ".test.negative", input.substr(second + 2));
  else
    std::remove((prefix + ".test.negative").c_str());
  try {
    ncf::data::read_ncf(prefix);
  } catch (const ncf::Error&) {
  }
  return 0;
}
