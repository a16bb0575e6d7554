#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so the `retrain` bin works without a build step.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const tsx = require.resolve('tsx/cli');
const entry = path.join(__dirname, '..', 'cli', 'main.ts');
const result = spawnSync(process.execPath, [tsx, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
