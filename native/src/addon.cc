// N-API bindings: every kernel works in place on the Float32Array/Int32Array buffers TF.js's cpu
// backend already holds (zero copy). Every argument is checked here, in O(1) per call, so a wrong
// call throws a JS error instead of reading or writing past a buffer: sizes are integers in
// [0, 2^53), size products are overflow-checked, permutations are permutations, strides are
// non-negative, op codes are known, and an output may not overlap an input unless the kernel is
// element-wise and the overlap is exact. No C++ exception crosses into JS.
//
// This file is compiled for the baseline CPU (no -march): Init checks that the CPU has what the
// kernels (the other files, built with -march=...) were compiled for before anything runs them.
// So the kernel files must have no dynamic initialisers: those would run at dlopen, before it.
#include <malloc.h>
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>

#include "gemm.h"
#include "ops.h"
#include "threadpool.h"

namespace {

using namespace lref;

constexpr double kTwo53 = 9007199254740992.0;

// One kernel at a time per process: the thread pool is a process global and not re-entrant, and a
// main thread and worker_threads (each its own Node environment) may call in concurrently. The
// kernels already use every core, so serialising calls costs no throughput; setThreads takes the
// same lock, so it never swaps the pool under a running kernel.
std::mutex g_kernel_mutex;

// A typed array argument: its data and length, for the overlap checks.
struct View {
  const void* data = nullptr;
  size_t bytes = 0;
};

struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  bool failed = false;
  const char* fn;

