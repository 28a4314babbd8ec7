// The apps' command lines: one small strict parser and one way to turn errors into exit codes.
//
//   ncf::cli::Parser args("recommend", kUsage);
//   args.option("--run", &run_dir, "DIR");
//   args.option("-k", &k, 1, 1000000).alias("--k");
//   if (!args.parse(argc, argv)) return 0;   // --help printed the usage
//   args.require("--run");
//
// Values are parsed strictly (base/parse.h): "196abc" and "2.5" are not integers, "1e3" is not an
// integer either, and a number outside its range is refused; every problem is an ArgumentError
// naming the option. cli::run() prints errors and returns the exit status the apps promise:
// 0 success, 2 bad arguments or config (nothing was written), 1 any other failure.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"

namespace ncf::cli {

class ArgumentError : public Error {
 public:
  using Error::Error;
};

class Parser {
 public:
  Parser(std::string program, std::string usage);

  // An option is declared with the variable its value goes to; the variable's current value is
  // the default. Each returns *this so that an alias can follow: .alias("--k").
  Parser& flag(const std::string& name, bool* out);  // present: *out = true
  Parser& option(const std::string& name, std::string* out);
  Parser& option(const std::string& name, int64_t* out, int64_t min, int64_t max);
  Parser& option(const std::string& name, double* out, double min, double max);
  Parser& repeated(const std::string& name, std::vector<std::string>* out);
  Parser& alias(const std::string& name);  // another name for the option declared last

  // Parses argv; false when -h/--help was given (the usage is then printed to stdout).
  bool parse(int argc, char** argv);
  bool given(const std::string& name) const;
  // ArgumentError unless the option was given.
  void require(const std::string& name) const;
  // ArgumentError when both were given ("--config is not used with --resume").
  void exclusive(const std::string& a, const std::string& b) const;

  const std::string& program() const { return program_; }
  const std::string& usage() const { return usage_; }

 private:
  struct Option {
    std::vector<std::string> names;
    bool takes_value = true;
    std::function<void(const std::string& name, const std::string& value)> set;
    bool given = false;
  };
  Parser& add(Option option);
  Option* find(const std::string& name);
  const Option* find(const std::string& name) const;

  std::string program_, usage_;
  std::vector<Option> options_;
};

// Runs an app's body: its return value is the exit status; an ArgumentError (or a config error,
// when `is_usage_error` says so) prints "program: message" and the usage, and returns 2; any other
// exception prints "program: error: message" and returns 1.
int run(const Parser& parser, const std::function<int()>& body,
        const std::function<bool(const std::exception&)>& is_usage_error = {});

}  // namespace ncf::cli
