export { compareRuns, type Comparison } from './compare.js';
export { formatComparison } from './compare-format.js';
export { paperTable, tableShape, PAUC_NOTE, type PaperTable } from './paper-table.js';
export { sweepRows, trialRow, ablationMarks, softTripleColumns, bestRow, type TrialRow } from './rows.js';
export { barChartSvg } from './chart.js';
export { exportGroups, renderExport, renderChart, type ExportFormat } from './export.js';
export { formatSweepTable } from './sweep-table.js';
export { flatten, diffKeys } from './flatten.js';
