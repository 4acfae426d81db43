import { UserError } from '../util/errors.js';

/**
 * ROC-based detection metrics (§3.1). Label 1 = anomaly (positive), higher score = more anomalous.
 * Everything is O(n log n): the scores of each class are sorted once (native typed-array sort),
 * then one merge walk over distinct thresholds traces the ROC.
 */

/** The scores split by class, each sorted descending. */
interface SortedScores {
  pos: Float64Array;
  neg: Float64Array;
}

function split(labels: ArrayLike<number>, scores: ArrayLike<number>, fn: string): SortedScores {
  if (labels.length !== scores.length) {
    throw new UserError(`${fn}: labels and scores differ in length (${labels.length} vs ${scores.length})`);
  }
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y === 1) nPos++;
    else if (y !== 0) throw new UserError(`${fn}: labels must be 0 (normal) or 1 (anomaly); labels[${i}] is ${y}`);
    if (!Number.isFinite(scores[i]!))
      throw new UserError(`${fn}: scores must be finite numbers; scores[${i}] is ${scores[i]}`);
  }
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new UserError(`${fn}: needs both classes, got ${nPos} anomalies (label 1) and ${nNeg} normals (label 0)`);
  }
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  for (let i = 0, p = 0, q = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[p++] = scores[i]!;
    else neg[q++] = scores[i]!;
  }
  // Typed-array sort is numeric ascending; walk from the end for descending order.
  pos.sort();
  neg.sort();
  return { pos, neg };
}

/**
 * Area under the ROC curve over FPR in [0, maxFpr], in units of FPR x TPR (so at most maxFpr).
 * The ROC joins the points of successive distinct thresholds by straight lines, so a tie between
 * an anomaly and a normal counts 1/2; the last segment is cut at FPR = maxFpr by interpolation.
 */
function rawPartialArea({ pos, neg }: SortedScores, maxFpr: number): number {
  const nP = pos.length;
  const nN = neg.length;
  const fpLimit = maxFpr * nN; // in counts of normals; need not be whole
  let i = nP - 1;
  let j = nN - 1;
  let tp = 0;
  let fp = 0;
  let area = 0; // in count units: sum over segments of d(fp) * mean(tp)
  while (fp < fpLimit && (i >= 0 || j >= 0)) {
    // Next threshold: the largest score not yet passed.
    const t = j < 0 ? pos[i]! : i < 0 ? neg[j]! : Math.max(pos[i]!, neg[j]!);
    let dTp = 0;
    let dFp = 0;
    while (i >= 0 && pos[i] === t) {
      i--;
      dTp++;
    }
    while (j >= 0 && neg[j] === t) {
      j--;
      dFp++;
    }
    if (fp + dFp <= fpLimit) {
      area += dFp * (tp + dTp / 2);
    } else {
      const f = (fpLimit - fp) / dFp; // fraction of this segment left of the cut
      area += (fpLimit - fp) * (tp + (f * dTp) / 2);
    }
    tp += dTp;
    fp += dFp;
  }
  return area / (nP * nN);
}

function checkMaxFpr(fn: string, maxFpr: number): void {
  if (!(maxFpr > 0 && maxFpr <= 1)) throw new UserError(`${fn}: maxFpr must be in (0, 1], got ${maxFpr}`);
}

/** AUC: P(score of an anomaly > score of a normal), ties counting 1/2. */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  return rawPartialArea(split(labels, scores, 'auc'), 1);
}

/**
 * pAUC as the paper defines it (§3.1, the DCASE 2020 Task 2 definition): the area of the ROC over
 * FPR in [0, maxFpr] divided by maxFpr, in [0, 1]. Ties follow the ROC's straight segments (1/2).
 * (DCASE writes it as a rank sum over the top floor(p * N) normals; the area form is the same
 * when p * N is whole and interpolates otherwise.)
 */
export function partialAuc(labels: ArrayLike<number>, scores: ArrayLike<number>, maxFpr = 0.1): number {
  checkMaxFpr('partialAuc', maxFpr);
  return rawPartialArea(split(labels, scores, 'partialAuc'), maxFpr) / maxFpr;
}

/**
 * pAUC as scikit-learn's roc_auc_score(y, s, max_fpr = p) returns it, the value every reference
 * code (and so every published number, Table 2) uses: McClish's standardisation
 * 0.5 * (1 + (A - p^2/2) / (p - p^2/2)) of the raw partial area A. 0.5 = chance, 1 = perfect.
 */
export function partialAucMcclish(labels: ArrayLike<number>, scores: ArrayLike<number>, maxFpr = 0.1): number {
  checkMaxFpr('partialAucMcclish', maxFpr);
  const a = rawPartialArea(split(labels, scores, 'partialAucMcclish'), maxFpr);
  if (maxFpr === 1) return a; // sklearn returns the plain AUC for max_fpr = 1
  const minArea = (maxFpr * maxFpr) / 2;
  return 0.5 * (1 + (a - minArea) / (maxFpr - minArea));
}

/** All three from one sort. */
export function rocMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  maxFpr = 0.1,
): { auc: number; pauc: number; paucMcclish: number } {
  checkMaxFpr('rocMetrics', maxFpr);
  const s = split(labels, scores, 'rocMetrics');
  const a = rawPartialArea(s, maxFpr);
  const minArea = (maxFpr * maxFpr) / 2;
  return {
    auc: rawPartialArea(s, 1),
    pauc: a / maxFpr,
    paucMcclish: maxFpr === 1 ? a : 0.5 * (1 + (a - minArea) / (maxFpr - minArea)),
  };
}
