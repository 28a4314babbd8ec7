// Tests of the safetensors checkpoint I/O and atomic file writes: round trips of every dtype and rank,
// the exact byte layout, a clear error for each kind of corrupt file, and that a failed save never
// damages the previous file.
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "base/files.h"
#include "nn/checkpoint.h"
#include "tests/test_util.h"

namespace {

using ncf::DType;
using ncf::Shape;
using ncf::Tensor;

using ncf::test::TempDir;

// The message of the ncf::Error that `fn` throws ("" when it throws none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ncf::Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string le64(uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

// A hand-made safetensors file: length, header text as given (unpadded), then `data`.
void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  ncf::write_file_atomically(path, le64(header.size()) + header + data);
}

std::string float_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace

TEST_CASE("safetensors: round trip of f32, f64, i32, u8 in 0-d, 1-d, 2-d and empty shapes, with metadata") {
  TempDir dir;
  const std::string path = dir.path("model.safetensors");
  const std::vector<float> weights = {0.5f, -1.25f, 3.0f, 1e-7f, -0.0f, 42.0f};
  const std::vector<double> moments = {1.0 / 3.0, -2.5e-300, 7.0};
  const std::vector<int32_t> step = {123456789};
  const std::vector<uint8_t> mask = {0, 1, 255, 7};
  ncf::NamedTensors tensors = {
      {"mlp.0.weight", Tensor::from_vector(weights, Shape{2, 3})},
      {"adam.m", Tensor::from_vector(moments, Shape{3})},
      {"step", Tensor::from_vector(step, Shape{})},
      {"mask", Tensor::from_vector(mask, Shape{4})},
      {"empty", Tensor::zeros(Shape{0, 8}, DType::f32)},
  };
  const std::map<std::string, std::string> metadata = {{"format", "ncf"}, {"model", "neumf"}, {"epoch", "3"}};
  ncf::save_safetensors(path, tensors, metadata);

  const ncf::SafetensorsFile file = ncf::load_safetensors(path);
  CHECK(file.metadata == metadata);
  CHECK(file.names == std::vector<std::string>{"mlp.0.weight", "adam.m", "step", "mask", "empty"});
  CHECK(file.at("mlp.0.weight").shape() == Shape{2, 3});
  CHECK(file.at("mlp.0.weight").dtype() == DType::f32);
  CHECK(file.at("mlp.0.weight").to_vector<float>() == weights);
  CHECK(file.at("adam.m").dtype() == DType::f64);
  CHECK(file.at("adam.m").to_vector<double>() == moments);
  CHECK(file.at("step").ndim() == 0);
  CHECK(file.at("step").item<int32_t>() == 123456789);
  CHECK(file.at("mask").to_vector<uint8_t>() == mask);
  CHECK(file.at("empty").shape() == Shape{0, 8});
  CHECK(file.at("empty").numel() == 0);
  CHECK(file.at("mask").device().is_cpu());

  // A view (rows of a larger tensor) saves its own elements only.
  const Tensor big = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{3, 2});
  ncf::save_safetensors(path, {{"rows", big.rows(1, 3)}});
  const auto reloaded = ncf::load_safetensors(path);
  CHECK(reloaded.metadata.empty());
  CHECK(reloaded.at("rows").to_vector<float>() == std::vector<float>{3, 4, 5, 6});

  const std::string missing = error_of([&] { (void)reloaded.at("nope"); });
  CHECK(contains(missing, "no tensor \"nope\""));
  CHECK(contains(missing, "rows"));
}

TEST_CASE("safetensors: the header layout byte for byte") {
  TempDir dir;
  const std::string path = dir.path("tiny.safetensors");
  ncf::save_safetensors(path,
                        {{"a", Tensor::from_vector(std::vector<float>{1.0f, 2.0f}, Shape{2})},
                         {"b", Tensor::from_vector(std::vector<int32_t>{7, 8, 9}, Shape{1, 3})}},
                        {{"k", "v"}});
  std::string header = R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"I32","shape":[1,3],"data_offsets":[8,20]}})";
  header.append((8 - header.size() % 8) % 8, ' ');  // spaces so the data starts 8-byte aligned
  REQUIRE(header.size() % 8 == 0);
  const std::vector<int32_t> b = {7, 8, 9};
  const std::string expected = le64(header.size()) + header + float_bytes({1.0f, 2.0f}) +
                               std::string(reinterpret_cast<const char*>(b.data()), 12);
  const std::string got = ncf::read_file(path);
  CHECK(got.size() == 8 + header.size() + 20);
  CHECK(got.substr(0, 8) == le64(header.size()));
  CHECK(got.substr(8, header.size()) == header);
  CHECK(got == expected);
  // 1.0f is 0x3f800000, little-endian on disk.
  CHECK(static_cast<unsigned char>(got[8 + header.size() + 3]) == 0x3f);
  CHECK(static_cast<unsigned char>(got[8 + header.size() + 2]) == 0x80);
}

