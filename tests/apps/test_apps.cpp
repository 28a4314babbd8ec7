// The binaries as a user runs them: train_ncf's argument and config errors (named, non-zero exit,
// no run folder left behind), --resume reaching the same result as an uninterrupted run, recommend's
// four modes (--user, --all, --similar-to, --items) and their bad input, and the Python example
// (examples/recommend_from_run.py) giving recommend's lists.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/apps/apps_test_util.h"

using namespace ncf::test::apps;

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
  CHECK(unknown.exit_code == 2);  // a bad argument: the user is not in the run
  CHECK(unknown.output.find("999999") != std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}

namespace {
// Item i's title in the small data set: the even ones hold a comma and quotes, for the CSV's sake.
std::string small_title(int item) {
  return "Movie " + std::to_string(item) + (item % 2 == 0 ? ", \"Quoted\"" : "") + " (1999)";
}

// User u's training items in write_small_experiment's data: its 10 items but the latest (the test item).
std::set<int64_t> small_training_items(int user) {
  std::set<int64_t> items;
  for (int j = 0; j < 9; ++j) items.insert(1 + (user * 7 + j * 3) % 50);
  return items;
}

// Tiny trained runs of each model on write_small_experiment's data (with u.item titles), made once
// for every test below and removed at exit: runs()/gmf, /mlp, /neumf, /itempop.
struct TinyRuns {
  std::string dir;
  TinyRuns() {
    dir = temp_dir();
    const std::string config = write_small_experiment(dir);
    std::ofstream titles(dir + "/u.item");
    for (int i = 1; i <= 50; ++i) titles << i << '|' << small_title(i) << "|01-Jan-1999||\n";
    titles.close();
    for (const char* type : {"gmf", "mlp", "neumf", "itempop"}) {
      const Result r = run(bin("train_ncf") + " --quiet --root " + dir + " --config " + config +
                           " --set model.type=" + type + " --set data.titles=" + dir + "/u.item --out " +
                           dir + "/" + type);
      if (r.exit_code != 0) FAIL("training the tiny " << type << " run failed: " << r.output);
    }
  }
  ~TinyRuns() { std::system(("rm -rf " + dir).c_str()); }
};

const std::string& runs() {
  static const TinyRuns tiny;
  return tiny.dir;
}

// RFC 4180 records: fields split at commas outside quotes, "" inside quotes is one quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        records.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        records.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().emplace_back();
    } else if (c == '\n') {
      records.emplace_back(1);
    } else {
      records.back().back() += c;
    }
  }
  if (records.back().size() == 1 && records.back()[0].empty()) records.pop_back();  // the final newline
  return records;
}

struct Listed {
  int64_t item;
  double score;
};

// recommend's printed list ("  1. item 42       score   1.2345  Title"), in order.
std::vector<Listed> printed_list(const std::string& output, const char* score_name = "score") {
  std::vector<Listed> out;
  std::istringstream lines(output);
  const std::string pattern = std::string("%*d. item %lld ") + score_name + " %lf";
  for (std::string line; std::getline(lines, line);) {
    long long item = 0;
    double score = 0;
    if (std::sscanf(line.c_str(), pattern.c_str(), &item, &score) == 2) out.push_back({item, score});
  }
  return out;
}

// The rows of one user in a CSV of user,rank,item,score,title records (header first).
std::vector<Listed> csv_rows_of(const std::vector<std::vector<std::string>>& records,
                                const std::string& user) {
  std::vector<Listed> out;
  for (size_t r = 1; r < records.size(); ++r)
    if (records[r][0] == user) out.push_back({std::stoll(records[r][2]), std::stod(records[r][3])});
  return out;
}
}  // namespace

