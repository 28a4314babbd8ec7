// Negative sampling, shuffling and batches: correctness, determinism and thread-count independence.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/batches.h"
#include "data/epoch_sampler.h"
#include "data/negative_sampler.h"
#include "data/sampling_core.h"
#include "data/splits.h"
#include "data/synthetic.h"
#include "data/transforms.h"

using namespace ncf::data;
using ncf::Philox4;
using ncf::philox_below;
using ncf::philox_draw;

namespace {

// A small implicit data set with users of very different activity (some near the item count).
ImplicitDataset small_dataset(int32_t users = 300, int32_t items = 120, int64_t ratings = 9000) {
  SyntheticConfig config;
  config.users = users;
  config.items = items;
  config.ratings = ratings;
  config.seed = 5;
  config.min_per_user = 3;
  ImplicitDataset d = leave_one_out(binarize(generate_synthetic(config)), true);
  draw_eval_negatives(d, 30, 7);
  return d;
}

// Runs f with the given OpenMP thread count, restoring the previous one.
template <class F>
auto with_threads(int threads, F f) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  auto result = f();
  omp_set_num_threads(before);
  return result;
}

}  // namespace

TEST_CASE("IndexPermutation is a bijection of [0, n) for awkward sizes") {
  for (uint64_t n : {1ull, 2ull, 3ull, 5ull, 64ull, 65ull, 1000ull, 123457ull}) {
    const IndexPermutation perm = IndexPermutation::make(n, 11, 3);
    std::vector<uint8_t> hit(n, 0);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t j = perm(i);
      REQUIRE(j < n);
      CHECK_FALSE(hit[j]);
      hit[j] = 1;
    }
  }
  // It actually moves things: few fixed points, and neighbours land far apart.
  const IndexPermutation perm = IndexPermutation::make(100000, 1, 2);
  int fixed = 0, close = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    fixed += perm(i) == i;
    close += (perm(i + 1 < 100000 ? i + 1 : 0) > perm(i) ? perm(i + 1 < 100000 ? i + 1 : 0) - perm(i)
                                                         : perm(i) - perm(i + 1 < 100000 ? i + 1 : 0)) < 100;
  }
  CHECK(fixed < 10);
  CHECK(close < 1000);
}

TEST_CASE("the bucketed parallel sampler gives exactly the plain sequential reference's epoch") {
  const ImplicitDataset d = small_dataset();  // busy users: retries and the cyclic walk happen
  for (ShuffleMode mode : {ShuffleMode::none, ShuffleMode::groups, ShuffleMode::rows}) {
    CAPTURE(static_cast<int>(mode));
    const TrainingEpoch want = sample_epoch_reference(d, 4, 42, mode, 3);
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      const TrainingEpoch got =
          with_threads(threads, [&] { return TrainingSampler(d, 4, 42, mode).sample(3); });
      CHECK(got.user == want.user);
      CHECK(got.item == want.item);
      CHECK(got.label == want.label);
    }
  }
}

TEST_CASE("training negatives are never the user's positives; layout and labels per shuffle mode") {
  const ImplicitDataset d = small_dataset();
  for (ShuffleMode mode : {ShuffleMode::none, ShuffleMode::groups, ShuffleMode::rows}) {
    TrainingSampler sampler(d, 4, 42, mode);
    const TrainingEpoch epoch = sampler.sample(0);
    REQUIRE(epoch.size() == d.num_train() * 5);
    CHECK(epoch.group_size == 5);
    int64_t positives = 0;
    std::multiset<std::pair<int32_t, int32_t>> seen_positives;
    for (int64_t r = 0; r < epoch.size(); ++r) {
      const bool positive = epoch.label[r] == 1.0f;
      CHECK(positive == d.user_trained_on(epoch.user[r], epoch.item[r]));
      if (positive) seen_positives.insert({epoch.user[r], epoch.item[r]}), ++positives;
      REQUIRE(epoch.item[r] >= 0);
      REQUIRE(epoch.item[r] < d.num_items);
    }
    CHECK(positives == d.num_train());
    CHECK(seen_positives.size() == static_cast<size_t>(d.num_train()));  // each positive exactly once
    if (mode != ShuffleMode::rows) {  // groups: a positive followed by K negatives of the same user
      for (int64_t g = 0; g < d.num_train(); ++g) {
        CHECK(epoch.label[g * 5] == 1.0f);
        for (int j = 1; j < 5; ++j) CHECK(epoch.user[g * 5 + j] == epoch.user[g * 5]);
      }
    }
    if (mode == ShuffleMode::none) {
      CHECK(epoch.user[0] == d.train_user[0]);
      CHECK(epoch.item[5] == d.train_item[1]);
    }
  }
}

