// The learning-curve SVG of a run folder (recsys/curves.h): what it plots and marks.
#include <algorithm>

#include "recsys/curves.h"
#include "tests/test_util.h"

using namespace ncf;

TEST_CASE(
    "the learning-curve SVG plots every epoch's loss, the evaluated epochs' metrics and marks the best") {
  std::vector<recsys::EpochRecord> history(3);
  for (int e = 0; e < 3; ++e) {
    history[e].epoch = e + 1;
    history[e].loss = 0.5 - 0.1 * e;
    history[e].evaluated = e != 1;  // epoch 2 was not evaluated (eval.every)
    history[e].test.k = 10;
    history[e].test.hr = 0.4 + 0.1 * e;
    history[e].test.ndcg = 0.2 + 0.05 * e;
  }
  const std::string svg = recsys::learning_curves_svg(history, 3, false, "neumf on <ml-1m> & co");
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") == svg.size() - 7);
  CHECK(svg.find("neumf on &lt;ml-1m&gt; &amp; co") != std::string::npos);
  CHECK(svg.find("best epoch 3") != std::string::npos);
  for (const char* label : {">BCE<", ">HR@10<", ">NDCG@10<"}) CHECK(svg.find(label) != std::string::npos);
  CHECK(svg.find("validation") == std::string::npos);  // no validation item: no validation lines
  // Three polylines (loss, HR, NDCG): 3 loss points, 2 points each for the metrics.
  std::vector<int> points;
  for (size_t at = svg.find("points=\""); at != std::string::npos; at = svg.find("points=\"", at + 1)) {
    const size_t end = svg.find('"', at + 8);
    const std::string list = svg.substr(at + 8, end - at - 8);
    points.push_back(static_cast<int>(std::count(list.begin(), list.end(), ',')));
  }
  CHECK(points == std::vector<int>{3, 2, 2});
  // With a validation item: its HR and NDCG dashed, under one legend entry.
  for (recsys::EpochRecord& r : history) r.validation = r.test;
  const std::string validated = recsys::learning_curves_svg(history, 3, false, "neumf");
  size_t dashed_lines = 0, legend_entries = 0;
  for (size_t at = validated.find("<polyline"); at != std::string::npos;
       at = validated.find("<polyline", at + 1)) {
    const std::string element = validated.substr(at, validated.find('>', at) - at);
    dashed_lines += element.find("stroke-dasharray") != std::string::npos;
  }
  for (size_t at = validated.find(">validation<"); at != std::string::npos;
       at = validated.find(">validation<", at + 1))
    ++legend_entries;
  CHECK(dashed_lines == 2);
  CHECK(legend_entries == 1);
  // Rating models plot RMSE and MAE; a run with no best epoch yet has no marker.
  history[0].rmse = 1.1, history[2].rmse = 0.95, history[0].mae = 0.9, history[2].mae = 0.8;
  const std::string ratings = recsys::learning_curves_svg(history, 0, true, "mf");
  for (const char* label : {">MSE<", ">RMSE<", ">MAE<"}) CHECK(ratings.find(label) != std::string::npos);
  CHECK(ratings.find("best epoch") == std::string::npos);
}
