// Data-parallel training across processes: the communicator between ranks and the two things the
// trainer asks of it, which rows of a global batch a rank trains on and the sum of the ranks'
// gradients.
//
// Every rank holds the whole model and draws the same epoch (same seed, same sampler); a global
// batch of B rows is cut into N contiguous slices, rank r taking rows [r B / N, (r + 1) B / N) of it
// (in units of a BPR group). Rank r scales its mean loss by b_r / B, so the sum over ranks of the
// gradients is the gradient of the single-process mean loss of the global batch (the embedding
// penalty is a mean over the batch's rows too, so it counts once, not N times). After backward the
// gradients are summed over the ranks and every rank takes the same optimizer step, so the
// parameters stay equal on every rank without ever being sent.
//
// How gradients travel:
//   dense (the layers' weights): one MPI_Allreduce over all of them packed in one buffer;
//   row-sparse (embedding tables): each rank's (indices, rows) gathered from every rank in rank
//     order (allgather of the counts, then one allgatherv of indices and rows together) and
//     combined by the same stable segmented sum the single process uses, so every rank holds the
//     same bits.
// The result equals the single-process gradient up to the order of float sums (each rank sums its
// slice first), which is why two ranks agree with one to rounding, not to the bit.
//
// Evaluation is split too: each rank ranks its share of the test users, on the sampled protocol
// and in full ranking, and the per-user ranks are gathered (sampled_metrics, full_ranking_metrics):
// the single process's metrics to the bit, given the same parameters.
//
// The communicator is MPI when the build has it (NCF_WITH_MPI) and the process runs under a launcher
// (mpirun) with more than one rank, or when asked for; else a single process. GPU ranks (one GPU
// each) sum their gradients with NCCL where the build has it (NCF_WITH_NCCL; its communicator is
// bootstrapped through MPI): the dense ones packed into one device buffer and all-reduced, the
// row-sparse ones all-gathered in their padded GPU form (every rank's block padded to the largest)
// and combined by the same stable segmented sum, all on the device's stream with no host wait.
// Without NCCL, GPU tensors are staged through host memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/batches.h"
#include "nn/module.h"
#include "recsys/evaluator.h"

namespace ncf::recsys {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string describe() const = 0;  // "single process", "MPI: 2 ranks (Open MPI v4.1.4)"

  // Sums `count` values over the ranks, in place; every rank receives the same values.
  virtual void allreduce_sum(float* data, int64_t count) = 0;
  virtual void allreduce_sum(double* data, int64_t count) = 0;
  // Every rank's `count` values, in rank order, into out (size() * count values).
  virtual void allgather(const int64_t* data, int64_t count, int64_t* out) = 0;
  // Every rank's block, in rank order, into out; counts[r] is rank r's count (every rank knows them
  // all, from an allgather).
  virtual void allgatherv(const int32_t* data, const std::vector<int64_t>& counts, int32_t* out) = 0;
  virtual void allgatherv(const float* data, const std::vector<int64_t>& counts, float* out) = 0;
  virtual void barrier() = 0;

  // Device collectives (NCCL): sums and gathers of GPU tensors where they lie. use_device(d) asks for
  // them on this rank's GPU d (every rank calls it, each with its own GPU, before any device
  // collective) and says whether this communicator has them; without them tensors are staged
  // through host memory.
  virtual bool use_device(Device device) { return false; }
  virtual bool has_device_collectives() const { return false; }
  // `values` (f32, on the device given to use_device) summed over the ranks, in place.
  virtual void device_allreduce_sum(Tensor& values);
  // Every rank's `mine` (the same numel and dtype, f32 or i32, on every rank) in rank order into
  // `all`, which holds size() times as many elements.
  virtual void device_allgather(const Tensor& mine, Tensor& all);
  // Ends every rank (an error on one rank would otherwise leave the others waiting in a collective).
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// One process: every collective is a copy.
class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "single process"; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void allgather(const int64_t* data, int64_t count, int64_t* out) override;
  void allgatherv(const int32_t* data, const std::vector<int64_t>& counts, int32_t* out) override;
  void allgatherv(const float* data, const std::vector<int64_t>& counts, float* out) override;
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override;
};

// Whether this build has the MPI communicator (CMake's NCF_WITH_MPI found MPI).
bool built_with_mpi();

// The number of ranks a launcher announces in the environment (Open MPI's OMPI_COMM_WORLD_SIZE, or
// PMI_SIZE of MPICH / Slurm), 1 when none does. `getenv` is a parameter so tests can supply one.
int launcher_world_size(const std::function<const char*(const char*)>& getenv);
int launcher_world_size();

// MPI (initialised here, finalised when the communicator is destroyed) when this build has it and
// either the launcher announces more than one rank or `distributed` asks for it; else SingleProcess.
// Without MPI in the build, either of those is an Error saying the build has no MPI.
std::unique_ptr<Communicator> make_communicator(bool distributed);

// The GPU a rank trains on: `requested` itself for a single process or the CPU; for several ranks,
// GPU (local rank mod GPU count), the launcher's node-local rank (Open MPI's
// OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID) or else the rank itself.
Device rank_device(Device requested, const Communicator& communicator);

// Rank `rank`'s contiguous share of the global batch `global`, cut at multiples of `alignment`
// rows (a BPR group) from the batch's start. Shares differ by at most one group; some may be empty.
data::BatchRange local_rows(data::BatchRange global, int rank, int size, int64_t alignment = 1);

// Replaces each parameter's gradient by its sum over the ranks, the same on every rank (see the top
// of this file). A parameter with a gradient on no rank keeps none. Every rank must call it with the
// same parameters in the same order.
void sum_gradients(Communicator& communicator, const std::vector<nn::NamedParameter>& parameters);

// The sampled protocol's metrics with each rank scoring a contiguous share of the evaluation users;
// the per-user ranks are gathered in user order and averaged as one process does, so the metrics
// are the single process's to the bit (given the same parameters). Every rank gets them.
RankingMetrics sampled_metrics(Communicator& communicator, const Evaluator& evaluator, const Scorer& scorer);
// Full ranking split the same way: each rank scores every item for its share of the users.
RankingMetrics full_ranking_metrics(Communicator& communicator, const Evaluator& evaluator,
                                    const BlockScorer& scorer);

}  // namespace ncf::recsys
