// Data-parallel training (recsys/distributed.h): the batch slices, the launcher's rank count, the
// packing of gradients between ranks, and two ranks under mpirun against one process.
//
// The reference for two ranks is the single process itself, on the same config and global batch:
// the same samples are trained on, so per-epoch losses must agree to 1e-5 relative and HR@10 /
// NDCG@10 to within one test user. Not to the bit: two ranks sum each slice's gradient first and
// then the slices, one process sums the whole batch in one order, and float addition is not
// associative (the differences are a few ulps per step).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "autograd/functions.h"
#include "recsys/distributed.h"
#include "tests/distributed/mirror_communicator.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::recsys;
using nlohmann::json;

namespace {

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

struct Run {
  int exit_code;
  std::string output;
};

Run run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string bin(const std::string& name) { return std::string(NCF_BIN_DIR) + "/" + name; }

// mpirun for tests on a small machine: more ranks than cores allowed, no core binding, root allowed
// (CI containers run as root), shared-memory transport without the kernel's cross-process copy
// (often refused in containers), one OpenMP thread a rank.
std::string mpirun(int ranks) {
  std::string command =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
      "OMPI_MCA_btl_vader_single_copy_mechanism=none "
      "OMP_NUM_THREADS=1 " +
      shell_quote(NCF_MPIEXEC) + " -np " + std::to_string(ranks) + " --oversubscribe --bind-to none";
  if (::getuid() == 0) command += " --allow-run-as-root";
  return command + " ";
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return json::parse(in);
}

// A small generated data set (300 users) and a config over it: runs of a few seconds.
std::string write_experiment(const test::TempDir& dir, const json& model, const json& train) {
  const std::string ratings = dir.path("ratings.csv");
  const Run generated = run(bin("generate_ratings") + " --out " + ratings +
                            " --users 300 --items 400 --ratings 12000 --seed 3");
  REQUIRE_MESSAGE(generated.exit_code == 0, generated.output);
  json config = {{"data", {{"format", "movielens-csv"}, {"path", ratings}}},
                 {"model", model},
                 {"train", train},
                 {"eval", {{"k", 10}, {"negatives", 99}, {"full_ranking", true}}}};
  return dir.file("config.json", config.dump(2));
}

// One process and two ranks on the same config: losses within 1e-5 relative, metrics within one
// test user, and rank 0 alone wrote the run folder.
void compare_one_and_two_ranks(const json& model, const json& train) {
  test::TempDir dir;
  const std::string config = write_experiment(dir, model, train);
  const std::string args = " --config " + config + " --root " + dir.dir() + " --no-progress --out ";
  const Run one = run("OMP_NUM_THREADS=1 " + bin("train_ncf") + args + dir.path("one"));
  REQUIRE_MESSAGE(one.exit_code == 0, one.output);
  const Run two = run(mpirun(2) + bin("train_ncf") + args + dir.path("two"));
  REQUIRE_MESSAGE(two.exit_code == 0, two.output);
  CHECK(two.output.find("ranks: MPI: 2 ranks") != std::string::npos);
  // Rank 0 alone prints: each epoch's line appears once.
  CHECK(two.output.find("epoch 1/") == two.output.rfind("epoch 1/"));

  const json a = read_json(dir.path("one/metrics.json")), b = read_json(dir.path("two/metrics.json"));
  CHECK(b.at("ranks") == 2);
  const double users = a.at("data").at("test_users");
  REQUIRE(a.at("epochs").size() == b.at("epochs").size());
  for (size_t e = 0; e < a.at("epochs").size(); ++e) {
    const json& x = a["epochs"][e];
    const json& y = b["epochs"][e];
    const double la = x.at("loss"), lb = y.at("loss");
    INFO("epoch " << e + 1 << ": loss " << la << " (1 process) vs " << lb << " (2 ranks); hr@10 "
                  << x["hr@10"] << " vs " << y["hr@10"]);
    CHECK(std::abs(la - lb) <= 1e-5 * std::abs(la));
    CHECK(std::abs(double(x.at("hr@10")) - double(y.at("hr@10"))) <= 1.0 / users + 1e-12);
    CHECK(std::abs(double(x.at("ndcg@10")) - double(y.at("ndcg@10"))) <= 1.0 / users + 1e-12);
  }
  CHECK(std::abs(double(a["best"]["full"]["hr@10"]) - double(b["best"]["full"]["hr@10"])) <=
        1.0 / users + 1e-12);
  MESSAGE("1 process vs 2 ranks, last epoch: loss "
          << a["epochs"].back()["loss"] << " vs " << b["epochs"].back()["loss"] << ", hr@10 "
          << a["epochs"].back()["hr@10"] << " vs " << b["epochs"].back()["hr@10"]);
}

}  // namespace

