import type { Transaction } from 'kysely';
import type { DbExecutor } from './executor';
import type { Database } from './schema';

/** Runs `body` in the caller's transaction when given one, else in a new transaction. */
export function inTransaction<T>(db: DbExecutor, body: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? body(db as Transaction<Database>) : db.transaction().execute(body);
}
