import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

/**
 * npm 11.16+ lists dependency install scripts not reviewed in package.json `allowScripts` after every
 * install, and npm 12 no longer runs them: a package whose script is needed (better-sqlite3's native
 * build) would install broken. The lockfile marks every package with an install script
 * (`hasInstallScript`), so a new one that nobody reviewed fails here, whatever npm the test runs on.
 */
test('every dependency with an install script is allowed or denied in package.json allowScripts', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  assert.ok(withScripts.includes('better-sqlite3'), 'the lockfile names the packages with install scripts');
  const reviewed = pkg.allowScripts ?? {};
  const missing = withScripts.filter((name) => typeof reviewed[name] !== 'boolean');
  assert.deepEqual(missing, [], `add these to package.json allowScripts (true to run, false to skip): ${missing}`);
  // The scripts the project needs must be allowed, not denied.
  for (const name of ['better-sqlite3', 'esbuild'])
    assert.equal(reviewed[name], true, `${name}'s install script must run`);
});
