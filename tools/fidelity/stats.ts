/**
 * Paired comparison of two systems over seeds: mean, sample standard deviation, and the mean
 * paired difference with its two-sided confidence interval from Student's t distribution.
 */

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1); NaN for fewer than two values. */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes' betacf). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Student's t cumulative distribution function with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  // For t^2 small against df, x = df / (df + t^2) rounds to 1 and the tail to exactly 1/2 (at
  // df = 1 the cdf then misses t / pi: 1e-9 at |t| = 3e-9). There the complementary form
  // I_x(a, b) = 1 - I_{1-x}(b, a), with 1 - x = t^2 / (df + t^2) computed directly, keeps t's digits.
  const t2 = t * t;
  const tail =
    t2 < df
      ? 0.5 - 0.5 * incompleteBeta(t2 / (df + t2), 0.5, df / 2)
      : 0.5 * incompleteBeta(df / (df + t2), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on tCdf, to 1e-12). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`tQuantile: need 0 < p < 1 and df > 0, got ${p}, ${df}`);
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedDifference {
  n: number;
  /** Mean of a - b over the pairs. */
  mean: number;
  sd: number;
  /** Two-sided confidence interval of the mean difference. */
  ci: [number, number];
  t: number;
  /** Two-sided p-value of the paired t test. */
  p: number;
  /** Pairs where a > b. */
  aAhead: number;
}

/** Paired t analysis of a - b (same seeds, same data): mean, CI at `level`, t and p. */
export function pairedDifference(a: readonly number[], b: readonly number[], level = 0.95): PairedDifference {
  if (a.length !== b.length || a.length < 2)
    throw new RangeError('pairedDifference: need two equal-length lists of >= 2');
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const m = mean(d);
  const s = sd(d);
  const se = s / Math.sqrt(n);
  const q = tQuantile(1 - (1 - level) / 2, n - 1);
  const t = m / se;
  return {
    n,
    mean: m,
    sd: s,
    ci: [m - q * se, m + q * se],
    t,
    p: 2 * (1 - tCdf(Math.abs(t), n - 1)),
    aAhead: d.filter((x) => x > 0).length,
  };
}
