// Experiment config: JSON -> typed structs with validation, --set overrides, and back to JSON.
#include "recsys/config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "base/files.h"
#include "base/parse.h"

namespace ncf::recsys {

const EnumNames<ModelType>& enum_names(ModelType) {
  static const EnumNames<ModelType> names = {{ModelType::gmf, "gmf"},
                                             {ModelType::mlp, "mlp"},
                                             {ModelType::neumf, "neumf"},
                                             {ModelType::dot, "dot"},
                                             {ModelType::ials, "ials"},
                                             {ModelType::ease, "ease"},
                                             {ModelType::mf, "mf"},
                                             {ModelType::mlp_regressor, "mlp_regressor"},
                                             {ModelType::itempop, "itempop"}};
  return names;
}

const EnumNames<TrainLoss>& enum_names(TrainLoss) {
  static const EnumNames<TrainLoss> names = {{TrainLoss::bce, "bce"}, {TrainLoss::bpr, "bpr"}};
  return names;
}

const EnumNames<ShuffleChoice>& enum_names(ShuffleChoice) {
  static const EnumNames<ShuffleChoice> names = {
      {ShuffleChoice::automatic, "auto"}, {ShuffleChoice::rows, "rows"}, {ShuffleChoice::groups, "groups"}};
  return names;
}

const EnumNames<OptimizerKind>& enum_names(OptimizerKind) {
  static const EnumNames<OptimizerKind> names = {
      {OptimizerKind::adam, "adam"}, {OptimizerKind::lazy_adam, "lazy_adam"}, {OptimizerKind::sgd, "sgd"}};
  return names;
}

namespace {

using json = nlohmann::json;

const std::vector<std::string> kDevices = {"auto", "cpu", "cuda"};

// Alternative spellings people reach for, mapped to our key (same section).
const std::map<std::string, std::string> kAliases = {{"learning_rate", "lr"},
                                                     {"num_epochs", "epochs"},
                                                     {"n_epochs", "epochs"},
                                                     {"batchsize", "batch_size"},
                                                     {"num_negatives", "negatives"},
                                                     {"num_neg", "negatives"},
                                                     {"num_factors", "factors"},
                                                     {"embedding_dim", "factors"},
                                                     {"topk", "k"},
                                                     {"top_k", "k"},
                                                     {"reg", "weight_decay"},
                                                     {"l2", "weight_decay"},
                                                     {"model", "type"},
                                                     {"optim", "optimizer"},
                                                     {"optimiser", "optimizer"},
                                                     {"patience", "early_stop_patience"}};

std::string short_dump(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", \"" : "\"") + names[i] + "\"";
  return out;
}

// The closest of `candidates` to `word` within a distance that still looks like a typo, or "".
std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3));
  std::string best;
  size_t best_distance = limit + 1;
  size_t best_prefix = 0;
  for (const auto& c : candidates) {
    // Ties go to the longer common prefix: "movielens-data" is nearer "movielens-dat" than "-udata".
    const size_t d = edit_distance(word, c);
    size_t prefix = 0;
    while (prefix < word.size() && prefix < c.size() && word[prefix] == c[prefix]) ++prefix;
    if (d < best_distance || (d == best_distance && d <= limit && prefix > best_prefix)) {
      best_distance = d, best = c, best_prefix = prefix;
    }
  }
  return best;
}

// Every key path the schema knows, with whether it holds an object: the flattened default config (with
// the optional parts filled in so their keys appear too). Derived, so it never drifts from to_json.
const std::map<std::string, bool>& known_paths() {
  static const std::map<std::string, bool> paths = [] {
    ExperimentConfig full;
    full.data.titles = "";
    full.data.binarize_threshold = 0.0;
    full.model.pretrain = PretrainConfig{};
    full.model.init_std = 0.0;
    std::map<std::string, bool> out;
    std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                    const std::string& prefix) {
      for (const auto& [key, value] : j.items()) {
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        out[path] = value.is_object();
        if (value.is_object()) walk(value, path);
      }
    };
    walk(to_json(full), "");
    return out;
  }();
  return paths;
}

std::string parent_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}
std::string leaf_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

// Reads one config, remembering where it came from for every error.
class Parser {
 public:
  Parser(std::string source, const std::vector<std::string>& overrides) : source_(std::move(source)) {
    for (const auto& assignment : overrides) {
      const size_t eq = assignment.find('=');
      overrides_.emplace_back(assignment.substr(0, eq), assignment);
    }
  }