TEST_CASE("the same negatives in every shuffle mode; fresh ones each epoch") {
  const ImplicitDataset d = small_dataset();
  TrainingSampler grouped(d, 4, 42, ShuffleMode::none), rows(d, 4, 42, ShuffleMode::rows),
      groups(d, 4, 42, ShuffleMode::groups);
  const TrainingEpoch a = grouped.sample(3), b = rows.sample(3), c = groups.sample(3);
  // Grouped row r lands at row sigma(r); group p at group position sigma'(p).
  const uint32_t stream = random_stream(RandomPurpose::shuffle, 3);
  const IndexPermutation sigma = IndexPermutation::make(a.size(), 42, stream);
  for (int64_t r = 0; r < a.size(); ++r) {
    const auto to = static_cast<int64_t>(sigma(r));
    REQUIRE(b.item[to] == a.item[r]);
    REQUIRE(b.user[to] == a.user[r]);
    REQUIRE(b.label[to] == a.label[r]);
  }
  const IndexPermutation sigma_groups = IndexPermutation::make(d.num_train(), 42, stream);
  for (int64_t p = 0; p < d.num_train(); ++p) {
    const auto to = static_cast<int64_t>(sigma_groups(p));
    for (int s = 0; s < 5; ++s) {
      REQUIRE(c.item[to * 5 + s] == a.item[p * 5 + s]);
      REQUIRE(c.user[to * 5 + s] == a.user[p * 5 + s]);
    }
  }
  // The GPU-style per-sample function gives the same negatives as the CPU's bitmap loop.
  for (int64_t p = 0; p < d.num_train(); p += 7) {
    const int32_t u = d.train_user[p];
    for (int j = 0; j < 4; ++j)
      REQUIRE(a.item[p * 5 + 1 + j] ==
              training_negative(d.user_items(u), d.user_count(u), d.num_items, 42, 3, p * 4 + j));
  }
  CHECK(grouped.sample(4).item != a.item);
  // The shuffled layout mixes labels: the first 1000 rows are not all groups in a row.
  int64_t positive_runs = 0;
  for (int64_t i = 0; i + 5 < 1000; i += 5) positive_runs += b.label[i] == 1.0f;
  CHECK(positive_runs < 150);
}

TEST_CASE("fixed seed: identical samples, and independent of the OpenMP thread count") {
  const ImplicitDataset d = small_dataset();
  auto run = [&](int threads, uint64_t seed) {
    return with_threads(threads, [&] {
      TrainingSampler sampler(d, 4, seed, ShuffleMode::rows);
      return sampler.sample(2);
    });
  };
  const TrainingEpoch one = run(1, 42), two = run(2, 42), again = run(2, 42), other = run(2, 43);
  CHECK(one.user == two.user);
  CHECK(one.item == two.item);
  CHECK(one.label == two.label);
  CHECK(again.item == two.item);
  CHECK(other.item != two.item);
  // Evaluation negatives too.
  auto eval = [&](int threads) {
    return with_threads(threads, [&] {
      ImplicitDataset copy = d;
      draw_eval_negatives(copy, 30, 99);
      return copy.eval_negatives;
    });
  };
  CHECK(eval(1) == eval(2));
}

TEST_CASE("sampling_core's host-device helpers: sorted_contains and random_stream, called directly") {
  // sorted_contains is the membership test a GPU sampling thread runs on a user's sorted items.
  const int32_t items[] = {0, 3, 3, 7, 20};
  for (int32_t item = -2; item <= 22; ++item) {
    CAPTURE(item);
    const bool present = item == 0 || item == 3 || item == 7 || item == 20;
    CHECK(sorted_contains(items, 5, item) == present);
  }
  CHECK_FALSE(sorted_contains(items, 0, 0));  // an empty list holds nothing
  CHECK(sorted_contains(items, 1, 0));
  CHECK_FALSE(sorted_contains(items, 4, 20));  // only the first `count` entries count
  // A stream: the purpose in the top 8 bits, the counter's low 24 bits below it.
  CHECK(random_stream(RandomPurpose::train_negatives, 5) == 0xD1000005u);
  CHECK(random_stream(RandomPurpose::shuffle, 0x1234567u) == 0xD2234567u);
  CHECK(random_stream(RandomPurpose::eval_negatives) == 0xD3000000u);
  CHECK(random_stream(RandomPurpose::train_negatives, 1) != random_stream(RandomPurpose::shuffle, 1));
}

TEST_CASE("pinned draws: the documented counter scheme") {
  // Sample s = p*K + j: attempt 0 is word s%4 of philox_draw(seed, stream(e), s/4); retries use
  // philox_draw(seed, stream(e), s | block << 40), block = 1, 2, ...
  const int32_t items[] = {1, 3};
  const uint64_t seed = 42, sample = 13;
  const uint32_t stream = random_stream(RandomPurpose::train_negatives, 5);
  std::vector<uint32_t> words{philox_draw(seed, stream, sample / 4).v[sample % 4]};
  for (uint64_t block = 1; block <= 3; ++block)
    for (uint32_t w : philox_draw(seed, stream, sample | (block << 40)).v) words.push_back(w);
  int32_t expected = -1;
  for (uint32_t w : words) {
    const auto candidate = static_cast<int32_t>(philox_below(w, 6));
    if (candidate != 1 && candidate != 3) {
      expected = candidate;
      break;
    }
  }
  REQUIRE(expected >= 0);
  CHECK(training_negative(items, 2, 6, seed, 5, sample) == expected);
  // A user who trained on all but one item always gets that item (the cyclic fallback included).
  const int32_t almost_all[] = {0, 1, 2, 4, 5};
  for (uint64_t s = 0; s < 50; ++s) CHECK(training_negative(almost_all, 5, 6, seed, 0, s) == 3);
}

