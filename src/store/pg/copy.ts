import pg from 'pg';
import { openDatabase } from '../db.js';
import { requireCurrentSchema, schemaVersionPostgres } from './schema.js';
import { withRetry } from './retry.js';
import { maskPassword } from '../../util/db-location.js';

/** Tables in foreign-key order. */
const TABLES = [
  'sweeps',
  'runs',
  'epochs',
  'results',
  'scores',
  'checkpoints',
  'sweep_rungs',
  'sweep_decisions',
] as const;

export interface CopyReport {
  table: string;
  read: number;
  inserted: number;
}

/**
 * Copies a SQLite store into a PostgreSQL one (set up by exp db migrate) in one transaction: every row of
 * every table, with ON CONFLICT DO NOTHING, so copying twice, or into a store that already holds
 * some of the runs, adds only what is missing and changes nothing already there.
 */
export async function copySqliteToPostgres(file: string, url: string): Promise<CopyReport[]> {
  const src = openDatabase(file, { readonly: true });
  const client = new pg.Client({ connectionString: url });
  // A server restart mid-copy must fail the copy (rolled back), not kill the process.
  client.on('error', () => undefined);
  try {
    await withRetry(() => client.connect(), { seconds: 10 });
    // The target must be set up already (exp db migrate): copying writes rows only.
    requireCurrentSchema(await schemaVersionPostgres(client, maskPassword(url)), url, maskPassword(url));
    await client.query('BEGIN');
    const report: CopyReport[] = [];
    for (const table of TABLES) {
      const cols = (src.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
      const rows = src
        .prepare(`SELECT ${cols.join(', ')} FROM ${table}`)
        .raw()
        .all() as unknown[][];
      let inserted = 0;
      const per = Math.max(1, Math.floor(30_000 / cols.length));
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        const values = chunk.flat();
        const tuples = chunk.map((_, k) => `(${cols.map((__, j) => `$${k * cols.length + j + 1}`).join(', ')})`);
        const r = await client.query(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
          values,
        );
        inserted += r.rowCount ?? 0;
      }
      report.push({ table, read: rows.length, inserted });
    }
    await client.query('COMMIT');
    return report;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    src.close();
    await client.end().catch(() => undefined);
  }
}
