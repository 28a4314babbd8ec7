// read_ncf: the NCF paper's train / test / negative files into an ImplicitDataset.
#include "data/ncf_format.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "data/delimited_parser.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "data/text_fields.h"

namespace ncf::data {
namespace {

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

int32_t parse_dense_id(std::string_view field, const std::string& path, int64_t line, int column,
                       const char* role) {
  int64_t value = 0;
  const text::NumberStatus status = text::parse_int64(field, value);
  if (status == text::NumberStatus::kNotNumber)
    throw DataError(
        path, line, column,
        std::string("non-number: expected an integer ") + role + ", found " + text::excerpt(field));
  if (status == text::NumberStatus::kOverflow || value < 0 || value >= std::numeric_limits<int32_t>::max())
    throw DataError(path, line, column,
                    std::string("id overflow: ") + role + " " + text::excerpt(field) +
                        " is not a dense id in [0, 2^31-1)");
  return static_cast<int32_t>(value);
}

// The user and item ids of every row as written in the file: the NCF files' ids are dense already
// (parse_delimited with dense_ids checked that they lie in [0, 2^31-1)).
struct IdsAsWritten {
  std::vector<int32_t> user, item;
};
IdsAsWritten ids_as_written(const Interactions& x) {
  IdsAsWritten ids;
  ids.user.resize(x.user.size());
  ids.item.resize(x.item.size());
  for (size_t r = 0; r < x.user.size(); ++r) {
    ids.user[r] = static_cast<int32_t>(x.users.raw(x.user[r]));
    ids.item[r] = static_cast<int32_t>(x.items.raw(x.item[r]));
  }
  return ids;
}

struct NegativeLines {
  std::vector<int32_t> user, item;     // the (user,item) of each line
  std::vector<int64_t> line, offsets;  // file line of each entry; CSR offsets into negatives
  std::vector<int32_t> negatives;
};

// "(user,item)\tneg\tneg..." lines. Small (one line per test user): a sequential pass.
NegativeLines read_negative_lines(const std::string& path) {
  const MappedFile file(path);
  if (file.size() == 0) throw DataError(path, "empty file");
  NegativeLines out;
  out.offsets.push_back(0);
  const char* end = file.data() + file.size();
  int64_t line = 1;
  for (const char* p = file.data(); p < end; ++line) {
    const char* stop = text::line_end(p, end);
    const char* next = stop + 1;
    stop = text::strip_cr(p, stop);
    if (stop == p) {
      p = next;
      continue;
    }
    const char* field_end = text::find_separator(p, stop, "\t");
    const std::string_view pair(p, static_cast<size_t>(field_end - p));
    const size_t comma = pair.find(',');
    if (pair.size() < 5 || pair.front() != '(' || pair.back() != ')' || comma == std::string_view::npos)
      throw DataError(path, line, 1, "expected '(user,item)', found " + text::excerpt(pair));
    out.user.push_back(parse_dense_id(pair.substr(1, comma - 1), path, line, 1, "user id"));
    out.item.push_back(
        parse_dense_id(pair.substr(comma + 1, pair.size() - comma - 2), path, line, 1, "item id"));
    out.line.push_back(line);
    int column = 1;
    for (const char* q = field_end; q < stop;) {
      ++q;  // the tab
      ++column;
      const char* negative_end = text::find_separator(q, stop, "\t");
      const std::string_view field(q, static_cast<size_t>(negative_end - q));
      if (!text::trim(field).empty())
        out.negatives.push_back(parse_dense_id(field, path, line, column, "item id"));
      q = negative_end;
    }
    out.offsets.push_back(static_cast<int64_t>(out.negatives.size()));
    p = next;
  }
  if (out.user.empty()) throw DataError(path, "empty file");
  return out;
}

}  // namespace

ImplicitDataset read_ncf(const std::string& prefix) {
  const std::string train_path = prefix + ".train.rating";
  const std::string test_path = prefix + ".test.rating";
  const std::string negative_path = prefix + ".test.negative";
  // user, item, rating; a 4th (timestamp) column is allowed and not needed: the split is given.
  const DelimitedFormat format{"\t", false, "0", "1", "2", ""};
  ParseOptions dense;
  dense.dense_ids = true;
  const IdsAsWritten train = ids_as_written(parse_delimited(train_path, format, dense));
  const IdsAsWritten test = ids_as_written(parse_delimited(test_path, format, dense));
  NegativeLines negatives;
  const bool have_negatives = file_exists(negative_path);
  if (have_negatives) negatives = read_negative_lines(negative_path);

  ImplicitDataset data;
  data.source = prefix;
  int64_t max_user = -1, max_item = -1;
  for (size_t r = 0; r < train.user.size(); ++r) {
    max_user = std::max<int64_t>(max_user, train.user[r]);
    max_item = std::max<int64_t>(max_item, train.item[r]);
  }
  for (const int32_t i : test.item) max_item = std::max<int64_t>(max_item, i);
  for (const int32_t i : negatives.item) max_item = std::max<int64_t>(max_item, i);
  for (const int32_t i : negatives.negatives) max_item = std::max<int64_t>(max_item, i);
  data.num_users = static_cast<int32_t>(max_user + 1);
  data.num_items = static_cast<int32_t>(max_item + 1);

  std::vector<uint8_t> in_training(data.num_users, 0);
  for (const int32_t u : train.user) in_training[u] = 1;
  auto trained = [&](int64_t u) { return u < data.num_users && in_training[u]; };

  data.test_item.assign(data.num_users, -1);
  data.validation_item.assign(data.num_users, -1);
  for (size_t r = 0; r < test.user.size(); ++r) {
    const int32_t u = test.user[r];
    if (!trained(u))
      throw DataError(test_path, line_of_row(test_path, false, r), 1,
                      "test user " + std::to_string(u) + " does not occur in " + train_path);
    if (data.test_item[u] >= 0)
      throw DataError(test_path, line_of_row(test_path, false, r), 1,
                      "user " + std::to_string(u) + " has a second test pair (leave-one-out allows one)");
    data.test_item[u] = test.item[r];
  }

  build_training_csr(data, train.user, train.item);

  if (have_negatives) {
    int64_t per_user = 0;
    for (size_t k = 0; k + 1 < negatives.offsets.size(); ++k)
      per_user = std::max(per_user, negatives.offsets[k + 1] - negatives.offsets[k]);
    data.eval_negatives_per_user = static_cast<int32_t>(per_user);
    data.eval_negatives.assign(static_cast<int64_t>(data.num_users) * per_user, -1);
    std::vector<uint8_t> seen(data.num_users, 0);
    for (size_t k = 0; k < negatives.user.size(); ++k) {
      const int32_t u = negatives.user[k];
      const int64_t line = negatives.line[k];
      if (!trained(u))
        throw DataError(negative_path, line, 1,
                        "user " + std::to_string(u) + " does not occur in " + train_path);
      if (data.test_item[u] != negatives.item[k])
        throw DataError(negative_path, line, 1,
                        "pair (" + std::to_string(u) + "," + std::to_string(negatives.item[k]) +
                            ") is not the test pair of " + test_path);
      if (seen[u])
        throw DataError(negative_path, line, 1, "user " + std::to_string(u) + " has a second line");
      seen[u] = 1;
      std::copy(negatives.negatives.begin() + negatives.offsets[k],
                negatives.negatives.begin() + negatives.offsets[k + 1],
                data.eval_negatives.begin() + static_cast<int64_t>(u) * per_user);
    }
  }
  data.users = IdMap::identity(data.num_users);
  data.items = IdMap::identity(data.num_items);
  return data;
}

}  // namespace ncf::data
