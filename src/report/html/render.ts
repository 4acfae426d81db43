import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CONFIG } from './theme.js';

/**
 * vega-lite spec -> SVG text, server-side in Node: vega's headless renderer ('none') draws the
 * scenegraph as SVG without a browser or canvas. Nothing is fetched: every spec carries its data.
 */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', loader: noLoader() });
  try {
    return xmlSafe(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * XML 1.0 forbids most control characters even as character references, and resvg refuses such an
 * SVG. Labels are escaped before they reach a spec (displayText); this is the backstop for any
 * other stored text (a machine type read from a directory name, say).
 */
const xmlSafe = (svg: string): string => svg.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '\uFFFD');

/** A loader that refuses every URL, so a spec can never make the report depend on the network. */
function noLoader(): vega.Loader {
  const refuse = (uri: string): Promise<never> =>
    Promise.reject(new Error(`the report loads nothing; a figure asked for ${uri}`));
  const loader = vega.loader();
  loader.load = refuse;
  loader.sanitize = refuse as unknown as vega.Loader['sanitize'];
  return loader;
}

/** SVG -> PNG at 2x for `--png` (resvg; text uses the system's fonts, e.g. DejaVu Sans on Debian). */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
  })
    .render()
    .asPng();
}
