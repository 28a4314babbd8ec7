// Binary cache of a parsed and split data set, so a second run skips parsing (MovieLens-20M: seconds
// -> a fraction of a second).
//
// File layout (native little-endian):
//   "NCFDCACH" | u32 version | u32 kind (1 implicit, 2 explicit) | u64 n | n bytes of key text |
//   payload arrays, each u64 count + raw elements | "NCFD-END" | u64 checksum of the arrays
// The key text is JSON naming every source file with its size and mtime, every option that changes
// the result, and the version of the code that builds it (kDataLogicVersion in load.cpp); a load
// succeeds only if magic, version, kind and key all match, so a changed source, option or reader
// silently rebuilds. A damaged file (truncated, a wrong checksum, an index out of range) is rebuilt
// with a warning, never trusted. Caches are written to a temporary file in
// the same folder and renamed into place, so no reader ever sees a partial cache; after a failure the
// temporary file is removed.
#pragma once

#include <optional>
#include <string>

#include "data/implicit_dataset.h"
#include "data/splits.h"

namespace ncf::data {

constexpr uint32_t kCacheVersion = 2;  // 2: the checksum footer

struct CacheOptions {
  bool enabled = true;
  std::string dir = "datasets/.cache";
  // Test hook: throw after writing this many payload arrays (checks that no partial file survives).
  int fail_after_arrays = -1;
};

void save_cache(const std::string& path, const std::string& key, const ImplicitDataset& data,
                int fail_after_arrays = -1);
void save_cache(const std::string& path, const std::string& key, const ExplicitDataset& data,
                int fail_after_arrays = -1);
// nullopt when the file is absent, stale (different key or version) or damaged; for a damaged file
// `problem` (when given) says what was wrong.
std::optional<ImplicitDataset> load_implicit_cache(const std::string& path, const std::string& key,
                                                   std::string* problem = nullptr);
std::optional<ExplicitDataset> load_explicit_cache(const std::string& path, const std::string& key,
                                                   std::string* problem = nullptr);

}  // namespace ncf::data
