// Packed, cache-blocked fp32 GEMM (the BLIS/GotoBLAS loop structure) with a register-blocked
// micro-kernel written with GCC vector extensions: built with -march=native it becomes AVX-512
// (16 lanes) or AVX2+FMA (8 lanes) code for the machine that builds the addon.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "threadpool.h"

namespace lref {

#if defined(__AVX512F__)
constexpr int VW = 16;
constexpr int MR = 8;  // 8 x 32 tile: 16 zmm accumulators of the 32 registers
#else
constexpr int VW = 8;
constexpr int MR = 6;  // 6 x 16 tile: 12 ymm accumulators of the 16 registers
#endif
constexpr int NR = 2 * VW;
constexpr int KC = 256;       // one packed B strip (KC x NR) stays in L1
constexpr int MC = MR * 16;   // a packed A block (MC x KC) stays in L2
constexpr int NC = 512;       // a packed B panel (KC x NC) stays in L2

typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4)));

const char* gemm_isa() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#else
  return "generic";
#endif
}

static float* aligned_buffer(size_t floats) {
  return static_cast<float*>(std::aligned_alloc(64, ((floats * 4 + 63) / 64) * 64));
}

// op(A)(i, k) for rows [i0, i0+mc), depth [k0, k0+kc) into MR-tall strips, zero padded.
static void pack_a(const float* A, int64_t lda, bool transA, int64_t i0, int64_t mc, int64_t k0,
                   int64_t kc, float* out) {
  for (int64_t is = 0; is < mc; is += MR) {
    int mr = (int)std::min<int64_t>(MR, mc - is);
    if (!transA) {
      for (int i = 0; i < MR; ++i) {
        if (i < mr) {
          const float* src = A + (i0 + is + i) * lda + k0;
          for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = src[k];
        } else {
          for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = 0.f;
        }
      }
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A + (k0 + k) * lda + i0 + is;
        int i = 0;
        for (; i < mr; ++i) out[k * MR + i] = src[i];
        for (; i < MR; ++i) out[k * MR + i] = 0.f;
      }
    }
    out += MR * kc;
  }
}

// op(B)(k, j) for depth [k0, k0+kc), columns [j0, j0+nc) into NR-wide strips, zero padded.
static void pack_b(const float* B, int64_t ldb, bool transB, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nc, float* out) {
  for (int64_t js = 0; js < nc; js += NR) {
    int nr = (int)std::min<int64_t>(NR, nc - js);
    if (!transB) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + (k0 + k) * ldb + j0 + js;
        float* dst = out + k * NR;
        if (nr == NR) {
          std::memcpy(dst, src, NR * sizeof(float));
        } else {
          int j = 0;
          for (; j < nr; ++j) dst[j] = src[j];
          for (; j < NR; ++j) dst[j] = 0.f;
        }
      }
    } else {
      for (int j = 0; j < NR; ++j) {
        if (j < nr) {
          const float* src = B + (j0 + js + j) * ldb + k0;
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = src[k];
        } else {
          for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = 0.f;
        }
      }
    }
    out += NR * kc;
  }
}

// C tile (mr x nr, ldc) = or += packed A strip x packed B strip.
static inline void micro_kernel(int64_t kc, const float* __restrict Ap, const float* __restrict Bp,
                                float* C, int64_t ldc, int mr, int nr, bool accumulate) {
  vf c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    c0[i] = vf{};
    c1[i] = vf{};
  }
  for (int64_t k = 0; k < kc; ++k) {
    vf b0 = *reinterpret_cast<const vf*>(Bp);
    vf b1 = *reinterpret_cast<const vf*>(Bp + VW);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      vf a = vf{} + Ap[i];
      c0[i] += a * b0;
      c1[i] += a * b1;
    }
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      vfu* row0 = reinterpret_cast<vfu*>(C + i * ldc);
      vfu* row1 = reinterpret_cast<vfu*>(C + i * ldc + VW);
      if (accumulate) {
        *row0 += c0[i];
        *row1 += c1[i];
      } else {
        *row0 = c0[i];
        *row1 = c1[i];
      }
    }
    return;
  }
  alignas(64) float tile[MR * NR];
  for (int i = 0; i < MR; ++i) {
    *reinterpret_cast<vf*>(tile + i * NR) = c0[i];
    *reinterpret_cast<vf*>(tile + i * NR + VW) = c1[i];
  }
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      float v = tile[i * NR + j];
      C[i * ldc + j] = accumulate ? C[i * ldc + j] + v : v;
    }
}

struct PackBuffers {
  float* a = aligned_buffer((size_t)MC * KC);
  float* b = aligned_buffer((size_t)KC * NC);
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
};

// A few rows (decoding one token, a handful of scored positions): packing B would cost more than
// the product, so read B in place — rows of op(A) times B as axpys over B's rows, or as dot
// products with B's rows when B is transposed.
static constexpr int64_t kSmallM = 4;
static void gemm_small_m(int64_t M, int64_t N, int64_t K, bool transA, bool transB, const float* A,
                         int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc,
                         bool accumulate) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    auto a = [&](int64_t k) { return transA ? A[k * lda + i] : A[i * lda + k]; };
    if (!transB) {
      if (!accumulate) std::memset(c, 0, N * sizeof(float));
      for (int64_t k = 0; k < K; ++k) {
        const float ak = a(k);
        const float* b = B + k * ldb;
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) c[j] += ak * b[j];
      }
    } else {
      for (int64_t j = 0; j < N; ++j) {
        const float* b = B + j * ldb;
        float s = 0.f;
        if (!transA) {
          const float* ar = A + i * lda;
#pragma omp simd reduction(+ : s)
          for (int64_t k = 0; k < K; ++k) s += ar[k] * b[k];
        } else {
          for (int64_t k = 0; k < K; ++k) s += a(k) * b[k];
        }
        c[j] = accumulate ? c[j] + s : s;
      }
    }
  }
}

