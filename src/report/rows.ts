import type { ExperimentConfig } from '../config/schema.js';
import type { MetricTriple } from '../events/index.js';
import type { RunReader } from '../store/run-store.js';
import type { RunRecord } from '../store/types.js';
import { UserError } from '../util/errors.js';
import { experimentHash } from '../config/hash.js';
import { shownStatus, type ShownStatus } from '../store/stale.js';
import { adaptiveRecord, rungStanding, type RungStanding } from './adaptive.js';

/** One trial of a sweep as the reports show it. */
export interface TrialRow {
  trial: string;
  index: number;
  run: RunRecord;
  /** The status as every reading command shows it: a 'running' row whose lease ran out is 'stale'. */
  status: ShownStatus;
  average: MetricTriple | null;
  types: Record<string, MetricTriple>;
  paper: RunRecord['paper'];
  finalLoss: number | null;
  /** A trial of an adaptive sweep paused or pruned at a rung: which, and why. */
  rung: RungStanding | null;
}

/** The status cell of a report table: a pruned or paused trial names its rung. */
export const statusCell = (r: TrialRow): string => (r.rung ? `${r.rung.status} at epoch ${r.rung.epoch}` : r.status);

/** Table 3's check marks, derived from the config (§3.3): SpecNet = specnet or fga-spec branch; FGA = fga-spec; SoftTriple = loss.metric set. */
export function ablationMarks(c: ExperimentConfig): { specnet: boolean; fga: boolean; softtriple: boolean } {
  const b = c.features.branches;
  return {
    specnet: b.includes('specnet') || b.includes('fga-spec'),
    fga: b.includes('fga-spec'),
    softtriple: c.loss.metric !== null,
  };
}

/** Table 4's columns: SoftTriple gamma, lambda, delta, K, tau and its weight lambda_ST. */
export function softTripleColumns(
  c: ExperimentConfig,
): Record<'gamma' | 'lambda' | 'delta' | 'K' | 'tau' | 'lambda_ST', number | null> {
  const m = c.loss.metric;
  return {
    gamma: m?.gamma ?? null,
    lambda: m?.lambda ?? null,
    delta: m?.delta ?? null,
    K: m?.K ?? null,
    tau: m?.tau ?? null,
    lambda_ST: m?.weight ?? null,
  };
}

export async function trialRow(store: RunReader, run: RunRecord): Promise<TrialRow> {
  const final = await store.getFinalResult(run.id);
  const epochs = await store.getEpochs(run.id);
  return {
    trial: run.trial ?? run.name,
    index: run.trialIndex ?? 0,
    run,
    status: shownStatus(run),
    average: final?.average ?? null,
    types: final?.types ?? {},
    paper: run.paper,
    finalLoss: epochs.length ? epochs[epochs.length - 1]!.loss : null,
    rung:
      run.status === 'pruned' || run.status === 'paused'
        ? rungStanding(await adaptiveRecord(store, run.sweep), run)
        : null,
  };
}

/**
 * The trials of a sweep, in the sweep's row order: for each trial name the given run ids if any,
 * else its latest finished run (else its latest run), so an older profile's rows do not mix in.
 */
export async function sweepRows(
  store: RunReader,
  sweep: string,
  opts: { runIds?: Array<string | null>; profile?: string | null } = {},
): Promise<TrialRow[]> {
  let runs: RunRecord[];
  if (opts.runIds && opts.runIds.every((id) => id !== null)) {
    runs = [];
    for (const id of opts.runIds) {
      const r = await store.getRun(id!);
      if (r) runs.push(r);
    }
  } else {
    const all = (await store.listRuns({ sweep })).filter(
      (r) => opts.profile === undefined || r.profile === opts.profile,
    );
    if (all.length === 0)
      throw new UserError(`sweep ${JSON.stringify(sweep)}: no runs in the store`, 'List runs with: exp runs');
    const pick = new Map<string, RunRecord>();
    for (const r of all) {
      const key = r.trial ?? r.name;
      const cur = pick.get(key);
      const better =
        !cur ||
        (r.status === 'done' && cur.status !== 'done') ||
        ((r.status === 'done') === (cur.status === 'done') && r.createdAt >= cur.createdAt);
      if (better) pick.set(key, r);
    }
    runs = [...pick.values()];
  }
  const rows: TrialRow[] = [];
  for (const r of runs) rows.push(await trialRow(store, r));
  return rows.sort((a, b) => a.index - b.index || a.trial.localeCompare(b.trial));
}

