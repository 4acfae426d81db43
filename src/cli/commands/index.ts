import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as sweep } from './sweep.js';
import { register as runs } from './runs.js';
import { register as show } from './show.js';
import { register as compare } from './compare.js';
import { register as exportCmd } from './export.js';
import { register as data } from './data.js';
import { register as features } from './features.js';
import { register as params } from './params.js';
import { register as metrics } from './metrics.js';
import { register as bench } from './bench.js';
import { register as report } from './report.js';
import { register as db } from './db.js';
import { register as worker } from './worker.js';
import { register as parts } from './parts.js';

/**
 * Every command, in the order `exp --help` lists them. Adding one = one file + one line here. A
 * command's file declares its flags and imports only light modules: what it runs (the store,
 * tfjs, ink, vega...) is imported inside its action, or from <name>-action.ts through
 * computeAction (src/cli/lazy.ts), so that every exp command starts in about the time of
 * `exp --help` (test/cli-startup.test.ts checks which packages they load).
 */
export const commands: ReadonlyArray<(program: Command) => void> = [
  run,
  sweep,
  runs,
  show,
  compare,
  exportCmd,
  report,
  data,
  features,
  params,
  parts,
  metrics,
  bench,
  db,
  worker,
];