TEST_CASE(
    "recommend --all writes every user's top K as RFC 4180 CSV: the --user lists, seen items left out") {
  for (const char* type : {"gmf", "neumf", "itempop"}) {
    INFO("model " << std::string(type));
    const std::string run_dir = runs() + "/" + type, out = run_dir + "/recs.csv";
    const Result all = run(bin("recommend") + " --run " + run_dir + " --all -k 5 --out " + out);
    REQUIRE_MESSAGE(all.exit_code == 0, all.output);
    // GMF's scores are one GEMM per block; NeuMF and ItemPop score every pair.
    CHECK(all.output.find(std::string(type) == "gmf" ? "scores: bilinear" : "scores: pairwise") !=
          std::string::npos);
    CHECK(all.output.find("200 rows, top 5 for each of 40 users") != std::string::npos);
    CHECK(run("ls " + run_dir).output.find(".tmp.") == std::string::npos);  // written atomically
    std::ifstream file(out);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto records = parse_csv(text);
    REQUIRE(records.size() == 1 + 40 * 5);
    CHECK(records[0] == std::vector<std::string>{"user", "rank", "item", "score", "title"});
    for (size_t r = 1; r < records.size(); ++r) {
      const auto& row = records[r];
      REQUIRE(row.size() == 5);
      const int user = std::stoi(row[0]), rank = std::stoi(row[1]);
      const int64_t item = std::stoll(row[2]);
      CHECK(user == 1 + static_cast<int>((r - 1) / 5));  // users in dense-id order, 5 rows each
      CHECK(rank == 1 + static_cast<int>((r - 1) % 5));
      CHECK(small_training_items(user).count(item) == 0);
      CHECK(row[4] == small_title(static_cast<int>(item)));
      // As written: a title with a comma or a quote is quoted, its quotes doubled; others are bare.
      const std::string title_field =
          item % 2 == 0 ? "\"Movie " + row[2] + ", \"\"Quoted\"\" (1999)\"" : row[4];
      CHECK(text.find("\n" + row[0] + "," + row[1] + "," + row[2] + "," + row[3] + "," + title_field +
                      "\n") != std::string::npos);
      if (rank > 1) CHECK(std::stod(row[3]) <= std::stod(records[r - 1][3]));
    }
    for (const int user : {1, 17, 40}) {
      const Result one =
          run(bin("recommend") + " --run " + run_dir + " --user " + std::to_string(user) + " -k 5");
      REQUIRE_MESSAGE(one.exit_code == 0, one.output);
      const std::vector<Listed> printed = printed_list(one.output),
                                rows = csv_rows_of(records, std::to_string(user));
      REQUIRE(printed.size() == 5);
      REQUIRE(rows.size() == 5);
      for (size_t t = 0; t < 5; ++t) {
        CHECK(printed[t].item == rows[t].item);
        CHECK(printed[t].score == doctest::Approx(rows[t].score).epsilon(1e-3));  // printed with 4 decimals
      }
    }
  }
}

TEST_CASE("recommend --similar-to lists the items most alike by cosine, and says which vectors") {
  struct Case {
    const char* type;
    const char* vectors;  // what the header names
    bool caveat;
  };
  for (const Case c : {Case{"gmf", "gmf.item (.) out.weight", false}, Case{"neumf", "the GMF branch", false},
                       Case{"mlp", "mlp.item", true}}) {
    INFO("model " << std::string(c.type));
    const Result r = run(bin("recommend") + " --run " + runs() + "/" + c.type + " --similar-to 7 -k 6");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.find("items like 7 Movie 7 (1999)") != std::string::npos);
    CHECK(r.output.find(c.vectors) != std::string::npos);
    CHECK((r.output.find("note: mlp.item is the input of a ReLU tower") != std::string::npos) == c.caveat);
    const std::vector<Listed> list = printed_list(r.output, "cosine");
    REQUIRE(list.size() == 6);
    for (size_t t = 0; t < list.size(); ++t) {
      CHECK(list[t].item != 7);
      CHECK(list[t].score <= 1.0001);
      CHECK(list[t].score >= -1.0001);
      if (t > 0) CHECK(list[t].score <= list[t - 1].score);
    }
  }
  const Result itempop = run(bin("recommend") + " --run " + runs() + "/itempop --similar-to 8");
  CHECK(itempop.exit_code == 2);
  CHECK(itempop.output.find("has no item vectors") != std::string::npos);
}

TEST_CASE(
    "recommend --items folds in a new user: the given items left out, the same list for the same seed") {
  for (const char* type : {"gmf", "mlp", "neumf", "itempop"}) {
    INFO("model " << std::string(type));
    const std::string command = bin("recommend") + " --run " + runs() + "/" + type + " --items 8,15,22 -k 5";
    const Result first = run(command), again = run(command), other_seed = run(command + " --seed 7");
    REQUIRE_MESSAGE(first.exit_code == 0, first.output);
    CHECK(first.output == again.output);
    CHECK(first.output.find("a new user who chose items 8, 15, 22") != std::string::npos);
    if (std::string(type) != "itempop") {
      CHECK(first.output.find("fold-in: 100 Adam steps at lr 0.05") != std::string::npos);
      CHECK(other_seed.output != first.output);  // other initial rows and negatives, so another loss
    }
    const std::vector<Listed> list = printed_list(first.output);
    REQUIRE(list.size() == 5);
    for (const Listed& l : list) CHECK((l.item != 8 && l.item != 15 && l.item != 22));
  }
}

