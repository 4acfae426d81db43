import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { SweepDashboard } from '../src/dashboard/components.js';
import { SweepStateStore, initialTrialView, type SweepState } from '../src/sweep/state.js';
import { queueCounts, sweepEta, trialProgress } from '../src/dashboard/derive.js';
import { attachPlainProgress } from '../src/dashboard/plain.js';

const now = 1_000_000;
function state(): SweepState {
  const t = [0, 1, 2, 3].map((i) => initialTrialView(i, `trial-${i}`, { auc: 94 + i / 10, pauc: 88 + i / 10 }));
  t[0] = {
    ...t[0]!,
    status: 'done',
    result: { auc: 0.8123, pauc: 0.6, paucMcclish: 0.7012 },
    startedAt: now - 100_000,
    finishedAt: now - 50_000,
  };
  t[1] = {
    ...t[1]!,
    status: 'done',
    result: { auc: 0.9001, pauc: 0.7, paucMcclish: 0.8 },
    startedAt: now - 50_000,
    finishedAt: now - 10_000,
  };
  t[2] = {
    ...t[2]!,
    status: 'running',
    epoch: 3,
    epochs: 4,
    startEpoch: 1,
    step: 5,
    stepsPerEpoch: 10,
    loss: 1.23456,
    clipsPerSec: 42.5,
    startedAt: now - 25_000,
  };
  return {
    sweep: 'ablation',
    profile: 'quick',
    concurrency: 1,
    startedAt: now - 100_000,
    trials: t,
    message: null,
    finished: false,
  };
}

test('the dashboard shows queue counts, the running trial with its progress, and a leaderboard beside the paper', () => {
  const { lastFrame, unmount } = render(createElement(SweepDashboard, { state: state(), width: 100, now }));
  const frame = lastFrame()!;
  unmount();
  assert.match(frame, /sweep ablation/);
  assert.match(frame, /profile quick/);
  assert.match(frame, /2 done/);
  assert.match(frame, /1 running/);
  assert.match(frame, /1 queued/);
  assert.match(frame, /epoch 3\/4 step 5\/10/);
  assert.match(frame, /loss 1\.2346/);
  assert.match(frame, /42\.5 clips\/s/);
  // 25/40 steps in 25 s -> 15 s left for the trial.
  assert.match(frame, /ETA 15s/);
  // Leaderboard: best AUC first, ours in % beside the paper's.
  const board = frame.slice(frame.indexOf(' #  trial'));
  const i1 = board.indexOf('trial-1  ');
  const i0 = board.indexOf('trial-0  ');
  assert.ok(i1 >= 0 && i0 > i1, 'trial-1 (90.01) ranks above trial-0 (81.23)');
  assert.match(frame, /trial-1\s+90\.01\s+80\.00\s+94\.10\/88\.10/);
});

test('progress math: fraction, per-trial ETA and the sweep ETA from finished trials', () => {
  const s = state();
  const p = trialProgress(s.trials[2]!, now);
  assert.equal(p.fraction, 25 / 40);
  assert.equal(p.etaSec, 15);
  assert.deepEqual(queueCounts(s), {
    done: 2,
    running: 1,
    queued: 1,
    failed: 0,
    interrupted: 0,
    busy: 0,
    stale: 0,
    paused: 0,
    promoted: 0,
    pruned: 0,
  });
  // Lengths seen: 50 s, 40 s and the running one's projection 25/0.625 = 40 s -> mean 43.33 s for the queued trial.
  const eta = sweepEta(s, now)!;
  assert.ok(Math.abs(eta - (15 + (50 + 40 + 40) / 3)) < 1e-9, String(eta));
});

test('the bar adapts to the terminal width', () => {
  const wide = render(createElement(SweepDashboard, { state: state(), width: 100, now }));
  const narrow = render(createElement(SweepDashboard, { state: state(), width: 60, now }));
  const bars = (f: string) => (f.match(/[█░]+/) ?? [''])[0].length;
  assert.ok(bars(wide.lastFrame()!) > bars(narrow.lastFrame()!));
  wide.unmount();
  narrow.unmount();
});

test('plain progress prints one line per finished epoch and per trial result, nothing per step', () => {
  const store = new SweepStateStore(state(), 0);
  const lines: string[] = [];
  const detach = attachPlainProgress(store, (l) => lines.push(l));
  store.updateTrial(2, { step: 6 });
  store.updateTrial(2, { lastEpoch: { epoch: 3, loss: 1.5, clipsPerSec: 40 }, terms: { nll: 1.25, id: 0.25 } });
  store.updateTrial(2, { status: 'done', result: { auc: 0.95, pauc: 0.8, paucMcclish: 0.9 }, finishedAt: now });
  detach();
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[1]!, /trial-2: epoch 3\/4 loss 1\.5000 \(nll 1\.2500 id 0\.2500\)/);
  assert.match(lines[2]!, /trial-2: done.*AUC 95\.00.*paper 94\.20 \/ 88\.20/);
});

test('a finished trial points to exp report (with the store when it is not the default), and so does a finished sweep', () => {
  const s: SweepState = { ...state(), dbFile: '/tmp/lab/exp.db' };
  s.trials[0] = { ...s.trials[0]!, runId: 'mb3k9x2a-7f3q' };
  const running = render(createElement(SweepDashboard, { state: s, width: 160, now }));
  const during = running.lastFrame()!;
  running.unmount();
  assert.match(
    during,
    /✓ trial-0 .*\n {2}figures: exp report mb3k9x2a-7f3q --out mb3k9x2a-7f3q\.html --db \/tmp\/lab\/exp\.db\n/,
  );
  assert.doesNotMatch(during, /figures of the whole sweep/);
  const done = render(
    createElement(SweepDashboard, { state: { ...s, finished: true, dbFile: 'runs/exp.db' }, width: 160, now }),
  );
  const after = done.lastFrame()!;
  done.unmount();
  assert.match(after, /figures of the whole sweep: exp report ablation --out ablation\.html$/m);
});

test('the header and the first plain line say how many trials run at once and why, when the engine publishes it', () => {
  const line = '2 trials at a time, 1 thread each (auto: 2 cores)';
  const withLine: SweepState = { ...state(), concurrency: 2, parallelism: line };
  const view = render(createElement(SweepDashboard, { state: withLine, width: 120, now }));
  const frame = view.lastFrame()!;
  view.unmount();
  assert.match(frame, /ETA \S+ · 2 trials at a time, 1 thread each \(auto: 2 cores\)/);
  assert.doesNotMatch(frame, /concurrency 2/);
  const old = render(createElement(SweepDashboard, { state: state(), width: 120, now }));
  assert.match(old.lastFrame()!, /· concurrency 1/, 'without it (a followed Slurm sweep): the number');
  old.unmount();
  const lines: string[] = [];
  attachPlainProgress(new SweepStateStore(withLine, 0), (l) => lines.push(l))();
  assert.match(
    lines[0]!,
    /^sweep ablation \(profile quick\): 4 trials, .*; 2 trials at a time, 1 thread each \(auto: 2 cores\)$/,
  );
});
