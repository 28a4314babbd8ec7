// MappedFile: a read-only memory map of a whole file (POSIX mmap), so parsers read bytes in place
// with no copy and no per-line I/O. The map is released when the object dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ncf::data {

class MappedFile {
 public:
  // Throws DataError naming the path when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const char* data_ = nullptr;  // nullptr for an empty file (mmap refuses length 0)
  size_t size_ = 0;
};

// Size in bytes and modification time (nanoseconds since the epoch) of a file; throws DataError if absent.
struct FileStamp {
  int64_t size = 0;
  int64_t mtime_ns = 0;
};
FileStamp file_stamp(const std::string& path);

}  // namespace ncf::data