  Args(napi_env e, napi_callback_info info, const char* name) : env(e), fn(name) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) fail("bad call");
    if (argc > 24) argc = 24;
  }
  void fail(const std::string& msg) {
    if (!failed) napi_throw_error(env, "LREF_NATIVE", (std::string(fn) + ": " + msg).c_str());
    failed = true;
  }
  // A finite number.
  double real(size_t i, const char* name) {
    double v = 0;
    if (failed) return 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) {
      fail(std::string(name) + " must be a number");
      return 0;
    }
    if (!std::isfinite(v)) fail(std::string(name) + " must be finite, got " + std::to_string(v));
    return v;
  }
  // A size or count: an integer in [0, 2^53).
  int64_t size(size_t i, const char* name) {
    double v = real(i, name);
    if (failed) return 0;
    if (v < 0 || v >= kTwo53 || v != std::floor(v)) {
      fail(std::string(name) + " must be an integer in [0, 2^53), got " + std::to_string(v));
      return 0;
    }
    return (int64_t)v;
  }
  // An integer in [lo, hi].
  int64_t in_range(size_t i, const char* name, int64_t lo, int64_t hi) {
    int64_t v = size(i, name);
    if (!failed && (v < lo || v > hi))
      fail(std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
    return v;
  }
  bool flag(size_t i, const char* name) { return in_range(i, name, 0, 1) != 0; }
  // a * b, or a failure when it leaves [0, 2^53).
  int64_t mul(int64_t a, int64_t b, const char* what) {
    int64_t r = 0;
    if (failed) return 0;
    if (__builtin_mul_overflow(a, b, &r) || r < 0 || (double)r >= kTwo53) {
      fail(std::string(what) + " overflows");
      return 0;
    }
    return r;
  }
  int64_t add(int64_t a, int64_t b, const char* what) {
    int64_t r = 0;
    if (failed) return 0;
    if (__builtin_add_overflow(a, b, &r) || r < 0 || (double)r >= kTwo53) {
      fail(std::string(what) + " overflows");
      return 0;
    }
    return r;
  }
  template <class T>
  T* array(size_t i, napi_typedarray_type want, int64_t min_len, const char* name, View* view) {
    if (failed) return nullptr;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    bool is_ta = false;
    if (i >= argc || napi_is_typedarray(env, argv[i], &is_ta) != napi_ok || !is_ta ||
        napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset) != napi_ok || type != want) {
      fail(std::string(name) + " must be a " + (want == napi_float32_array ? "Float32Array" : "Int32Array"));
      return nullptr;
    }
    if (min_len < 0 || (uint64_t)length < (uint64_t)min_len) {
      fail(std::string(name) + " has " + std::to_string(length) + " elements, needs " + std::to_string(min_len));
      return nullptr;
    }
    if (view) *view = {data, length * sizeof(T)};
    return static_cast<T*>(data);
  }
  float* f32(size_t i, int64_t min_len, const char* name, View* view) {
    return array<float>(i, napi_float32_array, min_len, name, view);
  }
  int32_t* i32(size_t i, int64_t min_len, const char* name, View* view) {
    return array<int32_t>(i, napi_int32_array, min_len, name, view);
  }
  // The length of typed array i (0 when it is not one; array() then reports it).
  int64_t length_of(size_t i) {
    size_t n = 0;
    bool is_ta = false;
    if (i < argc && napi_is_typedarray(env, argv[i], &is_ta) == napi_ok && is_ta)
      napi_get_typedarray_info(env, argv[i], nullptr, &n, nullptr, nullptr, nullptr);
    return (int64_t)n;
  }
  // Fails when the two arrays share any byte.
  void disjoint(const View& a, const char* an, const View& b, const char* bn) {
    if (failed || a.bytes == 0 || b.bytes == 0) return;
    const uintptr_t a0 = (uintptr_t)a.data, b0 = (uintptr_t)b.data;
    if (a0 < b0 + b.bytes && b0 < a0 + a.bytes) fail(std::string(an) + " and " + bn + " overlap");
  }
  // Element-wise kernels may run in place: the arrays are the same (same start), or disjoint.
  void same_or_disjoint(const View& a, const char* an, const View& b, const char* bn) {
    if (failed || a.data == b.data) return;
    disjoint(a, an, b, bn);
  }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// gemm(batch, batchA, batchB, M, N, K, transA, transB, A, B, C)
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "gemm");
  int64_t batch = a.size(0, "batch"), ba = a.size(1, "batchA"), bb = a.size(2, "batchB"), M = a.size(3, "M"),
          N = a.size(4, "N"), K = a.size(5, "K");
  bool ta = a.flag(6, "transA"), tb = a.flag(7, "transB");
  if (!a.failed && batch > 0 && (ba < 1 || bb < 1)) a.fail("batchA and batchB must be >= 1");
  View va, vb, vc;
  const float* A = a.f32(8, a.mul(ba, a.mul(M, K, "A size"), "A size"), "A", &va);
  const float* B = a.f32(9, a.mul(bb, a.mul(K, N, "B size"), "B size"), "B", &vb);
  float* C = a.f32(10, a.mul(batch, a.mul(M, N, "C size"), "C size"), "C", &vc);
  a.disjoint(vc, "C", va, "A");
  a.disjoint(vc, "C", vb, "B");
  if (!a.failed && batch > 0 && M > 0 && N > 0) batched_gemm(batch, ba, bb, M, N, K, ta, tb, A, B, C);
  return undefined(env);
}

// Elements a strided operand reaches: its last element's offset + 1 (0 when it is empty).
static int64_t reach(Args& a, int64_t nb, int64_t nh, int64_t sb, int64_t sh, int64_t rows, int64_t cols,
                     int64_t ld, const char* what) {
  if (nb == 0 || nh == 0 || rows == 0 || cols == 0) return 0;
  int64_t r = a.add(a.mul(nb - 1, sb, what), a.mul(nh - 1, sh, what), what);
  r = a.add(r, a.mul(rows - 1, ld, what), what);
  return a.add(r, cols, what);
}

