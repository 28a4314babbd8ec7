// Shared by the fuzz targets: the input bytes as a file (the readers take paths), and the one rule
// every target checks: any input either loads or throws ncf::Error; nothing else may happen
// (a crash, a sanitizer report, another exception type, a hang).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "base/error.h"
#include "base/files.h"

namespace ncf::fuzz {

// Writes `size` bytes to `path` (plainly: the loaders under test must cope with any file).
inline void write_bytes(const std::string& path, const void* data, size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return;
  if (size) std::fwrite(data, 1, size, file);
  std::fclose(file);
}

// A scratch file of this process, rewritten for each input: "/tmp/ncf-fuzz-<pid><suffix>".
inline std::string as_file(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = "/tmp/ncf-fuzz-" + std::to_string(::getpid()) + suffix;
  write_bytes(path, data, size);
  return path;
}

}  // namespace ncf::fuzz
