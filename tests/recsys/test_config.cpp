// Tests of the experiment config: defaults, every kind of error and its message, "did you mean",
// --set overrides, file checks against a root, and the to_json round trip.
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "base/files.h"
#include "recsys/config.h"
#include "tests/test_util.h"

namespace {

using nlohmann::json;

using ncf::test::TempDir;

const std::string kSource = "apps/configs/x.json";

// The ConfigError message parse_config gives for `j` ("" when it accepts it).
std::string parse_error(const json& j, const std::vector<std::string>& overrides = {}) {
  try {
    (void)ncf::recsys::parse_config(j, kSource, overrides);
  } catch (const ncf::recsys::ConfigError& e) {
    return e.what();
  }
  return "";
}

template <class Fn>
std::string config_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ncf::recsys::ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

#define CHECK_MESSAGE_HAS(message_expr, part)    \
  do {                                           \
    const std::string message_ = (message_expr); \
    INFO("message: " << message_);               \
    CHECK(contains(message_, part));             \
  } while (0)

}  // namespace

TEST_CASE("config: an empty object gives the documented defaults") {
  const ncf::recsys::ExperimentConfig c = ncf::recsys::parse_config(json::object(), kSource);
  CHECK(c.source == kSource);
  CHECK(c.data.format == ncf::recsys::DataFormat::movielens_udata);
  CHECK(c.data.path == "datasets/ml-100k/u.data");
  CHECK_FALSE(c.data.titles.has_value());
  CHECK(c.data.csv.separator == ",");
  CHECK(c.data.csv.header);
  CHECK(c.data.csv.user == "userId");
  CHECK(c.data.csv.item == "movieId");
  CHECK_FALSE(c.data.binarize_threshold.has_value());
  CHECK(c.data.min_user_interactions == 0);
  CHECK(c.data.user_fraction == 1.0);
  CHECK(c.data.split == ncf::recsys::SplitKind::leave_one_out);
  CHECK(c.data.test_fraction == 0.2);
  CHECK_FALSE(c.data.validation);
  CHECK(c.data.seed == 42);
  CHECK(c.model.type == ncf::recsys::ModelType::neumf);
  CHECK(c.model.factors == 8);
  CHECK(c.model.layers == std::vector<int64_t>{64, 32, 16, 8});
  CHECK(c.model.dropout == 0.0);
  CHECK_FALSE(c.model.pretrain.has_value());
  CHECK(c.train.epochs == 20);
  CHECK(c.train.batch_size == 256);
  CHECK(c.train.optimizer == ncf::recsys::OptimizerKind::adam);
  CHECK(c.train.lr == 0.001);
  CHECK(c.train.negatives == 4);
  CHECK(c.train.seed == 42);
  CHECK(c.train.device == "auto");
  CHECK(c.train.early_stop_patience == 0);
  CHECK(c.train.select_by.str() == "ndcg@10");
  CHECK(c.eval.k == 10);
  CHECK(c.eval.negatives == 99);
  CHECK(c.eval.full_ranking);
  CHECK(c.eval.every == 1);
  CHECK(c.eval.seed == 7);
}

