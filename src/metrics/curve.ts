import { UserError } from '../util/errors.js';

/** One point of an ROC curve (both coordinates in [0, 1]). */
export interface RocPoint {
  fpr: number;
  tpr: number;
}

/**
 * The ROC curve the AUC / pAUC of roc.ts integrate (§3.1): (0, 0), then one point per distinct
 * threshold from the highest score down, ending at (1, 1); label 1 = anomaly. Consecutive points
 * are joined by straight lines, so a tie between an anomaly and a normal is a diagonal segment.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocPoint[] {
  if (labels.length !== scores.length)
    throw new UserError(`rocCurve: labels and scores differ in length (${labels.length} vs ${scores.length})`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!))
      throw new UserError(`rocCurve: scores must be finite numbers; scores[${i}] is ${scores[i]}`);
  }
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const nP = order.reduce((n, i) => n + (labels[i] === 1 ? 1 : 0), 0);
  const nN = labels.length - nP;
  if (nP === 0 || nN === 0) throw new UserError(`rocCurve: needs both classes, got ${nP} anomalies and ${nN} normals`);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) points.push({ fpr: fp / nN, tpr: tp / nP });
  }
  return points;
}

/** The curve's TPR just before (`low`) and just after (`high`) FPR = f; they differ at a vertical step. */
function tprAt(curve: RocPoint[], f: number): { low: number; high: number } {
  let low = Number.NaN;
  let high = Number.NaN;
  for (let k = 0; k < curve.length; k++) {
    const p = curve[k]!;
    if (p.fpr === f) {
      if (Number.isNaN(low)) low = p.tpr;
      high = p.tpr;
    } else if (k > 0 && curve[k - 1]!.fpr < f && f < p.fpr) {
      const q = curve[k - 1]!;
      low = high = q.tpr + ((p.tpr - q.tpr) * (f - q.fpr)) / (p.fpr - q.fpr);
    }
  }
  return { low, high };
}

/**
 * Vertical average of ROC curves: the mean TPR at every FPR (Fawcett 2006, §8). The area under it
 * is the mean of the curves' areas (the area is linear in the curve), so the average of a machine
 * type's per-ID curves has exactly the type's AUC and pAUC as the paper averages them (§3.1: per
 * ID, then the mean over IDs). One curve comes back unchanged.
 */
export function averageRoc(curves: RocPoint[][]): RocPoint[] {
  if (curves.length === 0) throw new UserError('averageRoc: no curves');
  if (curves.length === 1) return curves[0]!.map((p) => ({ ...p }));
  const fprs = [...new Set(curves.flatMap((c) => c.map((p) => p.fpr)))].sort((a, b) => a - b);
  const out: RocPoint[] = [];
  for (const f of fprs) {
    const at = curves.map((c) => tprAt(c, f));
    const low = at.reduce((s, t) => s + t.low, 0) / curves.length;
    const high = at.reduce((s, t) => s + t.high, 0) / curves.length;
    out.push({ fpr: f, tpr: low });
    if (high !== low) out.push({ fpr: f, tpr: high });
  }
  return out;
}

/** Area under a piecewise-linear curve over FPR in [0, maxFpr] (trapezoids, the last one cut). */
export function curveArea(curve: RocPoint[], maxFpr = 1): number {
  let area = 0;
  for (let k = 1; k < curve.length; k++) {
    const a = curve[k - 1]!;
    const b = curve[k]!;
    if (a.fpr >= maxFpr) break;
    const x = Math.min(b.fpr, maxFpr);
    const y = b.fpr === a.fpr ? b.tpr : a.tpr + ((b.tpr - a.tpr) * (x - a.fpr)) / (b.fpr - a.fpr);
    area += ((x - a.fpr) * (a.tpr + y)) / 2;
  }
  return area;
}

/**
 * The decision threshold at a target false-positive rate: a clip is flagged anomalous when its
 * score is strictly above it. It is the lowest such threshold whose FPR on these normal scores is
 * at most `maxFpr` (so it flags the most anomalies at that FPR): the (floor(maxFpr * n) + 1)-th
 * highest normal score, or -Infinity when every normal may be flagged.
 */
export function thresholdAtFpr(normalScores: ArrayLike<number>, maxFpr: number): number {
  if (normalScores.length === 0) throw new UserError('thresholdAtFpr: no normal scores');
  if (!(maxFpr >= 0 && maxFpr <= 1)) throw new UserError(`thresholdAtFpr: maxFpr must be in [0, 1], got ${maxFpr}`);
  const sorted = Float64Array.from(normalScores).sort().reverse();
  // The epsilon keeps a product that should be whole but rounds just below it (p * n) from losing one.
  const k = Math.floor(maxFpr * sorted.length + 1e-9);
  return k < sorted.length ? sorted[k]! : Number.NEGATIVE_INFINITY;
}
