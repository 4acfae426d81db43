/*
 * exp-asd's wasm SIMD kernels: the memory-bound passes of a training step that tfjs-backend-wasm
 * lacks or runs as chains of generic ops (training BatchNorm, the PReLU gradient, the depthwise
 * filter gradient, channel concatenation). Built by tools/build-wasm.sh into the two wasm/ modules, which are
 * committed so that installing exp needs no C toolchain.
 *
 * The module owns no memory: it imports tfjs-backend-wasm's own heap, so every pointer below is a
 * byte offset of a tensor (or of scratch from the backend's malloc) in that heap and nothing is
 * copied. For that to be safe the code must never touch the linear-memory stack or static data
 * (tfjs owns those addresses): no arrays on the stack, no globals, no libc. tools/build-wasm.sh
 * checks the output for `__stack_pointer` uses and data segments.
 *
 * Layout everywhere: channels last, a tensor is `rows` rows of `c` floats. Functions that sum over
 * rows take a channel range [c0, c1) so threads can split the channels; functions that map rows
 * take a row range [r0, r1). The range is always the last two arguments (parallel.ts relies on it). Sums accumulate in float32 over blocks of at most BLOCK rows
 * and then in float64, which keeps the error of a 2.5 M-element sum near float32 rounding.
 */
#ifdef EXP_NATIVE
#include "native/simd-x86.h"
#else
#include <wasm_simd128.h>
#endif

typedef float f32;
typedef double f64;

#define BLOCK 64

static inline v128_t ld(const f32 *p) { return wasm_v128_load(p); }
/* acc + a * b: one fused multiply-add with relaxed SIMD (the -relaxed builds), else two ops. */
static inline v128_t madd(v128_t a, v128_t b, v128_t acc) {
#ifdef __wasm_relaxed_simd__
  return __builtin_wasm_relaxed_madd_f32x4(a, b, acc);
#elif defined(EXP_NATIVE)
  return simde_wasm_f32x4_fma(acc, a, b); /* fused, as V8 runs relaxed_madd where the CPU has FMA */
#else
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
#endif
}
static inline void st(f32 *p, v128_t v) { wasm_v128_store(p, v); }
/* Output columns [*lo, *hi) of a 3-column filter whose taps all fall inside the w input columns
 * (stride sw, left padding left); the columns outside it need the border code. */
static inline void inner_cols(int wo, int w, int sw, int left, int *lo, int *hi) {
  int l = 0;
  while (l < wo && l * sw - left < 0) l++;
  int r = wo;
  while (r > l && (r - 1) * sw - left + 2 >= w) r--;
  *lo = l;
  *hi = r;
}

static inline void acc64(f64 *dst, v128_t v) {
  /* dst[0..3] += v, in float64. */
  v128_t lo = wasm_f64x2_promote_low_f32x4(v);
  v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  wasm_v128_store(dst, wasm_f64x2_add(wasm_v128_load(dst), lo));
  wasm_v128_store(dst + 2, wasm_f64x2_add(wasm_v128_load(dst + 2), hi));
}

/*
 * Column sums over rows of a (shifted) and of a product:
 *   mode 0: s1[ch] += x - shift,  s2[ch] += (x - shift)^2           (BatchNorm statistics)
 *   mode 1: s1[ch] += y,          s2[ch] += y * (x - shift)         (BatchNorm gradient: y = dy)
 *   mode 2: s1[ch] += y * (x>0 ? 1 : a), as output dx, s2 += x<=0 ? y * x : 0   (see prelu_grad)
 * for channels [c0, c1); s1 and s2 are float64 accumulators the caller zeroes.
 */
__attribute__((export_name("col_sums")))
void col_sums(const f32 *restrict x, const f32 *restrict y, int rows, int c, const f32 *restrict shift,
              f64 *restrict s1, f64 *restrict s2, int mode, int c0, int c1) {
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    int ch = c0;
    for (; ch + 4 <= c1; ch += 4) {
      v128_t sh = ld(shift + ch);
      v128_t a1 = wasm_f32x4_splat(0), a2 = wasm_f32x4_splat(0);
      const f32 *px = x + (long)r0 * c + ch;
      if (mode == 0) {
        for (int r = r0; r < r1; r++, px += c) {
          v128_t d = wasm_f32x4_sub(ld(px), sh);
          a1 = wasm_f32x4_add(a1, d);
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(d, d));
        }
      } else {
        const f32 *py = y + (long)r0 * c + ch;
        for (int r = r0; r < r1; r++, px += c, py += c) {
          v128_t g = ld(py);
          a1 = wasm_f32x4_add(a1, g);
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(g, wasm_f32x4_sub(ld(px), sh)));
        }
      }
      acc64(s1 + ch, a1);
      acc64(s2 + ch, a2);
    }
    for (; ch < c1; ch++) {
      f32 a1 = 0, a2 = 0, sh = shift[ch];
      for (int r = r0; r < r1; r++) {
        f32 d = x[(long)r * c + ch] - sh;
        f32 g = mode == 0 ? d : y[(long)r * c + ch];
        a1 += g;
        a2 += g * d;
      }
      s1[ch] += a1;
      s2[ch] += a2;
    }
  }
}

/* out = a * k + x * m + b per channel, for rows [r0, r1). BatchNorm forward: a = x, m = 0;
   BatchNorm input gradient: a = dy. */
__attribute__((export_name("affine_rows")))
void affine_rows(const f32 *restrict a, const f32 *restrict x, f32 *restrict out, int c, const f32 *restrict k,
                 const f32 *restrict m, const f32 *restrict b, int r0, int r1) {
  int cv = c & ~3;
  for (int r = r0; r < r1; r++) {
    const f32 *pa = a + (long)r * c;
    const f32 *px = x + (long)r * c;
    f32 *po = out + (long)r * c;
    int ch = 0;
    if (m) {
      for (; ch < cv; ch += 4)
        st(po + ch, wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(ld(pa + ch), ld(k + ch)), wasm_f32x4_mul(ld(px + ch), ld(m + ch))), ld(b + ch)));
      for (; ch < c; ch++) po[ch] = pa[ch] * k[ch] + px[ch] * m[ch] + b[ch];
    } else {
      for (; ch < cv; ch += 4) st(po + ch, wasm_f32x4_add(wasm_f32x4_mul(ld(pa + ch), ld(k + ch)), ld(b + ch)));
      for (; ch < c; ch++) po[ch] = pa[ch] * k[ch] + b[ch];
    }
  }
}

/*
 * PReLU gradient for per-channel slopes, one pass, channels [c0, c1):
 *   dx = dy * (x > 0 ? 1 : alpha),   dalpha[ch] += sum over x <= 0 of dy * x   (float64).
 */
__attribute__((export_name("prelu_grad")))
void prelu_grad(const f32 *restrict dy, const f32 *restrict x, const f32 *restrict alpha, f32 *restrict dx,
                f64 *restrict dalpha, int rows, int c, int c0, int c1) {
  v128_t zero = wasm_f32x4_splat(0), one = wasm_f32x4_splat(1);
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    int ch = c0;
    for (; ch + 4 <= c1; ch += 4) {
      v128_t al = ld(alpha + ch);
      v128_t acc = zero;
      long o = (long)r0 * c + ch;
      for (int r = r0; r < r1; r++, o += c) {
        v128_t g = ld(dy + o), v = ld(x + o);
        v128_t pos = wasm_f32x4_gt(v, zero);
        st(dx + o, wasm_f32x4_mul(g, wasm_v128_bitselect(one, al, pos)));
        acc = wasm_f32x4_add(acc, wasm_v128_andnot(wasm_f32x4_mul(g, v), pos));
      }
      acc64(dalpha + ch, acc);
    }
    for (; ch < c1; ch++) {
      f32 acc = 0, al = alpha[ch];
      for (int r = r0; r < r1; r++) {
        long o = (long)r * c + ch;
        f32 v = x[o], g = dy[o];
        dx[o] = v > 0 ? g : g * al;
        acc += v > 0 ? 0 : g * v;
      }
      dalpha[ch] += acc;
    }
  }
}

/*
 * Depthwise conv filter gradient (channel multiplier 1), output rows [o0, o1) of the n * ho, channels [c0, c1):
 *   dw[ky, kx, ch] += sum_{b, oy, ox} x[b, oy*sh - top + ky*dh, ox*sw - left + kx*dw, ch] * dy[b, oy, ox, ch]
 * acc is float64 [kh, kw, c] (caller zeroes); rowacc is float32 scratch [kh, kw, c] for one output
 * row. 3 x 3 filters without dilation keep their nine tap sums in registers across an output row.
 * geo: the conv geometry block, as every conv kernel here reads it (conv-geometry.ts
 * `withHeapGeometry`): int32 {n, h, w, c, ho, wo, kh, kw, sh, sw, dh, dw, top, left}.
 */
static void dw_filter_grad_rows(const f32 *restrict x, const f32 *restrict dy, f64 *restrict acc, f32 *restrict rowacc,
                                const int *restrict geo, int o0, int o1, int c0, int c1) {
  int h = geo[1], w = geo[2], c = geo[3], ho = geo[4], wo = geo[5], kh = geo[6], kw = geo[7];
  int sh = geo[8], sw = geo[9], dh = geo[10], dw = geo[11], top = geo[12], left = geo[13];
  int taps = kh * kw;
  int fast3 = kh == 3 && kw == 3 && dh == 1 && dw == 1 && (c0 & 3) == 0 && (c1 & 3) == 0;
  for (int orow = o0; orow < o1; orow++) {
    int b = orow / ho, oy = orow % ho;
    for (int t = 0; t < taps; t++)
      for (int ch = c0; ch < c1; ch++) rowacc[t * c + ch] = 0;
    const f32 *dyrow = dy + ((long)(b * ho + oy) * wo) * c;
    int iy0 = oy * sh - top;
    if (fast3) {
      int lo, hi;
      inner_cols(wo, w, sw, left, &lo, &hi);
      for (int ch = c0; ch < c1; ch += 4) {
        v128_t a[9];
        for (int t = 0; t < 9; t++) a[t] = wasm_f32x4_splat(0);
        for (int ky = 0; ky < 3; ky++) {
          int iy = iy0 + ky;
          if (iy < 0 || iy >= h) continue;
          const f32 *xrow = x + ((long)(b * h + iy) * w) * c + ch;
          v128_t s0 = a[ky * 3], s1 = a[ky * 3 + 1], s2 = a[ky * 3 + 2];
          for (int ox = lo; ox < hi; ox++) {
            v128_t g = ld(dyrow + (long)ox * c + ch);
            const f32 *p = xrow + (long)(ox * sw - left) * c;
            s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(ld(p), g));
            s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(ld(p + c), g));
            s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(ld(p + 2 * c), g));
          }
          a[ky * 3] = s0;
          a[ky * 3 + 1] = s1;
          a[ky * 3 + 2] = s2;
        }
        for (int t = 0; t < 9; t++) st(rowacc + t * c + ch, a[t]);
      }
      /* Border columns: per-tap bounds checks. */
      for (int ox = 0; ox < wo; ox++) {
        if (ox == lo && hi > lo) { ox = hi - 1; continue; }
        const f32 *g = dyrow + (long)ox * c;
        for (int ky = 0; ky < 3; ky++) {
          int iy = iy0 + ky;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < 3; kx++) {
            int ix = ox * sw - left + kx;
            if (ix < 0 || ix >= w) continue;
            const f32 *p = x + ((long)(b * h + iy) * w + ix) * c;
            f32 *ra = rowacc + (ky * 3 + kx) * c;
            for (int ch = c0; ch < c1; ch += 4) st(ra + ch, wasm_f32x4_add(ld(ra + ch), wasm_f32x4_mul(ld(p + ch), ld(g + ch))));
          }
        }
      }
    } else {
      for (int ox = 0; ox < wo; ox++) {
        const f32 *g = dyrow + (long)ox * c;
        for (int ky = 0; ky < kh; ky++) {
          int iy = iy0 + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < kw; kx++) {
            int ix = ox * sw - left + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const f32 *p = x + ((long)(b * h + iy) * w + ix) * c;
            f32 *ra = rowacc + (ky * kw + kx) * c;
            int ch = c0;
            for (; ch + 4 <= c1; ch += 4) st(ra + ch, wasm_f32x4_add(ld(ra + ch), wasm_f32x4_mul(ld(p + ch), ld(g + ch))));
            for (; ch < c1; ch++) ra[ch] += p[ch] * g[ch];
          }
        }
      }
    }
    for (int t = 0; t < taps; t++)
      for (int ch = c0; ch < c1; ch++) acc[t * c + ch] += rowacc[t * c + ch];
  }
}

/*
 * The 3 x 3 filter gradient (no dilation, channels in fours) for output rows [o0, o1), pixel-major
 * like dw3_fwd: a tile of DW3G_P output pixels of a row runs over all channels, four at a time,
 * adding dy x x into float32 tap sums kept packed as [c / 4][9][4] (ra: the nine sums of a channel
 * block side by side, in L1), which go into the float64 acc [9][c] every DW3G_FLUSH pixels' worth
 * of rows and at the end. The channel-block walk (dw_filter_grad_rows) strode through memory by
 * c * sw floats per pixel: 5-10 GFLOP/s. Taps in the padding are skipped. Each tap sum adds the
 * pixels of a row left to right, rows in order: the same bits at any thread count (fixed groups).
 */
#define DW3G_P 4
#define DW3G_FLUSH 64

static inline __attribute__((always_inline)) void dw3g_tile(const f32 *xr, long rs, int ky0, int ky1,
                                                             const f32 *g, f32 *ra, int c, const int S, const int P) {
  const long cs = c;
  for (int ch = 0; ch < c; ch += 4) {
    v128_t gv[DW3G_P];
    for (int p = 0; p < P; p++) gv[p] = ld(g + p * cs + ch);
#pragma clang loop unroll(disable)
    for (int ky = ky0; ky < ky1; ky++) {
      const f32 *xp = xr + ky * rs + ch;
      f32 *rk = ra + ch * 9 + ky * 12;
      v128_t s0 = ld(rk), s1 = ld(rk + 4), s2 = ld(rk + 8);
      for (int j = 0; j < (P - 1) * S + 3; j++) {
        v128_t v = ld(xp + j * cs);
        for (int p = 0; p < P; p++) {
          int kx = j - p * S;
          if (kx == 0) s0 = madd(v, gv[p], s0);
          if (kx == 1) s1 = madd(v, gv[p], s1);
          if (kx == 2) s2 = madd(v, gv[p], s2);
        }
      }
      st(rk, s0);
      st(rk + 4, s1);
      st(rk + 8, s2);
    }
  }
}

static __attribute__((noinline)) void dw3g_edge(const f32 *xr, long rs, int ky0, int ky1, int kx0, int kx1,
                                                const f32 *g, f32 *ra, int c) {
  for (int ch = 0; ch < c; ch += 4) {
    v128_t gv = ld(g + ch);
    for (int ky = ky0; ky < ky1; ky++)
      for (int kx = kx0; kx < kx1; kx++) {
        f32 *rk = ra + ch * 9 + (ky * 3 + kx) * 4;
        st(rk, madd(ld(xr + ky * rs + (long)kx * c + ch), gv, ld(rk)));
      }
  }
}

/* acc [9][c] += ra [c / 4][9][4] in float64; ra is zeroed for the next rows. */
static void dw3g_flush(f64 *restrict acc, f32 *restrict ra, int c) {
  v128_t zero = wasm_f32x4_splat(0);
  for (int ch = 0; ch < c; ch += 4)
    for (int t = 0; t < 9; t++) {
      f32 *rk = ra + ch * 9 + t * 4;
      acc64(acc + (long)t * c + ch, ld(rk));
      st(rk, zero);
    }
}

static void dw3_filter_grad_rows(const f32 *restrict x, const f32 *restrict dy, f64 *restrict acc, f32 *restrict ra,
                                 const int *restrict geo, int o0, int o1) {
  int h = geo[1], w = geo[2], c = geo[3], ho = geo[4], wo = geo[5], sh = geo[8], sw = geo[9], top = geo[12], left = geo[13];
  long rs = (long)w * c;
  int lo, hi;
  inner_cols(wo, w, sw, left, &lo, &hi);
  int flush = DW3G_FLUSH / wo > 1 ? DW3G_FLUSH / wo : 1;
  {
    v128_t zero = wasm_f32x4_splat(0);
    for (int i = 0; i < 9 * c; i += 4) st(ra + i, zero);
  }
  for (int r = o0; r < o1; r++) {
    int bi = r / ho, oy = r % ho;
    int iy = oy * sh - top;
    int ky0 = iy < 0 ? -iy : 0, ky1 = h - iy < 3 ? h - iy : 3;
    const f32 *xr = x + (long)bi * h * rs + (long)iy * rs;
    const f32 *grow = dy + (long)r * wo * c;
    for (int ox = 0; ox < wo; ox++) {
      if (ox == lo && hi > lo) {
        const f32 *xp = xr + (long)(ox * sw - left) * c;
        const f32 *g = grow + (long)ox * c;
        if (sw == 1) {
          for (; ox + DW3G_P <= hi; ox += DW3G_P, xp += DW3G_P * c, g += DW3G_P * c)
            dw3g_tile(xp, rs, ky0, ky1, g, ra, c, 1, DW3G_P);
        } else if (sw == 2) {
          for (; ox + DW3G_P <= hi; ox += DW3G_P, xp += 2 * DW3G_P * c, g += DW3G_P * c)
            dw3g_tile(xp, rs, ky0, ky1, g, ra, c, 2, DW3G_P);
        }
        for (; ox < hi; ox++, xp += (long)sw * c, g += c) dw3g_tile(xp, rs, ky0, ky1, g, ra, c, 1, 1);
        ox = hi - 1;
        continue;
      }
      int ix = ox * sw - left;
      int kx0 = ix < 0 ? -ix : 0, kx1 = w - ix < 3 ? w - ix : 3;
      dw3g_edge(xr + (long)ix * c, rs, ky0, ky1, kx0, kx1, grow + (long)ox * c, ra, c);
    }
    if ((r - o0 + 1) % flush == 0 || r == o1 - 1) dw3g_flush(acc, ra, c);
  }
}

/*
 * Threads split output rows: group g takes output rows [g * grows, (g + 1) * grows) of the n * ho,
 * all channels, into its own accumulators acc + g * taps * c (float64, zeroed by the caller) with its
 * own row scratch rowacc + g * taps * c; f64_group_sum then adds the groups in order. See
 * col_sums_rg for why rows rather than channels.
 */
__attribute__((export_name("dw_filter_grad_rg")))
void dw_filter_grad_rg(const f32 *restrict x, const f32 *restrict dy, f64 *restrict acc, f32 *restrict rowacc,
                       const int *restrict geo, int grows, int g0, int g1) {
  int rows = geo[0] * geo[4], c = geo[3];
  long part = (long)geo[6] * geo[7] * c;
  /* Pixel tiles where dw3_fwd uses them (stride 1, or a stride-2 step of a multiple of 4 KB). */
  int sw = geo[9];
  int fast3 = geo[6] == 3 && geo[7] == 3 && geo[10] == 1 && geo[11] == 1 && (c & 3) == 0 &&
              (sw == 1 || ((long)sw * c * 4) % 4096 == 0);
  for (int g = g0; g < g1; g++) {
    int o0 = g * grows, o1 = o0 + grows < rows ? o0 + grows : rows;
    if (fast3)
      dw3_filter_grad_rows(x, dy, acc + g * part, rowacc + g * part, geo, o0, o1);
    else
      dw_filter_grad_rows(x, dy, acc + g * part, rowacc + g * part, geo, o0, o1, 0, c);
  }
}

/*
 * Concatenation along the last axis (tf.stack / tf.concat on axis -1) and its inverse, rows
 * [r0, r1): part p has width widths[p] and starts at column offsets[p] of the `c`-wide output.
 * srcs / widths / offsets are arrays of `parts` int32 in the heap.
 */
/* Four vectors as the rows of a 4 x 4 block, transposed in place (lanes <-> vectors). */
static inline __attribute__((always_inline)) void tr4(v128_t *a, v128_t *b, v128_t *c, v128_t *d) {
  v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}

/* Four parts of width 1 each (a zero-width part would also make c 4 with four parts). */
static inline int four_ones(const int *widths, int parts) {
  return parts == 4 && widths[0] == 1 && widths[1] == 1 && widths[2] == 1 && widths[3] == 1;
}

__attribute__((export_name("concat_last")))
void concat_last(f32 *restrict out, const int *restrict srcs, const int *restrict widths, int parts, int c, int r0, int r1) {
  /* Four parts of width 1 (tf.stack of the four feature maps, §2.2): four rows at a time as one
     4 x 4 transpose; element by element this was 1.2 ms of a batch-4 scoring pass. */
  if (four_ones(widths, parts)) {
    const f32 *s0 = (const f32 *)(long)srcs[0], *s1 = (const f32 *)(long)srcs[1];
    const f32 *s2 = (const f32 *)(long)srcs[2], *s3 = (const f32 *)(long)srcs[3];
    for (; r0 + 4 <= r1; r0 += 4) {
      v128_t a = ld(s0 + r0), b = ld(s1 + r0), cc = ld(s2 + r0), d = ld(s3 + r0);
      tr4(&a, &b, &cc, &d);
      f32 *po = out + (long)r0 * 4;
      st(po, a), st(po + 4, b), st(po + 8, cc), st(po + 12, d);
    }
  }
  for (int r = r0; r < r1; r++) {
    f32 *po = out + (long)r * c;
    for (int p = 0; p < parts; p++) {
      int wp = widths[p];
      const f32 *ps = (const f32 *)(long)srcs[p] + (long)r * wp;
      if (wp == 1) { *po++ = *ps; continue; }
      for (int i = 0; i < wp; i++) po[i] = ps[i];
      po += wp;
    }
  }
}

