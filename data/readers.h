// Readers of rating files into Interactions: MovieLens u.data / ratings.dat / ratings.csv, a generic
// delimited reader driven by a column map, and the two MovieLens title files.
//
// The rating readers memory-map the file and parse chunks of it in parallel straight into the columns
// (delimited_parser.h). CRLF line ends and blank lines are accepted silently. Raw ids become dense ids
// in order of first appearance in the file, so the result does not depend on the thread count.
// Any problem throws DataError naming file, line and column (1-based field number).
#pragma once

#include <string>

#include "data/config.h"  // DataFormat, DelimitedFormat
#include "data/interactions.h"

namespace ncf::data {

Interactions read_delimited(const std::string& path, const DelimitedFormat& format);

// MovieLens 100K u.data: tab-separated user, item, rating, timestamp; no header.
Interactions read_movielens_udata(const std::string& path);
// MovieLens 1M/10M ratings.dat: "::"-separated user, item, rating, timestamp; no header.
Interactions read_movielens_dat(const std::string& path);
// MovieLens 20M / latest ratings.csv: header userId,movieId,rating,timestamp.
Interactions read_movielens_csv(const std::string& path);

// Reads a rating file of any format but ncf (format csv uses the column map `csv`).
Interactions read_ratings(DataFormat format, const std::string& path, const DelimitedFormat& csv = {});

// MovieLens 100K u.item: "id|title|date|...", latin-1 text, converted to UTF-8.
Titles read_titles_uitem(const std::string& path);
// MovieLens movies.csv: header movieId,title,genres; UTF-8; titles with commas are double-quoted
// ("" inside quotes is a literal quote).
Titles read_titles_movies_csv(const std::string& path);
// Picks the title reader by file name: "*.csv" -> movies.csv reader, anything else -> u.item reader.
Titles read_titles(const std::string& path);

}  // namespace ncf::data
