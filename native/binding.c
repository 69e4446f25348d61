// binding.c — the Node-API surface of tune's native addon (runtime/backend/native.ts types it).
//
// Why this exists: JavaScript hands the addon views of memory it owns (the wasm heap, Float32Arrays) plus shapes;
// every function here checks argument count, types and that each array is at least as long as its shape says
// before any C loop touches it, and reports problems as coded JavaScript errors — bad input never reads out of
// bounds or crashes the process. The computations live in gemm.c and ops.c.

#include <node_api.h>
#include <stdbool.h>

#include "tune_native.h"

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

/** Exactly `want` arguments into argv, else false. */
static bool args(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
}

/** argv[0..count) as Float32Arrays (data pointers and element counts). */
static bool f32s(napi_env env, const napi_value *argv, int count, float **data, size_t *len) {
  for (int i = 0; i < count; i++) {
    napi_typedarray_type type;
    napi_value buffer;
    size_t offset;
    void *ptr;
    if (napi_get_typedarray_info(env, argv[i], &type, &len[i], &ptr, &buffer, &offset) != napi_ok) return false;
    if (type != napi_float32_array) return false;
    data[i] = (float *)ptr;
  }
  return true;
}

/** argv[0..count) as integers in [0, 2^31). */
static bool dims(napi_env env, const napi_value *argv, int count, int64_t *out) {
  for (int i = 0; i < count; i++) {
    if (napi_get_value_int64(env, argv[i], &out[i]) != napi_ok || out[i] < 0 || out[i] > INT32_MAX) return false;
  }
  return true;
}

static bool flag(napi_env env, napi_value v, bool *out) { return napi_get_value_bool(env, v, out) == napi_ok; }

static bool number(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

/**
 * sgemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB): for each batch entry i,
 * c[i] (m × n) = op(a at i·strideA) · op(b at i·strideB); op transposes when the flag is set.
 */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!args(env, info, argv, 11)) return fail(env, "TUNE_NATIVE_ARGS", "sgemm expects 11 arguments");
  if (!tune_cpu_ok()) return fail(env, "TUNE_NATIVE_CPU", "this CPU lacks AVX2/FMA");
  float *p[3];
  size_t len[3];
  int64_t d[4], stride[2];
  bool ta, tb;
  if (!f32s(env, argv, 3, p, len)) return fail(env, "TUNE_NATIVE_ARGS", "sgemm: a, b and c must be Float32Arrays");
  if (!dims(env, argv + 3, 4, d)) return fail(env, "TUNE_NATIVE_ARGS", "sgemm: batch, m, n, k must be integers in [0, 2^31)");
  if (!flag(env, argv[7], &ta) || !flag(env, argv[8], &tb) || !dims(env, argv + 9, 2, stride)) {
    return fail(env, "TUNE_NATIVE_ARGS", "sgemm: bad transpose flags or batch strides");
  }
  const int64_t batch = d[0], m = d[1], n = d[2], k = d[3];
  if (batch == 0 || m == 0 || n == 0) return NULL;
  if ((uint64_t)((batch - 1) * stride[0] + m * k) > len[0] || (uint64_t)((batch - 1) * stride[1] + k * n) > len[1] ||
      (uint64_t)(batch * m * n) > len[2]) {
    return fail(env, "TUNE_NATIVE_RANGE", "sgemm: an operand is shorter than its shape says");
  }
  tune_job_t job = {p[0], p[1], p[2], batch, m, n, k, stride[0], stride[1], ta, tb};
  if (tune_sgemm(&job) != 0) return fail(env, "TUNE_NATIVE_OOM", "sgemm: out of memory for packing buffers");
  return NULL;
}

/**
 * adamw(x, g, m, v, decay, beta1, 1-beta1, beta2, 1-beta2, stepSize, sqrt(bias correction 2), eps): one torch
 * AdamW update of x, m, v in place (the scalars already rounded to float32 by the caller, as in adamw.ts).
 */
