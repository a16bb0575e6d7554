import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { INVALID_WORKFLOW_INPUT } from './definitions';

/**
 * Checks a workflow's input against its schema (lib/spec/workflow-inputs.ts) and fails
 * the run at once when it does not parse. A plain Error thrown by workflow code fails
 * only the workflow task, which Temporal retries forever; a non-retryable
 * ApplicationFailure fails the run, with a message naming each invalid field.
 *
 * Only checks: the workflow goes on with the input as sent, not the parsed copy, so
 * defaults the schema would fill in never change what a recorded history replays (a run
 * started before `promotion` existed in the spec keeps the direct path it took).
 * `input: I` ties the schema to the payload type: the schema must accept every value of it.
 */
export function validateWorkflowInput<I>(workflow: string, schema: z.ZodType<unknown, I>, input: I): void {
  const result = schema.safeParse(input);
  if (result.success) return;
  throw invalidWorkflowInput(workflow, result.error.issues.map((issue) => `${describePath(issue.path)}: ${issue.message}, got ${describeValue(valueAt(input, issue.path))}`).join('; '));
}

/** The failure for one workflow's invalid input; `problems` names the fields. */
export function invalidWorkflowInput(workflow: string, problems: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_WORKFLOW_INPUT, nonRetryable: true, message: `invalid ${workflow} input: ${problems}` });
}

function describePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(input)' : path.map(String).join('.');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}...` : value}'`;
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 60)}...` : json;
}
