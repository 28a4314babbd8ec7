// The delimited-text parser behind the rating readers: a file of one row per line -> Interactions
// (dense ids in order of first appearance, IdMaps, rating and timestamp columns).
// Internal to data/: used by readers.cpp and ncf_format.cpp (whose ids must already be dense).
//
// Two implementations with the same results and the same errors:
//   parse_delimited            the fast one: parallel over chunks of the file (delimited_parser.cpp
//                              describes how), a fast path for plain lines; what the readers use.
//   parse_delimited_reference  the plain one: one sequential pass, every line through the complete
//                              per-line parser. Tests compare the two; it is also the specification.
#pragma once

#include <string>

#include "data/interactions.h"
#include "data/readers.h"

namespace ncf::data {

struct ParseOptions {
  // With dense_ids, ids must lie in [0, 2^31-1) (the NCF files), else the error names the line and
  // column; the IdMaps still map dense ids to the ids as written.
  bool dense_ids = false;
  // Number of chunks the file is cut into; 0 picks one for the thread count and file size. Results do
  // not depend on it (tests force small files into many chunks to exercise the boundaries).
  int chunks = 0;
};

Interactions parse_delimited(const std::string& path, const DelimitedFormat& format,
                             const ParseOptions& options = {});
Interactions parse_delimited_reference(const std::string& path, const DelimitedFormat& format,
                                       bool dense_ids = false);

// The 1-based line number of data row `row` (blank lines and the header skipped), for error messages
// about rows found bad after parsing. 0 if the file has fewer rows.
int64_t line_of_row(const std::string& path, bool header, int64_t row);

}  // namespace ncf::data