static napi_value AdamW(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  float *p[4];
  size_t len[4];
  double k[8];
  if (!args(env, info, argv, 12)) return fail(env, "TUNE_NATIVE_ARGS", "adamw expects 12 arguments");
  bool ok = f32s(env, argv, 4, p, len);
  for (int i = 0; ok && i < 8; i++) ok = number(env, argv[4 + i], &k[i]);
  if (!ok) return fail(env, "TUNE_NATIVE_ARGS", "adamw: four Float32Arrays and eight numbers expected");
  if (len[1] != len[0] || len[2] != len[0] || len[3] != len[0]) return fail(env, "TUNE_NATIVE_RANGE", "adamw: arrays differ in length");
  tune_adamw(p[0], p[1], p[2], p[3], len[0], k);
  return NULL;
}

/** sumSquares(g): Σ g[i]² accumulated in double, in index order. */
static napi_value SumSquares(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  float *g;
  size_t n;
  if (!args(env, info, argv, 1) || !f32s(env, argv, 1, &g, &n)) return fail(env, "TUNE_NATIVE_ARGS", "sumSquares expects one Float32Array");
  napi_create_double(env, tune_sum_squares(g, n), &out);
  return out;
}

/** scale(g, c): g[i] = float(g[i] · c) in place. */
static napi_value Scale(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *g;
  size_t n;
  double c;
  if (!args(env, info, argv, 2) || !f32s(env, argv, 1, &g, &n) || !number(env, argv[1], &c)) {
    return fail(env, "TUNE_NATIVE_ARGS", "scale expects a Float32Array and a number");
  }
  tune_scale(g, n, c);
  return NULL;
}

/** addInto(acc, x): acc[i] += x[i] in float32 (same length). */
static napi_value AddInto(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *p[2];
  size_t len[2];
  if (!args(env, info, argv, 2) || !f32s(env, argv, 2, p, len)) return fail(env, "TUNE_NATIVE_ARGS", "addInto expects two Float32Arrays");
  if (len[0] != len[1]) return fail(env, "TUNE_NATIVE_RANGE", "addInto: arrays differ in length");
  tune_add_into(p[0], p[1], len[0]);
  return NULL;
}

/**
 * rope(grad, x, cos, sin, out, B, T, H, hd, scale, rotate): grad false = RoPE + head transpose (x [B·T, H·hd] →
 * out [B, H, T, hd]), true = its gradient (x is dy [B, H, T, hd] → out [B·T, H·hd]). cos/sin are [B·T, hd].
 */
static napi_value Rope(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  bool grad, rotate;
  float *p[4];
  size_t len[4];
  int64_t d[4];
  double scale;
  if (!args(env, info, argv, 11)) return fail(env, "TUNE_NATIVE_ARGS", "rope expects 11 arguments");
  if (!flag(env, argv[0], &grad) || !f32s(env, argv + 1, 4, p, len) || !number(env, argv[9], &scale) || !flag(env, argv[10], &rotate)) {
    return fail(env, "TUNE_NATIVE_ARGS", "rope: (bool, 4 Float32Arrays, B, T, H, hd, scale, bool) expected");
  }
  if (!dims(env, argv + 5, 4, d)) return fail(env, "TUNE_NATIVE_ARGS", "rope: B, T, H, hd must be integers in [0, 2^31)");
  const int64_t B = d[0], T = d[1], H = d[2], hd = d[3];
  const uint64_t n = (uint64_t)(B * T * H * hd), table = (uint64_t)(B * T * hd);
  if (hd % 2 != 0 || len[0] < n || len[3] < n || (rotate && (len[1] < table || len[2] < table))) {
    return fail(env, "TUNE_NATIVE_RANGE", "rope: an array is shorter than its shape says (or hd is odd)");
  }
  tune_rope(grad, p[0], p[1], p[2], p[3], B, T, H, hd, (float)scale, rotate);
  return NULL;
}

