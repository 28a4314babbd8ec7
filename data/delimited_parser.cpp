// Delimited text -> Interactions: the complete per-line parser, the sequential reference built on it,
// and the fast parallel parser.
//
// The fast parser, for a memory-mapped file:
//   1. cut the data (after the header) into chunks at line starts;
//   2. in parallel, count the lines of each chunk; a prefix sum gives every chunk its first line number
//      (for error messages) and its first row in the output columns;
//   3. in parallel, parse each chunk into its slice of the columns. Ids become chunk-local dense ids
//      (order of first appearance within the chunk). Most lines are read by a fast path that only
//      knows plain digits and short decimals; it hands any other line (spaces, signs, exponents, CRLF
//      endings, blank lines, errors) to the complete parser, so every value and every error message
//      is the complete parser's. A chunk stops at its first error; the earliest chunk's error is the
//      first one in the file, and that is the one reported;
//   4. number the chunk-local ids globally: inserting each chunk's ids, chunk after chunk, each chunk's
//      in its own order of first appearance, numbers them exactly as one pass over the file would;
//      then rewrite the id columns with those numbers (in parallel). Hence results do not depend on
//      the number of chunks or threads.
// Both passes drop the file's pages from memory behind them (MappedFile::release), and no 64-bit raw
// id column is ever built, so memory stays near the size of the result.
#include "data/delimited_parser.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <stdexcept>
#include <vector>

#include "data/error.h"
#include "data/large_vector.h"
#include "data/mapped_file.h"
#include "data/text_fields.h"
#include "tensor/cpu_parallel.h"