  // The origin of `key`: the last --set that wrote it (or an object holding it), else the config file.
  std::string origin(const std::string& key) const {
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      const std::string& o = it->first;
      if (key == o || key.rfind(o + ".", 0) == 0 || o.rfind(key + ".", 0) == 0) return "--set " + it->second;
    }
    return source_;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw ConfigError(origin(key) + ": " + message);
  }

  // Unknown keys anywhere in the tree, with a suggestion; run before the typed reads.
  void check_unknown_keys(const json& j, const std::string& prefix) const {
    const auto& known = known_paths();
    for (const auto& [key, value] : j.items()) {
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      auto it = known.find(path);
      if (it == known.end()) {
        std::string message = "unknown key \"" + path + "\" in " + origin(path);
        const std::string suggestion = suggest(path);
        if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
        throw ConfigError(message);
      }
      if (it->second && value.is_object()) check_unknown_keys(value, path);
    }
  }

  // ---- typed reads: each returns the value at obj[key] (full path `path`), or the default when absent.
  const json* find(const json& obj, const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  const json& section(const json& parent, const std::string& key, const std::string& path) const {
    static const json kEmpty = json::object();
    const json* v = find(parent, key);
    if (!v) return kEmpty;
    if (!v->is_object()) fail(path, path + " must be an object, got " + short_dump(*v));
    return *v;
  }

  int64_t get_int(const json& obj, const std::string& key, const std::string& path, int64_t fallback,
                  int64_t min_value) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    const int64_t value = as_int(*v, path);
    if (value < min_value)
      fail(path, path + " must be >= " + std::to_string(min_value) + ", got " + v->dump());
    return value;
  }

  int64_t as_int(const json& v, const std::string& path) const {
    // Integral floats (1e6, 3.0) are accepted: JSON writers and --set produce them.
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(path, path + " is too large, got " + v.dump());
      return v.get<int64_t>();
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) return static_cast<int64_t>(d);
    }
    fail(path, path + " must be an integer, got " + short_dump(v));
  }

  uint64_t get_seed(const json& obj, const std::string& key, const std::string& path,
                    uint64_t fallback) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    const int64_t value = as_int(*v, path);
    if (value < 0) fail(path, path + " must be a non-negative integer, got " + v->dump());
    return static_cast<uint64_t>(value);
  }

  double as_double(const json& v, const std::string& path) const {
    if (!v.is_number()) fail(path, path + " must be a number, got " + short_dump(v));
    return v.get<double>();
  }

  // A number in a range; `low_open`/`high_open` say whether the ends are excluded (printed as ( or ]).
  double get_double(const json& obj, const std::string& key, const std::string& path, double fallback,
                    double low, bool low_open, double high, bool high_open) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    const double value = as_double(*v, path);
    const bool ok = std::isfinite(value) && (low_open ? value > low : value >= low) &&
                    (high_open ? value < high : value <= high);
    if (!ok) {
      std::ostringstream range;
      if (std::isinf(high)) {
        range << (low_open ? "> " : ">= ") << low;
      } else {
        range << "in " << (low_open ? "(" : "[") << low << ", " << high << (high_open ? ")" : "]");
      }
      fail(path, path + " must be " + range.str() + ", got " + v->dump());
    }
    return value;
  }

  bool get_bool(const json& obj, const std::string& key, const std::string& path, bool fallback) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(path, path + " must be true or false, got " + short_dump(*v));
    return v->get<bool>();
  }

  std::string as_string(const json& v, const std::string& path) const {
    if (!v.is_string()) fail(path, path + " must be a string, got " + short_dump(v));
    return v.get<std::string>();
  }

  std::string get_string(const json& obj, const std::string& key, const std::string& path,
                         const std::string& fallback) const {
    const json* v = find(obj, key);
    return v ? as_string(*v, path) : fallback;
  }

  std::string get_choice(const json& obj, const std::string& key, const std::string& path,
                         const std::string& fallback, const std::vector<std::string>& choices) const {
    const std::string value = get_string(obj, key, path, fallback);
    if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
      std::string message = path + " must be one of " + quoted_list(choices) + ", got \"" + value + "\"";
      const std::string suggestion = closest(value, choices);
      if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
      fail(path, message);
    }
    return value;
  }

  template <class E>
  E get_enum(const json& obj, const std::string& key, const std::string& path, E fallback) const {
    return *from_string<E>(get_choice(obj, key, path, to_string(fallback), all_names<E>()));
  }

  // A column of a delimited file as the readers take it (data/config.h): a header name, a 0-based
  // position in digits, or "" for an absent column (only when `nullable`: rating and timestamp).
  std::string get_column(const json& obj, const std::string& key, const std::string& path,
                         const std::string& fallback, bool nullable) const {
    const json* v = find(obj, key);
    if (!v) return fallback;
    if (v->is_null() && nullable) return "";
    if (v->is_string() && !v->get<std::string>().empty()) return v->get<std::string>();
    if (v->is_number()) {
      const int64_t index = as_int(*v, path);
      if (index < 0) fail(path, path + " must be a column name or a 0-based position, got " + v->dump());
      return std::to_string(index);
    }
    fail(path, path + " must be a column name or a 0-based position" +
                   std::string(nullable ? " or null" : "") + ", got " + short_dump(*v));
  }

 private:
  std::string suggest(const std::string& path) const {
    const auto& known = known_paths();
    const std::string parent = parent_of(path), leaf = leaf_of(path);
    std::vector<std::string> siblings;
    for (const auto& [p, is_object] : known)
      if (parent_of(p) == parent) siblings.push_back(leaf_of(p));
    auto alias = kAliases.find(leaf);
    if (alias != kAliases.end() &&
        std::find(siblings.begin(), siblings.end(), alias->second) != siblings.end()) {
      return parent.empty() ? alias->second : parent + "." + alias->second;
    }
    const std::string near = closest(leaf, siblings);
    if (!near.empty()) return parent.empty() ? near : parent + "." + near;
    // The right key in the wrong section ("train.k" -> "eval.k").
    for (const auto& [p, is_object] : known)
      if (leaf_of(p) == leaf) return p;
    return "";
  }

  std::string source_;
  std::vector<std::pair<std::string, std::string>> overrides_;  // (key path, "key=value")
};

