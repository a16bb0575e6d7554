/**
 * Retrain's layering, enforced by ESLint (`npm run lint`). Each folder below holds one concern
 * and may import only from folders of a lower rank; folders of the same rank do not import each
 * other, so no two folders can form a cycle. Workflow-safe folders (their code runs inside
 * Temporal's deterministic workflow sandbox, or decides for it) import no Node builtin and no
 * package but the few listed. docs/architecture.md draws the same table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';

/** Bottom to top. `safe`: workflow-safe; `only`: the folders (besides tests) that may import it. */
export const LAYERS = [
  { folder: 'lib/spec', rank: 0, safe: true },
  { folder: 'lib/stats', rank: 1, safe: true },
  { folder: 'lib/policy', rank: 2, safe: true },
  { folder: 'lib/config', rank: 3 },
  { folder: 'lib/evidence', rank: 3, safe: true },
  { folder: 'lib/db', rank: 4 },
  { folder: 'lib/store', rank: 4 },
  { folder: 'lib/clients', rank: 4 },
  { folder: 'lib/dev-stack', rank: 5, only: ['cli', 'bench'] },
  // Renders and delivers notifications, recording each attempt: above the db and the webhook client it uses, below the activities that send.
  { folder: 'lib/notification', rank: 5 },
  { folder: 'lib/data', rank: 6 },
  { folder: 'lib/ingestion', rank: 7 },
  { folder: 'lib/scoring', rank: 7 },
  { folder: 'lib/training', rank: 8 },
  { folder: 'lib/labeling', rank: 8 },
  { folder: 'lib/evaluation', rank: 9 },
  { folder: 'lib/promotion', rank: 9 },
  // The drift pass (reads data, scores with the champion) and the model gauges and metrics server the worker serves.
  { folder: 'lib/monitoring', rank: 9 },
  { folder: 'lib/traffic', rank: 10 },
  { folder: 'activities', rank: 11 },
  { folder: 'workflows', rank: 12, safe: true },
  { folder: 'worker', rank: 13 },
  { folder: 'gateway', rank: 13 },
  { folder: 'cli', rank: 14 },
  // Benchmarks set up what tests set up (a registered version, a database): they share test/fixtures.
  { folder: 'bench', rank: 15 },
];

/** The only packages workflow-safe code may import for their values (types may come from anywhere). */
export const WORKFLOW_SAFE_PACKAGES = ['zod', '@temporalio/workflow', '@temporalio/common'];

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function projectRoot(context) {
  return context.cwd ?? context.getCwd();
}

/** The layer of a path relative to the project root, or undefined (tests, config files, tools). */
export function layerOf(relativePath) {
  const normalized = relativePath.split(path.sep).join('/');
  return LAYERS.find((layer) => normalized === layer.folder || normalized.startsWith(`${layer.folder}/`));
}

const describeLayers = () => LAYERS.map((l) => `${l.folder}(${l.rank})`).join(' < ');

