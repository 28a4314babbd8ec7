// The communicators (one process; MPI when the build has it), the batch slices of the ranks and the
// sum of the gradients over the ranks (recsys/distributed.h says how and why).
#include "recsys/distributed.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>

#include "base/parse.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/index.h"

#ifdef NCF_HAS_MPI
// Only MPI's C interface is used: skip the deprecated C++ bindings (and their warnings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif
#ifdef NCF_HAS_CUDA
#include "tensor/cuda_context.h"
#endif
#ifdef NCF_HAS_NCCL
#include <nccl.h>
#endif

namespace ncf::recsys {

void Communicator::device_allreduce_sum(Tensor& values) {
  throw Error(describe() + " has no device collectives (this build has no NCCL): cannot sum " +
              values.describe() + " on its GPU");
}
void Communicator::device_allgather(const Tensor& mine, Tensor&) {
  throw Error(describe() + " has no device collectives (this build has no NCCL): cannot gather " +
              mine.describe() + " on its GPU");
}

// ---- one process -------------------------------------------------------------------------------

void SingleProcess::allgather(const int64_t* data, int64_t count, int64_t* out) {
  std::copy(data, data + count, out);
}
void SingleProcess::allgatherv(const int32_t* data, const std::vector<int64_t>& counts, int32_t* out) {
  std::copy(data, data + counts.at(0), out);
}
void SingleProcess::allgatherv(const float* data, const std::vector<int64_t>& counts, float* out) {
  std::copy(data, data + counts.at(0), out);
}
void SingleProcess::abort(int exit_code) { std::_Exit(exit_code); }

// ---- MPI ---------------------------------------------------------------------------------------

#ifdef NCF_HAS_MPI
namespace {

// Every MPI call goes through this: an error becomes an ncf::Error naming the call, where it was
// made and MPI's own words for the error (the communicator returns errors instead of aborting).
void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) std::strcpy(text, "(no error string)");
  std::ostringstream message;
  message << call << " failed with MPI error " << code << ": " << std::string(text, length);
  throw_error(file, line, message.str());
}
#define NCF_MPI_CHECK(call) check_mpi((call), #call, __FILE__, __LINE__)

#ifdef NCF_HAS_NCCL
void check_nccl(ncclResult_t code, const char* call, const char* file, int line) {
  if (code == ncclSuccess) return;
  std::ostringstream message;
  message << call << " failed with NCCL error " << static_cast<int>(code) << ": " << ncclGetErrorString(code);
  throw_error(file, line, message.str());
}
#define NCF_NCCL_CHECK(call) check_nccl((call), #call, __FILE__, __LINE__)
#endif

