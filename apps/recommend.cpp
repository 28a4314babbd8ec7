// recommend: the top-K unseen items for one user of a trained run, with titles when the config
// names a titles file.
//   recommend --run runs/ml-latest-small-... --user 414 [-k 10] [--device cpu]
#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/common/cli.h"
#include "recsys/experiment.h"
#include "recsys/recommend.h"
#include "recsys/run_folder.h"

namespace {
const char* kUsage =
    R"(usage: recommend --run RUN_DIR --user RAW_USER_ID [-k 10] [--device auto|cpu|cuda]

Prints the K best items the user has not trained on, with titles. Everything comes from the run
folder: config.json (the model), model.safetensors (the best epoch), ids.json (raw ids, titles) and
seen.safetensors (each user's training items); the data file is not read.
)";
}  // namespace

int main(int argc, char** argv) {
  using namespace ncf;
  std::string run_dir, device_name = "auto";
  int64_t raw_user = -1, k = 10;
  cli::Parser args("recommend", kUsage);
  args.option("--run", &run_dir);
  args.option("--user", &raw_user, INT64_MIN, INT64_MAX);
  args.option("-k", &k, 1, INT32_MAX).alias("--k");
  args.option("--device", &device_name);
  return cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    args.require("--run");
    args.require("--user");
    // Everything comes from the run folder itself: no data file is read.
    const recsys::RunFolder folder(run_dir);
    const recsys::ExperimentConfig config = recsys::parse_config(
        recsys::load_config_json(folder.file("config.json")), folder.file("config.json"));
    NCF_CHECK(!recsys::is_explicit_model(to_string(config.model.type)),
              "recommend ranks items for implicit-feedback models; the run's model "
                  << to_string(config.model.type) << " predicts ratings");
    const Device device = parse_device(device_name);
    const data::ImplicitDataset data = folder.read_data();
    const int32_t user = data.users.find(raw_user);
    NCF_CHECK(user >= 0, "user " << raw_user << " is not in the data set of " << run_dir);

    recsys::BlockScorer scorer;
    std::unique_ptr<recsys::ScoringModel> model;
    nn::ParameterFactory factory{device, DType::f32, config.train.seed};
    if (config.model.type == recsys::ModelType::itempop) {
      scorer = recsys::pairwise_block_scorer(recsys::popularity_scorer(data, device), data.num_items, device);
    } else {
      recsys::ModelShape shape;
      shape.type = to_string(config.model.type);
      shape.users = data.num_users;
      shape.items = data.num_items;
      shape.factors = config.model.factors;
      shape.layers = config.model.layers;
      model = recsys::make_model(shape, factory);
      folder.load_model_into(*model);
      scorer = recsys::block_scorer(*model, data.num_items, device);
    }
    std::printf("top %lld for user %lld (%lld items seen in training):\n", static_cast<long long>(k),
                static_cast<long long>(raw_user), static_cast<long long>(data.user_count(user)));
    int rank = 1;
    for (const recsys::Recommendation& r : recsys::recommend(scorer, data, user, k, device)) {
      std::printf("%3d. item %-8lld score %8.4f  %s\n", rank++, static_cast<long long>(r.raw_item), r.score,
                  r.title.c_str());
    }
    return 0;
  });
}
