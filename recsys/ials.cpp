// Implicit ALS (formulation and normal equations in ials.h).
//
// One half-sweep, say the users' (the items' swaps the roles of the two CSR directions):
//   base = alpha0 * gram(H)                                   (d, d), once
//   W    = csr_row_gram_solve(X, H, base, lambda_u)            every user's system, solved:
//          W[u] = (base + lambda_u I + H_u^T H_u)^-1 sum_{i in I_u} h_i
// csr_row_gram_solve (tensor/ops/linalg.h) does on the CPU one fused pass per user (gather the
// user's item rows, rank update, Cholesky, two triangular solves, all in cache), and on the GPU
// csr_row_grams + csr_gemm + cuSOLVER's batched potrf + triangular solves in chunks of users. It
// writes straight into W's rows: W's old values are never read (the systems do not depend on them).
//
// Every op involved is deterministic on the CPU whatever the thread count, and so is the loss
// (per-row partial sums added in row order, Gramians summed over fixed blocks of rows in order).
#include "recsys/ials.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/random.h"

namespace ncf::recsys {

namespace {

constexpr int64_t kLossBlock = 1024;                  // rows per partial Gramian of the loss
constexpr uint32_t kUserStream = 0, kItemStream = 1;  // Philox streams of the initial factors

// x . y over d doubles in 4 lanes folded in order: vectorises, and the order depends on d alone.
double dot4(const double* x, const double* y, int64_t d) {
  double lanes[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t c = 0;
  for (; c + 4 <= d; c += 4) {
#pragma omp simd
    for (int l = 0; l < 4; ++l) lanes[l] += x[c + l] * y[c + l];
  }
  for (int l = 0; c + l < d; ++l) lanes[l] += x[c + l] * y[c + l];
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

std::vector<double> host_doubles(const Tensor& t) {
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  const std::vector<float> values = t.to_vector<float>();
  return std::vector<double>(values.begin(), values.end());
}

// sum over rows of the (d, d) products row^T row, in f64: fixed blocks of kLossBlock rows are
// summed in parallel, then the block sums are added in block order.
std::vector<double> gram_f64(const std::vector<double>& rows, int64_t count, int64_t d) {
  const int64_t blocks = (count + kLossBlock - 1) / kLossBlock;
  std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(blocks, 1) * d * d), 0.0);
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    double* g = partial.data() + b * d * d;
    for (int64_t r = b * kLossBlock; r < std::min(count, (b + 1) * kLossBlock); ++r) {
      const double* x = rows.data() + r * d;
      for (int64_t i = 0; i < d; ++i) {
        const double xi = x[i];
        double* g_i = g + i * d;
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) g_i[j] += xi * x[j];
      }
    }
  }
  std::vector<double> total(static_cast<size_t>(d * d), 0.0);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t e = 0; e < d * d; ++e) total[e] += partial[b * d * d + e];
  return total;
}

// sum_r weight[r] ||row r||^2, per-row terms added in row order.
double weighted_square_norms(const std::vector<double>& rows, const std::vector<double>& weight, int64_t d) {
  const int64_t count = static_cast<int64_t>(weight.size());
  std::vector<double> terms(static_cast<size_t>(count));
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
  for (int64_t r = 0; r < count; ++r) {
    terms[r] = weight[r] * dot4(rows.data() + r * d, rows.data() + r * d, d);
  }
  double total = 0.0;
  for (double t : terms) total += t;
  return total;
}

void check_factors(const ImplicitCsr& csr, const Tensor& users, const Tensor& items, const char* op) {
  NCF_CHECK(users.defined() && items.defined() && users.ndim() == 2 && items.ndim() == 2 &&
                users.dim(0) == csr.by_user.rows && items.dim(0) == csr.by_user.cols &&
                users.dim(1) == items.dim(1),
            op << ": factors must be (" << csr.by_user.rows << ", d) and (" << csr.by_user.cols
               << ", d), got " << users.describe() << " and " << items.describe());
  NCF_CHECK(
      users.dtype() == items.dtype() && (users.dtype() == DType::f32 || users.dtype() == DType::f64),
      op << ": factors must share dtype f32 or f64, got " << users.describe() << " and " << items.describe());
}

}  // namespace

void validate(const IalsConfig& c) {
  NCF_CHECK(c.dim >= 1, "iALS: dim must be >= 1, got " << c.dim);
  NCF_CHECK(c.unobserved_weight >= 0.0 && std::isfinite(c.unobserved_weight),
            "iALS: unobserved_weight (alpha0) must be finite and >= 0, got " << c.unobserved_weight);
  NCF_CHECK(c.regularization >= 0.0 && std::isfinite(c.regularization),
            "iALS: regularization (lambda) must be finite and >= 0, got " << c.regularization);
  NCF_CHECK(std::isfinite(c.frequency_exponent),
            "iALS: frequency_exponent (nu) must be finite, got " << c.frequency_exponent);
  NCF_CHECK(c.init_stddev >= 0.0 && std::isfinite(c.init_stddev),
            "iALS: init_stddev must be finite and >= 0, got " << c.init_stddev);
  NCF_CHECK(c.sweeps >= 0, "iALS: sweeps must be >= 0, got " << c.sweeps);
  NCF_CHECK(c.dtype == DType::f32 || c.dtype == DType::f64,
            "iALS: dtype must be f32 or f64, got " << dtype_name(c.dtype));
}

