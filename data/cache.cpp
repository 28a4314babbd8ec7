// Binary cache writer and reader (format in cache.h).
#include "data/cache.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "base/files.h"
#include "base/hash.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "tensor/cpu_parallel.h"

namespace ncf::data {
namespace {

constexpr char kMagic[8] = {'N', 'C', 'F', 'D', 'C', 'A', 'C', 'H'};
constexpr char kEndMagic[8] = {'N', 'C', 'F', 'D', '-', 'E', 'N', 'D'};
constexpr uint32_t kKindImplicit = 1, kKindExplicit = 2;

// Appends the cache's pieces to a file being written atomically (base/files.h).
class Writer {
 public:
  Writer(const AppendFn& append, const std::string& path, int fail_after_arrays)
      : append_(append), path_(path), fail_after_(fail_after_arrays) {}
  void bytes(const void* data, size_t size) {
    if (size) append_(data, size);
  }
  template <class T>
  void value(T v) {
    bytes(&v, sizeof v);
  }
  template <class T>
  void array(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (fail_after_ >= 0 && arrays_ == fail_after_) throw DataError(path_, "cache write failed (test hook)");
    ++arrays_;
    value<uint64_t>(v.size());
    bytes(v.data(), v.size() * sizeof(T));
    checksum_ = hash_vector(v, checksum_);
  }
  uint64_t checksum() const { return checksum_; }
  void string(const std::string& s) { array(std::vector<char>(s.begin(), s.end())); }

