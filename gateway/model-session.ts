/**
 * One model version loaded into onnxruntime-node, scoring request rows of named raw
 * features under the Retrain ONNX contract (one [N, 1] or [N] input per feature; float
 * numeric inputs take NaN for a missing value, string inputs ""; a `probabilities` [N, 2]
 * output, or skl2onnx's `output_probability` as a plain tensor).
 *
 * Sessions are reference-counted: the routing table holds one reference per role it is
 * deployed in, each request one while it scores. The native session is released when
 * the last reference goes, so a version that is swapped out finishes its in-flight
 * requests first. Concurrent requests are scored in merged calls (adaptive-batcher).
 */
import * as ort from 'onnxruntime-node';
import type { FeatureSpec } from '../lib/spec/model-spec';
import { PROBABILITIES_OUTPUT } from '../lib/scoring/onnx-contract';
import { SKL2ONNX_PROBABILITIES_OUTPUT } from '../lib/scoring/onnx-scorer';
import { AdaptiveBatcher, type BatchedResult, type ModelCallResult } from './adaptive-batcher';

/** A feature value as a client sends it; null marks a missing value. */
export type FeatureValue = number | string | null;
/** One instance: feature name → value. */
export type FeatureRecord = Readonly<Record<string, FeatureValue>>;

/**
 * Session options shared by the gateway and the bench's bare baseline. One intra-op thread:
 * the models are small and requests are many, so parallelism comes from requests; ORT's own
 * thread pool would spin on the cores the HTTP server needs.
 */
export const GATEWAY_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

type InputType = 'float32' | 'float64' | 'int64' | 'string';

interface SessionInput {
  readonly name: string;
  readonly type: InputType;
  readonly rank: 1 | 2;
}

/** P(positive) per row, the model's output, the call's time and whether the call was this request's alone. */
export type ScoredRows = BatchedResult;

/** A scoring that did not throw: the rows scored, or the error and how long it took to fail. */
export type ScoringAttempt = { ok: true; result: ScoredRows } | { ok: false; error: Error; latencyMs: number };

export class ModelSession {
  private refs = 0;
  private disposed = false;
  private readonly disposeListeners: (() => void)[] = [];
  private readonly batcher = new AdaptiveBatcher<FeatureRecord>((rows) => this.call(rows));

  private constructor(
    readonly versionId: string,
    readonly version: number,
    private readonly session: ort.InferenceSession,
    private readonly inputs: readonly SessionInput[],
    private readonly output: string,
  ) {}

