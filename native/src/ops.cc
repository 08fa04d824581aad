// Memory-bound kernels with no transcendental functions: broadcasting binary ops, reductions,
// transposes, layer norm, row gathers/scatters and the Adam update. Compiled without fast-math so
// NaN/Inf behave as in TF.js.
#include <cmath>
#include <cstring>
#include <vector>

#include "ops.h"
#include "parallel.h"

namespace lref {

void unary_ieee(int op, const float* x, float* out, int64_t n) {
  switch (op) {
    case kSqrt: return map_elements(x, out, n, [](float v) { return std::sqrt(v); });
    case kRsqrt: return map_elements(x, out, n, [](float v) { return 1.f / std::sqrt(v); });
    case kNeg: return map_elements(x, out, n, [](float v) { return -v; });
    case kSquare: return map_elements(x, out, n, [](float v) { return v * v; });
    // as TF.js: x < 0 ? 0 : x, so NaN stays NaN (v > 0 ? v : 0 turned it into 0)
    case kRelu: return map_elements(x, out, n, [](float v) { return v < 0.f ? 0.f : v; });
    case kAbs: return map_elements(x, out, n, [](float v) { return std::fabs(v); });
    case kReciprocal: return map_elements(x, out, n, [](float v) { return 1.f / v; });
    case kStep: return map_elements(x, out, n, [](float v) { return std::isnan(v) ? v : v > 0.f ? 1.f : 0.f; });
    default: return;
  }
}

template <int OP>
static inline float apply(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  if constexpr (OP == kDiv) return a / b;
  if constexpr (OP == kMax) return (a > b || std::isnan(a)) ? a : b;
  if constexpr (OP == kMin) return (a < b || std::isnan(a)) ? a : b;
  if constexpr (OP == kSquaredDiff) return (a - b) * (a - b);
  if constexpr (OP == kPow) return std::pow(a, b);
  return 0.f;
}

template <int OP>
static void binary_row(const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                       int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<OP>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = apply<OP>(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = apply<OP>(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<OP>(a[i * sa], b[i * sb]);
  }
}

template <int OP>
static void binary_impl(int nd, const int64_t* shape, const float* a, const int64_t* sa,
                        const float* b, const int64_t* sb, float* out) {
  const int64_t n = shape[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= shape[d];
  if (rows == 1) {
    parallel_range(n, kElementGrain, [&](int64_t i0, int64_t i1) {
      binary_row<OP>(a + i0 * sa[nd - 1], sa[nd - 1], b + i0 * sb[nd - 1], sb[nd - 1], out + i0,
                     i1 - i0);
    });
    return;
  }
  const int64_t grain_rows = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1));
  parallel_range(rows, grain_rows, [&](int64_t r0, int64_t r1) {
    int64_t idx[8] = {0};
    int64_t rem = r0, oa = 0, ob = 0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      oa += idx[d] * sa[d];
      ob += idx[d] * sb[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      binary_row<OP>(a + oa, sa[nd - 1], b + ob, sb[nd - 1], out + r * n, n);
      for (int d = nd - 2; d >= 0; --d) {  // odometer increment of the row index
        ++idx[d];
        oa += sa[d];
        ob += sb[d];
        if (idx[d] < shape[d]) break;
        oa -= idx[d] * sa[d];
        ob -= idx[d] * sb[d];
        idx[d] = 0;
      }
    }
  });
}

void binary(int op, int ndim, const int64_t* shape_in, const float* a, const int64_t* sa_in,
            const float* b, const int64_t* sb_in, float* out) {
  // Merge neighbouring dims that both inputs walk contiguously, so [B,T,D] + [D] becomes
  // [B*T, D] + [D] and same-shape ops become one flat loop.
  int64_t shape[8], sa[8], sb[8];
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape_in[d] == 1) continue;
    if (nd > 0 && sa[nd - 1] == sa_in[d] * shape_in[d] && sb[nd - 1] == sb_in[d] * shape_in[d]) {
      shape[nd - 1] *= shape_in[d];
      sa[nd - 1] = sa_in[d];
      sb[nd - 1] = sb_in[d];
    } else {
      shape[nd] = shape_in[d];
      sa[nd] = sa_in[d];
      sb[nd] = sb_in[d];
      ++nd;
    }
  }
  if (nd == 0) {
    shape[0] = 1;
    sa[0] = sb[0] = 0;
    nd = 1;
  }
  switch (op) {
    case kAdd: return binary_impl<kAdd>(nd, shape, a, sa, b, sb, out);
    case kSub: return binary_impl<kSub>(nd, shape, a, sa, b, sb, out);
    case kMul: return binary_impl<kMul>(nd, shape, a, sa, b, sb, out);
    case kDiv: return binary_impl<kDiv>(nd, shape, a, sa, b, sb, out);
    case kMax: return binary_impl<kMax>(nd, shape, a, sa, b, sb, out);
    case kMin: return binary_impl<kMin>(nd, shape, a, sa, b, sb, out);
    case kSquaredDiff: return binary_impl<kSquaredDiff>(nd, shape, a, sa, b, sb, out);
    case kPow: return binary_impl<kPow>(nd, shape, a, sa, b, sb, out);
    default: return;  // addon.cc refuses unknown codes before they get here
  }
}

