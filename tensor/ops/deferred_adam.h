// Dense Adam on row-sparse gradients, deferred (CPU): the same numbers as dense_adam_step_rowsparse
// (every row moves every step, untouched rows with g = 0), to rounding, at the cost of the touched
// rows only. Needs weight decay 0 (else an untouched row's gradient is not 0).
//
// Why it can be exact: a row untouched since step s has, at step k = s + j, m_k = b1^j m_s and
// v_k = b2^j v_s, so the skipped updates sum to
//   sum_j a_j m_s / (c_j x + eps),  a_j = lr b1^j / (1 - b1^k),  c_j = b2^(j/2) / sqrt(1 - b2^k),
// with x = sqrt(v_s): per-step scalars a_j, c_j and one number x per element. Around the window's
// weighted mean c of the c_j, 1 / (c_j x + eps) = sum_q (-(c_j - c) x)^q / (c x + eps)^(q+1), so
// the sum is m_s / (c x + eps) sum_q E_q w^q with w = -x / (c x + eps) and E_q = sum_j a_j (c_j - c)^q,
// scalars shared by every element with the same gap. Its ratio is at most max_j |c_j - c| / c
// (a few percent once the bias corrections settle, whatever eps and x are): as many terms as
// reach the type's rounding (about 9 in f32, 13 in f64). In the first steps, where the c_j spread widely, the
// skipped steps are summed one by one. Terms beyond j = kWindow (b1^j < 2e-12 of the first) are dropped.
//
// The tables hold parameters, moments and, per row, the step it is current at; flush() brings every
// row up to the last step (before anything reads the parameters or the moments).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tensor/ops/index.h"
#include "tensor/ops/optimizer.h"
#include "tensor/tensor.h"

namespace ncf::ops {

class DeferredAdam {
 public:
  static constexpr int kWindow = 256;  // skipped steps summed (b1^256 ~ 2e-12)
  static constexpr int kTerms = 24;    // most powers of the expansion (fewer where they suffice)

  // lr, betas and eps of every step to come (lr stays fixed); weight decay must be 0. `dtype`: the
  // tables' type, whose rounding of the constants the dense update has.
  DeferredAdam(const AdamSettings& settings, DType dtype);

  // Step s.step for one table: rows of `grad` are caught up, then updated with their gradient.
  // `row_step[r]` is the step row r is current at (0 at the start); all CPU, f32 or f64.
  void step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
            std::vector<int64_t>& row_step, int64_t step);
  // Brings rows `indices` (i32, any order, repeats allowed) up to `step` (the last step taken):
  // what a forward pass must do before it reads them.
  void catch_up_rows(Tensor& param, const Tensor& indices, Tensor& exp_avg, Tensor& exp_avg_sq,
                     std::vector<int64_t>& row_step, int64_t step);
  // Brings every row of the table up to `step` (the last step taken).
  void flush(Tensor& param, Tensor& exp_avg, Tensor& exp_avg_sq, std::vector<int64_t>& row_step,
             int64_t step);

  // The scalars of step k (1-based): lr / (1 - b1^k) and 1 / sqrt(1 - b2^k), as the update rounds them.
  double lr_over_bc1(int64_t k) const;
  double inv_sqrt_bc2(int64_t k) const;

 private:
  using Moments = std::array<double, kTerms + 1>;
  struct Expansion {
    double center = 1.0;
    int terms_used = -1;  // highest power used; -1: sum the steps one by one
    Moments terms{};      // E_q
  };
  static constexpr int64_t kDecayTable = 4096;  // b^n tabulated up to here

  void window_expansions(int64_t end, Expansion* out) const;
  const Expansion& full_window(int64_t s);  // the window after step s of kWindow steps (cached)
  void build_window_table(int64_t end);     // table_[n]: the n steps ending at `end`
  template <class T>
  void catch_up(T* p, T* m, T* v, int64_t dim, int64_t s, int64_t n) const;
  template <class T>
  void run(Tensor& param, const RowSparse* grad, Tensor& exp_avg, Tensor& exp_avg_sq,
           std::vector<int64_t>& row_step, int64_t step);
  void check(const Tensor& param, const Tensor& exp_avg, const Tensor& exp_avg_sq,
             const std::vector<int64_t>& row_step, int64_t step, const char* op) const;

  AdamSettings settings_;
  double lr_, eps_, beta1_, beta2_,
      tolerance_;                         // as the dense update sees them (rounded to the tables' type)
  int64_t constant_from_;                 // from this step on, the bias corrections are 1 in double
  std::vector<double> a_, inv_sqrt_bc2_;  // per step, up to constant_from_
  std::vector<Expansion> full_;           // full windows after step s, s = 0 .. constant_from_, once computed
  std::vector<char> full_known_;
  std::array<double, kDecayTable + 1> decay1_, decay2_;  // b1^n, b2^n
  std::array<double, kWindow + 1> half_decay2_;          // b2^(n/2)
  int64_t table_end_ = -1;
  std::vector<Expansion> table_;
};

}  // namespace ncf::ops
