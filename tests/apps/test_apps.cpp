// The binaries as a user runs them: train_ncf's argument and config errors (named, non-zero exit,
// no run folder left behind), --resume reaching the same result as an uninterrupted run, and
// recommend printing titles.
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace {
struct Result {
  int exit_code;
  std::string output;  // stdout and stderr together
};

Result run(const std::string& command) {
  std::array<char, 4096> buffer{};
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string bin(const std::string& name) { return std::string(NCF_BIN_DIR) + "/" + name; }

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string temp_dir() {
  char name[] = "/tmp/ncf-apps-XXXXXX";
  REQUIRE(::mkdtemp(name) != nullptr);
  return name;
}

// A small implicit data set in u.data format (tab: user item rating timestamp) and its config.
std::string write_small_experiment(const std::string& dir) {
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
}  // namespace

TEST_CASE("train_ncf --help lists every option; unknown arguments are refused") {
  const Result help = run(bin("train_ncf") + " --help");
  CHECK(help.exit_code == 0);
  for (const char* option : {"--config", "--set", "--device", "--out", "--resume"})
    CHECK(help.output.find(option) != std::string::npos);
  const Result bad = run(bin("train_ncf") + " --frobnicate");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--frobnicate") != std::string::npos);
}

TEST_CASE("config errors are named, exit non-zero, and leave no run folder") {
  const std::string dir = temp_dir();
  const std::string config = write_small_experiment(dir);
  struct Case {
    std::string set, expect;
  };
  for (const Case& c : {Case{"train.epoch=3", "did you mean \"train.epochs\""},
                        Case{"train.epochs=\\\"ten\\\"", "train.epochs must be an integer"},
                        Case{"data.path=" + dir + "/missing.data", "missing.data"},
                        Case{"model.dropout=1.5", "model.dropout"}}) {
    INFO("--set " << c.set);
    const std::string out = dir + "/run-" + std::to_string(std::hash<std::string>()(c.set));
    const Result r = run(bin("train_ncf") + " --config " + config + " --set " + c.set + " --out " + out);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.expect) != std::string::npos);
    CHECK(!exists(out));
    if (r.output.find(c.expect) == std::string::npos) MESSAGE(r.output);
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("--resume continues to the same final metrics as an uninterrupted run") {
  const std::string dir = temp_dir();
  const std::string config = write_small_experiment(dir);
  const std::string common = " --quiet --root " + dir;
  REQUIRE(run(bin("train_ncf") + " --config " + config + " --out " + dir + "/full" + common).exit_code == 0);
  // Interrupted after 2 epochs, then resumed to the config's 4.
  REQUIRE(
      run(bin("train_ncf") + " --config " + config + " --set train.epochs=2 --out " + dir + "/part" + common)
          .exit_code == 0);
  const Result resumed = run(bin("train_ncf") + " --resume " + dir + "/part --set train.epochs=4" + common);
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
  auto metrics = [](const std::string& path) {
    return nlohmann::json::parse(std::ifstream(path + "/metrics.json"));
  };
  const nlohmann::json full = metrics(dir + "/full"), part = metrics(dir + "/part");
  REQUIRE(part["epochs"].size() == 4);
  for (int e = 0; e < 4; ++e) {
    CHECK(part["epochs"][e]["loss"] == full["epochs"][e]["loss"]);
    CHECK(part["epochs"][e]["hr@10"] == full["epochs"][e]["hr@10"]);
  }
  CHECK(part["best"]["hr@10"] == full["best"]["hr@10"]);
  // The resumed run's config.json records the new epoch count, so a second --resume has nothing to do.
  CHECK(nlohmann::json::parse(std::ifstream(dir + "/part/config.json"))["train"]["epochs"] == 4);
  CHECK(part["best"]["full"]["ndcg@10"] == full["best"]["full"]["ndcg@10"]);
  for (const char* file : {"config.json", "metrics.json", "log.txt", "model.safetensors", "last.safetensors",
                           "ids.json", "seen.safetensors", "curves.svg"})
    CHECK(exists(dir + "/full/" + file));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("recommend prints the top unseen items with titles") {
  const auto data_dir = ncf::test::require_dataset("ml-latest-small", "recommend with titles");
  if (!data_dir) return;
  const std::string dir = temp_dir();
  const Result train =
      run(bin("train_ncf") + " --quiet --root " + ncf::test::source_dir() + " --config " +
          ncf::test::source_dir() + "/apps/configs/ml-latest-small.json --set train.epochs=1" +
          " --set eval.full_ranking=false --set train.device=cpu --set data.path=" + *data_dir +
          "/ratings.csv --set data.titles=" + *data_dir + "/movies.csv --out " + dir + "/run");
  REQUIRE_MESSAGE(train.exit_code == 0, train.output);
  const Result top = run(bin("recommend") + " --run " + dir + "/run --user 1 -k 5 --device cpu");
  REQUIRE_MESSAGE(top.exit_code == 0, top.output);
  CHECK(top.output.find("  5. item") != std::string::npos);
  CHECK(top.output.find("(19") != std::string::npos);  // titles carry their year, e.g. "(1995)"
  const Result unknown = run(bin("recommend") + " --run " + dir + "/run --user 999999 --device cpu");
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.output.find("999999") != std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}
