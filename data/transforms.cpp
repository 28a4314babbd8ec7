// binarize, filter_min_interactions, sample_users: each computes a keep-mask and calls select_rows.
#include "data/transforms.h"

#include <vector>

#include "base/error.h"

#include "data/random_streams.h"

namespace ncf::data {

Interactions binarize(Interactions in, std::optional<float> threshold) {
  if (threshold) {
    std::vector<uint8_t> keep(in.size());
    for (int64_t r = 0; r < in.size(); ++r) keep[r] = in.rating[r] >= *threshold;
    in = select_rows(in, keep);
  }
  std::fill(in.rating.begin(), in.rating.end(), 1.0f);
  return in;
}

Interactions filter_min_interactions(const Interactions& in, int64_t min_user, int64_t min_item) {
  std::vector<uint8_t> keep(in.size(), 1);
  // Iterate on the mask (cheap) and build the result once at the end.
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<int64_t> user_count(in.num_users(), 0), item_count(in.num_items(), 0);
    for (int64_t r = 0; r < in.size(); ++r) {
      if (keep[r]) ++user_count[in.user[r]], ++item_count[in.item[r]];
    }
    for (int64_t r = 0; r < in.size(); ++r) {
      if (keep[r] && (user_count[in.user[r]] < min_user || item_count[in.item[r]] < min_item)) {
        keep[r] = 0;
        changed = true;
      }
    }
  }
  return select_rows(in, keep);
}

Interactions sample_users(const Interactions& in, double fraction, uint64_t seed) {
  NCF_CHECK(fraction >= 0.0 && fraction <= 1.0, "sample_users: fraction must be in [0, 1], got " << fraction);
  if (fraction >= 1.0) return select_rows(in, std::vector<uint8_t>(in.size(), 1));
  std::vector<uint8_t> user_kept(in.num_users());
  for (int32_t u = 0; u < in.num_users(); ++u) {
    const Philox4 draw =
        philox_draw(seed, random_stream(RandomPurpose::user_sample), static_cast<uint64_t>(in.users.raw(u)));
    user_kept[u] = philox_unit_double(draw.v[0], draw.v[1]) < fraction;
  }
  std::vector<uint8_t> keep(in.size());
  for (int64_t r = 0; r < in.size(); ++r) keep[r] = user_kept[in.user[r]];
  return select_rows(in, keep);
}

}  // namespace ncf::data