namespace ncf::data {
namespace {

constexpr int kMaxFields = 64;  // columns addressed by position must be below this

// ---- the file's layout: header and column positions ----

struct Columns {  // 0-based field positions; -1 = absent
  int user = -1, item = -1, rating = -1, timestamp = -1;
  int needed() const { return std::max({user, item, rating, timestamp}) + 1; }
};

struct Layout {
  Columns columns;
  std::string_view separator;
  std::string_view header_line;  // the header's text (no line end), empty without a header
  const char* data_begin = nullptr;
  bool header = false;
  bool dense_ids = false;
};

bool is_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A column spec ("userId" or "2") -> 0-based position; -1 for an empty (absent) optional spec.
int resolve_column(const std::string& spec, const char* role, bool required, const std::string_view* header,
                   int header_fields, const std::string& path) {
  if (spec.empty()) {
    if (required) throw DataError(path, std::string("no column given for the ") + role);
    return -1;
  }
  if (is_digits(spec)) {
    const std::optional<int64_t> position = to_int64(spec);
    if (!position || *position >= kMaxFields)
      throw DataError(path, std::string(role) + " column position " + spec + " is beyond the supported 63");
    return static_cast<int>(*position);
  }
  if (!header)
    throw DataError(path, std::string("the ") + role + " column is named '" + spec +
                              "' but the file has no header: give a 0-based position");
  for (int i = 0; i < header_fields; ++i) {
    if (text::trim(header[i]) == spec) return i;
  }
  throw DataError(path, 1, 0, std::string("missing column: the header has no '") + spec + "' (" + role + ")");
}

// Reads the header (when the format has one) and resolves the column specs against it.
Layout read_layout(const MappedFile& file, const DelimitedFormat& format, bool dense_ids) {
  const std::string& path = file.path();
  if (format.separator.empty()) throw DataError(path, "empty separator");
  if (file.size() == 0) throw DataError(path, "empty file");
  const char* end = file.data() + file.size();
  const char* begin = text::skip_byte_order_mark(file.data(), end);
  Layout layout;
  layout.separator = format.separator;
  layout.dense_ids = dense_ids;
  layout.header = format.header;
  layout.data_begin = begin;
  std::string_view header_fields[kMaxFields];
  int header_count = 0;
  if (format.header) {
    const char* stop = text::line_end(begin, end);
    layout.data_begin = stop == end ? end : stop + 1;
    stop = text::strip_cr(begin, stop);
    layout.header_line = std::string_view(begin, static_cast<size_t>(stop - begin));
    header_count = text::split_fields(begin, stop, format.separator, header_fields, kMaxFields);
  }
  const std::string_view* header = format.header ? header_fields : nullptr;
  layout.columns.user = resolve_column(format.user, "user", true, header, header_count, path);
  layout.columns.item = resolve_column(format.item, "item", true, header, header_count, path);
  layout.columns.rating = resolve_column(format.rating, "rating", false, header, header_count, path);
  layout.columns.timestamp = resolve_column(format.timestamp, "timestamp", false, header, header_count, path);
  return layout;
}

// ---- the complete per-line parser ----

// One data line's values, ids as written in the file. Absent columns keep these defaults.
struct RawRow {
  int64_t user = 0, item = 0;
  float rating = 1.0f;
  int64_t timestamp = 0;
};

struct LineError {
  bool set = false;
  int64_t line = 0;  // 1-based, global
  int column = 0;    // 1-based field number, 0 for the whole line
  std::string what;
};

// Parses the non-blank line [begin, stop) (line end and a CR before it removed). Returns false with
// error.column and error.what set at the first problem; error.line is the caller's.
bool parse_line(const char* begin, const char* stop, const Layout& layout, RawRow& row, LineError& error) {
  const Columns& columns = layout.columns;
  const int needed = columns.needed();
  std::string_view fields[kMaxFields];
  const int count = text::split_fields(begin, stop, layout.separator, fields, needed);
  auto fail = [&](int column, std::string what) {
    error.column = column;
    error.what = std::move(what);
    return false;
  };
  if (count < needed) {
    const int missing = std::min({columns.user >= count ? columns.user : kMaxFields,
                                  columns.item >= count ? columns.item : kMaxFields,
                                  columns.rating >= count ? columns.rating : kMaxFields,
                                  columns.timestamp >= count ? columns.timestamp : kMaxFields});
    return fail(missing + 1, "missing column: the line has " + std::to_string(count) + " field(s)");
  }
  struct IdField {
    int column;
    int64_t* out;
    const char* role;
  };
  for (const IdField& id :
       {IdField{columns.user, &row.user, "user id"}, IdField{columns.item, &row.item, "item id"}}) {
    const std::string_view field = fields[id.column];
    const ParseStatus status = text::parse_int64(field, *id.out);
    if (status == ParseStatus::out_of_range)
      return fail(id.column + 1, std::string("id overflow: ") + id.role + " " + text::excerpt(field) +
                                     " does not fit in int64");
    if (status != ParseStatus::ok)
      return fail(id.column + 1, std::string("non-number: expected an integer ") + id.role + ", found " +
                                     text::excerpt(field));
    if (layout.dense_ids && (*id.out < 0 || *id.out >= std::numeric_limits<int32_t>::max()))
      return fail(id.column + 1, std::string("id overflow: ") + id.role + " " + text::excerpt(field) +
                                     " is not a dense id in [0, 2^31-1)");
  }
  if (columns.rating >= 0) {
    const std::string_view field = fields[columns.rating];
    if (text::parse_float(field, row.rating) != ParseStatus::ok)
      return fail(columns.rating + 1, "non-number: expected a finite rating, found " + text::excerpt(field));
  }
  if (columns.timestamp >= 0) {
    const std::string_view field = fields[columns.timestamp];
    const ParseStatus status = text::parse_int64(field, row.timestamp);
    if (status == ParseStatus::out_of_range)
      return fail(columns.timestamp + 1,
                  "timestamp overflow: " + text::excerpt(field) + " does not fit in int64");
    if (status != ParseStatus::ok)
      return fail(columns.timestamp + 1,
                  "non-number: expected an integer timestamp, found " + text::excerpt(field));
  }
  return true;
}

// parse_line for line number `line`, adding what the position suggests: a line equal to the header is
// a repeated header; a bad first line of a header-less file may be an unexpected header.
bool parse_numbered_line(const char* begin, const char* stop, int64_t line, const Layout& layout, RawRow& row,
                         LineError& error) {
  if (parse_line(begin, stop, layout, row, error)) return true;
  error.set = true;
  error.line = line;
  const std::string_view text(begin, static_cast<size_t>(stop - begin));
  if (!layout.header_line.empty() && text == layout.header_line) {
    error.what = "duplicated header line (a header in the middle of the file)";
    error.column = 0;
  } else if (layout.header_line.empty() && line == 1) {
    error.what += " (does the file start with a header line?)";
  }
  return false;
}

DataError no_rows_error(const std::string& path, const Layout& layout) {
  return DataError(path, layout.header ? "empty file: no data rows after the header" : "empty file");
}

// ---- the fast path ----

enum class Role : uint8_t { kSkip, kUser, kItem, kRating, kTimestamp };

// What the fast path needs to know about a line: each needed field's role, and the separator.
struct FastShape {
  bool usable = false;  // false: every line goes to parse_line
  int needed = 0;
  Role roles[kMaxFields] = {};
  std::string_view separator;
  bool dense_ids = false;

