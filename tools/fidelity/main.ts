/**
 * Side-by-side fidelity harness (dev-only; PyTorch is never a dependency of exp):
 *
 *   npm run fidelity -- --system fgaspecnet --seeds 10
 *   npm run fidelity -- --system glow-aff          (Table 2's quick profile; defaults: valve,slider, seeds 1-3)
 *   npm run fidelity -- --system mobilenetv2
 *
 * Generates small synthetic sets with exp's generator (default: version 3, generator seeds 0 and
 * 1, 6 types x 2 IDs, 16 training and 8 + 8 test clips per ID, 2 s), then per set and run seed:
 * exp trains as `exp run` does (tools/fidelity/exp-side.ts) and a PyTorch reference replays the
 * same run (tools/fidelity/reference.py, ref_glow.py, ref_mobilenetv2.py, sharing refcommon.py:
 * same architecture, initialisation scheme, loss, optimiser, schedule, batch order and mixup
 * draws). Glow-Aff and MobileNetV2 default to Table 2's quick profile on the built-in set's clips
 * (generator seed 0, 3 IDs, 30 training and 100 test clips per ID; --types picks the types). Both sides' test scores go through exp's
 * metric code, and the table gives per-seed and mean +- sd AUC / pAUC and the paired difference
 * with its 95 % t interval. Everything lands under --out (one folder per set and seed); a
 * finished side is never redone, so an interrupted call resumes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import PQueue from 'p-queue';
import { evaluate, type ScoreRow } from '../../src/metrics/index.js';
import { faultKindAuc } from '../../src/data/synth/fault-auc.js';
import { readSynthManifest } from '../../src/data/synth/manifest.js';
import { mean, pairedDifference, sd } from './stats.js';

const { values } = parseArgs({
  options: {
    system: { type: 'string', default: 'fgaspecnet' },
    // The defaults of the options below without one come from the system (SYSTEMS).
    seeds: { type: 'string' },
    'first-seed': { type: 'string' },
    /** Explicit run seeds (e.g. 9,8,7 for a second process working from the other end). */
    'seed-list': { type: 'string' },
    init: { type: 'string', default: 'torch' },
    /** Departures of the reference from exp's choices (reference.py VARIANTS), to measure one. */
    variant: { type: 'string', default: '' },
    out: { type: 'string', default: 'runs/fidelity' },
    'synth-seeds': { type: 'string' },
    'synth-version': { type: 'string', default: '3' },
    /** Machine types to generate and train, comma-separated, or `all` (default: all six, or the system's). */
    types: { type: 'string' },
    ids: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    seconds: { type: 'string', default: '2' },
    epochs: { type: 'string' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    jobs: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    nice: { type: 'string', default: '5' },
    'report-only': { type: 'boolean', default: false },
    /** Which sides to train: both, or only the reference (torch) or exp (the other side may come later). */
    sides: { type: 'string', default: 'both' },
    /** Also the AUC per fault kind (synthetic sets: the set's synth.json), mean over the paired seeds. */
    kinds: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

/** A system with a PyTorch reference here: the experiment exp runs, the reference script, the defaults of its comparison. */
interface SystemSpec {
  experiment: string;
  script: string;
  defaults: Record<'seeds' | 'first-seed' | 'synth-seeds' | 'ids' | 'train' | 'test' | 'epochs' | 'lr', string> & {
    types?: string;
  };
  /** exp keys set on both sides (before --set, which may override them). */
  sets: string[];
}

/** Table 2's quick profile (sweeps/table2.yaml) on the built-in set's clips: version 3 (or --synth-version), seed 0, 3 IDs, 30 + 100 clips. */
const QUICK = {
  seeds: '3',
  'first-seed': '1',
  'synth-seeds': '0',
  ids: '3',
  train: '30',
  test: '100',
  epochs: '8',
  lr: '0.001',
  types: 'valve,slider',
};
const ALL_CLIPS = ['data.maxClipsPerId=null', 'data.maxTestClipsPerId=null'];

const SYSTEMS: Record<string, SystemSpec> = {
  fgaspecnet: {
    experiment: 'experiments/fgaspecnet.yaml',
    script: 'tools/fidelity/reference.py',
    defaults: {
      seeds: '10',
      'first-seed': '0',
      'synth-seeds': '0,1',
      ids: '2',
      train: '16',
      test: '16',
      epochs: '6',
      lr: '0.0001',
    },
    sets: [],
  },
  'glow-aff': {
    experiment: 'experiments/glow-aff.yaml',
    script: 'tools/fidelity/ref_glow.py',
    defaults: QUICK,
    sets: [...ALL_CLIPS, 'glow.levels=2', 'glow.steps=4', 'glow.hidden=64', 'glow.segment=16', 'glow.hop=16'],
  },
  mobilenetv2: {
    experiment: 'experiments/mobilenetv2.yaml',
    script: 'tools/fidelity/ref_mobilenetv2.py',
    defaults: QUICK,
    sets: [...ALL_CLIPS, 'mobilenetv2.window=32', 'mobilenetv2.hop=16'],
  },
};

function fail(msg: string): never {
  process.stderr.write(`fidelity: ${msg}\n`);
  process.exit(1);
}

function intArg(name: string, min: number): number {
  const v = Number((values as Record<string, unknown>)[name]);
  if (!Number.isInteger(v) || v < min)
    fail(`--${name} ${String((values as Record<string, unknown>)[name])}: expected a whole number >= ${min}`);
  return v;
}

const spec =
  SYSTEMS[values.system!] ??
  fail(`--system ${values.system}: no PyTorch reference yet (have: ${Object.keys(SYSTEMS).join(', ')})`);
const experiment = spec.experiment;
// An option the user left out takes the system's default.
for (const [k, v] of Object.entries(spec.defaults)) {
  const opts = values as Record<string, unknown>;
  if (opts[k] === undefined) opts[k] = v;
}
// `--types all`: every type of the set (no data.types filter).
const types = values.types === 'all' ? [] : (values.types?.split(',').filter((t) => t !== '') ?? []);
if (spec.script !== 'tools/fidelity/reference.py' && values.init !== 'torch')
  fail(`--init ${values.init}: the ${values.system} reference starts from its own weights only (--init torch)`);
if (!['both', 'torch', 'exp'].includes(values.sides!)) fail(`--sides ${values.sides}: expected both, torch or exp`);
const inits = values.init === 'both' ? ['torch', 'exp'] : [values.init!];
if (inits.some((i) => i !== 'torch' && i !== 'exp')) fail(`--init ${values.init}: expected torch, exp or both`);
const variants = values
  .variant!.split(',')
  .filter((v) => v !== '')
  .sort();
const torchFile = (init: string) => `torch-${init}${variants.map((v) => `+${v}`).join('')}.json`;
const seeds = values['seed-list']
  ? values['seed-list'].split(',').map((x) => Number(x))
  : Array.from({ length: intArg('seeds', 2) }, (_, i) => i + intArg('first-seed', 0));
if (seeds.some((x) => !Number.isInteger(x) || x < 0))
  fail(`--seed-list ${values['seed-list']}: expected whole numbers, comma-separated`);
const synthSeeds = values['synth-seeds']!.split(',').map((s) => Number(s));
if (synthSeeds.some((s) => !Number.isInteger(s) || s < 0))
  fail(`--synth-seeds ${values['synth-seeds']}: expected whole numbers, comma-separated`);
const version = intArg('synth-version', 1);
const out = resolve(values.out!);
const overrides = [
  ...spec.sets,
  ...(types.length > 0 ? [`data.types=[${types.join(',')}]`] : []),
  `data.seconds=${values.seconds}`,
  `train.epochs=${intArg('epochs', 1)}`,
  `train.batchSize=${intArg('batch', 2)}`,
  `train.lr=${values.lr}`,
  ...(values.set as string[]),
];

/** Runs a command at lower priority, its stderr shown with a prefix; rejects on a non-zero exit. */
function run(cmd: string, args: string[], tag: string): Promise<void> {
  return new Promise((ok, bad) => {
    // --threads for both sides: exp's wasm pool reads EXP_THREADS, the reference gets --threads.
    const child = spawn('nice', ['-n', values.nice!, cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, EXP_THREADS: values.threads },
    });
    let tail = '';
    child.stderr.on('data', (b: Buffer) => {
      const text = b.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n'))
        if (/epoch|Error|error/.test(line)) process.stderr.write(`[${tag}] ${line}\n`);
    });
    child.on('close', (code) => (code === 0 ? ok() : bad(new Error(`${tag}: exit ${code}\n${tail}`))));
  });
}

