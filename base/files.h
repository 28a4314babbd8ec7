// File helpers shared by every layer: whole-file reads, writes that go to a temporary file beside the
// target and are renamed over it (so a reader, or a crash, never sees a half-written file; rename(2)
// within one folder is atomic on POSIX file systems), folder creation and small queries.
// Every failure throws ncf::Error naming the file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

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

// Creates `path` and any missing parent folders (like `mkdir -p`); an existing folder is fine.
void make_directories(const std::string& path);
// The folder holding `path` ("." for a bare name, "/" for a file at the root).
std::string parent_folder(const std::string& path);
// The names in a folder (not "." or ".."), sorted; ncf::Error when it cannot be read.
std::vector<std::string> list_directory(const std::string& path);

// Removes from `folder` the temporary files ("<name>.tmp.<pid>", see temporary_path_for) that a
// process killed mid-write left behind: those whose process is gone and whose target `name` the
// caller owns (`owned(name)`). A live writer's file is left alone. Returns how many were removed.
int remove_orphaned_temporaries(const std::string& folder,
                                const std::function<bool(const std::string&)>& owned);

}  // namespace ncf
