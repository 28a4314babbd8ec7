// The fused dot-model SGD step (tensor/ops/factorization.h) against its textbook reference: the
// tables after a step and the returned loss, on batches with many repeated users and items, on the
// one-thread and the parallel path; the same bits for any thread count; checks before any write.
// Tolerances: f64 1e-13 (the same sums in another order). f32: the fused step rounds once per
// occurrence, the reference once per parameter; |parameter| <= 1 (half an ulp: 6e-8), so 5e-7 for
// rows seen a few times, 2e-6 for the large batch's rows seen ~30 times. Each step moves some
// parameter by more than 100 times the tolerance.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/ops/factorization.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

struct Problem {
  ops::DotTables tables;
  Tensor users, items, labels;
};

// Tables uniform in [-1, 1), a batch of `batch` rows over few users and items (many repeats).
template <class T>
Problem make_problem(int64_t num_users, int64_t num_items, int64_t d, int64_t batch, uint64_t seed) {
  Problem p;
  p.tables.user = test::make<T>(test::test_values(num_users * d, -1, 1, seed), {num_users, d});
  p.tables.item = test::make<T>(test::test_values(num_items * d, -1, 1, seed + 1), {num_items, d});
  p.tables.user_bias = test::make<T>(test::test_values(num_users, -1, 1, seed + 2), {num_users, 1});
  p.tables.item_bias = test::make<T>(test::test_values(num_items, -1, 1, seed + 3), {num_items, 1});
  p.tables.bias = test::make<T>({0.25}, {1});
  p.users = Tensor::from_vector(test::random_indices(batch, int32_t(num_users), seed + 4), {batch});
  p.items = Tensor::from_vector(test::random_indices(batch, int32_t(num_items), seed + 5), {batch});
  std::vector<double> labels = test::test_values(batch, 0, 1, seed + 6);
  for (double& y : labels) y = y < 0.2 ? 1.0 : 0.0;  // one positive in five, as with 4 negatives
  p.labels = test::make<T>(labels, {batch});
  return p;
}

Problem clone(const Problem& p) {
  Problem c = p;
  for (Tensor* t : {&c.tables.user, &c.tables.item, &c.tables.user_bias, &c.tables.item_bias, &c.tables.bias})
    *t = t->clone();
  return c;
}

std::vector<double> all_values(const ops::DotTables& t) {
  std::vector<double> out;
  for (const Tensor* x : {&t.user, &t.item, &t.user_bias, &t.item_bias, &t.bias}) {
    const std::vector<double> v = test::values_of(*x);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

double largest_change(const std::vector<double>& before, const std::vector<double>& after) {
  double change = 0.0;
  for (size_t e = 0; e < before.size(); ++e) change = std::max(change, std::fabs(after[e] - before[e]));
  return change;
}

template <class T>
void check_against_reference(int64_t d, int64_t batch, double atol) {
  const Problem start = make_problem<T>(37, 23, d, batch, 31);
  Problem fused = clone(start), reference = clone(start);
  const double lr = 2.0, l2 = 0.01;
  const std::vector<double> loss =
      test::values_of(ops::dot_logistic_sgd_step_(fused.tables, fused.users, fused.items, fused.labels, lr, l2));
  const std::vector<double> want_loss = test::values_of(ops::reference::dot_logistic_sgd_step_(
      reference.tables, reference.users, reference.items, reference.labels, lr, l2));
  NCF_CHECK_CLOSE(loss, want_loss, atol, 1e-6);
  const std::vector<double> got = all_values(fused.tables), want = all_values(reference.tables);
  NCF_CHECK_CLOSE(got, want, atol, 0.0);
  // The step moved the parameters by far more than the tolerance: the comparison means something.
  CHECK(largest_change(all_values(start.tables), want) > 100 * atol);
}

TEST_CASE("the fused dot step equals the textbook step, on the one-thread and the parallel path") {
  SUBCASE("f64, small batch (one thread)") { check_against_reference<double>(6, 40, 1e-13); }
  SUBCASE("f64, large batch (parallel)") { check_against_reference<double>(64, 1024, 1e-13); }
  SUBCASE("f32, small batch") { check_against_reference<float>(6, 40, 5e-7); }
  SUBCASE("f32, large batch") { check_against_reference<float>(64, 1024, 2e-6); }
}

TEST_CASE("the fused dot step gives the same bits with one thread as with several") {
  const Problem start = make_problem<float>(37, 23, 64, 2048, 5);
  Problem one = clone(start), many = clone(start);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<double> loss_one =
      test::values_of(ops::dot_logistic_sgd_step_(one.tables, one.users, one.items, one.labels, 0.5, 0.01));
  omp_set_num_threads(std::max(threads, 3));  // more threads than cores is fine: it is about the order
  const std::vector<double> loss_many =
      test::values_of(ops::dot_logistic_sgd_step_(many.tables, many.users, many.items, many.labels, 0.5, 0.01));
  omp_set_num_threads(threads);
  CHECK(loss_one == loss_many);
  CHECK(all_values(one.tables) == all_values(many.tables));
}

TEST_CASE("the fused dot step checks its arguments before it writes anything") {
  Problem p = make_problem<float>(5, 4, 3, 8, 9);
  const std::vector<double> before = all_values(p.tables);
  Tensor bad_users = p.users.clone();
  bad_users.data<int32_t>()[6] = 5;  // one past the last user
  CHECK_THROWS_WITH(ops::dot_logistic_sgd_step_(p.tables, bad_users, p.items, p.labels, 0.1, 0.0),
                    doctest::Contains("user index 5 at position 6 is out of range for 5 rows"));
  CHECK(all_values(p.tables) == before);
  CHECK_THROWS_WITH(ops::dot_logistic_sgd_step_(p.tables, p.users, p.items, p.labels.rows(0, 4), 0.1, 0.0),
                    doctest::Contains("must be (B,) alike"));
  ops::DotTables wrong_bias = p.tables;
  wrong_bias.user_bias = Tensor::zeros({5}, DType::f32);
  CHECK_THROWS_WITH(ops::dot_logistic_sgd_step_(wrong_bias, p.users, p.items, p.labels, 0.1, 0.0),
                    doctest::Contains("biases must be (5, 1), (4, 1) and (1,)"));
  const Tensor f64_labels = test::make<double>(test::values_of(p.labels), {8});
  CHECK_THROWS_WITH(ops::dot_logistic_sgd_step_(p.tables, p.users, p.items, f64_labels, 0.1, 0.0),
                    doctest::Contains("every table and the labels must be f32"));
  CHECK(all_values(p.tables) == before);
}

}  // namespace
}  // namespace ncf
