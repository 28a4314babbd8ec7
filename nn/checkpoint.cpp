// Safetensors writer and validating reader (see checkpoint.h for the layout).
#include "nn/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace ncf {
namespace {

// The raw bytes are written as the host holds them; safetensors specifies little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

constexpr const char* kMetadataKey = "__metadata__";
// A bound on the header size, as the reference implementation has, so a corrupt length cannot make us
// allocate gigabytes before noticing.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

bool parse_dtype(const std::string& name, DType* dtype) {
  static const std::pair<const char*, DType> kDTypes[] = {
      {"F32", DType::f32}, {"F64", DType::f64}, {"I32", DType::i32}, {"U8", DType::u8}};
  for (const auto& [text, value] : kDTypes) {
    if (name == text) {
      *dtype = value;
      return true;
    }
  }
  return false;
}

Shape make_shape(const std::vector<int64_t>& dims) {
  Shape shape;
  switch (dims.size()) {
    case 0:
      shape = Shape{};
      break;
    case 1:
      shape = Shape{dims[0]};
      break;
    case 2:
      shape = Shape{dims[0], dims[1]};
      break;
    case 3:
      shape = Shape{dims[0], dims[1], dims[2]};
      break;
    default:
      shape = Shape{dims[0], dims[1], dims[2], dims[3]};
      break;
  }
  return shape;
}

// Little-endian u64 from 8 bytes, independent of alignment.
uint64_t read_u64_le(const char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void append_u64_le(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i32:
      return "I32";
    case DType::u8:
      return "U8";
  }
  NCF_FAIL("safetensors: unknown dtype " << static_cast<int>(dtype));
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Validate and lay out everything before touching the disk.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    NCF_CHECK(!name.empty(), "cannot save " << path << ": a tensor has an empty name");
    NCF_CHECK(name != kMetadataKey, "cannot save " << path << ": \"" << kMetadataKey << "\" is reserved");
    NCF_CHECK(seen.insert(name).second, "cannot save " << path << ": tensor name \"" << name << "\" repeats");
    NCF_CHECK(tensor.defined(), "cannot save " << path << ": tensor \"" << name << "\" is undefined");
    nlohmann::ordered_json entry;
    entry["dtype"] = safetensors_dtype_name(tensor.dtype());
    nlohmann::ordered_json shape = nlohmann::ordered_json::array();
    for (int i = 0; i < tensor.ndim(); ++i) shape.push_back(tensor.dim(i));
    entry["shape"] = std::move(shape);
    entry["data_offsets"] = {offset, offset + tensor.nbytes()};
    offset += tensor.nbytes();
    header[name] = std::move(entry);
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data starts 8-byte aligned (8 + N is a multiple of 8), as the reference does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string prefix;
  append_u64_le(prefix, header_text.size());
  prefix += header_text;

  write_file_atomically_with(path, [&](const AppendFn& append) {
    append(prefix.data(), prefix.size());
    for (const auto& [name, tensor] : tensors) {
      if (tensor.nbytes() == 0) continue;
      if (tensor.device().is_cpu()) {
        append(tensor.raw_data(), tensor.nbytes());
      } else {
        const Tensor host = tensor.to(Device::cpu());  // one tensor at a time bounds the host memory
        append(host.raw_data(), host.nbytes());
      }
    }
  });
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string present;
    for (const auto& n : names) present += (present.empty() ? "" : ", ") + n;
    NCF_FAIL(path << " has no tensor \"" << name << "\" (it has: " << (present.empty() ? "none" : present)
                  << ")");
  }
  return it->second;
}

