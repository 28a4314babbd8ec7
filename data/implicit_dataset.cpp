// Building the training CSR of an ImplicitDataset, and drawing its evaluation negatives.
#include "data/implicit_dataset.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/hash.h"
#include "data/item_bitmap.h"
#include "data/large_vector.h"
#include "data/sampling_core.h"
#include "tensor/cpu_parallel.h"

namespace ncf::data {

bool ImplicitDataset::user_trained_on(int32_t u, int32_t item) const {
  return sorted_contains(user_items(u), user_count(u), item);
}

int32_t ImplicitDataset::num_test_users() const {
  return static_cast<int32_t>(
      std::count_if(test_item.begin(), test_item.end(), [](int32_t i) { return i >= 0; }));
}

namespace {

// Sorts and deduplicates one user's items through a bitmap over the catalogue, in time linear in the
// user's items: a second, summary bitmap (one bit per nonzero word) lets the sweep visit only the
// words that hold items, and the few summary words. (Sorting 100+ items with std::sort costs several
// times more: its comparisons are unpredictable branches.) One per thread; bits are all zero between
// calls.
class ItemSorter {
 public:
  explicit ItemSorter(int32_t num_items)
      : words_((static_cast<size_t>(num_items) + 63) / 64, 0), summary_((words_.size() + 63) / 64, 0) {}

  size_t summary_words() const { return summary_.size(); }

  // The distinct items of [begin, end) except `drop_a` and `drop_b` (-1: none), ascending, written to
  // begin; returns the new end.
  int32_t* sort_unique(int32_t* begin, int32_t* end, int32_t drop_a, int32_t drop_b) {
    for (const int32_t* i = begin; i < end; ++i) {
      words_[*i >> 6] |= uint64_t{1} << (*i & 63);
      summary_[*i >> 12] |= uint64_t{1} << ((*i >> 6) & 63);
    }
    for (const int32_t held : {drop_a, drop_b})
      if (held >= 0) words_[held >> 6] &= ~(uint64_t{1} << (held & 63));  // its summary bit may stay
    // Four slots of slack: the unrolled extraction below writes up to three items past the last one.
    scratch_.resize(static_cast<size_t>(end - begin) + 4);
    int32_t* out = scratch_.data();
    for (size_t s = 0; s < summary_.size(); ++s) {
      for (uint64_t nonzero = summary_[s]; nonzero != 0; nonzero &= nonzero - 1) {
        const size_t w = s * 64 + static_cast<size_t>(__builtin_ctzll(nonzero));
        out = extract(words_[w], static_cast<int32_t>(w * 64), out);
        words_[w] = 0;
      }
      summary_[s] = 0;
    }
    const int64_t count = out - scratch_.data();
    std::copy_n(scratch_.data(), count, begin);
    return begin + count;
  }

 private:
  // Writes base + the position of every set bit of `word`, ascending, and returns the end. Branch-free
  // for up to four bits (almost every word here): four slots are written whatever the count (the
  // unused ones, garbage, are overwritten later or lie past the end), and the end advances by the
  // count. `| 1 << 63` keeps ctz defined once the word is empty.
  static int32_t* extract(uint64_t word, int32_t base, int32_t* out) {
    int32_t* const end = out + __builtin_popcountll(word);
    do {
      for (int k = 0; k < 4; ++k) {
        out[k] = base + __builtin_ctzll(word | uint64_t{1} << 63);
        word &= word - 1;
      }
      out += 4;
    } while (word != 0);
    return end;
  }

