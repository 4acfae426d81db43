import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The import rules npm test checks (.dependency-cruiser.cjs), run on a small tree built to break
// them: the check must fail on a new cycle and on an upward import, and allow what it says it allows.
const ROOT = process.cwd();

function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'exp-imports-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
      include: ['src'],
    }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      'src',
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'err',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a clean tree passes; a cycle, an upward import and an unplaced folder each fail by name', () => {
  const clean = {
    'src/util/a.ts': 'export const a = 1;\n',
    'src/store/s.ts': "import { a } from '../util/a.js';\nexport const s = a;\n",
    'src/cli/c.ts': "import { s } from '../store/s.js';\nexport const c = s;\n",
  };
  const ok = cruise(clean);
  assert.equal(ok.status, 0, ok.out);

  const cycle = cruise({
    ...clean,
    'src/util/x.ts': "import { y } from './y.js';\nexport const x = 1;\nexport const z = y;\n",
    'src/util/y.ts': "import { x } from './x.js';\nexport const y = x;\n",
  });
  assert.notEqual(cycle.status, 0, cycle.out);
  assert.match(cycle.out, /no-circular: src\/util\/(x|y)\.ts/);

  // The store recording training events must not import the trainer (it once imported src/train/events.ts).
  const upward = cruise({
    ...clean,
    'src/train/events.ts': 'export type E = 1;\n',
    'src/store/s.ts': "import type { E } from '../train/events.js';\nexport const s: E = 1;\n",
  });
  assert.notEqual(upward.status, 0, upward.out);
  assert.match(upward.out, /layer-store: src\/store\/s\.ts → src\/train\/events\.ts/);

  const unplaced = cruise({ ...clean, 'src/misc/m.ts': "import { a } from '../util/a.js';\nexport const m = a;\n" });
  assert.notEqual(unplaced.status, 0, unplaced.out);
  assert.match(unplaced.out, /not-in-a-layer: src\/misc\/m\.ts/);
});

test('no cycle is allowed: registry <-> systems (allowed until the registry stopped importing systems) fails like any other', () => {
  const registrySystems = cruise({
    'src/registry/r.ts': "import { s } from '../systems/s.js';\nexport const r = 1;\nexport const t = s;\n",
    'src/systems/s.ts': "import { r } from '../registry/r.js';\nexport const s = r;\n",
  });
  assert.notEqual(registrySystems.status, 0, registrySystems.out);
  assert.match(registrySystems.out, /no-circular/);
  const through = cruise({
    'src/registry/r.ts': "import { m } from '../model/m.js';\nexport const r = 1;\nexport const t = m;\n",
    'src/model/m.ts': "import { r } from '../registry/r.js';\nexport const m = r;\n",
  });
  assert.notEqual(through.status, 0);
  assert.match(through.out, /no-circular/);
});
