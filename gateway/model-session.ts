/**
 * One model version loaded into onnxruntime-node, scoring request rows of named raw
 * features under the Retrain ONNX contract (lib/scoring/onnx-contract: the inputs, the
 * missing-value rules, the probabilities output, ZipMap models unwrapped at load), the same
 * code the offline evaluation and batch inference score with.
 *
 * Sessions are reference-counted: the routing table holds one reference per role it is
 * deployed in, each request one while it scores. The native session is released when
 * the last reference goes, so a version that is swapped out finishes its in-flight
 * requests first. Concurrent requests are scored in merged calls (adaptive-batcher).
 */
import type * as ort from 'onnxruntime-node';
import type { FeatureSpec } from '../lib/spec/model-spec';
import { openOnnxModel, outputNames, positiveProbabilities, readProbabilities, requireBinary, rowFeeds, type FeatureRow, type OnnxContract } from '../lib/scoring/onnx-contract';
import { inputsIncompatibility } from '../lib/scoring/version-contract';
import { AdaptiveBatcher, type BatchedResult, type ModelCallResult } from './adaptive-batcher';

export type { FeatureValue } from '../lib/scoring/onnx-contract';
/** One instance: feature name → value (null marks a missing value). */
export type FeatureRecord = FeatureRow;

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

/** P(positive) per row, the model's output, the call's time and whether the call was this request's alone. */
export type ScoredRows = BatchedResult;

/** A scoring that did not throw: the rows scored, or the error and how long it took to fail. */
export type ScoringAttempt = { ok: true; result: ScoredRows } | { ok: false; error: Error; latencyMs: number };

export class ModelSession {
  private refs = 0;
  private disposed = false;
  private readonly disposeListeners: (() => void)[] = [];
  private readonly batcher = new AdaptiveBatcher<FeatureRecord>((rows) => this.call(rows));

  /** The names fetched from every run, allocated once. */
  private readonly fetches: string[];

  private constructor(
    readonly versionId: string,
    readonly version: number,
    private readonly session: ort.InferenceSession,
    readonly contract: OnnxContract,
  ) {
    this.fetches = outputNames(contract);
  }

  /** Opens an ONNX model (bytes already checksum-verified) with no references yet. */
  static async create(bytes: Uint8Array, version: { id: string; version: number }): Promise<ModelSession> {
    const { session, contract } = await openOnnxModel(bytes, GATEWAY_SESSION_OPTIONS);
    try {
      requireBinary(contract);
      return new ModelSession(version.id, version.version, session, contract);
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
    return this.contract.inputs.map((i) => i.name);
  }

  /**
   * Why this version cannot serve requests validated against `features` (the serving
   * contract's), or null when it can: every model input must be a feature of the same kind
   * (extra features are not fed).
   */
  incompatibility(features: readonly FeatureSpec[]): string | null {
    return inputsIncompatibility(this.contract.inputs, features, `v${this.version}`);
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

  /**
   * score(), with a failure returned instead of thrown (it is logged like a result). A
   * probability that is not a finite number (NaN from an overflow inside the model) is a failure
   * too, naming the row: it must not be answered as `probability: null` and logged as a success.
   */
  async attempt(rows: readonly FeatureRecord[], alone = false): Promise<ScoringAttempt> {
    const started = performance.now();
    try {
      const result = await this.score(rows, alone);
      const { probabilities } = result;
      for (let i = 0; i < probabilities.length; i++) {
        if (!Number.isFinite(probabilities[i]!)) {
          return { ok: false, error: new Error(`v${this.version} returned ${probabilities[i]} as the probability of row ${i}`), latencyMs: result.latencyMs };
        }
      }
      return { ok: true, result };
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
    const feeds = rowFeeds(this.contract, rows);
    const built = performance.now();
    let runStarted = built;
    setImmediate(() => {
      runStarted = performance.now();
    });
    const results = await this.session.run(feeds, this.fetches);
    const latencyMs = built - started + (performance.now() - runStarted);
    const classProbabilities = readProbabilities(this.contract, results, n);
    return { probabilities: positiveProbabilities(classProbabilities, n), classProbabilities, latencyMs };
  }
}