  // Whether the separator starts at q. Within a line that ends in '\n' this never reads past it: the
  // separator holds no '\n', so the comparison stops at the '\n' at the latest.
  bool separator_at(const char* q) const {
    for (const char c : separator)
      if (*q++ != c) return false;
    return true;
  }
};

FastShape fast_shape(const Layout& layout) {
  FastShape shape;
  const std::string_view separator = layout.separator;
  // A separator the number scans could swallow ('.', digits) or that holds a line end would change how
  // lines split; such files take the complete parser only.
  const bool plain = separator.find_first_of("\r\n") == std::string_view::npos && separator[0] != '.' &&
                     !(separator[0] >= '0' && separator[0] <= '9');
  if (!plain) return shape;
  shape.usable = true;
  shape.needed = layout.columns.needed();
  shape.separator = separator;
  shape.dense_ids = layout.dense_ids;
  shape.roles[layout.columns.user] = Role::kUser;
  shape.roles[layout.columns.item] = Role::kItem;
  if (layout.columns.rating >= 0) shape.roles[layout.columns.rating] = Role::kRating;
  if (layout.columns.timestamp >= 0) shape.roles[layout.columns.timestamp] = Role::kTimestamp;
  return shape;
}

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Reads the line at p if it has the plain shape: ids and timestamp as 1 to 18 digits (so they fit int64
// without a check), the rating a short decimal (text::parse_short_decimal), fields separated by exactly
// the separator, the line ending in "\n" or "\r\n" (extra fields are skipped). Returns the start of the
// next line, or nullptr when the line is anything else: the caller then hands it to parse_line.
// The line must end in '\n' with at least 8 more bytes readable after it: every scan stops at that '\n'
// (digits, '.' and the separator are never '\n'), and the digit scans read 8-byte words that start at
// or before it.
inline const char* parse_line_fast(const char* p, const char* end, const FastShape& shape, RawRow& row) {
  for (int f = 0;; ++f) {
    const char* q = p;
    const Role role = shape.roles[f];
    if (role == Role::kRating) {
      if (is_digit(p[0]) && p[1] == '.' && is_digit(p[2]) && !is_digit(p[3])) {
        // "3.5", MovieLens' form: the value parse_short_decimal computes, without its loop.
        row.rating = static_cast<float>((p[0] - '0') * 10 + (p[2] - '0')) / 10.0f;
        q = p + 3;
      } else {
        while (is_digit(*q) || *q == '.') ++q;
        if (!text::parse_short_decimal(p, q, row.rating)) return nullptr;
      }
    } else if (role == Role::kSkip) {
      while (*q != '\n' && !shape.separator_at(q)) ++q;
    } else {
      uint64_t value;
      int digits;
      q = text::scan_digits(p, value, digits);
      if (digits == 0 || digits > 18) return nullptr;
      if (role == Role::kTimestamp) {
        row.timestamp = static_cast<int64_t>(value);
      } else {
        if (shape.dense_ids && value >= static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
          return nullptr;
        (role == Role::kUser ? row.user : row.item) = static_cast<int64_t>(value);
      }
    }
    if (f + 1 < shape.needed) {
      if (!shape.separator_at(q)) return nullptr;
      p = q + shape.separator.size();
      continue;
    }
    if (*q == '\n') return q + 1;
    if (*q == '\r' && q[1] == '\n') return q + 2;
    if (!shape.separator_at(q)) return nullptr;
    return text::line_end(q, end) + 1;  // extra fields: skip to the line's end
  }
}

// ---- chunk-local ids ----

// Raw id -> chunk-local dense id, numbered in order of first appearance within the chunk (an IdMap).
// Small non-negative ids -- MovieLens' are below 2^18 -- are answered from a flat array indexed by the
// id, one memory access instead of a hash probe. The array grows (a power of two) as larger ids appear,
// up to 2^20 entries (4 MiB) and to at most 16 entries per id seen (plus some): sparse ids stay in the
// hash table rather than in a mostly empty array. The array only caches the IdMap, the one numbering.
class ChunkIds {
 public:
  int32_t dense(int64_t raw) {
    if (static_cast<uint64_t>(raw) < direct_.size()) {
      int32_t& slot = direct_[static_cast<size_t>(raw)];  // dense id + 1; 0 = not seen yet
      if (slot == 0) slot = map_.insert(raw) + 1;
      return slot - 1;
    }
    const int64_t affordable = std::min(kDirectLimit, 16 * (static_cast<int64_t>(map_.size()) + 4096));
    if (raw < 0 || raw >= affordable) return map_.insert(raw);
    grow_direct(raw);
    return dense(raw);
  }
  const IdMap& map() const { return map_; }

 private:
  static constexpr int64_t kDirectLimit = int64_t{1} << 20;

  void grow_direct(int64_t raw) {
    size_t size = std::max<size_t>(1024, direct_.size());
    while (size <= static_cast<size_t>(raw)) size *= 2;
    direct_.assign(size, 0);
    for (int32_t dense = 0; dense < map_.size(); ++dense) {
      const int64_t known = map_.raw(dense);
      if (known >= 0 && static_cast<uint64_t>(known) < size) direct_[static_cast<size_t>(known)] = dense + 1;
    }
  }

  IdMap map_;
  std::vector<int32_t> direct_;
};

// ---- chunks ----

struct Chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  int64_t first_line = 0;  // 1-based number of the chunk's first line
  int64_t first_row = 0;   // index of its first row in the output columns (before blank-line gaps close)
  int64_t lines = 0;
  int64_t rows = 0;  // rows written (blank lines are skipped)
  ChunkIds users, items;
  LineError error;
  std::exception_ptr failure;  // an exception other than a line error (out of memory, too many ids)
};

// Bytes a pass reads before dropping them from memory: small enough to keep the file's resident part
// tiny, large enough that the madvise calls cost nothing.
constexpr int64_t kReleaseBytes = int64_t{4} << 20;

int64_t count_lines(const char* begin, const char* end, const MappedFile& file) {
  int64_t newlines = 0;
  for (const char* p = begin; p < end;) {
    const char* stop = p + std::min(kReleaseBytes, end - p);
    newlines += text::count_newlines(p, stop);
    file.release(p, stop);
    p = stop;
  }
  return newlines + (end > begin && end[-1] != '\n' ? 1 : 0);
}

struct OutputColumns {
  int32_t* user;
  int32_t* item;
  float* rating;
  int64_t* timestamp;
};

// Parses one chunk into out[chunk.first_row ...); stops at the first bad line (chunk.error set).
void parse_chunk(Chunk& chunk, const Layout& layout, const FastShape& shape, const OutputColumns& out,
                 const MappedFile& file) {
  // The fast path needs every line it reads to end in '\n' followed by 8 readable bytes: it stops at the
  // last such line of the chunk; the few lines after it (only in the file's last chunk) go to parse_line.
  const char* fast_end = std::min(chunk.end, file.data() + (file.size() > 8 ? file.size() - 8 : 0));
  while (fast_end > chunk.begin && fast_end[-1] != '\n') --fast_end;
  if (!shape.usable) fast_end = chunk.begin;

  int64_t row = chunk.first_row, line = chunk.first_line;
  int64_t last_user = 0;  // rating files list a user's rows together: the previous row answers most
  int32_t last_user_dense = -1;
  const char* released = chunk.begin;
  RawRow raw;
  for (const char* p = chunk.begin; p < chunk.end; ++line) {
    const char* next = p < fast_end ? parse_line_fast(p, chunk.end, shape, raw) : nullptr;
    if (next == nullptr) {
      const char* stop = text::line_end(p, chunk.end);
      next = stop + 1;
      stop = text::strip_cr(p, stop);
      if (stop == p) {  // blank line
        p = next;
        continue;
      }
      if (!parse_numbered_line(p, stop, line, layout, raw, chunk.error)) return;
    }
    if (raw.user != last_user || last_user_dense < 0) {
      last_user = raw.user;
      last_user_dense = chunk.users.dense(raw.user);
    }
    out.user[row] = last_user_dense;
    out.item[row] = chunk.items.dense(raw.item);
    out.rating[row] = raw.rating;
    out.timestamp[row] = raw.timestamp;
    ++row;
    p = next;
    if (p - released >= kReleaseBytes) {
      file.release(released, std::min(p, chunk.end));
      released = p;
    }
  }
  file.release(released, chunk.end);
  chunk.rows = row - chunk.first_row;
}

// Chunk boundaries at line starts, about equal in bytes; a chunk may be empty (a very long line).
std::vector<Chunk> cut_chunks(const char* data_begin, const char* end, int count) {
  std::vector<Chunk> chunks(static_cast<size_t>(count));
  const int64_t bytes = end - data_begin;
  for (int c = 0; c < count; ++c) {
    const char* cut = data_begin + bytes * c / count;
    if (cut > data_begin && cut[-1] != '\n') cut = std::min(end, text::line_end(cut, end) + 1);
    chunks[c].begin = c > 0 ? std::max(cut, chunks[c - 1].begin) : data_begin;
  }
  for (int c = 0; c < count; ++c) chunks[c].end = c + 1 < count ? chunks[c + 1].begin : end;
  return chunks;
}

int default_chunk_count(int64_t data_bytes) {
  constexpr int64_t kMinChunkBytes = int64_t{1} << 20;  // below this, threads cost more than they save
  // Several chunks per thread, taken dynamically: on a shared machine a thread that loses its core for a
  // while then delays the end by a small chunk, not by a whole share of the file.
  constexpr int kChunksPerThread = 4;
  const int64_t by_size = std::max<int64_t>(1, data_bytes / kMinChunkBytes);
  return static_cast<int>(std::min<int64_t>(by_size, int64_t{kChunksPerThread} * omp_get_max_threads()));
}

// Local id -> global id for every id of one chunk (see step 4 at the top of the file).
std::vector<int32_t> number_globally(const IdMap& local, IdMap& global) {
  std::vector<int32_t> to_global(static_cast<size_t>(local.size()));
  for (int32_t id = 0; id < local.size(); ++id) to_global[id] = global.insert(local.raw(id));
  return to_global;
}

// ids[r] = to_global[ids[r]] for r < count; nothing to do when to_global is the identity (always so for
// the first chunk).
void renumber(int32_t* ids, int64_t count, const std::vector<int32_t>& to_global) {
  bool identity = true;
  for (size_t i = 0; i < to_global.size() && identity; ++i)
    identity = to_global[i] == static_cast<int32_t>(i);
  if (identity) return;
  for (int64_t r = 0; r < count; ++r) ids[r] = to_global[ids[r]];
}

// An exception from parsing or numbering, as the DataError a reader throws: more than 2^31-1 distinct
// ids (IdMap's length_error) is an "id overflow"; anything else (out of memory) passes unchanged.
[[noreturn]] void rethrow_as_data_error(const std::exception_ptr& failure, const std::string& path) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::length_error& e) {
    throw DataError(path, std::string("id overflow: ") + e.what());
  }
}

}  // namespace