std::string optional_string(const Parser& p, const json& obj, const std::string& key, const std::string& path,
                            bool* present) {
  const json* v = p.find(obj, key);
  *present = v && !v->is_null();
  return *present ? p.as_string(*v, path) : "";
}

DataConfig parse_data(const Parser& p, const json& d) {
  DataConfig c;
  c.format = p.get_enum(d, "format", "data.format", c.format);
  c.path = p.get_string(d, "path", "data.path", c.path);
  if (c.path.empty()) p.fail("data.path", "data.path must not be empty");
  bool has_titles = false;
  const std::string titles = optional_string(p, d, "titles", "data.titles", &has_titles);
  if (has_titles && !titles.empty()) c.titles = titles;
  bool has_test_path = false;
  const std::string test_path = optional_string(p, d, "test_path", "data.test_path", &has_test_path);
  if (has_test_path && !test_path.empty()) c.test_path = test_path;

  const json& csv = p.section(d, "csv", "data.csv");
  c.csv.separator = p.get_string(csv, "separator", "data.csv.separator", c.csv.separator);
  if (c.csv.separator.empty()) p.fail("data.csv.separator", "data.csv.separator must not be empty");
  c.csv.header = p.get_bool(csv, "header", "data.csv.header", c.csv.header);
  c.csv.user = p.get_column(csv, "user", "data.csv.user", c.csv.user, false);
  c.csv.item = p.get_column(csv, "item", "data.csv.item", c.csv.item, false);
  c.csv.rating = p.get_column(csv, "rating", "data.csv.rating", c.csv.rating, true);
  c.csv.timestamp = p.get_column(csv, "timestamp", "data.csv.timestamp", c.csv.timestamp, true);
  if (c.format == DataFormat::csv && !c.csv.header) {
    // Without a header line there are no names to look columns up by.
    const std::pair<const char*, const std::string*> columns[] = {{"user", &c.csv.user},
                                                                  {"item", &c.csv.item},
                                                                  {"rating", &c.csv.rating},
                                                                  {"timestamp", &c.csv.timestamp}};
    for (const auto& [name, column] : columns) {
      if (!column->empty() && column->find_first_not_of("0123456789") != std::string::npos) {
        const std::string path = std::string("data.csv.") + name;
        p.fail(path, path + " is the column name \"" + *column +
                         "\" but data.csv.header is false; give its 0-based position");
      }
    }
  }

  if (const json* v = p.find(d, "binarize_threshold"); v && !v->is_null()) {
    const double t = p.as_double(*v, "data.binarize_threshold");
    if (!std::isfinite(t)) p.fail("data.binarize_threshold", "data.binarize_threshold must be finite");
    c.binarize_threshold = t;
  }
  c.min_user_interactions = p.get_int(d, "min_user_interactions", "data.min_user_interactions", 0, 0);
  c.min_item_interactions = p.get_int(d, "min_item_interactions", "data.min_item_interactions", 0, 0);
  c.user_fraction =
      p.get_double(d, "user_fraction", "data.user_fraction", c.user_fraction, 0, true, 1, false);

  // The NCF files carry their own split; any other split of them would be meaningless.
  const bool split_given_explicitly = p.find(d, "split") != nullptr;
  c.split = p.get_enum(d, "split", "data.split",
                       c.format == DataFormat::ncf ? SplitKind::given : SplitKind::leave_one_out);
  if (c.format == DataFormat::ncf && c.split != SplitKind::given && split_given_explicitly)
    p.fail("data.split", std::string("data.split must be \"given\" for data.format \"ncf\" (its .train/.test "
                                     "files are the split), got \"") +
                             to_string(c.split) + "\"");
  if (c.format != DataFormat::ncf && c.split == SplitKind::given && !c.test_path)
    p.fail("data.split",
           std::string("data.split \"given\" needs data.format \"ncf\" or a data.test_path (e.g. "
                       "u1.base with u1.test), got format \"") +
               to_string(c.format) + "\" and no test_path");
  if (c.test_path && c.split != SplitKind::given)
    p.fail("data.test_path", std::string("data.test_path is only read with data.split \"given\", got \"") +
                                 to_string(c.split) + "\"");
  c.test_fraction = p.get_double(d, "test_fraction", "data.test_fraction", c.test_fraction, 0, true, 1, true);
  c.validation = p.get_bool(d, "validation", "data.validation", c.validation);
  c.drop_cold_test_users =
      p.get_bool(d, "drop_cold_test_users", "data.drop_cold_test_users", c.drop_cold_test_users);
  c.seed = p.get_seed(d, "seed", "data.seed", c.seed);
  return c;
}

