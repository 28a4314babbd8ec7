// Learning curves of a run as one self-contained SVG file (hand-written markup: no script, no
// library, no external font), what a run folder's curves.svg holds; a browser shows it as it is.
// Two panels over the epochs:
//   left:   the mean training loss of each epoch (binary cross-entropy; MSE for rating models)
//   right:  test HR@K and NDCG@K of each evaluated epoch (validation ones dashed when the split has a
//           validation item); RMSE and MAE for rating models
// The best epoch, the one model.safetensors holds, is a dashed vertical line through both panels,
// labelled, with its points circled. Epochs that were not evaluated have a loss point only.
#pragma once

#include <string>
#include <vector>

#include "recsys/trainer.h"

namespace ncf::recsys {

// `best_epoch` 0: none yet (no line). `title` is escaped, so any text will do.
std::string learning_curves_svg(const std::vector<EpochRecord>& history, int64_t best_epoch, bool is_explicit,
                                const std::string& title);

}  // namespace ncf::recsys
