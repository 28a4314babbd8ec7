// The fast parallel parser against the plain sequential reference: same rows, ids, IdMaps and error
// messages for awkward files cut into many chunks (boundaries on blank lines, CRLF, a missing final
// newline, lines the fast path hands on), for any chunk and thread count. Also the SWAR scanners
// against plain loops.
#include "data/delimited_parser.h"

#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "data/error.h"
#include "data/mapped_file.h"
#include "data/text_fields.h"
#include "tests/data/data_test_util.h"

using namespace ncf::data;
using ncf::test::TempDir;

namespace {

// Both parsers on one file: equal results, or equal DataError messages.
void check_same_as_reference(const std::string& path, const DelimitedFormat& format, bool dense_ids = false) {
  std::string want_error;
  Interactions want;
  try {
    want = parse_delimited_reference(path, format, dense_ids);
  } catch (const DataError& e) {
    want_error = e.what();
  }
  // (threads, chunks); 0 chunks: the parser's own choice.
  const std::pair<int, int> runs[] = {{1, 1}, {1, 7}, {2, 0}, {2, 2}, {2, 13},
                                      {3, 0}, {3, 3}, {3, 5}, {3, 8}};
  for (const auto& run : runs) {
    const int threads = run.first, chunks = run.second;
    omp_set_num_threads(threads);
    CAPTURE(threads);
    CAPTURE(chunks);
    ParseOptions options;
    options.dense_ids = dense_ids;
    options.chunks = chunks;
    try {
      const Interactions got = parse_delimited(path, format, options);
      REQUIRE_MESSAGE(want_error.empty(), "expected the error: " << want_error);
      CHECK(got.user == want.user);
      CHECK(got.item == want.item);
      CHECK(got.timestamp == want.timestamp);
      REQUIRE(got.rating.size() == want.rating.size());
      CHECK(std::memcmp(got.rating.data(), want.rating.data(), got.rating.size() * sizeof(float)) == 0);
      CHECK(got.users == want.users);
      CHECK(got.items == want.items);
      CHECK(got.source == want.source);
    } catch (const DataError& e) {
      CHECK(std::string(e.what()) == want_error);
    }
  }
  omp_set_num_threads(omp_get_num_procs());
}

// Rows of "user,item,rating,timestamp" with ids from a few small ranges and some beyond the parser's
// direct-lookup range, ratings in MovieLens' and other forms.
std::string random_rows(int rows, uint64_t seed, const std::string& separator = ",",
                        const std::string& line_end = "\n") {
  std::mt19937_64 random(seed);
  const char* ratings[] = {"3.5", "4", "0.5", "5.0", "2.25", "1e1", "+3", "-1.5", "4.", ".5", "12345678"};
  std::string text;
  int64_t user = 1;
  for (int r = 0; r < rows; ++r) {
    if (random() % 7 == 0) user = static_cast<int64_t>(random() % 50);
    if (random() % 97 == 0) user = static_cast<int64_t>(random() % 5) + (int64_t{1} << 40);  // hash path
    const int64_t item = random() % 11 == 0 ? static_cast<int64_t>(random() % 3000000)  // grows the array
                                            : static_cast<int64_t>(random() % 300);
    text += std::to_string(user) + separator + std::to_string(item) + separator + ratings[random() % 11] +
            separator + std::to_string(1000000000 + static_cast<int64_t>(random() % 1000)) + line_end;
  }
  return text;
}

}  // namespace

TEST_CASE("fast parser = reference: plain files, CRLF, blank lines, no final newline, many chunks") {
  TempDir dir;
  const std::string rows = random_rows(3000, 1);
  check_same_as_reference(dir.file("a.csv", "userId,movieId,rating,timestamp\n" + rows), DelimitedFormat{});
  check_same_as_reference(
      dir.file("crlf.csv", "userId,movieId,rating,timestamp\r\n" + random_rows(3000, 2, ",", "\r\n")),
      DelimitedFormat{});
  // Blank lines everywhere (some chunk cuts fall on them), the last line without its newline.
  std::string blanks = "userId,movieId,rating,timestamp\n\n";
  for (size_t start = 0, k = 0; start < rows.size(); ++k) {
    const size_t end = rows.find('\n', start) + 1;
    blanks += rows.substr(start, end - start);
    if (k % 5 == 0) blanks += k % 2 ? "\n" : "\r\n";
    if (k % 17 == 0) blanks += "\n\n\n";
    start = end;
  }
  blanks.pop_back();
  check_same_as_reference(dir.file("blanks.csv", blanks), DelimitedFormat{});
  check_same_as_reference(dir.file("tiny.csv", "userId,movieId,rating,timestamp\n1,2,3,4"),
                          DelimitedFormat{});
  check_same_as_reference(dir.file("tail.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n\n\n\n"),
                          DelimitedFormat{});
}

