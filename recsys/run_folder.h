// A run folder: everything train_ncf writes, and the one place that knows its layout, so that the
// writer (run_experiment) and the readers (--resume, recommend, NeuMF pre-training) cannot disagree.
//
//   config.json        the resolved config, every key (recsys/config.h)
//   metrics.json       per-epoch loss, timings and metrics; the best and final values; data statistics
//   log.txt            every line the run printed, errors included
//   last.safetensors   the commit point of an epoch, what --resume needs: "model.<name>" parameters,
//                      "optimizer.<name>" state, "best.<name>" the best epoch's parameters, and the
//                      progress (completed epochs, optimizer steps, best epoch, history) as the
//                      metadata entry "state"
//   model.safetensors  the best epoch's parameters by name ("gmf.user", "mlp.0.weight", ...), with the
//                      epoch in its metadata: what recommend, pre-training and Python tools read
//   ids.json           the raw user and item ids by dense id, item titles, and the data's fingerprint
//   seen.safetensors   each user's training items ("offsets", "items": a CSR), so that recommending
//                      from the folder needs no data file
//   curves.svg         learning curves (loss, HR@K and NDCG@K or RMSE and MAE per epoch, the best
//                      epoch marked; recsys/curves.h), rewritten after every epoch, for a browser
// Every file is written to a temporary name and renamed (base/files.h), so none is ever half-written.
// After an epoch, last.safetensors is written first: a kill before the other files are rewritten
// leaves them one epoch behind, never ahead, and --resume rewrites them from it.
#pragma once

#include <cstdint>
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

  // Whether a new run may start in this folder: it may not exist yet, or be empty, or (with
  // `overwrite`) hold files; otherwise ConfigError, before any work starts.
  void check_new(bool overwrite) const;
  // Creates the folder (and its parents); with `overwrite`, first removes the run files it holds
  // (only the files listed above, so nothing else of the user's is deleted).
  void create(bool overwrite) const;
  // Removes the temporary files (<file>.tmp.<pid>) left by a process that was killed mid-write.
  void remove_orphans() const;

  void write_config(const ExperimentConfig& config) const;
  void write_metrics(const nlohmann::json& metrics) const;
  // curves.svg from the trainer's history so far (nothing before the first epoch).
  void write_curves(const Trainer& trainer, const std::string& title) const;

  // ids.json and seen.safetensors for an implicit data set.
  void write_data(const data::ImplicitDataset& data) const;
  // The folder's own copy of the data: ids, titles, users' training items and item popularity
  // (no held-out items or evaluation negatives). What recommend needs, without the data file.
  data::ImplicitDataset read_data() const;
  // The fingerprint (data::fingerprint) of the data the run was trained on, from ids.json.
  uint64_t data_fingerprint() const;

  // last.safetensors: the trainer's model, optimizer state, best parameters and progress.
  void save_checkpoint(Trainer& trainer) const;
  // Reads last.safetensors into a freshly built trainer of the run's config, checking every tensor's
  // name and shape and the progress's consistency first; an error names the file and what is wrong,
  // and leaves the trainer untouched.
  void load_checkpoint(Trainer& trainer) const;
  // model.safetensors from the trainer's best parameters (nothing when no epoch was evaluated).
  void save_best_model(const Trainer& trainer) const;
  // model.safetensors into `model`, naming any missing or misshapen parameter; refuses non-finite values.
  void load_model_into(ScoringModel& model) const;
  std::map<std::string, Tensor> load_model() const;

 private:
  std::string path_;
};

}  // namespace ncf::recsys
