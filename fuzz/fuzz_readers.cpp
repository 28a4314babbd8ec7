// Fuzz target: the rating and title readers. The first byte picks the reader; the rest is the file.
#include "data/readers.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path = ncf::fuzz::as_file(data + 1, size - 1, ".ratings");
  try {
    switch (data[0] % 6) {
      case 0:
        ncf::data::read_movielens_udata(path);
        break;
      case 1:
        ncf::data::read_movielens_dat(path);
        break;
      case 2:
        ncf::data::read_movielens_csv(path);
        break;
      case 3:
        ncf::data::read_delimited(path, ncf::data::DelimitedFormat{";", false, "1", "0", "", "2"});
        break;
      case 4:
        ncf::data::read_titles_uitem(path);
        break;
      default:
        ncf::data::read_titles_movies_csv(path);
        break;
    }
  } catch (const ncf::Error&) {
  }
  return 0;
}
