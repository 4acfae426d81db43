import type { Command } from 'commander';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { action, DEFAULT_DB } from '../action.js';
import { openDatabase } from '../../store/db.js';
import { buildReport, loadReport, svgToPng } from '../../report/html/index.js';
import { UserError } from '../../util/errors.js';

/** Both output places are checked before anything is read or drawn. */
function checkOutputs(opts: { out?: string; png?: string }): void {
  if (!opts.out && !opts.png) throw new UserError('exp report: give --out FILE.html (the report) and/or --png DIR (the figures alone)');
  if (opts.out) {
    const dir = dirname(resolve(opts.out));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--out ${opts.out}: directory ${dir} does not exist`);
    if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new UserError(`--out ${opts.out}: is a directory; expected a file name such as report.html`);
  }
  if (opts.png && existsSync(opts.png) && !statSync(opts.png).isDirectory()) throw new UserError(`--png ${opts.png}: exists and is not a directory`);
}

export function register(program: Command): void {
  program
    .command('report')
    .description('one self-contained offline HTML file: ROC curves and score distributions per machine type, learning curves, the sweep table, per-fault detection')
    .argument('<run-or-sweep...>', 'sweep names and/or run references (id, unique prefix, name or trial name)')
    .option('--out <file>', 'write the HTML report here (opens from disk, no network)')
    .option('--png <dir>', 'also write every figure as <dir>/<name>.png')
    .option('--db <file>', 'run store', DEFAULT_DB)
    .action(
      action(async (refs: string[], opts: { out?: string; png?: string; db: string }) => {
        checkOutputs(opts);
        const db = openDatabase(opts.db, { readonly: true });
        const input = (() => {
          try {
            return loadReport(db, refs, opts.db);
          } finally {
            db.close();
          }
        })();
        const report = await buildReport(input);
        if (opts.out) {
          writeFileSync(opts.out, report.html);
          process.stderr.write(`wrote ${opts.out} (${report.figures.length} figures, ${(report.html.length / 1024).toFixed(0)} KiB)\n`);
        }
        if (opts.png) {
          mkdirSync(opts.png, { recursive: true });
          for (const f of report.figures) writeFileSync(join(opts.png, `${f.name}.png`), svgToPng(f.svg));
          process.stderr.write(`wrote ${report.figures.length} figures to ${opts.png}/\n`);
        }
      }),
    );
}