// stridedGemm(nb, nh, M, N, K, transA, transB, A, sAb, sAh, lda, B, sBb, sBh, ldb, C, sCb, sCh, ldc)
napi_value StridedGemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "stridedGemm");
  int64_t nb = a.size(0, "nb"), nh = a.size(1, "nh"), M = a.size(2, "M"), N = a.size(3, "N"), K = a.size(4, "K");
  bool ta = a.flag(5, "transA"), tb = a.flag(6, "transB");
  int64_t sAb = a.size(8, "sAb"), sAh = a.size(9, "sAh"), lda = a.size(10, "lda"), sBb = a.size(12, "sBb"),
          sBh = a.size(13, "sBh"), ldb = a.size(14, "ldb"), sCb = a.size(16, "sCb"), sCh = a.size(17, "sCh"),
          ldc = a.size(18, "ldc");
  if (!a.failed && (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N)) a.fail("a leading dimension is shorter than its row");
  // With K = 0 nothing is read but C is still written (zeros).
  const int64_t needA = K == 0 ? 0 : reach(a, nb, nh, sAb, sAh, ta ? K : M, ta ? M : K, lda, "A reach");
  const int64_t needB = K == 0 ? 0 : reach(a, nb, nh, sBb, sBh, tb ? N : K, tb ? K : N, ldb, "B reach");
  const int64_t needC = reach(a, nb, nh, sCb, sCh, M, N, ldc, "C reach");
  View va, vb, vc;
  const float* A = a.f32(7, needA, "A", &va);
  const float* B = a.f32(11, needB, "B", &vb);
  float* C = a.f32(15, needC, "C", &vc);
  a.disjoint(vc, "C", va, "A");
  a.disjoint(vc, "C", vb, "B");
  if (a.failed || needC == 0) return undefined(env);
  if (K == 0) {  // an empty product: zeros, without forming pointers into A or B (which may be empty)
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t h = 0; h < nh; ++h)
        for (int64_t i = 0; i < M; ++i) std::memset(C + b * sCb + h * sCh + i * ldc, 0, N * sizeof(float));
    return undefined(env);
  }
  strided_gemm(nb, nh, M, N, K, ta, tb, A, sAb, sAh, lda, B, sBb, sBh, ldb, C, sCb, sCh, ldc);
  return undefined(env);
}

// binary(op, meta Int32Array [ndim, shape..., sa..., sb...], a, b, out)
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary");
  int op = (int)a.in_range(0, "op", kAdd, kPow);
  View vm, va, vb, vo;
  const int32_t* meta = a.i32(1, 1, "meta", &vm);
  if (a.failed) return undefined(env);
  int nd = meta[0];
  if (nd < 1 || nd > 8) { a.fail("rank must be 1..8"); return undefined(env); }
  meta = a.i32(1, 1 + 3 * nd, "meta", &vm);
  if (a.failed) return undefined(env);
  int64_t shape[8], sa[8], sb[8], total = 1, reachA = 1, reachB = 1;
  bool contiguousA = true;  // a walks the output's own row-major layout (in-place allowed)
  int64_t out_stride = 1;
  for (int d = nd - 1; d >= 0; --d) {
    shape[d] = meta[1 + d];
    sa[d] = meta[1 + nd + d];
    sb[d] = meta[1 + 2 * nd + d];
    if (shape[d] < 0 || sa[d] < 0 || sb[d] < 0) { a.fail("shape and strides must be >= 0"); return undefined(env); }
    if (shape[d] > 1 && sa[d] != out_stride) contiguousA = false;
    out_stride = a.mul(out_stride, shape[d], "output size");
  }
  for (int d = 0; d < nd; ++d) {
    total = a.mul(total, shape[d], "output size");
    if (shape[d] > 0) {
      reachA = a.add(reachA, a.mul(shape[d] - 1, sa[d], "a reach"), "a reach");
      reachB = a.add(reachB, a.mul(shape[d] - 1, sb[d], "b reach"), "b reach");
    }
  }
  if (total == 0) reachA = reachB = 0;
  const float* A = a.f32(2, reachA, "a", &va);
  const float* B = a.f32(3, reachB, "b", &vb);
  float* out = a.f32(4, total, "out", &vo);
  // In place is fine when out is a itself walked in its own order; any other overlap is not.
  if (!(contiguousA && va.data == vo.data)) a.disjoint(vo, "out", va, "a");
  a.disjoint(vo, "out", vb, "b");
  a.disjoint(vo, "out", vm, "meta");
  if (!a.failed && total > 0) binary(op, nd, shape, A, sa, B, sb, out);
  return undefined(env);
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info, "unary");
  int op = (int)a.in_range(0, "op", kExp, kStep);
  View vx, vo;
  const int64_t n = a.length_of(1);
  const float* x = a.f32(1, 0, "x", &vx);
  float* out = a.f32(2, n, "out", &vo);
  a.same_or_disjoint(vo, "out", vx, "x");
  if (!a.failed && n > 0) unary(op, x, out, n);
  return undefined(env);
}

