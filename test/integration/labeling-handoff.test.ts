import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironment } from '../../lib/config/environment';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { getLabelBatchByWorkflow, listBatchLabels, listLabelItems } from '../../lib/db/repositories/label-batches';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { startLabelStudio, type LabelStudioServer } from '../../lib/dev-stack/label-studio-server';
import { signUpWithToken } from '../../lib/dev-stack/label-studio-session';
import { LabelStudioClient } from '../../lib/clients/label-studio-client';
import { choiceResult, labelingConfig } from '../../lib/labeling/labeling-config';
import { sha256OfKey } from '../../lib/labeling/label-studio-handoff';
import type { LabelingSpec } from '../../lib/spec/labeling-spec';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { startGateway, type RunningGateway } from '../../gateway/main';
import { LABELING_WEBHOOK_PATH } from '../../gateway/labeling-webhook-route';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineResult } from '../../workflows/definitions';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';

/**
 * The labeling hand-off against a real Label Studio 1.23.2 (its own venv, started here on a free
 * port) and Retrain's gateway receiving its webhooks: two annotators annotate through Label
 * Studio's API, the webhook signals the waiting run, and the trained version used their labels.
 */

const execFileAsync = promisify(execFile);
const SPEC_FILE = path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model-labeled.json');
const WEBHOOK_SECRET = 'labeling-test-webhook-secret-0123';
const CLASSES = [
  { value: 0, name: 'on time' },
  { value: 1, name: 'delayed' },
];

/** A Label Studio user annotating through the REST API, as a person in its UI would (Retrain's client never annotates). */
class Annotator {
  constructor(
    readonly name: string,
    readonly url: string,
    readonly token: string,
  ) {}
  async annotate(taskId: number, className: string): Promise<void> {
    const refresh = await fetch(`${this.url}/api/token/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: this.token }) });
    const { access } = (await refresh.json()) as { access: string };
    const response = await fetch(`${this.url}/api/tasks/${taskId}/annotations/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
      body: JSON.stringify({ result: [choiceResult(className)], lead_time: 1 }),
    });
    expect(response.status, `${this.name} annotating task ${taskId}: ${await response.clone().text()}`).toBe(201);
  }
}

