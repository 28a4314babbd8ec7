// Every piece of kernel arithmetic written as a __host__ __device__ function (NCF_HD), called
// directly on the CPU: a GPU thread runs exactly this code, so a wrong value here is a wrong value
// there, found without a GPU. Also the host-side arithmetic that decides a kernel's summation order
// or index handling (the column-sum plan, the sort key bits), and the device counters of a CPU build.
//   math.h                 math_exp / log1p / sqrt / fma, stable_sigmoid, log1p_exp_negative_abs
//   elementwise_functors.h every unary, binary and backward functor
//   loss_functors.h        BCE-with-logits and squared error, with their gradients
//   optimizer_functors.h   AdamUpdate (make and one element), SgdUpdate (plain, first step, momentum)
//   random_functors.h      uniform, normal, randperm keys, dropout masks
//   philox.h               mulhilo, unit float / double, below, normal (the rounds: test_random.cpp)
//   index_functors.h       segment_key, key_bits, is_row, is_row_padding
//   reduce_plan.h          column_sum_plan: covers every element once, one pass for the step's shapes
// (sampling_core.h and random_streams.h are tested in tests/data/test_sampler.cpp.)
// Tolerances: references in long double; results must be within a few ulps of T, stated per check.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tensor/device_counters.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/elementwise_functors.h"
#include "tensor/ops/index_functors.h"
#include "tensor/ops/loss_functors.h"
#include "tensor/ops/math.h"
#include "tensor/ops/optimizer_functors.h"
#include "tensor/ops/random_functors.h"
#include "tensor/ops/reduce_plan.h"
#include "tensor/philox.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::ops;

namespace {

// |got - want| <= ulps * (the spacing of T at want) + the smallest normal (so that 0 works).
template <class T>
bool within_ulps(T got, long double want, int ulps) {
  const long double spacing = std::fabs(
      static_cast<long double>(std::nextafter(static_cast<T>(want), std::numeric_limits<T>::infinity())) -
      static_cast<long double>(static_cast<T>(want)));
  return std::fabs(static_cast<long double>(got) - want) <=
         ulps * spacing + static_cast<long double>(std::numeric_limits<T>::min());
}

long double sigmoid_ld(long double x) { return 1.0L / (1.0L + std::exp(-x)); }

template <class T>
std::vector<T> probe_values() {
  return {T(-1e4), T(-100), T(-30), T(-5.5), T(-1), T(-0.25), T(-1e-6), T(0),
          T(1e-6), T(0.25), T(1),   T(5.5),  T(30), T(100),   T(1e4)};
}

}  // namespace

TEST_CASE_TEMPLATE("math.h: exp, log1p, sqrt, fma and the stable logistic forms, f32 and f64", T, float,
                   double) {
  for (T x : probe_values<T>()) {
    CAPTURE(x);
    if (std::fabs(x) <= 80) CHECK(within_ulps<T>(math_exp(x), std::exp(static_cast<long double>(x)), 2));
    if (x > -1) CHECK(within_ulps<T>(math_log1p(x), std::log1p(static_cast<long double>(x)), 2));
    if (x >= 0) CHECK(within_ulps<T>(math_sqrt(x), std::sqrt(static_cast<long double>(x)), 1));
    // stable_sigmoid: both branches, never NaN, within 4 ulps, and exact at 0.
    const T s = stable_sigmoid(x);
    CHECK(std::isfinite(s));
    CHECK(s >= T(0));
    CHECK(s <= T(1));
    CHECK(within_ulps<T>(s, sigmoid_ld(x), 4));
    // log(1 + exp(-|x|)): even in x, finite, within 4 ulps.
    const T l = log1p_exp_negative_abs(x);
    CHECK(l == log1p_exp_negative_abs(T(-x)));
    CHECK(within_ulps<T>(l, std::log1p(std::exp(-std::fabs(static_cast<long double>(x)))), 4));
  }
  CHECK(stable_sigmoid(T(0)) == T(0.5));
  CHECK(log1p_exp_negative_abs(T(0)) == static_cast<T>(std::log(2.0L)));
  // fma rounds once: fma(a, a, -(a*a rounded)) is the rounding error of the product, exactly:
  // a = 1 + 2^-h has a^2 = 1 + 2^(1-h) + 2^-2h, whose last term T cannot hold.
  const int h = std::numeric_limits<T>::digits / 2 + 1;
  const T a = T(1) + std::ldexp(T(1), -h);
  volatile T product = a * a;  // volatile: the compiler may not fuse this product into the fma below
  CHECK(math_fma(a, a, T(-product)) == std::ldexp(T(1), -2 * h));
}

