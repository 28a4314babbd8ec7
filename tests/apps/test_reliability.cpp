// The binaries under a hostile user: each case is a way a run folder could be lost or a wrong
// answer could pass silently, and checks that it is now a named error with the promised exit code
// (2: bad arguments or config, nothing written; 1: any other failure) and that nothing was damaged.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "nn/checkpoint.h"
#include "tests/apps/apps_test_util.h"

using namespace ncf::test::apps;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every file of a folder with its bytes, to show that a failed command changed nothing.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const std::string& name : ncf::list_directory(dir)) files[name] = read_text(dir + "/" + name);
  return files;
}

nlohmann::json metrics_of(const std::string& dir) {
  return nlohmann::json::parse(read_text(dir + "/metrics.json"));
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A train_ncf command line on the small experiment.
std::string train(const std::string& config, const std::string& rest) {
  return bin("train_ncf") + " --quiet --config " + config + " " + rest;
}

// The pid of a process that has already exited (its temporary files are orphans).
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return static_cast<long>(child);
}

// Rewrites a checkpoint with one change: f(tensors, metadata).
template <class Change>
void rewrite_checkpoint(const std::string& path, Change change) {
  ncf::SafetensorsFile file = ncf::load_safetensors(path);
  ncf::NamedTensors tensors;
  for (const std::string& name : file.names) tensors.emplace_back(name, file.tensors.at(name));
  change(tensors, file.metadata);
  ncf::save_safetensors(path, tensors, file.metadata);
}

}  // namespace