describe('labelingHandoff with a real Label Studio', () => {
  let harness: PipelineHarness;
  let labelStudio: LabelStudioServer;
  let gateway: RunningGateway;
  let base: ModelSpec;
  let first: Annotator;
  let second: Annotator;
  let runs = 0;

  beforeAll(async () => {
    const binDir = process.env.RETRAIN_TEST_LABEL_STUDIO_BIN;
    if (!binDir) throw new Error('RETRAIN_TEST_LABEL_STUDIO_BIN is not set: run the tests through `npm test` (test/run.ts prepares the Label Studio venv)');
    const started = Date.now();
    // Its data directory lives in the cache: the first start migrates SQLite for minutes on two cores; later runs reuse it (each run's projects have their own titles).
    labelStudio = await startLabelStudio({ binDir, startTimeoutMs: 900_000, dataDir: path.join(loadEnvironment().cacheDir, 'label-studio-test-data'), log: (m) => console.log(m) });
    console.log(`Label Studio answered after ${Date.now() - started} ms (startup ${labelStudio.startupMs} ms)`);

    const gatewayPort = await findFreePort();
    const webhookUrl = `http://127.0.0.1:${gatewayPort}${LABELING_WEBHOOK_PATH}`;
    harness = await createPipelineHarness('labeling', {
      labeling: { labelStudio: { url: labelStudio.url, token: labelStudio.token }, webhook: { url: webhookUrl, secret: WEBHOOK_SECRET } },
    });
    gateway = await startGateway({
      databaseUrl: harness.databaseUrl,
      s3: harness.services.s3,
      auth: { mode: 'open' },
      port: gatewayPort,
      host: '127.0.0.1',
      labelingWebhook: { secret: WEBHOOK_SECRET, temporalAddress: harness.services.temporalAddress, namespace: harness.services.namespace },
    });

    first = new Annotator('admin', labelStudio.url, labelStudio.token);
    const email = `annotator-${harness.taskQueue.slice(-6)}@example.com`;
    second = new Annotator('second annotator', labelStudio.url, await signUpWithToken(labelStudio.url, { email, password: 'second-annotator-password' }));

    const prefix = `sources/${harness.taskQueue}/flight-delay/`;
    const example = loadModelSpec(SPEC_FILE);
    base = { ...example, source: { kind: 's3', prefix, format: 'parquet' }, training: { ...example.training, windowPartitions: 2 } };
    await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-04', target: { kind: 's3', client: harness.deps.sourceS3.client, bucket: harness.deps.sourceS3.bucket, prefix } });
  }, 900_000);

  afterAll(async () => {
    await gateway?.close();
    await harness?.close();
    await labelStudio?.stop();
  });

  /** A spec of a model of its own (its own Label Studio project) with these labeling settings. */
  function specWith(labels: Partial<LabelingSpec>): ModelSpec {
    runs++;
    const name = `flight-delay-lab-${harness.taskQueue.slice(-6)}-${runs}`;
    return {
      ...base,
      name,
      labels: {
        ...(base.labels as LabelingSpec),
        classes: CLASSES,
        budget: 4,
        randomShare: 0.5,
        annotatorsPerItem: 2,
        conflict: 'majority',
        pollSeconds: 3600,
        reminderSeconds: 3600,
        timeout: { seconds: 3600, onTimeout: 'escalate', minLabeledFraction: 0.8 },
        project: `Retrain test ${name}`,
        ...labels,
      },
    };
  }

  /** Starts the run and resolves once its batch's tasks are in Label Studio. */
  async function startAndWaitForTasks(spec: ModelSpec): Promise<{ handle: WorkflowHandle; taskIds: number[]; batchId: string; projectId: number }> {
    const day = '2001-01-04';
    const handle = await harness.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: harness.taskQueue, workflowId: retrainingPipelineId(spec.name, day), args: [{ spec, day }] });
    const childId = `${handle.workflowId}/labeling`;
    for (const deadline = Date.now() + 240_000; Date.now() < deadline; ) {
      const batch = await getLabelBatchByWorkflow(harness.deps.db, childId).catch(() => undefined);
      if (batch?.projectId != null) {
        const items = await listLabelItems(harness.deps.db, batch.id);
        if (items.length > 0 && items.every((i) => i.taskId !== null)) return { handle, taskIds: items.map((i) => i.taskId!), batchId: batch.id, projectId: batch.projectId };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`the batch of ${childId} never reached Label Studio`);
  }

  it('two annotators with one disagreement, the webhook signals the run, and the trained version used their labels', async () => {
    const spec = specWith({});
    const result = await harness.withWorkers(async () => {
      const { handle, taskIds } = await startAndWaitForTasks(spec);
      expect(taskIds).toHaveLength(4);
      // They disagree on the first task only: Cohen's kappa (0.75 - 0.5) / (1 - 0.5) = 0.5.
      const firstSays = ['delayed', 'on time', 'delayed', 'on time'];
      const secondSays = ['on time', 'on time', 'delayed', 'on time'];
      for (const [k, taskId] of taskIds.entries()) {
        await first.annotate(taskId, firstSays[k]!);
        await second.annotate(taskId, secondSays[k]!);
      }
      // No poll within the test's time (pollSeconds 3600): only the webhook's signal can end the wait.
      return (await handle.result()) as RetrainingPipelineResult;
    });
    const labeling = result.labeling!;
    console.log(`labeling: ${JSON.stringify({ status: labeling.status, labeled: labeling.labeled, conflicts: labeling.conflicts, ties: labeling.ties, agreement: labeling.agreement, waited: labeling.waitedSeconds })}`);
    expect(labeling.status).toBe('labeled');
    expect(labeling.conflicts).toBe(1);
    // Two annotators, one each way: no majority, reported as a tie and left out of training.
    expect(labeling.ties).toBe(1);
    expect(labeling.labeled).toBe(3);
    expect(labeling.agreement.method).toBe('cohen');
    expect(labeling.agreement.items).toBe(4);
    expect(labeling.agreement.kappa).toBeCloseTo(0.5, 9);
    const stored = await listBatchLabels(harness.deps.db, labeling.batch.batchId);
    expect(stored).toHaveLength(8);
    expect(new Set(stored.map((l) => l.annotator)).size).toBe(2);
    expect(stored.some((l) => l.source === 'webhook')).toBe(true);
    expect(result.training.humanLabels).toMatchObject({ batches: [labeling.batch.batchId], resolved: 3, applied: 3, notFound: 0 });
    await harness.recordHistory(result.workflowId, 'retraining-pipeline-labeled');
    await harness.recordHistory(`${result.workflowId}/labeling`, 'labeling-handoff-labeled');
  }, 900_000);

  it('a webhook that never arrives is caught by the poll', async () => {
    const spec = specWith({ pollSeconds: 5, annotatorsPerItem: 1, budget: 2 });
    const result = await harness.withWorkers(async () => {
      const { handle, taskIds, projectId } = await startAndWaitForTasks(spec);
      // Label Studio posts each webhook once and never again: with the project's webhook off, none reaches Retrain.
      await setWebhooksActive(projectId, false);
      for (const taskId of taskIds) await first.annotate(taskId, 'delayed');
      return (await handle.result()) as RetrainingPipelineResult;
    });
    expect(result.labeling).toMatchObject({ status: 'labeled', labeled: 2, conflicts: 0 });
    const stored = await listBatchLabels(harness.deps.db, result.labeling!.batch.batchId);
    expect(stored.map((l) => l.source)).toEqual(['poll', 'poll']);
    expect(result.training.humanLabels).toMatchObject({ applied: 2 });
  }, 900_000);

  it('a timeout with enough labeled proceeds with what is labeled', async () => {
    const spec = specWith({ annotatorsPerItem: 1, budget: 4, timeout: { seconds: 40, onTimeout: 'proceed', minLabeledFraction: 0.5 } });
    const result = await harness.withWorkers(async () => {
      const { handle, taskIds } = await startAndWaitForTasks(spec);
      for (const taskId of taskIds.slice(0, 2)) await first.annotate(taskId, 'on time');
      return (await handle.result()) as RetrainingPipelineResult;
    });
    expect(result.labeling).toMatchObject({ status: 'proceeded', labeled: 2 });
    expect(result.labeling!.reason).toMatch(/timed out with 2 of 4 items labeled/);
    expect(result.training.humanLabels).toMatchObject({ applied: 2 });
  }, 900_000);

  it('a timeout with too small a labeled fraction fails the run with the reason, and nothing is trained', async () => {
    const spec = specWith({ annotatorsPerItem: 1, budget: 4, timeout: { seconds: 40, onTimeout: 'proceed', minLabeledFraction: 0.8 } });
    const failure = await harness.withWorkers(async () => {
      const { handle, taskIds } = await startAndWaitForTasks(spec);
      await first.annotate(taskIds[0]!, 'delayed');
      return handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const chain: string[] = [];
    for (let e = failure as { cause?: unknown; message?: string; type?: string } | undefined; e; e = e.cause as typeof e) chain.push(`${(e as object).constructor.name}${e.type ? `(${e.type})` : ''}: ${e.message ?? ''}`);
    expect(chain.join(' -> ')).toMatch(/LabelingIncomplete.*1 of 4 items labeled.*fewer than the 80/);
    const batch = await getLabelBatchByWorkflow(harness.deps.db, `${retrainingPipelineId(spec.name, '2001-01-04')}/labeling`);
    expect(batch.status).toBe('failed');
    const versions = await harness.deps.db.selectFrom('model_versions').select('id').where('model', '=', spec.name).execute();
    expect(versions).toEqual([]);
  }, 900_000);

  it('a timeout set to escalate records the escalation, reminds while it waits, and keeps waiting until the labels arrive', async () => {
    const spec = specWith({ annotatorsPerItem: 1, budget: 2, reminderSeconds: 5, timeout: { seconds: 15, onTimeout: 'escalate', minLabeledFraction: 0.8 } });
    const result = await harness.withWorkers(async () => {
      const { handle, taskIds } = await startAndWaitForTasks(spec);
      const child = harness.client.workflow.getHandle(`${handle.workflowId}/labeling`);
      for (const deadline = Date.now() + 120_000; ; ) {
        const text = (await child.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
        // A reminder every 5 s (log line, metric, these details), the escalation after 15 s.
        if (/reminders [1-9]\d*, escalations [1-9]/.test(text)) break;
        if (Date.now() > deadline) throw new Error(`no escalation and reminder after 120 s; details: ${text}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      expect((await child.describe()).status.name).toBe('RUNNING');
      for (const taskId of taskIds) await first.annotate(taskId, 'delayed');
      return (await handle.result()) as RetrainingPipelineResult;
    });
    expect(result.labeling).toMatchObject({ status: 'labeled', labeled: 2 });
    expect(result.labeling!.escalations).toBeGreaterThanOrEqual(1);
  }, 900_000);

  it('Label Studio stopped mid-wait and started again: the run keeps waiting, then proceeds', async () => {
    const spec = specWith({ pollSeconds: 5, annotatorsPerItem: 1, budget: 2 });
    const result = await harness.withWorkers(async () => {
      const { handle, taskIds } = await startAndWaitForTasks(spec);
      await labelStudio.stop();
      const child = harness.client.workflow.getHandle(`${handle.workflowId}/labeling`);
      // Polls fail while it is away; the wait notes it and goes on.
      for (const deadline = Date.now() + 120_000; ; ) {
        const description = await child.describe();
        expect(description.status.name).toBe('RUNNING');
        // setCurrentDetails answers the SDK's built-in metadata query (what the Web UI shows as Current Details).
        const text = (await child.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
        if (text.includes('Could not read the batch')) break;
        if (Date.now() > deadline) throw new Error(`the wait never noted Label Studio's absence; details: ${text}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      const restarted = Date.now();
      await labelStudio.start();
      console.log(`Label Studio restarted in ${Date.now() - restarted} ms`);
      expect((await child.describe()).status.name).toBe('RUNNING');
      for (const taskId of taskIds) await first.annotate(taskId, 'delayed');
      return (await handle.result()) as RetrainingPipelineResult;
    });
    expect(result.labeling).toMatchObject({ status: 'labeled', labeled: 2 });
    expect(result.training.humanLabels).toMatchObject({ applied: 2 });
  }, 1_200_000);

  it('`retrain labels import FILE` takes a Label Studio JSON export when Label Studio cannot reach Retrain', async () => {
    // A deployment with no LABEL_STUDIO_URL: the batch waits as a tasks file in S3; the team imports it into their own Label Studio.
    const offline = await createPipelineHarness('labels_import', { labeling: { labelStudio: null, webhook: null } });
    try {
      const spec = { ...specWith({ annotatorsPerItem: 1, budget: 3 }), source: base.source };
      const day = '2001-01-04';
      const workflowId = retrainingPipelineId(spec.name, day);
      const result = await offline.withWorkers(async () => {
        const handle = await offline.client.workflow.start(RETRAINING_PIPELINE, { taskQueue: offline.taskQueue, workflowId, args: [{ spec, day }] });
        let tasksKey: string | null = null;
        for (const deadline = Date.now() + 240_000; !tasksKey && Date.now() < deadline; ) {
          tasksKey = (await getLabelBatchByWorkflow(offline.deps.db, `${workflowId}/labeling`).catch(() => undefined))?.tasksKey ?? null;
          if (!tasksKey) await new Promise((r) => setTimeout(r, 1000));
        }
        if (!tasksKey) throw new Error('the batch never wrote its tasks file');
        const tasks = JSON.parse(Buffer.from(await offline.deps.store.getBytes({ key: tasksKey, sha256: sha256OfKey(tasksKey) })).toString('utf8')) as unknown[];
        expect(tasks).toHaveLength(3);

        // The team's Label Studio: a project with the generated config, the tasks imported, annotated, exported as JSON.
        const team = new LabelStudioClient({ url: labelStudio.url, token: labelStudio.token });
        const project = await team.createProject({ title: `Team import ${spec.name}`.slice(0, 50), description: 'labels import test', label_config: labelingConfig(CLASSES) });
        const taskIds = await team.importTasks(project.id, tasks as never);
        for (const taskId of taskIds) await first.annotate(taskId, 'on time');
        const exported = await team.exportTasks(project.id, { onlyAnnotated: true });
        const file = path.join(offline.services.workDir, `${spec.name}-export.json`);
        await writeFile(file, JSON.stringify(exported));

        const { stdout } = await execFileAsync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'retrain.cjs'), 'labels', 'import', file], { cwd: path.join(__dirname, '..', '..'), env: offline.cliEnvironment('cli') });
        console.log(stdout);
        expect(stdout).toMatch(/3 tasks in .*: 3 of Retrain's batches, 0 not/);
        expect(stdout).toMatch(/signalled/);
        return (await handle.result()) as RetrainingPipelineResult;
      });
      expect(result.labeling).toMatchObject({ status: 'labeled', labeled: 3 });
      expect(result.labeling!.batch.projectId).toBeNull();
      const stored = await listBatchLabels(offline.deps.db, result.labeling!.batch.batchId);
      expect(stored.map((l) => [l.source, l.value])).toEqual([['import', 0], ['import', 0], ['import', 0]]);
      expect(result.training.humanLabels).toMatchObject({ applied: 3 });
    } finally {
      await offline.close();
    }
  }, 900_000);

  it("the webhook endpoint refuses a request without the secret (401) or that is not a Label Studio webhook (400), and ignores other actions", async () => {
    const post = (body: unknown, secret?: string) =>
      fetch(`${gateway.url}${LABELING_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { 'x-retrain-webhook-secret': secret } : {}) }, body: JSON.stringify(body) });
    const created = { action: 'ANNOTATION_CREATED', project: { id: 1 }, annotation: { id: 1, task: 1 } };
    const missing = await post(created);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('invalid_webhook_secret');
    expect((await post(created, 'not-the-secret-at-all')).status).toBe(401);
    const invalid = await post({ action: 'ANNOTATION_CREATED', project: { id: 'one' } }, WEBHOOK_SECRET);
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { field?: string } }).error.field).toBe('project.id');
    const other = await post({ action: 'PROJECT_UPDATED', project: { id: 1 } }, WEBHOOK_SECRET);
    expect(await other.json()).toMatchObject({ status: 'ignored' });
    // A task no open batch holds (its run ended): nothing to signal.
    expect(await (await post({ ...created, annotation: { id: 999_999, task: 999_999 } }, WEBHOOK_SECRET)).json()).toMatchObject({ status: 'ignored' });
  });

  /** Turns the project's webhooks (Retrain's) on or off, as an admin in Label Studio's settings would. */
  async function setWebhooksActive(projectId: number, active: boolean): Promise<void> {
    const refresh = await fetch(`${labelStudio.url}/api/token/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: labelStudio.token }) });
    const { access } = (await refresh.json()) as { access: string };
    const auth = { authorization: `Bearer ${access}`, 'content-type': 'application/json' };
    const hooks = (await (await fetch(`${labelStudio.url}/api/webhooks/?project=${projectId}`, { headers: auth })).json()) as { id: number }[];
    expect(hooks.length).toBeGreaterThan(0);
    for (const hook of hooks) {
      const response = await fetch(`${labelStudio.url}/api/webhooks/${hook.id}/`, { method: 'PATCH', headers: auth, body: JSON.stringify({ is_active: active }) });
      expect(response.status).toBe(200);
    }
  }
});
