#include "tests/test_util.h"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>

namespace ncf::test {

static bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string source_dir() { return NCF_SOURCE_DIR; }

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
