// generate_ratings: writes a MovieLens-shaped ratings.csv of any size (data/synthetic.h).
//   generate_ratings --out datasets/synthetic-ml-20m/ratings.csv [--users 138493 --items 26744
//                    --ratings 20000263 --seed 20]
#include <sys/stat.h>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "data/synthetic.h"

int main(int argc, char** argv) {
  ncf::data::SyntheticConfig config;
  std::string out;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--out")
        out = value();
      else if (arg == "--users")
        config.users = std::stoi(value());
      else if (arg == "--items")
        config.items = std::stoi(value());
      else if (arg == "--ratings")
        config.ratings = std::stoll(value());
      else if (arg == "--seed")
        config.seed = std::stoull(value());
      else if (arg == "-h" || arg == "--help") {
        std::puts("usage: generate_ratings --out FILE [--users N] [--items N] [--ratings N] [--seed S]");
        return 0;
      } else
        throw std::invalid_argument("unknown argument '" + arg + "'");
    }
    if (out.empty()) throw std::invalid_argument("--out FILE is required");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate_ratings: %s\n", e.what());
    return 2;
  }
  try {
    // Create the parent folders (mkdir of an existing one fails harmlessly).
    for (size_t pos = out.find('/', 1); pos != std::string::npos; pos = out.find('/', pos + 1))
      ::mkdir(out.substr(0, pos).c_str(), 0755);
    ncf::data::write_synthetic_csv(config, out);
    std::printf("wrote %s: %lld ratings, %d users, %d items (seed %llu)\n", out.c_str(),
                static_cast<long long>(config.ratings), config.users, config.items,
                static_cast<unsigned long long>(config.seed));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate_ratings: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
