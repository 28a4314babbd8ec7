// One experiment from a config file to a run folder: what apps/train_ncf does, as a library call
// (so tests can run it in-process). Steps, in order:
//   1. load and validate the config (+ --set overrides): any error stops here, nothing is written;
//   2. pick the device, load and split the data (cached), build the trainer (and pre-training);
//   3. create the run folder (recsys/run_folder.h): config.json, ids.json, log.txt;
//   4. train; after each epoch rewrite last.safetensors, metrics.json and curves.svg, and
//      model.safetensors when the epoch is the best so far;
//   5. evaluate the best parameters (full ranking too when asked) and write the final metrics.json.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/implicit_dataset.h"
#include "data/splits.h"
#include "recsys/config.h"
#include "recsys/trainer.h"

namespace ncf::recsys {

struct RunOptions {
  std::string config_path;  // a config file (ignored with resume_dir: the run's config.json is used)
  std::vector<std::string> overrides;  // "train.epochs=3"
  std::string device;                  // overrides train.device when non-empty
  std::string out_dir;                 // default runs/<config name>-<timestamp>
  bool overwrite = false;              // let a new run replace the run files in a used out_dir
  std::string resume_dir;              // continue the run in this folder
  std::string root = ".";              // relative paths in configs are resolved against this
  bool progress_bar = false;           // redraw a bar on stderr (a terminal); else plain lines only
  bool quiet = false;                  // no console output (tests)
  // Data-parallel training over its ranks (recsys/distributed.h; not owned; null: one process). Every
  // rank trains and evaluates; rank 0 alone prints, logs and writes the run folder.
  Communicator* communicator = nullptr;
};

struct RunResult {
  std::string run_dir;
  nlohmann::json metrics;  // what metrics.json holds
};

RunResult run_experiment(const RunOptions& options);

// The config with every path resolved against `root` (absolute paths are kept).
ExperimentConfig with_resolved_paths(ExperimentConfig config, const std::string& root);

// The data of an experiment: an implicit data set (ranking models) or explicit ratings, one of them.
struct ExperimentData {
  std::optional<data::ImplicitDataset> implicit;
  std::optional<data::ExplicitDataset> ratings;
  nlohmann::json stats;  // users, items, training pairs or ratings, test users or ratings
};

// Loads (through the binary cache under root/datasets/.cache) what `config` trains on; its paths
// must be resolved already.
ExperimentData load_experiment_data(const ExperimentConfig& config, const std::string& root);

// The trainer the config asks for, over `data` (which must outlive it).
std::unique_ptr<Trainer> make_trainer(const ExperimentConfig& config, const ExperimentData& data,
                                      Device device);

}  // namespace ncf::recsys
