// tune_native.c — a single-precision matrix product (SGEMM) for tune's in-process backends, as a Node-API addon.
//
// Why this exists: training in process spends 80–86% of its kernel time in matrix products, and the tfjs wasm
// backend can only use 128-bit SIMD without FMA (XNNPACK reaches 10–16 GFLOP/s here), while PyTorch's BLAS uses
// AVX2 + FMA. This addon computes the same products with 256-bit FMA on memory JavaScript already owns (the wasm
// heap or a cpu-backend Float32Array): no copies, no allocation per call. It is optional — built at install time
// when a C compiler and Node's headers are present (scripts/build-native.mjs) and used only on CPUs with AVX2 and
// FMA; everything works without it.
//
// Algorithm: the classic packed GEMM (Goto / BLIS): blocks of B (KC × NC) and A (MC × KC) are copied into
// contiguous panels, and a 6 × 16 register-tile kernel accumulates over KC with FMA. Each output element is summed
// in one fixed order (p ascending within a KC block, blocks in order), so results are deterministic and
// independent of the thread count.

#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define TUNE_X86 1
#else
#error "tune_native.c needs an x86-64 CPU (AVX2 + FMA); scripts/build-native.mjs skips other architectures"
#endif

#define MR 6
#define NR 16
#define KC 256
#define MC 96
#define NC 4096

/** Element (i, j) of a strided matrix is p[i * rs + j * cs]. */
typedef struct {
  const float *p;
  int64_t rs, cs;
} mat_t;

/** Pack rows [0, mc) × columns [0, kc) of A into MR-row panels: out[panel][p][r], zero-padded. */
static void pack_a(mat_t a, int mc, int kc, float *out) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    int mr = mc - i0 < MR ? mc - i0 : MR;
    const float *base = a.p + (int64_t)i0 * a.rs;
    if (a.cs == 1) {
      for (int r = 0; r < MR; r++) {
        if (r < mr) {
          const float *row = base + (int64_t)r * a.rs;
          for (int p = 0; p < kc; p++) out[p * MR + r] = row[p];
        } else {
          for (int p = 0; p < kc; p++) out[p * MR + r] = 0.0f;
        }
      }
    } else {
      for (int p = 0; p < kc; p++) {
        const float *col = base + (int64_t)p * a.cs;
        for (int r = 0; r < mr; r++) out[p * MR + r] = col[(int64_t)r * a.rs];
        for (int r = mr; r < MR; r++) out[p * MR + r] = 0.0f;
      }
    }
    out += (int64_t)kc * MR;
  }
}

/** Pack rows [0, kc) × columns [0, nc) of B into NR-column panels: out[panel][p][c], zero-padded. */
static void pack_b(mat_t b, int kc, int nc, float *out) {
  for (int j0 = 0; j0 < nc; j0 += NR) {
    int nr = nc - j0 < NR ? nc - j0 : NR;
    const float *base = b.p + (int64_t)j0 * b.cs;
    if (b.cs == 1) {
      for (int p = 0; p < kc; p++) {
        const float *row = base + (int64_t)p * b.rs;
        float *dst = out + p * NR;
        memcpy(dst, row, (size_t)nr * sizeof(float));
        for (int c = nr; c < NR; c++) dst[c] = 0.0f;
      }
    } else {
      for (int c = 0; c < NR; c++) {
        if (c < nr) {
          const float *col = base + (int64_t)c * b.cs;
          for (int p = 0; p < kc; p++) out[p * NR + c] = col[(int64_t)p * b.rs];
        } else {
          for (int p = 0; p < kc; p++) out[p * NR + c] = 0.0f;
        }
      }
    }
    out += (int64_t)kc * NR;
  }
}

#ifdef TUNE_X86
#define ROW(i)                                                \
  {                                                           \
    __m256 ai = _mm256_broadcast_ss(a + i);                   \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);               \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);               \
  }