/** Index of the best row by our average AUC (ties: higher McClish pAUC), or -1. */
export function bestRow(rows: TrialRow[]): number {
  let best = -1;
  rows.forEach((r, i) => {
    if (!r.average || Number.isNaN(r.average.auc)) return;
    const b = best >= 0 ? rows[best]!.average! : null;
    if (!b || r.average.auc > b.auc || (r.average.auc === b.auc && r.average.paucMcclish > b.paucMcclish)) best = i;
  });
  return best;
}

/**
 * A warning when finished rows were computed by different code (git commit, or uncommitted
 * changes): a sweep resumed after an update keeps its finished trials, and a kernel's float
 * rounding alone moves quick-profile results by several AUC points. Null when all agree.
 */
export function codeVersionNote(rows: TrialRow[], sweep: string | null): string | null {
  const done = rows.filter((r) => r.run.status === 'done');
  const versions = new Set(
    done.map((r) => `${r.run.gitCommit?.slice(0, 8) ?? 'unknown'}${r.run.gitDirty ? '+changes' : ''}`),
  );
  if (versions.size <= 1) return null;
  const redo = sweep ? `; \`exp sweep ${sweep} --force\` recomputes them all with the current code` : '';
  return `note: these results come from ${versions.size} code versions (${[...versions].join(', ')}), so differences between rows may be the code's${redo}`;
}

/** Mean and sample standard deviation (n - 1; NaN for one value) of a metric over seeds. */
export interface MeanSd {
  mean: number;
  sd: number;
}

/** Finished runs of one configuration that differ only in their seed (`exp sweep --seeds`). */
export interface SeedGroup {
  trial: string;
  seeds: number[];
  auc: MeanSd;
  pauc: MeanSd;
  paucMcclish: MeanSd;
  paper: { auc: number; pauc: number } | null;
}

function meanSd(xs: number[]): MeanSd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length < 2 ? Number.NaN : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

/**
 * Finished rows grouped by configuration apart from the seed, in row order; null unless some
 * configuration ran with two or more seeds. A row's trial name loses its `/seed=<s>` suffix.
 */
export function seedGroups(rows: TrialRow[]): SeedGroup[] | null {
  const groups = new Map<string, { trial: string; rows: TrialRow[] }>();
  for (const r of rows) {
    if (r.run.status !== 'done' || !r.average) continue;
    const key = experimentHash({ ...r.run.config, seed: 0 });
    const g = groups.get(key) ?? { trial: r.trial.replace(/\/seed=\d+$/, ''), rows: [] };
    g.rows.push(r);
    groups.set(key, g);
  }
  if (![...groups.values()].some((g) => new Set(g.rows.map((r) => r.run.config.seed)).size >= 2)) return null;
  return [...groups.values()].map((g) => ({
    trial: g.trial,
    seeds: g.rows.map((r) => r.run.config.seed),
    auc: meanSd(g.rows.map((r) => r.average!.auc)),
    pauc: meanSd(g.rows.map((r) => r.average!.pauc)),
    paucMcclish: meanSd(g.rows.map((r) => r.average!.paucMcclish)),
    paper: g.rows[0]!.paper,
  }));
}

/** "57.21 ± 0.93" in %, or the mean alone for one seed. */
export function formatMeanSd(m: MeanSd): string {
  return Number.isNaN(m.sd) ? (100 * m.mean).toFixed(2) : `${(100 * m.mean).toFixed(2)} ± ${(100 * m.sd).toFixed(2)}`;
}

/** Header and cells of the over-seeds table (sweep summary and markdown export). */
export function seedTable(groups: SeedGroup[]): { header: string[]; rows: string[][] } {
  return {
    header: ['trial', 'seeds', 'AUC', 'pAUC', 'pAUC(McClish)', 'paper AUC', 'paper pAUC'],
    rows: groups.map((g) => [
      g.trial,
      g.seeds.join(','),
      formatMeanSd(g.auc),
      formatMeanSd(g.pauc),
      formatMeanSd(g.paucMcclish),
      g.paper ? g.paper.auc.toFixed(2) : '-',
      g.paper ? g.paper.pauc.toFixed(2) : '-',
    ]),
  };
}