ModelConfig parse_model(const Parser& p, const json& m) {
  ModelConfig c;
  c.type = p.get_enum(m, "type", "model.type", c.type);
  c.factors = p.get_int(m, "factors", "model.factors", c.factors, 1);
  if (const json* v = p.find(m, "layers")) {
    if (!v->is_array() || v->empty())
      p.fail("model.layers",
             "model.layers must be a non-empty array of positive integers, got " + short_dump(*v));
    c.layers.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string path = "model.layers[" + std::to_string(i) + "]";
      const int64_t width = p.as_int((*v)[i], path);
      if (width < 1) p.fail("model.layers", path + " must be >= 1, got " + (*v)[i].dump());
      c.layers.push_back(width);
    }
  }
  // MLP-style models concatenate a user and an item embedding of layers[0]/2 each.
  const bool concatenates =
      c.type == ModelType::mlp || c.type == ModelType::neumf || c.type == ModelType::mlp_regressor;
  if (concatenates && c.layers[0] % 2 != 0)
    p.fail("model.layers", "model.layers[0] must be even for model.type \"" + std::string(to_string(c.type)) +
                               "\" (user and item embeddings are layers[0]/2 each), got " +
                               std::to_string(c.layers[0]));
  c.dropout = p.get_double(m, "dropout", "model.dropout", c.dropout, 0, false, 1, true);
  c.l2 = p.get_double(m, "l2", "model.l2", c.l2, 0, false, 1e9, false);
  if (const json* v = p.find(m, "init_std"); v && !v->is_null())
    c.init_std = p.get_double(m, "init_std", "model.init_std", 0.0, 0, false, 1e3, false);
  const json& ials = p.section(m, "ials", "model.ials");
  const double inf = std::numeric_limits<double>::infinity();
  c.ials.unobserved_weight = p.get_double(ials, "unobserved_weight", "model.ials.unobserved_weight",
                                          c.ials.unobserved_weight, 0, false, inf, false);
  c.ials.regularization = p.get_double(ials, "regularization", "model.ials.regularization",
                                       c.ials.regularization, 0, false, inf, false);
  c.ials.frequency_exponent = p.get_double(ials, "frequency_exponent", "model.ials.frequency_exponent",
                                           c.ials.frequency_exponent, -10, false, 10, false);
  c.ease_lambda = p.get_double(m, "ease_lambda", "model.ease_lambda", c.ease_lambda, 0, true, inf, false);

  if (const json* v = p.find(m, "pretrain"); v && !v->is_null()) {
    const json& pre = p.section(m, "pretrain", "model.pretrain");
    if (c.type != ModelType::neumf)
      p.fail("model.pretrain", std::string("model.pretrain is only for model.type \"neumf\", got \"") +
                                   to_string(c.type) + "\"");
    PretrainConfig pc;
    pc.gmf = p.get_string(pre, "gmf", "model.pretrain.gmf", "");
    pc.mlp = p.get_string(pre, "mlp", "model.pretrain.mlp", "");
    if (pc.gmf.empty())
      p.fail("model.pretrain.gmf", "model.pretrain.gmf (the run folder of a trained GMF) is required");
    if (pc.mlp.empty())
      p.fail("model.pretrain.mlp", "model.pretrain.mlp (the run folder of a trained MLP) is required");
    pc.alpha = p.get_double(pre, "alpha", "model.pretrain.alpha", pc.alpha, 0, false, 1, false);
    c.pretrain = pc;
  }
  return c;
}