TEST_CASE("safetensors: every corrupt file gives an error naming the file and the fault") {
  TempDir dir;
  const std::string path = dir.path("bad.safetensors");
  const std::string data8 = float_bytes({1.0f, 2.0f});
  auto load_error = [&] { return error_of([&] { (void)ncf::load_safetensors(path); }); };
  auto expect = [&](const std::string& part) {
    const std::string message = load_error();
    INFO("message: " << message);
    CHECK(contains(message, path));
    CHECK(contains(message, part));
  };

  SUBCASE("missing file") {
    CHECK(contains(error_of([&] { (void)ncf::load_safetensors(dir.path("none")); }), dir.path("none")));
  }
  SUBCASE("shorter than the length field") {
    ncf::write_file_atomically(path, "abc");
    expect("truncated");
  }
  SUBCASE("header length beyond the file") {
    ncf::write_file_atomically(path, le64(1000) + "{}");
    expect("header length 1000 runs past the end");
  }
  SUBCASE("absurd header length") {
    ncf::write_file_atomically(path, le64(~uint64_t{0}) + "{}");
    expect("runs past the end");
  }
  SUBCASE("header not JSON") {
    write_raw(path, "{\"a\": ", data8);
    expect("not valid JSON");
  }
  SUBCASE("header not an object") {
    write_raw(path, "[1, 2]", data8);
    expect("must be a JSON object");
  }
  SUBCASE("unknown dtype") {
    write_raw(path, R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", data8);
    expect("unsupported dtype \"BF16\"");
  }
  SUBCASE("missing field") {
    write_raw(path, R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", data8);
    expect("needs \"dtype\", \"shape\" and \"data_offsets\"");
  }
  SUBCASE("offsets past the data (truncated data)") {
    write_raw(path, R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8);
    expect("lie outside the 8 data bytes");
  }
  SUBCASE("offsets reversed") {
    write_raw(path, R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data8);
    expect("lie outside");
  }
  SUBCASE("negative offsets") {
    write_raw(path, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", data8);
    expect("non-negative integers");
  }
  SUBCASE("overlapping tensors") {
    write_raw(path,
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
              data8);
    expect("overlap");
  }
  SUBCASE("shape and byte count disagree") {
    write_raw(path, R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", data8);
    expect("needs 16 bytes but data_offsets span 8");
  }
  SUBCASE("shape with a negative dimension") {
    write_raw(path, R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8);
    expect("non-negative integers");
  }
  SUBCASE("shape of more than 4 dimensions") {
    write_raw(path, R"({"a":{"dtype":"U8","shape":[1,1,1,1,8],"data_offsets":[0,8]}})", data8);
    expect("at most 4 dimensions");
  }
  SUBCASE("shape whose size overflows") {
    write_raw(path, R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
              data8);
    expect("too large");
  }
  SUBCASE("metadata value not a string") {
    write_raw(path, R"({"__metadata__":{"epoch":3}})", "");
    expect("metadata \"epoch\" must be a string");
  }
}

TEST_CASE("safetensors: a failed save leaves the previous file intact and no temporary behind") {
  TempDir dir;
  const std::string path = dir.path("model.safetensors");
  const std::vector<float> original = {1, 2, 3};
  ncf::save_safetensors(path, {{"w", Tensor::from_vector(original, Shape{3})}}, {{"epoch", "1"}});
  const std::string before = ncf::read_file(path);
  const Tensor replacement = Tensor::from_vector(std::vector<float>{9, 9}, Shape{2});

  SUBCASE("an undefined tensor") {
    const std::string message = error_of([&] {
      ncf::save_safetensors(path, {{"w", replacement}, {"broken", Tensor()}}, {{"epoch", "2"}});
    });
    CHECK(contains(message, path));
    CHECK(contains(message, "\"broken\" is undefined"));
  }
  SUBCASE("a repeated name") {
    CHECK(contains(error_of([&] {
                     ncf::save_safetensors(path, {{"w", replacement}, {"w", replacement}});
                   }),
                   "repeats"));
  }
  SUBCASE("the temporary file cannot be created") {
    // A folder squatting on the temporary name makes open() fail even for root, unlike chmod.
    const std::string temp = ncf::temporary_path_for(path);
    REQUIRE(::mkdir(temp.c_str(), 0755) == 0);
    const std::string message = error_of([&] { ncf::save_safetensors(path, {{"w", replacement}}); });
    CHECK(contains(message, path));
    CHECK(contains(message, "temporary"));
    ::rmdir(temp.c_str());
  }
  SUBCASE("writing fails half way") {
    // The contents producer throws after some bytes went out: nothing may be renamed.
    CHECK_THROWS_AS(ncf::write_file_atomically_with(path,
                                                    [](const ncf::AppendFn& append) {
                                                      append("partial", 7);
                                                      throw std::runtime_error("disk on fire");
                                                    }),
                    std::runtime_error);
  }
  SUBCASE("the target folder does not exist") {
    const std::string elsewhere = dir.path("no/such/folder/model.safetensors");
    CHECK(contains(error_of([&] { ncf::save_safetensors(elsewhere, {{"w", replacement}}); }), elsewhere));
  }

  CHECK(ncf::read_file(path) == before);
  const auto file = ncf::load_safetensors(path);
  CHECK(file.at("w").to_vector<float>() == original);
  CHECK(file.metadata.at("epoch") == "1");
  CHECK_FALSE(ncf::is_regular_file(ncf::temporary_path_for(path)));
}

TEST_CASE("write_file_atomically writes, replaces, and reports the file it could not write") {
  TempDir dir;
  const std::string path = dir.path("metrics.json");
  ncf::write_file_atomically(path, "{\"a\": 1}\n");
  CHECK(ncf::read_file(path) == "{\"a\": 1}\n");
  ncf::write_file_atomically(path, "");
  CHECK(ncf::read_file(path).empty());
  ncf::write_file_atomically(path, std::string("bin\0ary", 7));
  CHECK(ncf::read_file(path).size() == 7);
  CHECK_FALSE(ncf::is_regular_file(ncf::temporary_path_for(path)));

  CHECK(contains(error_of([&] { ncf::write_file_atomically(dir.dir(), "x"); }), "is a folder"));
  CHECK(contains(error_of([&] { (void)ncf::read_file(dir.path("absent.txt")); }), dir.path("absent.txt")));
  CHECK(ncf::is_directory(dir.dir()));
  CHECK_FALSE(ncf::is_regular_file(dir.dir()));
}
