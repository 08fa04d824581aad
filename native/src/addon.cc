// N-API bindings: every kernel works in place on the Float32Array/Int32Array buffers TF.js's cpu
// backend already holds (zero copy). Sizes are checked here so a wrong call throws instead of
// corrupting memory.
#include <malloc.h>
#include <node_api.h>

#include <cstdint>
#include <string>

#include "gemm.h"
#include "ops.h"
#include "threadpool.h"

namespace {

using namespace lref;

struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  bool failed = false;

  Args(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  void fail(const std::string& msg) {
    if (!failed) napi_throw_error(env, "LREF_NATIVE", msg.c_str());
    failed = true;
  }
  double num(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail("argument " + std::to_string(i) + " must be a number");
    return v;
  }
  int64_t i64(size_t i) { return (int64_t)num(i); }
  template <class T>
  T* array(size_t i, napi_typedarray_type want, int64_t min_len, const char* name) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value ab;
    size_t offset = 0;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset) != napi_ok || type != want) {
      fail(std::string(name) + " must be a " + (want == napi_float32_array ? "Float32Array" : "Int32Array"));
      return nullptr;
    }
    if ((int64_t)length < min_len) {
      fail(std::string(name) + " has " + std::to_string(length) + " elements, needs " + std::to_string(min_len));
      return nullptr;
    }
    return static_cast<T*>(data);
  }
  float* f32(size_t i, int64_t min_len, const char* name) { return array<float>(i, napi_float32_array, min_len, name); }
  int32_t* i32(size_t i, int64_t min_len, const char* name) { return array<int32_t>(i, napi_int32_array, min_len, name); }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// gemm(batch, batchA, batchB, M, N, K, transA, transB, A, B, C)
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t batch = a.i64(0), ba = a.i64(1), bb = a.i64(2), M = a.i64(3), N = a.i64(4), K = a.i64(5);
  bool ta = a.num(6) != 0, tb = a.num(7) != 0;
  if (!a.failed && (ba < 1 || bb < 1 || batch < 1 || M < 0 || N < 0 || K < 0)) a.fail("gemm: bad sizes");
  const float* A = a.f32(8, ba * M * K, "A");
  const float* B = a.f32(9, bb * K * N, "B");
  float* C = a.f32(10, batch * M * N, "C");
  if (!a.failed) batched_gemm(batch, ba, bb, M, N, K, ta, tb, A, B, C);
  return undefined(env);
}

// Elements a strided operand reaches: its last element's offset + 1.
static int64_t reach(int64_t nb, int64_t nh, int64_t sb, int64_t sh, int64_t rows, int64_t cols, int64_t ld) {
  return (nb - 1) * sb + (nh - 1) * sh + (rows - 1) * ld + cols;
}

// stridedGemm(nb, nh, M, N, K, transA, transB, A, sAb, sAh, lda, B, sBb, sBh, ldb, C, sCb, sCh, ldc)
napi_value StridedGemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t nb = a.i64(0), nh = a.i64(1), M = a.i64(2), N = a.i64(3), K = a.i64(4);
  bool ta = a.num(5) != 0, tb = a.num(6) != 0;
  int64_t sAb = a.i64(8), sAh = a.i64(9), lda = a.i64(10), sBb = a.i64(12), sBh = a.i64(13), ldb = a.i64(14),
          sCb = a.i64(16), sCh = a.i64(17), ldc = a.i64(18);
  if (!a.failed && (nb < 1 || nh < 1 || M < 1 || N < 1 || K < 1 || sAb < 0 || sAh < 0 || sBb < 0 || sBh < 0 ||
                    sCb < 0 || sCh < 0 || lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N))
    a.fail("stridedGemm: bad sizes or strides");
  if (a.failed) return undefined(env);
  const float* A = a.f32(7, reach(nb, nh, sAb, sAh, ta ? K : M, ta ? M : K, lda), "A");
  const float* B = a.f32(11, reach(nb, nh, sBb, sBh, tb ? N : K, tb ? K : N, ldb), "B");
  float* C = a.f32(15, reach(nb, nh, sCb, sCh, M, N, ldc), "C");
  if (!a.failed) strided_gemm(nb, nh, M, N, K, ta, tb, A, sAb, sAh, lda, B, sBb, sBh, ldb, C, sCb, sCh, ldc);
  return undefined(env);
}

// binary(op, meta Int32Array [ndim, shape..., sa..., sb...], a, b, out)
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = (int)a.num(0);
  const int32_t* meta = a.i32(1, 1, "meta");
  if (a.failed) return undefined(env);
  int nd = meta[0];
  if (nd < 1 || nd > 8) { a.fail("binary: rank must be 1..8"); return undefined(env); }
  a.i32(1, 1 + 3 * nd, "meta");
  int64_t shape[8], sa[8], sb[8], total = 1, reachA = 1, reachB = 1;
  for (int d = 0; d < nd; ++d) {
    shape[d] = meta[1 + d];
    sa[d] = meta[1 + nd + d];
    sb[d] = meta[1 + 2 * nd + d];
    total *= shape[d];
    reachA += (shape[d] - 1) * sa[d];
    reachB += (shape[d] - 1) * sb[d];
  }
  const float* A = a.f32(2, reachA, "a");
  const float* B = a.f32(3, reachB, "b");
  float* out = a.f32(4, total, "out");
  if (!a.failed && total > 0) binary(op, nd, shape, A, sa, B, sb, out);
  return undefined(env);
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = (int)a.num(0);
  const float* x = a.f32(1, 0, "x");
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[1], nullptr, &n, nullptr, nullptr, nullptr);
  float* out = a.f32(2, (int64_t)n, "out");
  if (!a.failed) unary(op, x, out, (int64_t)n);
  return undefined(env);
}

