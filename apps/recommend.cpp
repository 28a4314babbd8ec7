// recommend: what a trained run recommends, from its run folder alone (no data file is read).
//   recommend --run DIR --user 196 [-k 10]                  the K best unseen items for a known user
//   recommend --run DIR --all --out recs.csv [-k 10]        the same for every user, as one CSV file
//   recommend --run DIR --similar-to 50 [-k 10]             the K items most like one (cosine)
//   recommend --run DIR --items 50,172,133 [-k 10]          a user the model has not seen (fold-in)
// Scores come a block of users at a time (recsys/block_scorer.h): one GEMM per block for GMF, dot
// and iALS, one sparse product for EASE, the model on every (user, item) pair for MLP and NeuMF; seen items are dropped and the top K kept on
// the device (recsys/recommend.h). The new user of --items is fitted by recsys/fold_in.h.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "apps/common/cli.h"
#include "base/files.h"
#include "base/parse.h"
#include "base/progress.h"
#include "recsys/fold_in.h"
#include "recsys/recommend.h"
#include "recsys/run_folder.h"
#include "recsys/trainer.h"

namespace {
using namespace ncf;

const char* kUsage =
    R"(usage: recommend --run RUN_DIR --user RAW_USER_ID [-k 10] [--device auto|cpu|cuda]
       recommend --run RUN_DIR --all --out FILE.csv [-k 10] [--no-progress]
       recommend --run RUN_DIR --similar-to RAW_ITEM_ID [-k 10]
       recommend --run RUN_DIR --items RAW_ITEM_ID,RAW_ITEM_ID,... [-k 10] [--steps 100] [--lr 0.05]
                 [--seed S]

Everything comes from the run folder: config.json (the model), model.safetensors (the best epoch),
ids.json (raw ids, titles) and seen.safetensors (each user's training items); no data file is read.
Items a user trained on are never recommended; equal scores go to the smaller item id first.

  --user ID          the K best items this user has not trained on, with titles
  --all              the same for every user of the run, written to --out as CSV with the header
                     user,rank,item,score,title (raw ids; titles quoted as RFC 4180 says), atomically;
                     a progress bar on a terminal. GMF, dot and iALS score a block of users with one
                     matrix product, EASE with one sparse product, MLP and NeuMF run the model on
                     every (user, item) pair
  --similar-to ID    the K items whose vectors have the largest cosine with this item's: GMF's
                     gmf.item weighted by the output layer, NeuMF's GMF branch the same way, the item
                     factors of dot and iALS, MLP's mlp.item (the input of its ReLU tower, so only a
                     rough guide: a note says so)
  --items IDS        a user the model has not seen, given by the items they chose: fresh user rows
                     fitted to them (--steps Adam steps at --lr, the run's train.negatives fresh
                     negatives per item and step, every other parameter frozen; deterministic for
                     --seed, default the run's train.seed), then the K best items not among them.
                     ItemPop: the most popular items not among them
  -k K               list length, at most the number of items in the catalogue (default 10)
  --device NAME      auto | cpu | cuda (default auto)
  --no-progress      no progress bar for --all, even on a terminal

exit status: 0 success, 2 bad arguments (an unknown user or item, -k beyond the catalogue), 1 any
other error (a damaged run folder, ...).
)";

// A well-formed request the run cannot answer (an unknown user or item, -k beyond the catalogue): a
// bad argument (exit 2), reported without the usage text.
class NotInRun : public Error {
 public:
  using Error::Error;
};

struct Run {
  std::string dir;
  recsys::ExperimentConfig config;
  data::ImplicitDataset data;
  recsys::ModelShape shape;
  std::unique_ptr<recsys::ScoringModel> model;  // null for ItemPop
};

Run load_run(const std::string& dir, Device device) {
  Run run;
  run.dir = dir;
  const recsys::RunFolder folder(dir);
  run.config =
      recsys::parse_config(recsys::load_config_json(folder.file("config.json")), folder.file("config.json"));
  NCF_CHECK(!recsys::is_explicit_model(to_string(run.config.model.type)),
            "recommend ranks items for implicit-feedback models; the run's model "
                << to_string(run.config.model.type) << " predicts ratings");
  run.data = folder.read_data();
  if (run.config.model.type == recsys::ModelType::itempop) return run;
  run.shape = recsys::model_shape(run.config.model, run.data.num_users, run.data.num_items, &run.data);
  nn::ParameterFactory factory{device, DType::f32, run.config.train.seed};
  run.model = recsys::make_model(run.shape, factory);
  run.shape.train = nullptr;  // read by the constructor only; run.data moves with the Run
  folder.load_model_into(*run.model);
  return run;
}

// Every item's score for blocks of `data`'s users: the model's own path, or popularity for ItemPop.
recsys::BlockScorer scorer_for(const Run& run, recsys::ScoringModel* model, const data::ImplicitDataset& data,
                               Device device) {
  if (!model)
    return recsys::pairwise_block_scorer(recsys::popularity_scorer(run.data, device), data.num_items, device);
  return recsys::block_scorer(*model, data.num_items, device);
}

int32_t known_item(const Run& run, int64_t raw_item, const char* option) {
  const int32_t item = run.data.items.find(raw_item);
  if (item < 0)
    throw NotInRun(std::string(option) + ": item " + std::to_string(raw_item) +
                   " is not in the catalogue of " + run.dir + " (" + std::to_string(run.data.num_items) +
                   " items, raw ids as in its ids.json)");
  return item;
}

// "50,172,133" -> raw ids; every field a strict integer, none empty, none twice.
std::vector<int64_t> parse_item_list(const std::string& text) {
  if (text.empty())
    throw cli::ArgumentError("--items needs at least one raw item id, e.g. --items 50,172,133");
  std::vector<int64_t> ids;
  size_t begin = 0;
  for (;;) {
    const size_t comma = text.find(',', begin);
    const std::string field =
        text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    int64_t id = 0;
    if (parse_int64(field, id) != ParseStatus::ok)
      throw cli::ArgumentError("--items needs comma-separated integer item ids, got '" + field + "' in '" +
                               text + "'");
    for (const int64_t seen : ids)
      if (seen == id) throw cli::ArgumentError("--items lists item " + field + " twice");
    ids.push_back(id);
    if (comma == std::string::npos) return ids;
    begin = comma + 1;
  }
}

void print_list(const std::vector<recsys::Recommendation>& list, const char* score_name) {
  int rank = 1;
  for (const recsys::Recommendation& r : list)
    std::printf("%3d. item %-8lld %s %8.4f  %s\n", rank++, static_cast<long long>(r.raw_item), score_name,
                r.score, r.title.c_str());
}

// One CSV field as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break, with
// every quote doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// --all: every user's list to `out_path`, a block of users at a time, through a temporary file.
void write_all(Run& run, int64_t k, const std::string& out_path, bool progress, Device device) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const recsys::BlockScorer scorer = scorer_for(run, run.model.get(), run.data, device);
  const int64_t users = run.data.num_users, block = recsys::users_per_block(run.data.num_items, device);
  int64_t rows = 0;
  write_file_atomically_with(out_path, [&](const AppendFn& append) {
    const std::string header = "user,rank,item,score,title\n";
    append(header.data(), header.size());
    std::string text;
    char line[96];
    std::vector<int32_t> ids;
    for (int64_t first = 0; first < users; first += block) {
      ids.clear();
      for (int64_t u = first; u < std::min(users, first + block); ++u) ids.push_back(static_cast<int32_t>(u));
      const auto lists = recsys::recommend_block(scorer, run.data, ids, k, device);
      text.clear();
      for (size_t j = 0; j < ids.size(); ++j) {
        const long long raw_user = run.data.users.raw(ids[j]);
        for (size_t r = 0; r < lists[j].size(); ++r) {
          const recsys::Recommendation& rec = lists[j][r];
          std::snprintf(line, sizeof line, "%lld,%zu,%lld,%.7g,", raw_user, r + 1,
                        static_cast<long long>(rec.raw_item), rec.score);
          text += line;
          text += csv_field(rec.title);
          text += '\n';
        }
        rows += static_cast<int64_t>(lists[j].size());
      }
      append(text.data(), text.size());
      if (progress) {
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        std::cerr << "\r"
                  << progress_bar("users", first + static_cast<int64_t>(ids.size()), users, seconds, "users")
                  << "   " << std::flush;
      }
    }
  });
  if (progress) std::cerr << "\r\033[K" << std::flush;
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  std::printf("wrote %s: %lld rows, top %lld for each of %lld users, in %.3f s\nscores: %s\n",
              out_path.c_str(), static_cast<long long>(rows), static_cast<long long>(k),
              static_cast<long long>(users), seconds, scorer.path.c_str());
}

