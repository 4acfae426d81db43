import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { action, DEFAULT_DB } from '../action.js';
import { openDatabase } from '../../store/db.js';
import { exportGroups, renderChart, renderExport, type ExportFormat } from '../../report/export.js';
import { UserError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('export')
    .description("sweeps or runs as tables in the paper's shape (Table 3 / Table 4), ours beside the paper's")
    .argument('<sweep-or-run...>', 'sweep names and/or run references')
    .requiredOption('--format <fmt>', 'md | csv | json')
    .option('--out <file>', 'write to this file instead of stdout (with md, the chart goes to <file>.svg too)')
    .option('--chart <file>', 'write the bar chart (ours vs the paper, per trial) as SVG to this file')
    .option('--db <file>', 'run store', DEFAULT_DB)
    .action(
      action((refs: string[], opts: { format: string; out?: string; chart?: string; db: string }) => {
        if (!['md', 'csv', 'json'].includes(opts.format)) throw new UserError(`--format ${opts.format}: expected md, csv or json`);
        const db = openDatabase(opts.db);
        const groups = exportGroups(db, refs);
        db.close();
        const text = renderExport(groups, opts.format as ExportFormat);
        const chart = opts.chart ?? (opts.format === 'md' && opts.out ? `${opts.out.replace(/\.md$/, '')}.svg` : undefined);
        if (chart) writeFileSync(chart, renderChart(groups));
        if (opts.out) {
          writeFileSync(opts.out, text);
          process.stderr.write(`wrote ${opts.out}${chart ? ` and ${chart}` : ''}\n`);
        } else process.stdout.write(text);
      }),
    );
}
