import { Worker, NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import path from 'node:path';
async function main() {
  const address = '127.0.0.1:17233';
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection, namespace: 'default', taskQueue: 'explore', workflowsPath: path.resolve(__dirname, '../fixtures/approval-fixture-workflow.ts') });
  const c = new Client({ connection: await Connection.connect({ address }) });
  for (const id of ['fx-1', 'fx-2', 'fx-3']) {
    await c.workflow.start('approvalFixture', { taskQueue: 'explore', workflowId: id, args: [{ model: 'fixture-model', allowlist: ['alice', 'bob'] }], staticSummary: 'Approval fixture', staticDetails: 'static **details**', workflowIdConflictPolicy: 'USE_EXISTING' });
  }
  console.log('started');
  await worker.run();
}
main().catch((e) => { console.error(e); process.exit(1); });