 private:
  const AppendFn& append_;
  std::string path_;
  int fail_after_;
  uint64_t checksum_ = 0;  // of every array, chained in order: the footer stores it
  int arrays_ = 0;
};

class Reader {
 public:
  explicit Reader(const MappedFile& file) : p_(file.data()), end_(file.data() + file.size()) {}
  bool bytes(void* out, size_t size) {
    if (static_cast<size_t>(end_ - p_) < size) return ok_ = false;
    if (size) std::memcpy(out, p_, size);
    p_ += size;
    return true;
  }
  template <class T>
  T value() {
    T v{};
    bytes(&v, sizeof v);
    return v;
  }
  template <class T>
  std::vector<T> array() {
    const auto count = value<uint64_t>();
    if (!ok_ || count > static_cast<uint64_t>(end_ - p_) / sizeof(T)) {
      ok_ = false;
      return {};
    }
    std::vector<T> v(count);
    bytes(v.data(), count * sizeof(T));
    checksum_ = hash_vector(v, checksum_);
    return v;
  }
  uint64_t checksum() const { return checksum_; }
  std::string string() {
    const std::vector<char> chars = array<char>();
    return std::string(chars.begin(), chars.end());
  }
  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
  uint64_t checksum_ = 0;
};

void write_header(Writer& w, uint32_t kind, const std::string& key) {
  w.bytes(kMagic, sizeof kMagic);
  w.value<uint32_t>(kCacheVersion);
  w.value<uint32_t>(kind);
  w.value<uint64_t>(key.size());
  w.bytes(key.data(), key.size());
}

bool read_header(Reader& r, uint32_t kind, const std::string& key) {
  char magic[8];
  if (!r.bytes(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return false;
  if (r.value<uint32_t>() != kCacheVersion || r.value<uint32_t>() != kind) return false;
  const auto key_size = r.value<uint64_t>();
  if (!r.ok() || key_size != key.size()) return false;
  std::string stored(key_size, '\0');
  return r.bytes(stored.data(), key_size) && stored == key;
}

// The end magic and the checksum of every array read: a flipped byte anywhere in the payload shows.
bool read_footer(Reader& r) {
  const uint64_t computed = r.checksum();
  char magic[8];
  if (!r.bytes(magic, 8) || std::memcmp(magic, kEndMagic, 8) != 0) return false;
  const auto stored = r.value<uint64_t>();
  return r.ok() && r.at_end() && stored == computed;
}

void write_titles(Writer& w, const Titles& titles) {
  std::vector<int64_t> ids;
  ids.reserve(titles.size());
  for (const auto& entry : titles) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());  // a fixed order: the same data always gives the same file
  std::vector<int64_t> lengths;
  std::string text;
  for (const int64_t id : ids) {
    const std::string& title = titles.at(id);
    lengths.push_back(static_cast<int64_t>(title.size()));
    text += title;
  }
  w.array(ids);
  w.array(lengths);
  w.string(text);
}

Titles read_title_table(Reader& r) {
  const auto ids = r.array<int64_t>();
  const auto lengths = r.array<int64_t>();
  const std::string text = r.string();
  Titles titles;
  if (!r.ok() || ids.size() != lengths.size()) return titles;
  size_t at = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (lengths[k] < 0 || at + static_cast<size_t>(lengths[k]) > text.size()) return titles;
    titles.emplace(ids[k], text.substr(at, static_cast<size_t>(lengths[k])));
    at += static_cast<size_t>(lengths[k]);
  }
  return titles;
}

void write_interactions(Writer& w, const Interactions& x) {
  w.array(x.user);
  w.array(x.item);
  w.array(x.rating);
  w.array(x.timestamp);
  w.array(x.users.raw_ids());
  w.array(x.items.raw_ids());
  write_titles(w, x.titles);
  w.string(x.source);
}

bool read_interactions(Reader& r, Interactions& x) {
  x.user = r.array<int32_t>();
  x.item = r.array<int32_t>();
  x.rating = r.array<float>();
  x.timestamp = r.array<int64_t>();
  std::vector<int64_t> users = r.array<int64_t>(), items = r.array<int64_t>();
  x.titles = read_title_table(r);
  x.source = r.string();
  if (!r.ok() || x.item.size() != x.user.size() || x.rating.size() != x.user.size() ||
      x.timestamp.size() != x.user.size())
    return false;
  for (size_t row = 0; row < x.user.size(); ++row)
    if (x.user[row] < 0 || x.user[row] >= static_cast<int64_t>(users.size()) || x.item[row] < 0 ||
        x.item[row] >= static_cast<int64_t>(items.size()))
      return false;
  x.users = IdMap::from_raw_ids(std::move(users));
  x.items = IdMap::from_raw_ids(std::move(items));
  return true;
}

// Header, the body that `write` produces, footer: into a temporary file renamed over `path` at the end.
template <class WriteBody>
void write_cache_file(const std::string& path, uint32_t kind, const std::string& key, int fail_after,
                      WriteBody write) {
  write_file_atomically_with(path, [&](const AppendFn& append) {
    Writer w(append, path, fail_after);
    write_header(w, kind, key);
    write(w);
    w.bytes(kEndMagic, sizeof kEndMagic);
    w.value<uint64_t>(w.checksum());
  });
}

// nullopt for an absent or stale file (another key or version: silently rebuilt) and for a damaged one
// (truncated, a wrong checksum, inconsistent arrays: rebuilt with `problem` saying why).
template <class T>
std::optional<T> load_with(const std::string& path, uint32_t kind, const std::string& key,
                           bool (*read_body)(Reader&, T&), std::string* problem) {
  if (::access(path.c_str(), R_OK) != 0) return std::nullopt;
  try {
    const MappedFile file(path);
    Reader r(file);
    if (!read_header(r, kind, key)) return std::nullopt;
    T data;
    // The checksum is checked before anything read is trusted; the body's own checks come after it.
    const bool read = read_body(r, data);
    if (!r.ok() || !read_footer(r)) {
      if (problem) *problem = "it is truncated or its checksum does not match";
      return std::nullopt;
    }
    if (!read) {
      if (problem) *problem = "its arrays are inconsistent";
      return std::nullopt;
    }
    return data;
  } catch (const std::exception& e) {  // unreadable or inconsistent: rebuild
    if (problem) *problem = e.what();
    return std::nullopt;
  }
}

bool read_implicit(Reader& r, ImplicitDataset& d) {
  const auto sizes = r.array<int32_t>();  // num_users, num_items, eval negatives per user
  if (!r.ok() || sizes.size() != 3) return false;
  d.num_users = sizes[0];
  d.num_items = sizes[1];
  d.eval_negatives_per_user = sizes[2];
  d.train_offsets = r.array<int64_t>();
  d.train_item = r.array<int32_t>();
  d.test_item = r.array<int32_t>();
  d.validation_item = r.array<int32_t>();
  d.eval_negatives = r.array<int32_t>();
  d.item_popularity = r.array<int64_t>();
  std::vector<int64_t> users = r.array<int64_t>(), items = r.array<int64_t>();
  d.titles = read_title_table(r);
  d.source = r.string();
  const auto n_users = static_cast<size_t>(d.num_users);
  if (!r.ok() || d.num_users < 0 || d.num_items < 0 || d.eval_negatives_per_user < 0 ||
      d.train_offsets.size() != n_users + 1 || d.test_item.size() != n_users ||
      d.validation_item.size() != n_users || d.item_popularity.size() != static_cast<size_t>(d.num_items) ||
      users.size() != n_users || items.size() != static_cast<size_t>(d.num_items) ||
      d.train_offsets.front() != 0 || d.train_offsets.back() != static_cast<int64_t>(d.train_item.size()) ||
      d.eval_negatives.size() != n_users * static_cast<size_t>(d.eval_negatives_per_user))
    return false;
  // Every index in range: offsets never decrease, items, held-out items and negatives name items.
  for (size_t u = 0; u < n_users; ++u)
    if (d.train_offsets[u] > d.train_offsets[u + 1]) return false;
  auto item_in_range = [&](int32_t i) { return i >= -1 && i < d.num_items; };
  for (const int32_t i : d.train_item)
    if (i < 0 || i >= d.num_items) return false;
  for (const std::vector<int32_t>* v : {&d.test_item, &d.validation_item, &d.eval_negatives})
    for (const int32_t i : *v)
      if (!item_in_range(i)) return false;
  d.users = IdMap::from_raw_ids(std::move(users));
  d.items = IdMap::from_raw_ids(std::move(items));
  // train_user is implied by the offsets: rebuilt rather than stored.
  d.train_user.resize(d.train_item.size());
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 1024)
  for (int32_t u = 0; u < d.num_users; ++u)
    std::fill(d.train_user.begin() + d.train_offsets[u], d.train_user.begin() + d.train_offsets[u + 1], u);
  return true;
}

bool read_explicit(Reader& r, ExplicitDataset& d) {
  return read_interactions(r, d.train) && read_interactions(r, d.test);
}

}  // namespace