// MPI counts are int: a larger message is an error here rather than a silent wrap.
int mpi_count(int64_t count, const char* what) {
  NCF_CHECK(count >= 0 && count <= INT_MAX,
            what << ": " << count << " values do not fit one MPI message (at most " << INT_MAX << ")");
  return static_cast<int>(count);
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    NCF_MPI_CHECK(MPI_Initialized(&initialized));
    if (!initialized) {
      // FUNNELED: OpenMP threads compute, only the main thread talks to MPI.
      int provided = 0;
      NCF_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
      owns_mpi_ = true;
    }
    NCF_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    NCF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    NCF_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    NCF_MPI_CHECK(MPI_Get_library_version(version, &length));
    library_ = std::string(version, length);
    library_ = library_.substr(0, library_.find_first_of(",\n"));
  }
  ~MpiCommunicator() override {
#ifdef NCF_HAS_NCCL
    if (nccl_ != nullptr) ncclCommDestroy(nccl_);  // before MPI goes: NCCL's bootstrap may use it
#endif
    int finalized = 1;
    if (owns_mpi_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    return "MPI: " + std::to_string(size_) + " ranks (" + library_ + ")" + nccl_description_;
  }
  void allreduce_sum(float* data, int64_t count) override {
    NCF_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(count, "allreduce_sum"), MPI_FLOAT, MPI_SUM,
                                MPI_COMM_WORLD));
  }
  void allreduce_sum(double* data, int64_t count) override {
    NCF_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(count, "allreduce_sum"), MPI_DOUBLE, MPI_SUM,
                                MPI_COMM_WORLD));
  }
  void allgather(const int64_t* data, int64_t count, int64_t* out) override {
    const int n = mpi_count(count, "allgather");
    NCF_MPI_CHECK(MPI_Allgather(data, n, MPI_INT64_T, out, n, MPI_INT64_T, MPI_COMM_WORLD));
  }
  void allgatherv(const int32_t* data, const std::vector<int64_t>& counts, int32_t* out) override {
    gatherv(data, counts, out, MPI_INT32_T);
  }
  void allgatherv(const float* data, const std::vector<int64_t>& counts, float* out) override {
    gatherv(data, counts, out, MPI_FLOAT);
  }
  void barrier() override { NCF_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

#ifdef NCF_HAS_NCCL
  // NCCL's communicator is made here, once: rank 0 draws the unique id, MPI broadcasts it, and every
  // rank joins with its own GPU. Its collectives run on that GPU's stream, ordered with the step's
  // kernels, so none of them makes the host wait.
  bool use_device(Device device) override {
    if (!device.is_cuda()) return false;
    if (nccl_ != nullptr) {
      NCF_CHECK(device == nccl_device_,
                "use_device: NCCL already runs on " << nccl_device_ << ", not " << device);
      return true;
    }
    ncclUniqueId id{};
    if (rank_ == 0) NCF_NCCL_CHECK(ncclGetUniqueId(&id));
    NCF_MPI_CHECK(MPI_Bcast(&id, static_cast<int>(sizeof id), MPI_BYTE, 0, MPI_COMM_WORLD));
    NCF_CUDA_CHECK(cudaSetDevice(device.index));
    NCF_NCCL_CHECK(ncclCommInitRank(&nccl_, size_, id, rank_));
    nccl_device_ = device;
    int version = 0;
    NCF_NCCL_CHECK(ncclGetVersion(&version));
    nccl_description_ = ", NCCL " + std::to_string(version) + " on " + device.str();
    return true;
  }
  bool has_device_collectives() const override { return nccl_ != nullptr; }
  void device_allreduce_sum(Tensor& values) override {
    check_on_nccl_device(values, "device_allreduce_sum");
    NCF_CHECK(values.dtype() == DType::f32, "device_allreduce_sum: f32 only, got " << values.describe());
    NCF_NCCL_CHECK(ncclAllReduce(values.raw_data(), values.raw_data(), static_cast<size_t>(values.numel()),
                                 ncclFloat, ncclSum, nccl_, cuda_stream(nccl_device_.index)));
  }
  void device_allgather(const Tensor& mine, Tensor& all) override {
    check_on_nccl_device(mine, "device_allgather");
    check_on_nccl_device(all, "device_allgather");
    NCF_CHECK(mine.dtype() == all.dtype() && (mine.dtype() == DType::f32 || mine.dtype() == DType::i32) &&
                  all.numel() == mine.numel() * size_,
              "device_allgather: " << mine.describe() << " from each of " << size_ << " ranks into "
                                   << all.describe());
    NCF_NCCL_CHECK(ncclAllGather(mine.raw_data(), all.raw_data(), static_cast<size_t>(mine.numel()),
                                 mine.dtype() == DType::f32 ? ncclFloat : ncclInt32, nccl_,
                                 cuda_stream(nccl_device_.index)));
  }
#endif

  void abort(int exit_code) override {
    std::cerr.flush();
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort should not return; if it does, this rank still ends
  }

 private:
  void gatherv(const void* data, const std::vector<int64_t>& counts, void* out, MPI_Datatype type) {
    NCF_CHECK(static_cast<int>(counts.size()) == size_,
              "allgatherv: " << counts.size() << " counts for " << size_ << " ranks");
    std::vector<int> receive(size_), offsets(size_);
    int64_t total = 0;
    for (int r = 0; r < size_; ++r) {
      receive[r] = mpi_count(counts[r], "allgatherv");
      offsets[r] = mpi_count(total, "allgatherv offset");
      total += counts[r];
    }
    mpi_count(total, "allgatherv total");
    NCF_MPI_CHECK(MPI_Allgatherv(data, receive[rank_], type, out, receive.data(), offsets.data(), type,
                                 MPI_COMM_WORLD));
  }

#ifdef NCF_HAS_NCCL
  void check_on_nccl_device(const Tensor& t, const char* op) const {
    NCF_CHECK(nccl_ != nullptr, op << ": call use_device first");
    NCF_CHECK(t.device() == nccl_device_, op << ": " << t.describe() << " is not on NCCL's " << nccl_device_);
  }
  ncclComm_t nccl_ = nullptr;
  Device nccl_device_;
#endif
  int rank_ = 0, size_ = 1;
  bool owns_mpi_ = false;
  std::string library_, nccl_description_;
};

}  // namespace
#endif

