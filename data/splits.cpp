// leave_one_out, ratio_split and temporal_ratio_split (rules in splits.h).
#include "data/splits.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "data/random_streams.h"

namespace ncf::data {
namespace {

// Index of the latest row per user by (timestamp, row), among rows whose item is not excluded[user]
// (pass an empty `excluded` for none); -1 for a user with no such row. One sequential pass: the per-user
// state is small and stays in cache, so this is faster than grouping rows by user first.
std::vector<int64_t> latest_rows(const Interactions& x, const std::vector<int32_t>& excluded_a,
                                 const std::vector<int32_t>& excluded_b) {
  std::vector<int64_t> best(x.num_users(), -1);
  for (int64_t r = 0; r < x.size(); ++r) {
    const int32_t u = x.user[r];
    if (!excluded_a.empty() && x.item[r] == excluded_a[u]) continue;
    if (!excluded_b.empty() && x.item[r] == excluded_b[u]) continue;
    const int64_t b = best[u];
    if (b < 0 || x.timestamp[r] >= x.timestamp[b]) best[u] = r;  // >=: a later row wins a tie
  }
  return best;
}

std::vector<int32_t> items_of(const Interactions& x, const std::vector<int64_t>& rows) {
  std::vector<int32_t> items(rows.size(), -1);
  for (size_t u = 0; u < rows.size(); ++u)
    if (rows[u] >= 0) items[u] = x.item[rows[u]];
  return items;
}

Interactions rows_subset(const Interactions& x, const std::vector<uint8_t>& take) {
  Interactions out;
  out.users = x.users;
  out.items = x.items;
  out.titles = x.titles;
  out.source = x.source;
  for (int64_t r = 0; r < x.size(); ++r) {
    if (!take[r]) continue;
    out.user.push_back(x.user[r]);
    out.item.push_back(x.item[r]);
    out.rating.push_back(x.rating[r]);
    out.timestamp.push_back(x.timestamp[r]);
  }
  return out;
}

ExplicitDataset split_by_mask(const Interactions& x, const std::vector<uint8_t>& is_test) {
  std::vector<uint8_t> is_train(is_test.size());
  for (size_t r = 0; r < is_test.size(); ++r) is_train[r] = !is_test[r];
  return {rows_subset(x, is_train), rows_subset(x, is_test)};
}

void check_fraction(double f) {
  NCF_CHECK(f >= 0.0 && f <= 1.0, "test_fraction must be in [0, 1], got " << f);
}

}  // namespace

ImplicitDataset leave_one_out(const Interactions& x, bool validation) {
  ImplicitDataset data;
  data.num_users = x.num_users();
  data.num_items = x.num_items();
  data.users = x.users;
  data.items = x.items;
  data.titles = x.titles;
  data.source = x.source;

  const std::vector<int32_t> none;
  std::vector<int32_t> latest = items_of(x, latest_rows(x, none, none));
  // A second distinct item must exist for the test item to be held out.
  std::vector<int32_t> second = items_of(x, latest_rows(x, latest, none));
  data.test_item.assign(data.num_users, -1);
  data.validation_item.assign(data.num_users, -1);
  for (int32_t u = 0; u < data.num_users; ++u)
    if (second[u] >= 0) data.test_item[u] = latest[u];
  if (validation) {
    const std::vector<int32_t> third = items_of(x, latest_rows(x, latest, second));
    for (int32_t u = 0; u < data.num_users; ++u)
      if (third[u] >= 0) data.validation_item[u] = second[u];
  }
  build_training_csr(data, x.user, x.item);
  return data;
}

ExplicitDataset ratio_split(const Interactions& x, double test_fraction, uint64_t seed) {
  check_fraction(test_fraction);
  const int64_t rows = x.size();
  const auto test_rows = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(rows)));
  std::vector<uint64_t> key(rows);
  const uint32_t stream = random_stream(RandomPurpose::ratio_split);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const Philox4 draw = philox_draw(seed, stream, static_cast<uint64_t>(r));
    key[r] = (static_cast<uint64_t>(draw.v[0]) << 32) | draw.v[1];
  }
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  auto by_key = [&](int64_t a, int64_t b) { return key[a] != key[b] ? key[a] < key[b] : a < b; };
  if (test_rows > 0 && test_rows < rows)
    std::nth_element(order.begin(), order.begin() + test_rows, order.end(), by_key);
  std::vector<uint8_t> is_test(rows, 0);
  for (int64_t k = 0; k < test_rows; ++k) is_test[order[k]] = 1;
  return split_by_mask(x, is_test);
}

ExplicitDataset temporal_ratio_split(const Interactions& x, double test_fraction) {
  check_fraction(test_fraction);
  const int32_t users = x.num_users();
  // Rows grouped by user, file order inside a user (counting sort).
  std::vector<int64_t> offsets(users + 1, 0);
  for (int64_t r = 0; r < x.size(); ++r) ++offsets[x.user[r] + 1];
  for (int32_t u = 0; u < users; ++u) offsets[u + 1] += offsets[u];
  std::vector<int64_t> rows(x.size());
  {
    std::vector<int64_t> cursor(offsets.begin(), offsets.end() - 1);
    for (int64_t r = 0; r < x.size(); ++r) rows[cursor[x.user[r]]++] = r;
  }
  std::vector<uint8_t> is_test(x.size(), 0);
#pragma omp parallel for schedule(dynamic, 64)
  for (int32_t u = 0; u < users; ++u) {
    auto begin = rows.begin() + offsets[u], end = rows.begin() + offsets[u + 1];
    std::stable_sort(begin, end, [&](int64_t a, int64_t b) { return x.timestamp[a] < x.timestamp[b]; });
    const int64_t n = end - begin;
    const int64_t n_test = std::min<int64_t>(n - 1, std::llround(test_fraction * static_cast<double>(n)));
    for (int64_t k = n - n_test; k < n; ++k) is_test[begin[k]] = 1;
  }
  return split_by_mask(x, is_test);
}

}  // namespace ncf::data

namespace ncf::data {

ExplicitDataset given_split(const Interactions& train, const Interactions& test) {
  ExplicitDataset out;
  out.train = train;
  out.test.source = test.source;
  const int64_t n = test.size();
  out.test.user.resize(n);
  out.test.item.resize(n);
  out.test.rating = test.rating;
  out.test.timestamp = test.timestamp;
  for (int64_t r = 0; r < n; ++r) {
    // insert() returns the existing dense id, or appends the raw id (a user or item new in the test file).
    out.test.user[r] = out.train.users.insert(test.users.raw(test.user[r]));
    out.test.item[r] = out.train.items.insert(test.items.raw(test.item[r]));
  }
  out.test.users = out.train.users;
  out.test.items = out.train.items;
  out.test.titles = train.titles;
  return out;
}

}  // namespace ncf::data