void print_similar(Run& run, int64_t raw_item, int64_t k) {
  const int32_t item = known_item(run, raw_item, "--similar-to");
  const std::optional<recsys::ItemVectors> vectors = run.model ? run.model->item_vectors() : std::nullopt;
  if (!vectors)
    throw NotInRun("--similar-to: the run's model " + std::string(to_string(run.config.model.type)) +
                   " has no item vectors (gmf, mlp and neumf have)");
  auto title = run.data.titles.find(raw_item);
  std::printf("items like %lld%s%s, by the cosine of %s:\n", static_cast<long long>(raw_item),
              title == run.data.titles.end() ? "" : " ",
              title == run.data.titles.end() ? "" : title->second.c_str(), vectors->source.c_str());
  if (!vectors->caveat.empty()) std::printf("note: %s\n", vectors->caveat.c_str());
  if (run.data.item_popularity[item] == 0)
    std::printf(
        "note: item %lld occurs in no training row: its vector is as initialised, its neighbours are noise\n",
        static_cast<long long>(raw_item));
  print_list(recsys::similar_items(vectors->vectors, run.data, item, k), "cosine");
}

void print_new_user(Run& run, const std::vector<int64_t>& raw_items, int64_t k,
                    const recsys::FoldInOptions& options, Device device) {
  std::vector<int32_t> items;
  std::string unknown, listed;
  for (const int64_t raw : raw_items) {
    const int32_t item = run.data.items.find(raw);
    if (item < 0) unknown += (unknown.empty() ? "" : ", ") + std::to_string(raw);
    listed += (listed.empty() ? "" : ", ") + std::to_string(raw);
    items.push_back(item);
  }
  if (!unknown.empty())
    throw NotInRun("--items: " + unknown + (unknown.find(',') == std::string::npos ? " is" : " are") +
                   " not in the catalogue of " + run.dir + " (" + std::to_string(run.data.num_items) +
                   " items, raw ids as in its ids.json)");
  if (static_cast<int64_t>(items.size()) >= run.data.num_items)
    throw NotInRun("--items lists every item of the catalogue: none is left to recommend");
  if (!run.model) {
    const data::ImplicitDataset user = recsys::new_user_data(run.data, items);
    std::printf("top %lld for a new user who chose items %s (ItemPop: the most popular others):\n",
                static_cast<long long>(k), listed.c_str());
    print_list(recsys::recommend(scorer_for(run, nullptr, user, device), user, 0, k, device), "score");
    return;
  }
  const recsys::FoldIn fitted = recsys::fold_in(*run.model, run.shape, run.data, items, options, device);
  std::printf(
      "top %lld for a new user who chose items %s (fold-in: %lld Adam steps at lr %g, loss %.4f -> %.4f):\n",
      static_cast<long long>(k), listed.c_str(), static_cast<long long>(options.steps), options.lr,
      fitted.first_loss, fitted.last_loss);
  const recsys::BlockScorer scorer = recsys::block_scorer(*fitted.model, fitted.user_data.num_items, device);
  print_list(recsys::recommend(scorer, fitted.user_data, 0, k, device), "score");
}
}  // namespace