TEST_CASE("evaluation negatives: distinct, never an interacted item, deterministic by seed") {
  const ImplicitDataset d = small_dataset();
  REQUIRE(d.eval_negatives_per_user == 30);
  int32_t short_rows = 0;
  for (int32_t u = 0; u < d.num_users; ++u) {
    const int32_t* row = d.user_eval_negatives(u);
    if (d.test_item[u] < 0) {
      CHECK(std::all_of(row, row + 30, [](int32_t i) { return i == -1; }));
      continue;
    }
    std::set<int32_t> distinct;
    for (int k = 0; k < 30; ++k) {
      if (row[k] < 0) {
        ++short_rows;
        continue;
      }
      CHECK(distinct.insert(row[k]).second);
      CHECK_FALSE(d.user_trained_on(u, row[k]));
      CHECK(row[k] != d.test_item[u]);
      CHECK(row[k] != d.validation_item[u]);
    }
  }
  // The per-user function a GPU thread would run (binary and linear searches) gives the same lists.
  for (int32_t u = 0; u < d.num_users; ++u) {
    if (d.test_item[u] < 0) continue;
    int32_t held_out[2] = {d.test_item[u], d.validation_item[u]};
    std::vector<int32_t> out(30);
    eval_negatives_for_user(d.user_items(u), d.user_count(u), held_out, held_out[1] >= 0 ? 2 : 1, d.num_items,
                            30, 7, static_cast<uint32_t>(u), out.data());
    REQUIRE(out == std::vector<int32_t>(d.user_eval_negatives(u), d.user_eval_negatives(u) + 30));
  }
  ImplicitDataset copy = d;
  draw_eval_negatives(copy, 30, 7);
  CHECK(copy.eval_negatives == d.eval_negatives);
  draw_eval_negatives(copy, 30, 8);
  CHECK(copy.eval_negatives != d.eval_negatives);

  // A user with fewer free items than asked gets all of them, in order, then -1.
  const int32_t trained[] = {0, 2, 3};
  const int32_t held_out[] = {4};
  int32_t out[5];
  CHECK(eval_negatives_for_user(trained, 3, held_out, 1, 7, 5, 1, 0, out) == 3);
  CHECK(std::vector<int32_t>(out, out + 5) == std::vector<int32_t>{1, 5, 6, -1, -1});
}

TEST_CASE("batches are views over [begin, end) ranges") {
  const BatchRanges ranges(10, 4);
  std::vector<BatchRange> got(ranges.begin(), ranges.end());
  CHECK(got == std::vector<BatchRange>{{0, 4}, {4, 8}, {8, 10}});
  CHECK(BatchRanges(10, 4, 1, true).count() == 2);
  const BatchRanges grouped(23, 12, 5);  // groups of 5: the batch rounds down to 10
  CHECK(grouped.batch_size() == 10);
  CHECK(grouped.count() == 3);
  CHECK(BatchRanges(23, 3, 5).batch_size() == 5);

  const ImplicitDataset d = small_dataset();
  TrainingSampler sampler(d, 4, 1);
  const TrainingEpoch epoch = sampler.sample(0);
  int64_t covered = 0;
  for (const BatchRange range : BatchRanges(epoch.size(), 256)) {
    const Batch batch = batch_view(epoch, range);
    CHECK(batch.user == epoch.user.data() + range.begin);
    CHECK(batch.label == epoch.label.data() + range.begin);
    covered += batch.size;
  }
  CHECK(covered == epoch.size());
}

TEST_CASE("EpochSampler on the CPU gives TrainingSampler's rows as tensors") {
  ncf::data::Interactions x;
  for (int u = 0; u < 20; ++u)
    for (int j = 0; j < 6; ++j) {
      x.user.push_back(x.users.insert(u));
      x.item.push_back(x.items.insert((u * 5 + j * 7) % 30));
      x.rating.push_back(1.0f);
      x.timestamp.push_back(j);
    }
  const ncf::data::ImplicitDataset d = ncf::data::leave_one_out(x);
  ncf::data::TrainingSampler reference(d, 4, 9);
  ncf::data::EpochSampler sampler(d, 4, 9, ncf::Device::cpu());
  ncf::data::EpochTensors epoch;
  sampler.sample(3, epoch);
  const ncf::data::TrainingEpoch want = reference.sample(3);
  CHECK(epoch.users.to_vector<int32_t>() == want.user);
  CHECK(epoch.items.to_vector<int32_t>() == want.item);
  CHECK(epoch.labels.to_vector<float>() == want.label);
}
