// select_rows: the one primitive behind every row-dropping transform. Keeping rows and re-densifying
// ids in one place guarantees that every transform returns IdMaps consistent with its rows.
#include "data/interactions.h"

#include "base/error.h"

namespace ncf::data {

Interactions select_rows(const Interactions& in, const std::vector<uint8_t>& keep) {
  NCF_CHECK(static_cast<int64_t>(keep.size()) == in.size(), "select_rows: a keep mask of "
                                                                << keep.size() << " entries for " << in.size()
                                                                << " rows of " << in.source);
  Interactions out;
  out.source = in.source;
  out.titles = in.titles;
  int64_t kept = 0;
  for (const uint8_t k : keep) kept += k != 0;
  if (kept == in.size()) {  // nothing dropped: ids and their order of first appearance are unchanged
    out = in;
    return out;
  }
  out.user.reserve(kept);
  out.item.reserve(kept);
  out.rating.reserve(kept);
  out.timestamp.reserve(kept);
  // Old dense id -> new dense id, assigned at first appearance among the kept rows.
  std::vector<int32_t> new_user(in.num_users(), -1), new_item(in.num_items(), -1);
  for (int64_t r = 0; r < in.size(); ++r) {
    if (!keep[r]) continue;
    int32_t& u = new_user[in.user[r]];
    if (u < 0) u = out.users.insert(in.users.raw(in.user[r]));
    int32_t& i = new_item[in.item[r]];
    if (i < 0) i = out.items.insert(in.items.raw(in.item[r]));
    out.user.push_back(u);
    out.item.push_back(i);
    out.rating.push_back(in.rating[r]);
    out.timestamp.push_back(in.timestamp[r]);
  }
  return out;
}

}  // namespace ncf::data