__attribute__((export_name("split_last")))
void split_last(const f32 *restrict in, const int *restrict dsts, const int *restrict widths, int parts, int c, int r0, int r1) {
  if (four_ones(widths, parts)) { /* concat_last's four-part case, backwards (tf.unstack: its gradient) */
    f32 *d0 = (f32 *)(long)dsts[0], *d1 = (f32 *)(long)dsts[1], *d2 = (f32 *)(long)dsts[2], *d3 = (f32 *)(long)dsts[3];
    for (; r0 + 4 <= r1; r0 += 4) {
      const f32 *pi = in + (long)r0 * 4;
      v128_t a = ld(pi), b = ld(pi + 4), cc = ld(pi + 8), d = ld(pi + 12);
      tr4(&a, &b, &cc, &d);
      st(d0 + r0, a), st(d1 + r0, b), st(d2 + r0, cc), st(d3 + r0, d);
    }
  }
  for (int r = r0; r < r1; r++) {
    const f32 *pi = in + (long)r * c;
    for (int p = 0; p < parts; p++) {
      int wp = widths[p];
      f32 *pd = (f32 *)(long)dsts[p] + (long)r * wp;
      if (wp == 1) { *pd = *pi++; continue; }
      for (int i = 0; i < wp; i++) pd[i] = pi[i];
      pi += wp;
    }
  }
}

/*
 * y[g][c][r] = x[g][r][c] for x [G, rows, cols] (tf.transpose with perm [0, 2, 1]; G = 1 for a
 * plain 2-D transpose), over units [u0, u1) of G * ceil(cols / 4): unit u is batch u / ceil(cols / 4)
 * and its output rows c0 .. c0 + 3. Blocks of 4 x 4 by tr4, the edges element by element. Every
 * output row's four input lines stay in L1 for the next unit, which reads their next 16 bytes.
 */
__attribute__((export_name("transpose_last2")))
void transpose_last2(const f32 *restrict x, f32 *restrict y, int rows, int cols, int u0, int u1) {
  int cb = (cols + 3) / 4;
  for (int u = u0; u < u1; u++) {
    long g = u / cb;
    int c0 = (u % cb) * 4, cn = cols - c0 < 4 ? cols - c0 : 4;
    const f32 *xg = x + g * rows * cols + c0;
    f32 *yg = y + g * rows * cols + (long)c0 * rows;
    int r = 0;
    if (cn == 4)
      for (; r + 4 <= rows; r += 4) {
        const f32 *p = xg + (long)r * cols;
        v128_t a = ld(p), b = ld(p + cols), c = ld(p + 2 * cols), d = ld(p + 3 * cols);
        tr4(&a, &b, &c, &d);
        st(yg + r, a), st(yg + rows + r, b), st(yg + 2L * rows + r, c), st(yg + 3L * rows + r, d);
      }
    for (; r < rows; r++)
      for (int j = 0; j < cn; j++) yg[(long)j * rows + r] = xg[(long)r * cols + j];
  }
}

/*
 * One AdamW update (torch.optim.AdamW), elements [r0, r1), into fresh outputs:
 *   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,
 *   p' = p * decay - step * m' / (sqrt(v' / bc2) + eps)
 * hyper = {b1, b2, eps, decay, step, bc2} (float32 in the heap: helper threads pass int32 only).
 * Twelve tfjs ops per parameter become one pass.
 */
__attribute__((export_name("adamw")))
void adamw(const f32 *restrict p, const f32 *restrict m, const f32 *restrict v, const f32 *restrict g,
           f32 *restrict po, f32 *restrict mo, f32 *restrict vo, const f32 *restrict hyper, int r0, int r1) {
  f32 b1 = hyper[0], b2 = hyper[1], eps = hyper[2], decay = hyper[3], step = hyper[4], bc2 = hyper[5];
  v128_t vb1 = wasm_f32x4_splat(b1), vc1 = wasm_f32x4_splat(1 - b1), vb2 = wasm_f32x4_splat(b2),
         vc2 = wasm_f32x4_splat(1 - b2), veps = wasm_f32x4_splat(eps), vdecay = wasm_f32x4_splat(decay),
         vstep = wasm_f32x4_splat(step), vbc2 = wasm_f32x4_splat(bc2);
  int i = r0;
  for (; i + 4 <= r1; i += 4) {
    v128_t gi = ld(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(ld(m + i), vb1), wasm_f32x4_mul(gi, vc1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(ld(v + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vc2));
    v128_t denom = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, vbc2)), veps);
    st(mo + i, mi);
    st(vo + i, vi);
    st(po + i, wasm_f32x4_sub(wasm_f32x4_mul(ld(p + i), vdecay), wasm_f32x4_mul(wasm_f32x4_div(mi, denom), vstep)));
  }
  for (; i < r1; i++) {
    f32 gi = g[i];
    f32 mi = m[i] * b1 + gi * (1 - b1);
    f32 vi = v[i] * b2 + gi * gi * (1 - b2);
    f32 denom = __builtin_sqrtf(vi / bc2) + eps;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = p[i] * decay - (mi / denom) * step;
  }
}

/*
 * Patch matrix of a conv input x [n, h, w, ci] (channels last): row (b, oy, ox), columns
 * (ky, kx, ch) - the row-major order of a filter [kh, kw, ci, co] seen as [kh*kw*ci, co] - with
 * zeros where the window leaves the image. geo = {n, h, w, ci, ho, wo, kh, kw, sh, sw, dh, dw,
 * top, left} (int32 in the heap). Rows [r0, r1) of the n*ho*wo rows.
 */
/* Rows [r0, r1) of the patch matrix into o (row r0 first). */
static inline __attribute__((always_inline)) void im2col_rows(const f32 *restrict x, f32 *restrict o,
                                                               const int *restrict geo, int r0, int r1) {
  int h = geo[1], w = geo[2], ci = geo[3], ho = geo[4], wo = geo[5], kh = geo[6], kw = geo[7];
  int sh = geo[8], sw = geo[9], dh = geo[10], dw = geo[11], top = geo[12], left = geo[13];
  for (int row = r0; row < r1; row++) {
    int ox = row % wo, oy = (row / wo) % ho, b = row / (wo * ho);
    for (int ky = 0; ky < kh; ky++) {
      int iy = oy * sh - top + ky * dh;
      for (int kx = 0; kx < kw; kx++, o += ci) {
        int ix = ox * sw - left + kx * dw;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
          for (int c = 0; c < ci; c++) o[c] = 0;
        } else {
          const f32 *src = x + ((long)(b * h + iy) * w + ix) * ci;
          int c = 0;
          for (; c + 4 <= ci; c += 4) st(o + c, ld(src + c));
          for (; c < ci; c++) o[c] = src[c];
        }
      }
    }
  }
}

__attribute__((export_name("im2col")))
void im2col(const f32 *restrict x, f32 *restrict cols, const int *restrict geo, int r0, int r1) {
  long k = (long)geo[6] * geo[7] * geo[3];
  im2col_rows(x, cols + r0 * k, geo, r0, r1);
}

/* The adjoint of im2col: dx (zeroed here) += each patch row, for images [b0, b1) (images do not
   overlap, so threads split them). */
__attribute__((export_name("col2im")))
void col2im(const f32 *restrict cols, f32 *restrict dx, const int *restrict geo, int b0, int b1) {
  int h = geo[1], w = geo[2], ci = geo[3], ho = geo[4], wo = geo[5], kh = geo[6], kw = geo[7];
  int sh = geo[8], sw = geo[9], dh = geo[10], dw = geo[11], top = geo[12], left = geo[13];
  int k = kh * kw * ci;
  {
    f32 *z = dx + (long)b0 * h * w * ci, *end = dx + (long)b1 * h * w * ci;
    for (; z + 4 <= end; z += 4) st(z, wasm_f32x4_splat(0));
    for (; z < end; z++) *z = 0;
  }
  for (int b = b0; b < b1; b++) {
    for (int oy = 0; oy < ho; oy++) {
      for (int ox = 0; ox < wo; ox++) {
        const f32 *o = cols + ((long)(b * ho + oy) * wo + ox) * k;
        for (int ky = 0; ky < kh; ky++) {
          int iy = oy * sh - top + ky * dh;
          for (int kx = 0; kx < kw; kx++, o += ci) {
            int ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            f32 *dst = dx + ((long)(b * h + iy) * w + ix) * ci;
            int c = 0;
            for (; c + 4 <= ci; c += 4) st(dst + c, wasm_f32x4_add(ld(dst + c), ld(o + c)));
            for (; c < ci; c++) dst[c] += o[c];
          }
        }
      }
    }
  }
}

/*
 * BatchNorm followed by PReLU (MobileFaceNet's conv block), fused so the pre-activation
 * z = x * scale + offset is never stored: the backward pass recomputes it from x.
 *   forward  y = z > 0 ? z : alpha z                                           (rows [r0, r1))
 *   backward dz = dy * (z > 0 ? 1 : alpha); per channel sums of dz, dz (x - mean), and of dy z
 *            where z <= 0 (= dalpha)            (channels [c0, c1); threads: bn_prelu_sums_rg)
 *            dx = k dz + m x + cc                                              (rows [r0, r1))
 */
static inline v128_t prelu4(v128_t z, v128_t a) {
  return wasm_v128_bitselect(z, wasm_f32x4_mul(z, a), wasm_f32x4_gt(z, wasm_f32x4_splat(0)));
}
/* mask ? a : b per lane, for masks from a comparison (every lane all ones or all zeros): the same
   bits as v128.bitselect, which V8 lowers to three or four x64 instructions; the relaxed builds'
   lane select is one blendvps (the BatchNorm passes below ran 20-35 % faster with it, one thread). */
static inline __attribute__((always_inline)) v128_t sel4(v128_t a, v128_t b, v128_t mask) {
#ifdef __wasm_relaxed_simd__
  return __builtin_wasm_relaxed_laneselect_i32x4(a, b, mask);
#else
  return wasm_v128_bitselect(a, b, mask);
#endif
}
#ifdef EXP_NATIVE
/* prelu4 over 8 lanes (the native build's 256-bit tiles): the same select of z or z a. */
static inline __attribute__((always_inline)) __m256 prelu8(__m256 z, __m256 a) {
  return _mm256_blendv_ps(_mm256_mul_ps(z, a), z, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ));
}
/* ep4 over 8 lanes (bias, PReLU, residual; each optional), applied to a 256-bit tile in registers
   before it is stored: the same operations. */
static inline __attribute__((always_inline)) __m256 ep8(__m256 v, const f32 *bias, const f32 *alpha, const f32 *res,
                                                        long row, long N, int j) {
  if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
  if (alpha) v = prelu8(v, _mm256_loadu_ps(alpha + j));
  if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + row * N + j));
  return v;
}
#ifdef EXP_AVX512
/* prelu4 over 16 lanes (the AVX-512 build's tiles). */
static inline __attribute__((always_inline)) __m512 prelu16(__m512 z, __m512 a) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_mul_ps(z, a), z);
}
/* Two 8-float rows (two packed 8-column strips at one k) as one 512-bit register. */
static inline __attribute__((always_inline)) __m512 join8(const f32 *lo, const f32 *hi) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(lo)), _mm256_loadu_ps(hi), 1);
}
/* ep8 over 16 lanes (the AVX-512 build's tiles): the same operations again. */
static inline __attribute__((always_inline)) __m512 ep16(__m512 v, const f32 *bias, const f32 *alpha, const f32 *res,
                                                         long row, long N, int j) {
  if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + j));
  if (alpha) v = prelu16(v, _mm512_loadu_ps(alpha + j));
  if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + row * N + j));
  return v;
}
#endif
#endif
/* prelu4 through sel4 (the same bits). */
static inline __attribute__((always_inline)) v128_t prelu4s(v128_t z, v128_t a) {
  return sel4(z, wasm_f32x4_mul(z, a), wasm_f32x4_gt(z, wasm_f32x4_splat(0)));
}

__attribute__((export_name("bn_prelu_fwd")))
void bn_prelu_fwd(const f32 *restrict x, f32 *restrict y, int c, const f32 *restrict scale, const f32 *restrict offset,
                  const f32 *restrict alpha, int r0, int r1) {
  int cv = c & ~3;
  for (int r = r0; r < r1; r++) {
    const f32 *px = x + (long)r * c;
    f32 *py = y + (long)r * c;
    int ch = 0;
    for (; ch < cv; ch += 4)
      st(py + ch, prelu4s(wasm_f32x4_add(wasm_f32x4_mul(ld(px + ch), ld(scale + ch)), ld(offset + ch)), ld(alpha + ch)));
    for (; ch < c; ch++) {
      f32 z = px[ch] * scale[ch] + offset[ch];
      py[ch] = z > 0 ? z : alpha[ch] * z;
    }
  }
}

static void bn_prelu_sums(const f32 *restrict x, const f32 *restrict dy, int rows, int c, const f32 *restrict scale,
                   const f32 *restrict offset, const f32 *restrict alpha, const f32 *restrict mean,
                   f64 *restrict s_dz, f64 *restrict s_dzx, f64 *restrict s_da, int c0, int c1) {
  v128_t zero = wasm_f32x4_splat(0), one = wasm_f32x4_splat(1);
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    int ch = c0;
    for (; ch + 4 <= c1; ch += 4) {
      v128_t sc = ld(scale + ch), of = ld(offset + ch), al = ld(alpha + ch), mu = ld(mean + ch);
      v128_t a1 = zero, a2 = zero, a3 = zero;
      long o = (long)r0 * c + ch;
      for (int r = r0; r < r1; r++, o += c) {
        v128_t xv = ld(x + o), g = ld(dy + o);
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xv, sc), of);
        v128_t pos = wasm_f32x4_gt(z, zero);
        v128_t dz = wasm_f32x4_mul(g, wasm_v128_bitselect(one, al, pos));
        a1 = wasm_f32x4_add(a1, dz);
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(dz, wasm_f32x4_sub(xv, mu)));
        a3 = wasm_f32x4_add(a3, wasm_v128_andnot(wasm_f32x4_mul(g, z), pos));
      }
      acc64(s_dz + ch, a1);
      acc64(s_dzx + ch, a2);
      acc64(s_da + ch, a3);
    }
    for (; ch < c1; ch++) {
      f32 a1 = 0, a2 = 0, a3 = 0;
      for (int r = r0; r < r1; r++) {
        long o = (long)r * c + ch;
        f32 z = x[o] * scale[ch] + offset[ch], g = dy[o];
        f32 dz = z > 0 ? g : g * alpha[ch];
        a1 += dz;
        a2 += dz * (x[o] - mean[ch]);
        a3 += z > 0 ? 0 : g * z;
      }
      s_dz[ch] += a1;
      s_dzx[ch] += a2;
      s_da[ch] += a3;
    }
  }
}

/* dx = k dz + m x + cc with dz = dy (z > 0) or dy alpha: dy times k or ka = k alpha (per channel,
   the caller's float32 product), one multiply fewer than forming dz. The six per-channel operands
   come interleaved, per block of four channels: scale, offset, k, ka, m, cc (24 floats; the last
   block padded), so the walk advances four pointers rather than ten (see stream_prelu_sums). */
__attribute__((export_name("bn_prelu_dx")))
void bn_prelu_dx(const f32 *restrict dy, const f32 *restrict x, f32 *restrict dx, int c, const f32 *restrict kp,
                 int r0, int r1) {
  v128_t zero = wasm_f32x4_splat(0);
  int cv = c & ~3;
  for (int r = r0; r < r1; r++) {
    long o = (long)r * c;
    const f32 *q = kp;
    int ch = 0;
    for (; ch < cv; ch += 4, q += 24) {
      v128_t xv = ld(x + o + ch);
      v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xv, ld(q)), ld(q + 4));
      v128_t kk = sel4(ld(q + 8), ld(q + 12), wasm_f32x4_gt(z, zero));
      st(dx + o + ch, wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(ld(dy + o + ch), kk), wasm_f32x4_mul(xv, ld(q + 16))), ld(q + 20)));
    }
    for (int l = 0; ch < c; ch++, l++) {
      f32 z = x[o + ch] * q[l] + q[4 + l];
      dx[o + ch] = dy[o + ch] * (z > 0 ? q[8 + l] : q[12 + l]) + x[o + ch] * q[16 + l] + q[20 + l];
    }
  }
}

/*
 * col_sums (mode 0 or 1) over one group of rows, streaming the rows in memory order: the float32
 * block sums live in t (2 arrays of ts = ceil4(c) floats, scratch of the calling chunk) and each
 * row in turn is added to them, so the pass reads each operand as one sequential stream. Walking a
 * BLOCK of 64 rows down each column instead (as col_sums does) reads 64 streams at once, more than
 * the prefetchers follow: at c = 512 the statistics pass ran at ~7 GB/s, half of this one's ~15
 * (measured, one thread; two or four rows at a time were as slow as the column walk at c = 512,
 * and two rows per iteration, rows r and r + 1, halved the speed from memory again in Dec).
 * Per column the additions and their order are col_sums's (rows in order within a BLOCK, then
 * float64), so the sums are the same bits. bn_prelu_sums's streaming form: stream_prelu_sums.
 */
static inline __attribute__((always_inline)) void stream_row(const f32 *restrict x, const f32 *restrict y, int ch,
                                                             const f32 *restrict shift, f32 *restrict t, int ts,
                                                             const int kind) {
  /* kind 0: col_sums mode 0, 1: col_sums mode 1 (y = dy, shift = mean); the sums at t, t + ts. */
  v128_t sh = ld(shift + ch), a1 = ld(t + ch), a2 = ld(t + ts + ch);
  if (kind == 0) {
    v128_t d = wasm_f32x4_sub(ld(x + ch), sh);
    a1 = wasm_f32x4_add(a1, d);
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(d, d));
  } else {
    v128_t g = ld(y + ch);
    a1 = wasm_f32x4_add(a1, g);
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(g, wasm_f32x4_sub(ld(x + ch), sh)));
  }
  st(t + ch, a1);
  st(t + ts + ch, a2);
}

static inline __attribute__((always_inline)) void stream_sums(const f32 *restrict x, const f32 *restrict y, int rows,
                                                              int c, const f32 *restrict shift, f32 *restrict t,
                                                              f64 *restrict s1, f64 *restrict s2, const int kind) {
  int cv = c & ~3, ts = (c + 3) & ~3;
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int i = 0; i < 2 * ts; i += 4) st(t + i, wasm_f32x4_splat(0));
    for (int r = r0; r < r1; r++) {
      const f32 *px = x + (long)r * c, *py = kind ? y + (long)r * c : y;
      for (int ch = 0; ch < cv; ch += 4) stream_row(px, py, ch, shift, t, ts, kind);
    }
    for (int ch = 0; ch < cv; ch += 4) {
      acc64(s1 + ch, ld(t + ch));
      acc64(s2 + ch, ld(t + ts + ch));
    }
  }
  /* Channels past the last multiple of 4: the single-column loops of col_sums. */
  if (cv < c) col_sums(x, y, rows, c, shift, s1, s2, kind, cv, c);
}

/*
 * Row-group variants of the per-channel sums above, for threads that split rows instead of
 * channels. A thread given a slice of the channels strides through every row of the tensor
 * (c = 64 in 4 slices: one cache line of every four, with the prefetchers fetching its neighbours
 * for the other thread), so two threads stream the whole tensor from memory twice; a row split
 * streams each half once. Group g sums rows [g * grows, (g + 1) * grows) of all channels into its
 * own float64 partials (s + g * c, zeroed by the caller), exactly as the whole-range function
 * would for those rows; f64_group_sum then adds the groups in order. The groups depend on the
 * shape only, so the sums are the same whatever the thread count. t: float32 scratch of
 * 3 c (c + 3 rounded up to 4) floats per group (7 for bn_prelu_sums_rg); a chunk [g0, g1) uses group g0's.
 */
__attribute__((export_name("col_sums_rg")))
void col_sums_rg(const f32 *restrict x, const f32 *restrict y, int rows, int c, const f32 *restrict shift,
                 f64 *restrict s1, f64 *restrict s2, int mode, f32 *restrict t, int grows, int g0, int g1) {
  f32 *tc = t + (long)g0 * 3 * ((c + 3) & ~3);
  for (int g = g0; g < g1; g++) {
    long r0 = (long)g * grows;
    int n = rows - r0 < grows ? rows - r0 : grows;
    const f32 *py = mode ? y + r0 * c : y;
    if (mode) stream_sums(x + r0 * c, py, n, c, shift, tc, s1 + (long)g * c, s2 + (long)g * c, 1);
    else stream_sums(x + r0 * c, py, n, c, shift, tc, s1 + (long)g * c, s2 + (long)g * c, 0);
  }
}

