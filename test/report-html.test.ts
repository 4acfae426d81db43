import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { auc, partialAuc } from '../src/metrics/roc.js';
import { averageRoc, curveArea, rocCurve, thresholdAtFpr, type RocPoint } from '../src/metrics/curve.js';
import { evaluate } from '../src/metrics/evaluate.js';
import { openDatabase, SqliteRunStore } from '../src/store/index.js';
import { buildReport, loadReport, type ReportData } from '../src/report/html/index.js';
import { reportStore } from './fixtures/report-store.js';

const close = (a: number, b: number, tol = 1e-9, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg}: ${a} vs ${b}`);

/** Labels with both classes and scores drawn from few values (ties) or many. */
const dataset = fc
  .integer({ min: 2, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      fc.oneof(
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n }),
      ),
    ),
  )
  .filter(([y]) => y.includes(0) && y.includes(1));

/** The ROC from its definition: for every distinct threshold t (high to low), the share of each class scoring >= t. */
function naiveRoc(y: number[], s: number[]): RocPoint[] {
  const nP = y.filter((v) => v === 1).length;
  const nN = y.length - nP;
  const pts: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  for (const t of [...new Set(s)].sort((a, b) => b - a)) {
    pts.push({
      fpr: s.filter((v, i) => v >= t && y[i] === 0).length / nN,
      tpr: s.filter((v, i) => v >= t && y[i] === 1).length / nP,
    });
  }
  return pts;
}

test('rocCurve is the ROC of its definition, and its area is auc / partialAuc of the metrics module', () => {
  fc.assert(
    fc.property(dataset, ([y, s]) => {
      const c = rocCurve(y, s);
      assert.deepEqual(c, naiveRoc(y, s));
      close(curveArea(c), auc(y, s), 1e-12, 'AUC');
      close(curveArea(c, 0.1) / 0.1, partialAuc(y, s, 0.1), 1e-9, 'pAUC');
    }),
  );
});

test('the vertical average of ROC curves has the mean of their AUCs and pAUCs (how the report draws a type)', () => {
  fc.assert(
    fc.property(
      fc.array(dataset, { minLength: 1, maxLength: 4 }),
      fc.double({ min: 0.01, max: 1, noNaN: true }),
      (sets, p) => {
        const avg = averageRoc(sets.map(([y, s]) => rocCurve(y, s)));
        close(curveArea(avg), sets.reduce((a, [y, s]) => a + auc(y, s), 0) / sets.length, 1e-12, 'AUC');
        close(
          curveArea(avg, p),
          sets.reduce((a, [y, s]) => a + p * partialAuc(y, s, p), 0) / sets.length,
          1e-12,
          'partial area',
        );
        for (let k = 1; k < avg.length; k++)
          assert.ok(avg[k]!.fpr >= avg[k - 1]!.fpr && avg[k]!.tpr >= avg[k - 1]!.tpr - 1e-15, 'monotone');
      },
    ),
  );
});

/** Brute force: the lowest candidate threshold whose FPR (share of normals strictly above it) is at most p. */
function bruteThreshold(normals: number[], all: number[], p: number): number {
  const feasible = [Number.NEGATIVE_INFINITY, ...all].filter(
    (t) => normals.filter((x) => x > t).length <= p * normals.length + 1e-9,
  );
  return Math.min(...feasible);
}

test('thresholdAtFpr: the FPR is at most p, and no lower threshold keeps it (most anomalies flagged)', () => {
  fc.assert(
    fc.property(dataset, fc.constantFrom(0, 0.05, 0.1, 0.25, 0.5, 1), ([y, s], p) => {
      const normals = s.filter((_, i) => y[i] === 0);
      const t = thresholdAtFpr(normals, p);
      const flagged = (th: number) => s.filter((v, i) => y[i] === 1 && v > th).length;
      assert.ok(normals.filter((x) => x > t).length <= p * normals.length + 1e-9);
      assert.equal(flagged(t), flagged(bruteThreshold(normals, s, p)));
    }),
  );
});

const fixture = reportStore();

/** Built once, read by every test below. */
let report: ReturnType<typeof buildReport> | undefined;
function built() {
  if (!report) {
    report = (async () => {
      const store = SqliteRunStore.forReading(fixture.db);
      const input = await loadReport(store, [fixture.sweep], fixture.db).finally(() => store.close());
      return buildReport(input, { now: new Date(0) });
    })();
  }
  return report;
}

/** The data block the HTML carries, parsed back out of the page. */
function embedded(html: string): ReportData {
  const m = html.match(/<script type="application\/json" id="exp-report-data">([\s\S]*?)<\/script>/);
  assert.ok(m, 'the report embeds its numbers');
  return JSON.parse(m[1]!) as ReportData;
}

test("report: each ROC curve in the page is the average of the metrics module's per-ID ROCs, with the stored AUC / pAUC as its area and in its legend", async () => {
  const r = await built();
  const data = embedded(r.html);
  assert.deepEqual(data, JSON.parse(JSON.stringify(r.data)));
  const g = data.groups[0]!;
  assert.deepEqual(Object.keys(g.roc), ['fan', 'valve']);
  const db = openDatabase(fixture.db, { readonly: true });
  const runs = db.prepare('SELECT id FROM runs ORDER BY trial_index').all() as Array<{ id: string }>;
  for (const [type, series] of Object.entries(g.roc)) {
    assert.equal(series.length, 3);
    for (const s of series) {
      const rows = db
        .prepare(
          'SELECT machine_id, label, score FROM scores WHERE run_id = ? AND final = 1 AND type = ? ORDER BY machine_id',
        )
        .all(s.runId, type) as Array<{ machine_id: string; label: number; score: number }>;
      const ids = [...new Set(rows.map((r) => r.machine_id))];
      const perId = ids.map((id) => rows.filter((r) => r.machine_id === id));
      assert.deepEqual(
        s.points,
        averageRoc(
          perId.map((r) =>
            rocCurve(
              r.map((x) => x.label),
              r.map((x) => x.score),
            ),
          ),
        ),
      );
      const stored = db
        .prepare(
          `SELECT auc, pauc, pauc_mcclish FROM results WHERE run_id = ? AND final = 1 AND scope = 'type' AND type = ?`,
        )
        .get(s.runId, type) as { auc: number; pauc: number; pauc_mcclish: number };
      close(curveArea(s.points), stored.auc, 1e-12, `${type} AUC`);
      close(curveArea(s.points, 0.1) / 0.1, stored.pauc, 1e-9, `${type} pAUC`);
      const legend = `${s.run}: AUC ${(100 * stored.auc).toFixed(2)} · pAUC ${(100 * stored.pauc).toFixed(2)} · pAUC(McClish) ${(100 * stored.pauc_mcclish).toFixed(2)}`;
      const fig = r.figures.find((f) => f.name === `rep-roc-${type}`)!;
      assert.ok(fig.svg.includes(legend), `legend of ${type} shows ${legend}`);
    }
    assert.deepEqual(
      series.map((s) => s.runId),
      runs.map((r) => r.id),
    );
  }
  db.close();
});

test('report: detection per fault kind and severity equals an independent count from synth.json and the stored scores', async () => {
  const { data } = await built();
  const db = openDatabase(fixture.db, { readonly: true });
  const faults = data.groups[0]!.faults;
  assert.equal(faults.length, 3);
  const band = (s: number) => (s < 0.2 ? 'subtle' : s < 0.5 ? 'medium' : 'strong');
  const clip = new Map(fixture.manifest.test.map((c) => [`${fixture.root}/${c.file}`, c]));
  for (const f of faults) {
    const rows = db
      .prepare('SELECT path, type, machine_id AS id, label, score FROM scores WHERE run_id = ? AND final = 1')
      .all(f.runId) as Array<{ path: string; type: string; id: string; label: number; score: number }>;
    const expected = new Map<string, { clips: number; detected: number }>();
    for (const r of rows.filter((x) => x.label === 1)) {
      const same = rows.filter((x) => x.type === r.type && x.id === r.id);
      const normals = same.filter((x) => x.label === 0).map((x) => x.score);
      const t = bruteThreshold(
        normals,
        same.map((x) => x.score),
        0.1,
      );
      const m = clip.get(r.path)!;
      const key = `${r.type}|${m.fault}|${band(m.severity!)}`;
      const e = expected.get(key) ?? { clips: 0, detected: 0 };
      e.clips++;
      if (r.score > t) e.detected++;
      expected.set(key, e);
    }
    const got = new Map(
      f.breakdown.cells.map((c) => [
        `${c.type}|${c.fault}|${c.severity.split(' ')[0]}`,
        { clips: c.clips, detected: c.detected },
      ]),
    );
    assert.deepEqual(got, expected);
    assert.equal(
      [...got.values()].reduce((n, c) => n + c.clips, 0),
      fixture.manifest.test.filter((c) => c.label === 1).length,
    );
    for (const th of f.breakdown.thresholds) assert.ok(th.fpr <= 0.1 + 1e-12, `${th.type}/${th.id} FPR ${th.fpr}`);
  }
  db.close();
});

test('report: one self-contained page (no URL it would fetch), every figure an inline SVG, the sweep table and provenance', async () => {
  const { html, figures } = await built();
  // 1 over-seeds chart, 2 types x (ROC + scores), 3 learning-curve figures, 1 fault heat map.
  assert.equal(figures.length, 1 + 2 * 2 + 3 + 1);
  assert.equal((html.match(/<figure /g) ?? []).length, figures.length);
  for (const f of figures) {
    assert.match(f.svg, /^<svg [^>]*width="\d+" height="\d+"/);
    assert.ok(html.includes(`data-figure="${f.name}"`));
  }
  assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/i);
  assert.doesNotMatch(html, /<script(?![^>]*type="application\/json")/i, 'no executable script');
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:|\/\/)/i);
  assert.doesNotMatch(html, /url\(\s*["']?(https?:|\/\/)|@import/i);
  for (const text of [
    'false-positive rate',
    'true-positive rate',
    'anomaly score',
    'learning rate',
    'fault severity',
    'FPR ≤ 0.1',
  ])
    assert.ok(html.includes(text), text);
  // Table 3 shape with the paper beside ours; over-seeds mean ± sd of the two seeds of "full".
  assert.match(html, /<th>SpecNet<\/th>/);
  assert.match(
    html,
    /<p class="caption">in the shape of the paper(&#39;|')s Table 3 \(ablation\); profile: [^<]+<\/p>/,
  );
  assert.match(html, /<td>full<\/td><td>1,2<\/td><td class="num">\d+\.\d\d ± \d+\.\d\d<\/td>/);
  const db = openDatabase(fixture.db, { readonly: true });
  const runs = db.prepare('SELECT id, config_hash, git_commit FROM runs').all() as Array<{
    id: string;
    config_hash: string;
    git_commit: string | null;
  }>;
  db.close();
  for (const r of runs) {
    assert.ok(html.includes(r.config_hash), 'config hash in provenance');
    if (r.git_commit) assert.ok(html.includes(r.git_commit.slice(0, 12)), 'commit in provenance');
  }
  assert.match(html, /<td>wasm<\/td><td class="num">2<\/td><td>relaxed<\/td>/);
});

test('report: evalEvery AUCs, validation loss and every loss term reach the learning curves', async () => {
  const { figures } = await built();
  const full2 = figures.find((f) => f.name === 'rep-curves-full-seed-2')!;
  const tast = figures.find((f) => f.name === 'rep-curves-tastgram')!;
  for (const s of ['term: cls', 'term: metric', 'loss (total)', 'AUC', 'pAUC (McClish)'])
    assert.ok(full2.svg.includes(s), s);
  assert.ok(tast.svg.includes('not recorded (set train.evalEvery)'));
  assert.ok(figures.find((f) => f.name === 'rep-curves-full-seed-1')!.svg.includes('validation loss'));
  assert.ok(!tast.svg.includes('validation loss'));
});

test("fixture sanity: the stored metrics are the metrics module's on the stored scores", () => {
  const db = openDatabase(fixture.db, { readonly: true });
  const run = db.prepare(`SELECT id FROM runs WHERE trial = 'tastgram'`).get() as { id: string };
  const rows = db
    .prepare('SELECT type, machine_id AS id, label, score FROM scores WHERE run_id = ? AND final = 1')
    .all(run.id) as Array<{ type: string; id: string; label: number; score: number }>;
  const avg = db
    .prepare(`SELECT auc FROM results WHERE run_id = ? AND final = 1 AND scope = 'average'`)
    .get(run.id) as { auc: number };
  db.close();
  close(evaluate(rows).average.auc, avg.auc, 1e-12, 'average AUC');
  assert.ok(readFileSync(`${fixture.root}/synth.json`, 'utf8').includes('"fault"'));
});
