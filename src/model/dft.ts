import * as tf from '@tensorflow/tfjs';
import { dftFold, dftGlueAvailable, dftMirror } from '../backend/kernels/dft-glue.js';

/**
 * The 2-D DFT of SpecNet (§2.1.4) as real matrix products. tfjs has no gradient through
 * tf.spectral, and the map sizes (128 and T = 313) are not powers of two anyway; a DFT written
 * as products with the cos / sin matrices is exact, differentiable, and runs as plain matmuls
 * (2-D ones: no batched matmul, which is slow on wasm), with the gradients tfjs derives.
 * W_N[k, n] = exp(-2 pi i k n / N) = C_N - i S_N; C and S are symmetric, and
 * C[N - k, n] = C[k, n], S[N - k, n] = -S[k, n] (cos even, sin odd, period N). Two standard
 * consequences halve every product against the four full complex ones per axis:
 * - a real input's DFT is conjugate-symmetric, F[-k, -l] = conj(F[k, l]): the time axis needs
 *   only the Th = floor(T / 2) + 1 first frequencies, the rest are mirrored;
 * - the real part of an inverse sums the (l, T - l) pairs first ("folds" the time axis): the
 *   products then run over Th rows of the matrices only, in the forward pass and in its gradient.
 * The spectrum is held time-major ([B, T, M]: rows of the mel-axis products); dft2Real and
 * idft2Real keep the mel-major [B, M, T] view for callers that want it.
 */

export interface DftMatrices {
  n: number;
  /** C[k, n] = cos(2 pi k n / N) */
  cos: tf.Tensor2D;
  /** S[k, n] = sin(2 pi k n / N) */
  sin: tf.Tensor2D;
}

/**
 * cos and sin of 2 pi r / N for r = 0..N-1, each computed once for r <= N / 2 and mirrored, so
 * the symmetries above hold exactly in the float tables (sin 0 = sin pi = 0 exactly); the index
 * k j is reduced mod N in integers, so the angle stays small and float64 trig is exact to 1 ulp.
 */
function tables(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let r = 0; 2 * r <= n; r++) {
    const a = (2 * Math.PI * r) / n;
    cos[r] = Math.cos(a);
    sin[r] = r === 0 || 2 * r === n ? 0 : Math.sin(a);
    if (r > 0) {
      cos[n - r] = cos[r]!;
      sin[n - r] = -sin[r]!;
    }
  }
  return { cos, sin };
}

/**
 * A [rows, cols] float32 matrix of blocks side by side and stacked: block (i, j) is
 * sign * table[(k j) mod N] over rows k0.., cols j0.. (a block of C or S), times `scale`.
 */
interface Block {
  trig: 'cos' | 'sin';
  sign: 1 | -1;
  /** first row and column index into the N x N matrix */
  k0?: number;
  rows: number;
  cols: number;
}

function blockMatrix(n: number, grid: Block[][], scale = 1): tf.Tensor2D {
  const tab = tables(n);
  const rows = grid.reduce((s, row) => s + row[0]!.rows, 0);
  const cols = grid[0]!.reduce((s, b) => s + b.cols, 0);
  const out = new Float32Array(rows * cols);
  let r0 = 0;
  for (const row of grid) {
    let c0 = 0;
    for (const b of row) {
      const t = tab[b.trig];
      for (let i = 0; i < b.rows; i++) {
        const k = (b.k0 ?? 0) + i;
        for (let j = 0; j < b.cols; j++) out[(r0 + i) * cols + c0 + j] = b.sign * scale * t[(k * j) % n]!;
      }
      c0 += b.cols;
    }
    r0 += row[0]!.rows;
  }
  return tf.keep(tf.tensor2d(out, [rows, cols]));
}

const kept = new Map<string, tf.Tensor2D>();

/** A matrix built once per key and kept for the life of the process. */
function cached(key: string, build: () => tf.Tensor2D): tf.Tensor2D {
  let m = kept.get(key);
  if (!m) {
    m = tf.tidy(build);
    kept.set(key, m);
  }
  return m;
}

