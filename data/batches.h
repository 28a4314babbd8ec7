// Batches of an epoch as [begin, end) row ranges: views into the epoch arrays, never copies.
//
//   for (const BatchRange range : BatchRanges(epoch.size(), 256)) {
//     const Batch batch = batch_view(epoch, range);   // pointers + size
//   }
// `align` keeps batch boundaries on multiples of a group size (ShuffleMode::groups, 1 + K) by rounding
// the batch size down to a multiple of it (at least one group). The last batch may be short unless
// drop_last is set.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "base/error.h"

#include "data/negative_sampler.h"

namespace ncf::data {

struct BatchRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const BatchRange& o) const { return begin == o.begin && end == o.end; }
};

class BatchRanges {
 public:
  BatchRanges(int64_t rows, int64_t batch_size, int64_t align = 1, bool drop_last = false) : rows_(rows) {
    NCF_CHECK(batch_size > 0 && align > 0,
              "BatchRanges: batch size and align must be > 0, got " << batch_size << " and " << align);
    batch_ = std::max(align, batch_size / align * align);
    count_ = drop_last ? rows / batch_ : (rows + batch_ - 1) / batch_;
  }
  int64_t count() const { return count_; }
  int64_t batch_size() const { return batch_; }
  BatchRange operator[](int64_t k) const { return {k * batch_, std::min(rows_, (k + 1) * batch_)}; }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = BatchRange;
    using difference_type = int64_t;
    using pointer = const BatchRange*;
    using reference = BatchRange;
    iterator(const BatchRanges* ranges, int64_t k) : ranges_(ranges), k_(k) {}
    BatchRange operator*() const { return (*ranges_)[k_]; }
    iterator& operator++() {
      ++k_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return k_ != o.k_; }
    bool operator==(const iterator& o) const { return k_ == o.k_; }

   private:
    const BatchRanges* ranges_;
    int64_t k_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, count_}; }

 private:
  int64_t rows_, batch_ = 1, count_ = 0;
};

struct Batch {
  const int32_t* user;
  const int32_t* item;
  const float* label;
  int64_t begin;  // first row in the epoch
  int64_t size;
};

inline Batch batch_view(const TrainingEpoch& epoch, BatchRange range) {
  return {epoch.user.data() + range.begin, epoch.item.data() + range.begin, epoch.label.data() + range.begin,
          range.begin, range.size()};
}

}  // namespace ncf::data
