export { loadReport } from './load.js';
export { buildReport, type Report, type ReportData, type RenderedFigure } from './build.js';
export { svgToPng, specToSvg } from './render.js';
export { faultBreakdown, severityBand, SEVERITY_BANDS, type FaultBreakdown, type FaultCell } from './faults.js';
export { rocByType, type RocSeries } from './roc.js';
export type { ReportInput, ReportRun, ReportGroup } from './types.js';