TEST_CASE("recommend's bad input: named, exit 2, nothing written") {
  const std::string gmf = bin("recommend") + " --run " + runs() + "/gmf";
  struct Case {
    std::string arguments, expect;
  };
  for (const Case& c :
       {Case{"--items ''", "--items needs at least one raw item id"},
        Case{"--items 8,999", "--items: 999 is not in the catalogue"},
        Case{"--items 8,999,-3", "--items: 999, -3 are not in the catalogue"},
        Case{"--items 8,x", "--items needs comma-separated integer item ids, got 'x'"},
        Case{"--items 8,15,8", "--items lists item 8 twice"},
        Case{"--similar-to 999", "--similar-to: item 999 is not in the catalogue"},
        Case{"--user 999", "--user: user 999 is not in the data set"},
        Case{"--user 1 -k 51", "-k 51 is more than the 50 items in the catalogue"},
        Case{"--similar-to 8 -k 51", "-k 51 is more than the 50 items"},
        Case{"--items 8 -k 51", "-k 51 is more than the 50 items"},
        Case{"--all -k 51 --out " + runs() + "/never.csv", "-k 51 is more than the 50 items"},
        Case{"--all", "--out is required"},
        Case{"--user 1 --out " + runs() + "/never.csv", "--out is used only with --all"},
        Case{"--user 1 --items 8", "give exactly one of --user, --all, --similar-to and --items"},
        Case{"-k 5", "give exactly one of"}, Case{"--user 1 --steps 5", "--steps is used only with --items"},
        Case{"--items 8 --lr 0", "--lr needs a number in"}}) {
    INFO("recommend " << c.arguments);
    const Result r = run(gmf + " " + c.arguments);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.expect) != std::string::npos);
    if (r.output.find(c.expect) == std::string::npos) MESSAGE(r.output);
  }
  CHECK(!exists(runs() + "/never.csv"));
  // -k up to the catalogue is fine: user 1 has 41 unseen items of 50, and gets all of them.
  const Result whole = run(gmf + " --user 1 -k 50");
  REQUIRE_MESSAGE(whole.exit_code == 0, whole.output);
  CHECK(printed_list(whole.output).size() == 41);
  // Every item given: nothing is left to recommend.
  std::string every_item;
  for (int i = 1; i <= 50; ++i) every_item += (i > 1 ? "," : "") + std::to_string(i);
  const Result none_left = run(gmf + " --items " + every_item);
  CHECK(none_left.exit_code == 2);
  CHECK(none_left.output.find("none is left to recommend") != std::string::npos);
}

TEST_CASE("each epoch writes curves.svg, a run file that --overwrite removes") {
  const std::string run_dir = runs() + "/gmf";
  std::ifstream file(run_dir + "/curves.svg");
  const std::string svg((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("best epoch") != std::string::npos);
  // ItemPop trains no epoch and writes no curves: over the GMF run's copy, the old curves.svg must go.
  const std::string copy = runs() + "/gmf-copy";
  REQUIRE(run("cp -r " + run_dir + " " + copy).exit_code == 0);
  const Result r = run(bin("train_ncf") + " --quiet --root " + runs() + " --config " + runs() +
                       "/config.json --set model.type=itempop --out " + copy + " --overwrite");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(!exists(copy + "/curves.svg"));
  CHECK(exists(copy + "/metrics.json"));
}

TEST_CASE("the Python example reproduces recommend's top 10 for GMF, MLP, NeuMF and ItemPop") {
  if (run("python3 -c 'import safetensors, numpy'").exit_code != 0) {
    std::printf("SKIPPED: the Python example (python3 with the safetensors and numpy packages not found)\n");
    MESSAGE("skipped: python3 with safetensors and numpy not found");
    return;
  }
  for (const char* type : {"gmf", "mlp", "neumf", "itempop"}) {
    INFO("model " << std::string(type));
    const std::string run_dir = runs() + "/" + type, out = run_dir + "/recs10.csv";
    REQUIRE(run(bin("recommend") + " --run " + run_dir + " --all -k 10 --out " + out).exit_code == 0);
    std::ifstream file(out);
    const auto records =
        parse_csv(std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>()));
    for (const int user : {1, 23}) {
      INFO("user " << user);
      const Result python = run("python3 " + ncf::test::source_dir() + "/examples/recommend_from_run.py " +
                                run_dir + " " + std::to_string(user) + " -k 10");
      REQUIRE_MESSAGE(python.exit_code == 0, python.output);
      const auto python_records = parse_csv(python.output);
      const std::vector<Listed> got = csv_rows_of(python_records, std::to_string(user)),
                                want = csv_rows_of(records, std::to_string(user));
      REQUIRE(want.size() == 10);
      REQUIRE(got.size() == 10);
      CHECK(python_records[0] == records[0]);  // the same header
      for (size_t t = 0; t < 10; ++t) {
        CHECK(got[t].item == want[t].item);
        // Python computes in float64, recommend in float32; both print 7 significant digits.
        CHECK(got[t].score == doctest::Approx(want[t].score).epsilon(1e-5));
      }
    }
  }
}