function resolveRelative(fromFile, specifier) {
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, `${base}.d.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return base.endsWith('.ts') ? base : `${base}.ts`;
}

function isTypeOnly(node) {
  if (node.type === 'ImportDeclaration') {
    return node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
  }
  if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') return node.exportKind === 'type';
  return false;
}

function importNodes(visit) {
  const check = (node) => node.source && typeof node.source.value === 'string' && visit(node, node.source.value);
  return {
    ImportDeclaration: check,
    ExportNamedDeclaration: check,
    ExportAllDeclaration: check,
    ImportExpression(node) {
      if (node.source.type === 'Literal' && typeof node.source.value === 'string') visit(node, node.source.value);
    },
  };
}

const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the layers of lint/layers.mjs, and workflow-safe code imports nothing with I/O' },
    schema: [],
  },
  create(context) {
    const root = projectRoot(context);
    const file = context.filename ?? context.getFilename();
    const from = layerOf(path.relative(root, file));
    if (!from) return {};
    return importNodes((node, specifier) => {
      const typeOnly = isTypeOnly(node);
      if (!specifier.startsWith('.')) {
        if (!from.safe || typeOnly) return;
        const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(pkg)) {
          context.report({ node, message: `${from.folder} is workflow-safe: it may not import the Node builtin '${specifier}' (no I/O, clocks or randomness in code workflows run)` });
        } else if (!WORKFLOW_SAFE_PACKAGES.includes(pkg)) {
          context.report({ node, message: `${from.folder} is workflow-safe: it may not import '${specifier}'; allowed packages: ${WORKFLOW_SAFE_PACKAGES.join(', ')} (type-only imports of others are fine)` });
        }
        return;
      }
      const target = resolveRelative(file, specifier);
      const relativeTarget = path.relative(root, target);
      const to = layerOf(relativeTarget);
      if (!to || to === from) {
        const benchFixture = from.folder === 'bench' && relativeTarget.split(path.sep).join('/').startsWith('test/fixtures/');
        if (!to && !benchFixture && !relativeTarget.startsWith('..') && !relativeTarget.startsWith('node_modules')) {
          context.report({ node, message: `${from.folder} imports '${relativeTarget}', which belongs to no layer (tests and tools are not importable from the product)` });
        }
        return;
      }
      if (to.only && !to.only.includes(from.folder)) {
        context.report({ node, message: `${to.folder} is imported only by ${to.only.join(', ')} and tests, not by ${from.folder}` });
        return;
      }
      if (to.rank > from.rank || (to.rank === from.rank && !typeOnly)) {
        context.report({ node, message: `${from.folder} may not import ${to.folder} ('${specifier}'): imports go only to lower layers (${describeLayers()})` });
        return;
      }
      if (to.rank === from.rank) {
        context.report({ node, message: `${from.folder} may not import ${to.folder} ('${specifier}'): folders of the same layer do not import each other` });
        return;
      }
      if (from.safe && !to.safe && !typeOnly) {
        context.report({ node, message: `${from.folder} is workflow-safe: it may import values only from workflow-safe folders (${LAYERS.filter((l) => l.safe).map((l) => l.folder).join(', ')}); '${specifier}' (${to.folder}) only with \`import type\`` });
      }
    });
  },
};

/** Directory → directories it imports from, over the project's TypeScript files; built once per lint run. */
let folderGraph;
function buildFolderGraph(root) {
  const graph = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && layerOf(path.relative(root, full))) {
        const source = fs.readFileSync(full, 'utf8');
        const fromDir = path.dirname(full);
        for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
          const toDir = path.dirname(resolveRelative(full, match[1]));
          if (toDir === fromDir) continue;
          if (!graph.has(fromDir)) graph.set(fromDir, new Set());
          graph.get(fromDir).add(toDir);
        }
      }
    }
  };
  for (const layer of LAYERS) {
    const dir = path.join(root, layer.folder);
    if (fs.existsSync(dir)) walk(dir);
  }
  return graph;
}

/** A path of folders from `start` back to `goal`, or null. */
function folderPath(graph, start, goal) {
  const seen = new Set([start]);
  const queue = [[start]];
  while (queue.length > 0) {
    const trail = queue.shift();
    for (const next of graph.get(trail.at(-1)) ?? []) {
      if (next === goal) return [...trail, next];
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([...trail, next]);
      }
    }
  }
  return null;
}

const folderCyclesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'no import cycle between folders (subfolders included)' },
    schema: [],
  },
  create(context) {
    const root = projectRoot(context);
    const file = context.filename ?? context.getFilename();
    if (!layerOf(path.relative(root, file))) return {};
    folderGraph ??= buildFolderGraph(root);
    const fromDir = path.dirname(file);
    return importNodes((node, specifier) => {
      if (!specifier.startsWith('.')) return;
      const toDir = path.dirname(resolveRelative(file, specifier));
      if (toDir === fromDir) return;
      const back = folderPath(folderGraph, toDir, fromDir);
      if (back) {
        const trail = [fromDir, ...back].map((d) => path.relative(root, d) || '.').join(' -> ');
        context.report({ node, message: `import cycle between folders: ${trail}` });
      }
    });
  },
};

export default { meta: { name: 'retrain-layers' }, rules: { layers: layersRule, 'folder-cycles': folderCyclesRule } };
