// The base layer: strict number parsing, file helpers (atomic writes, folders, orphan temporaries),
// the hash, enum names.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "base/enum_names.h"
#include "base/error.h"
#include "base/files.h"
#include "base/hash.h"
#include "base/parse.h"

namespace ncf {
namespace {

std::string scratch_folder() {
  char pattern[] = "/tmp/ncf-base-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  return pattern;
}

enum class Colour { red, dark_green };
const EnumNames<Colour>& enum_names(Colour) {
  static const EnumNames<Colour> names = {{Colour::red, "red"}, {Colour::dark_green, "dark-green"}};
  return names;
}

}  // namespace

TEST_CASE("numbers are the whole text or an error") {
  int64_t i = 0;
  CHECK(parse_int64("196", i) == ParseStatus::ok);
  CHECK(i == 196);
  CHECK(parse_int64("+7", i) == ParseStatus::ok);
  CHECK(i == 7);
  CHECK(parse_int64("-3", i) == ParseStatus::ok);
  CHECK(i == -3);
  for (const char* bad : {"", "196abc", "2.5", "1e3", " 5", "5 ", "abc", "+"}) {
    CAPTURE(bad);
    CHECK(parse_int64(bad, i) == ParseStatus::not_a_number);
  }
  CHECK(parse_int64("9223372036854775808", i) == ParseStatus::out_of_range);
  double d = 0;
  CHECK(parse_double("1e-3", d) == ParseStatus::ok);
  CHECK(d == 1e-3);
  CHECK(parse_double("2.5", d) == ParseStatus::ok);
  for (const char* bad : {"", "nan", "inf", "-inf", "1.5x", "0x10"}) {
    CAPTURE(bad);
    CHECK(parse_double(bad, d) == ParseStatus::not_a_number);
  }
  CHECK(parse_double("1e999", d) == ParseStatus::out_of_range);
  CHECK(to_int64("42") == 42);
  CHECK_FALSE(to_int64("42.0").has_value());
  CHECK(to_double("0.25") == 0.25);
}

TEST_CASE("atomic writes, folders and listings") {
  const std::string dir = scratch_folder();
  make_directories(dir + "/a/b/c");
  CHECK(is_directory(dir + "/a/b/c"));
  make_directories(dir + "/a/b/c");  // an existing folder is fine
  write_file_atomically(dir + "/a/file.txt", "first");
  write_file_atomically(dir + "/a/file.txt", "second");
  CHECK(read_file(dir + "/a/file.txt") == "second");
  CHECK(list_directory(dir + "/a") == std::vector<std::string>{"b", "file.txt"});
  // A failed write leaves the old file and no temporary.
  CHECK_THROWS_AS(write_file_atomically_with(dir + "/a/file.txt",
                                             [](const AppendFn& append) {
                                               append("partial", 7);
                                               throw Error("stop");
                                             }),
                  Error);
  CHECK(read_file(dir + "/a/file.txt") == "second");
  CHECK(list_directory(dir + "/a").size() == 2);
  CHECK_THROWS_WITH_AS(write_file_atomically(dir + "/a", "x"), doctest::Contains("it is a folder"), Error);
  CHECK_THROWS_WITH_AS(make_directories(dir + "/a/file.txt/d"), doctest::Contains("cannot create folder"),
                       Error);
  CHECK(parent_folder("x") == ".");
  CHECK(parent_folder("/x") == "/");
  CHECK(parent_folder("a/b/c") == "a/b");
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("orphaned temporaries: only those of dead processes, and only owned names, are removed") {
  const std::string dir = scratch_folder();
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // child is gone now
  const std::string dead = std::to_string(child), alive = std::to_string(::getppid());
  for (const std::string& name :
       std::vector<std::string>{"model.safetensors.tmp." + dead, "model.safetensors.tmp." + alive,
                                "notes.txt.tmp." + dead, "keep.txt"})
    std::ofstream(dir + "/" + name) << "x";
  const int removed =
      remove_orphaned_temporaries(dir, [](const std::string& name) { return name == "model.safetensors"; });
  CHECK(removed == 1);
  CHECK(list_directory(dir) ==
        std::vector<std::string>{"keep.txt", "model.safetensors.tmp." + alive, "notes.txt.tmp." + dead});
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("the hash sees every byte, its position, and the length") {
  std::vector<uint8_t> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  const uint64_t h = hash_bytes(bytes.data(), bytes.size());
  CHECK(h == hash_bytes(bytes.data(), bytes.size()));
  for (size_t at : {size_t{0}, size_t{31}, size_t{500}, size_t{999}}) {
    bytes[at] ^= 1;
    CHECK(hash_bytes(bytes.data(), bytes.size()) != h);
    bytes[at] ^= 1;
  }
  CHECK(hash_bytes(bytes.data(), 999) != h);
  std::swap(bytes[3], bytes[4]);
  CHECK(hash_bytes(bytes.data(), bytes.size()) != h);
  CHECK(hash_vector(std::vector<int>{1, 2}, hash_vector(std::vector<int>{3}, 0)) !=
        hash_vector(std::vector<int>{1}, hash_vector(std::vector<int>{2, 3}, 0)));
}

TEST_CASE("enum names both ways") {
  CHECK(std::string(to_string(Colour::dark_green)) == "dark-green");
  CHECK(from_string<Colour>("red") == Colour::red);
  CHECK_FALSE(from_string<Colour>("blue").has_value());
  CHECK(all_names<Colour>() == std::vector<std::string>{"red", "dark-green"});
}

TEST_CASE("a failed check names the location") {
  try {
    NCF_CHECK(1 + 1 == 3, "arithmetic: got " << 2);
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("arithmetic: got 2 [") == 0);
    CHECK(std::string(e.what()).find("test_base.cpp:") != std::string::npos);
  }
}

}  // namespace ncf
