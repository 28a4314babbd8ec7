// recommend: the top-K unseen items for one user of a trained run, with titles when the config
// names a titles file.
//   recommend --run runs/ml-latest-small-... --user 414 [-k 10] [--device cpu]
#include <cstdio>
#include <iostream>
#include <string>

#include "nn/checkpoint.h"
#include "recsys/experiment.h"
#include "recsys/recommend.h"

namespace {
const char* kUsage =
    R"(usage: recommend --run RUN_DIR --user RAW_USER_ID [-k 10] [--device auto|cpu|cuda] [--root DIR]

Loads the run's config.json and model.safetensors (the best epoch), reloads its data set (from the
cache) to know which items the user has already seen, and prints the K best unseen items.
)";
}  // namespace

int main(int argc, char** argv) {
  std::string run_dir, device_name = "auto", root = ".";
  int64_t raw_user = -1, k = 10;
  bool have_user = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "-h" || arg == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (arg == "--run") {
        run_dir = value();
      } else if (arg == "--user") {
        raw_user = std::stoll(value());
        have_user = true;
      } else if (arg == "-k" || arg == "--k") {
        k = std::stoll(value());
      } else if (arg == "--device") {
        device_name = value();
      } else if (arg == "--root") {
        root = value();
      } else {
        throw std::invalid_argument("unknown argument '" + arg + "'");
      }
    }
    if (run_dir.empty() || !have_user || k < 1)
      throw std::invalid_argument("--run DIR and --user ID are required, k >= 1");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recommend: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    using namespace ncf;
    const ExperimentConfig config = load_experiment_config(run_dir + "/config.json", {}, root);
    const Device device = parse_device(device_name);
    const data::ImplicitDataset data = recsys::load_implicit_data(config, root);
    const int32_t user = data.users.find(raw_user);
    NCF_CHECK(user >= 0, "user " << raw_user << " is not in the data set of " << run_dir);

    recsys::Scorer scorer;
    std::unique_ptr<recsys::ScoringModel> model;
    nn::ParameterFactory factory{device, DType::f32, config.train.seed};
    if (config.model.type == ModelType::itempop) {
      scorer = recsys::popularity_scorer(data, device);
    } else {
      recsys::ModelShape shape;
      shape.type = to_string(config.model.type);
      shape.users = data.num_users;
      shape.items = data.num_items;
      shape.factors = config.model.factors;
      shape.layers = config.model.layers;
      model = recsys::make_model(shape, factory);
      const SafetensorsFile checkpoint = load_safetensors(run_dir + "/model.safetensors");
      for (auto& [name, parameter] : model->named_parameters())
        parameter.mutable_value().copy_from(checkpoint.at(name));
      scorer = recsys::model_scorer(*model);
    }
    std::printf("top %lld for user %lld (%lld items seen in training):\n", static_cast<long long>(k),
                static_cast<long long>(raw_user), static_cast<long long>(data.user_count(user)));
    int rank = 1;
    for (const recsys::Recommendation& r : recsys::recommend(scorer, data, user, k, device)) {
      std::printf("%3d. item %-8lld score %8.4f  %s\n", rank++, static_cast<long long>(r.raw_item), r.score,
                  r.title.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recommend: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