TEST_CASE("config: a full config is read into the structs") {
  const json j = json::parse(R"({
    "data": {"format": "csv", "path": "d/r.csv", "titles": "d/t.csv",
             "csv": {"separator": "\t", "header": false, "user": 0, "item": 1, "rating": null,
                     "timestamp": 3},
             "binarize_threshold": 4, "min_user_interactions": 5, "min_item_interactions": 2,
             "user_fraction": 0.5, "split": "leave_one_out", "test_fraction": 0.1, "validation": true,
             "seed": 1},
    "model": {"type": "neumf", "factors": 64, "layers": [256, 256, 128, 64], "dropout": 0.1,
              "pretrain": {"gmf": "runs/gmf", "mlp": "runs/mlp", "alpha": 0.3}},
    "train": {"epochs": 3, "batch_size": 1e6, "optimizer": "sgd", "lr": 1, "momentum": 0.9,
              "weight_decay": 1e-5, "negatives": 0, "seed": 18446744073709551615, "device": "cuda:1",
              "early_stop_patience": 2, "select_by": "hr@20"},
    "eval": {"k": 20, "negatives": 50, "full_ranking": false, "every": 5, "seed": 0}})");
  const ncf::recsys::ExperimentConfig c = ncf::recsys::parse_config(j, kSource);
  CHECK(c.data.format == ncf::recsys::DataFormat::csv);
  CHECK(*c.data.titles == "d/t.csv");
  CHECK(c.data.csv.separator == "\t");
  CHECK(c.data.csv.user == "0");  // a 0-based position, in digits
  CHECK(c.data.csv.item == "1");
  CHECK(c.data.csv.rating.empty());  // null: no rating column
  CHECK(c.data.csv.timestamp == "3");
  CHECK(*c.data.binarize_threshold == 4.0);
  CHECK(c.data.split == ncf::recsys::SplitKind::leave_one_out);
  CHECK(c.data.test_fraction == 0.1);
  CHECK(c.model.layers == std::vector<int64_t>{256, 256, 128, 64});
  REQUIRE(c.model.pretrain.has_value());
  CHECK(c.model.pretrain->alpha == 0.3);
  CHECK(c.train.batch_size == 1000000);  // an integral float is an integer
  CHECK(c.train.lr == 1.0);              // an integer is a number
  CHECK(c.train.seed == 18446744073709551615ull);
  CHECK(c.train.device == "cuda:1");
  CHECK(c.train.select_by.kind == "hr");
  CHECK(c.train.select_by.k == 20);
  CHECK_FALSE(c.eval.full_ranking);
}

TEST_CASE("config: unknown keys, with a suggestion") {
  CHECK(parse_error({{"train", {{"epoch", 10}}}}) ==
        "unknown key \"train.epoch\" in apps/configs/x.json; did you mean \"train.epochs\"?");
  CHECK(parse_error({{"trian", json::object()}}) ==
        "unknown key \"trian\" in apps/configs/x.json; did you mean \"train\"?");
  CHECK(parse_error({{"data", {{"csv", {{"seperator", ";"}}}}}}) ==
        "unknown key \"data.csv.seperator\" in apps/configs/x.json; did you mean \"data.csv.separator\"?");
  // A common alias, and the right key in the wrong section.
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"learning_rate", 0.1}}}}), "did you mean \"train.lr\"?");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"k", 5}}}}), "did you mean \"eval.k\"?");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"pretrain", {{"gmff", "x"}}}}}}), "\"model.pretrain.gmf\"");
  // Nothing close: no suggestion.
  CHECK(parse_error({{"eval", {{"zzzzzzzz", 1}}}}) == "unknown key \"eval.zzzzzzzz\" in apps/configs/x.json");
}

TEST_CASE("config: wrong types name the key, the value and the file") {
  CHECK(parse_error({{"train", {{"epochs", "ten"}}}}) ==
        "apps/configs/x.json: train.epochs must be an integer, got \"ten\"");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"epochs", 2.5}}}}), "train.epochs must be an integer, got 2.5");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"lr", "fast"}}}}), "train.lr must be a number, got \"fast\"");
  CHECK_MESSAGE_HAS(parse_error({{"eval", {{"full_ranking", 1}}}}),
                    "eval.full_ranking must be true or false");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"path", 3}}}}), "data.path must be a string, got 3");
  CHECK_MESSAGE_HAS(parse_error({{"train", 5}}), "train must be an object, got 5");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"layers", "64,32"}}}}),
                    "model.layers must be a non-empty array");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"layers", {64, "x"}}}}}), "model.layers[1] must be an integer");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"csv", {{"user", true}}}}}}),
                    "data.csv.user must be a column name or a 0-based position");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"csv", {{"user", nullptr}}}}}}), "data.csv.user must be");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"seed", -1}}}}), "data.seed must be a non-negative integer");
  CHECK_MESSAGE_HAS(parse_error(json::array()), "must be a JSON object");
}