/*
 * stream_sums's kind 2 (bn_prelu_sums) with its per-channel operands interleaved: k holds, per block
 * of four channels, mean, scale, offset and alpha side by side (16 floats), a the block's three
 * float32 sums (12 floats), so a row's walk advances four pointers (x, dy, k, a) and reads every
 * vector at a constant offset from one of them; with nine separate arrays the loop carried ten
 * pointers, near V8's integer registers. The same operations on the same values in the same order
 * as stream_row's kind 2: the same bits.
 */
static void stream_prelu_sums(const f32 *restrict x, const f32 *restrict dy, int rows, int c, const f32 *restrict k,
                              f32 *restrict a, f64 *restrict s1, f64 *restrict s2, f64 *restrict s3) {
  int cv = c & ~3;
  v128_t zero = wasm_f32x4_splat(0);
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (int i = 0; i < 3 * cv; i += 4) st(a + i, zero);
    for (int r = r0; r < r1; r++) {
      const f32 *px = x + (long)r * c, *py = dy + (long)r * c;
      const f32 *kb = k;
      f32 *ab = a;
      for (int ch = 0; ch < cv; ch += 4, kb += 16, ab += 12) {
        v128_t xv = ld(px + ch), g = ld(py + ch);
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xv, ld(kb + 4)), ld(kb + 8));
        v128_t pos = wasm_f32x4_gt(z, zero);
        v128_t dz = sel4(g, wasm_f32x4_mul(g, ld(kb + 12)), pos); /* = g * (z > 0 ? 1 : alpha) */
        st(ab, wasm_f32x4_add(ld(ab), dz));
        st(ab + 4, wasm_f32x4_add(ld(ab + 4), wasm_f32x4_mul(dz, wasm_f32x4_sub(xv, ld(kb)))));
        st(ab + 8, wasm_f32x4_add(ld(ab + 8), wasm_v128_andnot(wasm_f32x4_mul(g, z), pos)));
      }
    }
    for (int ch = 0, i = 0; ch < cv; ch += 4, i += 12) {
      acc64(s1 + ch, ld(a + i));
      acc64(s2 + ch, ld(a + i + 4));
      acc64(s3 + ch, ld(a + i + 8));
    }
  }
}

/* t: 7 ceil4(c) floats per group here (the interleaved operands, then the sums); a chunk uses group g0's. */
__attribute__((export_name("bn_prelu_sums_rg")))
void bn_prelu_sums_rg(const f32 *restrict x, const f32 *restrict dy, int rows, int c, const f32 *restrict scale,
                      const f32 *restrict offset, const f32 *restrict alpha, const f32 *restrict mean,
                      f64 *restrict s_dz, f64 *restrict s_dzx, f64 *restrict s_da, f32 *restrict t, int grows, int g0,
                      int g1) {
  int ts = (c + 3) & ~3, cv = c & ~3;
  f32 *k = t + (long)g0 * 7 * ts, *a = k + 4 * ts;
  for (int ch = 0; ch < cv; ch += 4) {
    st(k + 4 * ch, ld(mean + ch));
    st(k + 4 * ch + 4, ld(scale + ch));
    st(k + 4 * ch + 8, ld(offset + ch));
    st(k + 4 * ch + 12, ld(alpha + ch));
  }
  for (int g = g0; g < g1; g++) {
    long r0 = (long)g * grows, o = (long)g * c;
    int n = rows - r0 < grows ? rows - r0 : grows;
    stream_prelu_sums(x + r0 * c, dy + r0 * c, n, c, k, a, s_dz + o, s_dzx + o, s_da + o);
    /* Channels past the last multiple of 4: bn_prelu_sums's single-column loops, as stream_sums. */
    if (cv < c)
      bn_prelu_sums(x + r0 * c, dy + r0 * c, n, c, scale, offset, alpha, mean, s_dz + o, s_dzx + o, s_da + o, cv, c);
  }
}

/* s[i] = s[i] + s[len + i] + ... + s[(groups - 1) * len + i] for i in [i0, i1), in that order. */
__attribute__((export_name("f64_group_sum")))
void f64_group_sum(f64 *s, int groups, int len, int i0, int i1) {
  for (int g = 1; g < groups; g++) {
    const f64 *p = s + (long)g * len;
    for (int i = i0; i < i1; i++) s[i] += p[i];
  }
}

/*
 * Depthwise conv input gradient (channel multiplier 1) as a gather, input rows [r0, r1) of the
 * n*h rows: dx[b, iy, ix, ch] = sum over taps (ky, kx) whose output position
 * oy = (iy + top - ky*dh) / sh, ox = (ix + left - kx*dw) / sw is whole and inside the output
 * of w[ky, kx, ch] * dy[b, oy, ox, ch]. For strided convs, where the alternative is a forward conv
 * over a zero-upsampled dy. geo = {n, h, w, c, ho, wo, kh, kw, sh, sw, dh, dw, top, left}.
 */
__attribute__((export_name("dw_input_grad")))
void dw_input_grad(const f32 *restrict dy, const f32 *restrict wt, f32 *restrict dx, const int *restrict geo, int r0, int r1) {
  int h = geo[1], w = geo[2], c = geo[3], ho = geo[4], wo = geo[5], kh = geo[6], kw = geo[7];
  int sh = geo[8], sw = geo[9], dh = geo[10], dw = geo[11], top = geo[12], left = geo[13];
  int cv = c & ~3;
  for (int row = r0; row < r1; row++) {
    int b = row / h, iy = row % h;
    for (int ix = 0; ix < w; ix++) {
      f32 *out = dx + ((long)row * w + ix) * c;
      for (int ch = 0; ch < cv; ch += 4) st(out + ch, wasm_f32x4_splat(0));
      for (int ch = cv; ch < c; ch++) out[ch] = 0;
      for (int ky = 0; ky < kh; ky++) {
        int ty = iy + top - ky * dh;
        if (ty < 0 || ty % sh != 0 || ty / sh >= ho) continue;
        const f32 *dyrow = dy + ((long)(b * ho + ty / sh) * wo) * c;
        for (int kx = 0; kx < kw; kx++) {
          int tx = ix + left - kx * dw;
          if (tx < 0 || tx % sw != 0 || tx / sw >= wo) continue;
          const f32 *g = dyrow + (long)(tx / sw) * c;
          const f32 *wk = wt + (long)(ky * kw + kx) * c;
          int ch = 0;
          for (; ch < cv; ch += 4) st(out + ch, madd(ld(wk + ch), ld(g + ch), ld(out + ch)));
          for (; ch < c; ch++) out[ch] += wk[ch] * g[ch];
        }
      }
    }
  }
}

/*
 * The strided 3 x 3 input gradient (strides of 2 or more in both axes, no dilation, channels in
 * fours) as a gather with the sums in registers: each input pixel gets at most two tap rows x two
 * tap columns, known before its channel loop, so one of four inlined variants adds them for every
 * channel block and stores the pixel once. wp is the filter packed by dw3_pack. (dw_input_grad
 * zeroes dx, then loads and stores it for every tap: 3 loads and a store per multiply-add, against
 * 2 loads here.) The taps are added in the same order (ky, then kx, ascending) as there.
 */
static inline __attribute__((always_inline)) void dw3ig_px(const f32 *g0, const f32 *g1, long o0, long o1,
                                                            const f32 *wp, int t00, int t01, int t10, int t11,
                                                            f32 *out, int c, const int NY, const int NX) {
  for (int ch = 0; ch < c; ch += 4) {
    const f32 *wk = wp + ch * 9;
    v128_t acc = wasm_f32x4_mul(ld(wk + t00), ld(g0 + o0 + ch));
    if (NX == 2) acc = madd(ld(wk + t01), ld(g0 + o1 + ch), acc);
    if (NY == 2) acc = madd(ld(wk + t10), ld(g1 + o0 + ch), acc);
    if (NY == 2 && NX == 2) acc = madd(ld(wk + t11), ld(g1 + o1 + ch), acc);
    st(out + ch, acc);
  }
}

/* The taps k = k0, k0 + s (at most 2 for s >= 2) of a 3-tap axis that reach output positions in
   [0, n) from input position i with padding pad: returns their count, the first tap in *k0 and its
   output position in *o0 (the second's is *o0 - 1). */
static inline int dw3ig_taps(int i, int pad, int s, int n, int *k0, int *o0) {
  int k = (i + pad) % s, cnt = 0, first = -1;
  for (; k < 3; k += s) {
    int o = (i + pad - k) / s;
    if (o < 0 || o >= n) continue;
    if (first < 0) {
      first = k;
      *o0 = o;
    }
    cnt++;
  }
  *k0 = first;
  return cnt;
}

__attribute__((export_name("dw3_input_grad")))
void dw3_input_grad(const f32 *restrict dy, const f32 *restrict wp, f32 *restrict dx, const int *restrict geo, int r0,
                    int r1) {
  int h = geo[1], w = geo[2], c = geo[3], ho = geo[4], wo = geo[5];
  int sh = geo[8], sw = geo[9], top = geo[12], left = geo[13];
  v128_t zero = wasm_f32x4_splat(0);
  for (int row = r0; row < r1; row++) {
    int b = row / h, iy = row % h;
    int ky0 = 0, oy0 = 0;
    int ny = dw3ig_taps(iy, top, sh, ho, &ky0, &oy0);
    const f32 *g0 = dy + ((long)(b * ho + oy0) * wo) * c, *g1 = g0 - (long)wo * c;
    f32 *orow = dx + (long)row * w * c;
    for (int ix = 0; ix < w; ix++) {
      f32 *out = orow + (long)ix * c;
      int kx0 = 0, ox0 = 0;
      int nx = dw3ig_taps(ix, left, sw, wo, &kx0, &ox0);
      if (ny == 0 || nx == 0) {
        for (int ch = 0; ch < c; ch += 4) st(out + ch, zero);
        continue;
      }
      long o0 = (long)ox0 * c, o1 = o0 - c;
      int t00 = (ky0 * 3 + kx0) * 4, t01 = t00 + sw * 4, t10 = t00 + sh * 12, t11 = t10 + sw * 4;
      if (ny == 2 && nx == 2)
        dw3ig_px(g0, g1, o0, o1, wp, t00, t01, t10, t11, out, c, 2, 2);
      else if (ny == 2)
        dw3ig_px(g0, g1, o0, o1, wp, t00, t01, t10, t11, out, c, 2, 1);
      else if (nx == 2)
        dw3ig_px(g0, g1, o0, o1, wp, t00, t01, t10, t11, out, c, 1, 2);
      else
        dw3ig_px(g0, g1, o0, o1, wp, t00, t01, t10, t11, out, c, 1, 1);
    }
  }
}

/*
 * Direct conv of a 4-channel input (MobileFaceNet's stem on the stacked feature maps: 3 x 3,
 * stride 2, 4 -> 64 channels), optionally with a bias and a PReLU: kw 3, ci 4, stride sw 1 or 2,
 * any kh, stride sh and padding, no dilation, co a multiple of 8; output rows [r0, r1) of n * ho.
 * geo as dw_filter_grad (c there is ci = 4); wp is the filter [kh * 3 * 4, co] packed into 8-column strips (pack_strips); b the bias or null,
 * alpha the PReLU slopes or null. A tile is C4_P output pixels x 8 output channels (eight
 * accumulators): per tap and input channel, one broadcast load of each pixel's input value and two
 * strip loads, at offsets from one pointer that are constants. This is the GEMM of im2col x filter
 * without writing the patch matrix (36 floats a pixel: 4.7 MB at batch 16, written and read once
 * more) or reading it back; each output is the taps' products added in the patch matrix's
 * order (ky, kx, ci), padding taps skipped.
 */
#define C4_P 4

static inline __attribute__((always_inline)) v128_t c4_ep(v128_t v, const f32 *b, const f32 *alpha, int j) {
  if (b) v = wasm_f32x4_add(v, ld(b + j));
  return alpha ? prelu4(v, ld(alpha + j)) : v;
}

/* P output pixels whose three tap columns are inside the image, tap rows [ky0, ky1): xr is the
   window's first row (maybe outside the image) at the tile's first input column; ws the strip. */
static inline __attribute__((always_inline)) void c4_tile(const f32 *xr, long rs, int ky0, int ky1, const f32 *ws,
                                                           const f32 *b, const f32 *alpha, f32 *out, int co, int j,
                                                           const int S, const int P) {
  v128_t acc[2 * C4_P];
  for (int q = 0; q < 2 * P; q++) acc[q] = wasm_f32x4_splat(0);
#pragma clang loop unroll(disable)
  for (int t = ky0 * 3; t < ky1 * 3; t++) {
    const f32 *xp = xr + (t / 3) * rs + (t % 3) * 4;
    const f32 *wk = ws + t * 32;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 4; i++) {
      v128_t b0 = ld(wk + i * 8), b1 = ld(wk + i * 8 + 4);
      for (int p = 0; p < P; p++) {
        v128_t a = wasm_v128_load32_splat(xp + p * S * 4 + i);
        acc[2 * p] = madd(a, b0, acc[2 * p]);
        acc[2 * p + 1] = madd(a, b1, acc[2 * p + 1]);
      }
    }
  }
  for (int p = 0; p < P; p++) {
    st(out + (long)p * co, c4_ep(acc[2 * p], b, alpha, j));
    st(out + (long)p * co + 4, c4_ep(acc[2 * p + 1], b, alpha, j + 4));
  }
}

/* One output pixel with tap rows [ky0, ky1) and tap columns [kx0, kx1). */
static __attribute__((noinline)) void c4_edge(const f32 *xr, long rs, int ky0, int ky1, int kx0, int kx1,
                                              const f32 *ws, const f32 *b, const f32 *alpha, f32 *out, int j) {
  v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
  for (int ky = ky0; ky < ky1; ky++)
    for (int kx = kx0; kx < kx1; kx++)
      for (int i = 0; i < 4; i++) {
        v128_t a = wasm_v128_load32_splat(xr + ky * rs + kx * 4 + i);
        const f32 *wk = ws + ((ky * 3 + kx) * 4 + i) * 8;
        a0 = madd(a, ld(wk), a0);
        a1 = madd(a, ld(wk + 4), a1);
      }
  st(out, c4_ep(a0, b, alpha, j));
  st(out + 4, c4_ep(a1, b, alpha, j + 4));
}

#ifdef EXP_NATIVE
/* The native build's c4_tile over two adjacent 8-column strips (ws, ws + ps): C4Y_P pixels x 16
   output channels, one 256-bit accumulator per pixel and strip (12), each broadcast input value
   feeding two FMAs. The same operations per output as c4_tile (taps in order, then the bias and
   the PReLU): the same bits. */
#define C4Y_P 6
static inline __attribute__((always_inline)) void c4_tile_y2(const f32 *xr, long rs, int ky0, int ky1, const f32 *ws,
                                                              long ps, const f32 *b, const f32 *alpha, f32 *out,
                                                              int co, int j, const int S) {
  __m256 acc[C4Y_P][2];
  for (int p = 0; p < C4Y_P; p++) acc[p][0] = acc[p][1] = _mm256_setzero_ps();
#pragma clang loop unroll(disable)
  for (int t = ky0 * 3; t < ky1 * 3; t++) {
    const f32 *xp = xr + (t / 3) * rs + (t % 3) * 4;
    const f32 *wk = ws + t * 32;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 4; i++) {
      __m256 b0 = _mm256_loadu_ps(wk + i * 8), b1 = _mm256_loadu_ps(wk + ps + i * 8);
      for (int p = 0; p < C4Y_P; p++) {
        __m256 a = _mm256_broadcast_ss(xp + p * S * 4 + i);
        acc[p][0] = _mm256_fmadd_ps(a, b0, acc[p][0]);
        acc[p][1] = _mm256_fmadd_ps(a, b1, acc[p][1]);
      }
    }
  }
  for (int p = 0; p < C4Y_P; p++) {
    _mm256_storeu_ps(out + (long)p * co, ep8(acc[p][0], b, alpha, 0, 0, 0, j));
    _mm256_storeu_ps(out + (long)p * co + 8, ep8(acc[p][1], b, alpha, 0, 0, 0, j + 8));
  }
}
#endif

#ifdef EXP_AVX512
/* The AVX-512 build's c4_tile over four adjacent strips (ws + h ps): C4Z_P pixels x 32 output
   channels, two 512-bit accumulators per pixel (24), the strips joined per register as in tile_z.
   The same operations per output as c4_tile: the same bits. */
#define C4Z_P 12
static inline __attribute__((always_inline)) void c4_tile_z(const f32 *xr, long rs, int ky0, int ky1, const f32 *ws,
                                                             long ps, const f32 *b, const f32 *alpha, f32 *out, int co,
                                                             int j, const int S) {
  __m512 acc[C4Z_P][2];
  for (int p = 0; p < C4Z_P; p++) acc[p][0] = acc[p][1] = _mm512_setzero_ps();
#pragma clang loop unroll(disable)
  for (int t = ky0 * 3; t < ky1 * 3; t++) {
    const f32 *xp = xr + (t / 3) * rs + (t % 3) * 4;
    const f32 *wk = ws + t * 32;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 4; i++) {
      __m512 b0 = join8(wk + i * 8, wk + ps + i * 8), b1 = join8(wk + 2 * ps + i * 8, wk + 3 * ps + i * 8);
      for (int p = 0; p < C4Z_P; p++) {
        __m512 a = _mm512_set1_ps(xp[p * S * 4 + i]);
        acc[p][0] = _mm512_fmadd_ps(a, b0, acc[p][0]);
        acc[p][1] = _mm512_fmadd_ps(a, b1, acc[p][1]);
      }
    }
  }
  for (int p = 0; p < C4Z_P; p++)
    for (int h = 0; h < 2; h++)
      _mm512_storeu_ps(out + (long)p * co + 16 * h, ep16(acc[p][h], b, alpha, 0, 0, 0, j + 16 * h));
}
#endif

__attribute__((export_name("conv_c4")))
void conv_c4(const f32 *restrict x, const f32 *restrict wp, const f32 *b, const f32 *alpha, f32 *restrict out, int co,
             const int *restrict geo, int r0, int r1) {
  int h = geo[1], w = geo[2], ho = geo[4], wo = geo[5], kh = geo[6], sh = geo[8], sw = geo[9], top = geo[12];
  int left = geo[13];
  long rs = (long)w * 4, k = (long)kh * 12;
  int lo, hi;
  inner_cols(wo, w, sw, left, &lo, &hi);
  for (int r = r0; r < r1; r++) {
    int bi = r / ho, oy = r % ho;
    int iy = oy * sh - top;
    int ky0 = iy < 0 ? -iy : 0, ky1 = h - iy < kh ? h - iy : kh;
    const f32 *xr = x + (long)bi * h * rs + (long)iy * rs;
    f32 *orow = out + (long)r * wo * co;
    for (int j = 0; j < co; j += 8) {
      const f32 *ws = wp + j * k;
      for (int ox = 0; ox < wo; ox++) {
        if (ox == lo && hi > lo) {
          const f32 *xp = xr + (long)(ox * sw - left) * 4;
          f32 *po = orow + (long)ox * co + j;
#ifdef EXP_AVX512
          /* As below, by four strips. */
          if (co % 32 == 0) {
            int tiled = (hi - lo) / C4Z_P * C4Z_P;
            if (j % 32 == 0)
              for (int q = 0; q < tiled; q += C4Z_P)
                c4_tile_z(xp + (long)q * sw * 4, rs, ky0, ky1, ws, 8L * k, b, alpha, po + (long)q * co, co, j, sw);
            ox += tiled, xp += (long)tiled * sw * 4, po += (long)tiled * co;
          } else
#endif
#ifdef EXP_NATIVE
          /* Strips in pairs where the pair is whole: the even strip's pass runs both strips' interior
             tiles, the odd strip's pass starts after them. */
          if (co % 16 == 0) {
            int tiled = (hi - lo) / C4Y_P * C4Y_P;
            if (j % 16 == 0)
              for (int q = 0; q < tiled; q += C4Y_P)
                c4_tile_y2(xp + (long)q * sw * 4, rs, ky0, ky1, ws, 8L * k, b, alpha, po + (long)q * co, co, j, sw);
            ox += tiled, xp += (long)tiled * sw * 4, po += (long)tiled * co;
          }
#endif
          if (sw == 2) {
            for (; ox + C4_P <= hi; ox += C4_P, xp += 8 * C4_P, po += C4_P * co)
              c4_tile(xp, rs, ky0, ky1, ws, b, alpha, po, co, j, 2, C4_P);
          } else {
            for (; ox + C4_P <= hi; ox += C4_P, xp += 4 * C4_P, po += C4_P * co)
              c4_tile(xp, rs, ky0, ky1, ws, b, alpha, po, co, j, 1, C4_P);
          }
          for (; ox < hi; ox++, xp += sw * 4, po += co) c4_tile(xp, rs, ky0, ky1, ws, b, alpha, po, co, j, 1, 1);
          ox = hi - 1;
          continue;
        }
        int ix = ox * sw - left;
        int kx0 = ix < 0 ? -ix : 0, kx1 = w - ix < 3 ? w - ix : 3;
        c4_edge(xr + (long)ix * 4, rs, ky0, ky1, kx0, kx1, ws, b, alpha, orow + (long)ox * co + j, j);
      }
    }
  }
}

