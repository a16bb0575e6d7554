import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { annotatorOf, LabelStudioExportFile } from '../../lib/clients/label-studio-export-format';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { labelsOfTasks } from '../../lib/labeling/label-batch-progress';
import { choiceResult, chosenClass, labelingConfig } from '../../lib/labeling/labeling-config';
import { LabelStudioWebhookPayload, webhookSubject } from '../../lib/labeling/webhook-payload';
import { parseModelSpec } from '../../lib/spec/model-spec';

const SPEC_FILE = path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model-labeled.json');
const spec = loadModelSpec(SPEC_FILE);
const classes = spec.labels!.classes;

describe('the labels block of a spec', () => {
  it('parses the example with its defaults', () => {
    expect(spec.labels).toMatchObject({ source: 'label-studio', budget: 50, randomShare: 0.2, annotatorsPerItem: 2, conflict: 'majority', timeout: { onTimeout: 'proceed', minLabeledFraction: 0.8 } });
  });

  it('refuses class values that are not 0..K-1, repeated names, K other than 2 for the binary trainers, and external trainers', () => {
    const withLabels = (labels: unknown, training: unknown = spec.training) => () => parseModelSpec({ ...spec, training, labels });
    expect(withLabels({ ...spec.labels, classes: [{ value: 0, name: 'a' }, { value: 2, name: 'b' }] })).toThrow(/labels\.classes: class values must be 0\.\.1, each once; got 0, 2/);
    expect(withLabels({ ...spec.labels, classes: [{ value: 0, name: 'a' }, { value: 1, name: 'a' }] })).toThrow(/labels\.classes\.1\.name: class name 'a' is used twice/);
    expect(withLabels({ ...spec.labels, classes: [0, 1, 2].map((value) => ({ value, name: `c${value}` })) })).toThrow(/binary today: give exactly 2 classes/);
    expect(withLabels(spec.labels, { ...spec.training, trainer: { kind: 'external', command: ['python3', 'train.py'] } })).toThrow(/labels: labels from people are trained on by the built-in trainers only/);
    expect(withLabels({ ...spec.labels, budgett: 5 })).toThrow(/labels\.budgett: unknown field; did you mean 'budget'\?/);
  });
});

describe('the labeling config', () => {
  it('is generated from the classes, one choice per class in value order, names escaped', () => {
    const config = labelingConfig([{ value: 1, name: 'late & "very"' }, { value: 0, name: 'on time' }]);
    expect(config).toContain('<Choices name="label" toName="row" choice="single-radio"');
    expect(config.indexOf('<Choice value="on time"/>')).toBeLessThan(config.indexOf('<Choice value="late &amp; &quot;very&quot;"/>'));
  });

  it('maps a chosen name back to its class value, and names a choice the model does not have', () => {
    expect(chosenClass([choiceResult('delayed')], classes)).toBe(1);
    expect(chosenClass([], classes)).toBeNull();
    expect(() => chosenClass([choiceResult('cancelled')], classes)).toThrow("the annotation chose 'cancelled', which is none of the model's classes (on time, delayed)");
  });
});

describe("Label Studio's JSON export", () => {
  const task = (id: number, item: string, annotations: unknown[]) => ({ id, data: { text: 'x', retrain_item: item }, annotations, predictions: [] });
  const annotation = (id: number, user: unknown, choice: string | null, at: string, extra: object = {}) => ({
    id,
    completed_by: user,
    result: choice === null ? [] : [choiceResult(choice)],
    was_cancelled: false,
    created_at: at,
    updated_at: at,
    lead_time: 3.2,
    ...extra,
  });

  it('gives one label per annotator and item (the newest), and says why the others are not used', () => {
    const tasks = LabelStudioExportFile.parse([
      task(7, '11', [
        annotation(1, 2, 'delayed', '2026-12-01T10:00:00Z'),
        annotation(2, { id: 2, email: 'a@example.com' }, 'on time', '2026-12-01T11:00:00Z'),
        annotation(3, 3, null, '2026-12-01T10:00:00Z'),
        annotation(4, 4, 'delayed', '2026-12-01T10:00:00Z', { was_cancelled: true }),
        annotation(5, 5, 'maybe', '2026-12-01T10:00:00Z'),
      ]),
    ]);
    const { labels, unreadable } = labelsOfTasks(tasks, (t) => String(t.data.retrain_item), { classes }, 'poll');
    expect(labels).toEqual([{ itemId: '11', value: 0, annotator: 'label-studio-user-2', annotationId: '2', labeledAt: new Date('2026-12-01T11:00:00Z'), source: 'poll' }]);
    expect(unreadable.map((u) => [u.annotationId, u.problem.split(',')[0]])).toEqual([
      [3, 'chose no class'],
      [4, 'skipped by the annotator'],
      [5, "the annotation chose 'maybe'"],
    ]);
    expect(annotatorOf({ completed_by: { id: 9 } })).toBe(annotatorOf({ completed_by: 9 }));
  });

  it('refuses a file that is not an export, naming the field', () => {
    const result = LabelStudioExportFile.safeParse([{ id: 'seven', data: {} }]);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual([0, 'id']);
  });
});

describe("Label Studio's webhook payload", () => {
  it('names the project and task of an annotation', () => {
    const payload = LabelStudioWebhookPayload.parse({ action: 'ANNOTATION_CREATED', project: { id: 3, title: 'x' }, annotation: { id: 9, task: 41, result: [] }, task: { id: 41 } });
    expect(webhookSubject(payload)).toEqual({ projectId: 3, taskId: 41 });
  });

  it('ignores other actions and payloads without a task, saying why', () => {
    expect(webhookSubject(LabelStudioWebhookPayload.parse({ action: 'PROJECT_UPDATED', project: { id: 3 } }))).toEqual({ ignored: expect.stringMatching(/PROJECT_UPDATED is not one Retrain listens to/) });
    expect(webhookSubject(LabelStudioWebhookPayload.parse({ action: 'ANNOTATION_UPDATED' }))).toEqual({ ignored: expect.stringMatching(/names no project or task/) });
    expect(LabelStudioWebhookPayload.safeParse({ action: 'ANNOTATION_CREATED', annotation: { id: 'x' } }).success).toBe(false);
  });
});
