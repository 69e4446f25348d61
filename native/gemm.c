// gemm.c — the single-precision matrix product (SGEMM) of tune's native addon, and its thread pool.
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
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tune_native.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define TUNE_X86 1
#else
#error "tune's native kernels need an x86-64 CPU (AVX2 + FMA); scripts/build-native.mjs skips other architectures"
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

typedef tune_job_t job_t;

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

int tune_cpu_ok(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int tune_sgemm(const tune_job_t *job) {
  pthread_mutex_lock(&job_mu);
  int status = run_job(job);
  pthread_mutex_unlock(&job_mu);
  return status;
}

void tune_set_threads(int n) { wanted_threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }
