import { SeededRandom } from '../../random/index.js';
import { canonicalJson } from '../../config/hash.js';
import { gridOf, type Param, type Point, type SearchSpec, type Space } from './space.js';
import { tpePropose, type Observation } from './tpe.js';

/**
 * The sequence of configurations a search visits. Point k is a pure function of the search spec
 * (seed included), k, and, for TPE, the values of the configurations it is allowed to see:
 *
 *   - grid: every point of the space, in key order; random: point k draws from its own generator
 *     seeded by (seed, k);
 *   - tpe: points 0..startup-1 are random; point k >= startup belongs to batch
 *     b = floor((k - startup) / batch) and sees exactly the values of points 0..startup+b*batch-1
 *     (all of them: until every one has a value, point k is not ready), plus the points of its own
 *     batch before it as pending, each lied to have the worst value seen ("constant liar").
 *
 * So the points never depend on the number of workers, on which finished first, or on a restart.
 * A point equal to an earlier one is redrawn from the same generator; a finite space smaller than
 * the requested count ends the sequence early.
 */

/** A value for point k (oriented: smaller is better), or undefined while it has none. */
export type ValueOf = (k: number) => number | undefined;

export type NextPoint = { kind: 'point'; point: Point } | { kind: 'wait'; needs: number[] } | { kind: 'end' };

const MAX_REDRAWS = 200;

function draw(p: Param, rng: SeededRandom): unknown {
  const u = rng.uniform();
  if ('loguniform' in p)
    return Math.exp(Math.log(p.loguniform[0]) + u * (Math.log(p.loguniform[1]) - Math.log(p.loguniform[0])));
  if ('uniform' in p) return p.uniform[0] + u * (p.uniform[1] - p.uniform[0]);
  if ('int' in p) return Math.min(p.int[1], p.int[0] + Math.floor(u * (p.int[1] - p.int[0] + 1)));
  return p.choice[Math.min(p.choice.length - 1, Math.floor(u * p.choice.length))];
}

export function randomPoint(space: Space, rng: SeededRandom): Point {
  return Object.fromEntries(Object.entries(space).map(([k, p]) => [k, draw(p, rng)]));
}

/** Each point's own generator: independent of every other point's draws. */
const pointRng = (seed: number, k: number): SeededRandom => new SeededRandom(seed * 1_000_003 + k * 7_919 + 101);

const pointKey = (p: Point): string => canonicalJson(p);

/** Memoises the points computed so far; recomputing gives the same points (a property test checks it). */
export class PointSequence {
  private readonly points: Point[] = [];
  private readonly keys = new Set<string>();
  private readonly grid: Point[] | null;
  private ended = false;

  constructor(private readonly spec: SearchSpec) {
    this.grid = gridOf(spec.space);
  }

  /** How many points the search will visit at most. */
  get limit(): number {
    if (this.spec.method === 'grid') return this.grid!.length;
    const n = this.spec.trials ?? 0;
    return this.grid === null ? n : Math.min(n, this.grid.length);
  }

  /** Points computed so far (0..n-1). */
  get known(): readonly Point[] {
    return this.points;
  }

  /** Point k (computing 0..k-1 first), or why it cannot be given yet. */
  at(k: number, valueOf: ValueOf): NextPoint {
    while (this.points.length <= k) {
      if (this.ended || this.points.length >= this.limit) return { kind: 'end' };
      const next = this.compute(this.points.length, valueOf);
      if (next.kind !== 'point') {
        if (next.kind === 'end') this.ended = true;
        return next;
      }
      this.points.push(next.point);
      this.keys.add(pointKey(next.point));
    }
    return { kind: 'point', point: this.points[k]! };
  }

  private compute(k: number, valueOf: ValueOf): NextPoint {
    const { spec } = this;
    if (spec.method === 'grid') return { kind: 'point', point: this.grid![k]! };
    const rng = pointRng(spec.seed, k);
    let propose = (): Point => randomPoint(spec.space, rng);
    if (spec.method === 'tpe' && k >= spec.startup) {
      const cutoff = spec.startup + Math.floor((k - spec.startup) / spec.batch) * spec.batch;
      const needs: number[] = [];
      const seen: Observation[] = [];
      for (let j = 0; j < cutoff; j++) {
        const v = valueOf(j);
        if (v === undefined || !Number.isFinite(v)) {
          // A configuration that failed or diverged has no value; it only counts once it has one.
          if (v === undefined) needs.push(j);
          continue;
        }
        seen.push({ point: this.points[j]!, value: v });
      }
      if (needs.length > 0) return { kind: 'wait', needs };
      const worst = seen.length > 0 ? Math.max(...seen.map((o) => o.value)) : 0;
      const pending = this.points.slice(cutoff, k).map((point) => ({ point, value: worst }));
      const observations = [...seen, ...pending];
      if (observations.length > 0) propose = () => tpePropose(spec.space, observations, rng);
    }
    for (let tries = 0; tries < MAX_REDRAWS; tries++) {
      const point = propose();
      if (!this.keys.has(pointKey(point))) return { kind: 'point', point };
    }
    // Only a (nearly) exhausted finite space gets here: its remaining points are taken in grid order.
    const left = this.grid?.find((p) => !this.keys.has(pointKey(p)));
    return left ? { kind: 'point', point: left } : { kind: 'end' };
  }
}
