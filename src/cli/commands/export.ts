import type { Command } from 'commander';
import { checkOutputFile, writeOutputFile } from '../../util/outputs.js';
import { action } from '../action.js';
import { dbOption } from '../options.js';
import type { ExportFormat } from '../../report/export.js';
import { UserError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('export')
    .description("sweeps or runs as tables in the paper's shape (Table 3 / Table 4), ours beside the paper's")
    .argument('<sweep-or-run...>', 'sweep names and/or run references')
    .requiredOption('--format <fmt>', 'md | csv | json')
    .option('--out <file>', 'write to this file instead of stdout (with md, the chart goes to <file>.svg too)')
    .option('--chart <file>', 'write the bar chart (ours vs the paper, per trial) as SVG to this file')
    .addOption(dbOption())
    .action(
      action(async (refs: string[], opts: { format: string; out?: string; chart?: string; db: string }) => {
        if (!['md', 'csv', 'json'].includes(opts.format))
          throw new UserError(`--format ${opts.format}: expected md, csv or json`);
        const chart =
          opts.chart ?? (opts.format === 'md' && opts.out ? `${opts.out.replace(/\.md$/, '')}.svg` : undefined);
        // Both outputs are checked before anything is read or written (the --out rule).
        if (opts.out) checkOutputFile(opts.out, '--out');
        if (chart) checkOutputFile(chart, opts.chart ? '--chart' : '--out (chart)');
        // The store (better-sqlite3, or pg) and the report modules (zod) are imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { withRunReader } = await import('../../store/open.js');
        const { exportGroups, renderChart, renderExport } = await import('../../report/export.js');
        const groups = await withRunReader(opts.db, (store) => exportGroups(store, refs));
        const text = renderExport(groups, opts.format as ExportFormat);
        if (chart) writeOutputFile(chart, renderChart(groups), opts.chart ? '--chart' : '--out (chart)');
        if (opts.out) {
          writeOutputFile(opts.out, text, '--out');
          process.stderr.write(`wrote ${opts.out}${chart ? ` and ${chart}` : ''}\n`);
        } else process.stdout.write(text);
      }),
    );
}