bool built_with_mpi() {
#ifdef NCF_HAS_MPI
  return true;
#else
  return false;
#endif
}

int launcher_world_size(const std::function<const char*(const char*)>& getenv) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* value = getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::optional<int64_t> size = to_int64(value);
    NCF_CHECK(size && *size >= 1 && *size <= INT_MAX,
              name << " is '" << value << "', not a number of ranks (an integer >= 1)");
    return static_cast<int>(*size);
  }
  return 1;
}

int launcher_world_size() {
  return launcher_world_size([](const char* name) { return std::getenv(name); });
}

std::unique_ptr<Communicator> make_communicator(bool distributed) {
  const int world = launcher_world_size();
  if (!built_with_mpi()) {
    NCF_CHECK(world <= 1 && !distributed,
              "this build has no MPI, so it cannot train on several ranks ("
                  << (distributed ? "--distributed was given"
                                  : "the launcher announces " + std::to_string(world) + " ranks")
                  << "): install Open MPI (apt-get install libopenmpi-dev openmpi-bin, or make deps) and "
                     "rebuild with -DNCF_WITH_MPI=ON");
    return std::make_unique<SingleProcess>();
  }
#ifdef NCF_HAS_MPI
  if (world > 1 || distributed) return std::make_unique<MpiCommunicator>();
#endif
  return std::make_unique<SingleProcess>();
}

Device rank_device(Device requested, const Communicator& communicator) {
  if (!requested.is_cuda() || communicator.size() == 1) return requested;
  int local_rank = communicator.rank();
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::optional<int64_t> parsed = to_int64(value);
    NCF_CHECK(parsed && *parsed >= 0 && *parsed <= INT_MAX,
              name << " is '" << value << "', not a local rank");
    local_rank = static_cast<int>(*parsed);
    break;
  }
  int gpus = 1;
#ifdef NCF_HAS_CUDA
  NCF_CUDA_CHECK(cudaGetDeviceCount(&gpus));
#endif
  return Device::cuda(local_rank % std::max(gpus, 1));
}

// ---- batch slices ------------------------------------------------------------------------------

data::BatchRange local_rows(data::BatchRange global, int rank, int size, int64_t alignment) {
  NCF_CHECK(size >= 1 && rank >= 0 && rank < size && alignment >= 1,
            "local_rows: rank " << rank << " of " << size << " ranks, alignment " << alignment);
  const int64_t units = (global.size() + alignment - 1) / alignment;
  const auto boundary = [&](int64_t r) {
    return std::min(global.end, global.begin + units * r / size * alignment);
  };
  return {boundary(rank), boundary(rank + 1)};
}

// ---- gradients ---------------------------------------------------------------------------------

