// Atomic file writes (temporary file + fsync + rename), whole-file reads and folders, with errors
// naming the file.
#include "base/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"

namespace ncf {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Owns an open file descriptor and the temporary file behind it until commit() renames it into place;
// destruction before commit closes and deletes the temporary, whatever went wrong.
class TemporaryFile {
 public:
  TemporaryFile(const std::string& target) : target_(target), temp_(temporary_path_for(target)) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    NCF_CHECK(fd_ >= 0, "cannot write " << target_ << ": cannot create temporary file " << temp_ << ": "
                                        << errno_text());
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  void append(const void* bytes, size_t size) {
    const char* p = static_cast<const char*>(bytes);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      NCF_CHECK(n > 0, "cannot write " << target_ << " (temporary " << temp_ << "): " << errno_text());
      p += n;
      size -= static_cast<size_t>(n);
    }
  }

  // fsync before rename: otherwise a power loss could leave the new name pointing at empty blocks.
  void commit() {
    NCF_CHECK(::fsync(fd_) == 0, "cannot write " << target_ << ": fsync failed: " << errno_text());
    const int fd = fd_;
    fd_ = -1;
    NCF_CHECK(::close(fd) == 0, "cannot write " << target_ << ": close failed: " << errno_text());
    NCF_CHECK(::rename(temp_.c_str(), target_.c_str()) == 0,
              "cannot write " << target_ << ": rename from " << temp_ << " failed: " << errno_text());
    committed_ = true;
    // Persist the folder entry too; failure here is harmless (the file itself is complete), so ignored.
    const int dir = ::open(parent_folder(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }

 private:
  std::string target_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

std::string parent_folder(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string temporary_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
}

void write_file_atomically_with(const std::string& path, const std::function<void(const AppendFn&)>& write) {
  NCF_CHECK(!path.empty(), "write_file_atomically: empty path");
  NCF_CHECK(!is_directory(path), "cannot write " << path << ": it is a folder");
  TemporaryFile file(path);
  write([&file](const void* bytes, size_t size) { file.append(bytes, size); });
  file.commit();
}

void write_file_atomically(const std::string& path, const std::string& contents) {
  write_file_atomically_with(path, [&](const AppendFn& append) { append(contents.data(), contents.size()); });
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  NCF_CHECK(fd >= 0, "cannot open " << path << ": " << errno_text());
  struct stat info {};
  if (::fstat(fd, &info) != 0 || S_ISDIR(info.st_mode)) {
    ::close(fd);
    NCF_FAIL("cannot read " << path << ": " << (S_ISDIR(info.st_mode) ? "it is a folder" : errno_text()));
  }
  std::string contents;
  contents.reserve(static_cast<size_t>(info.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = errno_text();
      ::close(fd);
      NCF_FAIL("cannot read " << path << ": " << why);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

bool is_regular_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

void make_directories(const std::string& path) {
  NCF_CHECK(!path.empty(), "make_directories: empty path");
  // Each prefix ending at a '/' (and the whole path) in turn; an existing folder is not an error.
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string prefix = path.substr(0, at);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      NCF_FAIL("cannot create folder " << prefix << ": " << errno_text());
  }
  NCF_CHECK(is_directory(path), "cannot create folder " << path << ": a file of that name is in the way");
}

int remove_orphaned_temporaries(const std::string& folder,
                                const std::function<bool(const std::string&)>& owned) {
  if (!is_directory(folder)) return 0;
  int removed = 0;
  for (const std::string& name : list_directory(folder)) {
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || !owned(name.substr(0, at))) continue;
    const std::string digits = name.substr(at + 5);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const long pid = std::stol(digits);
    // kill(pid, 0) tests for a process without signalling it: ESRCH means there is none.
    if (pid == static_cast<long>(::getpid()) || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;
    if (std::remove((folder + "/" + name).c_str()) == 0) ++removed;
  }
  return removed;
}

std::vector<std::string> list_directory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  NCF_CHECK(dir != nullptr, "cannot list folder " << path << ": " << errno_text());
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ncf
