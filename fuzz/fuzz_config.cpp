// Fuzz target: the config loader with --set. The input is a config file; its last line, when it
// holds '=', is also applied as a --set override before the config is parsed and checked.
#include <string>

#include "fuzz/fuzz_common.h"
#include "recsys/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string path = ncf::fuzz::as_file(data, size, ".json");
  const size_t last_line = text.rfind('\n');
  const std::string assignment = last_line == std::string::npos ? "" : text.substr(last_line + 1);
  try {
    nlohmann::json j = ncf::recsys::load_config_json(path);
    std::vector<std::string> overrides;
    if (assignment.find('=') != std::string::npos) {
      ncf::recsys::apply_override(j, assignment);
      overrides.push_back(assignment);
    }
    const ncf::recsys::ExperimentConfig config = ncf::recsys::parse_config(j, path, overrides);
    ncf::recsys::parse_config(ncf::recsys::to_json(config), path);  // what a run folder re-reads
  } catch (const ncf::Error&) {
  }
  return 0;
}
