// A run folder: everything train_ncf writes, and the one place that knows its layout, so that the
// writer (run_experiment) and the readers (--resume, recommend, NeuMF pre-training) cannot disagree.
//
//   config.json        the resolved config, every key (recsys/config.h)
//   metrics.json       per-epoch loss, timings and metrics; the best and final values; data statistics
//   log.txt            every line the run printed
//   model.safetensors  the best epoch's parameters, by name ("gmf.user", "mlp.0.weight", ...)
//   last.safetensors   what --resume needs: "model.<name>" parameters, "optimizer.<name>" state, and
//                      the progress (completed epochs, optimizer steps, best epoch, history) as the
//                      metadata entry "state"
//   ids.json           raw user and item ids by dense id, and item titles
// Every file is written to a temporary name and renamed (base/files.h), so none is ever half-written.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "data/implicit_dataset.h"
#include "recsys/config.h"
#include "recsys/trainer.h"

namespace ncf::recsys {

// Metrics and epoch records as JSON, the form metrics.json and last.safetensors hold them in.
nlohmann::json ranking_json(const RankingMetrics& metrics);
nlohmann::json epoch_json(const EpochRecord& record, bool is_explicit);
EpochRecord epoch_from_json(const nlohmann::json& j, int64_t k, bool is_explicit);

class RunFolder {
 public:
  explicit RunFolder(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Creates the folder (and its parents) if needed.
  void create() const;
  void write_config(const ExperimentConfig& config) const;
  void write_ids(const data::ImplicitDataset& data) const;
  void write_metrics(const nlohmann::json& metrics) const;

  // model.safetensors: the parameters of `model` (the best epoch so far), and reading them back.
  void save_model(ScoringModel& model) const;
  std::map<std::string, Tensor> load_model() const;
  // Copies model.safetensors into `model`, naming any missing or misshapen parameter.
  void load_model_into(ScoringModel& model) const;

  // last.safetensors: the trainer's model, optimizer state and progress after its last epoch.
  void save_checkpoint(Trainer& trainer) const;
  // Restores all of it into a freshly built trainer of the same config (model.safetensors gives
  // the best parameters).
  void load_checkpoint(Trainer& trainer) const;

 private:
  std::string path_;
};

}  // namespace ncf::recsys
