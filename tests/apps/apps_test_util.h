// Helpers for the tests that run the binaries as a user would: run a command and capture its exit
// status and output, find a binary, make a scratch folder, write a small experiment.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_util.h"

namespace ncf::test::apps {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr together
};

inline Result run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline std::string bin(const std::string& name) { return std::string(NCF_BIN_DIR) + "/" + name; }

inline bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

inline std::string temp_dir() {
  char name[] = "/tmp/ncf-apps-XXXXXX";
  REQUIRE(::mkdtemp(name) != nullptr);
  return name;
}

// A small implicit data set in u.data format (tab: user item rating timestamp) and its config.
inline std::string write_small_experiment(const std::string& dir) {
  std::ofstream data(dir + "/u.data");
  for (int u = 1; u <= 40; ++u)
    for (int j = 0; j < 10; ++j)
      data << u << '\t' << 1 + (u * 7 + j * 3) % 50 << '\t' << 4 << '\t' << 1000 * u + j << '\n';
  data.close();
  const nlohmann::json config = {
      {"data", {{"format", "movielens-udata"}, {"path", dir + "/u.data"}, {"split", "leave_one_out"}}},
      {"model", {{"type", "neumf"}, {"factors", 4}, {"layers", {8, 4}}}},
      {"train", {{"epochs", 4}, {"batch_size", 64}, {"lr", 0.01}, {"device", "cpu"}}},
      {"eval", {{"k", 10}, {"negatives", 20}, {"full_ranking", true}}}};
  std::ofstream(dir + "/config.json") << config.dump(2);
  return dir + "/config.json";
}

}  // namespace ncf::test::apps
