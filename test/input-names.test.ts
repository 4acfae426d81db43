import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExperimentConfig } from '../src/config/schema.js';
import { evaluate } from '../src/metrics/evaluate.js';
import { openDatabase } from '../src/store/index.js';
import type { ScoreRow } from '../src/events/index.js';
import { createRun, finish, record } from './fixtures/sqlite-writes.js';
import { checkName, displayText, MAX_NAME_LENGTH } from '../src/util/names.js';
import { UserError } from '../src/util/errors.js';
import { reportStore } from './fixtures/report-store.js';
import { exp, assertOneLineUserError, tempDir } from './fixtures/faults-env.js';

/**
 * Names from users and from old stores: a run name may not forge terminal output or collide in
 * report files. New names with control characters are refused where they enter; names already
 * stored are shown escaped.
 */

const fixture = reportStore({ sweep: 'nm' });
const EVIL = 'evil\x1b[31mred\nrun 01X  forged  done\x00end';

/** Loose runs written straight into the store, as an older exp (without the name rule) would have. */
function addRuns(names: string[]): Record<string, string> {
  const db = openDatabase(fixture.db);
  const ids: Record<string, string> = {};
  for (const [i, name] of names.entries()) {
    const config = ExperimentConfig.parse({ seed: 10 + i, data: { root: fixture.root } });
    const run = createRun(db, { name, config, dbFile: fixture.db });
    record(db, run.id, {
      kind: 'start',
      backend: 'wasm',
      threads: 1,
      simdKernels: 'none',
      params: { total: 1, modules: {} },
      numClasses: 4,
      trainClips: 4,
      valClips: 0,
      testClips: 96,
      stepsPerEpoch: 1,
      epochs: 1,
      startEpoch: 1,
    });
    record(db, run.id, {
      kind: 'epoch',
      epoch: 1,
      epochs: 1,
      loss: 1,
      terms: {},
      lr: 1e-3,
      clipsPerSec: 5,
      seconds: 1,
      valLoss: null,
    });
    const scores: ScoreRow[] = fixture.manifest.test.map((c, k) => {
      const [type, , file] = c.file.split('/') as [string, string, string];
      return {
        path: join(fixture.root, c.file),
        type,
        id: file.match(/id_\d+/)![0],
        label: c.label,
        score: c.label + ((k * 7919) % 13) / 10,
      };
    });
    const ev = evaluate(scores);
    record(db, run.id, { kind: 'eval', epoch: 1, final: true, ids: {}, types: ev.types, average: ev.average, scores });
    finish(db, run.id, 'done');
    ids[name] = run.id;
  }
  db.close();
  return ids;
}

const ids = addRuns(['Base1', 'base1', 'a/b/c', 'a-b-c', EVIL]);

