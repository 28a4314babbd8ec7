// train_ncf: trains and evaluates one experiment described by a JSON config.
//   train_ncf --config apps/configs/ml-latest-small.json [--set train.epochs=3] [--device cpu|cuda]
//             [--out DIR] [--resume DIR]
//   mpirun -np 2 train_ncf --config ...   data-parallel over 2 ranks (recsys/distributed.h)
// The work itself is recsys::run_experiment (recsys/experiment.h); this file only reads arguments.
#include <unistd.h>

#include <iostream>
#include <string>

#include "apps/common/cli.h"
#include "recsys/distributed.h"
#include "recsys/experiment.h"

namespace {
const char* kUsage = R"(usage: train_ncf --config FILE [options]
       train_ncf --resume RUN_DIR [options]

Trains a recommender (GMF, MLP, NeuMF; dot MF, iALS, EASE, ItemPop; biased MF, MLP regressor) as
the config says, evaluates it (HR@K, NDCG@K against sampled negatives and over all items; RMSE/MAE
for ratings) and writes a run folder: config.json, metrics.json, log.txt, model.safetensors (best
epoch), last.safetensors (for --resume), ids.json, seen.safetensors, curves.svg (learning curves).

options:
  --config FILE       experiment config (JSON; see apps/configs/ and the README's reference)
  --set KEY=VALUE     override one config value, e.g. --set train.epochs=3 (repeatable)
  --device NAME       auto | cpu | cuda (overrides train.device)
  --out DIR           run folder (default runs/<config name>-<date>-<time>); it must be new or empty
  --overwrite         let --out name a used folder: its run files are replaced
  --resume DIR        continue an interrupted run from DIR/last.safetensors
                      (--set train.epochs=N trains it further)
  --root DIR          folder that relative paths in the config start from (default: .)
  --quiet             print nothing (the run folder still gets log.txt)
  --no-progress       plain lines only, even on a terminal
  --distributed       train data-parallel over MPI even if no launcher announces several ranks
                      (under mpirun -np N with N > 1 this is implied; a build without MPI refuses both)
  -h, --help          this text

Under mpirun every rank trains its share of each batch (the same samples as one process) and the
gradients are summed over the ranks; rank 0 alone prints and writes the run folder.

exit status: 0 success, 2 bad arguments or config (nothing written), 1 any other error.
)";
}  // namespace

int main(int argc, char** argv) {
  ncf::recsys::RunOptions options;
  options.progress_bar = ::isatty(STDERR_FILENO) != 0;
  bool no_progress = false, distributed = false;
  ncf::cli::Parser args("train_ncf", kUsage);
  args.option("--config", &options.config_path);
  args.repeated("--set", &options.overrides);
  args.option("--device", &options.device);
  args.option("--out", &options.out_dir);
  args.flag("--overwrite", &options.overwrite);
  args.option("--resume", &options.resume_dir);
  args.option("--root", &options.root);
  args.flag("--quiet", &options.quiet);
  args.flag("--no-progress", &no_progress);
  args.flag("--distributed", &distributed);
  const auto is_config_error = [](const std::exception& e) {
    return dynamic_cast<const ncf::recsys::ConfigError*>(&e) != nullptr;
  };
  return ncf::cli::run(
      args,
      [&] {
        if (!args.parse(argc, argv)) return 0;
        if (!args.given("--config") && !args.given("--resume"))
          throw ncf::cli::ArgumentError("--config FILE or --resume DIR is required");
        // A resumed run keeps its own config and folder: --config, --out and --overwrite would be ignored.
        for (const char* option : {"--config", "--out", "--overwrite"}) args.exclusive(option, "--resume");
        if (no_progress) options.progress_bar = false;
        const std::unique_ptr<ncf::recsys::Communicator> ranks = ncf::recsys::make_communicator(distributed);
        options.communicator = ranks.get();
        try {
          ncf::recsys::run_experiment(options);
        } catch (const std::exception& e) {
          if (ranks->size() == 1) throw;
          // One rank's error would leave the others waiting in a collective: end them all.
          std::cerr << "train_ncf: error on rank " << ranks->rank() << " of " << ranks->size() << ": "
                    << e.what() << std::endl;
          ranks->abort(is_config_error(e) ? 2 : 1);
        }
        return 0;
      },
      is_config_error);
}
