#include "base/progress.h"

#include <iomanip>
#include <sstream>

namespace ncf {

std::string progress_bar(const std::string& label, int64_t done, int64_t total, double seconds,
                         const std::string& unit) {
  const double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int width = 30, filled = static_cast<int>(fraction * width);
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  std::ostringstream bar;
  bar << label << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << std::fixed
      << std::setprecision(0) << 100 * fraction << "%  " << rate << " " << unit << "/s  ETA "
      << std::setprecision(1) << eta << " s";
  return bar.str();
}

}  // namespace ncf
