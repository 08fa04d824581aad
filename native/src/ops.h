#pragma once
#include <cstdint>

namespace lref {

enum BinaryOp { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kPow };
enum UnaryOp {
  kExp = 0, kLog, kTanh, kSqrt, kRsqrt, kNeg, kSquare, kRelu, kSigmoid, kAbs, kReciprocal, kErf,
  kGeluTanh, kLog1p, kStep
};
enum ReduceOp { kSum = 0, kMean, kMaxR, kMinR };

// out[idx] = a[idx . sa] op b[idx . sb] over an ndim (<= 8) index space `shape`; strides are in
// elements and 0 where an input broadcasts.
void binary(int op, int ndim, const int64_t* shape, const float* a, const int64_t* sa,
            const float* b, const int64_t* sb, float* out);
void unary(int op, const float* x, float* out, int64_t n);
// The unary ops without transcendental functions, with IEEE Inf/NaN (ops.cc, no fast-math).
void unary_ieee(int op, const float* x, float* out, int64_t n);
// x viewed as [outer, r, inner]; out is [outer, inner].
void reduce(int op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner);
// out = x transposed by perm (ndim <= 8).
void transpose(const float* x, float* out, int ndim, const int64_t* shape, const int* perm);
void softmax_rows(const float* x, float* out, int64_t rows, int64_t cols);
// Causal softmax of attention scores [.., T, cols]: row r is query r % T at absolute position
// r % T + offset and sees columns 0..that position; later columns get probability 0 (the same as
// adding -1e9 to them first).
void softmax_rows_causal(const float* x, float* out, int64_t rows, int64_t cols, int64_t T,
                         int64_t offset);
// dx = y * (dy - sum(dy * y)) per row.
void softmax_grad_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
// y = (x - mean) * rstd * gamma + beta per row; also stores mean and rstd per row for the grad.
void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                float* rstd, int64_t rows, int64_t cols, float eps);
void layer_norm_grad(const float* x, const float* gamma, const float* mean, const float* rstd,
                     const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                     int64_t cols);
// GELU, tanh approximation (GPT-2): y = 0.5 x (1 + tanh(c (x + 0.044715 x^3))).
void gelu_grad(const float* x, const float* dy, float* dx, int64_t n);
// Mean cross-entropy of softmax(logits) against integer labels (label < 0: row ignored).
// Writes per-row loss and the softmax probabilities (for the grad); returns the mean.
double softmax_xent(const float* logits, const int32_t* labels, float* probs, float* loss,
                    int64_t rows, int64_t cols);
// dlogits = (probs - onehot(label)) * dloss[row]
void softmax_xent_grad(const float* probs, const int32_t* labels, const float* dloss,
                       float* dlogits, int64_t rows, int64_t cols);
// out[i, :] = table[idx[i], :]
void gather_rows(const float* table, const int32_t* idx, float* out, int64_t n, int64_t cols,
                 int64_t table_rows);
// out[idx[i], :] += src[i, :] (out zeroed by the caller)
void scatter_add_rows(const float* src, const int32_t* idx, float* out, int64_t n, int64_t cols,
                      int64_t out_rows);
// Sum of x[i]^2, accumulated in double (the global gradient norm).
double sum_squares(const float* x, int64_t n);
// One AdamW step in place on (w, m, v) with gradient g * gscale; bias1/bias2 = 1 - beta^t.
// w -= lr * ((m / bias1) / (sqrt(v / bias2) + eps) + weight_decay * w)
void adam(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1,
          float beta2, float eps, float weight_decay, float bias1, float bias2, float gscale);

// Dropout with TF.js's exact mask (tf.dropout on the cpu backend, bit for bit): u is the next
// value of seedrandom's Alea generator (state s0, s1, s2, c as its seeding left it) rounded to
// float32, mask = floor(u + keep) / keep, y = x * mask. Alea is a serial recurrence, so this runs
// on one thread.
void dropout_alea(const float* x, float* y, float* mask, int64_t n, double s0, double s1, double s2,
                  double c, float keep);

}  // namespace lref
