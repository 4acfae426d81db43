import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMPLETE_MARKER,
  ensureSyntheticDataset,
  planClips,
  synthesize,
  type SynthOptions,
} from '../src/data/synth/generate.js';
import { ensureSyntheticDatasetParallel, synthesizeParallel } from '../src/data/synth/parallel.js';
import { MACHINE_TYPES } from '../src/data/synth/machines/index.js';
import { UserError } from '../src/util/errors.js';

// The synthetic set written on worker threads is the set written on one thread, byte for byte:
// every WAV and synth.json, for every generator version and machine type (the one-thread output
// is pinned by the digests in test/data-synth.test.ts).
const base = mkdtempSync(join(tmpdir(), 'exp-synth-par-'));
const set = (o: Partial<SynthOptions> = {}): Omit<SynthOptions, 'out'> => ({
  seed: 7,
  types: [...MACHINE_TYPES],
  ids: 2,
  train: 3,
  test: 4,
  seconds: 0.25,
  sampleRate: 16000,
  ...o,
});

/** Every file under `root` with its bytes, by relative path (the built-in set's .complete marker holds the time it was made). */
function tree(root: string): Map<string, Buffer> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
  const kept = files.filter((f) => f.includes('.') && f !== COMPLETE_MARKER);
  return new Map(kept.map((f) => [f, readFileSync(join(root, f))]));
}

function assertSameTree(a: string, b: string, what: string): void {
  const ta = tree(a);
  const tb = tree(b);
  assert.deepEqual([...ta.keys()], [...tb.keys()], `${what}: the same files`);
  for (const [f, bytes] of ta) assert.ok(bytes.equals(tb.get(f)!), `${what}: ${f} differs`);
}

for (const version of [1, 2, 3]) {
  test(`version ${version}: 2 and 3 worker threads write the bytes one thread writes, synth.json included`, async () => {
    const o = set({ version });
    const serial = join(base, `v${version}-serial`);
    synthesize({ ...o, out: serial });
    // 6 types x 2 IDs x 7 clips = 84 clips: 11 chunks shared between the threads.
    assert.equal(planClips({ ...o, out: serial }).length, 84);
    for (const threads of [2, 3]) {
      const out = join(base, `v${version}-t${threads}`);
      const seen: number[] = [];
      const n = await synthesizeParallel({ ...o, out }, (done, total) => seen.push(done, total), threads);
      assert.equal(n, 84);
      assert.deepEqual(
        seen.filter((_, i) => i % 2 === 0),
        Array.from({ length: 84 }, (_, i) => i + 1),
        'progress counts every clip once, in order',
      );
      assertSameTree(serial, out, `v${version}, ${threads} threads`);
    }
  });
}

test('the built-in set generated on worker threads lands where, and as, the one-thread one does', async () => {
  const opts = { seconds: 0.2, ids: 1, train: 4, test: 4, types: ['fan', 'pump', 'slider'] };
  const a = ensureSyntheticDataset({ ...opts, baseDir: join(base, 'cache-a') });
  const b = await ensureSyntheticDatasetParallel({ ...opts, baseDir: join(base, 'cache-b') });
  assert.equal(a.replace('cache-a', 'cache-b'), b, 'the same hash-named folder');
  assertSameTree(a, b, 'built-in set');
  assert.ok(readdirSync(b).includes(COMPLETE_MARKER), 'marked complete');
  assert.equal(
    await ensureSyntheticDatasetParallel({ ...opts, baseDir: join(base, 'cache-b') }),
    b,
    'found, not redone',
  );
  assert.deepEqual(
    readdirSync(join(base, 'cache-b')).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary folder left',
  );
});

test("a clip a worker cannot write fails the set with the one-thread path's user error", async () => {
  const o = set({ types: ['fan', 'valve'] });
  const last = planClips({ ...o, out: '' }).at(-1)!.rel;
  const attempt = async (name: string, run: (out: string) => unknown): Promise<unknown> => {
    const out = join(base, name);
    mkdirSync(join(out, last), { recursive: true }); // a directory where the last clip goes
    try {
      await run(out);
    } catch (e) {
      return e;
    }
    assert.fail(`${name}: wrote a clip over a directory`);
  };
  const serial = await attempt('broken-serial', (out) => synthesize({ ...o, out }));
  const parallel = await attempt('broken-parallel', (out) => synthesizeParallel({ ...o, out }, undefined, 2));
  assert.ok(serial instanceof UserError && parallel instanceof UserError, String(parallel));
  assert.match(parallel.message, /valve\/test\/anomaly_id_02_00000001\.wav: cannot write the clip: is a directory/);
  assert.equal(parallel.message.replace('broken-parallel', 'broken-serial'), serial.message);
});