test('checkName refuses control and format characters, empty and overlong names; displayText makes them visible', () => {
  for (const bad of [
    'a\x1bb',
    'a\x00',
    'two\nlines',
    'cr\r',
    'tab\there',
    'bidi\u202Eevil',
    'zero\u200Bwidth',
    'sep\u2028',
    'c1\u0085',
    '',
    '   ',
    'x'.repeat(MAX_NAME_LENGTH + 1),
  ]) {
    assert.throws(
      () => checkName(bad, '--name'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('--name: ') && !/[\x00-\x1f]/.test(e.message),
      JSON.stringify(bad),
    );
  }
  for (const ok of ['fgaspecnet', 'Base1', 'a/b/c', 'gamma=0.05,K=3', 'größe 𝄞', 'x'.repeat(MAX_NAME_LENGTH)])
    assert.equal(checkName(ok, '--name'), ok);
  assert.equal(displayText('a\x1b[31mb\nc\x00'), 'a\\x1B[31mb\\x0Ac\\x00');
  assert.equal(displayText('r\u202Eev'), 'r\\u{202E}ev');
  assert.equal(displayText('l1\nl2\x07', { keepNewlines: true }), 'l1\nl2\\x07');
  assert.equal(displayText('abcdef', { max: 4 }), 'abc…');
});

test('exp report --png: names that fold to one file name get distinct files, the count is the files written, element ids are unique', () => {
  const dir = tempDir('png');
  const png = join(dir, 'figs');
  const out = join(dir, 'r.html');
  // Base1 / base1 and a/b/c / a-b-c slug alike; the same run twice (by name and by id) is shown once.
  const r = exp([
    'report',
    'Base1',
    'base1',
    'a/b/c',
    'a-b-c',
    ids['Base1']!,
    'a/b/c',
    '--png',
    png,
    '--out',
    out,
    '--db',
    fixture.db,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(png).filter((f) => f.endsWith('.png'));
  const claimed = Number(r.stderr.match(/wrote (\d+) figures to/)![1]);
  assert.equal(files.length, claimed, `stderr says ${claimed}, ${files.length} files exist`);
  assert.equal(new Set(files.map((f) => f.toLowerCase())).size, files.length, 'no two files differ only by case');
  const html = readFileSync(out, 'utf8');
  // 4 runs: one learning-curve figure each, plus the per-type ROC and score figures and the fault map.
  const curves = files.filter((f) => f.startsWith('runs-curves-'));
  assert.equal(curves.length, 4, curves.join(' '));
  assert.equal((html.match(/<figure /g) ?? []).length, files.length);
  const idList = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
  const dup = idList.filter((v, i) => idList.indexOf(v) !== i);
  assert.deepEqual(dup, [], 'duplicate element ids');
  for (const f of files) assert.ok(html.includes(`data-figure="${f.replace(/\.png$/, '')}"`), f);
});

test('a stored name with ESC, NUL and a newline: exp runs / show / export print it escaped, exp report --png draws it', () => {
  const runs = exp(['runs', '--db', fixture.db]);
  assert.equal(runs.code, 0, runs.stderr);
  assert.doesNotMatch(runs.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control characters in the table');
  const lines = runs.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2 + 3 + 5, 'header, rule, 3 sweep runs, 5 loose runs: no forged line');
  assert.ok(runs.stdout.includes('evil\\x1B[31mred\\x0Arun 01X  forged  done\\x00end'), runs.stdout);
  const json = JSON.parse(exp(['runs', '--json', '--db', fixture.db]).stdout) as Array<{ name: string }>;
  assert.ok(
    json.some((r) => r.name === EVIL),
    '--json keeps the stored value exactly (JSON escapes it)',
  );

  const show = exp(['show', ids[EVIL]!, '--db', fixture.db]);
  assert.equal(show.code, 0, show.stderr);
  assert.doesNotMatch(show.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
  for (const format of ['md', 'csv']) {
    const e = exp(['export', ids[EVIL]!, '--format', format, '--db', fixture.db]);
    assert.equal(e.code, 0, e.stderr);
    assert.doesNotMatch(e.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, format);
  }

  const dir = tempDir('evil');
  const chart = join(dir, 'chart.svg');
  assert.equal(exp(['export', ids[EVIL]!, '--format', 'json', '--chart', chart, '--db', fixture.db]).code, 0);
  assert.doesNotMatch(
    readFileSync(chart, 'utf8'),
    /[\x00-\x08\x0b\x0c\x0e-\x1f]/,
    'the export chart SVG holds no raw control characters',
  );
  const r = exp(['report', ids[EVIL]!, '--png', join(dir, 'figs'), '--out', join(dir, 'r.html'), '--db', fixture.db]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.doesNotMatch(html, /[\x00-\x08\x0b\x0c\x0e-\x1f]/, 'HTML and inline SVG hold no raw control characters');
  assert.ok(html.includes('evil\\x1B[31mred'), 'the name is shown, escaped');
});

test('new names with control characters or over the length limit are refused where they enter', () => {
  const db = join(tempDir('names'), 'exp.db');
  const long = 'n'.repeat(MAX_NAME_LENGTH + 1);
  assertOneLineUserError(
    exp(['run', 'experiments/fgaspecnet.yaml', '--name', 'a\x1b[2Jb', '--db', db]),
    /--name: the name contains the control or format character U\+001B/,
    '--name ESC',
  );
  assertOneLineUserError(
    exp(['run', 'experiments/fgaspecnet.yaml', '--name', long, '--db', db]),
    new RegExp(`--name: the name is ${MAX_NAME_LENGTH + 1} characters long`),
    '--name long',
  );
  assertOneLineUserError(
    exp(['run', 'experiments/fgaspecnet.yaml', '--set', 'name="x\\ny"', '--db', db]),
    /fgaspecnet\.yaml \(with --set name\): name: .*U\+000A/,
    '--set name',
  );
  assertOneLineUserError(
    exp(['params', 'experiments/fgaspecnet.yaml', '--set', 'name=x\u202Ey']),
    /name: .*U\+202E/,
    'params --set name',
  );
});