TEST_CASE("fast parser = reference: separators, column orders, absent and extra columns, odd fields") {
  TempDir dir;
  check_same_as_reference(dir.file("u.data", random_rows(2000, 3, "\t")),
                          DelimitedFormat{"\t", false, "0", "1", "2", "3"});
  check_same_as_reference(dir.file("ratings.dat", random_rows(2000, 4, "::")),
                          DelimitedFormat{"::", false, "0", "1", "2", "3"});
  // Columns in another order, one skipped column between them, extra columns after them.
  std::string shuffled = "ts;x;item;who;score;comment\n";
  std::mt19937_64 random(5);
  for (int r = 0; r < 2000; ++r)
    shuffled += std::to_string(random() % 1000) + ";note" + std::to_string(r % 3) + ";" +
                std::to_string(random() % 500) + ";" + std::to_string(random() % 40) + ";" +
                std::to_string(random() % 5) + ".5;anything, really;;\n";
  check_same_as_reference(dir.file("s.txt", shuffled),
                          DelimitedFormat{";", true, "who", "item", "score", "ts"});
  check_same_as_reference(dir.file("s.txt", shuffled), DelimitedFormat{";", true, "who", "item", "", ""});
  // Fields the fast path does not read (spaces, signs, leading zeros, 19 digits), all valid.
  std::string odd = "userId,movieId,rating,timestamp\n";
  for (int r = 0; r < 500; ++r) {
    odd += std::to_string(r % 9) + ",0" + std::to_string(r % 13) + ",4.0,5\n";
    odd += " " + std::to_string(r % 7) + " ,+" + std::to_string(r % 11) + ", 3 ,\t6\t\n";
    odd += "-" + std::to_string(r % 3) + ",1234567890123456789,2.5,-7\n";
  }
  check_same_as_reference(dir.file("odd.csv", odd), DelimitedFormat{});
  // Long lines (an extra column of every length up to 90 bytes), and separators overlapping themselves.
  std::string long_lines = "userId,movieId,rating,timestamp,comment\n";
  for (int r = 0; r < 600; ++r)
    long_lines += std::to_string(r % 31) + "," + std::to_string(r % 77) + ",4.5,1234567890," +
                  std::string(static_cast<size_t>(r % 90), 'x') + (r % 3 ? "\n" : "\r\n");
  check_same_as_reference(dir.file("long.csv", long_lines), DelimitedFormat{});
  check_same_as_reference(dir.file("colons.dat", "1:::2::3::4\n1::2:::3::4\n5::6::7::8:::\n"),
                          DelimitedFormat{"::", false, "0", "1", "2", "3"});
  // A separator the fast path cannot use, and a space separator.
  check_same_as_reference(dir.file("dots.txt", "1.2.3.4\n5.6.7.8\n"),
                          DelimitedFormat{".", false, "0", "1", "2", "3"});
  check_same_as_reference(dir.file("b.txt", "x 3 4\ny 5 6\n"), DelimitedFormat{" ", false, "1", "2", "", ""});
}