// reduce(op, x, out, outer, r, inner)
napi_value Reduce(napi_env env, napi_callback_info info) {
  Args a(env, info, "reduce");
  int op = (int)a.in_range(0, "op", kSum, kMinR);
  int64_t outer = a.size(3, "outer"), r = a.size(4, "r"), inner = a.size(5, "inner");
  if (!a.failed && r < 1) a.fail("empty reduction (r must be >= 1)");
  View vx, vo;
  const int64_t n_out = a.mul(outer, inner, "output size");
  const float* x = a.f32(1, a.mul(n_out, r, "input size"), "x", &vx);
  float* out = a.f32(2, n_out, "out", &vo);
  a.disjoint(vo, "out", vx, "x");
  if (!a.failed && n_out > 0) reduce(op, x, out, outer, r, inner);
  return undefined(env);
}

// transpose(x, out, shape Int32Array, perm Int32Array)
napi_value Transpose(napi_env env, napi_callback_info info) {
  Args a(env, info, "transpose");
  const int64_t nd = a.length_of(2);
  View vx, vo, vs, vp;
  const int32_t* shp = a.i32(2, 0, "shape", &vs);
  const int32_t* perm = a.i32(3, nd, "perm", &vp);
  if (a.failed) return undefined(env);
  if (nd > 8) { a.fail("rank must be <= 8"); return undefined(env); }
  if (a.length_of(3) != nd) { a.fail("perm must have one entry per dimension"); return undefined(env); }
  int64_t shape[8], total = 1;
  int p[8];
  unsigned seen = 0;
  for (int64_t d = 0; d < nd; ++d) {
    shape[d] = shp[d];
    p[d] = perm[d];
    if (shape[d] < 0) { a.fail("shape must be >= 0"); return undefined(env); }
    // Each axis exactly once: a repeated axis would make the output walk past the input.
    if (p[d] < 0 || p[d] >= nd || (seen & (1u << p[d]))) { a.fail("perm must be a permutation of 0.." + std::to_string(nd - 1)); return undefined(env); }
    seen |= 1u << p[d];
    total = a.mul(total, shape[d], "size");
  }
  const float* x = a.f32(0, total, "x", &vx);
  float* out = a.f32(1, total, "out", &vo);
  a.disjoint(vo, "out", vx, "x");
  a.disjoint(vo, "out", vs, "shape");
  a.disjoint(vo, "out", vp, "perm");
  if (!a.failed && total > 0) transpose(x, out, (int)nd, shape, p);
  return undefined(env);
}

// softmax(x, out, rows, cols)
napi_value Softmax(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmax");
  int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  const int64_t n = a.mul(rows, cols, "size");
  View vx, vo;
  const float* x = a.f32(0, n, "x", &vx);
  float* out = a.f32(1, n, "out", &vo);
  a.same_or_disjoint(vo, "out", vx, "x");
  if (!a.failed && n > 0) softmax_rows(x, out, rows, cols);
  return undefined(env);
}

// softmaxCausal(x, out, rows, cols, T, offset)
napi_value SoftmaxCausal(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxCausal");
  int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols"), T = a.size(4, "T"), offset = a.size(5, "offset");
  if (!a.failed && T < 1) a.fail("T must be >= 1");
  const int64_t n = a.mul(rows, cols, "size");
  View vx, vo;
  const float* x = a.f32(0, n, "x", &vx);
  float* out = a.f32(1, n, "out", &vo);
  a.same_or_disjoint(vo, "out", vx, "x");
  if (!a.failed && n > 0) softmax_rows_causal(x, out, rows, cols, T, offset);
  return undefined(env);
}

