// Readers: formats, id remapping, CRLF and blank lines, titles, and every malformed-input error.
#include "data/readers.h"

#include <doctest/doctest.h>

#include "tests/data/data_test_util.h"

using namespace ncf::data;
using ncf::test::check_data_error;
using ncf::test::TempDir;

TEST_CASE("u.data: raw ids become dense ids in order of first appearance and map back") {
  TempDir dir;
  const auto path =
      dir.file("u.data", "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n196\t302\t1\t878887116\n");
  const Interactions x = read_movielens_udata(path);
  REQUIRE(x.size() == 3);
  CHECK(x.num_users() == 2);
  CHECK(x.num_items() == 2);
  CHECK(x.user == std::vector<int32_t>{0, 1, 0});
  CHECK(x.item == std::vector<int32_t>{0, 1, 1});
  CHECK(x.rating == std::vector<float>{3.0f, 3.5f, 1.0f});
  CHECK(x.timestamp == std::vector<int64_t>{881250949, 891717742, 878887116});
  CHECK(x.users.raw(0) == 196);
  CHECK(x.users.raw(1) == 186);
  CHECK(x.items.raw(1) == 302);
  CHECK(x.users.dense(186) == 1);
  CHECK(x.items.find(242) == 0);
  CHECK(x.items.find(999) == -1);
}

TEST_CASE("CRLF line ends, blank lines and a missing final newline are accepted") {
  TempDir dir;
  const auto path = dir.file("r.csv", "userId,movieId,rating,timestamp\r\n1,10,4.0,5\r\n\r\n2,20,0.5,6");
  const Interactions x = read_movielens_csv(path);
  REQUIRE(x.size() == 2);
  CHECK(x.rating == std::vector<float>{4.0f, 0.5f});
  CHECK(x.timestamp == std::vector<int64_t>{5, 6});
  CHECK(x.items.raw(1) == 20);
}

