// One call from a config's "data" section to a ready data set: read, transform, split, draw the
// evaluation negatives, and cache the result (cache.h) keyed by source files and options.
//
// Order of operations (implicit): read -> binarize (threshold or all) -> min interactions per
// user/item -> sample a fraction of users -> leave_one_out -> draw_eval_negatives. Format "ncf" reads
// the paper's own split (split "given") and its negatives file; the transforms do not apply to it.
// Explicit (ratio / temporal_ratio / given splits): read -> min interactions -> sample users -> split.
// Paths in the config are used as they are (resolve them against a project root first).
#pragma once

#include <string>

#include "data/cache.h"
#include "data/config.h"
#include "data/implicit_dataset.h"
#include "data/splits.h"

namespace ncf::data {

// The file's rows after the transforms, before any split (no cache).
Interactions load_interactions(const DataConfig& config);
// Implicit data set (split leave_one_out, or the ncf files). Uses and refreshes the cache when enabled.
ImplicitDataset load_implicit(const DataConfig& config, const EvalSampling& eval,
                              const CacheOptions& cache = {});
// Explicit ratings (split ratio, temporal_ratio or given).
ExplicitDataset load_explicit(const DataConfig& config, const CacheOptions& cache = {});

// The cache file a config would use, and the key stored in it (exposed for tests and tools).
// `eval` is null for an explicit data set, which holds no evaluation negatives.
std::string cache_path(const DataConfig& config, const EvalSampling* eval, const CacheOptions& cache);
std::string cache_key(const DataConfig& config, const EvalSampling* eval);

}  // namespace ncf::data
