// The documentation against the tree: the README's Layout names every folder of src/, and every
// relative link in README.md and docs/*.md reaches a file (and a heading, when it names one).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Every directory under `dir`, as paths relative to `dir` ('model', 'model/branches', ...). */
function folders(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(path, ...folders(dir, path));
  }
  return out.sort();
}

/** The code block of the README's "## Layout" section, as one entry per `src/<name>/` (with continuation lines). */
function layoutEntries(markdown: string): Map<string, string> {
  const section = markdown.split(/^## Layout$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = section.split('```')[1] ?? '';
  const entries = new Map<string, string>();
  let current: string | null = null;
  for (const line of block.split('\n')) {
    const head = /^src\/([^/\s]+)\//.exec(line);
    if (head) {
      current = head[1]!;
      entries.set(current, line);
    } else if (current && /^\s+\S/.test(line)) entries.set(current, `${entries.get(current)}\n${line}`);
    else current = null;
  }
  return entries;
}

/** Folders of src/ the Layout misses: a top-level folder needs its own line, a second-level one its name on that line. */
function missingFromLayout(srcFolders: string[], entries: Map<string, string>): string[] {
  const missing: string[] = [];
  for (const folder of srcFolders) {
    const [top, sub, ...deeper] = folder.split('/');
    if (deeper.length > 0) continue; // deeper folders belong to their parent's line
    const entry = entries.get(top!);
    if (!entry) missing.push(`src/${top}/`);
    else if (sub && !new RegExp(`(^|[\\s,(=])${sub.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`).test(entry))
      missing.push(`src/${folder}/`);
  }
  return missing;
}

test('the README Layout has a line for every folder of src/ (and names its subfolders)', () => {
  const entries = layoutEntries(readme);
  assert.ok(entries.size > 10, 'the README has a "## Layout" section with a code block of src/ lines');
  assert.deepEqual(missingFromLayout(folders(join(root, 'src')), entries), []);
  for (const name of entries.keys())
    assert.ok(existsSync(join(root, 'src', name)), `the Layout lists src/${name}/, which does not exist`);
});

test('the Layout check fails for a folder it does not list', () => {
  const entries = layoutEntries('## Layout\n\n```\nsrc/model/     branches/ and more\n```\n');
  assert.deepEqual(missingFromLayout(['model', 'model/branches', 'model/heads', 'store'], entries), [
    'src/model/heads/',
    'src/store/',
  ]);
});

/** GitHub's heading anchors: lower case, punctuation dropped (but - and _), spaces to -. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const m = !inCode && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

test('every relative link in README.md and docs/*.md reaches a file and, when it names one, a heading', () => {
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
      const [path, hash] = target!.split('#');
      const file = path ? resolve(join(root, dirname(page)), path) : join(root, page);
      if (!existsSync(file)) {
        broken.push(`${page}: ${target} (no such file)`);
        continue;
      }
      if (hash && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(hash))
        broken.push(`${page}: ${target} (no heading #${hash} in ${relative(root, file)})`);
    }
  }
  assert.deepEqual(broken, []);
});

// ---- no comment or document cites something outside the repository -----------------------------
// The patterns are assembled from pieces so that this file does not match them itself.
const OUTSIDE: [RegExp, string][] = [
  [new RegExp(['\\.\\.', 'shared'].join('/')), 'a sibling folder outside the repository'],
  [new RegExp(['', 'work', ''].join('/')), 'a path on one machine'],
  [new RegExp(['paper', 'notes'].join('-'), 'i'), 'a private notes file'],
  [new RegExp(`\\b(webgpu|cluster|wasm-training)-${'facts'}\\b`, 'i'), 'a private notes file'],
  [new RegExp(`\\b(style|interface|COMMON)\\.${'md'}\\b`), 'a private notes file'],
  [new RegExp(`\\b${'issue'}s?\\s+#?\\d+`, 'i'), 'an issue-tracker number'],
  [new RegExp(`\\b${'issue'}'s\\b`, 'i'), 'an issue-tracker entry'],
  [new RegExp(`\\b(PR|pull request)\\s+#?\\d+`, 'i'), 'a pull-request number'],
];
const TEXT = /\.(ts|tsx|js|mjs|cjs|py|sh|md|ya?ml|json|c|h|txt)$|^run$/;
const SCANNED = ['src', 'test', 'bench', 'tools', '.ci', 'docs', 'examples', 'experiments', 'sweeps', 'csrc'];

function textFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...textFiles(path));
    else if (TEXT.test(entry.name)) out.push(path);
  }
  return out;
}

/** `file:line: what (text)` for every line citing something outside the repository. */
function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [pattern, what] of OUTSIDE)
      if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what} (${line.trim().slice(0, 100)})`);
  });
  return found;
}

test('no comment or document cites notes, folders or issue numbers outside the repository', () => {
  const files = [
    join(root, 'README.md'),
    ...SCANNED.flatMap((d) => (existsSync(join(root, d)) ? textFiles(join(root, d)) : [])),
  ];
  assert.ok(files.length > 300, `scanned ${files.length} files`);
  const found = files.flatMap((f) => outsideReferences(relative(root, f), readFileSync(f, 'utf8')));
  assert.deepEqual(found, [], 'cite the paper (section, equation, table) or the public reference code instead');
});

test('the reference check flags each kind of outside citation', () => {
  const sample = [
    `see ${['..', 'shared', 'x.md'].join('/')}`,
    `as in ${['paper', 'notes'].join('-')}`,
    `(${'issue'} 16)`,
    `${'Issue'} #7 item 4`,
    `the ${['cluster', 'facts'].join('-')} page`,
    `rules in ${'interface'}.md`,
    'the paper, eq. (3), Table 4; TASTgram code',
  ].join('\n');
  assert.deepEqual(
    outsideReferences('x', sample).map((s) => s.split(':')[1]),
    ['1', '2', '3', '4', '5', '6'],
  );
});

/** The long flags a command's --help declares (commander's option lines), --help itself left out. */
function declaredFlags(help: string): string[] {
  const flags = [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!);
  return [...new Set(flags)].filter((f) => f !== '--help');
}

test('the README reference card names every command and every flag the CLI declares', () => {
  const card = readme.split(/^## Reference card$/m)[1]?.split(/^## /m)[0] ?? '';
  assert.ok(card.length > 0, 'the README has a "## Reference card" section');
  const commands = ['run', 'sweep', 'sweep status', 'sweep cancel', 'worker', 'runs', 'show', 'compare', 'export'];
  commands.push('report', 'metrics', 'features', 'params', 'bench', 'parts', 'data synth', 'data check', 'data get');
  commands.push('db migrate', 'db copy');
  const cli = join(root, 'dist/cli/main.js');
  const missing: string[] = [];
  for (const command of commands) {
    const help = spawnSync(process.execPath, [cli, ...command.split(' '), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `exp ${command} --help: ${help.stderr}`);
    const lines = card.split('\n').filter((l) => l.includes(`exp ${command}`));
    if (lines.length === 0) missing.push(`exp ${command}`);
    for (const flag of declaredFlags(help.stdout)) if (!card.includes(flag)) missing.push(`exp ${command} ${flag}`);
  }
  assert.deepEqual(missing, []);
});