TrainConfig parse_train(const Parser& p, const json& t) {
  TrainConfig c;
  const double inf = std::numeric_limits<double>::infinity();
  c.epochs = p.get_int(t, "epochs", "train.epochs", c.epochs, 1);
  c.batch_size = p.get_int(t, "batch_size", "train.batch_size", c.batch_size, 1);
  c.loss = p.get_enum(t, "loss", "train.loss", c.loss);
  c.shuffle = p.get_enum(t, "shuffle", "train.shuffle", c.shuffle);
  c.optimizer = p.get_enum(t, "optimizer", "train.optimizer", c.optimizer);
  c.lr = p.get_double(t, "lr", "train.lr", c.lr, 0, true, inf, false);
  c.momentum = p.get_double(t, "momentum", "train.momentum", c.momentum, 0, false, 1, true);
  if (c.momentum != 0 && c.optimizer != OptimizerKind::sgd)
    p.fail("train.momentum", std::string("train.momentum applies to train.optimizer \"sgd\" only, got \"") +
                                 to_string(c.optimizer) + "\"");
  c.weight_decay =
      p.get_double(t, "weight_decay", "train.weight_decay", c.weight_decay, 0, false, inf, false);
  c.negatives = p.get_int(t, "negatives", "train.negatives", c.negatives, 0);
  c.seed = p.get_seed(t, "seed", "train.seed", c.seed);
  if (const json* v = p.find(t, "device");
      v && v->is_string() && v->get<std::string>().rfind("cuda:", 0) == 0) {
    // "cuda:N" picks a GPU by index.
    const std::string index = v->get<std::string>().substr(5);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
      p.fail("train.device", "train.device \"" + v->get<std::string>() + "\" is not cuda:N");
    c.device = v->get<std::string>();
  } else {
    c.device = p.get_choice(t, "device", "train.device", c.device, kDevices);
  }
  c.early_stop_patience = p.get_int(t, "early_stop_patience", "train.early_stop_patience", 0, 0);
  if (const json* v = p.find(t, "select_by")) {
    const std::string text = p.as_string(*v, "train.select_by");
    auto spec = parse_metric_spec(text);
    if (!spec)
      p.fail("train.select_by",
             "train.select_by must be \"hr@K\" or \"ndcg@K\" with K >= 1, got \"" + text + "\"");
    c.select_by = *spec;
  }
  return c;
}

EvalConfig parse_eval(const Parser& p, const json& e) {
  EvalConfig c;
  c.k = p.get_int(e, "k", "eval.k", c.k, 1);
  c.negatives = p.get_int(e, "negatives", "eval.negatives", c.negatives, 0);
  c.full_ranking = p.get_bool(e, "full_ranking", "eval.full_ranking", c.full_ranking);
  c.every = p.get_int(e, "every", "eval.every", c.every, 1);
  c.seed = p.get_seed(e, "seed", "eval.seed", c.seed);
  return c;
}

// " (run `make data NAME=ml-100k`)" for paths under datasets/, the folder `make data` fills.
std::string data_hint(const std::string& path) {
  const std::string prefix = "datasets/";
  if (path.rfind(prefix, 0) != 0) return "";
  const std::string name = path.substr(prefix.size(), path.find('/', prefix.size()) - prefix.size());
  return name.empty() ? "" : " (run `make data NAME=" + name + "`)";
}

// Walks JSON text once before the JSON parser sees it, for what the parser lets through: a key given
// twice in one object (parsers keep the last one silently, hiding a typo's twin) and nesting deeper
// than kMaxDepth (a deeply nested value exhausts the stack of anything that reads it recursively,
// error messages included). Comments are skipped as the parser skips them; anything else malformed is
// left to the parser, which names its position. `where` starts every message ("file" or "--set x=").
constexpr int kMaxDepth = 32;