TEST_CASE_TEMPLATE("elementwise functors: each one against its formula", T, float, double) {
  for (T x : probe_values<T>()) {
    CAPTURE(x);
    CHECK(ReluFn{}(x) == (x > 0 ? x : T(0)));
    // log(sigmoid(x)) = -log(1 + e^-x) = x - log(1 + e^x), each form taken where it does not cancel.
    const long double xl = x;
    const long double log_sigmoid = x >= 0 ? -std::log1p(std::exp(-xl)) : xl - std::log1p(std::exp(xl));
    CHECK(within_ulps<T>(LogSigmoidFn{}(x), log_sigmoid, 4));
    CHECK(ScaleFn{-0.37}(x) == static_cast<T>(-0.37) * x);
    const T b = T(1.75);
    CHECK(AddFn{}(x, b) == x + b);
    CHECK(SubFn{}(x, b) == x - b);
    CHECK(MulFn{}(x, b) == x * b);
    // Backwards: relu passes the gradient where the output is positive; log_sigmoid's is g * sigmoid(-x).
    CHECK(ReluBackwardFn{}(T(0.5), ReluFn{}(x)) == (x > 0 ? T(0.5) : T(0)));
    CHECK(within_ulps<T>(LogSigmoidBackwardFn{}(T(0.5), x), 0.5L * sigmoid_ld(-static_cast<long double>(x)),
                         4));
    // axpy: y + alpha * x with one rounding.
    CHECK(AxpyFn{0.3}(b, x) == math_fma(static_cast<T>(0.3), x, b));
  }
  CHECK(ReluBackwardFn{}(T(2), T(0)) == T(0));  // the kink: no gradient at exactly 0
  CHECK(ReluFn{}(T(-0.0)) == T(0));
}

TEST_CASE_TEMPLATE("loss functors: BCE with logits, squared error and their gradients", T, float, double) {
  for (T x : probe_values<T>()) {
    for (T y : {T(0), T(1)}) {
      CAPTURE(x);
      CAPTURE(y);
      // max(x, 0) - x y + log(1 + exp(-|x|)) equals -[y log s(x) + (1 - y) log(1 - s(x))].
      const long double xl = x;
      const long double want = std::fmax(xl, 0.0L) - xl * y + std::log1p(std::exp(-std::fabs(xl)));
      const T got = BceWithLogitsFn{}(x, y);
      CHECK(std::isfinite(got));
      CHECK(within_ulps<T>(got, want, 4));
      if (std::fabs(x) <= 5) {
        const long double textbook = -(y * std::log(sigmoid_ld(xl)) + (1 - y) * std::log(1 - sigmoid_ld(xl)));
        CHECK(std::fabs(static_cast<long double>(got) - textbook) <= 8 * std::numeric_limits<T>::epsilon());
      }
      // (sigmoid(x) - y): an absolute error of a few ulps of 1 (the subtraction cancels near y).
      CHECK(std::fabs(static_cast<long double>(BceWithLogitsGradFn{}(x, y)) - (sigmoid_ld(xl) - y)) <=
            4 * std::numeric_limits<T>::epsilon());
    }
  }
  CHECK(SquaredErrorFn{}(T(3.5), T(1.25)) == T(2.25) * T(2.25));
  CHECK(SquaredErrorGradFn{}(T(3.5), T(1.25)) == T(4.5));
  CHECK(SquaredErrorFn{}(T(-2), T(-2)) == T(0));
}

