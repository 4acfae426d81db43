import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type ScoreRow } from '../src/metrics/evaluate.js';
import { auc, partialAuc, partialAucMcclish } from '../src/metrics/roc.js';
import { parseScoresCsv } from '../src/metrics/csv.js';
import { UserError } from '../src/util/errors.js';

/** Two types; fan has two IDs of different difficulty, so per-ID mean and pooled differ. */
function rows(): ScoreRow[] {
  const out: ScoreRow[] = [];
  let s = 7;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const add = (type: string, id: string, n: number, shift: number, offset: number) => {
    for (let i = 0; i < n; i++) {
      out.push({ type, id, label: 0, score: offset + u() });
      out.push({ type, id, label: 1, score: offset + shift + u() });
    }
  };
  add('fan', 'id_00', 30, 0.5, 0);
  add('fan', 'id_02', 25, 0.2, 3); // an offset: pooling mixes scales, per-ID does not care
  add('pump', 'id_00', 40, 0.8, 0);
  return out;
}

const pick = (r: ScoreRow[], f: (x: ScoreRow) => boolean) => {
  const sel = r.filter(f);
  return { y: sel.map((x) => x.label), s: sel.map((x) => x.score) };
};

test('per ID, then mean over IDs, then mean over types (DCASE)', () => {
  const r = rows();
  const e = evaluate(r);
  const f0 = pick(r, (x) => x.type === 'fan' && x.id === 'id_00');
  const f2 = pick(r, (x) => x.type === 'fan' && x.id === 'id_02');
  const p0 = pick(r, (x) => x.type === 'pump');
  const fanAuc = (auc(f0.y, f0.s) + auc(f2.y, f2.s)) / 2;
  assert.equal(e.types.fan!.auc, fanAuc);
  assert.equal(e.types.fan!.pauc, (partialAuc(f0.y, f0.s) + partialAuc(f2.y, f2.s)) / 2);
  assert.equal(e.types.fan!.paucMcclish, (partialAucMcclish(f0.y, f0.s) + partialAucMcclish(f2.y, f2.s)) / 2);
  assert.equal(e.types.pump!.auc, auc(p0.y, p0.s));
  assert.equal(e.average.auc, (fanAuc + auc(p0.y, p0.s)) / 2);
  assert.deepEqual(Object.keys(e.ids.fan!), ['id_00', 'id_02']);
  assert.equal(e.ids.fan!.id_02!.normals, 25);
  assert.equal(e.ids.fan!.id_02!.anomalies, 25);
});

test('pooled: one ROC per type over all its IDs (TASTgram)', () => {
  const r = rows();
  const e = evaluate(r, { pooled: true });
  const fan = pick(r, (x) => x.type === 'fan');
  assert.equal(e.types.fan!.auc, auc(fan.y, fan.s));
  assert.equal(e.types.fan!.pauc, partialAuc(fan.y, fan.s));
  assert.notEqual(e.types.fan!.auc, evaluate(r).types.fan!.auc);
  assert.equal(e.pooled, true);
});

test('every value is in [0, 1]; an ID without both classes is a UserError naming it', () => {
  const e = evaluate(rows(), { maxFpr: 0.2 });
  for (const v of [...Object.values(e.types), e.average]) for (const x of Object.values(v)) assert.ok(x >= 0 && x <= 1);
  const bad = rows().filter((x) => !(x.type === 'pump' && x.label === 1));
  assert.throws(
    () => evaluate(bad),
    (err: unknown) => err instanceof UserError && /"pump", id "id_00" has 0 anomalies/.test(err.message),
  );
});

test('CSV: any column order, quotes, CRLF; errors name file, line and column', () => {
  const ok = parseScoresCsv(
    'score,label,"id",type,extra\r\n0.5,1,id_00,fan,x\r\n"1e-3",0,"id,00",fan,y\r\n\r\n',
    'a.csv',
  );
  assert.deepEqual(ok, [
    { type: 'fan', id: 'id_00', label: 1, score: 0.5 },
    { type: 'fan', id: 'id,00', label: 0, score: 0.001 },
  ]);
  const err = (text: string, re: RegExp) =>
    assert.throws(
      () => parseScoresCsv(text, 'b.csv'),
      (e: unknown) => e instanceof UserError && re.test(e.message),
      re.source,
    );
  err('type,id,label\nfan,1,0\n', /^b\.csv:1: missing column "score"/);
  err(
    'type,id,label,score\nfan,id_00,1,0.3\nfan,id_00,0,abc\n',
    /^b\.csv:3: column "score" must be a finite number, got "abc"/,
  );
  err('type,id,label,score\nfan,id_00,1,\n', /^b\.csv:2: column "score"/);
  err(
    'type,id,label,score\nfan,id_00,2,0.1\n',
    /^b\.csv:2: column "label" must be 0 \(normal\) or 1 \(anomaly\), got "2"/,
  );
  err('type,id,label,score\nfan,id_00,1\n', /^b\.csv:2: 3 fields, the header has 4/);
  err('type,id,label,score\n', /no data lines/);
  err('', /empty file/);
});