Interactions parse_delimited(const std::string& path, const DelimitedFormat& format,
                             const ParseOptions& options) {
  const MappedFile file(path);
  const Layout layout = read_layout(file, format, options.dense_ids);
  const FastShape shape = fast_shape(layout);
  const char* end = file.data() + file.size();
  const int64_t data_bytes = end - layout.data_begin;
  const int chunk_count = options.chunks > 0 ? options.chunks : default_chunk_count(data_bytes);
  std::vector<Chunk> chunks = cut_chunks(layout.data_begin, end, chunk_count);
  // The chunks depend on the file alone; the threads that take them on what the machine has free.
  const int threads = std::min(chunk_count, ::ncf::cpu_threads());

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int c = 0; c < chunk_count; ++c) chunks[c].lines = count_lines(chunks[c].begin, chunks[c].end, file);
  int64_t total_lines = 0;
  for (Chunk& chunk : chunks) {
    chunk.first_line = total_lines + (format.header ? 2 : 1);
    chunk.first_row = total_lines;
    total_lines += chunk.lines;
  }

  Interactions out;
  out.source = path;
  // The four columns are allocated (and zeroed by resize) two by two on two threads.
#pragma omp parallel sections num_threads(std::min(threads, 2))
  {
#pragma omp section
    { resize_large(out.timestamp, static_cast<size_t>(total_lines)); }
#pragma omp section
    {
      resize_large(out.user, static_cast<size_t>(total_lines));
      resize_large(out.item, static_cast<size_t>(total_lines));
      resize_large(out.rating, static_cast<size_t>(total_lines));
    }
  }
  const OutputColumns columns{out.user.data(), out.item.data(), out.rating.data(), out.timestamp.data()};
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int c = 0; c < chunk_count; ++c) {
    try {
      parse_chunk(chunks[c], layout, shape, columns, file);
    } catch (...) {  // nothing may leave an OpenMP region: rethrown below
      chunks[c].failure = std::current_exception();
    }
  }
  for (const Chunk& chunk : chunks) {  // the earliest chunk's problem is the first in the file
    if (chunk.error.set) throw DataError(path, chunk.error.line, chunk.error.column, chunk.error.what);
    if (chunk.failure) rethrow_as_data_error(chunk.failure, path);
  }

  // Close the gaps left by blank lines (rare: usually at most a trailing empty line). Moving rows to
  // lower indices in chunk order never overwrites rows not yet moved.
  int64_t rows = 0;
  for (Chunk& chunk : chunks) {
    if (chunk.first_row != rows) {
      const int64_t from = chunk.first_row, n = chunk.rows;
      std::copy_n(out.user.begin() + from, n, out.user.begin() + rows);
      std::copy_n(out.item.begin() + from, n, out.item.begin() + rows);
      std::copy_n(out.rating.begin() + from, n, out.rating.begin() + rows);
      std::copy_n(out.timestamp.begin() + from, n, out.timestamp.begin() + rows);
      chunk.first_row = rows;
    }
    rows += chunk.rows;
  }
  if (rows == 0) throw no_rows_error(path, layout);
  out.user.resize(static_cast<size_t>(rows));
  out.item.resize(static_cast<size_t>(rows));
  out.rating.resize(static_cast<size_t>(rows));
  out.timestamp.resize(static_cast<size_t>(rows));

  // Chunk-local ids -> global ids, then the id columns rewritten chunk by chunk. The first chunk's
  // numbering is always the global one; chunks whose numbering agrees are skipped too.
  struct Rewrite {
    int64_t first_row = 0, rows = 0;
    std::vector<int32_t> user_to_global, item_to_global;
  };
  std::vector<Rewrite> rewrites(chunks.size());
  try {
    for (size_t c = 0; c < chunks.size(); ++c) {
      rewrites[c].first_row = chunks[c].first_row;
      rewrites[c].rows = chunks[c].rows;
      rewrites[c].user_to_global = number_globally(chunks[c].users.map(), out.users);
      rewrites[c].item_to_global = number_globally(chunks[c].items.map(), out.items);
    }
  } catch (...) {
    rethrow_as_data_error(std::current_exception(), path);
  }
  chunks.clear();  // frees the chunk-local maps
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int c = 0; c < chunk_count; ++c) {
    const Rewrite& rewrite = rewrites[c];
    renumber(out.user.data() + rewrite.first_row, rewrite.rows, rewrite.user_to_global);
    renumber(out.item.data() + rewrite.first_row, rewrite.rows, rewrite.item_to_global);
  }
  return out;
}