const tsx = (script: string, args: string[]) => ['--import', 'tsx', script, ...args];

async function ensureSet(synthSeed: number): Promise<{ name: string; root: string }> {
  const typesPart = types.length > 0 ? `-${types.join('+')}` : '';
  const name = `v${version}-s${synthSeed}-${values.ids}x${values.train}+${values.test}-${values.seconds}s${typesPart}`;
  const root = join(out, 'sets', name);
  if (!existsSync(join(root, 'synth.json'))) {
    mkdirSync(join(out, 'sets'), { recursive: true });
    await run(
      'node',
      tsx('src/cli/main.ts', [
        'data',
        'synth',
        '--out',
        root,
        '--synth-version',
        String(version),
        '--seed',
        String(synthSeed),
        '--ids',
        values.ids!,
        '--train',
        values.train!,
        '--test',
        values.test!,
        '--seconds',
        values.seconds!,
        ...(types.length > 0 ? ['--types', types.join(',')] : []),
      ]),
      `synth ${name}`,
    );
  }
  return { name, root };
}

interface Side {
  scores: number[];
  epochs: Array<{ epoch: number; loss: number }>;
}

/** Whether a marker names another live harness process working on the same output. */
function claimedElsewhere(marker: string): boolean {
  if (!existsSync(marker)) return false;
  const pid = Number(readFileSync(marker, 'utf8'));
  if (!Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function metricsOf(setup: { test: Array<Omit<ScoreRow, 'score'>> }, scores: readonly number[]) {
  const rows: ScoreRow[] = setup.test.map((m, i) => ({
    type: m.type,
    id: m.id,
    label: m.label,
    score: scores[i]!,
  }));
  const r = evaluate(rows, { maxFpr: 0.1, pooled: false });
  return { ...r.average, types: Object.fromEntries(Object.entries(r.types).map(([t, v]) => [t, v.auc])) };
}

async function main(): Promise<void> {
  const sets = [];
  for (const s of synthSeeds) sets.push(await ensureSet(s));
  const queue = new PQueue({ concurrency: intArg('jobs', 1) });
  const work: Array<Promise<void>> = [];
  if (!values['report-only']) {
    for (const set of sets) {
      for (const seed of seeds) {
        const dir = join(out, set.name, values.system!, `seed-${seed}`);
        const common = [
          '--root',
          set.root,
          '--seed',
          String(seed),
          '--out',
          dir,
          '--experiment',
          experiment,
          ...overrides.flatMap((o) => ['--set', o]),
        ];
        const tag = `${set.name} seed ${seed}`;
        const setup = async () => {
          if (!existsSync(join(dir, 'setup.json')))
            await run('node', tsx('tools/fidelity/exp-side.ts', [...common, '--setup-only']), `exp ${tag}`);
        };
        const ready = setup();
        const side = (file: string, cmd: string, args: string[], what: string) => {
          if (existsSync(join(dir, file))) return;
          work.push(
            queue.add(async () => {
              await ready;
              // Checked again when the task starts: another harness process may have done it meanwhile.
              // (The scripts themselves refuse work another live process has claimed: <file>.running.)
              if (existsSync(join(dir, file)) || claimedElsewhere(join(dir, `${file}.running`))) return;
              await run(cmd, args, `${what} ${tag}`);
            }),
          );
        };
        if (values.sides !== 'torch') side('exp.json', 'node', tsx('tools/fidelity/exp-side.ts', common), 'exp');
        for (const init of values.sides === 'exp' ? [] : inits) {
          side(
            torchFile(init),
            values.python!,
            [spec.script, '--dir', dir, '--init', init, '--variant', variants.join(','), '--threads', values.threads!],
            'torch',
          );
        }
        await ready;
      }
    }
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === 'rejected') process.stderr.write(`fidelity: ${String(r.reason)}\n`);
  }
  report(sets);
}

/** AUC per (type, fault kind) of one side's scores, 'type kind' -> AUC. */
function kindAucs(
  setRoot: string,
  setup: { test: Array<Omit<ScoreRow, 'score'> & { path: string }> },
  scores: number[],
) {
  const clips = setup.test.map((m, i) => ({ ...m, label: m.label as 0 | 1, score: scores[i]! }));
  const byType = faultKindAuc(clips, readSynthManifest(join(setRoot, 'synth.json')));
  return new Map([...byType].flatMap(([t, kinds]) => [...kinds].map(([k, a]) => [`${t} ${k}`, a] as const)));
}

function report(sets: Array<{ name: string; root: string }>): void {
  const doc: Record<string, unknown> = {};
  for (const set of sets) {
    for (const init of inits) {
      const rows: Array<{
        seed: number;
        exp: ReturnType<typeof metricsOf>;
        torch: ReturnType<typeof metricsOf>;
        expLoss: number[];
        torchLoss: number[];
        kinds?: { exp: Map<string, number>; torch: Map<string, number> };
      }> = [];
      for (const seed of seeds) {
        const dir = join(out, set.name, values.system!, `seed-${seed}`);
        if (!existsSync(join(dir, 'exp.json')) || !existsSync(join(dir, torchFile(init)))) continue;
        const setup = JSON.parse(readFileSync(join(dir, 'setup.json'), 'utf8'));
        const e = JSON.parse(readFileSync(join(dir, 'exp.json'), 'utf8')) as Side;
        const t = JSON.parse(readFileSync(join(dir, torchFile(init)), 'utf8')) as Side;
        rows.push({
          seed,
          exp: metricsOf(setup, e.scores),
          torch: metricsOf(setup, t.scores),
          expLoss: e.epochs.map((x) => x.loss),
          torchLoss: t.epochs.map((x) => x.loss),
          ...(values.kinds
            ? { kinds: { exp: kindAucs(set.root, setup, e.scores), torch: kindAucs(set.root, setup, t.scores) } }
            : {}),
        });
      }
      const key = `${set.name} (${init} init${variants.length > 0 ? `, reference variant ${variants.join(' + ')}` : ''})`;
      // Seeds where only one side finished (e.g. --sides torch): their AUC alone, unpaired.
      const single = seeds.flatMap((seed) => {
        const dir = join(out, set.name, values.system!, `seed-${seed}`);
        const files = { exp: 'exp.json', PyTorch: torchFile(init) };
        const have = Object.entries(files).filter(([, f]) => existsSync(join(dir, f)));
        if (have.length !== 1) return [];
        const [side, file] = have[0]!;
        const setup = JSON.parse(readFileSync(join(dir, 'setup.json'), 'utf8'));
        const scores = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as Side).scores;
        const m = metricsOf(setup, scores);
        const types = Object.entries(m.types).map(([t, a]) => `${t} ${a.toFixed(3)}`);
        const kinds = values.kinds
          ? [...kindAucs(set.root, setup, scores)].map(([k, a]) => `\n  ${k}: ${a.toFixed(3)}`).join('')
          : '';
        return [
          `${side} only, seed ${seed}: AUC ${m.auc.toFixed(3)} pAUC ${m.paucMcclish.toFixed(3)} (${types.join(', ')})${kinds}`,
        ];
      });
      if (single.length > 0 && !values.json) process.stdout.write(`\n${key}, one side only:\n${single.join('\n')}\n`);
      if (rows.length < 2) {
        if (!values.json) process.stdout.write(`\n${key}: ${rows.length} finished seed(s), need 2 for a comparison\n`);
        continue;
      }
      const pick = (side: 'exp' | 'torch', m: 'auc' | 'paucMcclish') => rows.map((r) => r[side][m]);
      const f = (x: number) => x.toFixed(3).replace(/^0/, '').replace(/^-0/, '-');
      const line = (label: string, xs: number[]) =>
        `| ${label} | ${xs.map(f).join(' | ')} | ${f(mean(xs))} ± ${f(sd(xs))} |`;
      const lines = [
        `\n### ${values.system} on ${key}: ${rows.length} seeds`,
        `| seed | ${rows.map((r) => r.seed).join(' | ')} | mean ± sd |`,
        `|---|${rows.map(() => '---|').join('')}---|`,
        line('exp AUC', pick('exp', 'auc')),
        line('PyTorch AUC', pick('torch', 'auc')),
        line('exp pAUC (McClish)', pick('exp', 'paucMcclish')),
        line('PyTorch pAUC (McClish)', pick('torch', 'paucMcclish')),
        ...(Object.keys(rows[0]!.exp.types).length > 1
          ? Object.keys(rows[0]!.exp.types).flatMap((t) => [
              line(
                `exp AUC ${t}`,
                rows.map((r) => r.exp.types[t]!),
              ),
              line(
                `PyTorch AUC ${t}`,
                rows.map((r) => r.torch.types[t]!),
              ),
            ])
          : []),
        line(
          'exp last-epoch loss',
          rows.map((r) => r.expLoss.at(-1)!),
        ),
        line(
          'PyTorch last-epoch loss',
          rows.map((r) => r.torchLoss.at(-1)!),
        ),
      ];
      const diffs: Record<string, ReturnType<typeof pairedDifference>> = {};
      for (const m of ['auc', 'paucMcclish'] as const) {
        const d = pairedDifference(pick('exp', m), pick('torch', m));
        diffs[m] = d;
        lines.push(
          `exp - PyTorch ${m === 'auc' ? 'AUC' : 'pAUC'}: ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(4)} (95 % CI ${d.ci[0].toFixed(4)} to ${d.ci[1].toFixed(4)}, t = ${d.t.toFixed(2)}, p = ${d.p.toFixed(3)}), exp ahead on ${d.aAhead} of ${d.n}`,
        );
      }
      const epochs = rows[0]!.expLoss.length;
      lines.push(
        `mean loss per epoch, exp:     ${Array.from({ length: epochs }, (_, k) => mean(rows.map((r) => r.expLoss[k]!)).toFixed(3)).join(' ')}`,
        `mean loss per epoch, PyTorch: ${Array.from({ length: epochs }, (_, k) => mean(rows.map((r) => r.torchLoss[k]!)).toFixed(3)).join(' ')}`,
      );
      if (values.kinds) {
        lines.push('AUC per fault kind (mean over the seeds above), exp / PyTorch:');
        for (const k of rows[0]!.kinds!.exp.keys()) {
          const m = (side: 'exp' | 'torch') => mean(rows.map((r) => r.kinds![side].get(k) ?? Number.NaN));
          lines.push(`  ${k}: ${m('exp').toFixed(3)} / ${m('torch').toFixed(3)}`);
        }
      }
      if (!values.json) process.stdout.write(`${lines.join('\n')}\n`);
      doc[key] = {
        rows: rows.map(({ kinds, ...r }) => ({
          ...r,
          ...(kinds ? { kinds: { exp: Object.fromEntries(kinds.exp), torch: Object.fromEntries(kinds.torch) } } : {}),
        })),
        diffs,
      };
    }
  }
  writeFileSync(join(out, `${values.system}-report.json`), JSON.stringify(doc, null, 1));
  if (values.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`fidelity: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
