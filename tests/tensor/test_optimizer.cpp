// Optimizer steps on the CPU against (1) values worked out by hand on tiny tensors, (2) plain
// long-double loops of optimizer.h's formulas over several steps, and (3) the independent PyTorch
// float64 reference in tests/reference/neumf_tiny_reference.json (first Adam and SGD step from the
// given weights and gradients). Tolerances: f64 within 1e-12 (1e-10 against PyTorch, whose Adam
// groups the bias corrections differently); f32 within 1e-6 relative + 1e-7 absolute.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/ops/optimizer.h"
#include "tensor/ops/optimizer_functors.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::test;

namespace {

// optimizer.h's Adam, element by element, in long double.
struct ReferenceAdam {
  std::vector<long double> p, m, v;
  void step(const std::vector<double>& g, const ops::AdamSettings& s) {
    const long double bc1 = 1.0L - std::pow(static_cast<long double>(s.beta1), s.step);
    const long double bc2 = 1.0L - std::pow(static_cast<long double>(s.beta2), s.step);
    for (size_t i = 0; i < p.size(); ++i) {
      const long double gi = g[i] + s.weight_decay * p[i];
      m[i] = s.beta1 * m[i] + (1.0L - s.beta1) * gi;
      v[i] = s.beta2 * v[i] + (1.0L - s.beta2) * gi * gi;
      p[i] -= s.lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + s.eps);
    }
  }
  std::vector<double> params() const { return std::vector<double>(p.begin(), p.end()); }
};

// Nested JSON arrays -> one flat row-major list.
void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array()) {
    for (const auto& e : j) flatten(e, out);
  } else {
    out.push_back(j.get<double>());
  }
}

std::vector<double> flat(const nlohmann::json& j) {
  std::vector<double> out;
  flatten(j, out);
  return out;
}

}  // namespace

