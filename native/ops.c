// ops.c — the element-wise loops of tune's native addon: AdamW, clipping and accumulation (bit-identical to
// runtime/train/adamw.ts and clip.ts), RoPE + head transpose (bit-identical to runtime/backend/fused-kernels.ts),
// RMSNorm forward/backward and the SiLU gradient (runtime/backend/native-kernels.ts).
//
// Why this exists: after the matrix products these loops were the largest costs of an in-process training step
// (the AdamW loop alone ≈ 13–19 ms of a 1M-parameter full step in JavaScript). The JavaScript versions compute in
// double and round to float32 where they call Math.fround; the code below does the same operations in the same
// order (built with -ffp-contract=off, so no fused multiply-add changes a rounding), hence the same bits.

#include <math.h>
#include <stdlib.h>

#include "tune_native.h"

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

void tune_adamw(float *x, const float *g, float *m, float *v, size_t n, const double k[8]) { adamw_loop(x, g, m, v, n, k); }

/** Σ g[i]² accumulated in double, in index order (clip.ts's per-tensor sum). */
double tune_sum_squares(const float *g, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
  return s;
}

/** g[i] = float(g[i] · c). */
void tune_scale(float *g, size_t n, double c) {
  for (size_t i = 0; i < n; i++) g[i] = (float)((double)g[i] * c);
}

/** acc[i] += x[i] in float32. */
void tune_add_into(float *acc, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) acc[i] += x[i];
}

/** x [B·T, H·hd] → y [B, H, T, hd]: y = xs·cos + swap_halves(xs)·sin, xs = x·scale; rotate 0: y = xs. */
static void rope_fwd(const float *x, const float *cs, const float *sn, float *y, int64_t B, int64_t T, int64_t H,
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
static void rope_bwd(const float *dy, const float *cs, const float *sn, float *dx, int64_t B, int64_t T,
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

void tune_rope(int grad, const float *x, const float *cs, const float *sn, float *out, int64_t B, int64_t T, int64_t H,
               int64_t hd, float scale, int rotate) {
  if (grad) rope_bwd(x, cs, sn, out, B, T, H, hd, scale, rotate);
  else rope_fwd(x, cs, sn, out, B, T, H, hd, scale, rotate);
}

/** x [N, D] → y = x̂·w, x̂ = x·r, r = 1/√(mean(x²) + eps) per row (sums of squares in double). */
void tune_rmsnorm_fwd(const float *x, const float *w, float *y, float *xhat, float *r, int64_t N, int64_t D,
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
int tune_rmsnorm_bwd(const float *dy, const float *xhat, const float *r, const float *w, float *dx, float *dw,
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

/** dz = dy·(s·(1 + z·(1 − s))), s = σ(z) — the float32 op order of runtime/model/layers.ts. */
void tune_silu_grad(const float *dy, const float *z, const float *s, float *dz, size_t n) {
  for (size_t i = 0; i < n; i++) dz[i] = dy[i] * (s[i] * (1.0f + z[i] * (1.0f - s[i])));
}
