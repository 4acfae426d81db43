import type { Config } from 'vega-lite';

/**
 * Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008), yellow last because it
 * is faint on white. Series beyond eight reuse colours, so legends also carry the names.
 */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];

/** Normal vs anomalous: blue and vermillion, the pair Okabe & Ito suggest for two classes. */
export const CLASS_COLOURS = { normal: '#0072B2', anomalous: '#D55E00' } as const;

/** Fonts a browser has and resvg finds on a Linux machine (DejaVu) for --png. */
export const FONT = 'Helvetica, Arial, "DejaVu Sans", sans-serif';

/**
 * Without a canvas, vega sizes text by an estimate (0.8 x font size per character), which is wider
 * than real text: label limits are generous so no legend entry is cut to '…'.
 */
export const CONFIG: Config = {
  font: FONT,
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 1200, symbolStrokeWidth: 3 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' },
  range: { category: PALETTE },
  view: { stroke: '#ccc' },
};

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The colour of the i-th run of a group, the same in every figure. */
export const runColour = (i: number): string => PALETTE[i % PALETTE.length]!;
