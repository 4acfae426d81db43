import { escapeHtml } from './format.js';

/** The report's stylesheet: inline, so the file opens from disk with nothing else. */
const STYLE = `
body { font-family: Helvetica, Arial, "DejaVu Sans", sans-serif; margin: 24px auto; max-width: 1500px; padding: 0 24px; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 20px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; margin-top: 40px; }
h3 { font-size: 16px; margin-top: 28px; }
.meta, .caption, .note, figcaption { color: #444; font-size: 13px; }
.warn { color: #8a4b00; font-size: 13px; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; padding: 8px; border: 1px solid #e3e3e3; border-radius: 4px; background: white; max-width: 100%; overflow-x: auto; }
figure.wide { flex-basis: 100%; }
figcaption { max-width: 640px; margin-top: 6px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
table.data th, table.data td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; white-space: nowrap; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
table.data tr.best td { font-weight: bold; }
table.provenance { font-size: 12px; }
nav ul { columns: 2; font-size: 13px; }
`;

export interface Section {
  id: string;
  title: string;
  level: 2 | 3;
  html: string;
}

/** One figure: the SVG inline, then its caption. */
export function figureHtml(f: { name: string; title: string; caption: string; svg: string }, wide = false): string {
  return `<figure class="figure${wide ? ' wide' : ''}" id="fig-${escapeHtml(f.name)}" data-figure="${escapeHtml(f.name)}">${f.svg}<figcaption><b>${escapeHtml(f.title)}.</b> ${escapeHtml(f.caption)}</figcaption></figure>`;
}

/** JSON inside <script type="application/json"> must not contain "</script": escape every '<'. */
const inlineJson = (data: unknown): string => JSON.stringify(data).replace(/</g, '\\u003c');

export function pageHtml(opts: { title: string; meta: string[]; sections: Section[]; data: unknown }): string {
  const toc = opts.sections
    .filter((s) => s.level === 2)
    .map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`);
  const body = opts.sections.map((s) => `<h${s.level} id="${s.id}">${escapeHtml(s.title)}</h${s.level}>\n${s.html}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(opts.title)}</h1>
${opts.meta.map((m) => `<p class="meta">${escapeHtml(m)}</p>`).join('\n')}
<nav><ul>${toc.join('')}</ul></nav>
${body.join('\n')}
<script type="application/json" id="exp-report-data">${inlineJson(opts.data)}</script>
</body>
</html>
`;
}