/*
 * The input gradient of a direct 4-channel conv (conv_c4's adjoint; the stem: 3 x 3, stride 2,
 * 64 -> 4 channels back) as a gather, strides of 2 or more in both axes, so each input pixel has
 * at most 2 x 2 taps: dx[b, iy, ix, 0..3] = sum over its taps (ky, kx), in that order, of
 * sum_co dy[b, oy, ox, co] W[ky, kx, 0..3, co], each pixel stored once (im2col's route computed
 * dy W^T into a [pixels, 36] matrix, half a strip of it padding, and scattered it into dx with a
 * load, add and store per tap). wt: the filter as [kh * 3][co][4] (W[ky, kx]^T). Tiles of C4X_P
 * pixels of one column class ((ix + left) mod sw: the same taps, consecutive ox) share each
 * weight vector: per co one weight load and a broadcast load of each pixel's dy value. Rows
 * [r0, r1) of the n * h input rows; every pixel's sum is the same whether a tile or a single
 * pixel computes it, and rows are independent, so any thread count gives the same bits.
 */
#define C4X_P 2

/* P pixels with NY tap rows x NX tap columns: tap (a, c)'s dy for pixel p at (a ? g1 : g0) + (p - c) CO,
   its weights W[ky, kx] [4][CO] at w + a wy + c wx; outputs at out + p os. Lane j of acc[p][i] sums
   the products of output channels co = j mod 4 for input channel i; the four lanes are added at
   the end ((0 + 2) + (1 + 3)). */
static inline __attribute__((always_inline)) void c4x_tile(const f32 *g0, const f32 *g1, const f32 *w, long wy,
                                                            long wx, f32 *out, long os, const int CO, const int NY,
                                                            const int NX, const int P) {
  v128_t acc[C4X_P][4];
  for (int p = 0; p < P; p++)
    for (int i = 0; i < 4; i++) acc[p][i] = wasm_f32x4_splat(0);
  for (int a = 0; a < NY; a++)
    for (int c = 0; c < NX; c++) {
      const f32 *g = (a ? g1 : g0) - (long)c * CO;
      const f32 *wk = w + a * wy + c * wx;
#pragma clang loop unroll(disable)
      for (int k = 0; k < CO; k += 4) {
        v128_t w0 = ld(wk + k), w1 = ld(wk + CO + k), w2 = ld(wk + 2 * CO + k), w3 = ld(wk + 3 * CO + k);
        for (int p = 0; p < P; p++) {
          v128_t d = ld(g + (long)p * CO + k);
          acc[p][0] = madd(d, w0, acc[p][0]);
          acc[p][1] = madd(d, w1, acc[p][1]);
          acc[p][2] = madd(d, w2, acc[p][2]);
          acc[p][3] = madd(d, w3, acc[p][3]);
        }
      }
    }
  for (int p = 0; p < P; p++) {
    v128_t a0 = acc[p][0], a1 = acc[p][1], a2 = acc[p][2], a3 = acc[p][3];
    v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    st(out + p * os, wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7)));
  }
}

static inline __attribute__((always_inline)) void c4x_run(const f32 *g0, const f32 *g1, const f32 *w, long wy,
                                                           long wx, f32 *out, long os, int co, int ny, int nx,
                                                           const int P) {
  if (co == 64) {
    if (ny == 2 && nx == 2) c4x_tile(g0, g1, w, wy, wx, out, os, 64, 2, 2, P);
    else if (ny == 2) c4x_tile(g0, g1, w, wy, wx, out, os, 64, 2, 1, P);
    else if (nx == 2) c4x_tile(g0, g1, w, wy, wx, out, os, 64, 1, 2, P);
    else c4x_tile(g0, g1, w, wy, wx, out, os, 64, 1, 1, P);
  } else {
    if (ny == 2 && nx == 2) c4x_tile(g0, g1, w, wy, wx, out, os, co, 2, 2, P);
    else if (ny == 2) c4x_tile(g0, g1, w, wy, wx, out, os, co, 2, 1, P);
    else if (nx == 2) c4x_tile(g0, g1, w, wy, wx, out, os, co, 1, 2, P);
    else c4x_tile(g0, g1, w, wy, wx, out, os, co, 1, 1, P);
  }
}

/* Single pixels, out of line (tails and borders). */
static __attribute__((noinline)) void c4x_one(const f32 *g0, const f32 *g1, const f32 *w, long wy, long wx, f32 *out,
                                              int co, int ny, int nx) {
  c4x_run(g0, g1, w, wy, wx, out, 0, co, ny, nx, 1);
}

__attribute__((export_name("conv_c4_dx")))
void conv_c4_dx(const f32 *restrict dy, const f32 *restrict wt, f32 *restrict dx, int co, const int *restrict geo,
                int r0, int r1) {
  int h = geo[1], w = geo[2], ho = geo[4], wo = geo[5], sh = geo[8], sw = geo[9], top = geo[12], left = geo[13];
  long wy = (long)sh * 3 * co * 4, wx = (long)sw * co * 4, os = (long)sw * 4;
  for (int r = r0; r < r1; r++) {
    int b = r / h, iy = r % h;
    int ky0 = 0, oy0 = 0;
    int ny = dw3ig_taps(iy, top, sh, ho, &ky0, &oy0);
    f32 *orow = dx + (long)r * w * 4;
    if (ny == 0) {
      for (int ix = 0; ix < w; ix++) st(orow + ix * 4, wasm_f32x4_splat(0));
      continue;
    }
    const f32 *grow = dy + ((long)(b * ho + oy0) * wo) * co;
    for (int cls = 0; cls < sw && cls < w; cls++) {
      /* The class's pixels ix = cls + j sw: taps (nx, kx0, ox0) of each, ox0 rising by one per pixel. */
      for (int ix = cls; ix < w; ix += sw) {
        int kx0 = 0, ox0 = 0;
        int nx = dw3ig_taps(ix, left, sw, wo, &kx0, &ox0);
        f32 *out = orow + (long)ix * 4;
        if (nx == 0) {
          st(out, wasm_f32x4_splat(0));
          continue;
        }
        const f32 *g0 = grow + (long)ox0 * co, *g1 = g0 - (long)wo * co;
        const f32 *wk = wt + (long)(ky0 * 3 + kx0) * co * 4;
        int last = ix + (C4X_P - 1) * sw;
        if (last < w) {
          int kxl = 0, oxl = 0;
          int nxl = dw3ig_taps(last, left, sw, wo, &kxl, &oxl);
          if (nxl == nx && kxl == kx0) {
            c4x_run(g0, g1, wk, wy, wx, out, os, co, ny, nx, C4X_P);
            ix = last;
            continue;
          }
        }
        c4x_one(g0, g1, wk, wy, wx, out, co, ny, nx);
      }
    }
  }
}

/*
 * Matrix products for 1 x 1 convs and linear layers, read straight from row-major operands (no
 * transposes, no packing):
 *   gemm_nn  C[m, n] = sum_k A[m, k] * B[k, n]   forward: A = activations [pixels, cin], B = weights
 *   gemm_tn  C[m, n] = sum_k A[k, m] * B[k, n]   weight gradient X^T dY: A = X [K, M], B = dY [K, N]
 * Both run the same register tiles; only A's strides differ (element (i, k) is A[i * si + k * sk]).
 * A tile is 4 rows x 8 columns: eight accumulators, two B vectors and a broadcast A value. 6 x 8
 * (twelve accumulators) measured 1.6x slower: V8 spills on x86-64's 16 SIMD registers. K is walked
 * in chunks of KC so a B panel (KC x 8) stays in L1 while the row tiles pass over it; rows in
 * blocks of MC so that an A block (MC x KC, 24 KB) stays in L1 too (MC 96: 2-10 % slower).
 */
#define KC 128
#define MC 48

/*
 * The epilogue of an evaluation-mode conv block, applied to a tile as it is stored after the last
 * K chunk (while it is still in registers): C = prelu(C + bias) + res, each part optional (null
 * pointer = absent). bias [N] and alpha [N] are per column (output channel, BatchNorm folded into
 * the weights); res [M, N] is the residual added after a linear block. gemm_tn passes none.
 */

static inline __attribute__((always_inline)) v128_t ep4(v128_t v, const f32 *bias, const f32 *alpha, const f32 *res,
                                                        long row, int N, int j) {
  if (bias) v = wasm_f32x4_add(v, ld(bias + j));
  if (alpha) v = prelu4(v, ld(alpha + j));
  if (res) v = wasm_f32x4_add(v, ld(res + row * N + j));
  return v;
}

static inline __attribute__((always_inline)) f32 ep1(f32 v, const f32 *bias, const f32 *alpha, const f32 *res,
                                                     long row, int N, int j) {
  if (bias) v += bias[j];
  if (alpha && !(v > 0)) v *= alpha[j];
  if (res) v += res[row * N + j];
  return v;
}

static inline __attribute__((always_inline)) void gemm_tile(const f32 *restrict A, const f32 *restrict B,
                                                            f32 *restrict C, int N, long si, long sk, int i0,
                                                            int j0, int k0, int k1, const int MR, const int NV,
                                                            const f32 *bias, const f32 *alpha, const f32 *res, int last) {
  v128_t acc[4][2];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = k0 == 0 ? wasm_f32x4_splat(0) : ld(C + (long)(i0 + r) * N + j0 + 4 * v);
  const f32 *pa = A + i0 * si + k0 * sk;
  const f32 *pb = B + (long)k0 * N + j0;
  for (int k = k0; k < k1; k++, pa += sk, pb += N) {
    v128_t b0 = ld(pb), b1 = NV > 1 ? ld(pb + 4) : b0;
    for (int r = 0; r < MR; r++) {
      v128_t a = wasm_v128_load32_splat(pa + r * si);
      acc[r][0] = madd(a, b0, acc[r][0]);
      if (NV > 1) acc[r][1] = madd(a, b1, acc[r][1]);
    }
  }
  if (last && (bias || alpha || res)) {
    for (int r = 0; r < MR; r++)
      for (int v = 0; v < NV; v++) acc[r][v] = ep4(acc[r][v], bias, alpha, res, i0 + r, N, j0 + 4 * v);
  }
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) st(C + (long)(i0 + r) * N + j0 + 4 * v, acc[r][v]);
}

/* Tiles of 4 rows (then single rows) over one strip of 4 * NV columns. */
static inline __attribute__((always_inline)) void gemm_strip(const f32 *restrict A, const f32 *restrict B,
                                                             f32 *restrict C, int N, long si, long sk, int m0,
                                                             int m1, int j, int k0, int k1, const int NV,
                                                             const f32 *bias, const f32 *alpha, const f32 *res, int last) {
  int i = m0;
  for (; i + 4 <= m1; i += 4) gemm_tile(A, B, C, N, si, sk, i, j, k0, k1, 4, NV, bias, alpha, res, last);
  for (; i < m1; i++) gemm_tile(A, B, C, N, si, sk, i, j, k0, k1, 1, NV, bias, alpha, res, last);
}

/* C[m0..m1, n0..n1) over k in [k0, k1): strips of 8 columns, then 4, then single columns.
   Inlined into each entry point so its unit stride (sk for gemm_nn, si for gemm_tn) is a constant.
   last: k1 is the end of K, so the epilogue (if any) is applied as the tiles are stored. */
static inline __attribute__((always_inline)) void gemm_block(const f32 *restrict A, const f32 *restrict B, f32 *restrict C, int N, long si, long sk,
                       int m0, int m1, int n0, int n1, int k0, int k1,
                       const f32 *bias, const f32 *alpha, const f32 *res, int last) {
  int j = n0;
  for (; j + 8 <= n1; j += 8) gemm_strip(A, B, C, N, si, sk, m0, m1, j, k0, k1, 2, bias, alpha, res, last);
  for (; j + 4 <= n1; j += 4) gemm_strip(A, B, C, N, si, sk, m0, m1, j, k0, k1, 1, bias, alpha, res, last);
  for (; j < n1; j++) {
    for (int i = m0; i < m1; i++) {
      f32 s = k0 == 0 ? 0 : C[(long)i * N + j];
      for (int k = k0; k < k1; k++) s += A[i * si + k * sk] * B[(long)k * N + j];
      C[(long)i * N + j] = last ? ep1(s, bias, alpha, res, i, N, j) : s;
    }
  }
}

/* Rows [m0, m1) in blocks of MC, so an A block stays in L2 while every column tile passes over it. */
static inline __attribute__((always_inline)) void gemm_nn_rows(const f32 *restrict A, const f32 *restrict B, f32 *restrict C,
                                                               int K, int N, const f32 *bias, const f32 *alpha,
                                                               const f32 *res, int m0, int m1) {
  for (int i0 = m0; i0 < m1; i0 += MC) {
    int i1 = i0 + MC < m1 ? i0 + MC : m1;
    for (int k0 = 0; k0 < K; k0 += KC) {
      int k1 = k0 + KC < K ? k0 + KC : K;
      gemm_block(A, B, C, N, K, 1, i0, i1, 0, N, k0, k1, bias, alpha, res, k1 == K);
    }
  }
}

__attribute__((export_name("gemm_nn")))
void gemm_nn(const f32 *restrict A, const f32 *restrict B, f32 *restrict C, int K, int N, int m0, int m1) {
  gemm_nn_rows(A, B, C, K, N, 0, 0, 0, m0, m1);
}

/*
 * An evaluation-mode 1 x 1 conv block in one pass: C = prelu(A B + bias) + res (gemm_nn with the
 * epilogue above; alpha and res may be null). K = 0 is not allowed (nothing would be stored).
 */
__attribute__((export_name("gemm_nn_ep")))
void gemm_nn_ep(const f32 *restrict A, const f32 *restrict B, f32 *restrict C, int K, int N, const f32 *bias,
                const f32 *alpha, const f32 *res, int m0, int m1) {
  gemm_nn_rows(A, B, C, K, N, bias, alpha, res, m0, m1);
}

/* by_rows: [lo, hi) is a range of C's rows (m), else of its columns (n). Threads split whichever
   dimension is larger, so that neither re-reads the whole of the other operand per part. */
__attribute__((export_name("gemm_tn")))
void gemm_tn(const f32 *restrict A, const f32 *restrict B, f32 *restrict C, int K, int M, int N, int by_rows,
             int lo, int hi) {
  int m0 = by_rows ? lo : 0, m1 = by_rows ? hi : M;
  int n0 = by_rows ? 0 : lo, n1 = by_rows ? N : hi;
  for (int k0 = 0; k0 < K; k0 += KC) gemm_block(A, B, C, N, 1, M, m0, m1, n0, n1, k0, k0 + KC < K ? k0 + KC : K, 0, 0, 0, 0);
}

/*
 * 3 x 3 depthwise conv (channel multiplier 1, no dilation), optionally with a bias and a PReLU
 * (an evaluation-mode MobileFaceNet block with its BatchNorm folded in): output rows [r0, r1) of
 * n * ho, channels a multiple of 4. geo as dw_filter_grad. wp is the filter packed by dw3_pack
 * ([c / 4][9 taps][4]: a channel block's nine taps at constant offsets from one pointer); b is
 * the bias or c zeros; alpha may be null. Taps in the padding are skipped; every output is bias +
 * its taps row by row (border pixels: column by column), whichever loop order computes it, the
 * same bits as the channel-block walk had everywhere before the tiles:
 *  - pixel tiles (dw3_tile): DW3_P output pixels of a row run over all channels, four at a time,
 *    the tile's (P - 1) sw + 3 input columns loaded once for its P outputs (stride 1: 0.75 loads
 *    per multiply-add), each input line used whole while it is in L1;
 *  - channel blocks (dw3_rows_cb): one block of four channels walks the whole output row with its
 *    nine taps in registers, the next block re-reading the row's lines from L1.
 * Measured on one thread (CPU time, batch 16, 2 s clips' shapes): tiles are 1.2-1.7x faster at
 * stride 1 and where a stride-2 walk steps by a multiple of 4 KB (512 channels: every load of a
 * walk in one L1 set); the channel walk is 1.3-1.6x faster at stride 2 otherwise on a 17 MB input
 * coming from memory, the pattern the hardware prefetcher follows best.
 * Written for V8's code generator, which keeps the instruction order clang emits and has 16
 * vector and ~12 free integer registers: the tap rows are a loop that is not unrolled (unrolled,
 * clang hoists all of a tile's loads above its first multiply-add and V8 spills most of them).
 */
#define DW3_P 4

__attribute__((export_name("dw3_pack")))
void dw3_pack(const f32 *restrict wt, f32 *restrict wp, int c, int flip) {
  for (int cb = 0; cb < c; cb += 4)
    for (int t = 0; t < 9; t++) st(wp + cb * 9 + t * 4, ld(wt + (flip ? 8 - t : t) * c + cb));
}

static inline __attribute__((always_inline)) v128_t dw3_ep(v128_t acc, const f32 *alpha, int ch) {
  return alpha ? prelu4(acc, ld(alpha + ch)) : acc;
}

/* P interior output pixels (every tap column inside the image) from tap rows [ky0, ky1): xr points
   at the tile's first input column in the window's first row (iy = oy * sh - top, maybe outside
   the image: only rows ky0.. are read), rs is the row stride, out the first output pixel. */
static inline __attribute__((always_inline)) void dw3_tile(const f32 *xr, long rs, int ky0, int ky1,
                                                            const f32 *wp, const f32 *b, const f32 *alpha,
                                                            f32 *out, int c, const int S, const int P) {
  const long cs = c;
  for (int ch = 0; ch < c; ch += 4) {
    v128_t acc[DW3_P];
    v128_t bv = ld(b + ch);
    for (int p = 0; p < P; p++) acc[p] = bv;
#pragma clang loop unroll(disable)
    for (int ky = ky0; ky < ky1; ky++) {
      const f32 *xp = xr + ky * rs + ch;
      const f32 *wk = wp + ch * 9 + ky * 12;
      v128_t a0 = ld(wk), a1 = ld(wk + 4), a2 = ld(wk + 8);
      for (int j = 0; j < (P - 1) * S + 3; j++) {
        v128_t v = ld(xp + j * cs);
        for (int p = 0; p < P; p++) {
          int kx = j - p * S;
          if (kx == 0) acc[p] = madd(v, a0, acc[p]);
          if (kx == 1) acc[p] = madd(v, a1, acc[p]);
          if (kx == 2) acc[p] = madd(v, a2, acc[p]);
        }
      }
    }
    for (int p = 0; p < P; p++) st(out + p * cs + ch, dw3_ep(acc[p], alpha, ch));
  }
}

#ifdef EXP_NATIVE
/* The native build's dw3_tile for c a multiple of 8: 8 channels per 256-bit vector, the same fused
   multiply-adds per channel in the same order (so the same bits). wp holds 4-channel groups
   ([c / 4][9 taps][4]), so a tap's 8 weights are two groups' lanes. */
static inline __attribute__((always_inline)) __m256 dw3_w8(const f32 *wp, int ch, int t) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(wp + ch * 9 + t * 4)),
                              _mm_loadu_ps(wp + (ch + 4) * 9 + t * 4), 1);
}
static inline __attribute__((always_inline)) void dw3_tile_y(const f32 *xr, long rs, int ky0, int ky1,
                                                              const f32 *wp, const f32 *b, const f32 *alpha,
                                                              f32 *out, int c, const int S, const int P) {
  const long cs = c;
  for (int ch = 0; ch < c; ch += 8) {
    __m256 acc[DW3_P];
    __m256 bv = _mm256_loadu_ps(b + ch);
    for (int p = 0; p < P; p++) acc[p] = bv;
#pragma clang loop unroll(disable)
    for (int ky = ky0; ky < ky1; ky++) {
      const f32 *xp = xr + ky * rs + ch;
      __m256 a0 = dw3_w8(wp, ch, 3 * ky), a1 = dw3_w8(wp, ch, 3 * ky + 1), a2 = dw3_w8(wp, ch, 3 * ky + 2);
      for (int j = 0; j < (P - 1) * S + 3; j++) {
        __m256 v = _mm256_loadu_ps(xp + j * cs);
        for (int p = 0; p < P; p++) {
          int kx = j - p * S;
          if (kx == 0) acc[p] = _mm256_fmadd_ps(v, a0, acc[p]);
          if (kx == 1) acc[p] = _mm256_fmadd_ps(v, a1, acc[p]);
          if (kx == 2) acc[p] = _mm256_fmadd_ps(v, a2, acc[p]);
        }
      }
    }
    __m256 al = alpha ? _mm256_loadu_ps(alpha + ch) : _mm256_setzero_ps();
    for (int p = 0; p < P; p++) _mm256_storeu_ps(out + p * cs + ch, alpha ? prelu8(acc[p], al) : acc[p]);
  }
}
#endif

#ifdef EXP_AVX512
/* The AVX-512 build's tile for c a multiple of 16: 16 channels per 512-bit vector, the taps from wz
   (dw3_pack16: one load per tap), the same fused multiply-adds per channel in the same order. */
