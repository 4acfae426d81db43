import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';

/** Where a run came from, recorded with it so a result can be traced to code and libraries. */
export interface Provenance {
  gitCommit: string | null;
  gitDirty: boolean | null;
  packages: Record<string, string>;
  host: string;
}

const TRACKED = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'better-sqlite3'];

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

let cached: Provenance | undefined;

export function provenance(): Provenance {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const packages: Record<string, string> = { node: process.versions.node };
  try {
    packages['exp-asd'] = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    /* not inside the package: leave it out */
  }
  for (const name of TRACKED) {
    try {
      packages[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      /* optional package not installed */
    }
  }
  const gitCommit = git(['rev-parse', 'HEAD']);
  const status = gitCommit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
  cached = { gitCommit, gitDirty: status === null ? null : status.length > 0, packages, host: hostname() };
  return cached;
}
