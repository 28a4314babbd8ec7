// The synthetic MovieLens-shaped generator and a fast parallel ratings.csv writer (see synthetic.h).
#include "data/synthetic.h"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/files.h"
#include "data/random_streams.h"
#include "data/sampling_core.h"

namespace ncf::data {
namespace {

// Low bits of the RandomPurpose::synthetic stream: one per generated quantity.
constexpr uint32_t kActivity = 1;
constexpr uint32_t kPopularityOrder = 2;
constexpr uint32_t kUserProfile = 3;
constexpr uint32_t kItemDraw = 4;
constexpr uint32_t kRowValues = 5;
constexpr uint32_t kItemQuality = 6;
constexpr uint32_t kClusterOrder = 64;  // + cluster index

uint32_t stream(uint32_t quantity) { return random_stream(RandomPurpose::synthetic, quantity); }

// Ratings per user: min_per_user + a log-normal share of the rest, capped at half the catalogue; the
// rounding remainder goes one by one to users in id order.
std::vector<int64_t> ratings_per_user(const SyntheticConfig& c) {
  const int64_t cap = std::max<int64_t>(1, c.items / 2);
  const int64_t min_per = std::min<int64_t>({c.min_per_user, c.ratings / c.users, cap});
  if (c.ratings > cap * c.users)
    NCF_FAIL("generate_synthetic: " << c.ratings << " ratings do not fit " << c.users
                                    << " users who rate at most " << cap << " of the " << c.items
                                    << " items each");
  std::vector<double> weight(c.users);
  double total = 0;
  for (int32_t u = 0; u < c.users; ++u) {
    const Philox4 d = philox_draw(c.seed, stream(kActivity), static_cast<uint64_t>(u));
    weight[u] = std::exp(1.1 * philox_normal(d.v[0], d.v[1]));
    total += weight[u];
  }
  const double extra = static_cast<double>(c.ratings - min_per * c.users);
  std::vector<int64_t> count(c.users);
  int64_t assigned = 0;
  for (int32_t u = 0; u < c.users; ++u) {
    count[u] = std::min<int64_t>(cap, min_per + static_cast<int64_t>(weight[u] / total * extra));
    assigned += count[u];
  }
  for (int32_t u = 0; assigned < c.ratings; u = (u + 1) % c.users) {
    if (count[u] < cap) ++count[u], ++assigned;
  }
  return count;
}

float half_star(double value) {
  const double rounded = std::round(value * 2.0) / 2.0;
  return static_cast<float>(std::clamp(rounded, 0.5, 5.0));
}

}  // namespace

Interactions generate_synthetic(const SyntheticConfig& c) {
  if (c.users <= 0 || c.items <= 1 || c.ratings <= 0 || c.clusters <= 0 || c.end_time < c.start_time)
    NCF_FAIL(
        "generate_synthetic: users, ratings and clusters must be positive, items at least 2 and end_time >= "
        "start_time, got "
        << c.users << " users, " << c.items << " items, " << c.ratings << " ratings, " << c.clusters
        << " clusters, times " << c.start_time << ".." << c.end_time);
  const std::vector<int64_t> count = ratings_per_user(c);
  std::vector<int64_t> offset(c.users + 1, 0);
  for (int32_t u = 0; u < c.users; ++u) offset[u + 1] = offset[u] + count[u];

  // Zipf over popularity ranks: cdf[r] = P(rank <= r).
  std::vector<double> cdf(c.items);
  double mass = 0;
  for (int32_t r = 0; r < c.items; ++r) cdf[r] = (mass += std::pow(r + 1.0, -c.zipf_exponent));
  for (double& v : cdf) v /= mass;
  const IndexPermutation global_order = IndexPermutation::make(c.items, c.seed, stream(kPopularityOrder));
  std::vector<IndexPermutation> cluster_order(c.clusters);
  for (int32_t k = 0; k < c.clusters; ++k)
    cluster_order[k] =
        IndexPermutation::make(c.items, c.seed, stream(kClusterOrder + static_cast<uint32_t>(k)));
  // Item quality: popular items rate a little higher, plus noise.
  std::vector<float> quality(c.items);
  for (int32_t r = 0; r < c.items; ++r) {
    const auto item = static_cast<int32_t>(global_order(static_cast<uint64_t>(r)));
    const Philox4 d = philox_draw(c.seed, stream(kItemQuality), static_cast<uint64_t>(item));
    quality[item] = static_cast<float>(0.3 * philox_normal(d.v[0], d.v[1]) -
                                       0.4 * std::log1p(static_cast<double>(r)) / std::log(c.items + 1.0));
  }

  Interactions out;
  out.source = "synthetic";
  const int64_t rows = offset[c.users];
  out.user.resize(rows);
  out.item.resize(rows);  // catalogue index for now; densified below
  out.rating.resize(rows);
  out.timestamp.resize(rows);
  const double time_range = static_cast<double>(c.end_time - c.start_time);

#pragma omp parallel
  {
    std::vector<uint8_t> used(c.items, 0);
    std::vector<std::pair<int32_t, uint8_t>> chosen;  // (item, drawn from the user's taste cluster)
#pragma omp for schedule(dynamic, 64)
    for (int32_t u = 0; u < c.users; ++u) {
      const Philox4 profile = philox_draw(c.seed, stream(kUserProfile), static_cast<uint64_t>(u));
      const auto cluster =
          static_cast<int32_t>(philox_below(profile.v[0], static_cast<uint32_t>(c.clusters)));
      const double bias = 0.35 * philox_normal(profile.v[1], profile.v[2]);
      const Philox4 times =
          philox_draw(c.seed, stream(kUserProfile), static_cast<uint64_t>(u) | (1ull << 40));
      const double span = std::min(time_range, 86400.0 * std::exp(5.0 * philox_unit_float(times.v[0])));
      const auto start = c.start_time + static_cast<int64_t>((time_range - span) *
                                                             philox_unit_double(times.v[1], times.v[2]));

      chosen.clear();
      for (uint64_t attempt = 0; static_cast<int64_t>(chosen.size()) < count[u]; ++attempt) {
        const Philox4 d = philox_draw(c.seed, stream(kItemDraw), (static_cast<uint64_t>(u) << 32) | attempt);
        const float source = philox_unit_float(d.v[0]);
        const double unit = philox_unit_double(d.v[1], d.v[2]);
        const auto rank = static_cast<uint64_t>(
            std::min<ptrdiff_t>(std::upper_bound(cdf.begin(), cdf.end(), unit) - cdf.begin(), c.items - 1));
        const bool from_cluster = source >= 0.45f && source < 0.9f;
        const auto item =
            static_cast<int32_t>(source < 0.45f ? global_order(rank)
                                 : from_cluster ? cluster_order[cluster](rank)
                                                : philox_below(d.v[3], static_cast<uint32_t>(c.items)));
        if (used[item]) continue;
        used[item] = 1;
        chosen.emplace_back(item, from_cluster);
      }
      std::sort(chosen.begin(), chosen.end());
      for (size_t k = 0; k < chosen.size(); ++k) {
        const int64_t row = offset[u] + static_cast<int64_t>(k);
        const int32_t item = chosen[k].first;
        used[item] = 0;
        const Philox4 d = philox_draw(c.seed, stream(kRowValues), static_cast<uint64_t>(row));
        out.user[row] = u;
        out.item[row] = item;
        out.rating[row] = half_star(3.45 + bias + quality[item] + (chosen[k].second ? 0.35 : -0.1) +
                                    0.85 * philox_normal(d.v[0], d.v[1]));
        const double at = philox_unit_double(d.v[2], d.v[3]);
        out.timestamp[row] = start + static_cast<int64_t>(span * at * at);  // early in the burst, often tied
      }
    }
  }

  // Raw ids: userId = u + 1 (users appear in order, so dense u is user u), movieId = catalogue index + 1.
  out.users.reserve(c.users);
  for (int32_t u = 0; u < c.users; ++u) out.users.insert(u + 1);
  out.items.reserve(c.items);
  for (int64_t r = 0; r < rows; ++r) out.item[r] = out.items.insert(out.item[r] + 1);
  return out;
}

namespace {
// The rows as ratings.csv text, handed to `append` chunk by chunk in file order.
void append_ratings_csv(const Interactions& x, const AppendFn& append) {
  const std::string header = "userId,movieId,rating,timestamp\n";
  append(header.data(), header.size());
  constexpr int64_t kChunk = 1 << 18;
  const int64_t chunks = (x.size() + kChunk - 1) / kChunk;
  std::exception_ptr failure;  // an exception may not leave an OpenMP region: carried out of it
  // Threads format consecutive chunks side by side; `ordered` appends them in file order.
#pragma omp parallel
  {
    std::string buffer;
    buffer.reserve(kChunk * 40);
#pragma omp for ordered schedule(static, 1)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      buffer.clear();
      char line[128];  // one row is at most ~60 characters; each number gets a 32-byte budget
      const int64_t end = std::min(x.size(), (chunk + 1) * kChunk);
      for (int64_t r = chunk * kChunk; r < end; ++r) {
        char* p = line;
        p = std::to_chars(p, p + 32, x.users.raw(x.user[r])).ptr;
        *p++ = ',';
        p = std::to_chars(p, p + 32, x.items.raw(x.item[r])).ptr;
        *p++ = ',';
        const float rating = x.rating[r];
        if (rating >= 0 && rating < 10 && rating * 2 == std::floor(rating * 2)) {  // "4.0", "3.5"
          *p++ = static_cast<char>('0' + static_cast<int>(rating));
          *p++ = '.';
          *p++ = rating == std::floor(rating) ? '0' : '5';
        } else {
          p = std::to_chars(p, p + 32, rating).ptr;
        }
        *p++ = ',';
        p = std::to_chars(p, p + 32, x.timestamp[r]).ptr;
        *p++ = '\n';
        buffer.append(line, static_cast<size_t>(p - line));
      }
#pragma omp ordered
      if (!failure) {
        try {
          append(buffer.data(), buffer.size());
        } catch (...) {
          failure = std::current_exception();
        }
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
}
}  // namespace

void write_ratings_csv(const Interactions& x, const std::string& path) {
  write_file_atomically_with(path, [&](const AppendFn& append) { append_ratings_csv(x, append); });
}

void write_synthetic_csv(const SyntheticConfig& config, const std::string& path) {
  // The temporary file is opened before the rows are generated: an unwritable path fails at once.
  write_file_atomically_with(
      path, [&](const AppendFn& append) { append_ratings_csv(generate_synthetic(config), append); });
}

Interactions expand_interactions(const Interactions& x, const ExpandConfig& config) {
  const int64_t uf = config.user_factor, itf = config.item_factor;
  NCF_CHECK(uf >= 1 && itf >= 1,
            "expand: the user and item factors must be >= 1, got " << uf << " and " << itf);
  NCF_CHECK(x.num_users() * uf <= INT32_MAX && x.num_items() * itf <= INT32_MAX,
            "expand: " << x.num_users() << " users x " << uf << " or " << x.num_items() << " items x " << itf
                       << " exceeds the 2^31 - 1 dense ids an index holds");
  // Rows grouped by user, each user's rows in file order: a stable counting sort.
  std::vector<int64_t> start(static_cast<size_t>(x.num_users()) + 1, 0);
  for (int32_t u : x.user) ++start[u + 1];
  for (int32_t u = 0; u < x.num_users(); ++u) start[u + 1] += start[u];
  std::vector<int64_t> order(x.size()), next(start.begin(), start.end() - 1);
  for (int64_t r = 0; r < x.size(); ++r) order[next[x.user[r]]++] = r;

  Interactions out;
  out.source = x.source + " expanded x" + std::to_string(uf) + " x" + std::to_string(itf);
  const int64_t n = x.size() * uf;
  out.user.resize(n);
  out.item.resize(n);
  out.rating.resize(n);
  out.timestamp.resize(n);
  std::vector<int64_t> raw_users(static_cast<size_t>(x.num_users() * uf)),
      raw_items(static_cast<size_t>(x.num_items() * itf));
  for (size_t k = 0; k < raw_users.size(); ++k) raw_users[k] = static_cast<int64_t>(k) + 1;
  for (size_t k = 0; k < raw_items.size(); ++k) raw_items[k] = static_cast<int64_t>(k) + 1;
  out.users = IdMap::from_raw_ids(std::move(raw_users));
  out.items = IdMap::from_raw_ids(std::move(raw_items));
#pragma omp parallel for schedule(dynamic, 256)
  for (int32_t u = 0; u < x.num_users(); ++u) {
    const int64_t begin = start[u], count = start[u + 1] - begin;
    for (int64_t a = 0; a < uf; ++a) {
      const int64_t base = begin * uf + a * count;  // user u's copies follow each other
      for (int64_t k = 0; k < count; ++k) {
        const int64_t r = order[begin + k];
        const int32_t item = x.item[r];
        // A mixer of (seed, u, i), so each (user, item) pair picks its own copy offset.
        uint64_t h = config.seed * 0x9E3779B97F4A7C15ull ^
                     (static_cast<uint64_t>(u) << 32 | static_cast<uint32_t>(item));
        h ^= h >> 33, h *= 0xff51afd7ed558ccdull, h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ull, h ^= h >> 33;
        out.user[base + k] = static_cast<int32_t>(u * uf + a);
        out.item[base + k] = static_cast<int32_t>(item * itf + static_cast<int64_t>((h % itf + a) % itf));
        out.rating[base + k] = x.rating[r];
        out.timestamp[base + k] = x.timestamp[r];
      }
    }
  }
  return out;
}

}  // namespace ncf::data
