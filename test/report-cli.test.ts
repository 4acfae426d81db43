import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { CLI } from './fixtures/sweep-env.js';
import { reportStore } from './fixtures/report-store.js';

const fixture = reportStore();
const exp = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** A user error: exit 1, one line on stderr naming the problem, no stack trace. */
function userError(r: ReturnType<typeof exp>, pattern: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr.split('\n')[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('exp report <sweep> --out --png: one HTML file with every figure inline, and each figure as a PNG', () => {
  const out = join(fixture.dir, 'report.html');
  const png = join(fixture.dir, 'figs');
  const r = exp('report', fixture.sweep, '--out', out, '--png', png, '--db', fixture.db);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /wrote .*report\.html \(9 figures/);
  const html = readFileSync(out, 'utf8');
  assert.equal((html.match(/<figure /g) ?? []).length, 9);
  const files = readdirSync(png)
    .filter((f) => f.endsWith('.png'))
    .sort();
  assert.deepEqual(files, [
    'rep-curves-full-seed-1.png',
    'rep-curves-full-seed-2.png',
    'rep-curves-tastgram.png',
    'rep-faults.png',
    'rep-roc-fan.png',
    'rep-roc-valve.png',
    'rep-scores-fan.png',
    'rep-scores-valve.png',
    'rep-seeds.png',
  ]);
  for (const f of files) {
    const img = PNG.sync.read(readFileSync(join(png, f)));
    const svgWidth = Number(
      html.match(new RegExp(`data-figure="${f.replace('.png', '')}"><svg [^>]*width="(\\d+)"`))![1],
    );
    assert.equal(img.width, 2 * svgWidth, `${f} is drawn at twice the SVG's size`);
    // Not blank: a drawn figure has many distinct pixel values.
    const seen = new Set<number>();
    for (let i = 0; i < img.data.length; i += 4 * 97) seen.add(img.data.readUInt32BE(i));
    assert.ok(seen.size > 5, `${f} has drawn content`);
  }
});

test('exp report: a run reference works as well as a sweep', () => {
  const out = join(fixture.dir, 'one.html');
  const r = exp('report', 'tastgram', '--out', out, '--db', fixture.db);
  assert.equal(r.status, 0, r.stderr);
  // 2 ROC + 2 score figures, 1 learning-curve figure, 1 fault heat map; no sweep chart for loose runs.
  assert.equal((readFileSync(out, 'utf8').match(/<figure /g) ?? []).length, 6);
});

test('exp report: bad input is one line naming it, exit 1, before any work', () => {
  userError(
    exp('report', 'no-such-run', '--out', join(fixture.dir, 'x.html'), '--db', fixture.db),
    /^exp: run "no-such-run": no run/,
  );
  userError(
    exp('report', fixture.sweep, '--out', '/no/such/dir/r.html', '--db', fixture.db),
    /--out \/no\/such\/dir\/r\.html: directory \/no\/such\/dir does not exist/,
  );
  userError(exp('report', fixture.sweep, '--db', fixture.db), /give --out FILE\.html .*--png DIR/);
  userError(
    exp('report', fixture.sweep, '--out', join(fixture.dir, 'y.html'), '--db', join(fixture.dir, 'missing.db')),
    /^exp: --db .*missing\.db: no run store at that path /,
  );
  assert.ok(!existsSync(join(fixture.dir, 'x.html')) && !existsSync(join(fixture.dir, 'y.html')));
});

test('exp report keeps the --out rule: it replaces its own earlier report, never a file it did not write', () => {
  const mine = join(fixture.dir, 'again.html');
  assert.equal(exp('report', 'tastgram', '--out', mine, '--db', fixture.db).status, 0);
  const again = exp('report', 'tastgram', '--out', mine, '--db', fixture.db);
  assert.equal(again.status, 0, again.stderr);
  const theirs = join(fixture.dir, 'notes.html');
  writeFileSync(theirs, 'my notes');
  userError(
    exp('report', 'tastgram', '--out', theirs, '--db', fixture.db),
    /notes\.html: the file exists and was not written by exp/,
  );
  assert.equal(readFileSync(theirs, 'utf8'), 'my notes');
});

test('exp show points a finished run to exp report, with its store', () => {
  const r = exp('show', 'tastgram', '--db', fixture.db);
  assert.equal(r.status, 0, r.stderr);
  const id = r.stdout.match(/^run (\S+)/)![1]!;
  assert.ok(
    r.stdout
      .trimEnd()
      .endsWith(
        `figures (ROC curves, score distributions, learning curves): exp report ${id} --out ${id}.html --db ${fixture.db}`,
      ),
    r.stdout.slice(-300),
  );
});
