// Parallel delimited-text parsing into Interactions, and the MovieLens title readers.
//
// The file is cut into one chunk per thread at line starts. Pass 1 counts the lines of each chunk, so
// every chunk knows the global number of its first line (for error messages) and its first row in the
// output columns; pass 2 parses each chunk into its slice of the columns. Blank lines leave gaps that a
// final sequential pass closes. Each chunk stops at its first error; the error of the earliest chunk
// is the first one in the file, and that is the one reported.
#include "data/readers.h"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "data/delimited_parser.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "data/text_fields.h"

namespace ncf::data {
namespace {

constexpr int kMaxFields = 64;  // columns addressed by position must be below this

struct Columns {  // 0-based field positions; -1 = absent
  int user = -1, item = -1, rating = -1, timestamp = -1;
  int needed() const { return std::max({user, item, rating, timestamp}) + 1; }
};

struct ChunkError {
  bool set = false;
  int64_t line = 0;  // 1-based, global
  int column = 0;
  std::string what;
};

struct Chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  int64_t first_line = 0;  // 1-based number of the chunk's first line
  int64_t first_row = 0;   // index of its first row in the output columns
  int64_t lines = 0;
  int64_t rows = 0;  // rows actually written (blank lines are skipped)
  ChunkError error;
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
    const int position = std::stoi(spec);
    if (position >= kMaxFields)
      throw DataError(path, std::string(role) + " column position " + spec + " is beyond the supported 63");
    return position;
  }
  if (!header)
    throw DataError(path, std::string("the ") + role + " column is named '" + spec +
                              "' but the file has no header: give a 0-based position");
  for (int i = 0; i < header_fields; ++i) {
    if (text::trim(header[i]) == spec) return i;
  }
  throw DataError(path, 1, 0, std::string("missing column: the header has no '") + spec + "' (" + role + ")");
}

int64_t count_lines(const char* begin, const char* end) {
  if (begin == end) return 0;
  const int64_t newlines = std::count(begin, end, '\n');
  return newlines + (end[-1] != '\n' ? 1 : 0);
}

// Parses one chunk; returns false (with chunk.error set) at the first bad line.
bool parse_chunk(Chunk& chunk, std::string_view separator, const Columns& columns,
                 std::string_view header_line, bool dense_ids, int64_t* raw_user, int64_t* raw_item,
                 float* rating, int64_t* timestamp) {
  std::string_view fields[kMaxFields];
  const int needed = columns.needed();
  int64_t row = chunk.first_row;
  int64_t line = chunk.first_line;
  auto fail = [&](int column, std::string what, const char* begin, const char* stop) {
    const std::string_view text(begin, static_cast<size_t>(stop - begin));
    if (!header_line.empty() && text == header_line) {
      what = "duplicated header line (a header in the middle of the file)";
      column = 0;
    } else if (header_line.empty() && line == 1) {
      what += " (does the file start with a header line?)";
    }
    chunk.error = {true, line, column, std::move(what)};
    return false;
  };
  const bool one_char = separator.size() == 1;
  for (const char* p = chunk.begin; p < chunk.end; ++line) {
    const char* stop;
    int count;
    if (one_char) {
      count = text::split_line(p, chunk.end, separator[0], fields, needed, stop);
    } else {
      stop = text::line_end(p, chunk.end);
      count = text::split_fields(p, text::strip_cr(p, stop), separator, fields, needed);
    }
    const char* next = stop + 1;
    stop = text::strip_cr(p, stop);
    if (stop == p) {  // blank line
      p = next;
      continue;
    }
    if (count < needed) {
      const int missing = std::min({columns.user >= count ? columns.user : kMaxFields,
                                    columns.item >= count ? columns.item : kMaxFields,
                                    columns.rating >= count ? columns.rating : kMaxFields,
                                    columns.timestamp >= count ? columns.timestamp : kMaxFields});
      return fail(missing + 1, "missing column: the line has " + std::to_string(count) + " field(s)", p,
                  stop);
    }
    struct IdField {
      int column;
      int64_t* out;
      const char* role;
    };
    for (const IdField& id :
         {IdField{columns.user, raw_user, "user id"}, IdField{columns.item, raw_item, "item id"}}) {
      const text::NumberStatus status = text::parse_int64(fields[id.column], id.out[row]);
      if (status == text::NumberStatus::kOverflow)
        return fail(id.column + 1,
                    std::string("id overflow: ") + id.role + " " + text::excerpt(fields[id.column]) +
                        " does not fit in int64",
                    p, stop);
      if (status != text::NumberStatus::kOk)
        return fail(id.column + 1,
                    std::string("non-number: expected an integer ") + id.role + ", found " +
                        text::excerpt(fields[id.column]),
                    p, stop);
      if (dense_ids && (id.out[row] < 0 || id.out[row] >= std::numeric_limits<int32_t>::max()))
        return fail(id.column + 1,
                    std::string("id overflow: ") + id.role + " " + text::excerpt(fields[id.column]) +
                        " is not a dense id in [0, 2^31-1)",
                    p, stop);
    }
    if (columns.rating >= 0) {
      if (text::parse_float(fields[columns.rating], rating[row]) != text::NumberStatus::kOk)
        return fail(columns.rating + 1,
                    "non-number: expected a rating, found " + text::excerpt(fields[columns.rating]), p, stop);
    } else {
      rating[row] = 1.0f;
    }
    if (columns.timestamp >= 0) {
      const text::NumberStatus status = text::parse_int64(fields[columns.timestamp], timestamp[row]);
      if (status == text::NumberStatus::kOverflow)
        return fail(
            columns.timestamp + 1,
            "timestamp overflow: " + text::excerpt(fields[columns.timestamp]) + " does not fit in int64", p,
            stop);
      if (status != text::NumberStatus::kOk)
        return fail(
            columns.timestamp + 1,
            "non-number: expected an integer timestamp, found " + text::excerpt(fields[columns.timestamp]), p,
            stop);
    } else {
      timestamp[row] = 0;
    }
    ++row;
    p = next;
  }
  chunk.rows = row - chunk.first_row;
  return true;
}

