export { auc, partialAuc, partialAucMcclish, rocMetrics } from './roc.js';
export { evaluate } from './evaluate.js';
export type { ScoreRow, MetricValues, EvaluateOptions, Evaluation } from './evaluate.js';
export { parseScoresCsv, readScoresCsv, checkScoreGroups } from './csv.js';
export { rocCurve, averageRoc, curveArea, thresholdAtFpr, type RocPoint } from './curve.js';
