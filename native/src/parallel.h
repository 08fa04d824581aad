#pragma once
#include <algorithm>
#include <cstdint>

#include "threadpool.h"

namespace lref {

// Runs f(begin, end) over [0, n) in chunks of at least `grain` when n is worth splitting. Up to 4
// chunks per thread, taken first come first served: on a shared 2-core machine a worker may be
// descheduled, and then the calling thread does its chunks instead of waiting a timeslice.
template <class F>
inline void parallel_range(int64_t n, int64_t grain, F&& f) {
  int threads = pool().size();
  if (threads == 1 || n < 2 * grain) {
    if (n > 0) f(int64_t(0), n);
    return;
  }
  int tasks = (int)std::min<int64_t>(4 * threads, n / grain);
  pool().parallel_for(tasks, [&](int t) { f(n * t / tasks, n * (t + 1) / tasks); });
}

constexpr int64_t kElementGrain = 32768;

// Rows per chunk for row kernels of `cols` columns; cols = 0 (an empty last axis) is legal.
inline int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, kElementGrain / std::max<int64_t>(cols, 1)); }

// out[i] = f(x[i]) over n elements, in parallel chunks, vectorised where f allows. A template: each
// file's instantiation gets that file's flags (vmath.cc's fast-math or ops.cc's IEEE rules).
template <class F>
inline void map_elements(const float* x, float* out, int64_t n, F f) {
  parallel_range(n, kElementGrain, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) out[i] = f(x[i]);
  });
}

}  // namespace lref