static void dw3_pack16(const f32 *restrict wp, f32 *restrict wz, int c) {
  for (int cb = 0; cb < c; cb += 16)
    for (int t = 0; t < 9; t++)
      for (int g = 0; g < 4; g++) st(wz + cb * 9 + t * 16 + 4 * g, ld(wp + (cb + 4 * g) * 9 + t * 4));
}
static inline __attribute__((always_inline)) void dw3_tile_z(const f32 *xr, long rs, int ky0, int ky1,
                                                              const f32 *wz, const f32 *b, const f32 *alpha,
                                                              f32 *out, int c, const int S, const int P) {
  const long cs = c;
  for (int ch = 0; ch < c; ch += 16) {
    __m512 acc[DW3_P];
    __m512 bv = _mm512_loadu_ps(b + ch);
    for (int p = 0; p < P; p++) acc[p] = bv;
#pragma clang loop unroll(disable)
    for (int ky = ky0; ky < ky1; ky++) {
      const f32 *xp = xr + ky * rs + ch, *wk = wz + ch * 9 + ky * 48;
      __m512 a0 = _mm512_loadu_ps(wk), a1 = _mm512_loadu_ps(wk + 16), a2 = _mm512_loadu_ps(wk + 32);
      for (int j = 0; j < (P - 1) * S + 3; j++) {
        __m512 v = _mm512_loadu_ps(xp + j * cs);
        for (int p = 0; p < P; p++) {
          int kx = j - p * S;
          if (kx == 0) acc[p] = _mm512_fmadd_ps(v, a0, acc[p]);
          if (kx == 1) acc[p] = _mm512_fmadd_ps(v, a1, acc[p]);
          if (kx == 2) acc[p] = _mm512_fmadd_ps(v, a2, acc[p]);
        }
      }
    }
    __m512 al = alpha ? _mm512_loadu_ps(alpha + ch) : _mm512_setzero_ps();
    for (int p = 0; p < P; p++) _mm512_storeu_ps(out + p * cs + ch, alpha ? prelu16(acc[p], al) : acc[p]);
  }
}
#endif

/* wz for dw3_tile_w: in the AVX-512 build, for c a multiple of 16, wp's taps regrouped by 16 channels
   on the stack (9 c floats; only the native builds may use a stack); else null. */
#ifdef EXP_AVX512
#define DW3_WZ(wp, c)                    \
  f32 wz_[(c) % 16 == 0 ? 9 * (c) : 1]; \
  const f32 *wz = (c) % 16 == 0 ? (dw3_pack16(wp, wz_, c), wz_) : 0
#else
#define DW3_WZ(wp, c) const f32 *wz = 0
#endif

/* The widest tile the build has for c channels: wz (the taps by 16 channels) is set only in the
   AVX-512 build, for c a multiple of 16. */
static inline __attribute__((always_inline)) void dw3_tile_w(const f32 *xr, long rs, int ky0, int ky1,
                                                              const f32 *wp, const f32 *wz, const f32 *b,
                                                              const f32 *alpha, f32 *out, int c, const int S,
                                                              const int P) {
#ifdef EXP_AVX512
  if (wz) return dw3_tile_z(xr, rs, ky0, ky1, wz, b, alpha, out, c, S, P);
#endif
#ifdef EXP_NATIVE
  if (c % 8 == 0) return dw3_tile_y(xr, rs, ky0, ky1, wp, b, alpha, out, c, S, P);
#endif
  (void)wz;
  dw3_tile(xr, rs, ky0, ky1, wp, b, alpha, out, c, S, P);
}

/* One output pixel from tap rows [ky0, ky1) and tap columns [kx0, kx1), channels [c0, c1); column by
   column, as the border pixels always were (the same bits as before the pixel tiles). */
static __attribute__((noinline)) void dw3_edge(const f32 *xr, long rs, int ky0, int ky1, int kx0, int kx1,
                                               const f32 *wp, const f32 *b, const f32 *alpha, f32 *out, int c,
                                               int c0, int c1) {
  for (int ch = c0; ch < c1; ch += 4) {
    v128_t acc = ld(b + ch);
    for (int kx = kx0; kx < kx1; kx++)
      for (int ky = ky0; ky < ky1; ky++)
        acc = madd(ld(xr + ky * rs + (long)kx * c + ch), ld(wp + ch * 9 + (ky * 3 + kx) * 4), acc);
    st(out + ch, dw3_ep(acc, alpha, ch));
  }
}

/* One output row by pixel tiles; interior columns [lo, hi). */
static void dw3_row_tiles(const f32 *xr, long rs, int ky0, int ky1, const f32 *wp, const f32 *wz, const f32 *b,
                          const f32 *alpha, f32 *orow, int w, int c, int wo, int sw, int left, int lo, int hi) {
  for (int ox = 0; ox < wo; ox++) {
    if (ox == lo && hi > lo) {
      const f32 *xp = xr + (long)(ox * sw - left) * c;
      f32 *po = orow + (long)ox * c;
      if (sw == 1) {
        for (; ox + DW3_P <= hi; ox += DW3_P, xp += DW3_P * c, po += DW3_P * c)
          dw3_tile_w(xp, rs, ky0, ky1, wp, wz, b, alpha, po, c, 1, DW3_P);
      } else if (sw == 2) {
        for (; ox + DW3_P <= hi; ox += DW3_P, xp += 2 * DW3_P * c, po += DW3_P * c)
          dw3_tile_w(xp, rs, ky0, ky1, wp, wz, b, alpha, po, c, 2, DW3_P);
      }
      for (; ox < hi; ox++, xp += (long)sw * c, po += c) dw3_tile_w(xp, rs, ky0, ky1, wp, wz, b, alpha, po, c, 1, 1);
      ox = hi - 1;
      continue;
    }
    int ix = ox * sw - left;
    int kx0 = ix < 0 ? -ix : 0, kx1 = w - ix < 3 ? w - ix : 3;
    dw3_edge(xr + (long)ix * c, rs, ky0, ky1, kx0, kx1, wp, b, alpha, orow + (long)ox * c, c, 0, c);
  }
}

/* One output row by channel blocks: the interior columns [lo, hi) with the nine taps in registers
   (taps of padding rows read row ky0 with zero weights, adding exact zeros), then the border columns. */
static void dw3_row_cb(const f32 *xr, long rs, int ky0, int ky1, const f32 *wp, const f32 *b, const f32 *alpha,
                       f32 *orow, int w, int c, int wo, int sw, int left, int lo, int hi) {
  v128_t zero = wasm_f32x4_splat(0);
  int ok0 = ky0 == 0, ok2 = ky1 == 3;
  const f32 *row0 = xr + (ok0 ? 0 : ky0) * rs, *row1 = xr + rs, *row2 = xr + (ok2 ? 2 : ky1 - 1) * rs;
  if (ky1 - ky0 < 2) row1 = row0; /* a one-row image: the window's middle row is in the padding too */
  int ok1 = ky0 <= 1 && ky1 >= 2;
  for (int ch = 0; ch < c; ch += 4) {
    const f32 *wk = wp + ch * 9;
    v128_t w00 = ok0 ? ld(wk) : zero, w01 = ok0 ? ld(wk + 4) : zero, w02 = ok0 ? ld(wk + 8) : zero;
    v128_t w10 = ok1 ? ld(wk + 12) : zero, w11 = ok1 ? ld(wk + 16) : zero, w12 = ok1 ? ld(wk + 20) : zero;
    v128_t w20 = ok2 ? ld(wk + 24) : zero, w21 = ok2 ? ld(wk + 28) : zero, w22 = ok2 ? ld(wk + 32) : zero;
    v128_t bv = ld(b + ch);
    for (int ox = lo; ox < hi; ox++) {
      long o = (long)(ox * sw - left) * c + ch;
      v128_t acc = madd(ld(row0 + o), w00, bv);
      acc = madd(ld(row0 + o + c), w01, acc);
      acc = madd(ld(row0 + o + 2 * c), w02, acc);
      acc = madd(ld(row1 + o), w10, acc);
      acc = madd(ld(row1 + o + c), w11, acc);
      acc = madd(ld(row1 + o + 2 * c), w12, acc);
      acc = madd(ld(row2 + o), w20, acc);
      acc = madd(ld(row2 + o + c), w21, acc);
      acc = madd(ld(row2 + o + 2 * c), w22, acc);
      st(orow + (long)ox * c + ch, dw3_ep(acc, alpha, ch));
    }
  }
  for (int ox = 0; ox < wo; ox++) {
    if (ox == lo && hi > lo) {
      ox = hi - 1;
      continue;
    }
    int ix = ox * sw - left;
    int kx0 = ix < 0 ? -ix : 0, kx1 = w - ix < 3 ? w - ix : 3;
    dw3_edge(xr + (long)ix * c, rs, ky0, ky1, kx0, kx1, wp, b, alpha, orow + (long)ox * c, c, 0, c);
  }
}

__attribute__((export_name("dw3_fwd")))
void dw3_fwd(const f32 *restrict x, const f32 *restrict wp, const f32 *b, const f32 *alpha, f32 *restrict out,
             const int *restrict geo, int r0, int r1) {
  int h = geo[1], w = geo[2], c = geo[3], ho = geo[4], wo = geo[5], sh = geo[8], sw = geo[9], top = geo[12], left = geo[13];
  long rs = (long)w * c;
  int lo, hi;
  inner_cols(wo, w, sw, left, &lo, &hi);
  DW3_WZ(wp, c);
  int tiles = sw == 1 || ((long)sw * c * 4) % 4096 == 0;
  for (int r = r0; r < r1; r++) {
    int bi = r / ho, oy = r % ho;
    int iy = oy * sh - top;
    int ky0 = iy < 0 ? -iy : 0, ky1 = h - iy < 3 ? h - iy : 3;
    /* The image's row iy (maybe outside it: only rows ky0.. of the window are read). */
    const f32 *xr = x + (long)bi * h * rs + (long)iy * rs;
    f32 *orow = out + (long)r * wo * c;
    if (tiles)
      dw3_row_tiles(xr, rs, ky0, ky1, wp, wz, b, alpha, orow, w, c, wo, sw, left, lo, hi);
    else
      dw3_row_cb(xr, rs, ky0, ky1, wp, b, alpha, orow, w, c, wo, sw, left, lo, hi);
  }
}

/*
 * Both gradients of a 3 x 3 depthwise conv at stride 1 with padding 1 (MobileFaceNet's stride-1
 * blocks) in one call: per fixed row group (dw_filter_grad_rg's grid), the input gradient's rows
 * of the group (the forward conv of dy with the flipped filter, wp = dw3_pack(w, flip), by
 * dw3_row_tiles; zb: c zeros for its bias), then the group's filter-gradient sums
 * (dw3_filter_grad_rows), which read the group's dy again from cache instead of memory. The same
 * functions on the same rows as the two separate kernels: the same bits.
 */
__attribute__((export_name("dw3_grads_rg")))
void dw3_grads_rg(const f32 *restrict x, const f32 *restrict dy, const f32 *restrict wp, const f32 *restrict zb,
                  f32 *restrict dx, f64 *restrict acc, f32 *restrict rowacc, const int *restrict geo, int grows,
                  int g0, int g1) {
  int rows = geo[0] * geo[4], c = geo[3], ho = geo[4], wo = geo[5], left = geo[13];
  long part = 9L * c, rs = (long)wo * c;
  int lo, hi;
  inner_cols(wo, wo, 1, left, &lo, &hi);
  DW3_WZ(wp, c);
  for (int g = g0; g < g1; g++) {
    int o0 = g * grows, o1 = o0 + grows < rows ? o0 + grows : rows;
    for (int r = o0; r < o1; r++) {
      int bi = r / ho, iy = r % ho - 1;
      int ky0 = iy < 0 ? -iy : 0, ky1 = ho - iy < 3 ? ho - iy : 3;
      const f32 *xr = dy + (long)bi * ho * rs + (long)iy * rs;
      dw3_row_tiles(xr, rs, ky0, ky1, wp, wz, zb, 0, dx + (long)r * rs, wo, c, wo, 1, left, lo, hi);
    }
    dw3_filter_grad_rows(x, dy, acc + g * part, rowacc + g * part, geo, o0, o1);
  }
}

/*
 * Packed operands (BLIS-style). A B panel read straight from a row-major [K, N] operand touches a
 * new cache line (and, for wide N, a new page) at every k; packed into contiguous strips
 * [N / 8][K][8] every tile streams through memory in order. Measured on one thread (CPU time):
 * gemm_nn 44-45 -> 48-52 GFLOP/s on the 1 x 1-conv shapes; gemm_tn 20-37 -> 39-45 with both
 * operands packed (A [K, M] into 4-row strips [M / 4][K][4]), except when M and N are both small
 * (the copy then costs more than it saves: the caller keeps the unpacked kernel).
 */

/* The first n lanes (n <= 0: none, n >= 4: all four) of p, the others zero; and the store of the
   first n lanes of v. The last strip of a matrix whose width is not a multiple of 8 is padded with
   zeros when packed and stored through these, so it runs the same SIMD tiles as the others. */
static inline __attribute__((always_inline)) v128_t ldn(const f32 *p, int n) {
  if (n >= 4) return ld(p);
  if (n == 3) return wasm_v128_load32_lane(p + 2, wasm_v128_load64_zero(p), 2);
  if (n == 2) return wasm_v128_load64_zero(p);
  if (n == 1) return wasm_v128_load32_zero(p);
  return wasm_f32x4_splat(0);
}
/* (One store per case: written as a chain of lane stores, clang merges them into a store of the
   vector to the stack and a load of a lane by index, and the module must not use the stack.) */
static inline __attribute__((always_inline)) void stn(f32 *p, v128_t v, int n) {
  if (n >= 4) {
    st(p, v);
  } else if (n == 3) {
    wasm_v128_store64_lane(p, v, 0);
    wasm_v128_store32_lane(p + 2, v, 2);
  } else if (n == 2) {
    wasm_v128_store64_lane(p, v, 0);
  } else if (n == 1) {
    wasm_v128_store32_lane(p, v, 0);
  }
}

/* P[s][k][0..W) = S[k * lds + W * s ..] for strips [s0, s1), W = 4 or 8; a strip past column n
   (S's width) is padded with zeros. */
__attribute__((export_name("pack_strips")))
void pack_strips(const f32 *restrict S, f32 *restrict P, int K, int lds, int W, int n, int s0, int s1) {
  for (int s = s0; s < s1; s++) {
    f32 *p = P + (long)s * K * W;
    const f32 *q = S + (long)W * s;
    int w = n - W * s;
    if (W == 8 && w >= 8) {
      for (int k = 0; k < K; k++, p += 8, q += lds) {
        st(p, ld(q));
        st(p + 4, ld(q + 4));
      }
    } else if (W == 8) {
      for (int k = 0; k < K; k++, p += 8, q += lds) {
        st(p, ldn(q, w));
        st(p + 4, ldn(q + 4, w - 4));
      }
    } else {
      for (int k = 0; k < K; k++, p += 4, q += lds) st(p, ldn(q, w));
    }
  }
}

/* pack_strips of the transpose of S [n, K] (row stride lds) without forming it: P[s][k][c] =
   S[(8 s + c) lds + k] for strips [s0, s1), rows past n zero. Four k at a time from eight rows, two
   4 x 4 transposes in registers. For a b^T: the explicit transpose it replaces (tfjs's Transpose,
   then pack_strips reading the copy) cost 3-11 % of those products at one thread. */
__attribute__((export_name("pack_strips_t")))
void pack_strips_t(const f32 *restrict S, f32 *restrict P, int K, int lds, int n, int s0, int s1) {
  for (int s = s0; s < s1; s++) {
    f32 *p = P + (long)s * K * 8;
    const f32 *q = S + (long)8 * s * lds;
    int w = n - 8 * s;
    if (w < 8) {
      for (int k = 0; k < K; k++)
        for (int c = 0; c < 8; c++) p[8 * k + c] = c < w ? q[(long)c * lds + k] : 0;
      continue;
    }
    int k = 0;
    for (; k + 4 <= K; k += 4, p += 32) {
      v128_t r0 = ld(q + k), r1 = ld(q + lds + k), r2 = ld(q + 2 * lds + k), r3 = ld(q + 3 * lds + k);
      v128_t r4 = ld(q + 4 * lds + k), r5 = ld(q + 5 * lds + k), r6 = ld(q + 6 * lds + k), r7 = ld(q + 7 * lds + k);
      v128_t a0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), a1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
      v128_t a2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), a3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
      v128_t b0 = wasm_i32x4_shuffle(r4, r5, 0, 4, 1, 5), b1 = wasm_i32x4_shuffle(r6, r7, 0, 4, 1, 5);
      v128_t b2 = wasm_i32x4_shuffle(r4, r5, 2, 6, 3, 7), b3 = wasm_i32x4_shuffle(r6, r7, 2, 6, 3, 7);
      st(p, wasm_i32x4_shuffle(a0, a1, 0, 1, 4, 5));
      st(p + 4, wasm_i32x4_shuffle(b0, b1, 0, 1, 4, 5));
      st(p + 8, wasm_i32x4_shuffle(a0, a1, 2, 3, 6, 7));
      st(p + 12, wasm_i32x4_shuffle(b0, b1, 2, 3, 6, 7));
      st(p + 16, wasm_i32x4_shuffle(a2, a3, 0, 1, 4, 5));
      st(p + 20, wasm_i32x4_shuffle(b2, b3, 0, 1, 4, 5));
      st(p + 24, wasm_i32x4_shuffle(a2, a3, 2, 3, 6, 7));
      st(p + 28, wasm_i32x4_shuffle(b2, b3, 2, 3, 6, 7));
    }
    for (; k < K; k++, p += 8)
      for (int c = 0; c < 8; c++) p[c] = q[(long)c * lds + k];
  }
}

/* A tile of MR rows x 8 columns over kn steps: A element (r, k) at pa[r * sai + k * sak], B packed
   ([k][8] from pb). first: start from zero (else from C); last: apply the epilogue. Only the first
   mv rows and nc columns are loaded and stored (the tails of C; mv = MR and nc = 8 elsewhere, as
   constants, so the full tiles compile to plain loads and stores). */
static inline __attribute__((always_inline)) void tile_p(const f32 *restrict pa, long sai, long sak,
                                                         const f32 *restrict pb, f32 *restrict C, long ldc, int kn,
                                                         int first, const int MR, int mv, int nc, const f32 *bias,
                                                         const f32 *alpha, const f32 *res, long row0, int j0, int last) {
  v128_t acc[4][2];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < 2; v++)
      acc[r][v] = first || r >= mv ? wasm_f32x4_splat(0) : ldn(C + r * ldc + 4 * v, nc - 4 * v);
  for (int k = 0; k < kn; k++, pa += sak, pb += 8) {
    v128_t b0 = ld(pb), b1 = ld(pb + 4);
    for (int r = 0; r < MR; r++) {
      v128_t a = wasm_v128_load32_splat(pa + r * sai);
      acc[r][0] = madd(a, b0, acc[r][0]);
      acc[r][1] = madd(a, b1, acc[r][1]);
    }
  }
  int ep = last && (bias || alpha || res);
  if (ep && nc >= 8)
    for (int r = 0; r < MR; r++)
      for (int v = 0; v < 2; v++) acc[r][v] = ep4(acc[r][v], bias, alpha, res, row0 + r, (int)ldc, j0 + 4 * v);
  for (int r = 0; r < MR; r++)
    if (r < mv)
      for (int v = 0; v < 2; v++) stn(C + r * ldc + 4 * v, acc[r][v], nc - 4 * v);
  /* A partial strip: the epilogue per element (the same float operations as ep4's lanes), so that
     no bias, slope or residual past the last column is read. */
  if (ep && nc < 8)
    for (int r = 0; r < mv; r++)
      for (int c = 0; c < nc; c++) C[r * ldc + c] = ep1(C[r * ldc + c], bias, alpha, res, row0 + r, (int)ldc, j0 + c);
}

#ifdef EXP_NATIVE
/*
 * The native x86-64 build only (tools/build-native.sh, src/backend/kernels/native.ts): YR rows x 8
 * columns with one 256-bit accumulator per row. 128-bit tiles of 4 rows keep only 8 multiply-adds
 * in flight; AVX2 cores have two 8-lane FMA pipes of latency ~4, which need 8 independent 256-bit
 * accumulators. Every element is still one fused multiply-add per k, in k order, from zero (first)
 * or from C: the same operations as tile_p, so the same bits. Row r's A element k is at
 * pa[(r / 4) s4 + (r % 4) sai + k sak] (4-row groups s4 apart: gemm_tn_ks packs A in 4-row strips).
 */
#define YR 12
static inline __attribute__((always_inline)) void tile_y(const f32 *restrict pa, long s4, long sai, long sak,
                                                         const f32 *restrict pb, f32 *restrict C, long ldc, int kn,
                                                         int first, const f32 *bias, const f32 *alpha,
                                                         const f32 *res, long row0, int j0, int last) {
  __m256 acc[YR];
  for (int r = 0; r < YR; r++) acc[r] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(C + r * ldc);
  for (int k = 0; k < kn; k++, pa += sak, pb += 8) {
    __m256 b = _mm256_loadu_ps(pb);
    for (int r = 0; r < YR; r++)
      acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(pa + (r >> 2) * s4 + (r & 3) * sai), b, acc[r]);
  }
  if (last && (bias || alpha || res))
    for (int r = 0; r < YR; r++) acc[r] = ep8(acc[r], bias, alpha, res, row0 + r, ldc, j0);
  for (int r = 0; r < YR; r++) _mm256_storeu_ps(C + r * ldc, acc[r]);
}

