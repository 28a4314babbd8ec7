// The strict command-line parser of cli.h.
#include "apps/common/cli.h"

#include <cstdio>

#include "base/parse.h"

namespace ncf::cli {

Parser::Parser(std::string program, std::string usage) : program_(std::move(program)), usage_(std::move(usage)) {}

Parser& Parser::add(Option option) {
  options_.push_back(std::move(option));
  return *this;
}

Parser& Parser::alias(const std::string& name) {
  NCF_CHECK(!options_.empty(), "cli: alias " << name << " before any option");
  options_.back().names.push_back(name);
  return *this;
}

Parser& Parser::flag(const std::string& name, bool* out) {
  return add({{name}, false, [out](const std::string&, const std::string&) { *out = true; }});
}

Parser& Parser::option(const std::string& name, std::string* out) {
  return add({{name}, true, [out](const std::string&, const std::string& value) { *out = value; }});
}

Parser& Parser::repeated(const std::string& name, std::vector<std::string>* out) {
  return add({{name}, true, [out](const std::string&, const std::string& value) { out->push_back(value); }});
}

Parser& Parser::option(const std::string& name, int64_t* out, int64_t min, int64_t max) {
  return add({{name}, true, [out, min, max](const std::string& used, const std::string& value) {
                int64_t parsed = 0;
                const ParseStatus status = parse_int64(value, parsed);
                if (status != ParseStatus::ok || parsed < min || parsed > max)
                  throw ArgumentError(used + " needs an integer in [" + std::to_string(min) + ", " +
                                      std::to_string(max) + "], got '" + value + "'");
                *out = parsed;
              }});
}

Parser& Parser::option(const std::string& name, double* out, double min, double max) {
  return add({{name}, true, [out, min, max](const std::string& used, const std::string& value) {
                double parsed = 0;
                if (parse_double(value, parsed) != ParseStatus::ok || parsed < min || parsed > max)
                  throw ArgumentError(used + " needs a number in [" + std::to_string(min) + ", " +
                                      std::to_string(max) + "], got '" + value + "'");
                *out = parsed;
              }});
}

Parser::Option* Parser::find(const std::string& name) {
  for (Option& option : options_)
    for (const std::string& n : option.names)
      if (n == name) return &option;
  return nullptr;
}

const Parser::Option* Parser::find(const std::string& name) const {
  return const_cast<Parser*>(this)->find(name);
}

bool Parser::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(usage_.c_str(), stdout);
      return false;
    }
    // "--name=value" is the same as "--name value".
    const size_t eq = arg.rfind("--", 0) == 0 ? arg.find('=') : std::string::npos;
    const std::string name = eq == std::string::npos ? arg : arg.substr(0, eq);
    Option* option = find(name);
    if (!option) throw ArgumentError("unknown argument '" + arg + "'");
    option->given = true;
    if (!option->takes_value) {
      if (eq != std::string::npos) throw ArgumentError(name + " takes no value, got '" + arg + "'");
      option->set(name, "");
      continue;
    }
    if (eq != std::string::npos) {
      option->set(name, arg.substr(eq + 1));
      continue;
    }
    if (i + 1 >= argc) throw ArgumentError(name + " needs a value");
    option->set(name, argv[++i]);
  }
  return true;
}

bool Parser::given(const std::string& name) const {
  const Option* option = find(name);
  NCF_CHECK(option != nullptr, "cli: no option " << name << " was declared");
  return option->given;
}

void Parser::require(const std::string& name) const {
  if (!given(name)) throw ArgumentError(name + " is required");
}

void Parser::exclusive(const std::string& a, const std::string& b) const {
  if (given(a) && given(b)) throw ArgumentError(a + " is not used with " + b);
}

int run(const Parser& parser, const std::function<int()>& body,
        const std::function<bool(const std::exception&)>& is_usage_error) {
  try {
    return body();
  } catch (const ArgumentError& e) {
    std::fprintf(stderr, "%s: %s\n%s", parser.program().c_str(), e.what(), parser.usage().c_str());
    return 2;
  } catch (const std::exception& e) {
    if (is_usage_error && is_usage_error(e)) {
      std::fprintf(stderr, "%s: %s\n", parser.program().c_str(), e.what());
      return 2;
    }
    std::fprintf(stderr, "%s: error: %s\n", parser.program().c_str(), e.what());
    return 1;
  }
}

}  // namespace ncf::cli
