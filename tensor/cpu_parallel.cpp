// cpu_threads(): how many OpenMP threads a parallel region may use now (see cpu_parallel.h).
//
// A parallel region ends at a barrier, so it lasts as long as its slowest thread. When another
// program holds a core, one of our threads is descheduled for a whole time slice now and then, and
// every region it belongs to waits for it: with many small regions a step, two threads ran 3.3x
// slower than one. So every 100 ms we look at how busy the machine is apart from us (/proc/stat's
// busy time minus our own CPU time) and leave out the cores others keep more than a third busy.
// Before the first 100 ms have passed, the count of threads runnable right now (/proc/stat's
// procs_running, less our own) stands in: a program already spinning beside us is seen at once, so
// even a short run does not start with a thread that waits for a busy core.
// Results do not change: every op gives the same bits for any thread count.
#include "tensor/cpu_parallel.h"

#include <dirent.h>
#include <omp.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace ncf {

namespace {

int64_t clock_ns(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Busy time of the whole machine (every CPU) in ns since boot, from /proc/stat's first line; -1 if
// unreadable.
int64_t machine_busy_ns() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return -1;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
                              &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  if (got < 4) return -1;
  static const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<int64_t>((user + nice + system + irq + softirq + steal) * (1000000000ULL / ticks));
}

// Threads of other processes runnable at this instant: /proc/stat's procs_running (every CPU's run
// queue, us included) less our own threads in state R; -1 if unreadable.
int others_runnable_now() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return -1;
  char line[256];
  long running = -1;
  while (running < 0 && std::fgets(line, sizeof line, f)) std::sscanf(line, "procs_running %ld", &running);
  std::fclose(f);
  if (running < 0) return -1;
  DIR* tasks = opendir("/proc/self/task");
  if (!tasks) return -1;
  long own = 0;
  while (const dirent* task = readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", task->d_name);
    if (std::FILE* stat = std::fopen(path, "r")) {
      // "tid (name) S ...": the state follows the last ')', since a name may hold one.
      const size_t got = std::fread(line, 1, sizeof line - 1, stat);
      std::fclose(stat);
      line[got] = '\0';
      const char* close = std::strrchr(line, ')');
      if (close && close[1] == ' ' && close[2] == 'R') ++own;
    }
  }
  closedir(tasks);
  return static_cast<int>(std::max(0L, running - own));
}

class ThreadBudget {
 public:
  ThreadBudget() : max_(omp_get_max_threads()), threads_(max_) {
    const char* fixed = std::getenv("NCF_FIXED_THREADS");  // "1": always omp_get_max_threads()
    adapt_ = max_ > 1 && !(fixed && std::strcmp(fixed, "1") == 0) && machine_busy_ns() >= 0;
    cpus_ = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    if (adapt_) {
      const int others = others_runnable_now();
      if (others >= 0) threads_.store(std::clamp(cpus_ - others, 1, max_), std::memory_order_relaxed);
    }
    last_wall_ = clock_ns(CLOCK_MONOTONIC);
    last_busy_ = machine_busy_ns();
    last_own_ = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    next_ = last_wall_ + kPeriodNs;
  }

  int threads() {
    if (!adapt_) return max_;
    const int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now >= next_.load(std::memory_order_relaxed)) resample(now);
    return threads_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr int64_t kPeriodNs = 100 * 1000 * 1000;
  static constexpr double kBusyCore = 0.35;  // others using this much of a core take it away

  void resample(int64_t now) {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || now < next_.load(std::memory_order_relaxed)) return;
    const int64_t busy = machine_busy_ns(), own = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    const double wall = static_cast<double>(now - last_wall_);
    if (busy >= 0 && wall > 0) {
      const double others = static_cast<double>((busy - last_busy_) - (own - last_own_)) / wall;  // in cores
      const int spare = cpus_ - static_cast<int>(std::floor(others + (1.0 - kBusyCore)));
      threads_.store(spare < 1 ? 1 : spare > max_ ? max_ : spare, std::memory_order_relaxed);
    }
    last_wall_ = now;
    last_busy_ = busy;
    last_own_ = own;
    next_.store(now + kPeriodNs, std::memory_order_relaxed);
  }

  int max_, cpus_ = 1;
  bool adapt_ = false;
  std::atomic<int> threads_;
  std::atomic<int64_t> next_{0};
  std::mutex mutex_;
  int64_t last_wall_ = 0, last_busy_ = 0, last_own_ = 0;
};

}  // namespace

int cpu_threads() {
  static ThreadBudget budget;
  return budget.threads();
}

}  // namespace ncf