TEST_CASE("local_rows: contiguous shares covering the batch, balanced to a group, some empty") {
  for (const auto& [begin, end, ranks, align] : std::vector<std::tuple<int64_t, int64_t, int, int64_t>>{
           {0, 256, 2, 1}, {512, 767, 2, 1}, {100, 101, 2, 1}, {0, 7, 3, 1}, {0, 50, 4, 5}, {10, 35, 3, 5}}) {
    INFO("batch [" << begin << ", " << end << ") over " << ranks << " ranks, groups of " << align);
    int64_t next = begin, smallest = end - begin, largest = 0;
    for (int r = 0; r < ranks; ++r) {
      const ncf::data::BatchRange mine = local_rows({begin, end}, r, ranks, align);
      CHECK(mine.begin == next);
      CHECK(mine.end >= mine.begin);
      CHECK((mine.begin - begin) % align == 0);
      next = mine.end;
      smallest = std::min(smallest, mine.size()), largest = std::max(largest, mine.size());
    }
    CHECK(next == end);
    CHECK(largest - smallest <= align);
  }
  // One row over two ranks: rank 0's share is empty (it still takes part in the step).
  CHECK(local_rows({100, 101}, 0, 2).size() == 0);
  CHECK(local_rows({100, 101}, 1, 2).size() == 1);
  CHECK_THROWS_WITH_AS(local_rows({0, 10}, 2, 2), doctest::Contains("rank 2 of 2"), ncf::Error);
}

TEST_CASE("launcher_world_size reads Open MPI's and PMI's variables") {
  const auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  };
  CHECK(launcher_world_size(env({})) == 1);
  CHECK(launcher_world_size(env({{"OMPI_COMM_WORLD_SIZE", "4"}})) == 4);
  CHECK(launcher_world_size(env({{"PMI_SIZE", "3"}})) == 3);
  CHECK_THROWS_WITH_AS(launcher_world_size(env({{"PMI_SIZE", "two"}})), doctest::Contains("'two'"),
                       ncf::Error);
}