TEST_CASE("a failed --resume changes nothing, and the run still resumes afterwards") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=2 --out " + dir + "/run")).exit_code == 0);
  const auto before = snapshot(dir + "/run");
  for (const std::string& change : {"model.factors=16", "eval.k=5", "train.lr=0.5", "data.seed=3"}) {
    INFO("--set " << change);
    const Result r = run(bin("train_ncf") + " --quiet --resume " + dir + "/run --set " + change);
    CHECK(r.exit_code == 2);
    CHECK(has(r.output, change.substr(0, change.find('='))));
    // eval.k is refused sooner, by the config's own rule tying it to train.select_by.
    if (change.rfind("eval.k", 0) != 0) CHECK(has(r.output, "may change only train.epochs"));
    CHECK(snapshot(dir + "/run") == before);
  }
  // What a resume may change, it may: more epochs, and afterwards recommend still answers.
  REQUIRE(run(bin("train_ncf") + " --quiet --resume " + dir + "/run --set train.epochs=3").exit_code == 0);
  CHECK(metrics_of(dir + "/run")["epochs"].size() == 3);
  CHECK(run(bin("recommend") + " --run " + dir + "/run --user 3 -k 5").exit_code == 0);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("--out refuses a used folder unless --overwrite, which replaces only the run's files") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=1 --out " + dir + "/run")).exit_code == 0);
  const auto before = snapshot(dir + "/run");
  const Result again = run(train(config, "--set train.epochs=2 --out " + dir + "/run"));
  CHECK(again.exit_code == 2);
  CHECK(has(again.output, "holds another run"));
  CHECK(snapshot(dir + "/run") == before);
  // A folder of other files is not a run folder either.
  ncf::make_directories(dir + "/notes");
  std::ofstream(dir + "/notes/todo.txt") << "keep me";
  CHECK(run(train(config, "--out " + dir + "/notes")).exit_code == 2);
  // --overwrite: the run's files are replaced (the log starts afresh), the user's own file stays.
  std::ofstream(dir + "/run/mine.txt") << "keep me";
  REQUIRE(run(train(config, "--set train.epochs=2 --overwrite --out " + dir + "/run")).exit_code == 0);
  CHECK(metrics_of(dir + "/run")["epochs"].size() == 2);
  CHECK(read_text(dir + "/run/mine.txt") == "keep me");
  const std::string log = read_text(dir + "/run/log.txt");
  CHECK(has(log, "epoch 2/2"));
  CHECK_FALSE(has(log, "epoch 1/1"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("--resume removes orphan temporaries and repairs the files a kill left one epoch behind") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=2 --out " + dir + "/full")).exit_code == 0);
  REQUIRE(run(train(config, "--set train.epochs=1 --out " + dir + "/one")).exit_code == 0);
  // A kill after epoch 2's last.safetensors, before model.safetensors and metrics.json were rewritten:
  // the run folder of epoch 2 with epoch 1's versions of those two, and a temporary left behind.
  std::system(("cp -r " + dir + "/full " + dir + "/killed").c_str());
  std::system(
      ("cp " + dir + "/one/model.safetensors " + dir + "/one/metrics.json " + dir + "/killed/").c_str());
  const std::string orphan = dir + "/killed/model.safetensors.tmp." + std::to_string(dead_pid());
  std::ofstream(orphan) << "half a file";
  const Result resumed = run(bin("train_ncf") + " --quiet --resume " + dir + "/killed");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
  CHECK_FALSE(exists(orphan));
  CHECK(read_text(dir + "/killed/model.safetensors") == read_text(dir + "/full/model.safetensors"));
  const nlohmann::json killed = metrics_of(dir + "/killed"), full = metrics_of(dir + "/full");
  CHECK(killed["epochs"] == full["epochs"]);
  CHECK(killed["best"]["hr@10"] == full["best"]["hr@10"]);
  CHECK(killed["best"]["epoch"] == full["best"]["epoch"]);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a diverging run stops with a named error in the log, and no NaN model is ever used") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  const Result r = run(train(config, "--set train.lr=1e30 --out " + dir + "/run"));
  CHECK(r.exit_code == 1);
  CHECK(has(r.output, "training diverged in epoch 1"));
  CHECK(has(read_text(dir + "/run/log.txt"), "error: training diverged in epoch 1"));
  CHECK_FALSE(exists(dir + "/run/model.safetensors"));
  CHECK_FALSE(exists(dir + "/run/metrics.json"));
  // A model.safetensors holding NaN (however it came to be) is refused by recommend.
  REQUIRE(run(train(config, "--set train.epochs=1 --out " + dir + "/ok")).exit_code == 0);
  rewrite_checkpoint(dir + "/ok/model.safetensors", [](ncf::NamedTensors& tensors, auto&) {
    ncf::Tensor& t = tensors.front().second;
    t.data<float>()[0] = std::nanf("");
  });
  const Result top = run(bin("recommend") + " --run " + dir + "/ok --user 3");
  CHECK(top.exit_code == 1);
  CHECK(has(top.output, "NaN or infinite"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("recommend and --resume never rebuild the ids from a data file that changed") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=2 --out " + dir + "/run")).exit_code == 0);
  const Result before = run(bin("recommend") + " --run " + dir + "/run --user 7 -k 5");
  REQUIRE(before.exit_code == 0);
  // The same rows in another order: other dense ids. recommend reads only the run folder; --resume
  // sees the data fingerprint differ and refuses.
  std::system(
      ("tac " + dir + "/u.data > " + dir + "/u.rev && mv " + dir + "/u.rev " + dir + "/u.data").c_str());
  const Result after = run(bin("recommend") + " --run " + dir + "/run --user 7 -k 5");
  CHECK(after.exit_code == 0);
  CHECK(after.output == before.output);
  std::system(("rm " + dir + "/u.data").c_str());
  CHECK(run(bin("recommend") + " --run " + dir + "/run --user 7 -k 5").output == before.output);
  write_small_experiment(dir);  // the original rows, then shuffled again, for --resume
  std::system(
      ("tac " + dir + "/u.data > " + dir + "/u.rev && mv " + dir + "/u.rev " + dir + "/u.data").c_str());
  const Result resumed = run(bin("train_ncf") + " --quiet --resume " + dir + "/run --set train.epochs=3");
  CHECK(resumed.exit_code == 1);
  CHECK(has(resumed.output, "is not the one this run was trained on"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("meaningless metrics and late cross-key failures are refused before anything is written") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  struct Case {
    std::string set, expect;
  };
  for (const Case& c : {Case{"eval.negatives=0", "eval.negatives must be >= 1"},
                        Case{"eval.k=200", "eval.k (200) must be at most"},
                        Case{"eval.k=20 --set train.select_by=ndcg@10", "needs metrics at k = 10"},
                        Case{"data.split=ratio", "needs data.split \"leave_one_out\""}}) {
    INFO("--set " << c.set);
    const Result r = run(train(config, "--set " + c.set + " --out " + dir + "/run"));
    CHECK(r.exit_code == 2);
    CHECK(has(r.output, c.expect));
    CHECK_FALSE(exists(dir + "/run"));
  }
  // A data set whose users each rated one item has no test user: nothing to evaluate.
  std::ofstream(dir + "/single.data") << "1\t1\t5\t1\n2\t2\t5\t2\n3\t1\t5\t3\n";
  const Result none = run(train(config, "--set data.path=" + dir + "/single.data --out " + dir + "/run"));
  CHECK(none.exit_code == 2);
  CHECK(has(none.output, "no test user"));
  CHECK_FALSE(exists(dir + "/run"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a DeepCF-style NCF set with test users absent from training trains, and says how many") {
  const std::string dir = temp_dir();
  std::ofstream train_file(dir + "/x.train.rating"), test_file(dir + "/x.test.rating"),
      negative_file(dir + "/x.test.negative");
  for (int u = 0; u < 40; ++u) {
    if (u < 34)  // users 34..39 occur only in the test files
      for (int j = 0; j < 8; ++j) train_file << u << '\t' << (u + 3 * j) % 30 << "\t1\t0\n";
    const int test_item = (u + 24) % 30;
    test_file << u << '\t' << test_item << "\t1\t0\n";
    negative_file << '(' << u << ',' << test_item << ')';
    for (int k = 1; k <= 12; ++k) negative_file << '\t' << (test_item + 2 * k + 1) % 30;
    negative_file << '\n';
  }
  train_file.close(), test_file.close(), negative_file.close();
  const nlohmann::json config = {
      {"data", {{"format", "ncf"}, {"path", dir + "/x"}}},
      {"model", {{"type", "gmf"}, {"factors", 4}}},
      {"train", {{"epochs", 2}, {"batch_size", 64}, {"lr", 0.01}, {"device", "cpu"}}},
      {"eval", {{"k", 5}, {"negatives", 12}}}};
  std::ofstream(dir + "/c.json") << config.dump();
  const Result r = run(bin("train_ncf") + " --config " + dir + "/c.json --no-progress --out " + dir + "/run");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(has(r.output, "6 test users have no training row"));
  const nlohmann::json metrics = metrics_of(dir + "/run");
  CHECK(metrics["data"]["test_users_without_training"] == 6);
  CHECK(metrics["best"]["users"] == 40);
  const Result dropped = run(bin("train_ncf") + " --quiet --config " + dir +
                             "/c.json --set data.drop_cold_test_users=true --out " + dir + "/dropped");
  REQUIRE_MESSAGE(dropped.exit_code == 0, dropped.output);
  CHECK(metrics_of(dir + "/dropped")["best"]["users"] == 34);
  // eval.k above the file's 12 negatives per user would make every user a hit.
  const Result k = run(bin("train_ncf") + " --quiet --config " + dir +
                       "/c.json --set eval.k=13 --set eval.negatives=99"
                       " --out " +
                       dir + "/k");
  CHECK(k.exit_code == 2);
  CHECK(has(k.output, "12 evaluation negatives per user"));
  CHECK_FALSE(exists(dir + "/k"));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a damaged checkpoint is a named error on --resume, and the folder is left as it was") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=2 --out " + dir + "/run")).exit_code == 0);
  const std::string last = dir + "/run/last.safetensors";
  const std::string good = read_text(last);
  auto resume_error = [&] {
    const Result r = run(bin("train_ncf") + " --quiet --resume " + dir + "/run --set train.epochs=3");
    CHECK(r.exit_code == 1);
    CHECK(has(r.output, "last.safetensors"));
    return r.output;
  };
  auto restore = [&] { std::ofstream(last, std::ios::binary) << good; };
  rewrite_checkpoint(last, [](ncf::NamedTensors&, std::map<std::string, std::string>& meta) {
    nlohmann::json state = nlohmann::json::parse(meta["state"]);
    state["completed_epochs"] = -3;
    meta["state"] = state.dump();
  });
  CHECK(has(resume_error(), "completed_epochs -3 does not match"));
  restore();
  rewrite_checkpoint(last,
                     [](ncf::NamedTensors&, std::map<std::string, std::string>& meta) { meta.clear(); });
  CHECK(has(resume_error(), "has no metadata entry \"state\""));
  restore();
  rewrite_checkpoint(last, [](ncf::NamedTensors& tensors, auto&) {
    for (auto& [name, tensor] : tensors)
      if (name == "model.gmf.user") tensor = ncf::Tensor::zeros({3, 2});
  });
  const std::string shape = resume_error();
  CHECK(has(shape, "\"model.gmf.user\" is f32 (3, 2)"));
  restore();
  // After all that, the untouched checkpoint still resumes.
  CHECK(run(bin("train_ncf") + " --quiet --resume " + dir + "/run --set train.epochs=3").exit_code == 0);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a damaged data cache is rebuilt with a warning and gives the same results") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  const std::string root = " --root " + dir + " --set train.epochs=1";
  REQUIRE(run(train(config, root + " --out " + dir + "/first")).exit_code == 0);
  const std::vector<std::string> caches = ncf::list_directory(dir + "/datasets/.cache");
  REQUIRE(caches.size() == 1);
  const std::string cache = dir + "/datasets/.cache/" + caches[0];
  // Flip 64 bytes in the middle and keep the size and modification time, as a bad disk would.
  std::string bytes = read_text(cache);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  std::system(("cp -p " + cache + " " + dir + "/stamp").c_str());
  std::ofstream(cache, std::ios::binary) << bytes;
  std::system(("touch -r " + dir + "/stamp " + cache).c_str());
  const Result second =
      run(bin("train_ncf") + " --config " + config + " --no-progress" + root + " --out " + dir + "/second");
  REQUIRE_MESSAGE(second.exit_code == 0, second.output);
  CHECK(has(second.output, "warning: data cache"));
  const nlohmann::json a = metrics_of(dir + "/first")["epochs"][0], b = metrics_of(dir + "/second")["epochs"][0];
  for (const char* key : {"loss", "hr@10", "ndcg@10", "auc"}) CHECK(a[key] == b[key]);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("bad arguments are refused at once, strictly, with exit code 2") {
  const std::string dir = temp_dir(), config = write_small_experiment(dir);
  REQUIRE(run(train(config, "--set train.epochs=1 --out " + dir + "/run")).exit_code == 0);
  const std::string recommend = bin("recommend") + " --run " + dir + "/run";
  for (const std::string& args : {std::string(" --user abc"), std::string(" --user 196abc"),
                                  std::string(" --user 3 -k 2.5"), std::string(" --user 3 -k 0")}) {
    INFO(args);
    CHECK(run(recommend + args).exit_code == 2);
  }
  CHECK(run(bin("train_ncf") + " --config " + config + " --resume " + dir + "/run").exit_code == 2);
  CHECK(run(bin("train_ncf") + " --out " + dir + "/x --resume " + dir + "/run").exit_code == 2);
  const Result root = run(train(config, "--root " + dir + "/nonexistent --out " + dir + "/y"));
  CHECK(root.exit_code == 2);
  CHECK_FALSE(exists(dir + "/nonexistent"));
  CHECK_FALSE(exists(dir + "/y"));
  // Deep nesting in a config and in a --set value: a named error, not a crash.
  std::ofstream(dir + "/deep.json") << "{\"train\": " << std::string(100000, '[') << std::string(100000, ']')
                                    << "}";
  const Result deep = run(bin("train_ncf") + " --config " + dir + "/deep.json");
  CHECK(deep.exit_code == 2);
  CHECK(has(deep.output, "nesting deeper than"));
  CHECK(
      run(train(config, "--set train.epochs=" + std::string(5000, '[') + " --out " + dir + "/z")).exit_code ==
      2);
  // The benchmark and the generator check their arguments before the long work starts.
  CHECK(run(bin("bench_ncf") + " --batch 0").exit_code == 2);
  const Result model = run(bin("bench_ncf") + " --model nope --ratings 20000000");
  CHECK(model.exit_code == 2);
  CHECK(has(model.output, "unknown model shape 'nope'"));
  CHECK(run(bin("generate_ratings") + " --out " + dir + " --users abc").exit_code == 2);
  const Result folder = run(bin("generate_ratings") + " --out " + dir + " --ratings 20000000");
  CHECK(folder.exit_code == 1);
  CHECK(has(folder.output, "it is a folder"));
  std::system(("rm -rf " + dir).c_str());
}
