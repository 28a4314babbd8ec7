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
  const ParseStatus status = text::parse_int64(field, value);
  if (status == ParseStatus::not_a_number)
    throw DataError(
        path, line, column,
        std::string("non-number: expected an integer ") + role + ", found " + text::excerpt(field));
  if (status == ParseStatus::out_of_range || value < 0 || value >= std::numeric_limits<int32_t>::max())
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
  for (const char* p = text::skip_byte_order_mark(file.data(), end); p < end; ++line) {
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

// The number of ids of one kind across the files: the largest + 1, which may exceed the number of
// distinct ids that occur by at most 1% (10 ids at least). NCF-format ids are dense; a stray large id
// would otherwise make tables for ids that occur nowhere (one id of 10^8 means a 10^8-row model) and,
// with drawn evaluation negatives, hand the model untrainable, easy negatives.
struct IdSource {
  std::string path;
  const std::vector<int32_t>* rows;     // a rating file's column, or
  const NegativeLines* negative_lines;  // the negatives file's pairs and negatives
};

int32_t dense_id_count(const char* role, const std::vector<IdSource>& sources) {
  std::vector<int64_t> ids;
  int64_t largest = -1, largest_row = 0, largest_line = 0;
  const IdSource* largest_in = nullptr;
  for (const IdSource& source : sources) {
    auto take = [&](int64_t id, int64_t row, int64_t line) {
      ids.push_back(id);
      if (id > largest) largest = id, largest_in = &source, largest_row = row, largest_line = line;
    };
    if (source.rows) {
      for (size_t r = 0; r < source.rows->size(); ++r) take((*source.rows)[r], static_cast<int64_t>(r), 0);
    } else if (source.negative_lines) {
      const NegativeLines& n = *source.negative_lines;
      for (size_t k = 0; k < n.item.size(); ++k) {
        take(n.item[k], 0, n.line[k]);
        for (int64_t at = n.offsets[k]; at < n.offsets[k + 1]; ++at) take(n.negatives[at], 0, n.line[k]);
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  const int64_t distinct = std::unique(ids.begin(), ids.end()) - ids.begin();
  const int64_t implied = largest + 1, unused = implied - distinct;
  if (unused > std::max<int64_t>(10, implied / 100)) {
    const int64_t line = largest_in->rows ? line_of_row(largest_in->path, false, largest_row) : largest_line;
    throw DataError(
        largest_in->path, line, 0,
        std::string(role) + " id " + std::to_string(largest) + " implies " + std::to_string(implied) + " " +
            role + "s, but only " + std::to_string(distinct) +
            " distinct ids occur in the files: NCF-format ids must be dense 0..n-1 (at most 1% of "
            "them unused), so this id is refused before tables of its size are made");
  }
  return static_cast<int32_t>(implied);
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
  // The id spaces: users of the training and test files; items of all three files. Checked to be
  // dense before anything of their size is allocated.
  data.num_users =
      dense_id_count("user", {{train_path, &train.user, nullptr}, {test_path, &test.user, nullptr}});
  data.num_items = dense_id_count("item", {{train_path, &train.item, nullptr},
                                           {test_path, &test.item, nullptr},
                                           {negative_path, nullptr, &negatives}});

  data.test_item.assign(data.num_users, -1);
  data.validation_item.assign(data.num_users, -1);
  for (size_t r = 0; r < test.user.size(); ++r) {
    // A test user absent from training is valid (real NCF-format sets hold them; the reference code
    // evaluates them with untrained embeddings): load.h counts them and can drop them.
    const int64_t u = test.user[r];
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
      if (u >= data.num_users || data.test_item[u] != negatives.item[k])
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
