// Fuzz target: the data cache loader, for both kinds. A damaged file must come back as "rebuild"
// (nullopt), never as a crash or as data that breaks the rules the rest of the code relies on.
#include "data/cache.h"
#include "fuzz/fuzz_common.h"

// The key the seed corpus was written with (fuzz/make_seeds.cpp).
constexpr const char* kKey = "fuzz-seed-key";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ncf::fuzz::as_file(data, size, ".ncfcache");
  std::string problem;
  if (const auto d = ncf::data::load_implicit_cache(path, kKey, &problem)) {
    // What the trainer assumes of a loaded data set: every index in range.
    for (int32_t u = 0; u < d->num_users; ++u)
      for (int64_t k = 0; k < d->user_count(u); ++k) {
        const int32_t item = d->user_items(u)[k];
        if (item < 0 || item >= d->num_items) __builtin_trap();
      }
  }
  (void)ncf::data::load_explicit_cache(path, kKey, &problem);
  return 0;
}
