// Building the training CSR of an ImplicitDataset, and drawing its evaluation negatives.
#include "data/implicit_dataset.h"

#include <algorithm>

#include "base/error.h"
#include "base/hash.h"
#include "data/item_bitmap.h"
#include "data/sampling_core.h"

namespace ncf::data {

bool ImplicitDataset::user_trained_on(int32_t u, int32_t item) const {
  return sorted_contains(user_items(u), user_count(u), item);
}

int32_t ImplicitDataset::num_test_users() const {
  return static_cast<int32_t>(
      std::count_if(test_item.begin(), test_item.end(), [](int32_t i) { return i >= 0; }));
}

void build_training_csr(ImplicitDataset& data, const std::vector<int32_t>& pair_user,
                        const std::vector<int32_t>& pair_item) {
  const int32_t users = data.num_users;
  const int64_t pairs = static_cast<int64_t>(pair_user.size());
  // Counting sort by user (stable), then sort + unique within each user in parallel.
  std::vector<int64_t> offsets(users + 1, 0);
  for (int64_t r = 0; r < pairs; ++r) ++offsets[pair_user[r] + 1];
  for (int32_t u = 0; u < users; ++u) offsets[u + 1] += offsets[u];
  std::vector<int32_t> items(pairs);
  {
    std::vector<int64_t> cursor(offsets.begin(), offsets.end() - 1);
    for (int64_t r = 0; r < pairs; ++r) items[cursor[pair_user[r]]++] = pair_item[r];
  }
  std::vector<int64_t> kept(users + 1, 0);  // kept[u+1] = unique, non-held-out items of user u
  const int64_t catalogue_words = (static_cast<int64_t>(data.num_items) + 63) / 64;
#pragma omp parallel
  {
    std::vector<uint64_t> bits(catalogue_words, 0);
#pragma omp for schedule(dynamic, 256)
    for (int32_t u = 0; u < users; ++u) {
      int32_t* begin = items.data() + offsets[u];
      int32_t* end = items.data() + offsets[u + 1];
      const int32_t test = data.test_item.empty() ? -1 : data.test_item[u];
      const int32_t validation = data.validation_item.empty() ? -1 : data.validation_item[u];
      if ((end - begin) * 8 >= catalogue_words) {
        // A busy user: sorting and deduplicating is a bitmap sweep, linear in the catalogue's words.
        for (const int32_t* i = begin; i < end; ++i) bits[*i >> 6] |= uint64_t{1} << (*i & 63);
        for (const int32_t held : {test, validation})
          if (held >= 0) bits[held >> 6] &= ~(uint64_t{1} << (held & 63));
        int32_t* write = begin;
        for (int64_t w = 0; w < catalogue_words; ++w) {
          for (uint64_t word = bits[w]; word != 0; word &= word - 1)
            *write++ = static_cast<int32_t>(w * 64 + __builtin_ctzll(word));
          bits[w] = 0;
        }
        end = write;
      } else {
        if (!std::is_sorted(begin, end)) std::sort(begin, end);
        end = std::unique(begin, end);
        end = std::remove_if(begin, end, [&](int32_t i) { return i == test || i == validation; });
      }
      kept[u + 1] = end - begin;
    }
  }
  for (int32_t u = 0; u < users; ++u) kept[u + 1] += kept[u];
  data.train_offsets = kept;
  data.train_item.resize(kept[users]);
  data.train_user.resize(kept[users]);
#pragma omp parallel for schedule(dynamic, 256)
  for (int32_t u = 0; u < users; ++u) {
    std::copy_n(items.data() + offsets[u], kept[u + 1] - kept[u], data.train_item.data() + kept[u]);
    std::fill(data.train_user.begin() + kept[u], data.train_user.begin() + kept[u + 1], u);
  }
  data.item_popularity.assign(data.num_items, 0);
  for (const int32_t i : data.train_item) ++data.item_popularity[i];
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
#pragma omp parallel
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