// softmaxGrad(y, dy, dx, rows, cols)
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxGrad");
  int64_t rows = a.size(3, "rows"), cols = a.size(4, "cols");
  const int64_t n = a.mul(rows, cols, "size");
  View vy, vdy, vdx;
  const float* y = a.f32(0, n, "y", &vy);
  const float* dy = a.f32(1, n, "dy", &vdy);
  float* dx = a.f32(2, n, "dx", &vdx);
  a.disjoint(vdx, "dx", vy, "y");
  a.disjoint(vdx, "dx", vdy, "dy");
  if (!a.failed && n > 0) softmax_grad_rows(y, dy, dx, rows, cols);
  return undefined(env);
}

// layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Args a(env, info, "layerNorm");
  int64_t rows = a.size(6, "rows"), cols = a.size(7, "cols");
  float eps = (float)a.real(8, "eps");
  const int64_t n = a.mul(rows, cols, "size");
  View vx, vg, vb, vy, vm, vr;
  const float* x = a.f32(0, n, "x", &vx);
  const float* g = a.f32(1, cols, "gamma", &vg);
  const float* b = a.f32(2, cols, "beta", &vb);
  float* y = a.f32(3, n, "y", &vy);
  float* mean = a.f32(4, rows, "mean", &vm);
  float* rstd = a.f32(5, rows, "rstd", &vr);
  const View* outs[] = {&vy, &vm, &vr};
  const char* out_names[] = {"y", "mean", "rstd"};
  const View* ins[] = {&vx, &vg, &vb, &vy, &vm, &vr};
  const char* in_names[] = {"x", "gamma", "beta", "y", "mean", "rstd"};
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 6; ++i)
      if (ins[i] != outs[o]) a.disjoint(*outs[o], out_names[o], *ins[i], in_names[i]);
  if (!a.failed && rows > 0) layer_norm(x, g, b, y, mean, rstd, rows, cols, eps);
  return undefined(env);
}

// layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "layerNormGrad");
  int64_t rows = a.size(8, "rows"), cols = a.size(9, "cols");
  const int64_t n = a.mul(rows, cols, "size");
  View v[8];
  const float* x = a.f32(0, n, "x", &v[0]);
  const float* g = a.f32(1, cols, "gamma", &v[1]);
  const float* mean = a.f32(2, rows, "mean", &v[2]);
  const float* rstd = a.f32(3, rows, "rstd", &v[3]);
  const float* dy = a.f32(4, n, "dy", &v[4]);
  float* dx = a.f32(5, n, "dx", &v[5]);
  float* dg = a.f32(6, cols, "dgamma", &v[6]);
  float* db = a.f32(7, cols, "dbeta", &v[7]);
  const char* names[] = {"x", "gamma", "mean", "rstd", "dy", "dx", "dgamma", "dbeta"};
  for (int o = 5; o < 8; ++o)
    for (int i = 0; i < 8; ++i)
      if (i != o) a.disjoint(v[o], names[o], v[i], names[i]);
  if (!a.failed && cols > 0) layer_norm_grad(x, g, mean, rstd, dy, dx, dg, db, rows, cols);
  return undefined(env);
}

// geluGrad(x, dy, dx)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "geluGrad");
  const int64_t n = a.length_of(0);
  View vx, vdy, vdx;
  const float* x = a.f32(0, 0, "x", &vx);
  const float* dy = a.f32(1, n, "dy", &vdy);
  float* dx = a.f32(2, n, "dx", &vdx);
  a.same_or_disjoint(vdx, "dx", vx, "x");
  a.same_or_disjoint(vdx, "dx", vdy, "dy");
  if (!a.failed && n > 0) gelu_grad(x, dy, dx, n);
  return undefined(env);
}

// softmaxXent(logits, labels, probs, loss, rows, cols) -> mean loss over labelled rows
napi_value SoftmaxXent(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxXent");
  int64_t rows = a.size(4, "rows"), cols = a.size(5, "cols");
  const int64_t n = a.mul(rows, cols, "size");
  View vx, vl, vp, vloss;
  const float* x = a.f32(0, n, "logits", &vx);
  const int32_t* l = a.i32(1, rows, "labels", &vl);
  float* p = a.f32(2, n, "probs", &vp);
  float* loss = a.f32(3, rows, "loss", &vloss);
  a.disjoint(vp, "probs", vx, "logits");
  a.disjoint(vp, "probs", vl, "labels");
  a.disjoint(vloss, "loss", vx, "logits");
  a.disjoint(vloss, "loss", vl, "labels");
  a.disjoint(vloss, "loss", vp, "probs");
  double mean = 0;
  if (!a.failed && rows > 0) mean = softmax_xent(x, l, p, loss, rows, cols);
  return number(env, mean);
}

