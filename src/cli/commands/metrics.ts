import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption, jsonOption } from '../options.js';
import { UserError } from '../../util/errors.js';
import { evaluate, type Evaluation, type MetricValues } from '../../metrics/evaluate.js';
import { readScoresCsv } from '../../metrics/csv.js';

interface MetricsFlags {
  json?: boolean;
  pooled?: boolean;
  run?: string;
  db: string;
}

export function register(program: Command): void {
  program
    .command('metrics')
    .description('AUC / pAUC per machine type and their average, from a CSV of scored clips')
    .argument(
      '[scores.csv]',
      'a header naming the columns type,id,label,score (any order), then one clip per line; label 1 = anomaly, higher score = more anomalous',
    )
    .addOption(jsonOption('{"types": {"<type>": {"auc", "pauc", "paucMcclish"}}, "average": {...}, "ids": {...}}'))
    .option('--run <run>', "recompute from a stored run's final per-clip scores instead of a CSV")
    .addOption(dbOption('read with --run'))
    .option(
      '--pooled',
      "pool each type's IDs into one ROC (TASTgram's eval) instead of averaging per-ID values (DCASE's)",
    )
    .addHelpText(
      'after',
      '\npAUC uses p = 0.1. "pAUC" is the paper\'s definition (partial ROC area / p); "pAUC(McClish)" is\n' +
        "scikit-learn's roc_auc_score(max_fpr=0.1), the value the reference codes and published tables report.",
    )
    .action(action(async (file: string, flags: MetricsFlags) => runMetrics(file, flags)));
}

async function runMetrics(file: string | undefined, flags: MetricsFlags): Promise<void> {
  if (file && flags.run) throw new UserError('exp metrics: give a scores CSV or --run, not both');
  if (!file && !flags.run)
    throw new UserError('exp metrics: give a scores CSV (columns type,id,label,score) or --run <run>');
  let rows;
  if (flags.run) {
    const ref = flags.run;
    // The store's driver is imported when it is read, not when exp starts (src/cli/lazy.ts).
    const { withRunReader } = await import('../../store/open.js');
    const { run, scores } = await withRunReader(flags.db, async (store) => {
      const run = await store.resolveRun(ref);
      return { run, scores: await store.getScores(run.id, { final: true }) };
    });
    rows = scores.map((r) => ({ type: r.type, id: r.id, label: r.label, score: r.score }));
    if (rows.length === 0)
      throw new UserError(`run ${run.id} (${run.name}) has no stored final scores (status ${run.status})`);
    file = `run ${run.id}`;
  } else {
    rows = readScoresCsv(file!);
  }
  const result = evaluate(rows, { maxFpr: 0.1, pooled: flags.pooled ?? false });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(formatTable(result, file!, rows.length));
}

const pct = (x: number): string => (100 * x).toFixed(2);

/** The human table: types x AUC / pAUC / pAUC(McClish), in percent like the paper's Table 2. */
export function formatTable(r: Evaluation, file: string, clips: number): string {
  const head = ['type', 'IDs', 'clips', 'AUC %', 'pAUC %', 'pAUC(McClish) %'];
  const line = (name: string, ids: string, n: string, v: MetricValues) => [
    name,
    ids,
    n,
    pct(v.auc),
    pct(v.pauc),
    pct(v.paucMcclish),
  ];
  const body = Object.entries(r.types).map(([type, v]) => {
    const perId = Object.values(r.ids[type] ?? {});
    const n = perId.reduce((a, x) => a + x.normals + x.anomalies, 0);
    return line(type, String(perId.length), String(n), v);
  });
  const avg = line('average', '', String(clips), r.average);
  const all = [head, ...body, avg];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const fmt = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const how = r.pooled ? "each type's IDs pooled (TASTgram)" : 'per machine ID, then the mean over IDs (DCASE)';
  return [
    `${file}: ${clips} clips; ${how}; p = ${r.maxFpr}`,
    fmt(head),
    rule,
    ...body.map(fmt),
    rule,
    fmt(avg),
    "pAUC = paper's definition (ROC area over FPR <= p, / p); pAUC(McClish) = scikit-learn roc_auc_score(max_fpr), as in published tables",
    '',
  ].join('\n');
}