TEST_CASE("ratings.dat with :: separators") {
  TempDir dir;
  const auto path =
      dir.file("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
  const Interactions x = read_movielens_dat(path);
  CHECK(x.size() == 3);
  CHECK(x.num_users() == 2);
  CHECK(x.item == std::vector<int32_t>{0, 1, 0});
  CHECK(x.rating[2] == 4.0f);
}

TEST_CASE("generic delimited reader: columns by name or position, optional rating and timestamp") {
  TempDir dir;
  const auto named = dir.file("a.tsv", "ts;item;who;score\n7;100;5;2.25\n8;101;6;1e1\n");
  const Interactions a = read_delimited(named, DelimitedFormat{";", true, "who", "item", "score", "ts"});
  CHECK(a.users.raw_ids() == std::vector<int64_t>{5, 6});
  CHECK(a.rating == std::vector<float>{2.25f, 10.0f});
  CHECK(a.timestamp == std::vector<int64_t>{7, 8});

  const auto positional = dir.file("b.txt", "x 3 4\ny 5 6\n");
  const Interactions b = read_delimited(positional, DelimitedFormat{" ", false, "1", "2", "", ""});
  CHECK(b.users.raw_ids() == std::vector<int64_t>{3, 5});
  CHECK(b.rating == std::vector<float>{1.0f, 1.0f});
  CHECK(b.timestamp == std::vector<int64_t>{0, 0});

  check_data_error(
      [&] {
        read_delimited(named, DelimitedFormat{";", true, "user", "item", "", ""});
      },
      {"a.tsv:1", "missing column", "'user'"});
  check_data_error(
      [&] {
        read_delimited(positional, DelimitedFormat{" ", false, "userId", "2", "", ""});
      },
      {"b.txt", "no header"});
}

TEST_CASE("read_ratings dispatches on the config's format") {
  TempDir dir;
  const auto path = dir.file("u.data", "1\t2\t3\t4\n");
  CHECK(read_ratings(DataFormat::movielens_udata, path).size() == 1);
  check_data_error([&] { read_ratings(DataFormat::ncf, path); }, {"format ncf", "read_ncf"});
}

TEST_CASE("malformed files: each error names file, line, column and the problem") {
  TempDir dir;
  SUBCASE("missing column") {
    const auto path = dir.file("u.data", "1\t2\t3\t4\n5\t6\t7\n");
    check_data_error([&] { read_movielens_udata(path); }, {"u.data:2:", "column 4", "missing column"});
  }
  SUBCASE("non-number") {
    const auto path = dir.file("u.data", "1\t2\t3\t4\n5\t6\t7\t8\n9\tabc\t1\t2\n");
    check_data_error([&] { read_movielens_udata(path); }, {"u.data:3:", "column 2", "non-number", "'abc'"});
  }
  SUBCASE("non-number rating") {
    const auto path = dir.file("r.csv", "userId,movieId,rating,timestamp\n1,2,good,4\n");
    check_data_error([&] { read_movielens_csv(path); }, {"r.csv:2:", "column 3", "non-number", "rating"});
  }
  SUBCASE("empty file") {
    const auto path = dir.file("u.data", "");
    check_data_error([&] { read_movielens_udata(path); }, {"u.data", "empty file"});
    const auto header_only = dir.file("r.csv", "userId,movieId,rating,timestamp\n");
    check_data_error([&] { read_movielens_csv(header_only); }, {"r.csv", "empty file"});
  }
  SUBCASE("id overflow beyond int64") {
    const auto path = dir.file("u.data", "1\t2\t3\t4\n99999999999999999999\t2\t3\t4\n");
    check_data_error([&] { read_movielens_udata(path); }, {"u.data:2:", "column 1", "id overflow"});
  }
  SUBCASE("duplicated header line") {
    const auto path =
        dir.file("r.csv", "userId,movieId,rating,timestamp\n1,2,3,4\nuserId,movieId,rating,timestamp\n");
    check_data_error([&] { read_movielens_csv(path); }, {"r.csv:3:", "duplicated header line"});
  }
  SUBCASE("a header where none is expected") {
    const auto path = dir.file("u.data", "user\titem\trating\tts\n1\t2\t3\t4\n");
    check_data_error([&] { read_movielens_udata(path); }, {"u.data:1:", "column 1", "non-number", "header"});
  }
  SUBCASE("missing file") {
    check_data_error([&] { read_movielens_udata(dir.path("absent")); }, {"absent", "cannot open"});
  }
}

TEST_CASE("a UTF-8 byte-order mark at the start of a file is skipped") {
  TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  const Interactions csv =
      read_movielens_csv(dir.file("r.csv", bom + "userId,movieId,rating,timestamp\n7,9,4.5,1\n"));
  CHECK(csv.users.raw(0) == 7);
  const Interactions udata = read_movielens_udata(dir.file("u.data", bom + "3\t4\t5\t6\n"));
  CHECK(udata.users.raw(0) == 3);
  const Titles titles =
      read_titles_movies_csv(dir.file("movies.csv", bom + "movieId,title,genres\n9,Nine,x\n"));
  CHECK(titles.at(9) == "Nine");
}

TEST_CASE("non-finite ratings and a folder as a path are named errors") {
  TempDir dir;
  for (const char* value : {"nan", "inf", "-Infinity", "1e999"}) {
    CAPTURE(value);
    const auto path =
        dir.file("r.csv", std::string("userId,movieId,rating,timestamp\n1,2,3,4\n1,3,") + value + ",5\n");
    check_data_error([&] { read_movielens_csv(path); }, {"r.csv:3:", "column 3", "rating"});
  }
  check_data_error([&] { read_movielens_csv(dir.dir()); }, {"is a folder, not a file"});
}

TEST_CASE("errors in a large file report the first bad line, whichever thread found it") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200000; ++i)
    text += std::to_string(i % 1000) + "\t" + std::to_string(i % 77) + "\t4\t1000\n";
  std::string bad = text;
  bad.replace(bad.size() - 10, 1, "x");  // a late line
  bad.replace(30, 1, "?");               // an early one: must win
  const auto path = dir.file("u.data", bad);
  try {
    read_movielens_udata(path);
    FAIL("no error");
  } catch (const DataError& e) {
    CHECK(e.line() == 3);
  }
  const Interactions x = read_movielens_udata(dir.file("ok.data", text));
  CHECK(x.size() == 200000);
  CHECK(x.num_users() == 1000);
  CHECK(x.num_items() == 77);
  CHECK(x.users.raw(x.user[199999]) == 199999 % 1000);
}

TEST_CASE("titles: u.item latin-1 becomes UTF-8, movies.csv quoted titles keep their commas") {
  TempDir dir;
  const auto uitem =
      dir.file("u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|1\r\n2|Caf\xe9 au lait (1993)|x|\n");
  const Titles a = read_titles(uitem);
  CHECK(a.at(1) == "Toy Story (1995)");
  CHECK(a.at(2) == "Caf\xc3\xa9 au lait (1993)");
  const auto movies = dir.file("movies.csv",
                               "movieId,title,genres\n11,\"American President, The (1995)\",Comedy\n"
                               "12,\"Say \"\"Hi\"\" (2000)\",Drama\n13,Plain (1990),Drama\n");
  const Titles b = read_titles(movies);
  CHECK(b.at(11) == "American President, The (1995)");
  CHECK(b.at(12) == "Say \"Hi\" (2000)");
  CHECK(b.at(13) == "Plain (1990)");
  const auto broken = dir.file("bad.csv", "movieId,title,genres\n11,\"Unclosed, title,Comedy\n");
  check_data_error([&] { read_titles(broken); }, {"bad.csv:2:", "column 2", "malformed quoted field"});
}