TEST_CASE("config: out-of-range values") {
  auto check_range = [](const json& j, const std::string& part) {
    const std::string message = parse_error(j);
    INFO("message: " << message);
    CHECK(contains(message, kSource));
    CHECK(contains(message, part));
  };
  check_range({{"train", {{"epochs", 0}}}}, "train.epochs must be >= 1, got 0");
  check_range({{"train", {{"batch_size", -3}}}}, "train.batch_size must be >= 1, got -3");
  check_range({{"train", {{"lr", 0}}}}, "train.lr must be > 0, got 0");
  check_range({{"train", {{"negatives", -1}}}}, "train.negatives must be >= 0");
  check_range({{"train", {{"weight_decay", -0.1}}}}, "train.weight_decay must be >= 0");
  check_range({{"train", {{"optimizer", "sgd"}, {"momentum", 1}}}}, "train.momentum must be in [0, 1)");
  check_range({{"train", {{"early_stop_patience", -1}}}}, "train.early_stop_patience must be >= 0");
  check_range({{"model", {{"dropout", 1.0}}}}, "model.dropout must be in [0, 1), got 1.0");
  check_range({{"model", {{"factors", 0}}}}, "model.factors must be >= 1");
  check_range({{"model", {{"layers", json::array()}}}}, "model.layers must be a non-empty array");
  check_range({{"model", {{"layers", {64, 0}}}}}, "model.layers[1] must be >= 1, got 0");
  check_range({{"model", {{"type", "mlp"}, {"layers", {63, 16}}}}}, "model.layers[0] must be even");
  check_range({{"model", {{"pretrain", {{"gmf", "a"}, {"mlp", "b"}, {"alpha", 1.5}}}}}},
              "model.pretrain.alpha must be in [0, 1], got 1.5");
  check_range({{"data", {{"user_fraction", 0}}}}, "data.user_fraction must be in (0, 1], got 0");
  check_range({{"data", {{"user_fraction", 1.01}}}}, "data.user_fraction must be in (0, 1]");
  check_range({{"data", {{"test_fraction", 1}}}}, "data.test_fraction must be in (0, 1), got 1");
  check_range({{"data", {{"min_user_interactions", -1}}}}, "data.min_user_interactions must be >= 0");
  check_range({{"eval", {{"k", 0}}}}, "eval.k must be >= 1, got 0");
  check_range({{"eval", {{"negatives", -5}}}}, "eval.negatives must be >= 0");
  check_range({{"eval", {{"every", 0}}}}, "eval.every must be >= 1");
  // GMF has no tower input to split, so an odd first layer is fine there.
  CHECK(parse_error({{"model", {{"type", "gmf"}, {"layers", {63}}}}}).empty());
}

TEST_CASE("config: enum values, with a suggestion for near misses") {
  CHECK(parse_error({{"model", {{"type", "nuemf"}}}}) ==
        "apps/configs/x.json: model.type must be one of \"gmf\", \"mlp\", \"neumf\", \"dot\", \"ials\", \"ease\", \"mf\", "
        "\"mlp_regressor\", \"itempop\", got \"nuemf\"; did you mean \"neumf\"?");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"format", "movielens-data"}}}}),
                    "did you mean \"movielens-dat\"?");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"split", "loo"}}}}), "data.split must be one of");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"optimizer", "adamw"}}}}), "did you mean \"adam\"?");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"device", "gpu"}}}}), "train.device must be one of \"auto\"");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"device", "cuda:x"}}}}), "is not cuda:N");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"select_by", "auc"}}}}), "train.select_by must be \"hr@K\" or");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"select_by", "hr@0"}}}}), "train.select_by must be");
  CHECK(ncf::recsys::parse_metric_spec("ndcg@5")->k == 5);
  CHECK_FALSE(ncf::recsys::parse_metric_spec("ndcg@").has_value());
  CHECK_FALSE(ncf::recsys::parse_metric_spec("mrr@10").has_value());
}