// softmaxXentGrad(probs, labels, dloss, dlogits, rows, cols)
napi_value SoftmaxXentGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmaxXentGrad");
  int64_t rows = a.size(4, "rows"), cols = a.size(5, "cols");
  const int64_t n = a.mul(rows, cols, "size");
  View vp, vl, vdl, vd;
  const float* p = a.f32(0, n, "probs", &vp);
  const int32_t* l = a.i32(1, rows, "labels", &vl);
  const float* dl = a.f32(2, rows, "dloss", &vdl);
  float* d = a.f32(3, n, "dlogits", &vd);
  a.disjoint(vd, "dlogits", vl, "labels");
  a.disjoint(vd, "dlogits", vdl, "dloss");
  a.same_or_disjoint(vd, "dlogits", vp, "probs");
  if (!a.failed && n > 0) softmax_xent_grad(p, l, dl, d, rows, cols);
  return undefined(env);
}

// gatherRows(table, idx, out, n, cols, tableRows)
napi_value GatherRows(napi_env env, napi_callback_info info) {
  Args a(env, info, "gatherRows");
  int64_t n = a.size(3, "n"), cols = a.size(4, "cols"), rows = a.size(5, "tableRows");
  View vt, vi, vo;
  const float* t = a.f32(0, a.mul(rows, cols, "table size"), "table", &vt);
  const int32_t* idx = a.i32(1, n, "indices", &vi);
  float* out = a.f32(2, a.mul(n, cols, "output size"), "out", &vo);
  a.disjoint(vo, "out", vt, "table");
  a.disjoint(vo, "out", vi, "indices");
  if (!a.failed && n > 0 && cols > 0) gather_rows(t, idx, out, n, cols, rows);
  return undefined(env);
}

// scatterAddRows(src, idx, out, n, cols, outRows)
napi_value ScatterAddRows(napi_env env, napi_callback_info info) {
  Args a(env, info, "scatterAddRows");
  int64_t n = a.size(3, "n"), cols = a.size(4, "cols"), rows = a.size(5, "outRows");
  View vs, vi, vo;
  const float* s = a.f32(0, a.mul(n, cols, "src size"), "src", &vs);
  const int32_t* idx = a.i32(1, n, "indices", &vi);
  float* out = a.f32(2, a.mul(rows, cols, "output size"), "out", &vo);
  a.disjoint(vo, "out", vs, "src");
  a.disjoint(vo, "out", vi, "indices");
  if (!a.failed && n > 0 && cols > 0) scatter_add_rows(s, idx, out, n, cols, rows);
  return undefined(env);
}

// adam(w, m, v, g, lr, beta1, beta2, eps, weightDecay, bias1, bias2, gradScale)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info, "adam");
  const int64_t n = a.length_of(0);
  View v[4];
  float* w = a.f32(0, 0, "w", &v[0]);
  float* m = a.f32(1, n, "m", &v[1]);
  float* vv = a.f32(2, n, "v", &v[2]);
  const float* g = a.f32(3, n, "g", &v[3]);
  const char* names[] = {"w", "m", "v", "g"};
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) a.disjoint(v[i], names[i], v[j], names[j]);
  float lr = (float)a.real(4, "lr"), b1 = (float)a.real(5, "beta1"), b2 = (float)a.real(6, "beta2"),
        eps = (float)a.real(7, "eps"), wd = (float)a.real(8, "weightDecay"), c1 = (float)a.real(9, "bias1"),
        c2 = (float)a.real(10, "bias2"), gs = (float)a.real(11, "gradScale");
  // bias = 1 - beta^t is 0 at t = 0, and m / 0 would turn every weight into NaN.
  if (!a.failed && !(c1 > 0.f && c2 > 0.f)) a.fail("bias1 and bias2 (1 - beta^step) must be > 0: Adam's step starts at 1");
  if (!a.failed && n > 0) adam(w, m, vv, g, n, lr, b1, b2, eps, wd, c1, c2, gs);
  return undefined(env);
}

