import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// Return `date` columns as 'YYYY-MM-DD' strings: a calendar day must not shift with the process's time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);
// bigint ids and counts stay strings (exact); callers convert counts with Number() where they are small.

/** Opens a kysely instance over a pg pool for the given postgres:// URL. */
export function createDatabase(url: string, poolSize = 10): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: poolSize }) }),
  });
}
