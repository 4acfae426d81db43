// Store overhead per run session, SQLite vs PostgreSQL: claim (preflight + claim of a sweep trial),
// record (start, 3 epochs, 3 checkpoints, a final eval with 64 scores) and finish, with a trainer
// that does no work. Usage: node --import tsx bench/store-overhead.ts [postgres://...]
// (without a URL only SQLite is measured). Numbers are medians over 20 trials.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentConfig } from '../src/config/schema.js';
import { experimentHash } from '../src/config/hash.js';
import { runSession } from '../src/session/session.js';
import { openRunStore } from '../src/store/open.js';
import type { RunStore } from '../src/store/run-store.js';
import type { Trainer } from '../src/train/events.js';

const N = 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, store: RunStore): Promise<void> {
  const name = `bench-${Date.now()}`;
  const configs = Array.from({ length: N }, (_, i) =>
    ExperimentConfig.parse({ name: 'bench', seed: i, train: { epochs: 3 } }),
  );
  const trials = configs.map((config, i) => ({
    name: `t${i}`,
    index: i,
    hash: experimentHash(config),
    config,
    paper: null,
    set: {},
  }));
  await store.registerSweep({ name, file: 'bench.yaml', profile: null, spec: {}, trials });
  const claim: number[] = [];
  const record: number[] = [];
  const finish: number[] = [];
  for (const trial of trials) {
    const t0 = performance.now();
    let t1 = 0;
    let t2 = 0;
    const trainer: Trainer = async (t) => {
      t1 = performance.now();
      await t.onEvent({
        kind: 'start',
        backend: 'none',
        threads: 1,
        params: { total: 1, modules: {} },
        numClasses: 4,
        trainClips: 64,
        valClips: 0,
        testClips: 64,
        stepsPerEpoch: 4,
        epochs: 3,
        startEpoch: 1,
      });
      for (let epoch = 1; epoch <= 3; epoch++) {
        await t.onEvent({
          kind: 'epoch',
          epoch,
          epochs: 3,
          loss: 1,
          terms: { cls: 1 },
          lr: 1e-3,
          clipsPerSec: 1,
          seconds: 1,
          valLoss: null,
        });
        await t.onEvent({ kind: 'checkpoint', epoch, path: `/tmp/none/${epoch}`, best: true });
      }
      const m = { auc: 0.9, pauc: 0.8, paucMcclish: 0.85 };
      const scores = Array.from({ length: 64 }, (_, k) => ({
        path: `c${k}.wav`,
        type: 'fan',
        id: '00',
        label: (k % 2) as 0 | 1,
        score: k,
      }));
      await t.onEvent({
        kind: 'eval',
        epoch: 3,
        final: true,
        ids: { 'fan/00': { ...m, type: 'fan', id: '00' } },
        types: { fan: m },
        average: m,
        scores,
      });
      t2 = performance.now();
    };
    const out = await runSession({
      store,
      trainer,
      backend: 'none',
      target: {
        kind: 'trial',
        sweep: { sweep: name, profile: null },
        trial,
        policy: { rerunFailed: false, force: false, staleSeconds: 300, forceBefore: Date.now() },
      },
    });
    if (out.status !== 'done') throw new Error(`trial ${trial.name}: ${out.status}`);
    const t3 = performance.now();
    claim.push(t1 - t0);
    record.push(t2 - t1);
    finish.push(t3 - t2);
  }
  console.log(
    `${label.padEnd(12)} claim ${median(claim).toFixed(1).padStart(6)} ms   record ${median(record).toFixed(1).padStart(6)} ms   finish ${median(finish).toFixed(1).padStart(6)} ms   (median of ${N})`,
  );
  await store.close();
}

await measure('sqlite', await openRunStore(join(mkdtempSync(join(tmpdir(), 'exp-bench-')), 'exp.db')));
const url = process.argv[2];
if (url) await measure('postgresql', await openRunStore(url));
else console.log('postgresql   not measured (give a postgres:// URL)');