#define STORE(i)                                                                   \
  {                                                                                \
    float *ci = c + (int64_t)i * ldc;                                              \
    if (add) {                                                                     \
      c##i##0 = _mm256_add_ps(_mm256_loadu_ps(ci), c##i##0);                       \
      c##i##1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), c##i##1);                   \
    }                                                                              \
    _mm256_storeu_ps(ci, c##i##0);                                                 \
    _mm256_storeu_ps(ci + 8, c##i##1);                                             \
  }

/** c[0..6)[0..16) (row stride ldc) = (add ? c : 0) + Σ_p a[p][0..6) ⊗ b[p][0..16). */
__attribute__((target("avx2,fma"))) static void kernel_6x16(int kc, const float *restrict a, const float *restrict b,
                                                            float *restrict c, int64_t ldc, int add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
    a += MR;
    b += NR;
  }
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
}
#endif

/** Packing buffers of one worker, grown on demand and 64-byte aligned (the kernel's B loads are aligned). */
typedef struct {
  float *a, *b;
  size_t a_cap, b_cap;
} scratch_t;

static float *grow(float **buf, size_t *cap, size_t floats) {
  if (*cap >= floats) return *buf;
  free(*buf);
  size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
  *buf = aligned_alloc(64, bytes);
  *cap = *buf ? floats : 0;
  return *buf;
}

/**
 * Few rows (generation: one token per sequence) with B's rows contiguous (x·W, W stored in × out): no packing,
 * since packing all of B would cost as much as the product. Each element is summed exactly as the packed path
 * sums it — FMA from zero over each KC block in p order, then added to the previous blocks' sum — so a row's
 * result does not depend on how many rows were computed with it.
 */
__attribute__((target("avx2,fma"))) static int gemm_few_rows(mat_t a, mat_t b, float *c, int64_t ldc, int m, int n, int k,
                                                             scratch_t *s) {
  float *acc = grow(&s->a, &s->a_cap, (size_t)n);
  if (!acc) return -1;
  for (int i = 0; i < m; i++) {
    float *ci = c + (int64_t)i * ldc;
    const float *ai = a.p + (int64_t)i * a.rs;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      memset(acc, 0, (size_t)n * sizeof(float));
      for (int p = pc; p < pc + kc; p++) {
        const float x = ai[(int64_t)p * a.cs];
        const __m256 xv = _mm256_set1_ps(x);
        const float *bp = b.p + (int64_t)p * b.rs;
        int j = 0;
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(xv, _mm256_loadu_ps(bp + j), _mm256_loadu_ps(acc + j)));
        for (; j < n; j++) acc[j] = fmaf(x, bp[j], acc[j]);
      }
      if (pc == 0) {
        memcpy(ci, acc, (size_t)n * sizeof(float));
      } else {
        for (int j = 0; j < n; j++) ci[j] += acc[j];
      }
    }
  }
  return 0;
}

/** One product C (m × n, row stride ldc) = A (m × k) · B (k × n), A and B strided; 0 on success. */
__attribute__((target("avx2,fma"))) static int gemm_one(mat_t a, mat_t b, float *c, int64_t ldc, int m, int n, int k,
                                                        scratch_t *s) {
  if (k == 0) {
    for (int i = 0; i < m; i++) memset(c + (int64_t)i * ldc, 0, (size_t)n * sizeof(float));
    return 0;
  }
  if (m < MR && b.cs == 1) return gemm_few_rows(a, b, c, ldc, m, n, k, s);
  float edge[MR * NR];
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    int nc_pad = (nc + NR - 1) / NR * NR;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      float *bp = grow(&s->b, &s->b_cap, (size_t)kc * nc_pad);
      if (!bp) return -1;
      mat_t bblk = {b.p + (int64_t)pc * b.rs + (int64_t)jc * b.cs, b.rs, b.cs};
      pack_b(bblk, kc, nc, bp);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        int mc_pad = (mc + MR - 1) / MR * MR;
        float *ap = grow(&s->a, &s->a_cap, (size_t)kc * mc_pad);
        if (!ap) return -1;
        mat_t ablk = {a.p + (int64_t)ic * a.rs + (int64_t)pc * a.cs, a.rs, a.cs};
        pack_a(ablk, mc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = nc - jr < NR ? nc - jr : NR;
          const float *bpanel = bp + (int64_t)(jr / NR) * kc * NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            const float *apanel = ap + (int64_t)(ir / MR) * kc * MR;
            float *cij = c + (int64_t)(ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              kernel_6x16(kc, apanel, bpanel, cij, ldc, pc > 0);
            } else {
              kernel_6x16(kc, apanel, bpanel, edge, NR, 0);
              for (int i = 0; i < mr; i++) {
                float *row = cij + (int64_t)i * ldc;
                for (int j = 0; j < nr; j++) row[j] = pc > 0 ? row[j] + edge[i * NR + j] : edge[i * NR + j];
              }
            }
          }
        }
      }
    }
  }
  return 0;
}

