/**
 * Calibration of the built-in synthetic set (docs/synthetic-data.md): per machine type,
 *  (a) a non-learned detector: distance of a clip's mean log-Mel spectrum to its ID's training
 *      centroid (src/data/synth/centroid.ts), and
 *  (b) the full FGASpecNet in the quick profile of sweeps/ablation.yaml, once per seed, and its
 *      AUC per fault kind (which faults it finds and which it misses).
 * Not a timed test. Usage:
 *   npm run calibrate                          both, seeds 1,2,3, 2 trials at once
 *   npm run calibrate -- --skip-model          (a) only, seconds
 *   npm run calibrate -- --seeds 1 --concurrency 1 --set data.synthVersion=1
 * Model runs go to the run store (--db, default runs/exp.db) as sweep "calibrate", so a second
 * call reuses finished runs instead of training again.
 */
import { parseArgs } from 'node:util';
import { parseOverride } from '../src/config/load.js';
import { resolveData } from '../src/data/resolve.js';
import { centroidDetector } from '../src/data/synth/centroid.js';
import { loadSweep } from '../src/sweep/spec.js';
import { SweepEngine } from '../src/sweep/engine.js';
import { readSynthManifest } from '../src/data/synth/manifest.js';
import { faultKindAuc } from '../src/data/synth/fault-auc.js';
import { join } from 'node:path';
import { orderTypes } from '../src/report/compare.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    concurrency: { type: 'string', default: '2' },
    db: { type: 'string', default: 'runs/exp.db' },
    set: { type: 'string', multiple: true, default: [] },
    'skip-model': { type: 'boolean', default: false },
  },
});
const seeds = values.seeds.split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  process.stderr.write(`calibrate: --seeds expects whole numbers like 1,2,3, got ${JSON.stringify(values.seeds)}\n`);
  process.exit(1);
}
const overrides = values.set.map((s) => parseOverride(s));
const full = loadSweep('ablation', { profile: 'quick', overrides, seeds });
const trials = full.trials.filter((t) => t.name.startsWith('fgaspecnet/')).map((t, index) => ({ ...t, index }));
const cfg = trials[0]!.config;
const t0 = performance.now();
const root = resolveData(cfg);
process.stderr.write(`data: ${root} (generator v${cfg.data.synthVersion}, ${cfg.data.seconds} s clips)\n`);
const { fMax, ...lm } = cfg.features.logmel;
const centroid = centroidDetector(root, {
  seconds: cfg.data.seconds,
  logmel: { ...lm, ...(fMax === null ? {} : { fMax }), sampleRate: cfg.data.sampleRate },
  maxClipsPerId: cfg.data.maxClipsPerId,
  maxTestClipsPerId: cfg.data.maxTestClipsPerId,
});
process.stderr.write(`non-learned detector: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

const model = new Map<string, number[]>();
/** FGASpecNet's AUC per (type, fault kind), one entry per seed. */
const byKind = new Map<string, number[]>();
if (!values['skip-model']) {
  const engine = await SweepEngine.open({
    sweep: { ...full, name: 'calibrate', trials },
    dbFile: values.db,
    concurrency: Number(values.concurrency),
    backend: 'auto',
    rerunFailed: true,
    force: false,
  });
  const started = performance.now();
  await engine.run();
  const runs = await Promise.all(trials.map((t) => engine.store.findTrialRun('calibrate', t.hash)));
  const manifest = readSynthManifest(join(root, 'synth.json'));
  for (const run of runs) {
    const res = run ? await engine.store.getFinalResult(run.id) : null;
    if (!run || !res) continue;
    for (const [type, m] of Object.entries(res.types)) model.set(type, [...(model.get(type) ?? []), m.auc]);
    for (const [type, kinds] of faultKindAuc(await engine.store.getScores(run.id, { final: true }), manifest)) {
      for (const [kind, a] of kinds)
        byKind.set(`${type}\u0000${kind}`, [...(byKind.get(`${type}\u0000${kind}`) ?? []), a]);
    }
  }
  await engine.close();
  process.stderr.write(
    `FGASpecNet quick x ${seeds.length} seeds: ${((performance.now() - started) / 60000).toFixed(1)} min\n`,
  );
}

const pct = (x: number) => (100 * x).toFixed(1);
const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : NaN;
  return { m, sd };
};
const types = orderTypes(Object.keys(centroid.types));
const rows = types.map((t) => {
  const c = centroid.types[t]!;
  const xs = model.get(t) ?? [];
  const { m, sd } = xs.length ? meanSd(xs) : { m: NaN, sd: NaN };
  return { t, c, m, sd, n: xs.length };
});
const lines = ['| type | non-learned AUC | FGASpecNet quick AUC (mean ± sd) | difference |', '|---|---|---|---|'];
for (const r of rows)
  lines.push(
    `| ${r.t} | ${pct(r.c)} | ${r.n ? `${pct(r.m)}${r.n > 1 ? ` ± ${pct(r.sd)}` : ''}` : '-'} | ${r.n ? (100 * (r.m - r.c)).toFixed(1) : '-'} |`,
  );
const avgModel = model.size ? rows.reduce((a, r) => a + r.m, 0) / rows.length : NaN;
// sd of the average over seeds: average each seed's run over types first.
const perSeed = seeds
  .map((_, i) => rows.reduce((a, r) => a + ((model.get(r.t) ?? [])[i] ?? NaN), 0) / rows.length)
  .filter((x) => !Number.isNaN(x));
const avgSd = perSeed.length > 1 ? meanSd(perSeed).sd : NaN;
lines.push(
  `| average | ${pct(centroid.average)} | ${model.size ? `${pct(avgModel)}${perSeed.length > 1 ? ` ± ${pct(avgSd)}` : ''}` : '-'} | ${model.size ? (100 * (avgModel - centroid.average)).toFixed(1) : '-'} |`,
);
process.stdout.write(`${lines.join('\n')}\n`);

if (model.size) {
  const hardest = [...rows]
    .sort((a, b) => a.m - b.m)
    .slice(0, 2)
    .map((r) => r.t);
  const checks: Array<[string, boolean]> = [
    [`FGASpecNet quick mean AUC >= 85 % (${pct(avgModel)})`, avgModel >= 0.85],
    [
      `>= 10 points above the non-learned detector on average (${(100 * (avgModel - centroid.average)).toFixed(1)})`,
      avgModel - centroid.average >= 0.1,
    ],
    [
      `no type trivially solved by the non-learned detector (max ${pct(Math.max(...rows.map((r) => r.c)))} < 95)`,
      rows.every((r) => r.c < 0.95),
    ],
    [`ToyConveyor among the two hardest types for FGASpecNet (${hardest.join(', ')})`, hardest.includes('ToyConveyor')],
  ];
  for (const [what, ok] of checks) process.stdout.write(`${ok ? 'met    ' : 'NOT met'}  ${what}\n`);
}

if (byKind.size) {
  // Which faults the model finds and which it misses (per ID normals against one kind, mean over IDs).
  const out = ['', '| type | fault kind | FGASpecNet quick AUC (mean over seeds) |', '|---|---|---|'];
  for (const t of types) {
    for (const [key, xs] of [...byKind].filter(([k]) => k.startsWith(`${t}\u0000`)).sort())
      out.push(`| ${t} | ${key.split('\u0000')[1]} | ${pct(meanSd(xs).m)} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
