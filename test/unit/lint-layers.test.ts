import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The layering of lint/layers.mjs is only worth something if `npm run lint` fails on a
 * violation: these lint deliberate violations, as if they were files at real paths of the tree,
 * with the project's own ESLint configuration.
 */
describe('the layer rules of npm run lint', () => {
  let eslint: ESLint;
  beforeAll(() => {
    // The fixtures are not files on disk, so the TypeScript project cannot type them: type information
    // (and the one rule that needs it) is switched off; every other rule is the project's own.
    eslint = new ESLint({
      cwd: ROOT,
      overrideConfig: {
        files: ['**/*.ts'],
        languageOptions: { parserOptions: { projectService: false } },
        rules: { '@typescript-eslint/no-floating-promises': 'off' },
      },
    });
  });

  const lint = async (relativePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, relativePath) });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('fails on an import from a higher layer', async () => {
    const messages = await lint('lib/stats/deliberate-back-import.ts', "import { trainCandidate } from '../training/candidate-training';\nexport const f = trainCandidate;\n");
    expect(messages).toEqual([
      expect.stringMatching(/^retrain\/layers: lib\/stats may not import lib\/training .*imports go only to lower layers/),
      // lib/training imports lib/stats, so the back-import is also a cycle.
      'retrain/folder-cycles: import cycle between folders: lib/stats -> lib/training -> lib/stats',
    ]);
  });

  it('fails on a Node builtin in workflow-safe code', async () => {
    const messages = await lint('lib/policy/deliberate-node-import.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n");
    expect(messages).toEqual([expect.stringMatching(/^retrain\/layers: lib\/policy is workflow-safe: it may not import the Node builtin 'node:fs'/)]);
  });

  it('fails on an I/O package and on a clock in workflow-safe code', async () => {
    const messages = await lint('lib/stats/deliberate-io.ts', "import pg from 'pg';\nexport const client = pg;\nexport const now = () => Date.now();\n");
    expect(messages).toEqual([
      expect.stringMatching(/^retrain\/layers: lib\/stats is workflow-safe: it may not import 'pg'/),
      expect.stringMatching(/^no-restricted-properties: 'Date.now' is restricted/),
    ]);
  });

  it('fails on a workflow importing an activity implementation instead of its type', async () => {
    const messages = await lint('workflows/deliberate-activity-import.ts', "import { createControlActivities } from '../activities';\nexport const f = createControlActivities;\n");
    expect(messages).toEqual([expect.stringMatching(/^retrain\/layers: workflows is workflow-safe: it may import values only from workflow-safe folders/)]);
  });

  it('fails on folders of the same layer importing each other', async () => {
    const messages = await lint('lib/promotion/deliberate-sibling.ts', "import { evaluateOffline } from '../evaluation/offline-evaluation';\nexport const f = evaluateOffline;\n");
    expect(messages).toEqual([expect.stringMatching(/^retrain\/layers: lib\/promotion may not import lib\/evaluation/)]);
  });

  it('fails on an import cycle between a folder and its subfolder', async () => {
    // lib/db/repositories imports lib/db (the schema), so lib/db importing a repository closes a cycle.
    const messages = await lint('lib/db/deliberate-cycle.ts', "import { upsertModel } from './repositories/models';\nexport const f = upsertModel;\n");
    expect(messages).toEqual([expect.stringMatching(/^retrain\/folder-cycles: import cycle between folders: lib\/db -> lib\/db\/repositories -> lib\/db/)]);
  });

  it('passes on imports that follow the layers, type-only imports in workflows included', async () => {
    const messages = await lint(
      'workflows/deliberate-fine.ts',
      "import type { ControlActivities } from '../activities';\nimport { chooseTrainingMode } from '../lib/policy/training-mode';\nexport type A = ControlActivities;\nexport const f = chooseTrainingMode;\n",
    );
    expect(messages).toEqual([]);
  });
});
