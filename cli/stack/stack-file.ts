import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RetrainEnvironment } from '../../lib/config/environment';

/** Connection details `retrain up` writes to the data directory so other commands can reach the stack. */
export const StackConnection = z.object({
  pid: z.number().int(),
  temporal: z.object({ address: z.string(), uiUrl: z.string(), namespace: z.string() }),
  taskQueue: z.string(),
  databaseUrl: z.string(),
  s3: z.object({
    endpoint: z.string(),
    region: z.string(),
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    bucket: z.string(),
    /** Set for servers that reject the SDK's default checksums (the embedded s3rver). */
    requestChecksumCalculation: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).optional(),
  }),
  /** The inference gateway's base URL, when the stack runs one. */
  gatewayUrl: z.string().optional(),
});
export type StackConnection = z.infer<typeof StackConnection>;

const fileIn = (env: RetrainEnvironment) => path.join(env.dataDir, 'stack.json');

export async function writeStackFile(env: RetrainEnvironment, connection: StackConnection): Promise<void> {
  await writeFile(fileIn(env), `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
}

export async function removeStackFile(env: RetrainEnvironment): Promise<void> {
  await rm(fileIn(env), { force: true });
}

/** The running stack's connection, or a clear error telling how to start one. */
export async function readStackFile(env: RetrainEnvironment, unsetVariables: readonly string[] = []): Promise<StackConnection> {
  let raw: string;
  try {
    raw = await readFile(fileIn(env), 'utf8');
  } catch {
    const orSet = unsetVariables.length > 0 ? `, or set ${unsetVariables.join(', ')} to existing services` : '';
    throw new Error(`no running stack found in ${env.dataDir}: start one with \`retrain up\` in another terminal${orSet}`);
  }
  const connection = StackConnection.parse(JSON.parse(raw));
  try {
    process.kill(connection.pid, 0);
  } catch {
    throw new Error(`the stack recorded in ${fileIn(env)} (pid ${connection.pid}) is not running: start it with \`retrain up\``);
  }
  return connection;
}
