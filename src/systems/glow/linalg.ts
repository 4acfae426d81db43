/**
 * Small dense linear algebra in plain JS for the flow's invertible 1x1 convolutions (C <= a few
 * dozen channels): tfjs has no determinant or inverse. Row-major C x C Float64Arrays.
 */

/** LU with partial pivoting: log|det A| and the inverse (Gauss-Jordan). Throws when A is singular. */
export function logAbsDetAndInverse(a: ArrayLike<number>, n: number): { logAbsDet: number; inverse: Float64Array } {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  let logAbsDet = 0;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    const p = m[pivot * n + col]!;
    if (p === 0 || !Number.isFinite(p))
      throw new Error('invertible 1x1 convolution: the weight matrix became singular');
    if (pivot !== col)
      for (const mat of [m, inv])
        for (let k = 0; k < n; k++) [mat[col * n + k], mat[pivot * n + k]] = [mat[pivot * n + k]!, mat[col * n + k]!];
    logAbsDet += Math.log(Math.abs(p));
    for (let k = 0; k < n; k++) {
      m[col * n + k]! /= p;
      inv[col * n + k]! /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col]!;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k]! -= f * m[col * n + k]!;
        inv[r * n + k]! -= f * inv[col * n + k]!;
      }
    }
  }
  return { logAbsDet, inverse: inv };
}

/** A random orthogonal matrix (Gram-Schmidt on normal draws), Glow's initial 1x1 conv weight. */
export function randomOrthogonal(n: number, normal: () => number): Float32Array {
  const q = Array.from({ length: n }, () => Array.from({ length: n }, normal));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const d = q[i]!.reduce((s, v, k) => s + v * q[j]![k]!, 0);
      q[i] = q[i]!.map((v, k) => v - d * q[j]![k]!);
    }
    const norm = Math.sqrt(q[i]!.reduce((s, v) => s + v * v, 0));
    q[i] = q[i]!.map((v) => v / norm);
  }
  return Float32Array.from(q.flat());
}
