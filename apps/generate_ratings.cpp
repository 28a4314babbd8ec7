// generate_ratings: writes a MovieLens-shaped ratings.csv of any size (data/synthetic.h), or a larger
// data set grown from a real one, each user and item split into copies (data/synthetic.h's
// expand_interactions, in the spirit of MLPerf's ml-20m x16 x32).
//   generate_ratings --out datasets/synthetic-ml-20m/ratings.csv [--users 138493 --items 26744
//                    --ratings 20000263 --seed 20]
//   generate_ratings --out datasets/ml-100k-x4x4/ratings.csv --expand datasets/ml-100k/u.data
//                    --format movielens-udata --users-x 4 --items-x 4
#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/common/cli.h"
#include "base/enum_names.h"
#include "base/files.h"
#include "data/config.h"
#include "data/readers.h"
#include "data/synthetic.h"

namespace {
const char* kUsage =
    "usage: generate_ratings --out FILE [--users N] [--items N] [--ratings N] [--seed S]\n"
    "       generate_ratings --out FILE --expand RATINGS [--format F] [--users-x U] [--items-x I] [--seed "
    "S]\n"
    "Writes a MovieLens-shaped ratings.csv (ML-20M's shape by default: 138493 users, 26744 items,\n"
    "20000263 ratings, seed 20).\n"
    "With --expand, grows the ratings file RATINGS (--format movielens-udata [default], movielens-dat,\n"
    "movielens-csv) instead: each user becomes U users and each item I items (default 16 and 32,\n"
    "MLPerf's ml-20m x16 x32), every rating copied to each copy of its user on one copy of its item.\n";
}  // namespace

int main(int argc, char** argv) {
  ncf::data::SyntheticConfig config;
  ncf::data::ExpandConfig expand;
  std::string out, expand_from, format = "movielens-udata";
  int64_t users = config.users, items = config.items, ratings = config.ratings,
          seed = static_cast<int64_t>(config.seed), users_x = expand.user_factor,
          items_x = expand.item_factor;
  ncf::cli::Parser args("generate_ratings", kUsage);
  args.option("--out", &out);
  args.option("--users", &users, 1, INT32_MAX);
  args.option("--items", &items, 2, INT32_MAX);
  args.option("--ratings", &ratings, 1, INT64_MAX);
  args.option("--seed", &seed, 0, INT64_MAX);
  args.option("--expand", &expand_from);
  args.option("--format", &format);
  args.option("--users-x", &users_x, 1, 4096);
  args.option("--items-x", &items_x, 1, 4096);
  return ncf::cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    args.require("--out");
    if (args.given("--expand")) {
      for (const char* option : {"--users", "--items", "--ratings"}) args.exclusive(option, "--expand");
      const auto kind = ncf::from_string<ncf::data::DataFormat>(format);
      if (!kind || *kind == ncf::data::DataFormat::ncf || *kind == ncf::data::DataFormat::csv)
        throw ncf::cli::ArgumentError("--format " + format +
                                      ": expected movielens-udata, movielens-dat or movielens-csv");
      expand.user_factor = static_cast<int32_t>(users_x);
      expand.item_factor = static_cast<int32_t>(items_x);
      if (args.given("--seed")) expand.seed = static_cast<uint64_t>(seed);
      const ncf::data::Interactions source = ncf::data::read_ratings(*kind, expand_from);
      const ncf::data::Interactions grown = ncf::data::expand_interactions(source, expand);
      ncf::make_directories(ncf::parent_folder(out));
      ncf::data::write_ratings_csv(grown, out);
      std::printf("wrote %s: %lld ratings, %d users, %d items (%s x%d users x%d items, seed %llu)\n",
                  out.c_str(), static_cast<long long>(grown.size()), grown.num_users(), grown.num_items(),
                  expand_from.c_str(), expand.user_factor, expand.item_factor,
                  static_cast<unsigned long long>(expand.seed));
      return 0;
    }
    for (const char* option : {"--format", "--users-x", "--items-x"})
      if (args.given(option))
        throw ncf::cli::ArgumentError(std::string(option) + " is used only with --expand");
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