/** floor(N / 2) + 1: the frequencies 0..N/2 that determine a real sequence's DFT. */
export function halfLength(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The full DFT matrices of size n (symmetric and period-symmetric exactly), kept for the process. */
export function dftMatrices(n: number): DftMatrices {
  const full = (trig: 'cos' | 'sin') =>
    cached(`${trig}${n}`, () => blockMatrix(n, [[{ trig, sign: 1, rows: n, cols: n }]]));
  return { n, cos: full('cos'), sin: full('sin') };
}

/** [T, 2 Th]: the first Th columns of C_T, then of S_T (a real row's half spectrum, (Re, -Im)). */
function forwardTime(t: number): tf.Tensor2D {
  const th = halfLength(t);
  const half = (trig: 'cos' | 'sin'): Block => ({ trig, sign: 1, rows: t, cols: th });
  return cached(`ft${t}`, () => blockMatrix(t, [[half('cos'), half('sin')]]));
}

/** [M, 2M]: C_M then S_M. */
function melPair(m: number): tf.Tensor2D {
  const full = (trig: 'cos' | 'sin'): Block => ({ trig, sign: 1, rows: m, cols: m });
  return cached(`mp${m}`, () => blockMatrix(m, [[full('cos'), full('sin')]]));
}

/** [2M, M]: C_M over -S_M, the mel axis of conj(W_M) Z's real part for rows [Zr | Zi]. */
function inverseMel(m: number): tf.Tensor2D {
  const b = (trig: 'cos' | 'sin', sign: 1 | -1): Block[] => [{ trig, sign, rows: m, cols: m }];
  return cached(`im${m}`, () => blockMatrix(m, [b('cos', 1), b('sin', -1)]));
}

/** [2 Th, T]: the first Th rows of C_T over those of -S_T, divided by M T (the inverse's scale). */
function inverseTime(m: number, t: number): tf.Tensor2D {
  const th = halfLength(t);
  const b = (trig: 'cos' | 'sin', sign: 1 | -1): Block[] => [{ trig, sign, rows: th, cols: t }];
  return cached(`it${m}x${t}`, () => blockMatrix(t, [b('cos', 1), b('sin', -1)], 1 / (m * t)));
}

export interface Complex3D {
  re: tf.Tensor3D;
  im: tf.Tensor3D;
}

/**
 * F^ = W_M X W_T for a real batch x [B, M, T], returned time-major ([B, T, M] per part).
 * The time axis first, on the real input, for the Th non-redundant frequencies only:
 * P = X W_T = X C - i X S; then the mel axis, F = W_M P = (C Pr + S Pi) + i (C Pi - S Pr),
 * as one product of [Pr; Q] (Q = -Pi = X S, mel last) with [C_M | S_M]. The other T - Th
 * frequencies follow from F[k, T - l] = sum_m W_M[k, m] conj(P[m, l]) = (C Pr - S Pi) - i (C Pi + S Pr),
 * sums and differences of the same four products, mirrored along time.
 * Products: B M T 2Th + B 2Th M 2M multiply-adds (2 B M T (T + M) for the four full products per axis).
 */
export function dft2RealTimeMajor(x: tf.Tensor3D): Complex3D {
  return tf.tidy(() => {
    const [b, m, t] = x.shape;
    const th = halfLength(t);
    const q = tf.matMul(x.reshape([b * m, t]), forwardTime(t)).reshape([b, m, 2 * th]);
    const r = tf.matMul(tf.transpose(q, [0, 2, 1]).reshape([b * 2 * th, m]), melPair(m)).reshape([b, 2 * th, 2 * m]);
    if (dftGlueAvailable(r)) return dftMirror(r as tf.Tensor3D, t);
    const part = (row: number, col: number) => tf.slice(r, [0, row, col], [b, th, m]);
    const [cPr, sPr, cQ, sQ] = [part(0, 0), part(0, m), part(th, 0), part(th, m)];
    // Frequencies T - l for l = 1..T - Th, i.e. rows Th..T-1 = rows T-Th..1 reversed.
    const tm = t - th;
    const mirror = (top: tf.Tensor, bottom: () => tf.Tensor) =>
      tm === 0 ? top : tf.concat([top, tf.reverse(tf.slice(bottom(), [0, 1, 0], [b, tm, m]), 1)], 1);
    const re = mirror(tf.sub(cPr, sQ), () => tf.add(cPr, sQ));
    const im = mirror(tf.neg(tf.add(cQ, sPr)), () => tf.sub(cQ, sPr));
    return { re: re as tf.Tensor3D, im: im as tf.Tensor3D };
  });
}

/**
 * u [B, 2, Th, 2M] = [fold+(Zr) | fold+(Zi)] over [fold-(Zi) | -fold-(Zr)] for a time-major Z,
 * fold+-(Y)[l] = Y[l] +- Y[T - l] for 1 <= l <= T - Th (rows 0 and T / 2 are their own mirrors):
 * the second half is the first's for -i Z, so one product with [C_M; -S_M] gives both parts.
 * On wasm one kernel (src/backend/kernels/dft-glue.ts, same operations).
 */
function foldTime(zr: tf.Tensor3D, zi: tf.Tensor3D): tf.Tensor4D {
  if (dftGlueAvailable(zr, zi)) return dftFold(zr, zi);
  const [b, t, m] = zr.shape;
  const th = halfLength(t);
  const tm = t - th;
  const zc = tf.concat([zr, zi], 2);
  let plus = tf.slice(zc, [0, 0, 0], [b, th, 2 * m]);
  let minus = plus;
  if (tm > 0) {
    // Row l of `tail` is Z[T - l] for 1 <= l <= T - Th, zero on rows 0 (and T / 2 for even T).
    const tail = tf.pad(tf.reverse(tf.slice(zc, [0, th, 0], [b, tm, 2 * m]), 1), [
      [0, 0],
      [1, th - 1 - tm],
      [0, 0],
    ]);
    [plus, minus] = [tf.add(plus, tail), tf.sub(plus, tail)];
  }
  const part = (x: tf.Tensor, col: number) => tf.slice(x, [0, 0, col], [b, th, m]);
  const swapped = tf.concat([part(minus, m), tf.neg(part(minus, 0))], 2);
  return tf.stack([plus, swapped], 1) as tf.Tensor4D;
}

/**
 * real(IDFT2(Z)) = real(conj(W_M) Z conj(W_T)) / (M T) for a time-major Z ([B, T, M] per part),
 * returned mel-major [B, M, T]. With A = conj(W_M) Z (the mel axis), the result is
 * Ar C_T - Ai S_T, a sum over the time index l; C_T's rows l and T - l are equal and S_T's
 * opposite, so it sums over l < Th of fold+(Ar) C_T - fold-(Ai) S_T with
 * fold+-(Y)[l] = Y[l] +- Y[T - l] (1 <= l <= T - Th; rows 0 and T / 2 are their own mirrors).
 * The folds commute with the mel axis, so Z is folded first and both axes run on Th rows:
 * fold+(Ar) = [fold+(Zr) | fold+(Zi)] [C_M; -S_M], fold-(Ai) = [fold-(Zi) | -fold-(Zr)] [C_M; -S_M].
 * Products: 2 B Th 2M M + B M 2Th T multiply-adds. Their gradients are the same sizes (the
 * transposed half matrices), and a fold's gradient is the matching mirror.
 */
export function idft2RealTimeMajor(z: Complex3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t, m] = z.re.shape;
    const th = halfLength(t);
    const u = foldTime(z.re, z.im);
    // Per batch: Th rows of fold+(Ar), then Th of fold-(Ai); mel-major for the time axis.
    const a = tf.matMul(u.reshape([b * 2 * th, 2 * m]), inverseMel(m)).reshape([b, 2 * th, m]);
    const at = tf.transpose(a, [0, 2, 1]).reshape([b * m, 2 * th]);
    return tf.matMul(at, inverseTime(m, t)).reshape([b, m, t]) as tf.Tensor3D;
  });
}

const swap = (x: tf.Tensor3D) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;

/** F^ = W_M X W_T for a real batch x [B, M, T] (mel-major, [B, M, T] per part). */
export function dft2Real(x: tf.Tensor3D): Complex3D {
  return tf.tidy(() => {
    const f = dft2RealTimeMajor(x);
    return { re: swap(f.re), im: swap(f.im) };
  });
}

/** real(IDFT2(Z)) = real(conj(W_M) Z conj(W_T)) / (M T) for Z [B, M, T] given as (re, im). */
export function idft2Real(z: Complex3D): tf.Tensor3D {
  return tf.tidy(() => idft2RealTimeMajor({ re: swap(z.re), im: swap(z.im) }));
}
