import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auc, partialAuc, partialAucMcclish } from '../src/metrics/roc.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'exp-metrics-'));

function exp(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// fan: two IDs; valve: one. Columns deliberately out of order.
const lines = ['id,score,label,type'];
const data: Record<string, { y: number[]; s: number[] }> = {};
let seed = 3;
const u = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
for (const [type, id, shift] of [
  ['fan', 'id_00', 0.4],
  ['fan', 'id_04', 0.1],
  ['valve', 'id_01', 0.7],
] as const) {
  const key = `${type}/${id}`;
  data[key] = { y: [], s: [] };
  for (let i = 0; i < 40; i++) {
    for (const label of [0, 1]) {
      const s = Number((u() + label * shift).toFixed(3));
      lines.push(`${id},${s},${label},${type}`);
      data[key]!.y.push(label);
      data[key]!.s.push(s);
    }
  }
}
const good = write('scores.csv', `${lines.join('\n')}\n`);

test('exp metrics --json: the interface shape, per-ID then mean', () => {
  const r = exp('metrics', good, '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    types: Record<string, Record<string, number>>;
    average: Record<string, number>;
  };
  assert.deepEqual(Object.keys(doc.types).sort(), ['fan', 'valve']);
  const a = data['fan/id_00']!;
  const b = data['fan/id_04']!;
  const v = data['valve/id_01']!;
  const fan = (auc(a.y, a.s) + auc(b.y, b.s)) / 2;
  assert.ok(Math.abs(doc.types.fan!.auc! - fan) < 1e-12);
  assert.ok(Math.abs(doc.types.valve!.pauc! - partialAuc(v.y, v.s)) < 1e-12);
  assert.ok(Math.abs(doc.types.valve!.paucMcclish! - partialAucMcclish(v.y, v.s)) < 1e-12);
  assert.ok(Math.abs(doc.average.auc! - (fan + auc(v.y, v.s)) / 2) < 1e-12);
  for (const k of ['auc', 'pauc', 'paucMcclish']) assert.ok(doc.average[k]! >= 0 && doc.average[k]! <= 1);
});

test('exp metrics --pooled pools each type; the table shows types x AUC / pAUC / McClish', () => {
  const p = exp('metrics', good, '--json', '--pooled');
  assert.equal(p.code, 0, p.stderr);
  const fanAll = {
    y: [...data['fan/id_00']!.y, ...data['fan/id_04']!.y],
    s: [...data['fan/id_00']!.s, ...data['fan/id_04']!.s],
  };
  assert.ok(
    Math.abs((JSON.parse(p.stdout) as { types: { fan: { auc: number } } }).types.fan.auc - auc(fanAll.y, fanAll.s)) <
      1e-12,
  );
  const t = exp('metrics', good);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /AUC %\s+pAUC %\s+pAUC\(McClish\) %/);
  assert.match(t.stdout, /^fan\s+2\s+160\s+\d+\.\d\d/m);
  assert.match(t.stdout, /^valve\s+1\s+80\s/m);
  assert.match(t.stdout, /^average\s/m);
});

test('bad CSVs exit 1 with one line naming file, line and column', () => {
  const cases: Array<[string, RegExp]> = [
    ['type,id,score\nfan,id_00,0.1\n', /:1: missing column "label"/],
    ['type,id,label,score\nfan,id_00,1,0.2\nfan,id_00,0,nope\n', /:3: column "score" must be a finite number/],
    ['type,id,label,score\nfan,id_00,yes,0.2\n', /:2: column "label" must be 0 \(normal\) or 1 \(anomaly\)/],
    [
      'type,id,label,score\nfan,id_00,1,0.2\nfan,id_00,0,0.1\nfan,id_02,0,0.3\n',
      /type "fan", id "id_02" has no anomalies \(label 1\) in column "label"/,
    ],
  ];
  for (const [i, [text, re]] of cases.entries()) {
    const f = write(`bad${i}.csv`, text);
    const r = exp('metrics', f, '--json');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(f), r.stderr);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const missing = exp('metrics', join(dir, 'nope.csv'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.csv: no such file/);
});