const std::string& SafetensorsFile::meta(const std::string& key) const {
  auto it = metadata.find(key);
  NCF_CHECK(it != metadata.end(), path << " has no metadata entry \"" << key << "\" in its __metadata__");
  return it->second;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  const std::string where = "safetensors file " + path;
  NCF_CHECK(bytes.size() >= 8,
            where << " is truncated: " << bytes.size() << " bytes, fewer than the 8-byte header length");
  const uint64_t header_size = read_u64_le(bytes.data());
  NCF_CHECK(header_size <= bytes.size() - 8 && header_size <= kMaxHeaderBytes,
            where << ": header length " << header_size << " runs past the end of the file (" << bytes.size()
                  << " bytes); truncated or not a safetensors file");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8,
                                   bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  } catch (const nlohmann::json::parse_error& e) {
    NCF_FAIL(where << ": the header is not valid JSON (" << e.what() << ")");
  }
  NCF_CHECK(header.is_object(), where << ": the header must be a JSON object, got " << header.type_name());

  const uint64_t data_size = bytes.size() - 8 - header_size;
  const char* data = bytes.data() + 8 + header_size;
  SafetensorsFile file;
  file.path = path;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      NCF_CHECK(value.is_object() || value.is_null(), where << ": \"__metadata__\" must be an object");
      if (value.is_null()) continue;
      for (const auto& [key, text] : value.items()) {
        NCF_CHECK(text.is_string(),
                  where << ": metadata \"" << key << "\" must be a string, got " << text.dump());
        file.metadata[key] = text.get<std::string>();
      }
      continue;
    }
    const std::string what = where + ": tensor \"" + name + "\"";
    NCF_CHECK(value.is_object(), what << " must be an object, got " << value.dump());
    NCF_CHECK(value.contains("dtype") && value.contains("shape") && value.contains("data_offsets"),
              what << " needs \"dtype\", \"shape\" and \"data_offsets\", got " << value.dump());
    const auto& dtype_json = value["dtype"];
    Entry entry{name, DType::f32, Shape{}, 0, 0};
    NCF_CHECK(dtype_json.is_string() && parse_dtype(dtype_json.get<std::string>(), &entry.dtype),
              what << " has unsupported dtype " << dtype_json.dump() << " (supported: F32, F64, I32, U8)");

    const auto& shape_json = value["shape"];
    NCF_CHECK(shape_json.is_array() && shape_json.size() <= static_cast<size_t>(Shape::kMaxDims),
              what << ": shape must be an array of at most " << Shape::kMaxDims << " dimensions, got "
                   << shape_json.dump());
    std::vector<int64_t> dims;
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : shape_json) {
      NCF_CHECK(d.is_number_unsigned(),
                what << ": shape entries must be non-negative integers, got " << shape_json.dump());
      const uint64_t n = d.get<uint64_t>();
      // Guard the product against wrap-around: a corrupt shape must fail the size check, not pass it.
      if (n != 0 && numel > std::numeric_limits<int64_t>::max() / n) overflow = true;
      numel *= n;
      dims.push_back(static_cast<int64_t>(std::min<uint64_t>(n, std::numeric_limits<int64_t>::max())));
    }
    NCF_CHECK(!overflow, what << ": shape " << shape_json.dump() << " is too large");
    entry.shape = make_shape(dims);

    const auto& offsets = value["data_offsets"];
    NCF_CHECK(
        offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
            offsets[1].is_number_unsigned(),
        what << ": data_offsets must be [begin, end] with non-negative integers, got " << offsets.dump());
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    NCF_CHECK(entry.begin <= entry.end && entry.end <= data_size,
              what << ": data_offsets [" << entry.begin << ", " << entry.end << "] lie outside the "
                   << data_size << " data bytes (truncated file?)");
    const uint64_t expected = numel * dtype_size(entry.dtype);
    NCF_CHECK(entry.end - entry.begin == expected,
              what << ": shape " << entry.shape << " of " << dtype_json.get<std::string>() << " needs "
                   << expected << " bytes but data_offsets span " << entry.end - entry.begin);
    entries.push_back(std::move(entry));
  }

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < entries.size(); ++i) {
    // Empty tensors occupy no bytes and may sit anywhere; only real byte ranges can overlap.
    const Entry& prev = entries[i - 1];
    const Entry& cur = entries[i];
    NCF_CHECK(cur.begin >= prev.end || prev.begin == prev.end || cur.begin == cur.end,
              where << ": tensors \"" << prev.name << "\" [" << prev.begin << ", " << prev.end << ") and \""
                    << cur.name << "\" [" << cur.begin << ", " << cur.end << ") overlap");
  }

  for (const Entry& entry : entries) {
    Tensor tensor = Tensor::empty(entry.shape, entry.dtype, Device::cpu());
    if (entry.end > entry.begin) std::memcpy(tensor.raw_data(), data + entry.begin, entry.end - entry.begin);
    file.names.push_back(entry.name);
    file.tensors.emplace(entry.name, std::move(tensor));
  }
  return file;
}

}  // namespace ncf