  std::vector<uint64_t> words_, summary_;
  std::vector<int32_t> scratch_;
};

// build_training_csr; with spare_users, that vector's memory becomes train_user once the pairs are read
// (it may be pair_user itself).
void build_csr(ImplicitDataset& data, const std::vector<int32_t>& pair_user,
               const std::vector<int32_t>& pair_item, std::vector<int32_t>* spare_users) {
  const int32_t users = data.num_users;
  const int64_t pairs = static_cast<int64_t>(pair_user.size());

  // Counting sort by user, in parallel: each thread counts the users of one contiguous range of pairs,
  // a prefix sum over (user, range) gives every range its own write position within each user's
  // segment, and each thread then writes its pairs there.
  constexpr int64_t kPairsPerThread = int64_t{1} << 18;  // fewer pairs than this: not worth a thread
  const int parts = static_cast<int>(std::clamp<int64_t>(pairs / kPairsPerThread, 1, omp_get_max_threads()));
  std::vector<int64_t> range_begin(static_cast<size_t>(parts) + 1);
  for (int part = 0; part <= parts; ++part) range_begin[part] = pairs * part / parts;
  std::vector<std::vector<int64_t>> cursor(static_cast<size_t>(parts));  // per range: count, then position
#pragma omp parallel for schedule(static, 1) num_threads(parts)
  for (int part = 0; part < parts; ++part) {
    cursor[part].assign(static_cast<size_t>(users), 0);
    for (int64_t r = range_begin[part], end = range_begin[part + 1]; r < end; ++r)
      ++cursor[part][pair_user[r]];
  }
  std::vector<int64_t> offsets(users + 1, 0);
  for (int32_t u = 0; u < users; ++u) {
    int64_t position = offsets[u];
    for (int part = 0; part < parts; ++part) {
      const int64_t count = cursor[part][u];
      cursor[part][u] = position;
      position += count;
    }
    offsets[u + 1] = position;
  }
  std::vector<int32_t> items;
  resize_large(items, static_cast<size_t>(pairs));
#pragma omp parallel for schedule(static, 1) num_threads(parts)
  for (int part = 0; part < parts; ++part) {
    std::vector<int64_t>& next = cursor[part];
    for (int64_t r = range_begin[part], end = range_begin[part + 1]; r < end; ++r)
      items[next[pair_user[r]]++] = pair_item[r];
  }
  cursor.clear();

  std::vector<int64_t> kept(users + 1, 0);  // kept[u+1] = unique, non-held-out items of user u
  data.item_popularity.assign(data.num_items, 0);
#pragma omp parallel num_threads(::ncf::cpu_threads())
  {
    ItemSorter sorter(data.num_items);
    std::vector<int64_t> popularity(data.num_items, 0);  // this thread's users' training positives per item
#pragma omp for schedule(dynamic, 256)
    for (int32_t u = 0; u < users; ++u) {
      int32_t* begin = items.data() + offsets[u];
      int32_t* end = items.data() + offsets[u + 1];
      const int32_t test = data.test_item.empty() ? -1 : data.test_item[u];
      const int32_t validation = data.validation_item.empty() ? -1 : data.validation_item[u];
      const bool sorted = std::is_sorted(begin, end);  // e.g. a single item, or a file listing items in order
      if (!sorted && static_cast<size_t>(end - begin) * 4 >= sorter.summary_words()) {
        end = sorter.sort_unique(begin, end, test, validation);
      } else {  // sorted already, or few items in a huge catalogue (the summary sweep would cost more)
        if (!sorted) std::sort(begin, end);
        end = std::unique(begin, end);
        end = std::remove_if(begin, end, [&](int32_t i) { return i == test || i == validation; });
      }
      for (const int32_t* i = begin; i < end; ++i) ++popularity[*i];
      kept[u + 1] = end - begin;
    }
#pragma omp critical
    for (int32_t i = 0; i < data.num_items; ++i) data.item_popularity[i] += popularity[i];
  }
  for (int32_t u = 0; u < users; ++u) kept[u + 1] += kept[u];
  data.train_offsets = kept;
  // The kept items close up in place: user u's move to kept[u] <= offsets[u], so in user order no move
  // overwrites items still to be moved. (Reusing the array spares a fresh one: new memory is what costs
  // most here, the kernel zeroes every page.)
  for (int32_t u = 0; u < users; ++u) {
    if (kept[u] != offsets[u])
      std::memmove(items.data() + kept[u], items.data() + offsets[u],
                   static_cast<size_t>(kept[u + 1] - kept[u]) * sizeof(int32_t));
  }
  items.resize(static_cast<size_t>(kept[users]));
  data.train_item = std::move(items);
  if (spare_users) {
    data.train_user = std::move(*spare_users);  // no more reads of pair_user: it may be this vector
    data.train_user.resize(static_cast<size_t>(kept[users]));  // kept <= pairs: shrinks in place
    spare_users->clear();
  } else {
    data.train_user.clear();
    resize_large(data.train_user, static_cast<size_t>(kept[users]));
  }
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 256)
  for (int32_t u = 0; u < users; ++u)
    std::fill(data.train_user.begin() + kept[u], data.train_user.begin() + kept[u + 1], u);
}

}  // namespace

