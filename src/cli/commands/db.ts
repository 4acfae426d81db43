import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption } from '../options.js';
import { isPostgresUrl, openRunStore } from '../../store/open.js';
import { UserError, messageOf } from '../../util/errors.js';
import { maskPassword } from '../../util/db-location.js';

export function register(program: Command): void {
  const db = program.command('db').description('run store maintenance: migrate a store, copy a local store to a shared one');
  db.command('migrate')
    .description('bring a store (SQLite file or postgres:// URL) to the newest schema')
    .addOption(dbOption())
    .action(
      action(async (opts: { db: string }) => {
        const store = await openRunStore(opts.db);
        await store.close();
        process.stderr.write(`${store.location}: schema up to date\n`);
      }),
    );
  db.command('copy')
    .description('copy every run of a SQLite store into a PostgreSQL store (rows already there are kept)')
    .argument('<sqlite-file>', 'the local store')
    .argument('<postgres-url>', 'the shared store, postgres://user@host:port/db')
    .action(
      action(async (file: string, url: string) => {
        if (isPostgresUrl(file)) throw new UserError(`${file}: the source must be a SQLite file`);
        if (!isPostgresUrl(url)) throw new UserError(`${maskPassword(url)}: the target must be a postgres:// URL`);
        const { copySqliteToPostgres } = await import('../../store/pg/copy.js');
        let report;
        try {
          report = await copySqliteToPostgres(file, url);
        } catch (e) {
          if (e instanceof UserError) throw e;
          throw new UserError(`copy ${file} -> ${maskPassword(url)} failed, nothing was copied: ${messageOf(e)}`);
        }
        for (const r of report) process.stderr.write(`${r.table.padEnd(12)} ${String(r.read).padStart(8)} read ${String(r.inserted).padStart(8)} inserted\n`);
      }),
    );
}
