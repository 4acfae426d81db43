import { SeededRandom } from '../../random/index.js';
import type { Param, Point, Space } from './space.js';

/**
 * Tree-structured Parzen estimator (Bergstra et al., "Algorithms for Hyper-Parameter
 * Optimization", NeurIPS 2011), univariate as Optuna's default TPESampler: each key is proposed on
 * its own. Observations are split into the best gamma(n) ("good", density l) and the rest ("bad",
 * density g); candidates are drawn from l and the one with the largest l(x)/g(x) is kept.
 * Numeric keys use a Gaussian Parzen window in the key's own scale (log for loguniform) truncated to
 * the bounds, with a prior component over the whole range; choices use smoothed counts.
 */

/** An observed point and its value, oriented so that smaller is better. */
export interface Observation {
  point: Point;
  value: number;
}

export interface TpeOptions {
  /** Candidates drawn from l per key (Optuna's default 24). */
  candidates?: number;
}

/** Hyperopt's split: the best quarter (at least one) is "good". */
export const gammaOf = (n: number): number => Math.max(1, Math.ceil(0.25 * n));

const SQRT2 = Math.SQRT2;

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough to normalise a truncated kernel. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const cdf = (x: number, mu: number, sigma: number): number => 0.5 * (1 + erf((x - mu) / (sigma * SQRT2)));

interface Numeric {
  lo: number;
  hi: number;
  toScale: (v: number) => number;
  fromScale: (t: number) => unknown;
}

function numeric(p: Param): Numeric | null {
  if ('loguniform' in p) {
    const [lo, hi] = p.loguniform;
    return {
      lo: Math.log(lo),
      hi: Math.log(hi),
      toScale: Math.log,
      fromScale: (t) => Math.min(hi, Math.max(lo, Math.exp(t))),
    };
  }
  if ('uniform' in p) {
    const [lo, hi] = p.uniform;
    return { lo, hi, toScale: (v) => v, fromScale: (t) => Math.min(hi, Math.max(lo, t)) };
  }
  if ('int' in p) {
    const [lo, hi] = p.int;
    // Each integer owns a unit interval, so the end values are as likely as the inner ones.
    return {
      lo: lo - 0.5,
      hi: hi + 0.5,
      toScale: (v) => v,
      fromScale: (t) => Math.min(hi, Math.max(lo, Math.round(t))),
    };
  }
  return null;
}

/** A truncated Gaussian mixture: the observations' kernels plus a prior over the whole range. */
class Parzen {
  readonly mus: number[];
  readonly sigmas: number[];
  private readonly norms: number[];

  constructor(
    points: number[],
    private readonly lo: number,
    private readonly hi: number,
  ) {
    const range = hi - lo;
    const mus = [...points, (lo + hi) / 2];
    const order = points.map((_, i) => i).sort((a, b) => points[a]! - points[b]!);
    const sigmas = new Array<number>(mus.length).fill(range);
    const minSigma = range / Math.min(100, 1 + points.length);
    // Optuna's bandwidth: the larger gap to a sorted neighbour (the bounds at the ends), clipped.
    order.forEach((idx, r) => {
      const left = r === 0 ? lo : points[order[r - 1]!]!;
      const right = r === order.length - 1 ? hi : points[order[r + 1]!]!;
      const x = points[idx]!;
      sigmas[idx] = Math.min(range, Math.max(minSigma, x - left, right - x));
    });
    this.mus = mus;
    this.sigmas = sigmas;
    this.norms = mus.map((m, i) => Math.max(1e-12, cdf(hi, m, sigmas[i]!) - cdf(lo, m, sigmas[i]!)));
  }

  logPdf(x: number): number {
    let sum = 0;
    for (let i = 0; i < this.mus.length; i++) {
      const z = (x - this.mus[i]!) / this.sigmas[i]!;
      sum += Math.exp(-0.5 * z * z) / (this.sigmas[i]! * Math.sqrt(2 * Math.PI) * this.norms[i]!);
    }
    return Math.log(sum / this.mus.length + 1e-300);
  }

  sample(rng: SeededRandom): number {
    const i = Math.min(this.mus.length - 1, Math.floor(rng.uniform() * this.mus.length));
    for (let tries = 0; tries < 100; tries++) {
      const x = this.mus[i]! + this.sigmas[i]! * rng.normal();
      if (x >= this.lo && x <= this.hi) return x;
    }
    return Math.min(this.hi, Math.max(this.lo, this.mus[i]!));
  }
}

/** Equal-valued choices are one category (compared by their JSON text). */
const key = (v: unknown): string => JSON.stringify(v);

function proposeChoice(
  values: unknown[],
  good: unknown[],
  bad: unknown[],
  rng: SeededRandom,
  candidates: number,
): unknown {
  const weights = (seen: unknown[]): number[] => values.map((v) => seen.filter((s) => key(s) === key(v)).length + 1);
  const wl = weights(good);
  const wg = weights(bad);
  const sl = wl.reduce((a, b) => a + b, 0);
  const sg = wg.reduce((a, b) => a + b, 0);
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    let u = rng.uniform() * sl;
    let i = 0;
    while (i < values.length - 1 && u >= wl[i]!) u -= wl[i++]!;
    const score = Math.log(wl[i]! / sl) - Math.log(wg[i]! / sg);
    if (score > bestScore) [best, bestScore] = [i, score];
  }
  return values[best];
}

function proposeNumeric(n: Numeric, good: number[], bad: number[], rng: SeededRandom, candidates: number): unknown {
  const l = new Parzen(good, n.lo, n.hi);
  const g = new Parzen(bad, n.lo, n.hi);
  let best = l.sample(rng);
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const x = c === 0 ? best : l.sample(rng);
    const score = l.logPdf(x) - g.logPdf(x);
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return n.fromScale(best);
}

/**
 * One TPE proposal from `observations` (smaller value = better). Ties in value are broken by
 * position in the list, so the same observations in the same order give the same split.
 */
export function tpePropose(
  space: Space,
  observations: readonly Observation[],
  rng: SeededRandom,
  opts: TpeOptions = {},
): Point {
  const candidates = opts.candidates ?? 24;
  const ranked = observations
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.value - b.o.value || a.i - b.i)
    .map((x) => x.o);
  const nGood = gammaOf(ranked.length);
  const good = ranked.slice(0, nGood);
  const bad = ranked.slice(nGood);
  const point: Point = {};
  for (const [k, p] of Object.entries(space)) {
    const num = numeric(p);
    if (num === null) {
      point[k] = proposeChoice(
        (p as { choice: unknown[] }).choice,
        good.map((o) => o.point[k]),
        bad.map((o) => o.point[k]),
        rng,
        candidates,
      );
    } else {
      const scaled = (os: Observation[]) => os.map((o) => num.toScale(o.point[k] as number)).filter(Number.isFinite);
      point[k] = proposeNumeric(num, scaled(good), scaled(bad), rng, candidates);
    }
  }
  return point;
}
