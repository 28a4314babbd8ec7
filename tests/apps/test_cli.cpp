// The apps' command-line parser: values are strict, names are checked, errors name the option.
#include <doctest/doctest.h>

#include <vector>

#include "apps/common/cli.h"

namespace {

// Parses `words` (after a program name) with a parser declaring the usual kinds of options.
struct Parsed {
  std::string name = "none";
  int64_t count = 5;
  double rate = 0.5;
  bool quiet = false;
  std::vector<std::string> sets;
  ncf::cli::Parser parser{"prog", "usage: prog ...\n"};
  Parsed() {
    parser.option("--name", &name);
    parser.option("-k", &count, 1, 100).alias("--k");
    parser.option("--rate", &rate, 0.0, 1.0);
    parser.flag("--quiet", &quiet);
    parser.repeated("--set", &sets);
  }
  bool parse(std::vector<std::string> words) {
    words.insert(words.begin(), "prog");
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    return parser.parse(static_cast<int>(argv.size()), argv.data());
  }
};

std::string error_of(const std::vector<std::string>& words) {
  Parsed p;
  try {
    p.parse(words);
  } catch (const ncf::cli::ArgumentError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("options, aliases, flags, repeated options and --name=value") {
  Parsed p;
  REQUIRE(p.parse({"--name", "x", "--k", "7", "--quiet", "--set", "a=1", "--set=b=2", "--rate=0.25"}));
  CHECK(p.name == "x");
  CHECK(p.count == 7);
  CHECK(p.quiet);
  CHECK(p.sets == std::vector<std::string>{"a=1", "b=2"});
  CHECK(p.rate == 0.25);
  CHECK(p.parser.given("-k"));
  CHECK_FALSE(Parsed().parse({"--help"}));  // --help prints the usage and asks the caller to stop
}

TEST_CASE("values are strict and errors name the option") {
  CHECK(error_of({"-k", "abc"}) == "-k needs an integer in [1, 100], got 'abc'");
  CHECK(error_of({"-k", "196abc"}) == "-k needs an integer in [1, 100], got '196abc'");
  CHECK(error_of({"--k", "2.5"}) == "--k needs an integer in [1, 100], got '2.5'");
  CHECK(error_of({"-k", "0"}) == "-k needs an integer in [1, 100], got '0'");
  CHECK(error_of({"--rate", "nan"}).find("--rate needs a number") == 0);
  CHECK(error_of({"--frobnicate"}) == "unknown argument '--frobnicate'");
  CHECK(error_of({"--name"}) == "--name needs a value");
  CHECK(error_of({"--quiet=yes"}) == "--quiet takes no value, got '--quiet=yes'");
  Parsed p;
  p.parse({"--name", "x", "--quiet"});
  CHECK_THROWS_WITH_AS(p.parser.require("-k"), "-k is required", ncf::cli::ArgumentError);
  CHECK_THROWS_WITH_AS(p.parser.exclusive("--name", "--quiet"), "--name is not used with --quiet",
                       ncf::cli::ArgumentError);
}

TEST_CASE("cli::run turns errors into the apps' exit codes") {
  ncf::cli::Parser parser("prog", "usage\n");
  CHECK(ncf::cli::run(parser, [] { return 0; }) == 0);
  CHECK(ncf::cli::run(parser, []() -> int { throw ncf::cli::ArgumentError("bad"); }) == 2);
  CHECK(ncf::cli::run(parser, []() -> int { throw ncf::Error("broken"); }) == 1);
  CHECK(ncf::cli::run(
            parser, []() -> int { throw ncf::Error("config"); },
            [](const std::exception&) { return true; }) == 2);
}