namespace {

Tensor on_host(const Tensor& t) { return t.device().is_cpu() ? t : t.to(Device::cpu()); }

// What each rank announces for a parameter before the exchange: how its gradient will travel.
constexpr int64_t kNoGradient = -1;
constexpr int64_t kDenseGradient = -2;  // >= 0: a row-sparse gradient of that many rows

// A row-sparse gradient on the host, without the GPU's padding entries (index == num_rows).
ops::RowSparse host_rows(const ops::RowSparse& sparse) {
  ops::RowSparse host{on_host(sparse.indices), on_host(sparse.rows), sparse.num_rows};
  const int32_t* idx = host.indices.data<int32_t>();
  const int64_t capacity = host.indices.numel();
  const int64_t count = std::lower_bound(idx, idx + capacity, static_cast<int32_t>(sparse.num_rows)) - idx;
  if (count < capacity) host.indices = host.indices.rows(0, count), host.rows = host.rows.rows(0, count);
  return host;
}

// Which gradient kind each parameter travels as, from every rank's announcement (`all`, rank-major):
// dense on any rank makes it dense everywhere (a rank's row-sparse part is spread out); else
// row-sparse (0) when any rank has rows; else none.
std::vector<int64_t> travel_kinds(const std::vector<int64_t>& all, int ranks, int64_t count) {
  std::vector<int64_t> kind(static_cast<size_t>(count), kNoGradient);
  for (int64_t p = 0; p < count; ++p)
    for (int r = 0; r < ranks; ++r) {
      const int64_t a = all[r * count + p];
      if (a == kDenseGradient || kind[p] == kDenseGradient)
        kind[p] = kDenseGradient;
      else if (a >= 0)
        kind[p] = std::max<int64_t>(kind[p], 0);
    }
  return kind;
}

// sum_gradients with NCCL, every gradient on this rank's GPU and nothing read by the host. A
// row-sparse gradient there is padded (ops::RowSparse): its capacity, known on the host, is what
// travels; each rank's block is padded to the largest capacity, so that one all-gather of equal
// blocks suffices, and the gathered blocks, in rank order, are summed by the stable segmented sum
// (padding dropped): the host path's combination, in the same order.
void sum_gradients_on_device(Communicator& communicator, const std::vector<nn::NamedParameter>& parameters) {
  const int ranks = communicator.size();
  const int64_t count = static_cast<int64_t>(parameters.size());
  std::vector<int64_t> mine(parameters.size()), all(static_cast<size_t>(ranks * count));
  for (int64_t p = 0; p < count; ++p) {
    const ag::Variable& v = parameters[p].second;
    NCF_CHECK(v.value().is_cuda() && v.value().dtype() == DType::f32,
              "sum_gradients on the GPU: " << parameters[p].first << " is " << v.value().describe()
                                           << "; every parameter must be f32 on this rank's GPU");
    mine[p] = v.grad().defined()                  ? kDenseGradient
              : v.sparse_grad().indices.defined() ? v.sparse_grad().indices.numel()
                                                  : kNoGradient;
  }
  communicator.allgather(mine.data(), count, all.data());  // a few numbers, on the host
  const std::vector<int64_t> kind = travel_kinds(all, ranks, count);

  // Dense: packed into one device buffer, one all-reduce; each gradient becomes a view of the sum.
  int64_t dense_total = 0;
  for (int64_t p = 0; p < count; ++p)
    if (kind[p] == kDenseGradient) dense_total += parameters[p].second.value().numel();
  if (dense_total > 0) {
    const Device device = parameters[0].second.value().device();
    Tensor packed = Tensor::empty({dense_total}, DType::f32, device);
    int64_t offset = 0;
    for (int64_t p = 0; p < count; ++p) {
      if (kind[p] != kDenseGradient) continue;
      const Tensor g = parameters[p].second.dense_grad();
      packed.rows(offset, offset + g.numel()).copy_from(g.view({g.numel()}));
      offset += g.numel();
    }
    communicator.device_allreduce_sum(packed);
    offset = 0;
    for (int64_t p = 0; p < count; ++p) {
      if (kind[p] != kDenseGradient) continue;
      ag::Variable v = parameters[p].second;
      const int64_t n = v.value().numel();
      v.impl()->grad = packed.rows(offset, offset + n).view(v.value().shape());
      v.impl()->sparse_grad = ops::RowSparse{};
      offset += n;
    }
  }

  // Row-sparse: one all-gather of indices and one of rows per table.
  for (int64_t p = 0; p < count; ++p) {
    if (kind[p] != 0) continue;
    ag::Variable v = parameters[p].second;
    const int64_t table_rows = v.value().dim(0), width = v.value().dim(1);
    int64_t capacity = 0;
    for (int r = 0; r < ranks; ++r) capacity = std::max(capacity, all[r * count + p]);
    if (capacity == 0) continue;  // every rank's gradient is empty: keep this rank's (empty) one
    const Device device = v.value().device();
    Tensor send_indices = Tensor::empty({capacity}, DType::i32, device);
    ops::fill_(send_indices, static_cast<double>(table_rows));  // padding: index num_rows
    Tensor send_rows = Tensor::zeros({capacity, width}, DType::f32, device);
    if (mine[p] > 0) {
      send_indices.rows(0, mine[p]).copy_from(v.sparse_grad().indices);
      send_rows.rows(0, mine[p]).copy_from(v.sparse_grad().rows);
    }
    Tensor indices = Tensor::empty({ranks * capacity}, DType::i32, device);
    Tensor rows = Tensor::empty({ranks * capacity, width}, DType::f32, device);
    communicator.device_allgather(send_indices, indices);
    communicator.device_allgather(send_rows, rows);
    // Rank 0's block plus the others' (already in rank order): one stable segmented sum of them all.
    v.impl()->sparse_grad = ops::add_row_sparse(
        {indices.rows(0, capacity), rows.rows(0, capacity), table_rows},
        {indices.rows(capacity, ranks * capacity), rows.rows(capacity, ranks * capacity), table_rows});
  }
}

}  // namespace

