import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs the built CLI (npm test builds dist first).
const main = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'exp-data-cli-'));

function exp(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function userError(r: ReturnType<typeof exp>, ...parts: string[]): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  for (const p of parts)
    assert.ok(r.stderr.includes(p), `stderr ${JSON.stringify(r.stderr)} should mention ${JSON.stringify(p)}`);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

const root = join(base, 'set');

test('exp data synth writes a set that exp data check summarises', () => {
  const synth = ['data', 'synth', '--out', root, '--types', 'slider,ToyCar', '--ids', '2', '--train', '2'];
  synth.push('--test', '2', '--seconds', '0.2');
  const made = exp(...synth, '--seed', '5');
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /wrote 16 clips \(generator v3,/);
  const text = exp('data', 'check', root);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /ToyCar\s+id_02/);
  const json = exp('data', 'check', root, '--json');
  assert.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout) as {
    classes: number;
    types: Array<{ type: string; train: number; testNormal: number; testAnomaly: number }>;
  };
  assert.equal(s.classes, 4);
  assert.deepEqual(
    s.types.map((t) => [t.type, t.train, t.testNormal, t.testAnomaly]),
    [
      ['ToyCar', 4, 2, 2],
      ['slider', 4, 2, 2],
    ],
  );
  // Regenerating into a synthetic set replaces it.
  assert.equal(exp(...synth).code, 0);
});

test("exp data synth --synth-version 1 writes the old generator's set, recorded in synth.json", () => {
  const v1 = join(base, 'v1');
  const made = exp(
    'data',
    'synth',
    '--out',
    v1,
    '--synth-version',
    '1',
    '--types',
    'valve',
    '--ids',
    '1',
    '--train',
    '1',
    '--test',
    '2',
    '--seconds',
    '0.2',
  );
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /generator v1/);
  assert.equal((JSON.parse(readFileSync(join(v1, 'synth.json'), 'utf8')) as { generator: number }).generator, 1);
  userError(exp('data', 'synth', '--out', join(base, 'x'), '--synth-version', '4'), '--synth-version', '1, 2, 3');
});

test('help is available for both commands', () => {
  for (const cmd of ['synth', 'check']) {
    const r = exp('data', cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`Usage: exp data ${cmd}`));
  }
});

test('bad flags and values exit 1 with a clear message', () => {
  userError(exp('data', 'synth', '--out', join(base, 'x'), '--types', 'fan,drill'), '--types', 'drill');
  userError(exp('data', 'synth', '--out', join(base, 'x'), '--ids', 'two'), '--ids');
  userError(exp('data', 'synth', '--out', join(base, 'x'), '--seconds', '-1'), '--seconds');
  userError(exp('data', 'synth', '--out', join(base, 'x'), '--test', '1'), 'test');
  userError(exp('data', 'synth'), '--out');
  const occupied = join(base, 'occupied');
  mkdirSync(occupied);
  writeFileSync(join(occupied, 'thesis.tex'), 'x');
  userError(
    exp(
      'data',
      'synth',
      '--out',
      occupied,
      '--types',
      'fan',
      '--ids',
      '1',
      '--train',
      '1',
      '--test',
      '0',
      '--seconds',
      '0.1',
    ),
    occupied,
    'not empty',
  );
});

test('exp data check names what is wrong with a broken layout', () => {
  userError(exp('data', 'check', join(base, 'missing')), join(base, 'missing'), 'does not exist');
  const broken = join(base, 'broken');
  exp(
    'data',
    'synth',
    '--out',
    broken,
    '--types',
    'valve',
    '--ids',
    '1',
    '--train',
    '1',
    '--test',
    '2',
    '--seconds',
    '0.1',
  );
  renameSync(
    join(broken, 'valve', 'train', 'normal_id_00_00000000.wav'),
    join(broken, 'valve', 'train', 'valve-take-1.wav'),
  );
  userError(exp('data', 'check', broken), 'valve-take-1.wav', 'normal_id_XX_NNNNNNNN.wav');
  const noTrain = join(base, 'notrain');
  mkdirSync(join(noTrain, 'fan', 'test'), { recursive: true });
  userError(exp('data', 'check', noTrain), 'no train directory');
});
