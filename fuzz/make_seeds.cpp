// Writes the binary seeds of the fuzz corpus with the library's own writers: a small checkpoint
// (fuzz/corpus/safetensors/) and small data caches of both kinds (fuzz/corpus/cache/), with the key
// fuzz_cache.cpp expects. usage: fuzz_make_seeds CORPUS_DIR
#include <cstdio>

#include "data/cache.h"
#include "data/splits.h"
#include "nn/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  using namespace ncf;
  save_safetensors(dir + "/safetensors/small.safetensors",
                   {{"gmf.user", Tensor::from_vector<float>({0.5f, -1.0f, 2.0f, 0.25f}, {2, 2})},
                    {"ids", Tensor::from_vector<int32_t>({3, 1, 2}, {3})}},
                   {{"epoch", "2"}});
  data::Interactions x;
  for (int u = 0; u < 4; ++u)
    for (int j = 0; j < 3; ++j) {
      x.user.push_back(x.users.insert(10 + u));
      x.item.push_back(x.items.insert(100 + (u + j) % 5));
      x.rating.push_back(static_cast<float>(1 + j));
      x.timestamp.push_back(j);
    }
  x.titles[100] = "A (1995)";
  data::ImplicitDataset implicit = data::leave_one_out(x, true);
  data::draw_eval_negatives(implicit, 2, 7);
  data::save_cache(dir + "/cache/implicit.ncfcache", "fuzz-seed-key", implicit);
  data::save_cache(dir + "/cache/explicit.ncfcache", "fuzz-seed-key", data::ratio_split(x, 0.25, 1));
  std::printf("wrote the seeds under %s\n", dir.c_str());
  return 0;
}
