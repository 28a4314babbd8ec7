// Every item's score for a block of users, on the device: what recommending for everyone, a single
// user's top K, full-ranking evaluation and fold-in all need.
//   score(users): users (b,) dense ids on the host -> (b, items) f32 on the device, row j for users[j]
//
// Two ways to get there, chosen by the model:
//   bilinear (GMF, biased MF; any model whose ScoringModel::bilinear_factors() answers): one GEMM per
//     block, gather(U', users) @ V'^T, where U' = [U | b_u | 1] and V' = [V | 1 | b_i + b] carry the
//     biases in two extra columns so that the product alone is the score. U' and V' are built once.
//     Block of 1024 users x 3706 items with f = 8: 35 M multiply-adds, a millisecond or two.
//   sparse (EASE): X[users] B, the block's training rows times the item-item weights, one
//     sparse-dense product per block (EaseModel::block_scores).
//   pairwise (MLP, NeuMF, ItemPop, any Scorer): every (user, item) pair of the block through the
//     Scorer, chunk_rows pairs per call: the ReLU tower runs once per pair, so this costs
//     users x items forward passes.
// Both give the same scores up to float rounding (the bilinear path multiplies q_i by w first).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "recsys/evaluator.h"
#include "recsys/models.h"

namespace ncf::recsys {

struct BlockScorer {
  std::function<Tensor(const std::vector<int32_t>& users)> score;  // -> (users.size(), items) f32
  int64_t items = 0;
  std::string path;  // how the scores are made, for messages: "bilinear: one GEMM per block (...)"
};

// From a bilinear model's factors (f32, all on `device`).
BlockScorer bilinear_block_scorer(const BilinearFactors& factors, Device device);
// From any Scorer, its pairs in calls of about chunk_rows rows (0: 2^18 on a GPU, 2^14 on the CPU,
// the evaluator's sizes).
BlockScorer pairwise_block_scorer(Scorer scorer, int64_t num_items, Device device, int64_t chunk_rows = 0);
// The bilinear path when the model offers it, else the pairwise one over model_scorer(model).
// The model must outlive the result; the bilinear factors are taken from its parameters now.
BlockScorer block_scorer(ScoringModel& model, int64_t num_items, Device device);

// Users per block such that a block's (users, items) scores hold about 2^22 values on the CPU
// (16 MB, within a server's last-level cache, where the top-K then finds the GEMM's output) and 2^25
// on a GPU (128 MB: few launches). Fewer, larger blocks also mean fewer parallel regions, which
// matters on a busy CPU, where each region can wait a scheduler time slice for its second thread.
int64_t users_per_block(int64_t num_items, Device device);

}  // namespace ncf::recsys