void gemm_serial(int64_t M, int64_t N, int64_t K, bool transA, bool transB, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (M <= kSmallM && K > 0) return gemm_small_m(M, N, K, transA, transB, A, lda, B, ldb, C, ldc, accumulate);
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
    return;
  }
  static thread_local PackBuffers buf;
  // No memory for the packing buffers (a kernel task cannot throw): the unpacked path, slower.
  if (!buf.a || !buf.b) return gemm_small_m(M, N, K, transA, transB, A, lda, B, ldb, C, ldc, accumulate);
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = std::min<int64_t>(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = std::min<int64_t>(KC, K - pc);
      bool acc = accumulate || pc > 0;
      pack_b(B, ldb, transB, pc, kc, jc, nc, buf.b);
      for (int64_t ic = 0; ic < M; ic += MC) {
        int64_t mc = std::min<int64_t>(MC, M - ic);
        pack_a(A, lda, transA, ic, mc, pc, kc, buf.a);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          int nr = (int)std::min<int64_t>(NR, nc - jr);
          const float* bp = buf.b + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            int mr = (int)std::min<int64_t>(MR, mc - ir);
            micro_kernel(kc, buf.a + ir * kc, bp, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}

void batched_gemm(int64_t batch, int64_t batchA, int64_t batchB, int64_t M, int64_t N, int64_t K,
                  bool transA, bool transB, const float* A, const float* B, float* C) {
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  const int64_t strideA = M * K, strideB = K * N, strideC = M * N;
  const int threads = pool().size();
  const double flops = 2.0 * batch * M * N * K;
  // Below ~200 kFLOP a second thread costs more to wake than it saves.
  const int want = flops < 2e5 ? 1 : threads;
  if (batch >= want) {
    // Whole matrices per task: the batched attention products.
    int tasks = (int)std::min<int64_t>(batch, (int64_t)want * 4);
    pool().parallel_for(want == 1 ? 1 : tasks, [&](int t) {
      int n_tasks = want == 1 ? 1 : tasks;
      int64_t b0 = batch * t / n_tasks, b1 = batch * (t + 1) / n_tasks;
      for (int64_t b = b0; b < b1; ++b)
        gemm_serial(M, N, K, transA, transB, A + (b % batchA) * strideA, lda,
                    B + (b % batchB) * strideB, ldb, C + b * strideC, N, false);
    });
    return;
  }
  // Few big matrices: split each along its longer side, in whole micro-tiles (4 chunks per
  // thread, so a descheduled worker delays at most a quarter of its share).
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = A + (b % batchA) * strideA;
    const float* bm = B + (b % batchB) * strideB;
    float* c = C + b * strideC;
    if (M >= N) {
      int64_t units = (M + MR - 1) / MR;
      int tasks = (int)std::min<int64_t>(want == 1 ? 1 : 4 * want, units);
      pool().parallel_for(tasks, [&](int t) {
        int64_t i0 = units * t / tasks * MR, i1 = std::min<int64_t>(M, units * (t + 1) / tasks * MR);
        const float* as = transA ? a + i0 : a + i0 * lda;
        gemm_serial(i1 - i0, N, K, transA, transB, as, lda, bm, ldb, c + i0 * N, N, false);
      });
    } else {
      int64_t units = (N + NR - 1) / NR;
      int tasks = (int)std::min<int64_t>(want == 1 ? 1 : 4 * want, units);
      pool().parallel_for(tasks, [&](int t) {
        int64_t j0 = units * t / tasks * NR, j1 = std::min<int64_t>(N, units * (t + 1) / tasks * NR);
        const float* bs = transB ? bm + j0 * ldb : bm + j0;
        gemm_serial(M, j1 - j0, K, transA, transB, a, lda, bs, ldb, c + j0, N, false);
      });
    }
  }
}

void strided_gemm(int64_t nb, int64_t nh, int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                  const float* A, int64_t sAb, int64_t sAh, int64_t lda, const float* B, int64_t sBb,
                  int64_t sBh, int64_t ldb, float* C, int64_t sCb, int64_t sCh, int64_t ldc) {
  const int64_t batch = nb * nh;
  if (batch <= 0) return;
  const double flops = 2.0 * batch * M * N * K;
  const int threads = pool().size();
  const int tasks = flops < 2e5 || threads == 1 ? 1 : (int)std::min<int64_t>(batch, 4 * threads);
  pool().parallel_for(tasks, [&](int t) {
    for (int64_t i = batch * t / tasks; i < batch * (t + 1) / tasks; ++i) {
      const int64_t b = i / nh, h = i % nh;
      gemm_serial(M, N, K, transA, transB, A + b * sAb + h * sAh, lda, B + b * sBb + h * sBh, ldb,
                  C + b * sCb + h * sCh, ldc, false);
    }
  });
}

}  // namespace lref
