// generate_ratings: writes a MovieLens-shaped ratings.csv of any size (data/synthetic.h).
//   generate_ratings --out datasets/synthetic-ml-20m/ratings.csv [--users 138493 --items 26744
//                    --ratings 20000263 --seed 20]
#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/common/cli.h"
#include "base/files.h"
#include "data/synthetic.h"

namespace {
const char* kUsage =
    "usage: generate_ratings --out FILE [--users N] [--items N] [--ratings N] [--seed S]\n"
    "Writes a MovieLens-shaped ratings.csv (ML-20M's shape by default: 138493 users, 26744 items,\n"
    "20000263 ratings, seed 20).\n";
}  // namespace

int main(int argc, char** argv) {
  ncf::data::SyntheticConfig config;
  std::string out;
  int64_t users = config.users, items = config.items, ratings = config.ratings,
          seed = static_cast<int64_t>(config.seed);
  ncf::cli::Parser args("generate_ratings", kUsage);
  args.option("--out", &out);
  args.option("--users", &users, 1, INT32_MAX);
  args.option("--items", &items, 2, INT32_MAX);
  args.option("--ratings", &ratings, 1, INT64_MAX);
  args.option("--seed", &seed, 0, INT64_MAX);
  return ncf::cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    args.require("--out");
    config.users = static_cast<int32_t>(users);
    config.items = static_cast<int32_t>(items);
    config.ratings = ratings;
    config.seed = static_cast<uint64_t>(seed);
    ncf::make_directories(ncf::parent_folder(out));
    ncf::data::write_synthetic_csv(config, out);
    std::printf("wrote %s: %lld ratings, %d users, %d items (seed %llu)\n", out.c_str(),
                static_cast<long long>(config.ratings), config.users, config.items,
                static_cast<unsigned long long>(config.seed));
    return 0;
  });
}