/** A batched product's description; batch strides of 0 broadcast an operand. */
typedef struct {
  const float *a, *b;
  float *c;
  int64_t batch, m, n, k, stride_a, stride_b;
  int trans_a, trans_b;
} job_t;

static int run_rows(const job_t *job, int64_t first, int64_t count, scratch_t *s);

/* ---- a small fixed pool of workers; work is split by output rows (each element still summed in one order) ---- */

#define MAX_THREADS 16
typedef struct {
  pthread_t tid;
  scratch_t scratch;
  const job_t *job;
  int64_t first, count;
  int status;
} worker_t;

static worker_t workers[MAX_THREADS];
static int pool_size = 0; /* extra threads started (the caller is worker 0) */
static int wanted_threads = 1;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
static uint64_t generation = 0;
static uint64_t pending = 0;
static scratch_t main_scratch;
/* Serialises products when several Node worker threads share this library (its buffers and pool are global). */
static pthread_mutex_t job_mu = PTHREAD_MUTEX_INITIALIZER;

/* Waking a sleeping thread costs tens to hundreds of microseconds on a VM (its vCPU may have halted), as much as a
 * whole small product; so workers keep spinning for SPIN_NS after their last job — long enough to bridge the gaps
 * between the products of a training step — and the caller spins briefly before it blocks. This only happens with
 * TUNE_NATIVE_THREADS > 1 (one core then stays busy while a step runs, as OpenMP's default wait policy does). */
#define WORKER_SPIN_NS 3000000LL
#define CALLER_SPIN_NS 200000LL

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/** Spin until *word == 0 or `budget` nanoseconds passed. */
static void spin_until_zero(const uint64_t *word, int64_t budget) {
  const int64_t until = now_ns() + budget;
  while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != 0) {
    for (int i = 0; i < 64 && __atomic_load_n(word, __ATOMIC_ACQUIRE) != 0; i++) _mm_pause();
    if (now_ns() > until) return;
  }
}

/** Spin until *word != seen or `budget` nanoseconds passed; returns whether it changed. */
static int spin_while_equal(const uint64_t *word, uint64_t seen, int64_t budget) {
  const int64_t until = now_ns() + budget;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen) return 1;
      _mm_pause();
    }
    if (now_ns() > until) return 0;
  }
}

static void *worker_main(void *arg) {
  worker_t *w = (worker_t *)arg;
  uint64_t seen = 0;
  for (;;) {
    spin_while_equal(&generation, seen, WORKER_SPIN_NS);
    pthread_mutex_lock(&pool_mu);
    while (__atomic_load_n(&generation, __ATOMIC_ACQUIRE) == seen) pthread_cond_wait(&pool_go, &pool_mu);
    seen = generation;
    pthread_mutex_unlock(&pool_mu);
    w->status = w->count > 0 ? run_rows(w->job, w->first, w->count, &w->scratch) : 0;
    if (__atomic_sub_fetch(&pending, 1, __ATOMIC_ACQ_REL) == 0) {
      pthread_mutex_lock(&pool_mu);
      pthread_cond_signal(&pool_done);
      pthread_mutex_unlock(&pool_mu);
    }
  }
  return NULL;
}

