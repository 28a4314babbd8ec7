// Transforms and splits on hand-made data with known answers.
#include "data/splits.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "data/readers.h"
#include "data/transforms.h"
#include "tests/data/data_test_util.h"

using namespace ncf::data;
using ncf::test::TempDir;

namespace {

// user item rating timestamp rows -> Interactions (through the real reader).
Interactions table(const TempDir& dir, const std::string& rows) {
  return read_movielens_udata(dir.file("u.data", rows));
}

std::set<std::pair<int64_t, int64_t>> raw_train_pairs(const ImplicitDataset& d) {
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (int64_t k = 0; k < d.num_train(); ++k)
    pairs.insert({d.users.raw(d.train_user[k]), d.items.raw(d.train_item[k])});
  return pairs;
}

}  // namespace

TEST_CASE("leave-one-out: the test item is the latest, ties broken by file order") {
  TempDir dir;
  // user 1: items 10 (t=5), 11 (t=9), 12 (t=9): 12 comes later in the file among the tied latest.
  // user 2: items 20 (t=3), 21 (t=1): the latest is 20 although 21 is later in the file.
  // user 3: a single interaction: stays in training, no test item.
  const Interactions x =
      table(dir, "1\t10\t5\t5\n1\t11\t5\t9\n2\t20\t5\t3\n1\t12\t5\t9\n2\t21\t5\t1\n3\t30\t5\t1\n");
  const ImplicitDataset d = leave_one_out(x);
  CHECK(d.num_users == 3);
  CHECK(d.num_items == 6);
  CHECK(d.items.raw(d.test_item[d.users.dense(1)]) == 12);
  CHECK(d.items.raw(d.test_item[d.users.dense(2)]) == 20);
  CHECK(d.test_item[d.users.dense(3)] == -1);
  CHECK(d.num_test_users() == 2);
  CHECK(raw_train_pairs(d) == std::set<std::pair<int64_t, int64_t>>{{1, 10}, {1, 11}, {2, 21}, {3, 30}});
  // The CSR lists sorted items per user, and train arrays agree with it.
  for (int32_t u = 0; u < d.num_users; ++u) {
    CHECK(std::is_sorted(d.user_items(u), d.user_items(u) + d.user_count(u)));
    for (int64_t k = d.train_offsets[u]; k < d.train_offsets[u + 1]; ++k) CHECK(d.train_user[k] == u);
  }
  CHECK(d.item_popularity[d.items.dense(10)] == 1);
  CHECK(d.item_popularity[d.items.dense(12)] == 0);
}

TEST_CASE("leave-one-out with validation: the one before the test item") {
  TempDir dir;
  const Interactions x = table(dir, "1\t10\t5\t1\n1\t11\t5\t2\n1\t12\t5\t3\n2\t20\t5\t1\n2\t21\t5\t2\n");
  const ImplicitDataset d = leave_one_out(x, true);
  const int32_t u1 = d.users.dense(1), u2 = d.users.dense(2);
  CHECK(d.items.raw(d.test_item[u1]) == 12);
  CHECK(d.items.raw(d.validation_item[u1]) == 11);
  CHECK(d.items.raw(d.test_item[u2]) == 21);
  CHECK(d.validation_item[u2] == -1);  // only two items: one must stay in training
  CHECK(raw_train_pairs(d) == std::set<std::pair<int64_t, int64_t>>{{1, 10}, {2, 20}});
}