  /** Opens an ONNX model (bytes already checksum-verified) with no references yet. */
  static async create(bytes: Uint8Array, version: { id: string; version: number }): Promise<ModelSession> {
    const session = await ort.InferenceSession.create(bytes, GATEWAY_SESSION_OPTIONS);
    try {
      const inputs = session.inputMetadata.map(inputOf);
      return new ModelSession(version.id, version.version, session, inputs, probabilitiesOutput(session));
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Calls `listener` once the session is released (its last reference gone). */
  whenDisposed(listener: () => void): void {
    if (this.disposed) listener();
    else this.disposeListeners.push(listener);
  }

  /** Names of the features this version reads. */
  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  /**
   * Why this version cannot serve requests validated against `features`, or null when it can:
   * every model input must be a feature of the same kind (extra features are not fed).
   */
  incompatibility(features: readonly FeatureSpec[]): string | null {
    for (const input of this.inputs) {
      const feature = features.find((f) => f.name === input.name);
      if (!feature) {
        return `v${this.version} reads input '${input.name}', which is not a feature of the model's spec (features: ${features.map((f) => f.name).join(', ')})`;
      }
      const wanted = feature.kind === 'categorical' ? 'string' : 'numeric';
      const actual = input.type === 'string' ? 'string' : 'numeric';
      if (wanted !== actual) return `v${this.version} reads '${input.name}' as ${input.type}, but the spec declares it ${feature.kind}`;
    }
    return null;
  }

  /** Takes a reference; the session stays open until every reference is released. */
  retain(): this {
    if (this.disposed) throw new Error(`model session of version ${this.versionId} was already released`);
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) throw new Error(`model session of version ${this.versionId} released more often than retained`);
    if (--this.refs > 0) return;
    this.disposed = true;
    for (const listener of this.disposeListeners.splice(0)) listener();
    void this.session.release().catch(() => undefined);
  }

  /**
   * Scores rows whose values were validated against the model's features; hold a reference
   * until it settles. Requests that arrive while a call runs are merged into the next call;
   * `alone` asks for a call of this request only (a latency probe).
   */
  score(rows: readonly FeatureRecord[], alone = false): Promise<ScoredRows> {
    return this.batcher.submit(rows, alone);
  }

  /** score(), with a failure returned instead of thrown (it is logged like a result). */
  async attempt(rows: readonly FeatureRecord[], alone = false): Promise<ScoringAttempt> {
    const started = performance.now();
    try {
      return { ok: true, result: await this.score(rows, alone) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)), latencyMs: performance.now() - started };
    }
  }

  /**
   * One model call. Its latency is the model's own time: building the input tensors plus the
   * run itself, from the event-loop turn in which onnxruntime-node executes it (it defers every
   * run with setImmediate, and the marker queued just before runs just before it) to its
   * result. Time spent waiting for that turn behind other requests is left out, so versions
   * are compared on equal terms whatever the load.
   */
  private async call(rows: readonly FeatureRecord[]): Promise<ModelCallResult> {
    const started = performance.now();
    const n = rows.length;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs) feeds[input.name] = inputTensor(input, rows);
    const built = performance.now();
    let runStarted = built;
    setImmediate(() => {
      runStarted = performance.now();
    });
    const results = await this.session.run(feeds, [this.output]);
    const latencyMs = built - started + (performance.now() - runStarted);
    const output = results[this.output]!;
    if (output.dims.length !== 2 || output.dims[0] !== n || output.dims[1] !== 2) {
      throw new Error(`output '${this.output}' has shape [${output.dims.join(', ')}]; expected [${n}, 2]`);
    }
    const data = output.data as Float32Array | Float64Array;
    const probabilities = new Float64Array(n);
    for (let i = 0; i < n; i++) probabilities[i] = data[2 * i + 1]!;
    return { probabilities, classProbabilities: data, latencyMs };
  }
}

function inputOf(meta: ort.InferenceSession.ValueMetadata): SessionInput {
  if (!meta.isTensor) throw new Error(`ONNX input '${meta.name}' is not a tensor`);
  const { type } = meta;
  if (type !== 'float32' && type !== 'float64' && type !== 'int64' && type !== 'string') {
    throw new Error(`ONNX input '${meta.name}' has type ${type}; supported: float32, float64, int64, string`);
  }
  return { name: meta.name, type, rank: meta.shape.length === 1 ? 1 : 2 };
}

function probabilitiesOutput(session: ort.InferenceSession): string {
  if (session.outputNames.includes(PROBABILITIES_OUTPUT)) return PROBABILITIES_OUTPUT;
  const skl = session.outputMetadata.find((m) => m.name === SKL2ONNX_PROBABILITIES_OUTPUT);
  if (skl?.isTensor) return skl.name;
  throw new Error(`ONNX model has no '${PROBABILITIES_OUTPUT}' tensor output (outputs: ${session.outputNames.join(', ')})`);
}

function inputTensor(input: SessionInput, rows: readonly FeatureRecord[]): ort.Tensor {
  const n = rows.length;
  const dims = input.rank === 1 ? [n] : [n, 1];
  const { name } = input;
  switch (input.type) {
    case 'string': {
      const values = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        values[i] = v === null || v === undefined ? '' : String(v);
      }
      return new ort.Tensor('string', values, dims);
    }
    case 'float32':
    case 'float64': {
      const values = input.type === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        values[i] = typeof v === 'number' ? v : NaN;
      }
      return new ort.Tensor(input.type, values, dims);
    }
    case 'int64': {
      const values = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
          throw new Error(`feature '${name}' is ${v === null ? 'missing' : String(v)} in row ${i}; this version's int64 input takes whole numbers only`);
        }
        values[i] = BigInt(v);
      }
      return new ort.Tensor('int64', values, dims);
    }
  }
}
