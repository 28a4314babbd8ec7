// The rating readers (thin wrappers around parse_delimited, delimited_parser.h) and the MovieLens title
// readers.
#include "data/readers.h"

#include <algorithm>
#include <cstring>

#include "data/delimited_parser.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "data/text_fields.h"

namespace ncf::data {

Interactions read_delimited(const std::string& path, const DelimitedFormat& format) {
  return parse_delimited(path, format);
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

constexpr int kMaxFields = 64;  // header fields looked at in movies.csv

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
  const ParseStatus status = text::parse_int64(field, id);
  if (status == ParseStatus::out_of_range)
    throw DataError(path, line, 1, "id overflow: item id " + text::excerpt(field) + " does not fit in int64");
  if (status != ParseStatus::ok)
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
  for (const char* p = text::skip_byte_order_mark(file.data(), end); p < end; ++line) {
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
  const char* begin = text::skip_byte_order_mark(file.data(), end);
  const char* stop = text::line_end(begin, end);
  const char* p = stop == end ? end : stop + 1;
  std::string_view header_fields[kMaxFields];
  const int header_count =
      text::split_fields(begin, text::strip_cr(begin, stop), ",", header_fields, kMaxFields);
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