void save_cache(const std::string& path, const std::string& key, const ImplicitDataset& d,
                int fail_after_arrays) {
  write_cache_file(path, kKindImplicit, key, fail_after_arrays, [&](Writer& w) {
    w.array(std::vector<int32_t>{d.num_users, d.num_items, d.eval_negatives_per_user});
    w.array(d.train_offsets);
    w.array(d.train_item);
    w.array(d.test_item);
    w.array(d.validation_item);
    w.array(d.eval_negatives);
    w.array(d.item_popularity);
    w.array(d.users.raw_ids());
    w.array(d.items.raw_ids());
    write_titles(w, d.titles);
    w.string(d.source);
  });
}

void save_cache(const std::string& path, const std::string& key, const ExplicitDataset& d,
                int fail_after_arrays) {
  write_cache_file(path, kKindExplicit, key, fail_after_arrays, [&](Writer& w) {
    write_interactions(w, d.train);
    write_interactions(w, d.test);
  });
}

std::optional<ImplicitDataset> load_implicit_cache(const std::string& path, const std::string& key,
                                                   std::string* problem) {
  return load_with<ImplicitDataset>(path, kKindImplicit, key, read_implicit, problem);
}

std::optional<ExplicitDataset> load_explicit_cache(const std::string& path, const std::string& key,
                                                   std::string* problem) {
  return load_with<ExplicitDataset>(path, kKindExplicit, key, read_explicit, problem);
}

}  // namespace ncf::data