/** rmsNorm(x, w, y, xhat, r, N, D, eps): y, x̂ [N, D] and r [N] from x [N, D] and w [D]. */
static napi_value RmsNorm(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  float *p[5];
  size_t len[5];
  int64_t d[2];
  double eps;
  if (!args(env, info, argv, 8)) return fail(env, "TUNE_NATIVE_ARGS", "rmsNorm expects 8 arguments");
  if (!f32s(env, argv, 5, p, len)) return fail(env, "TUNE_NATIVE_ARGS", "rmsNorm: Float32Arrays expected");
  if (!dims(env, argv + 5, 2, d) || d[1] == 0 || !number(env, argv[7], &eps)) {
    return fail(env, "TUNE_NATIVE_ARGS", "rmsNorm: N, D must be integers (D > 0), eps a number");
  }
  const uint64_t N = (uint64_t)d[0], D = (uint64_t)d[1];
  if (len[0] < N * D || len[1] < D || len[2] < N * D || len[3] < N * D || len[4] < N) {
    return fail(env, "TUNE_NATIVE_RANGE", "rmsNorm: an array is shorter than its shape says");
  }
  tune_rmsnorm_fwd(p[0], p[1], p[2], p[3], p[4], d[0], d[1], (float)eps);
  return NULL;
}

/** rmsNormGrad(wantDx, dy, xhat, r, w, out, N, D): out = dx [N, D] when wantDx, else dw [D]. */
static napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  float *p[5];
  size_t len[5];
  int64_t d[2];
  bool want_dx;
  if (!args(env, info, argv, 8) || !flag(env, argv[0], &want_dx)) {
    return fail(env, "TUNE_NATIVE_ARGS", "rmsNormGrad expects (bool, 5 Float32Arrays, N, D)");
  }
  if (!f32s(env, argv + 1, 5, p, len)) return fail(env, "TUNE_NATIVE_ARGS", "rmsNormGrad: Float32Arrays expected");
  if (!dims(env, argv + 6, 2, d) || d[1] == 0) return fail(env, "TUNE_NATIVE_ARGS", "rmsNormGrad: N, D must be integers (D > 0)");
  const uint64_t N = (uint64_t)d[0], D = (uint64_t)d[1];
  if (len[0] < N * D || len[1] < N * D || len[2] < N || len[3] < D || len[4] < (want_dx ? N * D : D)) {
    return fail(env, "TUNE_NATIVE_RANGE", "rmsNormGrad: an array is shorter than its shape says");
  }
  if (tune_rmsnorm_bwd(p[0], p[1], p[2], p[3], want_dx ? p[4] : NULL, want_dx ? NULL : p[4], d[0], d[1]) != 0) {
    return fail(env, "TUNE_NATIVE_OOM", "rmsNormGrad: out of memory");
  }
  return NULL;
}

/** siluGrad(dy, z, s, dz): dz = dy·(s·(1 + z·(1 − s))), s = σ(z). */
static napi_value SiluGrad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float *p[4];
  size_t len[4];
  if (!args(env, info, argv, 4) || !f32s(env, argv, 4, p, len)) return fail(env, "TUNE_NATIVE_ARGS", "siluGrad expects 4 Float32Arrays");
  if (len[1] != len[0] || len[2] != len[0] || len[3] != len[0]) return fail(env, "TUNE_NATIVE_RANGE", "siluGrad: arrays differ in length");
  tune_silu_grad(p[0], p[1], p[2], p[3], len[0]);
  return NULL;
}

/** setThreads(n): worker threads used for big products (1 = the calling thread only); returns the value set. */
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int32_t n = 1;
  if (!args(env, info, argv, 1) || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > 16) {
    return fail(env, "TUNE_NATIVE_ARGS", "setThreads expects an integer from 1 to 16");
  }
  tune_set_threads(n);
  napi_create_int32(env, n, &out);
  return out;
}

/** cpuSupported(): whether this CPU has the AVX2 and FMA instructions the kernels need. */
static napi_value CpuSupported(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, tune_cpu_ok(), &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"cpuSupported", NULL, CpuSupported, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, AdamW, NULL, NULL, NULL, napi_default, NULL},
      {"sumSquares", NULL, SumSquares, NULL, NULL, NULL, napi_default, NULL},
      {"scale", NULL, Scale, NULL, NULL, NULL, napi_default, NULL},
      {"addInto", NULL, AddInto, NULL, NULL, NULL, napi_default, NULL},
      {"rope", NULL, Rope, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNorm", NULL, RmsNorm, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNormGrad", NULL, RmsNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"siluGrad", NULL, SiluGrad, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
