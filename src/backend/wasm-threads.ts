import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeDeadTemporaries, temporaryPath } from '../util/temp-paths.js';

/**
 * tfjs-backend-wasm 4.22 runs single-threaded in Node (measured; docs/backend.md): its multithread
 * check returns false under Node, the pthread worker is created from a `blob:` URL that Node's
 * Worker rejects, the worker would re-evaluate the bundled factory (which fails there with
 * `require$$0 is not defined`), and the thread pool is capped at half of os.cpus(). This module
 * undoes the three obstacles around one `tf.setBackend('wasm')` call, without touching
 * node_modules:
 *  - the worker script is written to a file and `URL.createObjectURL` returns its path while the
 *    backend initialises;
 *  - that worker script loads the unbundled `wasm-out/tfjs-backend-wasm-threaded-simd.js`
 *    instead of the blob it is sent;
 *  - `os.cpus()` reports twice the cores while the pool is sized, lifting the half-cores cap.
 */

const require = createRequire(import.meta.url);

/** Directory of the installed tfjs-backend-wasm package. */
function wasmPackageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/**
 * Writes (once per package install) the pthread worker script and returns its path. The file is
 * named by a hash of its content, which holds the install's path: every install has its own file,
 * and one whose content differs is never overwritten. It is written to a temporary file and
 * renamed into place, so a process starting workers never reads it half written. (Named by the
 * content's length and rewritten in place, two installs with paths of equal length, e.g. two
 * checkouts, overwrote each other's file; a pthread worker that read it while it was truncated ran
 * an empty script and exited without a word, and the start then waited for it until its limit:
 * seen under load as a wasm start stuck for 300 s.)
 */
export function workerScriptPath(dir = wasmPackageDir()): string {
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const factory = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  // The package ships the worker script as a CommonJS string export.
  const original = (
    require(path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
      wasmWorkerContents: string;
    }
  ).wasmWorkerContents.replace(/\n/g, '\\n'); // its string literals hold raw newlines (tfjs escapes them the same way)
  const loadBranch = /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/;
  if (!loadBranch.test(original)) {
    throw new Error(`tfjs-backend-wasm ${version}: unexpected pthread worker script, cannot enable threads`);
  }
  const script = original.replace(loadBranch, `importScripts(${JSON.stringify(factory)});`);
  const outDir = path.join(os.tmpdir(), 'exp-asd-wasm');
  mkdirSync(outDir, { recursive: true });
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const file = path.join(outDir, `pthread-worker-${version}-${hash}.cjs`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== script) {
    removeDeadTemporaries(outDir);
    const tmp = temporaryPath(file);
    writeFileSync(tmp, script);
    renameSync(tmp, file);
  }
  return file;
}

/**
 * Runs `init` (which must create the wasm backend) with the thread workarounds in place and
 * restores the patched globals afterwards, whatever happens.
 */
export async function withWasmThreadPatches<T>(init: () => Promise<T>): Promise<T> {
  const worker = workerScriptPath();
  const originalCreate = URL.createObjectURL.bind(URL);
  const originalCpus = os.cpus;
  URL.createObjectURL = (obj: Blob | MediaSource): string =>
    obj instanceof Blob && obj.type === 'application/javascript' ? worker : originalCreate(obj as Blob);
  os.cpus = () => {
    const cpus = originalCpus();
    return [...cpus, ...cpus];
  };
  try {
    return await init();
  } finally {
    URL.createObjectURL = originalCreate;
    os.cpus = originalCpus;
  }
}

/** settleWithin's failure: the awaited start is still running (it neither finished nor failed). */
export class NotSettledError extends Error {
  override name = 'NotSettledError';
}

/**
 * Awaits `p` with Node's event loop held open, failing after `ms`. Emscripten unrefs each pthread
 * worker as soon as it reports 'loaded', and the rest of tfjs-backend-wasm's start-up waits on
 * promises that hold no handle: a process whose only work is that start could find its event loop
 * empty and exit with code 13 (an unsettled top-level await) before the backend settled. Measured
 * on a loaded 2-core machine: about 1 in 100 of two concurrent starts, each a process doing
 * nothing else (a sweep's trials start this way). A ref'd timer holds the loop; a start that has
 * not settled by then fails with an error that says so instead of hanging.
 */
export async function settleWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NotSettledError(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}