/*
 * The tile over two adjacent 8-column strips (pb, pb + ps): R rows x 16 columns. Row r's A element k
 * is at pa[r sai + k sak]. gemm_nn_p and the direct 1-D conv take 6 rows of A as it lies (Y2R: 12
 * accumulators again, but each broadcast A element feeds two FMAs, where the 12 x 8 tile loads 13
 * values per 12 FMAs); gemm_tn_ks takes one 4-row strip of its packed A (sai 1, sak 4: 8
 * accumulators, 6 loads per 8 FMAs). The same per-element operations as tile_y.
 */
#define Y2R 6
static inline __attribute__((always_inline)) void tile_y2(const f32 *restrict pa, long sai, long sak,
                                                          const f32 *restrict pb, long ps, f32 *restrict C, long ldc,
                                                          int kn, int first, const f32 *bias, const f32 *alpha,
                                                          const f32 *res, long row0, int j0, int last, const int R) {
  __m256 acc[Y2R][2];
  for (int r = 0; r < R; r++)
    for (int h = 0; h < 2; h++) acc[r][h] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(C + r * ldc + 8 * h);
  const f32 *pb2 = pb + ps;
  for (int k = 0; k < kn; k++, pa += sak, pb += 8, pb2 += 8) {
    __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb2);
    for (int r = 0; r < R; r++) {
      __m256 a = _mm256_broadcast_ss(pa + r * sai);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  if (last && (bias || alpha || res))
    for (int r = 0; r < R; r++)
      for (int h = 0; h < 2; h++) acc[r][h] = ep8(acc[r][h], bias, alpha, res, row0 + r, ldc, j0 + 8 * h);
  for (int r = 0; r < R; r++)
    for (int h = 0; h < 2; h++) _mm256_storeu_ps(C + r * ldc + 8 * h, acc[r][h]);
}

#ifdef EXP_AVX512
/*
 * The AVX-512 build only (tools/build-native.sh, loaded where /proc/cpuinfo lists avx512f, vl, bw
 * and dq): ZR rows x 32 columns over four adjacent 8-column strips (pb + h ps), two 512-bit
 * accumulators per row; row r's A element k at pa[(r / 4) s4 + (r % 4) sai + k sak], as in tile_y. Cores with two 512-bit FMA pipes (Intel server parts, AMD Zen 5) do twice
 * the multiply-adds per cycle of the 256-bit tiles; 24 accumulators keep both pipes busy. The strips
 * stay packed 8 wide (the layout both builds share): each k joins two of them into one register.
 * The same per-element operations as tile_y2, so the same bits.
 */
#define ZR 12
static inline __attribute__((always_inline)) void tile_z(const f32 *restrict pa, long s4, long sai, long sak,
                                                         const f32 *restrict pb, long ps, f32 *restrict C, long ldc,
                                                         int kn, int first, const f32 *bias, const f32 *alpha,
                                                         const f32 *res, long row0, int j0, int last) {
  __m512 acc[ZR][2];
  for (int r = 0; r < ZR; r++)
    for (int h = 0; h < 2; h++) acc[r][h] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(C + r * ldc + 16 * h);
  for (int k = 0; k < kn; k++, pa += sak, pb += 8) {
    __m512 b0 = join8(pb, pb + ps), b1 = join8(pb + 2 * ps, pb + 3 * ps);
    for (int r = 0; r < ZR; r++) {
      __m512 a = _mm512_set1_ps(pa[(r >> 2) * s4 + (r & 3) * sai]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  if (last && (bias || alpha || res))
    for (int r = 0; r < ZR; r++)
      for (int h = 0; h < 2; h++) acc[r][h] = ep16(acc[r][h], bias, alpha, res, row0 + r, ldc, j0 + 16 * h);
  for (int r = 0; r < ZR; r++)
    for (int h = 0; h < 2; h++) _mm512_storeu_ps(C + r * ldc + 16 * h, acc[r][h]);
}
#endif
#endif

/*
 * Reads one word of every cache line of [p, q) and drops it: brings a block of A into the caches
 * before its tiles need it. A tile reads its four rows K floats apart, a few bytes of each per
 * multiply-add step, so the block's first strip met a miss to memory on every row every 16 steps,
 * too short a run per row for the hardware prefetchers; read in order here, the block's lines are
 * requested many at a time. gemm_nn_p touches the next row block before it runs the current one.
 * One thread, CPU time, operands 36 MB (beyond L3): a [48000, 128] x [128, 64] product 43.5 -> 48.7
 * GFLOP/s, [12000, 512] x [512, 128] 50.3 -> 51.4, [12000, 128] x [128, 512] 50.5 -> 52.5; with A
 * in cache the tiles reach ~53.5. (The empty asm keeps the loads: their value is otherwise unused.)
 */
static inline __attribute__((always_inline)) void touch_lines(const f32 *p, const f32 *q) {
  int x = 0;
  for (const int *w = (const int *)p; w < (const int *)q; w += 16) x |= *w;
  __asm__ volatile("" : : "r"(x));
}

/* Rows [i0, i1) of one 8-column strip of gemm_nn_p: tiles of 4 rows (12 in the native build), then
   single rows. lda: A's row stride (K for gemm_nn_p; the direct 1-D conv's rows overlap). */
static inline __attribute__((always_inline)) void nn_strip_p(const f32 *restrict A, long lda, const f32 *restrict pb,
                                                             f32 *restrict C, int N, int i0, int i1, int j, int k0,
                                                             int kn, int nc, const f32 *bias, const f32 *alpha,
                                                             const f32 *res, int last) {
  int i = i0;
#ifdef EXP_NATIVE
  if (nc == 8)
    for (; i + YR <= i1; i += YR)
      tile_y(A + i * lda + k0, 4 * lda, lda, 1, pb, C + (long)i * N + j, N, kn, k0 == 0, bias, alpha, res, i, j, last);
#endif
  for (; i + 4 <= i1; i += 4)
    tile_p(A + i * lda + k0, lda, 1, pb, C + (long)i * N + j, N, kn, k0 == 0, 4, 4, nc, bias, alpha, res, i, j, last);
  for (; i < i1; i++)
    tile_p(A + i * lda + k0, lda, 1, pb, C + (long)i * N + j, N, kn, k0 == 0, 1, 1, nc, bias, alpha, res, i, j, last);
}

/* The partial last strip, out of line: inlined beside the full strips it made V8's code for them
   slower (measured: 50 -> 47 GFLOP/s on one thread). */
static __attribute__((noinline)) void nn_tail_p(const f32 *restrict A, long lda, const f32 *restrict pb,
                                                f32 *restrict C, int N, int i0, int i1, int j, int k0, int kn,
                                                const f32 *bias, const f32 *alpha, const f32 *res, int last) {
  nn_strip_p(A, lda, pb, C, N, i0, i1, j, k0, kn, N - j, bias, alpha, res, last);
}

#ifdef EXP_NATIVE
/* Rows [i0, i1) of two adjacent strips (pb, pb + ps) from column j: 6 x 16 tiles, then each
   strip's leftover rows by its own tiles. */
static inline __attribute__((always_inline)) void nn_pair_p(const f32 *restrict A, long lda, const f32 *restrict pb,
                                                            long ps, f32 *restrict C, int N, int i0, int i1, int j,
                                                            int k0, int kn, const f32 *bias, const f32 *alpha,
                                                            const f32 *res, int last) {
  int i = i0;
  for (; i + Y2R <= i1; i += Y2R)
    tile_y2(A + i * lda + k0, lda, 1, pb, ps, C + (long)i * N + j, N, kn, k0 == 0, bias, alpha, res, i, j, last, Y2R);
  for (int h = 0; h < 2 && i < i1; h++)
    nn_strip_p(A, lda, pb + h * ps, C, N, i, i1, j + 8 * h, k0, kn, 8, bias, alpha, res, last);
}
#endif

/*
 * Rows [i0, i1) of C = prelu(A B + bias) + res over every K chunk and strip of Bp (B packed into
 * ceil(N / 8) strips of 8 columns, the last zero-padded); A's rows lda floats apart. The native
 * build runs whole pairs of strips in 6 x 16 tiles first, each strip's leftover rows by its own
 * tiles. The body of gemm_nn_p and of the direct 1-D conv.
 */
static inline __attribute__((always_inline)) void nn_block_p(const f32 *restrict A, long lda,
                                                             const f32 *restrict Bp, f32 *restrict C, int K, int N,
                                                             int i0, int i1, const f32 *bias, const f32 *alpha,
                                                             const f32 *res) {
  for (int k0 = 0; k0 < K; k0 += KC) {
    int k1 = k0 + KC < K ? k0 + KC : K, last = k1 == K, kn = k1 - k0;
    int s = 0;
#ifdef EXP_AVX512
    for (; s + 4 <= N / 8; s += 4) {
      const f32 *pb = Bp + (long)s * K * 8 + (long)k0 * 8;
      int i = i0;
      for (; i + ZR <= i1; i += ZR)
        tile_z(A + i * lda + k0, 4 * lda, lda, 1, pb, (long)K * 8, C + (long)i * N + 8 * s, N, kn, k0 == 0, bias,
               alpha, res, i, 8 * s, last);
      for (int h = 0; h < 4 && i < i1; h += 2)
        nn_pair_p(A, lda, pb + (long)h * K * 8, (long)K * 8, C, N, i, i1, 8 * (s + h), k0, kn, bias, alpha, res, last);
    }
#endif
#ifdef EXP_NATIVE
    for (; s + 2 <= N / 8; s += 2)
      nn_pair_p(A, lda, Bp + (long)s * K * 8 + (long)k0 * 8, (long)K * 8, C, N, i0, i1, 8 * s, k0, kn, bias, alpha,
                res, last);
#endif
    for (; s < N / 8; s++)
      nn_strip_p(A, lda, Bp + (long)s * K * 8 + (long)k0 * 8, C, N, i0, i1, 8 * s, k0, kn, 8, bias, alpha, res, last);
    if (N % 8)
      nn_tail_p(A, lda, Bp + (long)(N / 8) * K * 8 + (long)k0 * 8, C, N, i0, i1, N / 8 * 8, k0, kn, bias, alpha, res,
                last);
  }
}

/*
 * gemm_nn / gemm_nn_ep with B packed (Bp = pack_strips(B, 8) over ceil(N / 8) strips, the last
 * one zero-padded): C = prelu(A B + bias) + res, the epilogue parts optional (null). Rows [m0, m1).
 */
__attribute__((export_name("gemm_nn_p")))
void gemm_nn_p(const f32 *restrict A, const f32 *restrict Bp, f32 *restrict C, int K, int N, const f32 *bias,
               const f32 *alpha, const f32 *res, int m0, int m1) {
  for (int i0 = m0; i0 < m1; i0 += MC) {
    int i1 = i0 + MC < m1 ? i0 + MC : m1;
    touch_lines(A + (long)i1 * K, A + (long)(i1 + MC < m1 ? i1 + MC : m1) * K);
    nn_block_p(A, K, Bp, C, K, N, i0, i1, bias, alpha, res);
  }
}

/* Rows [i0, i1) (i0 - m0 a multiple of 4) of one strip of nc columns of gemm_tn_ks from its packed
   operands (ap: 4-row strips of the task's rows from m0, kn deep; pb: the strip's [kn][8]). */
static inline __attribute__((always_inline)) void tn_strip_p(const f32 *restrict ap, const f32 *restrict pb,
                                                             f32 *restrict C, int N, int m0, int i0, int i1, int j,
                                                             int kn, int first, int nc) {
  int i = i0;
#ifdef EXP_NATIVE
  if (nc == 8)
    for (; i + YR <= i1; i += YR)
      tile_y(ap + (long)(i - m0) * kn, 4L * kn, 1, 4, pb, C + (long)i * N + j, N, kn, first, 0, 0, 0, i, j, 0);
#endif
  for (; i + 4 <= i1; i += 4)
    tile_p(ap + (long)(i - m0) * kn, 1, 4, pb, C + (long)i * N + j, N, kn, first, 4, 4, nc, 0, 0, 0, i, j, 0);
}

/* The tails (out of line, as nn_tail_p): rows [r, i1) of fewer than 4 for columns [j, n1) of the
   task in 8-column strips, or (r = -1) the partial last strip for rows [i0, i1). */
static __attribute__((noinline)) void tn_tail_p(const f32 *restrict ap, const f32 *restrict bp, f32 *restrict C,
                                                int N, int m0, int i0, int i1, int n0, int n1, int kn, int first) {
  int i4 = i0 + ((i1 - i0) & ~3);
  for (int j = n0; j < n1; j += 8) {
    const f32 *pb = bp + (long)(j - n0) * kn;
    int nc = n1 - j < 8 ? n1 - j : 8;
    if (nc < 8) tn_strip_p(ap, pb, C, N, m0, i0, i4, j, kn, first, nc);
    if (i4 < i1)
      tile_p(ap + (long)(i4 - m0) * kn, 1, 4, pb, C + (long)i4 * N + j, N, kn, first, 4, i1 - i4, nc, 0, 0, 0, i4, j, 0);
  }
}

/* Task t of gemm_tn_ks's grid (conv_dw_ks runs the same one, for the same bits): K chunk c, rows
   [ka, ka + kt) of K, and the output slice [m0, m1) x [n0, n1), one of `parts` ranges of the larger
   of M (by_rows) and N, aligned to the tiles. 0 when the task is empty. */
typedef struct {
  int c, ka, kt, m0, m1, n0, n1;
} tn_task;
static inline int tn_task_of(int t, int K, int M, int N, int ks, int parts, int by_rows, tn_task *g) {
  int dim = by_rows ? M : N, al = by_rows ? 4 : 8;
  int step = ((dim + parts - 1) / parts + al - 1) / al * al;
  int lo = (t % parts) * step, hi = lo + step < dim ? lo + step : dim;
  g->c = t / parts;
  g->ka = g->c * ks;
  g->kt = K - g->ka < ks ? K - g->ka : ks;
  g->m0 = by_rows ? lo : 0;
  g->m1 = by_rows ? hi : M;
  g->n0 = by_rows ? 0 : lo;
  g->n1 = by_rows ? N : hi;
  return g->kt > 0 && lo < hi;
}

/*
 * a^T b (A [K, M], B [K, N]) as a grid of tasks: K in chunks of ks rows x the larger of M, N in
 * `parts` ranges (rows in multiples of 4 or columns in multiples of 8); tasks [t0, t1) of
 * ceil(K / ks) * parts, task t = (chunk t / parts, range t % parts). Chunk 0 writes its sums into
 * C, chunk c > 0 into its own M x N partial P + (c - 1) M N; sum_parts then adds the partials into
 * C in chunk order. The grid is a function of the shape alone and every task writes its own
 * outputs, so the result is the same whichever thread runs which task, and at any thread count.
 *
 * The weight gradients (M x N small, K = pixels large) split over M or N alone gave each thread a
 * small part of the work per pass over K, re-read the other operand once per part, and packed both
 * operands whole (tens of MB through memory) before the product: 2 threads ran them at 1.4-1.7x
 * one. Here each task packs (pack != 0) KC rows of its slice of A and B at a time into its own
 * scratch W + t * KC * (M + N + 12) (4-row strips of A, then 8-column strips of B, tails
 * zero-padded), which stays in cache while the tiles run over it. pack = 0: tiles straight from A
 * and B (M and N both small; the copy would cost more than it saves).
 */
/* Rows [r0, r1) of DX = DY Wt^T (Wt: W^T's 8-column strips, K = N, width M) as gemm_nn_p computes them;
   `rows` points at DY's row r0. They are read whole first, in order (see touch_lines), so that the
   slice packing that follows finds them in cache. */
static void dx_rows(const f32 *rows, const f32 *restrict Wt, f32 *restrict DX, int M, int N, int r0, int r1, int kn) {
  touch_lines(rows, rows + (long)kn * N);
  gemm_nn_p(rows - (long)r0 * N, Wt, DX, N, M, 0, 0, 0, r0, r1);
}

static inline __attribute__((always_inline)) void tn_ks_tasks(const f32 *restrict A, const f32 *restrict B,
                                                               f32 *restrict C, f32 *restrict P, f32 *restrict W,
                                                               int K, int M, int N, int ks, int parts, int by_rows,
                                                               int pack, const f32 *restrict Wt, f32 *restrict DX,
                                                               int t0, int t1) {
  for (int t = t0; t < t1; t++) {
    tn_task g;
    if (!tn_task_of(t, K, M, N, ks, parts, by_rows, &g)) continue;
    int c = g.c, ka = g.ka, kt = g.kt, m0 = g.m0, m1 = g.m1, n0 = g.n0, n1 = g.n1;
    const f32 *a = A + (long)ka * M, *b = B + (long)ka * N;
    f32 *out = c == 0 ? C : P + (long)(c - 1) * M * N;
    if (!pack) {
      for (int k0 = 0; k0 < kt; k0 += KC) {
        int k1 = k0 + KC < kt ? k0 + KC : kt;
        if (DX && (k0 / KC) % parts == t % parts) dx_rows(b + (long)k0 * N, Wt, DX, M, N, ka + k0, ka + k1, k1 - k0);
        gemm_block(a, b, out, N, 1, M, m0, m1, n0, n1, k0, k1, 0, 0, 0, 0);
      }
      continue;
    }
    f32 *ap = W + (long)t * KC * (M + N + 12), *bp = ap + (long)KC * ((m1 - m0 + 3) & ~3);
    for (int k0 = 0; k0 < kt; k0 += KC) {
      int kn = kt - k0 < KC ? kt - k0 : KC;
      if (DX && (k0 / KC) % parts == t % parts) dx_rows(b + (long)k0 * N, Wt, DX, M, N, ka + k0, ka + k0 + kn, kn);
      /* Strip by strip (as pack_strips): the writes run in order, and the slice's rows are read
         from memory for the first strip and from L1 for the next ones; except when A's rows are
         a multiple of 2 KB apart (M = 512, 1024): then the kn rows fall in one or two of L1's 64
         sets, evicted each other, and every strip re-read every line from L2. Those are packed
         four strips (a cache line) at a time (one thread, CPU time: A [1008, 1024] -8 %,
         A [512, 512] -7 %; for other widths it measured 2-3 % slower). */
      int i = m0;
      if (M % 512 == 0)
        for (; i + 16 <= m1; i += 16) {
          f32 *p = ap + (long)(i - m0) * kn;
          const f32 *q = a + (long)k0 * M + i;
          for (int k = 0; k < kn; k++, p += 4, q += M) {
            st(p, ld(q));
            st(p + 4 * kn, ld(q + 4));
            st(p + 8 * kn, ld(q + 8));
            st(p + 12 * kn, ld(q + 12));
          }
        }
      for (; i < m1; i += 4) {
        f32 *p = ap + (long)(i - m0) * kn;
        const f32 *q = a + (long)k0 * M + i;
        if (i + 4 <= m1)
          for (int k = 0; k < kn; k++, p += 4, q += M) st(p, ld(q));
        else
          for (int k = 0; k < kn; k++, p += 4, q += M) st(p, ldn(q, m1 - i));
      }
      for (int j = n0; j < n1; j += 8) {
        f32 *p = bp + (long)(j - n0) * kn;
        const f32 *q = b + (long)k0 * N + j;
        if (j + 8 <= n1)
          for (int k = 0; k < kn; k++, p += 8, q += N) {
            st(p, ld(q));
            st(p + 4, ld(q + 4));
          }
        else
          for (int k = 0; k < kn; k++, p += 8, q += N) {
            st(p, ldn(q, n1 - j));
            st(p + 4, ldn(q + 4, n1 - j - 4));
          }
      }
      int n8 = n0 + ((n1 - n0) & ~7);
      for (int i0 = m0; i0 < m1; i0 += MC) {
        int i1 = i0 + MC < m1 ? i0 + MC : m1;
        int j = n0;
#ifdef EXP_AVX512
        for (; j + 32 <= n8; j += 32) {
          const f32 *pb = bp + (long)(j - n0) * kn;
          int i = i0;
          for (; i + ZR <= i1; i += ZR)
            tile_z(ap + (long)(i - m0) * kn, 4L * kn, 1, 4, pb, 8L * kn, out + (long)i * N + j, N, kn, k0 == 0, 0, 0, 0,
                   i, j, 0);
          for (; i + 4 <= i1; i += 4)
            for (int h = 0; h < 2; h++)
              tile_y2(ap + (long)(i - m0) * kn, 1, 4, pb + 16L * h * kn, 8L * kn, out + (long)i * N + j + 16 * h, N,
                      kn, k0 == 0, 0, 0, 0, i, j + 16 * h, 0, 4);
        }
#endif
#ifdef EXP_NATIVE
        for (; j + 16 <= n8; j += 16)
          for (int i = i0; i + 4 <= i1; i += 4)
            tile_y2(ap + (long)(i - m0) * kn, 1, 4, bp + (long)(j - n0) * kn, 8L * kn, out + (long)i * N + j, N, kn,
                    k0 == 0, 0, 0, 0, i, j, 0, 4);
#endif
        for (; j < n8; j += 8) tn_strip_p(ap, bp + (long)(j - n0) * kn, out, N, m0, i0, i1, j, kn, k0 == 0, 8);
        if (n8 < n1 || (i1 - i0) % 4) tn_tail_p(ap, bp, out, N, m0, i0, i1, n0, n1, kn, k0 == 0);
      }
    }
  }
}

__attribute__((export_name("gemm_tn_ks")))
void gemm_tn_ks(const f32 *restrict A, const f32 *restrict B, f32 *restrict C, f32 *restrict P, f32 *restrict W,
                int K, int M, int N, int ks, int parts, int by_rows, int pack, int t0, int t1) {
  tn_ks_tasks(A, B, C, P, W, K, M, N, ks, parts, by_rows, pack, 0, 0, t0, t1);
}

/*
 * Both gradients of a 1 x 1 conv y = X Wc (X [K, M] pixels x input channels, Wc [M, N], dY [K, N])
 * in one pass over dY: dWc = X^T dY as gemm_tn_ks (the same task grid, partials and sums: the
 * same bits), and DX = dY Wc^T (Wt: Wc^T packed into 8-column strips by pack_strips_t) by
 * gemm_nn_p's tiles for the 128 pixel rows of each slice a task packs, just before it packs them
 * (the slice's part p of `parts` ranges of a chunk takes the slices k0 / 128 = p mod parts). Run
 * apart, the two products each streamed dY (10-41 MB a layer in a 10 s batch-4 step) from memory;
 * here the weight gradient's packing finds each slice in cache. Row blocks do not change gemm_nn_p's
 * sums: DX has the same bits as gemm_nn_p over all rows.
 */
__attribute__((export_name("pw_grads")))
void pw_grads(const f32 *restrict X, const f32 *restrict DY, const f32 *restrict Wt, f32 *restrict DX,
              f32 *restrict C, f32 *restrict P, f32 *restrict W, int K, int M, int N, int ks, int parts, int by_rows,
              int pack, int t0, int t1) {
  tn_ks_tasks(X, DY, C, P, W, K, M, N, ks, parts, by_rows, pack, Wt, DX, t0, t1);
}

/* C[e] = ((C[e] + P[e]) + P[stride + e]) + ... over `parts` partials, elements [e0, e1), always in
   that order (gemm_tn_ks's reduction); in blocks of 1024 so C's block stays in L1 while each
   partial streams past it. */
__attribute__((export_name("sum_parts")))
void sum_parts(f32 *restrict C, const f32 *restrict P, int parts, int stride, int e0, int e1) {
  for (int b0 = e0; b0 < e1; b0 += 1024) {
    int b1 = b0 + 1024 < e1 ? b0 + 1024 : e1;
    for (int p = 0; p < parts; p++) {
      const f32 *q = P + (long)p * stride;
      int e = b0;
      for (; e + 4 <= b1; e += 4) st(C + e, wasm_f32x4_add(ld(C + e), ld(q + e)));
      for (; e < b1; e++) C[e] += q[e];
    }
  }
}

/*
 * Conv2DBackpropFilter of an im2col conv (MobileFaceNet's stem: 3 x 3, stride 2, 4 -> 64 channels)
 * without the whole patch matrix ([n ho wo, kh kw ci]: 4.7 MB at batch 16, written and read back
 * once more): dW [k, co] = cols^T dy as gemm_tn_ks's unpacked path (pack = 0; the same task grid:
 * K = n ho wo pixels in chunks of ks, `parts` ranges of the larger of k and co, partials in P for
 * sum_parts), each task writing KC rows of the patch matrix at a time into its own W + t KC k, in
 * cache. The same products in the same order: the same bits as im2col followed by gemm_tn_ks.
 */
__attribute__((export_name("conv_dw_ks")))
void conv_dw_ks(const f32 *restrict x, const f32 *restrict dy, f32 *restrict C, f32 *restrict P, f32 *restrict W,
                const int *restrict geo, int N, int ks, int parts, int by_rows, int t0, int t1) {
  int M = geo[6] * geo[7] * geo[3], K = geo[0] * geo[4] * geo[5];
  for (int t = t0; t < t1; t++) {
    tn_task g;
    if (!tn_task_of(t, K, M, N, ks, parts, by_rows, &g)) continue;
    int c = g.c, ka = g.ka, kt = g.kt, m0 = g.m0, m1 = g.m1, n0 = g.n0, n1 = g.n1;
    const f32 *b = dy + (long)ka * N;
    f32 *out = c == 0 ? C : P + (long)(c - 1) * M * N;
    f32 *cols = W + (long)t * KC * M;
    for (int k0 = 0; k0 < kt; k0 += KC) {
      int k1 = k0 + KC < kt ? k0 + KC : kt;
      im2col_rows(x, cols, geo, ka + k0, ka + k1);
      /* gemm_block reads row k of A at A + k M: A is placed k0 rows before the block (integer
         arithmetic: wasm addresses wrap, and only rows k0.. are read). */
      const f32 *a = (const f32 *)((unsigned long)cols - (unsigned long)k0 * M * 4);
      gemm_block(a, b, out, N, 1, M, m0, m1, n0, n1, k0, k1, 0, 0, 0, 0);
    }
  }
}

/* s[ch] += sum of x[r, ch] over the rows, channels [c0, c1) (float32 in blocks of BLOCK rows, then
   float64; s is zeroed by the caller): Sum / Mean over a tensor's leading axes. */
__attribute__((export_name("col_sum")))
void col_sum(const f32 *restrict x, int rows, int c, f64 *restrict s, int c0, int c1) {
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    int ch = c0;
    for (; ch + 8 <= c1; ch += 8) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
      const f32 *px = x + (long)r0 * c + ch;
      for (int r = r0; r < r1; r++, px += c) {
        a0 = wasm_f32x4_add(a0, ld(px));
        a1 = wasm_f32x4_add(a1, ld(px + 4));
      }
      acc64(s + ch, a0);
      acc64(s + ch + 4, a1);
    }
    for (; ch < c1; ch++) {
      f32 a = 0;
      for (int r = r0; r < r1; r++) a += x[(long)r * c + ch];
      s[ch] += a;
    }
  }
}

/* out[r, ch] = w[r % p, ch] * v[r / p, ch] for rows [r0, r1): the input gradient of a global
   depthwise conv (w the [p = kh * kw, c] filter, v = dy [n, c]). */
__attribute__((export_name("bcast_mul")))
void bcast_mul(const f32 *restrict w, const f32 *restrict v, f32 *restrict out, int p, int c, int r0, int r1) {
  int cv = c & ~3;
  for (int r = r0; r < r1; r++) {
    const f32 *pw = w + (long)(r % p) * c, *pv = v + (long)(r / p) * c;
    f32 *po = out + (long)r * c;
    int ch = 0;
    for (; ch < cv; ch += 4) st(po + ch, wasm_f32x4_mul(ld(pw + ch), ld(pv + ch)));
    for (; ch < c; ch++) po[ch] = pw[ch] * pv[ch];
  }
}

/* out[b, ch] = prelu(sum_i x[b, i, ch] w[i, ch] + bias[ch]) for images [b0, b1), i over the p
   pixels in order: a global depthwise conv (the filter covers the whole map, one output pixel;
   MobileFaceNet's 8 x 4 embedding conv). bias and alpha may be null; channels in fours, four
   blocks at a time so each loaded line is used whole. (XNNPACK ran it as a windowed conv at
   ~0.5 GFLOP/s.) */
__attribute__((export_name("dw_global")))
void dw_global(const f32 *restrict x, const f32 *restrict w, const f32 *bias, const f32 *alpha, f32 *restrict out,
               int p, int c, int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    const f32 *xb = x + (long)b * p * c;
    f32 *ob = out + (long)b * c;
    int ch = 0;
    for (; ch + 16 <= c; ch += 16) {
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int i = 0; i < p; i++) {
        const f32 *px = xb + (long)i * c + ch, *pw = w + (long)i * c + ch;
        a0 = madd(ld(px), ld(pw), a0);
        a1 = madd(ld(px + 4), ld(pw + 4), a1);
        a2 = madd(ld(px + 8), ld(pw + 8), a2);
        a3 = madd(ld(px + 12), ld(pw + 12), a3);
      }
      st(ob + ch, dw3_ep(bias ? wasm_f32x4_add(a0, ld(bias + ch)) : a0, alpha, ch));
      st(ob + ch + 4, dw3_ep(bias ? wasm_f32x4_add(a1, ld(bias + ch + 4)) : a1, alpha, ch + 4));
      st(ob + ch + 8, dw3_ep(bias ? wasm_f32x4_add(a2, ld(bias + ch + 8)) : a2, alpha, ch + 8));
      st(ob + ch + 12, dw3_ep(bias ? wasm_f32x4_add(a3, ld(bias + ch + 12)) : a3, alpha, ch + 12));
    }
    for (; ch < c; ch += 4) {
      v128_t a0 = wasm_f32x4_splat(0);
      for (int i = 0; i < p; i++) a0 = madd(ld(xb + (long)i * c + ch), ld(w + (long)i * c + ch), a0);
      st(ob + ch, dw3_ep(bias ? wasm_f32x4_add(a0, ld(bias + ch)) : a0, alpha, ch));
    }
  }
}

