// The text of a one-line progress bar for a terminal, the same look in every app:
//   "epoch 3 [#########.....................] 30%  812345 samples/s  ETA 2.1 s"
// The caller draws it on stderr after "\r" (and only when stderr is a terminal).
#pragma once

#include <cstdint>
#include <string>

namespace ncf {

// `done` of `total` units after `seconds`; the rate and the time left follow from them.
std::string progress_bar(const std::string& label, int64_t done, int64_t total, double seconds,
                         const std::string& unit);

}  // namespace ncf
