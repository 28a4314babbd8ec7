// The learning-curve SVG (curves.h): two panels of polylines over the epochs, axes with round-number
// ticks, a legend per panel and the best epoch marked. Coordinates are SVG user units (pixels), y down.
#include "recsys/curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace ncf::recsys {

namespace {

constexpr double kWidth = 900, kHeight = 420;
constexpr double kPanelTop = 78, kPanelHeight = 270, kPanelWidth = 350;
constexpr double kLeftPanelX = 70, kRightPanelX = 510;

struct Point {
  double epoch, value;
};

struct Series {
  std::string label, color;
  bool dashed = false;
  std::vector<Point> points;
};

// A value range shown on an axis: [low, high] split by `step` into round-number ticks.
struct Axis {
  double low = 0, high = 1, step = 1;
};

std::string escape_xml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 1, 2 or 5 times a power of ten, the first at least `rough`.
double round_step(double rough) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= rough) return m * magnitude;
  return 10.0 * magnitude;
}

// About `ticks` round steps covering [low, high]; a flat range is widened so it has a height.
Axis make_axis(double low, double high, int ticks) {
  if (!(high > low)) {
    const double half = low != 0.0 ? std::fabs(low) * 0.1 : 0.5;
    low -= half, high += half;
  }
  Axis axis;
  axis.step = round_step((high - low) / ticks);
  axis.low = std::floor(low / axis.step) * axis.step;
  axis.high = std::ceil(high / axis.step) * axis.step;
  return axis;
}

// A tick label with as many decimals as the step needs ("0.25", "3", "0.004").
std::string tick_label(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, std::fabs(value) < step * 1e-6 ? 0.0 : value);
  return text;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

class Panel {
 public:
  Panel(double x, std::string title, Axis epochs, std::vector<Series> series)
      : x_(x), title_(std::move(title)), epochs_(epochs), series_(std::move(series)) {
    double low = INFINITY, high = -INFINITY;
    for (const Series& s : series_)
      for (const Point& p : s.points) low = std::min(low, p.value), high = std::max(high, p.value);
    if (!(low <= high)) low = 0, high = 1;  // nothing to draw yet
    const double margin = (high - low) * 0.05;
    values_ = make_axis(low - margin, high + margin, 5);
  }

  double x_of(double epoch) const {
    return x_ + (epoch - epochs_.low) / (epochs_.high - epochs_.low) * kPanelWidth;
  }
  double y_of(double value) const {
    return kPanelTop + kPanelHeight - (value - values_.low) / (values_.high - values_.low) * kPanelHeight;
  }

  void draw(std::ostringstream& svg, int64_t best_epoch) const {
    const double bottom = kPanelTop + kPanelHeight;
    svg << "<text x=\"" << number(x_) << "\" y=\"" << number(kPanelTop - 34)
        << "\" font-size=\"14\" font-weight=\"bold\">" << escape_xml(title_) << "</text>\n";
    // The legend, in a row between the title and the frame: one entry per solid series, and one
    // "validation" entry for the dashed ones (the same colours, on the validation item).
    double legend_x = x_;
    const auto entry = [&](const std::string& label, const std::string& color, bool dashed) {
      svg << "<line x1=\"" << number(legend_x) << "\" y1=\"" << number(kPanelTop - 14) << "\" x2=\""
          << number(legend_x + 22) << "\" y2=\"" << number(kPanelTop - 14) << "\" stroke=\"" << color
          << "\" stroke-width=\"2\"" << (dashed ? " stroke-dasharray=\"5 3\"" : "") << "/>\n";
      svg << "<text x=\"" << number(legend_x + 27) << "\" y=\"" << number(kPanelTop - 10) << "\">"
          << escape_xml(label) << "</text>\n";
      legend_x += 42 + 8.0 * static_cast<double>(label.size());  // a generous width per character
    };
    bool any_dashed = false;
    for (const Series& s : series_) {
      if (!s.dashed) entry(s.label, s.color, false);
      any_dashed = any_dashed || s.dashed;
    }
    if (any_dashed) entry("validation", "#777777", true);
    svg << "<rect x=\"" << number(x_) << "\" y=\"" << number(kPanelTop) << "\" width=\""
        << number(kPanelWidth) << "\" height=\"" << number(kPanelHeight)
        << "\" fill=\"white\" stroke=\"#bbbbbb\"/>\n";
    // Horizontal grid lines with value labels; epoch labels under the frame.
    for (double v = values_.low; v <= values_.high + values_.step * 1e-6; v += values_.step) {
      const double y = y_of(v);
      svg << "<line x1=\"" << number(x_) << "\" y1=\"" << number(y) << "\" x2=\"" << number(x_ + kPanelWidth)
          << "\" y2=\"" << number(y) << "\" stroke=\"#eeeeee\"/>\n";
      svg << "<text x=\"" << number(x_ - 6) << "\" y=\"" << number(y + 4) << "\" text-anchor=\"end\">"
          << tick_label(v, values_.step) << "</text>\n";
    }
    // The frame over the grid lines, so that the lines at its edges do not pale it.
    svg << "<rect x=\"" << number(x_) << "\" y=\"" << number(kPanelTop) << "\" width=\""
        << number(kPanelWidth) << "\" height=\"" << number(kPanelHeight)
        << "\" fill=\"none\" stroke=\"#bbbbbb\"/>\n";
    for (double e = std::max(1.0, std::ceil(epochs_.low)); e <= epochs_.high + 1e-9; e += epochs_.step) {
      svg << "<text x=\"" << number(x_of(e)) << "\" y=\"" << number(bottom + 16)
          << "\" text-anchor=\"middle\">" << tick_label(e, 1.0) << "</text>\n";
    }
    svg << "<text x=\"" << number(x_ + kPanelWidth / 2) << "\" y=\"" << number(bottom + 34)
        << "\" text-anchor=\"middle\">epoch</text>\n";
    if (best_epoch > 0) {
      const double x = x_of(static_cast<double>(best_epoch));
      svg << "<line x1=\"" << number(x) << "\" y1=\"" << number(kPanelTop) << "\" x2=\"" << number(x)
          << "\" y2=\"" << number(bottom) << "\" stroke=\"#555555\" stroke-dasharray=\"4 3\"/>\n";
      // Its label ends the title row, right-aligned, where no data point can hide it: the text, then
      // a sample of the dashed line.
      const double label_y = kPanelTop - 34, line_end = x_ + kPanelWidth;
      svg << "<text x=\"" << number(line_end - 27) << "\" y=\"" << number(label_y)
          << "\" fill=\"#555555\" text-anchor=\"end\">best epoch " << best_epoch << "</text>\n";
      svg << "<line x1=\"" << number(line_end - 22) << "\" y1=\"" << number(label_y - 4) << "\" x2=\""
          << number(line_end) << "\" y2=\"" << number(label_y - 4)
          << "\" stroke=\"#555555\" stroke-dasharray=\"4 3\"/>\n";
    }
    for (const Series& s : series_) {
      if (s.points.empty()) continue;
      svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\""
          << (s.dashed ? " stroke-dasharray=\"5 3\"" : "") << " points=\"";
      for (const Point& p : s.points) svg << number(x_of(p.epoch)) << "," << number(y_of(p.value)) << " ";
      svg << "\"/>\n";
      for (const Point& p : s.points) {
        const bool best = static_cast<int64_t>(p.epoch) == best_epoch;
        svg << "<circle cx=\"" << number(x_of(p.epoch)) << "\" cy=\"" << number(y_of(p.value)) << "\" r=\""
            << (best ? 5 : 2.5) << "\" " << (best ? "fill=\"white\" stroke-width=\"2\" stroke=\"" : "fill=\"")
            << s.color << "\"/>\n";
      }
    }
  }