/*
 * Element-wise activations and their gradients over elements [i0, i1), one pass each (tfjs's wasm
 * Tanh and LeakyRelu are scalar loops, their gradients three tfjs ops each):
 *   mode 0: out = tanh(a)                     mode 1: out = a * (1 - b^2)      (a = dy, b = y)
 *   mode 2: out = a > 0 ? a : alpha a         mode 3: out = b > 0 ? a : alpha a (a = dy, b = x)
 * alpha arrives as the bits of a float32 (helper threads pass int32 arguments only).
 * tanh is Cephes' tanhf: x + x^3 P(x^2) below |x| = 0.625, else 1 - 2 / (exp(2|x|) + 1) with the
 * sign of x, exp by Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial);
 * within 3e-7 of float64 tanh (tested). Plain multiply and add: every build gives the same bits.
 */
static inline v128_t fsplat(f32 v) { return wasm_f32x4_splat(v); }
static inline v128_t fma4(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }

/* exp(x) for x in [0, 88]. */
static inline v128_t exp4(v128_t x) {
  v128_t fx = wasm_f32x4_nearest(wasm_f32x4_mul(x, fsplat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, fsplat(0.693359375f)));
  r = wasm_f32x4_add(r, wasm_f32x4_mul(fx, fsplat(2.12194440e-4f)));
  v128_t p = fsplat(1.9875691500e-4f);
  p = fma4(p, r, fsplat(1.3981999507e-3f));
  p = fma4(p, r, fsplat(8.3334519073e-3f));
  p = fma4(p, r, fsplat(4.1665795894e-2f));
  p = fma4(p, r, fsplat(1.6666665459e-1f));
  p = fma4(p, r, fsplat(5.0000001201e-1f));
  v128_t e = wasm_f32x4_add(fma4(p, wasm_f32x4_mul(r, r), r), fsplat(1.0f));
  v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(fx), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(e, pow2);
}

static inline v128_t tanh4(v128_t x) {
  v128_t sign = wasm_i32x4_splat((int)0x80000000);
  v128_t a = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = fsplat(-5.70498872745e-3f);
  p = fma4(p, z, fsplat(2.06390887954e-2f));
  p = fma4(p, z, fsplat(-5.37397155531e-2f));
  p = fma4(p, z, fsplat(1.33314422036e-1f));
  p = fma4(p, z, fsplat(-3.33332819422e-1f));
  v128_t small = fma4(wasm_f32x4_mul(x, z), p, x);
  v128_t e = exp4(wasm_f32x4_min(wasm_f32x4_add(a, a), fsplat(88.0f)));
  v128_t large = wasm_f32x4_sub(fsplat(1.0f), wasm_f32x4_div(fsplat(2.0f), wasm_f32x4_add(e, fsplat(1.0f))));
  large = wasm_v128_or(large, wasm_v128_and(x, sign));
  return wasm_v128_bitselect(small, large, wasm_f32x4_lt(a, fsplat(0.625f)));
}

__attribute__((export_name("act_map")))
void act_map(int mode, const f32 *restrict a, const f32 *restrict b, f32 *restrict out, int alpha_bits, int i0, int i1) {
  union {
    int i;
    f32 f;
  } u = {alpha_bits};
  v128_t al = fsplat(u.f), zero = fsplat(0), one = fsplat(1);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    v128_t va = ld(a + i), r;
    if (mode == 0) r = tanh4(va);
    else if (mode == 1) {
      v128_t y = ld(b + i);
      r = wasm_f32x4_mul(va, wasm_f32x4_sub(one, wasm_f32x4_mul(y, y)));
    } else {
      v128_t pos = wasm_f32x4_gt(mode == 2 ? va : ld(b + i), zero);
      r = wasm_v128_bitselect(va, wasm_f32x4_mul(va, al), pos);
    }
    st(out + i, r);
  }
  /* The tail one element at a time through the same vector code (lane 0), so it rounds alike. */
  for (; i < i1; i++) {
    v128_t va = wasm_f32x4_splat(a[i]), r;
    if (mode == 0) r = tanh4(va);
    else if (mode == 1) {
      v128_t y = wasm_f32x4_splat(b[i]);
      r = wasm_f32x4_mul(va, wasm_f32x4_sub(one, wasm_f32x4_mul(y, y)));
    } else {
      v128_t pos = wasm_f32x4_gt(mode == 2 ? va : wasm_f32x4_splat(b[i]), zero);
      r = wasm_v128_bitselect(va, wasm_f32x4_mul(va, al), pos);
    }
    out[i] = wasm_f32x4_extract_lane(r, 0);
  }
}

/*
 * LayerNorm over the middle axis of x [outer, n, inner] with one affine weight per position along
 * that axis (gamma[t], beta[t]; Tgram's LayerNorm normalises each channel over the T frames),
 * optionally followed by LeakyReLU (leaky != 0, slope as the bits of a float32). mean and inv
 * (1 / sqrt(var + eps)) are [outer, inner], from col_sums. Row r of the outer * n rows is
 * (o = r / n, t = r % n). The pre-activation z = (x - mean) inv gamma + beta is recomputed in the
 * backward pass (never stored), in the same order of operations as tfjs's unfused graph.
 *   ln_fwd      y = z or leaky(z)                                                 rows [r0, r1)
 *   ln_bwd_sums dz = dy (through the LeakyReLU), g = dz gamma, xhat = (x - mean) inv:
 *               s1[o, i] += sum_t g, s2[o, i] += sum_t g xhat (float64; zeroed by the caller),
 *               rdz[o, t] = sum_i dz, rdzx[o, t] = sum_i dz xhat;  acc is float32 scratch
 *               [outer, 2, inner]                                            outer items [o0, o1)
 *   ln_bwd_dx   dx = inv (g - c1 - xhat c2), c1 / c2 = s1 / n and s2 / n as float32   rows [r0, r1)
 */
static inline v128_t leaky4(v128_t z, v128_t slope) {
  return wasm_v128_bitselect(z, wasm_f32x4_mul(z, slope), wasm_f32x4_gt(z, wasm_f32x4_splat(0)));
}
static inline f32 bits_f32(int bits) {
  union {
    int i;
    f32 f;
  } u = {bits};
  return u.f;
}

__attribute__((export_name("ln_fwd")))
void ln_fwd(const f32 *restrict x, f32 *restrict y, const f32 *restrict mean, const f32 *restrict inv,
            const f32 *restrict gamma, const f32 *restrict beta, int n, int inner, int leaky, int slope_bits, int r0,
            int r1) {
  f32 slope = bits_f32(slope_bits);
  v128_t vs = wasm_f32x4_splat(slope);
  int iv = inner & ~3;
  for (int r = r0; r < r1; r++) {
    int o = r / n, t = r % n;
    const f32 *px = x + (long)r * inner, *pm = mean + (long)o * inner, *pi = inv + (long)o * inner;
    f32 *py = y + (long)r * inner;
    v128_t g = wasm_f32x4_splat(gamma[t]), b = wasm_f32x4_splat(beta[t]);
    int i = 0;
    for (; i < iv; i += 4) {
      v128_t z = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(ld(px + i), ld(pm + i)), ld(pi + i)), g), b);
      st(py + i, leaky ? leaky4(z, vs) : z);
    }
    for (; i < inner; i++) {
      f32 z = (px[i] - pm[i]) * pi[i] * gamma[t] + beta[t];
      py[i] = leaky && !(z > 0) ? z * slope : z;
    }
  }
}

__attribute__((export_name("ln_bwd_sums")))
void ln_bwd_sums(const f32 *restrict x, const f32 *restrict dy, const f32 *restrict mean, const f32 *restrict inv,
                 const f32 *restrict gamma, const f32 *restrict beta, int n, int inner, int leaky, int slope_bits,
                 f64 *restrict s1, f64 *restrict s2, f32 *restrict rdz, f32 *restrict rdzx, f32 *restrict acc,
                 int o0, int o1) {
  f32 slope = bits_f32(slope_bits);
  v128_t vs = wasm_f32x4_splat(slope), one = wasm_f32x4_splat(1), zero = wasm_f32x4_splat(0);
  int iv = inner & ~3;
  for (int o = o0; o < o1; o++) {
    const f32 *pm = mean + (long)o * inner, *pi = inv + (long)o * inner;
    f32 *a1 = acc + (long)o * 2 * inner, *a2 = a1 + inner;
    for (int t0 = 0; t0 < n; t0 += BLOCK) {
      int t1 = t0 + BLOCK < n ? t0 + BLOCK : n;
      for (int i = 0; i < inner; i++) a1[i] = a2[i] = 0;
      for (int t = t0; t < t1; t++) {
        long row = (long)o * n + t;
        const f32 *px = x + row * inner, *pd = dy + row * inner;
        v128_t gm = wasm_f32x4_splat(gamma[t]), bt = wasm_f32x4_splat(beta[t]);
        v128_t q1 = zero, q2 = zero;
        int i = 0;
        for (; i < iv; i += 4) {
          v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(ld(px + i), ld(pm + i)), ld(pi + i));
          v128_t dz = ld(pd + i);
          if (leaky) {
            v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xh, gm), bt);
            dz = wasm_f32x4_mul(dz, wasm_v128_bitselect(one, vs, wasm_f32x4_gt(z, zero)));
          }
          v128_t g = wasm_f32x4_mul(dz, gm);
          st(a1 + i, wasm_f32x4_add(ld(a1 + i), g));
          st(a2 + i, wasm_f32x4_add(ld(a2 + i), wasm_f32x4_mul(g, xh)));
          q1 = wasm_f32x4_add(q1, dz);
          q2 = wasm_f32x4_add(q2, wasm_f32x4_mul(dz, xh));
        }
        f32 r1 = wasm_f32x4_extract_lane(q1, 0) + wasm_f32x4_extract_lane(q1, 1) + wasm_f32x4_extract_lane(q1, 2) +
                 wasm_f32x4_extract_lane(q1, 3);
        f32 r2 = wasm_f32x4_extract_lane(q2, 0) + wasm_f32x4_extract_lane(q2, 1) + wasm_f32x4_extract_lane(q2, 2) +
                 wasm_f32x4_extract_lane(q2, 3);
        for (; i < inner; i++) {
          f32 xh = (px[i] - pm[i]) * pi[i];
          f32 dz = pd[i];
          if (leaky && !(xh * gamma[t] + beta[t] > 0)) dz = dz * slope;
          f32 g = dz * gamma[t];
          a1[i] += g;
          a2[i] += g * xh;
          r1 += dz;
          r2 += dz * xh;
        }
        rdz[row] = r1;
        rdzx[row] = r2;
      }
      for (int i = 0; i < inner; i++) {
        s1[(long)o * inner + i] += a1[i];
        s2[(long)o * inner + i] += a2[i];
      }
    }
  }
}

__attribute__((export_name("ln_bwd_dx")))
void ln_bwd_dx(const f32 *restrict x, const f32 *restrict dy, const f32 *restrict mean, const f32 *restrict inv,
               const f32 *restrict gamma, const f32 *restrict beta, const f32 *restrict c1, const f32 *restrict c2,
               f32 *restrict dx, int n, int inner, int leaky, int slope_bits, int r0, int r1) {
  f32 slope = bits_f32(slope_bits);
  v128_t vs = wasm_f32x4_splat(slope), one = wasm_f32x4_splat(1), zero = wasm_f32x4_splat(0);
  int iv = inner & ~3;
  for (int r = r0; r < r1; r++) {
    int o = r / n, t = r % n;
    long off = (long)o * inner;
    const f32 *px = x + (long)r * inner, *pd = dy + (long)r * inner;
    f32 *po = dx + (long)r * inner;
    v128_t gm = wasm_f32x4_splat(gamma[t]), bt = wasm_f32x4_splat(beta[t]);
    int i = 0;
    for (; i < iv; i += 4) {
      v128_t iv4 = ld(inv + off + i);
      v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(ld(px + i), ld(mean + off + i)), iv4);
      v128_t dz = ld(pd + i);
      if (leaky) {
        v128_t z = wasm_f32x4_add(wasm_f32x4_mul(xh, gm), bt);
        dz = wasm_f32x4_mul(dz, wasm_v128_bitselect(one, vs, wasm_f32x4_gt(z, zero)));
      }
      v128_t g = wasm_f32x4_mul(dz, gm);
      v128_t d = wasm_f32x4_sub(wasm_f32x4_sub(g, ld(c1 + off + i)), wasm_f32x4_mul(xh, ld(c2 + off + i)));
      st(po + i, wasm_f32x4_mul(d, iv4));
    }
    for (; i < inner; i++) {
      f32 xh = (px[i] - mean[off + i]) * inv[off + i];
      f32 dz = pd[i];
      if (leaky && !(xh * gamma[t] + beta[t] > 0)) dz = dz * slope;
      f32 g = dz * gamma[t];
      po[i] = (g - c1[off + i] - xh * c2[off + i]) * inv[off + i];
    }
  }
}