TEST_CASE("adam_step: the first step by hand") {
  // Step 1: m = (1-b1) g, v = (1-b2) g^2, so m_hat = g and v_hat = g^2: p -= lr * g / (|g| + eps).
  Tensor p = Tensor::from_vector<double>({1.0, -2.0, 0.5}, Shape{3});
  const Tensor g = Tensor::from_vector<double>({0.5, -0.1, 0.0}, Shape{3});
  Tensor m = Tensor::zeros(Shape{3}, DType::f64), v = Tensor::zeros(Shape{3}, DType::f64);
  ops::AdamSettings s;
  s.lr = 0.01;
  s.step = 1;
  ops::adam_step({p}, {g}, {m}, {v}, s);
  const auto pv = p.to_vector<double>();
  CHECK(pv[0] == doctest::Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
  CHECK(pv[1] == doctest::Approx(-2.0 + 0.01 * 0.1 / (0.1 + 1e-8)).epsilon(1e-14));
  CHECK(pv[2] == 0.5);  // zero gradient, zero moments: no move
  CHECK(m.to_vector<double>()[0] == doctest::Approx(0.05).epsilon(1e-14));
  CHECK(v.to_vector<double>()[0] == doctest::Approx(0.00025).epsilon(1e-14));
}

TEST_CASE("adam_step: several tensors, several steps, weight decay, against a long-double loop") {
  const std::vector<Shape> shapes = {Shape{7, 3}, Shape{5}, Shape{300, 200},
                                     Shape{1}};  // one above the threshold
  for (DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(ncf::dtype_name(dtype));
    std::vector<Tensor> params, grads, m, v;
    std::vector<ReferenceAdam> refs;
    for (size_t k = 0; k < shapes.size(); ++k) {
      const auto init = test_values(shapes[k].numel(), -1.0, 1.0, 10 + k);
      params.push_back(dtype == DType::f64 ? make<double>(init, shapes[k]) : make<float>(init, shapes[k]));
      grads.push_back(Tensor::zeros(shapes[k], dtype));
      m.push_back(Tensor::zeros(shapes[k], dtype));
      v.push_back(Tensor::zeros(shapes[k], dtype));
      ReferenceAdam ref;
      const auto start = values_of(params.back());  // f32: start from the rounded values
      ref.p.assign(start.begin(), start.end());
      ref.m.assign(start.size(), 0.0L);
      ref.v.assign(start.size(), 0.0L);
      refs.push_back(ref);
    }
    ops::AdamSettings s;
    s.lr = 0.01;
    s.weight_decay = 0.05;
    for (int64_t step = 1; step <= 3; ++step) {
      s.step = step;
      for (size_t k = 0; k < shapes.size(); ++k) {
        const auto g = test_values(shapes[k].numel(), -0.5, 0.5, 100 * step + k);
        grads[k] = dtype == DType::f64 ? make<double>(g, shapes[k]) : make<float>(g, shapes[k]);
        refs[k].step(values_of(grads[k]), s);
      }
      ops::adam_step(params, grads, m, v, s);
    }
    for (size_t k = 0; k < shapes.size(); ++k) {
      CAPTURE(k);
      if (dtype == DType::f64)
        NCF_CHECK_CLOSE(values_of(params[k]), refs[k].params(), 1e-13, 1e-12);
      else
        NCF_CHECK_CLOSE(values_of(params[k]), refs[k].params(), 1e-6, 1e-6);
    }
  }
}

TEST_CASE("sgd_step with momentum: first step buf = g, then buf = momentum*buf + g") {
  // p = 1, g = 0.5 then 0.25, lr 0.1, momentum 0.9, weight decay 0.
  //   step 1: buf = 0.5;               p = 1 - 0.05 = 0.95
  //   step 2: buf = 0.45 + 0.25 = 0.7; p = 0.95 - 0.07 = 0.88
  Tensor p = Tensor::from_vector<double>({1.0}, Shape{1});
  Tensor buf = Tensor::from_vector<double>({123.0}, Shape{1});  // garbage: the first step overwrites it
  ops::sgd_step({p}, {Tensor::from_vector<double>({0.5}, Shape{1})}, {buf}, 0.1, 0.9, 0.0, true);
  CHECK(buf.item<double>() == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(p.item<double>() == doctest::Approx(0.95).epsilon(1e-15));
  ops::sgd_step({p}, {Tensor::from_vector<double>({0.25}, Shape{1})}, {buf}, 0.1, 0.9, 0.0, false);
  CHECK(buf.item<double>() == doctest::Approx(0.7).epsilon(1e-15));
  CHECK(p.item<double>() == doctest::Approx(0.88).epsilon(1e-15));

  // Weight decay is added to the gradient: g' = 0.5 + 0.1 * 2 = 0.7; p = 2 - 0.1 * 0.7 = 1.93.
  Tensor q = Tensor::from_vector<float>({2.0f}, Shape{1});
  Tensor qbuf = Tensor::zeros(Shape{1});
  ops::sgd_step({q}, {Tensor::from_vector<float>({0.5f}, Shape{1})}, {qbuf}, 0.1, 0.9, 0.1, true);
  CHECK(q.item<float>() == doctest::Approx(1.93).epsilon(1e-6));

  // Momentum 0 needs no buffers: plain p -= lr * g.
  Tensor r = Tensor::from_vector<double>({1.0, 2.0}, Shape{2});
  ops::sgd_step({r}, {Tensor::from_vector<double>({1.0, -1.0}, Shape{2})}, {}, 0.5, 0.0, 0.0, false);
  CHECK(r.to_vector<double>() == std::vector<double>{0.5, 2.5});
  CHECK_THROWS_AS(ops::sgd_step({r}, {r}, {}, 0.1, 0.9, 0.0, true), ncf::Error);  // momentum needs buffers
}

TEST_CASE("sgd_step on a large tensor matches a plain loop") {
  const Shape shape{400, 250};
  const auto init = test_values(shape.numel(), -1, 1, 1);
  const auto g1 = test_values(shape.numel(), -1, 1, 2);
  const auto g2 = test_values(shape.numel(), -1, 1, 3);
  Tensor p = make<double>(init, shape), buf = Tensor::zeros(shape, DType::f64);
  ops::sgd_step({p}, {make<double>(g1, shape)}, {buf}, 0.1, 0.9, 0.01, true);
  ops::sgd_step({p}, {make<double>(g2, shape)}, {buf}, 0.1, 0.9, 0.01, false);
  std::vector<double> want(init.size());
  for (size_t i = 0; i < init.size(); ++i) {
    double w = init[i];
    double b = g1[i] + 0.01 * w;
    w -= 0.1 * b;
    b = 0.9 * b + (g2[i] + 0.01 * w);
    w -= 0.1 * b;
    want[i] = w;
  }
  NCF_CHECK_CLOSE(p.to_vector<double>(), want, 1e-15, 1e-13);
}

TEST_CASE("sparse_adam_step updates only the rows of the gradient, like dense Adam on those rows") {
  const int64_t rows = 9, dim = 4;
  const auto init = test_values(rows * dim, -1, 1, 21);
  Tensor p = make<double>(init, Shape{rows, dim});
  Tensor m = Tensor::zeros(Shape{rows, dim}, DType::f64), v = Tensor::zeros(Shape{rows, dim}, DType::f64);
  const std::vector<int32_t> touched = {1, 4, 8};
  const auto g = test_values(touched.size() * dim, -1, 1, 22);
  ops::RowSparse grad;
  grad.indices = Tensor::from_vector(touched, Shape{3});
  grad.rows = make<double>(g, Shape{3, dim});
  grad.num_rows = rows;
  ops::AdamSettings s;
  s.lr = 0.05;
  s.step = 4;  // bias correction uses the global step count
  s.weight_decay = 0.1;
  ops::sparse_adam_step(p, grad, m, v, s);

  // Reference: dense Adam on the touched rows only.
  ReferenceAdam ref;
  ref.p.assign(init.begin(), init.end());
  ref.m.assign(init.size(), 0.0L);
  ref.v.assign(init.size(), 0.0L);
  std::vector<double> dense_grad(init.size(), 0.0);
  for (size_t r = 0; r < touched.size(); ++r)
    for (int64_t d = 0; d < dim; ++d) dense_grad[touched[r] * dim + d] = g[r * dim + d];
  ref.step(dense_grad, s);
  auto want = ref.params();
  for (int64_t r = 0; r < rows; ++r) {
    const bool is_touched = r == 1 || r == 4 || r == 8;
    // Untouched rows keep their exact old values (dense Adam with weight decay would move them).
    if (!is_touched)
      for (int64_t d = 0; d < dim; ++d) want[r * dim + d] = init[r * dim + d];
  }
  const auto got = p.to_vector<double>();
  NCF_CHECK_CLOSE(got, want, 1e-14, 1e-12);
  for (int64_t i = 0; i < rows * dim; ++i)
    if (i / dim != 1 && i / dim != 4 && i / dim != 8) CHECK(got[i] == init[i]);

  ops::RowSparse bad = grad;
  bad.indices = Tensor::from_vector<int32_t>({1, 4, 9}, Shape{3});
  CHECK_THROWS_AS(ops::sparse_adam_step(p, bad, m, v, s), ncf::Error);  // row 9 of 9
  bad.indices = grad.indices;
  bad.num_rows = 10;
  CHECK_THROWS_AS(ops::sparse_adam_step(p, bad, m, v, s), ncf::Error);
}

TEST_CASE("dense Adam over row-sparse gradients moves every row, as dense Adam on the densified gradient") {
  // Three steps, each touching other rows, on a table large enough for the parallel chunks: a row
  // touched earlier keeps moving when untouched (its moments decay), and rows never touched stay.
  const int64_t rows = 5000, dim = 8;
  const auto init = test_values(rows * dim, -1, 1, 31);
  Tensor p = make<double>(init, Shape{rows, dim});
  Tensor m = Tensor::zeros(Shape{rows, dim}, DType::f64), v = Tensor::zeros(Shape{rows, dim}, DType::f64);
  ReferenceAdam ref;
  ref.p.assign(init.begin(), init.end());
  ref.m.assign(init.size(), 0.0L);
  ref.v.assign(init.size(), 0.0L);
  const std::vector<std::vector<int32_t>> touched = {{3, 70, 4999}, {4, 71, 2500}, {3, 2500, 4000}};
  for (int64_t step = 1; step <= 3; ++step) {
    const std::vector<int32_t>& rows_now = touched[step - 1];
    const auto g = test_values(rows_now.size() * dim, -1, 1, 40 + step);
    ops::RowSparse grad;
    grad.indices = Tensor::from_vector(rows_now, Shape{static_cast<int64_t>(rows_now.size())});
    grad.rows = make<double>(g, Shape{static_cast<int64_t>(rows_now.size()), dim});
    grad.num_rows = rows;
    ops::AdamSettings s;
    s.lr = 0.05;
    s.step = step;
    ops::dense_adam_step_rowsparse({p}, {grad}, {m}, {v}, s);
    std::vector<double> dense_grad(init.size(), 0.0);
    for (size_t r = 0; r < rows_now.size(); ++r)
      for (int64_t d = 0; d < dim; ++d) dense_grad[rows_now[r] * dim + d] = g[r * dim + d];
    ref.step(dense_grad, s);
    INFO("step " << step);
    NCF_CHECK_CLOSE(p.to_vector<double>(), ref.params(), 1e-14, 1e-12);
  }
  const auto got = p.to_vector<double>();
  CHECK(got[70 * dim] != init[70 * dim]);  // touched in step 1 only: still moved in steps 2 and 3
  CHECK(got[10 * dim] == init[10 * dim]);  // never touched: no moment, no move
}

TEST_CASE("optimizer steps reject mismatched lists") {
  Tensor p = Tensor::zeros(Shape{3, 2});
  Tensor g = Tensor::zeros(Shape{2, 3});
  Tensor m = Tensor::zeros(Shape{3, 2}), v = Tensor::zeros(Shape{3, 2});
  ops::AdamSettings s;
  try {
    ops::adam_step({p}, {g}, {m}, {v}, s);
    FAIL("no error");
  } catch (const ncf::Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(3, 2)") != std::string::npos);
    CHECK(message.find("(2, 3)") != std::string::npos);
  }
  CHECK_THROWS_AS(ops::adam_step({p, p}, {p}, {m}, {v}, s), ncf::Error);
  s.step = 0;
  CHECK_THROWS_AS(ops::adam_step({p}, {p}, {m}, {v}, s), ncf::Error);
  CHECK_THROWS_AS(ops::sgd_step({p}, {Tensor::zeros(Shape{3, 2}, DType::f64)}, {m}, 0.1, 0.9, 0, true),
                  ncf::Error);
}

TEST_CASE("the first Adam and SGD-momentum steps match the PyTorch float64 reference") {
  std::ifstream file(ncf::test::source_dir() + "/tests/reference/neumf_tiny_reference.json");
  REQUIRE(file.good());
  const nlohmann::json ref = nlohmann::json::parse(file);
  const auto& grads_json = ref["batch0"]["grads"];
  std::vector<std::string> names;
  for (auto it = ref["params"].begin(); it != ref["params"].end(); ++it) names.push_back(it.key());
  REQUIRE(names.size() == 10);

  auto make_list = [&](const nlohmann::json& source) {
    std::vector<Tensor> list;
    for (const auto& name : names) {
      const auto values = flat(source[name]);
      list.push_back(Tensor::from_vector(values, Shape{static_cast<int64_t>(values.size())}));
    }
    return list;
  };
  const std::vector<Tensor> grads = make_list(grads_json);

  // Adam, lr 0.01: all ten tensors in one call (dense moments, as in the reference).
  {
    std::vector<Tensor> params = make_list(ref["params"]);
    std::vector<Tensor> m, v;
    for (const auto& p : params) {
      m.push_back(Tensor::zeros(p.shape(), DType::f64));
      v.push_back(Tensor::zeros(p.shape(), DType::f64));
    }
    ops::AdamSettings s;
    s.lr = ref["adam"]["settings"]["lr"].get<double>();
    s.beta1 = ref["adam"]["settings"]["beta1"].get<double>();
    s.beta2 = ref["adam"]["settings"]["beta2"].get<double>();
    s.eps = ref["adam"]["settings"]["eps"].get<double>();
    s.step = 1;
    ops::adam_step(params, grads, m, v, s);
    for (size_t k = 0; k < names.size(); ++k) {
      CAPTURE(names[k]);
      NCF_CHECK_CLOSE(params[k].to_vector<double>(), flat(ref["adam"]["steps"][0]["params"][names[k]]), 1e-10,
                      1e-10);
    }
  }
  // SGD, lr 0.1, momentum 0.9, first step.
  {
    std::vector<Tensor> params = make_list(ref["params"]);
    std::vector<Tensor> buffers;
    for (const auto& p : params) buffers.push_back(Tensor::zeros(p.shape(), DType::f64));
    const double lr = ref["sgd_momentum"]["settings"]["lr"].get<double>();
    const double momentum = ref["sgd_momentum"]["settings"]["momentum"].get<double>();
    ops::sgd_step(params, grads, buffers, lr, momentum, 0.0, true);
    for (size_t k = 0; k < names.size(); ++k) {
      CAPTURE(names[k]);
      NCF_CHECK_CLOSE(params[k].to_vector<double>(),
                      flat(ref["sgd_momentum"]["steps"][0]["params"][names[k]]), 1e-12, 1e-12);
    }
  }
}

TEST_CASE("dense Adam flushes denormal moments inside the update only, on every thread") {
  // Moments that have decayed below FLT_MIN (the long tail of a table under dense Adam): the update
  // treats them as zero on x86 (see FlushDenormals in optimizer.cpp), and the caller's own
  // arithmetic, on this thread and on OpenMP's workers, keeps its denormals afterwards.
  const float denormal_m = 1e-39f, denormal_v = 1e-40f;
  REQUIRE(std::fpclassify(denormal_m) == FP_SUBNORMAL);
  for (const int64_t rows : {int64_t{10}, int64_t{5000}}) {  // the serial and the parallel path
    INFO(rows << " rows");
    const int64_t dim = 8;
    const size_t count = static_cast<size_t>(rows * dim);
    Tensor p = Tensor::from_vector(std::vector<float>(count, 0.5f), Shape{rows, dim});
    Tensor m = Tensor::from_vector(std::vector<float>(count, denormal_m), Shape{rows, dim});
    Tensor v = Tensor::from_vector(std::vector<float>(count, denormal_v), Shape{rows, dim});
    ops::RowSparse grad;
    grad.indices = Tensor::from_vector(std::vector<int32_t>{1}, Shape{1});
    grad.rows = Tensor::from_vector(std::vector<float>(dim, 0.25f), Shape{1, dim});
    grad.num_rows = rows;
    ops::AdamSettings s;
    s.step = 1000;
    ops::dense_adam_step_rowsparse({p}, {grad}, {m}, {v}, s);
    const std::vector<float> m_after = m.to_vector<float>(), p_after = p.to_vector<float>();
#if defined(__SSE2__)
    CHECK(m_after[0] == 0.0f);  // read as zero, so beta1 * m is zero
#else
    CHECK(m_after[0] == static_cast<float>(s.beta1) * denormal_m);
#endif
    CHECK(p_after[0] == 0.5f);    // such a moment moves no parameter by a representable amount
    CHECK(p_after[dim] != 0.5f);  // the touched row moved
    CHECK(m_after[dim] > 0.02f);
  }
  volatile float tiny = denormal_m;
  CHECK(tiny * 0.5f != 0.0f);
  int flushed = 0;
#pragma omp parallel reduction(+ : flushed)
  flushed += (tiny * 0.5f == 0.0f) ? 1 : 0;
  CHECK(flushed == 0);
}

TEST_CASE("Adam leaves out bias corrections that have rounded to 1, with the bits of the divisions") {
  // f32: 1 - 0.9^t is 1 from step 165 on, 1 - 0.999^t from step 17,321 on. At step 100 neither has
  // settled, at 200 only the first, at 20,000 both: each variant of settled_adam runs once, and must
  // give exactly what AdamUpdate's divisions give (run here element by element).
  const int64_t rows = 5000, dim = 8;  // above the parallel threshold
  const auto init = test_values(rows * dim, -1, 1, 51);
  const auto moment = test_values(rows * dim, 0.0, 0.01, 52);
  const auto grad_values = test_values(2 * dim, -1, 1, 53);
  const std::vector<int32_t> touched = {7, 4000};
  for (const int64_t step : {int64_t{100}, int64_t{200}, int64_t{20000}}) {
    INFO("step " << step);
    ops::AdamSettings s;
    s.lr = 0.01;
    s.step = step;
    const auto update = ops::AdamUpdate<float>::make(s.lr, s.beta1, s.beta2, s.eps, 0.0, step);
    CHECK((update.bias_correction1 == 1.0f) == (step >= 200));
    CHECK((update.bias_correction2 == 1.0f) == (step >= 20000));
    std::vector<float> p(init.begin(), init.end()), m(moment.begin(), moment.end()), v(m);
    std::vector<float> dense_grad(p.size(), 0.0f);
    for (size_t r = 0; r < touched.size(); ++r)
      for (int64_t d = 0; d < dim; ++d)
        dense_grad[touched[r] * dim + d] = static_cast<float>(grad_values[r * dim + d]);
    const Tensor p0 = Tensor::from_vector(p, Shape{rows, dim}), m0 = Tensor::from_vector(m, Shape{rows, dim});
    for (size_t i = 0; i < p.size(); ++i) update(p[i], dense_grad[i], m[i], v[i]);

    Tensor dense_p = p0.clone(), dense_m = m0.clone(), dense_v = m0.clone();
    ops::adam_step({dense_p}, {Tensor::from_vector(dense_grad, Shape{rows, dim})}, {dense_m}, {dense_v}, s);
    CHECK(dense_p.to_vector<float>() == p);
    CHECK(dense_m.to_vector<float>() == m);
    CHECK(dense_v.to_vector<float>() == v);

    ops::RowSparse grad;
    grad.indices = Tensor::from_vector(touched, Shape{2});
    grad.rows = make<float>(grad_values, Shape{2, dim});
    grad.num_rows = rows;
    Tensor row_p = p0.clone(), row_m = m0.clone(), row_v = m0.clone();
    ops::dense_adam_step_rowsparse({row_p}, {grad}, {row_m}, {row_v}, s);
    CHECK(row_p.to_vector<float>() == p);
    CHECK(row_v.to_vector<float>() == v);
  }
}
