import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';

const HISTORY_DIR = path.join(__dirname, 'histories');
const WORKFLOWS = path.join(__dirname, '..', '..', 'workflows', 'index.ts');
const histories = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json')).sort();
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** A recorded history and the id of the workflow it belongs to (child workflow ids derive from it). */
function loadHistory(file: string): { workflowId: string; history: unknown } {
  return JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as { workflowId: string; history: unknown };
}

describe('recorded workflow histories (retrainingPipeline, shadowEvaluation, canaryRollout, driftMonitor)', () => {
  it('has histories to replay', () => {
    expect(histories.length).toBeGreaterThan(0);
  });

  it.each(histories)('replays %s against the current workflow code', async (file) => {
    const { workflowId, history } = loadHistory(file);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS, bundlerOptions: { logger: quiet } as never }, history, workflowId);
  });

  // Proves the replay check can fail: a workflow that schedules its activities in another order must be rejected.
  it('rejects a workflow whose commands differ from the recorded history', async () => {
    const file = histories.find((f) => f.includes('succeeded'));
    expect(file).toBeDefined();
    const { workflowId, history } = loadHistory(file!);
    const replay = Worker.runReplayHistory({ workflowsPath: path.join(__dirname, 'reordered-pipeline-workflow.ts') }, history, workflowId);
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