TEST_CASE_TEMPLATE("optimizer functors: one Adam element by hand, SGD with and without momentum", T, float,
                   double) {
  const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, wd = 0.1;
  const int64_t step = 3;
  const auto update = AdamUpdate<T>::make(lr, beta1, beta2, eps, wd, step);
  CHECK(update.bias_correction1 == static_cast<T>(1 - std::pow(0.9, 3.0)));
  CHECK(update.bias_correction2 == static_cast<T>(1 - std::pow(0.999, 3.0)));
  CHECK(update.one_minus_beta1 == static_cast<T>(1.0 - beta1));
  T p = T(0.5), m = T(0.02), v = T(0.003);
  update(p, T(0.25), m, v);
  // The formula of optimizer.h in long double, from the same T-rounded constants (values chosen
  // without cancellation, so that a few ulps is a fair bound).
  const long double g = 0.25L + static_cast<long double>(update.weight_decay) * 0.5L;
  const long double m_want = static_cast<long double>(update.beta1) * static_cast<long double>(T(0.02)) +
                             static_cast<long double>(update.one_minus_beta1) * g;
  const long double v_want = static_cast<long double>(update.beta2) * static_cast<long double>(T(0.003)) +
                             static_cast<long double>(update.one_minus_beta2) * g * g;
  const long double p_want =
      0.5L - static_cast<long double>(update.lr) *
                 (m_want / static_cast<long double>(update.bias_correction1)) /
                 (std::sqrt(v_want / static_cast<long double>(update.bias_correction2)) +
                  static_cast<long double>(update.eps));
  CHECK(within_ulps<T>(m, m_want, 4));
  CHECK(within_ulps<T>(v, v_want, 4));
  CHECK(within_ulps<T>(p, p_want, 16));

  // SGD: no buffer (momentum 0): p -= lr (g + wd p).
  const SgdUpdate<T> plain{T(0.1), T(0), T(0.5), false};
  T q = T(2);
  plain(q, T(1), nullptr);
  CHECK(q == T(2) - T(0.1) * (T(1) + T(0.5) * T(2)));
  // First momentum step: buf = g'; later: buf = momentum buf + g'.
  const SgdUpdate<T> first{T(0.1), T(0.9), T(0), true};
  const SgdUpdate<T> later{T(0.1), T(0.9), T(0), false};
  T r = T(1), buffer = T(123);
  first(r, T(0.5), &buffer);
  CHECK(buffer == T(0.5));
  CHECK(r == T(1) - T(0.1) * T(0.5));
  later(r, T(0.5), &buffer);
  CHECK(buffer == T(0.9) * T(0.5) + T(0.5));
}

TEST_CASE("random functors: each value is the documented function of one Philox draw") {
  for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{77}, (uint64_t{1} << 33) + 5}) {
    CAPTURE(i);
    const Philox4 r = philox_draw(9, 4, i);
    const float uf = random_uniform_value<float>(9, 4, i, -0.25, 0.75);
    CHECK(uf == math_fma(1.0f, philox_unit_float(r.v[0]), -0.25f));
    CHECK(uf >= -0.25f);
    CHECK(uf < 0.75f);
    const double ud = random_uniform_value<double>(9, 4, i, -0.25, 0.75);
    CHECK(ud == math_fma(1.0, philox_unit_double(r.v[0], r.v[1]), -0.25));
    const double u1 = 1.0 - philox_unit_double(r.v[0], r.v[1]), u2 = philox_unit_double(r.v[2], r.v[3]);
    CHECK(philox_normal_double(r) == std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    CHECK(random_normal_value<double>(9, 4, i, 1.0, 0.5) == math_fma(0.5, philox_normal_double(r), 1.0));
    CHECK(random_normal_value<float>(9, 4, i, 1.0, 0.5) ==
          math_fma(0.5f, philox_normal(r.v[0], r.v[1]), 1.0f));
    CHECK(randperm_key(9, 4, i) == ((uint64_t{r.v[0]} << 32) | r.v[1]));
    // Dropout keeps an element when its uniform draw is >= p: p = 0 keeps all, p = 1 none.
    CHECK(dropout_keep(9, 4, i, 0.0f));
    CHECK_FALSE(dropout_keep(9, 4, i, 1.0f));
    CHECK(dropout_keep(9, 4, i, 0.3f) == (philox_unit_float(r.v[0]) >= 0.3f));
  }
}

