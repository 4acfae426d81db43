import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { SqliteRunStore } from '../../src/store/index.js';
import { buildReport, loadReport } from '../../src/report/html/index.js';
import { chromiumMissing, openChromium } from '../../tools/chromium.js';
import { reportStore } from '../fixtures/report-store.js';

/**
 * Opens a real report in headless chromium (npm run test:browser). Without chromium this FAILS
 * with a message saying the browser test did not run; it never passes silently.
 */
const missing = chromiumMissing();
if (missing) process.stderr.write(`\n*** ${missing}: the browser test did NOT run ***\n\n`);

test('the report opens from disk in chromium with no network request, and every figure is drawn with labelled axes and legends', async () => {
  assert.equal(missing, null, `${missing}: the browser test did NOT run`);
  const fixture = reportStore();
  const store = SqliteRunStore.forReading(fixture.db);
  const report = await buildReport(await loadReport(store, [fixture.sweep], fixture.db));
  await store.close();
  const file = join(fixture.dir, 'report.html');
  writeFileSync(file, report.html);

  const browser = await openChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    const figures = await page.$$eval('figure[data-figure]', (els) =>
      els.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const texts = [...(svg?.querySelectorAll('text') ?? [])]
          .filter((t) => t.getBoundingClientRect().width > 0)
          .map((t) => t.textContent ?? '');
        return {
          name: f.getAttribute('data-figure') ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          texts,
          lines: svg?.querySelectorAll('.mark-line.role-mark path').length ?? 0,
          rects: svg?.querySelectorAll('.mark-rect.role-mark path').length ?? 0,
          points: svg?.querySelectorAll('.mark-symbol.role-mark path').length ?? 0,
          caption: f.querySelector('figcaption')?.textContent ?? '',
        };
      }),
    );
    assert.deepEqual(
      figures.map((f) => f.name),
      report.figures.map((f) => f.name),
    );
    for (const f of figures) {
      assert.ok(f.width > 200 && f.height > 100, `${f.name} is drawn (${f.width} x ${f.height})`);
      assert.ok(f.caption.length > 40, `${f.name} has a caption`);
    }
    const byName = (n: string) => figures.find((f) => f.name === n)!;
    for (const type of ['fan', 'valve']) {
      const roc = byName(`rep-roc-${type}`);
      for (const t of [
        'false-positive rate (normal clips flagged)',
        'true-positive rate (anomalies detected)',
        'FPR ≤ 0.1',
      ])
        assert.ok(roc.texts.includes(t), `${roc.name}: ${t}`);
      assert.equal(
        roc.texts.filter((t) => /^.+: AUC \d+\.\d\d · pAUC \d+\.\d\d · pAUC\(McClish\) \d+\.\d\d$/.test(t)).length,
        3,
        `${roc.name}: a legend entry with AUC / pAUC / McClish per run`,
      );
      // Three runs' curves plus the chance diagonal; the shaded FPR <= 0.1 band.
      assert.equal(roc.lines, 4, roc.name);
      assert.ok(roc.rects >= 1, `${roc.name}: pAUC region`);
      const scores = byName(`rep-scores-${type}`);
      for (const t of ['normal', 'anomalous', 'clips', 'tastgram', 'full/seed=1'])
        assert.ok(scores.texts.includes(t), `${scores.name}: ${t}`);
      assert.ok(
        scores.texts.some((t) => t.startsWith('anomaly score')),
        `${scores.name}: x axis`,
      );
      assert.ok(scores.rects > 10, `${scores.name}: histogram bars`);
    }
    const curves = byName('rep-curves-full-seed-2');
    for (const t of [
      'epoch',
      'loss',
      'learning rate',
      'term: cls',
      'term: metric',
      'loss (total)',
      'AUC',
      'pAUC (McClish)',
    ])
      assert.ok(curves.texts.includes(t), `curves: ${t}`);
    const seeds = byName('rep-seeds');
    for (const t of ['ours: one run', 'ours: mean ± sd', 'paper', 'tastgram', 'full'])
      assert.ok(seeds.texts.includes(t), `seeds: ${t}`);
    assert.equal(seeds.points, 2 * (3 + 2), 'a point per run and a diamond per configuration, in both panels');
    const faults = byName('rep-faults');
    assert.ok(faults.texts.includes('fault severity') && faults.texts.includes('fan · bearing'), 'fault heat map axes');
    assert.ok(
      faults.texts.some((t) => /^\d+\/\d+$/.test(t)),
      'cells say detected/clips',
    );

    const tables = await page.$$eval('table.data', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length));
    assert.deepEqual(
      tables,
      [3, 2, 3],
      'paper-shaped table (3 runs), over-seeds table (2 configurations), provenance (3 runs)',
    );
    assert.deepEqual(browser.blocked, [], 'the page requested nothing from the network');
    assert.deepEqual(errors, []);

    const shot = await page.screenshot({ fullPage: true });
    const png = PNG.sync.read(shot);
    assert.ok(png.width >= 1400 && png.height > 3000, `full-page screenshot ${png.width} x ${png.height}`);
  } finally {
    await browser.close();
  }
});
