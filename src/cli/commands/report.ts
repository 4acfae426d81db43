import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { action } from '../action.js';
import { dbOption } from '../options.js';
import { checkOutputDir, checkOutputFile, createOutputDir, writeOutputFile } from '../../util/outputs.js';
import { UserError } from '../../util/errors.js';
import { isPostgresUrl, maskPassword } from '../../util/db-location.js';

/** The store and both output places are checked before anything is read or drawn; true when --png DIR is still to be made. */
function checkOutputs(opts: { out?: string; png?: string; db: string }): boolean {
  // A report only reads: a missing file is a typo, not a new empty store.
  if (!isPostgresUrl(opts.db) && !existsSync(opts.db))
    throw new UserError(
      `--db ${opts.db}: no run store at that path`,
      'Pass the store your runs were written to with --db FILE.',
    );
  if (!opts.out && !opts.png)
    throw new UserError('exp report: give --out FILE.html (the report) and/or --png DIR (the figures alone)');
  // The --out rule: never overwrite a file exp did not write (src/util/outputs.ts).
  if (opts.out) checkOutputFile(opts.out, '--out');
  return opts.png ? checkOutputDir(opts.png, '--png') : false;
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'one self-contained offline HTML file: ROC curves and score distributions per machine type, learning curves, the sweep table, per-fault detection',
    )
    .argument('<run-or-sweep...>', 'sweep names and/or run references (id, unique prefix, name or trial name)')
    .option('--out <file>', 'write the HTML report here (opens from disk, no network)')
    .option('--png <dir>', 'also write every figure as <dir>/<name>.png')
    .addOption(dbOption())
    .action(
      action(async (refs: string[], opts: { out?: string; png?: string; db: string }) => {
        const makePngDir = checkOutputs(opts);
        // The store, and vega, vega-lite and resvg that draw the figures: imported when a report is
        // made, not when exp starts (src/cli/lazy.ts).
        const { withRunReader } = await import('../../store/open.js');
        const { buildReport, loadReport, svgToPng } = await import('../../report/html/index.js');
        const input = await withRunReader(opts.db, (store) => loadReport(store, refs, maskPassword(opts.db)));
        const report = await buildReport(input);
        const pngs = opts.png
          ? report.figures.map((f) => ({ file: join(opts.png!, `${f.name}.png`), svg: f.svg }))
          : [];
        if (makePngDir) createOutputDir(opts.png!, '--png');
        for (const p of pngs) checkOutputFile(p.file, '--png');
        // Figure names are unique without case (build.ts): one file per figure, so the count below is the files written.
        if (new Set(pngs.map((p) => p.file.toLowerCase())).size !== pngs.length)
          throw new Error('report figures with the same file name');
        if (opts.out) {
          writeOutputFile(opts.out, report.html, '--out');
          process.stderr.write(
            `wrote ${opts.out} (${report.figures.length} figures, ${(report.html.length / 1024).toFixed(0)} KiB)\n`,
          );
        }
        if (opts.png) {
          for (const p of pngs) writeOutputFile(p.file, svgToPng(p.svg), '--png');
          process.stderr.write(`wrote ${pngs.length} figures to ${opts.png}/\n`);
        }
      }),
    );
}