TEST_CASE("philox.h helpers: mulhilo, unit float and double, below, normal at their edges") {
  uint32_t hi = 0, lo = 0;
  philox_mulhilo(0xD2511F53u, 0xFFFFFFFFu, hi, lo);
  const uint64_t product = uint64_t{0xD2511F53u} * uint64_t{0xFFFFFFFFu};
  CHECK(hi == static_cast<uint32_t>(product >> 32));
  CHECK(lo == static_cast<uint32_t>(product));
  CHECK(philox_unit_float(0) == 0.0f);
  CHECK(philox_unit_float(0xFFFFFFFFu) == 1.0f - std::ldexp(1.0f, -24));  // below 1, exactly
  CHECK(philox_unit_double(0, 0) == 0.0);
  CHECK(philox_unit_double(0xFFFFFFFFu, 0xFFFFFFFFu) < 1.0);
  CHECK(philox_unit_double(0xFFFFFFFFu, 0xFFFFFFFFu) == 1.0 - std::ldexp(1.0, -53));
  for (uint32_t n : {1u, 2u, 7u, 3706u, 0x7FFFFFFFu}) {
    CAPTURE(n);
    CHECK(philox_below(0, n) == 0u);
    CHECK(philox_below(0xFFFFFFFFu, n) == n - 1);
    CHECK(philox_below(0x80000000u, n) == n / 2);
  }
  // The normal draw stays finite at both ends of the first word (u1 = 2^-32 and u1 = 1).
  CHECK(std::isfinite(philox_normal(0, 0)));
  CHECK(philox_normal(0xFFFFFFFFu, 0) == 0.0f);
  CHECK(std::fabs(philox_normal(0, 0) -
                  static_cast<float>(std::sqrt(-2.0 * std::log(std::ldexp(1.0, -32))))) <= 1e-6f);
}

TEST_CASE("index functors: sort keys put every bad index after every row, in few bits") {
  // The case the GPU got wrong: index 130 of a 100-row table sorted by its low 7 bits is a 2.
  CHECK((130 & ((1 << key_bits(99)) - 1)) == 2);
  CHECK(segment_key(130, 100) == 100);
  CHECK(segment_key(2, 100) == 2);
  CHECK(segment_key(0, 100) == 0);
  CHECK(segment_key(99, 100) == 99);
  CHECK(segment_key(100, 100) == 100);
  CHECK(segment_key(-1, 100) == 100);
  CHECK(segment_key(std::numeric_limits<int32_t>::min(), 100) == 100);
  CHECK(segment_key(std::numeric_limits<int32_t>::max(), 100) == 100);
  // key_bits(max_key): the fewest low bits that tell 0..max_key apart.
  CHECK(key_bits(0) == 1);
  CHECK(key_bits(1) == 1);
  CHECK(key_bits(2) == 2);
  CHECK(key_bits(100) == 7);
  CHECK(key_bits(127) == 7);
  CHECK(key_bits(128) == 8);
  CHECK(key_bits(int64_t{1} << 30) == 31);
  CHECK(key_bits(std::numeric_limits<int32_t>::max() - 1) == 31);
  for (int64_t rows : {1, 2, 3, 100, 127, 128, 1000, 138493}) {
    CAPTURE(rows);
    const int64_t mask = (int64_t{1} << key_bits(rows)) - 1;
    CHECK((rows & mask) == rows);            // the bad-index key survives the bit range...
    CHECK(((rows - 1) & mask) == rows - 1);  // ...and so does every row
  }
  CHECK(is_row(0, 5));
  CHECK(is_row(4, 5));
  CHECK_FALSE(is_row(5, 5));
  CHECK_FALSE(is_row(-1, 5));
  CHECK(is_row_padding(5, 5));
  CHECK_FALSE(is_row_padding(6, 5));
  CHECK_FALSE(is_row_padding(-1, 5));
}

