import type { ExpandedSweep } from '../sweep/spec.js';
import type { ExecutorName } from './options.js';

/**
 * Where a sweep's trials run: `exp sweep` validates and preflights the sweep, then hands it to
 * the executor its --executor names (local: trials as child processes of this one; slurm: one
 * job array of `exp worker` tasks followed from the store). Adding an executor is one
 * implementation and one entry in the command's map; nothing else switches on the name.
 */
export interface SweepExecutor<O> {
  readonly name: ExecutorName;
  /** Refuses what this executor cannot do (a user error), before the sweep is loaded or checked. */
  check(o: O): void;
  /** Runs every trial of the validated, preflighted sweep (or submits them and follows them), and reports how it ended. */
  run(sweep: ExpandedSweep, o: O): Promise<void>;
}
