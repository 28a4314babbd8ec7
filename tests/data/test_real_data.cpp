// Counts on the real MovieLens files (skipped, by name, when a data set is absent).
#include <doctest/doctest.h>

#include "data/readers.h"
#include "data/splits.h"
#include "data/transforms.h"
#include "tests/test_util.h"

using namespace ncf::data;

TEST_CASE("real data: ml-100k u.data and its leave-one-out split") {
  const auto dir = ncf::test::require_dataset("ml-100k", "ml-100k counts");
  if (!dir) return;
  const Interactions x = read_movielens_udata(*dir + "/u.data");
  CHECK(x.size() == 100000);
  CHECK(x.num_users() == 943);
  CHECK(x.num_items() == 1682);
  CHECK(x.users.raw(0) == 196);  // the first line: 196 242 3 881250949
  CHECK(x.items.raw(0) == 242);
  ImplicitDataset d = leave_one_out(binarize(x));
  CHECK(d.num_test_users() == 943);
  CHECK(d.num_train() == 99057);
  draw_eval_negatives(d, 99, 7);
  for (int32_t u = 0; u < d.num_users; ++u) {
    const int32_t* row = d.user_eval_negatives(u);
    for (int k = 0; k < 99; ++k) {
      REQUIRE(row[k] >= 0);
      CHECK_FALSE(d.user_trained_on(u, row[k]));
      CHECK(row[k] != d.test_item[u]);
    }
  }
  const ImplicitDataset v = leave_one_out(binarize(x), true);
  CHECK(v.num_train() == 100000 - 2 * 943);
}

TEST_CASE("real data: ml-latest-small ratings.csv") {
  const auto dir = ncf::test::require_dataset("ml-latest-small", "ml-latest-small counts");
  if (!dir) return;
  const Interactions x = read_movielens_csv(*dir + "/ratings.csv");
  CHECK(x.size() == 100836);
  CHECK(x.num_users() == 610);
  CHECK(x.num_items() == 9724);
  CHECK(x.rating[0] == 4.0f);
  CHECK(binarize(x, 4.0f).size() < x.size());
}

TEST_CASE("real data: titles from u.item and movies.csv") {
  if (const auto dir = ncf::test::require_dataset("ml-100k", "ml-100k titles")) {
    const Titles titles = read_titles(*dir + "/u.item");
    CHECK(titles.size() == 1682);
    CHECK(titles.at(1) == "Toy Story (1995)");
  }
  if (const auto dir = ncf::test::require_dataset("ml-latest-small", "movies.csv titles")) {
    const Titles titles = read_titles(*dir + "/movies.csv");
    CHECK(titles.size() == 9742);
    CHECK(titles.at(11) == "American President, The (1995)");
    CHECK(titles.at(29) == "City of Lost Children, The (Cit\xc3\xa9 des enfants perdus, La) (1995)");
  }
}
