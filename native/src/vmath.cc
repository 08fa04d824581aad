// Kernels built on exp/log/tanh/erf. This file alone is compiled with -ffast-math so that GCC
// vectorises the loops with glibc's libmvec (AVX-512/AVX2 expf, tanhf, ...): 4-8x faster than the
// scalar calls, and accurate to a few ulp.
#include <cmath>

#include "ops.h"
#include "parallel.h"

namespace lref {

static constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)

// isnan by the bits: -ffast-math lets GCC fold std::isnan(v) to false.
static inline bool is_nan_bits(float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, 4);
  return (u & 0x7fffffffu) > 0x7f800000u;
}

void unary(int op, const float* x, float* out, int64_t n) {
  switch (op) {
    case kExp: return map_elements(x, out, n, [](float v) { return expf(v); });
    case kLog: return map_elements(x, out, n, [](float v) { return logf(v); });
    case kTanh: return map_elements(x, out, n, [](float v) { return tanhf(v); });
    // No transcendental call to vectorise, and 1/0 must be Inf (fast-math made it NaN): ops.cc.
    case kSqrt:
    case kRsqrt:
    case kNeg:
    case kSquare:
    case kRelu:
    case kAbs:
    case kReciprocal:
    case kStep:
      return unary_ieee(op, x, out, n);
    // Clamped: -ffast-math assumes no infinities, and expf(-v) overflowing for v < -88 gave NaN
    // (1/(1+inf) is only 0 under IEEE rules); σ(±88) is already 0/1 to float precision. The clamp
    // must keep NaN, which fminf/fmaxf under fast-math do not (σ(NaN) came out 1 or 6e-39).
    case kSigmoid:
      return map_elements(x, out, n, [](float v) {
        const float s = 1.f / (1.f + expf(-fminf(fmaxf(v, -88.f), 88.f)));
        return is_nan_bits(v) ? v : s;
      });
    case kErf: return map_elements(x, out, n, [](float v) { return erff(v); });
    case kLog1p: return map_elements(x, out, n, [](float v) { return log1pf(v); });
    case kGeluTanh:
      return map_elements(x, out, n, [](float v) {
        return 0.5f * v * (1.f + tanhf(kGeluC * (v + 0.044715f * v * v * v)));
      });
    default: return;  // addon.cc refuses unknown codes before they get here
  }
}

void gelu_grad(const float* x, const float* dy, float* dx, int64_t n) {
  parallel_range(n, kElementGrain, [&](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) {
      const float v = x[i];
      const float t = tanhf(kGeluC * (v + 0.044715f * v * v * v));
      const float dt = (1.f - t * t) * kGeluC * (1.f + 3.f * 0.044715f * v * v);
      dx[i] = dy[i] * (0.5f * (1.f + t) + 0.5f * v * dt);
    }
  });
}

// The row's max and sum of exp(x - max): softmax_xent needs them for its log-sum-exp loss.
struct RowStats {
  float max;
  float sum;
};

static inline RowStats softmax_row(const float* x, float* y, int64_t cols) {
  if (cols <= 0) return {-INFINITY, 0.f};
  float m = x[0];
  for (int64_t j = 1; j < cols; ++j) m = x[j] > m ? x[j] : m;
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < cols; ++j) {
    const float e = expf(x[j] - m);
    y[j] = e;
    s += e;
  }
  const float inv = 1.f / s;
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) y[j] *= inv;
  return {m, s};
}

void softmax_rows(const float* x, float* out, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * cols, out + r * cols, cols);
  });
}

void softmax_rows_causal(const float* x, float* out, int64_t rows, int64_t cols, int64_t T,
                         int64_t offset) {
  if (rows <= 0 || cols <= 0 || T <= 0) return;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t seen = std::min<int64_t>(cols, std::max<int64_t>(1, r % T + offset + 1));
      softmax_row(x + r * cols, out + r * cols, seen);
      for (int64_t j = seen; j < cols; ++j) out[r * cols + j] = 0.f;
    }
  });
}

void softmax_grad_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < cols; ++j) dot += yr[j] * dyr[j];
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - dot);
    }
  });
}

double softmax_xent(const float* logits, const int32_t* labels, float* probs, float* loss,
                    int64_t rows, int64_t cols) {
  if (rows <= 0) return 0.0;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = logits + r * cols;
      float* p = probs + r * cols;
      const RowStats st = softmax_row(x, p, cols);
      const int32_t l = labels[r];
      // log-sum-exp form: exact even where the label's probability underflows
      loss[r] = (l < 0 || l >= cols) ? 0.f : logf(st.sum) + st.max - x[l];
    }
  });
  double total = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] >= 0 && labels[r] < cols) {
      total += loss[r];
      ++counted;
    }
  return counted ? total / counted : 0.0;
}

void softmax_xent_grad(const float* probs, const int32_t* labels, const float* dloss,
                       float* dlogits, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int32_t l = labels[r];
      const float g = (l < 0 || l >= cols) ? 0.f : dloss[r];
      const float* p = probs + r * cols;
      float* d = dlogits + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) d[j] = p[j] * g;
      if (g != 0.f) d[l] -= g;
    }
  });
}

}  // namespace lref