void check_json_structure(const std::string& text, const std::string& where) {
  struct Frame {
    bool object;
    bool expect_key;
    std::map<std::string, std::pair<size_t, size_t>> keys;  // key -> (line, column) of its first use
  };
  std::vector<Frame> stack;
  size_t line = 1, column = 1;
  auto position = [&](size_t l, size_t c) { return std::to_string(l) + ":" + std::to_string(c); };
  auto advance = [&](size_t& i) {
    if (text[i] == '\n') {
      ++line, column = 1;
    } else {
      ++column;
    }
    ++i;
  };
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      const bool block = text[i + 1] == '*';
      advance(i), advance(i);
      while (i < text.size() && !(block ? text.compare(i, 2, "*/") == 0 : text[i] == '\n')) advance(i);
      if (block && i < text.size()) advance(i), advance(i);
      continue;
    }
    if (c == '"') {
      const size_t key_line = line, key_column = column;
      std::string token;
      advance(i);
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) token += text[i], advance(i);
        token += text[i];
        advance(i);
      }
      if (i < text.size()) advance(i);
      if (!stack.empty() && stack.back().object && stack.back().expect_key) {
        Frame& frame = stack.back();
        frame.expect_key = false;
        const auto [it, fresh] = frame.keys.emplace(token, std::make_pair(key_line, key_column));
        if (!fresh)
          throw ConfigError(where + ":" + position(key_line, key_column) + ": key \"" + token +
                            "\" appears twice in one object (first at " +
                            position(it->second.first, it->second.second) + "); keep one");
      }
      continue;
    }
    if (c == '{' || c == '[') {
      if (static_cast<int>(stack.size()) >= kMaxDepth)
        throw ConfigError(where + ":" + position(line, column) + ": nesting deeper than " +
                          std::to_string(kMaxDepth) + " levels; a config is a few levels deep");
      stack.push_back({c == '{', c == '{', {}});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ',' && !stack.empty() && stack.back().object) {
      stack.back().expect_key = true;
    }
    advance(i);
  }
}

// The rules that tie keys of different sections together, checked before any work starts, so that a
// run never fails (or reports a meaningless number) after its folder exists.
void check_cross_keys(const Parser& p, const json& j, ExperimentConfig& c) {
  const bool is_explicit = c.model.type == ModelType::mf || c.model.type == ModelType::mlp_regressor;
  const std::string model = to_string(c.model.type);
  if (is_explicit && (c.data.split == SplitKind::leave_one_out || c.data.format == DataFormat::ncf))
    p.fail("data.split", "model.type \"" + model +
                             "\" predicts ratings and needs data.split \"ratio\", "
                             "\"temporal_ratio\" or \"given\" with a data.test_path, got data.split \"" +
                             to_string(c.data.split) + "\"" +
                             (c.data.format == DataFormat::ncf ? " on format ncf" : ""));
  if (!is_explicit && c.data.format != DataFormat::ncf && c.data.split != SplitKind::leave_one_out)
    p.fail("data.split", "model.type \"" + model +
                             "\" ranks implicit feedback and needs data.split "
                             "\"leave_one_out\" (or the split of format ncf), got \"" +
                             std::string(to_string(c.data.split)) + "\"");
  const bool closed_form = c.model.type == ModelType::ials || c.model.type == ModelType::ease;
  if (c.model.type == ModelType::ease && c.train.epochs != 1)
    p.fail("train.epochs", "model.type \"ease\" is solved in closed form, in one step: train.epochs must be 1, got " +
                               std::to_string(c.train.epochs));
  if (c.train.shuffle != ShuffleChoice::automatic &&
      (is_explicit || closed_form || c.model.type == ModelType::itempop))
    p.fail("train.shuffle", "train.shuffle \"" + std::string(to_string(c.train.shuffle)) +
                                "\" applies to models trained on sampled negatives (gmf, mlp, neumf, dot), not \"" +
                                model + "\"; leave it \"auto\"");
  if (c.train.loss == TrainLoss::bpr && c.train.shuffle == ShuffleChoice::rows)
    p.fail("train.shuffle", "train.loss \"bpr\" compares each positive with its own negatives, so its rows stay in "
                            "groups: train.shuffle must be \"groups\" or \"auto\", not \"rows\"");
  if (c.train.loss == TrainLoss::bpr) {
    if (is_explicit || closed_form || c.model.type == ModelType::itempop)
      p.fail("train.loss", "train.loss \"bpr\" trains a ranking model by gradient (gmf, mlp, neumf, dot), not \"" +
                               model + "\"");
    if (c.train.negatives < 1)
      p.fail("train.loss", "train.loss \"bpr\" pairs each positive with its negatives: train.negatives must be >= 1");
  }
  // Metrics are computed at eval.k only, so the epoch is chosen at that cut-off.
  const bool select_by_given =
      j.contains("train") && j["train"].is_object() && j["train"].contains("select_by");
  if (!select_by_given) c.train.select_by.k = c.eval.k;
  if (c.train.select_by.k != c.eval.k)
    p.fail("train.select_by", "train.select_by \"" + c.train.select_by.str() +
                                  "\" needs metrics at k = " + std::to_string(c.train.select_by.k) +
                                  ", but eval.k is " + std::to_string(c.eval.k));
  if (!is_explicit) {
    // With k at or above the number of candidates (the held-out item and its negatives) every user
    // is a hit: HR 1.0 means nothing.
    if (c.eval.negatives < 1) p.fail("eval.negatives", "eval.negatives must be >= 1 for ranking, got 0");
    if (c.eval.k > c.eval.negatives)
      p.fail("eval.k", "eval.k (" + std::to_string(c.eval.k) + ") must be at most eval.negatives (" +
                           std::to_string(c.eval.negatives) +
                           "): with that many candidates or fewer, every held-out item is in the top k");
  }
}

}  // namespace

