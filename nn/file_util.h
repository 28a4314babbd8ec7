// Small file helpers shared by checkpoints, run folders and configs: whole-file reads, and writes that
// go to a temporary file beside the target and are renamed over it, so a reader (or a crash) never sees
// a half-written file. rename(2) within one folder is atomic on POSIX file systems.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace ncf {

// The temporary name a write to `path` uses before the rename: "<path>.tmp.<pid>", in the same folder
// (a rename across file systems would not be atomic). Exposed so tests can provoke a failed write.
std::string temporary_path_for(const std::string& path);

// Writes `contents` to `path` atomically: temporary file, fsync, rename. On any failure the temporary
// file is removed, the previous file at `path` (if any) is left untouched, and ncf::Error names the file.
void write_file_atomically(const std::string& path, const std::string& contents);

// The general form: `write(append)` produces the contents in pieces by calling append(bytes, size) as
// often as it likes, so large files need not be assembled in memory. If `write` throws, nothing is
// renamed and the exception propagates after the temporary file is removed.
using AppendFn = std::function<void(const void* bytes, size_t size)>;
void write_file_atomically_with(const std::string& path, const std::function<void(const AppendFn&)>& write);

// The whole file as bytes; ncf::Error naming the file when it cannot be opened or read.
std::string read_file(const std::string& path);

// True when `path` names an existing regular file (resp. folder).
bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace ncf
