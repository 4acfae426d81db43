import * as tf from '@tensorflow/tfjs';

/**
 * The 2-D DFT of SpecNet (§2.1.4) as real matrix products. tfjs has no gradient through
 * tf.spectral, and the map sizes (128 and T = 313) are not powers of two anyway; a DFT written
 * as products with the cos / sin matrices is exact, differentiable, and runs as plain matmuls.
 * W_N[k, n] = exp(-2 pi i k n / N) = C_N - i S_N; both C and S are symmetric.
 * Every product below is a 2-D [rows, N] x [N, N] matmul (no batched matmul, which is slow on wasm).
 */

export interface DftMatrices {
  n: number;
  /** C[k, n] = cos(2 pi k n / N) */
  cos: tf.Tensor2D;
  /** S[k, n] = sin(2 pi k n / N) */
  sin: tf.Tensor2D;
}

const cache = new Map<number, DftMatrices>();

/** The DFT matrices of size n, built once per size and kept for the life of the process. */
export function dftMatrices(n: number): DftMatrices {
  let m = cache.get(n);
  if (!m) {
    const c = new Float32Array(n * n);
    const s = new Float32Array(n * n);
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < n; j++) {
        // Reduce k*j mod n in integers first: the angle stays small, so float64 trig is exact to 1 ulp.
        const a = (2 * Math.PI * ((k * j) % n)) / n;
        c[k * n + j] = Math.cos(a);
        s[k * n + j] = Math.sin(a);
      }
    }
    m = { n, cos: tf.keep(tf.tensor2d(c, [n, n])), sin: tf.keep(tf.tensor2d(s, [n, n])) };
    cache.set(n, m);
  }
  return m;
}

export interface Complex3D {
  re: tf.Tensor3D;
  im: tf.Tensor3D;
}

/** [B, M, T] -> [B*T, M] (mel axis last, for right-multiplication by the M-point matrices). */
function melLast(x: tf.Tensor3D): tf.Tensor2D {
  const [b, m, t] = x.shape;
  return tf.transpose(x, [0, 2, 1]).reshape([b * t, m]);
}

/** [B*T, M] -> [B, M, T] */
function melBack(x: tf.Tensor2D, b: number, m: number, t: number): tf.Tensor3D {
  return tf.transpose(x.reshape([b, t, m]), [0, 2, 1]) as tf.Tensor3D;
}

/** F^ = W_M X W_T for a real batch x [B, M, T] (mel axis, then time axis). */
export function dft2Real(x: tf.Tensor3D): Complex3D {
  return tf.tidy(() => {
    const [b, m, t] = x.shape;
    const wm = dftMatrices(m);
    const wt = dftMatrices(t);
    // Mel axis: P = W_M X = C_M X - i S_M X (computed transposed, C and S being symmetric).
    const xt = melLast(x);
    const pr = melBack(tf.matMul<tf.Tensor2D>(xt, wm.cos), b, m, t).reshape([b * m, t]);
    const pi = melBack(tf.neg(tf.matMul<tf.Tensor2D>(xt, wm.sin)), b, m, t).reshape([b * m, t]);
    // Time axis: (Pr + i Pi)(C_T - i S_T) = Pr C_T + Pi S_T + i (Pi C_T - Pr S_T).
    const re = tf.add(tf.matMul(pr, wt.cos), tf.matMul(pi, wt.sin));
    const im = tf.sub(tf.matMul(pi, wt.cos), tf.matMul(pr, wt.sin));
    return { re: re.reshape([b, m, t]) as tf.Tensor3D, im: im.reshape([b, m, t]) as tf.Tensor3D };
  });
}

/** real(IDFT2(Z)) = real(conj(W_M) Z conj(W_T)) / (M T) for Z [B, M, T] given as (re, im). */
export function idft2Real(z: Complex3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, m, t] = z.re.shape;
    const wm = dftMatrices(m);
    const wt = dftMatrices(t);
    const zr = z.re.reshape([b * m, t]);
    const zi = z.im.reshape([b * m, t]);
    // Time axis: (Zr + i Zi)(C_T + i S_T) = Zr C_T - Zi S_T + i (Zr S_T + Zi C_T).
    const ar = tf.sub(tf.matMul(zr, wt.cos), tf.matMul(zi, wt.sin)).reshape([b, m, t]) as tf.Tensor3D;
    const ai = tf.add(tf.matMul(zr, wt.sin), tf.matMul(zi, wt.cos)).reshape([b, m, t]) as tf.Tensor3D;
    // Mel axis, real part only: real((C_M + i S_M)(Ar + i Ai)) = C_M Ar - S_M Ai.
    const out: tf.Tensor2D = tf.sub(tf.matMul(melLast(ar), wm.cos), tf.matMul(melLast(ai), wm.sin));
    return melBack(out.mul(1 / (m * t)), b, m, t);
  });
}