void reduce(int op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  if (outer <= 0 || inner <= 0 || r <= 0) return;
  if (inner == 1) {
    // Reduce along contiguous rows (layer-norm statistics, softmax sums).
    parallel_range(outer, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(r, 1)),
                   [&](int64_t o0, int64_t o1) {
                     for (int64_t o = o0; o < o1; ++o) {
                       const float* p = x + o * r;
                       float acc;
                       if (op == kSum || op == kMean) {
                         // 8 partial sums: vectorisable and more accurate than one chain.
                         float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                         int64_t i = 0;
                         for (; i + 8 <= r; i += 8)
                           for (int j = 0; j < 8; ++j) part[j] += p[i + j];
                         acc = 0.f;
                         for (; i < r; ++i) acc += p[i];
                         for (int j = 0; j < 8; ++j) acc += part[j];
                         if (op == kMean) acc /= (float)r;
                       } else {
                         acc = p[0];
                         for (int64_t i = 1; i < r; ++i)
                           acc = op == kMaxR ? ((p[i] > acc || std::isnan(p[i])) ? p[i] : acc)
                                             : ((p[i] < acc || std::isnan(p[i])) ? p[i] : acc);
                       }
                       out[o] = acc;
                     }
                   });
    return;
  }
  // Reduce across rows (bias gradients: [B*T, D] -> [D]); split over the kept inner axis.
  parallel_range(inner, 1024, [&](int64_t j0, int64_t j1) {
    for (int64_t o = 0; o < outer; ++o) {
      float* dst = out + o * inner;
      const float* src = x + o * r * inner;
      for (int64_t j = j0; j < j1; ++j) dst[j] = src[j];
      for (int64_t i = 1; i < r; ++i) {
        const float* row = src + i * inner;
        if (op == kSum || op == kMean)
          for (int64_t j = j0; j < j1; ++j) dst[j] += row[j];
        else if (op == kMaxR)
          for (int64_t j = j0; j < j1; ++j)
            dst[j] = (row[j] > dst[j] || std::isnan(row[j])) ? row[j] : dst[j];
        else
          for (int64_t j = j0; j < j1; ++j)
            dst[j] = (row[j] < dst[j] || std::isnan(row[j])) ? row[j] : dst[j];
      }
      if (op == kMean)
        for (int64_t j = j0; j < j1; ++j) dst[j] /= (float)r;
    }
  });
}

