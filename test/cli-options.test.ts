import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, type Option } from 'commander';
import { commands } from '../src/cli/commands/index.js';
import { DEFAULT_DB } from '../src/cli/options.js';

// The options several commands share are declared once (src/cli/options.ts): every command that
// takes one spells, defaults and parses it the same way.

function allCommands(): Command[] {
  const program = new Command('exp');
  for (const register of commands) register(program);
  const out: Command[] = [];
  const walk = (c: Command) => {
    for (const sub of c.commands) {
      out.push(sub);
      walk(sub);
    }
  };
  walk(program);
  return out;
}

const path = (c: Command): string => {
  const names: string[] = [];
  for (let p: Command | null = c; p && p.parent; p = p.parent) names.unshift(p.name());
  return names.join(' ');
};

const find = (c: Command, long: string): Option | undefined => c.options.find((o) => o.long === long);

test('every command that reads or writes the store takes the same --db (default $EXP_DB, else runs/exp.db)', () => {
  const withDb = allCommands().filter((c) => find(c, '--db'));
  const names = withDb.map(path);
  for (const expected of [
    'run',
    'sweep',
    'sweep status',
    'sweep cancel',
    'runs',
    'show',
    'compare',
    'export',
    'report',
    'metrics',
    'db migrate',
    'worker',
  ]) {
    assert.ok(names.includes(expected), `${expected} takes --db (have: ${names.join(', ')})`);
  }
  for (const c of withDb) {
    const o = find(c, '--db')!;
    assert.equal(o.flags, '--db <file|url>', path(c));
    assert.equal(o.defaultValue, DEFAULT_DB, path(c));
    assert.equal(o.defaultValueDescription, '$EXP_DB, else runs/exp.db', path(c));
    assert.match(o.description, /^run store: a SQLite file or a postgres:\/\/ URL/, path(c));
  }
});

test('--backend, --set, --json, --seeds and --lease are declared alike wherever they appear', () => {
  const cs = allCommands();
  const uses = (long: string) => cs.filter((c) => find(c, long)).map((c) => ({ c, o: find(c, long)! }));
  for (const { c, o } of uses('--backend')) {
    assert.equal(o.flags, '--backend <name>', path(c));
    assert.equal(o.defaultValue, 'auto', path(c));
  }
  for (const { c, o } of uses('--set')) {
    assert.equal(o.flags, '--set <key=value>', path(c));
    assert.deepEqual(o.defaultValue, [], path(c));
    // Repeatable: each occurrence is collected, in order.
    assert.deepEqual(o.parseArg!('b=2', o.parseArg!('a=1', [])), ['a=1', 'b=2'], path(c));
  }
  for (const { c, o } of uses('--json')) assert.match(o.description, /^print /, path(c));
  for (const { c, o } of uses('--seeds')) {
    assert.deepEqual(o.parseArg!('3,1', undefined), [3, 1], path(c));
    assert.throws(() => o.parseArg!('1,1', undefined), /--seeds lists a seed twice/, path(c));
  }
  for (const { c, o } of uses('--lease'))
    assert.throws(() => o.parseArg!('0', undefined), /--lease expects a positive whole number/, path(c));
  assert.ok(
    uses('--backend').length >= 4 && uses('--set').length >= 5 && uses('--json').length >= 8,
    'the shared options are in use',
  );
});
