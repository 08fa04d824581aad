#pragma once
#include <cstdint>

namespace lref {

// C[b] = op(A[b % batchA]) * op(B[b % batchB]) for b in [0, batch), row-major, contiguous:
// A is [batchA, M, K] (or [batchA, K, M] when transA), B is [batchB, K, N] (or [batchB, N, K]
// when transB), C is [batch, M, N]. The modulo batching is exactly TF.js's BatchMatMul rule.
void batched_gemm(int64_t batch, int64_t batchA, int64_t batchB, int64_t M, int64_t N, int64_t K,
                  bool transA, bool transB, const float* A, const float* B, float* C);

// Single-threaded core: C (ldc) = or += op(A) (lda) * op(B) (ldb).
void gemm_serial(int64_t M, int64_t N, int64_t K, bool transA, bool transB, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

// Two-level strided batch (attention heads read in place): for b < nb, h < nh,
// C[b,h] = op(A[b,h]) * op(B[b,h]) where X[b,h] starts at X + b * sXb + h * sXh and its rows are
// ldX apart. With A = queries [B, T, H*hd] (sAb = T*H*hd, sAh = hd, lda = H*hd) no head needs
// to be transposed out first.
void strided_gemm(int64_t nb, int64_t nh, int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                  const float* A, int64_t sAb, int64_t sAh, int64_t lda, const float* B, int64_t sBb,
                  int64_t sBh, int64_t ldb, float* C, int64_t sCb, int64_t sCh, int64_t ldc);

const char* gemm_isa();

}  // namespace lref
