// train_ncf: trains and evaluates one experiment described by a JSON config.
//   train_ncf --config apps/configs/ml-latest-small.json [--set train.epochs=3] [--device cpu|cuda]
//             [--out DIR] [--resume DIR]
// The work itself is recsys::run_experiment (recsys/experiment.h); this file only reads arguments.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "recsys/experiment.h"

namespace {
const char* kUsage = R"(usage: train_ncf --config FILE [options]
       train_ncf --resume RUN_DIR [options]

Trains a recommender (GMF, MLP, NeuMF, ItemPop, biased MF, MLP regressor) as the config says,
evaluates it (HR@K, NDCG@K against sampled negatives and over all items; RMSE/MAE for ratings)
and writes a run folder: config.json, metrics.json, log.txt, model.safetensors (best epoch),
last.safetensors (for --resume), ids.json.

options:
  --config FILE       experiment config (JSON; see apps/configs/ and the README's reference)
  --set KEY=VALUE     override one config value, e.g. --set train.epochs=3 (repeatable)
  --device NAME       auto | cpu | cuda (overrides train.device)
  --out DIR           run folder (default runs/<config name>-<date>-<time>)
  --resume DIR        continue an interrupted run from DIR/last.safetensors
                      (--set train.epochs=N trains it further)
  --root DIR          folder that relative paths in the config start from (default: .)
  --quiet             print nothing (the run folder still gets log.txt)
  --no-progress       plain lines only, even on a terminal
  -h, --help          this text

exit status: 0 success, 2 bad arguments or config (nothing written), 1 any other error.
)";
}  // namespace

int main(int argc, char** argv) {
  ncf::recsys::RunOptions options;
  options.progress_bar = ::isatty(STDERR_FILENO) != 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "train_ncf: %s needs a value\n%s", name, kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--config") {
      options.config_path = value("--config");
    } else if (arg == "--set") {
      options.overrides.push_back(value("--set"));
    } else if (arg == "--device") {
      options.device = value("--device");
    } else if (arg == "--out") {
      options.out_dir = value("--out");
    } else if (arg == "--resume") {
      options.resume_dir = value("--resume");
    } else if (arg == "--root") {
      options.root = value("--root");
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg == "--no-progress") {
      options.progress_bar = false;
    } else {
      std::fprintf(stderr, "train_ncf: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (options.config_path.empty() && options.resume_dir.empty()) {
    std::fprintf(stderr, "train_ncf: --config FILE or --resume DIR is required\n%s", kUsage);
    return 2;
  }
  try {
    ncf::recsys::run_experiment(options);
  } catch (const ncf::ConfigError& e) {
    std::fprintf(stderr, "train_ncf: config error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_ncf: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