TEST_CASE("config: rules that tie keys together") {
  // The NCF files are their own split.
  const auto ncf_config = ncf::recsys::parse_config({{"data", {{"format", "ncf"}, {"path", "p"}}}}, kSource);
  CHECK(ncf_config.data.split == ncf::recsys::SplitKind::given);
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"format", "ncf"}, {"split", "ratio"}}}}),
                    "data.split must be \"given\" for data.format \"ncf\"");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"split", "given"}}}}),
                    "data.split \"given\" needs data.format \"ncf\"");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "gmf"}, {"pretrain", {{"gmf", "a"}, {"mlp", "b"}}}}}}),
                    "model.pretrain is only for model.type \"neumf\"");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"pretrain", {{"gmf", "a"}}}}}}), "model.pretrain.mlp");
  CHECK(parse_error({{"model", {{"pretrain", nullptr}}}}).empty());
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"momentum", 0.9}}}}),
                    "train.momentum applies to train.optimizer \"sgd\" only");
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"format", "csv"}, {"csv", {{"header", false}}}}}}),
                    "data.csv.user is the column name \"userId\" but data.csv.header is false");
  CHECK(
      parse_error(
          {{"data",
            {{"format", "csv"},
             {"csv", {{"header", false}, {"user", 0}, {"item", 1}, {"rating", 2}, {"timestamp", nullptr}}}}}})
          .empty());
}

TEST_CASE("config: rules that would otherwise fail late or report a meaningless number") {
  // A split of the wrong kind for the model.
  CHECK_MESSAGE_HAS(parse_error({{"data", {{"split", "ratio"}}}}),
                    "model.type \"neumf\" ranks implicit feedback and needs data.split \"leave_one_out\"");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "mf"}}}}), "model.type \"mf\" predicts ratings");
  CHECK_MESSAGE_HAS(
      parse_error({{"model", {{"type", "mlp_regressor"}}}, {"data", {{"format", "ncf"}, {"path", "p"}}}}),
      "on format ncf");
  CHECK(parse_error({{"model", {{"type", "mf"}}}, {"data", {{"split", "temporal_ratio"}}}}).empty());
  // The epoch is chosen at the evaluation's cut-off: select_by follows eval.k unless given.
  CHECK(ncf::recsys::parse_config({{"eval", {{"k", 5}}}}, kSource).train.select_by.str() == "ndcg@5");
  CHECK_MESSAGE_HAS(parse_error({{"eval", {{"k", 20}}}, {"train", {{"select_by", "ndcg@10"}}}}),
                    "train.select_by \"ndcg@10\" needs metrics at k = 10, but eval.k is 20");
  // No negatives, or a cut-off that every candidate passes: HR would be 1.0 for any model.
  CHECK_MESSAGE_HAS(parse_error({{"eval", {{"negatives", 0}}}}), "eval.negatives must be >= 1 for ranking");
  CHECK_MESSAGE_HAS(parse_error({{"eval", {{"negatives", 9}}}}),
                    "eval.k (10) must be at most eval.negatives (9)");
  CHECK(parse_error({{"eval", {{"negatives", 10}}}}).empty());
  // Ratings have no ranking cut-off to check.
  CHECK(
      parse_error({{"model", {{"type", "mf"}}}, {"data", {{"split", "ratio"}}}, {"eval", {{"negatives", 0}}}})
          .empty());
}

TEST_CASE("config: a key twice in one object and deep nesting are named errors, not silent or a crash") {
  TempDir dir;
  dir.file("dup.json", "{\n  \"train\": {\"epochs\": 3,\n             \"epochs\": 30}\n}\n");
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::load_config_json(dir.path("dup.json")); }),
                    "dup.json:3:14: key \"epochs\" appears twice in one object (first at 2:13)");
  // The same name in two objects, in an array of objects, or in a comment is fine.
  dir.file("fine.json",
            "{\"data\": {\"seed\": 1}, \"train\": {\"seed\": 2, \"x\": [{\"a\": 1}, {\"a\": 2}]},\n"
            " // \"train\": 1\n \"eval\": {\"k\": \"\\\"k\"}}");
  CHECK(ncf::recsys::load_config_json(dir.path("fine.json"))["eval"]["k"] == "\"k");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  dir.file("deep.json", "{\"train\": " + deep + "}");
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::load_config_json(dir.path("deep.json")); }),
                    "deep.json:1:42: nesting deeper than 32 levels");
  json j = json::object();
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, "train.epochs=" + deep); }),
                    "--set train.epochs=...:1:33: nesting deeper than 32 levels");
  std::string long_key = "train";
  for (int i = 0; i < 40; ++i) long_key += ".x";
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, long_key + "=1"); }),
                    "a key of more than 32 parts");
}

