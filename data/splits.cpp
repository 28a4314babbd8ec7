// leave_one_out, ratio_split and temporal_ratio_split (rules in splits.h).
#include "data/splits.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "data/random_streams.h"
#include "tensor/cpu_parallel.h"

namespace ncf::data {
namespace {

// Folds every row into a per-user state: add(state[x.user[r]], r) for each row r in file order. Each
// thread folds one contiguous range of rows into its own states (small, cache-resident); the ranges'
// states are then combined in row order, merge(earlier, later) -> combined, which must give what one
// sequential pass would.
template <class State, class Add, class Merge>
std::vector<State> fold_rows_per_user(const Interactions& x, const Add& add, const Merge& merge) {
  const int64_t rows = x.size();
  constexpr int64_t kRowsPerThread = int64_t{1} << 18;  // fewer rows than this: not worth a thread
  const int parts = static_cast<int>(std::clamp<int64_t>(rows / kRowsPerThread, 1, omp_get_max_threads()));
  std::vector<std::vector<State>> states(static_cast<size_t>(parts));
#pragma omp parallel for schedule(static, 1) num_threads(parts)
  for (int part = 0; part < parts; ++part) {
    std::vector<State>& state = states[part];
    state.assign(static_cast<size_t>(x.num_users()), State{});
    for (int64_t r = rows * part / parts, end = rows * (part + 1) / parts; r < end; ++r)
      add(state[x.user[r]], r);
  }
  std::vector<State>& state = states[0];
  for (int part = 1; part < parts; ++part)
    for (int32_t u = 0; u < x.num_users(); ++u) state[u] = merge(state[u], states[part][u]);
  return std::move(state);
}

// Whether row r comes after row b in the leave-one-out order (timestamp, then row); every row comes
// after "none" (-1), and "none" after nothing.
bool later(const Interactions& x, int64_t r, int64_t b) {
  if (r < 0 || b < 0) return b < 0 && r >= 0;
  return x.timestamp[r] > x.timestamp[b] || (x.timestamp[r] == x.timestamp[b] && r > b);
}

// Per user, the latest row and the latest row whose item differs from the latest row's item (-1 when
// none), in one pass over the rows.
struct LatestTwo {
  int64_t latest = -1;
  int64_t other = -1;  // latest row with x.item != x.item[latest]
};

std::vector<LatestTwo> latest_two_rows(const Interactions& x) {
  const auto add = [&](LatestTwo& s, int64_t r) {  // r is after every row seen so far in the file
    if (later(x, r, s.latest)) {
      // The old latest row is now the latest with another item -- unless it has r's item, in which case
      // `other` already is the latest row without that item.
      if (s.latest >= 0 && x.item[s.latest] != x.item[r]) s.other = s.latest;
      s.latest = r;
    } else if (x.item[r] != x.item[s.latest] && later(x, r, s.other)) {
      s.other = r;
    }
  };
  const auto merge = [&](const LatestTwo& a, const LatestTwo& b) {
    LatestTwo m;
    m.latest = later(x, b.latest, a.latest) ? b.latest : a.latest;
    // Each part's latest row without m.latest's item: its latest row, or else its `other`.
    const auto candidate = [&](const LatestTwo& p) {
      return p.latest >= 0 && x.item[p.latest] != x.item[m.latest] ? p.latest : p.other;
    };
    const int64_t from_a = candidate(a), from_b = candidate(b);
    m.other = later(x, from_b, from_a) ? from_b : from_a;
    return m;
  };
  return fold_rows_per_user<LatestTwo>(x, add, merge);
}

// Per user, the latest row whose item is neither excluded_a[user] nor excluded_b[user]; -1 when none.
std::vector<int64_t> latest_rows(const Interactions& x, const std::vector<int32_t>& excluded_a,
                                 const std::vector<int32_t>& excluded_b) {
  struct Latest {
    int64_t row = -1;
  };
  const auto add = [&](Latest& s, int64_t r) {
    const int32_t u = x.user[r];
    if (x.item[r] != excluded_a[u] && x.item[r] != excluded_b[u] && later(x, r, s.row)) s.row = r;
  };
  const auto merge = [&](const Latest& a, const Latest& b) { return later(x, b.row, a.row) ? b : a; };
  const std::vector<Latest> latest = fold_rows_per_user<Latest>(x, add, merge);
  std::vector<int64_t> rows(latest.size());
  for (size_t u = 0; u < latest.size(); ++u) rows[u] = latest[u].row;
  return rows;
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

// All of leave_one_out but the training CSR: sizes, IdMaps, titles, test and validation items.
ImplicitDataset held_out_items(const Interactions& x, bool validation) {
  ImplicitDataset data;
  data.num_users = x.num_users();
  data.num_items = x.num_items();
  data.users = x.users;
  data.items = x.items;
  data.titles = x.titles;
  data.source = x.source;

  const std::vector<LatestTwo> latest_two = latest_two_rows(x);
  std::vector<int32_t> latest(data.num_users), second(data.num_users);
  for (int32_t u = 0; u < data.num_users; ++u) {
    latest[u] = latest_two[u].latest >= 0 ? x.item[latest_two[u].latest] : -1;
    second[u] = latest_two[u].other >= 0 ? x.item[latest_two[u].other] : -1;
  }
  // A second distinct item must exist for the test item to be held out.
  data.test_item.assign(data.num_users, -1);
  data.validation_item.assign(data.num_users, -1);
  for (int32_t u = 0; u < data.num_users; ++u)
    if (second[u] >= 0) data.test_item[u] = latest[u];
  if (validation) {
    const std::vector<int32_t> third = items_of(x, latest_rows(x, latest, second));
    for (int32_t u = 0; u < data.num_users; ++u)
      if (third[u] >= 0) data.validation_item[u] = second[u];
  }
  return data;
}

}  // namespace

ImplicitDataset leave_one_out(const Interactions& x, bool validation) {
  ImplicitDataset data = held_out_items(x, validation);
  build_training_csr(data, x.user, x.item);
  return data;
}

ImplicitDataset leave_one_out(Interactions&& x, bool validation) {
  ImplicitDataset data = held_out_items(x, validation);
  build_training_csr(data, std::move(x.user), x.item);
  return data;
}

ExplicitDataset ratio_split(const Interactions& x, double test_fraction, uint64_t seed) {
  check_fraction(test_fraction);
  const int64_t rows = x.size();
  const auto test_rows = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(rows)));
  std::vector<uint64_t> key(rows);
  const uint32_t stream = random_stream(RandomPurpose::ratio_split);
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
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
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 64)
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
