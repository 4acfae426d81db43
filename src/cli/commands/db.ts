import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption } from '../options.js';
import type { MigrateReport } from '../../store/open.js';
import { UserError, messageOf } from '../../util/errors.js';
import { maskPassword, storeKind } from '../../util/db-location.js';

export function register(program: Command): void {
  const db = program
    .command('db')
    .description('run store maintenance: migrate a store, copy a local store to a shared one');
  db.command('migrate')
    .description('bring a store (SQLite file or postgres:// URL) to the newest schema')
    .addOption(dbOption())
    .action(
      action(async (opts: { db: string }) => {
        // The store's driver is imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { migrateStore } = await import('../../store/open.js');
        const r = await migrateStore(opts.db);
        process.stderr.write(`${r.location}: ${migrationSummary(r)}\n`);
      }),
    );
  db.command('copy')
    .description('copy every run of a SQLite store into a PostgreSQL store (rows already there are kept)')
    .argument('<sqlite-file>', 'the local store')
    .argument('<postgres-url>', 'the shared store, postgres://user@host:port/db')
    .action(
      action(async (file: string, url: string) => {
        if (storeKind(file, 'the source') === 'postgres')
          throw new UserError(`${maskPassword(file)}: the source must be a SQLite file`);
        if (storeKind(url, 'the target') !== 'postgres')
          throw new UserError(`${maskPassword(url)}: the target must be a postgres:// URL`);
        const { copySqliteToPostgres } = await import('../../store/pg/copy.js');
        let report;
        try {
          report = await copySqliteToPostgres(file, url);
        } catch (e) {
          if (e instanceof UserError) throw e;
          throw new UserError(`copy ${file} -> ${maskPassword(url)} failed, nothing was copied: ${messageOf(e)}`);
        }
        for (const r of report)
          process.stderr.write(
            `${r.table.padEnd(12)} ${String(r.read).padStart(8)} read ${String(r.inserted).padStart(8)} inserted\n`,
          );
      }),
    );
}

/** What exp db migrate did, said as it is: created, migrated from version N, or nothing to do. */
export function migrationSummary(r: MigrateReport): string {
  if (r.from === null) return `created the run store at schema version ${r.to}`;
  if (r.from === r.to) return `already at schema version ${r.to}; nothing to apply`;
  return `applied migration${r.to - r.from > 1 ? 's' : ''} ${r.from + 1}${r.to - r.from > 1 ? `-${r.to}` : ''}: schema version ${r.from} -> ${r.to}`;
}