ImplicitCsr make_implicit_csr(const data::ImplicitDataset& data, Device device) {
  const ops::BinaryCsr by_user = ops::make_binary_csr(data.train_offsets, data.train_item, data.num_items);
  const ops::BinaryCsr by_item = ops::transpose(by_user);
  auto to_device = [&](const ops::BinaryCsr& x) {
    return ops::BinaryCsr{x.offsets.to(device), x.indices.to(device), x.rows, x.cols};
  };
  return ImplicitCsr{to_device(by_user), to_device(by_item)};
}

std::vector<double> ials_regularization(const ops::BinaryCsr& rows, int64_t other_side,
                                        const IalsConfig& config) {
  const std::vector<int32_t> offsets = rows.offsets.to_vector<int32_t>();
  std::vector<double> shift(static_cast<size_t>(rows.rows));
  for (int64_t r = 0; r < rows.rows; ++r) {
    const double count = static_cast<double>(offsets[r + 1] - offsets[r]);
    shift[r] =
        config.regularization * std::pow(count + config.unobserved_weight * static_cast<double>(other_side),
                                         config.frequency_exponent);
  }
  return shift;
}

double ials_loss(const ImplicitCsr& csr, const Tensor& users, const Tensor& items, const IalsConfig& config) {
  check_factors(csr, users, items, "ials_loss");
  const int64_t d = users.dim(1), num_users = users.dim(0), num_items = items.dim(0);
  const std::vector<double> w = host_doubles(users), h = host_doubles(items);
  const std::vector<int32_t> offsets = csr.by_user.offsets.to_vector<int32_t>();
  const std::vector<int32_t> indices = csr.by_user.indices.to_vector<int32_t>();

  // Observed pairs: sum (1 - <w_u, h_i>)^2, one partial per user, added in user order.
  std::vector<double> per_user(static_cast<size_t>(num_users));
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 64)
  for (int64_t u = 0; u < num_users; ++u) {
    double sum = 0.0;
    for (int32_t e = offsets[u]; e < offsets[u + 1]; ++e) {
      const double score = dot4(w.data() + u * d, h.data() + static_cast<int64_t>(indices[e]) * d, d);
      sum += (1.0 - score) * (1.0 - score);
    }
    per_user[u] = sum;
  }
  double observed = 0.0;
  for (double s : per_user) observed += s;

  // Every pair: <W^T W, H^T H>_F.
  const std::vector<double> wtw = gram_f64(w, num_users, d), hth = gram_f64(h, num_items, d);
  double all_pairs = 0.0;
  for (int64_t e = 0; e < d * d; ++e) all_pairs += wtw[e] * hth[e];

  const double penalty = weighted_square_norms(w, ials_regularization(csr.by_user, num_items, config), d) +
                         weighted_square_norms(h, ials_regularization(csr.by_item, num_users, config), d);
  return observed + config.unobserved_weight * all_pairs + penalty;
}

Ials::Ials(const IalsConfig& config, const data::ImplicitDataset& data, Device device)
    : Ials(config, (validate(config), make_implicit_csr(data, device))) {}

Ials::Ials(const IalsConfig& config, ImplicitCsr csr) : config_(config), csr_(std::move(csr)) {
  validate(config_);
  const Device device = csr_.by_user.device();
  NCF_CHECK(csr_.by_item.device() == device && csr_.by_item.rows == csr_.by_user.cols &&
                csr_.by_item.cols == csr_.by_user.rows,
            "iALS: by_item (" << csr_.by_item.rows << " x " << csr_.by_item.cols << ", "
                              << csr_.by_item.device() << ") is not the transpose of by_user ("
                              << csr_.by_user.rows << " x " << csr_.by_user.cols << ", " << device << ")");
  const int64_t num_users = csr_.by_user.rows, num_items = csr_.by_user.cols;
  users_ = Tensor::empty({num_users, config_.dim}, config_.dtype, device);
  items_ = Tensor::empty({num_items, config_.dim}, config_.dtype, device);
  ops::normal_(users_, 0.0, config_.init_stddev, config_.seed, kUserStream);
  ops::normal_(items_, 0.0, config_.init_stddev, config_.seed, kItemStream);
  auto shift_tensor = [&](const std::vector<double>& shift) {
    const int64_t n = static_cast<int64_t>(shift.size());
    if (config_.dtype == DType::f64) return Tensor::from_vector(shift, {n}, device);
    return Tensor::from_vector(std::vector<float>(shift.begin(), shift.end()), {n}, device);
  };
  user_shift_ = shift_tensor(ials_regularization(csr_.by_user, num_items, config_));
  item_shift_ = shift_tensor(ials_regularization(csr_.by_item, num_users, config_));
}

void Ials::solve_users() { solve_side(csr_.by_user, user_shift_, items_, users_, "user"); }
void Ials::solve_items() { solve_side(csr_.by_item, item_shift_, users_, items_, "item"); }

void Ials::solve_side(const ops::BinaryCsr& rows, const Tensor& shift, const Tensor& fixed, Tensor& solved,
                      const char* side) {
  if (rows.rows == 0) return;
  const Tensor base = ops::scale(ops::gram(fixed), config_.unobserved_weight);
  try {
    ops::csr_row_gram_solve(rows, fixed, base, shift, solved);
  } catch (const Error& error) {
    NCF_FAIL("iALS: solving the " << side << "s (alpha0 = " << config_.unobserved_weight
                                  << ", lambda = " << config_.regularization
                                  << "; both 0 leave a row without positives singular): " << error.what());
  }
}

}  // namespace ncf::recsys
