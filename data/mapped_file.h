// MappedFile: a read-only memory map of a whole file (POSIX mmap), so parsers read bytes in place
// with no copy and no per-line I/O. The map is released when the object dies; a parser done with a
// part of the file can drop that part's pages early (release), so a big file read front to back
// never has more than a few MiB of it counted in the process's resident memory.
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

  // Drops the pages lying wholly inside [begin, end) from this process's memory. The bytes stay valid:
  // they remain in the kernel's page cache, and reading them again maps them back in.
  void release(const char* begin, const char* end) const;

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