// reduce(op, x, out, outer, r, inner)
napi_value Reduce(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = (int)a.num(0);
  int64_t outer = a.i64(3), r = a.i64(4), inner = a.i64(5);
  if (!a.failed && r < 1) a.fail("reduce: empty reduction");
  const float* x = a.f32(1, outer * r * inner, "x");
  float* out = a.f32(2, outer * inner, "out");
  if (!a.failed) reduce(op, x, out, outer, r, inner);
  return undefined(env);
}

// transpose(x, out, shape Int32Array, perm Int32Array)
napi_value Transpose(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nd = 0;
  napi_get_typedarray_info(env, a.argv[2], nullptr, &nd, nullptr, nullptr, nullptr);
  const int32_t* shp = a.i32(2, 1, "shape");
  const int32_t* perm = a.i32(3, (int64_t)nd, "perm");
  if (a.failed) return undefined(env);
  if (nd > 8) { a.fail("transpose: rank must be <= 8"); return undefined(env); }
  int64_t shape[8], total = 1;
  int p[8];
  for (size_t d = 0; d < nd; ++d) {
    shape[d] = shp[d];
    total *= shape[d];
    p[d] = perm[d];
    if (p[d] < 0 || p[d] >= (int)nd) { a.fail("transpose: bad perm"); return undefined(env); }
  }
  const float* x = a.f32(0, total, "x");
  float* out = a.f32(1, total, "out");
  if (!a.failed && total > 0) transpose(x, out, (int)nd, shape, p);
  return undefined(env);
}

// softmax(x, out, rows, cols)
napi_value Softmax(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(2), cols = a.i64(3);
  const float* x = a.f32(0, rows * cols, "x");
  float* out = a.f32(1, rows * cols, "out");
  if (!a.failed && cols > 0) softmax_rows(x, out, rows, cols);
  return undefined(env);
}

// softmaxCausal(x, out, rows, cols, T, offset)
napi_value SoftmaxCausal(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(2), cols = a.i64(3), T = a.i64(4), offset = a.i64(5);
  if (!a.failed && (T < 1 || offset < 0)) a.fail("softmaxCausal: bad T or offset");
  const float* x = a.f32(0, rows * cols, "x");
  float* out = a.f32(1, rows * cols, "out");
  if (!a.failed && cols > 0) softmax_rows_causal(x, out, rows, cols, T, offset);
  return undefined(env);
}

// softmaxGrad(y, dy, dx, rows, cols)
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(3), cols = a.i64(4);
  const float* y = a.f32(0, rows * cols, "y");
  const float* dy = a.f32(1, rows * cols, "dy");
  float* dx = a.f32(2, rows * cols, "dx");
  if (!a.failed) softmax_grad_rows(y, dy, dx, rows, cols);
  return undefined(env);
}

// layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(6), cols = a.i64(7);
  float eps = (float)a.num(8);
  const float* x = a.f32(0, rows * cols, "x");
  const float* g = a.f32(1, cols, "gamma");
  const float* b = a.f32(2, cols, "beta");
  float* y = a.f32(3, rows * cols, "y");
  float* mean = a.f32(4, rows, "mean");
  float* rstd = a.f32(5, rows, "rstd");
  if (!a.failed && cols > 0) layer_norm(x, g, b, y, mean, rstd, rows, cols, eps);
  return undefined(env);
}

// layerNormGrad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(8), cols = a.i64(9);
  const float* x = a.f32(0, rows * cols, "x");
  const float* g = a.f32(1, cols, "gamma");
  const float* mean = a.f32(2, rows, "mean");
  const float* rstd = a.f32(3, rows, "rstd");
  const float* dy = a.f32(4, rows * cols, "dy");
  float* dx = a.f32(5, rows * cols, "dx");
  float* dg = a.f32(6, cols, "dgamma");
  float* db = a.f32(7, cols, "dbeta");
  if (!a.failed) layer_norm_grad(x, g, mean, rstd, dy, dx, dg, db, rows, cols);
  return undefined(env);
}

// geluGrad(x, dy, dx)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, 0, "x");
  const float* dy = a.f32(1, (int64_t)n, "dy");
  float* dx = a.f32(2, (int64_t)n, "dx");
  if (!a.failed) gelu_grad(x, dy, dx, (int64_t)n);
  return undefined(env);
}