std::optional<MetricSpec> parse_metric_spec(const std::string& text) {
  const size_t at = text.find('@');
  if (at == std::string::npos) return std::nullopt;
  MetricSpec spec;
  spec.kind = text.substr(0, at);
  const std::string k = text.substr(at + 1);
  if (spec.kind != "hr" && spec.kind != "ndcg") return std::nullopt;
  const std::optional<int64_t> cutoff =
      k.find_first_not_of("0123456789") == std::string::npos ? to_int64(k) : std::nullopt;
  if (!cutoff || *cutoff < 1) return std::nullopt;
  spec.k = *cutoff;
  return spec;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("trian" -> "train" is 1 edit),
  // the commonest typo. Config keys are short, so the full table is cheap.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

nlohmann::json load_config_json(const std::string& path) {
  if (!is_regular_file(path)) throw ConfigError("config file " + path + " not found");
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("cannot read config: ") + e.what());
  }
  check_json_structure(text, path);
  try {
    return json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset where parsing stopped; editors think in lines and columns.
    size_t line = 1, column = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n')
        ++line, column = 1;
      else
        ++column;
    }
    throw ConfigError(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON (" +
                      e.what() + ")");
  }
}

void apply_override(nlohmann::json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set expects KEY=VALUE (e.g. train.epochs=3), got \"" + assignment + "\"");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  for (size_t begin = 0;;) {
    const size_t dot = key.find('.', begin);
    parts.push_back(key.substr(begin, dot - begin));
    if (parts.back().empty())
      throw ConfigError("--set " + assignment + ": empty part in key \"" + key + "\"");
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  if (static_cast<int>(parts.size()) > kMaxDepth)
    throw ConfigError("--set " + key.substr(0, 60) + "...: a key of more than " + std::to_string(kMaxDepth) +
                      " parts");
  // JSON when it parses (numbers, booleans, null, arrays, quoted strings), else the raw text as a string.
  check_json_structure(text, "--set " + key + "=...");
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;

  if (j.is_null()) j = json::object();
  if (!j.is_object()) throw ConfigError("--set " + assignment + ": the config is not a JSON object");
  json* node = &j;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    json& child = (*node)[parts[i]];
    if (child.is_null()) child = json::object();
    if (!child.is_object())
      throw ConfigError("--set " + assignment + ": " + walked + " is " + short_dump(child) +
                        ", not an object");
    node = &child;
  }
  (*node)[parts.back()] = std::move(value);
}

ExperimentConfig parse_config(const nlohmann::json& j, const std::string& source_name,
                              const std::vector<std::string>& overrides) {
  Parser p(source_name, overrides);
  if (!j.is_object())
    throw ConfigError(source_name + ": the config must be a JSON object, got " + short_dump(j));
  p.check_unknown_keys(j, "");
  ExperimentConfig c;
  c.source = source_name;
  c.data = parse_data(p, p.section(j, "data", "data"));
  c.model = parse_model(p, p.section(j, "model", "model"));
  c.train = parse_train(p, p.section(j, "train", "train"));
  c.eval = parse_eval(p, p.section(j, "eval", "eval"));
  check_cross_keys(p, j, c);
  return c;
}