Interactions parse_delimited_reference(const std::string& path, const DelimitedFormat& format,
                                       bool dense_ids) {
  const MappedFile file(path);
  const Layout layout = read_layout(file, format, dense_ids);
  const char* end = file.data() + file.size();
  Interactions out;
  out.source = path;
  RawRow raw;
  LineError error;
  int64_t line = format.header ? 2 : 1;
  try {
    for (const char* p = layout.data_begin; p < end; ++line) {
      const char* stop = text::line_end(p, end);
      const char* next = stop + 1;
      stop = text::strip_cr(p, stop);
      if (stop != p) {
        if (!parse_numbered_line(p, stop, line, layout, raw, error))
          throw DataError(path, error.line, error.column, error.what);
        out.user.push_back(out.users.insert(raw.user));
        out.item.push_back(out.items.insert(raw.item));
        out.rating.push_back(raw.rating);
        out.timestamp.push_back(raw.timestamp);
      }
      p = next;
    }
  } catch (const std::length_error& e) {  // more than 2^31-1 distinct ids (IdMap)
    throw DataError(path, std::string("id overflow: ") + e.what());
  }
  if (out.user.empty()) throw no_rows_error(path, layout);
  return out;
}

int64_t line_of_row(const std::string& path, bool header, int64_t row) {
  const MappedFile file(path);
  const char* end = file.data() + file.size();
  int64_t line = 1, rows = 0;
  for (const char* p = file.data(); p < end; ++line) {
    const char* stop = text::line_end(p, end);
    const bool blank = text::strip_cr(p, stop) == p;
    if (!(header && line == 1) && !blank && rows++ == row) return line;
    p = stop + 1;
  }
  return 0;
}

}  // namespace ncf::data
