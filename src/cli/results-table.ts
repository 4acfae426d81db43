import type { MetricTriple } from '../events/index.js';
import { TABLE2, PAPER_TYPES } from '../paper/table2.js';
import { textTable } from '../report/text-table.js';
import { pct } from '../util/format.js';

/**
 * A Table-2-shaped result: machine types x AUC / pAUC (paper's definition) / pAUC (McClish), with
 * the paper's row of the named system beside it when there is one. The paper's pAUC is McClish's.
 */
export function formatResultsTable(
  types: Record<string, MetricTriple>,
  average: MetricTriple,
  system: string | null,
): string {
  const paper = system ? TABLE2[system] : undefined;
  const names = [
    ...PAPER_TYPES.filter((t) => t in types),
    ...Object.keys(types)
      .filter((t) => !(PAPER_TYPES as readonly string[]).includes(t))
      .sort(),
  ];
  const header = ['type', 'AUC', 'pAUC', 'pAUC(McClish)', ...(paper ? [`paper AUC`, `paper pAUC(McClish)`] : [])];
  const rows = [...names.map((t) => [t, types[t]!] as const), ['average', average] as const].map(([t, m]) => [
    t,
    pct(m.auc),
    pct(m.pauc),
    pct(m.paucMcclish),
    ...(paper ? [paper[t]?.auc.toFixed(2) ?? '-', paper[t]?.pauc.toFixed(2) ?? '-'] : []),
  ]);
  const out = [textTable(header, rows)];
  if (paper) out.push(`(paper: ${system}, Table 2; its pAUC is scikit-learn's McClish-standardised one)`);
  return out.join('\n');
}
