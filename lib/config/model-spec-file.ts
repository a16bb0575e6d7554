import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModelSpec, type ModelSpec } from '../spec/model-spec';

/** Loads a JSON model spec file; a local source path and `./`-relative trainer arguments resolve from the file's directory. */
export function loadModelSpec(file: string): ModelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read model spec ${file}: ${(err as Error).message}`, { cause: err });
  }
  const spec = parseModelSpec(raw, `model spec ${file}`);
  const dir = path.dirname(path.resolve(file));
  const source = spec.source.kind === 'local' ? { ...spec.source, path: path.resolve(dir, spec.source.path) } : spec.source;
  const { trainer } = spec.training;
  const resolvedTrainer =
    trainer.kind === 'external'
      ? { ...trainer, command: trainer.command.map((arg, i) => (i > 0 && (arg.startsWith('./') || arg.startsWith('../')) ? path.resolve(dir, arg) : arg)) }
      : trainer;
  return { ...spec, source, training: { ...spec.training, trainer: resolvedTrainer } };
}
