// leave_one_out and build_training_csr (both overloads of each) against a plain implementation of the
// rules in splits.h, on random data big enough for the parallel paths (rows in no particular order,
// tied timestamps, repeated pairs, users with one or two distinct items, a small and a huge
// catalogue), for several thread counts.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "data/splits.h"

using namespace ncf::data;

namespace {

Interactions random_interactions(int64_t rows, int32_t users, int32_t items, uint64_t seed) {
  std::mt19937_64 random(seed);
  Interactions x;
  for (int64_t r = 0; r < rows; ++r) {
    // Users come in runs (as in rating files) but return later too; some users own one or two items.
    const auto user = static_cast<int32_t>(r % 5 == 0 ? random() % users : (r / 97) % users);
    auto item = static_cast<int32_t>(random() % items);
    if (user % 13 == 0) item = user % items;                                         // one item
    if (user % 17 == 0) item = static_cast<int32_t>((user + random() % 2) % items);  // two items
    x.user.push_back(user);
    x.item.push_back(item);
    x.rating.push_back(1.0f);
    x.timestamp.push_back(static_cast<int64_t>(random() % 50));  // many ties
  }
  x.users = IdMap::identity(users);
  x.items = IdMap::identity(items);
  return x;
}

// The rules of splits.h, one user at a time.
ImplicitDataset reference_leave_one_out(const Interactions& x, bool validation) {
  ImplicitDataset d;
  d.num_users = x.num_users();
  d.num_items = x.num_items();
  d.test_item.assign(d.num_users, -1);
  d.validation_item.assign(d.num_users, -1);
  d.item_popularity.assign(d.num_items, 0);
  std::vector<std::vector<int64_t>> rows_of(d.num_users);
  for (int64_t r = 0; r < x.size(); ++r) rows_of[x.user[r]].push_back(r);
  d.train_offsets.push_back(0);
  for (int32_t u = 0; u < d.num_users; ++u) {
    std::vector<int64_t>& rows = rows_of[u];
    std::stable_sort(rows.begin(), rows.end(),
                     [&](int64_t a, int64_t b) { return x.timestamp[a] < x.timestamp[b]; });
    std::set<int32_t> items;
    for (const int64_t r : rows) items.insert(x.item[r]);
    // Latest first: the test item, then the latest other item.
    std::vector<int32_t> latest_distinct;
    for (auto r = rows.rbegin(); r != rows.rend() && latest_distinct.size() < 2; ++r)
      if (std::find(latest_distinct.begin(), latest_distinct.end(), x.item[*r]) == latest_distinct.end())
        latest_distinct.push_back(x.item[*r]);
    if (items.size() >= 2) d.test_item[u] = latest_distinct[0];
    if (validation && items.size() >= 3) d.validation_item[u] = latest_distinct[1];
    for (const int32_t i : items) {
      if (i == d.test_item[u] || i == d.validation_item[u]) continue;
      d.train_user.push_back(u);
      d.train_item.push_back(i);
      ++d.item_popularity[i];
    }
    d.train_offsets.push_back(static_cast<int64_t>(d.train_item.size()));
  }
  return d;
}

void check_same(const ImplicitDataset& got, const ImplicitDataset& want) {
  CHECK(got.test_item == want.test_item);
  CHECK(got.validation_item == want.validation_item);
  CHECK(got.train_offsets == want.train_offsets);
  CHECK(got.train_user == want.train_user);
  CHECK(got.train_item == want.train_item);
  CHECK(got.item_popularity == want.item_popularity);
}

}  // namespace

TEST_CASE("leave_one_out = the rules, for any thread count (small and huge catalogues)") {
  struct Shape {
    int64_t rows;
    int32_t users, items;
  };
  // 800k rows: enough for three threads' row ranges. The huge catalogue makes most users take the
  // std::sort path of build_training_csr instead of the bitmap.
  for (const Shape shape : {Shape{800000, 5000, 3000}, Shape{800000, 40000, 1 << 20}, Shape{3000, 40, 7}}) {
    const Interactions x = random_interactions(shape.rows, shape.users, shape.items, 11);
    for (const bool validation : {false, true}) {
      const ImplicitDataset want = reference_leave_one_out(x, validation);
      for (const int threads : {1, 2, 3}) {
        CAPTURE(shape.items);
        CAPTURE(validation);
        CAPTURE(threads);
        omp_set_num_threads(threads);
        check_same(leave_one_out(x, validation), want);
        check_same(leave_one_out(Interactions(x), validation), want);  // the overload reusing memory
      }
    }
  }
  omp_set_num_threads(omp_get_num_procs());
}

TEST_CASE("build_training_csr: items already sorted, unsorted, repeated, held out") {
  ImplicitDataset d;
  d.num_users = 3;
  d.num_items = 200;
  d.test_item = {5, -1, 150};
  d.validation_item = {7, -1, -1};
  // user 0: sorted with repeats and both held-out items; user 1: none; user 2: unsorted, busy.
  std::vector<int32_t> user = {0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2};
  std::vector<int32_t> item = {1, 5, 5, 7, 9, 9, 199, 3, 150, 64, 63, 3, 0, 128, 127};
  build_training_csr(d, user, item);
  CHECK(d.train_offsets == std::vector<int64_t>{0, 2, 2, 9});
  CHECK(d.train_item == std::vector<int32_t>{1, 9, 0, 3, 63, 64, 127, 128, 199});
  CHECK(d.train_user == std::vector<int32_t>{0, 0, 2, 2, 2, 2, 2, 2, 2});
  CHECK(d.item_popularity[3] == 1);
  CHECK(d.item_popularity[150] == 0);
  ImplicitDataset e;  // the overload that takes the users' memory gives the same
  e.num_users = d.num_users;
  e.num_items = d.num_items;
  e.test_item = d.test_item;
  e.validation_item = d.validation_item;
  build_training_csr(e, std::vector<int32_t>(user), item);
  CHECK(e.train_offsets == d.train_offsets);
  CHECK(e.train_item == d.train_item);
  CHECK(e.train_user == d.train_user);
  CHECK(e.item_popularity == d.item_popularity);
}