nlohmann::json to_json(const ExperimentConfig& c) {
  json j;
  j["data"] = data::to_json(c.data);
  const ModelConfig& m = c.model;
  j["model"] = {
      {"type", to_string(m.type)},
      {"factors", m.factors},
      {"layers", m.layers},
      {"dropout", m.dropout},
      {"l2", m.l2},
      {"init_std", m.init_std ? json(*m.init_std) : json(nullptr)},
      {"ials",
       {{"unobserved_weight", m.ials.unobserved_weight},
        {"regularization", m.ials.regularization},
        {"frequency_exponent", m.ials.frequency_exponent}}},
      {"ease_lambda", m.ease_lambda},
      {"pretrain",
       m.pretrain ? json{{"gmf", m.pretrain->gmf}, {"mlp", m.pretrain->mlp}, {"alpha", m.pretrain->alpha}}
                  : json(nullptr)}};
  const TrainConfig& t = c.train;
  j["train"] = {{"epochs", t.epochs},
                {"batch_size", t.batch_size},
                {"loss", to_string(t.loss)},
                {"shuffle", to_string(t.shuffle)},
                {"optimizer", to_string(t.optimizer)},
                {"lr", t.lr},
                {"momentum", t.momentum},
                {"weight_decay", t.weight_decay},
                {"negatives", t.negatives},
                {"seed", t.seed},
                {"device", t.device},
                {"early_stop_patience", t.early_stop_patience},
                {"select_by", t.select_by.str()}};
  const EvalConfig& e = c.eval;
  j["eval"] = {{"k", e.k},
               {"negatives", e.negatives},
               {"full_ranking", e.full_ranking},
               {"every", e.every},
               {"seed", e.seed}};
  return j;
}

std::string resolve_path(const std::string& path, const std::string& root) {
  if (path.empty() || path[0] == '/' || root.empty()) return path;
  return root.back() == '/' ? root + path : root + "/" + path;
}

void check_config_files(const ExperimentConfig& c, const std::string& root) {
  const std::string& source = c.source.empty() ? std::string("config") : c.source;
  auto missing = [&](const std::string& key, const std::string& written, const std::string& resolved,
                     const std::string& what) {
    if (is_directory(resolved) && what.find("folder") == std::string::npos)
      throw ConfigError(source + ": " + key + " \"" + written + "\": " + resolved +
                        " is a folder, not a file (name the ratings file inside it)");
    throw ConfigError(source + ": " + key + " \"" + written + "\": " + what + " " + resolved + " not found" +
                      data_hint(written));
  };
  if (c.data.format == DataFormat::ncf) {
    for (const char* suffix : {".train.rating", ".test.rating", ".test.negative"}) {
      const std::string file = resolve_path(c.data.path, root) + suffix;
      if (!is_regular_file(file)) missing("data.path", c.data.path, file, "(format ncf: a prefix) file");
    }
  } else {
    const std::string file = resolve_path(c.data.path, root);
    if (!is_regular_file(file)) missing("data.path", c.data.path, file, "file");
  }
  if (c.data.titles) {
    const std::string file = resolve_path(*c.data.titles, root);
    if (!is_regular_file(file)) missing("data.titles", *c.data.titles, file, "file");
  }
  if (c.data.test_path) {
    const std::string file = resolve_path(*c.data.test_path, root);
    if (!is_regular_file(file)) missing("data.test_path", *c.data.test_path, file, "file");
  }
  if (c.model.pretrain) {
    for (const auto& [key, dir] :
         {std::pair<std::string, std::string>{"model.pretrain.gmf", c.model.pretrain->gmf},
          {"model.pretrain.mlp", c.model.pretrain->mlp}}) {
      const std::string folder = resolve_path(dir, root);
      if (!is_directory(folder)) missing(key, dir, folder, "run folder");
      if (!is_regular_file(folder + "/model.safetensors"))
        missing(key, dir, folder + "/model.safetensors", "run folder has no checkpoint:");
    }
  }
}

ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides,
                                        const std::string& root) {
  json j = load_config_json(path);
  for (const auto& assignment : overrides) apply_override(j, assignment);
  ExperimentConfig config = parse_config(j, path, overrides);
  check_config_files(config, root);
  return config;
}

}  // namespace ncf::recsys