TEST_CASE("config: --set overrides") {
  json j = {{"train", {{"epochs", 20}}}};
  ncf::recsys::apply_override(j, "train.epochs=3");
  ncf::recsys::apply_override(j, "train.lr=1e-2");
  ncf::recsys::apply_override(j, "eval.full_ranking=false");  // a section created on the way
  ncf::recsys::apply_override(j, "model.layers=[128,64]");
  ncf::recsys::apply_override(j, "data.path=datasets/ml-1m/ratings.dat");  // not JSON: a string
  ncf::recsys::apply_override(j, "data.format=\"movielens-dat\"");         // quoted JSON string
  ncf::recsys::apply_override(j, "data.binarize_threshold=null");
  ncf::recsys::apply_override(j, "model.pretrain.alpha=0.25");  // nested, two levels created
  ncf::recsys::apply_override(j, "model.pretrain.gmf=runs/g");
  ncf::recsys::apply_override(j, "model.pretrain.mlp=runs/m");
  ncf::recsys::apply_override(j, "train.device=cpu");
  ncf::recsys::apply_override(j, "data.titles=");  // the empty string
  CHECK(j["train"]["epochs"] == 3);
  CHECK(j["eval"]["full_ranking"] == false);
  CHECK(j["data"]["titles"] == "");
  const ncf::recsys::ExperimentConfig c = ncf::recsys::parse_config(j, kSource);
  CHECK(c.train.epochs == 3);
  CHECK(c.train.lr == doctest::Approx(0.01));
  CHECK_FALSE(c.eval.full_ranking);
  CHECK(c.model.layers == std::vector<int64_t>{128, 64});
  CHECK(c.data.path == "datasets/ml-1m/ratings.dat");
  CHECK(c.data.format == ncf::recsys::DataFormat::movielens_dat);
  CHECK_FALSE(c.data.titles.has_value());
  CHECK(c.model.pretrain->alpha == 0.25);
  CHECK(c.model.pretrain->gmf == "runs/g");
  CHECK(c.train.device == "cpu");

  // Malformed assignments.
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, "train.epochs"); }),
                    "--set expects KEY=VALUE");
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, "=3"); }),
                    "--set expects KEY=VALUE");
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, "train..lr=3"); }), "empty part");
  CHECK_MESSAGE_HAS(config_error_of([&] { ncf::recsys::apply_override(j, "train.epochs.x=3"); }),
                    "train.epochs is 3, not an object");

  // Errors in overridden keys are blamed on the --set, not on the file.
  json k = json::object();
  const std::vector<std::string> sets = {"train.epochs=ten", "train.epoch=3"};
  ncf::recsys::apply_override(k, sets[0]);
  CHECK(parse_error(k, {sets[0]}) == "--set train.epochs=ten: train.epochs must be an integer, got \"ten\"");
  json u = json::object();
  ncf::recsys::apply_override(u, sets[1]);
  CHECK(parse_error(u, {sets[1]}) ==
        "unknown key \"train.epoch\" in --set train.epoch=3; did you mean \"train.epochs\"?");
}

TEST_CASE("config: to_json holds every key and round-trips") {
  const json defaults = ncf::recsys::to_json(ncf::recsys::parse_config(json::object(), kSource));
  for (const char* section : {"data", "model", "train", "eval"}) CHECK(defaults.contains(section));
  CHECK(defaults["data"].size() == 14);
  CHECK(defaults["data"]["csv"].size() == 6);
  CHECK(defaults["model"].size() == 9);
  CHECK(defaults["model"]["ials"].size() == 3);
  CHECK(defaults["model"]["init_std"].is_null());
  CHECK(defaults["train"].size() == 13);
  CHECK(defaults["train"]["shuffle"] == "auto");
  CHECK(defaults["eval"].size() == 5);
  CHECK(defaults["data"]["titles"].is_null());
  CHECK(defaults["model"]["pretrain"].is_null());
  CHECK(defaults["train"]["select_by"] == "ndcg@10");
  CHECK(ncf::recsys::to_json(ncf::recsys::parse_config(defaults, kSource)) == defaults);

  json custom = defaults;
  custom["data"]["format"] = "csv";
  custom["data"]["csv"] = {{"separator", ";"}, {"header", false},   {"user", 2},
                           {"item", 0},        {"rating", nullptr}, {"timestamp", 1}};
  custom["data"]["titles"] = "t.csv";
  custom["data"]["binarize_threshold"] = 3.5;
  custom["model"]["pretrain"] = {{"gmf", "a"}, {"mlp", "b"}, {"alpha", 0.7}};
  custom["train"]["seed"] = 18446744073709551615ull;
  custom["train"]["select_by"] = "hr@5";
  custom["eval"]["k"] = 5;
  const ncf::recsys::ExperimentConfig c = ncf::recsys::parse_config(custom, kSource);
  CHECK(ncf::recsys::to_json(c) == custom);
}