/*
 * Complex multiplication by a weight broadcast over rows (SpecNet's FourierConv2D: x [rows, n] times
 * w [n], real and imaginary parts as separate arrays), columns [j0, j1), every row:
 *   cmul_fwd   yr = xr wr - xi wi,  yi = xr wi + xi wr       (tfjs's unfused order of operations)
 *   cmul_dx    mode 0: out = dyr wr + dyi wi (d xr);  mode 1: out = dyi wr - dyr wi (d xi)
 *   cmul_dw    dwr[j] = sum_r dyr xr + dyi xi,  dwi[j] = sum_r dyi xr - dyr xi   (float32 over rows)
 */
__attribute__((export_name("cmul_fwd")))
void cmul_fwd(const f32 *restrict xr, const f32 *restrict xi, const f32 *restrict wr, const f32 *restrict wi,
              f32 *restrict yr, f32 *restrict yi, int rows, int n, int j0, int j1) {
  for (int r = 0; r < rows; r++) {
    long o = (long)r * n;
    int j = j0;
    for (; j + 4 <= j1; j += 4) {
      v128_t a = ld(xr + o + j), b = ld(xi + o + j), w = ld(wr + j), v = ld(wi + j);
      st(yr + o + j, wasm_f32x4_sub(wasm_f32x4_mul(a, w), wasm_f32x4_mul(b, v)));
      st(yi + o + j, wasm_f32x4_add(wasm_f32x4_mul(a, v), wasm_f32x4_mul(b, w)));
    }
    for (; j < j1; j++) {
      f32 a = xr[o + j], b = xi[o + j];
      yr[o + j] = a * wr[j] - b * wi[j];
      yi[o + j] = a * wi[j] + b * wr[j];
    }
  }
}

__attribute__((export_name("cmul_dx")))
void cmul_dx(const f32 *restrict dyr, const f32 *restrict dyi, const f32 *restrict wr, const f32 *restrict wi,
             f32 *restrict out, int mode, int rows, int n, int j0, int j1) {
  for (int r = 0; r < rows; r++) {
    long o = (long)r * n;
    int j = j0;
    for (; j + 4 <= j1; j += 4) {
      v128_t gr = ld(dyr + o + j), gi = ld(dyi + o + j), w = ld(wr + j), v = ld(wi + j);
      st(out + o + j, mode == 0 ? wasm_f32x4_add(wasm_f32x4_mul(gr, w), wasm_f32x4_mul(gi, v))
                                : wasm_f32x4_sub(wasm_f32x4_mul(gi, w), wasm_f32x4_mul(gr, v)));
    }
    for (; j < j1; j++)
      out[o + j] = mode == 0 ? dyr[o + j] * wr[j] + dyi[o + j] * wi[j] : dyi[o + j] * wr[j] - dyr[o + j] * wi[j];
  }
}

__attribute__((export_name("cmul_dw")))
void cmul_dw(const f32 *restrict xr, const f32 *restrict xi, const f32 *restrict dyr, const f32 *restrict dyi,
             f32 *restrict dwr, f32 *restrict dwi, int rows, int n, int j0, int j1) {
  int j = j0;
  for (; j + 4 <= j1; j += 4) {
    v128_t sr = wasm_f32x4_splat(0), si = sr;
    for (int r = 0; r < rows; r++) {
      long o = (long)r * n + j;
      v128_t a = ld(xr + o), b = ld(xi + o), gr = ld(dyr + o), gi = ld(dyi + o);
      sr = wasm_f32x4_add(sr, wasm_f32x4_add(wasm_f32x4_mul(gr, a), wasm_f32x4_mul(gi, b)));
      si = wasm_f32x4_add(si, wasm_f32x4_sub(wasm_f32x4_mul(gi, a), wasm_f32x4_mul(gr, b)));
    }
    st(dwr + j, sr);
    st(dwi + j, si);
  }
  for (; j < j1; j++) {
    f32 sr = 0, si = 0;
    for (int r = 0; r < rows; r++) {
      long o = (long)r * n + j;
      sr += dyr[o] * xr[o] + dyi[o] * xi[o];
      si += dyi[o] * xr[o] - dyr[o] * xi[o];
    }
    dwr[j] = sr;
    dwi[j] = si;
  }
}

/*
 * FGA-Spec's gated mix over x [B, M, T] (T contiguous), items [b0, b1):
 *   gmix_fwd  out = lm + g (fs - lm),  g = (gf[b, m] gt[b, t]) lambda   (tfjs's unfused order)
 *   gmix_bwd  dfs = dy g;  dlm = dy - dy g (when dlm is not 0);  dG = dy (fs - lm) lambda;
 *             dgf[b, m] = sum_t dG gt,  dgt[b, t] = sum_m dG gf   (float32)
 */
__attribute__((export_name("gmix_fwd")))
void gmix_fwd(const f32 *restrict lm, const f32 *restrict fs, const f32 *restrict gf, const f32 *restrict gt,
              f32 *restrict out, int m, int t, int lambda_bits, int b0, int b1) {
  f32 lam = bits_f32(lambda_bits);
  v128_t vl = wasm_f32x4_splat(lam);
  int tv = t & ~3;
  for (int b = b0; b < b1; b++) {
    const f32 *pt = gt + (long)b * t;
    for (int r = 0; r < m; r++) {
      long o = ((long)b * m + r) * t;
      f32 f = gf[(long)b * m + r];
      v128_t vf = wasm_f32x4_splat(f);
      int j = 0;
      for (; j < tv; j += 4) {
        v128_t l = ld(lm + o + j);
        v128_t g = wasm_f32x4_mul(wasm_f32x4_mul(vf, ld(pt + j)), vl);
        st(out + o + j, wasm_f32x4_add(l, wasm_f32x4_mul(g, wasm_f32x4_sub(ld(fs + o + j), l))));
      }
      for (; j < t; j++) {
        f32 g = f * pt[j] * lam;
        out[o + j] = lm[o + j] + g * (fs[o + j] - lm[o + j]);
      }
    }
  }
}

__attribute__((export_name("gmix_bwd")))
void gmix_bwd(const f32 *restrict dy, const f32 *restrict lm, const f32 *restrict fs, const f32 *restrict gf,
              const f32 *restrict gt, f32 *restrict dfs, f32 *restrict dlm, f32 *restrict dgf, f32 *restrict dgt,
              int m, int t, int lambda_bits, int b0, int b1) {
  f32 lam = bits_f32(lambda_bits);
  v128_t vl = wasm_f32x4_splat(lam);
  int tv = t & ~3;
  for (int b = b0; b < b1; b++) {
    const f32 *pt = gt + (long)b * t;
    f32 *at = dgt + (long)b * t;
    for (int j = 0; j < t; j++) at[j] = 0;
    for (int r = 0; r < m; r++) {
      long o = ((long)b * m + r) * t;
      f32 f = gf[(long)b * m + r];
      v128_t vf = wasm_f32x4_splat(f), acc = wasm_f32x4_splat(0);
      int j = 0;
      for (; j < tv; j += 4) {
        v128_t d = ld(dy + o + j), vt = ld(pt + j);
        v128_t g = wasm_f32x4_mul(wasm_f32x4_mul(vf, vt), vl);
        v128_t df = wasm_f32x4_mul(d, g);
        st(dfs + o + j, df);
        if (dlm) st(dlm + o + j, wasm_f32x4_sub(d, df));
        v128_t dG = wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_sub(ld(fs + o + j), ld(lm + o + j))), vl);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(dG, vt));
        st(at + j, wasm_f32x4_add(ld(at + j), wasm_f32x4_mul(dG, vf)));
      }
      f32 s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) +
              wasm_f32x4_extract_lane(acc, 3);
      for (; j < t; j++) {
        f32 d = dy[o + j], g = f * pt[j] * lam, df = d * g;
        dfs[o + j] = df;
        if (dlm) dlm[o + j] = d - df;
        f32 dG = d * (fs[o + j] - lm[o + j]) * lam;
        s += dG * pt[j];
        at[j] += dG * f;
      }
      dgf[(long)b * m + r] = s;
    }
  }
}

/*
 * SpecNet's 2-D DFT (§2.1.4) on the half spectrum (src/model/dft.ts, src/backend/kernels/dft-glue.ts):
 * the element-wise steps around its products, one pass each instead of ~10 slice / reverse / pad /
 * add / concat ops. Row ranges [r0, r1) write disjoint rows. th = t / 2 + 1, tm = t - th.
 *   dft_mirror       r [B, 2 th, 2 m] (rows: Pr then Q = -Pi; columns: C_M then S_M products) ->
 *                    the time-major spectrum fr, fi [B, t, m]: for l < th (j = l)
 *                    fr = cPr - sQ, fi = -(cQ + sPr); for l >= th (j = t - l, conjugate symmetry)
 *                    fr = cPr + sQ, fi = cQ - sPr.  Rows: B t.
 *   dft_mirror_grad  its adjoint: dfr, dfi -> dr.  Rows: B th.
 *   dft_fold         zr, zi [B, t, m] -> u [B, 2, th, 2 m]: [zr+ | zi+] over [zi- | -zr-] with
 *                    y+-[j] = y[j] +- y[t - j] for 1 <= j <= tm, y[j] otherwise.  Rows: B th.
 *   dft_fold_grad    its adjoint: du -> dzr, dzi.  Rows: B t.
 * The operations and their order are those of the plain-op graph in dft.ts, so both give the same bits.
 */
__attribute__((export_name("dft_mirror")))
void dft_mirror(const f32 *restrict r, f32 *restrict fr, f32 *restrict fi, int t, int th, int m, int r0, int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / t, l = row % t, top = l < th, j = top ? l : t - l;
    const f32 *cpr = r + ((long)b * 2 * th + j) * 2 * m, *spr = cpr + m;
    const f32 *cq = r + ((long)b * 2 * th + th + j) * 2 * m, *sq = cq + m;
    f32 *yr = fr + (long)row * m, *yi = fi + (long)row * m;
    if (top) {
      for (int k = 0; k < m; k++) {
        yr[k] = cpr[k] - sq[k];
        yi[k] = -(cq[k] + spr[k]);
      }
    } else {
      for (int k = 0; k < m; k++) {
        yr[k] = cpr[k] + sq[k];
        yi[k] = cq[k] - spr[k];
      }
    }
  }
}

__attribute__((export_name("dft_mirror_grad")))
void dft_mirror_grad(const f32 *restrict dfr, const f32 *restrict dfi, f32 *restrict dr, int t, int th, int m, int r0,
                     int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / th, j = row % th;
    const f32 *gr = dfr + ((long)b * t + j) * m, *gi = dfi + ((long)b * t + j) * m;
    f32 *cpr = dr + ((long)b * 2 * th + j) * 2 * m, *spr = cpr + m;
    f32 *cq = dr + ((long)b * 2 * th + th + j) * 2 * m, *sq = cq + m;
    if (j >= 1 && j <= t - th) {
      const f32 *hr = dfr + ((long)b * t + t - j) * m, *hi = dfi + ((long)b * t + t - j) * m;
      for (int k = 0; k < m; k++) {
        cpr[k] = gr[k] + hr[k];
        sq[k] = hr[k] - gr[k];
        cq[k] = hi[k] - gi[k];
        spr[k] = -(gi[k] + hi[k]);
      }
    } else {
      for (int k = 0; k < m; k++) {
        cpr[k] = gr[k];
        sq[k] = -gr[k];
        cq[k] = -gi[k];
        spr[k] = -gi[k];
      }
    }
  }
}

__attribute__((export_name("dft_fold")))
void dft_fold(const f32 *restrict zr, const f32 *restrict zi, f32 *restrict u, int t, int th, int m, int r0, int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / th, j = row % th;
    const f32 *ar = zr + ((long)b * t + j) * m, *ai = zi + ((long)b * t + j) * m;
    f32 *p = u + ((long)b * 2 * th + j) * 2 * m, *q = u + ((long)b * 2 * th + th + j) * 2 * m;
    if (j >= 1 && j <= t - th) {
      const f32 *br = zr + ((long)b * t + t - j) * m, *bi = zi + ((long)b * t + t - j) * m;
      for (int k = 0; k < m; k++) {
        p[k] = ar[k] + br[k];
        p[m + k] = ai[k] + bi[k];
        q[k] = ai[k] - bi[k];
        q[m + k] = -(ar[k] - br[k]);
      }
    } else {
      for (int k = 0; k < m; k++) {
        p[k] = ar[k];
        p[m + k] = ai[k];
        q[k] = ai[k];
        q[m + k] = -ar[k];
      }
    }
  }
}

__attribute__((export_name("dft_fold_grad")))
void dft_fold_grad(const f32 *restrict du, f32 *restrict dzr, f32 *restrict dzi, int t, int th, int m, int r0, int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / t, l = row % t, top = l < th, j = top ? l : t - l;
    const f32 *p = du + ((long)b * 2 * th + j) * 2 * m, *q = du + ((long)b * 2 * th + th + j) * 2 * m;
    f32 *gr = dzr + (long)row * m, *gi = dzi + (long)row * m;
    if (top) {
      for (int k = 0; k < m; k++) {
        gr[k] = p[k] - q[m + k];
        gi[k] = p[m + k] + q[k];
      }
    } else {
      for (int k = 0; k < m; k++) {
        gr[k] = p[k] + q[m + k];
        gi[k] = p[m + k] - q[k];
      }
    }
  }
}

/*
 * SpecNet's spectral activation in evaluation mode (src/model/inference/specnet.ts), one pass over
 * the spectrum F = fr + i fi [rows, n] with the per-position weights w [6][n] broadcast over rows:
 *   pr = (fr k1 - fi k2) + br,  pi = (fr k3 + fi k4) + bi   (C1 F with the BatchNorms folded in)
 *   ur = tanh(pr), ui = tanh(pi)                             (tanh4, as the Tanh kernel)
 *   zr = ur c2r - ui c2i,  zi = ur c2i + ui c2r              (C2 times it)
 * w = [k1, k2, k3, k4, c2r, c2i], bias = [br, bi]; columns [j0, j1) of every row.
 */
__attribute__((export_name("spec_act")))
void spec_act(const f32 *restrict fr, const f32 *restrict fi, const f32 *restrict w, const f32 *restrict bias,
              f32 *restrict zr, f32 *restrict zi, int rows, int n, int j0, int j1) {
  const f32 *k1 = w, *k2 = w + n, *k3 = w + 2 * (long)n, *k4 = w + 3 * (long)n, *cr = w + 4 * (long)n,
            *ci = w + 5 * (long)n;
  v128_t br = wasm_f32x4_splat(bias[0]), bi = wasm_f32x4_splat(bias[1]);
  for (int r = 0; r < rows; r++) {
    long o = (long)r * n;
    int j = j0;
    for (; j + 4 <= j1; j += 4) {
      v128_t a = ld(fr + o + j), b = ld(fi + o + j);
      v128_t pr = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(a, ld(k1 + j)), wasm_f32x4_mul(b, ld(k2 + j))), br);
      v128_t pi = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(a, ld(k3 + j)), wasm_f32x4_mul(b, ld(k4 + j))), bi);
      v128_t ur = tanh4(pr), ui = tanh4(pi), c = ld(cr + j), s = ld(ci + j);
      st(zr + o + j, wasm_f32x4_sub(wasm_f32x4_mul(ur, c), wasm_f32x4_mul(ui, s)));
      st(zi + o + j, wasm_f32x4_add(wasm_f32x4_mul(ur, s), wasm_f32x4_mul(ui, c)));
    }
    /* The tail through the same vector code (lane 0), so it rounds alike. */
    for (; j < j1; j++) {
      v128_t a = wasm_f32x4_splat(fr[o + j]), b = wasm_f32x4_splat(fi[o + j]);
      v128_t pr = wasm_f32x4_add(
          wasm_f32x4_sub(wasm_f32x4_mul(a, wasm_f32x4_splat(k1[j])), wasm_f32x4_mul(b, wasm_f32x4_splat(k2[j]))), br);
      v128_t pi = wasm_f32x4_add(
          wasm_f32x4_add(wasm_f32x4_mul(a, wasm_f32x4_splat(k3[j])), wasm_f32x4_mul(b, wasm_f32x4_splat(k4[j]))), bi);
      v128_t ur = tanh4(pr), ui = tanh4(pi), c = wasm_f32x4_splat(cr[j]), s = wasm_f32x4_splat(ci[j]);
      zr[o + j] = wasm_f32x4_extract_lane(wasm_f32x4_sub(wasm_f32x4_mul(ur, c), wasm_f32x4_mul(ui, s)), 0);
      zi[o + j] = wasm_f32x4_extract_lane(wasm_f32x4_add(wasm_f32x4_mul(ur, s), wasm_f32x4_mul(ui, c)), 0);
    }
  }
}

/*
 * A 1-D conv's product without its column matrix (evaluation-mode Tgram, src/backend/kernels/conv1d-direct.ts).
 * The columns of output t of clip b, cols[b out + t] = x[b, t s - pad + kk, c] over (kk, c), are k cin
 * consecutive floats of x when the window lies inside the clip (x is [B, L, cin] row-major), and
 * consecutive outputs' windows start s cin floats apart. So those rows are read in place as an A
 * with row stride s cin (overlapping rows when k > s): gemm_nn_p's loops and tiles with that
 * stride, the same sums in the same order, so the same bits as im2col then gemm_nn_p, without
 * writing the matrix (Tgram's front conv, k 1024 = 2 strides: twice the waveform; its k 3 convs:
 * three times the map). Rows [r0, r1) of the B (thi - tlo) interior outputs, t in [tlo, thi); the
 * caller runs the border outputs through real columns. N a multiple of 8; Bp = pack_strips(w, 8).
 */
static void conv1d_block(const f32 *restrict A, long lda, const f32 *restrict Bp, f32 *restrict C, int K, int N,
                         int m) {
  for (int i0 = 0; i0 < m; i0 += MC) nn_block_p(A, lda, Bp, C, K, N, i0, i0 + MC < m ? i0 + MC : m, 0, 0, 0);
}

__attribute__((export_name("conv1d_rows")))
void conv1d_rows(const f32 *restrict x, const f32 *restrict Bp, f32 *restrict y, int len, int cin, int stride,
                 int pad, int out, int tlo, int thi, int K, int N, int r0, int r1) {
  int ni = thi - tlo;
  long lda = (long)stride * cin;
  for (int r = r0; r < r1;) {
    int b = r / ni, t = tlo + r % ni;
    int end = (b + 1) * ni < r1 ? (b + 1) * ni : r1;
    const f32 *A = x + ((long)b * len + (long)t * stride - pad) * cin;
    conv1d_block(A, lda, Bp, y + ((long)b * out + t) * N, K, N, end - r);
    r = end;
  }
}

/*
 * TASTgram's temporal attention (§2.1.3) in evaluation mode (src/backend/kernels/temporal-attention.ts):
 * for x [B, M, T], out = sigmoid(mean_m x + max_m x) x, the attention broadcast over the M rows; one
 * read of a clip for the column statistics and one for the product (a clip's map stays in cache),
 * instead of tfjs's Mean and Max over the middle axis (each a transpose, then a reduction), an Add,
 * a Sigmoid and a broadcast Multiply. sigmoid(s) = 1/2 + tanh(s / 2) / 2 with the Tanh kernel's
 * tanh4. Clips [b0, b1).
 */
static inline __attribute__((always_inline)) v128_t tatt_gate(const f32 *restrict x, int m, long t, v128_t (*get)(const f32 *)) {
  v128_t sum = get(x), mx = sum;
  for (int i = 1; i < m; i++) {
    v128_t v = get(x + i * t);
    sum = wasm_f32x4_add(sum, v);
    mx = wasm_f32x4_max(mx, v);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_div(sum, wasm_f32x4_splat((f32)m)), mx);
  v128_t h = wasm_f32x4_splat(0.5f);
  return wasm_f32x4_add(h, wasm_f32x4_mul(h, tanh4(wasm_f32x4_mul(h, s))));
}

static inline v128_t tatt_ld(const f32 *p) { return ld(p); }
static inline v128_t tatt_ld1(const f32 *p) { return wasm_f32x4_splat(*p); }

__attribute__((export_name("tatt_fwd")))
void tatt_fwd(const f32 *restrict x, f32 *restrict out, int m, int t, int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    const f32 *xb = x + (long)b * m * t;
    f32 *ob = out + (long)b * m * t;
    int j = 0;
    for (; j + 4 <= t; j += 4) {
      v128_t a = tatt_gate(xb + j, m, t, tatt_ld);
      for (int i = 0; i < m; i++) st(ob + (long)i * t + j, wasm_f32x4_mul(a, ld(xb + (long)i * t + j)));
    }
    /* The tail columns through the same vector code (lane 0), so they round alike. */
    for (; j < t; j++) {
      v128_t a = tatt_gate(xb + j, m, t, tatt_ld1);
      for (int i = 0; i < m; i++)
        ob[(long)i * t + j] = wasm_f32x4_extract_lane(wasm_f32x4_mul(a, wasm_f32x4_splat(xb[(long)i * t + j])), 0);
    }
  }
}