static int ensure_pool(int threads) {
  while (pool_size < threads - 1 && pool_size < MAX_THREADS - 1) {
    worker_t *w = &workers[pool_size + 1];
    w->count = 0;
    if (pthread_create(&w->tid, NULL, worker_main, w) != 0) break;
    pthread_detach(w->tid);
    pool_size++;
  }
  return pool_size + 1;
}

/** Rows [first, first + count) of every batch entry's output. */
__attribute__((target("avx2,fma"))) static int run_rows(const job_t *job, int64_t first, int64_t count, scratch_t *s) {
  for (int64_t bi = 0; bi < job->batch; bi++) {
    const float *ab = job->a + bi * job->stride_a;
    const float *bb = job->b + bi * job->stride_b;
    float *cb = job->c + bi * job->m * job->n;
    /* op(A)(i, p): A stored m × k (row stride k) or, transposed, k × m (row stride m). */
    mat_t a = job->trans_a ? (mat_t){ab + first, 1, job->m} : (mat_t){ab + first * job->k, job->k, 1};
    mat_t b = job->trans_b ? (mat_t){bb, 1, job->k} : (mat_t){bb, job->n, 1};
    if (gemm_one(a, b, cb + first * job->n, job->n, (int)count, (int)job->n, (int)job->k, s) != 0) return -1;
  }
  return 0;
}

/** Split the output rows over the pool when the product is big enough to repay the hand-off. */
static int run_job(const job_t *job) {
  double flops = 2.0 * (double)job->batch * (double)job->m * (double)job->n * (double)job->k;
  int threads = wanted_threads;
  if (flops < 4e6 || job->m < 2 * MR) threads = 1;
  if (threads > 1) threads = ensure_pool(threads);
  if (threads <= 1) return run_rows(job, 0, job->m, &main_scratch);
  int64_t per = (job->m + threads - 1) / threads;
  per = (per + MR - 1) / MR * MR;
  pthread_mutex_lock(&pool_mu);
  for (int t = 1; t < threads; t++) {
    worker_t *w = &workers[t];
    w->job = job;
    w->first = per * t;
    w->count = w->first >= job->m ? 0 : (job->m - w->first < per ? job->m - w->first : per);
  }
  for (int t = threads; t <= pool_size; t++) workers[t].count = 0;
  __atomic_store_n(&pending, pool_size, __ATOMIC_RELEASE);
  __atomic_add_fetch(&generation, 1, __ATOMIC_ACQ_REL);
  pthread_cond_broadcast(&pool_go);
  pthread_mutex_unlock(&pool_mu);
  int status = run_rows(job, 0, per < job->m ? per : job->m, &main_scratch);
  spin_until_zero(&pending, CALLER_SPIN_NS);
  pthread_mutex_lock(&pool_mu);
  while (__atomic_load_n(&pending, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&pool_done, &pool_mu);
  pthread_mutex_unlock(&pool_mu);
  for (int t = 1; t <= pool_size; t++) status |= workers[t].status;
  return status;
}

/* ---- Node-API surface ---- */

static int cpu_ok(void) {
#ifdef TUNE_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)ptr;
  return 1;
}

/**
 * sgemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB): for each batch entry i,
 * c[i] (m × n) = op(a at i·strideA) · op(b at i·strideB); op transposes when the flag is set.
 */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 11) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "sgemm expects 11 arguments");
  }
  if (!cpu_ok()) return throw_error(env, "TUNE_NATIVE_CPU", "this CPU lacks AVX2/FMA");
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || !get_f32(env, argv[2], &c, &lc)) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "sgemm: a, b and c must be Float32Arrays");
  }
  int64_t d[4], stride_a, stride_b;
  bool ta, tb;
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_int64(env, argv[3 + i], &d[i]) != napi_ok || d[i] < 0 || d[i] > INT32_MAX) {
      return throw_error(env, "TUNE_NATIVE_ARGS", "sgemm: batch, m, n, k must be integers in [0, 2^31)");
    }
  }
  if (napi_get_value_bool(env, argv[7], &ta) != napi_ok || napi_get_value_bool(env, argv[8], &tb) != napi_ok ||
      napi_get_value_int64(env, argv[9], &stride_a) != napi_ok ||
      napi_get_value_int64(env, argv[10], &stride_b) != napi_ok || stride_a < 0 || stride_b < 0) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "sgemm: bad transpose flags or batch strides");
  }
  int64_t batch = d[0], m = d[1], n = d[2], k = d[3];
  if (batch == 0 || m == 0 || n == 0) return NULL;
  if ((uint64_t)((batch - 1) * stride_a + m * k) > la || (uint64_t)((batch - 1) * stride_b + k * n) > lb ||
      (uint64_t)(batch * m * n) > lc) {
    return throw_error(env, "TUNE_NATIVE_RANGE", "sgemm: an operand is shorter than its shape says");
  }
  job_t job = {a, b, c, batch, m, n, k, stride_a, stride_b, ta, tb};
  pthread_mutex_lock(&job_mu);
  int status = run_job(&job);
  pthread_mutex_unlock(&job_mu);
  if (status != 0) return throw_error(env, "TUNE_NATIVE_OOM", "sgemm: out of memory for packing buffers");
  return NULL;
}

