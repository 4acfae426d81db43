import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption, jsonOption } from '../options.js';
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
        // The store (better-sqlite3, or pg) and the report modules (zod) are imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { withRunReader } = await import('../../store/open.js');
        const colour = process.stdout.isTTY === true && !opts.md && process.env.NO_COLOR === undefined;
        if (b === undefined) {
          const { sweepRows } = await import('../../report/rows.js');
          const { formatSweepComparison } = await import('../../report/sweep-compare.js');
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
        const { compareRuns } = await import('../../report/compare.js');
        const { formatComparison } = await import('../../report/compare-format.js');
        const c = await withRunReader(opts.db, async (store) =>
          compareRuns(store, await store.resolveRun(a), await store.resolveRun(b)),
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        else process.stdout.write(`${formatComparison(c, { md: opts.md === true, colour })}\n`);
      }),
    );
}
