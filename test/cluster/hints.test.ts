import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sweepDir, fakeEnv, runCli } from '../fixtures/sweep-env.js';
import { connectPg } from '../fixtures/pg-client.js';

// What `exp sweep --executor slurm --detach` prints about the store: never a password. Run by
// `npm run test:cluster` (tools/cluster/test.sh: SLURM_CONF, EXP_TEST_PG_URL); without them this
// file fails. The test server trusts local connections, so a URL with any password still connects.
const URL_ = process.env.EXP_TEST_PG_URL;

before(() => {
  assert.ok(
    URL_ && process.env.SLURM_CONF,
    'SLURM_CONF / EXP_TEST_PG_URL are not set: run these tests with npm run test:cluster',
  );
});

test('--detach: the hints mask a --db password, name no --db when it is $EXP_DB; the batch script has the URL without its password, owner-only', async () => {
  const secret = URL_!.replace('//postgres@', '//postgres:s3cret-pw@');
  assert.notEqual(secret, URL_);
  const name = `hints-${Date.now().toString(36)}`;
  const s = sweepDir({ trials: 1, epochs: 2 });
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nbase: base.yaml\ntrials:\n  - {name: t0, set: {seed: 0}}\n`);
  const art = join(s.dir, 'art');
  const args = ['sweep', file, '--executor', 'slurm', '--artifacts', art, '--no-dashboard', '--detach'];

  const given = await runCli([...args, '--db', secret], fakeEnv(10)).done;
  assert.equal(given.code, 0, given.stderr);
  assert.match(given.stderr, /submitted Slurm job \d+/);
  assert.doesNotMatch(given.stderr + given.stdout, /s3cret/);
  const masked = secret.replace('s3cret-pw', '***');
  assert.ok(given.stderr.includes(`exp sweep ${name} --attach --db '${masked}'`), given.stderr);
  assert.ok(given.stderr.includes(`exp sweep cancel ${name} --db '${masked}'`), given.stderr);
  // The batch script (and so every worker's command line, visible in ps) names the store without
  // its password; the password reaches the tasks as PGPASSWORD in their environment.
  const script = readdirSync(join(art, 'slurm')).find((f) => f.endsWith('.sh'))!;
  const body = readFileSync(join(art, 'slurm', script), 'utf8');
  assert.doesNotMatch(body, /s3cret/);
  assert.ok(body.includes(`'--db' '${URL_}'`), body);
  assert.equal(statSync(join(art, 'slurm', script)).mode & 0o777, 0o700);

  // Following it with the store in $EXP_DB: no --db, and no password in any line.
  const env = { ...fakeEnv(10), EXP_DB: secret };
  const attached = await runCli(['sweep', name, '--attach', '--no-dashboard'], env).done;
  assert.equal(attached.code, 0, attached.stderr);
  assert.match(attached.stderr, new RegExp(`sweep ${name}: 1 done`));
  assert.doesNotMatch(attached.stderr + attached.stdout, /s3cret/);
  const again = await runCli(args, env).done;
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /submitted Slurm job/);
  assert.ok(
    again.stderr.includes(`follow it with: exp sweep ${name} --attach   stop it with: exp sweep cancel ${name}\n`),
    again.stderr,
  );
  assert.doesNotMatch(again.stderr + again.stdout, /s3cret/);
});

test('Slurm workers of a role that must give its password log in without it on their command line (PGPASSWORD from sbatch)', async () => {
  const password = 'dml-Pw-9f3c1e';
  const c = await connectPg(URL_);
  try {
    await c
      .query(`CREATE ROLE exp_dml LOGIN PASSWORD '${password}'`)
      .catch((e: Error) => assert.match(e.message, /already exists/));
    await c.query('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO exp_dml');
    await c.query('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO exp_dml');
  } finally {
    await c.end();
  }
  const url = URL_!.replace('//postgres@', `//exp_dml:${password}@`);
  const name = `pw-${Date.now().toString(36)}`;
  const s = sweepDir({ trials: 1, epochs: 2 });
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nbase: base.yaml\ntrials:\n  - {name: t0, set: {seed: 0}}\n`);
  const art = join(s.dir, 'art');
  const r = await runCli(['sweep', file, '--executor', 'slurm', '--artifacts', art, '--no-dashboard', '--db', url], {
    ...fakeEnv(10),
    PGPASSWORD: '',
  }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`sweep ${name}: 1 done`));
  // The server checks this role's password: the worker had it, and nowhere visible.
  const dir = join(art, 'slurm');
  for (const f of readdirSync(dir)) assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), new RegExp(password), f);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(password));
});