/* ---- optimizer arithmetic on host arrays, bit-identical to runtime/train/adamw.ts and clip.ts ----
 * Those modules compute in double and round to float32 at exactly the points written there (Math.fround); the
 * code below does the same operations in the same order (built with -ffp-contract=off, so no fused multiply-add
 * changes a rounding), which is why the native and the JavaScript paths give the same bits. */

static int get_doubles(napi_env env, napi_value *argv, size_t count, double *out) {
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_double(env, argv[i], &out[i]) != napi_ok) return 0;
  }
  return 1;
}

/** The AdamW element loop; restrict + AVX2 let the compiler run it 4 doubles wide (same IEEE ops per lane). */
__attribute__((target("avx2"))) static void adamw_loop(float *restrict x, const float *restrict g, float *restrict m,
                                                       float *restrict v, size_t n, const double *k) {
  const double decay = k[0], b1 = k[1], ob1 = k[2], b2 = k[3], ob2 = k[4], step_size = k[5], bc2 = k[6], eps = k[7];
  for (size_t i = 0; i < n; i++) {
    double gi = g[i];
    float xi = (float)(x[i] * decay);
    float mi = (float)((double)(float)(m[i] * b1) + ob1 * gi);
    float vi = (float)((double)(float)(v[i] * b2) + (double)(float)(ob2 * gi) * gi);
    float denom = (float)((double)(float)((double)(float)sqrt((double)vi) / bc2) + eps);
    m[i] = mi;
    v[i] = vi;
    x[i] = (float)((double)xi + step_size * (double)(float)((double)mi / (double)denom));
  }
}

/**
 * adamw(x, g, m, v, decay, beta1, 1-beta1, beta2, 1-beta2, stepSize, sqrt(bias correction 2), eps): one torch
 * AdamW update of x, m, v in place (the scalars already rounded to float32 by the caller, as in adamw.ts).
 */
static napi_value AdamW(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 12) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "adamw expects 12 arguments");
  }
  float *x, *g, *m, *v;
  size_t lx, lg, lm, lv;
  double k[8];
  if (!get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &g, &lg) || !get_f32(env, argv[2], &m, &lm) ||
      !get_f32(env, argv[3], &v, &lv) || !get_doubles(env, argv + 4, 8, k)) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "adamw: four Float32Arrays and eight numbers expected");
  }
  if (lg != lx || lm != lx || lv != lx) return throw_error(env, "TUNE_NATIVE_RANGE", "adamw: arrays differ in length");
  adamw_loop(x, g, m, v, lx, k);
  return NULL;
}

/** sumSquares(g): Σ g[i]² accumulated in double, in index order (clip.ts's per-tensor sum). */
static napi_value SumSquares(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  float *g;
  size_t n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || !get_f32(env, argv[0], &g, &n)) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "sumSquares expects one Float32Array");
  }
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
  napi_create_double(env, s, &out);
  return out;
}

