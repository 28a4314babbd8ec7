// MappedFile: open + fstat + mmap, with errors turned into DataError.
#include "data/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "data/error.h"

namespace ncf::data {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw DataError(path, S_ISDIR(info.st_mode) ? "is a folder, not a file (name the file inside it)"
                                                : "not a regular file");
  }
  size_ = static_cast<size_t>(info.st_size);
  if (size_ > 0) {
    void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw DataError(path, std::string("cannot map: ") + std::strerror(err));
    }
    ::madvise(map, size_, MADV_SEQUENTIAL);  // parsers read front to back: let the kernel read ahead
    data_ = static_cast<const char*>(map);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
}

void MappedFile::release(const char* begin, const char* end) const {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;  // round up
  const uintptr_t last = reinterpret_cast<uintptr_t>(end) / page * page;                  // round down
  // MADV_DONTNEED on a read-only file mapping only unmaps: nothing is lost, and it cannot fail on a
  // range of our own mapping, so the result is not checked.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

FileStamp file_stamp(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    throw DataError(path, std::string("cannot stat: ") + std::strerror(errno));
  return {static_cast<int64_t>(info.st_size), static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                                                  static_cast<int64_t>(info.st_mtim.tv_nsec)};
}

}  // namespace ncf::data
