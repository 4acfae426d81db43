import type { MetricTriple } from '../../events/index.js';
import { displayText } from '../../util/names.js';

/** A fraction as a percentage with two decimals ('-' when missing), as the paper's tables print it. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(2);

/** The legend text of one curve: the three ROC numbers in %. */
export const metricText = (m: MetricTriple | undefined | null): string =>
  m ? `AUC ${pct(m.auc)} · pAUC ${pct(m.pauc)} · pAUC(McClish) ${pct(m.paucMcclish)}` : 'no stored metrics';

/** A file-name-safe form of a label, for figure names; short enough for any file system (names may be 256 characters). */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .slice(0, 80)
    .replace(/^-+|-+$/g, '') || 'x';

/** Text for HTML: control characters (not allowed in HTML or XML) shown escaped, then the markup characters. */
export const escapeHtml = (s: string): string =>
  displayText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