/** scale(g, c): g[i] = float(g[i] · c) in place. */
static napi_value Scale(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  float *g;
  size_t n;
  double c;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !get_f32(env, argv[0], &g, &n) ||
      napi_get_value_double(env, argv[1], &c) != napi_ok) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "scale expects a Float32Array and a number");
  }
  for (size_t i = 0; i < n; i++) g[i] = (float)((double)g[i] * c);
  return NULL;
}

/** addInto(acc, x): acc[i] += x[i] in float32 (same length). */
static napi_value AddInto(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  float *acc, *x;
  size_t na, nx;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !get_f32(env, argv[0], &acc, &na) ||
      !get_f32(env, argv[1], &x, &nx)) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "addInto expects two Float32Arrays");
  }
  if (na != nx) return throw_error(env, "TUNE_NATIVE_RANGE", "addInto: arrays differ in length");
  for (size_t i = 0; i < na; i++) acc[i] += x[i];
  return NULL;
}

/* ---- RoPE + head transpose, bit-identical to runtime/backend/fused-kernels.ts (float32 products and sums) ---- */

/** x [B·T, H·hd] → y [B, H, T, hd]: y = xs·cos + swap_halves(xs)·sin, xs = x·scale; rotate 0: y = xs. */
static void rope_heads(const float *x, const float *cs, const float *sn, float *y, int64_t B, int64_t T, int64_t H,
                       int64_t hd, float scale, int rotate) {
  const int64_t half = hd / 2;
  const int scaled = scale != 1.0f;
  for (int64_t b = 0; b < B; b++) {
    for (int64_t t = 0; t < T; t++) {
      const int64_t row = b * T + t;
      const float *c = cs + row * hd, *s = sn + row * hd;
      for (int64_t h = 0; h < H; h++) {
        const float *src = x + (row * H + h) * hd;
        float *dst = y + ((b * H + h) * T + t) * hd;
        for (int64_t j = 0; j < hd; j++) {
          const float xj = scaled ? src[j] * scale : src[j];
          if (!rotate) {
            dst[j] = xj;
            continue;
          }
          const int64_t jp = j < half ? j + half : j - half;
          const float xp = scaled ? src[jp] * scale : src[jp];
          dst[j] = xj * c[j] + xp * s[j];
        }
      }
    }
  }
}

/** dy [B, H, T, hd] → dx [B·T, H·hd]: dxs = dy·cos + swap_halves(dy·sin), dx = dxs·scale. */
static void rope_heads_grad(const float *dy, const float *cs, const float *sn, float *dx, int64_t B, int64_t T,
                            int64_t H, int64_t hd, float scale, int rotate) {
  const int64_t half = hd / 2;
  for (int64_t b = 0; b < B; b++) {
    for (int64_t h = 0; h < H; h++) {
      for (int64_t t = 0; t < T; t++) {
        const int64_t row = b * T + t;
        const float *c = cs + row * hd, *s = sn + row * hd;
        const float *src = dy + ((b * H + h) * T + t) * hd;
        float *dst = dx + (row * H + h) * hd;
        for (int64_t j = 0; j < hd; j++) {
          float d = src[j];
          if (rotate) {
            const int64_t jp = j < half ? j + half : j - half;
            d = d * c[j] + src[jp] * s[jp];
          }
          dst[j] = scale != 1.0f ? d * scale : d;
        }
      }
    }
  }
}

/**
 * rope(grad, x, cos, sin, out, B, T, H, hd, scale, rotate): grad false = the forward above (x [B·T, H·hd] → out
 * [B, H, T, hd]), true = its gradient (x is dy [B, H, T, hd] → out [B·T, H·hd]). cos/sin are [B·T, hd].
 */