void transpose(const float* x, float* out, int ndim, const int64_t* shape, const int* perm) {
  // Drop size-1 dims, merge input dims that stay adjacent and in order in the output.
  int64_t in_strides[8];
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    in_strides[d] = s;
    s *= shape[d];
  }
  const int64_t total = s;
  int64_t oshape[8], ostr[8];  // output dims with the input stride each walks
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    int p = perm[d];
    if (shape[p] == 1) continue;
    if (nd > 0 && ostr[nd - 1] == in_strides[p] * shape[p]) {
      oshape[nd - 1] *= shape[p];
      ostr[nd - 1] = in_strides[p];
    } else {
      oshape[nd] = shape[p];
      ostr[nd] = in_strides[p];
      ++nd;
    }
  }
  if (nd <= 1) {
    std::memcpy(out, x, total * sizeof(float));
    return;
  }
  const int64_t n = oshape[nd - 1], inner_stride = ostr[nd - 1];
  // The output dim the input walks contiguously; when it is not the last one, a plain row copy
  // would read the input with stride `inner_stride` (a cache miss per element). Copy 16x16 tiles
  // instead, so each input cache line is used 16 times while it is hot.
  int pdim = -1;
  for (int d = 0; d < nd - 1; ++d)
    if (ostr[d] == 1) pdim = d;
  if (inner_stride != 1 && pdim >= 0) {
    int64_t ostride_out[8];
    int64_t so = 1;
    for (int d = nd - 1; d >= 0; --d) {
      ostride_out[d] = so;
      so *= oshape[d];
    }
    const int64_t P = oshape[pdim], OP = ostride_out[pdim];
    const int64_t outer = total / (P * n);
    constexpr int64_t TILE = 16;
    const int64_t tilesP = (P + TILE - 1) / TILE;
    parallel_range(outer * tilesP, std::max<int64_t>(1, kElementGrain / (TILE * n)), [&](int64_t w0, int64_t w1) {
      for (int64_t w = w0; w < w1; ++w) {
        int64_t o = w / tilesP, i0 = (w % tilesP) * TILE, i1 = std::min(P, i0 + TILE);
        // offsets of the other dims (all but pdim and the last)
        int64_t rem = o, in_off = 0, out_off = 0;
        for (int d = nd - 2; d >= 0; --d) {
          if (d == pdim) continue;
          int64_t idx = rem % oshape[d];
          rem /= oshape[d];
          in_off += idx * ostr[d];
          out_off += idx * ostride_out[d];
        }
        for (int64_t j0 = 0; j0 < n; j0 += TILE) {
          const int64_t j1 = std::min(n, j0 + TILE);
          for (int64_t i = i0; i < i1; ++i) {
            float* dst = out + out_off + i * OP;
            const float* src = x + in_off + i;
            for (int64_t j = j0; j < j1; ++j) dst[j] = src[j * inner_stride];
          }
        }
      }
    });
    return;
  }
  const int64_t rows = total / n;
  parallel_range(rows, std::max<int64_t>(1, kElementGrain / n), [&](int64_t r0, int64_t r1) {
    int64_t idx[8] = {0};
    int64_t rem = r0, off = 0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % oshape[d];
      rem /= oshape[d];
      off += idx[d] * ostr[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      float* dst = out + r * n;
      const float* src = x + off;
      if (inner_stride == 1)
        std::memcpy(dst, src, n * sizeof(float));
      else
        for (int64_t i = 0; i < n; ++i) dst[i] = src[i * inner_stride];
      for (int d = nd - 2; d >= 0; --d) {
        ++idx[d];
        off += ostr[d];
        if (idx[d] < oshape[d]) break;
        off -= idx[d] * ostr[d];
        idx[d] = 0;
      }
    }
  });
}

void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                float* rstd, int64_t rows, int64_t cols, float eps) {
  if (rows <= 0 || cols < 0) return;
  parallel_range(rows, row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float sum = 0.f;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < cols; ++j) sum += xr[j];
      const float mu = sum / (float)cols;
      float var = 0.f;
#pragma omp simd reduction(+ : var)
      for (int64_t j = 0; j < cols; ++j) var += (xr[j] - mu) * (xr[j] - mu);
      const float rs = 1.f / std::sqrt(var / (float)cols + eps);
      float* yr = y + r * cols;
      for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  });
}

