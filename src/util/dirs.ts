import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';
import { describeFsError, errnoCode } from './fs-errors.js';

/**
 * `mkdir -p` that cannot hang. Node 20's `mkdirSync(p, { recursive: true })` loops forever when
 * mkdir answers ENOENT although the parent exists (it retries the parent, gets EEXIST, retries
 * the child, gets ENOENT again...), which is what /proc does: `exp data synth --out /proc/foo`
 * spun at 100 % CPU. Here each missing component is created once, from the nearest existing
 * ancestor down, and every failure is a one-line user error naming the directory.
 */
export function ensureDir(dir: string, label = 'directory'): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    const kind = kindOf(at);
    if (kind === 'dir') break;
    if (kind === 'other') {
      throw new UserError(
        at === target
          ? `${dir}: exists and is not a directory`
          : `${dir}: cannot create ${label}: ${at} is a file, not a directory`,
      );
    }
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST' && kindOf(d) === 'dir') continue; // made by a concurrent process
      throw new UserError(`${dir}: cannot create ${label}${d === target ? '' : ` (at ${d})`}: ${describeFsError(e)}`);
    }
  }
}

function kindOf(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') return 'missing'; // an ancestor is a file: the walk up finds and names it
    throw new UserError(`${path}: cannot inspect: ${describeFsError(e)}`);
  }
}