static napi_value Rope(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 11) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rope expects 11 arguments");
  }
  bool grad, rotate;
  float *x, *c, *sn, *out;
  size_t lx, lc, ls, lo;
  int64_t d[4];
  double scale;
  if (napi_get_value_bool(env, argv[0], &grad) != napi_ok || !get_f32(env, argv[1], &x, &lx) ||
      !get_f32(env, argv[2], &c, &lc) || !get_f32(env, argv[3], &sn, &ls) || !get_f32(env, argv[4], &out, &lo) ||
      napi_get_value_double(env, argv[9], &scale) != napi_ok || napi_get_value_bool(env, argv[10], &rotate) != napi_ok) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rope: (bool, 4 Float32Arrays, B, T, H, hd, scale, bool) expected");
  }
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_int64(env, argv[5 + i], &d[i]) != napi_ok || d[i] < 0 || d[i] > INT32_MAX) {
      return throw_error(env, "TUNE_NATIVE_ARGS", "rope: B, T, H, hd must be integers in [0, 2^31)");
    }
  }
  const int64_t B = d[0], T = d[1], H = d[2], hd = d[3];
  const uint64_t n = (uint64_t)(B * T * H * hd);
  if (hd % 2 != 0 || lx < n || lo < n || (rotate && (lc < (uint64_t)(B * T * hd) || ls < (uint64_t)(B * T * hd)))) {
    return throw_error(env, "TUNE_NATIVE_RANGE", "rope: an array is shorter than its shape says (or hd is odd)");
  }
  if (grad) rope_heads_grad(x, c, sn, out, B, T, H, hd, (float)scale, rotate);
  else rope_heads(x, c, sn, out, B, T, H, hd, (float)scale, rotate);
  return NULL;
}

/* ---- RMSNorm forward/backward and the SiLU gradient, for runtime/backend/native-kernels.ts ---- */

/** x [N, D] → y = x̂·w, x̂ = x·r, r = 1/√(mean(x²) + eps) per row (sums of squares in double). */
static void rmsnorm_fwd(const float *x, const float *w, float *y, float *xhat, float *r, int64_t N, int64_t D,
                        float eps) {
  for (int64_t n = 0; n < N; n++) {
    const float *xr = x + n * D;
    double ss = 0;
    for (int64_t d = 0; d < D; d++) ss += (double)xr[d] * (double)xr[d];
    const float var = (float)(ss / (double)D);
    const float rn = (float)(1.0 / sqrt((double)(var + eps)));
    r[n] = rn;
    float *yr = y + n * D, *hr = xhat + n * D;
    for (int64_t d = 0; d < D; d++) {
      const float h = xr[d] * rn;
      hr[d] = h;
      yr[d] = h * w[d];
    }
  }
}

/** g = dy·w; dx = r·(g − x̂·mean(g·x̂)) (dx non-null); dw = Σ_rows dy·x̂ in double, row order (dw non-null). */
static int rmsnorm_bwd(const float *dy, const float *xhat, const float *r, const float *w, float *dx, float *dw,
                       int64_t N, int64_t D) {
  double *acc = dw ? calloc((size_t)D, sizeof(double)) : NULL;
  if (dw && !acc) return -1;
  for (int64_t n = 0; n < N; n++) {
    const float *dyr = dy + n * D, *hr = xhat + n * D;
    if (acc) {
      for (int64_t d = 0; d < D; d++) acc[d] += (double)(dyr[d] * hr[d]);
    }
    if (dx) {
      double s = 0;
      for (int64_t d = 0; d < D; d++) s += (double)((dyr[d] * w[d]) * hr[d]);
      const float c = (float)(s / (double)D);
      float *dxr = dx + n * D;
      for (int64_t d = 0; d < D; d++) dxr[d] = r[n] * (dyr[d] * w[d] - hr[d] * c);
    }
  }
  if (acc) {
    for (int64_t d = 0; d < D; d++) dw[d] = (float)acc[d];
    free(acc);
  }
  return 0;
}