TEST_CASE("config: files are checked against the project root") {
  TempDir root;
  root.file("datasets/ml-100k/u.data", "x");
  root.file("datasets/ml-100k/u.item", "x");
  auto config = [&](const json& j) { return ncf::recsys::parse_config(j, kSource); };
  auto files_error = [&](const json& j) {
    return config_error_of([&] { ncf::recsys::check_config_files(config(j), root.dir()); });
  };

  CHECK(files_error({{"data", {{"titles", "datasets/ml-100k/u.item"}}}}).empty());
  CHECK(ncf::recsys::resolve_path("datasets/x", root.dir()) == root.dir() + "/datasets/x");
  CHECK(ncf::recsys::resolve_path("/abs/x", root.dir()) == "/abs/x");
  CHECK(ncf::recsys::resolve_path("x", root.dir() + "/") == root.dir() + "/x");

  const std::string missing_data = files_error({{"data", {{"path", "datasets/ml-1m/ratings.dat"}}}});
  CHECK_MESSAGE_HAS(missing_data, "apps/configs/x.json: data.path \"datasets/ml-1m/ratings.dat\"");
  CHECK_MESSAGE_HAS(missing_data, root.dir() + "/datasets/ml-1m/ratings.dat not found");
  CHECK_MESSAGE_HAS(missing_data, "make data NAME=ml-1m");
  CHECK_MESSAGE_HAS(files_error({{"data", {{"titles", "nope.item"}}}}), "data.titles \"nope.item\"");

  // Absolute paths are used as they are.
  CHECK(files_error({{"data", {{"path", root.path("datasets/ml-100k/u.data")}}}}).empty());

  // Format ncf: a prefix naming three files.
  const json ncf_json = {{"data", {{"format", "ncf"}, {"path", "datasets/ncf/ml-1m"}}}};
  root.file("datasets/ncf/ml-1m.train.rating", "x");
  root.file("datasets/ncf/ml-1m.test.rating", "x");
  CHECK_MESSAGE_HAS(files_error(ncf_json), "ml-1m.test.negative not found");
  root.file("datasets/ncf/ml-1m.test.negative", "x");
  CHECK(files_error(ncf_json).empty());

  // Pretrain run folders must exist and hold a checkpoint.
  const json pre = {{"model", {{"pretrain", {{"gmf", "runs/gmf"}, {"mlp", "runs/mlp"}}}}}};
  CHECK_MESSAGE_HAS(files_error(pre), "model.pretrain.gmf \"runs/gmf\": run folder");
  root.file("runs/gmf/model.safetensors", "x");
  (void)::mkdir(root.path("runs/mlp").c_str(), 0755);
  CHECK_MESSAGE_HAS(files_error(pre), "model.pretrain.mlp \"runs/mlp\": run folder has no checkpoint");
  root.file("runs/mlp/model.safetensors", "x");
  CHECK(files_error(pre).empty());
}

