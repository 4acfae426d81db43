import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption, jsonOption } from '../options.js';
import { RUN_STATUSES, type RunStatus } from '../../store/types.js';
import { DEFAULT_STALE_SECONDS, shownStatus, type ShownStatus } from '../../store/stale.js';
import { textTable } from '../../report/text-table.js';
import { pct } from '../../util/format.js';
import type { AdaptiveRecord } from '../../report/adaptive.js';
import { UserError } from '../../util/errors.js';

/** What --status accepts: a stored status, or stale (stored as running, lease run out). */
const SHOWN: readonly ShownStatus[] = [...RUN_STATUSES, 'stale'];

export function register(program: Command): void {
  program
    .command('runs')
    .description('list runs in the store: id, name, sweep, status, final average AUC / pAUC')
    .option('--sweep <name>', 'only the runs of this sweep')
    .option('--status <status>', `only runs shown with this status (${SHOWN.join(', ')})`)
    .addOption(jsonOption('one JSON array'))
    .addOption(dbOption())
    .action(
      action(async (opts: { sweep?: string; status?: string; json?: boolean; db: string }) => {
        if (opts.status !== undefined && !SHOWN.includes(opts.status as ShownStatus)) {
          throw new UserError(`--status ${opts.status}: expected one of ${SHOWN.join(', ')}`);
        }
        // A stale run is stored as running (see shownStatus).
        const stored = opts.status === 'stale' ? 'running' : (opts.status as RunStatus | undefined);
        const now = Date.now();
        // The store (better-sqlite3, or pg) and the report modules (zod) are imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { withRunReader } = await import('../../store/open.js');
        const { adaptiveRecord, rungStanding } = await import('../../report/adaptive.js');
        const { rows, location } = await withRunReader(opts.db, async (store) => {
          const runs = await store.listRuns({
            ...(opts.sweep ? { sweep: opts.sweep } : {}),
            ...(stored ? { status: stored } : {}),
          });
          const rows = [];
          const adaptive = new Map<string, AdaptiveRecord | null>();
          for (const r of runs) {
            if (r.sweep !== null && !adaptive.has(r.sweep)) adaptive.set(r.sweep, await adaptiveRecord(store, r.sweep));
            const a = r.sweep !== null ? adaptive.get(r.sweep) : null;
            // A trial of an adaptive sweep paused or pruned at a rung: which rung, and why.
            const rung = rungStanding(a ?? null, r);
            const shown = shownStatus(r, DEFAULT_STALE_SECONDS, now);
            if (opts.status !== undefined && shown !== opts.status) continue;
            const avg = (await store.getFinalResult(r.id))?.average ?? null;
            const metric = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : x);
            rows.push({
              id: r.id,
              name: r.name,
              sweep: r.sweep,
              trial: r.trial,
              status: r.status,
              stale: shown === 'stale',
              configHash: r.configHash,
              createdAt: r.createdAt,
              startedAt: r.startedAt,
              finishedAt: r.finishedAt,
              profile: r.profile,
              error: r.error,
              metrics: avg
                ? { auc: metric(avg.auc), pauc: metric(avg.pauc), paucMcclish: metric(avg.paucMcclish) }
                : null,
              rung,
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
          r.id,
          r.name,
          r.sweep ?? '-',
          r.stale ? 'stale' : (r.rung?.status ?? r.status),
          pct(r.metrics?.auc),
          pct(r.metrics?.pauc),
          pct(r.metrics?.paucMcclish),
          (r.startedAt ?? r.createdAt).slice(0, 19).replace('T', ' '),
        ]);
        process.stdout.write(
          `${textTable(['id', 'name', 'sweep', 'status', 'AUC', 'pAUC', 'pAUC(McClish)', 'started (UTC)'], body)}\n`,
        );
      }),
    );
}