TEST_CASE("fast parser = reference: the first error in the file wins, whichever chunk finds it") {
  TempDir dir;
  const std::string header = "userId,movieId,rating,timestamp\n";
  const std::string rows = random_rows(4000, 6);
  // Each variant damages lines at several places; chunks after the first damaged one find errors too.
  const std::vector<std::pair<std::string, std::string>> damages = {
      {"1,2,3.5,100", "1,2,x,100"},
      {"1,2,3.5,100", "1,2,3.5"},
      {"1,2,3.5,100", "1,abc,3.5,100"},
      {"1,2,3.5,100", "99999999999999999999,2,3.5,100"},
      {"1,2,3.5,100", "1,2,3.5,99999999999999999999"},
      {"1,2,3.5,100", "userId,movieId,rating,timestamp"},
      {"1,2,3.5,100", "1,2,3.5,100x"},
      {"1,2,3.5,100", "1,2,3.5,1 0"},
      {"1,2,3.5,100", ",2,3.5,100"},
      {"1,2,3.5,100", "1,2,3.5,100\r\r"},
  };
  for (const auto& [good, bad] : damages) {
    CAPTURE(bad);
    std::string text = header;
    size_t start = 0;
    for (int part = 0; part < 4; ++part) {  // a quarter of the rows, then a good or a bad line
      const size_t end = rows.find('\n', rows.size() * (part + 1) / 4 - 1) + 1;
      text += rows.substr(start, end - start) + (part == 0 ? good : bad) + "\n";
      start = end;
    }
    check_same_as_reference(dir.file("bad.csv", text), DelimitedFormat{});
  }
  // No header: the first line's error carries the hint; dense ids (NCF files) have their own check.
  check_same_as_reference(dir.file("u.data", "user\titem\trating\tts\n1\t2\t3\t4\n"),
                          DelimitedFormat{"\t", false, "0", "1", "2", "3"});
  check_same_as_reference(dir.file("x.train.rating", "0\t1\t5\n1\t2147483647\t4\n"),
                          DelimitedFormat{"\t", false, "0", "1", "2", ""}, true);
  check_same_as_reference(dir.file("x.train.rating", "0\t1\t5\n1\t2147483646\t4\n"),
                          DelimitedFormat{"\t", false, "0", "1", "2", ""}, true);
  check_same_as_reference(dir.file("empty.csv", header + "\n\r\n"), DelimitedFormat{});
}

TEST_CASE("SWAR scanners agree with plain loops") {
  std::mt19937_64 random(7);
  const char alphabet[] = "0123456789012345678901234567890123456789,.\n\r x-+/:\xff\x80";
  for (int trial = 0; trial < 20000; ++trial) {
    char text[48];
    for (char& c : text) c = alphabet[random() % (sizeof alphabet - 1)];
    const int start = static_cast<int>(random() % 16);
    if (random() % 2) {  // half the time, a run of up to 24 digits
      const int run = static_cast<int>(random() % 25);
      for (int k = start; k < start + run; ++k) text[k] = static_cast<char>('0' + random() % 10);
    }
    uint64_t value = 0;
    int digits = 0;
    const char* stop = text::scan_digits(text + start, value, digits);
    int want_digits = 0;
    while (want_digits < 24 && text[start + want_digits] >= '0' && text[start + want_digits] <= '9')
      ++want_digits;
    if (want_digits <= 18) {  // longer runs are only reported as "more than 18"
      int64_t want_value = 0;
      std::from_chars(text + start, text + start + want_digits, want_value);
      CHECK(digits == want_digits);
      CHECK(value == static_cast<uint64_t>(want_value));
      CHECK(stop == text + start + want_digits);
    } else {
      CHECK(digits > 18);
    }
    const int length = static_cast<int>(random() % 48);
    CHECK(text::count_newlines(text, text + length) == std::count(text, text + length, '\n'));
  }
  // parse_short_decimal's floats are std::from_chars' floats.
  for (int trial = 0; trial < 20000; ++trial) {
    std::string number = std::to_string(random() % 10000000);
    const size_t dot = random() % (number.size() + 1);
    if (random() % 4) number.insert(dot, ".");
    float fast = 0, want = 0;
    REQUIRE(text::parse_short_decimal(number.data(), number.data() + number.size(), fast));
    std::from_chars(number.data(), number.data() + number.size(), want);
    CHECK_MESSAGE(fast == want, number);
  }
  float unused = 0;
  const std::string eight_digits = "12345678";  // more than 7 digits: not exact, left to from_chars
  CHECK_FALSE(text::parse_short_decimal(eight_digits.data(), eight_digits.data() + 8, unused));
}

TEST_CASE("MappedFile::release keeps the bytes readable") {
  TempDir dir;
  std::string text(3 << 20, 'a');
  for (size_t i = 0; i < text.size(); i += 4093) text[i] = static_cast<char>('0' + i % 10);
  const MappedFile file(dir.file("big.txt", text));
  file.release(file.data() + 100, file.data() + file.size() - 100);
  CHECK(std::string_view(file.data(), file.size()) == text);
}
