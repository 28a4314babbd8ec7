// One experiment from a config file to a run folder: what apps/train_ncf does, as a library call
// (so tests can run it in-process). Steps, in order:
//   1. load and validate the config (+ --set overrides): any error stops here, nothing is written;
//   2. pick the device, load and split the data (cached), build the model (and pre-training);
//   3. create the run folder: config.json (resolved), ids.json (raw ids and titles);
//   4. train; after each epoch rewrite metrics.json and last.safetensors, and model.safetensors when
//      the epoch is the best so far; log.txt gets every line printed;
//   5. evaluate the best parameters (full ranking too when asked) and write the final metrics.json.
// Every file is written to a temporary name and renamed, so none is ever half-written.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/config.h"

namespace ncf::recsys {

struct RunOptions {
  std::string config_path;  // a config file (ignored with resume_dir: the run's config.json is used)
  std::vector<std::string> overrides;  // "train.epochs=3"
  std::string device;                  // overrides train.device when non-empty
  std::string out_dir;                 // default runs/<config name>-<timestamp>
  std::string resume_dir;              // continue the run in this folder
  std::string root = ".";              // relative paths in configs are resolved against this
  bool progress_bar = false;           // redraw a bar on stderr (a terminal); else plain lines only
  bool quiet = false;                  // no console output (tests)
};

struct RunResult {
  std::string run_dir;
  nlohmann::json metrics;  // what metrics.json holds
};

RunResult run_experiment(const RunOptions& options);

// The data set of a config (paths resolved against root), through the binary cache.
data::ImplicitDataset load_implicit_data(const ExperimentConfig& config, const std::string& root);

}  // namespace ncf::recsys