void sum_gradients(Communicator& communicator, const std::vector<nn::NamedParameter>& parameters) {
  const int ranks = communicator.size();
  if (ranks == 1) return;
  if (communicator.has_device_collectives()) return sum_gradients_on_device(communicator, parameters);
  const int64_t count = static_cast<int64_t>(parameters.size());

  // 1. What each rank holds, for every parameter: none, dense, or row-sparse with how many rows.
  std::vector<ops::RowSparse> local(parameters.size());
  std::vector<int64_t> mine(parameters.size()), all(static_cast<size_t>(ranks * count));
  for (int64_t p = 0; p < count; ++p) {
    const ag::Variable& v = parameters[p].second;
    if (v.grad().defined()) {
      mine[p] = kDenseGradient;
    } else if (v.sparse_grad().indices.defined()) {
      local[p] = host_rows(v.sparse_grad());
      NCF_CHECK(local[p].rows.dtype() == DType::f32,
                "sum_gradients: " << parameters[p].first << " has a " << local[p].rows.describe()
                                  << " gradient; only f32 travels between ranks");
      mine[p] = local[p].indices.numel();
    } else {
      mine[p] = kNoGradient;
    }
  }
  communicator.allgather(mine.data(), count, all.data());
  const std::vector<int64_t> kind = travel_kinds(all, ranks, count);

  // 2. Dense gradients: one buffer, one allreduce.
  std::vector<float> dense;
  for (int64_t p = 0; p < count; ++p) {
    if (kind[p] != kDenseGradient) continue;
    const Tensor g = on_host(parameters[p].second.dense_grad());
    NCF_CHECK(g.dtype() == DType::f32, "sum_gradients: " << parameters[p].first << " has a " << g.describe()
                                                         << " gradient; only f32 travels between ranks");
    dense.insert(dense.end(), g.data<float>(), g.data<float>() + g.numel());
  }
  if (!dense.empty()) communicator.allreduce_sum(dense.data(), static_cast<int64_t>(dense.size()));

  // 3. Row-sparse gradients: every rank's (indices, rows) of every table, in rank order, in one
  //    allgatherv of 4-byte words: a rank's block is its indices (their bits) and then its rows.
  //    One collective rather than two: each one is a point where every rank waits for the slowest.
  std::vector<int32_t> my_indices;
  std::vector<float> my_rows;
  std::vector<int64_t> index_counts(ranks, 0), row_counts(ranks, 0);
  for (int64_t p = 0; p < count; ++p) {
    if (kind[p] != 0) continue;
    const int64_t width = parameters[p].second.value().dim(1);
    for (int r = 0; r < ranks; ++r) {
      const int64_t rows = std::max<int64_t>(0, all[r * count + p]);
      index_counts[r] += rows;
      row_counts[r] += rows * width;
    }
    if (mine[p] > 0) {
      const int32_t* idx = local[p].indices.data<int32_t>();
      const float* values = local[p].rows.data<float>();
      my_indices.insert(my_indices.end(), idx, idx + mine[p]);
      my_rows.insert(my_rows.end(), values, values + mine[p] * width);
    }
  }
  static_assert(sizeof(int32_t) == sizeof(float), "indices travel as 4-byte words beside the rows");
  std::vector<float> my_block(my_indices.size() + my_rows.size());
  if (!my_indices.empty())
    std::memcpy(my_block.data(), my_indices.data(), my_indices.size() * sizeof(int32_t));
  std::copy(my_rows.begin(), my_rows.end(), my_block.begin() + static_cast<int64_t>(my_indices.size()));
  std::vector<int64_t> block_counts(ranks);
  int64_t total = 0;
  for (int r = 0; r < ranks; ++r) block_counts[r] = index_counts[r] + row_counts[r], total += block_counts[r];
  std::vector<float> words(total);
  if (total > 0) communicator.allgatherv(my_block.data(), block_counts, words.data());

  // 4. Put the sums back. A table's gathered pieces are concatenated in rank order and summed by
  //    the stable segmented sum: the same bits on every rank.
  std::vector<int64_t> index_start(ranks, 0), row_start(ranks, 0);  // each rank's next index and row
  for (int r = 0; r < ranks; ++r) {
    index_start[r] = r == 0 ? 0 : index_start[r - 1] + block_counts[r - 1];
    row_start[r] = index_start[r] + index_counts[r];
  }
  int64_t dense_offset = 0;
  for (int64_t p = 0; p < count; ++p) {
    ag::Variable v = parameters[p].second;
    ag::VariableImpl& impl = *v.impl();
    const Device device = v.value().device();
    if (kind[p] == kDenseGradient) {
      const int64_t n = v.value().numel();
      const std::vector<float> sum(dense.begin() + dense_offset, dense.begin() + dense_offset + n);
      dense_offset += n;
      impl.grad = Tensor::from_vector(sum, v.value().shape(), device);
      impl.sparse_grad = ops::RowSparse{};
    } else if (kind[p] == 0) {
      const int64_t width = v.value().dim(1);
      std::vector<int32_t> table_indices;
      std::vector<float> table_rows;
      for (int r = 0; r < ranks; ++r) {
        const int64_t n = std::max<int64_t>(0, all[r * count + p]);
        table_indices.resize(table_indices.size() + n);
        if (n > 0)
          std::memcpy(table_indices.data() + table_indices.size() - n, words.data() + index_start[r],
                      n * sizeof(int32_t));
        table_rows.insert(table_rows.end(), words.begin() + row_start[r],
                          words.begin() + row_start[r] + n * width);
        index_start[r] += n;
        row_start[r] += n * width;
      }
      const int64_t n = static_cast<int64_t>(table_indices.size());
      if (n == 0) {  // every rank's gradient was empty: keep this rank's (empty) one
        impl.sparse_grad = local[p];
        continue;
      }
      ops::RowSparse sum =
          ops::segment_sum_rows(Tensor::from_vector(table_indices, {n}),
                                Tensor::from_vector(table_rows, {n, width}), v.value().dim(0));
      if (!device.is_cpu()) sum = {sum.indices.to(device), sum.rows.to(device), sum.num_rows};
      impl.sparse_grad = sum;
    }
  }
}