// softmaxXent(logits, labels, probs, loss, rows, cols) -> mean loss over labelled rows
napi_value SoftmaxXent(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(4), cols = a.i64(5);
  const float* x = a.f32(0, rows * cols, "logits");
  const int32_t* l = a.i32(1, rows, "labels");
  float* p = a.f32(2, rows * cols, "probs");
  float* loss = a.f32(3, rows, "loss");
  double mean = 0;
  if (!a.failed && cols > 0) mean = softmax_xent(x, l, p, loss, rows, cols);
  napi_value out;
  napi_create_double(env, mean, &out);
  return out;
}

// softmaxXentGrad(probs, labels, dloss, dlogits, rows, cols)
napi_value SoftmaxXentGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t rows = a.i64(4), cols = a.i64(5);
  const float* p = a.f32(0, rows * cols, "probs");
  const int32_t* l = a.i32(1, rows, "labels");
  const float* dl = a.f32(2, rows, "dloss");
  float* d = a.f32(3, rows * cols, "dlogits");
  if (!a.failed) softmax_xent_grad(p, l, dl, d, rows, cols);
  return undefined(env);
}

// gatherRows(table, idx, out, n, cols, tableRows)
napi_value GatherRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t n = a.i64(3), cols = a.i64(4), rows = a.i64(5);
  const float* t = a.f32(0, rows * cols, "table");
  const int32_t* idx = a.i32(1, n, "indices");
  float* out = a.f32(2, n * cols, "out");
  if (!a.failed && cols > 0) gather_rows(t, idx, out, n, cols, rows);
  return undefined(env);
}

// scatterAddRows(src, idx, out, n, cols, outRows)
napi_value ScatterAddRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int64_t n = a.i64(3), cols = a.i64(4), rows = a.i64(5);
  const float* s = a.f32(0, n * cols, "src");
  const int32_t* idx = a.i32(1, n, "indices");
  float* out = a.f32(2, rows * cols, "out");
  if (!a.failed && cols > 0) scatter_add_rows(s, idx, out, n, cols, rows);
  return undefined(env);
}

// adam(w, m, v, g, lr, beta1, beta2, eps, weightDecay, bias1, bias2, gradScale)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  float* w = a.f32(0, 0, "w");
  float* m = a.f32(1, (int64_t)n, "m");
  float* v = a.f32(2, (int64_t)n, "v");
  const float* g = a.f32(3, (int64_t)n, "g");
  float lr = (float)a.num(4), b1 = (float)a.num(5), b2 = (float)a.num(6), eps = (float)a.num(7),
        wd = (float)a.num(8), c1 = (float)a.num(9), c2 = (float)a.num(10), gs = (float)a.num(11);
  if (!a.failed) adam(w, m, v, g, (int64_t)n, lr, b1, b2, eps, wd, c1, c2, gs);
  return undefined(env);
}

// sumSquares(x) -> sum of squares (double)
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, 0, "x");
  double s = a.failed ? 0 : sum_squares(x, (int64_t)n);
  napi_value out;
  napi_create_double(env, s, &out);
  return out;
}

// dropout(x, y, mask, s0, s1, s2, c, keep)
napi_value Dropout(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, 0, "x");
  float* y = a.f32(1, (int64_t)n, "y");
  float* mask = a.f32(2, (int64_t)n, "mask");
  double s0 = a.num(3), s1 = a.num(4), s2 = a.num(5), c = a.num(6);
  float keep = (float)a.num(7);
  if (!a.failed && !(keep > 0.f && keep <= 1.f)) a.fail("dropout: keep must be in (0, 1]");
  if (!a.failed) dropout_alea(x, y, mask, (int64_t)n, s0, s1, s2, c, keep);
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
  Args a(env, info);
  int n = (int)a.num(0);
  if (!a.failed && (n < 1 || n > 256)) a.fail("setThreads: n must be 1..256");
  if (!a.failed) set_pool_threads(n);
  return undefined(env);
}

napi_value Init(napi_env env, napi_value exports) {
  // Every kernel returns a fresh multi-MB Float32Array. With glibc's default (dynamic) mmap
  // threshold those come from new mmaps whose first touch page-faults: 1.3 ms for a 4 MB output
  // against 0.05 ms for the arithmetic. Serving them from the heap and keeping freed memory
  // mapped makes the allocation reuse warm pages instead.
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
#endif
  struct { const char* name; napi_callback fn; } fns[] = {
      {"gemm", Gemm}, {"stridedGemm", StridedGemm}, {"softmaxCausal", SoftmaxCausal}, {"binary", Binary}, {"unary", Unary}, {"reduce", Reduce},
      {"transpose", Transpose}, {"softmax", Softmax}, {"softmaxGrad", SoftmaxGrad},
      {"layerNorm", LayerNorm}, {"layerNormGrad", LayerNormGrad}, {"geluGrad", GeluGrad},
      {"softmaxXent", SoftmaxXent}, {"softmaxXentGrad", SoftmaxXentGrad},
      {"gatherRows", GatherRows}, {"scatterAddRows", ScatterAddRows}, {"adam", Adam}, {"dropout", Dropout}, {"sumSquares", SumSquares},
      {"info", Info}, {"setThreads", SetThreads},
  };
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
