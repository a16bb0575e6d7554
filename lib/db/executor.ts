import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

/** Repository functions take either the database or an open transaction first. */
export type DbExecutor = Kysely<Database> | Transaction<Database>;