TEST_CASE("config: load_config_json and load_experiment_config") {
  TempDir root;
  root.file("datasets/ml-100k/u.data", "x");
  root.file("c.json", "{\n  // comments are allowed\n  \"train\": {\"epochs\": 2}\n}\n");
  CHECK(ncf::recsys::load_config_json(root.path("c.json"))["train"]["epochs"] == 2);

  const auto c =
      ncf::recsys::load_experiment_config(root.path("c.json"), {"train.epochs=5", "eval.k=20"}, root.dir());
  CHECK(c.train.epochs == 5);
  CHECK(c.eval.k == 20);
  CHECK(c.source == root.path("c.json"));

  root.file("bad.json", "{\n  \"train\": {\"epochs\": 2,}\n}\n");
  const std::string bad =
      config_error_of([&] { (void)ncf::recsys::load_config_json(root.path("bad.json")); });
  CHECK_MESSAGE_HAS(bad, root.path("bad.json") + ":2:");
  CHECK_MESSAGE_HAS(bad, "invalid JSON");
  CHECK_MESSAGE_HAS(config_error_of([&] { (void)ncf::recsys::load_config_json(root.path("none.json")); }),
                    "config file " + root.path("none.json") + " not found");

  root.file("typo.json", R"({"train": {"epoch": 3}})");
  CHECK(config_error_of(
            [&] { (void)ncf::recsys::load_experiment_config(root.path("typo.json"), {}, root.dir()); }) ==
        "unknown key \"train.epoch\" in " + root.path("typo.json") + "; did you mean \"train.epochs\"?");
}

TEST_CASE("edit_distance") {
  CHECK(ncf::recsys::edit_distance("", "") == 0);
  CHECK(ncf::recsys::edit_distance("epoch", "epochs") == 1);
  CHECK(ncf::recsys::edit_distance("kitten", "sitting") == 3);
  CHECK(ncf::recsys::edit_distance("abc", "") == 3);
  CHECK(ncf::recsys::edit_distance("trian", "train") == 1);  // a transposition is one edit
}

TEST_CASE("config: the baselines' keys and their cross-key rules") {
  const ncf::recsys::ExperimentConfig c = ncf::recsys::parse_config(
      {{"model", {{"type", "ials"}, {"factors", 64}, {"ials", {{"unobserved_weight", 0.2}, {"regularization", 0.01},
                                                               {"frequency_exponent", 1.0}}}}},
       {"train", {{"epochs", 16}}}},
      kSource);
  CHECK(c.model.type == ncf::recsys::ModelType::ials);
  CHECK(c.model.ials.unobserved_weight == 0.2);
  CHECK(c.model.ials.regularization == 0.01);
  CHECK(c.model.ials.frequency_exponent == 1.0);
  const ncf::recsys::ExperimentConfig dot = ncf::recsys::parse_config(
      {{"model", {{"type", "dot"}, {"init_std", 0.1}}}, {"train", {{"loss", "bpr"}, {"negatives", 1}}}}, kSource);
  CHECK(dot.model.init_std == 0.1);
  CHECK(dot.train.loss == ncf::recsys::TrainLoss::bpr);
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "ease"}}}, {"train", {{"epochs", 3}}}}),
                    "train.epochs must be 1, got 3");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "ials"}}}, {"train", {{"loss", "bpr"}}}}),
                    "train.loss \"bpr\" trains a ranking model by gradient");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "dot"}}}, {"train", {{"loss", "bpr"}, {"negatives", 0}}}}),
                    "train.negatives must be >= 1");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"ials", {{"unobserved_weight", -1}}}}}}), "model.ials.unobserved_weight");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"ease_lambda", 0}}}}), "model.ease_lambda");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"loss", "hinge"}}}}), "train.loss");
  // train.shuffle: groups for the models trained on sampled negatives; BPR keeps its groups.
  CHECK(ncf::recsys::parse_config({{"train", {{"shuffle", "groups"}}}}, kSource).train.shuffle ==
        ncf::recsys::ShuffleChoice::groups);
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"loss", "bpr"}, {"shuffle", "rows"}}}}),
                    "train.shuffle must be \"groups\" or \"auto\", not \"rows\"");
  CHECK_MESSAGE_HAS(parse_error({{"model", {{"type", "ials"}}}, {"train", {{"shuffle", "groups"}}}}),
                    "train.shuffle \"groups\" applies to models trained on sampled negatives");
  CHECK_MESSAGE_HAS(parse_error({{"train", {{"shuffle", "blocks"}}}}), "train.shuffle");
}