TEST_CASE("column_sum_plan: every element summed once, one pass for small shapes, many blocks for large") {
  const int threads = 256;
  struct Case {
    int64_t outer, len, inner;
  };
  for (const Case c : std::vector<Case>{{1, 256, 64},
                                        {1, 256, 1},
                                        {1, 1 << 20, 256},
                                        {1, 1 << 20, 1},
                                        {1, 1 << 20, 64},
                                        {6, 5, 1320},
                                        {30, 40, 33},
                                        {3, 50000, 7},
                                        {1, 0, 5},
                                        {1, 1, 1},
                                        {2, 131075, 256},
                                        {1, 1000003, 3}}) {
    CAPTURE(c.outer);
    CAPTURE(c.len);
    CAPTURE(c.inner);
    const ColumnSumPlan plan = column_sum_plan(c.outer, c.len, c.inner, threads);
    CHECK(plan.tile * plan.lanes == threads);
    CHECK((plan.tile & (plan.tile - 1)) == 0);
    CHECK(plan.tile <= 32);
    CHECK(plan.tile >= (c.inner < 32 ? c.inner : 32));
    CHECK(plan.tiles * plan.tile >= c.inner);
    CHECK((plan.tiles - 1) * plan.tile < std::max<int64_t>(c.inner, 1));
    CHECK(plan.chunks >= 1);
    CHECK(plan.chunks <= kColumnSumMaxChunks);
    CHECK(plan.chunks * plan.chunk_rows >= c.len);
    CHECK((plan.chunks - 1) * plan.chunk_rows < std::max<int64_t>(c.len, 1));  // no empty chunk
    if (plan.chunks > 1) CHECK(plan.chunk_rows >= kColumnSumRowsPerThread * plan.lanes);
    // The kernel's loops (reduce.cu, column_sum_kernel) visit each element exactly once.
    if (c.outer * c.len * c.inner <= 4000000) {
      std::vector<uint8_t> visits(static_cast<size_t>(c.outer * c.len * c.inner), 0);
      const int64_t tasks = c.outer * plan.chunks * plan.tiles;
      for (int64_t task = 0; task < tasks; ++task) {
        const int64_t tile = task % plan.tiles, chunk = (task / plan.tiles) % plan.chunks;
        const int64_t o = task / (plan.tiles * plan.chunks);
        for (int t = 0; t < threads; ++t) {
          const int column = t % plan.tile, lane = t / plan.tile;
          const int64_t k = tile * plan.tile + column;
          if (k >= c.inner) continue;
          const int64_t row_end = std::min(c.len, chunk * plan.chunk_rows + plan.chunk_rows);
          for (int64_t j = chunk * plan.chunk_rows + lane; j < row_end; j += plan.lanes)
            ++visits[static_cast<size_t>((o * c.len + j) * c.inner + k)];
        }
      }
      CHECK(std::all_of(visits.begin(), visits.end(), [](uint8_t v) { return v == 1; }));
    }
  }
  // The bias gradients of a batch-256 step (widths 64 .. 1) take one pass, one launch each.
  for (int64_t width : {256, 64, 32, 16, 8, 1}) CHECK(column_sum_plan(1, 256, width, threads).chunks == 1);
  // Batch 2^20: enough blocks to fill a GPU, a width-1 layer included (not one warp).
  for (int64_t width : {256, 128, 64, 1}) {
    const ColumnSumPlan plan = column_sum_plan(1, 1 << 20, width, threads);
    CHECK(plan.chunks * plan.tiles >= 128);
  }
  CHECK(use_warp_per_row(8, 1));  // sum_cols of a (batch, 8) product: a warp per row
  CHECK_FALSE(use_warp_per_row(1 << 20, 1));
  CHECK_FALSE(use_warp_per_row(8, 2));
}

TEST_CASE("device counters: CPU work counts nothing, and snapshots subtract") {
  const DeviceCounters before = device_counters();
  Tensor x = Tensor::zeros({1000, 10});
  ops::fill_(x, 2.0);
  const std::vector<float> values = ops::relu(x).to_vector<float>();
  synchronize(Device::cpu());
  const DeviceCounters spent = device_counters() - before;
  CHECK(values[0] == 2.0f);
  CHECK(spent.host_syncs == 0);
  CHECK(spent.kernel_launches == 0);
  CHECK(spent.library_calls == 0);
  CHECK(spent.memory_ops == 0);
  CHECK(spent.raw_allocations == 0);
  CHECK(spent.raw_frees == 0);
  DeviceCounters later = before;
  later.kernel_launches += 7;
  later.host_syncs += 2;
  const DeviceCounters diff = later - before;
  CHECK(diff.kernel_launches == 7);
  CHECK(diff.host_syncs == 2);
  CHECK(diff.memory_ops == 0);
}
