import { dirname } from 'node:path';
import { runDirFor } from '../store/writes.js';
import { checkOutputDir } from '../util/outputs.js';

/**
 * Where a command's runs will keep their checkpoints (`--artifacts DIR`, else beside a SQLite
 * store, else runs/), checked before any run row is created or claimed: a file, a missing parent,
 * a read-only mount or an immutable directory would otherwise surface after the first epoch and
 * leave a failed run behind. Run directories themselves are made by the trainer.
 */
export function checkRunDirRoot(db: string, artifacts: string | null | undefined): void {
  if (artifacts) {
    checkOutputDir(artifacts, '--artifacts');
    return;
  }
  checkOutputDir(dirname(runDirFor(db, 'x')), 'run directories (give --artifacts DIR for another place) in');
}

/** A resumed run writes into its own stored directory: that directory's parent is checked the same way. */
export function checkStoredRunDir(runDir: string | null): void {
  if (runDir) checkOutputDir(dirname(runDir), "the resumed run's directory is in");
}