// One column's raw ids -> dense ids. Rating files list a user's rows together, so the previous row's id
// answers most user lookups without touching the hash table.
void densify_column(const std::vector<int64_t>& raw, std::vector<int32_t>& dense, IdMap& map) {
  int64_t last_raw = 0;
  int32_t last_dense = -1;
  for (size_t r = 0; r < raw.size(); ++r) {
    if (raw[r] != last_raw || last_dense < 0) {
      last_raw = raw[r];
      last_dense = map.insert(last_raw);
    }
    dense[r] = last_dense;
  }
}

// Raw ids -> dense ids in order of first appearance. Users and items are independent maps, so the two
// run on two threads at once.
void densify(const std::vector<int64_t>& raw_user, const std::vector<int64_t>& raw_item, Interactions& out,
             const std::string& path) {
  const size_t rows = raw_user.size();
  out.user.resize(rows);
  out.item.resize(rows);
  std::string failure[2];
#pragma omp parallel sections
  {
#pragma omp section
    try {
      densify_column(raw_user, out.user, out.users);
    } catch (const std::exception& e) {
      failure[0] = e.what();
    }
#pragma omp section
    try {
      densify_column(raw_item, out.item, out.items);
    } catch (const std::exception& e) {
      failure[1] = e.what();
    }
  }
  for (const std::string& message : failure)
    if (!message.empty()) throw DataError(path, "id overflow: " + message);
}

}  // namespace