int main(int argc, char** argv) {
  std::string run_dir, device_name = "auto", out_path, item_list;
  int64_t raw_user = 0, raw_item = 0, k = 10, steps = 100, seed = 0;
  double lr = 0.05;
  bool all = false, no_progress = false;
  cli::Parser args("recommend", kUsage);
  args.option("--run", &run_dir);
  args.option("--user", &raw_user, INT64_MIN, INT64_MAX);
  args.flag("--all", &all);
  args.option("--out", &out_path);
  args.option("--similar-to", &raw_item, INT64_MIN, INT64_MAX);
  args.option("--items", &item_list);
  args.option("-k", &k, 1, INT32_MAX).alias("--k");
  args.option("--steps", &steps, 1, 100000);
  args.option("--lr", &lr, 1e-6, 10.0);
  args.option("--seed", &seed, 0, INT64_MAX);
  args.option("--device", &device_name);
  args.flag("--no-progress", &no_progress);
  const auto is_not_in_run = [](const std::exception& e) {
    return dynamic_cast<const NotInRun*>(&e) != nullptr;
  };
  return cli::run(
      args,
      [&] {
        if (!args.parse(argc, argv)) return 0;
        args.require("--run");
        int modes = 0;
        for (const char* mode : {"--user", "--all", "--similar-to", "--items"}) modes += args.given(mode);
        if (modes != 1)
          throw cli::ArgumentError("give exactly one of --user, --all, --similar-to and --items");
        if (all) args.require("--out");
        if (args.given("--out") && !all) throw cli::ArgumentError("--out is used only with --all");
        for (const char* option : {"--steps", "--lr", "--seed"})
          if (args.given(option) && !args.given("--items"))
            throw cli::ArgumentError(std::string(option) + " is used only with --items");
        const std::vector<int64_t> raw_items =
            args.given("--items") ? parse_item_list(item_list) : std::vector<int64_t>{};

        const Device device = parse_device(device_name);
        Run run = load_run(run_dir, device);
        if (k > run.data.num_items)
          throw NotInRun("-k " + std::to_string(k) + " is more than the " +
                         std::to_string(run.data.num_items) + " items in the catalogue of " + run_dir);
        if (all) {
          write_all(run, k, out_path, ::isatty(STDERR_FILENO) != 0 && !no_progress, device);
        } else if (args.given("--similar-to")) {
          print_similar(run, raw_item, k);
        } else if (args.given("--items")) {
          recsys::FoldInOptions options;
          options.steps = steps;
          options.lr = lr;
          options.negatives = static_cast<int>(run.config.train.negatives);
          options.seed = args.given("--seed") ? static_cast<uint64_t>(seed) : run.config.train.seed;
          print_new_user(run, raw_items, k, options, device);
        } else {
          const int32_t user = run.data.users.find(raw_user);
          if (user < 0)
            throw NotInRun("--user: user " + std::to_string(raw_user) + " is not in the data set of " +
                           run_dir + " (" + std::to_string(run.data.num_users) +
                           " users, raw ids as in its ids.json; --items folds in a new one)");
          std::printf("top %lld for user %lld (%lld items seen in training):\n", static_cast<long long>(k),
                      static_cast<long long>(raw_user), static_cast<long long>(run.data.user_count(user)));
          const recsys::BlockScorer scorer = scorer_for(run, run.model.get(), run.data, device);
          print_list(recsys::recommend(scorer, run.data, user, k, device), "score");
        }
        return 0;
      },
      is_not_in_run);
}
