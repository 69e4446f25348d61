// tune_native.h — what the native addon's C files share: the SGEMM job (gemm.c), the element-wise loops
// (ops.c) and the Node-API surface that checks arguments and calls them (binding.c).

#ifndef TUNE_NATIVE_H
#define TUNE_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/** A batched product C[i] (m × n) = op(A at i·stride_a) · op(B at i·stride_b); a stride of 0 broadcasts. */
typedef struct {
  const float *a, *b;
  float *c;
  int64_t batch, m, n, k, stride_a, stride_b;
  int trans_a, trans_b;
} tune_job_t;

/** Whether this CPU has AVX2 and FMA (the SGEMM kernel's instructions). */
int tune_cpu_ok(void);
/** Run one product (serialised across callers); 0 on success, -1 when packing buffers cannot be allocated. */
int tune_sgemm(const tune_job_t *job);
/** Threads for large products, 1–16. */
void tune_set_threads(int n);

/** One torch AdamW update; k = decay, β1, 1−β1, β2, 1−β2, step size, √(bias correction 2), eps. */
void tune_adamw(float *x, const float *g, float *m, float *v, size_t n, const double k[8]);
double tune_sum_squares(const float *g, size_t n);
void tune_scale(float *g, size_t n, double c);
void tune_add_into(float *acc, const float *x, size_t n);
/** RoPE + head transpose (grad 0) or its gradient (grad 1); see ops.c. */
void tune_rope(int grad, const float *x, const float *cs, const float *sn, float *out, int64_t B, int64_t T, int64_t H,
               int64_t hd, float scale, int rotate);
void tune_rmsnorm_fwd(const float *x, const float *w, float *y, float *xhat, float *r, int64_t N, int64_t D, float eps);
/** dx (when non-null) and dw (when non-null); -1 when out of memory. */
int tune_rmsnorm_bwd(const float *dy, const float *xhat, const float *r, const float *w, float *dx, float *dw, int64_t N,
                     int64_t D);
void tune_silu_grad(const float *dy, const float *z, const float *s, float *dz, size_t n);

#endif
