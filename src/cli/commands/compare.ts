import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption, jsonOption } from '../options.js';
import { withRunReader } from '../../store/open.js';
import { compareRuns } from '../../report/compare.js';
import { formatComparison } from '../../report/compare-format.js';
import { formatSweepComparison } from '../../report/sweep-compare.js';
import { sweepRows } from '../../report/rows.js';
import { UserError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('compare')
    .description('config differences and per-type AUC / pAUC deltas of two runs, or all trials of a sweep')
    .argument('<a>', 'run id, run name or trial name; or a sweep name (then compare all its trials)')
    .argument('[b]', 'the second run')
    .addOption(jsonOption())
    .option('--md', 'print markdown tables')
    .addOption(dbOption())
    .action(
      action(async (a: string, b: string | undefined, opts: { json?: boolean; md?: boolean; db: string }) => {
        const colour = process.stdout.isTTY === true && !opts.md && process.env.NO_COLOR === undefined;
        if (b === undefined) {
          const rows = await withRunReader(opts.db, async (store) => {
            if (!(await store.sweepExists(a)))
              throw new UserError(
                `exp compare ${a}: give two runs, or one sweep name (no sweep ${JSON.stringify(a)} in ${store.location})`,
              );
            return sweepRows(store, a);
          });
          const out = formatSweepComparison(rows, { json: opts.json === true, md: opts.md === true, colour });
          process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
          return;
        }
        const c = await withRunReader(opts.db, async (store) =>
          compareRuns(store, await store.resolveRun(a), await store.resolveRun(b)),
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        else process.stdout.write(`${formatComparison(c, { md: opts.md === true, colour })}\n`);
      }),
    );
}
