// The NCF paper's files: hand-made cases, their errors, and the real ml-1m files when present.
#include "data/ncf_format.h"

#include <doctest/doctest.h>

#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

using namespace ncf::data;
using ncf::test::check_data_error;
using ncf::test::TempDir;

TEST_CASE("ncf files: dense ids kept, items counted over all files, negatives kept as written") {
  TempDir dir;
  dir.file("x.train.rating", "0\t0\t5\t100\n0\t1\t3\t101\n1\t1\t4\n1\t2\t4\n2\t0\t1\n");
  dir.file("x.test.rating", "0\t2\t5\t200\n1\t5\t4\t201\n");
  // user 0's list names its own test item 2 among the negatives: kept (the evaluator drops it).
  dir.file("x.test.negative", "(0,2)\t3\t4\t2\n(1,5)\t6\t0\n");
  const ImplicitDataset d = read_ncf(dir.path("x"));
  CHECK(d.num_users == 3);
  CHECK(d.num_items == 7);  // item 6 only occurs among the negatives
  CHECK(d.num_train() == 5);
  CHECK(d.test_item == std::vector<int32_t>{2, 5, -1});
  CHECK(d.eval_negatives_per_user == 3);
  CHECK(std::vector<int32_t>(d.user_eval_negatives(0), d.user_eval_negatives(0) + 3) ==
        std::vector<int32_t>{3, 4, 2});
  CHECK(std::vector<int32_t>(d.user_eval_negatives(1), d.user_eval_negatives(1) + 3) ==
        std::vector<int32_t>{6, 0, -1});
  CHECK(d.users.raw(2) == 2);
  CHECK(d.items.raw(6) == 6);
}

TEST_CASE("ncf files: errors") {
  TempDir dir;
  dir.file("x.train.rating", "0\t0\t5\n0\t1\t3\n1\t1\t4\n");
  SUBCASE("a .test.negative pair that is no test pair") {
    dir.file("x.test.rating", "0\t2\t5\n");
    dir.file("x.test.negative", "(0,2)\t3\n(1,2)\t3\n");
    check_data_error([&] { read_ncf(dir.path("x")); }, {"x.test.negative:2:", "column 1", "pair (1,2)"});
  }
  SUBCASE("an id far beyond the ids in the files is refused before tables of its size are made") {
    dir.file("x.test.rating", "0\t2\t5\n1\t0\t4\n");
    dir.file("x.test.negative", "(0,2)\t3\t100000000\n(1,0)\t2\n");
    check_data_error([&] { read_ncf(dir.path("x")); },
                     {"x.test.negative:1:", "item id 100000000 implies 100000001 items", "must be dense"});
    dir.file("x.test.negative", "(0,2)\t3\n(1,0)\t2\n");
    dir.file("x.test.rating", "0\t2\t5\n5000\t0\t4\n");
    check_data_error([&] { read_ncf(dir.path("x")); },
                     {"x.test.rating:2:", "user id 5000 implies 5001 users"});
  }
  SUBCASE("a malformed pair and a non-number negative") {
    dir.file("x.test.rating", "0\t2\t5\n");
    dir.file("x.test.negative", "0,2\t3\n");
    check_data_error([&] { read_ncf(dir.path("x")); }, {"x.test.negative:1:", "column 1", "(user,item)"});
    dir.file("x.test.negative", "(0,2)\t3\tq\n");
    check_data_error([&] { read_ncf(dir.path("x")); }, {"x.test.negative:1:", "column 3", "non-number"});
  }
  SUBCASE("a negative id beyond dense capacity") {
    dir.file("x.test.rating", "0\t2\t5\n");
    dir.file("x.test.negative", "(0,2)\t3\t4294967296\n");
    check_data_error([&] { read_ncf(dir.path("x")); }, {"x.test.negative:1:", "column 3", "id overflow"});
  }
  SUBCASE("a negative id in the training file") {
    dir.file("x.test.rating", "0\t2\t5\n");
    dir.file("x.train.rating", "0\t0\t5\n0\t-1\t3\n");
    check_data_error([&] { read_ncf(dir.path("x")); }, {"x.train.rating:2:", "column 2", "id overflow"});
  }
}

TEST_CASE("ncf files: test users with no training row are kept, as the reference code evaluates them") {
  TempDir dir;
  dir.file("x.train.rating", "0\t0\t5\n0\t1\t3\n1\t1\t4\n");
  dir.file("x.test.rating", "0\t2\t5\n1\t3\t4\n2\t0\t4\n3\t1\t4\n");  // users 2 and 3: test rows only
  dir.file("x.test.negative", "(0,2)\t3\n(1,3)\t0\n(2,0)\t2\n(3,1)\t2\n");
  ImplicitDataset d = read_ncf(dir.path("x"));
  CHECK(d.num_users == 4);
  CHECK(d.num_test_users() == 4);
  CHECK(d.user_count(2) == 0);
  CHECK(drop_cold_test_users(d) == 2);
  CHECK(d.test_item == std::vector<int32_t>{2, 3, -1, -1});
  CHECK(d.user_eval_negatives(2)[0] == -1);
  CHECK(d.num_test_users() == 2);
}

TEST_CASE("real data: the NCF paper's ml-1m files") {
  const auto dir = ncf::test::require_dataset("ncf-ml-1m", "ncf-ml-1m counts");
  if (!dir) return;
  const ImplicitDataset d = read_ncf(*dir + "/ml-1m");
  CHECK(d.num_train() == 994169);
  CHECK(d.num_users == 6040);
  CHECK(d.num_items == 3706);
  CHECK(d.num_test_users() == 6040);
  CHECK(d.eval_negatives_per_user == 99);
  int lines_listing_positive = 0;
  for (int32_t u = 0; u < d.num_users; ++u) {
    const int32_t* row = d.user_eval_negatives(u);
    for (int k = 0; k < 99; ++k) {
      REQUIRE(row[k] >= 0);
      lines_listing_positive += row[k] == d.test_item[u];
    }
    CHECK_FALSE(d.user_trained_on(u, d.test_item[u]));
  }
  CHECK(lines_listing_positive == 156);  // the paper's file, kept as it is
}
