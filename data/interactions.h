// Interactions: a table of (user, item, rating, timestamp) rows stored as columns, with the IdMaps that
// turn the dense user/item ids back into the raw ids of the source file, and optional item titles.
//
// Every reader returns one; every transform (binarize, filters, user sampling) takes one and returns
// a new one whose IdMaps describe exactly the users and items that remain.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/id_map.h"

namespace ncf::data {

// Raw item id -> title (UTF-8). Empty when no titles file was given.
using Titles = std::unordered_map<int64_t, std::string>;

struct Interactions {
  std::vector<int32_t> user;       // dense user id per row
  std::vector<int32_t> item;       // dense item id per row
  std::vector<float> rating;       // 1.0 when the source has no rating column
  std::vector<int64_t> timestamp;  // 0 when the source has no timestamp column (file order then decides)
  IdMap users, items;              // dense <-> raw ids
  Titles titles;                   // raw item id -> title (optional)
  std::string source;              // where the rows came from (a path), for messages

  int64_t size() const { return static_cast<int64_t>(user.size()); }
  int32_t num_users() const { return users.size(); }
  int32_t num_items() const { return items.size(); }
};

// Keeps the rows where keep[row] != 0 and re-densifies both id spaces in order of first appearance
// among the kept rows (so a user or item with no row left disappears from the IdMaps).
Interactions select_rows(const Interactions& in, const std::vector<uint8_t>& keep);

}  // namespace ncf::data
