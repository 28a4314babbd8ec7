// Fuzz target: the safetensors loader (checkpoints, model files).
#include "fuzz/fuzz_common.h"
#include "nn/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ncf::fuzz::as_file(data, size, ".safetensors");
  try {
    const ncf::SafetensorsFile file = ncf::load_safetensors(path);
    for (const auto& [name, tensor] : file.tensors) (void)tensor.nbytes();
  } catch (const ncf::Error&) {
  }
  return 0;
}
