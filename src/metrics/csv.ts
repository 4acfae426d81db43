import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { ScoreRow } from './evaluate.js';

/** Splits one CSV line into fields: commas, optional double quotes ("" = a literal quote). */
function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null; // unterminated quote
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
    } else {
      while (i < line.length && line[i] !== ',') field += line[i++];
      field = field.trim();
    }
    out.push(field);
    if (i >= line.length) return out;
    if (line[i] !== ',') return null;
    i++;
  }
}

const REQUIRED = ['type', 'id', 'label', 'score'] as const;

/**
 * Reads a scores CSV: a header naming the columns type, id, label, score (any order, more columns
 * allowed), then one clip per line. Every problem is a UserError naming the file, line and column.
 */
export function parseScoresCsv(text: string, file: string): ScoreRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0)
    throw new UserError(`${file}: empty file; expected a header line with columns ${REQUIRED.join(',')}`);
  const header = splitCsvLine(lines[headerAt]!);
  if (!header) throw new UserError(`${file}:${headerAt + 1}: cannot parse the header line (unbalanced quotes?)`);
  const names = header.map((h) => h.toLowerCase());
  const col: Record<(typeof REQUIRED)[number], number> = { type: -1, id: -1, label: -1, score: -1 };
  for (const key of REQUIRED) {
    col[key] = names.indexOf(key);
    if (col[key] < 0) {
      throw new UserError(
        `${file}:${headerAt + 1}: missing column "${key}"; the header must name the columns ${REQUIRED.join(', ')} (any order), found: ${header.join(', ')}`,
      );
    }
  }
  const rows: ScoreRow[] = [];
  for (let n = headerAt + 1; n < lines.length; n++) {
    const raw = lines[n]!;
    if (raw.trim() === '') continue;
    const at = `${file}:${n + 1}`;
    const f = splitCsvLine(raw);
    if (!f) throw new UserError(`${at}: cannot parse the line (unbalanced quotes?)`);
    if (f.length < header.length) throw new UserError(`${at}: ${f.length} fields, the header has ${header.length}`);
    const type = f[col.type]!;
    const id = f[col.id]!;
    if (type === '') throw new UserError(`${at}: column "type" is empty`);
    if (id === '') throw new UserError(`${at}: column "id" is empty`);
    const labelText = f[col.label]!;
    const label = labelText === '' ? NaN : Number(labelText);
    if (label !== 0 && label !== 1) {
      throw new UserError(`${at}: column "label" must be 0 (normal) or 1 (anomaly), got ${JSON.stringify(labelText)}`);
    }
    const scoreText = f[col.score]!;
    const score = scoreText === '' ? NaN : Number(scoreText);
    if (!Number.isFinite(score))
      throw new UserError(`${at}: column "score" must be a finite number, got ${JSON.stringify(scoreText)}`);
    rows.push({ type, id, label, score });
  }
  if (rows.length === 0) throw new UserError(`${file}: no data lines after the header`);
  return rows;
}

/** Checks that each type and machine ID has both normal and anomalous clips, naming the file. */
export function checkScoreGroups(rows: readonly ScoreRow[], file: string): void {
  const counts = new Map<string, { type: string; id: string; n: [number, number] }>();
  for (const r of rows) {
    const key = `${r.type}\u0000${r.id}`;
    let c = counts.get(key);
    if (!c) counts.set(key, (c = { type: r.type, id: r.id, n: [0, 0] }));
    c.n[r.label]!++;
  }
  for (const { type, id, n } of counts.values()) {
    if (n[0] === 0 || n[1] === 0) {
      const missing = n[1] === 0 ? 'no anomalies (label 1)' : 'no normals (label 0)';
      throw new UserError(
        `${file}: type "${type}", id "${id}" has ${missing} in column "label"; AUC needs both classes for every machine ID`,
      );
    }
  }
}

export function readScoresCsv(file: string): ScoreRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`);
  }
  const rows = parseScoresCsv(text, file);
  checkScoreGroups(rows, file);
  return rows;
}