/** rmsNorm(x, w, y, xhat, r, N, D, eps) and rmsNormGrad(dy, xhat, r, w, dx, dw, N, D). */
static napi_value RmsNorm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  float *a[6];
  size_t len[6];
  int64_t N, D;
  double eps;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNorm expects 8 arguments");
  }
  for (int i = 0; i < 5; i++) {
    if (!get_f32(env, argv[i], &a[i], &len[i])) return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNorm: Float32Arrays expected");
  }
  if (napi_get_value_int64(env, argv[5], &N) != napi_ok || napi_get_value_int64(env, argv[6], &D) != napi_ok ||
      napi_get_value_double(env, argv[7], &eps) != napi_ok || N < 0 || D <= 0 || N > INT32_MAX || D > INT32_MAX) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNorm: N, D must be integers, eps a number");
  }
  const uint64_t nd = (uint64_t)(N * D);
  if (len[0] < nd || len[1] < (uint64_t)D || len[2] < nd || len[3] < nd || len[4] < (uint64_t)N) {
    return throw_error(env, "TUNE_NATIVE_RANGE", "rmsNorm: an array is shorter than its shape says");
  }
  rmsnorm_fwd(a[0], a[1], a[2], a[3], a[4], N, D, (float)eps);
  return NULL;
}

/** rmsNormGrad(wantDx, dy, xhat, r, w, out, N, D): out = dx [N, D] when wantDx, else dw [D]. */
static napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  float *a[5];
  size_t len[5];
  int64_t N, D;
  bool want_dx;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8 ||
      napi_get_value_bool(env, argv[0], &want_dx) != napi_ok) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNormGrad expects (bool, 5 Float32Arrays, N, D)");
  }
  for (int i = 0; i < 5; i++) {
    if (!get_f32(env, argv[1 + i], &a[i], &len[i])) return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNormGrad: Float32Arrays expected");
  }
  if (napi_get_value_int64(env, argv[6], &N) != napi_ok || napi_get_value_int64(env, argv[7], &D) != napi_ok || N < 0 ||
      D <= 0 || N > INT32_MAX || D > INT32_MAX) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "rmsNormGrad: N, D must be integers");
  }
  const uint64_t nd = (uint64_t)(N * D);
  if (len[0] < nd || len[1] < nd || len[2] < (uint64_t)N || len[3] < (uint64_t)D || len[4] < (want_dx ? nd : (uint64_t)D)) {
    return throw_error(env, "TUNE_NATIVE_RANGE", "rmsNormGrad: an array is shorter than its shape says");
  }
  if (rmsnorm_bwd(a[0], a[1], a[2], a[3], want_dx ? a[4] : NULL, want_dx ? NULL : a[4], N, D) != 0) {
    return throw_error(env, "TUNE_NATIVE_OOM", "rmsNormGrad: out of memory");
  }
  return NULL;
}

/** siluGrad(dy, z, s, dz): dz = dy·(s·(1 + z·(1 − s))), s = σ(z) — the float32 op order of layers.ts. */
static napi_value SiluGrad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *a[4];
  size_t len[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "siluGrad expects 4 arguments");
  }
  for (int i = 0; i < 4; i++) {
    if (!get_f32(env, argv[i], &a[i], &len[i])) return throw_error(env, "TUNE_NATIVE_ARGS", "siluGrad: Float32Arrays expected");
  }
  if (len[1] != len[0] || len[2] != len[0] || len[3] != len[0]) {
    return throw_error(env, "TUNE_NATIVE_RANGE", "siluGrad: arrays differ in length");
  }
  const float *dy = a[0], *z = a[1], *sg = a[2];
  float *dz = a[3];
  for (size_t i = 0; i < len[0]; i++) dz[i] = dy[i] * (sg[i] * (1.0f + z[i] * (1.0f - sg[i])));
  return NULL;
}

/** setThreads(n): worker threads used for big products (1 = the calling thread only); returns the value set. */
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t n = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1 || n > MAX_THREADS) {
    return throw_error(env, "TUNE_NATIVE_ARGS", "setThreads expects an integer from 1 to 16");
  }
  wanted_threads = n;
  napi_create_int32(env, n, &out);
  return out;
}

/** cpuSupported(): whether this CPU has the AVX2 and FMA instructions the kernel needs. */
static napi_value CpuSupported(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, cpu_ok(), &out);
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
