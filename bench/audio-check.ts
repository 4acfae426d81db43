/**
 * Cost of the audio check (exp data check, exp run): decode every clip under a DCASE root, then the same again
 * through the size+mtime cache that `exp run` / `exp sweep` use. Not part of `npm run bench`
 * (it needs a dataset): node --import tsx bench/audio-check.ts <root> [--sample-rate 16000]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkAudio } from '../src/data/audio-check.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'sample-rate': { type: 'string', default: '16000' } },
});
const root = positionals[0];
if (!root) {
  process.stderr.write('usage: node --import tsx bench/audio-check.ts <dataset root> [--sample-rate 16000]\n');
  process.exit(1);
}
const paths: string[] = [];
for (const type of readdirSync(root)) {
  for (const split of ['train', 'test']) {
    try {
      for (const f of readdirSync(join(root, type, split)))
        if (f.endsWith('.wav')) paths.push(join(root, type, split, f));
    } catch {
      // not a type directory, or no test split
    }
  }
}
const dir = mkdtempSync(join(tmpdir(), 'exp-audio-bench-'));
const cacheFile = join(dir, 'audio-check.json');
for (const label of ['cold: decode every clip, write the cache', 'warm: cache hits (one stat per clip)']) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = checkAudio(paths, { sampleRate: Number(values['sample-rate']), cacheFile });
  const cpu = process.cpuUsage(c0);
  console.log(
    `${root}: ${label}: ${paths.length} clips (${r.cached} cached, ${r.problems.length} problems) in ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`,
  );
}
rmSync(dir, { recursive: true, force: true });