TEST_CASE("duplicate pairs: training is deduplicated and never holds a test pair") {
  TempDir dir;
  // user 1 rated item 10 three times; its latest interaction is item 10 again, so 10 is the test item
  // and every training copy of (1,10) goes. (1,11) appears twice and stays once.
  const Interactions x =
      table(dir, "1\t10\t5\t1\n1\t11\t5\t2\n1\t10\t5\t3\n1\t11\t5\t4\n1\t10\t5\t5\n1\t12\t5\t0\n");
  const ImplicitDataset d = leave_one_out(x);
  const int32_t u = d.users.dense(1);
  CHECK(d.items.raw(d.test_item[u]) == 10);
  CHECK(raw_train_pairs(d) == std::set<std::pair<int64_t, int64_t>>{{1, 11}, {1, 12}});
  CHECK_FALSE(d.user_trained_on(u, d.test_item[u]));
  // A user whose rows are all one item keeps it in training.
  const ImplicitDataset e = leave_one_out(table(dir, "7\t70\t1\t1\n7\t70\t1\t2\n"));
  CHECK(e.test_item[0] == -1);
  CHECK(e.num_train() == 1);
}

TEST_CASE("binarize, minimum interactions and user sampling re-densify ids consistently") {
  TempDir dir;
  const Interactions x = table(
      dir, "1\t10\t5\t1\n1\t11\t2\t2\n2\t10\t4\t3\n2\t12\t4\t4\n3\t13\t1\t5\n2\t11\t5\t6\n1\t12\t3\t7\n");
  const Interactions all = binarize(x);
  CHECK(all.size() == 7);
  CHECK(std::all_of(all.rating.begin(), all.rating.end(), [](float r) { return r == 1.0f; }));
  const Interactions liked = binarize(x, 4.0f);
  CHECK(liked.size() == 4);
  CHECK(liked.users.raw_ids() == std::vector<int64_t>{1, 2});  // user 3 had only a 1-star rating
  CHECK(liked.items.raw_ids() == std::vector<int64_t>{10, 12, 11});
  for (int64_t r = 0; r < liked.size(); ++r) CHECK(x.items.find(liked.items.raw(liked.item[r])) >= 0);

  // min 2 per user and item: user 3 (1 row) and item 13 go, then everything else has >= 2.
  const Interactions core = filter_min_interactions(x, 2, 2);
  CHECK(core.size() == 6);
  CHECK(core.users.raw_ids() == std::vector<int64_t>{1, 2});
  // With min 3 per item every item (2 rows at most) goes, and with it every user.
  const Interactions strict = filter_min_interactions(x, 3, 3);
  CHECK(strict.size() == 0);  // items 10/11/12 have 2 rows each: nothing survives

  const Interactions half = sample_users(x, 0.5, 42);
  const Interactions half_again = sample_users(x, 0.5, 42);
  CHECK(half.users.raw_ids() == half_again.users.raw_ids());
  const Interactions most = sample_users(x, 0.9, 42);
  for (int64_t raw : half.users.raw_ids()) CHECK(most.users.find(raw) >= 0);  // monotone in the fraction
  CHECK(sample_users(x, 1.0, 1).size() == 7);
  CHECK(sample_users(x, 0.0, 1).size() == 0);
}

TEST_CASE("ratio splits for explicit ratings") {
  TempDir dir;
  std::string rows;
  for (int u = 1; u <= 20; ++u)
    for (int i = 0; i < 10; ++i)
      rows += std::to_string(u) + "\t" + std::to_string(100 + i) + "\t3\t" + std::to_string(1000 - i) + "\n";
  const Interactions x = table(dir, rows);
  const ExplicitDataset random = ratio_split(x, 0.25, 7);
  CHECK(random.test.size() == 50);
  CHECK(random.train.size() == 150);
  CHECK(random.train.users == x.users);
  const ExplicitDataset again = ratio_split(x, 0.25, 7);
  CHECK(again.test.user == random.test.user);
  CHECK(again.test.item == random.test.item);
  CHECK(ratio_split(x, 0.25, 8).test.item != random.test.item);

  const ExplicitDataset temporal = temporal_ratio_split(x, 0.2);
  CHECK(temporal.test.size() == 40);  // 2 latest of each user's 10
  for (int64_t r = 0; r < temporal.test.size(); ++r) CHECK(temporal.test.timestamp[r] >= 999);
  for (int64_t r = 0; r < temporal.train.size(); ++r) CHECK(temporal.train.timestamp[r] <= 998);
}
