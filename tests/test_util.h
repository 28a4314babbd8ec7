// Helpers shared by the test suites: finding data sets, comparing arrays with a stated tolerance.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tensor/tensor.h"

namespace ncf::test {

// Deterministic test data in [low, high) from a 64-bit LCG (independent of the library's RNG).
std::vector<double> test_values(size_t n, double low, double high, uint64_t seed = 12345);

// n indices drawn uniformly from [0, range) by a 64-bit LCG: many repeats when n > range.
std::vector<int32_t> random_indices(size_t n, int32_t range, uint64_t seed);

// A CPU tensor of dtype T holding `values` (rounded to T).
template <class T>
Tensor make(const std::vector<double>& values, const Shape& shape) {
  return Tensor::from_vector(std::vector<T>(values.begin(), values.end()), shape);
}

// A tensor's values as doubles, whatever its dtype and device.
std::vector<double> values_of(const Tensor& t);

// The project root (tests run with it as working directory, but binaries may be started elsewhere).
std::string source_dir();

// A data set folder: $NCF_DATA_DIR/NAME, else datasets/NAME, else ../shared/data/NAME; nullopt if absent.
std::optional<std::string> find_dataset(const std::string& name);

// Prints "SKIPPED: <what> (data set NAME not found ...)" and returns the path when found.
// Use: auto dir = require_dataset("ml-100k", "ml-100k counts"); if (!dir) return;
std::optional<std::string> require_dataset(const std::string& name, const std::string& what);

// A fresh folder under the temporary directory, removed with its files when the test ends.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }  // a path inside it
  // Writes `content` to `name` (making the folders on the way) and returns its path.
  std::string file(const std::string& name, const std::string& content) const;
  std::vector<std::string> listing() const;  // the names of everything inside, recursively

 private:
  std::string dir_;
};

// Index of the first i with |got - want| > atol + rtol*|want|, or -1 when all are close.
template <class A, class B>
long first_mismatch(const std::vector<A>& got, const std::vector<B>& want, double atol, double rtol) {
  if (got.size() != want.size()) return 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    if (!(std::fabs(g - w) <= atol + rtol * std::fabs(w))) return static_cast<long>(i);
  }
  return -1;
}

// CHECK that two arrays agree within atol + rtol*|want|; on failure names the first mismatch.
#define NCF_CHECK_CLOSE(got_expr, want_expr, atol, rtol)                                                 \
  do {                                                                                                   \
    const auto& ncf_got_ = (got_expr);                                                                   \
    const auto& ncf_want_ = (want_expr);                                                                 \
    const long ncf_bad_ = ::ncf::test::first_mismatch(ncf_got_, ncf_want_, (atol), (rtol));              \
    if (ncf_bad_ >= 0 && ncf_got_.size() == ncf_want_.size()) {                                          \
      FAIL_CHECK("first mismatch at " << ncf_bad_ << ": got " << double(ncf_got_[ncf_bad_]) << ", want " \
                                      << double(ncf_want_[ncf_bad_]) << " (atol " << (atol) << ", rtol " \
                                      << (rtol) << ", " << ncf_got_.size() << " values)");               \
    } else if (ncf_bad_ >= 0) {                                                                          \
      FAIL_CHECK("size mismatch: got " << ncf_got_.size() << " values, want " << ncf_want_.size());      \
    }                                                                                                    \
  } while (0)

}  // namespace ncf::test
