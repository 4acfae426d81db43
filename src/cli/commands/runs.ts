import type { Command } from 'commander';
import { action, DEFAULT_DB } from '../action.js';
import { withRunReader } from '../../store/open.js';
import { RUN_STATUSES, type RunStatus } from '../../store/types.js';
import { textTable } from '../../report/text-table.js';
import { pct } from '../../util/format.js';
import { UserError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list runs in the store: id, name, sweep, status, final average AUC / pAUC')
    .option('--sweep <name>', 'only the runs of this sweep')
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('--json', 'print one JSON array')
    .option('--db <file>', 'run store', DEFAULT_DB)
    .action(
      action(async (opts: { sweep?: string; status?: string; json?: boolean; db: string }) => {
        if (opts.status !== undefined && !RUN_STATUSES.includes(opts.status as RunStatus)) {
          throw new UserError(`--status ${opts.status}: expected one of ${RUN_STATUSES.join(', ')}`);
        }
        const { rows, location } = await withRunReader(opts.db, async (store) => {
          const runs = await store.listRuns({ ...(opts.sweep ? { sweep: opts.sweep } : {}), ...(opts.status ? { status: opts.status as RunStatus } : {}) });
          const rows = [];
          for (const r of runs) {
            const avg = (await store.getFinalResult(r.id))?.average ?? null;
            const metric = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : x);
            rows.push({
              id: r.id, name: r.name, sweep: r.sweep, trial: r.trial, status: r.status, configHash: r.configHash,
              createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, profile: r.profile, error: r.error,
              metrics: avg ? { auc: metric(avg.auc), pauc: metric(avg.pauc), paucMcclish: metric(avg.paucMcclish) } : null,
            });
          }
          return { rows, location: store.location };
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write(`no runs${opts.sweep ? ` in sweep ${opts.sweep}` : ''} in ${location}\n`);
          return;
        }
        const body = rows.map((r) => [
          r.id, r.name, r.sweep ?? '-', r.status, pct(r.metrics?.auc), pct(r.metrics?.pauc), pct(r.metrics?.paucMcclish), (r.startedAt ?? r.createdAt).slice(0, 19).replace('T', ' '),
        ]);
        process.stdout.write(`${textTable(['id', 'name', 'sweep', 'status', 'AUC', 'pAUC', 'pAUC(McClish)', 'started (UTC)'], body)}\n`);
      }),
    );
}
