/**
 * The quick ablation end to end, two source trees side by side: `exp sweep ablation --profile quick`
 * run by tree A (e.g. a checkout of an older main) and tree B (this one), alternately A B A B, each
 * run in a fresh directory with a fresh store and an empty feature cache (as a new user's first
 * sweep), the synthetic set generated once beforehand and shared. Prints wall and CPU time per run,
 * the B / A ratio per pair, and whether the two trees' results agree.
 *
 *   npm run bench:ablation -- --base /path/to/other/tree [--pairs 2] [--a-args="--concurrency 1"]
 *   [--sweep bench/abl2.yaml]   (two of the six rows)
 *
 * Both trees must be built (`npm run build`). Only a quiet machine gives numbers worth quoting:
 * the load average before each run is printed beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSyntheticDataset } from '../src/data/synth/generate.js';
import { loadSweep } from '../src/sweep/spec.js';
import { parseOverride } from '../src/config/load.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: '.' },
    pairs: { type: 'string', default: '2' },
    sweep: { type: 'string', default: 'ablation' },
    profile: { type: 'string', default: 'quick' },
    'a-args': { type: 'string', default: '' },
    'b-args': { type: 'string', default: '' },
    set: { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
  },
});
if (!values.base) {
  process.stderr.write('bench/ablation.ts: give --base DIR (the tree to compare with, built)\n');
  process.exit(1);
}
const trees = { A: resolve(values.base), B: resolve(values.head) };
const extra = { A: values['a-args'].split(' ').filter(Boolean), B: values['b-args'].split(' ').filter(Boolean) };
const sets = values.set.flatMap((s) => ['--set', s]);
const work = mkdtempSync(join(tmpdir(), 'exp-bench-ablation-'));
const synth = join(work, 'synth');

// The synthetic set every trial reads, generated before any timed run.
// A name is looked up in each tree's sweeps/, a file path is used as given.
const sweepRef = /\.ya?ml$/.test(values.sweep) ? resolve(values.sweep) : values.sweep;
const sweep = loadSweep(sweepRef, {
  cwd: trees.B,
  profile: values.profile,
  overrides: values.set.map((s) => parseOverride(s)),
});
for (const t of sweep.trials) {
  const d = t.config.data;
  if (d.root === null)
    ensureSyntheticDataset({ version: d.synthVersion, seconds: d.seconds, sampleRate: d.sampleRate, baseDir: synth });
}

interface Result {
  tree: 'A' | 'B';
  wall: number;
  cpu: number;
  load: number;
  metrics: Map<string, number>;
}

function cpuSeconds(times: string): number {
  // bash `times`: the second line is the children's user and system time, e.g. "1m2.5s 0m3.1s".
  const line = times.trim().split('\n').at(-1) ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
}

function runOnce(tree: 'A' | 'B', k: number): Result {
  const dir = join(work, `${k}-${tree}`);
  mkdirSync(join(dir, 'runs'), { recursive: true });
  symlinkSync(synth, join(dir, 'runs', 'synth'));
  const cli = join(trees[tree], 'dist', 'cli', 'main.js');
  const args = ['sweep', sweepRef, '--profile', values.profile, '--no-dashboard', ...sets, ...extra[tree]];
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const quoted = [process.execPath, cli, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${quoted} >sweep.log 2>&1; s=$?; times; exit $s`], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, EXP_FEATURE_CACHE: '', EXP_THREADS: '' },
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${tree} failed (exit ${r.status}); see ${join(dir, 'sweep.log')}`);
  const listed = spawnSync(process.execPath, [cli, 'runs', '--sweep', sweep.name, '--json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const rows = JSON.parse(listed.stdout) as Array<{ trial: string | null; name: string; metrics: { auc: number } }>;
  const metrics = new Map(rows.map((x) => [x.trial ?? x.name, x.metrics.auc]));
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  return { tree, wall, cpu: cpuSeconds(r.stdout), load, metrics };
}

const pairs = Number(values.pairs);
const out: Result[] = [];
process.stdout.write(`A = ${trees.A} ${extra.A.join(' ')}\nB = ${trees.B} ${extra.B.join(' ')}\n`);
process.stdout.write('| pair | tree | wall s | CPU s | load before |\n|---|---|---|---|---|\n');
for (let k = 1; k <= pairs; k++) {
  for (const tree of ['A', 'B'] as const) {
    const r = runOnce(tree, k);
    out.push(r);
    process.stdout.write(`| ${k} | ${tree} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.load.toFixed(2)} |\n`);
  }
}
const ratios = Array.from({ length: pairs }, (_, k) => out[2 * k]!.wall / out[2 * k + 1]!.wall);
process.stdout.write(
  `\nA / B wall time per pair (B is that much faster): ${ratios.map((x) => x.toFixed(2)).join(', ')}\n`,
);
let worst = 0;
for (const r of out)
  for (const [trial, auc] of r.metrics) worst = Math.max(worst, Math.abs(auc - out[0]!.metrics.get(trial)!));
process.stdout.write(
  `largest difference of a trial's average AUC from run 1 of A: ${(100 * worst).toFixed(3)} points${worst === 0 ? ' (identical)' : ''}\n`,
);
rmSync(work, { recursive: true, force: true });
