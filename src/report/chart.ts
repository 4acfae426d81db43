import type { TrialRow } from './rows.js';
import { displayText } from '../util/names.js';

/**
 * A grouped bar chart (hand-written SVG): for each trial, our AUC and McClish pAUC beside the
 * paper's. Two panels (AUC, pAUC); the y axis starts below the lowest value, which the axis says.
 */
const COLORS = { ours: '#2b6cb0', paper: '#a0aec0' };

// Stored names may hold control characters, which XML does not allow even escaped: shown as \x1B etc.
const esc = (s: string) => displayText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChartSvg(rows: TrialRow[], title: string): string {
  const panels: Array<{ label: string; ours: Array<number | null>; paper: Array<number | null> }> = [
    {
      label: 'AUC (%)',
      ours: rows.map((r) => (r.average && !Number.isNaN(r.average.auc) ? 100 * r.average.auc : null)),
      paper: rows.map((r) => r.paper?.auc ?? null),
    },
    {
      label: 'pAUC, McClish (%)',
      ours: rows.map((r) => (r.average && !Number.isNaN(r.average.paucMcclish) ? 100 * r.average.paucMcclish : null)),
      paper: rows.map((r) => r.paper?.pauc ?? null),
    },
  ];
  const all = panels.flatMap((p) => [...p.ours, ...p.paper]).filter((v): v is number => v !== null);
  const lo = all.length ? Math.max(0, Math.floor((Math.min(...all) - 5) / 10) * 10) : 0;
  const hi = 100;
  const groupW = Math.max(70, Math.min(120, 720 / Math.max(1, rows.length)));
  const plotW = groupW * rows.length;
  const plotH = 220;
  const left = 60;
  const panelW = left + plotW + 20;
  const width = panelW * 2 + 20;
  const top = 60;
  const height = top + plotH + 80;
  const y = (v: number) => top + plotH - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
  );
  parts.push(
    `<rect x="${width / 2 - 90}" y="32" width="12" height="12" fill="${COLORS.ours}"/><text x="${width / 2 - 72}" y="42">ours</text>`,
  );
  parts.push(
    `<rect x="${width / 2 - 20}" y="32" width="12" height="12" fill="${COLORS.paper}"/><text x="${width / 2 - 2}" y="42">paper</text>`,
  );
  panels.forEach((p, pi) => {
    const x0 = pi * (panelW + 20) + left;
    parts.push(
      `<text x="${x0 + plotW / 2}" y="${top - 4}" text-anchor="middle" font-weight="bold">${esc(p.label)}</text>`,
    );
    for (let v = lo; v <= hi; v += 10) {
      parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e8f0"/>`);
      parts.push(`<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" fill="#4a5568">${v}</text>`);
    }
    parts.push(`<line x1="${x0}" x2="${x0}" y1="${top}" y2="${top + plotH}" stroke="#4a5568"/>`);
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#4a5568"/>`);
    if (lo > 0)
      parts.push(
        `<text x="${x0 + plotW}" y="${top - 4}" text-anchor="end" fill="#718096" font-size="10">(axis starts at ${lo})</text>`,
      );
    rows.forEach((r, i) => {
      const gx = x0 + i * groupW;
      const bw = (groupW - 20) / 2;
      const bars: Array<[number | null, string]> = [
        [p.ours[i]!, COLORS.ours],
        [p.paper[i]!, COLORS.paper],
      ];
      bars.forEach(([v, color], k) => {
        const bx = gx + 10 + k * bw;
        if (v === null) {
          parts.push(
            `<text x="${bx + bw / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#a0aec0" font-size="10">n/a</text>`,
          );
          return;
        }
        parts.push(
          `<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${color}"/>`,
        );
        parts.push(
          `<text x="${(bx + bw / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(1)}</text>`,
        );
      });
      const lx = gx + groupW / 2;
      const ly = top + plotH + 14;
      parts.push(
        `<text x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-35 ${lx} ${ly})">${esc(r.trial)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