// ---- evaluation --------------------------------------------------------------------------------

namespace {

// Each rank computes the per-user results (0-based rank of the positive, number of candidates) of
// its contiguous share of `users` evaluation users; they are gathered in user order and averaged
// as one process averages them.
template <class RanksOf>
RankingMetrics gathered_metrics(Communicator& communicator, int64_t users, int64_t k,
                                const RanksOf& ranks_of) {
  const int ranks = communicator.size();
  const data::BatchRange mine = local_rows({0, users}, communicator.rank(), ranks);
  std::vector<int64_t> my_ranks, my_counts;
  ranks_of(mine.begin, mine.end, my_ranks, my_counts);
  if (ranks == 1) return ranking_metrics(my_ranks, my_counts, k);
  // Ranks and candidate counts are below the item count, so they travel as int32, both in one block
  // per rank: [ranks..., counts...].
  std::vector<int32_t> block;
  for (const int64_t r : my_ranks) block.push_back(static_cast<int32_t>(r));
  for (const int64_t c : my_counts) block.push_back(static_cast<int32_t>(c));
  std::vector<int64_t> sizes(ranks);
  for (int r = 0; r < ranks; ++r) sizes[r] = 2 * local_rows({0, users}, r, ranks).size();
  std::vector<int32_t> gathered(2 * users);
  communicator.allgatherv(block.data(), sizes, gathered.data());
  std::vector<int64_t> all_ranks, all_counts;
  int64_t offset = 0;
  for (int r = 0; r < ranks; ++r) {
    const int64_t n = sizes[r] / 2;
    all_ranks.insert(all_ranks.end(), gathered.begin() + offset, gathered.begin() + offset + n);
    all_counts.insert(all_counts.end(), gathered.begin() + offset + n, gathered.begin() + offset + 2 * n);
    offset += 2 * n;
  }
  return ranking_metrics(all_ranks, all_counts, k);
}

}  // namespace

RankingMetrics sampled_metrics(Communicator& communicator, const Evaluator& evaluator, const Scorer& scorer) {
  return gathered_metrics(
      communicator, evaluator.users(), evaluator.k(),
      [&](int64_t begin, int64_t end, std::vector<int64_t>& ranks, std::vector<int64_t>& counts) {
        evaluator.sampled_ranks(scorer, begin, end, ranks, counts);
      });
}

RankingMetrics full_ranking_metrics(Communicator& communicator, const Evaluator& evaluator,
                                    const BlockScorer& scorer) {
  return gathered_metrics(
      communicator, evaluator.users(), evaluator.k(),
      [&](int64_t begin, int64_t end, std::vector<int64_t>& ranks, std::vector<int64_t>& counts) {
        evaluator.full_ranking_ranks(scorer, begin, end, ranks, counts);
      });
}

}  // namespace ncf::recsys
