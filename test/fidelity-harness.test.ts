import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auc } from '../src/metrics/roc.js';

// The side-by-side harness's command line and report (tools/fidelity/main.ts), without PyTorch:
// the report is computed from stored sides, so this needs neither a training nor python.

const harness = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'tools/fidelity/main.ts', ...args], { encoding: 'utf8' });

test('fidelity: an unknown system and an --init the per-type references lack are user errors (exit 1, one line)', () => {
  const unknown = harness(['--system', 'nope', '--report-only']);
  assert.equal(unknown.status, 1);
  assert.match(
    unknown.stderr,
    /^fidelity: --system nope: no PyTorch reference yet \(have: fgaspecnet, glow-aff, mobilenetv2\)\n$/,
  );
  const init = harness(['--system', 'glow-aff', '--init', 'exp', '--report-only']);
  assert.equal(init.status, 1);
  assert.match(init.stderr, /^fidelity: --init exp: .*--init torch\)\n$/);
});

test('fidelity --report-only: the system defaults name the set, and the report gives per-type AUC of both sides', () => {
  const out = mkdtempSync(join(tmpdir(), 'fidelity-'));
  try {
    // The glow-aff defaults: the built-in set's clips (seed 0, 3 IDs, 30 + 100), 2 s, valve and slider.
    const set = 'v3-s0-3x30+100-2s-valve+slider';
    mkdirSync(join(out, 'sets', set), { recursive: true });
    writeFileSync(join(out, 'sets', set, 'synth.json'), '{}');
    // Two IDs per type, four test clips per ID; scores chosen so the AUCs differ by side and type.
    const test = ['valve', 'slider'].flatMap((type) =>
      ['id_00', 'id_02'].flatMap((id) => [0, 0, 1, 1].map((label) => ({ type, id, label }))),
    );
    const sides = (seed: number) => ({
      exp: test.map((m, i) => (m.type === 'valve' ? m.label + 0.1 * (i % 3) : (i % 4) - seed * 0.5)),
      torch: test.map((m, i) => (m.type === 'valve' ? -m.label : m.label * 2 + (i % 2))),
    });
    for (const seed of [1, 2]) {
      const dir = join(out, set, 'glow-aff', `seed-${seed}`);
      mkdirSync(dir, { recursive: true });
      const s = sides(seed);
      writeFileSync(join(dir, 'setup.json'), JSON.stringify({ test }));
      writeFileSync(join(dir, 'exp.json'), JSON.stringify({ scores: s.exp, epochs: [{ epoch: 1, loss: 2 }] }));
      writeFileSync(
        join(dir, 'torch-torch.json'),
        JSON.stringify({ scores: s.torch, epochs: [{ epoch: 1, loss: 3 }] }),
      );
    }
    const r = harness(['--system', 'glow-aff', '--report-only', '--json', '--seed-list', '1,2', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<
      string,
      {
        rows: Array<{
          seed: number;
          exp: { auc: number; types: Record<string, number> };
          torch: { types: Record<string, number> };
        }>;
      }
    >;
    const rows = doc[`${set} (torch init)`]!.rows;
    assert.deepEqual(
      rows.map((x) => x.seed),
      [1, 2],
    );
    // What the report must hold: the per-ID AUC (the ROC code), averaged over a type's IDs, per side.
    const perType = (scores: number[], type: string) => {
      const ids = ['id_00', 'id_02'].map((id) => {
        const idx = test.flatMap((m, i) => (m.type === type && m.id === id ? [i] : []));
        return auc(
          idx.map((i) => test[i]!.label),
          idx.map((i) => scores[i]!),
        );
      });
      return (ids[0]! + ids[1]!) / 2;
    };
    for (const [k, row] of rows.entries()) {
      const s = sides(k + 1);
      for (const type of ['valve', 'slider']) {
        assert.ok(Math.abs(row.exp.types[type]! - perType(s.exp, type)) < 1e-12, `exp ${type}`);
        assert.ok(Math.abs(row.torch.types[type]! - perType(s.torch, type)) < 1e-12, `torch ${type}`);
      }
      assert.ok(Math.abs(row.exp.auc - (row.exp.types.valve! + row.exp.types.slider!) / 2) < 1e-12);
    }
    assert.equal(rows[0]!.torch.types.valve, 0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
