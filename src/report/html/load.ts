import { findSynthManifest, manifestKey, readSynthManifest, type LoadedManifest } from '../../data/synth/manifest.js';
import type { RunReader } from '../../store/run-store.js';
import type { ScoreRecord } from '../../store/types.js';
import { UserError } from '../../util/errors.js';
import { sweepRows, trialRow, type TrialRow } from '../rows.js';
import type { ReportGroup, ReportInput, ReportRun } from './types.js';
import { displayName } from '../../util/names.js';
import { adaptiveRecord } from '../adaptive.js';

/**
 * The one place the HTML report reads the store: each reference is a sweep (all its trials) or a
 * run; loose runs form one group. Everything after this works on plain data.
 */
export async function loadReport(store: RunReader, refs: string[], dbName: string): Promise<ReportInput> {
  if (refs.length === 0) throw new UserError('exp report: name at least one run or sweep');
  const groups: ReportGroup[] = [];
  const loose: TrialRow[] = [];
  const manifests = new Map<string, LoadedManifest>();
  // A sweep or run named twice (or a run by id and by name) is shown once.
  const seen = new Set<string>();
  for (const ref of refs) {
    if (await store.sweepExists(ref)) {
      if (seen.has(`sweep:${ref}`)) continue;
      seen.add(`sweep:${ref}`);
      const rows = await sweepRows(store, ref);
      groups.push({
        title: `sweep ${displayName(ref)}`,
        sweep: ref,
        rows,
        runs: await loadRuns(store, rows, manifests),
        adaptive: await adaptiveRecord(store, ref),
      });
    } else {
      const run = await store.resolveRun(ref);
      if (seen.has(`run:${run.id}`)) continue;
      seen.add(`run:${run.id}`);
      loose.push(await trialRow(store, run));
    }
  }
  if (loose.length) {
    const rows = loose.map((r) => ({ ...r, trial: r.run.name }));
    groups.push({ title: 'runs', sweep: null, rows, runs: await loadRuns(store, rows, manifests) });
  }
  for (const g of groups) uniqueLabels(g.runs);
  return { groups, db: dbName, refs };
}

async function loadRuns(
  store: RunReader,
  rows: TrialRow[],
  manifests: Map<string, LoadedManifest>,
): Promise<ReportRun[]> {
  const out: ReportRun[] = [];
  for (const r of rows) out.push(await loadRun(store, r, manifests));
  return out;
}

async function loadRun(store: RunReader, row: TrialRow, manifests: Map<string, LoadedManifest>): Promise<ReportRun> {
  const results = await store.getResults(row.run.id);
  const scores = await store.getScores(row.run.id, { final: true });
  const { synth, synthNote } = faultRecord(scores, manifests);
  return {
    run: row.run,
    // Legends, titles and SVG text: a control character in a stored name is shown escaped (XML forbids it raw).
    label: displayName(row.trial),
    epochs: await store.getEpochs(row.run.id),
    evals: results.filter((r) => !r.final),
    final: results.find((r) => r.final) ?? null,
    scores,
    synth,
    synthNote,
  };
}

/** The fault record of the clips a run was tested on, keyed by each score's own path. */
function faultRecord(
  scores: ScoreRecord[],
  cache: Map<string, LoadedManifest>,
): Pick<ReportRun, 'synth' | 'synthNote'> {
  const first = scores[0];
  if (!first) return { synth: null, synthNote: 'no per-clip scores stored (the run has no final evaluation)' };
  const file = findSynthManifest(first.path);
  if (!file)
    return {
      synth: null,
      synthNote: `no synth.json beside the test clips (${first.path}): not the built-in synthetic set, or the set was moved`,
    };
  let m = cache.get(file);
  if (!m) cache.set(file, (m = readSynthManifest(file)));
  const clips = new Map<string, NonNullable<ReturnType<LoadedManifest['clips']['get']>>>();
  for (const s of scores) {
    const c = m.clips.get(manifestKey(file, s.path));
    if (c) clips.set(s.path, c);
  }
  if (clips.size < scores.length)
    return {
      synth: null,
      synthNote: `${file} describes ${clips.size} of the run's ${scores.length} test clips: it belongs to another set`,
    };
  return { synth: { file, clips }, synthNote: null };
}

/** Legends key series by label: two runs of one name get their run id added. */
function uniqueLabels(runs: ReportRun[]): void {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.label, (count.get(r.label) ?? 0) + 1);
  for (const r of runs) if (count.get(r.label)! > 1) r.label = `${r.label} (${r.run.id})`;
}
