import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';
import { startStack } from '../../lib/dev-stack/stack';
import { localOnlyEnvironment } from '../../lib/config/environment';
import type { TestServices } from './test-services';

/**
 * Starts real services once for the integration run: the Temporal CLI dev
 * server, a local Postgres and a versitygw S3 server (never an in-process fake),
 * all on free ports in a temporary directory.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-it-'));
  // Postgres runs as an unprivileged user, which must be able to enter the directory.
  await chmod(dataDir, 0o711);
  // Integration tests always start their own services, whatever the shell exported.
  const stack = await startStack({
    environment: localOnlyEnvironment(dataDir, 'versitygw'),
    searchAttributes: RETRAIN_SEARCH_ATTRIBUTE_KEYS,
    stopOnSignal: true,
    log: (msg) => process.stderr.write(`[services] ${msg}\n`),
  });
  process.stderr.write(
    `[services] temporal ${stack.temporal.address} (${stack.startupMs.temporal} ms), postgres (${stack.startupMs.postgres} ms), s3 ${stack.s3.endpoint} (${stack.startupMs.s3} ms)\n`,
  );
  const services: TestServices = {
    temporalAddress: stack.temporal.address,
    temporalUiUrl: stack.temporal.uiUrl,
    namespace: stack.temporal.namespace,
    databaseUrl: stack.databaseUrl,
    s3: {
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      accessKeyId: stack.s3.accessKeyId,
      secretAccessKey: stack.s3.secretAccessKey,
      bucket: stack.s3.bucket,
    },
    workDir: path.join(dataDir, 'work'),
  };
  await mkdir(services.workDir, { recursive: true });
  project.provide('services', services);
  return async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