// sumSquares(x) -> sum of squares (double)
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info, "sumSquares");
  const int64_t n = a.length_of(0);
  const float* x = a.f32(0, 0, "x", nullptr);
  double s = a.failed || n == 0 ? 0 : sum_squares(x, n);
  return number(env, s);
}

// dropout(x, y, mask, s0, s1, s2, c, keep)
napi_value Dropout(napi_env env, napi_callback_info info) {
  Args a(env, info, "dropout");
  const int64_t n = a.length_of(0);
  View vx, vy, vm;
  const float* x = a.f32(0, 0, "x", &vx);
  float* y = a.f32(1, n, "y", &vy);
  float* mask = a.f32(2, n, "mask", &vm);
  a.same_or_disjoint(vy, "y", vx, "x");
  a.disjoint(vm, "mask", vx, "x");
  a.disjoint(vm, "mask", vy, "y");
  double s0 = a.real(3, "s0"), s1 = a.real(4, "s1"), s2 = a.real(5, "s2");
  double c = (double)a.size(6, "c");
  float keep = (float)a.real(7, "keep");
  // Alea's state: three fractions in [0, 1) and a carry below 2^32.
  for (double s : {s0, s1, s2})
    if (!a.failed && !(s >= 0 && s < 1)) a.fail("s0, s1, s2 must be in [0, 1)");
  if (!a.failed && c >= 4294967296.0) a.fail("c must be < 2^32");
  if (!a.failed && !(keep > 0.f && keep <= 1.f)) a.fail("keep must be in (0, 1]");
  if (!a.failed && n > 0) dropout_alea(x, y, mask, n, s0, s1, s2, c, keep);
  return undefined(env);
}

// info() -> { isa, threads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, isa, threads;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, gemm_isa(), NAPI_AUTO_LENGTH, &isa);
  napi_create_int32(env, pool().size(), &threads);
  napi_set_named_property(env, obj, "isa", isa);
  napi_set_named_property(env, obj, "threads", threads);
  return obj;
}

// setThreads(n)
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setThreads");
  int n = (int)a.in_range(0, "n", 1, 256);
  if (!a.failed) set_pool_threads(n);
  return undefined(env);
}

// Every entry point runs under the kernel lock, and a C++ exception (bad_alloc, a thread that
// could not be started) becomes a JS error instead of terminating the process.
template <napi_value (*F)(napi_env, napi_callback_info)>
napi_value Guarded(napi_env env, napi_callback_info info) {
  const char* what = nullptr;
  try {
    std::lock_guard<std::mutex> lock(g_kernel_mutex);
    return F(env, info);
  } catch (const std::exception& e) {
    what = e.what();
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "LREF_NATIVE", (std::string("native kernel failed: ") + what).c_str());
  } catch (...) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "LREF_NATIVE", "native kernel failed: unknown C++ exception");
  }
  return undefined(env);
}

// The CPU features the kernels were compiled for (build.mjs passes one LREF_NEED_* per feature of
// the -march it used). Plain C only: this runs before any code built for those features. Returns
// the first missing feature, or nullptr.
const char* missing_cpu_feature() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define LREF_CHECK(macro, name) \
  if (macro && !__builtin_cpu_supports(name)) return name;
#ifdef LREF_NEED_SSE4_2
  LREF_CHECK(1, "sse4.2")
#endif
#ifdef LREF_NEED_POPCNT
  LREF_CHECK(1, "popcnt")
#endif
#ifdef LREF_NEED_AVX
  LREF_CHECK(1, "avx")
#endif
#ifdef LREF_NEED_AVX2
  LREF_CHECK(1, "avx2")
#endif
#ifdef LREF_NEED_FMA
  LREF_CHECK(1, "fma")
