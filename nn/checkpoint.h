// Checkpoints in the safetensors layout, so Python tools (safetensors, numpy) can read trained weights:
//
//   [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded to a multiple of 8] [raw data]
//   header = {"__metadata__": {"key": "value", ...},                         (only when non-empty)
//             "name": {"dtype": "F32", "shape": [3706, 8], "data_offsets": [begin, end]}, ...}
//
// Offsets count from the first data byte; tensors are stored contiguously, little-endian, in the order
// given. Saving goes through a temporary file and a rename, so an interrupted save leaves the previous
// file intact. Loading validates every field and names the file in each error.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "tensor/tensor.h"

namespace ncf {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Writes `tensors` (any device: GPU tensors are copied to the host) and string metadata to `path`.
// Names must be unique, non-empty and not "__metadata__"; every tensor must be defined.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

struct SafetensorsFile {
  std::string path;                             // where it was read from, for messages
  std::map<std::string, Tensor> tensors;        // CPU tensors, by name
  std::vector<std::string> names;               // the same names in the order of their data in the file
  std::map<std::string, std::string> metadata;  // "__metadata__" (empty when the file has none)

  // The tensor called `name`; ncf::Error naming the file and listing the names present when it is missing.
  const Tensor& at(const std::string& name) const;
  // The metadata entry `key`; ncf::Error naming the file when it is missing.
  const std::string& meta(const std::string& key) const;
  bool contains(const std::string& name) const { return tensors.count(name) != 0; }
};

// Reads and validates a safetensors file: header length within the file, valid JSON object, known dtypes
// (F32, F64, I32, U8), shapes of at most 4 non-negative dimensions whose byte size equals the offsets'
// span, offsets inside the data and not overlapping, metadata values strings.
SafetensorsFile load_safetensors(const std::string& path);

// The safetensors dtype string ("F32", "F64", "I32", "U8") and back (ncf::Error for any other).
const char* safetensors_dtype_name(DType dtype);

}  // namespace ncf
