#include "tests/test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ncf::test {

static bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string source_dir() { return NCF_SOURCE_DIR; }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ncf-test-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TempDir::file(const std::string& name, const std::string& content) const {
  const std::string where = path(name);
  std::filesystem::create_directories(std::filesystem::path(where).parent_path());
  std::ofstream(where, std::ios::binary) << content;
  return where;
}

std::vector<std::string> TempDir::listing() const {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_))
    names.push_back(entry.path().filename().string());
  return names;
}

std::vector<double> test_values(size_t n, double low, double high, uint64_t seed) {
  std::vector<double> values(n);
  uint64_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    values[i] = low + (high - low) * static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
  }
  return values;
}

std::vector<int32_t> random_indices(size_t n, int32_t range, uint64_t seed) {
  std::vector<int32_t> out(n);
  const std::vector<double> u = test_values(n, 0.0, 1.0, seed);
  for (size_t i = 0; i < n; ++i) out[i] = std::min(range - 1, static_cast<int32_t>(u[i] * range));
  return out;
}

std::vector<double> values_of(const Tensor& t) {
  switch (t.dtype()) {
    case DType::f64:
      return t.to_vector<double>();
    case DType::f32: {
      const auto v = t.to_vector<float>();
      return {v.begin(), v.end()};
    }
    case DType::i32: {
      const auto v = t.to_vector<int32_t>();
      return {v.begin(), v.end()};
    }
    case DType::u8: {
      const auto v = t.to_vector<uint8_t>();
      return {v.begin(), v.end()};
    }
  }
  return {};
}

std::optional<std::string> find_dataset(const std::string& name) {
  if (const char* env = std::getenv("NCF_DATA_DIR"); env && *env) {
    if (is_directory(std::string(env) + "/" + name)) return std::string(env) + "/" + name;
  }
  for (const std::string& base : {source_dir() + "/datasets/", source_dir() + "/../shared/data/"}) {
    if (is_directory(base + name)) return base + name;
  }
  return std::nullopt;
}

std::optional<std::string> require_dataset(const std::string& name, const std::string& what) {
  auto dir = find_dataset(name);
  if (!dir) {
    std::printf("SKIPPED: %s (data set %s not found in $NCF_DATA_DIR, datasets/ or ../shared/data/)\n",
                what.c_str(), name.c_str());
    MESSAGE("skipped: data set " << name << " not found");
  }
  return dir;
}

}  // namespace ncf::test