TEST_CASE("sum_gradients: every dense and row-sparse gradient comes back summed, in its parameter") {
  // Two tables with row-sparse gradients of different widths, a dense weight, and a parameter
  // without any gradient; against the mirror, each sum is exactly twice the local gradient.
  ag::Variable users(Tensor::from_vector(std::vector<float>(5 * 3, 0.5f), {5, 3}), true, "users");
  ag::Variable items(Tensor::from_vector(std::vector<float>(4 * 2, 0.25f), {4, 2}), true, "items");
  ag::Variable weight(Tensor::from_vector(std::vector<float>{1, 2, 3}, {3, 1}), true, "weight");
  ag::Variable unused(Tensor::from_vector(std::vector<float>{7}, {1}), true, "unused");
  users.set_sparse_gradient(true);
  items.set_sparse_gradient(true);
  const Tensor u = Tensor::from_vector(std::vector<int32_t>{4, 1, 4}, {3});
  const Tensor i = Tensor::from_vector(std::vector<int32_t>{2, 0, 2}, {3});
  const ag::Variable ue = ag::embedding(users, u), ie = ag::embedding(items, i);
  const ag::Variable no_bias(Tensor::zeros({1}));
  const ag::Variable score = ag::add(ag::linear(ue, weight, no_bias), ag::sum_cols(ie));
  ag::sum(ag::mul(score, score)).backward();
  const std::vector<float> users_before = ncf::ops::to_dense(users.sparse_grad()).to_vector<float>();
  const std::vector<float> items_before = ncf::ops::to_dense(items.sparse_grad()).to_vector<float>();
  const std::vector<float> weight_before = weight.grad().to_vector<float>();

  test::MirrorCommunicator mirror;
  sum_gradients(mirror, {{"users", users}, {"items", items}, {"weight", weight}, {"unused", unused}});
  REQUIRE(users.sparse_grad().indices.defined());
  CHECK(users.sparse_grad().indices.to_vector<int32_t>() == std::vector<int32_t>{1, 4});
  CHECK(items.sparse_grad().indices.to_vector<int32_t>() == std::vector<int32_t>{0, 2});
  const std::vector<float> users_after = ncf::ops::to_dense(users.sparse_grad()).to_vector<float>();
  const std::vector<float> items_after = ncf::ops::to_dense(items.sparse_grad()).to_vector<float>();
  const std::vector<float> weight_after = weight.grad().to_vector<float>();
  for (size_t k = 0; k < users_before.size(); ++k) CHECK(users_after[k] == 2 * users_before[k]);
  for (size_t k = 0; k < items_before.size(); ++k) CHECK(items_after[k] == 2 * items_before[k]);
  for (size_t k = 0; k < weight_before.size(); ++k) CHECK(weight_after[k] == 2 * weight_before[k]);
  CHECK(!unused.has_grad());
  // One rank: nothing to do, nothing changes.
  SingleProcess one;
  sum_gradients(one, {{"weight", weight}});
  CHECK(weight.grad().to_vector<float>() == weight_after);
}

TEST_CASE("a build without MPI refuses to run on several ranks, saying so") {
  if (built_with_mpi()) {
    MESSAGE("skipped: this build has MPI (configure with -DNCF_WITH_MPI=OFF to test the refusal)");
    return;
  }
  CHECK_THROWS_WITH_AS(make_communicator(true), doctest::Contains("this build has no MPI"), ncf::Error);
  test::TempDir dir;
  const std::string config =
      write_experiment(dir, {{"type", "gmf"}, {"factors", 4}}, {{"epochs", 1}, {"device", "cpu"}});
  const Run r =
      run("OMPI_COMM_WORLD_SIZE=2 " + bin("train_ncf") + " --config " + config + " --out " + dir.path("run"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("this build has no MPI") != std::string::npos);
  CHECK(r.output.find("launcher announces 2 ranks") != std::string::npos);
  CHECK(::access(dir.path("run/metrics.json").c_str(), F_OK) != 0);
}

TEST_CASE("two MPI ranks train NeuMF (dense Adam, L2 penalty) as one process does") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI (install libopenmpi-dev openmpi-bin and configure again)");
    return;
  }
  // An odd batch (255 rows: shares of 127 and 128) and a last batch of 5 rows; the penalty must
  // count once over the global batch for the losses to agree.
  compare_one_and_two_ranks({{"type", "neumf"}, {"factors", 8}, {"layers", {32, 16, 8}}, {"l2", 1e-4}},
                            {{"epochs", 3}, {"batch_size", 255}, {"lr", 0.002}, {"device", "cpu"}});
}

TEST_CASE("two MPI ranks train GMF with plain SGD and an L2 penalty as one process does") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI");
    return;
  }
  // Adam hardly notices a gradient scaled by a constant; SGD moves by it. So this case is the one
  // that fails when a rank's loss is not weighted by its share or the penalty counts twice.
  compare_one_and_two_ranks(
      {{"type", "gmf"}, {"factors", 8}, {"l2", 1e-3}},
      {{"epochs", 3}, {"batch_size", 255}, {"lr", 0.5}, {"optimizer", "sgd"}, {"device", "cpu"}});
}

