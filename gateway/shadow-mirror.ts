/**
 * Mirrors answered requests to the shadow version. Mirrors are collected for a short window
 * (`windowMs`) and only then scored, so the shadow's model time is spent after the callers'
 * answers were written, and so that the requests of one window share one model call (see
 * adaptive-batcher): a shadow then costs the gateway about a microsecond per row instead of a
 * second model call per request. Latency probes are scored alone, as the serving version
 * scored them.
 *
 * Each mirrored request holds a reference to the shadow's session until it was scored, so a
 * deployment change cannot release it underneath. At most `maxBacklog` requests wait; beyond,
 * mirrors are refused (the caller counts them) instead of queued without bound.
 */
import type { Logger } from 'pino';
import type { ServedVersion } from './model-route';
import type { ModelSession, ScoringAttempt } from './model-session';
import type { ParsedPrediction } from './predict-request';

/** Rows per merged shadow call at most, so that one call never holds the event loop for long. */
const MAX_ROWS_PER_CALL = 256;

export interface MirroredRequest {
  readonly model: string;
  /** Its session is retained by the caller; the mirror releases it once scored. */
  readonly shadow: ServedVersion;
  readonly request: ParsedPrediction;
  /** Score it in a call of its own (a latency probe). */
  readonly probe: boolean;
  readonly createdAt: Date;
}

/** What the shadow made of one mirrored request (the model's full output is not kept). */
export type ShadowScoring =
  | { ok: true; result: { probabilities: Float64Array; latencyMs: number; scoredAlone: boolean } }
  | { ok: false; error: Error; latencyMs: number };

export interface ShadowMirrorOptions {
  /** Logs the outcomes (role 'shadow') of requests scored together; every mirrored request is passed once. */
  onScored(scored: ReadonlyArray<{ mirrored: MirroredRequest; outcome: ShadowScoring }>): Promise<void>;
  log: Logger;
  /** How long mirrors are collected before they are scored. Default 10 ms. */
  windowMs?: number;
  /** Mirrored requests waiting at most. Default 10 000. */
  maxBacklog?: number;
}

export class ShadowMirror {
  private pending: MirroredRequest[] = [];
  private waiting = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly windowMs: number;
  private readonly maxBacklog: number;

  constructor(private readonly options: ShadowMirrorOptions) {
    this.windowMs = options.windowMs ?? 10;
    this.maxBacklog = options.maxBacklog ?? 10_000;
  }

  /** Mirrored requests not scored and logged yet. */
  get backlog(): number {
    return this.waiting;
  }

  /** Queues a mirror, taking over the caller's session reference; false (reference released) when the backlog is full. */
  mirror(mirrored: MirroredRequest): boolean {
    if (this.waiting >= this.maxBacklog) {
      mirrored.shadow.session.release();
      return false;
    }
    this.waiting++;
    this.pending.push(mirrored);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    return true;
  }

  /** Scores and logs everything mirrored so far. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const groups = new Map<ModelSession, MirroredRequest[]>();
    for (const mirrored of this.pending) {
      const group = groups.get(mirrored.shadow.session);
      if (group) group.push(mirrored);
      else groups.set(mirrored.shadow.session, [mirrored]);
    }
    this.pending = [];
    for (const [session, group] of groups) {
      const probes = group.filter((m) => m.probe);
      const merged = group.filter((m) => !m.probe);
      const jobs = probes.map((m) => this.scoreAlone(m));
      for (const chunk of chunksOfRows(merged, MAX_ROWS_PER_CALL)) {
        jobs.push(chunk.length === 1 ? this.scoreAlone(chunk[0]!) : this.scoreTogether(session, chunk));
      }
      for (const job of jobs) {
        const done = job.finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      }
    }
  }

  private async scoreAlone(mirrored: MirroredRequest): Promise<void> {
    const outcome: ScoringAttempt = await mirrored.shadow.session.attempt(mirrored.request.instances, true);
    await this.finish([{ mirrored, outcome }]);
  }

  /** One call for the whole group; a failure is retried request by request. */
  private async scoreTogether(session: ModelSession, group: readonly MirroredRequest[]): Promise<void> {
    const outcome = await session.attempt(group.flatMap((m) => m.request.instances));
    if (!outcome.ok) {
      await Promise.all(group.map((m) => this.scoreAlone(m)));
      return;
    }
    const { probabilities, latencyMs } = outcome.result;
    let offset = 0;
    const scored = group.map((mirrored) => {
      const n = mirrored.request.instances.length;
      const result = { probabilities: probabilities.subarray(offset, offset + n), latencyMs, scoredAlone: false };
      offset += n;
      return { mirrored, outcome: { ok: true as const, result } };
    });
    await this.finish(scored);
  }

  private async finish(scored: ReadonlyArray<{ mirrored: MirroredRequest; outcome: ShadowScoring }>): Promise<void> {
    try {
      await this.options.onScored(scored);
    } catch (err) {
      const first = scored[0]!.mirrored;
      this.options.log.warn({ model: first.model, version: first.shadow.version, requests: scored.length, err }, 'shadow predictions could not be logged');
    } finally {
      this.waiting -= scored.length;
      for (const { mirrored } of scored) mirrored.shadow.session.release();
    }
  }
}

/** Consecutive runs of requests with at most `maxRows` rows each (a larger request is a run of its own). */
function chunksOfRows(requests: readonly MirroredRequest[], maxRows: number): MirroredRequest[][] {
  const chunks: MirroredRequest[][] = [];
  let chunk: MirroredRequest[] = [];
  let rows = 0;
  for (const m of requests) {
    const n = m.request.instances.length;
    if (chunk.length > 0 && rows + n > maxRows) {
      chunks.push(chunk);
      chunk = [];
      rows = 0;
    }
    chunk.push(m);
    rows += n;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