void layer_norm_grad(const float* x, const float* gamma, const float* mean, const float* rstd,
                     const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                     int64_t cols) {
  if (rows < 0 || cols <= 0) return;
  const int threads = pool().size();
  // Per-thread partial dgamma/dbeta, summed at the end (no atomics on the hot path).
  std::vector<float> partial((size_t)threads * 2 * cols, 0.f);
  const int tasks = rows >= 64 ? threads : 1;
  pool().parallel_for(tasks, [&](int t) {
    float* pg = partial.data() + (size_t)t * 2 * cols;
    float* pb = pg + cols;
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; ++r) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      const float mu = mean[r], rs = rstd[r];
      float sum_dyg = 0.f, sum_dyg_xhat = 0.f;
#pragma omp simd reduction(+ : sum_dyg, sum_dyg_xhat)
      for (int64_t j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mu) * rs;
        const float g = dyr[j] * gamma[j];
        sum_dyg += g;
        sum_dyg_xhat += g * xhat;
        pg[j] += dyr[j] * xhat;
        pb[j] += dyr[j];
      }
      const float inv_n = 1.f / (float)cols;
      float* dxr = dx + r * cols;
      for (int64_t j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mu) * rs;
        dxr[j] = rs * (dyr[j] * gamma[j] - inv_n * sum_dyg - xhat * inv_n * sum_dyg_xhat);
      }
    }
  });
  for (int64_t j = 0; j < cols; ++j) {
    float g = 0.f, b = 0.f;
    for (int t = 0; t < tasks; ++t) {
      g += partial[(size_t)t * 2 * cols + j];
      b += partial[(size_t)t * 2 * cols + cols + j];
    }
    dgamma[j] = g;
    dbeta[j] = b;
  }
}

void gather_rows(const float* table, const int32_t* idx, float* out, int64_t n, int64_t cols,
                 int64_t table_rows) {
  if (n <= 0 || cols <= 0) return;
  parallel_range(n, row_grain(cols), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t r = idx[i];
      if (r < 0 || r >= table_rows)
        std::memset(out + i * cols, 0, cols * sizeof(float));
      else
        std::memcpy(out + i * cols, table + r * cols, cols * sizeof(float));
    }
  });
}

void scatter_add_rows(const float* src, const int32_t* idx, float* out, int64_t n, int64_t cols,
                      int64_t out_rows) {
  if (n <= 0 || cols <= 0) return;
  // Split over columns so two threads never add into the same element.
  parallel_range(cols, 64, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t r = idx[i];
      if (r < 0 || r >= out_rows) continue;
      const float* s = src + i * cols;
      float* d = out + r * cols;
      for (int64_t j = j0; j < j1; ++j) d[j] += s[j];
    }
  });
}

double sum_squares(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += (double)x[i + j] * (double)x[i + j];
  double s = 0;
  for (; i < n; ++i) s += (double)x[i] * (double)x[i];
  for (int j = 0; j < 8; ++j) s += acc[j];
  return s;
}

void adam(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1,
          float beta2, float eps, float weight_decay, float bias1, float bias2, float gscale) {
  parallel_range(n, kElementGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = g[i] * gscale;
      const float mi = beta1 * m[i] + (1.f - beta1) * gi;
      const float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] -= lr * ((mi / bias1) / (std::sqrt(vi / bias2) + eps) + weight_decay * w[i]);
    }
  });
}

// Alea's state values are multiples of 2^-32 in [0, 1), and its step
//   t = 2091639 * s0 + c * 2^-32;  c = t | 0;  s2 = t - c
// is exact in doubles (t * 2^32 < 2^53). So it is the same as integer arithmetic on S = s * 2^32:
//   T = 2091639 * S0 + c;  c = T >> 32;  S2 = T mod 2^32
// which has a 2-cycle dependency chain instead of ~15 (float round, multiply, add).
void dropout_alea(const float* x, float* y, float* mask, int64_t n, double s0, double s1, double s2,
                  double c, float keep) {
  uint64_t S0 = (uint64_t)(s0 * 4294967296.0), S1 = (uint64_t)(s1 * 4294967296.0),
           S2 = (uint64_t)(s2 * 4294967296.0), C = (uint64_t)c;
  constexpr int64_t kChunk = 4096;
  uint32_t draws[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t len = std::min<int64_t>(kChunk, n - i0);
    for (int64_t i = 0; i < len; ++i) {
      const uint64_t t = 2091639ull * S0 + C;
      S0 = S1;
      S1 = S2;
      C = t >> 32;
      S2 = t & 0xffffffffull;
      draws[i] = (uint32_t)S2;
    }
    // (float)(S2 * 2^-32) == (float)S2 * 2^-32: scaling by a power of two commutes with rounding.
    for (int64_t i = 0; i < len; ++i) {
      const float u = (float)draws[i] * 0x1p-32f;
      const float m = std::floor(u + keep) / keep;
      mask[i0 + i] = m;
      y[i0 + i] = x[i0 + i] * m;
    }
  }
}

}  // namespace lref
