import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { ensureDir } from '../util/dirs.js';
import { asUserFsError } from '../util/fs-errors.js';
import { removeDeadTemporaries, temporaryPath } from '../util/temp-paths.js';

/**
 * A checkpoint is a directory: `tensors.bin` (every tensor's float32/int32 data back to back)
 * and `meta.json` (names, shapes, offsets, and the plain-JSON training state). It is written
 * to a temporary directory first and renamed into place, so a crash never leaves half of one.
 * A directory cannot be renamed over a non-empty one, so replacing a checkpoint takes two renames
 * (old -> `<dir>.prev`, new -> `<dir>`); a crash between them leaves only `<dir>.prev`, which
 * `loadCheckpoint` then reads: the previous checkpoint, the one the store last recorded.
 * The temporary directory is `<dir>.tmp-<pid>-<nonce>@<writer tag>` (src/util/temp-paths.ts): a
 * save killed while writing leaves it behind, and every later save (and every resume) in the run
 * directory removes those whose writer provably no longer exists.
 */
export interface CheckpointMeta<S> {
  format: 'exp-checkpoint/1';
  tensors: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32'; offset: number; length: number }>;
  state: S;
}

export async function saveCheckpoint<S>(dir: string, tensors: Map<string, tf.Tensor>, state: S): Promise<void> {
  // Read back asynchronously (a GPU backend has no synchronous read) before touching the disk.
  const values = await Promise.all([...tensors.values()].map((t) => t.data()));
  const read = new Map([...tensors].map(([name, t], i) => [name, { t, data: values[i]! }]));
  const tmp = temporaryPath(dir);
  try {
    ensureDir(dirname(dir), 'the checkpoint directory');
    removeDeadTemporaries(dirname(dir));
    mkdirSync(tmp);
    writeCheckpointFiles(tmp, read, state);
  } catch (e) {
    // A full disk (or any other failure) must not leave a half-written temporary directory behind;
    // the previous checkpoint, if any, is untouched.
    rmSync(tmp, { recursive: true, force: true });
    throw asUserFsError(e, dir, 'cannot write the checkpoint');
  }
  try {
    replaceDir(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw asUserFsError(e, dir, 'cannot write the checkpoint');
  }
}

/**
 * Removes the temporary directories that saves killed while writing left in `runDir` (only those
 * whose writer provably no longer exists, src/util/temp-paths.ts); a resume calls it before training.
 */
export function removeCheckpointLeftovers(runDir: string): string[] {
  return removeDeadTemporaries(runDir);
}

/** The previous checkpoint while a new one replaces it (see above). */
const previous = (dir: string): string => `${dir}.prev`;

/** Moves the complete directory `tmp` to `dir`; at every moment one complete checkpoint is at `dir` or `<dir>.prev`. */
function replaceDir(tmp: string, dir: string): void {
  const prev = previous(dir);
  // A .prev left by an earlier crash is older than `dir` if `dir` exists; else it is the only copy.
  if (existsSync(dir)) {
    rmSync(prev, { recursive: true, force: true });
    renameSync(dir, prev);
  }
  renameSync(tmp, dir);
  rmSync(prev, { recursive: true, force: true });
}

function writeCheckpointFiles<S>(
  tmp: string,
  tensors: Map<string, { t: tf.Tensor; data: tf.TypedArray | string[] }>,
  state: S,
): void {
  const entries: CheckpointMeta<S>['tensors'] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, { t, data }] of tensors) {
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const typed =
      dtype === 'int32' ? Int32Array.from(data as ArrayLike<number>) : Float32Array.from(data as ArrayLike<number>);
    const buf = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
    entries.push({ name, shape: t.shape, dtype, offset, length: typed.length });
    chunks.push(buf);
    offset += buf.byteLength;
  }
  writeFileSync(join(tmp, 'tensors.bin'), Buffer.concat(chunks));
  const meta: CheckpointMeta<S> = { format: 'exp-checkpoint/1', tensors: entries, state };
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
}

export interface LoadedCheckpoint<S> {
  state: S;
  /** Copies the stored values into the given variables; every variable must be present. */
  restore(vars: Map<string, tf.Variable>): void;
}

export function loadCheckpoint<S>(path: string): LoadedCheckpoint<S> {
  // Killed between the two renames of a save: the previous checkpoint is complete at .prev.
  const dir = !existsSync(path) && existsSync(join(previous(path), 'meta.json')) ? previous(path) : path;
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) throw new UserError(`${dir}: not a checkpoint (no meta.json)`);
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CheckpointMeta<S>;
  if (meta.format !== 'exp-checkpoint/1')
    throw new UserError(`${dir}: unknown checkpoint format ${String(meta.format)}`);
  const byName = new Map(meta.tensors.map((t) => [t.name, t]));
  return {
    state: meta.state,
    // The tensor file is read only when restoring: reading a checkpoint's state (its epoch) costs no weights.
    restore(vars) {
      const bin = readFileSync(join(dir, 'tensors.bin'));
      for (const [name, v] of vars) {
        const entry = byName.get(name);
        if (!entry) throw new UserError(`${dir}: checkpoint has no tensor "${name}" (was the model changed?)`);
        if (entry.shape.join('x') !== v.shape.join('x')) {
          throw new UserError(`${dir}: tensor "${name}" has shape [${entry.shape}] but the model expects [${v.shape}]`);
        }
        const bytes = bin.subarray(entry.offset, entry.offset + entry.length * 4);
        const copy = new Uint8Array(bytes).buffer;
        const data = entry.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
        tf.tidy(() => v.assign(tf.tensor(data, entry.shape, entry.dtype)));
      }
    },
  };
}