 private:
  double x_;
  std::string title_;
  Axis epochs_, values_;
  std::vector<Series> series_;
};

}  // namespace

std::string learning_curves_svg(const std::vector<EpochRecord>& history, int64_t best_epoch, bool is_explicit,
                                const std::string& title) {
  Series loss{is_explicit ? "MSE" : "BCE", "#1f77b4", false, {}};
  std::vector<Series> metrics;
  int64_t k = 10;
  for (const EpochRecord& r : history)
    if (r.evaluated && !is_explicit) k = r.test.k;
  const std::string at_k = "@" + std::to_string(k);
  if (is_explicit) {
    metrics = {{"RMSE", "#d62728", false, {}}, {"MAE", "#2ca02c", false, {}}};
  } else {
    metrics = {{"HR" + at_k, "#d62728", false, {}},
               {"NDCG" + at_k, "#2ca02c", false, {}},
               {"validation HR" + at_k, "#d62728", true, {}},  // legend: one "validation" entry
               {"validation NDCG" + at_k, "#2ca02c", true, {}}};
  }
  double first_epoch = 1, last_epoch = 1;
  for (const EpochRecord& r : history) {
    const auto e = static_cast<double>(r.epoch);
    first_epoch = std::min(first_epoch, e), last_epoch = std::max(last_epoch, e);
    loss.points.push_back({e, r.loss});
    if (!r.evaluated) continue;
    if (is_explicit) {
      metrics[0].points.push_back({e, r.rmse});
      metrics[1].points.push_back({e, r.mae});
      continue;
    }
    metrics[0].points.push_back({e, r.test.hr});
    metrics[1].points.push_back({e, r.test.ndcg});
    if (r.validation) {
      metrics[2].points.push_back({e, r.validation->hr});
      metrics[3].points.push_back({e, r.validation->ndcg});
    }
  }
  // Only the series with points get a legend entry (no validation lines without a validation item).
  metrics.erase(
      std::remove_if(metrics.begin(), metrics.end(), [](const Series& s) { return s.points.empty(); }),
      metrics.end());
  // Epochs on whole numbers; a single epoch sits in the middle of a range one epoch wide on either side.
  Axis epochs;
  epochs.low = last_epoch > first_epoch ? first_epoch : first_epoch - 1;
  epochs.high = last_epoch > first_epoch ? last_epoch : last_epoch + 1;
  epochs.step = std::max(1.0, round_step((epochs.high - epochs.low) / 10));

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">"
      << escape_xml(title) << "</text>\n";
  Panel(kLeftPanelX, "training loss", epochs, {loss}).draw(svg, best_epoch);
  Panel(kRightPanelX, is_explicit ? "test error" : "ranking, sampled protocol", epochs, metrics)
      .draw(svg, best_epoch);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace ncf::recsys