void build_training_csr(ImplicitDataset& data, const std::vector<int32_t>& pair_user,
                        const std::vector<int32_t>& pair_item) {
  build_csr(data, pair_user, pair_item, nullptr);
}

void build_training_csr(ImplicitDataset& data, std::vector<int32_t>&& pair_user,
                        const std::vector<int32_t>& pair_item) {
  build_csr(data, pair_user, pair_item, &pair_user);
}

int32_t drop_cold_test_users(ImplicitDataset& data) {
  int32_t dropped = 0;
  for (int32_t u = 0; u < data.num_users; ++u) {
    if (data.user_count(u) > 0 || data.test_item[u] < 0) continue;
    data.test_item[u] = -1;
    if (!data.validation_item.empty()) data.validation_item[u] = -1;
    std::fill_n(data.eval_negatives.begin() + static_cast<int64_t>(u) * data.eval_negatives_per_user,
                data.eval_negatives_per_user, -1);
    ++dropped;
  }
  return dropped;
}

uint64_t fingerprint(const ImplicitDataset& d) {
  uint64_t h = hash_vector(std::vector<int64_t>{d.num_users, d.num_items, d.eval_negatives_per_user}, 0);
  h = hash_vector(d.users.raw_ids(), h);
  h = hash_vector(d.items.raw_ids(), h);
  h = hash_vector(d.train_offsets, h);
  h = hash_vector(d.train_item, h);
  h = hash_vector(d.test_item, h);
  h = hash_vector(d.validation_item, h);
  return hash_vector(d.eval_negatives, h);
}

void draw_eval_negatives(ImplicitDataset& data, int32_t n, uint64_t seed) {
  NCF_CHECK(n >= 0, "draw_eval_negatives: the negative count must be >= 0, got " << n);
  data.eval_negatives_per_user = n;
  data.eval_negatives.assign(static_cast<int64_t>(data.num_users) * n, -1);
#pragma omp parallel num_threads(::ncf::cpu_threads())
  {
    // The user's interacted items and the negatives chosen so far as bits: O(1) rejection tests, the same
    // answers as eval_negatives_for_user's binary and linear searches (which a GPU would run).
    ItemBitmap taken(data.num_items);
#pragma omp for schedule(dynamic, 64)
    for (int32_t u = 0; u < data.num_users; ++u) {
      const int32_t test = data.test_item[u];
      if (test < 0) continue;
      const int32_t validation = data.validation_item.empty() ? -1 : data.validation_item[u];
      int32_t* out = data.eval_negatives.data() + static_cast<int64_t>(u) * n;
      taken.set(data.user_items(u), data.user_count(u));
      taken.set(test);
      if (validation >= 0) taken.set(validation);
      const auto reject = [&](int32_t item, const int32_t*, int32_t) {
        if (taken(item)) return true;
        taken.set(item);  // accepted: mark as chosen
        return false;
      };
      const int64_t available =
          static_cast<int64_t>(data.num_items) - data.user_count(u) - 1 - (validation >= 0);
      const int32_t found =
          eval_negatives_from(reject, available, data.num_items, n, seed, static_cast<uint32_t>(u), out);
      taken.clear(data.user_items(u), data.user_count(u));
      taken.clear(out, found);
      taken.clear(&test, 1);
      if (validation >= 0) taken.clear(&validation, 1);
    }
  }
}

}  // namespace ncf::data