#endif
#ifdef LREF_NEED_BMI
  LREF_CHECK(1, "bmi")
#endif
#ifdef LREF_NEED_BMI2
  LREF_CHECK(1, "bmi2")
#endif
#ifdef LREF_NEED_AVX512F
  LREF_CHECK(1, "avx512f")
#endif
#ifdef LREF_NEED_AVX512DQ
  LREF_CHECK(1, "avx512dq")
#endif
#ifdef LREF_NEED_AVX512CD
  LREF_CHECK(1, "avx512cd")
#endif
#ifdef LREF_NEED_AVX512BW
  LREF_CHECK(1, "avx512bw")
#endif
#ifdef LREF_NEED_AVX512VL
  LREF_CHECK(1, "avx512vl")
#endif
#ifdef LREF_NEED_AVX512VBMI
  LREF_CHECK(1, "avx512vbmi")
#endif
#ifdef LREF_NEED_AVX512IFMA
  LREF_CHECK(1, "avx512ifma")
#endif
#ifdef LREF_NEED_AVX512VNNI
  LREF_CHECK(1, "avx512vnni")
#endif
#ifdef LREF_NEED_AVX512BF16
  LREF_CHECK(1, "avx512bf16")
#endif
#ifdef LREF_NEED_AVX512VBMI2
  LREF_CHECK(1, "avx512vbmi2")
#endif
#ifdef LREF_NEED_AVX512BITALG
  LREF_CHECK(1, "avx512bitalg")
#endif
#ifdef LREF_NEED_AVX512VPOPCNTDQ
  LREF_CHECK(1, "avx512vpopcntdq")
#endif
#ifdef LREF_NEED_AVX512VP2INTERSECT
  LREF_CHECK(1, "avx512vp2intersect")
#endif
#ifdef LREF_NEED_AVX512FP16
  LREF_CHECK(1, "avx512fp16")
#endif
#undef LREF_CHECK
#endif
  return nullptr;
}

#ifndef LREF_VARIANT
#define LREF_VARIANT "unknown"
#endif

napi_value Init(napi_env env, napi_value exports) {
  if (const char* missing = missing_cpu_feature()) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "lref_native (%s build) needs the CPU feature %s, which this CPU lacks",
                  LREF_VARIANT, missing);
    napi_throw_error(env, "LREF_NATIVE_CPU", msg);
    return nullptr;
  }
  // Every kernel returns a fresh multi-MB Float32Array. With glibc's default (dynamic) mmap
  // threshold those come from new mmaps whose first touch page-faults: 1.3 ms for a 4 MB output
  // against 0.05 ms for the arithmetic. Serving them from the heap and keeping freed memory
  // mapped makes the allocation reuse warm pages instead.
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
#endif
  struct { const char* name; napi_callback fn; } fns[] = {
      {"gemm", Guarded<Gemm>}, {"stridedGemm", Guarded<StridedGemm>}, {"softmaxCausal", Guarded<SoftmaxCausal>},
      {"binary", Guarded<Binary>}, {"unary", Guarded<Unary>}, {"reduce", Guarded<Reduce>},
      {"transpose", Guarded<Transpose>}, {"softmax", Guarded<Softmax>}, {"softmaxGrad", Guarded<SoftmaxGrad>},
      {"layerNorm", Guarded<LayerNorm>}, {"layerNormGrad", Guarded<LayerNormGrad>}, {"geluGrad", Guarded<GeluGrad>},
      {"softmaxXent", Guarded<SoftmaxXent>}, {"softmaxXentGrad", Guarded<SoftmaxXentGrad>},
      {"gatherRows", Guarded<GatherRows>}, {"scatterAddRows", Guarded<ScatterAddRows>}, {"adam", Guarded<Adam>},
      {"dropout", Guarded<Dropout>}, {"sumSquares", Guarded<SumSquares>}, {"info", Guarded<Info>},
      {"setThreads", Guarded<SetThreads>},
  };
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  napi_value variant;
  napi_create_string_utf8(env, LREF_VARIANT, NAPI_AUTO_LENGTH, &variant);
  napi_set_named_property(env, exports, "variant", variant);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