TEST_CASE("two MPI ranks train GMF with BPR and lazy Adam as one process does") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI");
    return;
  }
  // BPR groups (a positive and its 4 negatives) are never cut between ranks: 100 rows = 20 groups.
  compare_one_and_two_ranks({{"type", "gmf"}, {"factors", 8}}, {{"epochs", 2},
                                                                {"batch_size", 100},
                                                                {"lr", 0.005},
                                                                {"loss", "bpr"},
                                                                {"optimizer", "lazy_adam"},
                                                                {"device", "cpu"}});
}

TEST_CASE(
    "two MPI ranks evaluate ItemPop on their shares of the users, sampled and full: the same metrics to the "
    "bit") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI");
    return;
  }
  // Nothing trains, so the split evaluation (each rank ranks half the users, the ranks gathered in
  // user order) must give exactly the single process's numbers.
  test::TempDir dir;
  const std::string config = write_experiment(dir, {{"type", "itempop"}}, {{"device", "cpu"}});
  const std::string args = " --config " + config + " --no-progress --out ";
  const Run one = run("OMP_NUM_THREADS=1 " + bin("train_ncf") + args + dir.path("one"));
  REQUIRE_MESSAGE(one.exit_code == 0, one.output);
  const Run two = run(mpirun(2) + bin("train_ncf") + args + dir.path("two"));
  REQUIRE_MESSAGE(two.exit_code == 0, two.output);
  const json a = read_json(dir.path("one/metrics.json"))["best"],
             b = read_json(dir.path("two/metrics.json"))["best"];
  for (const char* key : {"hr@10", "ndcg@10", "mrr", "auc", "users"}) {
    INFO(key << ": " << a[key] << " vs " << b[key]);
    CHECK(a.at(key) == b.at(key));
    // Full ranking is split the same way (each rank scores every item for its half of the users).
    INFO("full ranking " << key << ": " << a["full"][key] << " vs " << b["full"][key]);
    CHECK(a.at("full").at(key) == b.at("full").at(key));
  }
}

TEST_CASE("two MPI ranks resumed after 2 epochs train epoch 3 as an uninterrupted two-rank run: same bits") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI");
    return;
  }
  // Every rank reads the checkpoint (parameters, Adam moments, step count); the third epoch then
  // draws the same samples, cut the same way, so nothing may differ.
  test::TempDir dir;
  const std::string config = write_experiment(dir, {{"type", "neumf"}, {"factors", 8}, {"layers", {16, 8}}},
                                              {{"epochs", 3}, {"batch_size", 256}, {"device", "cpu"}});
  const std::string common = " --config " + config + " --no-progress --quiet --out ";
  const Run whole = run(mpirun(2) + bin("train_ncf") + common + dir.path("whole"));
  REQUIRE_MESSAGE(whole.exit_code == 0, whole.output);
  const Run part = run(mpirun(2) + bin("train_ncf") + common + dir.path("part") + " --set train.epochs=2");
  REQUIRE_MESSAGE(part.exit_code == 0, part.output);
  const Run resumed =
      run(mpirun(2) + bin("train_ncf") + " --resume " + dir.path("part") + " --set train.epochs=3 --quiet");
  REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
  const json a = read_json(dir.path("whole/metrics.json")), b = read_json(dir.path("part/metrics.json"));
  REQUIRE(b.at("epochs").size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(a["epochs"][e].at("loss") == b["epochs"][e].at("loss"));
    CHECK(a["epochs"][e].at("hr@10") == b["epochs"][e].at("hr@10"));
  }
}

TEST_CASE("two MPI ranks train an MLP with dropout as one process does: each rank draws its rows' masks") {
  if (!built_with_mpi()) {
    MESSAGE("skipped: this build has no MPI");
    return;
  }
  // Each rank's tower is told where its slice starts in the global batch, so it drops the elements
  // one process drops for those rows; a rank drawing masks for its own row numbers (from 0) would
  // train on other masks and its losses would part from the single process's at the first step.
  compare_one_and_two_ranks({{"type", "mlp"}, {"layers", {32, 16, 8}}, {"dropout", 0.3}},
                            {{"epochs", 2}, {"batch_size", 255}, {"lr", 0.002}, {"device", "cpu"}});
}