RawTable parse_delimited(const std::string& path, const DelimitedFormat& format, bool dense_ids) {
  if (format.separator.empty()) throw DataError(path, "empty separator");
  const MappedFile file(path);
  const char* begin = file.data();
  const char* end = begin + file.size();
  if (file.size() == 0) throw DataError(path, "empty file");

  // Header: resolve named columns against it, and keep its text to recognise a repeated header later.
  Columns columns;
  std::string_view header_line;
  const char* data_begin = begin;
  {
    std::string_view header_fields[kMaxFields];
    int header_count = 0;
    if (format.header) {
      const char* stop = text::line_end(begin, end);
      data_begin = stop == end ? end : stop + 1;
      stop = text::strip_cr(begin, stop);
      header_line = std::string_view(begin, static_cast<size_t>(stop - begin));
      header_count = text::split_fields(begin, stop, format.separator, header_fields, kMaxFields);
    }
    const std::string_view* header = format.header ? header_fields : nullptr;
    columns.user = resolve_column(format.user, "user", true, header, header_count, path);
    columns.item = resolve_column(format.item, "item", true, header, header_count, path);
    columns.rating = resolve_column(format.rating, "rating", false, header, header_count, path);
    columns.timestamp = resolve_column(format.timestamp, "timestamp", false, header, header_count, path);
  }

  // Chunks at line starts: one per thread, or a single one for small files.
  const int64_t data_bytes = end - data_begin;
  const int threads = data_bytes < (1 << 20) ? 1 : std::max(1, omp_get_max_threads());
  std::vector<Chunk> chunks(threads);
  for (int c = 0; c < threads; ++c) {
    const char* cut = c == 0 ? data_begin : data_begin + data_bytes * c / threads;
    if (c > 0 && cut > data_begin && cut[-1] != '\n') cut = std::min(end, text::line_end(cut, end) + 1);
    chunks[c].begin = std::max(cut, c > 0 ? chunks[c - 1].begin : data_begin);
  }
  for (int c = 0; c < threads; ++c) chunks[c].end = c + 1 < threads ? chunks[c + 1].begin : end;

#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (int c = 0; c < threads; ++c) chunks[c].lines = count_lines(chunks[c].begin, chunks[c].end);
  int64_t total_lines = 0;
  for (Chunk& chunk : chunks) {
    chunk.first_line = total_lines + (format.header ? 2 : 1);
    chunk.first_row = total_lines;
    total_lines += chunk.lines;
  }

  RawTable out;
  std::vector<int64_t>& raw_user = out.user;
  std::vector<int64_t>& raw_item = out.item;
  raw_user.resize(total_lines);
  raw_item.resize(total_lines);
  out.rating.resize(total_lines);
  out.timestamp.resize(total_lines);
#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (int c = 0; c < threads; ++c) {
    parse_chunk(chunks[c], format.separator, columns, header_line, dense_ids, raw_user.data(),
                raw_item.data(), out.rating.data(), out.timestamp.data());
  }
  for (const Chunk& chunk : chunks) {
    if (chunk.error.set) throw DataError(path, chunk.error.line, chunk.error.column, chunk.error.what);
  }

  // Close the gaps left by blank lines (rare: usually only a trailing empty line).
  int64_t rows = 0;
  for (const Chunk& chunk : chunks) {
    if (chunk.first_row != rows) {
      std::copy_n(raw_user.begin() + chunk.first_row, chunk.rows, raw_user.begin() + rows);
      std::copy_n(raw_item.begin() + chunk.first_row, chunk.rows, raw_item.begin() + rows);
      std::copy_n(out.rating.begin() + chunk.first_row, chunk.rows, out.rating.begin() + rows);
      std::copy_n(out.timestamp.begin() + chunk.first_row, chunk.rows, out.timestamp.begin() + rows);
    }
    rows += chunk.rows;
  }
  if (rows == 0)
    throw DataError(path, format.header ? "empty file: no data rows after the header" : "empty file");
  raw_user.resize(rows);
  raw_item.resize(rows);
  out.rating.resize(rows);
  out.timestamp.resize(rows);
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

Interactions read_delimited(const std::string& path, const DelimitedFormat& format) {
  RawTable raw = parse_delimited(path, format, false);
  Interactions out;
  out.source = path;
  out.rating = std::move(raw.rating);
  out.timestamp = std::move(raw.timestamp);
  densify(raw.user, raw.item, out, path);
  return out;
}

Interactions read_movielens_udata(const std::string& path) {
  return read_delimited(path, DelimitedFormat{"\t", false, "0", "1", "2", "3"});
}

Interactions read_movielens_dat(const std::string& path) {
  return read_delimited(path, DelimitedFormat{"::", false, "0", "1", "2", "3"});
}

Interactions read_movielens_csv(const std::string& path) { return read_delimited(path, DelimitedFormat{}); }

Interactions read_ratings(DataFormat format, const std::string& path, const DelimitedFormat& csv) {
  switch (format) {
    case DataFormat::movielens_udata:
      return read_movielens_udata(path);
    case DataFormat::movielens_dat:
      return read_movielens_dat(path);
    case DataFormat::movielens_csv:
      return read_movielens_csv(path);
    case DataFormat::csv:
      return read_delimited(path, csv);
    case DataFormat::ncf:
      break;
  }
  throw DataError(path, "format ncf is a split data set, read with read_ncf (data/ncf_format.h)");
}

// ---- titles ----

namespace {

// Latin-1 bytes -> UTF-8: every byte >= 0x80 is a code point U+0080..U+00FF, two bytes in UTF-8.
void append_latin1_as_utf8(std::string& out, std::string_view latin1) {
  for (const char c : latin1) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (byte >> 6));
      out += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
}

// One CSV record field starting at p (RFC 4180 quoting within a line): returns the position after the
// field's end; the unquoted text is written to `out`.
const char* read_csv_field(const char* p, const char* stop, std::string& out, bool& bad_quote) {
  out.clear();
  bad_quote = false;
  if (p < stop && *p == '"') {
    ++p;
    while (p < stop) {
      if (*p == '"') {
        if (p + 1 < stop && p[1] == '"') {
          out += '"';
          p += 2;
          continue;
        }
        ++p;  // closing quote
        if (p < stop && *p != ',') bad_quote = true;
        return p;
      }
      out += *p++;
    }
    bad_quote = true;  // no closing quote on this line
    return p;
  }
  const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<size_t>(stop - p)));
  const char* field_end = comma ? comma : stop;
  out.assign(p, field_end);
  return field_end;
}

int64_t parse_title_id(std::string_view field, const std::string& path, int64_t line) {
  int64_t id = 0;
  const text::NumberStatus status = text::parse_int64(field, id);
  if (status == text::NumberStatus::kOverflow)
    throw DataError(path, line, 1, "id overflow: item id " + text::excerpt(field) + " does not fit in int64");
  if (status != text::NumberStatus::kOk)
    throw DataError(path, line, 1, "non-number: expected an integer item id, found " + text::excerpt(field));
  return id;
}

}  // namespace

Titles read_titles_uitem(const std::string& path) {
  const MappedFile file(path);
  if (file.size() == 0) throw DataError(path, "empty file");
  Titles titles;
  const char* end = file.data() + file.size();
  int64_t line = 1;
  std::string_view fields[2];
  for (const char* p = file.data(); p < end; ++line) {
    const char* stop = text::line_end(p, end);
    const char* next = stop + 1;
    stop = text::strip_cr(p, stop);
    if (stop != p) {
      if (text::split_fields(p, stop, "|", fields, 2) < 2)
        throw DataError(path, line, 2, "missing column: expected 'id|title|...'");
      std::string& title = titles[parse_title_id(fields[0], path, line)];
      title.clear();
      append_latin1_as_utf8(title, fields[1]);
    }
    p = next;
  }
  return titles;
}

Titles read_titles_movies_csv(const std::string& path) {
  const MappedFile file(path);
  if (file.size() == 0) throw DataError(path, "empty file");
  const char* end = file.data() + file.size();
  // Header: find the id and title columns by name.
  const char* stop = text::line_end(file.data(), end);
  const char* p = stop == end ? end : stop + 1;
  std::string_view header_fields[kMaxFields];
  const int header_count =
      text::split_fields(file.data(), text::strip_cr(file.data(), stop), ",", header_fields, kMaxFields);
  int id_column = -1, title_column = -1;
  for (int i = 0; i < header_count; ++i) {
    if (text::trim(header_fields[i]) == "movieId") id_column = i;
    if (text::trim(header_fields[i]) == "title") title_column = i;
  }
  if (id_column < 0 || title_column < 0)
    throw DataError(path, 1, 0, "missing column: the header needs 'movieId' and 'title'");

  Titles titles;
  std::string field, id_text, title;
  for (int64_t line = 2; p < end; ++line) {
    stop = text::line_end(p, end);
    const char* next = stop + 1;
    stop = text::strip_cr(p, stop);
    if (stop != p) {
      int column = 0;
      bool have_id = false, have_title = false;
      for (const char* q = p;; ++column) {
        bool bad_quote = false;
        q = read_csv_field(q, stop, field, bad_quote);
        if (bad_quote) throw DataError(path, line, column + 1, "malformed quoted field");
        if (column == id_column) id_text = field, have_id = true;
        if (column == title_column) title = field, have_title = true;
        if (q >= stop) break;
        ++q;  // the comma
      }
      if (!have_id || !have_title)
        throw DataError(path, line, std::max(id_column, title_column) + 1,
                        "missing column: the line has " + std::to_string(column + 1) + " field(s)");
      titles[parse_title_id(id_text, path, line)] = title;
    }
    p = next;
  }
  return titles;
}

Titles read_titles(const std::string& path) {
  const bool is_csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  return is_csv ? read_titles_movies_csv(path) : read_titles_uitem(path);
}

}  // namespace ncf::data
